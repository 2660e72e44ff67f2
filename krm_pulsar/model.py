"""The PulsarCluster spec: every field, its type and its default, in one place.

The layout is KAAP's (``spec.global``, ``spec.zookeeper``, ... see
``../shared/reference/kaap-semantics.md`` §2), so a ``kaap.oss.datastax.com/v1beta1``
PulsarCluster is accepted as it is. Fields that KAAP does not have are marked "ours".

Nothing else in the code base declares a default: renderers read the resolved spec.
"""

from __future__ import annotations

import copy

from .schema import (
    Any,
    Bool,
    Int,
    Labels,
    List,
    Map,
    Name,
    Number,
    Obj,
    Quantity,
    Raw,
    Resources,
    Str,
    deep_merge,
)

API_GROUP = "krm-pulsar.io"
API_VERSION = "krm-pulsar.io/v1alpha1"
KAAP_API_VERSION = "kaap.oss.datastax.com/v1beta1"
KIND = "PulsarCluster"
ACCEPTED_API_VERSIONS = (API_VERSION, KAAP_API_VERSION)

# A current Pulsar LTS line (4.0.x), the tag the Apache chart pins in the same period.
DEFAULT_PULSAR_IMAGE = "apachepulsar/pulsar:4.0.12"
DEFAULT_OXIA_IMAGE = "oxia/oxia:0.16.7"

HOST_TOPOLOGY_KEY = "kubernetes.io/hostname"
ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone"
# KAAP writes the deprecated beta label; KAAP input keeps it so pod templates stay identical.
KAAP_ZONE_TOPOLOGY_KEY = "failure-domain.beta.kubernetes.io/zone"

# Upper bound for replicas of one component or set: beyond it the input is a typo, not a plan.
MAX_REPLICAS = 1000

SET_UPDATE_STRATEGIES = ("RollingUpdate", "Parallel")

# Pod security (docs/security.md). "restricted": pods meet the Kubernetes "restricted" Pod
# Security Standard. "kaap": pod templates exactly as KAAP writes them, so a cluster migrating
# from the operator does not restart; the default for kaap.oss.datastax.com input.
POD_SECURITY_MODES = ("restricted", "kaap")
# The Pulsar image runs as uid 10000 with gid 0, and its files are group-0 owned and
# group-writable: group 0 is what lets the process write /pulsar/conf and /pulsar/logs.
PULSAR_UID = 10000
PULSAR_GID = 0
RESTRICTED_POD_SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": PULSAR_UID,
    "runAsGroup": PULSAR_GID,
    "fsGroup": PULSAR_GID,
    # only walk volume files when the root's group is wrong, so large ledgers mount fast
    "fsGroupChangePolicy": "OnRootMismatch",
    "seccompProfile": {"type": "RuntimeDefault"},
}
RESTRICTED_CONTAINER_SECURITY_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
# The oxia/oxia image declares no USER (it would run as root) and owns no files it writes: all
# it writes is its data volume. In restricted mode its pods run as the conventional non-root
# 65532 with a group of their own; fsGroup makes the data volume writable where the volume
# supports ownership changes (block storage, emptyDir). Volumes that ignore fsGroup (NFS, CSI
# drivers with fsGroupPolicy None) must let uid or gid 65532 write their root, or take another
# uid with spec.oxia.server.securityContext (docs/runtime.md).
OXIA_UID = 65532
OXIA_SECURITY_CONTEXT = {
    "runAsUser": OXIA_UID,
    "runAsGroup": OXIA_UID,
    "fsGroup": OXIA_UID,
    "fsGroupChangePolicy": "OnRootMismatch",
}
# The Helm chart's Oxia server pods (podSecurity "kaap"): root, data volume group 0.
OXIA_CHART_SECURITY_CONTEXT = {"fsGroup": 0, "fsGroupChangePolicy": "OnRootMismatch"}

# ours: the rolling update of our Deployments (proxies; autorecovery and bastion, for which
# KAAP leaves the Kubernetes default of 25 %/25 %, i.e. maxSurge 1 and maxUnavailable 0 with
# one replica). With maxUnavailable 0 a rollout needs a free node for its surge pod; under the
# required host anti-affinity with no such node (as many nodes as proxies, a one-node
# cluster) it hangs forever. maxUnavailable 1 always progresses, one pod at a time (the PDB's
# budget too); maxSurge 1 still uses a free node when there is one. A Deployment's strategy is
# not part of its pod template: changing it rolls nothing, so KAAP input gets it as well.
DEPLOYMENT_STRATEGY = {"type": "RollingUpdate",
                       "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}

# ours: requests of the one-shot Jobs (metadata, transactions) and of our init containers.
# Their JVMs get a small heap from it (jvm.py); Pulsar's defaults would reserve 2g heap and 4g
# direct memory for a task that needs a few MiB, which a LimitRange OOM-kills.
JOB_RESOURCES = {"requests": {"memory": "256Mi", "cpu": "100m"}}
INIT_CONTAINER_RESOURCES = {"requests": {"memory": "256Mi", "cpu": "100m"}}


def _requests(memory: str, cpu: str) -> dict:
    return {"requests": {"memory": memory, "cpu": cpu}}


def _probe(initial_delay: int, period: int, timeout: int, enabled=True,
           failure_threshold=None) -> Obj:
    """One probe's settings. ``enabled`` None: decided by the API version in with_defaults."""
    return Obj({
        "enabled": Bool(enabled),
        "timeoutSeconds": Int(timeout, min=1),
        "initialDelaySeconds": Int(initial_delay, min=0),
        "periodSeconds": Int(period, min=1),
        "failureThreshold": Int(failure_threshold, min=1),
        "successThreshold": Int(min=1),
        "terminationGracePeriodSeconds": Int(min=1),
    })


def _probes(initial_delay: int, period: int, timeout: int, enabled=True, **extra) -> Obj:
    return Obj({
        "liveness": _probe(initial_delay, period, timeout, enabled),
        "readiness": _probe(initial_delay, period, timeout, enabled),
        **extra,
    })


def _startup_probe(initial_delay: int, period: int, timeout: int, window_seconds: int) -> Obj:
    """ours: a startup probe that allows `window_seconds` for the first success (liveness and
    readiness start only after it). On by default for our API version only (with_defaults):
    a new probe is a pod template change, which KAAP input must not get."""
    return _probe(initial_delay, period, timeout, enabled=None,
                  failure_threshold=max(window_seconds // period, 1))


PDB = Obj({
    "enabled": Bool(True),
    "maxUnavailable": Any(1),
    "minAvailable": Any(),
})

ANTI_AFFINITY_RULE = Obj({"enabled": Bool(), "required": Bool()}, default=None)

# Component-level antiAffinity: no defaults (it replaces the global one as a whole, KAAP §7.2).
ANTI_AFFINITY = Obj({"host": ANTI_AFFINITY_RULE, "zone": ANTI_AFFINITY_RULE}, default=None)

GLOBAL_ANTI_AFFINITY = Obj({
    "host": Obj({"enabled": Bool(True), "required": Bool(True)}),
    "zone": Obj({"enabled": Bool(False), "required": Bool()}),
})

# KAAP gives only a global storageClass reclaimPolicy Retain; a component's class gets none and
# Kubernetes then deletes the data with the claim (KAAP Q17). Ours: Retain wherever it is given.
STORAGE_CLASS = Obj({
    "reclaimPolicy": Str("Retain", enum=("Retain", "Delete")),
    "provisioner": Str(),
    "type": Str(),
    "fsType": Str(),
    "extraParams": Map(Str()),
}, default=None)


def _volume(name: str, size: str) -> Obj:
    return Obj({
        "name": Name(name),
        "size": Quantity(size),
        "existingStorageClassName": Str(),
        "storageClass": STORAGE_CLASS,
    })


SERVICE_PORT = Raw()


def _service(type_: str | None = None, load_balancer: bool = False, extra=None) -> Obj:
    fields = {
        "annotations": Map(Str()),
        "additionalPorts": Raw(shape="list"),
        "type": Str(type_, enum=("ClusterIP", "NodePort", "LoadBalancer")),
    }
    if load_balancer:
        fields["loadBalancerIP"] = Str()
        fields["loadBalancerClass"] = Str()
        fields["enablePlainTextWithTLS"] = Bool(False)
    fields.update(extra or {})
    return Obj(fields)


ADDITIONAL_VOLUMES = Obj({
    "volumes": Raw(shape="list"),
    "mounts": Raw(shape="list"),
})


def _component(
    replicas: int,
    resources: dict,
    probes: Obj,
    grace_period: int = 60,
    security_context: dict | None = None,
    **extra,
) -> dict:
    """Fields every Pulsar component shares (KAAP's BaseComponentSpec plus the typed ones)."""
    return {
        "image": Str(),
        "imagePullPolicy": Str(enum=("Always", "IfNotPresent", "Never")),
        "replicas": Int(replicas, min=0, max=MAX_REPLICAS),
        "resources": Resources(resources),
        "probes": probes,
        "gracePeriod": Int(grace_period, min=0),
        "pdb": PDB,
        "env": Raw(shape="list"),
        "tolerations": Raw(shape="list"),
        "imagePullSecrets": Raw(shape="list"),
        "sidecars": Raw(shape="list"),
        "initContainers": Raw(shape="list"),
        "additionalVolumes": ADDITIONAL_VOLUMES,
        "serviceAccountName": Str(),
        "securityContext": Raw(security_context),
        "nodeSelectors": Map(Str()),
        "nodeAffinity": Raw(),
        "antiAffinity": ANTI_AFFINITY,
        "annotations": Map(Str()),
        "podAnnotations": Map(Str()),
        "labels": Labels(),
        "podLabels": Labels(),
        "matchLabels": Labels(),
        "config": Map(),
        # ours: KAAP only has these globally; a component value overrides the global one
        "dnsConfig": Raw(),
        "priorityClassName": Str(),
        **extra,
    }


AUTOSCALER_BK = Obj({
    "enabled": Bool(False),
    "periodMs": Int(10000, min=1000),
    "minWritableBookies": Int(3, min=1),
    "scaleUpBy": Int(1, min=1),
    "scaleDownBy": Int(1, min=1),
    "scaleUpMaxLimit": Int(30, min=1),
    "stabilizationWindowMs": Int(300000, min=1),
    "diskUsageToleranceHwm": Number(0.92, min=0, max=1),
    "diskUsageToleranceLwm": Number(0.75, min=0, max=1),
})

AUTOSCALER_BROKER = Obj({
    "enabled": Bool(False),
    "resourcesUsageSource": Str("PulsarLBReport"),
    "periodMs": Int(60000, min=1000),
    "min": Int(1, min=1),
    "max": Int(min=1),
    "lowerCpuThreshold": Number(0.3, min=0, max=1),
    "higherCpuThreshold": Number(0.8, min=0, max=1),
    "scaleUpBy": Int(1, min=1),
    "scaleDownBy": Int(1, min=1),
    "stabilizationWindowMs": Int(300000, min=1),
})

KAFKA = Obj({"enabled": Bool(False), "exposePorts": Bool(True)})

# --- components ---------------------------------------------------------------------------------

ZOOKEEPER = Obj({
    **_component(
        replicas=3,
        resources=_requests("1Gi", "0.3"),
        # ours: loading a large snapshot and transaction log takes minutes
        probes=_probes(20, 30, 30, startup=_startup_probe(20, 10, 10, 900)),
        security_context={"fsGroup": 0},
    ),
    "podManagementPolicy": Str("Parallel", enum=("Parallel", "OrderedReady")),
    "updateStrategy": Raw({"type": "RollingUpdate"}),
    "dataVolume": _volume("data", "5Gi"),
    "service": _service(),
    "metadataInitializationJob": Obj({"timeout": Int(60, min=1),
                                      "resources": Resources(JOB_RESOURCES)}),
})

BOOKKEEPER_SET = Obj(_component(
    replicas=3,
    resources=_requests("2Gi", "1"),
    # ours: a bookie replaying a large journal after a crash answers nothing for many minutes
    probes=_probes(10, 30, 5, startup=_startup_probe(10, 10, 5, 1800)),
    security_context={"fsGroup": 0},
    podManagementPolicy=Str("Parallel", enum=("Parallel", "OrderedReady")),
    updateStrategy=Raw({"type": "RollingUpdate"}),
    volumes=Obj({"journal": _volume("journal", "20Gi"), "ledgers": _volume("ledgers", "50Gi")}),
    pvcPrefix=Str(),
    service=_service(),
    autoscaler=AUTOSCALER_BK,
    overrideResourceName=Name(),
    cleanUpPvcs=Bool(True),
))

BOOKKEEPER = Obj({
    **BOOKKEEPER_SET.fields,
    "sets": Map(BOOKKEEPER_SET),
    "setsUpdateStrategy": Str("RollingUpdate", enum=SET_UPDATE_STRATEGIES),
    "autoRackConfig": Obj({
        "enabled": Bool(True),
        "periodMs": Int(60000, min=1000),
        "additionalZookeeperClientConfig": Map(),
    }),
})

BROKER_SET = Obj(_component(
    replicas=3,
    resources=_requests("2Gi", "1"),
    # liveness without the health check for our API version (with_defaults): the health check
    # is a produce/consume round trip through BookKeeper, and a slow BookKeeper must not get
    # every broker restarted
    probes=_probes(10, 30, 5,
                   startup=_startup_probe(10, 10, 5, 300),
                   useHealthCheckForLiveness=Bool(),
                   useHealthCheckForReadiness=Bool(True)),
    podManagementPolicy=Str(enum=("Parallel", "OrderedReady")),
    updateStrategy=Raw(),
    service=_service("ClusterIP"),
    functionsWorkerEnabled=Bool(False),
    transactions=Obj({
        "enabled": Bool(False),
        "partitions": Int(16, min=1),
        "initJob": Obj({"timeout": Int(60, min=1), "resources": Resources(JOB_RESOURCES)}),
    }),
    kafka=KAFKA,
    autoscaler=AUTOSCALER_BROKER,
    overrideResourceName=Name(),
))

# ours (Helm chart PR #697): the Packages Management Service on the brokers, optionally with
# FileSystemPackagesStorage on a claim mounted by every broker pod of every set. Cluster-wide,
# so it lives on spec.broker only, not on a set.
PACKAGE_STORAGE_PATH = "/pulsar/packages-storage"
# The claim we render when the user names no pre-created one (persistentVolumeClaim deep-merges
# over it). ReadWriteOnce fits one broker; several need ReadWriteMany (checked in storage.py).
PACKAGE_STORAGE_CLAIM = {"spec": {"accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": "10Gi"}}}}
PACKAGE_STORAGE_CLAIM_SUFFIX = "-package-storage"
# The Pulsar image runs as uid 10000, gid 0: group 0 must be able to write the package volume.
PACKAGE_STORAGE_SECURITY_CONTEXT = {"fsGroup": 0, "fsGroupChangePolicy": "OnRootMismatch"}

PACKAGE_MANAGEMENT = Obj({
    "enabled": Bool(False),
    "fileSystemStorage": Obj({
        "enabled": Bool(False),
        "storagePath": Str(PACKAGE_STORAGE_PATH),
        "claimName": Str(pattern=r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?\Z",
                         pattern_doc="a valid claim name (lower-case letters, digits, '-' "
                                     "and '.')"),
        "storageClass": Raw(),
        "persistentVolume": Raw(),
        "persistentVolumeClaim": Raw(),
    }),
})

BROKER = Obj({
    **BROKER_SET.fields,
    "packageManagement": PACKAGE_MANAGEMENT,  # ours
    "sets": Map(BROKER_SET),
    "setsUpdateStrategy": Str("RollingUpdate", enum=SET_UPDATE_STRATEGIES),
})

PROXY_SET = Obj(_component(
    replicas=3,
    resources=_requests("1Gi", "1"),
    probes=_probes(10, 30, 5),
    updateStrategy=Raw(DEPLOYMENT_STRATEGY),
    service=_service("LoadBalancer", load_balancer=True),
    webSocket=Obj({
        "enabled": Bool(True),
        "resources": Resources(_requests("1Gi", "1")),
        # KAAP renders no websocket probes unless asked; ours probe by default (with_defaults)
        "probes": _probes(10, 30, 5, enabled=None),
        "config": Map(),
    }),
    kafka=KAFKA,
    standaloneFunctionsWorker=Bool(),
    overrideResourceName=Name(),
))

PROXY = Obj({
    **PROXY_SET.fields,
    "sets": Map(PROXY_SET),
    "setsUpdateStrategy": Str("RollingUpdate", enum=SET_UPDATE_STRATEGIES),
})

# Autorecovery and bastion have no PDB, Service, volumes or sets (KAAP §2.7, §2.8).
_NO_SERVICE_FIELDS = ("additionalVolumes", "pdb", "probes")

AUTORECOVERY = Obj({
    key: field
    for key, field in _component(
        replicas=1,
        resources=_requests("512Mi", "0.3"),
        probes=_probes(10, 30, 5),
    ).items()
    if key not in _NO_SERVICE_FIELDS
})

BASTION = Obj({
    **{
        key: field
        for key, field in _component(
            replicas=1,
            resources=_requests("256Mi", "0.25"),
            probes=_probes(10, 30, 5),
        ).items()
        if key not in _NO_SERVICE_FIELDS
    },
    "targetProxy": Bool(),
})

FUNCTIONS_WORKER = Obj(_component(
    replicas=0,
    resources=_requests("4Gi", "1"),
    probes=_probes(10, 30, 5),
    security_context={"fsGroup": 0},
    podManagementPolicy=Str("Parallel", enum=("Parallel", "OrderedReady")),
    updateStrategy=Raw({"type": "RollingUpdate"}),
    logsVolume=_volume("logs", "5Gi"),
    runtime=Str("process", enum=("process", "kubernetes")),
    service=_service("ClusterIP"),
    rbac=Obj({"create": Bool(True), "namespaced": Bool(True)}),
))

# --- global ---------------------------------------------------------------------------------------

TLS_COMPONENT = Obj({"enabled": Bool(False), "secretName": Str()})
TLS_PROXY = Obj({"enabled": Bool(False), "enabledWithBroker": Bool(False), "secretName": Str()})
# A resource set's entry: unset fields come from the component's entry (tls_defaults).
TLS_SET = Obj({"enabled": Bool(), "secretName": Str()})
TLS_PROXY_SET = Obj({"enabled": Bool(), "enabledWithBroker": Bool(), "secretName": Str()})
CERT_KEY = Obj({"rotationPolicy": Str(enum=("Never", "Always")),
                "encoding": Str(enum=("PKCS1", "PKCS8")),
                "algorithm": Str(enum=("RSA", "ECDSA", "Ed25519")), "size": Int(min=1)},
               default=None)
# ours: `generate` defaults to true (KAAP generates nothing for a component without it)
CERT_COMPONENT = Obj({"generate": Bool(True), "privateKey": CERT_KEY, "dnsNames": List(Str()),
                      "secretName": Str()})

TLS = Obj({
    "enabled": Bool(False),
    "defaultSecretName": Str("pulsar-tls"),
    "caPath": Str("/etc/ssl/certs/ca-certificates.crt"),
    "zookeeper": TLS_COMPONENT,
    "bookkeeper": TLS_COMPONENT,
    "autorecovery": TLS_COMPONENT,
    "broker": TLS_COMPONENT,
    "proxy": TLS_PROXY,
    "functionsWorker": Obj({"enabled": Bool(), "enabledWithBroker": Bool(), "secretName": Str()}),
    "ssCa": TLS_COMPONENT,
    "brokerResourceSets": Map(TLS_SET),
    "proxyResourceSets": Map(TLS_PROXY_SET),
    "certProvisioner": Obj({
        "selfSigned": Obj({
            "enabled": Bool(False),
            "perComponent": Bool(),
            "includeDns": Bool(),
            "caSecretName": Str(),
            "privateKey": CERT_KEY,
            "zookeeper": CERT_COMPONENT,
            "bookkeeper": CERT_COMPONENT,
            "autorecovery": CERT_COMPONENT,
            "broker": CERT_COMPONENT,
            "proxy": CERT_COMPONENT,
            "functionsWorker": CERT_COMPONENT,
            "external": Map(CERT_COMPONENT),
        }),
        "acme": Raw(),
    }),
})

AUTH = Obj({
    "enabled": Bool(False),
    "token": Obj({
        "publicKeyFile": Str("my-public.key"),
        "privateKeyFile": Str("my-private.key"),
        "superUserRoles": List(Str(), default=["admin", "proxy", "superuser", "websocket"]),
        "proxyRoles": List(Str(), default=["proxy"]),
        "initialize": Bool(True),
    }),
})

RACK_HOST = Obj({
    "enabled": Bool(False),
    "requireRackAffinity": Bool(False),
    "requireRackAntiAffinity": Bool(True),
})
RACK_ZONE = Obj({
    "enabled": Bool(False),
    "requireRackAffinity": Bool(False),
    "requireRackAntiAffinity": Bool(True),
    "enableHostAntiAffinity": Bool(True),
    "requireRackHostAntiAffinity": Bool(True),
})
RACK = Obj({"host": RACK_HOST, "zone": RACK_ZONE})

GLOBAL = Obj({
    "name": Name(max_length=40),
    "clusterName": Str(),
    "components": Obj({
        "zookeeperBaseName": Name("zookeeper"),
        "bookkeeperBaseName": Name("bookkeeper"),
        "brokerBaseName": Name("broker"),
        "proxyBaseName": Name("proxy"),
        "autorecoveryBaseName": Name("autorecovery"),
        "bastionBaseName": Name("bastion"),
        "functionsWorkerBaseName": Name("function"),
    }),
    "dnsConfig": Raw({"options": [{"name": "ndots", "value": "4"}]}),
    "kubernetesClusterDomain": Str("cluster.local"),
    "dnsName": Str(),
    "nodeSelectors": Map(Str()),
    "tls": TLS,
    "persistence": Bool(True),
    "restartOnConfigMapChange": Bool(False),
    "auth": AUTH,
    "image": Str(DEFAULT_PULSAR_IMAGE),
    "imagePullPolicy": Str("IfNotPresent", enum=("Always", "IfNotPresent", "Never")),
    "storage": Obj({"existingStorageClassName": Str(), "storageClass": STORAGE_CLASS}),
    "antiAffinity": GLOBAL_ANTI_AFFINITY,
    "priorityClassName": Str(),
    "resourceSets": Map(Obj({"rack": Str()})),
    "racks": Map(RACK),
    "zookeeperPlainSslStorePassword": Bool(False),
    # ours: topology keys used by anti-affinity and racks (KAAP hard-codes them)
    "topologyKeys": Obj({"host": Str(HOST_TOPOLOGY_KEY), "zone": Str()}),
    # ours: "restricted" for krm-pulsar.io input, "kaap" for KAAP input (see with_defaults)
    "podSecurity": Str(enum=POD_SECURITY_MODES),
    # ours: NetworkPolicies (docs/security.md); metricsFrom: NetworkPolicyPeers (for example
    # the monitoring namespace) allowed to reach the metrics ports
    "networkPolicies": Obj({"enabled": Bool(False), "metricsFrom": Raw(shape="list")}),
})

OXIA = Obj({
    "enabled": Bool(False),
    "image": Str(DEFAULT_OXIA_IMAGE),
    "imagePullPolicy": Str(enum=("Always", "IfNotPresent", "Never")),
    "initialShardCount": Int(3, min=1),
    "replicationFactor": Int(3, min=1),
    "coordinator": Obj({
        "resources": Resources({"limits": {"cpu": "100m", "memory": "128Mi"}}),
    }),
    "server": Obj({
        "replicas": Int(3, min=1, max=MAX_REPLICAS),
        "resources": Resources({"limits": {"cpu": "1", "memory": "1Gi"}}),
        "dbCacheSizeMb": Int(512, min=1),
        "storage": _volume("data", "8Gi"),
        # ours: the pod securityContext of the Oxia servers, over OXIA_SECURITY_CONTEXT
        "securityContext": Raw(),
    }),
    # cluster metadata initialization against Oxia (runs the Pulsar image, like ZooKeeper's)
    "metadataInitializationJob": Obj({"timeout": Int(60, min=1),
                                      "resources": Resources(JOB_RESOURCES)}),
})

PATCH = Obj({
    "target": Obj({"kind": Str(), "name": Str(), "group": Str(), "version": Str()}),
    "patch": Raw(shape="list"),
})

SPEC = Obj({
    "global": GLOBAL,
    "zookeeper": ZOOKEEPER,
    "bookkeeper": BOOKKEEPER,
    "broker": BROKER,
    "proxy": PROXY,
    "autorecovery": AUTORECOVERY,
    "bastion": BASTION,
    "functionsWorker": FUNCTIONS_WORKER,
    "oxia": OXIA,  # ours
    "patches": List(PATCH),  # ours
})

# Components that have resource sets, with the literal default set name (KAAP §3.1).
SET_COMPONENTS = {"bookkeeper": BOOKKEEPER_SET, "broker": BROKER_SET, "proxy": PROXY_SET}

# --- derived defaults ---------------------------------------------------------------------------

# Every component section, in the order KAAP gates their rollout (metadata store, bookies,
# brokers, the rest, functions worker last).
COMPONENTS = ("zookeeper", "bookkeeper", "broker", "proxy", "autorecovery", "bastion",
              "functionsWorker")

# The data volumes of each component (paths inside its spec), for the storage defaults (KAAP §9.2).
_VOLUMES = {
    "zookeeper": ("dataVolume",),
    "bookkeeper": ("volumes.journal", "volumes.ledgers"),
    "functionsWorker": ("logsVolume",),
}


def with_defaults(spec: dict | None, metadata: dict, api_version: str) -> dict:
    """The defaulted spec: schema defaults, then the values KAAP derives from other fields.

    ``spec`` must have passed ``SPEC.validate`` already.
    """
    resolved = SPEC.with_defaults(spec or {})
    glob = resolved["global"]
    if not glob["name"]:
        glob["name"] = metadata.get("name")
    if not glob["clusterName"]:
        glob["clusterName"] = glob["name"]
    if not glob["podSecurity"]:
        glob["podSecurity"] = "kaap" if api_version == KAAP_API_VERSION else "restricted"
    if not glob["topologyKeys"]["zone"]:
        glob["topologyKeys"]["zone"] = (
            KAAP_ZONE_TOPOLOGY_KEY if api_version == KAAP_API_VERSION else ZONE_TOPOLOGY_KEY
        )
    # KAAP §7.4: each rack is merged with the rack defaults field by field
    glob["racks"] = {name: RACK.with_defaults(rack) for name, rack in (glob["racks"] or {}).items()}
    storage = glob["storage"]
    if not storage["existingStorageClassName"] and not storage["storageClass"]:
        storage["existingStorageClassName"] = "default"

    for name in COMPONENTS:
        component = resolved[name]
        component_defaults(component, glob)
        for path in _VOLUMES.get(name, ()):
            volume = component
            for part in path.split("."):
                volume = volume[part]
            volume_defaults(volume, glob)

    # KAAP §1.3: cross-component adjustments
    if resolved["bastion"]["targetProxy"] is None:
        resolved["bastion"]["targetProxy"] = resolved["proxy"]["replicas"] > 0
    if resolved["functionsWorker"]["replicas"] > 0:
        resolved["proxy"]["standaloneFunctionsWorker"] = True
    elif resolved["proxy"]["standaloneFunctionsWorker"] is None:
        resolved["proxy"]["standaloneFunctionsWorker"] = False

    api_version_defaults(resolved, api_version == KAAP_API_VERSION)

    oxia = resolved["oxia"]
    if not oxia["imagePullPolicy"]:
        oxia["imagePullPolicy"] = glob["imagePullPolicy"]
    volume_defaults(oxia["server"]["storage"], glob)
    package_storage_defaults(resolved["broker"], glob)
    tls_defaults(glob)
    return resolved


def api_version_defaults(resolved: dict, kaap: bool) -> None:
    """Defaults that differ by API version. KAAP input keeps KAAP's pod templates (a cluster
    leaving the operator must not roll): no startup probes, no websocket probes unless asked,
    broker liveness through the health check. Our API version gets what runs safely: startup
    probes for the components whose start can take long, websocket probes, and a broker
    liveness probe that does not depend on BookKeeper. A value the user wrote always wins; a
    resource set inherits the component's resolved value."""
    for component in ("zookeeper", "bookkeeper", "broker"):
        startup = resolved[component]["probes"]["startup"]
        if startup["enabled"] is None:
            startup["enabled"] = not kaap
    for kind in ("liveness", "readiness"):
        probe = resolved["proxy"]["webSocket"]["probes"][kind]
        if probe["enabled"] is None:
            probe["enabled"] = not kaap
    probes = resolved["broker"]["probes"]
    if probes["useHealthCheckForLiveness"] is None:
        probes["useHealthCheckForLiveness"] = kaap


TLS_SECTIONS = ("zookeeper", "bookkeeper", "autorecovery", "broker", "proxy", "functionsWorker")


def tls_defaults(glob: dict) -> None:
    """TLS values derived from other fields (KAAP ``getTlsSecretNameFor*``, §6.6).

    * every component's ``secretName`` falls back to ``defaultSecretName``;
    * a broker/proxy resource set's entry takes each unset field from the component's entry
      (KAAP replaces the whole entry; ours merges, so ``{enabled: true}`` keeps the component's
      secret);
    * the self-signed CA's Secret is ``ssCa.secretName``, else ``selfSigned.caSecretName``,
      else ``<global.name>-ss-ca`` (KAAP);
    * the functions worker talks TLS to the brokers when they have TLS, unless
      ``functionsWorker.enabledWithBroker`` says otherwise (ours; KAAP's default is off).
    """
    tls = glob["tls"]
    for section in TLS_SECTIONS:
        entry = tls[section]
        if not entry.get("secretName"):
            entry["secretName"] = tls["defaultSecretName"]
    for sets_key, section in (("brokerResourceSets", "broker"), ("proxyResourceSets", "proxy")):
        tls[sets_key] = {
            name: {key: ((entry or {}).get(key) if (entry or {}).get(key) is not None
                         else tls[section].get(key))
                   for key in tls[section]}
            for name, entry in (tls[sets_key] or {}).items()}
    self_signed = tls["certProvisioner"]["selfSigned"]
    if not tls["ssCa"].get("secretName"):
        tls["ssCa"]["secretName"] = (self_signed.get("caSecretName")
                                     or f"{glob['name']}-ss-ca")
    worker = tls["functionsWorker"]
    if worker.get("enabled") is None:
        worker["enabled"] = False
    if worker.get("enabledWithBroker") is None:
        worker["enabledWithBroker"] = bool(tls["broker"]["enabled"])


def component_defaults(component: dict, glob: dict) -> None:
    """Values a component takes from ``spec.global`` (KAAP's ``applyDefaults(global)``)."""
    if not component.get("image"):
        component["image"] = glob["image"]
    if not component.get("imagePullPolicy"):
        component["imagePullPolicy"] = glob["imagePullPolicy"]
    # global node selectors sit under the component's own (component keys win)
    component["nodeSelectors"] = {**(glob["nodeSelectors"] or {}),
                                  **(component.get("nodeSelectors") or {})}
    if component.get("dnsConfig") is None:
        component["dnsConfig"] = glob["dnsConfig"]
    if component.get("priorityClassName") is None:
        component["priorityClassName"] = glob["priorityClassName"]
    if "pdb" in component:
        pdb_defaults(component["pdb"])


def pdb_defaults(pdb: dict) -> None:
    """KAAP: a user's minAvailable clears the default maxUnavailable; never emit both."""
    if pdb.get("minAvailable") is not None:
        pdb["maxUnavailable"] = None


def package_storage_defaults(broker: dict, glob: dict) -> None:
    """Broker package storage: the claim to mount and the claim to render (Helm chart PR #697).

    ``claimName`` alone names a pre-created claim (nothing rendered); otherwise the claim is
    rendered from PACKAGE_STORAGE_CLAIM with the user's ``persistentVolumeClaim`` deep-merged over
    it, named ``<global.name>-<broker base name>-package-storage`` unless named. ``{}`` renders
    nothing. Brokers get PACKAGE_STORAGE_SECURITY_CONTEXT unless they have a securityContext
    (``{}`` included); without file storage their pod template stays KAAP's.
    """
    management = broker["packageManagement"]
    files = management["fileSystemStorage"]
    claim = files["persistentVolumeClaim"]
    if claim is None:
        claim = {} if files["claimName"] else copy.deepcopy(PACKAGE_STORAGE_CLAIM)
    elif claim:
        claim = deep_merge(copy.deepcopy(PACKAGE_STORAGE_CLAIM), copy.deepcopy(claim))
    if not files["claimName"]:
        files["claimName"] = ((claim.get("metadata") or {}).get("name")
                              or f"{glob['name']}-{glob['components']['brokerBaseName']}"
                                 f"{PACKAGE_STORAGE_CLAIM_SUFFIX}")
    if claim:
        metadata = claim.get("metadata")
        claim["metadata"] = dict(metadata) if isinstance(metadata, dict) else {}
        claim["metadata"].setdefault("name", files["claimName"])
    files["persistentVolumeClaim"] = claim
    if management["enabled"] and files["enabled"] and broker["securityContext"] is None:
        broker["securityContext"] = copy.deepcopy(PACKAGE_STORAGE_SECURITY_CONTEXT)


def volume_defaults(volume: dict, glob: dict) -> None:
    """KAAP §9.2: a volume with no storage choice of its own takes the global one."""
    if not volume.get("existingStorageClassName") and not volume.get("storageClass"):
        storage = glob["storage"]
        if storage["existingStorageClassName"]:
            volume["existingStorageClassName"] = storage["existingStorageClassName"]
        else:
            volume["storageClass"] = dict(storage["storageClass"])
