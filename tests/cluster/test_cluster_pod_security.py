"""The function's Pod Security verdict (krm_pulsar/checks/pod_security.py) against the real
API server's: a user container or a component's pod securityContext that the function refuses
under `global.podSecurity: restricted` is refused by a namespace enforcing restricted, and one
it accepts is accepted (docs/security.md#user-containers).

`baseline` renders the very same pods as `restricted` and checks less, so each case is rendered
with `baseline` (where it renders) and the broker StatefulSet applied with
`kubectl apply --server-side --dry-run=server --warnings-as-errors` in a restricted namespace:
its Pod Security warning for the pod template is the refusal every pod would get."""

from __future__ import annotations

import copy

import pytest
from unit.test_security import USER_OK, _with

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
    relaxed = copy.deepcopy(config)
    relaxed["spec"].setdefault("global", {})["podSecurity"] = "baseline"
    objects, findings = render.render(relaxed)
    assert not [f for f in findings if f.severity == "error"], "baseline renders every case"
    broker = [o for o in objects if o["kind"] == "StatefulSet"
              and o["metadata"]["labels"].get("component") == "broker"]
    assert len(broker) == 1
    result = workloads.apply(control_plane, broker, dry_run=True)
    assert result.ok != bool(refused_here), (
        f"{case}: the function {'refuses' if refused_here else 'accepts'} "
        f"({[f.message for f in refused_here]}), the API server "
        f"{'accepts' if result.ok else 'refuses'}: {result}")
