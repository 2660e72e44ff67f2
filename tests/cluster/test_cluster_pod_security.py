"""The function's Pod Security verdict (krm_pulsar/checks/pod_security.py) against the real
API server's: a user container or a component's pod securityContext that the function refuses
under `global.podSecurity: restricted` is refused by a namespace enforcing restricted, and one
it accepts is accepted (docs/security.md#user-containers).

`baseline` renders the very same pods as `restricted` and checks less, so each case is rendered
with `baseline` (where it renders) and the broker StatefulSet applied with
`kubectl apply --server-side --dry-run=server --warnings-as-errors` in a restricted namespace:
its Pod Security warning for the pod template is the refusal every pod would get. The same for
the Oxia servers' `spec.oxia.server.securityContext`. What the baseline standard forbids (so
both levels) is judged in a namespace enforcing baseline, on the pods `kaap` mode renders as
written."""

from __future__ import annotations

import copy

import pytest
from unit.test_security import USER_OK, _with, load

from krm_pulsar import render

from . import workloads

pytestmark = pytest.mark.cluster

NAMESPACE = "pss-verdict"

# (sidecar securityContext, the broker's pod securityContext); cases baseline refuses too
# (privileged, added capabilities, unconfined seccomp) have nothing to apply
CASES = {
    "sidecar-bare": ({}, None),
    "sidecar-compliant": (USER_OK, None),
    "sidecar-root": ({**USER_OK, "runAsUser": 0}, None),
    "pod-user-20000": (USER_OK, {"runAsUser": 20000}),
    "pod-root": (USER_OK, {"runAsUser": 0}),
    "pod-run-as-non-root-false": (USER_OK, {"runAsNonRoot": False}),
    "pod-false-container-true": ({**USER_OK, "runAsNonRoot": True}, {"runAsNonRoot": False}),
    # no sidecar: our own containers under the component's pod securityContext
    "ours-pod-root": (None, {"runAsUser": 0}),
    "ours-pod-run-as-non-root-false": (None, {"runAsNonRoot": False}),
    "ours-pod-user-20000": (None, {"runAsUser": 20000}),
}


def _statefulset(objects: list[dict], component: str) -> list[dict]:
    """The one StatefulSet of ``component``, as a list to apply."""
    found = [o for o in objects if o["kind"] == "StatefulSet"
             and o["metadata"]["labels"].get("component") == component]
    assert len(found) == 1, [o["metadata"]["name"] for o in found]
    return found


@pytest.fixture(scope="module")
def namespace(control_plane):
    control_plane.create_namespace(NAMESPACE, level="restricted")
    yield NAMESPACE
    control_plane.delete_namespaces([NAMESPACE])


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_api_server_refuses_what_the_function_refuses(control_plane, namespace, case):
    container, pod_context = CASES[case]
    config = _with(pod_context=copy.deepcopy(pod_context), securityContext=copy.deepcopy(container))
    if container is None:
        del config["spec"]["broker"]["sidecars"]
    config["metadata"]["namespace"] = namespace
    refused_here = [f for f in render.render(config)[1] if f.severity == "error"]
    # baseline refuses uid 0 too (our containers run with runAsNonRoot: true, so the kubelet
    # would not start them): render without it and put it back where it was written, so the
    # API server judges the pod the user asked for
    relaxed = copy.deepcopy(config)
    relaxed["spec"].setdefault("global", {})["podSecurity"] = "baseline"
    broker_spec = relaxed["spec"]["broker"]
    root_pod = (broker_spec.get("securityContext") or {}).pop("runAsUser", None) == 0
    sidecars = broker_spec.get("sidecars") or []
    root_sidecar = bool(sidecars) and sidecars[0].get("securityContext", {}).pop(
        "runAsUser", None) == 0
    objects, findings = render.render(relaxed)
    assert not [f for f in findings if f.severity == "error"], "baseline renders every case"
    broker = _statefulset(objects, "broker")
    pod = broker[0]["spec"]["template"]["spec"]
    if root_pod:
        pod["securityContext"]["runAsUser"] = 0
    if root_sidecar:
        agent = next(c for c in pod["containers"] if c["name"] == "agent")
        agent["securityContext"]["runAsUser"] = 0
    result = workloads.apply(control_plane, broker, dry_run=True)
    assert result.ok != bool(refused_here), (
        f"{case}: the function {'refuses' if refused_here else 'accepts'} "
        f"({[f.message for f in refused_here]}), the API server "
        f"{'accepts' if result.ok else 'refuses'}: {result}")


BASELINE_NAMESPACE = "pss-baseline-verdict"
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/pulsar-broker"
# what the baseline standard forbids (so restricted too), judged in a namespace enforcing
# baseline: (broker fields, sidecar fields). Not here: a Windows host process, which the API
# server's validation refuses first (it needs hostNetwork), and a sidecar as uid 0, which
# admission takes and the kubelet refuses (unit tests).
BASELINE_CASES = {
    "pod-apparmor-unconfined": ({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}},
                                {}),
    "pod-apparmor-runtime-default": (
        {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}, {}),
    "pod-selinux-user": ({"securityContext": {"seLinuxOptions": {"user": "system_u"}}}, {}),
    "pod-selinux-type": ({"securityContext": {"seLinuxOptions": {"type": "spc_t"}}}, {}),
    "pod-selinux-container-t": ({"securityContext": {"seLinuxOptions": {"type": "container_t"}}},
                                {}),
    "pod-sysctl-unsafe": ({"securityContext": {"sysctls": [
        {"name": "net.core.somaxconn", "value": "1024"}]}}, {}),
    "pod-sysctl-safe": ({"securityContext": {"sysctls": [
        {"name": "kernel.shm_rmid_forced", "value": "1"},
        {"name": "net.ipv4.tcp_keepalive_time", "value": "600"},
        {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]}}, {}),
    "annotation-unconfined": ({"podAnnotations": {APPARMOR_ANNOTATION: "unconfined"}}, {}),
    "sidecar-apparmor-unconfined": (
        {}, {"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}),
    "sidecar-probe-host": (
        {}, {"livenessProbe": {"tcpSocket": {"port": 80, "host": "10.0.0.1"}}}),
    "sidecar-plain": ({}, {}),
}


@pytest.fixture(scope="module")
def baseline_namespace(control_plane):
    control_plane.create_namespace(BASELINE_NAMESPACE, level="baseline")
    yield BASELINE_NAMESPACE
    control_plane.delete_namespaces([BASELINE_NAMESPACE])


@pytest.mark.parametrize("case", sorted(BASELINE_CASES))
def test_a_baseline_namespace_refuses_what_the_function_refuses_under_baseline(
        control_plane, baseline_namespace, case):
    """`kaap` mode renders the broker's pod context, annotations and sidecar as written and
    checks nothing, so its StatefulSet is what the API server judges; the verdict must be
    the function's under `global.podSecurity: baseline`. Judged by the Pod Security warning
    alone (the AppArmor annotation also draws a deprecation warning)."""
    broker_fields, sidecar_fields = BASELINE_CASES[case]
    config = _with(mode="baseline", **copy.deepcopy(sidecar_fields))
    config["spec"]["broker"].update(copy.deepcopy(broker_fields))
    config["metadata"]["namespace"] = baseline_namespace
    refused_here = [f for f in render.render(config)[1] if f.severity == "error"]
    written = copy.deepcopy(config)
    written["spec"]["global"]["podSecurity"] = "kaap"
    objects, findings = render.render(written)
    assert not [f for f in findings if f.severity == "error"], "kaap mode renders every case"
    broker = _statefulset(objects, "broker")
    result = workloads.apply(control_plane, broker, dry_run=True)
    assert "is invalid" not in str(result), f"{case}: not a Pod Security verdict: {result}"
    refused_there = "violate PodSecurity" in str(result)
    assert refused_there == bool(refused_here), (
        f"{case}: the function {'refuses' if refused_here else 'accepts'} "
        f"({[f.message for f in refused_here]}), the API server "
        f"{'refuses' if refused_there else 'accepts'}: {result}")


@pytest.mark.parametrize("server_context", [{"runAsNonRoot": False},
                                            {"runAsUser": 20000, "fsGroup": 20000}])
def test_the_oxia_servers_pod_context_verdict_is_the_api_servers(control_plane, namespace,
                                                                 server_context):
    """spec.oxia.server.securityContext: refused under restricted exactly when a namespace
    enforcing restricted refuses the Oxia servers' StatefulSet (rendered with baseline, whose
    pods are restricted's)."""
    config = load("minimal.yaml")
    config["spec"]["oxia"] = {"enabled": True,
                              "server": {"securityContext": copy.deepcopy(server_context)}}
    config["metadata"]["namespace"] = namespace
    refused_here = [f for f in render.render(config)[1] if f.severity == "error"]
    relaxed = copy.deepcopy(config)
    relaxed["spec"]["global"]["podSecurity"] = "baseline"
    objects, findings = render.render(relaxed)
    assert not [f for f in findings if f.severity == "error"], "baseline renders every case"
    servers = _statefulset(objects, "oxia-server")
    result = workloads.apply(control_plane, servers, dry_run=True)
    assert result.ok != bool(refused_here), (
        f"{server_context}: the function {'refuses' if refused_here else 'accepts'} "
        f"({[f.message for f in refused_here]}), the API server "
        f"{'accepts' if result.ok else 'refuses'}: {result}")
