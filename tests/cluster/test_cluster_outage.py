"""Issue 12, point 4: a zone outage on `fixtures/production.yaml` (three zone racks, two nodes per
zone, exactly what its sets need).

1. Drain: `kubectl drain` of the zone's two nodes. The real eviction API applies our
   PodDisruptionBudgets: at no moment (sampled every 0.2 s) has any budget fewer healthy pods than
   it allows, the evictions beyond the budget are refused, and the evicted pods stay Pending (their
   volumes and the rack rules keep them in the drained zone).
2. Loss: the zone's nodes are deleted, their pods removed as the pod garbage collector would
   (force-deleted at once instead of after its 40 s quarantine). ZooKeeper keeps a quorum, the
   other racks keep every bookie, broker and proxy (the very same pods), and no pod of the lost
   rack moves to another zone. A per-zone table of what was lost and what stayed is printed.
3. Recovery: the nodes come back (same names, same zone): everything is Running again.

`krm-pulsar explain --output json` of the same input is held against both (explain_check.py):
its racks and per-set pods against the placement before the drain, its zone-loss verdicts
against what the loss of this zone left and what the loss of each other zone would leave by the
placement; a per-zone comparison is printed.
"""

from __future__ import annotations

import collections
import threading
import time

import pytest

from . import explain_check, harness, workloads
from .report import NOTES

pytestmark = pytest.mark.cluster

NAMESPACE = "outage"
LOST_RACK = "zone-a"  # the rack (of production.yaml) whose zone fails


class Outage:
    def __init__(self, cp, rendered):
        self.cp = cp
        self.rendered = rendered
        self.zone = None
        self.nodes: list[str] = []
        self.before: list[workloads.PodPlace] = []
        self.uids_before: dict[str, str] = {}
        self.deleted_nodes = False
        self.after: list[explain_check.Placed] | None = None  # Running once the loss settled


def _uids(cp) -> dict[str, str]:
    return {p["metadata"]["name"]: p["metadata"]["uid"]
            for p in cp.items(f"/api/v1/namespaces/{NAMESPACE}/pods")}


@pytest.fixture(scope="module")
def outage(control_plane):
    rendered = workloads.render_config(workloads.fixture_config("production", NAMESPACE))
    workloads.deploy(control_plane, rendered, NAMESPACE)
    problems = workloads.wait_settled(control_plane, NAMESPACE, timeout=60)
    assert not problems, "\n".join(problems)
    state = Outage(control_plane, rendered)
    state.before = [p for p in workloads.pods(control_plane, NAMESPACE) if p.owner_kind != "Job"]
    state.uids_before = _uids(control_plane)
    zones = {p.zone for p in state.before if p.labels.get("rack") == LOST_RACK}
    assert len(zones) == 1, zones
    state.zone = zones.pop()
    state.nodes = sorted(n["metadata"]["name"] for n in control_plane.nodes()
                         if n["metadata"]["labels"]["topology.kubernetes.io/zone"] == state.zone)
    per_zone = collections.Counter(n["metadata"]["labels"]["topology.kubernetes.io/zone"]
                                   for n in control_plane.nodes())
    NOTES.append(f"outage: rack {LOST_RACK} runs in {state.zone} on {state.nodes}; nodes per "
                 f"zone {dict(per_zone)}")
    yield state
    # Whatever happened, the next module gets all nodes back, schedulable.
    missing = [n for n in state.nodes if not control_plane.get(f"/api/v1/nodes/{n}")]
    if missing:
        control_plane.add_nodes([(harness.zone_of_node(n), int(n.rsplit("-", 1)[1]))
                                 for n in missing])
    control_plane.kubectl("uncordon", *state.nodes)
    workloads.teardown(control_plane, [NAMESPACE], [rendered])


def _healthy(pod: dict) -> bool:
    return (pod.get("status", {}).get("phase") == "Running"
            and not pod["metadata"].get("deletionTimestamp")
            and any(c["type"] == "Ready" and c["status"] == "True"
                    for c in pod.get("status", {}).get("conditions", [])))


def _matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_drain_evicts_no_more_than_each_budget_allows(outage):
    cp = outage.cp
    budgets = cp.items(f"/apis/policy/v1/namespaces/{NAMESPACE}/poddisruptionbudgets")
    assert budgets
    lowest: dict[str, int] = {}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            pods = [p for p in cp.items(f"/api/v1/namespaces/{NAMESPACE}/pods") if _healthy(p)]
            for pdb in budgets:
                name = pdb["metadata"]["name"]
                healthy = sum(1 for p in pods if _matches(pdb["spec"]["selector"],
                                                          p["metadata"].get("labels", {})))
                lowest[name] = min(lowest.get(name, healthy), healthy)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        drain = cp.kubectl("drain", *outage.nodes, "--ignore-daemonsets", "--delete-emptydir-data",
                           "--timeout=12s", check=False, timeout=60)
    finally:
        stop.set()
        sampler.join()
    refused = drain.stderr.count("would violate the pod's disruption budget")
    NOTES.append(f"outage drain of {outage.nodes}: exit {drain.returncode}, {refused} refused "
                 "evictions (\"Cannot evict pod as it would violate the pod's disruption budget\")")
    # The zone's racked sets have two pods there and a budget of one: the drain cannot finish.
    assert drain.returncode != 0 and refused, drain.stderr + drain.stdout
    evicted = [line for line in drain.stdout.splitlines() if line.endswith(" evicted")]
    assert evicted, drain.stdout
    too_low = {}
    for pdb in cp.items(f"/apis/policy/v1/namespaces/{NAMESPACE}/poddisruptionbudgets"):
        name = pdb["metadata"]["name"]
        desired = pdb["status"]["desiredHealthy"]
        NOTES.append(f"outage drain budget {name}: expected {pdb['status']['expectedPods']}, "
                     f"desired healthy {desired}, lowest healthy seen {lowest.get(name)}")
        if lowest.get(name, 0) < desired:
            too_low[name] = (lowest.get(name), desired)
    assert not too_low, f"budgets broken during the drain (lowest, desired): {too_low}"


def test_zone_loss_keeps_quorum_and_the_other_racks(outage):
    cp = outage.cp
    if not cp.get(f"/api/v1/nodes/{outage.nodes[0]}"):
        pytest.fail("the nodes are already gone")
    cp.delete_nodes(outage.nodes)
    orphans = [p["metadata"]["name"] for p in cp.items(f"/api/v1/namespaces/{NAMESPACE}/pods")
               if p["spec"].get("nodeName") in outage.nodes]
    if orphans:
        # what the pod garbage collector does 40 s after a node object disappears
        cp.kubectl("delete", "pod", "-n", NAMESPACE, "--force", "--grace-period=0", *orphans)

    def stable():
        pods = cp.items(f"/api/v1/namespaces/{NAMESPACE}/pods")
        for pod in pods:
            if pod["spec"].get("nodeName"):
                if pod["spec"]["nodeName"] in outage.nodes or not (
                        _healthy(pod) or pod["status"].get("phase") == "Succeeded"):
                    return None
            elif "no FailedScheduling" in workloads.last_scheduling_failure(
                    cp, NAMESPACE, pod["metadata"]["name"]):
                return None
        return pods
    cp.wait_for(stable, "every pod Running elsewhere or refused by the scheduler", timeout=60)

    after = [p for p in workloads.pods(cp, NAMESPACE) if p.owner_kind != "Job"]
    outage.after = explain_check.placed([p for p in after if p.phase == "Running"])
    uids_after = _uids(cp)
    _table(outage, after)

    zookeeper = [p for p in after if p.labels.get("component") == "zookeeper"]
    ensemble = sum(1 for p in outage.before if p.labels.get("component") == "zookeeper")
    running = sum(1 for p in zookeeper if p.node)
    assert running >= ensemble // 2 + 1, f"ZooKeeper lost its quorum: {running} of {ensemble}"

    kept, moved = [], []
    for pod in outage.before:
        rack = pod.labels.get("rack")
        if rack and rack != LOST_RACK:
            if uids_after.get(pod.name) != outage.uids_before[pod.name]:
                kept.append(f"{pod.name} was replaced or lost")
    for pod in after:
        if pod.labels.get("rack") == LOST_RACK and pod.node:
            moved.append(f"{pod.name} runs in {pod.zone}")
    assert not kept, f"the other racks lost pods: {kept}"
    assert not moved, f"pods of rack {LOST_RACK} left their zone: {moved}"


def _table(outage, after) -> None:
    def count(pods):
        table = collections.defaultdict(collections.Counter)
        for pod in pods:
            if pod.node:
                table[pod.zone][pod.labels.get("component", "?")] += 1
        return table
    before, now = count(outage.before), count(after)
    pending = collections.Counter(p.labels.get("component", "?") for p in after if not p.node)
    components = sorted({c for t in (before, now) for z in t.values() for c in z})
    lines = [f"{'zone':<8}" + "".join(f"{c:>14}" for c in components)]
    for zone in harness.ZONES:
        mark = " (lost)" if zone == outage.zone else ""
        lines.append(f"{zone:<8}" + "".join(
            f"{before[zone][c]:>7} -> {now[zone][c]:<3}" for c in components) + mark)
    lines.append(f"{'pending':<8}" + "".join(f"{pending[c]:>14}" for c in components))
    NOTES.append("outage per zone, Running pods before -> after the loss of "
                 f"{outage.zone}:\n" + "\n".join(lines))


def _explain(outage) -> dict:
    return explain_check.explain_json(workloads.fixture_config("production", NAMESPACE))


def test_explain_matches_the_schedulers_placement(outage):
    report = _explain(outage)
    before = explain_check.placed(outage.before)
    zones = explain_check.rack_zones(report, before)
    NOTES.append(f"explain production: racks onto observed zones {zones}")
    problems = explain_check.placement_problems(report, before)
    problems += explain_check.threshold_problems(
        report, explain_check.thresholds(outage.cp, NAMESPACE))
    assert not problems, "\n".join(problems)
    assert zones[LOST_RACK] == [outage.zone], zones


def test_explain_verdicts_match_the_zone_loss(outage):
    """The zone this module lost, as it was observed; the other two by the placement."""
    if outage.after is None:
        pytest.fail("the zone loss was not observed")
    report = _explain(outage)
    before = explain_check.placed(outage.before)
    limits = explain_check.thresholds(outage.cp, NAMESPACE)
    observed = {zone: explain_check.observed_loss(report, before, zone, limits,
                                                  outage.after if zone == outage.zone else None)
                for zone in harness.ZONES}
    NOTES.append("explain production against each zone's loss (total->left at the loss+back, "
                 "verdict):\n" + explain_check.comparison_table(
                     report, observed, explain_check.rack_zones(report, before), {outage.zone}))
    predicted = explain_check.observed_loss(report, before, outage.zone, limits)
    lost = observed[outage.zone]
    moved = {kind: (lost[kind], predicted[kind]) for kind in explain_check.KINDS
             if lost[kind]["left"] - lost[kind]["back"] != predicted[kind]["left"]}
    assert not moved, f"the loss took more than the zone's pods: {moved}"
    problems = explain_check.back_problems(report, lost)
    problems += explain_check.loss_problems(report, observed)
    assert not problems, "\n".join(problems)


def test_everything_runs_again_when_the_zone_returns(outage):
    cp = outage.cp
    missing = [n for n in outage.nodes if not cp.get(f"/api/v1/nodes/{n}")]
    if missing:
        cp.add_nodes([(harness.zone_of_node(n), int(n.rsplit("-", 1)[1])) for n in missing])
    cp.kubectl("uncordon", *outage.nodes)
    problems = workloads.wait_settled(cp, NAMESPACE, timeout=90)
    assert not problems, "\n".join(problems)
    back = [p for p in workloads.pods(cp, NAMESPACE) if p.labels.get("rack") == LOST_RACK]
    assert back and all(p.zone == outage.zone for p in back), [(p.name, p.zone) for p in back]
