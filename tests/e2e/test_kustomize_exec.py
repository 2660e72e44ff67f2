"""End to end through the real orchestrators: standalone kustomize and kpt."""

import shutil
import subprocess

import pytest
import yaml

from conftest import FIXTURES, KPTFILE, ROOT, tool_env
from k8s import assert_valid

pytestmark = pytest.mark.e2e


def kinds(docs):
    return {(d["kind"], d["metadata"]["name"]) for d in docs}


def kustomize_build(kustomize, path):
    out = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                          str(path)], capture_output=True, text=True, env=tool_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    return list(yaml.safe_load_all(out.stdout))


def test_root_kustomization_renders_the_example(kustomize):
    docs = kustomize_build(kustomize, ROOT)
    names = kinds(docs)
    assert ("StatefulSet", "pulsar-broker") in names
    assert ("Deployment", "pulsar-proxy") in names
    # the config itself is local-config and dropped; internal annotations are stripped
    assert not any(d["kind"] == "PulsarCluster" for d in docs)
    for doc in docs:
        annotations = doc["metadata"].get("annotations", {})
        assert not any(k.startswith("internal.config.kubernetes.io/") for k in annotations)
    assert_valid(docs)


def test_kustomize_namespace_applies_and_relative_addresses_follow(kustomize, tmp_path):
    shutil.copy(FIXTURES / "minimal.yaml", tmp_path / "pulsar.yaml")
    text = (tmp_path / "pulsar.yaml").read_text().replace(
        "metadata:\n  name: pulsar\n",
        "metadata:\n  name: pulsar\n  annotations:\n    config.kubernetes.io/function: |\n"
        "      exec:\n        path: krm-pulsar\n")
    (tmp_path / "pulsar.yaml").write_text(text)
    (tmp_path / "kustomization.yaml").write_text(
        "namespace: streaming\ngenerators:\n- pulsar.yaml\n")
    docs = kustomize_build(kustomize, tmp_path)
    assert docs and all(d["metadata"]["namespace"] == "streaming" for d in docs)
    cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "pulsar-broker")
    assert cm["data"]["PULSAR_PREFIX_zookeeperServers"] == "pulsar-zookeeper-ca:2181"


def test_kustomize_fails_loudly_on_bad_input(kustomize, tmp_path):
    (tmp_path / "pulsar.yaml").write_text(
        "apiVersion: krm-pulsar.io/v1alpha1\nkind: PulsarCluster\nmetadata:\n  name: p\n"
        "  annotations:\n    config.kubernetes.io/function: |\n      exec:\n"
        "        path: krm-pulsar\nspec:\n  brokr: {}\n")
    (tmp_path / "kustomization.yaml").write_text("generators:\n- pulsar.yaml\n")
    out = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                          str(tmp_path)], capture_output=True, text=True, env=tool_env())
    assert out.returncode != 0 and out.stdout == ""
    assert "spec.brokr: unknown field 'brokr'; did you mean 'broker'?" in out.stderr


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**tool_env(), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


def kpt_render(kpt, pkg):
    out = subprocess.run([kpt, "fn", "render", "--allow-exec", str(pkg)], capture_output=True,
                         text=True, env=tool_env(), timeout=120)
    return out


def test_kpt_render_writes_tidy_files_and_is_idempotent(kpt, tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text(KPTFILE)
    config = (FIXTURES / "namespaced.yaml").read_text().replace(
        "  name: prod\n", "  name: prod # the production cluster\n", 1)
    (pkg / "pulsar-cluster.yaml").write_text(config)
    git(pkg, "init", "-q")
    out = kpt_render(kpt, pkg)
    assert out.returncode == 0, out.stderr
    files = sorted(p.relative_to(pkg).as_posix() for p in pkg.rglob("*.yaml")
                   if ".git" not in p.parts)
    assert "prod/broker/statefulset_prod-broker.yaml" in files
    assert [f for f in files if f.startswith("prod/zookeeper/job_prod-zookeeper-metadata-")]
    # the user's own file and its comment survive
    assert "# the production cluster" in (pkg / "pulsar-cluster.yaml").read_text()
    docs = [yaml.safe_load(p.read_text()) for p in (pkg / "prod").rglob("*.yaml")]
    assert_valid(docs)
    git(pkg, "add", "-A")
    git(pkg, "commit", "-qm", "first render")
    out = kpt_render(kpt, pkg)
    assert out.returncode == 0, out.stderr
    status = subprocess.run(["git", "status", "--porcelain"], cwd=pkg, capture_output=True,
                            text=True).stdout
    assert status == "", status

    # removing a component deletes exactly its files
    text = (pkg / "pulsar-cluster.yaml").read_text().replace(
        "  proxy:\n    replicas: 2\n", "  proxy:\n    replicas: 0\n")
    (pkg / "pulsar-cluster.yaml").write_text(text)
    out = kpt_render(kpt, pkg)
    assert out.returncode == 0, out.stderr
    status = subprocess.run(["git", "status", "--porcelain"], cwd=pkg, capture_output=True,
                            text=True).stdout.splitlines()
    deleted = sorted(line[3:] for line in status if line.startswith(" D"))
    assert deleted and all(path.startswith("prod/proxy/") for path in deleted)
    # (kpt leaves the emptied directory behind; no file remains in it)
    assert not list((pkg / "prod" / "proxy").glob("*.yaml"))


def test_kpt_render_failure_leaves_files_untouched(kpt, tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text(KPTFILE)
    (pkg / "pulsar-cluster.yaml").write_text(
        "apiVersion: krm-pulsar.io/v1alpha1\nkind: PulsarCluster\nmetadata:\n  name: p\n"
        "spec:\n  zookeeper:\n    replicas: many\n")
    before = (pkg / "pulsar-cluster.yaml").read_text()
    out = kpt_render(kpt, pkg)
    assert out.returncode != 0
    assert "spec.zookeeper.replicas" in out.stderr
    assert (pkg / "pulsar-cluster.yaml").read_text() == before
    assert sorted(p.name for p in pkg.iterdir()) == ["Kptfile", "pulsar-cluster.yaml"]


def test_kpt_fn_eval_exec_over_a_package(kpt, tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    shutil.copy(FIXTURES / "minimal.yaml", pkg / "pulsar.yaml")
    (pkg / "other.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n"
                                    "data:\n  flag: \"yes\"\n")
    out = subprocess.run([kpt, "fn", "eval", str(pkg), "--exec", "krm-pulsar"],
                         capture_output=True, text=True, env=tool_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert (pkg / "pulsar" / "broker" / "statefulset_pulsar-broker.yaml").exists()
    assert yaml.safe_load((pkg / "other.yaml").read_text())["data"] == {"flag": "yes"}
    assert (pkg / "pulsar.yaml").exists()


@pytest.mark.parametrize("fixture", ["full-oxia.yaml", "full-every-knob.yaml"])
def test_kustomize_renders_the_full_cluster_fixtures(kustomize, tmp_path, fixture):
    """Oxia, the functions worker, patches and every knob survive real kustomize."""
    from krm_pulsar import yamlio

    config = yamlio.load_all((FIXTURES / fixture).read_text())[0]
    config["metadata"]["annotations"] = {
        "config.kubernetes.io/function": "exec:\n  path: krm-pulsar\n"}
    (tmp_path / "pulsar.yaml").write_text(yamlio.dump(config))
    (tmp_path / "kustomization.yaml").write_text("generators:\n- pulsar.yaml\n")
    docs = kustomize_build(kustomize, tmp_path)
    names = kinds(docs)
    if fixture == "full-oxia.yaml":
        assert ("StatefulSet", "pulsar-oxia-server") in names
        assert not any("zookeeper" in name for _, name in names)
    else:
        assert ("ClusterRoleBinding", "knobs-function") in names
        proxy = next(d for d in docs if d["kind"] == "Service"
                     and d["metadata"]["name"] == "knobs-proxy")
        assert proxy["spec"]["externalTrafficPolicy"] == "Local"  # spec.patches applied
    assert_valid(docs)
