"""Racked Deployments' own-node rule (docs/racks.md#stateless-sets-own-host-spread) and the
zone-quorum warnings (docs/racks.md#zookeeper-and-oxia-across-zones), with what `krm-pulsar
explain` reads off them."""

import copy

import pytest

from conftest import FIXTURES, object_key, render_without_info
from krm_pulsar import explain, model, yamlio

KRM = "krm-pulsar.io/v1alpha1"
ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
ZONE_SPREAD = {"maxSkew": 1, "minDomains": 3, "topologyKey": ZONE,
               "whenUnsatisfiable": "DoNotSchedule"}


def fixture(name):
    return yamlio.load_all((FIXTURES / name).read_text())[0]


def render(config):
    objects, findings = render_without_info(copy.deepcopy(config))
    assert not [f for f in findings if f.severity == "error"], findings
    return {object_key(o): o for o in objects}, findings


def warnings(config, path_start="spec"):
    return [f for f in render(config)[1]
            if f.severity == "warning" and f.path.startswith(path_start)]


def zone_racks(api_version=KRM, **spec):
    racks = {f"r{n}": {"zone": {"enabled": True}} for n in (1, 2, 3)}
    sets = {f"s{n}": {"rack": f"r{n}"} for n in (1, 2, 3)}
    body = {"global": {"name": "pulsar", "racks": racks, "resourceSets": sets},
            "bookkeeper": {"sets": {f"s{n}": {"replicas": 1} for n in (1, 2, 3)}},
            "broker": {"sets": {f"s{n}": {"replicas": 1} for n in (1, 2, 3)}},
            "proxy": {"sets": {f"s{n}": {"replicas": 2} for n in (1, 2, 3)}}}
    for key, value in spec.items():
        body[key] = {**body.get(key, {}), **value}
    return {"apiVersion": api_version, "kind": "PulsarCluster",
            "metadata": {"name": "pulsar", "namespace": "pulsar"}, "spec": body}


def pods(objects, kind):
    return {key[-1]: obj["spec"]["template"]["spec"] for key, obj in objects.items()
            if key[0] == kind}


def required_selectors(pod):
    terms = ((pod.get("affinity") or {}).get("podAntiAffinity") or {}).get(REQUIRED) or []
    return {repr(sorted(t["labelSelector"].items())) for t in terms}


# --- no Deployment depends on the scheduler's 5-minute retry ----------------------------------

@pytest.mark.parametrize("name", ["production.yaml", "three-zones.yaml",
                                  "racks-pinned-zones.yaml", "tls-auth-resource-sets.yaml"])
def test_no_deployment_has_required_anti_affinity_terms_of_two_selectors(name):
    """kube-scheduler retries a Pending pod after a deletion only when the deleted pod matches
    every required anti-affinity term; terms of two selectors never both match a pod in the
    way (tests/cluster/test_cluster_rollouts.py measures the stall this prevents)."""
    objects, _ = render(fixture(name))
    deployments = pods(objects, "Deployment")
    assert any(p.get("affinity") for p in deployments.values())
    for workload, pod in deployments.items():
        assert len(required_selectors(pod)) <= 1, (workload, pod["affinity"])


def test_racked_proxies_keep_one_live_pod_per_node_by_a_spread_constraint():
    objects, _ = render(fixture("production.yaml"))
    for letter in "abc":
        name = f"pulsar-proxy-{letter}"
        pod = pods(objects, "Deployment")[name]
        own = {"matchLabels": objects[("Deployment", name)]["spec"]["selector"]["matchLabels"]}
        # still a preferred term: kube-score and people look for a host anti-affinity
        assert pod["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"] == [
                {"weight": 100, "podAffinityTerm": {"labelSelector": own, "topologyKey": HOST}}]
        assert pod["topologySpreadConstraints"] == [{
            "labelSelector": own, "maxSkew": 1, "minDomains": 2147483647, "topologyKey": HOST,
            "whenUnsatisfiable": "DoNotSchedule"}]
        assert [t["topologyKey"] for t in pod["affinity"]["podAntiAffinity"][REQUIRED]] == [ZONE]
    # the StatefulSets keep KAAP's terms: their controller replaces a pod only once it is gone
    for name, pod in pods(objects, "StatefulSet").items():
        if "bookkeeper-" in name or "broker-" in name:
            assert [t["topologyKey"] for t in pod["affinity"]["podAntiAffinity"][REQUIRED]] \
                == [ZONE, HOST]


def test_explain_counts_the_spread_constraint_as_one_proxy_per_node():
    report, _ = explain.explain(fixture("production.yaml"))
    proxies = [w for w in report["workloads"] if w["role"] == "proxy"]
    assert proxies and all(w["node"]["maxPodsPerDomain"] == 1 for w in proxies)
    assert not [n for n in report["notGuaranteed"] if "proxy" in n]


@pytest.mark.parametrize("where", ["proxy", "global"])
def test_a_user_host_spread_keeps_the_own_node_rule_a_required_term(where):
    """The API server refuses two entries with one topologyKey and whenUnsatisfiable, and the
    user's (maxSkew 3) would let three proxies of a set share a node: the rack's own-node rule
    stays a required anti-affinity term, with a warning at the entry about the rollout wait of
    two required terms."""
    user = {"maxSkew": 3, "topologyKey": HOST, "whenUnsatisfiable": "DoNotSchedule"}
    config = zone_racks(**{where: {"topologySpreadConstraints": [user]}})
    objects, findings = render(config)
    proxies = {n: p for n, p in pods(objects, "Deployment").items() if "proxy-s" in n}
    assert len(proxies) == 3
    for name, pod in proxies.items():
        own = {"matchLabels": objects[("Deployment", name)]["spec"]["selector"]["matchLabels"]}
        assert [(c["topologyKey"], c["maxSkew"]) for c in pod["topologySpreadConstraints"]] == [
            (HOST, 3)]
        assert pod["affinity"]["podAntiAffinity"][REQUIRED][1:] == [
            {"labelSelector": own, "topologyKey": HOST}]
        assert "preferredDuringSchedulingIgnoredDuringExecution" not in pod["affinity"][
            "podAntiAffinity"]
    stalls = [f for f in findings if "5 minutes" in f.message]
    assert [(f.severity, f.path) for f in stalls] == [
        ("warning", f"spec.{where}.topologySpreadConstraints[0]")]
    assert all(f"'s{n}' (rack r{n})" in stalls[0].message for n in (1, 2, 3))
    report, _ = explain.explain(config)
    assert {w["node"]["maxPodsPerDomain"] for w in report["workloads"]
            if w["role"] == "proxy"} == {1}


def test_a_single_racks_user_host_spread_keeps_the_rule_without_a_warning():
    # one rack: no other racks' term, so one required term and no rollout wait
    config = zone_racks(proxy={"topologySpreadConstraints": [
        {"maxSkew": 3, "topologyKey": HOST, "whenUnsatisfiable": "DoNotSchedule"}]})
    config["spec"]["global"]["racks"] = {"r1": {"zone": {"enabled": True}}}
    config["spec"]["global"]["resourceSets"] = {f"s{n}": {"rack": "r1"} for n in (1, 2, 3)}
    objects, findings = render(config)
    for pod in (p for n, p in pods(objects, "Deployment").items() if "proxy-s" in n):
        assert [t["topologyKey"] for t in pod["affinity"]["podAntiAffinity"][REQUIRED]] == [HOST]
    assert not [f for f in findings if "5 minutes" in f.message]


def test_a_user_host_spread_that_schedules_anyway_sits_beside_ours():
    user = {"maxSkew": 1, "topologyKey": HOST, "whenUnsatisfiable": "ScheduleAnyway"}
    objects, findings = render(zone_racks(proxy={"topologySpreadConstraints": [user]}))
    for pod in (p for n, p in pods(objects, "Deployment").items() if "proxy-s" in n):
        assert [(c["whenUnsatisfiable"], c.get("minDomains"))
                for c in pod["topologySpreadConstraints"]] == [
            ("ScheduleAnyway", None), ("DoNotSchedule", 2147483647)]
        assert [t["topologyKey"] for t in pod["affinity"]["podAntiAffinity"][REQUIRED]] == [ZONE]
    assert not [f for f in findings if "5 minutes" in f.message]


def test_a_preferred_own_node_rule_stays_a_preferred_term():
    config = zone_racks()
    for rack in config["spec"]["global"]["racks"].values():
        rack["zone"]["requireRackHostAntiAffinity"] = False
    objects, _ = render(config)
    for pod in (p for n, p in pods(objects, "Deployment").items() if "proxy-s" in n):
        assert "topologySpreadConstraints" not in pod
        assert [t["podAffinityTerm"]["topologyKey"] for t in pod["affinity"]["podAntiAffinity"][
            "preferredDuringSchedulingIgnoredDuringExecution"]] == [HOST]


def test_kaap_input_keeps_kaaps_two_terms_and_is_warned():
    config = zone_racks(model.KAAP_API_VERSION)
    objects, findings = render(config)
    for name, pod in pods(objects, "Deployment").items():
        if "proxy-s" in name:
            assert len(required_selectors(pod)) == 2
            assert "topologySpreadConstraints" not in pod
    stalls = [f for f in findings if "5 minutes" in f.message]
    assert [f.path for f in stalls] == [f"spec.proxy.sets.s{n}" for n in (1, 2, 3)]
    assert all(f.severity == "warning" for f in stalls)
    assert not [f for f in render(zone_racks())[1] if "5 minutes" in f.message]


# --- quorums across zones ----------------------------------------------------------------------

def test_production_used_to_leave_a_zookeeper_majority_to_one_zone():
    config = fixture("production.yaml")
    assert warnings(config) == []
    del config["spec"]["zookeeper"]["topologySpreadConstraints"]
    found = warnings(config)
    assert [f.path for f in found] == ["spec.zookeeper.topologySpreadConstraints"]
    assert "3 of its 3 members" in found[0].message and "no zone rule" in found[0].message


def test_explain_reports_the_fixed_production_zookeeper_one_per_zone():
    report, _ = explain.explain(fixture("production.yaml"))
    zookeeper = next(w for w in report["workloads"] if w["role"] == "zookeeper")
    assert zookeeper["zone"]["maxPodsPerDomain"] == 1
    store = report["outages"]["zone"]["worstCase"]["metadataStore"]
    assert (store["left"], store["needed"], store["continues"]) == (2, 2, True)
    assert report["outages"]["zone"]["writesContinue"] is True


@pytest.mark.parametrize("rule, warned", [
    ({"topologySpreadConstraints": [ZONE_SPREAD]}, False),
    ({"antiAffinity": {"host": {"enabled": True, "required": True},
                       "zone": {"enabled": True, "required": True}}}, False),
    # a spread without minDomains counts only the zones that have nodes
    ({"topologySpreadConstraints": [{**ZONE_SPREAD, "minDomains": None}]}, True),
    ({"topologySpreadConstraints": [{**ZONE_SPREAD, "minDomains": 2}]}, True),
    ({"antiAffinity": {"zone": {"enabled": True}}}, True),  # preferred
    ({}, True),
])
def test_zookeeper_zone_rules(rule, warned):
    zookeeper = {"replicas": 3, **copy.deepcopy(rule)}
    for entry in zookeeper.get("topologySpreadConstraints", []):
        if entry.get("minDomains") is None:
            entry.pop("minDomains", None)
    found = warnings(zone_racks(zookeeper=zookeeper), "spec.zookeeper")
    assert [f.path for f in found if "zones" in f.message] == (
        ["spec.zookeeper.topologySpreadConstraints"] if warned else [])


def test_five_zookeeper_members_over_three_zones_keep_a_majority_out_of_one():
    report, findings = explain.explain(zone_racks(zookeeper={
        "replicas": 5, "topologySpreadConstraints": [ZONE_SPREAD]}))
    zookeeper = next(w for w in report["workloads"] if w["role"] == "zookeeper")
    assert zookeeper["zone"]["maxPodsPerDomain"] == 2  # 1 + (5 - 1) // 3
    assert not [f for f in findings if f.path.startswith("spec.zookeeper")]


def test_no_zone_warning_for_a_cluster_not_placed_by_zone():
    config = {"apiVersion": KRM, "kind": "PulsarCluster", "metadata": {"name": "pulsar"},
              "spec": {"global": {"name": "pulsar"}}}
    assert [f for f in render(config)[1] if "across zones" in f.message] == []


def test_kaap_input_gets_the_zookeeper_warning_too():
    config = zone_racks(model.KAAP_API_VERSION)
    found = [f for f in render(config)[1] if "across zones" in f.message]
    assert [f.path for f in found] == ["spec.zookeeper.topologySpreadConstraints"]


def test_oxia_servers_across_zones():
    config = zone_racks(oxia={"enabled": True})
    found = [f for f in render(config)[1] if "across zones" in f.message]
    assert [f.path for f in found] == ["spec.global.antiAffinity.zone"]
    config["spec"]["global"]["antiAffinity"] = {"host": {"enabled": True, "required": True},
                                                "zone": {"enabled": True, "required": True}}
    assert [f for f in render(config)[1] if "across zones" in f.message] == []


def test_bookies_without_rack_in_a_zone_placed_cluster():
    config = zone_racks(bookkeeper={"sets": {}, "replicas": 3},
                        zookeeper={"topologySpreadConstraints": [ZONE_SPREAD]})
    found = [f for f in render(config)[1] if "across zones" in f.message]
    assert [f.path for f in found] == ["spec.bookkeeper.topologySpreadConstraints"]
    assert "3 of the 3 bookies" in found[0].message
    config["spec"]["bookkeeper"]["topologySpreadConstraints"] = [ZONE_SPREAD]
    assert [f for f in render(config)[1] if "across zones" in f.message] == []
