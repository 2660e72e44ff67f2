"""Label keys, annotation keys and the names of generated objects: one place for each.

KAAP's conventions (docs/kaap-parity.md#names, kaap-parity.md#labels): every object carries ``app:
pulsar``, ``component: <base name>`` and ``cluster: <global.name>``, in that order; objects
of a resource set add ``resource-set`` and, when the set is mapped to a rack, ``rack``.
Objects are named ``<global.name>-<base name>[-<set>]``.
"""

from __future__ import annotations

# --- labels -------------------------------------------------------------------------------------

APP_LABEL = "app"
APP = "pulsar"
COMPONENT_LABEL = "component"
CLUSTER_LABEL = "cluster"
RESOURCE_SET_LABEL = "resource-set"
RACK_LABEL = "rack"

# `component` values of objects that belong to no Pulsar component (their pods must not be
# selected by any component's Service, workload or PodDisruptionBudget)
TLS_COMPONENT = "tls"
TOKEN_INIT_COMPONENT = "token-init"
RACK_REGISTRATION_COMPONENT = "rack-registration"
NETWORK_POLICY_COMPONENT = "network-policy"
OXIA_COORDINATOR = "oxia-coordinator"
OXIA_SERVER = "oxia-server"
OXIA_METADATA = "oxia-metadata"


def base_labels(cluster_name: str, component: str) -> dict[str, str]:
    """KAAP's three labels, in KAAP's order."""
    return {APP_LABEL: APP, COMPONENT_LABEL: component, CLUSTER_LABEL: cluster_name}


def cluster_labels(cluster_name: str) -> dict[str, str]:
    """The labels every pod of one cluster carries, whatever its component."""
    return {APP_LABEL: APP, CLUSTER_LABEL: cluster_name}


def job_component(base_name: str, job: str) -> str:
    """``component`` of a Job's pods: ``<base name>-<job>`` (``zookeeper-metadata``), so that
    no Service, workload or PDB of the component itself selects them (workload.job)."""
    return f"{base_name}-{job}"


# --- annotations --------------------------------------------------------------------------------

# Marker annotation on every generated object: which PulsarCluster (namespace/name) it came
# from. A re-run replaces exactly these objects, so removed parts disappear.
GENERATED_FROM = "krm-pulsar.io/generated-from"
# kyaml's file placement annotations (kpt writes each object to this path)
PATH_ANNOTATION = "internal.config.kubernetes.io/path"
INDEX_ANNOTATION = "internal.config.kubernetes.io/index"
LEGACY_PATH_ANNOTATION = "config.kubernetes.io/path"
LEGACY_INDEX_ANNOTATION = "config.kubernetes.io/index"
# Annotations that only matter between a KRM orchestrator and its functions.
ORCHESTRATOR_ANNOTATION_PREFIXES = ("internal.config.kubernetes.io/", LEGACY_PATH_ANNOTATION,
                                    LEGACY_INDEX_ANNOTATION, "config.k8s.io/id")
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
PROMETHEUS_SCRAPE = "prometheus.io/scrape"
PROMETHEUS_PORT = "prometheus.io/port"
# KAAP's annotation on the headless Services of ZooKeeper and the bookies (before
# publishNotReadyAddresses existed; kept for parity)
TOLERATE_UNREADY = "service.alpha.kubernetes.io/tolerate-unready-endpoints"
SCRIPT_CHECKSUM = "krm-pulsar.io/script-checksum"
# restartOnConfigMapChange: one checksum annotation per ConfigMap, KAAP's prefix for KAAP input
KAAP_CHECKSUM_PREFIX = "kaap.oss.datastax.com/configmap-"
CHECKSUM_PREFIX = "krm-pulsar.io/configmap-"


def object_key(obj: dict) -> tuple:
    """What identifies an object to the API server: group, kind, namespace, name."""
    metadata = obj.get("metadata") or {}
    group = obj.get("apiVersion", "").rpartition("/")[0]
    return group, obj.get("kind"), metadata.get("namespace") or "", metadata.get("name")


# --- object names -------------------------------------------------------------------------------


def resource_name(cluster_name: str, base_name: str) -> str:
    """``<global.name>-<base name>``, e.g. ``pulsar-broker`` (KAAP)."""
    return f"{cluster_name}-{base_name}"


def client_service(resource: str) -> str:
    """The ClusterIP Service beside a headless one (ZooKeeper, functions worker): KAAP's
    ``<name>-ca``, which clients dial."""
    return f"{resource}-ca"


def oxia_base(cluster_name: str) -> str:
    return f"{cluster_name}-oxia"


def oxia_headless_service(cluster_name: str) -> str:
    """The Oxia servers' headless Service, which Pulsar dials (the Helm chart's name)."""
    return f"{cluster_name}-oxia-svc"
