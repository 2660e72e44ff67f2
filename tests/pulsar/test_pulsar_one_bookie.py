"""Managed-ledger quorums fit the bookies we render (issue 16, point 6).

tests/pulsar/fixtures/one-bookie.yaml renders one bookie. Pulsar's own managed-ledger defaults
(ensemble, write and ack quorum 2/2/2) cannot be met by one bookie: before our output sized
them, the broker's health check answered 500 ("Not enough bookies to create ledger with
ensembleSize=2, writeQuorumSize=2 and ackQuorumSize=2") and the broker never became Ready.
"""

from __future__ import annotations

import pytest

from .conftest import FIXTURES, render, running_cluster

pytestmark = pytest.mark.pulsar

FIXTURE = FIXTURES / "one-bookie.yaml"


@pytest.fixture(scope="module")
def cluster(request, pulsar_jars, namespaces_allowed, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("one-bookie-cluster")
    with running_cluster(request, run_dir, FIXTURE, pulsar_jars) as c:
        yield c


def test_the_fixture_renders_one_bookie():
    bookies = [m for m in render(FIXTURE) if m["kind"] == "StatefulSet"
               and m["metadata"]["name"].endswith("bookkeeper")]
    assert [b["spec"]["replicas"] for b in bookies] == [1]


def test_broker_is_healthy_with_one_bookie(cluster):
    broker = cluster.pod("pulsar-broker-0")
    container = broker.containers[0]
    assert broker.ready, (f"broker not Ready: {container.failed}; answers {container.answers}")
    health = cluster.exec(broker, ["curl", "-s", "-w", " %{http_code}",
                                   "http://localhost:8080/admin/v2/brokers/health"], timeout=30)
    assert health.stdout.endswith(" 200"), health.stdout


def test_bookie_is_up_alone(cluster):
    """The cluster itself starts: ZooKeeper, the Job and the single bookie are Ready."""
    for name in ("pulsar-zookeeper-0", "pulsar-bookkeeper-0"):
        assert cluster.pod(name).ready, cluster.describe([cluster.pod(name)])


def test_the_rack_resolver_starts(cluster):
    """Pulsar's rack resolver (ZkBookieRackAffinityMapping, the reppDnsResolverClass we write
    as KAAP does) opens its metadata store with the `zkTimeout` of bookkeeper.conf, read as a
    raw string: without that line (the image's conf/bookkeeper.conf has `zkTimeout=30000`) it
    fails with "Cannot parse null string" and the bookie's client logs "Failed to initialize
    DNS Resolver", placing ensembles without rack information."""
    bookie = cluster.pod("pulsar-bookkeeper-0")
    logs = "".join(c.log.read_text(errors="replace") for c in
                   [*bookie.init_containers, *bookie.containers] if c.log.exists())
    assert "ZkBookieRackAffinityMapping" in logs or "BookKeeper" in logs, "no bookie log"
    assert "Failed to initialize DNS Resolver" not in logs, [
        line for line in logs.splitlines() if "DNS Resolver" in line][:3]
