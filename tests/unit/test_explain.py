"""`krm-pulsar explain` (issue 15 item 7), through the real process: the report in
docs/racks.md is current, the verdicts follow the rendered rules (racks, anti-affinity, zone
pinning, the brokers' quorum keys), and bad input gets render's errors."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys

import pytest
import yaml

from conftest import FIXTURES, ROOT, run_cli

DOC = ROOT / "docs" / "racks.md"
BLOCK = re.compile(r"<!-- explain fixtures/three-zones\.yaml -->\n```text\n(.*?)```\n"
                   r"<!-- end explain -->", re.S)
THREE_ZONES = FIXTURES / "three-zones.yaml"


def explain_json(config: dict) -> dict:
    out = run_cli(["explain", "--output", "json", "-"], yaml.safe_dump(config))
    assert out.returncode == 0, out.stderr.decode()
    report, = json.loads(out.stdout)["clusters"]
    return report


def three_zones() -> dict:
    return yaml.safe_load(THREE_ZONES.read_text())


def cluster(spec: dict | None = None, api: str = "krm-pulsar.io/v1alpha1") -> dict:
    return {"apiVersion": api, "kind": "PulsarCluster",
            "metadata": {"name": "p", "namespace": "ns"}, "spec": spec or {}}


def worst(report: dict, level: str, kind: str) -> dict:
    return report["outages"][level]["worstCase"][kind]


def test_racks_md_shows_what_the_command_prints():
    out = run_cli(["explain", str(THREE_ZONES)])
    assert out.returncode == 0, out.stderr.decode()
    assert out.stderr == b""
    shown = BLOCK.search(DOC.read_text())
    assert shown, "docs/racks.md lost its explain block"
    assert shown[1] == out.stdout.decode(), (
        "docs/racks.md does not show what `krm-pulsar explain fixtures/three-zones.yaml` prints "
        "now: paste the new output between the markers and read the difference")


def test_three_zones_survives_a_zone_and_a_node():
    report = explain_json(three_zones())
    zone = report["outages"]["zone"]
    assert zone["writesContinue"] is True
    figures = {kind: (v["total"], v["left"]) for kind, v in zone["worstCase"].items()}
    assert figures == {"metadataStore": (3, 2), "bookkeeper": (6, 4), "broker": (3, 2),
                       "proxy": (9, 6), "autorecovery": (1, 0)}
    bookies = worst(report, "zone", "bookkeeper")
    assert (bookies["racks"], bookies["racksLeft"]) == (3, 2)
    ledgers, = bookies["ledgers"]
    assert (ledgers["ensemble"], ledgers["writeQuorum"], ledgers["ackQuorum"],
            ledgers["minRacksPerWriteQuorum"], ledgers["minRacksEnforced"]) == (3, 3, 2, 3, False)
    assert ledgers["racksBelowMinimum"] and ledgers["continues"]
    # the worst zone is one rack's: its bookies, and its two proxy sets together
    assert bookies["lostWith"] == ["pulsar-bookkeeper-shared-az1"]
    assert sorted(worst(report, "zone", "proxy")["lostWith"]) == ["pulsar-proxy-kafka-az1",
                                                                  "pulsar-proxy-shared-az1"]
    node = report["outages"]["node"]
    assert node["writesContinue"] is True
    assert {k: v["left"] for k, v in node["worstCase"].items()} == {
        "metadataStore": 2, "bookkeeper": 5, "broker": 2, "proxy": 7, "autorecovery": 0}


def test_racks_are_apart_and_gather_only_by_preference():
    report = explain_json(three_zones())
    racks = {rack["name"]: rack for rack in report["racks"]}
    assert sorted(racks) == ["rack1", "rack2", "rack3"]
    for rack in racks.values():
        assert rack["zone"] == {"pinned": None, "together": "preferred",
                                "apartFromOtherRacks": True}
    by_name = {w["name"]: w for w in report["workloads"]}
    bookies = by_name["pulsar-bookkeeper-shared-az1"]
    assert bookies["zone"]["maxPodsPerDomain"] == 2 and bookies["node"]["maxPodsPerDomain"] == 1
    assert "pulsar-broker-shared-az2" in bookies["zone"]["neverWith"]
    assert "pulsar-broker-shared-az1" not in bookies["zone"]["neverWith"]
    assert by_name["pulsar-zookeeper"]["zone"]["maxPodsPerDomain"] == 1
    assert any("rack1" in note and "preferred" not in note and "prefer one zone" in note
               for note in report["notGuaranteed"])


def test_enforced_minimum_racks_stop_writes_after_a_zone():
    config = three_zones()
    config["spec"]["broker"]["config"]["bookkeeperClientEnforceMinNumRacksPerWriteQuorum"] = \
        "true"
    report = explain_json(config)
    ledgers, = worst(report, "zone", "bookkeeper")["ledgers"]
    assert ledgers["minRacksEnforced"] and not ledgers["continues"]
    assert report["outages"]["zone"]["writesContinue"] is False
    assert report["outages"]["node"]["writesContinue"] is True  # a node takes no whole rack


def test_without_zone_rules_a_zone_can_take_everything():
    report = explain_json(cluster())
    zone = report["outages"]["zone"]
    assert zone["writesContinue"] is False
    assert worst(report, "zone", "metadataStore")["left"] == 0
    assert worst(report, "zone", "bookkeeper")["left"] == 0
    # the default host anti-affinity keeps one pod of each kind per node
    node = report["outages"]["node"]
    assert node["writesContinue"] is True
    assert {k: v["left"] for k, v in node["worstCase"].items()} == {
        "metadataStore": 2, "bookkeeper": 2, "broker": 2, "proxy": 2, "autorecovery": 0}
    text = run_cli(["explain", "-"], yaml.safe_dump(cluster())).stdout.decode()
    assert re.search(r"ZooKeeper +STOPS +3 -> 0 left, quorum 2", text)
    assert "=> writes may stop" in text


def test_a_set_pinned_to_zones_is_pinned_and_apart_from_other_zones():
    spec = {"global": {"resourceSets": {"a": {}, "b": {}}},
            "bookkeeper": {"replicas": 2, "sets": {
                "a": {"nodeAffinity": _zone_affinity("zone-a")},
                "b": {"nodeAffinity": _zone_affinity("zone-b")}}},
            "broker": {"config": {"managedLedgerDefaultEnsembleSize": "2"}}}
    report = explain_json(cluster(spec))
    by_name = {w["name"]: w for w in report["workloads"]}
    assert by_name["p-bookkeeper-a"]["zone"]["pinned"] == ["zone-a"]
    assert by_name["p-bookkeeper-b"]["zone"]["pinned"] == ["zone-b"]
    assert "p-bookkeeper-b" in by_name["p-bookkeeper-a"]["zone"]["neverWith"]
    # one zone holds one set: 2 of 4 bookies left, an ensemble of 2 still fits
    bookies = worst(report, "zone", "bookkeeper")
    assert (bookies["total"], bookies["left"], bookies["continues"]) == (4, 2, True)


def _zone_affinity(zone: str) -> dict:
    return {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
                               "values": [zone]}]}]}}


def test_oxia_pauses_when_its_one_coordinator_can_go_with_a_server():
    report = explain_json(cluster({"oxia": {"enabled": True}}))
    store = worst(report, "node", "metadataStore")
    assert store["store"] == "oxia"
    assert (store["replicasLeftPerShard"], store["needed"]) == (2, 2)
    assert store["coordinatorLost"] and store["pausesUntilRescheduled"]
    assert not store["continues"]


def test_kaap_input_uses_kaaps_zone_label():
    config = copy.deepcopy(three_zones())
    config["apiVersion"] = "kaap.oss.datastax.com/v1beta1"
    report = explain_json(config)
    assert report["topologyKeys"]["zone"] == "failure-domain.beta.kubernetes.io/zone"
    assert report["outages"]["zone"]["writesContinue"] is True


def test_bad_input_gets_the_render_error_and_exit_1():
    config = cluster({"broker": {"replicas": -1}})
    explained = run_cli(["explain", "-"], yaml.safe_dump(config))
    rendered = run_cli(["render", "-"], yaml.safe_dump(config))
    assert explained.returncode == 1
    assert explained.stdout == b""
    line = explained.stderr.decode()
    assert line == rendered.stderr.decode()
    assert line.count("\n") == 1 and "spec.broker.replicas" in line


@pytest.mark.parametrize(("args", "message"), [
    (["explain"], "explain needs at least one PATH (a file or directory) or - for stdin"),
    (["explain", "--output=xml", "x"], "--output must be text or json, not 'xml'"),
    (["explain", "--zones", "x"], "unknown explain option '--zones'; run krm-pulsar --help"),
])
def test_usage_errors_get_one_line_and_exit_2(args, message):
    out = run_cli(args)
    assert out.returncode == 2
    assert out.stderr.decode() == f"krm-pulsar: error: {message}\n"


def test_a_missing_file_is_one_line_and_exit_1(tmp_path):
    out = run_cli(["explain", str(tmp_path / "nothing.yaml")])
    assert out.returncode == 1
    assert out.stderr.decode().startswith("krm-pulsar: error: cannot read ")


def test_every_json_field_is_documented():
    report = explain_json(three_zones())
    oxia = explain_json(cluster({"oxia": {"enabled": True}}))
    table = DOC.read_text().split("### The JSON report", 1)[1].split("### ", 1)[0]
    documented = {word for span in re.findall(r"`([^`]+)`", table)
                  for word in re.findall(r"[A-Za-z]+", span)}

    def keys(value, found):
        if isinstance(value, dict):
            for key, item in value.items():
                if not key.startswith(("managedLedger", "bookkeeperClient")):
                    found.add(key)
                keys(item, found)
        elif isinstance(value, list):
            for item in value:
                keys(item, found)
        return found

    # podLabels' keys are label names, not fields
    fields = keys(report, set()) | keys(oxia, set())
    fields -= {"app", "component", "cluster", "rack"} | {"resource-set"}
    assert fields - documented == set()


def test_explaining_never_imports_the_schema_module():
    code = ("import sys, io, contextlib; from krm_pulsar import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    cli.main(['explain', {str(THREE_ZONES)!r}])\n"
            "print('krm_pulsar.crd' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_rendering_never_imports_explain():
    code = ("import sys, io, contextlib; from krm_pulsar import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    cli.main(['render', {str(THREE_ZONES)!r}])\n"
            "print('krm_pulsar.explain' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_what_comes_back_in_another_zone_at_once():
    """docs/racks.md#comes-back: a Deployment without volumes comes back elsewhere; a racked
    set (apart from the other racks), a set with claims of its zone and a pinned set do not."""
    report = explain_json(yaml.safe_load((FIXTURES / "production.yaml").read_text()))
    back = {kind: worst(report, "zone", kind)["comesBack"]
            for kind in ("metadataStore", "bookkeeper", "broker", "proxy", "autorecovery")}
    assert back == {"metadataStore": 0, "bookkeeper": 0, "broker": 0, "proxy": 0,
                    "autorecovery": 1}
    # unracked proxies and brokers of the defaults: the proxies (a Deployment) come back, the
    # brokers (no volume either) too; ZooKeeper and bookies keep their claims
    plain = explain_json(cluster())
    assert {kind: worst(plain, "zone", kind)["comesBack"] for kind in
            ("metadataStore", "bookkeeper", "broker", "proxy")} == {
        "metadataStore": 0, "bookkeeper": 0, "broker": 3, "proxy": 3}
    text = run_cli(["explain", "-"], yaml.safe_dump(cluster())).stdout.decode()
    assert re.search(r"proxies +STOPS +3 -> 0 left, 3 back in another zone at once", text)
    assert re.search(r"autorecovery +continues +1 -> 0 left, 1 back in another zone", text)


def test_zookeeper_without_a_zone_rule_is_named_as_the_schedulers_choice():
    production = yaml.safe_load((FIXTURES / "production.yaml").read_text())
    assert not any(note.startswith("pulsar-zookeeper:") for note in explain_json(
        production)["notGuaranteed"]), "production spreads ZooKeeper by zone"
    del production["spec"]["zookeeper"]["topologySpreadConstraints"]
    unruled = explain_json(production)
    assert any(note.startswith("pulsar-zookeeper: no zone rule")
               for note in unruled["notGuaranteed"]), unruled["notGuaranteed"]
    spread = explain_json(three_zones())  # its global zone rule holds ZooKeeper to one a zone
    assert not any(note.startswith("pulsar-zookeeper:") for note in spread["notGuaranteed"])


def one_rack(api: str = "krm-pulsar.io/v1alpha1", proxy_set: dict | None = None) -> dict:
    return cluster({"global": {"racks": {"rack1": {"zone": {"enabled": True}}},
                               "resourceSets": {"a": {"rack": "rack1"}}},
                    "proxy": {"sets": {"a": proxy_set or {"replicas": 3}}}}, api)


@pytest.mark.parametrize("api", ["krm-pulsar.io/v1alpha1", "kaap.oss.datastax.com/v1beta1"])
def test_the_own_node_spread_rule_keeps_lost_proxies_from_coming_back_like_kaaps_term(api):
    """Ours renders the racked proxies' own-node rule as a spread constraint (one pod per node),
    KAAP's input as a required anti-affinity term: a lost node's proxy may find every other
    node holding one in both, so neither comes back at once."""
    report = explain_json(one_rack(api))
    proxy = worst(report, "node", "proxy")
    assert (proxy["total"], proxy["lost"], proxy["comesBack"]) == (3, 1, 0)
    # a single proxy has no other pod of its set to be kept apart from
    single = explain_json(one_rack(api, {"replicas": 1}))
    assert worst(single, "node", "proxy")["comesBack"] == 1


def test_an_own_node_spread_counting_one_pod_is_no_note():
    # one proxy, no surge: the constraint counts one pod, it never holds one back
    no_surge = {"replicas": 1, "updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}}
    report = explain_json(one_rack(proxy_set=no_surge))
    assert not [n for n in report["notGuaranteed"] if "topology spread" in n], \
        report["notGuaranteed"]
    # a spread that only prefers still is one
    spread = {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
              "whenUnsatisfiable": "ScheduleAnyway"}
    loose = explain_json(cluster({"bastion": {"replicas": 2,
                                              "topologySpreadConstraints": [spread]}}))
    assert any(n.startswith("p-bastion: topology spread on topology.kubernetes.io/zone")
               and "not counted" in n for n in loose["notGuaranteed"]), loose["notGuaranteed"]
