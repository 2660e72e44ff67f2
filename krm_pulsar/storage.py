"""Storage: data volumes, their claim templates and the StorageClasses we create
(kaap-parity.md#storage), and the brokers' package storage for Pulsar Functions (Helm chart PR
#697).

Component renderers call the builders here (``data_volume``, ``broker_package_*``); the checks
(``check`` on the resolved spec, ``check_cluster`` once names and namespace are known) report
storage problems as findings before anything is rendered. Defaults live in model.py.
"""

from __future__ import annotations

import posixpath

from . import model
from .schema import SpecError, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from typing import Any

    from .cluster import Cluster

# Mount paths as KAAP writes them (kaap-parity.md#storage-objects); Oxia's as the Apache chart does
# (helm-parity.md#oxia-storage).
FUNCTIONS_WORKER_LOGS_MOUNT = "/pulsar/logs"
OXIA_DATA_MOUNT = "/data"

PACKAGES_STORAGE_PROVIDER = (
    "org.apache.pulsar.packages.management.storage.filesystem.FileSystemPackagesStorageProvider")
PACKAGE_VOLUME = "broker-package-storage"
# Where a package directory would hide the image's own files or the whole Pulsar install.
_IMAGE_DIRECTORIES = ("/pulsar/bin", "/pulsar/conf", "/pulsar/lib", "/pulsar/instances")

READ_WRITE_MANY_CHOICES = (
    "a managed file service such as GKE Filestore "
    "(filestore.csi.storage.gke.io), Amazon EFS (efs.csi.aws.com) or Azure Files "
    "(file.csi.azure.com); block storage (Persistent Disk, EBS, Azure Disk) is ReadWriteOnce only")

_PACKAGE_PATH = "spec.broker.packageManagement"
_FILES_PATH = _PACKAGE_PATH + ".fileSystemStorage"


# --- data volumes (ZooKeeper, BookKeeper, functions worker, Oxia) -------------------------------


def storage_class_name(volume: dict, claim_name: str) -> str | None:
    """``storageClassName`` of a claim: the existing class, none for the sentinel ``default``
    (the cluster's default class), or the class we create for this volume (`claim_name`)."""
    existing = volume.get("existingStorageClassName")
    if existing:
        return None if existing == "default" else existing
    if volume.get("storageClass"):
        return claim_name
    return None


def created_class_name(cluster: Cluster, resource_name: str, volume_name: str) -> str:
    """Name of the StorageClass we create for one volume: KAAP's ``<R>-<volume>``.

    StorageClasses are cluster-wide, so two clusters with the same ``global.name`` in different
    namespaces would share (and overwrite) KAAP's names (kaap-parity.md#q16). With our API and a
    known namespace the namespace leads the name. KAAP input keeps KAAP's name: a StatefulSet's
    claim templates cannot be changed in place, so a cluster taken over from KAAP must keep them.
    """
    name = f"{resource_name}-{volume_name}"
    if cluster.namespace and not cluster.kaap_input:
        return f"{cluster.namespace}-{name}"
    return name


def creates_class(cluster: Cluster, volume: dict) -> bool:
    """Whether this volume gets a StorageClass of its own (kaap-parity.md#storage-objects)."""
    return bool(cluster.glob["persistence"] and not volume.get("existingStorageClassName")
                and volume.get("storageClass"))


class DataVolume:
    """Everything one data volume needs: the container's mount, and either a pod volume (an
    emptyDir without persistence) or a claim template with, when the volume has a
    StorageClass of its own, the StorageClass to create."""

    __slots__ = ("claim", "mount", "storage_class", "volume")

    def __init__(self, mount: dict, volume: dict | None = None, claim: dict | None = None,
                 storage_class: dict | None = None) -> None:
        self.mount = mount
        self.volume = volume
        self.claim = claim
        self.storage_class = storage_class


def data_volume(cluster: Cluster, volume: dict, resource_name: str, mount_path: str, labels: dict,
                annotations: dict | None, pvc_prefix: str = "") -> DataVolume:
    """One data volume of a workload. With ``global.persistence`` off it is an emptyDir."""
    claim_name = f"{pvc_prefix or ''}{resource_name}-{volume['name']}"
    mount = {"name": claim_name, "mountPath": mount_path}
    if not cluster.glob["persistence"]:
        return DataVolume(mount, volume={"name": claim_name, "emptyDir": {}})
    spec = {"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": volume["size"]}}}
    # kaap-parity.md#q2: with a pvcPrefix KAAP names the class without it and the claims stay
    # Pending; we reference the class we actually create.
    class_name = created_class_name(cluster, resource_name, volume["name"])
    explicit = storage_class_name(volume, class_name)
    if explicit:
        spec["storageClassName"] = explicit
    claim: dict = {"metadata": {"name": claim_name, "labels": dict(labels)}, "spec": spec}
    if cluster.kaap_input:
        # KAAP's client library writes each claim template's apiVersion and kind; KAAP input
        # keeps the StatefulSet's spec as KAAP wrote it (a StatefulSet's claim templates
        # cannot change), kaap-parity.md#storage-objects
        claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", **claim}
    created = None
    if creates_class(cluster, volume):
        created = storage_class(class_name, volume["storageClass"], labels, annotations)
    return DataVolume(mount, claim=claim, storage_class=created)


def functions_worker_logs_volume(cluster: Cluster, spec: dict, resource_name: str, labels: dict,
                                 annotations: dict | None) -> DataVolume:
    """The functions worker's ``logsVolume`` at ``/pulsar/logs``
    (kaap-parity.md#storage-objects); `spec` is ``spec.functionsWorker``."""
    return data_volume(cluster, spec["logsVolume"], resource_name, FUNCTIONS_WORKER_LOGS_MOUNT,
                       labels, annotations)


def oxia_data_volume(cluster: Cluster, resource_name: str, labels: dict,
                     annotations: dict | None) -> DataVolume:
    """The Oxia server's data volume (``spec.oxia.server.storage``) at ``/data``: the same
    persistence and storage-class rules as every other data volume."""
    return data_volume(cluster, cluster.spec["oxia"]["server"]["storage"], resource_name,
                       OXIA_DATA_MOUNT, labels, annotations)


def storage_class(name: str, config: dict, labels: dict, annotations: dict | None) -> dict:
    """A StorageClass for one volume. Cluster-scoped, so no namespace (kaap-parity.md#q16). The
    reclaimPolicy default (Retain, also for a set's own class) comes from the model
    (kaap-parity.md#q17)."""
    config = model.STORAGE_CLASS.with_defaults(config)
    parameters = {}
    if config.get("type"):
        parameters["type"] = config["type"]
    if config.get("fsType"):
        parameters["fsType"] = config["fsType"]
    parameters.update(config.get("extraParams") or {})
    metadata = {"name": name, "labels": dict(labels)}
    if annotations:
        metadata["annotations"] = dict(annotations)
    result = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata,
        "provisioner": config.get("provisioner"),
    }
    if parameters:
        result["parameters"] = dict(sorted(parameters.items()))
    result["reclaimPolicy"] = config["reclaimPolicy"]
    result["allowVolumeExpansion"] = True
    result["volumeBindingMode"] = "WaitForFirstConsumer"
    return result


def _rendered_volumes(cluster: Cluster) -> list:
    """``(field path, effective volume, raw paths to look for a storageClass in, most specific
    first)`` for every data volume that will be rendered (registry.Component.volumes)."""
    from . import placement, registry

    spec = cluster.spec
    result: list[tuple[str, dict, tuple[str, ...]]] = []
    for entry in registry.COMPONENTS:
        section = entry.section
        if not entry.volumes or not entry.rendered(spec):
            continue
        if not entry.has_sets:
            for key in entry.volumes:
                path = f"spec.{section}.{key}"
                result.append((path, _lookup(spec[section], key), (path,)))
            continue
        declared_sets = bool(spec[section].get("sets"))
        for rset in placement.resource_sets(cluster, section):
            if rset.spec["replicas"] <= 0:
                continue
            for key in entry.volumes:
                top = f"spec.{section}.{key}"
                if declared_sets:
                    path = f"spec.{section}.sets.{rset.name}.{key}"
                    result.append((path, _lookup(rset.spec, key), (path, top)))
                else:
                    result.append((top, _lookup(rset.spec, key), (top,)))
    return result


def _lookup(spec: dict, path: str) -> Any:
    """The value at a dotted `path` inside `spec` (``volumes.journal``)."""
    value = spec
    for part in path.split("."):
        value = value[part]
    return value


def _raw(raw_spec: object, path: str) -> Any:
    """The value the user wrote at `path` (``spec.a.b``), or None."""
    value = raw_spec
    for part in path.split(".")[1:]:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def check_cluster(cluster: Cluster) -> list[SpecError]:
    """Storage checks that need the cluster's names and namespace: every StorageClass we create
    needs a provisioner; a storageClass next to an existing class name is ignored; created
    class names are cluster-wide (kaap-parity.md#q16); the package claim's namespace."""
    findings = []
    raw_spec = cluster.config.get("spec") or {}
    reported = set()
    created = []
    volumes = _rendered_volumes(cluster)
    for path, volume, raw_paths in [("spec.global.storage", None, ())] + volumes:
        own = _raw(raw_spec, path) or {}
        if isinstance(own, dict) and own.get("existingStorageClassName") \
                and own.get("storageClass"):
            findings.append(warning(
                f"{path}.storageClass",
                f"ignored: {path}.existingStorageClassName is set and wins; remove one of them"))
        if volume is None or not creates_class(cluster, volume):
            continue
        source = next((f"{p}.storageClass" for p in raw_paths
                       if isinstance(_raw(raw_spec, p), dict)
                       and _raw(raw_spec, p).get("storageClass") is not None),
                      "spec.global.storage.storageClass")
        created.append(source)
        if not volume["storageClass"].get("provisioner") and source not in reported:
            reported.add(source)
            findings.append(SpecError(
                f"{source}.provisioner",
                f"the StorageClass krm-pulsar creates for {path} needs a provisioner (the CSI "
                f"driver, for example pd.csi.storage.gke.io, ebs.csi.aws.com or "
                f"disk.csi.azure.com); or use an existing class with existingStorageClassName "
                f"(\"default\" for the cluster's default class)"))
    if created and (cluster.kaap_input or not cluster.namespace):
        if cluster.kaap_input:
            why = ("as KAAP names them (claim templates of a cluster taken over from KAAP must "
                   "not change)")
            fixes = "Give each cluster a unique global.name"
        else:
            why = "because the PulsarCluster has no metadata.namespace"
            fixes = ("Set metadata.namespace to put the namespace in their names, give each "
                     "cluster a unique global.name")
        findings.append(warning(
            created[0],
            f"StorageClasses are cluster-wide, and the ones krm-pulsar creates are named "
            f"<global.name>-<component>-<volume> ({cluster.name}-...) {why}: another "
            f"PulsarCluster with global.name {cluster.name!r} in another namespace would "
            f"overwrite them. {fixes}, or use existingStorageClassName"))
    if package_storage_enabled(cluster.spec):
        claim = cluster.spec["broker"]["packageManagement"]["fileSystemStorage"][
            "persistentVolumeClaim"]
        namespace = (claim.get("metadata") or {}).get("namespace") if claim else None
        if namespace and namespace != cluster.namespace:
            findings.append(SpecError(
                f"{_FILES_PATH}.persistentVolumeClaim.metadata.namespace",
                f"the claim must be in the brokers' namespace "
                f"({cluster.namespace or 'that of the PulsarCluster'}); leave the namespace out"))
    return findings


# --- broker package storage (Helm chart PR #697) ------------------------------------------------


def functions_enabled(spec: dict) -> bool:
    """Functions run somewhere: a broker set embeds the worker, or a functions worker runs."""
    broker = spec["broker"]
    if spec["functionsWorker"]["replicas"] > 0 or broker["functionsWorkerEnabled"]:
        return True
    for set_spec in (broker.get("sets") or {}).values():
        if (set_spec or {}).get("functionsWorkerEnabled"):
            return True
    return False


def package_storage_enabled(spec: dict) -> bool:
    """FileSystemPackagesStorage on a broker volume (only with package management on)."""
    management = spec["broker"]["packageManagement"]
    return bool(management["enabled"] and management["fileSystemStorage"]["enabled"])


def broker_count(spec: dict) -> int:
    """Broker pods of all sets together (a set without replicas inherits the component's); a
    set with an autoscaler counts the most pods it may scale to (autoscaling.py)."""
    broker = spec["broker"]
    sets = broker.get("sets")
    if not sets:
        return _most_brokers(broker["replicas"], broker["hpa"])
    total = 0
    for set_spec in sets.values():
        replicas = (set_spec or {}).get("replicas")
        hpa = {**broker["hpa"], **{key: value for key, value in
                                   ((set_spec or {}).get("hpa") or {}).items()
                                   if value is not None}}
        total += _most_brokers(broker["replicas"] if replicas is None else replicas, hpa)
    return total


def _most_brokers(replicas: int, hpa: dict) -> int:
    if replicas > 0 and hpa.get("enabled") and hpa.get("maxReplicas"):
        return max(replicas, hpa["maxReplicas"])
    return replicas


def check_functions_package_storage(spec: dict) -> list[SpecError]:
    """Functions on Oxia need FileSystem package storage: the default BookKeeper package
    storage keeps its DistributedLog metadata in ZooKeeper (Helm chart PR #697 refuses it too)."""
    if not spec["oxia"]["enabled"] or not functions_enabled(spec) \
            or package_storage_enabled(spec):
        return []
    management = spec["broker"]["packageManagement"]
    path = (f"{_FILES_PATH}.enabled" if management["enabled"] else f"{_PACKAGE_PATH}.enabled")
    return [SpecError(
        path,
        "Pulsar Functions on Oxia need FileSystem package storage on the brokers: function "
        "packages are kept by the Packages Management Service, whose default BookKeeper "
        "package storage keeps its metadata in ZooKeeper, which does not run with Oxia. Set "
        "spec.broker.packageManagement.enabled: true and "
        "spec.broker.packageManagement.fileSystemStorage.enabled: true (see docs/storage.md), "
        "or use ZooKeeper as the metadata store")]


def check(spec: dict, raw: dict | None = None) -> list[SpecError]:
    """Package storage checks on the resolved spec (render.check calls this)."""
    findings = check_functions_package_storage(spec)
    management = spec["broker"]["packageManagement"]
    files = management["fileSystemStorage"]
    if files["enabled"] and not management["enabled"]:
        findings.append(warning(
            f"{_FILES_PATH}.enabled",
            "has no effect unless spec.broker.packageManagement.enabled is true as well"))
    if not package_storage_enabled(spec):
        return findings
    findings.extend(_check_storage_path(spec, files["storagePath"]))
    if not spec["global"]["persistence"]:
        return findings + _check_without_persistence(spec)
    for key, kind in (("storageClass", "StorageClass"), ("persistentVolume", "PersistentVolume"),
                      ("persistentVolumeClaim", "PersistentVolumeClaim")):
        raw = files[key]
        metadata = raw.get("metadata") if raw else None
        if metadata is not None and not isinstance(metadata, dict):
            findings.append(SpecError(f"{_FILES_PATH}.{key}.metadata", "expected a mapping"))
        elif raw and not isinstance((metadata or {}).get("name"), str):
            findings.append(SpecError(f"{_FILES_PATH}.{key}.metadata.name",
                                      f"the {kind} needs a name"))
    storage_class_object = files["storageClass"]
    if storage_class_object and not storage_class_object.get("provisioner"):
        findings.append(SpecError(
            f"{_FILES_PATH}.storageClass.provisioner",
            "the StorageClass needs a provisioner, for example filestore.csi.storage.gke.io, "
            "efs.csi.aws.com or file.csi.azure.com for ReadWriteMany volumes"))
    brokers = broker_count(spec)
    claim = files["persistentVolumeClaim"]
    if claim:
        if claim["metadata"].get("name") != files["claimName"]:
            findings.append(SpecError(
                f"{_FILES_PATH}.persistentVolumeClaim.metadata.name",
                f"the brokers mount claimName {files['claimName']!r}, but the claim rendered "
                f"is named {claim['metadata']['name']!r}; give both the same name or leave "
                f"one out"))
        claim_spec = claim.get("spec")
        modes = (claim_spec.get("accessModes") if isinstance(claim_spec, dict) else None) or []
        if brokers > 1 and "ReadWriteMany" not in modes:
            findings.append(SpecError(
                f"{_FILES_PATH}.persistentVolumeClaim.spec.accessModes",
                f"{brokers} brokers (all sets together) mount the package storage claim "
                f"{files['claimName']!r}, but it is {', '.join(modes) or 'without access modes'}"
                f": only one node could mount it. Use ReadWriteMany storage, "
                f"{READ_WRITE_MANY_CHOICES}. Set "
                f"persistentVolumeClaim.spec.accessModes: [ReadWriteMany] with such a "
                f"storageClassName, or point claimName at a pre-created ReadWriteMany claim "
                f"with persistentVolumeClaim: {{}}"))
    elif brokers > 1:
        findings.append(warning(
            f"{_FILES_PATH}.claimName",
            f"{brokers} brokers (all sets together) mount the pre-created claim "
            f"{files['claimName']!r}: it must be ReadWriteMany, on {READ_WRITE_MANY_CHOICES}"))
    return findings


def _check_without_persistence(spec: dict) -> list[SpecError]:
    """``global.persistence: false`` makes the package storage an emptyDir in each broker pod:
    packages are lost with the pod and each broker sees only what was uploaded through it."""
    findings = []
    files = spec["broker"]["packageManagement"]["fileSystemStorage"]
    given = [key for key in ("storageClass", "persistentVolume")
             if files[key]] + (["claimName"] if files["claimName"] and not files[
                 "persistentVolumeClaim"] else [])
    for key in given:
        findings.append(warning(
            f"{_FILES_PATH}.{key}",
            "ignored: spec.global.persistence is false, so the package storage is an emptyDir "
            "in each broker pod and no claim, volume or StorageClass is used"))
    brokers = broker_count(spec)
    if brokers > 1:
        findings.append(warning(
            "spec.global.persistence",
            f"without persistence the package storage is an emptyDir in each of the {brokers} "
            f"brokers: a package uploaded through one broker is not seen by the others, and "
            f"every package is lost when its broker pod goes. Use one broker, or persistence "
            f"with ReadWriteMany storage ({READ_WRITE_MANY_CHOICES})"))
    return findings


def _check_storage_path(spec: dict, path: str) -> list[SpecError]:
    field = f"{_FILES_PATH}.storagePath"
    if not path.startswith("/"):
        return [SpecError(field, f"must be an absolute path such as "
                                 f"{model.PACKAGE_STORAGE_PATH}; got {path!r}")]
    normal = posixpath.normpath(path)
    if normal in ("/", "/pulsar") or normal.startswith(tuple(d + "/" for d in _IMAGE_DIRECTORIES)) \
            or normal in _IMAGE_DIRECTORIES:
        return [SpecError(field, f"{path!r} would hide files of the Pulsar image; use a "
                                 f"directory of its own such as {model.PACKAGE_STORAGE_PATH}")]
    findings = []
    broker = spec["broker"]
    configs = [("spec.broker.config", broker["config"])] + [
        (f"spec.broker.sets.{name}.config", (set_spec or {}).get("config"))
        for name, set_spec in (broker.get("sets") or {}).items()]
    for config_path, config in configs:
        for key in ("STORAGE_PATH", "PULSAR_PREFIX_STORAGE_PATH"):
            if (config or {}).get(key) not in (None, path):
                findings.append(SpecError(
                    f"{config_path}.{key}",
                    f"the package storage volume is mounted at {path}; set "
                    f"{field} instead of {key} so the mount and the configuration agree"))
    return findings


def broker_package_config(cluster: Cluster) -> dict:
    """Broker configuration keys for the Packages Management Service (before the prefix rule,
    so they become PULSAR_PREFIX_* and land in broker.conf; STORAGE_PATH is read by
    FileSystemPackagesStorage from the broker's properties)."""
    spec = cluster.spec
    management = spec["broker"]["packageManagement"]
    if not management["enabled"]:
        return {}
    config = {"enablePackagesManagement": "true"}
    if functions_enabled(spec):
        # a broker.conf key: the broker overrides its embedded worker's own setting with it
        config["functionsWorkerEnablePackageManagement"] = "true"
    if management["fileSystemStorage"]["enabled"]:
        config["packagesManagementStorageProvider"] = PACKAGES_STORAGE_PROVIDER
        config["STORAGE_PATH"] = management["fileSystemStorage"]["storagePath"]
    return config


def functions_worker_package_config(spec: dict) -> dict:
    """Configuration keys for a standalone functions worker (issue 3): with package management
    on the brokers it stores packages through their Packages Management Service; a worker
    embedded in the brokers takes the broker key instead (``broker_package_config``). Values are
    YAML-typed: they go into functions_worker.yml."""
    if not spec["broker"]["packageManagement"]["enabled"]:
        return {}
    return {"functionsWorkerEnablePackageManagement": True}


def broker_package_volume(cluster: Cluster) -> tuple[list[dict], list[dict]]:
    """``(mounts, pod volumes)`` for every broker pod: the package claim at the storage path;
    with ``global.persistence: false`` an emptyDir, like every other data volume (packages
    live as long as the pod, and each broker has its own: see `check`)."""
    if not package_storage_enabled(cluster.spec):
        return [], []
    files = cluster.spec["broker"]["packageManagement"]["fileSystemStorage"]
    mounts = [{"name": PACKAGE_VOLUME, "mountPath": files["storagePath"]}]
    if not cluster.glob["persistence"]:
        return mounts, [{"name": PACKAGE_VOLUME, "emptyDir": {}}]
    return mounts, [{"name": PACKAGE_VOLUME,
                     "persistentVolumeClaim": {"claimName": files["claimName"]}}]


def broker_package_objects(cluster: Cluster) -> list:
    """The StorageClass, PersistentVolume and PersistentVolumeClaim given for package storage
    (raw objects; apiVersion and kind are ours, ``{}`` renders nothing)."""
    if not package_storage_enabled(cluster.spec) or not cluster.glob["persistence"]:
        return []  # without persistence: an emptyDir, nothing to render
    broker = cluster.spec["broker"]
    files = broker["packageManagement"]["fileSystemStorage"]
    labels = cluster.labels("broker", broker["labels"])
    objects = []
    for key, api_version, kind, namespaced in (
            ("storageClass", "storage.k8s.io/v1", "StorageClass", False),
            ("persistentVolume", "v1", "PersistentVolume", False),
            ("persistentVolumeClaim", "v1", "PersistentVolumeClaim", True)):
        if files[key]:
            objects.append(_raw_object(cluster, files[key], api_version, kind, namespaced, labels))
    return objects


def _raw_object(cluster: Cluster, raw: dict, api_version: str, kind: str, namespaced: bool,
                labels: dict) -> dict:
    import copy

    body = {key: copy.deepcopy(value) for key, value in raw.items()
            if key not in ("apiVersion", "kind", "metadata")}
    metadata = copy.deepcopy(raw.get("metadata") or {})
    metadata.pop("namespace", None)
    result_metadata = {"name": metadata.pop("name", None)}
    if namespaced and cluster.namespace:
        result_metadata["namespace"] = cluster.namespace
    result_metadata["labels"] = {**labels, **(metadata.pop("labels", None) or {})}
    result_metadata.update(metadata)
    return {"apiVersion": api_version, "kind": kind, "metadata": result_metadata, **body}
