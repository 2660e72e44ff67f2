"""Storage: data volumes and StorageClasses (docs/kaap-parity.md#storage and the quirks we decided), and the
brokers' FileSystem package storage (Helm chart PR #697)."""

from __future__ import annotations

import copy

import pytest

from conftest import FIXTURES
from k8s import assert_valid
from krm_pulsar import model, render, storage, yamlio
from krm_pulsar.cluster import Cluster

PROVIDER = ("org.apache.pulsar.packages.management.storage.filesystem."
            "FileSystemPackagesStorageProvider")
FILES = "spec.broker.packageManagement.fileSystemStorage"


def config_of(spec: dict, namespace: str | None = "ns", api=model.API_VERSION, name="p") -> dict:
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api, "kind": "PulsarCluster", "metadata": metadata,
            "spec": copy.deepcopy(spec)}


def small(**sections) -> dict:
    """A one-node cluster (no proxies) with `sections` merged in."""
    spec = {"zookeeper": {"replicas": 1}, "bookkeeper": {"replicas": 1},
            "broker": {"replicas": 1}, "proxy": {"replicas": 0}}
    for key, value in sections.items():
        key = key.rstrip("_")  # global_ for the Python keyword
        spec[key] = {**spec.get(key, {}), **value}
    return spec


def files_storage(**options) -> dict:
    return {"enabled": True, "fileSystemStorage": {"enabled": True, **options}}


def rendered(spec: dict, **kwargs):
    objects, findings = render.render(config_of(spec, **kwargs))
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}, findings


def ok(spec: dict, **kwargs) -> dict:
    objects, findings = rendered(spec, **kwargs)
    assert objects, findings
    assert not [f for f in findings if f.severity == "error"], findings
    assert_valid(list(objects.values()))
    return objects


def errors(findings) -> dict:
    return {f.path: f.message for f in findings if f.severity == "error"}


def warnings(findings) -> dict:
    return {f.path: f.message for f in findings if f.severity == "warning"}


def cluster_of(spec: dict, namespace: str | None = "ns", api=model.API_VERSION) -> Cluster:
    """A Cluster straight from the model, bypassing the refusals of unimplemented components
    (functions worker, Oxia) so the storage functions they will call can be tested now."""
    config = config_of(spec, namespace, api)
    resolved = model.with_defaults(config["spec"], config["metadata"], api)
    return Cluster(resolved, config)


def broker_pod(objects: dict, name: str) -> dict:
    return objects[("StatefulSet", name)]["spec"]["template"]["spec"]


# --- package storage: configuration and mount -------------------------------------------------


def test_storage_path_reaches_broker_configuration_and_mount_on_every_set():
    path = "/var/lib/pulsar-function-packages"  # not the default: wiring cannot pass by luck
    spec = small(
        global_={"resourceSets": {"a": {}, "b": {}}},
        broker={"replicas": 1, "sets": {"a": {}, "b": {}}, "packageManagement": files_storage(
            storagePath=path,
            persistentVolumeClaim={"spec": {"accessModes": ["ReadWriteMany"]}})})
    objects = ok(spec)
    for name in ("p-broker-a", "p-broker-b"):
        data = objects[("ConfigMap", name)]["data"]
        assert data["PULSAR_PREFIX_STORAGE_PATH"] == path
        assert data["PULSAR_PREFIX_packagesManagementStorageProvider"] == PROVIDER
        assert data["PULSAR_PREFIX_enablePackagesManagement"] == "true"
        pod = broker_pod(objects, name)
        mounts = pod["containers"][0]["volumeMounts"]
        assert mounts == [{"name": "broker-package-storage", "mountPath": path}]
        assert pod["volumes"] == [{"name": "broker-package-storage", "persistentVolumeClaim": {
            "claimName": "p-broker-package-storage"}}]
    assert model.PACKAGE_STORAGE_PATH not in yamlio.dump_all(list(objects.values()))
    # one claim for the whole cluster, not one per set
    claims = [key for key in objects if key[0] == "PersistentVolumeClaim"]
    assert claims == [("PersistentVolumeClaim", "p-broker-package-storage")]


def test_default_claim_is_named_after_the_cluster_rwo_10gi():
    objects = ok(small(
        global_={"name": "edge", "components": {"brokerBaseName": "brk"}},
        broker={"replicas": 1, "packageManagement": files_storage()}))
    claim = objects[("PersistentVolumeClaim", "edge-brk-package-storage")]
    assert claim["metadata"]["namespace"] == "ns"
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": "10Gi"}}}
    assert broker_pod(objects, "edge-brk")["volumes"][0]["persistentVolumeClaim"] == {
        "claimName": "edge-brk-package-storage"}


# The securityContext tests below run in `podSecurity: kaap` mode, which keeps KAAP's pod
# templates, so they see exactly what package storage adds; restricted mode merges its
# defaults under it (test_restricted_mode_keeps_the_package_storage_group).
KAAP_PODS = {"podSecurity": "kaap"}


def test_package_management_alone_keeps_bookkeeper_storage_and_kaap_pod_template():
    objects = ok(small(global_=KAAP_PODS, broker={"replicas": 1, "functionsWorkerEnabled": True,
                               "packageManagement": {"enabled": True}}))
    data = objects[("ConfigMap", "p-broker")]["data"]
    assert data["PULSAR_PREFIX_enablePackagesManagement"] == "true"
    assert data["PULSAR_PREFIX_functionsWorkerEnablePackageManagement"] == "true"
    assert "PULSAR_PREFIX_packagesManagementStorageProvider" not in data
    assert "PULSAR_PREFIX_STORAGE_PATH" not in data
    pod = broker_pod(objects, "p-broker")
    assert "securityContext" not in pod and "volumes" not in pod
    assert not [key for key in objects if key[0] == "PersistentVolumeClaim"]


def test_functions_key_only_when_functions_run():
    objects = ok(small(broker={"replicas": 1, "packageManagement": files_storage()}))
    data = objects[("ConfigMap", "p-broker")]["data"]
    assert "PULSAR_PREFIX_functionsWorkerEnablePackageManagement" not in data
    # a functions worker (issue 3) also turns it on, as a broker key
    cluster = cluster_of(small(broker={"packageManagement": files_storage()},
                               functionsWorker={"replicas": 1}))
    assert storage.broker_package_config(cluster)[
        "functionsWorkerEnablePackageManagement"] == "true"


def test_standalone_functions_worker_package_key():
    spec = small(functionsWorker={"replicas": 1})
    assert storage.functions_worker_package_config(cluster_of(spec).spec) == {}
    spec["broker"]["packageManagement"] = {"enabled": True}
    assert storage.functions_worker_package_config(cluster_of(spec).spec) == {
        "functionsWorkerEnablePackageManagement": True}


def test_functions_in_one_set_turn_the_key_on_for_every_set():
    spec = small(broker={"replicas": 1, "packageManagement": files_storage(),
                         "sets": {"a": {"functionsWorkerEnabled": True}, "b": {}}})
    spec["global"] = {"resourceSets": {"a": {}, "b": {}}}
    spec["broker"]["packageManagement"]["fileSystemStorage"]["persistentVolumeClaim"] = {
        "spec": {"accessModes": ["ReadWriteMany"]}}
    objects = ok(spec)
    for name in ("p-broker-a", "p-broker-b"):
        assert objects[("ConfigMap", name)]["data"][
            "PULSAR_PREFIX_functionsWorkerEnablePackageManagement"] == "true"


def test_file_storage_without_package_management_warns_and_renders_nothing():
    objects, findings = rendered(small(broker={
        "replicas": 1, "packageManagement": {"fileSystemStorage": {"enabled": True}}}))
    assert "no effect" in warnings(findings)[f"{FILES}.enabled"]
    assert "PULSAR_PREFIX_STORAGE_PATH" not in objects[("ConfigMap", "p-broker")]["data"]
    assert "volumes" not in broker_pod(objects, "p-broker")


def test_user_config_cannot_move_the_storage_path_away_from_the_mount():
    _, findings = rendered(small(broker={
        "replicas": 1, "packageManagement": files_storage(storagePath="/pulsar/pkgs"),
        "config": {"STORAGE_PATH": "/elsewhere"}}))
    assert "storagePath" in errors(findings)["spec.broker.config.STORAGE_PATH"]


@pytest.mark.parametrize("path", ["packages", "/", "/pulsar", "/pulsar/conf", "/pulsar/lib/x",
                                  "/pulsar/../pulsar/bin"])
def test_storage_path_must_be_an_own_absolute_directory(path):
    _, findings = rendered(small(broker={
        "replicas": 1, "packageManagement": files_storage(storagePath=path)}))
    assert f"{FILES}.storagePath" in errors(findings)


# --- package storage: the broker pod's securityContext -----------------------------------------


def test_file_storage_gives_brokers_group_zero_by_default():
    objects = ok(small(global_=KAAP_PODS,
                       broker={"replicas": 1, "packageManagement": files_storage()}))
    assert broker_pod(objects, "p-broker")["securityContext"] == {
        "fsGroup": 0, "fsGroupChangePolicy": "OnRootMismatch"}


def test_restricted_mode_keeps_the_package_storage_group():
    objects = ok(small(broker={"replicas": 1, "packageManagement": files_storage()}))
    context = broker_pod(objects, "p-broker")["securityContext"]
    assert context["fsGroup"] == 0 and context["fsGroupChangePolicy"] == "OnRootMismatch"
    assert context["runAsNonRoot"] is True and context["runAsUser"] == 10000


@pytest.mark.parametrize("context,expected", [
    ({"runAsUser": 10000, "fsGroup": 1000}, {"runAsUser": 10000, "fsGroup": 1000}),
    ({}, None),  # explicitly none
])
def test_broker_security_context_is_overridable(context, expected):
    objects = ok(small(global_=KAAP_PODS, broker={"replicas": 1, "securityContext": context,
                               "packageManagement": files_storage()}))
    assert broker_pod(objects, "p-broker").get("securityContext") == expected


def test_kaap_input_broker_template_is_unchanged_without_package_storage():
    config = yamlio.load_all((FIXTURES / "kaap-basic.yaml").read_text())[0]
    objects, findings = render.render(config)
    broker = next(o for o in objects if o["kind"] == "StatefulSet"
                  and o["metadata"]["name"] == "pulsar-broker")
    pod = broker["spec"]["template"]["spec"]
    assert "securityContext" not in pod and "volumes" not in pod
    assert "volumeMounts" not in pod["containers"][0]
    # and with it, KAAP input gets the same package storage as ours
    config["spec"]["broker"]["replicas"] = 1
    config["spec"]["broker"]["packageManagement"] = files_storage()
    objects, findings = render.render(config)
    broker = next(o for o in objects if o["kind"] == "StatefulSet"
                  and o["metadata"]["name"] == "pulsar-broker")
    assert broker["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 0


# --- package storage: Oxia, access modes, claims ----------------------------------------------


def test_functions_on_oxia_need_file_system_package_storage():
    spec = small(oxia={"enabled": True}, broker={"functionsWorkerEnabled": True})
    findings = storage.check_functions_package_storage(cluster_of(spec).spec)
    assert len(findings) == 1 and findings[0].severity == "error"
    assert findings[0].path == "spec.broker.packageManagement.enabled"
    message = findings[0].message
    assert "ZooKeeper" in message and "BookKeeper" in message
    assert "spec.broker.packageManagement.enabled: true" in message
    assert "spec.broker.packageManagement.fileSystemStorage.enabled: true" in message
    # through the whole pipeline too (next to issue 3's own refusal of Oxia for now)
    _, all_findings = rendered(spec)
    assert errors(all_findings)["spec.broker.packageManagement.enabled"] == message


@pytest.mark.parametrize("spec,path", [
    (small(oxia={"enabled": True}, functionsWorker={"replicas": 2}),
     "spec.broker.packageManagement.enabled"),
    (small(oxia={"enabled": True}, broker={"packageManagement": {"enabled": True},
                                           "sets": {"a": {"functionsWorkerEnabled": True}}}),
     f"{FILES}.enabled"),
])
def test_oxia_functions_check_counts_every_worker(spec, path):
    findings = storage.check_functions_package_storage(cluster_of(spec).spec)
    assert [f.path for f in findings] == [path]


@pytest.mark.parametrize("spec", [
    small(oxia={"enabled": True}, broker={"functionsWorkerEnabled": True,
                                          "packageManagement": files_storage()}),
    small(oxia={"enabled": True}),  # no functions
    small(broker={"functionsWorkerEnabled": True}),  # ZooKeeper: BookKeeper storage works
])
def test_oxia_functions_check_passes(spec):
    assert storage.check_functions_package_storage(cluster_of(spec).spec) == []


def test_oxia_functions_fixture_passes_the_storage_checks():
    config = yamlio.load_all((FIXTURES / "storage-oxia-functions-packages.yaml").read_text())[0]
    resolved = model.with_defaults(config["spec"], config["metadata"], config["apiVersion"])
    assert storage.check(resolved) == []
    assert storage.broker_package_config(Cluster(resolved, config))["STORAGE_PATH"] == \
        "/pulsar/test-packages-storage"


@pytest.mark.parametrize("broker", [
    {"replicas": 2},
    {"replicas": 1, "sets": {"a": {}, "b": {}}},  # one each, two together
])
def test_several_brokers_on_a_read_write_once_claim_are_refused(broker):
    spec = small(broker={**broker, "packageManagement": files_storage()})
    spec["global"] = {"resourceSets": {"a": {}, "b": {}}}
    _, findings = rendered(spec)
    message = errors(findings)[f"{FILES}.persistentVolumeClaim.spec.accessModes"]
    assert message.startswith("2 brokers")
    for choice in ("Filestore", "EFS", "Azure Files", "ReadWriteMany"):
        assert choice in message


def test_several_brokers_on_a_read_write_many_claim():
    objects = ok(small(broker={"replicas": 3, "packageManagement": files_storage(
        persistentVolumeClaim={"spec": {"accessModes": ["ReadWriteMany"],
                                        "storageClassName": "filestore-rwx"}})}))
    claim = objects[("PersistentVolumeClaim", "p-broker-package-storage")]
    # deep-merged over the model's default claim: the size stays
    assert claim["spec"] == {"accessModes": ["ReadWriteMany"],
                             "resources": {"requests": {"storage": "10Gi"}},
                             "storageClassName": "filestore-rwx"}


@pytest.mark.parametrize("brokers,warned", [(1, False), (2, True)])
def test_pre_created_claim(brokers, warned):
    objects, findings = rendered(small(broker={
        "replicas": brokers, "packageManagement": files_storage(claimName="shared.packages")}))
    assert not errors(findings)
    assert ("must be ReadWriteMany" in warnings(findings).get(f"{FILES}.claimName", "")) \
        == warned
    assert not [key for key in objects if key[0] == "PersistentVolumeClaim"]
    assert broker_pod(objects, "p-broker")["volumes"][0]["persistentVolumeClaim"] == {
        "claimName": "shared.packages"}


def test_empty_claim_object_mounts_the_default_name_and_renders_nothing():
    objects = ok(small(broker={"replicas": 1, "packageManagement": files_storage(
        persistentVolumeClaim={}, storageClass={}, persistentVolume={})}))
    assert not [key for key in objects
                if key[0] in ("PersistentVolumeClaim", "PersistentVolume", "StorageClass")]
    assert broker_pod(objects, "p-broker")["volumes"][0]["persistentVolumeClaim"] == {
        "claimName": "p-broker-package-storage"}


def test_raw_objects_get_our_api_version_kind_labels_and_namespace():
    objects = ok(small(broker={"replicas": 1, "labels": {"tier": "messaging"},
                               "packageManagement": files_storage(
        claimName="pkgs",
        storageClass={"apiVersion": "x/v9", "kind": "Nope",
                      "metadata": {"name": "pkgs", "namespace": "ns"},
                      "provisioner": "efs.csi.aws.com"},
        persistentVolume={"kind": "Nope", "metadata": {"name": "pkgs-pv", "labels": {"a": "b"}},
                          "spec": {"capacity": {"storage": "5Gi"},
                                   "accessModes": ["ReadWriteMany"],
                                   "nfs": {"server": "10.0.0.2", "path": "/pkgs"}}},
        persistentVolumeClaim={"metadata": {"namespace": "ns"},
                               "spec": {"volumeName": "pkgs-pv"}})}))
    storage_class = objects[("StorageClass", "pkgs")]
    assert (storage_class["apiVersion"], storage_class["kind"]) == ("storage.k8s.io/v1",
                                                                    "StorageClass")
    assert "namespace" not in storage_class["metadata"]  # cluster-scoped
    volume = objects[("PersistentVolume", "pkgs-pv")]
    assert (volume["apiVersion"], volume["kind"]) == ("v1", "PersistentVolume")
    assert volume["metadata"]["labels"] == {"app": "pulsar", "component": "broker",
                                            "cluster": "p", "tier": "messaging", "a": "b"}
    claim = objects[("PersistentVolumeClaim", "pkgs")]
    assert claim["metadata"]["namespace"] == "ns"
    assert claim["spec"]["volumeName"] == "pkgs-pv"


@pytest.mark.parametrize("options,path", [
    ({"storageClass": {"provisioner": "efs.csi.aws.com"}}, f"{FILES}.storageClass.metadata.name"),
    ({"storageClass": {"metadata": {"name": "x"}}}, f"{FILES}.storageClass.provisioner"),
    ({"persistentVolume": {"spec": {}}}, f"{FILES}.persistentVolume.metadata.name"),
    ({"persistentVolume": {"metadata": "pv"}}, f"{FILES}.persistentVolume.metadata"),
    ({"claimName": "a", "persistentVolumeClaim": {"metadata": {"name": "b"}}},
     f"{FILES}.persistentVolumeClaim.metadata.name"),
    ({"persistentVolumeClaim": {"metadata": {"namespace": "other"}}},
     f"{FILES}.persistentVolumeClaim.metadata.namespace"),
])
def test_bad_raw_objects_are_errors(options, path):
    objects, findings = rendered(small(broker={"replicas": 1,
                                               "packageManagement": files_storage(**options)}))
    assert objects == {} and path in errors(findings)


# --- data volumes and the StorageClasses we create --------------------------------------------


def claim_templates(objects: dict, name: str) -> dict:
    return {c["metadata"]["name"]: c for c in
            objects[("StatefulSet", name)]["spec"].get("volumeClaimTemplates", [])}


def test_existing_and_default_class_names():
    objects = ok(small(
        global_={"storage": {"existingStorageClassName": "premium-rwo"}},
        zookeeper={"dataVolume": {"existingStorageClassName": "default"}}))
    assert "storageClassName" not in claim_templates(objects, "p-zookeeper")[
        "p-zookeeper-data"]["spec"]
    journal = claim_templates(objects, "p-bookkeeper")["p-bookkeeper-journal"]
    assert journal["spec"]["storageClassName"] == "premium-rwo"
    assert not [key for key in objects if key[0] == "StorageClass"]


@pytest.mark.parametrize("namespace,api,class_name,warned", [
    ("ns", model.API_VERSION, "ns-p-zookeeper-data", False),
    (None, model.API_VERSION, "p-zookeeper-data", True),
    ("ns", model.KAAP_API_VERSION, "p-zookeeper-data", True),  # KAAP's name kept
])
def test_created_class_names_and_the_cluster_wide_warning(namespace, api, class_name, warned):
    spec = small(zookeeper={"dataVolume": {"storageClass": {"provisioner": "ebs.csi.aws.com"}}})
    objects, findings = rendered(spec, namespace=namespace, api=api)
    assert_valid(list(objects.values()))
    created = objects[("StorageClass", class_name)]
    assert "namespace" not in created["metadata"]
    assert claim_templates(objects, "p-zookeeper")["p-zookeeper-data"]["spec"][
        "storageClassName"] == class_name
    warning_text = warnings(findings).get("spec.zookeeper.dataVolume.storageClass", "")
    assert ("cluster-wide" in warning_text) == warned


def test_created_class_defaults_retain_expansion_and_late_binding():
    objects = ok(small(zookeeper={"dataVolume": {"storageClass": {
        "provisioner": "ebs.csi.aws.com", "type": "gp3", "fsType": "xfs",
        "extraParams": {"iops": "4000", "type": "io2"}}}}))
    created = objects[("StorageClass", "ns-p-zookeeper-data")]
    assert created["reclaimPolicy"] == "Retain"  # KAAP Q17: KAAP gives a component class none
    assert created["allowVolumeExpansion"] is True
    assert created["volumeBindingMode"] == "WaitForFirstConsumer"
    # extraParams come last and win (KAAP)
    assert created["parameters"] == {"fsType": "xfs", "iops": "4000", "type": "io2"}


def test_global_class_is_shared_and_explicit_delete_is_kept():
    spec = small(bookkeeper={"volumes": {"journal": {"storageClass": {
        "provisioner": "ebs.csi.aws.com", "reclaimPolicy": "Delete"}}}})
    spec["global"] = {"storage": {"storageClass": {"provisioner": "pd.csi.storage.gke.io"}}}
    objects = ok(spec)
    classes = {name: obj for (kind, name), obj in objects.items() if kind == "StorageClass"}
    assert set(classes) == {"ns-p-zookeeper-data", "ns-p-bookkeeper-journal",
                            "ns-p-bookkeeper-ledgers"}
    assert classes["ns-p-bookkeeper-journal"]["reclaimPolicy"] == "Delete"
    assert classes["ns-p-bookkeeper-ledgers"]["provisioner"] == "pd.csi.storage.gke.io"
    assert classes["ns-p-bookkeeper-ledgers"]["reclaimPolicy"] == "Retain"


def test_set_class_is_not_masked_and_retains():
    spec = small(bookkeeper={"sets": {"fast": {"volumes": {"journal": {"storageClass": {
        "provisioner": "ebs.csi.aws.com"}}}}, "std": {}}})
    spec["global"] = {"resourceSets": {"fast": {}, "std": {}}}
    objects = ok(spec)
    created = objects[("StorageClass", "ns-p-bookkeeper-fast-journal")]
    assert created["reclaimPolicy"] == "Retain"
    assert claim_templates(objects, "p-bookkeeper-fast")["p-bookkeeper-fast-journal"]["spec"][
        "storageClassName"] == "ns-p-bookkeeper-fast-journal"
    assert "storageClassName" not in claim_templates(objects, "p-bookkeeper-std")[
        "p-bookkeeper-std-journal"]["spec"]


def test_pvc_prefix_claims_reference_the_class_created():
    objects = ok(small(bookkeeper={"pvcPrefix": "x-", "volumes": {"ledgers": {
        "storageClass": {"provisioner": "ebs.csi.aws.com"}}}}))
    templates = claim_templates(objects, "p-bookkeeper")
    assert set(templates) == {"x-p-bookkeeper-journal", "x-p-bookkeeper-ledgers"}
    assert templates["x-p-bookkeeper-ledgers"]["spec"]["storageClassName"] == \
        "ns-p-bookkeeper-ledgers"
    assert ("StorageClass", "ns-p-bookkeeper-ledgers") in objects


@pytest.mark.parametrize("spec,path", [
    ({"global": {"storage": {"storageClass": {"type": "pd-ssd"}}}},
     "spec.global.storage.storageClass.provisioner"),
    ({"zookeeper": {"dataVolume": {"storageClass": {}}}},
     "spec.zookeeper.dataVolume.storageClass.provisioner"),
    ({"bookkeeper": {"volumes": {"ledgers": {"storageClass": {"type": "gp3"}}}}},
     "spec.bookkeeper.volumes.ledgers.storageClass.provisioner"),
    ({"global": {"resourceSets": {"fast": {}}},
      "bookkeeper": {"sets": {"fast": {"volumes": {"journal": {"storageClass": {
          "type": "io2"}}}}}}},
     "spec.bookkeeper.sets.fast.volumes.journal.storageClass.provisioner"),
])
def test_created_class_needs_a_provisioner(spec, path):
    merged = small()
    for key, value in spec.items():
        merged[key] = {**merged.get(key, {}), **value}
    objects, findings = rendered(merged)
    assert objects == {}
    found = errors(findings)
    assert list(found) == [path]  # a global class used by three volumes is reported once
    assert "existingStorageClassName" in found[path]


def test_persistence_off_uses_empty_dirs_and_creates_no_class():
    spec = small()
    spec["global"] = {"persistence": False, "storage": {"storageClass": {"type": "pd-ssd"}}}
    objects = ok(spec)  # no provisioner needed: no class is created
    assert not [key for key in objects if key[0] == "StorageClass"]
    pod = objects[("StatefulSet", "p-bookkeeper")]["spec"]
    assert "volumeClaimTemplates" not in pod
    assert pod["template"]["spec"]["volumes"] == [
        {"name": "p-bookkeeper-journal", "emptyDir": {}},
        {"name": "p-bookkeeper-ledgers", "emptyDir": {}}]


@pytest.mark.parametrize("spec,path", [
    (small(zookeeper={"dataVolume": {"existingStorageClassName": "fast",
                                     "storageClass": {"provisioner": "x"}}}),
     "spec.zookeeper.dataVolume.storageClass"),
    (small(global_={"storage": {"existingStorageClassName": "fast",
                                "storageClass": {"provisioner": "x"}}}),
     "spec.global.storage.storageClass"),
])
def test_class_next_to_an_existing_name_is_ignored_with_a_warning(spec, path):
    objects, findings = rendered(spec)
    assert "ignored" in warnings(findings)[path]
    assert not [key for key in objects if key[0] == "StorageClass"]
    claim = claim_templates(objects, "p-zookeeper")["p-zookeeper-data"]
    assert claim["spec"]["storageClassName"] == "fast"


@pytest.mark.parametrize("fixture", sorted(
    p.name for p in FIXTURES.glob("storage-*.yaml") if "oxia" not in p.name))
def test_every_claim_references_a_class_that_exists_or_is_named(fixture):
    config = yamlio.load_all((FIXTURES / fixture).read_text())[0]
    objects, _ = render.render(config)
    created = {o["metadata"]["name"] for o in objects if o["kind"] == "StorageClass"}
    user_named = {"premium-rwo", "standard-rwo", "shared-packages-files"}
    for obj in objects:
        claims = obj["spec"].get("volumeClaimTemplates", []) if obj["kind"] == "StatefulSet" \
            else [obj] if obj["kind"] == "PersistentVolumeClaim" else []
        for claim in claims:
            name = claim["spec"].get("storageClassName")
            assert name is None or name in created | user_named, (fixture, name)


# --- volumes of components issue 3 renders: functions worker logs, Oxia data -------------------


def test_functions_worker_logs_volume():
    cluster = cluster_of(small(functionsWorker={"replicas": 1, "logsVolume": {
        "storageClass": {"provisioner": "ebs.csi.aws.com"}}}))
    labels = cluster.labels("functionsWorker")
    logs = storage.functions_worker_logs_volume(
        cluster, cluster.spec["functionsWorker"], "p-function", labels, None)
    mount, volume, claim, created = logs.mount, logs.volume, logs.claim, logs.storage_class
    assert mount == {"name": "p-function-logs", "mountPath": "/pulsar/logs"}
    assert volume is None
    assert claim["spec"] == {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": "5Gi"}},
                             "storageClassName": "ns-p-function-logs"}
    assert created["metadata"]["name"] == "ns-p-function-logs"
    assert created["reclaimPolicy"] == "Retain"
    assert storage.check_cluster(cluster) == []


def test_oxia_data_volume_follows_global_storage_and_persistence():
    spec = small(oxia={"enabled": True})
    spec["global"] = {"storage": {"existingStorageClassName": "premium-rwo"}}
    cluster = cluster_of(spec)
    data = storage.oxia_data_volume(cluster, "p-oxia-server", {}, None)
    mount, volume, claim, created = data.mount, data.volume, data.claim, data.storage_class
    assert mount == {"name": "p-oxia-server-data", "mountPath": "/data"}
    assert claim["spec"]["resources"] == {"requests": {"storage": "8Gi"}}
    assert claim["spec"]["storageClassName"] == "premium-rwo"
    assert volume is None and created is None
    spec["global"]["persistence"] = False
    cluster = cluster_of(spec)
    data = storage.oxia_data_volume(cluster, "p-oxia-server", {}, None)
    assert data.volume == {"name": "p-oxia-server-data", "emptyDir": {}} and data.claim is None


@pytest.mark.parametrize("spec,path", [
    (small(functionsWorker={"replicas": 1, "logsVolume": {"storageClass": {"type": "gp3"}}}),
     "spec.functionsWorker.logsVolume.storageClass.provisioner"),
    (small(oxia={"enabled": True, "server": {"storage": {"storageClass": {"type": "gp3"}}}}),
     "spec.oxia.server.storage.storageClass.provisioner"),
])
def test_worker_and_oxia_classes_need_a_provisioner(spec, path):
    assert [f.path for f in storage.check_cluster(cluster_of(spec))
            if f.severity == "error"] == [path]
