"""Topology spread constraints (docs/racks.md#topology-spread-constraints): the Kubernetes
``topologySpreadConstraints`` of a component's or set's pods, and their checks.

What anti-affinity cannot say ("at most one pod more in any zone than in any other"), a spread
constraint can. The entries are Kubernetes TopologySpreadConstraints as written, with one
addition: an entry without ``labelSelector`` selects the pods of its own set (the set's
selector labels), which is what "spread this set" means and what the API server cannot
infer (a constraint without a selector counts no pods and spreads nothing).

Checks are the API server's rules for the fields (so the output is never rejected) and the
interplay with racks: a rack keeps its pods in one zone or node, so a set in a rack cannot also
be spread across zones or nodes, unless the rack is pinned to one (placement/pinning.py), which
turns it into a node affinity that spread constraints honour.
"""

from __future__ import annotations

import copy

from ..schema import SpecError, child_path, label_key_problem, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

FIELD = "topologySpreadConstraints"
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
POLICIES = ("Honor", "Ignore")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def constraints(spec: dict, match_labels: dict, placement: dict | None = None) -> list | None:
    """The pod's ``topologySpreadConstraints`` (None when there are none): the entries of the
    component or set, each without ``labelSelector`` given the set's own selector; then
    `placement`, a constraint of the placement rules (affinity.own_host_spread). The caller
    passes `placement` only when no entry takes its topologyKey and whenUnsatisfiable (the API
    server refuses two such entries; affinity.host_spread_replaces_anti_affinity keeps the rule
    a required anti-affinity term instead, so it is never dropped)."""
    result = []
    for own in spec.get(FIELD) or []:
        entry = copy.deepcopy(own)
        if entry.get("labelSelector") is None:
            entry["labelSelector"] = {"matchLabels": dict(match_labels)}
        result.append(entry)
    if placement:
        result.append(placement)
    return result or None


# --- checks -------------------------------------------------------------------------------------


def check(cluster: Cluster) -> list[SpecError]:
    """Every pod template's constraints (phase ``cluster``: sets are merged), each finding once
    at the field path the entry was written at."""
    from .. import registry
    from .sets import resource_sets

    findings: list[SpecError] = []
    spec = cluster.spec
    raw = cluster.config.get("spec") or {}
    for entry in registry.PULSAR_COMPONENTS:
        section = entry.section
        if not entry.rendered(spec):
            continue
        if entry.has_sets:
            for rset in resource_sets(cluster, section):
                if rset.spec["replicas"] > 0:
                    path = _origin(raw, section, rset.name)
                    _check_pods(cluster, rset.spec, rset.match_labels(cluster), path,
                                findings, rset.rack, _most_pods(rset.spec))
        else:
            own = spec[section]
            match = cluster.selector_labels(section, own["matchLabels"])
            _check_pods(cluster, own, match, _origin(raw, section, None), findings, None,
                        own["replicas"])
    if cluster.oxia and cluster.glob[FIELD]:
        from .. import names

        labels = cluster.labels(names.OXIA_SERVER)
        _check_pods(cluster, cluster.glob, labels, f"spec.global.{FIELD}", findings, None,
                    spec["oxia"]["server"]["replicas"])
    return findings


def _most_pods(set_spec: dict) -> int:
    hpa = set_spec.get("hpa") or {}
    if hpa.get("enabled") and hpa.get("maxReplicas"):
        return max(set_spec["replicas"], hpa["maxReplicas"])
    return set_spec["replicas"]


def _origin(raw: dict, section: str, set_name: str | None) -> str:
    """Where the constraints of a component or set were written: the set, the component,
    else spec.global."""
    component = raw.get(section) or {}
    if set_name is not None and ((component.get("sets") or {}).get(set_name) or {}).get(FIELD):
        return f"spec.{section}.sets.{set_name}.{FIELD}"
    if component.get(FIELD) is not None:
        return f"spec.{section}.{FIELD}"
    return f"spec.global.{FIELD}"


def _add(findings: list[SpecError], finding: SpecError) -> None:
    if finding not in findings:
        findings.append(finding)


def _check_pods(cluster: Cluster, spec: dict, match: dict, path: str,
                findings: list[SpecError], rack: str | None, pods: int) -> None:
    entries = spec.get(FIELD) or []
    pairs: dict[tuple, int] = {}
    for index, entry in enumerate(entries):
        where = child_path(path, index)
        for problem_path, message in entry_problems(entry, where, match):
            _add(findings, SpecError(problem_path, message))
        pair = (entry.get("topologyKey"), entry.get("whenUnsatisfiable"))
        if pair in pairs:
            _add(findings, SpecError(where, (
                f"the same topologyKey and whenUnsatisfiable as entry {pairs[pair]}: the API "
                f"server refuses two such constraints; merge them")))
        else:
            pairs[pair] = index
        if rack:
            for finding in _rack_conflict(cluster, entry, where, rack, pods):
                _add(findings, finding)


def entry_problems(entry: dict, path: str, match: dict) -> list[tuple[str, str]]:
    """The API server's validation of one TopologySpreadConstraint, as ``(path, message)``."""
    problems = []
    skew = entry.get("maxSkew")
    if not _positive_int(skew):
        problems.append((child_path(path, "maxSkew"),
                         f"maxSkew must be an integer from 1 to {INT32_MAX}, got {skew!r}"))
    key = entry.get("topologyKey")
    if not isinstance(key, str) or not key:
        problems.append((child_path(path, "topologyKey"),
                         "topologyKey is required: the node label whose values are the domains "
                         "(e.g. topology.kubernetes.io/zone)"))
    elif label_key_problem(key):
        problems.append((child_path(path, "topologyKey"), str(label_key_problem(key))))
    when = entry.get("whenUnsatisfiable")
    if when not in WHEN_UNSATISFIABLE:
        problems.append((child_path(path, "whenUnsatisfiable"),
                         f"whenUnsatisfiable must be one of {', '.join(WHEN_UNSATISFIABLE)}, "
                         f"got {when!r}"))
    if "minDomains" in entry and entry["minDomains"] is not None:
        if not _positive_int(entry["minDomains"]):
            problems.append((child_path(path, "minDomains"),
                             f"minDomains must be an integer from 1 to {INT32_MAX}, got "
                             f"{entry['minDomains']!r}"))
        elif when != "DoNotSchedule":
            problems.append((child_path(path, "minDomains"),
                            "minDomains only works with whenUnsatisfiable: DoNotSchedule"))
    for policy in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
        if entry.get(policy) is not None and entry[policy] not in POLICIES:
            problems.append((child_path(path, policy),
                             f"{policy} must be Honor or Ignore, got {entry[policy]!r}"))
    selector = entry.get("labelSelector")
    if selector is not None:
        problems.extend(_selector_problems(selector, child_path(path, "labelSelector")))
    keys = entry.get("matchLabelKeys")
    if keys is not None:
        problems.extend(_match_label_key_problems(keys, selector, match, path))
    return problems


# maxSkew and minDomains are int32 fields: the API server refuses anything larger
INT32_MAX = 2147483647


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= INT32_MAX


def _selector_problems(selector: object, path: str) -> list[tuple[str, str]]:
    if not isinstance(selector, dict):
        return [(path, "labelSelector must be a mapping with matchLabels and/or "
                       "matchExpressions")]
    problems = []
    labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    # the read phase refuses these shapes (core.v1.TopologySpreadConstraint); a merged set's
    # entry is checked here again and must not fail on them
    if not isinstance(labels, dict):
        problems.append((child_path(path, "matchLabels"),
                         "matchLabels must be a mapping of label keys to values"))
        labels = {}
    if not isinstance(expressions, list):
        problems.append((child_path(path, "matchExpressions"),
                         "matchExpressions must be a list of {key, operator, values}"))
        expressions = []
    for key, value in labels.items():
        problem = label_key_problem(str(key))
        if problem or not isinstance(value, str):
            problems.append((child_path(child_path(path, "matchLabels"), str(key)),
                             problem or f"a label value is a string, got {value!r}"))
    for index, expression in enumerate(expressions):
        where = child_path(child_path(path, "matchExpressions"), index)
        if not isinstance(expression, dict):
            problems.append((where, "expected a mapping with key, operator and values"))
            continue
        operator = expression.get("operator")
        values = expression.get("values") or []
        if operator not in SELECTOR_OPERATORS:
            problems.append((child_path(where, "operator"),
                             f"operator must be one of {', '.join(SELECTOR_OPERATORS)}, got "
                             f"{operator!r}"))
        elif operator in ("In", "NotIn") and not values:
            problems.append((child_path(where, "values"),
                             f"operator {operator} needs at least one value"))
        elif operator in ("Exists", "DoesNotExist") and values:
            problems.append((child_path(where, "values"),
                             f"operator {operator} takes no values"))
        if not isinstance(expression.get("key"), str) or label_key_problem(expression["key"]):
            problems.append((child_path(where, "key"),
                             f"key must be a label key, got {expression.get('key')!r}"))
    return problems


def _match_label_key_problems(keys: object, selector: object, match: dict,
                              path: str) -> list[tuple[str, str]]:
    where = child_path(path, "matchLabelKeys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return [(where, "matchLabelKeys is a list of label keys")]
    # the selector in effect: the user's, or the set's own that we fill in
    effective = selector if isinstance(selector, dict) else {"matchLabels": match}
    labels = effective.get("matchLabels") or {}
    expressions = effective.get("matchExpressions") or []
    taken = set(labels if isinstance(labels, dict) else {}) | {
        e.get("key") for e in (expressions if isinstance(expressions, list) else [])
        if isinstance(e, dict)}
    problems = []
    for index, key in enumerate(keys):
        if key in taken:
            problems.append((child_path(where, index), (
                f"{key!r} is already a key of the labelSelector (the set's own selector when "
                f"the entry has none); the API server refuses a key in both")))
        elif label_key_problem(key):
            problems.append((child_path(where, index), str(label_key_problem(key))))
        elif keys.index(key) != index:
            problems.append((child_path(where, index), f"{key!r} is listed twice"))
    return problems


def _rack_conflict(cluster: Cluster, entry: dict, where: str, rack: str,
                   pods: int) -> list[SpecError]:
    """A set in a rack spread over the rack's own level (its zone or its node)."""
    keys = cluster.glob["topologyKeys"]
    racks = cluster.glob["racks"] or {}
    config = racks.get(rack) or {}
    for level in ("zone", "host"):
        block = config.get(level) or {}
        if not block.get("enabled") or entry.get("topologyKey") != keys[level]:
            continue
        if block.get("name") and entry.get("nodeAffinityPolicy") != "Ignore":
            return []  # a pinned rack: the constraint counts the one domain its pods may use
        others = len(racks) > 1 and block.get("requireRackAntiAffinity")
        skew = int(entry["maxSkew"]) if _positive_int(entry.get("maxSkew")) else 1
        where_level = "zone" if level == "zone" else "node"
        if entry.get("whenUnsatisfiable") == "DoNotSchedule" and others and pods > skew:
            return [SpecError(where, (
                f"the set is in rack {rack}, which keeps its pods in one {where_level} and out "
                f"of the other racks' {where_level}s; spreading it over {entry['topologyKey']} "
                f"with DoNotSchedule leaves every pod beyond the first {skew} Pending (the "
                f"other {where_level}s count as domains it cannot use). Pin the rack with "
                f"spec.global.racks.{rack}.{level}.name, use ScheduleAnyway, or spread over "
                f"another key"))]
        return [warning(where, (
            f"the set is in rack {rack}, which gathers its pods in one {where_level}; "
            f"spreading it over {entry['topologyKey']} works against that (see "
            f"docs/racks.md#topology-spread-constraints). Pin the rack with "
            f"spec.global.racks.{rack}.{level}.name to spread inside it"))]
    return []
