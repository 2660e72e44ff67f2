"""Quorums across zones (docs/racks.md#zookeeper-and-oxia-across-zones): a warning when the
cluster is placed across zones (racks, pins, zone anti-affinity or zone spread) but the
required rules still let one zone hold a majority of ZooKeeper, of an Oxia shard's replicas,
or so many bookies of a set without rack that fewer than an ensemble are left.

The worst cases are those `krm-pulsar explain` reports (placement/domains.py), read off the
rendered objects, so the warning and the report never disagree. KAAP input gets the same
warning: KAAP's default rule (one pod per node, zone off) has the same gap.
"""

from __future__ import annotations

from ..schema import SpecError, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"


def _zone_placed(workload: dict, zone_key: str) -> bool:
    """Whether a required rule places the workload's pods by zone."""
    affinity = workload["_affinity"]
    for kind in ("podAffinity", "podAntiAffinity"):
        if any(term.get("topologyKey") == zone_key
               for term in (affinity.get(kind) or {}).get(REQUIRED) or []):
            return True
    return workload["zones"] is not None or any(
        c.get("topologyKey") == zone_key and c.get("whenUnsatisfiable") == "DoNotSchedule"
        for c in workload["_spread"])


WEAK_RULES = ("a preferred rule or ScheduleAnyway is a wish, and DoNotSchedule without "
              "minDomains counts only the zones that have nodes when a pod is placed")


def _weak_zone_rule(workloads: list[dict], zone_key: str) -> bool:
    """Whether `workloads` have a zone rule that bounds nothing (preferred, ScheduleAnyway or
    DoNotSchedule without minDomains; the ones that bound are counted by explain)."""
    preferred = "preferredDuringSchedulingIgnoredDuringExecution"
    return any(term.get("podAffinityTerm", {}).get("topologyKey") == zone_key
               for w in workloads
               for term in (w["_affinity"].get("podAntiAffinity") or {}).get(preferred) or []
               ) or any(c.get("topologyKey") == zone_key for w in workloads for c in w["_spread"])


def _why(workloads: list[dict], what: str, zone_key: str) -> str:
    """Why the rules of `workloads` leave a zone majority possible, in words."""
    if not _weak_zone_rule(workloads, zone_key):
        return f"{what} has no zone rule"
    return f"{what}'s zone rules do not rule it out ({WEAK_RULES})"


def check(cluster: Cluster, objects: list) -> list[SpecError]:
    """Phase ``objects``: the quorum warnings (none unless some workload is placed by zone)."""
    from .. import names
    from . import domains

    zone_key = cluster.glob["topologyKeys"]["zone"]
    found = domains.workloads(cluster, objects)
    if not any(_zone_placed(w, zone_key) for w in found):
        return []
    findings = []
    advice = (f"a topology spread constraint ({{maxSkew: 1, topologyKey: {zone_key}, "
              f"whenUnsatisfiable: DoNotSchedule, minDomains: <zones>}}) or a required zone "
              f"anti-affinity")
    if cluster.oxia:
        servers = [w for w in found if w["role"] == names.OXIA_SERVER]
        factor = cluster.spec["oxia"]["replicationFactor"]
        most = min(factor, sum(domains.per_domain(cluster, w, "zone") for w in servers))
        if servers and factor >= 3 and factor - most < factor // 2 + 1:
            findings.append(warning("spec.global.antiAffinity.zone", (
                f"the cluster is placed across zones, but "
                f"{_why(servers, 'the Oxia servers', zone_key)}: one zone can hold {most} of "
                f"the {factor} replicas of a shard, a majority: losing that zone stops the "
                f"metadata store. The Oxia servers take the global rules: set "
                f"spec.global.antiAffinity.zone {{enabled: true, required: true}} (one pod "
                f"per zone for every component without rack) or "
                f"spec.global.topologySpreadConstraints ({advice}; see "
                f"docs/racks.md#zookeeper-and-oxia-across-zones)")))
    else:
        members = [w for w in found if w["role"] == "zookeeper"]
        total = sum(w["replicas"] for w in members)
        most = min(total, sum(domains.per_domain(cluster, w, "zone") for w in members))
        if total >= 3 and total - most < total // 2 + 1:
            findings.append(warning("spec.zookeeper.topologySpreadConstraints", (
                f"the cluster is placed across zones, but {_why(members, 'ZooKeeper', zone_key)}"
                f": one zone can hold {most} of its {total} members, and losing that zone loses "
                f"the quorum. Set {advice} on spec.zookeeper "
                f"(docs/racks.md#zookeeper-and-oxia-across-zones)")))
    findings.extend(_bookies(cluster, found, objects))
    return findings


def _bookies(cluster: Cluster, found: list[dict], objects: list) -> list[SpecError]:
    """Bookie sets without rack that one zone may hold whole, when that leaves fewer bookies
    than a ledger's ensemble (racked sets are kept in their rack's zone on purpose)."""
    from . import domains

    bookies = [w for w in found if w["role"] == "bookkeeper"]
    loose = [w for w in bookies if not w["rack"] and w["replicas"] > 1
             and domains.per_domain(cluster, w, "zone") >= w["replicas"]]
    if not loose:
        return []
    total = sum(w["replicas"] for w in bookies)
    lost, _, _ = domains.worst_loss(cluster, bookies, "zone")
    ensembles = [domains.ledger_settings(b, objects)["managedLedgerDefaultEnsembleSize"]
                 for b in found if b["role"] == "broker"]
    ensemble = max(ensembles or [domains.PULSAR_DEFAULTS["managedLedgerDefaultEnsembleSize"]])
    if total - lost >= ensemble:
        return []
    names_ = ", ".join(w["name"] for w in loose)
    zone_key = cluster.glob["topologyKeys"]["zone"]
    return [warning("spec.bookkeeper.topologySpreadConstraints", (
        f"the cluster is placed across zones, but the bookies of {names_} have no rack and "
        + (f"zone rules that do not rule it out ({WEAK_RULES})"
           if _weak_zone_rule(loose, zone_key) else "no zone rule")
        + f": one zone can hold {lost} of the {total} bookies, leaving fewer than the "
        f"ensemble of {ensemble}. Map the set to a zone rack or spread it over zones with "
        f"minDomains (docs/racks.md#zookeeper-and-oxia-across-zones)"))]
