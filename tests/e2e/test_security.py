"""The production fixture and a bad input through real standalone kustomize: what users get is
what the unit tests check (restricted pods, NetworkPolicies, the catalog's stderr line)."""

import subprocess

import pytest
import yaml

from conftest import FIXTURES, tool_env
from k8s import assert_valid
from pss import restricted_violations

pytestmark = pytest.mark.e2e

FUNCTION = ("  annotations:\n    config.kubernetes.io/function: |\n      exec:\n"
            "        path: krm-pulsar\n")


def build(kustomize, path):
    return subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                           str(path)], capture_output=True, text=True, env=tool_env(),
                          timeout=120)


def test_production_fixture_through_kustomize(kustomize, tmp_path):
    text = (FIXTURES / "production.yaml").read_text()
    text = text.replace("  namespace: pulsar\n", "  namespace: pulsar\n" + FUNCTION, 1)
    (tmp_path / "pulsar.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text("generators:\n- pulsar.yaml\n")
    out = build(kustomize, tmp_path)
    assert out.returncode == 0, out.stderr
    docs = list(yaml.safe_load_all(out.stdout))
    # the default deny, ZooKeeper, three sets of bookies, brokers and proxies, autorecovery,
    # the functions worker (tests/golden/network-policies-production.yaml)
    assert sum(d["kind"] == "NetworkPolicy" for d in docs) == 13
    # ZooKeeper, three bookie sets, three broker sets, the functions worker
    assert sum(d["kind"] == "StatefulSet" for d in docs) == 8
    assert restricted_violations(docs) == []
    assert_valid(docs)


def test_kustomize_shows_the_catalog_line(kustomize, tmp_path):
    (tmp_path / "pulsar.yaml").write_text(
        "apiVersion: krm-pulsar.io/v1alpha1\nkind: PulsarCluster\nmetadata:\n  name: p\n"
        + FUNCTION + "spec:\n  broker:\n    resources:\n      requests:\n        memory: 2Gix\n")
    (tmp_path / "kustomization.yaml").write_text("generators:\n- pulsar.yaml\n")
    out = build(kustomize, tmp_path)
    assert out.returncode != 0 and out.stdout == ""
    # the same line as docs/bad-input.md, row invalid-resource-quantity
    assert ("krm-pulsar: error: PulsarCluster/p spec.broker.resources.requests.memory: '2Gix' "
            "is not a Kubernetes quantity such as 10Gi or 500m") in out.stderr
    assert "Traceback" not in out.stderr
