"""``krm-pulsar explain``: where a PulsarCluster's pods can go, and what losing one zone or one
node leaves
(docs/racks.md#krm-pulsar-explain-the-placement-and-failure-domain-report).

Everything is read off what the render produced, not from a second model of placement: each
StatefulSet's and Deployment's replicas, pod labels and affinity (required and preferred pod
(anti-)affinity, required node affinity and node selectors on the zone and host labels), the
broker ConfigMaps' managed-ledger keys, and from the resolved spec only the topology keys and
the Oxia replication factor. The scheduler's choices are not known statically, so every loss
is the worst case the required rules allow; preferred rules and spread constraints are listed
as not guaranteed.

BookKeeper's side (checked with BookKeeper 4.17's RegionAwareEnsemblePlacementPolicy, the one
Pulsar's region awareness uses): a new ledger needs ``managedLedgerDefaultEnsembleSize``
writable bookies; the policy spreads copies over regions (racks here) where it can and falls
back to fewer racks unless ``bookkeeperClientEnforceMinNumRacksPerWriteQuorum`` is true.
"""

from __future__ import annotations

from . import names
from .placement.domains import (
    ENFORCE_MIN_RACKS,
    EXACT_LIMIT,
    LEVELS,
    PREFERRED,
    PULSAR_DEFAULTS,
    REGION_AWARE,
    REQUIRED,
    WORKLOAD_KINDS,
    affinity_terms,
    exclusive,
    ledger_settings,
    level_keys,
    per_domain,
    selects,
    spread_bound,
    spread_never_binds,
    workloads,
    worst_loss,
)

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .cluster import Cluster


# the kinds whose zone loss the report judges: an unruled zone spread of theirs is worth a note
SPREAD_BY_SCHEDULER = ("zookeeper", "bookkeeper", "broker", "proxy", "autorecovery",
                       names.OXIA_SERVER, names.OXIA_COORDINATOR)

__all__ = ["ENFORCE_MIN_RACKS", "EXACT_LIMIT", "LEVELS", "PREFERRED", "PULSAR_DEFAULTS",
           "REGION_AWARE", "REQUIRED", "WORKLOAD_KINDS", "exclusive", "explain",
           "ledger_settings", "per_domain", "report", "selects", "spread_bound", "text",
           "workloads", "worst_loss"]


def _together(cluster: Cluster, workload: dict, level: str) -> str:
    """``required``/``preferred``/``none``: whether the workload's pods gather in one domain of
    `level` with the pods their pod affinity selects (a rack's own pods)."""
    key = cluster.glob["topologyKeys"]["zone" if level == "zone" else "host"]
    for when, word in ((REQUIRED, "required"), (PREFERRED, "preferred")):
        for term in affinity_terms(workload["_affinity"], "podAffinity", when):
            if term.get("topologyKey") == key and selects(term.get("labelSelector"),
                                                          workload["podLabels"]):
                return word
    return "none"


def _preferred_apart(cluster: Cluster, workload: dict, level: str) -> bool:
    keys = level_keys(cluster, level)
    return any(term.get("topologyKey") in keys
               and selects(term.get("labelSelector"), workload["podLabels"])
               for term in affinity_terms(workload["_affinity"], "podAntiAffinity", PREFERRED))



# --- the report ---------------------------------------------------------------------------------


def report(cluster: Cluster, objects: list[dict]) -> dict:
    """The JSON document of ``explain --output json`` for one cluster (fields:
    docs/racks.md#the-json-report)."""
    found = workloads(cluster, objects)
    keys = cluster.glob["topologyKeys"]
    result = {
        "cluster": cluster.name,
        "namespace": cluster.namespace,
        "apiVersion": cluster.api_version,
        "topologyKeys": {"zone": keys["zone"], "node": keys["host"]},
        "workloads": [_workload_entry(cluster, w, found) for w in found],
        "racks": _racks(cluster, found),
        "ledgerSettings": _ledger_settings(found, objects),
        "outages": {level: _outage(cluster, found, objects, level) for level in LEVELS},
        "notGuaranteed": _not_guaranteed(cluster, found),
    }
    return result


def _workload_entry(cluster: Cluster, workload: dict, found: list[dict]) -> dict:
    entry = {key: workload[key] for key in ("kind", "name", "role", "set", "rack", "replicas",
                                            "replicasFixed", "podLabels")}
    for level in LEVELS:
        entry[level] = {
            "pinned": workload["zones" if level == "zone" else "nodes"],
            "maxPodsPerDomain": per_domain(cluster, workload, level),
            "together": _together(cluster, workload, level),
            "neverWith": [other["name"] for other in found if other is not workload
                          and exclusive(cluster, workload, other, level)],
        }
    return entry


def _racks(cluster: Cluster, found: list[dict]) -> list[dict]:
    racks = []
    for rack in sorted({w["rack"] for w in found if w["rack"]}):
        members = [w for w in found if w["rack"] == rack]
        others = [w for w in found if w["rack"] and w["rack"] != rack]
        entry: dict = {"name": rack, "workloads": [w["name"] for w in members]}
        for level in LEVELS:
            pins = {tuple(w["zones" if level == "zone" else "nodes"] or ()) for w in members}
            togethers = {_together(cluster, w, level) for w in members}
            entry[level] = {
                "pinned": list(pins.pop()) if len(pins) == 1 and () not in pins else None,
                "together": ("required" if togethers == {"required"} else
                             "preferred" if togethers <= {"required", "preferred"} else "none"),
                "apartFromOtherRacks": bool(others) and all(
                    exclusive(cluster, w, o, level) for w in members for o in others),
            }
        racks.append(entry)
    return racks


def _ledger_settings(found: list[dict], objects: list[dict]) -> list[dict]:
    """The settings of every broker workload, grouped by value."""
    groups: list[dict] = []
    for broker in (w for w in found if w["role"] == "broker"):
        settings = ledger_settings(broker, objects)
        for group in groups:
            if group["settings"] == settings:
                group["brokers"].append(broker["name"])
                break
        else:
            groups.append({"brokers": [broker["name"]], "settings": settings})
    return groups


def comes_back(cluster: Cluster, workload: dict, found: list[dict], level: str) -> bool:
    """Whether the controllers' replacements for its lost pods can run in another domain at
    once, whatever the other domains hold: no volume of the lost zone (a node's pods keep theirs
    only with ReadWriteMany), not pinned to one domain, kept apart from no other workload (a rack
    apart from the other racks finds every other zone taken in the worst case), and kept apart
    from itself only with one replica (docs/racks.md#comes-back)."""
    pinned = workload["zones" if level == "zone" else "nodes"]
    if workload["_zonalVolume"] or (pinned is not None and len(pinned) < 2):
        return False
    if _apart_from_itself(cluster, workload, level) and workload["replicas"] > 1:
        return False
    return not any(other is not workload and exclusive(cluster, workload, other, level)
                   for other in found)


def _apart_from_itself(cluster: Cluster, workload: dict, level: str) -> bool:
    """Whether no two pods of the workload may share a domain of `level`: a required
    anti-affinity to itself, or a DoNotSchedule spread constraint that lets a domain hold one
    of its pods, like the racked Deployments' own-node rule that replaces that anti-affinity
    (docs/racks.md#stateless-sets-own-host-spread)."""
    if exclusive(cluster, workload, workload, level):
        return True
    found = workload.get("_cluster") or [workload]
    return any(spread_bound(cluster, workload, constraint, level, found) == 1
               for constraint in workload["_spread"])


def _count(cluster: Cluster, found: list[dict], role: str, level: str) -> dict:
    group = [w for w in found if w["role"] == role]
    total = sum(w["replicas"] for w in group)
    lost, sharing, exact = worst_loss(cluster, group, level)
    back = min(lost, sum(per_domain(cluster, w, level) for w in sharing
                         if comes_back(cluster, w, found, level)))
    return {"total": total, "lost": lost, "left": total - lost, "exact": exact,
            "lostWith": [w["name"] for w in sharing], "comesBack": back}


def _outage(cluster: Cluster, found: list[dict], objects: list[dict], level: str) -> dict:
    """What losing the worst zone (or node) leaves, kind by kind, with verdicts."""
    verdicts: dict = {}
    if cluster.oxia:
        servers = _count(cluster, found, names.OXIA_SERVER, level)
        factor = cluster.spec["oxia"]["replicationFactor"]
        lost_replicas = min(servers["lost"], factor)
        coordinator = _count(cluster, found, names.OXIA_COORDINATOR, level)
        servers.update({
            "store": "oxia", "replicationFactor": factor,
            "replicasLeftPerShard": factor - lost_replicas, "needed": factor // 2 + 1,
            "coordinatorLost": coordinator["lost"] > 0,
        })
        majority = factor - lost_replicas >= factor // 2 + 1
        # one coordinator elects every shard leader: lost with a server, the shards that server
        # led have no leader until the coordinator runs again elsewhere
        pauses = majority and bool(coordinator["lost"] and servers["lost"])
        servers["continues"] = majority and not pauses
        servers["pausesUntilRescheduled"] = pauses
        verdicts["metadataStore"] = servers
    else:
        zookeeper = _count(cluster, found, "zookeeper", level)
        zookeeper.update({"store": "zookeeper", "needed": zookeeper["total"] // 2 + 1})
        zookeeper["continues"] = zookeeper["total"] == 0 or \
            zookeeper["left"] >= zookeeper["needed"]
        verdicts["metadataStore"] = zookeeper
    bookies = _count(cluster, found, "bookkeeper", level)
    bookie_workloads = [w for w in found if w["role"] == "bookkeeper"]
    racks = {w["rack"] for w in bookie_workloads}
    lost_racks = {w["rack"] for w in bookie_workloads if w["name"] in bookies["lostWith"]}
    # racks of which pods remain: a rack lost only in part still counts
    left_racks = {w["rack"] for w in bookie_workloads
                  if w["name"] not in bookies["lostWith"] or per_domain(
                      cluster, w, level) < w["replicas"]}
    bookies.update({"racks": len(racks), "racksLeft": len(left_racks),
                    "racksLost": sorted(r or "" for r in lost_racks - left_racks)})
    ledgers = []
    for group in _ledger_settings(found, objects):
        settings = group["settings"]
        ensemble = settings["managedLedgerDefaultEnsembleSize"]
        min_racks = settings["bookkeeperClientMinNumRacksPerWriteQuorum"]
        enforced = settings[ENFORCE_MIN_RACKS]
        continues = bookies["left"] >= ensemble and (not enforced or
                                                     len(left_racks) >= min_racks)
        ledgers.append({"brokers": group["brokers"], "ensemble": ensemble,
                        "writeQuorum": settings["managedLedgerDefaultWriteQuorum"],
                        "ackQuorum": settings["managedLedgerDefaultAckQuorum"],
                        "minRacksPerWriteQuorum": min_racks, "minRacksEnforced": enforced,
                        "racksBelowMinimum": len(left_racks) < min_racks,
                        "continues": continues})
    bookies["ledgers"] = ledgers
    bookies["continues"] = bookies["total"] == 0 or all(g["continues"] for g in ledgers)
    verdicts["bookkeeper"] = bookies
    brokers = _count(cluster, found, "broker", level)
    brokers["continues"] = brokers["left"] > 0
    verdicts["broker"] = brokers
    proxies = _count(cluster, found, "proxy", level)
    proxies["continues"] = proxies["total"] == 0 or proxies["left"] > 0
    verdicts["proxy"] = proxies
    autorecovery = _count(cluster, found, "autorecovery", level)
    autorecovery["continues"] = True  # re-replication waits; writes do not need it
    verdicts["autorecovery"] = autorecovery
    writes = all(verdicts[kind]["continues"]
                 for kind in ("metadataStore", "bookkeeper", "broker", "proxy"))
    return {"worstCase": verdicts, "writesContinue": writes}


def _not_guaranteed(cluster: Cluster, found: list[dict]) -> list[str]:
    """What the required rules leave to the scheduler, in words."""
    notes = []
    keys = cluster.glob["topologyKeys"]
    for rack in _racks(cluster, found):
        zone = rack["zone"]
        if zone["pinned"] or not (zone["apartFromOtherRacks"] or zone["together"] != "none"):
            continue
        note = f"rack {rack['name']}: which zone it gets is the scheduler's choice (no zone pinned)"
        if zone["together"] == "preferred":
            note += ("; its pods prefer one zone but may spread over several"
                     + (" that no other rack uses" if zone["apartFromOtherRacks"] else ""))
        notes.append(note)
    for workload in found:
        if (workload["role"] in SPREAD_BY_SCHEDULER and not workload["rack"]
                and workload["zones"] is None and per_domain(cluster, workload, "zone") > 1
                and not _preferred_apart(cluster, workload, "zone")
                and not any(c.get("topologyKey") == keys["zone"] for c in workload["_spread"])):
            notes.append(f"{workload['name']}: no zone rule; how its {workload['replicas']} pods "
                         "spread over zones is the scheduler's choice (its default spreading "
                         "usually separates them, nothing requires it); counted as if one zone "
                         "held them all")
        for level in LEVELS:
            if per_domain(cluster, workload, level) > 1 and _preferred_apart(
                    cluster, workload, level):
                notes.append(f"{workload['name']}: its pods prefer different "
                             f"{level}s (a preferred rule); counted as if they could share one")
        for constraint in workload["_spread"]:
            level = "zone" if constraint.get("topologyKey") == keys["zone"] else "node"
            if constraint.get("topologyKey") in (keys["zone"], keys["host"]) and spread_bound(
                    cluster, workload, constraint, level, workload["_cluster"]) is None \
                    and not spread_never_binds(constraint, workload["_cluster"]):
                # counted when it bounds the pods per domain whatever the nodes (DoNotSchedule
                # with minDomains, spread_bound), nothing to say when it counts no more pods
                # than maxSkew (a single pod without surge); else it depends on the domains
                notes.append(f"{workload['name']}: topology spread on "
                             f"{constraint.get('topologyKey')} (maxSkew "
                             f"{constraint.get('maxSkew')}) depends on how many domains the "
                             f"nodes have; not counted")
        if not workload["replicasFixed"]:
            notes.append(f"{workload['name']}: replicas are left to an autoscaler; counted as 1")
    return notes


# --- text ---------------------------------------------------------------------------------------


def _where(entry: dict, level: str, racked: bool) -> str:
    data = entry[level]
    if data["pinned"]:
        return f"{level} {', '.join(data['pinned'])}"
    together = {"required": "one " + level, "preferred": f"one {level} preferred",
                "none": f"any {level}s"}[data["together"]]
    if racked and data.get("apartFromOtherRacks"):
        together += ", no other rack"
    return together


def _kind_label(workload: dict) -> str:
    label = {"zookeeper": "ZooKeeper", "bookkeeper": "bookies", "broker": "brokers",
             "proxy": "proxies", "autorecovery": "autorecovery", "bastion": "bastion",
             "functionsWorker": "functions worker", names.OXIA_SERVER: "Oxia servers",
             names.OXIA_COORDINATOR: "Oxia coordinator"}.get(workload["role"] or "",
                                                             workload["name"])
    return f"{label} {workload['set']}" if workload["set"] and workload["rack"] else label


def text(document: dict) -> str:
    """The human-readable report of one cluster."""
    lines = [f"PulsarCluster {document['namespace'] + '/' if document['namespace'] else ''}"
             f"{document['cluster']}: zones by {document['topologyKeys']['zone']}, nodes by "
             f"{document['topologyKeys']['node']}", "", "Racks and zones (required rules; "
             "pods: replicas, per zone / per node: the most one zone / node can hold)"]
    rows = [("rack", "zone", "node", "pods of", "pods", "per zone", "per node")]
    by_name = {w["name"]: w for w in document["workloads"]}
    placed = set()
    for rack in document["racks"]:
        for index, name in enumerate(rack["workloads"]):
            workload = by_name[name]
            placed.add(name)
            rows.append((rack["name"] if index == 0 else "",
                         _where(rack, "zone", True) if index == 0 else "",
                         _where(rack, "node", True) if index == 0 else "",
                         _kind_label(workload), str(workload["replicas"]),
                         str(workload["zone"]["maxPodsPerDomain"]),
                         str(workload["node"]["maxPodsPerDomain"])))
    for workload in document["workloads"]:
        if workload["name"] not in placed:
            rows.append(("-", _where(workload, "zone", False), _where(workload, "node", False),
                         _kind_label(workload), str(workload["replicas"]),
                         str(workload["zone"]["maxPodsPerDomain"]),
                         str(workload["node"]["maxPodsPerDomain"])))
    lines.extend(_table(rows))
    for level in LEVELS:
        outage = document["outages"][level]
        lines += ["", f"Losing one {level} (worst case)"]
        lines.extend(_outage_lines(outage["worstCase"], level))
        lines.append(f"  => writes {'continue' if outage['writesContinue'] else 'may stop'}")
    if document["notGuaranteed"]:
        lines += ["", "Not guaranteed (left to the scheduler)"]
        lines.extend(f"  - {note}" for note in document["notGuaranteed"])
    return "\n".join(lines) + "\n"


def _left(entry: dict) -> str:
    return f"{entry['total']} -> {entry['left']} left" + ("" if entry["exact"] else " or more")


def _back(entry: dict, level: str) -> str:
    return f", {entry['comesBack']} back in another {level} at once" if entry["comesBack"] else ""


def _verdict(ok: bool) -> str:
    return "continues" if ok else "STOPS"


def _outage_lines(verdicts: dict, level: str) -> list[str]:
    rows = []
    store = verdicts["metadataStore"]
    if store["store"] == "zookeeper":
        if store["total"]:
            rows.append(("ZooKeeper", _verdict(store["continues"]),
                         f"{_left(store)}, quorum {store['needed']}"))
    else:
        detail = (f"{_left(store)}, {store['replicasLeftPerShard']} of "
                  f"{store['replicationFactor']} replicas per shard, majority {store['needed']}")
        if store["coordinatorLost"]:
            detail += ("; the one coordinator may go too: no shard leader is elected until it runs "
                       "again")
        verdict = "PAUSES" if store["pausesUntilRescheduled"] else _verdict(store["continues"])
        rows.append(("Oxia servers", verdict, detail))
    bookies = verdicts["bookkeeper"]
    if bookies["total"]:
        rows.append(("bookies", _verdict(bookies["continues"]), f"{_left(bookies)}, racks "
                     f"{bookies['racks']} -> {bookies['racksLeft']} left"))
        for ledger in bookies["ledgers"]:
            minimum = (f"min racks per write quorum {ledger['minRacksPerWriteQuorum']} "
                       + ("(enforced)" if ledger["minRacksEnforced"] else "(not enforced)"))
            note = ("; new ledgers span fewer racks" if ledger["racksBelowMinimum"]
                    and not ledger["minRacksEnforced"] else "")
            who = "" if len(bookies["ledgers"]) == 1 else f" ({', '.join(ledger['brokers'])})"
            rows.append(("", _verdict(ledger["continues"]), f"ensemble {ledger['ensemble']}, "
                         f"write quorum {ledger['writeQuorum']}, ack quorum "
                         f"{ledger['ackQuorum']}, {minimum}{note}{who}"))
    for kind, label in (("broker", "brokers"), ("proxy", "proxies")):
        entry = verdicts[kind]
        if entry["total"]:
            rows.append((label, _verdict(entry["continues"]), _left(entry) + _back(entry, level)))
    recovery = verdicts["autorecovery"]
    if recovery["total"]:
        waits = recovery["left"] + recovery["comesBack"] == 0
        rows.append(("autorecovery", "waits" if waits else "continues",
                     _left(recovery) + ("; re-replication of lost copies waits for it"
                                        if waits else _back(recovery, level))))
    return _table(rows)


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width)
                             for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows]


# --- entry --------------------------------------------------------------------------------------


def explain(config: dict) -> tuple[dict | None, list]:
    """``(report or None, findings)`` of one PulsarCluster: it is rendered first, so bad input
    gets exactly the findings a render gets."""
    from . import render
    from .cluster import Cluster

    objects, findings = render.render(config)
    if any(f.severity == "error" for f in findings):
        return None, findings
    spec, _ = render.load(config)
    if spec is None:  # pragma: no cover - render succeeded on the same input
        return None, findings
    return report(Cluster(spec, config), objects), findings
