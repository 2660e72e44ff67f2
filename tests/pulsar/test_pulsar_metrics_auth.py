"""Which Pulsar servers authenticate /metrics by default (docs/monitoring.md#authentication):
read from the configuration classes of the tested Pulsar version (java/MetricsAuthDefaults.java),
compared with what our PodMonitors assume (monitoring.AUTHENTICATED_BY_DEFAULT). With token
authentication on, a PodMonitor sends a token exactly where Pulsar asks for one."""

from __future__ import annotations

import subprocess

import pytest

from krm_pulsar import monitoring, render

from .conftest import HERE

pytestmark = pytest.mark.pulsar


@pytest.fixture(scope="module")
def defaults(pulsar_jars, tmp_path_factory):
    work = tmp_path_factory.mktemp("metrics-auth")
    classpath = (pulsar_jars / "classpath.txt").read_text().strip()
    subprocess.run(["javac", "-cp", classpath, "-d", str(work),
                    str(HERE / "java" / "MetricsAuthDefaults.java")], check=True, timeout=300)
    out = subprocess.run(["java", "-cp", f"{work}:{classpath}", "MetricsAuthDefaults"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    return {key: value == "true" for key, _, value in
            (line.strip().partition("=") for line in out.splitlines() if "=" in line)}


def test_our_table_is_pulsars_defaults(defaults):
    assert defaults == monitoring.AUTHENTICATED_BY_DEFAULT


def test_pod_monitors_send_a_token_where_pulsar_authenticates(defaults):
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p", "namespace": "pulsar"},
              "spec": {"global": {"podMonitor": {"enabled": True}, "auth": {"enabled": True}},
                       "functionsWorker": {"replicas": 1}}}
    objects, _ = render.render(config)
    tokens = {}
    for obj in objects:
        if obj["kind"] == "PodMonitor":
            section = {"function": "functionsWorker"}.get(obj["metadata"]["labels"]["component"],
                                                           obj["metadata"]["labels"]["component"])
            tokens[section] = all("authorization" in e for e in obj["spec"]["podMetricsEndpoints"])
    assert {section: tokens[section] for section in defaults} == defaults
    assert not any(tokens[s] for s in ("zookeeper", "bookkeeper", "autorecovery"))
