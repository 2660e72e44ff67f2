"""The three-zone layout through real standalone kustomize: waves and rack Job survive."""

import subprocess

import pytest
import yaml

from conftest import FIXTURES, KPTFILE, tool_env
from k8s import assert_valid

pytestmark = pytest.mark.e2e


def test_three_zones_through_kustomize_with_a_namespace(kustomize, tmp_path):
    text = (FIXTURES / "three-zones.yaml").read_text().replace(
        "  namespace: pulsar\n",
        "  annotations:\n    config.kubernetes.io/function: |\n      exec:\n"
        "        path: krm-pulsar\n")
    (tmp_path / "pulsar.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text(
        "namespace: streaming\ngenerators:\n- pulsar.yaml\n")
    out = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                          str(tmp_path)], capture_output=True, text=True, env=tool_env(),
                         timeout=120)
    assert out.returncode == 0, out.stderr
    docs = list(yaml.safe_load_all(out.stdout))
    assert_valid(docs)
    waves = {(d["kind"], d["metadata"]["name"]): d["metadata"]["annotations"][
        "argocd.argoproj.io/sync-wave"] for d in docs}
    assert waves[("StatefulSet", "pulsar-zookeeper")] == "0"
    assert waves[("StatefulSet", "pulsar-bookkeeper-shared-az3")] == "1002"
    # kustomize hands a generator its config with map keys sorted, so sets roll in name
    # order (kafka-* before shared-*), not in the file's order (docs/resource-sets.md)
    proxies = ["kafka-az1", "kafka-az2", "kafka-az3", "shared-az1", "shared-az2", "shared-az3"]
    assert [waves[("Deployment", f"pulsar-proxy-{name}")] for name in proxies] == [
        "3000", "3001", "3002", "3003", "3004", "3005"]
    [job] = [d for d in docs if d["kind"] == "Job" and "-bookie-racks-" in d["metadata"]["name"]]
    assert job["metadata"]["namespace"] == "streaming"
    # the bookie ids take the namespace at run time, so kustomize's namespace is honoured
    assert "${POD_NAMESPACE}" in job["spec"]["template"]["spec"]["containers"][0]["args"][0]


def test_three_zones_through_kpt_keeps_the_declaration_order(kpt, tmp_path):
    text = (FIXTURES / "three-zones.yaml").read_text().replace(
        "  namespace: pulsar\n",
        "  namespace: pulsar\n  annotations:\n    config.kubernetes.io/local-config: 'true'\n")
    (tmp_path / "pulsar-cluster.yaml").write_text(text)
    (tmp_path / "Kptfile").write_text(KPTFILE)
    out = subprocess.run([kpt, "fn", "render", "--allow-exec", str(tmp_path)],
                         capture_output=True, text=True, env=tool_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    waves = {}
    for path in (tmp_path / "pulsar" / "proxy").glob("deployment_*.yaml"):
        doc = yaml.safe_load(path.read_text())
        waves[doc["metadata"]["name"]] = doc["metadata"]["annotations"][
            "argocd.argoproj.io/sync-wave"]
    assert [waves[f"pulsar-proxy-{name}"] for name in (
        "shared-az1", "shared-az2", "shared-az3", "kafka-az1", "kafka-az2", "kafka-az3")] == [
        "3000", "3001", "3002", "3003", "3004", "3005"]
