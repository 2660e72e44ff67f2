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
