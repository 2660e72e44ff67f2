"""Issue 15 items 2-4 judged by the real scheduler and controllers (docs/racks.md#pinning,
docs/racks.md#topology-spread-constraints, docs/autoscaling.md):

* `racks-pinned-zones`: every pod of a pinned rack lands in the rack's named zone, and the
  spread constraint over nodes keeps a set's pods on different nodes there;
* `placement-spread`: ZooKeeper and the bookies (three each, maxSkew 1 over zones,
  DoNotSchedule) get one pod per zone;
* `autoscaling-hpa`: workloads without `replicas` start at one pod and the HorizontalPodAutoscaler
  controller raises each to its minReplicas (below minReplicas it scales without metrics); the
  set without an autoscaler keeps its replicas.
"""

from __future__ import annotations

import collections
import concurrent.futures
import time

import pytest

from . import workloads
from .report import NOTES

pytestmark = pytest.mark.cluster

FIXTURES = ("racks-pinned-zones", "placement-spread", "autoscaling-hpa")


def _namespace(fixture: str) -> str:
    return f"feat-{fixture}"


@pytest.fixture(scope="module")
def placed(control_plane):
    def up(fixture):
        namespace = _namespace(fixture)
        config = workloads.fixture_config(fixture, namespace)
        rendered = workloads.render_config(config)
        workloads.deploy(control_plane, rendered, namespace)
        return fixture, (config, rendered)

    with concurrent.futures.ThreadPoolExecutor() as pool:
        deployed = dict(pool.map(up, FIXTURES))
    problems = workloads.wait_settled(control_plane, [_namespace(f) for f in FIXTURES],
                                      timeout=90)
    assert not problems, "\n".join(problems)
    pods = {f: [p for p in workloads.pods(control_plane, _namespace(f)) if p.owner_kind != "Job"]
            for f in FIXTURES}
    yield deployed, pods
    workloads.teardown(control_plane, [_namespace(f) for f in FIXTURES],
                       [rendered for _, rendered in deployed.values()])


def test_pinned_racks_land_in_their_named_zones(placed):
    deployed, pods = placed
    config = deployed["racks-pinned-zones"][0]
    zone_of_rack = {rack: settings["zone"]["name"]
                    for rack, settings in config["spec"]["global"]["racks"].items()}
    racked = [p for p in pods["racks-pinned-zones"] if p.labels.get("rack")]
    assert len(racked) >= 12, "the fixture no longer pins racked sets"
    wrong = [f"{p.name} in {p.zone}, rack {p.labels['rack']} is pinned to "
             f"{zone_of_rack[p.labels['rack']]}" for p in racked
             if p.zone != zone_of_rack[p.labels["rack"]]]
    assert not wrong, "\n".join(wrong)
    by_set = collections.defaultdict(list)
    for pod in racked:
        by_set[pod.workload].append(pod.node)
    assert all(len(nodes) == len(set(nodes)) for nodes in by_set.values()), dict(by_set)


@pytest.mark.parametrize("component", ["zookeeper", "bookkeeper"])
def test_spread_constraints_balance_the_zones(placed, component):
    members = [p for p in placed[1]["placement-spread"] if p.labels.get("component") == component]
    zones = collections.Counter(p.zone for p in members)
    NOTES.append(f"spread {component}: {dict(sorted(zones.items()))}")
    assert len(members) == 3 and sorted(zones.values()) == [1, 1, 1], zones


def test_the_autoscaler_owns_the_replicas(placed, control_plane):
    namespace = _namespace("autoscaling-hpa")
    rendered = placed[0]["autoscaling-hpa"][1]
    hpas = {o["spec"]["scaleTargetRef"]["name"]: o["spec"]["minReplicas"]
            for o in rendered.objects if o["kind"] == "HorizontalPodAutoscaler"}
    assert hpas, "the fixture renders no autoscaler"
    paths = {"StatefulSet": "apis/apps/v1/namespaces/{}/statefulsets/{}",
             "Deployment": "apis/apps/v1/namespaces/{}/deployments/{}"}
    kinds = {o["metadata"]["name"]: o["kind"] for o in rendered.objects
             if o["kind"] in paths and o["metadata"]["labels"]["component"] in ("broker", "proxy")}

    def replicas():
        return {name: control_plane.get("/" + paths[kind].format(namespace, name))["spec"].get(
            "replicas") for name, kind in kinds.items()}

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and any(replicas()[n] != m for n, m in hpas.items()):
        time.sleep(1)
    now = replicas()
    NOTES.append(f"autoscaled replicas: {now}")
    assert {n: now[n] for n in hpas} == hpas
    static = {o["metadata"]["name"]: o["spec"]["replicas"] for o in rendered.objects
              if o["kind"] in paths and o["metadata"]["name"] in kinds
              and "replicas" in o["spec"]}
    assert static and all(now[n] == r for n, r in static.items()), (static, now)
    assert workloads.wait_settled(control_plane, [namespace], timeout=60) == []
