"""Issue 11 ("It starts, stays up and rolls"), issue 13 item 1, issue 16 item 6 and the
package storage without persistence: probes, start-up order, rollouts, memory, Oxia's
security context, the bastion's BookKeeper configuration, quorums and prerequisites, asserted
on the rendered objects (and schema-validated)."""

from __future__ import annotations

import copy
import re

import k8s
import pss
from conftest import object_key
from krm_pulsar import render

OURS = "krm-pulsar.io/v1alpha1"
KAAP = "kaap.oss.datastax.com/v1beta1"


def cluster(spec=None, api=OURS, namespace="ns"):
    metadata = {"name": "p"}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api, "kind": "PulsarCluster", "metadata": metadata,
            "spec": copy.deepcopy(spec or {})}


def run(spec=None, api=OURS, validate=True):
    objects, findings = render.render(cluster(spec, api))
    assert not [f for f in findings if f.severity == "error"], findings
    if validate:
        k8s.assert_valid(objects, versions=(k8s.NEWEST_KUBERNETES,))
    return {object_key(o): o for o in objects}, findings


def pod(objects, kind, name):
    return objects[(kind, name)]["spec"]["template"]["spec"]


def container(objects, kind, name, container_name=None):
    containers = pod(objects, kind, name)["containers"]
    return next(c for c in containers if c["name"] == (container_name or name))


def job(objects, prefix):
    matches = [o for (kind, name), o in objects.items()
               if kind == "Job" and re.fullmatch(prefix + r"(-[0-9a-f]{8})?", name)]
    assert len(matches) == 1, [name for kind, name in objects if kind == "Job"]
    return matches[0]


def mib(value: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(Mi|Gi)", value).groups()
    return float(number) * (1024 if unit == "Gi" else 1)


# --- 1. websocket probes (issue 11 item 1, issue 13 item 1) -------------------------------------


def test_websocket_probes_hit_its_own_status_page_on_its_port():
    objects, _ = run()
    ws = container(objects, "Deployment", "p-proxy", "p-proxy-ws")
    for kind in ("livenessProbe", "readinessProbe"):
        assert ws[kind]["httpGet"] == {"path": "/status.html", "port": "ws"}
    assert {"name": "ws", "containerPort": 8000} in ws["ports"]
    # /status.html answers only while the status file exists
    data = objects[("ConfigMap", "p-proxy-ws")]["data"]
    assert data["PULSAR_PREFIX_statusFilePath"] == "/pulsar/status"
    assert 'echo OK > "${PULSAR_PREFIX_statusFilePath:-/pulsar/status}"' in ws["args"][0]
    assert "/metrics" not in str(ws.get("livenessProbe"))


def test_websocket_probes_use_the_tls_port_with_proxy_tls():
    objects, _ = run({"global": {"tls": {"enabled": True, "proxy": {"enabled": True}}}})
    ws = container(objects, "Deployment", "p-proxy", "p-proxy-ws")
    assert ws["livenessProbe"]["httpGet"] == {"path": "/status.html", "port": "wss",
                                              "scheme": "HTTPS"}
    assert {"name": "wss", "containerPort": 8001} in ws["ports"]


def test_kaap_websocket_has_no_probes_and_proxy_configmaps_no_pulsar_mem():
    objects, _ = run(api=KAAP)
    ws = container(objects, "Deployment", "p-proxy", "p-proxy-ws")
    assert "livenessProbe" not in ws and "readinessProbe" not in ws
    assert "statusFilePath" not in str(objects[("ConfigMap", "p-proxy-ws")]["data"])
    for name in ("p-proxy", "p-proxy-ws"):
        assert "PULSAR_MEM" not in objects[("ConfigMap", name)]["data"]


def test_kaap_websocket_probes_when_asked_are_kaaps():
    objects, _ = run({"proxy": {"webSocket": {"probes": {"liveness": {"enabled": True}}}}},
                     api=KAAP)
    ws = container(objects, "Deployment", "p-proxy", "p-proxy-ws")
    assert ws["livenessProbe"]["exec"]["command"][-1].endswith(
        "http://localhost:8080/metrics/ > /dev/null")
    assert "readinessProbe" not in ws


# --- 2. start-up order (issue 11 item 2) --------------------------------------------------------


def test_bookie_init_formats_with_retries_and_never_hides_a_failure():
    objects, _ = run()
    init = pod(objects, "StatefulSet", "p-bookkeeper")["initContainers"][-1]
    args = init["args"][0]
    assert "metaformat" not in args and not args.rstrip().endswith("|| true;")
    assert "until timeout 60 bin/bookkeeper shell whatisinstanceid; do" in args
    assert "bin/bookkeeper shell initnewcluster" in args
    assert {"name": "BOOKIE_MEM", "value": init["env"][-1]["value"]} in init["env"]
    assert "-Xmx128m" in init["env"][-1]["value"]


def test_oxia_bookies_format_their_own_namespace_also_for_kaap_input():
    spec = {"oxia": {"enabled": True}}
    for api in (OURS, KAAP):
        objects, _ = run(spec, api=api)
        init = pod(objects, "StatefulSet", "p-bookkeeper")["initContainers"][-1]
        assert "initnewcluster" in init["args"][0] and "|| true;" not in init["args"][0]


def test_brokers_wait_for_cluster_metadata_and_bookkeeper():
    objects, _ = run()
    inits = {c["name"]: c for c in pod(objects, "StatefulSet", "p-broker")["initContainers"]}
    assert ("bin/pulsar zookeeper-shell -r -server p-zookeeper-ca.ns.svc.cluster.local:2181 "
            "get /admin/clusters/p") in inits["wait-cluster-metadata"]["args"][0]
    assert inits["wait-cluster-metadata"]["args"][0].startswith("until timeout")
    wait_bk = inits["wait-bookkeeper"]
    assert "until timeout 60 bin/bookkeeper shell whatisinstanceid" in wait_bk["args"][0]
    assert {"name": "PULSAR_PREFIX_zkServers",
            "value": "p-zookeeper-ca.ns.svc.cluster.local:2181"} in wait_bk["env"]


def test_oxia_brokers_run_the_idempotent_metadata_initialization_until_it_succeeds():
    objects, _ = run({"oxia": {"enabled": True}})
    inits = {c["name"]: c for c in pod(objects, "StatefulSet", "p-broker")["initContainers"]}
    args = inits["wait-cluster-metadata"]["args"][0]
    assert args.startswith("until timeout 60 bin/pulsar initialize-cluster-metadata --cluster p")
    assert "--metadata-store oxia://p-oxia-svc.ns.svc.cluster.local:6648/broker" in args
    wait_bk = inits["wait-bookkeeper"]
    assert {"name": "PULSAR_PREFIX_metadataServiceUri",
            "value": "metadata-store:oxia://p-oxia-svc.ns.svc.cluster.local:6648/bookkeeper"} \
        in wait_bk["env"]


def test_autorecovery_waits_for_bookkeeper():
    objects, _ = run()
    inits = pod(objects, "Deployment", "p-autorecovery")["initContainers"]
    assert [c["name"] for c in inits] == ["wait-bookkeeper"]


def test_kaap_input_keeps_kaaps_pod_templates_without_waits():
    objects, _ = run(api=KAAP)
    assert "initContainers" not in pod(objects, "StatefulSet", "p-broker")
    assert "initContainers" not in pod(objects, "Deployment", "p-autorecovery")
    init = pod(objects, "StatefulSet", "p-bookkeeper")["initContainers"][-1]
    assert init["args"] == ["bin/apply-config-from-env.py conf/bookkeeper.conf && "
                            "bin/bookkeeper shell metaformat --nonInteractive || true;"]


def test_jobs_retry_until_their_command_succeeds():
    objects, _ = run({"broker": {"transactions": {"enabled": True}}})
    for prefix, command in (("p-zookeeper-metadata", "initialize-cluster-metadata"),
                            ("p-broker", "initialize-transaction-coordinator-metadata")):
        c = job(objects, prefix)["spec"]["template"]["spec"]["containers"][0]
        assert c["command"] == ["sh", "-c"]
        assert c["args"][0].startswith(f"until timeout 60 bin/pulsar {command} ")
        assert "; do echo" in c["args"][0] and c["args"][0].endswith("done")


# --- 3. rollouts (issue 11 item 3) --------------------------------------------------------------


def test_deployments_can_always_roll_under_the_required_host_anti_affinity():
    for api in (OURS, KAAP):
        objects, _ = run(api=api)
        for name in ("p-proxy", "p-autorecovery", "p-bastion"):
            strategy = objects[("Deployment", name)]["spec"]["strategy"]
            assert strategy["rollingUpdate"]["maxUnavailable"] >= 1, (api, name)


def test_a_proxy_strategy_that_can_hang_is_a_warning():
    _, findings = run({"proxy": {"updateStrategy": {
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}})
    assert [f.path for f in findings if f.severity == "warning"] == [
        "spec.proxy.updateStrategy.rollingUpdate.maxUnavailable"]


# --- 4.-6. bookie and broker probes, broker DNS (issue 11 items 4-6, startup probes) ------------


def test_bookie_liveness_tolerates_recovery_and_a_startup_probe_waits_30_minutes():
    objects, _ = run()
    bookie = container(objects, "StatefulSet", "p-bookkeeper", "p-bookkeeper")
    assert bookie["livenessProbe"]["httpGet"]["path"] == "/api/v1/bookie/state"
    assert bookie["readinessProbe"]["httpGet"]["path"] == "/api/v1/bookie/is_ready"
    startup = bookie["startupProbe"]
    assert startup["httpGet"]["path"] == "/api/v1/bookie/is_ready"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800


def test_broker_liveness_tests_the_process_not_bookkeeper():
    objects, _ = run()
    broker = container(objects, "StatefulSet", "p-broker")
    assert broker["livenessProbe"]["exec"]["command"][-1].endswith(
        "http://localhost:8080/status.html > /dev/null")
    assert "admin/v2/brokers/health" in broker["readinessProbe"]["exec"]["command"][-1]
    assert "status.html" in broker["startupProbe"]["exec"]["command"][-1]
    assert objects[("ConfigMap", "p-broker")]["data"]["PULSAR_PREFIX_statusFilePath"] == \
        "/pulsar/status"
    assert 'echo OK > "${PULSAR_PREFIX_statusFilePath:-/pulsar/status}"' in broker["args"][0]


def test_zookeeper_has_a_startup_probe():
    objects, _ = run()
    zk = container(objects, "StatefulSet", "p-zookeeper")
    assert zk["startupProbe"]["exec"]["command"][-1] == "bin/pulsar-zookeeper-ruok.sh"
    assert zk["startupProbe"]["periodSeconds"] * zk["startupProbe"]["failureThreshold"] >= 600


def test_kaap_input_gets_no_startup_probes_and_kaaps_liveness():
    objects, _ = run(api=KAAP)
    for kind, name in (("StatefulSet", "p-zookeeper"), ("StatefulSet", "p-bookkeeper"),
                       ("StatefulSet", "p-broker")):
        assert "startupProbe" not in container(objects, kind, name)
    assert container(objects, "StatefulSet", "p-bookkeeper")["livenessProbe"]["httpGet"][
        "path"] == "/api/v1/bookie/is_ready"
    assert "admin/v2/brokers/health" in container(
        objects, "StatefulSet", "p-broker")["livenessProbe"]["exec"]["command"][-1]


def test_broker_pod_names_resolve_while_not_ready():
    objects, _ = run({"global": {"resourceSets": {"a": {}, "b": {}}},
                      "broker": {"sets": {"a": {}, "b": {}}}})
    for name in ("p-broker-a", "p-broker-b"):
        assert objects[("Service", name)]["spec"]["publishNotReadyAddresses"] is True
    # the umbrella Service, the clients' entry point, lists ready brokers only
    assert "publishNotReadyAddresses" not in objects[("Service", "p-broker")]["spec"]


# --- 7.-8. memory (issue 11 items 7, 8) ---------------------------------------------------------


def _sizes(options: str):
    heap = re.search(r"-Xmx(\d+)m", options)
    direct = re.search(r"-XX:MaxDirectMemorySize=(\d+)m", options)
    assert heap and direct, options
    return int(heap.group(1)), int(direct.group(1))


def test_jobs_get_a_small_heap_and_requests():
    objects, _ = run({"broker": {"transactions": {"enabled": True}}})
    for prefix in ("p-zookeeper-metadata", "p-broker"):
        c = job(objects, prefix)["spec"]["template"]["spec"]["containers"][0]
        memory = mib(c["resources"]["requests"]["memory"])
        env = {e["name"]: e["value"] for e in c["env"]}
        heap, direct = _sizes(env["PULSAR_MEM"])
        assert heap + direct < memory <= 512


def test_every_jvm_fits_its_memory_request():
    objects, _ = run({"functionsWorker": {"replicas": 1}})
    cases = [("p-zookeeper", "PULSAR_MEM", ("StatefulSet", "p-zookeeper", "p-zookeeper")),
             ("p-bookkeeper", "BOOKIE_MEM", ("StatefulSet", "p-bookkeeper", "p-bookkeeper")),
             ("p-broker", "PULSAR_MEM", ("StatefulSet", "p-broker", "p-broker")),
             ("p-proxy", "PULSAR_MEM", ("Deployment", "p-proxy", "p-proxy")),
             ("p-proxy-ws", "PULSAR_MEM", ("Deployment", "p-proxy", "p-proxy-ws")),
             ("p-autorecovery", "BOOKIE_MEM", ("Deployment", "p-autorecovery", None)),
             ("p-bastion", "PULSAR_MEM", ("Deployment", "p-bastion", None)),
             ("p-function-extra", "PULSAR_MEM", ("StatefulSet", "p-function", None))]
    for config_map, key, (kind, name, container_name) in cases:
        heap, direct = _sizes(objects[("ConfigMap", config_map)]["data"][key])
        c = container(objects, kind, name, container_name)
        memory = mib(c["resources"]["requests"]["memory"])
        # heap and direct memory leave at least a quarter for the rest of the JVM (or more)
        assert heap + direct <= 0.75 * memory, (config_map, heap, direct, memory)


def test_a_jvm_without_memory_is_reported():
    _, findings = run({"broker": {"resources": {"requests": {"cpu": "1"}}}})
    assert "spec.broker.resources" in [f.path for f in findings if f.severity == "warning"]


def test_kaap_input_keeps_kaaps_jvm_settings():
    objects, _ = run(api=KAAP)
    assert objects[("ConfigMap", "p-bookkeeper")]["data"]["BOOKIE_MEM"].startswith(
        "-Xms2g -Xmx2g -XX:MaxDirectMemorySize=2g")
    assert "-Xmx" not in objects[("ConfigMap", "p-broker")]["data"]["PULSAR_MEM"]


# --- 9. Oxia security context (issue 11 item 9) ---------------------------------------------------


def test_oxia_runs_non_root_with_its_own_group_and_meets_restricted():
    objects, _ = run({"oxia": {"enabled": True}})
    context = pod(objects, "StatefulSet", "p-oxia-server")["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == context["runAsGroup"] == context["fsGroup"] == 65532
    assert pss.restricted_violations(list(objects.values())) == []


def test_oxia_security_context_can_be_overridden():
    objects, _ = run({"oxia": {"enabled": True,
                               "server": {"securityContext": {"runAsUser": 2000,
                                                              "runAsGroup": 2000}}}})
    context = pod(objects, "StatefulSet", "p-oxia-server")["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == \
        (2000, 2000, 65532)


# --- 10. bastion (issue 11 item 10) -------------------------------------------------------------


def test_bastion_can_use_the_bookkeeper_shell():
    objects, _ = run()
    bastion = container(objects, "Deployment", "p-bastion")
    assert "bin/apply-config-from-env.py conf/bookkeeper.conf" in bastion["args"][0]
    data = objects[("ConfigMap", "p-bastion")]["data"]
    assert data["PULSAR_PREFIX_zkServers"] == "p-zookeeper-ca.ns.svc.cluster.local:2181"
    objects, _ = run({"oxia": {"enabled": True}})
    assert objects[("ConfigMap", "p-bastion")]["data"]["PULSAR_PREFIX_metadataServiceUri"] == \
        "metadata-store:oxia://p-oxia-svc.ns.svc.cluster.local:6648/bookkeeper"


# --- 11. prerequisites (issue 11 item 11) -------------------------------------------------------


def test_prerequisites_are_reported_as_info_naming_the_field():
    _, findings = run({"global": {"priorityClassName": "pulsar-critical",
                                  "tls": {"enabled": True, "broker": {"enabled": True},
                                          "certProvisioner": {"selfSigned": {"enabled": True}}}},
                       "zookeeper": {"dataVolume": {"existingStorageClassName": "fast"}}},
                      validate=False)  # no schemas for cert-manager's kinds here
    infos = {f.path: f.message for f in findings if f.severity == "info"}
    assert "'pulsar-critical' must exist" in infos["spec.global.priorityClassName"]
    assert "cert-manager" in infos["spec.global.tls.certProvisioner.selfSigned.enabled"]
    assert "'fast' must exist" in infos["spec.zookeeper.dataVolume.existingStorageClassName"]
    assert "default StorageClass" in infos["spec.global.storage.existingStorageClassName"]


def test_secrets_nobody_writes_are_reported():
    _, findings = run({"global": {"tls": {"enabled": True, "broker": {"enabled": True}},
                                  "auth": {"enabled": True, "token": {"initialize": False}}}})
    infos = [(f.path, f.message) for f in findings if f.severity == "info"]
    assert any(path == "spec.global.tls.defaultSecretName" and "'pulsar-tls'" in message
               for path, message in infos)
    assert any(path == "spec.global.auth.token.initialize" and "'token-superuser'" in message
               for path, message in infos)


def test_a_precreated_package_claim_is_reported():
    _, findings = run({"broker": {"replicas": 1, "packageManagement": {
        "enabled": True, "fileSystemStorage": {"enabled": True, "claimName": "mine",
                                               "persistentVolumeClaim": {}}}}})
    assert any(f.severity == "info" and "'mine' must exist" in f.message for f in findings)


# --- issue 16 item 6: managed-ledger quorums ----------------------------------------------------


def test_one_bookie_gets_quorums_of_one():
    for api in (OURS, KAAP):
        objects, _ = run({"bookkeeper": {"replicas": 1}}, api=api)
        data = objects[("ConfigMap", "p-broker")]["data"]
        for key in ("EnsembleSize", "WriteQuorum", "AckQuorum"):
            assert data[f"PULSAR_PREFIX_managedLedgerDefault{key}"] == "1", api


def test_enough_bookies_keep_pulsars_quorum_defaults():
    objects, _ = run()
    assert "managedLedgerDefaultEnsembleSize" not in str(objects[("ConfigMap", "p-broker")])


def test_quorums_that_cannot_be_met_name_the_field():
    spec = {"bookkeeper": {"replicas": 2},
            "broker": {"config": {"managedLedgerDefaultEnsembleSize": 3}}}
    objects, findings = render.render(cluster(spec))
    assert objects == []
    assert [(f.path, f.severity) for f in findings if f.severity == "error"] == [
        ("spec.broker.config.managedLedgerDefaultEnsembleSize", "error")]
    _, findings = render.render(cluster(spec, KAAP))
    assert ("spec.broker.config.managedLedgerDefaultEnsembleSize", "warning") in [
        (f.path, f.severity) for f in findings]
    spec = {"global": {"resourceSets": {"a": {}}},
            "broker": {"sets": {"a": {"config": {"managedLedgerDefaultWriteQuorum": 3,
                                                 "managedLedgerDefaultAckQuorum": 2}}}}}
    _, findings = render.render(cluster(spec))
    assert "spec.broker.sets.a.config.managedLedgerDefaultWriteQuorum" in [
        f.path for f in findings if f.severity == "error"]


def test_enforced_racks_per_write_quorum_must_exist():
    spec = {"broker": {"config": {"bookkeeperClientEnforceMinNumRacksPerWriteQuorum": True,
                                  "managedLedgerDefaultWriteQuorum": 2}}}
    _, findings = render.render(cluster(spec))
    assert "spec.broker.config.bookkeeperClientMinNumRacksPerWriteQuorum" in [
        f.path for f in findings if f.severity == "error"]


# --- issue 16: package storage without persistence ----------------------------------------------


def test_package_storage_without_persistence_is_an_empty_dir():
    spec = {"global": {"persistence": False},
            "broker": {"replicas": 1, "packageManagement": {
                "enabled": True, "fileSystemStorage": {"enabled": True}}}}
    objects, findings = run(spec)
    assert not [key for key in objects if key[0] == "PersistentVolumeClaim"]
    volumes = {v["name"]: v for v in pod(objects, "StatefulSet", "p-broker")["volumes"]}
    assert volumes["broker-package-storage"] == {"name": "broker-package-storage",
                                                 "emptyDir": {}}
    assert not [f for f in findings if f.severity == "warning"]
    spec["broker"]["replicas"] = 2
    _, findings = run(spec)
    assert "spec.global.persistence" in [f.path for f in findings if f.severity == "warning"]
