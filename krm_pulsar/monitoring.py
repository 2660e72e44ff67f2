"""Prometheus operator scraping (``spec.global.podMonitor``, ``spec.<component>.podMonitor``;
docs/monitoring.md): one ``monitoring.coreos.com/v1`` PodMonitor per component.

Each PodMonitor selects the pods of every set of its component and scrapes the port and path
the component really serves metrics on (its registry entry's ``metrics``), read off the
rendered pod templates:

* a container that declares the metrics port is scraped through that port's name;
* a container that serves metrics on a port it does not declare (ZooKeeper's metrics
  provider on 8000; a proxy with TLS, which declares only its TLS ports but keeps serving
  HTTP on 8080) is found through a port it does declare, and the target's address is
  rewritten to the metrics port. Declaring the port instead would change the pod template,
  and KAAP input keeps KAAP's pod templates.

Metrics are always plain HTTP: with TLS the components keep their plaintext web port open
(KAAP's configuration), so Prometheus needs no certificate. With token authentication the
proxy and the functions worker authenticate ``/metrics`` by default
(``authenticateMetricsEndpoint``, Pulsar's default: true for them, false for the broker); the
PodMonitor then sends the token of the role ``metrics``, which authenticates and has no
permission (docs/monitoring.md#authentication).
"""

from __future__ import annotations

import copy

from . import names, registry, security
from .schema import SpecError, child_path, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

API_VERSION = "monitoring.coreos.com/v1"
KIND = "PodMonitor"
# The role whose token Prometheus presents where /metrics is authenticated: a token that
# authenticates only (it is no superuser and has no grants). security.token_roles adds it.
METRICS_ROLE = "metrics"
# Pulsar's defaults of authenticateMetricsEndpoint (ServiceConfiguration, ProxyConfiguration,
# WorkerConfig of 4.0); the other components have no Pulsar authentication on /metrics.
AUTHENTICATED_BY_DEFAULT = {"broker": False, "proxy": True, "functionsWorker": True}
AUTH_KEY = "authenticateMetricsEndpoint"
# Components whose metrics carry Pulsar's own `namespace` and `cluster` labels (topics,
# functions): their labels win over the target's (honorLabels), and the Kubernetes namespace
# stays available as kubernetes_namespace.
PULSAR_LABELS = ("broker", "proxy", "functionsWorker")
# Pod labels copied onto every scraped series of a set component.
SET_TARGET_LABELS = [names.RESOURCE_SET_LABEL, names.RACK_LABEL]
RELABEL_ACTIONS = ("replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep",
                   "lowercase", "uppercase", "keepequal", "dropequal")
RELABEL_KEYS = ("action", "modulus", "regex", "replacement", "separator", "sourceLabels",
                "targetLabel")
_WORKLOADS = ("StatefulSet", "Deployment")


def sections(spec: dict) -> list[str]:
    """The rendered components with metrics whose PodMonitor is enabled, in rollout order."""
    return [entry.section for entry in registry.in_rollout_order()
            if entry.metrics is not None and entry.rendered(spec)
            and (spec[entry.section].get("podMonitor") or {}).get("enabled")]


def _configs(spec: dict, section: str) -> list[dict]:
    """The ``config`` of each rendered pod template of a component: its own, or each set's
    merged over it (KAAP's map merge)."""
    component = spec[section]
    own = component.get("config") or {}
    sets = component.get("sets") or {}
    if not sets:
        return [own]
    return [{**own, **((set_spec or {}).get("config") or {})} for set_spec in sets.values()]


def _truth(value: object) -> bool:
    return str(value).strip().lower() == "true"


def needs_token(spec: dict, section: str) -> bool:
    """Whether Pulsar authenticates component `section`'s /metrics."""
    if section not in AUTHENTICATED_BY_DEFAULT or not security.auth_on(spec):
        return False
    for config in _configs(spec, section):
        for key in (AUTH_KEY, f"PULSAR_PREFIX_{AUTH_KEY}"):
            if config.get(key) is not None:
                if _truth(config[key]):
                    return True
                break
        else:
            if AUTHENTICATED_BY_DEFAULT[section]:
                return True
    return False


def metrics_token_needed(spec: dict) -> bool:
    """Whether some PodMonitor presents the ``metrics`` role's token."""
    return any(needs_token(spec, section) for section in sections(spec))


# --- render -------------------------------------------------------------------------------------


def render(cluster: Cluster, objects: list) -> list:
    """The PodMonitors of the enabled components, built from the rendered workloads."""
    return [monitor for monitor in (pod_monitor(cluster, section, objects)
                                    for section in sections(cluster.spec)) if monitor]


def _component_values(cluster: Cluster, section: str) -> list[str]:
    if section == "oxia":
        return [names.OXIA_COORDINATOR, names.OXIA_SERVER]
    return [cluster.base_name(section)]


def _main_container(workload: dict, pod: dict) -> dict | None:
    """The container that serves the component's metrics: the one named like its workload
    (ours), else the Oxia part's only container (user sidecars come first)."""
    containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)]
    name = workload["metadata"]["name"]
    for container in containers:
        if container.get("name") == name:
            return container
    for container in containers:
        if container.get("name") in ("server", "coordinator"):
            return container
    return None


def _endpoint_port(container: dict, number: int) -> tuple[str, bool] | None:
    """``(port name to select, whether the address must be rewritten to `number`)``."""
    ports = [p for p in container.get("ports") or [] if isinstance(p, dict) and p.get("name")]
    for entry in ports:
        if entry.get("containerPort") == number:
            return str(entry["name"]), False
    if ports:
        return str(ports[0]["name"]), True
    return None


def pod_monitor(cluster: Cluster, section: str, objects: list) -> dict | None:
    spec = cluster.spec
    entry = registry.BY_SECTION[section]
    metrics = entry.metrics
    assert metrics is not None
    number = registry.metrics_port(section)
    components = _component_values(cluster, section)
    templates = []
    endpoints: list[dict] = []
    for obj in objects:
        if obj.get("kind") not in _WORKLOADS:
            continue
        template = obj["spec"]["template"]
        labels = template["metadata"].get("labels") or {}
        if labels.get(names.COMPONENT_LABEL) not in components:
            continue
        container = _main_container(obj, template["spec"])
        found = _endpoint_port(container, number) if container else None
        if found is None:
            continue
        templates.append(labels)
        endpoint = _endpoint(spec, section, found[0], number if found[1] else None,
                             metrics.path)
        if endpoint not in endpoints:
            endpoints.append(endpoint)
    if not templates:
        return None
    top = spec[section]
    settings = top["podMonitor"]
    name = names.oxia_base(cluster.name) if section == "oxia" else cluster.resource_name(section)
    if section == "oxia":
        labels = cluster.labels("oxia")
    else:
        labels = cluster.labels(section, top.get("labels"))
    labels.update(settings["labels"] or {})
    body: dict = {"selector": _selector(templates)}
    if entry.has_sets:
        body["podTargetLabels"] = list(SET_TARGET_LABELS)
    body["podMetricsEndpoints"] = endpoints
    annotations = None if section == "oxia" else top.get("annotations")
    return {"apiVersion": API_VERSION, "kind": KIND,
            "metadata": cluster.metadata(name, labels, annotations), "spec": body}


def _selector(templates: list[dict]) -> dict:
    """The labels every selected pod template carries (so the PodMonitor reaches the pods of
    every set), and the component values when the pods are of several parts (Oxia)."""
    common = dict(templates[0])
    for labels in templates[1:]:
        common = {key: value for key, value in common.items() if labels.get(key) == value}
    common.pop(names.RESOURCE_SET_LABEL, None)
    common.pop(names.RACK_LABEL, None)
    selector: dict = {"matchLabels": common}
    components = sorted({str(labels.get(names.COMPONENT_LABEL)) for labels in templates})
    if names.COMPONENT_LABEL not in common:
        selector["matchExpressions"] = [{"key": names.COMPONENT_LABEL, "operator": "In",
                                         "values": components}]
    return selector


def _endpoint(spec: dict, section: str, port: str, rewrite_to: int | None, path: str) -> dict:
    settings = spec[section]["podMonitor"]
    endpoint: dict = {"port": port, "path": path, "scheme": "http"}
    if settings["interval"]:
        endpoint["interval"] = settings["interval"]
    if settings["scrapeTimeout"]:
        endpoint["scrapeTimeout"] = settings["scrapeTimeout"]
    relabelings = []
    if rewrite_to is not None:
        # the metrics port is not declared: take the declared port's target, scrape another
        relabelings.append({"action": "replace", "sourceLabels": ["__address__"],
                            "regex": "(.+):\\d+", "replacement": f"${{1}}:{rewrite_to}",
                            "targetLabel": "__address__"})
    if section in PULSAR_LABELS:
        endpoint["honorLabels"] = True
        relabelings.append({"action": "replace", "sourceLabels": ["__meta_kubernetes_namespace"],
                            "targetLabel": "kubernetes_namespace"})
    if relabelings:
        endpoint["relabelings"] = relabelings
    if settings["metricRelabelings"]:
        endpoint["metricRelabelings"] = copy.deepcopy(settings["metricRelabelings"])
    if needs_token(spec, section):
        endpoint["authorization"] = {"type": "Bearer", "credentials": {
            "name": f"token-{METRICS_ROLE}", "key": f"{METRICS_ROLE}.jwt"}}
    return endpoint


# --- checks -------------------------------------------------------------------------------------


def _durations(value: object) -> float | None:
    """Seconds of a Prometheus duration (validated by the model's pattern), None when unset."""
    import re

    if not isinstance(value, str) or not value:
        return None
    units = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(int(amount) * units[unit]
               for amount, unit in re.findall(r"([0-9]+)(ms|y|w|d|h|m|s)", value))


def _origin(raw: dict, section: str | None, key: str) -> str:
    if section is not None and ((raw.get(section) or {}).get("podMonitor") or {}).get(key) \
            is not None:
        return f"spec.{section}.podMonitor.{key}"
    return f"spec.global.podMonitor.{key}"


def check(spec: dict, raw: dict | None = None) -> list[SpecError]:
    """PodMonitor settings (phase ``spec``), reported at the field that was written."""
    raw = raw or {}
    findings: list[SpecError] = []
    entries = [("global", spec["global"]["podMonitor"])] + [
        (entry.section, spec[entry.section]["podMonitor"]) for entry in registry.COMPONENTS
        if entry.metrics is not None and spec[entry.section].get("podMonitor")]
    for section, settings in entries:
        where = None if section == "global" else section
        interval, timeout = (_durations(settings["interval"]),
                             _durations(settings["scrapeTimeout"]))
        if interval is not None and timeout is not None and timeout > interval:
            _add(findings, SpecError(_origin(raw, where, "scrapeTimeout"), (
                f"scrapeTimeout {settings['scrapeTimeout']} is longer than the interval "
                f"{settings['interval']}; Prometheus refuses such a scrape configuration")))
        path = _origin(raw, where, "metricRelabelings")
        for index, rule in enumerate(settings["metricRelabelings"] or []):
            for problem_path, message in relabel_problems(rule, child_path(path, index)):
                _add(findings, SpecError(problem_path, message))
    enabled = sections(spec)
    if any(needs_token(spec, section) for section in enabled):
        token = security.token(spec)
        if METRICS_ROLE in (token["superUserRoles"] or []):
            findings.append(warning("spec.global.auth.token.superUserRoles", (
                f"{METRICS_ROLE!r} is a superuser role, and the PodMonitors send its token to "
                f"Prometheus: Prometheus would hold a superuser credential. Remove it from "
                f"the superuser roles (the token only needs to authenticate)")))
    policies = spec["global"].get("networkPolicies") or {}
    if enabled and policies.get("enabled") and not policies.get("metricsFrom"):
        findings.append(warning("spec.global.networkPolicies.metricsFrom", (
            "the PodMonitors point Prometheus at the metrics ports, but the NetworkPolicies "
            "admit no one to them; list Prometheus' namespace or pods in metricsFrom")))
    return findings


def _add(findings: list[SpecError], finding: SpecError) -> None:
    if finding not in findings:
        findings.append(finding)


def relabel_problems(rule: object, path: str) -> list[tuple[str, str]]:
    """A Prometheus relabel config as the PodMonitor CRD and Prometheus accept it."""
    if not isinstance(rule, dict):
        return [(path, "a relabel config is a mapping (action, sourceLabels, regex, ...)")]
    problems = []
    for key in rule:
        if key not in RELABEL_KEYS:
            problems.append((child_path(path, str(key)), (
                f"unknown relabel field {key!r}; PodMonitor relabel configs take "
                f"{', '.join(RELABEL_KEYS)}")))
    action = str(rule.get("action", "replace"))
    if action.lower() not in RELABEL_ACTIONS:
        problems.append((child_path(path, "action"), (
            f"action must be one of {', '.join(RELABEL_ACTIONS)}, got {rule.get('action')!r}")))
        return problems
    action = action.lower()
    sources = rule.get("sourceLabels")
    if sources is not None and (not isinstance(sources, list)
                                or not all(isinstance(s, str) for s in sources)):
        problems.append((child_path(path, "sourceLabels"), "sourceLabels is a list of label "
                                                           "names"))
    for key in ("regex", "replacement", "separator", "targetLabel"):
        if rule.get(key) is not None and not isinstance(rule[key], str):
            problems.append((child_path(path, key), f"{key} is a string, got {rule[key]!r}"))
    if action in ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal") \
            and not rule.get("targetLabel"):
        problems.append((child_path(path, "targetLabel"),
                         f"action {action} needs targetLabel"))
    if action == "hashmod":
        modulus = rule.get("modulus")
        if not isinstance(modulus, int) or isinstance(modulus, bool) or modulus < 1:
            problems.append((child_path(path, "modulus"),
                             f"action hashmod needs a modulus of at least 1, got {modulus!r}"))
    if action in ("keepequal", "dropequal", "lowercase", "uppercase") and not sources:
        problems.append((child_path(path, "sourceLabels"),
                         f"action {action} needs sourceLabels"))
    if action in ("labeldrop", "labelkeep"):
        for key in ("sourceLabels", "targetLabel"):
            if rule.get(key):
                problems.append((child_path(path, key),
                                 f"action {action} takes only regex; remove {key}"))
    return problems
