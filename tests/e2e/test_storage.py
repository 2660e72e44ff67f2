"""Storage objects through real kustomize: a later `namespace:` must move the package claim
with the brokers and leave the cluster-scoped StorageClass and PersistentVolume alone."""

import shutil
import subprocess

import pytest
import yaml

from conftest import FIXTURES, tool_env
from k8s import assert_valid

pytestmark = pytest.mark.e2e


def test_kustomize_namespace_moves_the_claim_not_the_cluster_scoped_objects(kustomize, tmp_path):
    shutil.copy(FIXTURES / "storage-raw-objects.yaml", tmp_path / "pulsar.yaml")
    text = (tmp_path / "pulsar.yaml").read_text()
    text = text.replace(
        "metadata:\n  name: shared\n",
        "metadata:\n  name: shared\n  annotations:\n    config.kubernetes.io/function: |\n"
        "      exec:\n        path: krm-pulsar\n", 1)
    # a data StorageClass too (the global one, taken by every data volume)
    text = text.replace("    name: shared\n  zookeeper:",
                        "    name: shared\n    storage:\n      storageClass:\n"
                        "        provisioner: disk.csi.azure.com\n  zookeeper:", 1)
    (tmp_path / "pulsar.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text(
        "namespace: streaming\ngenerators:\n- pulsar.yaml\n")
    out = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                          str(tmp_path)], capture_output=True, text=True, env=tool_env(),
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "cluster-wide" in out.stderr  # the StorageClass names carry no namespace
    docs = list(yaml.safe_load_all(out.stdout))
    by_key = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    cluster_scoped = [key for key in by_key if key[0] in ("StorageClass", "PersistentVolume")]
    assert sorted(cluster_scoped) == [
        ("PersistentVolume", "shared-packages"), ("StorageClass", "shared-bookkeeper-journal"),
        ("StorageClass", "shared-bookkeeper-ledgers"), ("StorageClass", "shared-packages-files"),
        ("StorageClass", "shared-zookeeper-data")]
    for key in cluster_scoped:
        assert "namespace" not in by_key[key]["metadata"], key
    claim = by_key[("PersistentVolumeClaim", "shared-broker-package-storage")]
    assert claim["metadata"]["namespace"] == "streaming"
    broker = by_key[("StatefulSet", "shared-broker")]
    assert broker["metadata"]["namespace"] == "streaming"
    assert broker["spec"]["template"]["spec"]["volumes"] == [{
        "name": "broker-package-storage",
        "persistentVolumeClaim": {"claimName": "shared-broker-package-storage"}}]
    assert_valid(docs)
