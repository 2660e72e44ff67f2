"""Pod affinity and anti-affinity of a component or set (docs/racks.md): the global
anti-affinity, a component's override, or the rules of the set's rack."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..schema import SpecError

PREFERRED_WEIGHT = 100
# The largest minDomains the API accepts: no cluster has that many nodes, so the scheduler
# always takes the global minimum as 0 and `maxSkew: 1` means "no other pod of the set on the
# node" (docs/racks.md#stateless-sets-own-host-spread).
ONE_PER_DOMAIN_MIN_DOMAINS = 2147483647


def host_spread_replaces_anti_affinity(cluster: Cluster, spec: dict, rack: str | None,
                                       stateless: bool) -> bool:
    """Whether a racked set's own-set host rule (H, required) is rendered as a topology spread
    constraint instead of a second required pod anti-affinity term: for stateless sets
    (Deployments) of our API version (docs/racks.md#stateless-sets-own-host-spread), unless
    the set's own spread constraints (`spec`) already hold the host key with DoNotSchedule (the
    API server refuses a second such entry, and the user's may allow more than one pod per
    node): H then stays a required term. KAAP input keeps KAAP's terms
    (docs/kaap-parity.md#racks)."""
    if not (rack and stateless) or cluster.kaap_input:
        return False
    zone = (cluster.glob["racks"] or {})[rack]["zone"]
    return bool(zone["enabled"] and zone["enableHostAntiAffinity"]
                and zone["requireRackHostAntiAffinity"]
                and own_host_entry(cluster, spec) is None)


def own_host_entry(cluster: Cluster, spec: dict) -> int | None:
    """The index of the set's spread constraint that takes the own-host rule's topologyKey and
    whenUnsatisfiable (the host key, DoNotSchedule), or None."""
    from .spread import FIELD

    pair = (cluster.glob["topologyKeys"]["host"], "DoNotSchedule")
    for index, entry in enumerate(spec.get(FIELD) or []):
        if isinstance(entry, dict) and (entry.get("topologyKey"),
                                        entry.get("whenUnsatisfiable")) == pair:
            return index
    return None


def own_host_spread(cluster: Cluster, match_labels: dict) -> dict:
    """H as a spread constraint: at most one pod of the set per node, like the anti-affinity
    term, but filtered by the scheduler's PodTopologySpread plugin, which retries a Pending pod
    when a pod of the set goes (a pod with two required anti-affinity terms of different
    selectors is retried only after the scheduler's 5-minute flush)."""
    return {"labelSelector": {"matchLabels": dict(match_labels)}, "maxSkew": 1,
            "minDomains": ONE_PER_DOMAIN_MIN_DOMAINS,
            "topologyKey": cluster.glob["topologyKeys"]["host"],
            "whenUnsatisfiable": "DoNotSchedule"}


def affinity(cluster: Cluster, component_spec: dict, match_labels: dict,
             rack: str | None = None, stateless: bool = False) -> dict | None:
    """The pod ``affinity`` block, or None when it would be empty (kaap-parity.md#anti-affinity).
    `stateless`: the pods belong to a Deployment (see host_spread_replaces_anti_affinity)."""
    keys = cluster.glob["topologyKeys"]
    pod_affinity: dict[str, list] = {"requiredDuringSchedulingIgnoredDuringExecution": [],
                    "preferredDuringSchedulingIgnoredDuringExecution": []}
    anti_affinity: dict[str, list] = {"requiredDuringSchedulingIgnoredDuringExecution": [],
                     "preferredDuringSchedulingIgnoredDuringExecution": []}
    if rack:
        _rack_rules(cluster, rack, match_labels, keys, pod_affinity, anti_affinity,
                    host_as_spread=host_spread_replaces_anti_affinity(
                        cluster, component_spec, rack, stateless))
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
                anti_affinity: dict, host_as_spread: bool = False) -> None:
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
            # as a spread constraint the rule is enforced there (own_host_spread); the
            # preferred term left here only orders nodes, and shows the rule to tools that
            # look for a host anti-affinity (kube-score); preferred terms never hold a pod
            _place(term, block["requireRackHostAntiAffinity"] and not host_as_spread,
                   anti_affinity)


def _rack_term(topology_key: str, racks: list) -> dict:
    return {
        "labelSelector": {"matchExpressions": [{"key": "rack", "operator": "In",
                                                "values": list(racks)}]},
        "topologyKey": topology_key,
    }


def required_anti_affinity_selectors(pod_affinity: dict | None) -> list[dict]:
    """The distinct label selectors of a pod's required anti-affinity terms."""
    terms = ((pod_affinity or {}).get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or []
    selectors: list[dict] = []
    for term in terms:
        if term.get("labelSelector") not in selectors:
            selectors.append(term.get("labelSelector"))
    return selectors


def requeue_warnings(cluster: Cluster) -> list:
    """Phase ``cluster``: a warning for each proxy set (a Deployment) whose pods keep KAAP's two
    required anti-affinity terms of different selectors (KAAP input; ours renders the own-set
    host rule as a spread constraint, unless a spread constraint of the user's takes its
    topologyKey and whenUnsatisfiable: one warning at that entry then). kube-scheduler retries
    such a Pending pod on a pod's deletion only when the deleted pod matches every term, so a
    rollout's replacement pod waits for the scheduler's 5-minute flush
    (docs/racks.md#stateless-sets-own-host-spread)."""
    from ..schema import child_path, warning
    from .sets import resource_sets
    from .spread import _origin

    findings = []
    own_entries: dict[str, list[str]] = {}  # the entry's path: the sets it keeps H required in
    raw_sets = (((cluster.config.get("spec") or {}).get("proxy") or {}).get("sets") or {})
    for rset in resource_sets(cluster, "proxy"):
        if rset.spec["replicas"] <= 0 or not rset.rack:
            continue
        pod_affinity = affinity(cluster, rset.spec, rset.match_labels(cluster), rset.rack,
                                stateless=True)
        if len(required_anti_affinity_selectors(pod_affinity)) < 2:
            continue
        own_entry = own_host_entry(cluster, rset.spec)
        if not cluster.kaap_input and own_entry is not None:
            where = child_path(_origin(cluster.config.get("spec") or {}, "proxy", rset.name),
                               own_entry)
            own_entries.setdefault(where, []).append(f"{rset.name!r} (rack {rset.rack})")
            continue
        path = f"spec.proxy.sets.{rset.name}" if rset.name in raw_sets else "spec.proxy"
        findings.append(warning(path, (
            f"proxy set {rset.name!r} (rack {rset.rack}) keeps KAAP's two required pod "
            f"anti-affinity terms (the other racks' zones, the set's own nodes): "
            f"kube-scheduler retries a Pending pod after a deletion only when the deleted pod "
            f"matches every term, so each rollout of this Deployment can wait about 5 minutes "
            f"per pod when its nodes are full. The krm-pulsar.io/v1alpha1 API renders the "
            f"own-node rule as a topology spread constraint instead (moving to it restarts "
            f"the proxies once); with KAAP input keep a spare node in the rack's zone "
            f"(docs/racks.md#stateless-sets-own-host-spread)")))
    findings.extend(_own_entry_requeue_warning(cluster, path, sets)
                    for path, sets in own_entries.items())
    return findings


def _own_entry_requeue_warning(cluster: Cluster, path: str, sets: list[str]) -> SpecError:
    """Our API version: a spread constraint at `path` takes the own-host rule's pair in the
    racked proxy `sets`, so the rule stays a required term there
    (host_spread_replaces_anti_affinity), with the rollout wait of two required terms
    (docs/racks.md#stateless-sets-own-host-spread)."""
    from ..schema import warning

    return warning(path, (
        f"this entry takes the topologyKey {cluster.glob['topologyKeys']['host']} with "
        f"DoNotSchedule, which the racks' own-node rule (at most one proxy of a set per node, "
        f"zone.requireRackHostAntiAffinity) needs for its spread constraint, so in proxy "
        f"set{'s' if len(sets) > 1 else ''} {', '.join(sets)} the rule stays a required pod "
        f"anti-affinity term beside the other racks' term: kube-scheduler retries a Pending "
        f"pod after a deletion only when the deleted pod matches every term, so each rollout "
        f"can wait about 5 minutes per pod when the rack's nodes are full. Remove the entry "
        f"(the racks already allow one proxy of a set per node) or use ScheduleAnyway "
        f"(docs/racks.md#stateless-sets-own-host-spread)"))
