"""Storage: data volumes, their claim templates and the StorageClasses we create (KAAP §9)."""

from __future__ import annotations


def storage_class_name(volume: dict, claim_name: str):
    """``storageClassName`` of a claim: the existing class, none for the sentinel ``default``
    (the cluster's default class), or the class we create for this volume."""
    existing = volume.get("existingStorageClassName")
    if existing:
        return None if existing == "default" else existing
    if volume.get("storageClass"):
        return claim_name
    return None


def data_volume(cluster, volume: dict, resource_name: str, mount_path: str, labels: dict,
                annotations: dict | None, pvc_prefix: str = ""):
    """Everything one data volume needs: ``(mount, pod volume or None, claim template or None,
    StorageClass or None)``. With ``global.persistence`` off the volume is an emptyDir."""
    claim_name = f"{pvc_prefix or ''}{resource_name}-{volume['name']}"
    mount = {"name": claim_name, "mountPath": mount_path}
    if not cluster.glob["persistence"]:
        return mount, {"name": claim_name, "emptyDir": {}}, None, None
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": volume["size"]}}}
    # KAAP Q2: with a pvcPrefix KAAP names the class without it and the claims stay Pending;
    # we reference the class we actually create.
    class_name = f"{resource_name}-{volume['name']}"
    explicit = storage_class_name(volume, class_name)
    if explicit:
        spec["storageClassName"] = explicit
    claim = {"metadata": {"name": claim_name, "labels": dict(labels)}, "spec": spec}
    created = None
    if not volume.get("existingStorageClassName") and volume.get("storageClass"):
        created = storage_class(class_name, volume["storageClass"], labels, annotations)
    return mount, None, claim, created


def storage_class(name: str, config: dict, labels: dict, annotations: dict | None) -> dict:
    """A StorageClass for one volume. Cluster-scoped, so no namespace (KAAP Q16). KAAP gives a
    component-level class no reclaimPolicy (Kubernetes then deletes the data); we default to
    Retain everywhere (KAAP Q17)."""
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
    result["reclaimPolicy"] = config.get("reclaimPolicy") or "Retain"
    result["allowVolumeExpansion"] = True
    result["volumeBindingMode"] = "WaitForFirstConsumer"
    return result
