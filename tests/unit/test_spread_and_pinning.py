"""Topology spread constraints (issue 15 item 3) and racks pinned to a named zone or node
(item 4), docs/racks.md: where the constraints come from, the selector an entry gets, the
rack's required node affinity next to KAAP's rules, and what cannot work, at its field."""

from __future__ import annotations

import pytest

from k8s import assert_valid
from unit.feature_support import (
    KAAP,
    errors_of,
    of_kind,
    paths,
    pod_spec,
    render_spec,
    warnings_of,
)

ZONE = "topology.kubernetes.io/zone"
HOST = "kubernetes.io/hostname"
SPREAD = {"maxSkew": 1, "topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule"}


def spread_of(objects, kind, name):
    return pod_spec(objects, kind, name).get("topologySpreadConstraints")


def test_global_constraints_reach_every_component_with_its_own_selector():
    objects, _ = render_spec({"global": {"topologySpreadConstraints": [SPREAD]},
                              "functionsWorker": {"replicas": 1}})
    for kind, name, component in (("StatefulSet", "pulsar-zookeeper", "zookeeper"),
                                  ("StatefulSet", "pulsar-bookkeeper", "bookkeeper"),
                                  ("StatefulSet", "pulsar-broker", "broker"),
                                  ("Deployment", "pulsar-proxy", "proxy"),
                                  ("Deployment", "pulsar-autorecovery", "autorecovery"),
                                  ("Deployment", "pulsar-bastion", "bastion"),
                                  ("StatefulSet", "pulsar-function", "function")):
        [entry] = spread_of(objects, kind, name)
        assert entry["labelSelector"] == {"matchLabels": {
            "app": "pulsar", "component": component, "cluster": "pulsar"}}, name
        assert {k: entry[k] for k in SPREAD} == SPREAD
    # Jobs are not spread (they get no affinity either)
    for job in of_kind(objects, "Job").values():
        assert "topologySpreadConstraints" not in job["spec"]["template"]["spec"]
    assert_valid(objects)


def test_oxia_servers_take_the_global_constraints_the_coordinator_none():
    objects, _ = render_spec({"global": {"topologySpreadConstraints": [SPREAD]},
                              "oxia": {"enabled": True}})
    [entry] = spread_of(objects, "StatefulSet", "pulsar-oxia-server")
    assert entry["labelSelector"]["matchLabels"]["component"] == "oxia-server"
    assert spread_of(objects, "Deployment", "pulsar-oxia-coordinator") is None


def test_component_and_set_constraints_replace_the_inherited_ones():
    own = {"maxSkew": 2, "topologyKey": HOST, "whenUnsatisfiable": "ScheduleAnyway"}
    objects, _ = render_spec({
        "global": {"topologySpreadConstraints": [SPREAD], "resourceSets": {"a": {}, "b": {}}},
        "zookeeper": {"topologySpreadConstraints": [own]},
        "autorecovery": {"topologySpreadConstraints": []},
        "broker": {"sets": {"a": {}, "b": {"topologySpreadConstraints": [own]}}}})
    assert [e["topologyKey"] for e in spread_of(objects, "StatefulSet", "pulsar-zookeeper")] \
        == [HOST]
    assert spread_of(objects, "Deployment", "pulsar-autorecovery") is None  # [] means none
    [a] = spread_of(objects, "StatefulSet", "pulsar-broker-a")
    [b] = spread_of(objects, "StatefulSet", "pulsar-broker-b")
    assert (a["topologyKey"], b["topologyKey"]) == (ZONE, HOST)
    # each set's own selector: the set's pods, not the whole component's
    assert a["labelSelector"]["matchLabels"]["resource-set"] == "a"
    assert b["labelSelector"]["matchLabels"]["resource-set"] == "b"


def test_an_entry_with_a_selector_keeps_it():
    selector = {"matchExpressions": [{"key": "component", "operator": "In",
                                      "values": ["bookkeeper", "broker"]}]}
    objects, _ = render_spec({"bookkeeper": {"topologySpreadConstraints": [
        {**SPREAD, "labelSelector": selector, "matchLabelKeys": ["controller-revision-hash"]}]}})
    [entry] = spread_of(objects, "StatefulSet", "pulsar-bookkeeper")
    assert entry["labelSelector"] == selector
    assert_valid(objects)


def test_kaap_input_without_the_field_keeps_its_pod_templates():
    plain, _ = render_spec({}, api_version=KAAP)
    assert not any("topologySpreadConstraints" in o["spec"]["template"]["spec"]
                   for o in plain if o["kind"] in ("StatefulSet", "Deployment"))


@pytest.mark.parametrize("entry,field", [
    ({"topologyKey": ZONE, "whenUnsatisfiable": "DoNotSchedule"}, "maxSkew"),
    ({**SPREAD, "maxSkew": 0}, "maxSkew"),
    ({**SPREAD, "topologyKey": ""}, "topologyKey"),
    ({**SPREAD, "topologyKey": "not a key!"}, "topologyKey"),
    ({**SPREAD, "whenUnsatisfiable": "Never"}, "whenUnsatisfiable"),
    ({**SPREAD, "whenUnsatisfiable": "ScheduleAnyway", "minDomains": 3}, "minDomains"),
    ({**SPREAD, "nodeAffinityPolicy": "Always"}, "nodeAffinityPolicy"),
    ({**SPREAD, "labelSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
     "labelSelector.matchExpressions[0].values"),
    ({**SPREAD, "matchLabelKeys": ["component"]}, "matchLabelKeys[0]"),
])
def test_what_the_api_server_refuses_is_an_error_at_its_field(entry, field):
    found = errors_of({"zookeeper": {"topologySpreadConstraints": [entry]}})
    assert f"spec.zookeeper.topologySpreadConstraints[0].{field}" in paths(found)


INT32_MAX = 2147483647


@pytest.mark.parametrize("entry,field", [
    # a labelSelector's matchLabels that is no mapping (was an internal error)
    ({**SPREAD, "labelSelector": {"matchLabels": ["a"]}}, "labelSelector.matchLabels"),
    ({**SPREAD, "labelSelector": {"matchLabels": "x"}}, "labelSelector.matchLabels"),
    ({**SPREAD, "labelSelector": {"matchLabels": 5}}, "labelSelector.matchLabels"),
    ({**SPREAD, "labelSelector": {"matchExpressions": {"key": "a"}}},
     "labelSelector.matchExpressions"),
    # int32 fields: the API server refuses 2^31
    ({**SPREAD, "maxSkew": INT32_MAX + 1}, "maxSkew"),
    ({**SPREAD, "minDomains": INT32_MAX + 1}, "minDomains"),
    ({**SPREAD, "minSkew": 1}, "minSkew"),  # unknown field
])
@pytest.mark.parametrize("where", ["zookeeper", "global", "broker.sets.a"])
def test_kubernetes_structure_of_an_entry_is_checked_as_written(entry, field, where):
    spec: dict = {}
    target = spec
    for part in where.split("."):
        target = target.setdefault(part, {})
    target["topologySpreadConstraints"] = [entry]
    if where == "broker.sets.a":
        spec["global"] = {"resourceSets": {"a": {}}}
    found = errors_of(spec)
    assert f"spec.{where}.topologySpreadConstraints[0].{field}" in paths(found), found


def test_the_largest_int32_is_accepted():
    objects, _ = render_spec({"broker": {"topologySpreadConstraints": [
        {**SPREAD, "maxSkew": INT32_MAX, "minDomains": INT32_MAX}]}})
    [entry] = spread_of(objects, "StatefulSet", "pulsar-broker")
    assert (entry["maxSkew"], entry["minDomains"]) == (INT32_MAX, INT32_MAX)


@pytest.mark.parametrize("selector,field", [
    ({"matchLabels": ["a"]}, "labelSelector.matchLabels"),
    ({"matchLabels": 5}, "labelSelector.matchLabels"),
    ({"matchExpressions": "x"}, "labelSelector.matchExpressions"),
    ({"matchExpressions": 5}, "labelSelector.matchExpressions"),
])
def test_entry_problems_reports_a_malformed_selector_instead_of_failing(selector, field):
    # the check of merged sets runs on what the read phase let through; it must not crash
    # on any shape either
    from krm_pulsar.placement.spread import entry_problems

    found = entry_problems({**SPREAD, "labelSelector": selector, "maxSkew": INT32_MAX + 1,
                            "matchLabelKeys": ["pod-template-hash"]},
                           "e", {"app": "pulsar"})
    assert {f"e.{field}", "e.maxSkew"} <= {path for path, _ in found}, found


def test_two_entries_with_the_same_key_and_action_are_refused_once():
    found = errors_of({"global": {"topologySpreadConstraints": [SPREAD, {**SPREAD,
                                                                        "maxSkew": 2}]}})
    # reported once at the global entry, not once per component
    assert paths(found) == ["spec.global.topologySpreadConstraints[1]"]


RACKED = {"global": {"racks": {"r1": {"zone": {"enabled": True}},
                               "r2": {"zone": {"enabled": True}}},
                     "resourceSets": {"a": {"rack": "r1"}, "b": {"rack": "r2"}}},
          "bookkeeper": {"replicas": 2, "sets": {"a": {}, "b": {}}},
          # two zones cannot keep a ZooKeeper majority out of one: no zone warning
          "zookeeper": {"replicas": 1}}


def test_a_zone_rack_spread_over_zones_is_refused_unless_pinned():
    spec = {**RACKED, "bookkeeper": {**RACKED["bookkeeper"],
                                     "topologySpreadConstraints": [SPREAD]}}
    found = errors_of(spec)
    assert "spec.bookkeeper.topologySpreadConstraints[0]" in paths(found)
    assert "Pending" in found[0].message
    pinned = {**spec, "global": {**spec["global"], "racks": {
        "r1": {"zone": {"enabled": True, "name": "z1"}},
        "r2": {"zone": {"enabled": True, "name": "z2"}}}}}
    assert warnings_of(pinned) == []
    lenient = {**spec, "bookkeeper": {**spec["bookkeeper"], "topologySpreadConstraints": [
        {**SPREAD, "whenUnsatisfiable": "ScheduleAnyway"}]}}
    assert "spec.bookkeeper.topologySpreadConstraints[0]" in paths(warnings_of(lenient))
    # spreading over nodes inside the rack's zone is what racks leave open
    inside = {**spec, "bookkeeper": {**spec["bookkeeper"], "topologySpreadConstraints": [
        {**SPREAD, "topologyKey": HOST}]}}
    assert warnings_of(inside) == []


# --- pinned racks --------------------------------------------------------------------------------

PINNED = {"global": {"racks": {"a": {"zone": {"enabled": True, "name": "eu-1a"}},
                               "b": {"zone": {"enabled": True, "name": "eu-1b"}},
                               "n": {"host": {"enabled": True, "name": "node-7"}}},
                     "resourceSets": {"za": {"rack": "a"}, "zb": {"rack": "b"},
                                      "edge": {"rack": "n"}}},
          "bookkeeper": {"sets": {"za": {}, "zb": {}}},
          "proxy": {"sets": {"edge": {}}}}


def test_a_pinned_rack_gets_a_required_node_affinity_beside_kaaps_rules():
    objects, _ = render_spec(PINNED)
    affinity = pod_spec(objects, "StatefulSet", "pulsar-bookkeeper-za")["affinity"]
    assert affinity["nodeAffinity"] == {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": ZONE, "operator": "In", "values": ["eu-1a"]}]}]}}
    # KAAP's rack rules stay: gather in the rack, stay out of the others
    assert affinity["podAffinity"] and affinity["podAntiAffinity"]
    edge = pod_spec(objects, "Deployment", "pulsar-proxy-edge")["affinity"]["nodeAffinity"]
    assert edge["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-7"]}]}]
    # components without racks are not pinned
    assert "nodeAffinity" not in (pod_spec(objects, "StatefulSet", "pulsar-zookeeper")
                                  .get("affinity") or {})
    assert_valid(objects)


def test_the_pin_is_added_to_every_term_of_the_sets_own_node_affinity():
    own = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["x"]}]},
        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["y"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 1, "preference": {"matchExpressions": [
                {"key": "ssd", "operator": "Exists"}]}}]}
    spec = {**PINNED, "bookkeeper": {"sets": {"za": {"nodeAffinity": own}, "zb": {}}}}
    objects, _ = render_spec(spec)
    node = pod_spec(objects, "StatefulSet", "pulsar-bookkeeper-za")["affinity"]["nodeAffinity"]
    terms = node["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert [t["matchExpressions"][-1]["values"] for t in terms] == [["eu-1a"], ["eu-1a"]]
    assert [t["matchExpressions"][0]["values"] for t in terms] == [["x"], ["y"]]
    assert node["preferredDuringSchedulingIgnoredDuringExecution"] == \
        own["preferredDuringSchedulingIgnoredDuringExecution"]
    # the spec's value itself is left as written
    assert len(own["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0][
        "matchExpressions"]) == 1


def test_kaap_input_uses_its_zone_key():
    objects, _ = render_spec(PINNED, api_version=KAAP)
    node = pod_spec(objects, "StatefulSet", "pulsar-bookkeeper-za")["affinity"]["nodeAffinity"]
    expression = node["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"][0]["matchExpressions"][0]
    assert expression["key"] == "failure-domain.beta.kubernetes.io/zone"


def test_racks_pinned_to_one_zone():
    both = {"global": {"racks": {"a": {"zone": {"enabled": True, "name": "z"}},
                                 "b": {"zone": {"enabled": True, "name": "z"}}}}}
    assert paths(errors_of(both)) == ["spec.global.racks.b.zone.name"]
    loose = {"global": {"racks": {"a": {"zone": {"name": "z"}}, "b": {"zone": {"name": "z"}}}}}
    assert "spec.global.racks.b.zone.name" in paths(warnings_of(loose))


@pytest.mark.parametrize("rack,path", [
    ({"zone": {"name": "not a zone!"}}, "spec.global.racks.r.zone.name"),
    ({"zone": {"name": "z" * 64}}, "spec.global.racks.r.zone.name"),
    ({"host": {"name": "Node_1"}}, "spec.global.racks.r.host.name"),
])
def test_names_that_cannot_match_a_node_are_refused(rack, path):
    assert path in paths(errors_of({"global": {"racks": {"r": rack}}}))
