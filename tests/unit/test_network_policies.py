"""Least-privilege NetworkPolicies (krm_pulsar/network_policies, docs/security.md#networkpolicies).

The reachability test evaluates the rendered policies by the NetworkPolicy semantics
(tests/support/netpol_eval.py) over every pair of rendered pods and peers outside the cluster,
and compares the whole matrix with the connections the rendered configuration needs
(tests/support/netpol_reader.py, which reads only the rendered objects): every needed
connection allowed, every other denied (tests/support/reachability.py). The property-generated
specs get the same test in tests/properties/test_network_policies.py.
"""

from __future__ import annotations

import os
import re

import pytest
from conftest import FIXTURES, ROOT
from k8s import assert_valid
from netpol_eval import Peer, allowed, matrix
from reachability import compare, table, with_policies

from krm_pulsar import names, registry, render, yamlio


def load(fixture: str) -> dict:
    return yamlio.load_all((FIXTURES / f"{fixture}.yaml").read_text())[0]


def rendered(config: dict) -> list:
    objects, findings = render.render(config)
    errors = [f for f in findings if f.severity == "error"]
    assert not errors, errors
    return objects


def policies(objects: list) -> dict:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == "NetworkPolicy"}


# --- the specs of the reachability test ---------------------------------------------------------


def _kafka_tls() -> dict:
    """Kafka on brokers and proxies, both with TLS, the proxies talking TLS to the brokers."""
    config = load("minimal")
    config["metadata"]["namespace"] = "pulsar"
    config["spec"]["global"]["tls"] = {"enabled": True, "broker": {"enabled": True},
                                       "proxy": {"enabled": True, "enabledWithBroker": True}}
    config["spec"]["broker"] = {"kafka": {"enabled": True, "exposePorts": True}}
    config["spec"]["proxy"] = {"kafka": {"enabled": True, "exposePorts": True},
                               "service": {"additionalPorts": [{"name": "extra", "port": 9999}]}}
    return config


def _kafka_on_brokers_only() -> dict:
    """Kafka on the brokers with exposed ports, proxies without the Kafka extension: Kafka
    clients dial the brokers."""
    config = load("minimal")
    config["spec"]["broker"] = {"kafka": {"enabled": True, "exposePorts": True}}
    return config


def _no_proxy() -> dict:
    """No proxy: the brokers face the clients, on exactly their Service ports."""
    config = load("minimal")
    config["spec"]["proxy"] = {"replicas": 0}
    config["spec"]["broker"] = {"kafka": {"enabled": True, "exposePorts": True},
                                "service": {"additionalPorts": [{"name": "mqtt", "port": 1883}]}}
    return config


def _renamed() -> dict:
    """The production fixture with every component renamed, a renamed set, set labels."""
    config = load("production")
    config["spec"]["global"]["components"] = {
        "zookeeperBaseName": "zk", "bookkeeperBaseName": "bookie", "brokerBaseName": "brk",
        "proxyBaseName": "gateway", "autorecoveryBaseName": "recovery",
        "bastionBaseName": "admin", "functionsWorkerBaseName": "functions"}
    config["spec"]["broker"]["sets"]["b"]["overrideResourceName"] = "brokers-zone-b"
    config["spec"]["bookkeeper"]["sets"]["c"]["podLabels"] = {"team": "storage"}
    config["spec"]["proxy"]["matchLabels"] = {"pool": "edge"}
    return config


def _options() -> dict:
    """What changes the rules: replication in the bookies (no autorecovery pods), function
    packages in BookKeeper, worker TLS behind proxies without TLS to the brokers, one
    ZooKeeper server, transactions, Service ports added to internal components, the bastion
    on the brokers, proxies without the websocket service."""
    config = load("minimal")
    config["metadata"]["namespace"] = "pulsar"
    config["spec"]["global"]["tls"] = {"enabled": True, "functionsWorker": {"enabled": True},
                                       "proxy": {"enabled": True}, "broker": {"enabled": True}}
    config["spec"]["zookeeper"] = {"replicas": 1, "service": {
        "additionalPorts": [{"name": "admin", "port": 9990}]}}
    config["spec"]["bookkeeper"] = {"config": {"autoRecoveryDaemonEnabled": "true"}}
    config["spec"]["autorecovery"] = {"replicas": 0}
    config["spec"]["broker"] = {"transactions": {"enabled": True}}
    config["spec"]["functionsWorker"] = {"replicas": 2, "service": {
        "additionalPorts": [{"name": "debug", "port": 5005}]}}
    config["spec"]["bastion"] = {"targetProxy": False}
    config["spec"]["proxy"] = {"webSocket": {"enabled": False}}
    return config


def _no_brokers() -> dict:
    """No broker renders (they run elsewhere): whatever names the brokers reaches nothing,
    the functions worker keeps its packages in the bookies it learns from its store."""
    config = load("minimal")
    config["metadata"]["namespace"] = "pulsar"
    config["spec"]["broker"] = {"replicas": 0}
    config["spec"]["functionsWorker"] = {"replicas": 1}
    return config


def _oxia_single_copy() -> dict:
    config = load("full-oxia")
    config["spec"]["oxia"]["replicationFactor"] = 1
    return config


def _kaap_external_zookeeper():
    """KAAP input with ZooKeeper run elsewhere (no replicas of ours): the brokers, bookies and
    autorecovery still share that store; KAAP's bastion names none (found by the property test:
    the reader matched the bastion's empty store to the bookies' unrendered one)."""
    config = load("kaap-basic")
    config["spec"]["zookeeper"] = {"replicas": 0}
    return config


SPECS = {
    "production": lambda: load("production"),
    "three-zones": lambda: load("three-zones"),
    "tls-auth-resource-sets": lambda: load("tls-auth-resource-sets"),
    "tls-cert-manager": lambda: load("tls-cert-manager"),
    "tls-existing-secrets": lambda: load("tls-existing-secrets"),
    "auth-token": lambda: load("auth-token"),
    "oxia": lambda: load("full-oxia"),
    "oxia-single-copy": _oxia_single_copy,
    "functions-worker-kubernetes-runtime": lambda: load("full-functions-worker"),
    "functions-embedded": lambda: load("full-functions-embedded"),
    "every-knob": lambda: load("full-every-knob"),
    "kaap": lambda: load("full-kaap"),
    "kaap-host-racks": lambda: load("kaap-host-racks"),
    "kafka-tls": _kafka_tls,
    "kafka-on-brokers-only": _kafka_on_brokers_only,
    "no-proxy": _no_proxy,
    "no-brokers": _no_brokers,
    "renamed-components": _renamed,
    "options": _options,
    "egress-fixture": lambda: load("network-policies-egress"),
    "kaap-external-zookeeper": _kaap_external_zookeeper,
}


@pytest.mark.parametrize("egress", [False, True], ids=["ingress", "egress"])
@pytest.mark.parametrize("case", sorted(SPECS))
def test_reachability_matches_what_the_configuration_connects(case, egress):
    config = with_policies(SPECS[case](), egress=egress, broker_clients=True)
    objects = rendered(config)
    _, expected, problems = compare(objects, egress=egress, broker_clients=True)
    assert not problems, "\n".join(problems)
    # not vacuous: the configuration connects things, and the clients reach the cluster
    assert len(expected) > 10
    assert any(source == "outside" for source, _ in expected)
    assert_valid([o for o in objects if o["kind"] == "NetworkPolicy"])


def test_the_comparison_finds_a_missing_and_an_extra_rule():
    objects = rendered(with_policies(load("production")))
    assert compare(objects)[2] == []
    zookeeper = policies(objects)["pulsar-zookeeper"]["spec"]["ingress"]
    clients = next(rule for rule in zookeeper if {"protocol": "TCP", "port": 2181}
                   in rule["ports"])
    clients["from"] = [peer for peer in clients["from"]
                       if peer["podSelector"]["matchLabels"]["component"] != "function"]
    assert compare(objects)[2] == [
        "StatefulSet/pulsar-function -> StatefulSet/pulsar-zookeeper: needed but denied 2181"]
    clients["from"].append({"podSelector": {"matchLabels": {"component": "function"}}})
    clients["ports"].append({"protocol": "TCP", "port": 8000})
    problems = compare(objects)[2]
    assert problems and all("allowed but not needed" in p and "8000" in p for p in problems)


def test_the_comparison_finds_an_open_port_no_one_uses():
    objects = rendered(with_policies(load("production")))
    policies(objects)["pulsar-bookkeeper-a"]["spec"]["ingress"].append(
        {"ports": [{"protocol": "TCP", "port": 1, "endPort": 65535}]})
    problems = compare(objects)[2]
    assert any(p.startswith("outside -> StatefulSet/pulsar-bookkeeper-a: allowed but not "
                            "needed") for p in problems)


def test_the_comparison_finds_a_connection_the_reader_knows_but_the_policies_forgot():
    """A bookie that replicates (autoRecoveryDaemonEnabled) dials the other bookies: with the
    rule for it removed, the reader's side reports it."""
    config = with_policies(load("minimal"))
    config["spec"]["bookkeeper"] = {"config": {"autoRecoveryDaemonEnabled": "true"}}
    objects = rendered(config)
    assert compare(objects)[2] == []
    bookies = policies(objects)["pulsar-bookkeeper"]["spec"]["ingress"][0]
    bookies["from"] = [p for p in bookies["from"]
                       if p["podSelector"]["matchLabels"]["component"] != "bookkeeper"]
    assert compare(objects)[2] == [
        "StatefulSet/pulsar-bookkeeper -> StatefulSet/pulsar-bookkeeper: needed but denied 3181"]


def test_egress_lockdown_needs_the_egress_rules():
    objects = rendered(with_policies(load("production"), egress=True))
    assert compare(objects, egress=True)[2] == []
    broker = policies(objects)["pulsar-broker-a"]["spec"]
    broker["egress"] = [rule for rule in broker["egress"]
                        if {"protocol": "TCP", "port": 3181} not in rule["ports"]]
    problems = compare(objects, egress=True)[2]
    assert problems == [f"StatefulSet/pulsar-broker-a -> StatefulSet/pulsar-bookkeeper-{s}: "
                        f"needed but denied 3181" for s in "abc"]


# --- the evaluator is the NetworkPolicy semantics ------------------------------------------------


def _pod(name: str, labels: dict, namespace: str = "ns", ports: dict | None = None) -> Peer:
    return Peer(name, f"10.0.0.{len(name)}", namespace, labels, ports)


def _netpol(spec: dict) -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "ns"}, "spec": spec}


def test_evaluator_isolates_only_selected_pods_and_needs_both_directions():
    web, db = _pod("web", {"app": "web"}), _pod("db", {"app": "db"})
    deny_db = _netpol({"podSelector": {"matchLabels": {"app": "db"}}})
    assert allowed([deny_db], "ns", db, web, "TCP", 80)  # web is not selected
    assert not allowed([deny_db], "ns", web, db, "TCP", 5432)
    allow = _netpol({"podSelector": {"matchLabels": {"app": "db"}},
                     "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                                  "ports": [{"port": 5432}]}]})
    assert allowed([deny_db, allow], "ns", web, db, "TCP", 5432)
    assert not allowed([deny_db, allow], "ns", web, db, "UDP", 5432)
    assert not allowed([deny_db, allow], "ns", web, db, "TCP", 5433)
    # egress-only policies do not isolate for ingress, and egress needs its own rule
    egress = _netpol({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]})
    assert not allowed([allow, egress], "ns", web, db, "TCP", 5432)
    assert allowed([allow], "ns", web, db, "TCP", 5432)
    implicit = _netpol({"podSelector": {},
                        "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]})
    assert policy_types_of(implicit) == ["Ingress", "Egress"]
    assert not allowed([implicit], "ns", web, db, "TCP", 5432)


def policy_types_of(policy: dict) -> list:
    from netpol_eval import policy_types

    return policy_types(policy)


def test_evaluator_selectors_namespaces_ip_blocks_named_ports_and_ranges():
    db = _pod("db", {"app": "db", "tier": "data"}, ports={"sql": ("TCP", 5432)})
    other_ns = _pod("client", {"app": "web"}, namespace="apps")
    here = _pod("web", {"app": "web"})
    external = Peer("s3", "203.0.113.100")
    spec = {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In",
                                                  "values": ["data"]}]},
            "ingress": [
                {"from": [{"namespaceSelector": {"matchLabels": {
                    "kubernetes.io/metadata.name": "apps"}}, "podSelector": {
                    "matchExpressions": [{"key": "app", "operator": "Exists"}]}}],
                 "ports": [{"port": "sql"}]},
                {"from": [{"ipBlock": {"cidr": "203.0.113.0/24", "except": ["203.0.113.0/28"]}}],
                 "ports": [{"port": 6000, "endPort": 6010}]},
                {"from": [{"podSelector": {"matchExpressions": [
                    {"key": "app", "operator": "NotIn", "values": ["web"]}]}}]},
            ]}
    rules = [_netpol(spec)]
    assert allowed(rules, "ns", other_ns, db, "TCP", 5432)  # named port resolved on db
    assert not allowed(rules, "ns", here, db, "TCP", 5432)  # podSelector alone: same namespace
    assert not allowed(rules, "ns", other_ns, db, "TCP", 5433)
    assert allowed(rules, "ns", external, db, "TCP", 6010)
    assert not allowed(rules, "ns", external, db, "TCP", 6011)
    assert not allowed(rules, "ns", Peer("inner", "203.0.113.5"), db, "TCP", 6000)  # except
    assert allowed(rules, "ns", _pod("batch", {"app": "batch"}), db, "TCP", 1)
    assert allowed(rules, "ns", _pod("bare", {}), db, "TCP", 1)  # NotIn: no such label
    cells = matrix(rules, "ns", [other_ns, here], [db], [("TCP", 5432), ("TCP", 1)])
    assert cells == {("client", "db"): {("TCP", 5432)}}


# --- the policies themselves ---------------------------------------------------------------------


def test_policies_are_named_like_the_workloads_and_select_their_pods():
    objects = rendered(with_policies(load("production")))
    found = policies(objects)
    workloads = {o["metadata"]["name"]: o for o in objects
                 if o["kind"] in ("StatefulSet", "Deployment")}
    # every workload that accepts something has its policy, with the workload's selector
    for name, policy in found.items():
        assert policy["metadata"]["labels"] == {"app": "pulsar", "cluster": "pulsar",
                                                "component": "network-policy"}
        if name in workloads:
            assert policy["spec"]["podSelector"]["matchLabels"] == \
                workloads[name]["spec"]["selector"]["matchLabels"]
    assert sorted(found) == sorted([
        "pulsar-default-deny", "pulsar-zookeeper", "pulsar-autorecovery", "pulsar-function",
        *(f"pulsar-{c}-{s}" for c in ("bookkeeper", "broker", "proxy") for s in "abc")])
    default = found["pulsar-default-deny"]["spec"]
    assert default == {"podSelector": {"matchLabels": {"app": "pulsar", "cluster": "pulsar"}},
                       "policyTypes": ["Ingress"]}
    # the Jobs' and the bastion's pods are isolated by the default policy alone
    pods = [o["spec"]["template"]["metadata"]["labels"] for o in objects
            if o["kind"] in ("Job", "Deployment", "StatefulSet")]
    assert all(labels["app"] == "pulsar" and labels["cluster"] == "pulsar" for labels in pods)


def test_rules_with_the_same_ports_are_one_rule_and_sets_one_peer():
    objects = rendered(with_policies(load("production")))
    bookie = policies(objects)["pulsar-bookkeeper-b"]["spec"]["ingress"]
    assert bookie == [
        {"from": [{"podSelector": {"matchLabels": {"app": "pulsar", "component": c,
                                                   "cluster": "pulsar"}}}
                  for c in ("broker", "autorecovery", "bastion")],
         "ports": [{"protocol": "TCP", "port": 3181}]},
        {"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "monitoring"}}}],
         "ports": [{"protocol": "TCP", "port": 8000}]}]
    # the proxies: from anywhere on exactly their Service ports, nothing narrower beside it
    proxy = policies(objects)["pulsar-proxy-a"]["spec"]["ingress"]
    assert proxy == [{"ports": [{"protocol": "TCP", "port": p} for p in (6650, 8000, 8080)]}]


def test_a_set_with_its_own_labels_is_named_on_its_own():
    """A set whose pods lack a base label cannot be reached through the component's base
    selector: its peers name it by its own selector."""
    config = with_policies(load("production"))
    config["spec"]["broker"]["sets"]["c"]["matchLabels"] = {"component": "edge-broker"}
    objects = rendered(config)
    assert compare(objects)[2] == []
    bookie = policies(objects)["pulsar-bookkeeper-a"]["spec"]["ingress"][0]["from"]
    brokers = [p["podSelector"]["matchLabels"] for p in bookie
               if "broker" in p["podSelector"]["matchLabels"]["component"]]
    assert [b.get("resource-set") for b in brokers] == ["a", "b", "c"]


def test_network_policies_are_off_by_default():
    assert not policies(rendered(load("minimal")))


def test_function_instances_are_selected_by_the_labels_the_worker_gives_them():
    objects = rendered(with_policies(load("full-functions-worker")))
    worker = next(o for o in objects if o["kind"] == "ConfigMap"
                  and "functions_worker.yml" in o.get("data", {}))
    factory = yamlio.load_all(worker["data"]["functions_worker.yml"])[0][
        "functionRuntimeFactoryConfigs"]
    instance = policies(objects)[f"{factory['customLabels']['cluster']}-function-instance"]
    assert instance["spec"]["podSelector"]["matchLabels"] == factory["customLabels"]
    assert {p["port"] for r in instance["spec"]["ingress"] for p in r["ports"]} == {
        factory["grpcPort"], factory["metricsPort"]}
    # no Service, workload or PDB of ours selects the instances
    for obj in objects:
        selector = (obj.get("spec") or {}).get("selector")
        if isinstance(selector, dict) and obj["kind"] != "NetworkPolicy":
            wanted = selector.get("matchLabels", selector)
            assert not all(factory["customLabels"].get(k) == v for k, v in wanted.items())


def test_egress_lockdown_renders_dns_the_api_server_and_the_allowed_peers():
    found = policies(rendered(load("network-policies-egress")))
    default = found["secure-default-deny"]["spec"]
    assert default["policyTypes"] == ["Ingress", "Egress"]
    assert default["egress"] == [{"to": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "kube-system"}}, "podSelector": {"matchLabels": {
            "k8s-app": "kube-dns"}}}], "ports": [{"protocol": "UDP", "port": 53},
                                                 {"protocol": "TCP", "port": 53}]}]
    api = sorted(name for name, policy in found.items()
                 for rule in policy["spec"].get("egress") or []
                 if rule.get("to") == [{"ipBlock": {"cidr": "172.18.0.2/32"}}])
    assert api == ["secure-functions", "secure-token-init"]
    out = {name: [rule["to"][0]["ipBlock"]["cidr"] for rule in policy["spec"]["egress"]
                  if "ipBlock" in rule["to"][0]]
           for name, policy in found.items() if policy["spec"].get("egress")}
    assert out["secure-brk-r1"] == ["0.0.0.0/0", "198.51.100.0/24"]
    assert out["secure-functions-instance"] == ["192.0.2.15/32"]  # the worker's rules too
    assert out["secure-gateway"] == []
    assert all(p["spec"]["policyTypes"][-1] == "Egress" for p in found.values()
               if p["spec"].get("egress"))


# --- a component added later fails until its rules are written ----------------------------------


def test_every_component_and_job_has_rules():
    from krm_pulsar.network_policies import links, pods

    for entry in registry.COMPONENTS:
        for target in entry.connects_to:
            assert target in links.DIALS, f"{entry.section} dials {target}: no rule"
    for kind in (pods.METADATA_JOB, pods.TRANSACTIONS_JOB, pods.RACK_JOB, pods.TOKEN_JOB,
                 pods.FUNCTION_INSTANCE):
        assert kind in links.CONNECTS_TO


def test_a_component_added_through_the_registry_has_no_policies_until_its_rules_exist(
        monkeypatch):
    from unit.test_architecture import _add_echo

    _add_echo(monkeypatch)
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "pulsar", "namespace": "pulsar"},
              "spec": {"echo": {"replicas": 1}}}
    rendered(config)  # without NetworkPolicies it renders
    with pytest.raises(ValueError, match="how echo pods dial broker"):
        render.render(with_policies(config))
    # and the reachability reader does not know its process either
    from netpol_reader import needed

    objects = rendered(config)
    with pytest.raises(ValueError, match="knows no process"):
        needed(objects)


def test_a_workload_of_an_unknown_component_is_refused():
    from krm_pulsar.cluster import Cluster
    from krm_pulsar.network_policies import pods

    config = with_policies(load("minimal"))
    objects = rendered(config)
    spec, _ = render.load(config)
    job = next(o for o in objects if o["kind"] == "Job")
    job["spec"]["template"]["metadata"]["labels"][names.COMPONENT_LABEL] = "backup"
    with pytest.raises(ValueError, match="component 'backup'"):
        pods.groups(Cluster(spec, config), objects)


# --- checks of the settings ----------------------------------------------------------------------


def _findings(settings: dict) -> list:
    config = load("minimal")
    config["spec"]["global"]["networkPolicies"] = settings
    return render.render(config)[1]


@pytest.mark.parametrize(("settings", "path", "message"), [
    ({"enabled": True, "metricsFrom": [{"namespace": "monitoring"}]},
     "spec.global.networkPolicies.metricsFrom[0].namespace", "unknown field 'namespace'"),
    ({"enabled": True, "metricsFrom": [{"ipBlock": {"cidr": "10.0.0.1/8"}}]},
     "spec.global.networkPolicies.metricsFrom[0].ipBlock.cidr", "is not a CIDR"),
    ({"enabled": True, "brokerClientsFrom": [{"ipBlock": {"cidr": "10.0.0.0/8"},
                                              "podSelector": {}}]},
     "spec.global.networkPolicies.brokerClientsFrom[0]", "cannot also have"),
    ({"enabled": True, "metricsFrom": [{"podSelector": {"matchExpressions": [
        {"key": "app", "operator": "Is", "values": ["x"]}]}}]},
     "spec.global.networkPolicies.metricsFrom[0].podSelector.matchExpressions[0].operator",
     "not one of"),
    ({"enabled": True, "egress": {"enabled": True, "allow": {"broker": [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "endPort": 80}]}]}}},
     "spec.global.networkPolicies.egress.allow.broker[0].ports[0].endPort", "endPort"),
    ({"enabled": True, "egress": {"enabled": True, "dns": [{"from": []}]}},
     "spec.global.networkPolicies.egress.dns[0].from", "unknown field 'from'"),
    ({"enabled": True, "egress": {"enabled": True, "allow": {"brokers": []}}},
     "spec.global.networkPolicies.egress.allow.brokers", "did you mean 'broker'"),
])
def test_bad_settings_are_refused_at_their_field(settings, path, message):
    errors = [f for f in _findings(settings) if f.severity == "error"]
    assert [f.path for f in errors] == [path], errors
    assert message in errors[0].message


def test_egress_lockdown_without_the_api_server_is_refused_when_a_pod_calls_it():
    config = load("full-oxia")
    config["spec"].setdefault("global", {})["networkPolicies"] = {
        "enabled": True, "egress": {"enabled": True}}
    errors = [f for f in render.render(config)[1] if f.severity == "error"]
    assert [f.path for f in errors] == ["spec.global.networkPolicies.egress.apiServer"]
    assert "the Oxia coordinator" in errors[0].message
    # nothing calls the API in the minimal cluster: no error
    assert not [f for f in _findings({"enabled": True, "egress": {"enabled": True}})
                if f.severity == "error"]


def test_egress_without_policies_or_dns_is_a_warning():
    warnings = [f for f in _findings({"egress": {"enabled": True}}) if f.severity == "warning"]
    assert [f.path for f in warnings] == ["spec.global.networkPolicies.egress.enabled"]
    warnings = [f for f in _findings({"enabled": True, "egress": {"enabled": True, "dns": []}})
                if f.severity == "warning"]
    assert [f.path for f in warnings] == ["spec.global.networkPolicies.egress.dns"]


# --- docs/security.md shows the production fixture's matrix --------------------------------------

MARKERS = ("<!-- reachability matrix: begin (tests/unit/test_network_policies.py) -->\n",
           "<!-- reachability matrix: end -->\n")


def _matrix_tables() -> str:
    objects = rendered(load("production"))
    allowed_cells, _, problems = compare(objects)
    assert not problems
    locked = rendered(with_policies(load("production"), egress=True))
    locked_cells, _, problems = compare(locked, egress=True)
    assert not problems
    return (table(objects, allowed_cells)
            + "\nWith `egress.enabled` (and `egress.allow.broker`, `egress.allow.functionsWorker` "
              "naming an address outside the cluster as `s3`), the same pods may open only:\n\n"
            + table(locked, locked_cells, outbound=True))


def test_docs_show_the_current_matrix_of_the_production_fixture():
    path = ROOT / "docs" / "security.md"
    text = path.read_text()
    begin, end = MARKERS
    current = text[text.index(begin) + len(begin):text.index(end)]
    tables = _matrix_tables()
    if os.environ.get("UPDATE_DOCS") == "1":
        path.write_text(text.replace(begin + current + end, begin + tables + end))
        current = tables
    assert current == tables, (
        "docs/security.md shows another matrix than the production fixture renders; run "
        "UPDATE_DOCS=1 pytest tests/unit/test_network_policies.py and review the diff")
    assert re.search(r"\| `pulsar-zookeeper` \| 2888, 3888 \|", current)


def test_the_matrix_check_sees_a_changed_cluster():
    """Another cluster gives other tables: the check compares what is rendered."""
    config = load("production")
    config["spec"]["functionsWorker"]["replicas"] = 0
    objects = rendered(config)
    allowed_cells, _, problems = compare(objects)
    assert not problems
    assert table(objects, allowed_cells) not in _matrix_tables()


@pytest.mark.parametrize("fixture", ["production", "network-policies-egress", "full-oxia"])
def test_every_policy_is_applied_no_later_than_the_pods_it_selects(fixture):
    """Argo CD applies wave by wave: a pod must never start before a policy that selects it
    (a wave-0 policy applied after a wave -1 Job's pod would leave it unisolated at first)."""
    from netpol_eval import Peer, selects

    objects = rendered(with_policies(load(fixture), egress=True))

    def wave(obj: dict) -> int:
        return int(obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave",
                                                              "0"))

    found = policies(objects)
    assert wave(found[next(n for n in found if n.endswith("-default-deny"))]) == -1
    checked = 0
    for workload in objects:
        if workload["kind"] not in ("Job", "Deployment", "StatefulSet"):
            continue
        pod = Peer("pod", "10.0.0.1", "ns", workload["spec"]["template"]["metadata"]["labels"])
        for policy in found.values():
            if selects({"spec": policy["spec"]}, pod, "ns"):
                checked += 1
                assert wave(policy) <= wave(workload), (policy["metadata"]["name"],
                                                        workload["metadata"]["name"])
    assert checked > 10


# Peers and egress rules the settings check refuses, each beside a corrected one: the check must
# refuse the first and accept the second, and so must the API server
# (tests/cluster/test_cluster_network_policies.py).
PEER_CASES = [
    ({"namespace": "monitoring"},
     {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}),
    ({}, {"podSelector": {}}),
    ({"ipBlock": {"cidr": "10.0.0.1/8"}}, {"ipBlock": {"cidr": "10.0.0.0/8"}}),
    ({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}, {"ipBlock": {"cidr": "10.0.0.0/8"}}),
    ({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}},
     {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}),
    ({"podSelector": {"matchExpressions": [{"key": "app", "operator": "Is", "values": ["x"]}]}},
     {"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["x"]}]}}),
    ({"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists",
                                            "values": ["x"]}]}},
     {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]}}),
    ({"podSelector": {"matchLabels": {"app": "not valid"}}},
     {"podSelector": {"matchLabels": {"app": "valid"}}}),
]
RULE_CASES = [
    ({"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "endPort": 80}]},
     {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "endPort": 8443}]}),
    ({"from": [{"podSelector": {}}]}, {"to": [{"podSelector": {}}]}),
    ({"ports": [{"port": "HTTP"}]}, {"ports": [{"port": "http"}]}),
    ({"ports": [{"protocol": "ICMP", "port": 1}]}, {"ports": [{"protocol": "SCTP", "port": 1}]}),
    ({"ports": [{"port": 70000}]}, {"ports": [{"port": 7000}]}),
]


@pytest.mark.parametrize(("bad", "good"), PEER_CASES)
def test_the_check_refuses_a_bad_peer_and_accepts_its_correction(bad, good):
    def errors(peer):
        return [f for f in _findings({"enabled": True, "metricsFrom": [peer]})
                if f.severity == "error"]

    assert errors(bad) and all(f.path.startswith("spec.global.networkPolicies.metricsFrom[0]")
                               for f in errors(bad))
    assert errors(good) == []


@pytest.mark.parametrize(("bad", "good"), RULE_CASES)
def test_the_check_refuses_a_bad_egress_rule_and_accepts_its_correction(bad, good):
    def errors(rule):
        return [f for f in _findings({"enabled": True, "egress": {
            "enabled": True, "allow": {"broker": [rule]}}}) if f.severity == "error"]

    assert errors(bad) and all(
        f.path.startswith("spec.global.networkPolicies.egress.allow.broker[0]")
        for f in errors(bad))
    assert errors(good) == []
