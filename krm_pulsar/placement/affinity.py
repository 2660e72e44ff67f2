"""Pod affinity and anti-affinity of a component or set (docs/racks.md): the global
anti-affinity, a component's override, or the rules of the set's rack."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster
    pass

PREFERRED_WEIGHT = 100


def affinity(cluster: Cluster, component_spec: dict, match_labels: dict,
             rack: str | None = None) -> dict | None:
    """The pod ``affinity`` block, or None when it would be empty (kaap-parity.md#anti-affinity)."""
    keys = cluster.glob["topologyKeys"]
    pod_affinity: dict[str, list] = {"requiredDuringSchedulingIgnoredDuringExecution": [],
                    "preferredDuringSchedulingIgnoredDuringExecution": []}
    anti_affinity: dict[str, list] = {"requiredDuringSchedulingIgnoredDuringExecution": [],
                     "preferredDuringSchedulingIgnoredDuringExecution": []}
    if rack:
        _rack_rules(cluster, rack, match_labels, keys, pod_affinity, anti_affinity)
    else:
        # a component's antiAffinity replaces the global one as a whole
        # (kaap-parity.md#anti-affinity)
        effective = component_spec.get("antiAffinity") or cluster.glob["antiAffinity"]
        _anti_term(effective.get("host"), keys["host"], match_labels, anti_affinity)
        _anti_term(effective.get("zone"), keys["zone"], match_labels, anti_affinity)
    result = {}
    if _non_empty(pod_affinity):
        result["podAffinity"] = _non_empty(pod_affinity)
    # the component's own nodeAffinity, with a pinned rack's zone or node (placement/pinning.py)
    from .pinning import node_affinity

    node = node_affinity(cluster, component_spec.get("nodeAffinity"), rack)
    if node:
        result["nodeAffinity"] = node
    if _non_empty(anti_affinity):
        result["podAntiAffinity"] = _non_empty(anti_affinity)
    return result or None


def _non_empty(terms: dict) -> dict:
    return {key: value for key, value in terms.items() if value}


def _place(term: dict, required: bool, target: dict) -> None:
    if required:
        target["requiredDuringSchedulingIgnoredDuringExecution"].append(term)
    else:
        target["preferredDuringSchedulingIgnoredDuringExecution"].append(
            {"weight": PREFERRED_WEIGHT, "podAffinityTerm": term})


def _anti_term(rule: dict | None, topology_key: str, match_labels: dict,
               anti_affinity: dict) -> None:
    if not rule or rule.get("enabled") is not True:
        return
    term = {"labelSelector": {"matchLabels": dict(match_labels)}, "topologyKey": topology_key}
    # `required` left out means preferred (kaap-parity.md#anti-affinity)
    _place(term, rule.get("required") is True, anti_affinity)


def _rack_rules(cluster: Cluster, rack: str, match_labels: dict, keys: dict, pod_affinity: dict,
                anti_affinity: dict) -> None:
    racks = cluster.glob["racks"] or {}
    config = racks[rack]
    # Sorted, not KAAP's Java HashMap order: same selector semantics, deterministic output.
    others = sorted(name for name in racks if name != rack)
    for level in ("host", "zone"):
        block = config[level]
        if not block["enabled"]:
            continue
        key = keys[level]
        _place(_rack_term(key, [rack]), block["requireRackAffinity"], pod_affinity)
        if others:
            _place(_rack_term(key, others), block["requireRackAntiAffinity"], anti_affinity)
        if level == "zone" and block["enableHostAntiAffinity"]:
            term = {"labelSelector": {"matchLabels": dict(match_labels)},
                    "topologyKey": keys["host"]}
            _place(term, block["requireRackHostAntiAffinity"], anti_affinity)


def _rack_term(topology_key: str, racks: list) -> dict:
    return {
        "labelSelector": {"matchExpressions": [{"key": "rack", "operator": "In",
                                                "values": list(racks)}]},
        "topologyKey": topology_key,
    }
