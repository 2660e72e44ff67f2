"""Horizontal autoscaling of broker and proxy sets (``spec.broker.hpa``, ``spec.proxy.hpa`` and
per set; docs/autoscaling.md): one ``autoscaling/v2`` HorizontalPodAutoscaler per workload.

A set with an autoscaler renders its StatefulSet or Deployment without ``replicas``: the
autoscaler owns the field, and a manifest that kept it would be reapplied by every Argo CD or
Flux sync, resetting the replica count the autoscaler chose. The checks are the API server's
rules for the autoscaler's fields (so the output is never rejected) and what makes an
autoscaler that is accepted but never scales: CPU or memory utilization targets need requests
on every container of the pod.

KAAP's operator-only ``autoscaler`` stays what it was (a warning, checks/spec.py#autoscalers,
which points here).
"""

from __future__ import annotations

from . import model
from .schema import SpecError, child_path, is_quantity, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster
    from .placement import ResourceSet

API_VERSION = "autoscaling/v2"
SECTIONS = ("broker", "proxy")
WORKLOAD_KIND = {"broker": "StatefulSet", "proxy": "Deployment"}
METRIC_SOURCES = {"Resource": "resource", "Pods": "pods", "Object": "object",
                  "External": "external", "ContainerResource": "containerResource"}
TARGET_TYPES = ("Utilization", "Value", "AverageValue")
# the API server's limits for behavior (autoscaling/v2 validation)
MAX_STABILIZATION_WINDOW = 3600
MAX_POLICY_PERIOD = 1800
SELECT_POLICIES = ("Max", "Min", "Disabled")
POLICY_TYPES = ("Pods", "Percent")
# averageUtilization and a policy's value are int32 fields
INT32_MAX = 2147483647


def enabled(set_spec: dict) -> bool:
    """Whether an autoscaler scales this set (its workload then has no replicas)."""
    return bool((set_spec.get("hpa") or {}).get("enabled")) and set_spec["replicas"] > 0


def workload_replicas(set_spec: dict) -> int | None:
    """The workload's ``replicas``: None (left out) when an autoscaler owns it."""
    return None if enabled(set_spec) else set_spec["replicas"]


def horizontal_pod_autoscaler(cluster: Cluster, section: str, rset: ResourceSet) -> dict | None:
    """The set's HorizontalPodAutoscaler, or None without one."""
    spec = rset.spec
    if not enabled(spec):
        return None
    hpa = spec["hpa"]
    body: dict = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": WORKLOAD_KIND[section],
                           "name": rset.resource_name},
        "minReplicas": model.hpa_min_replicas(spec),
        "maxReplicas": hpa["maxReplicas"],
    }
    if hpa["metrics"]:
        body["metrics"] = hpa["metrics"]
    if hpa["behavior"]:
        body["behavior"] = hpa["behavior"]
    return {
        "apiVersion": API_VERSION,
        "kind": "HorizontalPodAutoscaler",
        "metadata": cluster.metadata(rset.resource_name, rset.labels(cluster),
                                     spec["annotations"]),
        "spec": body,
    }


# --- checks -------------------------------------------------------------------------------------


def check(cluster: Cluster) -> list[SpecError]:
    """Every broker and proxy set with an autoscaler (phase ``cluster``: sets are merged)."""
    from .placement import resource_sets

    findings: list[SpecError] = []
    raw = cluster.config.get("spec") or {}
    for section in SECTIONS:
        for rset in resource_sets(cluster, section):
            hpa = rset.spec["hpa"]
            if not hpa["enabled"]:
                continue
            where = _Origin(raw, section, rset.name)
            if rset.spec["replicas"] <= 0:
                _add(findings, warning(where.path("enabled"), (
                    f"{section} set {rset.name!r} has replicas 0 and renders nothing, so it gets "
                    f"no autoscaler; give it replicas (the autoscaler's minReplicas by "
                    f"default)")))
                continue
            findings.extend(_set_problems(cluster, section, rset, where))
    return findings


class _Origin:
    """Field paths of one set's ``hpa`` fields: the set's own when it wrote them, else the
    component's."""

    __slots__ = ("component", "section", "set_name", "set_raw")

    def __init__(self, raw: dict, section: str, set_name: str) -> None:
        self.section = section
        self.set_name = set_name
        self.component = raw.get(section) or {}
        sets = self.component.get("sets") or {}
        self.set_raw = (sets.get(set_name) or {}) if sets else None

    def path(self, *keys: str) -> str:
        return self.field(("hpa", *keys))

    def field(self, keys: tuple[str, ...]) -> str:
        if self.set_raw is not None and _has(self.set_raw, keys):
            base = f"spec.{self.section}.sets.{self.set_name}"
        else:
            base = f"spec.{self.section}"
        return ".".join((base, *keys))

    def replicas(self) -> str:
        return self.field(("replicas",))


def _has(raw: dict, keys: tuple[str, ...]) -> bool:
    value: object = raw
    for key in keys:
        if not isinstance(value, dict) or value.get(key) is None:
            return False
        value = value[key]
    return True


def _add(findings: list[SpecError], finding: SpecError) -> None:
    if finding not in findings:
        findings.append(finding)


def _set_problems(cluster: Cluster, section: str, rset: ResourceSet,
                  where: _Origin) -> list[SpecError]:
    spec = rset.spec
    hpa = spec["hpa"]
    findings: list[SpecError] = []
    what = f"{section} set {rset.name!r}"
    low, high = model.hpa_min_replicas(spec), hpa["maxReplicas"]
    if high is None:
        findings.append(SpecError(where.path("maxReplicas"), (
            f"{what}: an autoscaler needs maxReplicas, the most pods it may scale to; set it "
            f"(at least minReplicas, {low})")))
    elif low > high:
        own_min = hpa["minReplicas"] is not None
        findings.append(SpecError(where.path("minReplicas") if own_min else where.replicas(), (
            f"{what}: minReplicas {low}"
            + ("" if own_min else " (the set's replicas, the default)")
            + f" is above maxReplicas {high}; the API server refuses it. Raise maxReplicas or "
              f"lower minReplicas")))
    for index, metric in enumerate(hpa["metrics"] or []):
        for path, message in metric_problems(metric, child_path(where.path("metrics"), index)):
            findings.append(SpecError(path, message))
    if hpa["behavior"]:
        for path, message in behavior_problems(hpa["behavior"], where.path("behavior")):
            findings.append(SpecError(path, message))
    if not any(f.severity == "error" for f in findings):
        findings.extend(_request_problems(cluster, section, rset, where))
        findings.extend(_disruption_budget_warnings(spec, what, where, low))
    return findings


# --- metric and behavior validation (the API server's rules) ------------------------------------


def metric_problems(metric: object, path: str) -> list[tuple[str, str]]:
    """autoscaling/v2 MetricSpec validation: one source, of the declared type, with its
    required fields and a target the source accepts."""
    if not isinstance(metric, dict):
        return [(path, "a metric is a mapping with type and its source")]
    kind = metric.get("type")
    if kind not in METRIC_SOURCES:
        return [(child_path(path, "type"), (
            f"type must be one of {', '.join(METRIC_SOURCES)}, got {kind!r}"))]
    source_key = METRIC_SOURCES[kind]
    problems = [(child_path(path, key), f"type {kind} takes only {source_key}; remove {key}")
                for key in METRIC_SOURCES.values() if key != source_key and key in metric]
    source = metric.get(source_key)
    where = child_path(path, source_key)
    if not isinstance(source, dict):
        return problems + [(where, f"type {kind} needs {source_key}")]
    if kind in ("Resource", "ContainerResource"):
        if not isinstance(source.get("name"), str) or not source.get("name"):
            problems.append((child_path(where, "name"),
                             "the resource's name is required (cpu or memory)"))
        if kind == "ContainerResource" and not source.get("container"):
            problems.append((child_path(where, "container"),
                             "the container whose resource is measured is required"))
        allowed: tuple[str, ...] = ("Utilization", "AverageValue")
    else:
        metric_id = source.get("metric")
        if not isinstance(metric_id, dict) or not metric_id.get("name"):
            problems.append((child_path(child_path(where, "metric"), "name"),
                             "the metric's name is required"))
        allowed = ("AverageValue",) if kind == "Pods" else ("Value", "AverageValue")
        if kind == "Object":
            described = source.get("describedObject")
            if not isinstance(described, dict) or not described.get("kind") \
                    or not described.get("name"):
                problems.append((child_path(where, "describedObject"),
                                 "the object the metric describes needs kind and name"))
    problems.extend(_target_problems(source.get("target"), child_path(where, "target"),
                                     allowed))
    return problems


def _target_problems(target: object, path: str, allowed: tuple[str, ...]) -> list:
    if not isinstance(target, dict):
        return [(path, "the target is required (type and its value)")]
    kind = target.get("type")
    if kind not in allowed:
        return [(child_path(path, "type"),
                 f"this metric takes a target of type {' or '.join(allowed)}, got {kind!r}")]
    if kind == "Utilization":
        value = target.get("averageUtilization")
        if not _int_between(value, 1, INT32_MAX):
            return [(child_path(path, "averageUtilization"),
                     f"averageUtilization is a percentage of the requests, an integer from 1 "
                     f"to {INT32_MAX}; got {value!r}")]
        return []
    key = "value" if kind == "Value" else "averageValue"
    value = target.get(key)
    if value is None or not is_quantity(value) or str(value).strip("0.") == "":
        return [(child_path(path, key),
                 f"{key} must be a positive Kubernetes quantity, got {value!r}")]
    return []


def behavior_problems(behavior: object, path: str) -> list[tuple[str, str]]:
    """autoscaling/v2 HorizontalPodAutoscalerBehavior validation."""
    if not isinstance(behavior, dict):
        return [(path, "behavior is a mapping with scaleUp and/or scaleDown")]
    problems = []
    for direction in ("scaleUp", "scaleDown"):
        rules = behavior.get(direction)
        where = child_path(path, direction)
        if rules is None:
            continue
        if not isinstance(rules, dict):
            problems.append((where, "expected a mapping of scaling rules"))
            continue
        window = rules.get("stabilizationWindowSeconds")
        if window is not None and not _int_between(window, 0, MAX_STABILIZATION_WINDOW):
            problems.append((child_path(where, "stabilizationWindowSeconds"),
                             f"must be an integer from 0 to {MAX_STABILIZATION_WINDOW}, got "
                             f"{window!r}"))
        select = rules.get("selectPolicy")
        if select is not None and select not in SELECT_POLICIES:
            problems.append((child_path(where, "selectPolicy"),
                             f"must be one of {', '.join(SELECT_POLICIES)}, got {select!r}"))
        policies = rules.get("policies")
        if policies is not None and (not isinstance(policies, list) or not policies):
            problems.append((child_path(where, "policies"),
                             "needs at least one policy (or leave policies out for "
                             "Kubernetes' defaults)"))
            continue
        for index, policy in enumerate(policies or []):
            at = child_path(child_path(where, "policies"), index)
            if not isinstance(policy, dict):
                problems.append((at, "a policy is a mapping with type, value and "
                                     "periodSeconds"))
                continue
            if policy.get("type") not in POLICY_TYPES:
                problems.append((child_path(at, "type"),
                                 f"must be Pods or Percent, got {policy.get('type')!r}"))
            if not _int_between(policy.get("value"), 1, INT32_MAX):
                problems.append((child_path(at, "value"),
                                 f"must be an integer from 1 to {INT32_MAX}, got "
                                 f"{policy.get('value')!r}"))
            if not _int_between(policy.get("periodSeconds"), 1, MAX_POLICY_PERIOD):
                problems.append((child_path(at, "periodSeconds"),
                                 f"must be an integer from 1 to {MAX_POLICY_PERIOD}, got "
                                 f"{policy.get('periodSeconds')!r}"))
    return problems


def _int_between(value: object, low: int, high: int | None) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value >= low
            and (high is None or value <= high))


# --- what makes an accepted autoscaler useless ---------------------------------------------------


def _containers(section: str, rset: ResourceSet) -> list[tuple[str, dict | None, str]]:
    """``(container name, resources, field path of those resources)`` of every container of the
    set's pods that the autoscaler measures (init containers do not count)."""
    spec = rset.spec
    containers = [(str(sidecar.get("name")), sidecar.get("resources"), "sidecars")
                  for sidecar in spec.get("sidecars") or [] if isinstance(sidecar, dict)]
    containers.append((rset.resource_name, spec.get("resources"), "resources"))
    if section == "proxy" and spec["webSocket"]["enabled"]:
        containers.append((f"{rset.resource_name}-ws", spec["webSocket"].get("resources"),
                           "webSocket.resources"))
    return containers


def _has_request(resources: dict | None, name: str) -> bool:
    # a limit without a request is also the request (the API server defaults it)
    resources = resources or {}
    return any(name in (resources.get(kind) or {}) for kind in ("requests", "limits"))


def _request_problems(cluster: Cluster, section: str, rset: ResourceSet,
                      where: _Origin) -> list[SpecError]:
    findings: list[SpecError] = []
    containers = _containers(section, rset)
    for index, metric in enumerate(rset.spec["hpa"]["metrics"] or []):
        kind = metric.get("type")
        source = metric.get(METRIC_SOURCES.get(kind, ""), {}) or {}
        if kind not in ("Resource", "ContainerResource") or \
                (source.get("target") or {}).get("type") != "Utilization":
            continue
        resource = str(source.get("name"))
        path = child_path(where.path("metrics"), index)
        if kind == "ContainerResource":
            names = [name for name, _, _ in containers]
            if source.get("container") not in names:
                findings.append(SpecError(f"{path}.containerResource.container", (
                    f"{section} set {rset.name!r} has no container {source.get('container')!r}; "
                    f"its pods run {', '.join(names)}")))
                continue
            measured = [c for c in containers if c[0] == source.get("container")]
        else:
            measured = containers
        missing = [(name, field) for name, resources, field in measured
                   if not _has_request(resources, resource)]
        for name, field in missing:
            findings.append(SpecError(path, (
                f"{section} set {rset.name!r}: a {resource} utilization target is a share of "
                f"the pods' {resource} requests, and container {name!r} requests no {resource} "
                f"({field}); the autoscaler reports the metric as missing and never scales. "
                f"Give it a {resource} request, or use an AverageValue target")))
    return findings


def _disruption_budget_warnings(spec: dict, what: str, where: _Origin,
                                low: int) -> list[SpecError]:
    pdb = spec["pdb"]
    if not pdb["enabled"]:
        if low == 1:
            return [warning(where.path("minReplicas"), (
                f"{what}: with minReplicas 1 and no PodDisruptionBudget a node drain may evict "
                f"the set's only pod; keep minReplicas at 2 or more"))]
        return []
    min_available = pdb.get("minAvailable")
    if min_available is not None:
        blocks = (min_available == "100%" or (isinstance(min_available, int)
                                                and not isinstance(min_available, bool)
                                                and min_available >= low))
        if blocks:
            return [warning(where.field(("pdb", "minAvailable")), (
                f"{what}: the PodDisruptionBudget needs {min_available} pods available, but the "
                f"autoscaler may keep only {low}: then no pod can be evicted and node drains "
                f"hang. Use maxUnavailable or a smaller minAvailable"))]
        return []
    if low == 1 and str(pdb.get("maxUnavailable")).strip() not in ("0", "0%"):
        return [warning(where.path("minReplicas"), (
            f"{what}: with minReplicas 1 the PodDisruptionBudget (maxUnavailable "
            f"{pdb.get('maxUnavailable')}) lets a node drain evict the set's only pod; keep "
            f"minReplicas at 2 or more for the set to stay available"))]
    return []
