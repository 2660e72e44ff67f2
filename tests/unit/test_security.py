"""Security posture of what we generate (docs/security.md): the restricted Pod Security
Standard, KAAP-identical pods for KAAP input, no secret material, NetworkPolicies, and the
kube-score scanner over the production fixture."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess

import pytest

from conftest import FIXTURES, ROOT, _missing_tool, object_name
from k8s import assert_valid
from krm_pulsar import model, render, yamlio
from pss import pod_specs, restricted_violations


def load(fixture: str) -> dict:
    return yamlio.load_all((FIXTURES / fixture).read_text())[0]


def rendered(config: dict) -> list:
    objects, findings = render.render(config)
    assert not [f for f in findings if f.severity == "error"], findings
    return objects


def by_name(objects, kind):
    return {object_name(o): o for o in objects if o["kind"] == kind}


# --- pod security -------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", [
    "minimal.yaml", "namespaced.yaml", "production.yaml", "full-oxia.yaml",
    "full-functions-worker.yaml", "storage-oxia-functions-packages.yaml", "three-zones.yaml",
    "tls-cert-manager.yaml", "tls-auth-resource-sets.yaml", "auth-token.yaml"])
def test_pods_meet_the_restricted_pod_security_standard(fixture):
    objects = rendered(load(fixture))
    assert list(pod_specs(objects)), "no pods rendered"
    assert restricted_violations(objects) == []


def test_the_checker_catches_what_kaap_writes():
    # KAAP's pod templates (kaap mode) are not restricted: the checker must say so
    problems = restricted_violations(rendered(load("kaap-basic.yaml")))
    assert any("allowPrivilegeEscalation" in p for p in problems)
    assert any("capabilities" in p for p in problems)
    assert any("seccompProfile" in p for p in problems)


def test_restricted_defaults_come_from_the_model():
    objects = rendered(load("minimal.yaml"))
    broker = by_name(objects, "StatefulSet")["pulsar-broker"]["spec"]["template"]["spec"]
    assert broker["securityContext"] == model.RESTRICTED_POD_SECURITY_CONTEXT
    assert broker["securityContext"]["runAsUser"] == 10000
    for container in broker["containers"]:
        assert container["securityContext"] == model.RESTRICTED_CONTAINER_SECURITY_CONTEXT
    bookie = by_name(objects, "StatefulSet")["pulsar-bookkeeper"]["spec"]["template"]["spec"]
    assert bookie["initContainers"][0]["securityContext"]["allowPrivilegeEscalation"] is False
    job = by_name(objects, "Job")["pulsar-zookeeper-metadata"]["spec"]["template"]["spec"]
    assert job["securityContext"]["runAsNonRoot"] is True


def test_kaap_input_keeps_kaap_pod_templates():
    objects = rendered(load("kaap-basic.yaml"))
    for where, pod in pod_specs(objects):
        for container in [*(pod.get("initContainers") or []), *pod["containers"]]:
            assert "securityContext" not in container, where
        if where.startswith("StatefulSet/pulsar-zookeeper") or where.startswith(
                "StatefulSet/pulsar-bookkeeper"):
            assert pod["securityContext"] == {"fsGroup": 0}, where  # KAAP's default
        else:
            assert "securityContext" not in pod, where


def test_kaap_input_can_opt_in_and_ours_can_opt_out():
    kaap = load("kaap-basic.yaml")
    kaap["spec"]["global"]["podSecurity"] = "restricted"
    assert restricted_violations(rendered(kaap)) == []
    ours = load("minimal.yaml")
    ours["spec"]["global"]["podSecurity"] = "kaap"
    assert restricted_violations(rendered(ours)) != []


def test_user_security_context_wins_and_user_containers_are_untouched():
    config = load("minimal.yaml")
    sidecar = {"name": "agent", "image": "example/agent:1"}
    config["spec"]["broker"] = {"securityContext": {"runAsUser": 20000, "fsGroup": 20000},
                                "sidecars": [sidecar]}
    objects = rendered(config)
    pod = by_name(objects, "StatefulSet")["pulsar-broker"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 20000
    assert pod["securityContext"]["fsGroup"] == 20000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["containers"][0] == sidecar
    assert_valid(objects)


# --- secret material ----------------------------------------------------------------------------

SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"),
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)(password|passwd|secret|token)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9+/]{16,}"),
]


# What render refuses in any spec (so no generated output may hold it): keys and tokens. The
# third pattern is for our own fixtures only: a user may legitimately write a long value under
# a key named like `tokenAudience`.
REFUSED_PATTERNS = SECRET_PATTERNS[:2]


def secret_findings(text: str, patterns=SECRET_PATTERNS) -> list[str]:
    return [m.group(0)[:40] for p in patterns for m in p.finditer(text)]


@pytest.mark.parametrize("fixture", ["minimal.yaml", "namespaced.yaml", "production.yaml",
                                     "kaap-basic.yaml"])
def test_no_secret_material_in_the_output(fixture):
    objects = rendered(load(fixture))
    assert not [o for o in objects if o["kind"] == "Secret"]
    assert secret_findings(yamlio.dump_all(objects)) == []


def test_the_secret_scan_can_fail():
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----\n"
    assert secret_findings(yamlio.dump({"data": {"key": key}}))
    assert secret_findings("tokenSecret: QUJDREVGR0hJSktMTU5PUFFSU1RVVg==")


@pytest.mark.parametrize("where, value", [
    (("broker", "config", "brokerClientAuthenticationParameters"),
     "token:eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl"),
    (("proxy", "config", "tlsKey"), "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"),
])
def test_secret_material_in_the_spec_is_refused(where, value):
    config = load("minimal.yaml")
    node = config["spec"]
    for key in where[:-1]:
        node = node.setdefault(key, {})
    node[where[-1]] = value
    objects, findings = render.render(config)
    assert objects == []
    paths = [f.path for f in findings if f.severity == "error"]
    assert paths == ["spec." + ".".join(where)]
    assert "Secret" in findings[0].message


# --- network policies ---------------------------------------------------------------------------


def selects(policy: dict, labels: dict) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


def pod_labels(objects) -> dict:
    return {f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]["metadata"]["labels"]
            for o in objects if "template" in (o.get("spec") or {})}


def open_ports(policies: list, labels: dict) -> dict:
    """Who may reach a pod with `labels`: {'cluster'|'anyone'|'metrics': ports or 'all'}."""
    reach = {}
    for policy in policies:
        if not selects(policy, labels):
            continue
        for rule in policy["spec"]["ingress"]:
            peers = rule.get("from")
            who = "anyone" if not peers else (
                "cluster" if all("podSelector" in p for p in peers) else "metrics")
            ports = sorted(p["port"] for p in rule.get("ports") or []) or "all"
            reach[who] = ports
    return reach


def metrics_ports(objects) -> list:
    return sorted({int(o["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"])
                   for o in objects if o["kind"] in ("StatefulSet", "Deployment")
                   and "prometheus.io/port" in (o["spec"]["template"]["metadata"].get(
                       "annotations") or {})})


def service_ports(objects, component: str) -> list:
    return sorted({p["port"] for o in objects if o["kind"] == "Service"
                   and o["metadata"]["labels"]["component"] == component
                   for p in o["spec"]["ports"]})


def test_client_ports_follow_tls_and_kafka():
    """The clients policy opens what the proxy Services expose: with proxy TLS (no plaintext
    ports) and Kafka, fixed plaintext ports would lock every client out."""
    config = load("minimal.yaml")
    config["metadata"]["namespace"] = "pulsar"
    config["spec"]["global"].update({
        "networkPolicies": {"enabled": True, "metricsFrom": [{"namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]},
        "tls": {"broker": {"enabled": True},
                "proxy": {"enabled": True, "enabledWithBroker": True}}})
    config["spec"]["proxy"] = {"kafka": {"enabled": True},
                               "service": {"additionalPorts": [{"name": "extra", "port": 9999}]}}
    config["spec"]["broker"] = {"kafka": {"enabled": True}}
    objects = rendered(config)
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    exposed = service_ports(objects, "proxy")
    assert 6651 in exposed and 8443 in exposed and 9999 in exposed and 6650 not in exposed
    reach = open_ports(policies, {"app": "pulsar", "cluster": "pulsar", "component": "proxy"})
    assert reach["anyone"] == exposed
    assert_valid(objects)


def test_network_policies_expose_only_the_proxy():
    objects = rendered(load("production.yaml"))
    assert_valid(objects)
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert sorted(p["metadata"]["name"] for p in policies) == [
        "pulsar-clients", "pulsar-internal", "pulsar-metrics"]
    labels = pod_labels(objects)
    assert labels, "no pods"
    metrics = metrics_ports(objects)
    # the functions worker serves its metrics on 6750, the others on 8000/8080
    assert metrics == [6750, 8000, 8080]
    for where, pod in labels.items():
        reach = open_ports(policies, pod)
        assert reach["cluster"] == "all", where  # own components reach every pod
        assert reach["metrics"] == metrics, where
        if pod["component"] == "proxy":
            assert reach["anyone"] == [6650, 8000, 8080], where
        else:  # ZooKeeper, bookies, brokers, the Job: cluster components only
            assert "anyone" not in reach, where
    internal = by_name(policies, "NetworkPolicy")["pulsar-internal"]
    assert internal["spec"]["ingress"] == [{"from": [{"podSelector": {"matchLabels": {
        "app": "pulsar", "cluster": "pulsar"}}}]}]


def test_without_proxy_the_brokers_are_exposed():
    config = load("minimal.yaml")
    config["spec"]["global"]["networkPolicies"] = {"enabled": True}
    config["spec"]["proxy"] = {"replicas": 0}
    objects = rendered(config)
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert "pulsar-metrics" not in by_name(policies, "NetworkPolicy")
    for where, pod in pod_labels(objects).items():
        reach = open_ports(policies, pod)
        assert ("anyone" in reach) == (pod["component"] == "broker"), where
    assert_valid(objects)


def test_oxia_pods_are_covered_by_their_labels():
    # Oxia is being added in parallel; its pods carry the cluster's labels with component oxia
    objects = rendered(dict(load("production.yaml")))
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    oxia = {"app": "pulsar", "cluster": "pulsar", "component": "oxia"}
    assert open_ports(policies, oxia) == {"cluster": "all", "metrics": metrics_ports(objects)}
    other_cluster = dict(oxia, cluster="other")
    assert open_ports(policies, other_cluster) == {}


def test_network_policies_are_off_by_default():
    assert not [o for o in rendered(load("minimal.yaml")) if o["kind"] == "NetworkPolicy"]


# --- scanner ------------------------------------------------------------------------------------

ALLOWLIST = ROOT / "security" / "kube-score-allowlist.yaml"


@pytest.fixture(scope="session")
def kube_score() -> str:
    path = os.environ.get("KUBE_SCORE") or str(ROOT / "tools" / "bin" / "kube-score")
    if not os.access(path, os.X_OK):
        _missing_tool("kube-score", "run `make test` (scripts/ensure-kube-score.sh builds it)")
    return path


def failed_checks(kube_score: str, objects: list) -> dict:
    proc = subprocess.run(
        [kube_score, "score", "--kubernetes-version", "v1.30",
         "--enable-optional-test", "container-seccomp-profile", "--output-format", "json", "-"],
        input=yamlio.dump_all(objects).encode(), capture_output=True, timeout=120)
    report = json.loads(proc.stdout)
    failed: dict = {}
    for obj in report:
        for check in obj["checks"]:
            if check["grade"] < 10 and not check["skipped"]:
                failed.setdefault(check["check"]["id"], []).append(
                    f"{obj['type_meta']['kind']}/{obj['object_meta']['name']}")
    return failed


def test_kube_score_finds_nothing_outside_the_allowlist(kube_score):
    allowlist = {entry["check"]: entry["reason"] for entry in yamlio.load_all(
        ALLOWLIST.read_text())[0]}
    assert all(len(reason) > 40 for reason in allowlist.values())
    objects = rendered(load("production.yaml"))
    failed = failed_checks(kube_score, objects)
    assert {check: where for check, where in failed.items() if check not in allowlist} == {}
    assert sorted(set(allowlist) - set(failed)) == [], "allowlist entries that no longer fail"


def test_kube_score_sees_what_kaap_mode_lacks(kube_score):
    config = load("production.yaml")
    config["spec"]["global"]["podSecurity"] = "kaap"
    failed = failed_checks(kube_score, rendered(copy.deepcopy(config)))
    # the scanner is live: without the restricted defaults it reports the missing seccomp profile
    assert "container-seccomp-profile" in failed


def test_websocket_port_is_opened_only_with_the_websocket_proxy():
    config = load("minimal.yaml")
    config["spec"]["global"]["networkPolicies"] = {"enabled": True}
    config["spec"]["proxy"] = {"webSocket": {"enabled": False}}
    policies = [o for o in rendered(config) if o["kind"] == "NetworkPolicy"]
    proxy = {"app": "pulsar", "cluster": "pulsar", "component": "proxy"}
    assert open_ports(policies, proxy)["anyone"] == [6650, 8080]
    config["spec"]["proxy"] = {}
    policies = [o for o in rendered(config) if o["kind"] == "NetworkPolicy"]
    assert open_ports(policies, proxy)["anyone"] == [6650, 8000, 8080]


def test_kubernetes_runtime_function_pods_are_inside_the_policies():
    config = load("minimal.yaml")
    config["metadata"]["namespace"] = "pulsar"
    config["spec"]["global"]["networkPolicies"] = {"enabled": True}
    config["spec"]["functionsWorker"] = {"replicas": 1, "runtime": "kubernetes"}
    objects = rendered(config)
    worker = yamlio.load_all(by_name(objects, "ConfigMap")["pulsar-function"]["data"][
        "functions_worker.yml"])[0]
    labels = worker["functionRuntimeFactoryConfigs"]["customLabels"]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    internal = by_name(policies, "NetworkPolicy")["pulsar-internal"]
    # the instances may reach the cluster, and no Service or workload of ours selects them
    assert selects({"spec": {"podSelector": internal["spec"]["ingress"][0]["from"][0][
        "podSelector"]}}, labels)
    for obj in objects:
        selector = (obj.get("spec") or {}).get("selector")
        if isinstance(selector, dict):
            wanted = selector.get("matchLabels", selector)
            assert not all(labels.get(k) == v for k, v in wanted.items()), obj["metadata"]
