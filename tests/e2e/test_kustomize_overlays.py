"""kustomize integration: the exec generator, the container generator, base + overlays.

Everything is built with the real standalone kustomize (tools/bin, v5.8.1). The container path
runs through a fake `docker` first on PATH that records the arguments kustomize passes and then
runs the installed krm-pulsar, as the image's ENTRYPOINT would.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest
import yaml

from conftest import BIN_DIR, ROOT, tool_env
from k8s import assert_valid

pytestmark = pytest.mark.e2e

EXAMPLES = ROOT / "examples" / "kustomize"
INTERNAL_PREFIXES = ("internal.config.kubernetes.io/", "config.kubernetes.io/",
                     "config.k8s.io/", "kustomize.config.k8s.io/")


def build(kustomize, path, *flags, env=None):
    out = subprocess.run([kustomize, "build", *flags, str(path)], capture_output=True,
                         text=True, env=env or tool_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    return list(yaml.safe_load_all(out.stdout))


def exec_build(kustomize, path):
    return build(kustomize, path, "--enable-alpha-plugins", "--enable-exec")


def by_name(docs, kind, name):
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, (kind, name, len(matches))
    return matches[0]


def assert_clean(docs):
    """What reaches the cluster: no config object, no orchestrator annotations, valid."""
    assert docs
    assert not any(d["kind"] == "PulsarCluster" for d in docs)
    for doc in docs:
        annotations = doc["metadata"].get("annotations") or {}
        assert not [k for k in annotations if k.startswith(INTERNAL_PREFIXES)], doc
    assert_valid(docs)


def broker_container(docs):
    pod = by_name(docs, "StatefulSet", "pulsar-broker")["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == "pulsar-broker")


def test_base_renders_the_cluster_unnamespaced(kustomize):
    docs = exec_build(kustomize, EXAMPLES / "base")
    assert_clean(docs)
    assert all("namespace" not in d["metadata"] for d in docs)
    assert by_name(docs, "StatefulSet", "pulsar-broker")["spec"]["replicas"] == 3


def test_dev_overlay(kustomize):
    base = exec_build(kustomize, EXAMPLES / "base")
    docs = exec_build(kustomize, EXAMPLES / "overlays" / "dev")
    assert_clean(docs)
    # the same objects, all moved into the overlay's namespace
    assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == sorted(
        (d["kind"], d["metadata"]["name"]) for d in base)
    assert {d["metadata"]["namespace"] for d in docs} == {"pulsar-dev"}
    assert by_name(docs, "StatefulSet", "pulsar-broker")["spec"]["replicas"] == 1
    assert by_name(docs, "Deployment", "pulsar-proxy")["spec"]["replicas"] == 1
    # the strategic-merge patch changed the requests and kept the rest of the container
    broker, base_broker = broker_container(docs), broker_container(base)
    assert broker["resources"]["requests"] == {"cpu": "250m", "memory": "1Gi"}
    assert base_broker["resources"]["requests"] != broker["resources"]["requests"]
    assert {k: v for k, v in broker.items() if k != "resources"} == {
        k: v for k, v in base_broker.items() if k != "resources"}
    # relative addresses follow the namespace the overlay chose
    config = by_name(docs, "ConfigMap", "pulsar-broker")["data"]
    assert config["PULSAR_PREFIX_zookeeperServers"] == "pulsar-zookeeper-ca:2181"


def test_prod_overlay(kustomize):
    docs = exec_build(kustomize, EXAMPLES / "overlays" / "prod")
    assert_clean(docs)
    namespaced = [d for d in docs if d["kind"] not in ("PriorityClass", "Namespace")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {"pulsar-prod"}
    assert "namespace" not in by_name(docs, "PriorityClass", "pulsar-critical")["metadata"]
    assert by_name(docs, "Namespace", "pulsar-prod")
    broker = by_name(docs, "StatefulSet", "pulsar-broker")
    assert broker["spec"]["replicas"] == 5
    assert broker["spec"]["template"]["spec"]["priorityClassName"] == "pulsar-critical"
    proxy = by_name(docs, "Service", "pulsar-proxy")
    assert proxy["spec"]["type"] == "LoadBalancer" and proxy["spec"]["ports"]


def test_overlays_follow_a_change_of_the_base_spec(kustomize, tmp_path):
    # The generator runs in the base; the overlays transform whatever it produces.
    shutil.copytree(EXAMPLES, tmp_path / "kustomize")
    config = tmp_path / "kustomize" / "base" / "pulsar-cluster.yaml"
    config.write_text(config.read_text() + "  bookkeeper:\n    replicas: 4\n")
    for overlay in ("dev", "prod"):
        docs = exec_build(kustomize, tmp_path / "kustomize" / "overlays" / overlay)
        assert by_name(docs, "StatefulSet", "pulsar-bookkeeper")["spec"]["replicas"] == 4
        assert by_name(docs, "StatefulSet", "pulsar-bookkeeper")["metadata"][
            "namespace"] == f"pulsar-{overlay}"


def test_overlay_patch_of_a_removed_object_fails_loudly(kustomize, tmp_path):
    # Removing a component in the base while an overlay still patches it is an error, not a
    # silent no-op (docs/integrations/kustomize.md, troubleshooting).
    shutil.copytree(EXAMPLES, tmp_path / "kustomize")
    config = tmp_path / "kustomize" / "base" / "pulsar-cluster.yaml"
    config.write_text(config.read_text() + "  proxy:\n    replicas: 0\n")
    out = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                          str(tmp_path / "kustomize" / "overlays" / "dev")],
                         capture_output=True, text=True, env=tool_env(), timeout=120)
    assert out.returncode != 0 and out.stdout == ""
    assert "pulsar-proxy" in out.stderr


# --- the container annotation -------------------------------------------------------------------

FAKE_DOCKER = """#!/bin/sh
# Records the docker arguments, then runs the function as the image's ENTRYPOINT would.
printf '%s\\n' "$@" > {log}
exec {krm_pulsar}
"""


@pytest.fixture
def fake_docker(tmp_path):
    directory = tmp_path / "fake-docker"
    directory.mkdir()
    log = tmp_path / "docker-argv"
    script = directory / "docker"
    script.write_text(FAKE_DOCKER.format(log=log, krm_pulsar=BIN_DIR / "krm-pulsar"))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = tool_env()
    env["PATH"] = f"{directory}{os.pathsep}{env['PATH']}"
    return env, log


def documented_image() -> str:
    return yaml.safe_load((ROOT / "functions" / "pulsar-cluster" / "metadata.yaml").read_text())[
        "image"]


def test_container_generator_runs_the_documented_image_as_nobody_offline(kustomize, fake_docker):
    env, log = fake_docker
    config = yaml.safe_load((EXAMPLES / "container" / "pulsar-cluster.yaml").read_text())
    function = yaml.safe_load(config["metadata"]["annotations"]["config.kubernetes.io/function"])
    assert function["container"]["image"] == documented_image()
    # no --enable-exec needed for a container function
    docs = build(kustomize, EXAMPLES / "container", "--enable-alpha-plugins", env=env)
    argv = log.read_text().splitlines()
    assert argv[0] == "run" and argv[-1] == documented_image()
    pairs = list(zip(argv, argv[1:]))
    assert ("--user", "nobody") in pairs
    assert ("--network", "none") in pairs
    assert "-i" in argv and "--rm" in argv
    assert "--security-opt=no-new-privileges" in argv
    # the function needs no mounts and no environment from the host
    assert "--mount" not in argv and not any(a.startswith("--mount") for a in argv)
    assert_clean(docs)
    assert docs == exec_build(kustomize, EXAMPLES / "base"), "container and exec differ"


def test_container_generator_failure_fails_the_build(kustomize, fake_docker, tmp_path):
    env, _ = fake_docker
    shutil.copytree(EXAMPLES / "container", tmp_path / "app")
    config = tmp_path / "app" / "pulsar-cluster.yaml"
    config.write_text(config.read_text() + "  broker:\n    replicas: -3\n")
    out = subprocess.run([kustomize, "build", "--enable-alpha-plugins", str(tmp_path / "app")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode != 0 and out.stdout == ""
    assert "spec.broker.replicas: must be >= 0; got -3" in out.stderr


# --- the kubectl trap ---------------------------------------------------------------------------


@pytest.fixture
def kubectl():
    path = shutil.which("kubectl")
    if not path:
        pytest.skip("kubectl not installed (only needed to show its kustomize's trap)")
    return path


def test_kubectl_kustomize_silently_skips_the_exec_function(kubectl):
    # Why the docs insist on standalone kustomize: kubectl's embedded kustomize has no
    # --enable-exec, skips exec functions without a word and succeeds with no Pulsar objects.
    out = subprocess.run([kubectl, "kustomize", "--enable-alpha-plugins",
                          str(EXAMPLES / "base")], capture_output=True, text=True,
                         env=tool_env(), timeout=120)
    assert out.returncode == 0
    assert out.stdout.strip() == "" and out.stderr.strip() == ""


def test_kubectl_kustomize_runs_the_container_function(kubectl, kustomize, fake_docker):
    env, log = fake_docker
    out = subprocess.run([kubectl, "kustomize", "--enable-alpha-plugins",
                          str(EXAMPLES / "container")], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert list(yaml.safe_load_all(out.stdout)) == exec_build(kustomize, EXAMPLES / "base")
    assert log.read_text().splitlines()[-1] == documented_image()
