"""`krm-pulsar explain --output json` held against what the real scheduler did and what a zone
outage showed (docs/racks.md#checked-against-the-real-scheduler).

The comparisons are plain data in and out; the readers at the end take them off the API server
(the pods' labels, zone and node, the broker settings, the ZooKeeper ensemble) and run
`krm-pulsar explain --output json`. The verdicts of an
observed zone loss are computed here from what is left, by the rules docs/racks.md states
(majority of the ZooKeeper pods, at least an ensemble of bookies and, when enforced, the minimum
of racks, at least one broker and, when rendered, one proxy), with thresholds read from the
cluster, not from the report; then compared with the report's worst case:

- placement: every pod belongs to a workload of the report, each workload has its replicas,
  no zone or node holds more of its pods than `maxPodsPerDomain`, `neverWith` and `pinned` hold,
  racks apart from the other racks share no zone, and each rack maps onto the zones it took;
- loss: for every zone, each kind keeps at least the report's `left`, and where the report says
  a kind continues it does; the worst zone loses exactly the report's `lost`, unless the report
  names the workloads that would have to share that zone under "Not guaranteed" (then the
  scheduler did better than the worst case, which the report does not promise); the report's
  thresholds are the cluster's.
"""

from __future__ import annotations

import collections
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import harness, workloads

KINDS = ("metadataStore", "bookkeeper", "broker", "proxy", "autorecovery")
WRITE_KINDS = ("metadataStore", "bookkeeper", "broker", "proxy")
ROLES = {"metadataStore": ("zookeeper",), "bookkeeper": ("bookkeeper",), "broker": ("broker",),
         "proxy": ("proxy",), "autorecovery": ("autorecovery",)}


@dataclass
class Placed:
    """One scheduled pod: its labels and where it runs."""
    name: str
    labels: dict
    zone: str
    node: str


@dataclass
class Thresholds:
    """What the cluster's own objects say a loss must leave (read from the API server)."""
    zookeeper_replicas: int
    ensemble: int
    write_quorum: int
    ack_quorum: int
    min_racks: int
    min_racks_enforced: bool


def workload_of(report: dict, labels: dict) -> dict | None:
    """The report's workload whose pod labels the pod carries (the most specific one: a set's
    pods also carry the labels of the component's default workload)."""
    matches = [w for w in report["workloads"]
               if all(labels.get(k) == v for k, v in w["podLabels"].items())]
    return max(matches, key=lambda w: len(w["podLabels"]), default=None)


def _by_workload(report: dict, placed: list[Placed]) -> dict[str, list[Placed]]:
    out: dict[str, list[Placed]] = {w["name"]: [] for w in report["workloads"]}
    for pod in placed:
        workload = workload_of(report, pod.labels)
        if workload is not None:
            out[workload["name"]].append(pod)
    return out


def rack_zones(report: dict, placed: list[Placed]) -> dict[str, list[str]]:
    """Each of the report's racks mapped onto the zones its pods took."""
    pods = _by_workload(report, placed)
    return {rack["name"]: sorted({p.zone for name in rack["workloads"] for p in pods[name]})
            for rack in report["racks"]}


def placement_problems(report: dict, placed: list[Placed]) -> list[str]:
    problems = [f"pod {p.name} belongs to no workload of the report" for p in placed
                if workload_of(report, p.labels) is None]
    pods = _by_workload(report, placed)
    for workload in report["workloads"]:
        mine = pods[workload["name"]]
        if workload["replicasFixed"] and len(mine) != workload["replicas"]:
            problems.append(f"{workload['name']}: {len(mine)} pods scheduled, the report counts "
                            f"{workload['replicas']}")
        for level, attribute in (("zone", "zone"), ("node", "node")):
            rule = workload[level]
            counts = collections.Counter(getattr(p, attribute) for p in mine)
            for domain, count in counts.items():
                if count > rule["maxPodsPerDomain"]:
                    problems.append(f"{workload['name']}: {count} pods in {level} {domain}, the "
                                    f"report allows at most {rule['maxPodsPerDomain']}")
            if rule["pinned"] and set(counts) - set(rule["pinned"]):
                problems.append(f"{workload['name']}: pods in {sorted(set(counts))}, the report "
                                f"pins it to {rule['pinned']}")
            for other in rule["neverWith"]:
                shared = set(counts) & {getattr(p, attribute) for p in pods[other]}
                if shared:
                    problems.append(f"{workload['name']} and {other} share {level}s "
                                    f"{sorted(shared)}, the report says never")
            if rule["together"] == "required" and len(counts) > 1:
                problems.append(f"{workload['name']}: pods in {len(counts)} {level}s, the report "
                                f"says one")
    zones = rack_zones(report, placed)
    for rack in report["racks"]:
        if rack["zone"]["apartFromOtherRacks"]:
            for other, taken in zones.items():
                shared = set(taken) & set(zones[rack["name"]])
                if other != rack["name"] and shared:
                    problems.append(f"racks {rack['name']} and {other} share zones "
                                    f"{sorted(shared)}, the report keeps them apart")
        if rack["zone"]["together"] == "required" and len(zones[rack["name"]]) > 1:
            problems.append(f"rack {rack['name']} spans {zones[rack['name']]}, the report says "
                            "one zone")
    return problems


def observed_loss(report: dict, before: list[Placed], zone: str, thresholds: Thresholds,
                  after: list[Placed] | None = None) -> dict:
    """The verdicts of losing `zone` as observed. `before`: every pod as scheduled; `after`: the
    pods Running once a real loss settled (None: judged by the placement alone, nothing comes
    back). `lost` are the pods `zone` held, `back` the pods that came up elsewhere after the loss
    (new names), `left` what runs then."""
    def role(pod):
        workload = workload_of(report, pod.labels)
        return workload["role"] if workload else None

    names_before = {p.name for p in before}
    if after is None:
        after = [p for p in before if p.zone != zone]
    out: dict = {}
    for kind in KINDS:
        mine = [p for p in before if role(p) in ROLES[kind]]
        still = [p for p in after if role(p) in ROLES[kind]]
        out[kind] = {"total": len(mine), "lost": sum(1 for p in mine if p.zone == zone),
                     "left": len(still),
                     "back": sum(1 for p in still if p.name not in names_before)}
    store = out["metadataStore"]
    store["needed"] = thresholds.zookeeper_replicas // 2 + 1
    store["continues"] = store["total"] == 0 or store["left"] >= store["needed"]
    bookies = out["bookkeeper"]
    racks_left = {p.labels.get("rack") for p in after if role(p) == "bookkeeper"}
    bookies["racksLeft"] = len(racks_left)
    bookies["continues"] = bookies["total"] == 0 or (
        bookies["left"] >= thresholds.ensemble
        and (not thresholds.min_racks_enforced or len(racks_left) >= thresholds.min_racks))
    out["broker"]["continues"] = out["broker"]["left"] > 0
    out["proxy"]["continues"] = out["proxy"]["total"] == 0 or out["proxy"]["left"] > 0
    out["autorecovery"]["continues"] = True
    out["writesContinue"] = all(out[k]["continues"] for k in WRITE_KINDS)
    return out


def _noted(report: dict, names: list[str]) -> list[str]:
    """The "Not guaranteed" sentences about any of these workloads or their racks."""
    racks = {w["rack"] for w in report["workloads"] if w["name"] in names and w["rack"]}
    subjects = set(names) | {f"rack {r}" for r in racks}
    return [note for note in report["notGuaranteed"]
            if note.split(":", 1)[0] in subjects]


def threshold_problems(report: dict, thresholds: Thresholds) -> list[str]:
    """The report's quorum and ledger settings against the cluster's objects."""
    problems = []
    store = report["outages"]["zone"]["worstCase"]["metadataStore"]
    if store["store"] == "zookeeper" and store["total"] != thresholds.zookeeper_replicas:
        problems.append(f"ZooKeeper: the report counts {store['total']}, the StatefulSet has "
                        f"{thresholds.zookeeper_replicas}")
    for ledger in report["outages"]["zone"]["worstCase"]["bookkeeper"]["ledgers"]:
        seen = (ledger["ensemble"], ledger["writeQuorum"], ledger["ackQuorum"],
                ledger["minRacksPerWriteQuorum"], ledger["minRacksEnforced"])
        real = (thresholds.ensemble, thresholds.write_quorum, thresholds.ack_quorum,
                thresholds.min_racks, thresholds.min_racks_enforced)
        if seen != real:
            problems.append(f"brokers {ledger['brokers']}: the report reads (ensemble, write, "
                            f"ack, min racks, enforced) {seen}, the ConfigMaps say {real}")
    return problems


def loss_problems(report: dict, observed: dict[str, dict]) -> list[str]:
    """`observed`: zone -> observed_loss(...). The report's zone worst case against them."""
    worst = report["outages"]["zone"]["worstCase"]
    problems = []
    for kind in KINDS:
        predicted = worst[kind]
        for zone, seen in observed.items():
            if seen[kind]["total"] != predicted["total"]:
                problems.append(f"{kind}: {seen[kind]['total']} pods in the cluster, the report "
                                f"counts {predicted['total']}")
            if seen[kind]["left"] < predicted["left"]:
                problems.append(f"{kind}: losing {zone} left {seen[kind]['left']}, the report's "
                                f"worst case leaves {predicted['left']}")
            if predicted["continues"] and not seen[kind]["continues"]:
                problems.append(f"{kind}: stops when {zone} is lost, the report says it "
                                "continues")
        most = max(seen[kind]["lost"] for seen in observed.values())
        if most != predicted["lost"] and not (most < predicted["lost"]
                                              and _noted(report, predicted["lostWith"])):
            problems.append(f"{kind}: the worst zone lost {most}, the report's worst case "
                            f"{predicted['lost']} ({predicted['lostWith']}), and the report "
                            "does not say the scheduler decides it")
    writes = report["outages"]["zone"]["writesContinue"]
    if writes and not all(seen["writesContinue"] for seen in observed.values()):
        problems.append("writes stop in an observed zone loss, the report says they continue")
    if not writes and all(seen["writesContinue"] for seen in observed.values()):
        stopping = [k for k in WRITE_KINDS if not worst[k]["continues"]]
        if not all(_noted(report, worst[k]["lostWith"]) for k in stopping):
            problems.append(f"the report says writes may stop ({stopping}), every observed zone "
                            "loss kept them, and the report does not say the scheduler decides")
    return problems


def comparison_table(report: dict, observed: dict[str, dict], zone_racks: dict[str, list[str]],
                     real: set[str]) -> str:
    """Per zone: explain's worst case beside what losing that zone left (total -> left at the
    loss, +N back in another zone, the verdict); "deleted": the zone's nodes were deleted,
    "placement": judged by the placement before the loss."""
    worst = report["outages"]["zone"]["worstCase"]
    racks_in = collections.defaultdict(list)
    for rack, zones in zone_racks.items():
        for zone in zones:
            racks_in[zone].append(rack)

    def cell(entry):
        verdict = "ok" if entry["continues"] else "STOP"
        back = entry.get("back", entry.get("comesBack", 0))
        at_loss = entry["left"] - entry.get("back", 0)
        return f"{entry['total']}->{at_loss}{f'+{back}' if back else ''} {verdict}"

    rows = [("zone", "racks", "how", "ZooKeeper", "bookies", "brokers", "proxies",
             "autorecovery", "writes")]
    rows.append(("explain", "(worst)", "report", *(cell(worst[k]) for k in KINDS),
                 "continue" if report["outages"]["zone"]["writesContinue"] else "may stop"))
    for zone in sorted(observed):
        seen = observed[zone]
        rows.append((zone, ",".join(sorted(racks_in[zone])) or "-",
                     "deleted" if zone in real else "placement",
                     *(cell(seen[k]) for k in KINDS),
                     "continue" if seen["writesContinue"] else "stop"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


# --- reading the cluster ------------------------------------------------------------------------

# Pulsar's broker.conf defaults (ServiceConfiguration) for the keys a broker may leave out
PULSAR_DEFAULTS = {"managedLedgerDefaultEnsembleSize": "2", "managedLedgerDefaultWriteQuorum": "2",
                   "managedLedgerDefaultAckQuorum": "2",
                   "bookkeeperClientMinNumRacksPerWriteQuorum": "2",
                   "bookkeeperClientEnforceMinNumRacksPerWriteQuorum": "false"}


def explain_json(config: dict) -> dict:
    """`krm-pulsar explain --output json` of one PulsarCluster (the installed program)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pulsar-cluster.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        result = subprocess.run([str(workloads.BIN_DIR / "krm-pulsar"), "explain", "--output",
                                 "json", str(path)], check=False, capture_output=True, text=True,
                                env=workloads.tool_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    report, = json.loads(result.stdout)["clusters"]
    return report


def placed(pods: list[workloads.PodPlace]) -> list[Placed]:
    """The pods bound to a node, Jobs' pods left out (no workload of the report)."""
    return [Placed(p.name, p.labels, p.zone or "", p.node) for p in pods
            if p.node and p.owner_kind != "Job"]


def thresholds(cp: harness.ControlPlane, namespace: str) -> Thresholds:
    """The ZooKeeper ensemble and the managed-ledger settings as the API server holds them:
    each broker StatefulSet's ConfigMaps (envFrom), Pulsar's defaults for what they leave out.
    Every broker set must agree (the fixtures here have one setting)."""
    sets = cp.items(f"/apis/apps/v1/namespaces/{namespace}/statefulsets")
    zookeeper = [s for s in sets if s["spec"]["template"]["metadata"]["labels"].get(
        "component", "").endswith("zookeeper")]
    assert len(zookeeper) == 1, [s["metadata"]["name"] for s in zookeeper]
    maps = {m["metadata"]["name"]: m.get("data") or {}
            for m in cp.items(f"/api/v1/namespaces/{namespace}/configmaps")}
    seen = set()
    for broker in sets:
        if not broker["spec"]["template"]["metadata"]["labels"].get("component", "").endswith(
                "broker"):
            continue
        data: dict = {}
        for container in broker["spec"]["template"]["spec"]["containers"]:
            for source in container.get("envFrom") or []:
                data.update(maps.get((source.get("configMapRef") or {}).get("name"), {}))

        def value(key, data=data):
            for spelled in (key, f"PULSAR_PREFIX_{key}"):
                if data.get(spelled) not in (None, ""):
                    return str(data[spelled]).strip()
            return PULSAR_DEFAULTS[key]
        seen.add(tuple(value(k) for k in PULSAR_DEFAULTS))
    assert len(seen) == 1, f"broker sets with different ledger settings: {seen}"
    ensemble, write, ack, racks, enforced = seen.pop()
    return Thresholds(zookeeper[0]["spec"]["replicas"], int(ensemble), int(write), int(ack),
                      int(racks), enforced.lower() == "true")


def _healthy(pod: dict) -> bool:
    return (pod.get("status", {}).get("phase") == "Running"
            and not pod["metadata"].get("deletionTimestamp")
            and any(c["type"] == "Ready" and c["status"] == "True"
                    for c in pod.get("status", {}).get("conditions", [])))


def lose_nodes(cp: harness.ControlPlane, namespace: str, nodes: list[str]) -> None:
    """A zone outage as test_cluster_outage.py plays it: the nodes are deleted, their pods
    removed as the pod garbage collector would (at once instead of after 40 s), then wait until
    every pod runs elsewhere or the scheduler has refused it."""
    cp.delete_nodes(nodes)
    orphans = [p["metadata"]["name"] for p in cp.items(f"/api/v1/namespaces/{namespace}/pods")
               if p["spec"].get("nodeName") in nodes]
    if orphans:
        cp.kubectl("delete", "pod", "-n", namespace, "--force", "--grace-period=0", *orphans)

    def stable():
        pods = cp.items(f"/api/v1/namespaces/{namespace}/pods")
        for pod in pods:
            if pod["spec"].get("nodeName"):
                if pod["spec"]["nodeName"] in nodes or not (
                        _healthy(pod) or pod["status"].get("phase") == "Succeeded"):
                    return None
            elif "no FailedScheduling" in workloads.last_scheduling_failure(
                    cp, namespace, pod["metadata"]["name"]):
                return None
        return pods
    cp.wait_for(stable, "every pod Running elsewhere or refused by the scheduler", timeout=60)


def running(cp: harness.ControlPlane, namespace: str) -> list[Placed]:
    return placed([p for p in workloads.pods(cp, namespace) if p.phase == "Running"])


def back_problems(report: dict, observed: dict) -> list[str]:
    """A real loss's replacements against the report's `comesBack`: none where it counts none,
    all where it counts every lost pod back."""
    problems = []
    for kind in KINDS:
        predicted, seen = report["outages"]["zone"]["worstCase"][kind], observed[kind]
        if predicted["comesBack"] == 0 and seen["back"]:
            problems.append(f"{kind}: {seen['back']} came back in another zone, the report "
                            "says none can")
        if predicted["lost"] and predicted["comesBack"] == predicted["lost"] \
                and seen["back"] != seen["lost"]:
            problems.append(f"{kind}: {seen['back']} of {seen['lost']} came back, the report "
                            "says every lost pod does")
    return problems
