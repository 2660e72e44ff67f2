"""The KAAP-parity cases (tests/parity) judged by the real API server (issue 13's proof: "every
case renders schema-valid output ... and the real API server"): each case's spec, rendered as
tests/parity renders it, is accepted by `kubectl apply --server-side --dry-run=server
--warnings-as-errors` in a namespace labelled baseline (KAAP input keeps KAAP's pod templates,
test_cluster_admission.py::test_kaap_input_needs_baseline), with cert-manager's CRDs installed
for the certificate cases. The whole specs under fixtures/ are applied for real, and their pods
run, by test_cluster_admission.py; this covers the reduced specs written inline in
tests/parity and those under tests/parity/fixtures."""

from __future__ import annotations

import copy

import pytest

from parity import test_kaap_parity as parity

from . import workloads

pytestmark = pytest.mark.cluster


def _cases() -> dict[str, dict]:
    tls = {f"tls-{case}": parity.cluster(parity.tls_spec("sec", **settings))
           for case, (settings, _) in sorted(parity.TLS_CASES.items())}
    worker_tls = parity.tls_spec("sec", broker={"enabled": True}, bookkeeper={"enabled": True},
                                 functionsWorker={"enabled": True, "enabledWithBroker": True})
    worker_tls["functionsWorker"] = {"replicas": 1}
    return {
        "default-proxy": parity.cluster({"global": {"name": "edge", "image": parity.IMAGE}}),
        **tls,
        "functions-worker-tls": parity.cluster(worker_tls),
        "chart-defaults": parity.load(parity.PARITY_FIXTURES / "kaap-style-chart-defaults.yaml"),
        "migrated-auth": parity.migrated_auth_cluster(parity.KAAP_API),
    }


CASES = _cases()


@pytest.fixture(scope="module")
def namespace(control_plane, cert_manager_crds):
    control_plane.create_namespace(parity.NS, level="baseline")
    yield parity.NS
    control_plane.delete_namespaces([parity.NS])


@pytest.mark.parametrize("case", sorted(CASES))
def test_parity_case_is_accepted_by_the_api_server(control_plane, namespace, case):
    config = copy.deepcopy(CASES[case])
    config["metadata"]["namespace"] = namespace
    rendered = workloads.render_config(config)
    assert rendered.kaap, f"{case} is not KAAP input"
    kinds = {o["kind"] for o in rendered.objects}
    assert {"ConfigMap", "Service"} <= kinds, kinds
    result = workloads.apply(control_plane, rendered.objects, dry_run=True)
    assert result.ok, f"{case}: {result}"
