"""Resource sets, racks, affinity, sync waves and their validation (docs/kaap-parity.md)."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, object_key, render_without_info
from k8s import assert_valid
from krm_pulsar import model, placement, render, yamlio
from krm_pulsar.schema import child_path

KRM = "krm-pulsar.io/v1alpha1"
BASE = {"app": "pulsar", "cluster": "pulsar"}


def config(spec, api_version=KRM, namespace=None):
    metadata = {"name": "pulsar"}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": "PulsarCluster", "metadata": metadata,
            "spec": copy.deepcopy(spec)}


def run(spec, **kwargs):
    """(objects by (kind, name), findings); fails on error findings."""
    objects, findings = render_without_info(config(spec, **kwargs))
    errors = [f for f in findings if f.severity == "error"]
    assert not errors, errors
    return {object_key(o): o for o in objects}, findings


def objects_of(spec, **kwargs):
    return run(spec, **kwargs)[0]


def errors_of(spec, **kwargs):
    objects, findings = render_without_info(config(spec, **kwargs))
    assert objects == []
    return [f for f in findings if f.severity == "error"]


def warnings_of(spec, **kwargs):
    return [f for f in run(spec, **kwargs)[1] if f.severity == "warning"]


def user_annotations(obj):
    """Annotations without the ones every generated object gets (marker, file, sync wave)."""
    ours = (render.GENERATED_FROM, placement.SYNC_WAVE)
    return {k: v for k, v in (obj["metadata"].get("annotations") or {}).items()
            if k not in ours and not k.startswith("internal.config.kubernetes.io/")}


def pod(objects, kind, name):
    return objects[(kind, name)]["spec"]["template"]["spec"]


ZONE_RACKS = {
    "global": {
        "racks": {"zone-a": {"zone": {"enabled": True}}, "zone-b": {"zone": {"enabled": True}},
                  "zone-c": {"zone": {"enabled": True}}},
        "resourceSets": {"pool1": {"rack": "zone-a"}, "pool2": {"rack": "zone-b"},
                         "pool3": {"rack": "zone-c"}, "free": {}},
    },
    # one ZooKeeper member (and bookie of the default set) per zone, else the zone-quorum
    # warnings (placement/zones.py)
    "zookeeper": {"topologySpreadConstraints": [{
        "maxSkew": 1, "minDomains": 3, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule"}]},
    "bookkeeper": {"topologySpreadConstraints": [{
        "maxSkew": 1, "minDomains": 3, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule"}]},
}


def with_sets(base, component, sets, **top):
    spec = copy.deepcopy(base)
    spec[component] = {"sets": sets, **top}
    return spec


# --- labels, names, merge ---------------------------------------------------------------------


def test_set_labels_and_selectors_follow_kaap():
    objects = objects_of(with_sets(ZONE_RACKS, "broker", {"pool1": {}, "free": {}}))
    racked = objects[("StatefulSet", "pulsar-broker-pool1")]
    expected = {**BASE, "component": "broker", "resource-set": "pool1", "rack": "zone-a"}
    assert racked["metadata"]["labels"] == expected
    assert racked["spec"]["selector"]["matchLabels"] == expected
    assert racked["spec"]["template"]["metadata"]["labels"] == expected
    free = objects[("StatefulSet", "pulsar-broker-free")]
    assert free["spec"]["selector"]["matchLabels"] == {**BASE, "component": "broker",
                                                       "resource-set": "free"}
    for kind in ("ConfigMap", "Service", "PodDisruptionBudget"):
        assert objects[(kind, "pulsar-broker-pool1")]["metadata"]["labels"] == expected
    assert objects[("Service", "pulsar-broker-pool1")]["spec"]["selector"] == expected
    pdb = objects[("PodDisruptionBudget", "pulsar-broker-pool1")]
    assert pdb["spec"]["selector"]["matchLabels"] == expected


def test_default_set_keeps_kaap_selector_and_resource_set_label():
    deployment = objects_of({})[("Deployment", "pulsar-proxy")]
    assert deployment["metadata"]["labels"]["resource-set"] == "proxy"
    assert deployment["spec"]["template"]["metadata"]["labels"]["resource-set"] == "proxy"
    assert deployment["spec"]["selector"]["matchLabels"] == {**BASE, "component": "proxy"}


def test_default_set_mapped_to_a_rack_gets_the_rack_label_everywhere():
    spec = {"global": {"racks": {"r1": {}}, "resourceSets": {"bookkeeper": {"rack": "r1"}}}}
    sts = objects_of(spec)[("StatefulSet", "pulsar-bookkeeper")]
    assert sts["spec"]["selector"]["matchLabels"] == {**BASE, "component": "bookkeeper",
                                                      "rack": "r1"}


def test_every_set_gets_its_own_workload_configmap_service_and_pdb():
    objects = objects_of(with_sets(ZONE_RACKS, "bookkeeper", {"pool1": {}, "pool2": {}}))
    for set_name in ("pool1", "pool2"):
        name = f"pulsar-bookkeeper-{set_name}"
        for kind in ("StatefulSet", "ConfigMap", "Service", "PodDisruptionBudget"):
            assert (kind, name) in objects
        sts = objects[("StatefulSet", name)]
        assert sts["spec"]["serviceName"] == name
        container = sts["spec"]["template"]["spec"]["containers"][-1]
        assert container["envFrom"] == [{"configMapRef": {"name": name}}]
    assert ("StatefulSet", "pulsar-bookkeeper") not in objects


def test_set_merge_rules():
    top = {
        "replicas": 2,
        "config": {"a": "top", "b": "top"},
        "tolerations": [{"key": "top", "operator": "Exists"}],
        "podAnnotations": {"x": "1"},
        "probes": {"liveness": {"periodSeconds": 7}},
        "service": {"annotations": {"team": "top"}},
    }
    sets = {
        "pool1": {"replicas": 4, "config": {"b": "set"},
                  "tolerations": [{"key": "set", "operator": "Exists"}],
                  "probes": {"liveness": {"timeoutSeconds": 9}},
                  "service": {"annotations": {"dns": "pool1"}}},
        "pool2": {"tolerations": []},  # an empty list inherits (KAAP)
        "pool3": None,                 # null inherits everything
    }
    objects = objects_of(with_sets(ZONE_RACKS, "broker", sets, **top))
    one = objects[("StatefulSet", "pulsar-broker-pool1")]
    assert one["spec"]["replicas"] == 4
    cm = objects[("ConfigMap", "pulsar-broker-pool1")]["data"]
    assert (cm["PULSAR_PREFIX_a"], cm["PULSAR_PREFIX_b"]) == ("top", "set")
    pod_one = one["spec"]["template"]["spec"]
    assert pod_one["tolerations"] == [{"key": "set", "operator": "Exists"}]
    liveness = pod_one["containers"][0]["livenessProbe"]
    assert (liveness["periodSeconds"], liveness["timeoutSeconds"]) == (7, 9)
    assert one["spec"]["template"]["metadata"]["annotations"]["x"] == "1"
    service = user_annotations(objects[("Service", "pulsar-broker-pool1")])
    assert service == {"team": "top", "dns": "pool1"}
    two = pod(objects, "StatefulSet", "pulsar-broker-pool2")
    assert two["tolerations"] == [{"key": "top", "operator": "Exists"}]
    assert objects[("StatefulSet", "pulsar-broker-pool3")]["spec"]["replicas"] == 2


@pytest.mark.parametrize("top_pdb, set_pdb, expected", [
    ({}, {"minAvailable": 2}, {"minAvailable": 2}),
    ({"minAvailable": 2}, {"maxUnavailable": 2}, {"maxUnavailable": 2}),
    ({"minAvailable": 1}, {}, {"minAvailable": 1}),
])
def test_set_pdb_never_carries_both_fields(top_pdb, set_pdb, expected):
    spec = with_sets(ZONE_RACKS, "proxy", {"pool1": {"pdb": set_pdb}}, pdb=top_pdb)
    pdb = objects_of(spec)[("PodDisruptionBudget", "pulsar-proxy-pool1")]["spec"]
    assert {k: v for k, v in pdb.items() if k != "selector"} == expected


def test_set_storage_class_is_not_masked_by_the_inherited_default():
    sets = {"pool1": {"volumes": {"journal": {"storageClass": {"provisioner": "ebs.csi.aws.com"}}}}}
    objects = objects_of(with_sets(ZONE_RACKS, "bookkeeper", sets))
    claims = objects[("StatefulSet", "pulsar-bookkeeper-pool1")]["spec"]["volumeClaimTemplates"]
    journal = next(c for c in claims if c["metadata"]["name"].endswith("journal"))
    assert journal["spec"]["storageClassName"] == "pulsar-bookkeeper-pool1-journal"
    assert ("StorageClass", "pulsar-bookkeeper-pool1-journal") in objects


def test_top_level_override_resource_name_is_not_inherited_by_sets():
    spec = with_sets(ZONE_RACKS, "broker", {"pool1": {}, "pool2": {}},
                     overrideResourceName="brokers")
    objects, findings = run(spec)
    assert ("StatefulSet", "pulsar-broker-pool1") in objects
    assert ("StatefulSet", "pulsar-broker-pool2") in objects
    assert not any(name == "brokers" for _, name in objects)
    assert [f.path for f in findings if f.severity == "warning"] == [
        "spec.broker.overrideResourceName"]


def test_set_override_resource_name():
    spec = with_sets(ZONE_RACKS, "broker", {"pool1": {"overrideResourceName": "edge"}})
    objects = objects_of(spec)
    assert {("StatefulSet", "edge"), ("ConfigMap", "edge"), ("Service", "edge"),
            ("PodDisruptionBudget", "edge"), ("Service", "pulsar-broker")} <= set(objects)


# --- umbrella and per-set Services --------------------------------------------------------------


def test_umbrella_service_selects_every_set_and_each_set_service_is_its_own():
    sets = {"pool1": {"service": {"annotations": {
                "external-dns.alpha.kubernetes.io/hostname": "a.example.com"},
                "type": "NodePort", "additionalPorts": [{"name": "kafka", "port": 9092}]}},
            "pool2": {}}
    objects = objects_of(with_sets(ZONE_RACKS, "proxy", sets))
    umbrella = objects[("Service", "pulsar-proxy")]
    assert umbrella["spec"]["selector"] == {**BASE, "component": "proxy"}
    assert umbrella["spec"]["type"] == "LoadBalancer"  # KAAP Q13, kept
    assert umbrella["metadata"]["labels"]["resource-set"] == "proxy"
    one = objects[("Service", "pulsar-proxy-pool1")]
    assert user_annotations(one) == {
        "external-dns.alpha.kubernetes.io/hostname": "a.example.com"}
    assert one["spec"]["type"] == "NodePort"
    assert one["spec"]["ports"][-1] == {"name": "kafka", "port": 9092}
    assert one["spec"]["selector"]["resource-set"] == "pool1"
    two = objects[("Service", "pulsar-proxy-pool2")]
    assert user_annotations(two) == {} and two["spec"]["type"] == "LoadBalancer"


@pytest.mark.parametrize("component", ["bookkeeper", "broker", "proxy"])
def test_umbrella_service_selects_sets_that_override_a_match_label(component):
    # found by tests/properties/test_generated_clusters.py: a set's matchLabels value replaces the component's on
    # its pods, so an umbrella selecting the component's value reached none of them
    sets = {"pool1": {"matchLabels": {"pool": "one"}}, "pool2": {}}
    objects = objects_of(with_sets(ZONE_RACKS, component, sets,
                                   matchLabels={"pool": "all", "team": "data"}))
    umbrella = objects[("Service", f"pulsar-{component}")]
    # the keys every rendered set agrees on stay; the contradicted one goes
    assert umbrella["spec"]["selector"] == {**BASE, "component": component, "team": "data"}
    for name in ("pool1", "pool2"):
        kind = "Deployment" if component == "proxy" else "StatefulSet"
        labels = objects[(kind, f"pulsar-{component}-{name}")]["spec"]["template"]["metadata"][
            "labels"]
        assert umbrella["spec"]["selector"].items() <= labels.items()


def test_umbrella_service_keeps_the_component_match_labels_when_sets_agree():
    objects = objects_of(with_sets(ZONE_RACKS, "broker", {"pool1": {}, "pool2": {}},
                                   matchLabels={"pool": "all"}))
    assert objects[("Service", "pulsar-broker")]["spec"]["selector"] == {
        **BASE, "component": "broker", "pool": "all"}


def test_umbrella_service_can_stay_inside_the_cluster():
    spec = with_sets(ZONE_RACKS, "proxy", {"pool1": {"service": {"type": "LoadBalancer"}}},
                     service={"type": "ClusterIP"})
    objects = objects_of(spec)
    assert objects[("Service", "pulsar-proxy")]["spec"]["type"] == "ClusterIP"
    assert objects[("Service", "pulsar-proxy-pool1")]["spec"]["type"] == "LoadBalancer"


def test_umbrella_service_also_when_only_sets_have_replicas():
    # KAAP Q12: KAAP drops the umbrella with top-level replicas 0; brokers URLs need it
    spec = with_sets(ZONE_RACKS, "broker", {"pool1": {"replicas": 2}}, replicas=0)
    objects = objects_of(spec)
    assert objects[("Service", "pulsar-broker")]["spec"]["selector"] == {
        **BASE, "component": "broker"}


def test_no_umbrella_when_no_set_renders():
    spec = with_sets(ZONE_RACKS, "broker", {"pool1": {}}, replicas=0)
    objects = objects_of(spec)
    assert not any(kind == "Service" and name.startswith("pulsar-broker")
                   for kind, name in objects)


def test_renamed_default_set_still_gets_the_umbrella_name():
    objects = objects_of({"broker": {"overrideResourceName": "edge"}})
    assert ("StatefulSet", "edge") in objects
    assert ("Service", "pulsar-broker") in objects  # the name proxies dial


def test_set_named_like_the_default_wins_the_umbrella_name_with_a_warning():
    spec = copy.deepcopy(ZONE_RACKS)
    spec["global"]["resourceSets"]["broker"] = {}
    spec["broker"] = {"sets": {"broker": {}, "pool1": {}}}
    objects, findings = run(spec)
    service = objects[("Service", "pulsar-broker")]
    assert service["spec"]["selector"] == {**BASE, "component": "broker"}
    assert [f.path for f in findings if f.severity == "warning"] == ["spec.broker.sets.broker"]
    # alone, a set named like the default is harmless: no warning
    spec["broker"] = {"sets": {"broker": {}}}
    assert warnings_of(spec) == []


# --- affinity without racks ---------------------------------------------------------------------


def anti(objects, kind, name):
    return pod(objects, kind, name)["affinity"]["podAntiAffinity"]


def test_global_zone_anti_affinity_without_required_is_preferred():
    spec = {"global": {"antiAffinity": {"zone": {"enabled": True}}}}
    terms = anti(objects_of(spec), "StatefulSet", "pulsar-broker")
    selector = {"matchLabels": {**BASE, "component": "broker"}}
    assert terms == {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": selector, "topologyKey": "kubernetes.io/hostname"}],
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"labelSelector": selector,
                                                "topologyKey": "topology.kubernetes.io/zone"}}],
    }


def test_component_anti_affinity_replaces_the_global_one_as_a_whole():
    spec = {"bookkeeper": {"antiAffinity": {"zone": {"enabled": True, "required": True}}}}
    objects, findings = run(spec)
    terms = anti(objects, "StatefulSet", "pulsar-bookkeeper")
    assert terms == {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "labelSelector": {"matchLabels": {**BASE, "component": "bookkeeper"}},
        "topologyKey": "topology.kubernetes.io/zone"}]}
    # KAAP Q6: the dropped host rule is reported; bookies one per zone make the cluster
    # zone-aware, and ZooKeeper has no zone rule (placement/zones.py)
    assert [(f.path, f.severity) for f in findings] == [
        ("spec.bookkeeper.antiAffinity", "warning"),
        ("spec.zookeeper.topologySpreadConstraints", "warning")]
    # other components keep the global rule
    assert anti(objects, "StatefulSet", "pulsar-broker")[
        "requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == \
        "kubernetes.io/hostname"


def test_component_anti_affinity_with_both_rules_and_no_required_gives_preferred_terms():
    spec = {"proxy": {"antiAffinity": {"host": {"enabled": True}, "zone": {"enabled": True}}}}
    objects, findings = run(spec)
    terms = anti(objects, "Deployment", "pulsar-proxy")
    assert list(terms) == ["preferredDuringSchedulingIgnoredDuringExecution"]
    keys = [t["podAffinityTerm"]["topologyKey"]
            for t in terms["preferredDuringSchedulingIgnoredDuringExecution"]]
    assert keys == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]  # host first
    assert findings == []


def test_empty_component_anti_affinity_turns_it_off():
    objects = objects_of({"broker": {"antiAffinity": {}}})
    assert "affinity" not in pod(objects, "StatefulSet", "pulsar-broker")


def test_set_anti_affinity_merges_over_the_component_one():
    spec = with_sets(ZONE_RACKS, "broker", {"free": {"antiAffinity": {"zone": {"enabled": True}}}},
                     antiAffinity={"host": {"enabled": True, "required": True}})
    objects, findings = run(spec)
    terms = anti(objects, "StatefulSet", "pulsar-broker-free")
    assert len(terms["requiredDuringSchedulingIgnoredDuringExecution"]) == 1
    assert len(terms["preferredDuringSchedulingIgnoredDuringExecution"]) == 1
    assert findings == []
    selector = terms["requiredDuringSchedulingIgnoredDuringExecution"][0]["labelSelector"]
    assert selector == {"matchLabels": {**BASE, "component": "broker", "resource-set": "free"}}


def test_node_affinity_alone_still_gives_an_affinity_block():
    node_affinity = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["pulsar"]}]}]}}
    spec = {"broker": {"antiAffinity": {}, "nodeAffinity": node_affinity}}
    assert pod(objects_of(spec), "StatefulSet", "pulsar-broker")["affinity"] == {
        "nodeAffinity": node_affinity}


# --- affinity with racks ------------------------------------------------------------------------


def rack_term(key, values):
    return {"labelSelector": {"matchExpressions": [{"key": "rack", "operator": "In",
                                                    "values": values}]}, "topologyKey": key}


def test_zone_rack_affinity_matches_the_kaap_illustration():
    objects = objects_of(with_sets(ZONE_RACKS, "broker", {"pool1": {}}))
    affinity = pod(objects, "StatefulSet", "pulsar-broker-pool1")["affinity"]
    zone = "topology.kubernetes.io/zone"
    assert affinity == {
        "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": rack_term(zone, ["zone-a"])}]},
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            # KAAP Q10: the other racks sorted, not in Java HashMap order (zone-c, zone-b)
            rack_term(zone, ["zone-b", "zone-c"]),
            {"labelSelector": {"matchLabels": {**BASE, "component": "broker",
                                               "resource-set": "pool1", "rack": "zone-a"}},
             "topologyKey": "kubernetes.io/hostname"}]},
    }


def test_rack_term_order_with_host_and_zone_blocks():
    racks = {name: {"host": {"enabled": True, "requireRackAffinity": True,
                             "requireRackAntiAffinity": False},
                    "zone": {"enabled": True, "requireRackAffinity": True,
                             "requireRackHostAntiAffinity": False}}
             for name in ("r3", "r2", "r1")}  # declared unsorted; terms list them sorted
    spec = {"global": {"racks": racks, "resourceSets": {"s": {"rack": "r3"}}},
            "bookkeeper": {"sets": {"s": {}}}}
    affinity = pod(objects_of(spec), "StatefulSet", "pulsar-bookkeeper-s")["affinity"]
    host, zone = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
    assert affinity["podAffinity"] == {"requiredDuringSchedulingIgnoredDuringExecution": [
        rack_term(host, ["r3"]), rack_term(zone, ["r3"])]}
    anti_terms = affinity["podAntiAffinity"]
    assert anti_terms["requiredDuringSchedulingIgnoredDuringExecution"] == [
        rack_term(zone, ["r1", "r2"])]
    preferred = [t["podAffinityTerm"]
                 for t in anti_terms["preferredDuringSchedulingIgnoredDuringExecution"]]
    assert preferred[0] == rack_term(host, ["r1", "r2"])
    assert preferred[1]["topologyKey"] == host and "matchLabels" in preferred[1]["labelSelector"]
    assert all(t["weight"] == 100
               for t in anti_terms["preferredDuringSchedulingIgnoredDuringExecution"])


def test_rack_ignores_global_and_component_anti_affinity():
    spec = with_sets(ZONE_RACKS, "proxy", {"pool1": {}},
                     antiAffinity={"host": {"enabled": True, "required": True},
                                   "zone": {"enabled": True, "required": True}})
    proxy = pod(objects_of(spec), "Deployment", "pulsar-proxy-pool1")
    keys = [t["topologyKey"] for t in
            proxy["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]]
    # the rack's own-node rule of a Deployment is a spread constraint (placement.affinity)
    assert keys == ["topology.kubernetes.io/zone"]
    assert [c["topologyKey"] for c in proxy["topologySpreadConstraints"]] == [
        "kubernetes.io/hostname"]


def test_anti_affinity_on_a_racked_set_is_reported_as_ignored():
    spec = with_sets(ZONE_RACKS, "broker", {"pool1": {"antiAffinity": {"host": {
        "enabled": True}}}})
    objects, findings = run(spec)
    assert [(f.path, f.severity) for f in findings] == [
        ("spec.broker.sets.pool1.antiAffinity", "warning")]
    required = pod(objects, "StatefulSet", "pulsar-broker-pool1")["affinity"][
        "podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert [t["topologyKey"] for t in required] == ["topology.kubernetes.io/zone",
                                                     "kubernetes.io/hostname"]


def test_rack_with_defaults_gives_no_affinity_and_a_warning():
    spec = {"global": {"racks": {"r1": {}, "r2": {}}, "resourceSets": {"s": {"rack": "r1"}}},
            "broker": {"sets": {"s": {}}}}
    objects, findings = run(spec)
    assert "affinity" not in pod(objects, "StatefulSet", "pulsar-broker-s")
    assert [(f.path, f.severity) for f in findings] == [("spec.global.racks.r1", "warning")]


def test_single_rack_leaves_out_the_empty_anti_affinity_term_with_a_warning():
    spec = {"global": {"racks": {"only": {"zone": {"enabled": True}}},
                       "resourceSets": {"s": {"rack": "only"}}},
            "broker": {"sets": {"s": {}}}}
    objects, findings = run(spec)
    affinity = pod(objects, "StatefulSet", "pulsar-broker-s")["affinity"]
    required = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert len(required) == 1 and "matchLabels" in required[0]["labelSelector"]
    assert all(e["values"] for term in required
               for e in term["labelSelector"].get("matchExpressions", []))
    assert [(f.path, f.severity) for f in findings] == [("spec.global.racks.only", "warning")]
    assert_valid(list(objects.values()))


def test_kaap_input_keeps_the_beta_zone_key():
    objects = objects_of(with_sets(ZONE_RACKS, "broker", {"pool1": {}}),
                         api_version=model.KAAP_API_VERSION)
    affinity = pod(objects, "StatefulSet", "pulsar-broker-pool1")["affinity"]
    assert affinity["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0][
        "podAffinityTerm"]["topologyKey"] == "failure-domain.beta.kubernetes.io/zone"


@pytest.mark.parametrize("api_version", [KRM, model.KAAP_API_VERSION])
def test_topology_keys_are_configurable(api_version):
    spec = with_sets(ZONE_RACKS, "broker", {"pool1": {}})
    spec["global"]["topologyKeys"] = {"zone": "example.com/zone", "host": "example.com/node"}
    affinity = pod(objects_of(spec, api_version=api_version), "StatefulSet",
                   "pulsar-broker-pool1")["affinity"]
    required = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert [t["topologyKey"] for t in required] == ["example.com/zone", "example.com/node"]


# --- static rack awareness ----------------------------------------------------------------------


def test_static_rack_awareness_config():
    objects = objects_of({})
    broker = objects[("ConfigMap", "pulsar-broker")]["data"]
    assert broker["PULSAR_PREFIX_bookkeeperClientRegionawarePolicyEnabled"] == "true"
    bookie = objects[("ConfigMap", "pulsar-bookkeeper")]["data"]
    assert bookie["PULSAR_PREFIX_reppDnsResolverClass"] == placement.RACK_RESOLVER_CLASS
    assert placement.autorecovery_rack_config() == {
        "reppDnsResolverClass": "org.apache.pulsar.zookeeper.ZkBookieRackAffinityMapping",
        "ensemblePlacementPolicy":
            "org.apache.bookkeeper.client.RegionAwareEnsemblePlacementPolicy"}


@pytest.mark.parametrize("key", ["bookkeeperClientRegionawarePolicyEnabled",
                                 "PULSAR_PREFIX_bookkeeperClientRegionawarePolicyEnabled"])
def test_explicit_user_value_turns_region_awareness_off(key):
    objects = objects_of({"broker": {"config": {key: "false"}}})
    data = objects[("ConfigMap", "pulsar-broker")]["data"]
    assert data["PULSAR_PREFIX_bookkeeperClientRegionawarePolicyEnabled"] == "false"


# --- sync waves ---------------------------------------------------------------------------------


def waves(objects):
    return {key: o["metadata"]["annotations"][placement.SYNC_WAVE] for key, o in objects.items()}


def test_rolling_update_gives_each_set_its_own_wave_in_declaration_order():
    spec = copy.deepcopy(ZONE_RACKS)
    spec["bookkeeper"] = {"sets": {"pool2": {}, "pool1": {}}}
    spec["broker"] = {"sets": {"pool1": {}, "pool2": {}, "pool3": {"replicas": 0}}}
    spec["proxy"] = {"sets": {"pool3": {}, "pool1": {}}, "setsUpdateStrategy": "Parallel"}
    got = waves(objects_of(spec))
    assert got[("StatefulSet", "pulsar-zookeeper")] == "0"
    assert got[("Job", "pulsar-zookeeper-metadata")] == "0"
    # each stage starts at a multiple of 1000; sets roll one wave after another inside it
    assert got[("StatefulSet", "pulsar-bookkeeper-pool2")] == "1000"
    assert got[("ConfigMap", "pulsar-bookkeeper-pool1")] == "1001"
    assert got[("StatefulSet", "pulsar-bookkeeper-pool1")] == "1001"
    assert got[("Service", "pulsar-bookkeeper")] == "1000"  # umbrella with the first set
    assert got[("StatefulSet", "pulsar-broker-pool1")] == "2000"
    assert got[("PodDisruptionBudget", "pulsar-broker-pool2")] == "2001"
    # a set with 0 replicas renders nothing and takes no wave; Parallel: one wave
    assert got[("Deployment", "pulsar-proxy-pool3")] == "3000"
    assert got[("Deployment", "pulsar-proxy-pool1")] == "3000"
    assert set(got.values()) == {"0", "1000", "1001", "2000", "2001", "3000"}


def test_wave_plan_covers_every_component_in_kaap_gating_order():
    from krm_pulsar.cluster import Cluster

    spec = copy.deepcopy(ZONE_RACKS)
    spec["bookkeeper"] = {"sets": {"pool1": {}, "pool2": {}}}
    resolved, _ = render.load(config(spec))
    plan = placement.sync_waves(Cluster(resolved, config(spec)))
    assert plan[("zookeeper", None)] == plan[("oxia", None)] == 0
    assert plan[("bookkeeper", "pool1")] == 1000 and plan[("bookkeeper", "pool2")] == 1001
    assert plan[("broker", "broker")] == 2000
    assert plan[("proxy", "proxy")] == plan[("autorecovery", None)] == \
        plan[("bastion", None)] == 3000
    assert plan[("functionsWorker", None)] == 4000


def test_waves_follow_custom_base_names_and_fall_back_to_object_names():
    from krm_pulsar.cluster import Cluster

    spec = {"global": {"components": {"functionsWorkerBaseName": "fn",
                                      "autorecoveryBaseName": "ar"}}}
    resolved, _ = render.load(config(spec))
    cluster = Cluster(resolved, config(spec))
    objects = [
        {"kind": "StatefulSet", "metadata": {"name": "pulsar-fn",
                                             "labels": {"component": "fn"}}},
        {"kind": "Deployment", "metadata": {"name": "pulsar-ar",
                                            "labels": {"component": "ar"}}},
        {"kind": "StatefulSet", "metadata": {"name": "pulsar-oxia-server",
                                             "labels": {"component": "oxia-server"}}},
        {"kind": "Job", "metadata": {"name": "x", "annotations": {placement.SYNC_WAVE: "-1"}}},
        {"kind": "ConfigMap", "metadata": {"name": "unrelated"}},
    ]
    placement.annotate_sync_waves(cluster, objects)
    got = [(o["metadata"].get("annotations") or {}).get(placement.SYNC_WAVE) for o in objects]
    assert got == ["4000", "3000", "0", "-1", None]


# --- validation ---------------------------------------------------------------------------------


def test_set_referencing_an_undeclared_rack():
    spec = {"global": {"racks": {"r1": {}}, "resourceSets": {"s": {"rack": "r9"}}}}
    [error] = errors_of(spec)
    assert error.path == "spec.global.resourceSets.s.rack"
    assert "Resource set s references a rack r9 that does not exist" in error.message
    assert "[r1]" in error.message


def test_component_set_not_declared_globally():
    spec = {"global": {"resourceSets": {"a": {}}}, "proxy": {"sets": {"b": {}}},
            "bookkeeper": {"sets": {"c": {}}}}
    errors = errors_of(spec)
    assert [e.path for e in errors] == ["spec.bookkeeper.sets.c", "spec.proxy.sets.b"]
    assert "proxy resource set b is not defined in global resource sets " \
           "(.global.resourceSets), only [a]" in errors[1].message


def test_unknown_sets_update_strategy():
    [error] = errors_of({"broker": {"setsUpdateStrategy": "OneByOne"}})
    assert error.path == "spec.broker.setsUpdateStrategy"
    assert "RollingUpdate" in error.message and "Parallel" in error.message


@pytest.mark.parametrize("field, name", [
    ("racks", "Zone_A"), ("racks", "zone.a"), ("resourceSets", "Pool"),
    ("resourceSets", "pool-"), ("resourceSets", "p" * 64)])
def test_set_and_rack_names_must_be_kubernetes_names(field, name):
    errors = errors_of({"global": {field: {name: {}}}})
    assert [e.path for e in errors] == [child_path(f"spec.global.{field}", name)]
    assert "not a valid Kubernetes name" in errors[0].message


def test_two_sets_with_the_same_override_name():
    spec = with_sets(ZONE_RACKS, "broker", {"pool1": {"overrideResourceName": "b"},
                                            "pool2": {"overrideResourceName": "b"}})
    [error] = errors_of(spec)
    assert error.path == "spec.broker.sets.pool2.overrideResourceName"
    assert "like those of spec.broker.sets.pool1.overrideResourceName" in error.message


def test_a_set_renamed_onto_another_component_is_caught():
    spec = with_sets(ZONE_RACKS, "proxy", {"pool1": {"overrideResourceName": "pulsar-broker"}})
    [error] = errors_of(spec)
    assert "spec.broker" in error.message and error.path.startswith("spec.proxy.sets.pool1")


def test_duplicate_objects_name_both_producers():
    spec = with_sets(ZONE_RACKS, "bookkeeper",
                     {"pool1": {"overrideResourceName": "pulsar-zookeeper"}})
    errors = errors_of(spec)
    assert errors and all(e.path == "spec" for e in errors)
    assert "ConfigMap 'pulsar-zookeeper' (from zookeeper and from bookkeeper set pool1)" in \
        errors[0].message


def test_set_names_that_make_too_long_object_names():
    name = "a" * 40
    spec = {"global": {"name": name, "resourceSets": {"pool-with-a-long-name": {}}},
            "bookkeeper": {"sets": {"pool-with-a-long-name": {}}}}
    [error] = errors_of(spec)
    assert error.path == "spec.bookkeeper.sets.pool-with-a-long-name"
    assert "at most 52" in error.message


# --- the seed's three-zone layout ----------------------------------------------------------------


def three_zones():
    source = yamlio.load_all((FIXTURES / "three-zones.yaml").read_text())[0]
    objects, findings = render_without_info(source)
    assert findings == []
    return {object_key(o): o for o in objects}


def test_three_zones_output_validates():
    assert_valid(list(three_zones().values()))


def test_three_zones_every_set_is_pinned_to_its_zone_and_away_from_the_others():
    objects = three_zones()
    zone = "topology.kubernetes.io/zone"
    for kind, component in (("StatefulSet", "bookkeeper"), ("StatefulSet", "broker"),
                            ("Deployment", "proxy")):
        for number in (1, 2, 3):
            affinity = pod(objects, kind, f"pulsar-{component}-shared-az{number}")["affinity"]
            own = affinity["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
            assert own == [{"weight": 100, "podAffinityTerm": rack_term(zone, [f"rack{number}"])}]
            others = sorted({"rack1", "rack2", "rack3"} - {f"rack{number}"})
            required = affinity["podAntiAffinity"][
                "requiredDuringSchedulingIgnoredDuringExecution"]
            assert required[0] == rack_term(zone, others)
            name = f"pulsar-{component}-shared-az{number}"
            own_node = {"labelSelector": {"matchLabels": objects[(kind, name)]["spec"][
                "selector"]["matchLabels"]}, "topologyKey": "kubernetes.io/hostname"}
            if kind == "StatefulSet":
                assert required[1:] == [own_node]
            else:  # a Deployment: one required term; its own nodes by a spread constraint
                assert required[1:] == []
                assert pod(objects, kind, name)["topologySpreadConstraints"] == [{
                        **own_node, "maxSkew": 1, "minDomains": 2147483647,
                        "whenUnsatisfiable": "DoNotSchedule"}]


def test_three_zones_kafka_proxy_sets_have_their_own_config_and_endpoint():
    objects = three_zones()
    data = objects[("ConfigMap", "pulsar-proxy-kafka-az2")]["data"]
    assert data["PULSAR_PREFIX_proxyExtensions"] == "kafka"
    assert data["PULSAR_PREFIX_kafkaAdvertisedListeners"] == \
        "PLAINTEXT://kafka-az2.pulsar.example.com:9092"
    assert "PULSAR_PREFIX_proxyExtensions" not in objects[
        ("ConfigMap", "pulsar-proxy-shared-az2")]["data"]
    assert ("ConfigMap", "pulsar-proxy-kafka-az2-ws") not in objects
    service = objects[("Service", "pulsar-proxy-kafka-az2")]
    assert service["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"] == \
        "kafka-az2.pulsar.example.com"
    assert {"name": "kafka", "port": 9092} in service["spec"]["ports"]
    assert objects[("Service", "pulsar-proxy")]["spec"]["type"] == "ClusterIP"
    broker = objects[("ConfigMap", "pulsar-broker-shared-az1")]["data"]
    assert broker["PULSAR_PREFIX_bookkeeperClientMinNumRacksPerWriteQuorum"] == "3"


# --- any rack configuration ---------------------------------------------------------------------

RACK_FLAGS = st.fixed_dictionaries({
    "host": st.fixed_dictionaries({}, optional={
        "enabled": st.booleans(), "requireRackAffinity": st.booleans(),
        "requireRackAntiAffinity": st.booleans()}),
    "zone": st.fixed_dictionaries({}, optional={
        "enabled": st.booleans(), "requireRackAffinity": st.booleans(),
        "requireRackAntiAffinity": st.booleans(), "enableHostAntiAffinity": st.booleans(),
        "requireRackHostAntiAffinity": st.booleans()}),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(racks=st.dictionaries(st.sampled_from(["r1", "r2", "r3", "r4"]), RACK_FLAGS,
                             min_size=1, max_size=4),
       data=st.data())
def test_any_rack_configuration_gives_valid_deterministic_affinity(racks, data):
    names = list(racks)
    mapping = {f"s{i}": {"rack": data.draw(st.sampled_from(names))} for i in range(2)}
    spec = {"global": {"racks": racks, "resourceSets": mapping},
            "broker": {"sets": {name: {} for name in mapping}}}
    objects = objects_of(spec)
    for set_name, entry in mapping.items():
        affinity = pod(objects, "StatefulSet", f"pulsar-broker-{set_name}").get("affinity")
        rack = racks[entry["rack"]]
        enabled = [level for level in ("host", "zone") if rack[level].get("enabled")]
        assert (affinity is not None) == bool(enabled)
        for block in (affinity or {}).values():
            for terms in block.values():
                for term in terms:
                    term = term.get("podAffinityTerm", term)
                    for expression in term["labelSelector"].get("matchExpressions", []):
                        assert expression["values"]  # never `In []` (Q1)
                        assert expression["values"] == sorted(expression["values"])  # Q10
    assert_valid([o for o in objects.values() if o["kind"] == "StatefulSet"], versions=("1.37.0",))
    assert objects_of(spec) == objects  # deterministic
