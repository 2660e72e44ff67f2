"""The default cluster runs from our output (issue 16, points 1 to 3).

fixtures/full-defaults.yaml (every default: 3 ZooKeeper, 3 bookies, 3 brokers, 3 proxies with
their websocket containers, autorecovery, bastion, the metadata Job) as real Pulsar 4.0.8
processes (harness.py); every rendered probe, the metadata Job, the bookie formatting step, and
clients producing and consuming through the proxy over the binary protocol and the websocket.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest

import harness
import scrape
from .conftest import HERE, ROOT, render, running_cluster

# Auditor election needs a ZooKeeper round trip after the autorecovery component starts.
AUDITOR_ELECTION_SECONDS = 60

pytestmark = pytest.mark.pulsar

FIXTURE = ROOT / "fixtures" / "full-defaults.yaml"
NAMESPACE = "pulsar"
ZOOKEEPER = f"pulsar-zookeeper-ca.{NAMESPACE}.svc.cluster.local:2181"
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")



def _rendered_probes():
    """(pod, container, probe kind) of every probe in our output, one pod per replica."""
    found = []
    for obj in render(FIXTURE):
        if obj["kind"] not in ("StatefulSet", "Deployment"):
            continue
        for index in range(obj["spec"].get("replicas", 1)):
            for container in obj["spec"]["template"]["spec"]["containers"]:
                for kind in ("startup", "liveness", "readiness"):
                    if kind + "Probe" in container:
                        found.append((f"{obj['metadata']['name']}-{index}", container["name"],
                                      kind))
    return found


PROBES = _rendered_probes()


def _zookeeper_get(cluster, path: str) -> str:
    result = cluster.exec("pulsar-zookeeper-0", ["bin/pulsar", "zookeeper-shell", "-server",
                                                 ZOOKEEPER, "get", path], timeout=90)
    return result.stdout + result.stderr


def _instance_id(cluster) -> str:
    found = UUID.findall(_zookeeper_get(cluster, "/ledgers/INSTANCEID"))
    assert found, "no BookKeeper instance id in ZooKeeper"
    return found[-1]


@pytest.fixture(scope="module")
def cluster(request, pulsar_jars, namespaces_allowed, tmp_path_factory):
    seen = {}

    def after_wave(cluster, wave):
        # the instance id the metadata Job wrote, before any bookie's formatting step ran
        if wave == 0:
            seen["instance id after the metadata Job"] = _instance_id(cluster)

    run_dir = tmp_path_factory.mktemp("default-cluster")
    with running_cluster(request, run_dir, FIXTURE, pulsar_jars, after_wave=after_wave) as c:
        c.seen = seen
        yield c


# --- PodMonitors (docs/monitoring.md) -----------------------------------------------------------

# every component of this cluster that serves metrics (the bastion serves none)
SCRAPED = ["zookeeper", "bookkeeper", "broker", "proxy", "autorecovery"]


@pytest.fixture(scope="module")
def pod_monitors(tmp_path_factory):
    """The PodMonitors of this fixture with spec.global.podMonitor.enabled; they are the only
    objects that setting adds, so they describe the running cluster."""
    manifests = render(scrape.with_pod_monitors(FIXTURE, tmp_path_factory.mktemp("monitors")))
    assert scrape.workloads(manifests) == scrape.workloads(render(FIXTURE))
    return {m["metadata"]["labels"]["component"]: m for m in manifests
            if m["kind"] == "PodMonitor"}


def test_every_component_with_metrics_has_a_pod_monitor(pod_monitors):
    assert sorted(pod_monitors) == sorted(SCRAPED)


@pytest.mark.parametrize("component", SCRAPED)
def test_pod_monitor_scrapes_every_pod_of_its_component(cluster, pod_monitors, component):
    """Each pod of the component is one target (of each set, not of other components), and
    its metrics answer 200 with Prometheus samples at the port and path we declare."""
    found = scrape.targets(pod_monitors[component], cluster.pods)
    pods = [p.name for p in cluster.pods
            if p.kind != "Job" and p.labels.get("component") == component]
    assert sorted(pod.name for pod, _, _ in found) == sorted(pods)
    for pod, url, _ in found:
        code, body = scrape.scrape(cluster, url)
        assert code == 200, f"{pod.name}: GET {url} answered {code}: {body[:300]}"
        assert scrape.exposition_problem(body) is None, f"{pod.name}: GET {url}"


def test_every_rendered_probe_exists():
    """What the parametrized probe tests cover: each component's probes are in our output."""
    containers = {container for _, container, _ in PROBES}
    assert {"pulsar-zookeeper", "pulsar-bookkeeper", "pulsar-broker", "pulsar-proxy",
            "pulsar-proxy-ws"} <= containers


@pytest.mark.parametrize("pod,container,kind", PROBES,
                         ids=[f"{p}/{c}/{k}" for p, c, k in PROBES])
def test_rendered_probe_passes(cluster, pod, container, kind):
    """The probe passed within the time Kubernetes allows it (initialDelaySeconds +
    periodSeconds x failureThreshold after start; a liveness or startup probe that has not
    passed by then gets the container restarted), and passes again now."""
    the_pod = cluster.pod(pod)
    the_container = next(c for c in the_pod.containers if c.name == container)
    spec = {**harness._PROBE_DEFAULTS, **the_container.probes()[kind]}
    allowance = spec["initialDelaySeconds"] + spec["periodSeconds"] * spec["failureThreshold"]
    first = the_container.first_pass.get(kind)
    assert first is not None, (f"{kind} probe never passed; last answer: "
                               f"{the_container.answers.get(kind)}\n"
                               f"{cluster.log_tail(the_container, 10)}")
    assert first <= allowance + harness.POLL_SECONDS, (
        f"{kind} probe first passed {first} s after start, past its {allowance} s")
    passed, answer = cluster.probe(the_pod, the_container, kind)
    assert passed, f"{kind} probe fails now: {answer}"


def test_every_server_process_is_running(cluster):
    """Nothing crashed: every main container of every component still runs (autorecovery and
    bastion have no probes)."""
    stopped = [f"{pod.name}/{c.name} exited {c.proc.poll()}\n{cluster.log_tail(c, 10)}"
               for pod in cluster.pods if pod.kind != "Job" for c in pod.containers
               if c.proc is None or c.proc.poll() is not None]
    assert not stopped, "\n".join(stopped)


def test_autorecovery_runs_and_elects_an_auditor(cluster):
    """The election runs on its own thread after "Started component autorecovery-server" and
    takes a few seconds more on a loaded machine (a CI run read the log 0.1 s too early), so
    wait for it instead of reading the log once."""
    pod = cluster.pods_of("pulsar-autorecovery")[0]
    container = pod.containers[0]
    deadline = time.monotonic() + AUDITOR_ELECTION_SECONDS
    while True:
        assert container.proc.poll() is None, cluster.log_tail(container, 30)
        log = container.log.read_text(errors="replace")
        if re.search(r"starting as Auditor", log) or time.monotonic() > deadline:
            break
        time.sleep(harness.POLL_SECONDS)
    assert re.search(r"starting as Auditor", log), cluster.log_tail(container, 30)


def test_metadata_job_initialized_the_cluster(cluster):
    job = next(pod for pod in cluster.pods if pod.kind == "Job")
    assert job.phase == "Succeeded", cluster.describe([job])
    cluster_data = _cluster_data(cluster)
    assert cluster_data["serviceUrl"] == f"http://pulsar-broker.{NAMESPACE}.svc.cluster.local:8080/"
    assert cluster_data["brokerServiceUrl"] == \
        f"pulsar://pulsar-broker.{NAMESPACE}.svc.cluster.local:6650/"


def _cluster_data(cluster) -> dict:
    broker = cluster.pod("pulsar-broker-0")
    result = cluster.exec("pulsar-bastion-0", [
        "bin/pulsar-admin", "--admin-url", f"http://{broker.address}:8080", "clusters", "get",
        "pulsar"], timeout=90, check=True)
    return json.loads(result.stdout)


def test_metadata_job_is_idempotent(cluster):
    """The Job's command, run again as rendered on an initialized cluster, succeeds and
    changes nothing (a Job re-created by a sync must not fail or reformat)."""
    job = next(pod for pod in cluster.pods if pod.kind == "Job")
    before = (_cluster_data(cluster), _instance_id(cluster))
    spec = job.containers[0].spec
    result = cluster.exec(job, [*spec["command"], *spec["args"]], timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert (_cluster_data(cluster), _instance_id(cluster)) == before


def test_bookkeeper_metadata_is_formatted_once(cluster):
    """Three bookies ran their formatting step after the Job: the instance id the Job wrote is
    still the one in ZooKeeper, and every bookie's cookie carries it."""
    written = cluster.seen["instance id after the metadata Job"]
    assert _instance_id(cluster) == written
    for pod in cluster.pods_of("pulsar-bookkeeper"):
        cookie = cluster.volume_path(pod, "pulsar-bookkeeper-journal") / "current" / "VERSION"
        assert written in cookie.read_text(), f"{pod.name}: {cookie.read_text()}"


def test_formatting_step_does_not_hide_a_failure(cluster):
    """The bookie's formatting init container, run as rendered against a metadata store that
    cannot be reached, must not report success: it either fails or keeps retrying (else the
    bookie would start on unformatted metadata)."""
    pod = cluster.pods_of("pulsar-bookkeeper")[0]
    steps = [c for c in pod.init_containers
             if re.search(r"metaformat|initnewcluster", " ".join(c.spec.get("args", [])))]
    assert steps, "no formatting step in the bookie pod"
    spec = steps[0].spec
    unreachable = str(cluster.node.network.network_address + 1) + ":2181"  # the bridge
    try:
        result = cluster.exec(pod, [*spec["command"], *spec["args"]], container=steps[0].name,
                              env={"PULSAR_PREFIX_zkServers": unreachable}, timeout=45)
    except harness.subprocess.TimeoutExpired:
        return   # still retrying after 45 s: the pod would stay in Init, visibly
    assert result.returncode != 0, (
        "exit 0 with nothing to format against:\n" + result.stdout[-1500:])


def _produce_consume(cluster, url_args: list[str], topic: str) -> str:
    message = f"hello-{uuid.uuid4().hex[:8]}"
    produce = cluster.exec("pulsar-bastion-0", ["bin/pulsar-client", *url_args, "produce",
                                                "-m", message, topic], timeout=90)
    assert produce.returncode == 0, produce.stdout[-1500:] + produce.stderr[-1500:]
    consume = cluster.exec("pulsar-bastion-0", ["bin/pulsar-client", *url_args, "consume",
                                                "-s", "test", "-n", "1", "-p", "Earliest",
                                                topic], timeout=90)
    assert consume.returncode == 0, consume.stdout[-1500:] + consume.stderr[-1500:]
    return message if f"content:{message}" in consume.stdout else consume.stdout[-1500:]


def test_binary_protocol_through_the_proxy_service(cluster):
    """The bastion's client configuration (the proxy Service, whose endpoints are the Ready
    proxy pods) produces and consumes."""
    assert cluster.endpoints("pulsar-proxy"), "the pulsar-proxy Service has no endpoints"
    topic = f"persistent://public/default/binary-{uuid.uuid4().hex[:6]}"
    assert _produce_consume(cluster, [], topic).startswith("hello-")


def test_binary_protocol_through_a_proxy_pod(cluster):
    """The same through one proxy pod's address: our proxy configuration routes to brokers."""
    proxy = cluster.pods_of("pulsar-proxy")[0]
    topic = f"persistent://public/default/binary-pod-{uuid.uuid4().hex[:6]}"
    got = _produce_consume(cluster, ["--url", f"pulsar://{proxy.address}:6650/"], topic)
    assert got.startswith("hello-"), got


def _websocket(cluster, base: str) -> tuple[int, str, str]:
    topic = f"persistent/public/default/ws-{uuid.uuid4().hex[:6]}"
    message = f"hello-{uuid.uuid4().hex[:8]}"
    result = cluster.exec("pulsar-bastion-0", [harness.sys.executable,
                                               str(HERE / "ws_roundtrip.py"), base, topic,
                                               message], timeout=90)
    return result.returncode, result.stdout.strip(), message


def test_websocket_through_the_proxy_service(cluster):
    code, out, message = _websocket(cluster, f"ws://pulsar-proxy.{NAMESPACE}.svc.cluster.local:8000")
    assert (code, out) == (0, message)


def test_websocket_through_a_proxy_pod(cluster):
    """The websocket container of a proxy pod produces and consumes (our websocket
    configuration reaches the brokers), whatever its probe says."""
    proxy = cluster.pods_of("pulsar-proxy")[0]
    code, out, message = _websocket(cluster, f"ws://{proxy.address}:8000")
    assert (code, out) == (0, message)


def test_bastion_client_configuration_reaches_the_cluster(cluster):
    """`pulsar-admin` in the bastion, with only our client configuration, lists the cluster."""
    result = cluster.exec("pulsar-bastion-0", ["bin/pulsar-admin", "clusters", "list"],
                          timeout=90)
    assert result.returncode == 0 and "pulsar" in result.stdout.split(), \
        result.stdout[-1000:] + result.stderr[-1000:]
