"""Security posture of what we generate (docs/security.md): the restricted Pod Security
Standard, KAAP-identical pods for KAAP input, no secret material, and the kube-score scanner
over the production fixture (NetworkPolicies: test_network_policies.py)."""

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
    sidecar = {"name": "agent", "image": "example/agent:1", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}
    config["spec"]["broker"] = {"securityContext": {"runAsUser": 20000, "fsGroup": 20000},
                                "sidecars": [sidecar]}
    objects = rendered(config)
    pod = by_name(objects, "StatefulSet")["pulsar-broker"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 20000
    assert pod["securityContext"]["fsGroup"] == 20000
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["containers"][0] == sidecar
    assert_valid(objects)


# --- user containers against global.podSecurity (checks/pod_security.py) ----------------------

USER_OK = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def _findings(config):
    return [f for f in render.render(config)[1] if f.severity == "error"]


def _with(section="broker", key="sidecars", mode=None, pod_context=None, **container):
    config = load("minimal.yaml")
    entry = {"name": "agent", "image": "example/agent:1", **container}
    config["spec"][section] = {key: [entry]}
    if pod_context is not None:
        config["spec"][section]["securityContext"] = pod_context
    if mode:
        config["spec"].setdefault("global", {})["podSecurity"] = mode
    return config


def test_restricted_refuses_a_sidecar_without_security_context():
    """full-every-knob's case: the API server refused every pod of a restricted namespace
    (tests/cluster/test_cluster_admission.py); now the function does, first."""
    config = _with()
    data = yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                        "items": [copy.deepcopy(config)]}).encode()
    from krm_pulsar import krm

    stdout, stderr, code = krm.run(data)
    out = yamlio.load_all(stdout)[0]
    errors = [r for r in out["results"] if r["severity"] == "error"]
    assert code == 1 and out["items"] == [config], "an error: every item back unchanged"
    assert [r["field"]["path"] for r in errors] == ["spec.broker.sidecars[0].securityContext"]
    message = errors[0]["message"]
    assert "allowPrivilegeEscalation: false" in message and "capabilities.drop: [ALL]" in message
    assert "podSecurity: baseline" in message
    assert "runAsNonRoot" not in message, "inherited from our pod securityContext"
    assert len(stderr) == 1 and "spec.broker.sidecars[0].securityContext" in stderr[0]


def test_init_containers_and_set_containers_name_their_own_path():
    config = _with(section="zookeeper", key="initContainers")
    assert [f.path for f in _findings(config)] == [
        "spec.zookeeper.initContainers[0].securityContext"]
    config = load("minimal.yaml")
    config["spec"]["global"] = {"resourceSets": {"a": {}}}
    config["spec"]["broker"] = {"sets": {"a": {"sidecars": [{"name": "s", "image": "x"}]}}}
    assert [f.path for f in _findings(config)] == [
        "spec.broker.sets.a.sidecars[0].securityContext"]


@pytest.mark.parametrize("container, pod_context, needed", [
    ({}, None, ["allowPrivilegeEscalation: false", "capabilities.drop: [ALL]"]),
    (USER_OK, None, []),
    ({**USER_OK, "privileged": True}, None, ["privileged: false"]),
    ({**USER_OK, "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]}}, None,
     ["capabilities.add without NET_ADMIN"]),
    ({**USER_OK, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}, None, []),
    ({**USER_OK, "runAsUser": 0}, None, ["runAsUser other than 0"]),
    ({**USER_OK, "runAsNonRoot": False}, None, ["runAsNonRoot: true"]),
    (USER_OK, {"runAsNonRoot": False}, ["runAsNonRoot: true"]),
    # the standard refuses a pod-level false whatever the containers say (the real API server
    # does: tests/cluster/test_cluster_pod_security.py); pod_contexts reports it
    ({**USER_OK, "runAsNonRoot": True}, {"runAsNonRoot": False}, ["runAsNonRoot"]),
    ({**USER_OK, "seccompProfile": {"type": "Unconfined"}}, None,
     ["seccompProfile.type: RuntimeDefault"]),
    ({**USER_OK, "procMount": "Unmasked"}, None, ["procMount"]),
])
def test_restricted_verdict_agrees_with_the_standard(container, pod_context, needed):
    """Our check against the tests' own reading of the standard (tests/support/pss.py): an
    error exactly when the rendered pod would be refused, naming what is missing."""
    config = _with(pod_context=pod_context, securityContext=copy.deepcopy(container))
    findings = _findings(config)
    for item in needed:
        assert findings and item in findings[0].message, (item, findings)
    assert bool(findings) == bool(needed)
    # baseline renders the very same pods as restricted; where it renders them, the standard
    # read independently must find the container wrong exactly when our check did
    relaxed = copy.deepcopy(config)
    relaxed["spec"]["global"] = {"podSecurity": "baseline"}
    objects, relaxed_findings = render.render(relaxed)
    if any(f.severity == "error" for f in relaxed_findings):
        assert needed, "what baseline refuses, restricted refuses too"
        return
    agent = [v for v in restricted_violations(objects)
             if "container agent" in v or "pod runAsNonRoot false" in v]
    assert bool(agent) == bool(needed), agent


def test_host_port_is_refused_at_its_path():
    config = _with(securityContext=USER_OK, ports=[{"containerPort": 80, "hostPort": 80}])
    assert [f.path for f in _findings(config)] == ["spec.broker.sidecars[0].ports[0].hostPort"]


def test_baseline_lets_plain_containers_in_and_keeps_our_pods_restricted():
    config = _with(mode="baseline")
    objects = rendered(config)
    pod = by_name(objects, "StatefulSet")["pulsar-broker"]["spec"]["template"]["spec"]
    assert pod["containers"][0] == {"name": "agent", "image": "example/agent:1"}
    assert [v for v in restricted_violations(objects) if "container agent" not in v] == []
    assert restricted_violations(objects), "the sidecar is the user's, as written"


@pytest.mark.parametrize("container, path_end", [
    ({"privileged": True}, "securityContext"),
    ({"capabilities": {"add": ["NET_ADMIN"]}}, "securityContext"),
    ({"seccompProfile": {"type": "Unconfined"}}, "securityContext"),
    ({"windowsOptions": {"hostProcess": True}}, "securityContext"),
])
def test_baseline_still_refuses_what_baseline_forbids(container, path_end):
    config = _with(mode="baseline", securityContext=container)
    assert [f.path for f in _findings(config)] == [f"spec.broker.sidecars[0].{path_end}"]
    allowed = _with(mode="baseline", securityContext={"capabilities": {"add": ["CHOWN"]}})
    assert not _findings(allowed)


def test_kaap_mode_checks_nothing():
    config = _with(mode="kaap", securityContext={"privileged": True})
    assert not _findings(config)


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


# NetworkPolicies: tests/unit/test_network_policies.py (the reachability test).


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


@pytest.mark.parametrize("pod_context, path", [
    ({"runAsUser": 0}, "spec.zookeeper.securityContext.runAsUser"),
    ({"runAsNonRoot": False}, "spec.zookeeper.securityContext.runAsNonRoot"),
    ({"seccompProfile": {"type": "Unconfined"}}, "spec.zookeeper.securityContext.seccompProfile.type"),
    ({"runAsUser": 20000}, None),
])
def test_a_pod_context_restricted_refuses_is_an_error_at_its_path(pod_context, path):
    config = load("minimal.yaml")
    config["spec"]["zookeeper"] = {"securityContext": pod_context}
    assert [f.path for f in _findings(config)] == ([path] if path else [])
    config["spec"]["global"]["podSecurity"] = "kaap"
    assert _findings(config) == []


def test_uid_0_under_baseline_is_an_error_our_containers_would_not_start():
    config = load("minimal.yaml")
    config["spec"]["global"]["podSecurity"] = "baseline"
    config["spec"]["broker"] = {"securityContext": {"runAsUser": 0}}
    findings = _findings(config)
    assert [f.path for f in findings] == ["spec.broker.securityContext.runAsUser"]
    assert "runAsNonRoot: true" in findings[0].message
    config["spec"]["broker"] = {"securityContext": {"runAsNonRoot": False}}
    assert _findings(config) == [], "baseline admits it and our containers still run as 10000"


# --- what the baseline standard forbids, at either level (docs/security.md#pod-security-context)


def _pod_findings(pod_context=None, mode="restricted", section="broker", **fields):
    config = load("minimal.yaml")
    config["spec"]["global"]["podSecurity"] = mode
    config["spec"][section] = dict(fields)
    if pod_context is not None:
        config["spec"][section]["securityContext"] = pod_context
    return config, _findings(config)


@pytest.mark.parametrize("mode", ["restricted", "baseline"])
@pytest.mark.parametrize("server_context, path_end", [
    ({"runAsUser": 0}, "runAsUser"),
    ({"seccompProfile": {"type": "Unconfined"}}, "seccompProfile.type"),
    ({"appArmorProfile": {"type": "Unconfined"}}, "appArmorProfile.type"),
    ({"runAsUser": 20000, "fsGroup": 20000}, None),
])
def test_the_oxia_servers_pod_context_is_checked_at_its_path(mode, server_context, path_end):
    """spec.oxia.server.securityContext is the Oxia servers' pod context (the coordinator
    takes ours only): uid 0 there once rendered `runAsNonRoot: true, runAsUser: 0` with exit
    0 (refused by restricted, and by the kubelet under baseline)."""
    config = load("minimal.yaml")
    config["spec"]["global"]["podSecurity"] = mode
    config["spec"]["oxia"] = {"enabled": True, "server": {"securityContext": server_context}}
    findings = _findings(config)
    expected = [f"spec.oxia.server.securityContext.{path_end}"] if path_end else []
    assert [f.path for f in findings] == expected
    if path_end == "runAsUser" and mode == "baseline":
        assert "runAsNonRoot: true" in findings[0].message
    config["spec"]["global"]["podSecurity"] = "kaap"
    assert _findings(config) == []


def test_the_oxia_servers_run_as_non_root_false_is_refused_by_restricted_only():
    config = load("minimal.yaml")
    config["spec"]["oxia"] = {"enabled": True,
                              "server": {"securityContext": {"runAsNonRoot": False}}}
    assert [f.path for f in _findings(config)] == [
        "spec.oxia.server.securityContext.runAsNonRoot"]
    config["spec"]["global"]["podSecurity"] = "baseline"
    objects = rendered(config)
    # the independent reading agrees that the rendered pod is not restricted
    assert "StatefulSet/pulsar-oxia-server: pod runAsNonRoot false" in restricted_violations(
        objects)


BASELINE_POD_CASES = [
    ({"appArmorProfile": {"type": "Unconfined"}}, "appArmorProfile.type"),
    ({"windowsOptions": {"hostProcess": True}}, "windowsOptions.hostProcess"),
    ({"seLinuxOptions": {"user": "system_u"}}, "seLinuxOptions.user"),
    ({"seLinuxOptions": {"role": "system_r"}}, "seLinuxOptions.role"),
    ({"seLinuxOptions": {"type": "spc_t"}}, "seLinuxOptions.type"),
    ({"sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"},
                  {"name": "net.core.somaxconn", "value": "1024"}]}, "sysctls[1].name"),
    ({"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}, "sysctls[0].name"),
    # what the standard admits
    ({"appArmorProfile": {"type": "RuntimeDefault"}}, None),
    ({"appArmorProfile": {"type": "Localhost", "localhostProfile": "pulsar"}}, None),
    ({"windowsOptions": {"hostProcess": False}}, None),
    ({"seLinuxOptions": {"type": "container_t", "level": "s0:c123,c456"}}, None),
    ({"seLinuxOptions": {"type": "container_engine_t"}}, None),
    ({"sysctls": [{"name": name, "value": "1"} for name in (
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem")]}, None),
]


@pytest.mark.parametrize("mode", ["restricted", "baseline"])
@pytest.mark.parametrize("pod_context, path_end", BASELINE_POD_CASES)
def test_a_pod_context_baseline_refuses_is_an_error_at_both_levels(mode, pod_context, path_end):
    config, findings = _pod_findings(copy.deepcopy(pod_context), mode=mode)
    expected = [f"spec.broker.securityContext.{path_end}"] if path_end else []
    assert [f.path for f in findings] == expected, findings
    # kaap mode renders the pod context as written: the independent reading of the standard
    # (tests/support/pss.py) must find the broker pod wrong exactly when our check did
    config["spec"]["global"]["podSecurity"] = "kaap"
    objects = rendered(config)
    broker = [v for v in restricted_violations(objects)
              if v.startswith("StatefulSet/pulsar-broker: pod ")
              and "runAsNonRoot" not in v and "runAsUser" not in v]
    assert bool(broker) == bool(path_end), broker


def test_a_set_pod_context_is_checked_at_the_set_path():
    config = load("minimal.yaml")
    config["spec"]["global"] = {"podSecurity": "baseline", "resourceSets": {"a": {}}}
    config["spec"]["broker"] = {"sets": {"a": {"securityContext": {
        "sysctls": [{"name": "vm.swappiness", "value": "1"}]}}}}
    assert [f.path for f in _findings(config)] == [
        "spec.broker.sets.a.securityContext.sysctls[0].name"]


@pytest.mark.parametrize("mode", ["restricted", "baseline"])
@pytest.mark.parametrize("value, refused", [
    ("unconfined", True), ("something-else", True),
    ("runtime/default", False), ("localhost/pulsar", False), ("", False),
])
def test_the_apparmor_annotation_form_is_checked(mode, value, refused):
    key = "container.apparmor.security.beta.kubernetes.io/pulsar-broker"
    config, findings = _pod_findings(mode=mode, podAnnotations={key: value, "team": "data"})
    assert [f.path for f in findings] == ([f'spec.broker.podAnnotations["{key}"]']
                                          if refused else [])
    config["spec"]["global"]["podSecurity"] = "kaap"
    annotated = [v for v in restricted_violations(rendered(config)) if "annotation" in v]
    assert bool(annotated) == refused, annotated


@pytest.mark.parametrize("mode", ["restricted", "baseline"])
def test_a_container_apparmor_unconfined_is_refused_at_both_levels(mode):
    config = _with(mode=mode, securityContext={**USER_OK, "appArmorProfile": {
        "type": "Unconfined"}})
    findings = _findings(config)
    assert [f.path for f in findings] == ["spec.broker.sidecars[0].securityContext"]
    assert "appArmorProfile.type: RuntimeDefault" in findings[0].message
    config = _with(mode=mode, securityContext={**USER_OK, "appArmorProfile": {
        "type": "Localhost", "localhostProfile": "agent"}})
    assert _findings(config) == []


@pytest.mark.parametrize("mode", ["restricted", "baseline"])
@pytest.mark.parametrize("field, handler", [
    ("livenessProbe", {"httpGet": {"port": 80, "host": "10.0.0.1"}}),
    ("startupProbe", {"tcpSocket": {"port": 80, "host": "example.com"}}),
    ("lifecycle", {"preStop": {"httpGet": {"port": 80, "host": "10.0.0.1"}}}),
])
def test_a_probe_or_hook_host_is_refused_at_both_levels(mode, field, handler):
    """Policy version 1.34 and later: baseline refuses a host in probes and hooks."""
    config = _with(mode=mode, securityContext=USER_OK, **{field: handler})
    kind = "httpGet" if "httpGet" in json.dumps(handler) else "tcpSocket"
    middle = f"{field}.preStop" if field == "lifecycle" else field
    assert [f.path for f in _findings(config)] == [
        f"spec.broker.sidecars[0].{middle}.{kind}.host"]
    config["spec"]["global"]["podSecurity"] = "kaap"
    assert [v for v in restricted_violations(rendered(config)) if "lifecycle host" in v]


def test_a_baseline_sidecar_as_uid_0_inherits_run_as_non_root_and_is_an_error():
    """Baseline admits root, but our pod context says runAsNonRoot: true, which the sidecar
    inherits: the kubelet refuses to start it (CreateContainerConfigError)."""
    config = _with(mode="baseline", securityContext={"runAsUser": 0})
    findings = _findings(config)
    assert [f.path for f in findings] == ["spec.broker.sidecars[0].securityContext.runAsUser"]
    assert "kubelet" in findings[0].message and "runAsNonRoot: false" in findings[0].message
    config = _with(mode="baseline", securityContext={"runAsUser": 0, "runAsNonRoot": False})
    assert _findings(config) == [], "root with its own runAsNonRoot: false starts"
    config = _with(mode="baseline", pod_context={"runAsNonRoot": False},
                   securityContext={"runAsUser": 0})
    assert _findings(config) == [], "the pod's false is inherited"


def test_a_null_run_as_non_root_on_a_container_inherits_the_pods():
    """Kubernetes reads runAsNonRoot: null as unset: the container inherits our pod's true."""
    config = _with(securityContext={**USER_OK, "runAsNonRoot": None, "seccompProfile": None})
    assert _findings(config) == []
    config["spec"]["global"] = {"podSecurity": "baseline"}
    assert [v for v in restricted_violations(rendered(config)) if "container agent" in v] == []


def test_odd_shapes_reach_the_check_without_a_traceback():
    """The Kubernetes structure checks refuse these first (read phase); the check itself must
    still not fail on them when called alone."""
    from krm_pulsar.checks import pod_security

    odd_container = {"name": "s", "securityContext": {
        "capabilities": {"add": "SYS_ADMIN", "drop": 5}, "seLinuxOptions": [1],
        "windowsOptions": "x", "appArmorProfile": "x", "seccompProfile": 3},
        "ports": 5, "livenessProbe": "x", "lifecycle": {"preStop": 5, "postStart": {
            "httpGet": "x"}}}
    raw = {"broker": {"securityContext": {"sysctls": "x", "appArmorProfile": [1],
                                          "seLinuxOptions": "x", "windowsOptions": 5},
                      "podAnnotations": [1], "sidecars": [odd_container, "x", None],
                      "initContainers": {"a": 1}, "sets": {"a": "x", "b": {
                          "securityContext": {"sysctls": [1, {"name": 5}, None]},
                          "podAnnotations": {
                              "container.apparmor.security.beta.kubernetes.io/a": 1}}}},
           "oxia": {"server": [1]}, "proxy": "x", "bookkeeper": {"securityContext": [1]}}
    for level in ("restricted", "baseline"):
        spec = {"global": {"podSecurity": level}, "broker": {"securityContext": "x"}}
        assert pod_security.pod_contexts(spec, raw) == []
        findings = pod_security.user_containers(spec, raw)
        assert [f.path for f in findings] == (
            ["spec.broker.sidecars[0].securityContext"] if level == "restricted" else [])
    assert pod_security.pod_contexts({"global": {"podSecurity": "baseline"}}, "x") == []
    for where, value in [("spec.broker.securityContext.sysctls", "x"),
                         ("spec.oxia.server.securityContext", [1]),
                         ("spec.broker.podAnnotations", [1])]:
        config = load("minimal.yaml")
        node = config
        keys = where.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
        assert [f.path for f in _findings(config)] == [where]
