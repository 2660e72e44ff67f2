"""Issue 15's proof for `krm-pulsar explain`: its report of `fixtures/three-zones.yaml` against
the real scheduler's placement and against each zone's loss, one zone after the other (the zone's
nodes deleted as in test_cluster_outage.py, the verdicts read off what still runs, then the
zone back and everything settled again). test_cluster_outage.py holds the production fixture's
report against its own outage. How they are compared: explain_check.py and
docs/racks.md#checked-against-the-real-scheduler.
"""

from __future__ import annotations

import pytest

from . import explain_check, harness, workloads
from .report import NOTES

pytestmark = pytest.mark.cluster

NAMESPACE = "explain-three-zones"
FIXTURE = "three-zones"


class Observed:
    def __init__(self, cp, config, rendered):
        self.cp = cp
        self.config = config
        self.rendered = rendered
        self.report: dict = {}
        self.before: list[explain_check.Placed] = []
        self.thresholds: explain_check.Thresholds | None = None
        self.losses: dict[str, dict] = {}
        self.nodes: list[str] = []  # every node before the first loss


@pytest.fixture(scope="module")
def observed(control_plane):
    config = workloads.fixture_config(FIXTURE, NAMESPACE)
    rendered = workloads.render_config(config)
    workloads.deploy(control_plane, rendered, NAMESPACE)
    problems = workloads.wait_settled(control_plane, NAMESPACE, timeout=60)
    assert not problems, "\n".join(problems)
    state = Observed(control_plane, config, rendered)
    state.report = explain_check.explain_json(config)
    state.before = explain_check.running(control_plane, NAMESPACE)
    state.thresholds = explain_check.thresholds(control_plane, NAMESPACE)
    state.nodes = sorted(n["metadata"]["name"] for n in control_plane.nodes())
    yield state
    gone = set(state.nodes) - {n["metadata"]["name"] for n in control_plane.nodes()}
    if gone:
        control_plane.add_nodes([(harness.zone_of_node(n), int(n.rsplit("-", 1)[1]))
                                 for n in sorted(gone)])
    workloads.teardown(control_plane, [NAMESPACE], [rendered])


def test_explain_matches_the_schedulers_placement(observed):
    report = observed.report
    zones = explain_check.rack_zones(report, observed.before)
    NOTES.append(f"explain {FIXTURE}: racks onto observed zones {zones}")
    problems = explain_check.placement_problems(report, observed.before)
    problems += explain_check.threshold_problems(report, observed.thresholds)
    assert not problems, "\n".join(problems)
    # every rack took exactly one zone, and three racks the three zones
    assert sorted(z for taken in zones.values() for z in taken) == sorted(harness.ZONES), zones


@pytest.mark.parametrize("zone", harness.ZONES)
def test_losing_a_zone_leaves_what_explain_says(observed, zone):
    cp = observed.cp
    nodes = [n for n in observed.nodes if harness.zone_of_node(n) == zone]
    # the placement now: a Deployment's pods of an earlier lost zone came back under new names
    before = explain_check.running(cp, NAMESPACE)
    assert explain_check.rack_zones(observed.report, before) == explain_check.rack_zones(
        observed.report, observed.before)
    explain_check.lose_nodes(cp, NAMESPACE, nodes)
    after = explain_check.running(cp, NAMESPACE)
    seen = explain_check.observed_loss(observed.report, before, zone, observed.thresholds, after)
    observed.losses[zone] = seen
    # the zone comes back before judging, so that a failure leaves the next zone a whole cluster
    cp.add_nodes([(zone, int(n.rsplit("-", 1)[1])) for n in nodes])
    problems = workloads.wait_settled(cp, NAMESPACE, timeout=90)
    assert not problems, "\n".join(problems)
    back_in_zone = [p for p in explain_check.running(cp, NAMESPACE)
                    if p.name in {b.name for b in before if b.zone == zone}
                    and p.zone != zone]
    assert not back_in_zone, f"pods left their zone for good: {back_in_zone}"
    # at the loss, nothing but the zone's pods went: what runs elsewhere is the placement's
    # prediction plus what came back
    predicted = explain_check.observed_loss(observed.report, before, zone, observed.thresholds)
    for kind in explain_check.KINDS:
        assert seen[kind]["left"] - seen[kind]["back"] == predicted[kind]["left"], (
            kind, seen[kind], predicted[kind])
    problems = explain_check.back_problems(observed.report, seen)
    assert not problems, "\n".join(problems)


def test_explain_verdicts_match_every_zone_loss(observed):
    if set(observed.losses) != set(harness.ZONES):
        pytest.fail(f"zone losses observed: {sorted(observed.losses)}")
    report = observed.report
    NOTES.append(f"explain {FIXTURE} against each zone's loss (total->left at the loss+back, "
                 "verdict):\n" + explain_check.comparison_table(
                     report, observed.losses, explain_check.rack_zones(report, observed.before),
                     set(observed.losses)))
    problems = explain_check.loss_problems(report, observed.losses)
    assert not problems, "\n".join(problems)
    # the three-zone fixture survives any zone: the report says so and every loss showed it
    assert report["outages"]["zone"]["writesContinue"]
