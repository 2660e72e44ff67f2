"""Oxia: the metadata store that replaces ZooKeeper when ``spec.oxia.enabled`` (ours).

KAAP has no Oxia; the objects, commands and ports follow the Apache Pulsar Helm chart
(helm-parity.md#oxia), named ``<global.name>-oxia-...`` after our own naming:

* coordinator: ServiceAccount, Role, RoleBinding, ConfigMap (``config.yaml``), Service and a
  one-replica Deployment ``<name>-oxia-coordinator``;
* servers: ServiceAccount ``<name>-oxia``, headless Service ``<name>-oxia-svc`` (the address
  Pulsar dials), ClusterIP Service ``<name>-oxia`` and StatefulSet ``<name>-oxia-server``;
* the cluster metadata Job ``<name>-oxia-metadata`` (``initialize-cluster-metadata`` with
  ``--metadata-store``), which replaces ZooKeeper's.
"""

from __future__ import annotations

from .. import model, names, storage, workload
from ..endpoints import INTERNAL, METRICS, PUBLIC, number, port
from ..registry import metrics_port

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

SERVER = names.OXIA_SERVER
COORDINATOR = names.OXIA_COORDINATOR
PUBLIC_PORT = number(SERVER, PUBLIC)
INTERNAL_PORT = number(SERVER, INTERNAL)
# Oxia namespaces: Pulsar keeps broker and bookkeeper metadata apart in them
# (helm-parity.md#oxia-coordinator).
OXIA_NAMESPACES = ("default", "broker", "bookkeeper")
SERVER_PORTS = (port(SERVER, PUBLIC), port(SERVER, INTERNAL), port(SERVER, METRICS))
COORDINATOR_PORTS = (port(COORDINATOR, INTERNAL), port(COORDINATOR, METRICS))


def render(cluster: Cluster) -> list:
    if not cluster.oxia:
        return []
    return coordinator(cluster) + server(cluster) + [metadata_job(cluster)]


def _names(cluster: Cluster) -> dict:
    base = names.oxia_base(cluster.name)
    return {"base": base, "coordinator": f"{base}-coordinator", "server": f"{base}-server",
            "headless": cluster.oxia_service, "data": "data"}


def _health_probe(extra: tuple[str, ...] = (), initial_delay: int = 10) -> dict:
    return {"exec": {"command": ["oxia", "health", f"--port={INTERNAL_PORT}", *extra]},
            "initialDelaySeconds": initial_delay, "timeoutSeconds": 10}


def _pod_source(cluster: Cluster, service_account: str,
                security_context: dict | None = None) -> dict:
    """The pod-level settings Oxia pods take from ``spec.global`` (it has no component-level
    scheduling fields; use spec.patches for more)."""
    glob = cluster.glob
    return {
        "dnsConfig": glob["dnsConfig"],
        "priorityClassName": glob["priorityClassName"],
        "nodeSelectors": glob["nodeSelectors"],
        "serviceAccountName": service_account,
        "securityContext": security_context,
        # the servers take the global spread constraints, as the global anti-affinity (ours)
        "topologySpreadConstraints": glob["topologySpreadConstraints"],
    }


def server_security_context(cluster: Cluster) -> dict | None:
    """The Oxia servers' pod securityContext. Restricted mode (our API version): non-root
    uid/gid 65532, which the oxia/oxia image (no USER) runs as well as any, with fsGroup for
    the data volume (model.OXIA_SECURITY_CONTEXT); ``spec.oxia.server.securityContext`` goes
    over it, for volumes that ignore fsGroup and need another uid. ``kaap`` mode: the Helm
    chart's (root, data volume group 0)."""
    import copy

    own = copy.deepcopy(cluster.spec["oxia"]["server"]["securityContext"] or {})
    if workload.restricted(cluster):
        return {**copy.deepcopy(model.OXIA_SECURITY_CONTEXT), **own}
    return {**copy.deepcopy(model.OXIA_CHART_SECURITY_CONTEXT), **own}


def coordinator_security_context(cluster: Cluster) -> dict | None:
    """The coordinator (no volumes) runs as the servers do in restricted mode, with the
    image's defaults otherwise."""
    import copy

    return copy.deepcopy(model.OXIA_SECURITY_CONTEXT) if workload.restricted(cluster) else None


def coordinator_config(cluster: Cluster) -> dict:
    oxia = cluster.spec["oxia"]
    parts = _names(cluster)
    servers = []
    for ordinal in range(oxia["server"]["replicas"]):
        pod = f"{parts['server']}-{ordinal}"
        servers.append({
            "public": f"{cluster.pod_host(pod, parts['headless'])}:{PUBLIC_PORT}",
            "internal": f"{pod}.{parts['headless']}:{INTERNAL_PORT}",
        })
    # Oxia >= 0.16.3 checks the authority clients bootstrap through
    # (helm-parity.md#oxia-coordinator)
    authorities = []
    for service in (parts["headless"], parts["base"]):
        authorities.append(f"{service}:{PUBLIC_PORT}")
        if cluster.namespace:
            authorities.append(f"{cluster.host(service)}:{PUBLIC_PORT}")
    return {
        "namespaces": [{"name": namespace, "initialShardCount": oxia["initialShardCount"],
                        "replicationFactor": oxia["replicationFactor"]}
                       for namespace in OXIA_NAMESPACES],
        "servers": servers,
        "allowExtraAuthorities": authorities,
    }


def coordinator(cluster: Cluster) -> list:
    from .. import yamlio

    oxia = cluster.spec["oxia"]
    name = _names(cluster)["coordinator"]
    labels = cluster.labels("oxia-coordinator")
    cm = workload.config_map(cluster, name, labels, None,
                             {"config.yaml": yamlio.dump(coordinator_config(cluster))})
    container = {
        "name": "coordinator",
        "image": oxia["image"],
        "imagePullPolicy": oxia["imagePullPolicy"],
        # $(POD_NAMESPACE) instead of a literal: the namespace may be set later by kustomize
        "command": ["oxia", "coordinator", f"--conf=configmap:$(POD_NAMESPACE)/{name}",
                    "--log-json", "--metadata=configmap", "--k8s-namespace=$(POD_NAMESPACE)",
                    f"--k8s-configmap-name={name}-status"],
        "env": [{"name": "POD_NAMESPACE",
                 "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
        "ports": [p.container() for p in COORDINATOR_PORTS],
        "livenessProbe": _health_probe(),
        "readinessProbe": _health_probe(),
    }
    if oxia["coordinator"]["resources"]:
        container["resources"] = oxia["coordinator"]["resources"]
    source = _pod_source(cluster, name, coordinator_security_context(cluster))
    pod = workload.pod_spec(cluster, source, [container], match_labels=labels,
                            with_affinity=False)
    template = workload.pod_template(
        dict(labels),
        {names.PROMETHEUS_SCRAPE: "true",
         names.PROMETHEUS_PORT: str(number(COORDINATOR, METRICS)),
         **workload.checksum_annotations(cluster, [cm])},
        pod)
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": cluster.metadata(name, labels)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": cluster.metadata(name, labels),
         "rules": [
             # the coordinator reads its config and keeps its status in ConfigMaps
             {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]},
             {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
              "verbs": ["get", "create", "update"]},
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": cluster.metadata(name, labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [dict({"kind": "ServiceAccount", "name": name},
                           **({"namespace": cluster.namespace} if cluster.namespace else {}))]},
        cm,
        workload.service(cluster, name, labels, labels,
                         [p.service() for p in COORDINATOR_PORTS],
                         None),
        # one coordinator, replaced rather than rolled (two would fight over the status)
        workload.deployment(cluster, name, labels, None, replicas=1, selector=labels,
                            template=template, strategy={"type": "Recreate"}),
    ]


def server(cluster: Cluster) -> list:
    oxia = cluster.spec["oxia"]
    parts = _names(cluster)
    name = parts["server"]
    labels = cluster.labels("oxia-server")
    data = storage.oxia_data_volume(
        cluster, parts["base"], labels, None)
    container = {
        "name": "server",
        "image": oxia["image"],
        "imagePullPolicy": oxia["imagePullPolicy"],
        "command": ["oxia", "server", "--log-json", "--data-dir=/data/db", "--wal-dir=/data/wal",
                    f"--db-cache-size-mb={oxia['server']['dbCacheSizeMb']}"],
        "ports": [p.container() for p in SERVER_PORTS],
        "volumeMounts": [data.mount],
        "livenessProbe": _health_probe(),
        "readinessProbe": _health_probe(("--service=oxia-readiness",)),
        "startupProbe": _health_probe(initial_delay=60),
    }
    if oxia["server"]["resources"]:
        container["resources"] = oxia["server"]["resources"]
    source = _pod_source(cluster, parts["base"], server_security_context(cluster))
    # the global anti-affinity applies, as to every Pulsar component
    pod = workload.pod_spec(cluster, source, [container], match_labels=labels,
                            volumes=[data.volume] if data.volume else None)
    template = workload.pod_template(
        dict(labels),
        {names.PROMETHEUS_SCRAPE: "true", names.PROMETHEUS_PORT: str(metrics_port("oxia"))},
        pod)
    service_ports = [p.service() for p in SERVER_PORTS]
    objects = [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": cluster.metadata(parts["base"], labels)},
        workload.service(cluster, parts["headless"], labels, labels, service_ports, None,
                         headless=True, publish_not_ready=True),
        workload.service(cluster, parts["base"], labels, labels, service_ports, None),
        workload.statefulset(
            cluster, name, labels, None, replicas=oxia["server"]["replicas"], selector=labels,
            service_name=parts["headless"], template=template,
            pod_management_policy="Parallel",
            volume_claim_templates=[data.claim] if data.claim else None),
    ]
    if data.storage_class:
        objects.append(data.storage_class)
    return objects


def metadata_job(cluster: Cluster) -> dict:
    """``initialize-cluster-metadata`` against Oxia. It runs the Pulsar image with the
    brokers' image and scheduling settings (it writes the brokers' metadata)."""
    broker = cluster.spec["broker"]
    name = f"{cluster.name}-oxia-metadata"
    labels = cluster.labels(names.OXIA_METADATA)
    return workload.cluster_metadata_job(cluster, name, labels, None, broker,
                                         cluster.spec["oxia"]["metadataInitializationJob"],
                                         pod_component=names.OXIA_METADATA)
