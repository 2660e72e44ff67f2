"""The NetworkPolicies' settings check (krm_pulsar/network_policies/checks.py) against the API
server: each peer and egress rule the check refuses is refused by the real kube-apiserver
too, inside a NetworkPolicy, and each corrected one is accepted
(`kubectl apply --server-side --dry-run=server --warnings-as-errors`). So the check neither
lets through what the API server would reject at apply time nor refuses what it accepts.
Whether the rendered policies are accepted is test_cluster_admission.py's (every fixture, the
production and egress-lockdown ones included); whether they allow exactly what the
configuration connects, tests/unit/test_network_policies.py's."""

from __future__ import annotations

import copy

import pytest

from unit.test_network_policies import PEER_CASES, RULE_CASES

from . import workloads

pytestmark = pytest.mark.cluster

NAMESPACE = "netpol-check"


@pytest.fixture(scope="module")
def namespace(control_plane):
    control_plane.create_namespace(NAMESPACE)
    yield NAMESPACE
    control_plane.delete_namespaces([NAMESPACE])


def _policy(name: str, ingress_from: list | None = None, egress: list | None = None) -> dict:
    spec: dict = {"podSelector": {"matchLabels": {"app": "pulsar"}}, "policyTypes": ["Ingress"]}
    if ingress_from is not None:
        spec["ingress"] = [{"from": copy.deepcopy(ingress_from),
                            "ports": [{"protocol": "TCP", "port": 8080}]}]
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = copy.deepcopy(egress)
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec}


def _accepted(control_plane, policy: dict) -> workloads.ApplyResult:
    return workloads.apply(control_plane, [policy], dry_run=True)


@pytest.mark.parametrize("index", range(len(PEER_CASES)))
def test_the_api_server_judges_peers_as_the_check_does(control_plane, namespace, index):
    bad, good = PEER_CASES[index]
    refused = _accepted(control_plane, _policy("bad-peer", ingress_from=[bad]))
    assert not refused.ok, f"the API server accepts {bad}, which the check refuses"
    accepted = _accepted(control_plane, _policy("good-peer", ingress_from=[good]))
    assert accepted.ok, f"the API server refuses {good}, which the check accepts: {accepted}"


@pytest.mark.parametrize("index", range(len(RULE_CASES)))
def test_the_api_server_judges_egress_rules_as_the_check_does(control_plane, namespace, index):
    bad, good = RULE_CASES[index]
    refused = _accepted(control_plane, _policy("bad-rule", egress=[bad]))
    assert not refused.ok, f"the API server accepts {bad}, which the check refuses"
    accepted = _accepted(control_plane, _policy("good-rule", egress=[good]))
    assert accepted.ok, f"the API server refuses {good}, which the check accepts: {accepted}"
