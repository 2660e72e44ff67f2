"""The full cluster (issue 3): every component honours every knob, Oxia switches every
consumer, combinations that cannot work are refused, and spec.patches applies last."""

import copy
import subprocess
import sys

import pytest

from conftest import FIXTURES, object_key, render_without_info
from k8s import assert_valid
from krm_pulsar import render, yamlio


def load(fixture: str) -> dict:
    return yamlio.load_all((FIXTURES / fixture).read_text())[0]


def run(config: dict):
    objects, findings = render_without_info(config)
    return {object_key(o): o for o in objects}, findings


def ok(config: dict) -> dict:
    objects, findings = run(config)
    errors = [f for f in findings if f.severity == "error"]
    assert not errors, errors
    return objects


def errors_of(config: dict) -> list:
    objects, findings = run(config)
    errors = [f for f in findings if f.severity == "error"]
    assert errors and not objects, "expected the render to be refused"
    return errors


def cluster(spec: dict, namespace: str | None = "ns") -> dict:
    metadata = {"name": "p"}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
            "metadata": metadata, "spec": spec}


# --- every knob on every component ----------------------------------------------------------

KNOB_WORKLOADS = {
    # component section -> (kind, name, main container name)
    "zookeeper": ("StatefulSet", "knobs-zookeeper", "knobs-zookeeper"),
    "bookkeeper": ("StatefulSet", "knobs-bookkeeper", "knobs-bookkeeper"),
    "broker": ("StatefulSet", "knobs-broker", "knobs-broker"),
    "proxy": ("Deployment", "knobs-proxy", "knobs-proxy"),
    "autorecovery": ("Deployment", "knobs-autorecovery", "knobs-autorecovery"),
    "bastion": ("Deployment", "knobs-bastion", "knobs-bastion"),
    "functionsWorker": ("StatefulSet", "knobs-function", "knobs-function"),
}


@pytest.fixture(scope="module")
def knobs():
    config = load("full-every-knob.yaml")
    return config["spec"], ok(config)


@pytest.mark.parametrize("component", sorted(KNOB_WORKLOADS))
def test_every_knob_reaches_the_pod(knobs, component):
    spec, objects = knobs
    user = spec[component]
    glob = spec["global"]
    kind, name, container_name = KNOB_WORKLOADS[component]
    workload = objects[(kind, name)]
    pod = workload["spec"]["template"]["spec"]
    meta = workload["spec"]["template"]["metadata"]
    main = next(c for c in pod["containers"] if c["name"] == container_name)

    assert workload["spec"]["replicas"] == user["replicas"]
    assert main["image"] == user.get("image", glob["image"])
    assert main["imagePullPolicy"] == user.get("imagePullPolicy", glob["imagePullPolicy"])
    assert main["resources"] == user["resources"]
    assert {"name": user["env"][0]["name"], "value": user["env"][0]["value"]} in main["env"]
    # global node selectors sit under the component's (component keys win)
    assert pod["nodeSelector"] == {**glob["nodeSelectors"], **user["nodeSelectors"]}
    assert pod["tolerations"] == user["tolerations"]
    assert pod["affinity"]["nodeAffinity"] == user["nodeAffinity"]
    assert pod["imagePullSecrets"] == user["imagePullSecrets"]
    assert pod["containers"][0]["name"] == user["sidecars"][0]["name"]  # sidecars first
    assert pod["initContainers"][0]["name"] == user["initContainers"][0]["name"]
    assert pod["serviceAccountName"] == user["serviceAccountName"]
    # the user's fields win over the restricted defaults (docs/security.md)
    assert pod["securityContext"] == {**pod["securityContext"], **user["securityContext"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["terminationGracePeriodSeconds"] == user["gracePeriod"]
    assert pod["dnsConfig"] == user.get("dnsConfig", glob["dnsConfig"])
    assert pod["priorityClassName"] == user.get("priorityClassName", glob["priorityClassName"])
    if "additionalVolumes" in user:
        assert user["additionalVolumes"]["volumes"][0] in pod["volumes"]
        assert user["additionalVolumes"]["mounts"][0] in main["volumeMounts"]
    # labels and annotations
    for key, value in user["labels"].items():
        assert workload["metadata"]["labels"][key] == value
    assert workload["metadata"]["annotations"]["owner"] == user["annotations"]["owner"]
    for key, value in user["podLabels"].items():
        assert meta["labels"][key] == value
    selector = workload["spec"]["selector"]["matchLabels"]
    for key, value in user["matchLabels"].items():
        assert selector[key] == value
    assert selector.items() <= meta["labels"].items(), "the selector must match the pods"
    assert meta["annotations"]["example.org/scrape"] == user["podAnnotations"][
        "example.org/scrape"]
    # restartOnConfigMapChange: a checksum of the component's ConfigMap
    assert any(key.startswith("krm-pulsar.io/configmap-") for key in meta["annotations"])
    if "updateStrategy" in user:
        key = "strategy" if kind == "Deployment" else "updateStrategy"
        assert workload["spec"][key] == user["updateStrategy"]
    if "podManagementPolicy" in user:
        assert workload["spec"]["podManagementPolicy"] == user["podManagementPolicy"]


@pytest.mark.parametrize("component,name", [
    ("zookeeper", "knobs-zookeeper"), ("bookkeeper", "knobs-bookkeeper"),
    ("broker", "knobs-broker"), ("proxy", "knobs-proxy"), ("functionsWorker", "knobs-function")])
def test_every_knob_reaches_the_pdb_and_service(knobs, component, name):
    spec, objects = knobs
    user = spec[component]
    pdb = objects.get(("PodDisruptionBudget", name))
    if user["pdb"].get("enabled") is False:
        assert pdb is None
    else:
        expected = {k: v for k, v in user["pdb"].items() if k != "enabled"}
        if "minAvailable" not in expected:
            expected.setdefault("maxUnavailable", 1)
        assert {k: v for k, v in pdb["spec"].items() if k != "selector"} == expected
    service_name = f"{name}-ca" if component == "functionsWorker" else name
    service = objects[("Service", service_name)]
    for key, value in user["service"]["annotations"].items():
        assert service["metadata"]["annotations"][key] == value
    assert user["service"]["additionalPorts"][-1] in service["spec"]["ports"]


def test_every_knob_config_maps_use_the_prefix_rule(knobs):
    _, objects = knobs
    assert objects[("ConfigMap", "knobs-zookeeper")]["data"]["PULSAR_PREFIX_tickTime"] == "3000"
    assert objects[("ConfigMap", "knobs-zookeeper")]["data"]["PULSAR_GC"] == "-XX:+UseG1GC"
    assert objects[("ConfigMap", "knobs-bookkeeper")]["data"]["BOOKIE_MEM"].startswith("-Xms4g")
    broker = objects[("ConfigMap", "knobs-broker")]["data"]
    assert broker["PULSAR_PREFIX_loadBalancerSheddingEnabled"] == "false"
    assert broker["PULSAR_PREFIX_clusterName"] == "knobs-east"
    ws = objects[("ConfigMap", "knobs-proxy-ws")]["data"]
    assert ws["PULSAR_PREFIX_webSocketNumIoThreads"] == "4"
    assert objects[("ConfigMap", "knobs-function-extra")]["data"]["PULSAR_MEM"] == "-Xms1g -Xmx1g"


def test_every_knob_proxy_service_and_kafka(knobs):
    _, objects = knobs
    proxy = objects[("Service", "knobs-proxy")]["spec"]
    assert proxy["type"] == "LoadBalancer"
    assert proxy["loadBalancerIP"] == "203.0.113.10"
    assert proxy["loadBalancerClass"] == "service.k8s.aws/nlb"
    # proxy kafka.exposePorts false: no kafka ports; broker kafka: ports exposed
    assert not {p["name"] for p in proxy["ports"]} & {"kafkaplaintext", "kafkaschemaregistry"}
    broker_ports = {p["name"]: p["port"] for p in objects[("Service", "knobs-broker")]["spec"][
        "ports"]}
    assert broker_ports["kafkaplaintext"] == 9092 and broker_ports["kafkaschemaregistry"] == 8081
    assert objects[("ConfigMap", "knobs-broker")]["data"]["PULSAR_PREFIX_messagingProtocols"] \
        == "kafka"


def test_every_knob_output_validates(knobs):
    assert_valid(list(knobs[1].values()))


# --- bastion, autorecovery, transactions ------------------------------------------------------


def test_bastion_targets_the_proxy_when_there_is_one_else_the_brokers():
    suffix = "ns.svc.cluster.local"
    with_proxy = ok(cluster({}))[("ConfigMap", "p-bastion")]["data"]
    assert with_proxy["PULSAR_PREFIX_brokerServiceUrl"] == f"pulsar://p-proxy.{suffix}:6650/"
    without = ok(cluster({"proxy": {"replicas": 0}}))[("ConfigMap", "p-bastion")]["data"]
    assert without["PULSAR_PREFIX_brokerServiceUrl"] == f"pulsar://p-broker.{suffix}:6650/"
    assert without["PULSAR_PREFIX_webServiceUrl"] == f"http://p-broker.{suffix}:8080/"


def test_zero_replicas_render_nothing_for_that_component():
    objects = ok(cluster({"autorecovery": {"replicas": 0}, "bastion": {"replicas": 0}}))
    assert not [key for key in objects if "autorecovery" in key[1] or "bastion" in key[1]]


def test_transactions_job_per_broker_set():
    objects = ok(cluster({
        "global": {"resourceSets": {"a": {}, "b": {}}},
        "broker": {"transactions": {"enabled": True, "partitions": 5},
                   "sets": {"a": {}, "b": {"transactions": {"enabled": False}}}}}))
    job = objects[("Job", "p-broker-a")]
    args = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert "--initial-num-transaction-coordinators 5" in args
    assert "--configuration-store p-zookeeper-ca.ns.svc.cluster.local:2181" in args
    assert ("Job", "p-broker-b") not in objects
    cm = objects[("ConfigMap", "p-broker-a")]["data"]
    assert cm["PULSAR_PREFIX_transactionCoordinatorEnabled"] == "true"


# --- functions worker -------------------------------------------------------------------------


def test_functions_worker_objects_and_proxy_wiring():
    objects = ok(load("full-functions-worker.yaml"))
    names = {key for key in objects if key[1].startswith("pulsar-function")}
    assert names == {
        ("ServiceAccount", "pulsar-function"), ("Role", "pulsar-function"),
        ("RoleBinding", "pulsar-function"), ("ConfigMap", "pulsar-function"),
        ("ConfigMap", "pulsar-function-extra"), ("Service", "pulsar-function-ca"),
        ("Service", "pulsar-function"), ("StatefulSet", "pulsar-function"),
        ("PodDisruptionBudget", "pulsar-function")}
    proxy = objects[("ConfigMap", "pulsar-proxy")]["data"]
    assert proxy["PULSAR_PREFIX_functionWorkerWebServiceURL"] == \
        "http://pulsar-function-ca.pulsar.svc.cluster.local:6750"
    worker = yamlio.load_all(objects[("ConfigMap", "pulsar-function")]["data"][
        "functions_worker.yml"])[0]
    # user keys keep their types; PULSAR_* strings go to the -extra ConfigMap instead
    assert worker["numFunctionPackageReplicas"] == 3
    assert worker["functionInstanceMaxResources"] == {"cpu": 2, "ram": 2147483648}
    assert "PULSAR_MEM" not in worker
    assert worker["functionRuntimeFactoryConfigs"]["jobNamespace"] == "pulsar"
    extra = objects[("ConfigMap", "pulsar-function-extra")]["data"]
    assert extra["PULSAR_MEM"] == "-Xms1g -Xmx1g -XX:+ExitOnOutOfMemoryError"
    headless = objects[("Service", "pulsar-function")]["spec"]
    assert headless["clusterIP"] == "None"


def test_functions_worker_without_worker_leaves_the_proxy_alone():
    proxy = ok(cluster({}))[("ConfigMap", "p-proxy")]["data"]
    assert "PULSAR_PREFIX_functionWorkerWebServiceURL" not in proxy


@pytest.mark.parametrize("spec,path", [
    ({"functionsWorker": {"replicas": 1, "rbac": {"namespaced": False}}},
     "spec.functionsWorker.rbac.namespaced"),
    ({"functionsWorker": {"replicas": 1, "runtime": "kubernetes"}},
     "spec.functionsWorker.runtime"),
])
def test_functions_worker_settings_that_need_a_namespace(spec, path):
    assert [e.path for e in errors_of(cluster(spec, namespace=None))] == [path]
    ok(cluster(spec))  # fine once the namespace is known


def test_functions_worker_service_must_stay_headless_cluster_ip():
    errors = errors_of(cluster({"functionsWorker": {"replicas": 1,
                                                    "service": {"type": "LoadBalancer"}}}))
    assert errors[0].path == "spec.functionsWorker.service.type"


@pytest.mark.parametrize("component,name", [
    ("functionsWorker", "workerHostname"), ("functionsWorker", "PF_workerId"),
    ("zookeeper", "ZOOKEEPER_SERVERS")])
def test_forbidden_env_names_are_refused(component, name):
    spec = {component: {"env": [{"name": "OK", "value": "1"}, {"name": name, "value": "x"}]}}
    if component == "functionsWorker":
        spec[component]["replicas"] = 1
    errors = errors_of(cluster(spec))
    assert errors[0].path == f"spec.{component}.env[1].name"
    assert name in errors[0].message


def test_pod_labels_contradicting_match_labels_are_refused():
    errors = errors_of(cluster({"broker": {"matchLabels": {"tier": "a"},
                                           "podLabels": {"tier": "b"}}}))
    assert errors[0].path == "spec.broker.podLabels.tier"


# --- Oxia -------------------------------------------------------------------------------------


def test_oxia_replaces_zookeeper_everywhere():
    config = load("full-oxia.yaml")
    objects = ok(config)
    assert not [key for key in objects if "zookeeper" in key[1]]
    text = yamlio.dump_all(objects.values())
    assert "2181" not in text and "zookeeperServers" not in text
    url = "oxia://pulsar-oxia-svc.pulsar.svc.cluster.local:6648"
    broker = objects[("ConfigMap", "pulsar-broker")]["data"]
    assert broker["PULSAR_PREFIX_metadataStoreUrl"] == f"{url}/broker"
    assert broker["PULSAR_PREFIX_bookkeeperMetadataServiceUri"] == \
        f"metadata-store:{url}/bookkeeper"
    for name in ("pulsar-bookkeeper", "pulsar-autorecovery"):
        data = objects[("ConfigMap", name)]["data"]
        assert data["PULSAR_PREFIX_metadataServiceUri"] == f"metadata-store:{url}/bookkeeper"
    proxy = objects[("ConfigMap", "pulsar-proxy")]["data"]
    assert not [key for key in proxy if "etadata" in key or "zookeeper" in key.lower()]
    job = objects[("Job", "pulsar-oxia-metadata")]
    args = job["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert f"--metadata-store {url}/broker --configuration-store {url}/broker" in args
    coordinator = yamlio.load_all(objects[("ConfigMap", "pulsar-oxia-coordinator")]["data"][
        "config.yaml"])[0]
    assert [s["internal"] for s in coordinator["servers"]] == [
        f"pulsar-oxia-server-{i}.pulsar-oxia-svc:6649" for i in range(3)]
    assert objects[("StatefulSet", "pulsar-oxia-server")]["spec"]["replicas"] == 3
    tx = objects[("Job", "pulsar-broker")]["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert f"--configuration-store {url}/broker" in tx
    assert_valid(list(objects.values()))


def test_oxia_without_namespace_uses_relative_names():
    objects = ok(cluster({"oxia": {"enabled": True}}, namespace=None))
    broker = objects[("ConfigMap", "p-broker")]["data"]
    assert broker["PULSAR_PREFIX_metadataStoreUrl"] == "oxia://p-oxia-svc:6648/broker"
    command = objects[("Deployment", "p-oxia-coordinator")]["spec"]["template"]["spec"][
        "containers"][0]["command"]
    assert "--k8s-namespace=$(POD_NAMESPACE)" in command


@pytest.mark.parametrize("spec,path", [
    ({"zookeeper": {"replicas": 3}}, "spec.zookeeper.replicas"),
    # embedded functions need FileSystem package storage on Oxia (storage.check)
    ({"broker": {"functionsWorkerEnabled": True}}, "spec.broker.packageManagement.enabled"),
    ({"functionsWorker": {"replicas": 1}}, "spec.functionsWorker.replicas"),
    ({"bookkeeper": {"autoRackConfig": {"additionalZookeeperClientConfig": {"a": "b"}}}},
     "spec.bookkeeper.autoRackConfig.additionalZookeeperClientConfig"),
    ({"oxia": {"enabled": True, "server": {"replicas": 2}}}, "spec.oxia.replicationFactor"),
])
def test_oxia_refuses_what_needs_zookeeper(spec, path):
    spec = copy.deepcopy(spec)
    spec.setdefault("oxia", {"enabled": True})
    errors = errors_of(cluster(spec))
    assert path in [e.path for e in errors]
    if "unctions" in str(spec) and "additional" not in path:
        message = next(e.message for e in errors if e.path == path)
        assert "ZooKeeper" in message and "FileSystem" in message


def test_oxia_warns_that_zookeeper_settings_are_ignored():
    objects, findings = run(cluster({"oxia": {"enabled": True},
                                     "zookeeper": {"config": {"tickTime": 1}}}))
    assert objects and [(f.severity, f.path) for f in findings] == [("warning", "spec.zookeeper")]
    _, findings = run(cluster({"oxia": {"enabled": True}, "zookeeper": {"replicas": 0}}))
    assert findings == []


def test_oxia_refuses_zookeeper_tls():
    spec = {"oxia": {"enabled": True}, "global": {"tls": {"zookeeper": {"enabled": True}}}}
    paths = [e.path for e in errors_of(cluster(spec))]
    assert "spec.global.tls.zookeeper.enabled" in paths


# --- spec.patches -----------------------------------------------------------------------------


def test_patches_apply_last_and_in_order():
    objects = ok(cluster({"patches": [
        {"target": {"kind": "StatefulSet", "name": "p-broker"},
         "patch": [{"op": "replace", "path": "/spec/replicas", "value": 7}]},
        {"target": {"kind": "StatefulSet", "name": "p-broker"},
         "patch": [{"op": "test", "path": "/spec/replicas", "value": 7}]},
    ]}))
    assert objects[("StatefulSet", "p-broker")]["spec"]["replicas"] == 7


def test_patch_of_a_config_map_still_rolls_the_pods():
    base = {"global": {"restartOnConfigMapChange": True}}
    patched = dict(base, patches=[{"target": {"kind": "ConfigMap", "name": "p-broker"}, "patch": [
        {"op": "add", "path": "/data/PULSAR_PREFIX_x", "value": "1"}]}])

    def checksum(objects):
        return objects[("StatefulSet", "p-broker")]["spec"]["template"]["metadata"][
            "annotations"]["krm-pulsar.io/configmap-p-broker"]
    assert checksum(ok(cluster(base))) != checksum(ok(cluster(patched)))


@pytest.mark.parametrize("patch,path,words", [
    ({"target": {"kind": "StatefulSet", "name": "nope"},
      "patch": [{"op": "add", "path": "/x", "value": 1}]}, "spec.patches[1].target", "nope"),
    ({"target": {"kind": "Service", "name": "p-broker"},
      "patch": [{"op": "replace", "path": "/spec/missing", "value": 1}]},
     "spec.patches[1].patch", "does not apply"),
    ({"target": {"kind": "Service", "name": "p-broker"},
      "patch": [{"op": "replace", "path": "/metadata/name", "value": "other"}]},
     "spec.patches[1].patch", "name"),
    ({"target": {"kind": "Service", "name": "p-broker"},
      "patch": [{"op": "jump", "path": "/x"}]}, "spec.patches[1].patch", "patch 1"),
])
def test_bad_patches_are_errors_naming_the_patch(patch, path, words):
    good = {"target": {"kind": "Service", "name": "p-broker"},
            "patch": [{"op": "add", "path": "/metadata/labels/x", "value": "y"}]}
    errors = errors_of(cluster({"patches": [good, patch]}))
    assert [e.path for e in errors] == [path]
    assert words in errors[0].message


@pytest.mark.parametrize("target,hint", [
    # a typo in the name: the objects of that kind are listed
    ({"kind": "StatefulSet", "name": "p-brokers"},
     "the generated StatefulSet objects are named 'p-zookeeper', 'p-bookkeeper', 'p-broker': "
     "fix target.name"),
    # the right name under the wrong kind
    ({"kind": "Deployment", "name": "p-broker"},
     "'p-broker' is generated as ConfigMap, Service, StatefulSet, PodDisruptionBudget: "
     "fix target.kind"),
    # the right object under the wrong API version
    ({"kind": "StatefulSet", "name": "p-broker", "version": "v1beta1"},
     "the StatefulSet 'p-broker' is apps/v1: fix target.group or target.version"),
])
def test_a_patch_that_targets_nothing_says_what_is_generated(target, hint):
    spec = {"proxy": {"replicas": 0}, "autorecovery": {"replicas": 0},
            "bastion": {"replicas": 0},
            "patches": [{"target": target,
                         "patch": [{"op": "add", "path": "/metadata/labels/x", "value": "y"}]}]}
    errors = errors_of(cluster(spec))
    assert [e.path for e in errors] == ["spec.patches[0].target"]
    assert errors[0].message.endswith(hint), errors[0].message


def test_jsonpatch_is_not_imported_without_patches():
    code = ("import sys; from krm_pulsar import render; "
            "render.render({'apiVersion': 'krm-pulsar.io/v1alpha1', 'kind': 'PulsarCluster', "
            "'metadata': {'name': 'p'}}); print('jsonpatch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
