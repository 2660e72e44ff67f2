"""Broker FileSystem package storage, for real (issue 16, point 4; the seed's feature).

tests/pulsar/fixtures/packages.yaml: `broker.packageManagement.enabled` and
`.fileSystemStorage.enabled`, a standalone functions worker. A package uploaded through the
proxy lands, byte-identical, under the storage path we configure, on the broker's package
volume; a function created from it runs on the functions worker and processes a message.
Oxia cannot run here (its server is not published to any package registry this machine
reaches), so the Oxia flavour of this feature is covered by the configuration-key check
(test_pulsar_config_keys.py) only.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

import scrape
from .conftest import FIXTURES, render, running_cluster

pytestmark = pytest.mark.pulsar

FIXTURE = FIXTURES / "packages.yaml"
PACKAGE = "function://public/default/exclamation@v1"
FUNCTION = "org.apache.pulsar.functions.api.examples.ExclamationFunction"


@pytest.fixture(scope="module")
def cluster(request, pulsar_jars, namespaces_allowed, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("packages-cluster")
    with running_cluster(request, run_dir, FIXTURE, pulsar_jars) as c:
        assert not c.failures, "\n".join(c.failures)
        yield c


def test_the_workers_pod_monitor_scrapes_its_metrics(cluster, tmp_path):
    """The functions worker's PodMonitor (docs/monitoring.md): every worker pod is a target and
    answers 200 with Prometheus samples at the port and path we declare."""
    manifests = render(scrape.with_pod_monitors(FIXTURE, tmp_path))
    assert scrape.workloads(manifests) == scrape.workloads(render(FIXTURE))
    monitor = next(m for m in manifests if m["kind"] == "PodMonitor"
                   and m["metadata"]["labels"]["component"] == "function")
    found = scrape.targets(monitor, cluster.pods)
    assert sorted(pod.name for pod, _, _ in found) == ["pulsar-function-0"]
    for pod, url, _ in found:
        code, body = scrape.scrape(cluster, url)
        assert code == 200, f"{pod.name}: GET {url} answered {code}: {body[:300]}"
        assert scrape.exposition_problem(body) is None, f"{pod.name}: GET {url}"


def _admin(cluster, *args, timeout=90):
    return cluster.exec("pulsar-bastion-0", ["bin/pulsar-admin", *args], timeout=timeout)


def _storage_folder(cluster):
    """The folder behind the broker's configured storage path: the volume mounted there."""
    broker = cluster.pod("pulsar-broker-0")
    container = broker.containers[0]
    env = {k: v for source in container.spec["envFrom"]
           for k, v in cluster.config_maps[source["configMapRef"]["name"]].items()}
    storage_path = env["PULSAR_PREFIX_STORAGE_PATH"]
    mounts = [m for m in container.spec["volumeMounts"] if m["mountPath"] == storage_path]
    assert mounts, f"no volume is mounted at the storage path {storage_path}"
    return cluster.volume_path(broker, mounts[0]["name"])


@pytest.fixture(scope="module")
def uploaded(cluster):
    result = _admin(cluster, "packages", "upload", PACKAGE, "--path", "examples/api-examples.jar",
                    "--description", "Pulsar's example functions")
    assert result.returncode == 0, result.stdout[-1500:] + result.stderr[-1500:]
    return cluster.jars / "examples" / "api-examples.jar"


def test_uploaded_package_lands_in_the_storage_path(cluster, uploaded):
    stored = _storage_folder(cluster) / "function" / "public" / "default" / "exclamation" / "v1"
    assert (stored / "data").read_bytes() == uploaded.read_bytes()
    assert (stored / "meta").stat().st_size > 0


def test_package_is_listed_through_the_proxy(cluster, uploaded):
    result = _admin(cluster, "packages", "list-versions", PACKAGE.rsplit("@", 1)[0])
    assert result.returncode == 0 and "v1" in result.stdout.split(), result.stdout + result.stderr


def test_function_from_the_package_processes_a_message(cluster, uploaded):
    topic = f"persistent://public/default/in-{uuid.uuid4().hex[:6]}"
    output = topic.replace("/in-", "/out-")
    created = _admin(cluster, "functions", "create", "--jar", PACKAGE, "--classname", FUNCTION,
                     "--inputs", topic, "--output", output, "--name", "exclamation")
    assert created.returncode == 0, created.stdout[-1500:] + created.stderr[-1500:]
    deadline = time.monotonic() + 120
    status = {}
    while time.monotonic() < deadline:
        result = _admin(cluster, "functions", "status", "--name", "exclamation")
        if result.returncode == 0:
            status = json.loads(result.stdout)
            if status.get("numRunning") == 1:
                break
        time.sleep(3)
    assert status.get("numRunning") == 1, status
    assert status["instances"][0]["status"]["workerId"] == "pulsar-function-0"
    message = f"hello-{uuid.uuid4().hex[:6]}"
    produce = cluster.exec("pulsar-bastion-0", ["bin/pulsar-client", "produce", "-m", message,
                                                topic], timeout=90)
    assert produce.returncode == 0, produce.stderr[-1500:]
    consume = cluster.exec("pulsar-bastion-0", ["bin/pulsar-client", "consume", "-s", "test",
                                                "-n", "1", "-p", "Earliest", output],
                           timeout=120)
    assert f"content:{message}!" in consume.stdout, consume.stdout[-1500:]
