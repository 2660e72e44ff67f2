"""What the rendered objects name but nobody renders: each is an ``info`` result naming the
field that asks for it, so a user learns before applying what the cluster must have first
(docs/runtime.md lists them all).

The list is read off the rendered objects, so it is what will really be asked for:

* PriorityClasses (``priorityClassName``): no pod is admitted until the class exists;
* StorageClasses that claims name and we do not create, and the cluster's default
  StorageClass for claims that name none (the package claim must be ReadWriteMany with more
  than one broker, which storage.check already enforces);
* pre-created PersistentVolumeClaims the brokers mount (package storage ``claimName``);
* Secrets the pods mount that no Certificate, Job or object of ours writes (TLS Secrets
  without the self-signed provisioner, token Secrets without ``auth.token.initialize``);
* ServiceAccounts a user named;
* cert-manager, when Certificates and Issuers are rendered;
* a load-balancer implementation, for Services of type LoadBalancer.
"""

from __future__ import annotations

from . import names
from .schema import SpecError

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterator

    from .cluster import Cluster

_WORKLOADS = ("StatefulSet", "Deployment", "Job")


def info(path: str, message: str) -> SpecError:
    return SpecError(path, message, "info")


def _mapping(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _pod_specs(objects: list) -> Iterator[tuple[dict, dict]]:
    """The pod specs of the workloads (spec.patches may have reshaped anything: read
    defensively)."""
    for obj in objects:
        if obj.get("kind") in _WORKLOADS:
            yield obj, _mapping(_mapping(_mapping(obj.get("spec")).get("template")).get("spec"))


def _where(spec: dict, field: str, value: object) -> str:
    """The spec path a pod-level value comes from: the global one, else a component's own."""
    if spec["global"].get(field) == value:
        return f"spec.global.{field}"
    from .registry import PULSAR_COMPONENTS

    for entry in PULSAR_COMPONENTS:
        if spec[entry.section].get(field) == value:
            return f"spec.{entry.section}.{field}"
    return f"spec.global.{field}"


def check(cluster: Cluster, objects: list) -> list:
    spec = cluster.spec
    findings = []
    rendered = {(obj.get("kind"), obj["metadata"].get("name")) for obj in objects}

    classes = sorted({str(pod["priorityClassName"]) for _, pod in _pod_specs(objects)
                      if pod.get("priorityClassName")})
    for name in classes:
        findings.append(info(_where(spec, "priorityClassName", name),
                             f"the PriorityClass {name!r} must exist in the cluster: no pod "
                             f"naming it is admitted before"))

    accounts = {str(pod["serviceAccountName"]) for _, pod in _pod_specs(objects)
                if pod.get("serviceAccountName")}
    for name in sorted(accounts):
        if ("ServiceAccount", name) not in rendered:
            findings.append(info(_where(spec, "serviceAccountName", name),
                                 f"the ServiceAccount {name!r} must exist in the namespace"))

    findings.extend(_storage(cluster, objects, rendered))
    findings.extend(_secrets(cluster, objects, rendered))

    if any(str(obj.get("apiVersion", "")).startswith("cert-manager.io/") for obj in objects):
        provisioner = ("selfSigned" if spec["global"]["tls"]["certProvisioner"]["selfSigned"][
            "enabled"] else "acme")
        findings.append(info(f"spec.global.tls.certProvisioner.{provisioner}.enabled",
                             "cert-manager (its CRDs and controller) must be installed: the "
                             "TLS Secrets are written by cert-manager from the Certificates "
                             "rendered here"))
    findings.extend(_monitoring_and_autoscaling(objects))
    if any(obj.get("kind") == "Service" and _mapping(obj.get("spec")).get("type") ==
           "LoadBalancer" for obj in objects):
        findings.append(info("spec.proxy.service.type",
                             "Services of type LoadBalancer get an address only from a "
                             "load-balancer implementation (the cloud provider's, or MetalLB "
                             "and the like on bare metal)"))
    return findings


def _monitoring_and_autoscaling(objects: list) -> list:
    """ours: the Prometheus operator for PodMonitors; a metrics API for the autoscalers."""
    findings = []
    if any(obj.get("kind") == "PodMonitor" for obj in objects):
        findings.append(info("spec.global.podMonitor.enabled", (
            "the Prometheus operator (its PodMonitor CRD, monitoring.coreos.com/v1) must be "
            "installed, and a Prometheus whose podMonitorSelector matches the PodMonitors' "
            "labels (podMonitor.labels)")))
    types = {str(_mapping(metric).get("type")) for obj in objects
             if obj.get("kind") == "HorizontalPodAutoscaler"
             for metric in _mapping(obj.get("spec")).get("metrics") or []}
    if types & {"Resource", "ContainerResource"}:
        findings.append(info("spec.broker.hpa.metrics", (
            "the autoscalers read CPU and memory from the resource metrics API "
            "(metrics.k8s.io): metrics-server (or an equivalent) must run in the cluster")))
    if types & {"Pods", "Object", "External"}:
        findings.append(info("spec.broker.hpa.metrics", (
            "Pods, Object and External metrics come from a custom or external metrics API "
            "(an adapter such as prometheus-adapter or KEDA's) that must serve them")))
    return findings


def _claims(objects: list) -> Iterator[tuple[str, dict]]:
    """``(claim name, claim spec)`` of every claim template and claim object."""
    for obj in objects:
        if obj.get("kind") == "PersistentVolumeClaim":
            yield obj["metadata"]["name"], _mapping(obj.get("spec"))
        elif obj.get("kind") == "StatefulSet":
            for template in _mapping(obj.get("spec")).get("volumeClaimTemplates") or []:
                claim = _mapping(template)
                yield str(_mapping(claim.get("metadata")).get("name")), _mapping(claim.get("spec"))


def _storage(cluster: Cluster, objects: list, rendered: set) -> list:
    findings = []
    named: dict[str, list] = {}
    unnamed: list[str] = []
    for claim, claim_spec in _claims(objects):
        class_name = claim_spec.get("storageClassName")
        if class_name is None:
            unnamed.append(claim)
        elif ("StorageClass", class_name) not in rendered:
            named.setdefault(class_name, []).append(claim)
    if unnamed:
        findings.append(info(
            "spec.global.storage.existingStorageClassName",
            f"claims without a storageClassName ({', '.join(sorted(unnamed))}) are bound by "
            f"the cluster's default StorageClass: one must be marked default, or name a class "
            f"with existingStorageClassName"))
    from . import storage

    paths: dict[str, str] = {}
    for path, volume, _ in storage._rendered_volumes(cluster):
        if volume.get("existingStorageClassName"):
            paths.setdefault(volume["existingStorageClassName"],
                             f"{path}.existingStorageClassName")
    for class_name, claims in sorted(named.items()):
        findings.append(info(
            paths.get(class_name, "spec.global.storage.existingStorageClassName"),
            f"the StorageClass {class_name!r} must exist (claims {', '.join(sorted(claims))})"))

    if storage.package_storage_enabled(cluster.spec) and cluster.glob["persistence"]:
        files = cluster.spec["broker"]["packageManagement"]["fileSystemStorage"]
        claim = files["claimName"]
        if ("PersistentVolumeClaim", claim) not in rendered:
            findings.append(info(
                "spec.broker.packageManagement.fileSystemStorage.claimName",
                f"the PersistentVolumeClaim {claim!r} must exist in the brokers' namespace "
                f"(ReadWriteMany with more than one broker)"))
    return findings


def _secrets(cluster: Cluster, objects: list, rendered: set) -> list:
    written = {name for kind, name in rendered if kind == "Secret"}
    for obj in objects:
        if obj.get("kind") == "Certificate":
            written.add(_mapping(obj.get("spec")).get("secretName"))
    token_job = any(obj.get("kind") == "Job" and _mapping(obj["metadata"].get("labels")).get(
        names.COMPONENT_LABEL) == names.TOKEN_INIT_COMPONENT for obj in objects)
    missing = set()
    for obj in objects:  # ours: the token a PodMonitor sends (monitoring.py)
        if obj.get("kind") == "PodMonitor":
            for endpoint in _mapping(obj.get("spec")).get("podMetricsEndpoints") or []:
                secret = _mapping(_mapping(_mapping(endpoint).get("authorization")).get(
                    "credentials")).get("name")
                if secret and secret not in written and not token_job:
                    missing.add(secret)
    for _, pod in _pod_specs(objects):
        for volume in pod.get("volumes") or []:
            secret = _mapping(_mapping(volume).get("secret")).get("secretName")
            if not secret or secret in written:
                continue
            if token_job and secret.startswith("token-"):
                continue  # the token bootstrap Job creates it
            missing.add(secret)
    tls = cluster.glob["tls"]
    findings = []
    for secret in sorted(missing):
        if secret.startswith("token-"):
            path = "spec.global.auth.token.initialize"
        elif secret == tls["defaultSecretName"]:
            path = "spec.global.tls.defaultSecretName"
        else:
            path = next((f"spec.global.tls.{section}.secretName" for section, entry in
                         tls.items() if isinstance(entry, dict)
                         and entry.get("secretName") == secret), "spec.global.tls")
        findings.append(info(path, f"the Secret {secret!r} must exist in the namespace: the "
                                   f"pods mount it and nothing rendered here writes it"))
    return findings
