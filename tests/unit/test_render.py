"""Rendering of the minimal cluster: names, labels, addresses, schema validity."""

import pytest

from conftest import FIXTURES, object_key, render_without_info
from k8s import assert_valid
from krm_pulsar import render, yamlio


def rendered(fixture: str):
    config = yamlio.load_all((FIXTURES / fixture).read_text())[0]
    objects, findings = render_without_info(config)
    assert not [f for f in findings if f.severity == "error"], findings
    return {object_key(o): o for o in objects}


@pytest.mark.parametrize("fixture", ["minimal.yaml", "namespaced.yaml", "kaap-basic.yaml"])
def test_output_validates_against_kubernetes_schemas(fixture):
    assert_valid(list(rendered(fixture).values()))


def test_minimal_cluster_objects_and_names():
    objects = rendered("minimal.yaml")
    expected = {
        ("ConfigMap", "pulsar-zookeeper"), ("Service", "pulsar-zookeeper"),
        ("Service", "pulsar-zookeeper-ca"), ("StatefulSet", "pulsar-zookeeper"),
        ("PodDisruptionBudget", "pulsar-zookeeper"), ("Job", "pulsar-zookeeper-metadata"),
        ("ConfigMap", "pulsar-bookkeeper"), ("Service", "pulsar-bookkeeper"),
        ("StatefulSet", "pulsar-bookkeeper"), ("PodDisruptionBudget", "pulsar-bookkeeper"),
        ("ConfigMap", "pulsar-broker"), ("Service", "pulsar-broker"),
        ("StatefulSet", "pulsar-broker"), ("PodDisruptionBudget", "pulsar-broker"),
        ("ConfigMap", "pulsar-proxy"), ("ConfigMap", "pulsar-proxy-ws"),
        ("Service", "pulsar-proxy"), ("Deployment", "pulsar-proxy"),
        ("PodDisruptionBudget", "pulsar-proxy"),
        # autorecovery and bastion default to one replica each (docs/kaap-parity.md#spec-layout)
        ("ConfigMap", "pulsar-autorecovery"), ("Deployment", "pulsar-autorecovery"),
        ("ConfigMap", "pulsar-bastion"), ("Deployment", "pulsar-bastion"),
    }
    assert set(objects) == expected


def test_kaap_labels_and_selectors():
    objects = rendered("minimal.yaml")
    sts = objects[("StatefulSet", "pulsar-broker")]
    base = {"app": "pulsar", "component": "broker", "cluster": "pulsar"}
    assert sts["metadata"]["labels"] == {**base, "resource-set": "broker"}
    # the default set keeps KAAP's selector (no resource-set)
    assert sts["spec"]["selector"]["matchLabels"] == base
    assert sts["spec"]["template"]["metadata"]["labels"] == {**base, "resource-set": "broker"}
    assert objects[("Service", "pulsar-broker")]["spec"]["selector"] == base


def test_default_host_anti_affinity_is_required():
    sts = rendered("minimal.yaml")[("StatefulSet", "pulsar-bookkeeper")]
    anti = sts["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert anti == {"requiredDuringSchedulingIgnoredDuringExecution": [{
        "labelSelector": {"matchLabels": {"app": "pulsar", "component": "bookkeeper",
                                          "cluster": "pulsar"}},
        "topologyKey": "kubernetes.io/hostname"}]}


def test_without_namespace_addresses_are_relative_and_objects_unnamespaced():
    objects = rendered("minimal.yaml")
    assert all("namespace" not in o["metadata"] for o in objects.values())
    broker = objects[("ConfigMap", "pulsar-broker")]["data"]
    assert broker["PULSAR_PREFIX_zookeeperServers"] == "pulsar-zookeeper-ca:2181"
    proxy = objects[("ConfigMap", "pulsar-proxy")]["data"]
    assert proxy["PULSAR_PREFIX_brokerServiceURL"] == "pulsar://pulsar-broker:6650/"


def test_with_namespace_addresses_are_fully_qualified():
    objects = rendered("namespaced.yaml")
    assert all(o["metadata"]["namespace"] == "messaging" for o in objects.values())
    broker = objects[("ConfigMap", "prod-broker")]["data"]
    assert (broker["PULSAR_PREFIX_zookeeperServers"]
            == "prod-zookeeper-ca.messaging.svc.example.internal:2181")
    job = objects[("Job", "prod-zookeeper-metadata")]
    args = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert "--web-service-url http://prod-broker.messaging.svc.example.internal:8080/" in args
    assert "--broker-service-url pulsar://prod-broker.messaging.svc.example.internal:6650/" in args


def test_zookeeper_servers_follow_replicas():
    sts = rendered("namespaced.yaml")[("StatefulSet", "prod-zookeeper")]
    env = sts["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "ZOOKEEPER_SERVERS",
                    "value": "prod-zookeeper-0,prod-zookeeper-1,prod-zookeeper-2,"
                             "prod-zookeeper-3,prod-zookeeper-4"}]
    assert sts["spec"]["replicas"] == 5


def test_user_config_is_prefixed_and_write_quorum_sets_min_racks():
    data = rendered("namespaced.yaml")[("ConfigMap", "prod-broker")]["data"]
    assert data["PULSAR_PREFIX_managedLedgerDefaultWriteQuorum"] == "3"
    assert data["PULSAR_PREFIX_bookkeeperClientMinNumRacksPerWriteQuorum"] == "3"
    assert "-Dio.netty" in data["PULSAR_MEM"]  # PULSAR_* keys keep their names


def test_global_name_defaults_to_metadata_name():
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "edge"}}
    objects, findings = render_without_info(config)
    assert not findings
    assert {o["metadata"]["name"] for o in objects} >= {"edge-zookeeper", "edge-broker"}


def test_kaap_input_is_taken_as_is():
    objects = rendered("kaap-basic.yaml")
    sts = objects[("StatefulSet", "pulsar-broker")]
    assert sts["metadata"]["namespace"] == "pulsar"
    container = sts["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "apachepulsar/pulsar:3.0.7"
    annotations = sts["spec"]["template"]["metadata"]["annotations"]
    # restartOnConfigMapChange keeps KAAP's annotation key for KAAP input
    assert "kaap.oss.datastax.com/configmap-pulsar-broker" in annotations
    assert objects[("Service", "pulsar-proxy")]["spec"]["type"] == "ClusterIP"
    claims = objects[("StatefulSet", "pulsar-bookkeeper")]["spec"]["volumeClaimTemplates"]
    assert [(c["metadata"]["name"], c["spec"]["resources"]["requests"]["storage"])
            for c in claims] == [("pulsar-bookkeeper-journal", "10Gi"),
                                 ("pulsar-bookkeeper-ledgers", "100Gi")]
    # "default" storage class: storageClassName left out
    assert all("storageClassName" not in c["spec"] for c in claims)


def test_config_change_changes_the_checksum_annotation():
    config = yamlio.load_all((FIXTURES / "kaap-basic.yaml").read_text())[0]
    before, _ = render_without_info(config)
    config["spec"]["broker"]["config"]["managedLedgerDefaultAckQuorum"] = "1"
    after, _ = render_without_info(config)

    def checksum(objects):
        sts = next(o for o in objects if o["kind"] == "StatefulSet"
                   and o["metadata"]["name"] == "pulsar-broker")
        return sts["spec"]["template"]["metadata"]["annotations"][
            "kaap.oss.datastax.com/configmap-pulsar-broker"]
    assert checksum(before) != checksum(after)


def test_unimplemented_features_are_refused_visibly():
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"},
              "spec": {"global": {"tls": {"certProvisioner": {"selfSigned": {"external": {
                  "console": {"dnsNames": ["console.example.com"]}}}}}}}}
    objects, findings = render_without_info(config)
    assert objects == []
    assert findings[0].path == "spec.global.tls.certProvisioner.selfSigned.external"
    assert "not rendered by this version" in findings[0].message


@pytest.mark.parametrize("name", ["Pulsar", "pulsar_1", "-x", "a" * 41])
def test_invalid_cluster_names(name):
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {"global": {"name": name}}}
    objects, findings = render_without_info(config)
    assert objects == [] and findings[0].path == "spec.global.name"


def test_names_too_long_for_kubernetes_are_refused():
    # 40 characters pass the name check, but the metadata Job would get 68 (limit 63)
    name = "abcdefghij" * 4
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {"global": {"name": name}}}
    objects, findings = render_without_info(config)
    assert objects == []
    errors = [f for f in findings if f.severity == "error"]
    assert errors and all(f.path == "spec.global.name" for f in errors)
    assert any(f"Job '{name}-zookeeper-metadata-" in f.message and "at most 63" in f.message
               for f in errors)
    # a shorter name renders, and every Job fits
    config["spec"]["global"]["name"] = name[:35]
    objects, findings = render_without_info(config)
    assert objects and all(len(o["metadata"]["name"]) <= 63 for o in objects)


def test_a_patched_job_gets_a_new_name():
    """Jobs are immutable: a change made by spec.patches must make a new Job too. Patches
    target the Job by its name without the content hash."""
    def job_names(value):
        config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
                  "metadata": {"name": "p"}, "spec": {"patches": [{
                      "target": {"kind": "Job", "name": "p-zookeeper-metadata"},
                      "patch": [{"op": "add", "path": "/spec/template/metadata/annotations",
                                 "value": {"x": value}}]}]}}
        objects, findings = render_without_info(config)
        assert not [f for f in findings if f.severity == "error"], findings
        return [o["metadata"]["name"] for o in objects if o["kind"] == "Job"]
    first, second = job_names("a"), job_names("b")
    assert len(first) == 1 and first[0].startswith("p-zookeeper-metadata-")
    assert first != second


@pytest.mark.parametrize("spec", [{"global": None}, {"bookkeeper": None},
                                  {"global": {"name": "p"}, "broker": None}])
def test_null_sections_mean_defaults(spec):
    """`bookkeeper:` with every child commented out is null in YAML: treated as not given."""
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": spec}
    objects, findings = render_without_info(config)
    assert objects and not [f for f in findings if f.severity == "error"]


@pytest.mark.parametrize("operation, broken", [
    ({"op": "replace", "path": "/metadata/annotations", "value": 5},
     "metadata.annotations that is not a mapping"),
    ({"op": "replace", "path": "/spec/template/metadata", "value": "x"},
     "spec.template or its metadata that is not a mapping"),
])
def test_patches_that_break_an_object_are_errors(operation, broken):
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {"patches": [
                  {"target": {"kind": "StatefulSet", "name": "p-broker"}, "patch": [operation]}]}}
    objects, findings = render_without_info(config)
    assert objects == []
    assert [(f.path, broken in f.message) for f in findings] == [("spec.patches[0].patch", True)]


@pytest.mark.parametrize("section, pod_labels, field", [
    ("broker", {"app": ""}, "spec.broker.podLabels.app"),
    ("bookkeeper", {"component": "other"}, "spec.bookkeeper.podLabels.component"),
    ("zookeeper", {"cluster": "elsewhere"}, "spec.zookeeper.podLabels.cluster"),
])
def test_pod_labels_cannot_leave_the_selector(section, pod_labels, field):
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {section: {"podLabels": pod_labels}}}
    objects, findings = render_without_info(config)
    assert objects == [] and [f.path for f in findings] == [field]
    # extra pod labels, or the same value as the selector's, are fine
    config["spec"][section] = {"podLabels": {"team": "a", "app": "pulsar"}}
    objects, findings = render_without_info(config)
    assert objects and not findings


def test_labels_cannot_change_the_base_labels():
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {"broker": {"labels": {"component": "zookeeper"}}}}
    objects, findings = render_without_info(config)
    assert objects == [] and [f.path for f in findings] == ["spec.broker.labels.component"]
    config["spec"]["broker"]["labels"] = {"team": "a", "component": "broker"}
    objects, findings = render_without_info(config)
    assert objects and not findings


def test_service_type_on_zookeeper_or_bookkeeper_is_reported_as_ignored():
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"},
              "spec": {"bookkeeper": {"service": {"type": "LoadBalancer"}}}}
    objects, findings = render_without_info(config)
    assert objects
    assert [(f.path, f.severity) for f in findings] == [
        ("spec.bookkeeper.service.type", "warning")]
    bookies = next(o for o in objects if o["kind"] == "Service"
                   and o["metadata"]["name"] == "p-bookkeeper")
    assert bookies["spec"]["clusterIP"] == "None" and "type" not in bookies["spec"]
