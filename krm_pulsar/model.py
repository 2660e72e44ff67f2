"""The PulsarCluster spec: every field, its type and its default, in one place.

The layout is KAAP's (``spec.global``, ``spec.zookeeper``, ..., docs/kaap-parity.md#spec-layout),
so a ``kaap.oss.datastax.com/v1beta1`` PulsarCluster is accepted as it is. Fields that KAAP does
not have are marked "ours" in their ``doc``.

Nothing else in the code base declares a default: renderers read the resolved spec. Code
comments cite KAAP's and the Helm chart's behaviour by the anchors of docs/kaap-parity.md and
docs/helm-parity.md (``kaap-parity.md#q19`` is docs/kaap-parity.md, section Q19).
"""

from __future__ import annotations

import copy

from . import registry
from .schema import (
    Any,
    Bool,
    Field,
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

# the CRD group a `schema` command publishes (issue 15)
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

# The cluster DNS as most distributions run it (CoreDNS labelled k8s-app: kube-dns in
# kube-system), on the DNS port over UDP and TCP: the default egress rule of every pod when
# spec.global.networkPolicies.egress is on (docs/security.md#egress-lockdown).
NETWORK_POLICY_DNS = [{
    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}]

# Upper bound for replicas of one component or set: beyond it the input is a typo, not a plan.
MAX_REPLICAS = 1000

SET_UPDATE_STRATEGIES = ("RollingUpdate", "Parallel")

# Pod security (docs/security.md). "restricted": pods meet the Kubernetes "restricted" Pod
# Security Standard. "kaap": pod templates exactly as KAAP writes them, so a cluster migrating
# from the operator does not restart; the default for kaap.oss.datastax.com input.
# "baseline" (ours): our pods as in "restricted", the user's containers need meet only the
# baseline standard (checks/pod_security.py).
POD_SECURITY_MODES = ("restricted", "kaap", "baseline")
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
DEPLOYMENT_STRATEGY = {
    "type": "RollingUpdate",
    "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1},
}

# ours: requests of the one-shot Jobs (metadata, transactions) and of our init containers.
# Their JVMs get a small heap from it (jvm.py); Pulsar's defaults would reserve 2g heap and 4g
# direct memory for a task that needs a few MiB, which a LimitRange OOM-kills.
JOB_RESOURCES = {"requests": {"memory": "256Mi", "cpu": "100m"}}
INIT_CONTAINER_RESOURCES = {"requests": {"memory": "256Mi", "cpu": "100m"}}


def _requests(memory: str, cpu: str) -> dict:
    return {"requests": {"memory": memory, "cpu": cpu}}


def _probe(
    initial_delay: int,
    period: int,
    timeout: int,
    enabled: bool | None = True,
    failure_threshold: int | None = None,
    doc: str = "",
) -> Obj:
    """One probe's settings. ``enabled`` None: decided by the API version in with_defaults."""
    return Obj(
        {
            "enabled": Bool(enabled, doc="Whether the probe is rendered."),
            "timeoutSeconds": Int(
                timeout, min=1, doc="Seconds after which one probe attempt counts as failed."
            ),
            "initialDelaySeconds": Int(
                initial_delay,
                min=0,
                doc="Seconds after the container starts before the first probe.",
            ),
            "periodSeconds": Int(period, min=1, doc="Seconds between two probes."),
            "failureThreshold": Int(
                failure_threshold,
                min=1,
                doc=(
                    "Failed probes in a row after which the probe fails (Kubernetes default when "
                    "unset)."
                ),
            ),
            "successThreshold": Int(
                min=1,
                doc=(
                    "Successful probes in a row after which the probe succeeds again (Kubernetes "
                    "default when unset)."
                ),
            ),
            "terminationGracePeriodSeconds": Int(
                min=1,
                doc=(
                    "Grace period for a pod that fails this probe, overriding the pod's (Kubernetes"
                    " default when unset)."
                ),
            ),
        },
        doc=doc,
    )


def _probes(
    initial_delay: int,
    period: int,
    timeout: int,
    enabled: bool | None = True,
    doc: str = "",
    **extra: Field,
) -> Obj:
    return Obj(
        {
            "liveness": _probe(
                initial_delay,
                period,
                timeout,
                enabled,
                doc="The liveness probe: the kubelet restarts the container when it fails.",
            ),
            "readiness": _probe(
                initial_delay,
                period,
                timeout,
                enabled,
                doc="The readiness probe: the pod receives Service traffic only while it succeeds.",
            ),
            **extra,
        },
        doc=doc,
    )


def _startup_probe(
    initial_delay: int, period: int, timeout: int, window_seconds: int, doc: str = ""
) -> Obj:
    """ours: a startup probe that allows `window_seconds` for the first success (liveness and
    readiness start only after it). On by default for our API version only (with_defaults):
    a new probe is a pod template change, which KAAP input must not get."""
    return _probe(
        initial_delay,
        period,
        timeout,
        enabled=None,
        failure_threshold=max(window_seconds // period, 1),
        doc=doc,
    )


PDB = Obj(
    {
        "enabled": Bool(True, doc="Whether the PodDisruptionBudget is rendered."),
        "maxUnavailable": Any(
            1,
            doc=(
                "Pods that may be down at once during voluntary disruptions (a number or a "
                "percentage); cleared when minAvailable is given."
            ),
        ),
        "minAvailable": Any(
            doc=(
                "Pods that must stay up during voluntary disruptions (a number or a percentage); "
                "replaces maxUnavailable."
            )
        ),
    },
    doc="The component's PodDisruptionBudget (KAAP).",
)

ANTI_AFFINITY_RULE = Obj(
    {
        "enabled": Bool(
            doc="Whether pods of one component or set are kept apart on this topology level."
        ),
        "required": Bool(
            doc="Required (true) or preferred (false or unset) anti-affinity, as in KAAP."
        ),
    },
    default=None,
    doc="One anti-affinity rule (host or zone).",
)

# Component-level antiAffinity: no defaults (it replaces the global one as a whole,
# kaap-parity.md#anti-affinity).
ANTI_AFFINITY = Obj(
    {"host": ANTI_AFFINITY_RULE, "zone": ANTI_AFFINITY_RULE},
    default=None,
    doc="The component's pod anti-affinity; replaces spec.global.antiAffinity as a whole (KAAP).",
)

GLOBAL_ANTI_AFFINITY = Obj(
    {
        "host": Obj(
            {
                "enabled": Bool(True, doc="Whether the host rule applies."),
                "required": Bool(
                    True, doc="Required (true) or preferred (false) host anti-affinity."
                ),
            },
            doc="Keep the pods of one component or set on different nodes.",
        ),
        "zone": Obj(
            {
                "enabled": Bool(False, doc="Whether the zone rule applies."),
                "required": Bool(
                    doc="Required (true) or preferred (false or unset) zone anti-affinity."
                ),
            },
            doc="Keep the pods of one component or set in different zones.",
        ),
    },
    doc=(
        "The pod anti-affinity of every component and set without its own and without a rack "
        "(KAAP)."
    ),
)

# KAAP gives only a global storageClass reclaimPolicy Retain; a component's class gets none and
# Kubernetes then deletes the data with the claim (kaap-parity.md#q17). Ours: Retain wherever it is
# given.
STORAGE_CLASS = Obj(
    {
        "reclaimPolicy": Str(
            "Retain",
            enum=("Retain", "Delete"),
            doc=(
                "What happens to the data when its claim is deleted; Retain by default also for "
                "component classes (ours; KAAP only for the global one)."
            ),
        ),
        "provisioner": Str(
            doc="The CSI driver that provisions the volumes, for example ebs.csi.aws.com."
        ),
        "type": Str(doc="The provisioner's volume type parameter."),
        "fsType": Str(doc="The file system the provisioner creates on the volume."),
        "extraParams": Map(
            Str(), doc="Further provisioner parameters, added to the StorageClass as they are."
        ),
    },
    default=None,
    doc="A StorageClass krm-pulsar creates for this volume (KAAP).",
)


def _volume(name: str, size: str, doc: str = "") -> Obj:
    return Obj(
        {
            "name": Name(
                name,
                doc=(
                    "The volume's name: part of its claim template's name (<resource name>-<name>)."
                ),
            ),
            "size": Quantity(size, doc="The storage each replica's claim requests."),
            "existingStorageClassName": Str(
                doc=(
                    "A StorageClass that exists in the cluster; 'default' means the cluster's "
                    "default class (no storageClassName)."
                )
            ),
            "storageClass": STORAGE_CLASS,
        },
        doc=doc,
    )


def _service(
    type_: str | None = None,
    load_balancer: bool = False,
    extra: dict[str, Field] | None = None,
    doc: str = "",
) -> Obj:
    fields = {
        "annotations": Map(Str(), doc="Annotations of the component's Services only (KAAP)."),
        "additionalPorts": Raw(
            shape="list",
            kubernetes="core.v1.ServicePort",
            doc="Service ports added after the component's own (KAAP).",
        ),
        "type": Str(
            type_,
            enum=("ClusterIP", "NodePort", "LoadBalancer"),
            doc="The Service type (KAAP); headless Services accept only ClusterIP.",
        ),
    }
    if load_balancer:
        fields["loadBalancerIP"] = Str(doc="The load balancer address to request (KAAP).")
        fields["loadBalancerClass"] = Str(
            doc="The load balancer implementation to use, spec.loadBalancerClass (KAAP)."
        )
        fields["enablePlainTextWithTLS"] = Bool(
            False, doc="Also expose the plaintext ports when the proxy has TLS (KAAP)."
        )
    fields.update(extra or {})
    return Obj(fields, doc=doc)


ADDITIONAL_VOLUMES = Obj(
    {
        "volumes": Raw(
            shape="list",
            kubernetes="core.v1.Volume",
            doc="Pod volumes, added before the component's own.",
        ),
        "mounts": Raw(
            shape="list",
            kubernetes="core.v1.VolumeMount",
            doc="Volume mounts of the main container, added before the component's own.",
        ),
    },
    doc="Volumes and mounts of your own added to the pods (KAAP).",
)

# --- ours (issue 15): spreading, scraping, autoscaling ------------------------------------------

# Kubernetes TopologySpreadConstraints (docs/racks.md#topology-spread-constraints). An entry
# without labelSelector gets the set's own pod selector (placement/spread.py).
TOPOLOGY_SPREAD_DOC = (
    "ours: Kubernetes TopologySpreadConstraints of the pods; an entry without labelSelector "
    "selects the pods of its own set.")

# A Prometheus duration, the PodMonitor CRD's pattern (30s, 1m30s, 500ms; empty means unset).
# The model's patterns avoid look-arounds: a published schema's RE2 has none.
DURATION_PATTERN = (r"(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?"
                    r"(([0-9]+)s)?(([0-9]+)ms)?)\Z")
DURATION_DOC = "a Prometheus duration such as 30s or 1m"


def _pod_monitor(enabled: bool | None, doc: str) -> Obj:
    """PodMonitor settings (docs/monitoring.md): the global defaults, or a component's
    override whose unset fields come from spec.global.podMonitor (model.pod_monitor_defaults)."""
    inherit = "" if enabled is not None else "; spec.global.podMonitor's when unset"
    return Obj(
        {
            "enabled": Bool(enabled, doc=f"Whether the PodMonitor is rendered{inherit}."),
            "interval": Str(pattern=DURATION_PATTERN, pattern_doc=DURATION_DOC,
                            doc=f"How often Prometheus scrapes (Prometheus' default when unset)"
                                f"{inherit}."),
            "scrapeTimeout": Str(pattern=DURATION_PATTERN, pattern_doc=DURATION_DOC,
                                 doc=f"How long one scrape may take, at most the interval"
                                     f"{inherit}."),
            "labels": Labels(doc=(
                "Labels of the PodMonitor object, e.g. the one your Prometheus' "
                "podMonitorSelector matches" + ("; added over spec.global.podMonitor's."
                                                if enabled is None else "."))),
            "metricRelabelings": Raw(shape="list", doc=(
                "Prometheus relabel configs applied to the scraped samples (PodMonitor "
                f"metricRelabelings){inherit}.")),
        },
        doc=doc,
    )


GLOBAL_POD_MONITOR = _pod_monitor(False, (
    "ours: Prometheus operator PodMonitors, one per component, scraping the port and path "
    "each component serves metrics on (docs/monitoring.md); the defaults of every component."))
POD_MONITOR = _pod_monitor(None, (
    "ours: the component's PodMonitor; unset fields come from spec.global.podMonitor "
    "(docs/monitoring.md)."))

# autoscaling/v2 HorizontalPodAutoscaler of a broker or proxy set (docs/autoscaling.md)
HPA_DEFAULT_METRICS = [{"type": "Resource", "resource": {
    "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
HPA = Obj(
    {
        "enabled": Bool(False, doc=(
            "Whether a HorizontalPodAutoscaler scales the set; its workload then has no "
            "replicas field.")),
        "minReplicas": Int(min=1, max=MAX_REPLICAS, doc=(
            "The fewest pods the autoscaler keeps; the set's replicas when unset.")),
        "maxReplicas": Int(min=1, max=MAX_REPLICAS, doc=(
            "The most pods the autoscaler scales to; required when enabled.")),
        "metrics": Raw(HPA_DEFAULT_METRICS, shape="list", doc=(
            "autoscaling/v2 MetricSpecs the autoscaler scales by; 80 % average CPU "
            "utilization by default.")),
        "behavior": Raw(doc=(
            "autoscaling/v2 HorizontalPodAutoscalerBehavior: scale-up and scale-down policies "
            "and stabilization windows (Kubernetes defaults when unset).")),
    },
    doc=("ours: horizontal autoscaling of the set's pods by an autoscaling/v2 "
         "HorizontalPodAutoscaler (docs/autoscaling.md)."),
)


def hpa_min_replicas(set_spec: dict) -> int:
    """The autoscaler's minReplicas of a resource set: its own, else the set's replicas."""
    hpa = set_spec["hpa"]
    return hpa["minReplicas"] if hpa["minReplicas"] is not None else set_spec["replicas"]


def _component(
    replicas: int,
    resources: dict,
    probes: Obj,
    grace_period: int = 60,
    security_context: dict | None = None,
    **extra: Field,
) -> dict:
    """Fields every Pulsar component shares (KAAP's BaseComponentSpec plus the typed ones)."""
    return {
        "image": Str(doc="The container image; spec.global.image when unset (KAAP)."),
        "imagePullPolicy": Str(
            enum=("Always", "IfNotPresent", "Never"),
            doc="The image pull policy; spec.global.imagePullPolicy when unset (KAAP).",
        ),
        "replicas": Int(
            replicas,
            min=0,
            max=MAX_REPLICAS,
            doc="The number of pods; 0 renders nothing for the component or set (KAAP).",
        ),
        "resources": Resources(
            resources,
            doc=(
                "The main container's resource requests and limits; the JVM memory is sized from "
                "them (ours for our API version)."
            ),
        ),
        "probes": probes,
        "gracePeriod": Int(
            grace_period,
            min=0,
            doc="Seconds a pod gets to stop, its terminationGracePeriodSeconds (KAAP).",
        ),
        "pdb": PDB,
        "env": Raw(
            shape="list",
            kubernetes="core.v1.EnvVar",
            doc="Environment variables of the main container, before the component's own (KAAP).",
        ),
        "tolerations": Raw(
            shape="list", kubernetes="core.v1.Toleration", doc="Pod tolerations (KAAP)."
        ),
        "imagePullSecrets": Raw(
            shape="list",
            kubernetes="core.v1.LocalObjectReference",
            doc="Secrets to pull the image with (KAAP).",
        ),
        "sidecars": Raw(
            shape="list",
            kubernetes="core.v1.Container",
            doc="Containers of your own, placed before the main container (KAAP).",
        ),
        "initContainers": Raw(
            shape="list",
            kubernetes="core.v1.Container",
            doc="Init containers of your own, run before the component's own (KAAP).",
        ),
        "additionalVolumes": ADDITIONAL_VOLUMES,
        "serviceAccountName": Str(doc="The ServiceAccount the pods run as (KAAP)."),
        "securityContext": Raw(
            security_context,
            kubernetes="core.v1.PodSecurityContext",
            doc=(
                "The pod securityContext, over the restricted defaults in podSecurity restricted "
                "(KAAP's field)."
            ),
        ),
        "nodeSelectors": Map(
            Str(), doc="Node labels the pods must run on, over spec.global.nodeSelectors (KAAP)."
        ),
        "nodeAffinity": Raw(
            kubernetes="core.v1.NodeAffinity",
            doc="A Kubernetes NodeAffinity added to the pods' affinity (KAAP).",
        ),
        "antiAffinity": ANTI_AFFINITY,
        "annotations": Map(
            Str(), doc="Annotations of the component's objects other than Services (KAAP)."
        ),
        "podAnnotations": Map(Str(), doc="Annotations of the pods (KAAP)."),
        "labels": Labels(
            doc=(
                "Labels of the component's objects, after KAAP's app, component and cluster labels "
                "(KAAP)."
            )
        ),
        "podLabels": Labels(
            doc="Labels of the pods (KAAP); a value may not contradict the selector."
        ),
        "matchLabels": Labels(
            doc=(
                "Labels added to the selectors, and (ours) to the pods; a blank value removes a "
                "base label (KAAP)."
            )
        ),
        "config": Map(
            doc=(
                "Configuration keys of the component, over its defaults; keys not starting with "
                "PULSAR_ or BOOKIE_ become PULSAR_PREFIX_<key> (KAAP)."
            )
        ),
        # ours: KAAP only has these globally; a component value overrides the global one
        "dnsConfig": Raw(
            kubernetes="core.v1.PodDNSConfig",
            doc=(
                "The pods' dnsConfig; spec.global.dnsConfig when unset (ours: KAAP has only the "
                "global one)."
            )
        ),
        "priorityClassName": Str(
            doc=(
                "The pods' PriorityClass; spec.global.priorityClassName when unset (ours: KAAP has "
                "only the global one)."
            )
        ),
        # ours: spec.global.topologySpreadConstraints when unset (model.component_defaults)
        "topologySpreadConstraints": Raw(
            shape="list", kubernetes="core.v1.TopologySpreadConstraint",
            doc=f"{TOPOLOGY_SPREAD_DOC[:-1]}; spec.global.topologySpreadConstraints when unset.",
        ),
        **extra,
    }


AUTOSCALER_BK = Obj(
    {
        "enabled": Bool(
            False, doc="Whether KAAP's operator would scale the bookies (a warning here)."
        ),
        "periodMs": Int(10000, min=1000, doc="KAAP: milliseconds between two autoscaler checks."),
        "minWritableBookies": Int(
            3, min=1, doc="KAAP: writable bookies the autoscaler keeps at least."
        ),
        "scaleUpBy": Int(1, min=1, doc="KAAP: bookies added per scale-up."),
        "scaleDownBy": Int(1, min=1, doc="KAAP: bookies removed per scale-down."),
        "scaleUpMaxLimit": Int(
            30, min=1, doc="KAAP: the most bookies the autoscaler scales up to."
        ),
        "stabilizationWindowMs": Int(
            300000,
            min=1,
            doc="KAAP: milliseconds a scaling decision must hold before it is applied.",
        ),
        "diskUsageToleranceHwm": Number(
            0.92, min=0, max=1, doc="KAAP: disk usage share above which bookies are added."
        ),
        "diskUsageToleranceLwm": Number(
            0.75, min=0, max=1, doc="KAAP: disk usage share below which bookies may be removed."
        ),
    },
    doc=(
        "KAAP's bookie autoscaler, which needs KAAP's operator: krm-pulsar warns and renders the "
        "static replicas."
    ),
)

AUTOSCALER_BROKER = Obj(
    {
        "enabled": Bool(
            False, doc="Whether KAAP's operator would scale the brokers (a warning here)."
        ),
        "resourcesUsageSource": Str(
            "PulsarLBReport", doc="KAAP: where the autoscaler reads broker load from."
        ),
        "periodMs": Int(60000, min=1000, doc="KAAP: milliseconds between two autoscaler checks."),
        "min": Int(1, min=1, doc="KAAP: the fewest brokers."),
        "max": Int(min=1, doc="KAAP: the most brokers."),
        "lowerCpuThreshold": Number(
            0.3, min=0, max=1, doc="KAAP: CPU share below which brokers may be removed."
        ),
        "higherCpuThreshold": Number(
            0.8, min=0, max=1, doc="KAAP: CPU share above which brokers are added."
        ),
        "scaleUpBy": Int(1, min=1, doc="KAAP: brokers added per scale-up."),
        "scaleDownBy": Int(1, min=1, doc="KAAP: brokers removed per scale-down."),
        "stabilizationWindowMs": Int(
            300000,
            min=1,
            doc="KAAP: milliseconds a scaling decision must hold before it is applied.",
        ),
    },
    doc=(
        "KAAP's broker autoscaler, which needs KAAP's operator: krm-pulsar warns and renders the "
        "static replicas."
    ),
)

KAFKA = Obj(
    {
        "enabled": Bool(
            False,
            doc=(
                "Whether the Kafka protocol handler (brokers) or proxy extension (proxies) is "
                "configured."
            ),
        ),
        "exposePorts": Bool(
            True, doc="Whether the Kafka listener and schema registry ports are on the Service."
        ),
    },
    doc=(
        "Kafka-on-Pulsar (KoP), as KAAP configures it; the image must contain the protocol handler."
    ),
)

# --- components ---------------------------------------------------------------------------------

ZOOKEEPER = Obj(
    {
        **_component(
            replicas=3,
            resources=_requests("1Gi", "0.3"),
            # ours: loading a large snapshot and transaction log takes minutes
            probes=_probes(
                20,
                30,
                30,
                startup=_startup_probe(
                    20,
                    10,
                    10,
                    900,
                    doc=(
                        "ours: a startup probe that gives ZooKeeper 15 minutes to load its data; on"
                        " by default for our API version only."
                    ),
                ),
                doc="ZooKeeper's probes: ruok through bin/pulsar-zookeeper-ruok.sh (KAAP).",
            ),
            security_context={"fsGroup": 0},
        ),
        "podManagementPolicy": Str(
            "Parallel",
            enum=("Parallel", "OrderedReady"),
            doc="The StatefulSet's podManagementPolicy (KAAP).",
        ),
        "updateStrategy": Raw(
            {"type": "RollingUpdate"},
            kubernetes="apps.v1.StatefulSetUpdateStrategy",
            doc="The StatefulSet's updateStrategy (KAAP).",
        ),
        "dataVolume": _volume(
            "data", "5Gi", doc="ZooKeeper's data volume, mounted at /pulsar/data (KAAP)."
        ),
        "service": _service(doc="ZooKeeper's Services (headless R and client R-ca; KAAP)."),
        "metadataInitializationJob": Obj(
            {
                "timeout": Int(
                    60,
                    min=1,
                    doc="Seconds each attempt of the Job may take; ours retries until it succeeds.",
                ),
                "resources": Resources(
                    JOB_RESOURCES,
                    doc="The Job container's resources (ours; its JVM heap is sized from them).",
                ),
            },
            doc="The Job that initializes the cluster metadata in ZooKeeper (KAAP).",
        ),
        "podMonitor": POD_MONITOR,  # ours
    },
    doc="ZooKeeper, the metadata store unless Oxia is enabled (KAAP).",
)

BOOKKEEPER_SET = Obj(
    _component(
        replicas=3,
        resources=_requests("2Gi", "1"),
        # ours: a bookie replaying a large journal after a crash answers nothing for many minutes
        probes=_probes(
            10,
            30,
            5,
            startup=_startup_probe(
                10,
                10,
                5,
                1800,
                doc=(
                    "ours: a startup probe that gives a bookie 30 minutes to replay its journal; on"
                    " by default for our API version only."
                ),
            ),
            doc="The bookies' probes on the bookie HTTP API (KAAP).",
        ),
        security_context={"fsGroup": 0},
        podManagementPolicy=Str(
            "Parallel",
            enum=("Parallel", "OrderedReady"),
            doc="The StatefulSet's podManagementPolicy (KAAP).",
        ),
        updateStrategy=Raw(
            {"type": "RollingUpdate"},
            kubernetes="apps.v1.StatefulSetUpdateStrategy",
            doc="The StatefulSet's updateStrategy (KAAP).",
        ),
        volumes=Obj(
            {
                "journal": _volume(
                    "journal",
                    "20Gi",
                    doc="The journal volume, mounted at /pulsar/data/bookkeeper/journal (KAAP).",
                ),
                "ledgers": _volume(
                    "ledgers",
                    "50Gi",
                    doc="The ledgers volume, mounted at /pulsar/data/bookkeeper/ledgers (KAAP).",
                ),
            },
            doc="The bookies' journal and ledgers volumes (KAAP).",
        ),
        pvcPrefix=Str(doc="A prefix of the claim template names (KAAP)."),
        service=_service(doc="The bookies' headless Service (KAAP)."),
        autoscaler=AUTOSCALER_BK,
        overrideResourceName=Name(
            doc="The name of the set's objects instead of <global.name>-<base name>[-<set>] (KAAP)."
        ),
        cleanUpPvcs=Bool(
            True,
            doc=(
                "KAAP's operator deletes the claims of removed bookies; no static equivalent, "
                "accepted for KAAP input."
            ),
        ),
    ),
    doc="A bookie resource set: the bookie fields, merged over spec.bookkeeper (KAAP).",
)

BOOKKEEPER = Obj(
    {
        **BOOKKEEPER_SET.fields,
        "sets": Map(
            BOOKKEEPER_SET,
            doc="Bookie resource sets by name, each declared in spec.global.resourceSets (KAAP).",
        ),
        "podMonitor": POD_MONITOR,  # ours
        "setsUpdateStrategy": Str(
            "RollingUpdate",
            enum=SET_UPDATE_STRATEGIES,
            doc=(
                "RollingUpdate rolls one set at a time (one Argo CD sync wave per set), Parallel "
                "all at once (KAAP)."
            ),
        ),
        "autoRackConfig": Obj(
            {
                "enabled": Bool(True, doc="Whether the rack registration Job is rendered."),
                "periodMs": Int(
                    60000,
                    min=1000,
                    doc=(
                        "KAAP's sync period; no effect here, the Job runs when the bookie layout "
                        "changes."
                    ),
                ),
                "additionalZookeeperClientConfig": Map(
                    doc=(
                        "KAAP's ZooKeeper client settings for the sync; no effect here, the Job "
                        "registers through the brokers."
                    )
                ),
            },
            doc=(
                "Registering the bookies of racked sets in the metadata store's rack map (KAAP; "
                "ours through a Job)."
            ),
        ),
    },
    doc="The bookies (KAAP).",
)

BROKER_SET = Obj(
    _component(
        replicas=3,
        resources=_requests("2Gi", "1"),
        # liveness without the health check for our API version (with_defaults): the health check
        # is a produce/consume round trip through BookKeeper, and a slow BookKeeper must not get
        # every broker restarted
        probes=_probes(
            10,
            30,
            5,
            startup=_startup_probe(
                10,
                10,
                5,
                300,
                doc=(
                    "ours: a startup probe that gives a broker 5 minutes to start; on by default "
                    "for our API version only."
                ),
            ),
            useHealthCheckForLiveness=Bool(
                doc=(
                    "Whether liveness calls the broker health check (a produce/consume round trip);"
                    " KAAP's default for KAAP input, off for ours."
                )
            ),
            useHealthCheckForReadiness=Bool(
                True,
                doc="Whether readiness calls the broker health check instead of /metrics/ (KAAP).",
            ),
            doc="The brokers' probes (KAAP).",
        ),
        podManagementPolicy=Str(
            enum=("Parallel", "OrderedReady"), doc="The StatefulSet's podManagementPolicy (KAAP)."
        ),
        updateStrategy=Raw(
            kubernetes="apps.v1.StatefulSetUpdateStrategy",
            doc="The StatefulSet's updateStrategy (KAAP).",
        ),
        service=_service(
            "ClusterIP", doc="The brokers' headless Service (KAAP); type ClusterIP only."
        ),
        functionsWorkerEnabled=Bool(
            False, doc="Run the functions worker inside the brokers (KAAP)."
        ),
        transactions=Obj(
            {
                "enabled": Bool(
                    False,
                    doc=(
                        "Whether the transaction coordinator is enabled and its metadata Job "
                        "rendered."
                    ),
                ),
                "partitions": Int(
                    16, min=1, doc="The number of transaction coordinators the Job initializes."
                ),
                "initJob": Obj(
                    {
                        "timeout": Int(
                            60,
                            min=1,
                            doc=(
                                "Seconds each attempt of the Job may take; ours retries until it "
                                "succeeds."
                            ),
                        ),
                        "resources": Resources(
                            JOB_RESOURCES,
                            doc=(
                                "The Job container's resources (ours; its JVM heap is sized from "
                                "them)."
                            ),
                        ),
                    },
                    doc="The transaction coordinator metadata Job (KAAP).",
                ),
            },
            doc="Pulsar transactions (KAAP).",
        ),
        kafka=KAFKA,
        autoscaler=AUTOSCALER_BROKER,
        hpa=HPA,  # ours
        overrideResourceName=Name(
            doc="The name of the set's objects instead of <global.name>-<base name>[-<set>] (KAAP)."
        ),
    ),
    doc="A broker resource set: the broker fields, merged over spec.broker (KAAP).",
)

# ours (Helm chart PR #697): the Packages Management Service on the brokers, optionally with
# FileSystemPackagesStorage on a claim mounted by every broker pod of every set. Cluster-wide,
# so it lives on spec.broker only, not on a set.
PACKAGE_STORAGE_PATH = "/pulsar/packages-storage"
# The claim we render when the user names no pre-created one (persistentVolumeClaim deep-merges
# over it). ReadWriteOnce fits one broker; several need ReadWriteMany (checked in storage.py).
PACKAGE_STORAGE_CLAIM = {
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
}
PACKAGE_STORAGE_CLAIM_SUFFIX = "-package-storage"
# The Pulsar image runs as uid 10000, gid 0: group 0 must be able to write the package volume.
PACKAGE_STORAGE_SECURITY_CONTEXT = {"fsGroup": 0, "fsGroupChangePolicy": "OnRootMismatch"}

PACKAGE_MANAGEMENT = Obj(
    {
        "enabled": Bool(False, doc="Whether the brokers run the Packages Management Service."),
        "fileSystemStorage": Obj(
            {
                "enabled": Bool(
                    False,
                    doc="Whether packages are stored on the shared volume instead of BookKeeper.",
                ),
                "storagePath": Str(
                    PACKAGE_STORAGE_PATH,
                    doc="Where the volume is mounted in the brokers, also STORAGE_PATH.",
                ),
                "claimName": Str(
                    pattern=r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?\Z",
                    pattern_doc="a valid claim name (lower-case letters, digits, '-' and '.')",
                    doc="The claim the brokers mount; alone it names a claim you created.",
                ),
                "storageClass": Raw(
                    kubernetes="storage.v1.StorageClass",
                    doc="A StorageClass object to render for the claim.",
                ),
                "persistentVolume": Raw(
                    kubernetes="core.v1.PersistentVolume",
                    doc="A PersistentVolume object to render for the claim.",
                ),
                "persistentVolumeClaim": Raw(
                    kubernetes="core.v1.PersistentVolumeClaim",
                    doc=(
                        "The claim to render, merged over a 10Gi ReadWriteOnce claim; {} renders "
                        "none."
                    )
                ),
            },
            doc=(
                "FileSystemPackagesStorage on a volume every broker mounts (needed for functions on"
                " Oxia)."
            ),
        ),
    },
    doc="ours: the brokers' Packages Management Service (Helm chart PR #697).",
)

BROKER = Obj(
    {
        **BROKER_SET.fields,
        "packageManagement": PACKAGE_MANAGEMENT,  # ours
        "podMonitor": POD_MONITOR,  # ours
        "sets": Map(
            BROKER_SET,
            doc="Broker resource sets by name, each declared in spec.global.resourceSets (KAAP).",
        ),
        "setsUpdateStrategy": Str(
            "RollingUpdate",
            enum=SET_UPDATE_STRATEGIES,
            doc=(
                "RollingUpdate rolls one set at a time (one Argo CD sync wave per set), Parallel "
                "all at once (KAAP)."
            ),
        ),
    },
    doc="The brokers (KAAP).",
)

PROXY_SET = Obj(
    _component(
        replicas=3,
        resources=_requests("1Gi", "1"),
        probes=_probes(10, 30, 5, doc="The proxies' probes on /metrics/ (KAAP)."),
        updateStrategy=Raw(
            DEPLOYMENT_STRATEGY,
            kubernetes="apps.v1.DeploymentStrategy",
            doc=(
                "The Deployment's strategy; ours allows one unavailable pod so rollouts always "
                "progress."
            ),
        ),
        service=_service(
            "LoadBalancer",
            load_balancer=True,
            doc="The proxies' Service, a LoadBalancer by default (KAAP).",
        ),
        webSocket=Obj(
            {
                "enabled": Bool(
                    True, doc="Whether the websocket container and its ConfigMap R-ws are rendered."
                ),
                "resources": Resources(
                    _requests("1Gi", "1"), doc="The websocket container's resources."
                ),
                # KAAP renders no websocket probes unless asked; ours probe by default
                # (with_defaults)
                "probes": _probes(
                    10,
                    30,
                    5,
                    enabled=None,
                    doc=(
                        "The websocket container's probes; KAAP renders none unless asked, ours "
                        "probe /status.html by default."
                    ),
                ),
                "config": Map(
                    doc="Configuration keys of the websocket service, over its defaults (KAAP)."
                ),
            },
            doc="The websocket service, a second container in each proxy pod (KAAP).",
        ),
        kafka=KAFKA,
        hpa=HPA,  # ours
        standaloneFunctionsWorker=Bool(
            doc=(
                "Whether the proxies forward functions calls to the standalone worker; set when it "
                "has replicas (KAAP)."
            )
        ),
        overrideResourceName=Name(
            doc="The name of the set's objects instead of <global.name>-<base name>[-<set>] (KAAP)."
        ),
    ),
    doc="A proxy resource set: the proxy fields, merged over spec.proxy (KAAP).",
)

PROXY = Obj(
    {
        **PROXY_SET.fields,
        "sets": Map(
            PROXY_SET,
            doc="Proxy resource sets by name, each declared in spec.global.resourceSets (KAAP).",
        ),
        "podMonitor": POD_MONITOR,  # ours
        "setsUpdateStrategy": Str(
            "RollingUpdate",
            enum=SET_UPDATE_STRATEGIES,
            doc=(
                "RollingUpdate rolls one set at a time (one Argo CD sync wave per set), Parallel "
                "all at once (KAAP)."
            ),
        ),
    },
    doc="The proxies, the cluster's front door (KAAP).",
)

# Autorecovery and bastion have no PDB, Service, volumes or sets (kaap-parity.md#spec-layout).
_NO_SERVICE_FIELDS = ("additionalVolumes", "pdb", "probes")

AUTORECOVERY = Obj(
    {
        key: field
        for key, field in _component(
            replicas=1,
            resources=_requests("512Mi", "0.3"),
            probes=_probes(10, 30, 5),
        ).items()
        if key not in _NO_SERVICE_FIELDS
    } | {"podMonitor": POD_MONITOR},  # ours
    doc="Autorecovery: the BookKeeper auditor and replication workers (KAAP).",
)

BASTION = Obj(
    {
        **{
            key: field
            for key, field in _component(
                replicas=1,
                resources=_requests("256Mi", "0.25"),
                probes=_probes(10, 30, 5),
            ).items()
            if key not in _NO_SERVICE_FIELDS
        },
        "targetProxy": Bool(
            doc=(
                "Whether the tools use the proxy (true) or the brokers; the proxy when it has "
                "replicas (KAAP)."
            )
        ),
    },
    doc="The bastion: a pod with the Pulsar CLI tools configured for this cluster (KAAP).",
)

FUNCTIONS_WORKER = Obj(
    _component(
        replicas=0,
        resources=_requests("4Gi", "1"),
        probes=_probes(10, 30, 5, doc="The worker's probes (KAAP)."),
        security_context={"fsGroup": 0},
        podManagementPolicy=Str(
            "Parallel",
            enum=("Parallel", "OrderedReady"),
            doc="The StatefulSet's podManagementPolicy (KAAP).",
        ),
        updateStrategy=Raw(
            {"type": "RollingUpdate"},
            kubernetes="apps.v1.StatefulSetUpdateStrategy",
            doc="The StatefulSet's updateStrategy (KAAP).",
        ),
        logsVolume=_volume(
            "logs", "5Gi", doc="The worker's logs volume, mounted at /pulsar/logs (KAAP)."
        ),
        runtime=Str(
            "process",
            enum=("process", "kubernetes"),
            doc=(
                "Where function instances run: process (in the worker pod) or kubernetes (pods of "
                "their own; KAAP)."
            ),
        ),
        service=_service("ClusterIP", doc="The worker's Services (R-ca and headless R; KAAP)."),
        rbac=Obj(
            {
                "create": Bool(
                    True, doc="Whether the ServiceAccount, Role and RoleBinding are rendered."
                ),
                "namespaced": Bool(
                    True, doc="Role and RoleBinding (true) or ClusterRole and ClusterRoleBinding."
                ),
            },
            doc="The ServiceAccount, Role and RoleBinding the kubernetes runtime needs (KAAP).",
        ),
        podMonitor=POD_MONITOR,  # ours
    ),
    doc="The standalone functions worker, rendered with replicas above 0 (KAAP).",
)

# --- global ---------------------------------------------------------------------------------------

TLS_COMPONENT = Obj(
    {
        "enabled": Bool(False, doc="Whether the component serves TLS."),
        "secretName": Str(
            doc=(
                "The Secret with tls.crt, tls.key and ca.crt mounted at /pulsar/certs; "
                "defaultSecretName when unset (KAAP)."
            )
        ),
    },
    doc="The TLS entry of one component (KAAP).",
)
TLS_PROXY = Obj(
    {
        "enabled": Bool(False, doc="Whether the proxies serve TLS."),
        "enabledWithBroker": Bool(
            False, doc="Whether the proxies dial the brokers over TLS (needs broker TLS)."
        ),
        "secretName": Str(doc="The proxies' Secret; defaultSecretName when unset (KAAP)."),
    },
    doc="The proxies' TLS entry (KAAP).",
)
# A resource set's entry: unset fields come from the component's entry (tls_defaults).
TLS_SET = Obj(
    {
        "enabled": Bool(doc="Whether the set's brokers serve TLS."),
        "secretName": Str(doc="The set's Secret."),
    },
    doc=(
        "A broker set's TLS entry; unset fields come from tls.broker (ours: KAAP replaces the whole"
        " entry)."
    ),
)
TLS_PROXY_SET = Obj(
    {
        "enabled": Bool(doc="Whether the set's proxies serve TLS."),
        "enabledWithBroker": Bool(doc="Whether the set's proxies dial the brokers over TLS."),
        "secretName": Str(doc="The set's Secret."),
    },
    doc=(
        "A proxy set's TLS entry; unset fields come from tls.proxy (ours: KAAP replaces the whole "
        "entry)."
    ),
)
CERT_KEY = Obj(
    {
        "rotationPolicy": Str(
            enum=("Never", "Always"),
            doc="Never or Always: whether a renewed certificate gets a new key.",
        ),
        "encoding": Str(
            enum=("PKCS1", "PKCS8"), doc="PKCS1 or PKCS8 encoding of the key in the Secret."
        ),
        "algorithm": Str(enum=("RSA", "ECDSA", "Ed25519"), doc="RSA, ECDSA or Ed25519."),
        "size": Int(min=1, doc="The key size in bits."),
    },
    default=None,
    doc="The private key of cert-manager certificates (cert-manager's privateKey).",
)
# ours: `generate` defaults to true (KAAP generates nothing for a component without it)
CERT_COMPONENT = Obj(
    {
        "generate": Bool(
            True,
            doc=(
                "Whether a Certificate is rendered for the component's Secret (ours: true by "
                "default)."
            ),
        ),
        "privateKey": CERT_KEY,
        "dnsNames": List(Str(), doc="Further DNS names of the certificate."),
        "secretName": Str(
            doc=(
                "The Secret the component's certificate is written into with perComponent "
                "(KAAP); the pods mount tls.<component>.secretName."
            )
        ),
    },
    doc="The self-signed certificate of one component (KAAP).",
)

# KAAP's ACME provisioner (TlsConfig.AcmeCertProvisionerConfig; docs/tls.md#acme): an ACME
# Issuer and Certificates for the brokers' and proxies' public names.
ACME_CERT = Obj(
    {
        "generate": Bool(False, doc=(
            "Whether the ACME Certificate is rendered (KAAP: only when true).")),
        "privateKey": CERT_KEY,
        "dnsNames": List(Str(), doc=(
            "The public DNS names of the certificate; the ACME server must be able to verify "
            "each.")),
        "secretName": Str(doc=(
            "The certificate's Secret; tls.<component>.secretName when unset (KAAP), required "
            "for external entries.")),
    },
    doc="One ACME certificate (KAAP).",
)


def _acme_dns_provider(fields: dict[str, str], doc: str) -> Obj:
    return Obj({key: Str(doc=text) for key, text in fields.items()}, default=None, doc=doc)


ACME_SOLVER = Obj(
    {
        "http01": Obj(
            {"ingressClass": Str(doc="The ingress class cert-manager's challenge Ingress uses.")},
            default=None,
            doc="Answer HTTP-01 challenges through an Ingress (cert-manager's http01.ingress).",
        ),
        "dns01": Obj(
            {
                "route53": _acme_dns_provider(
                    {"region": "The AWS region of the Route 53 API.",
                     "hostedZoneId": "The hosted zone of the names."},
                    "Amazon Route 53 (cert-manager's dns01.route53)."),
                "cloudflare": _acme_dns_provider(
                    {"email": "The Cloudflare account's email.",
                     "apiTokenSecretName": "The Secret holding the Cloudflare API token.",
                     "apiTokenSecretKey": "The key of the API token in that Secret."},
                    "Cloudflare (cert-manager's dns01.cloudflare)."),
                "cloudDNS": _acme_dns_provider(
                    {"project": "The Google Cloud project of the zone.",
                     "serviceAccountSecretName": "The Secret holding the service account key.",
                     "serviceAccountSecretKey": "The key of the service account key in that "
                                                "Secret."},
                    "Google Cloud DNS (cert-manager's dns01.cloudDNS)."),
            },
            default=None,
            doc="Answer DNS-01 challenges through exactly one DNS provider.",
        ),
    },
    doc="One ACME challenge solver: exactly one of http01 and dns01 (KAAP).",
)
ACME = Obj(
    {
        "enabled": Bool(False, doc=(
            "Whether the ACME Issuer and Certificates are rendered (also needs tls.enabled).")),
        "privateKey": CERT_KEY,
        "issuer": Obj(
            {
                "name": Name(doc="The Issuer's name; <global.name>-acme-issuer when unset (ours)."),
                "server": Str(doc=(
                    "The ACME directory URL, e.g. Let's Encrypt's production or staging "
                    "directory; required.")),
                "email": Str(doc="The email the ACME account is registered with."),
                "privateKeySecretName": Str(doc=(
                    "The Secret cert-manager keeps the ACME account key in; "
                    "<issuer name>-account-key when unset (ours).")),
                "solvers": List(ACME_SOLVER, doc=(
                    "The challenge solvers, in order (KAAP: no domain-based routing); at least "
                    "one.")),
            },
            doc="The cert-manager ACME Issuer (KAAP).",
        ),
        "broker": ACME_CERT,
        "proxy": ACME_CERT,
        "external": Map(ACME_CERT, doc=(
            "Certificates for services of your own by service name (KAAP), each with "
            "secretName and dnsNames.")),
    },
    doc=("KAAP's ACME provisioner: a cert-manager ACME Issuer and Certificates for the "
         "brokers' and proxies' public names (docs/tls.md#acme)."),
)

TLS = Obj(
    {
        "enabled": Bool(
            False,
            doc=(
                "KAAP's deprecated switch; needed with certProvisioner.selfSigned, no component's "
                "TLS on by itself."
            ),
        ),
        "defaultSecretName": Str(
            "pulsar-tls", doc="The Secret of every component without its own secretName (KAAP)."
        ),
        "caPath": Str(
            "/etc/ssl/certs/ca-certificates.crt",
            doc="Where clients find the CA bundle when certificates are not self-signed (KAAP).",
        ),
        "zookeeper": TLS_COMPONENT,
        "bookkeeper": TLS_COMPONENT,
        "autorecovery": TLS_COMPONENT,
        "broker": TLS_COMPONENT,
        "proxy": TLS_PROXY,
        "functionsWorker": Obj(
            {
                "enabled": Bool(doc="Whether the worker serves TLS (its https port)."),
                "enabledWithBroker": Bool(
                    doc=(
                        "Whether the worker dials the brokers over TLS; on when the brokers have "
                        "TLS (ours; KAAP's default is off)."
                    )
                ),
                "secretName": Str(doc="The worker's Secret; defaultSecretName when unset (KAAP)."),
            },
            doc="The functions worker's TLS entry (KAAP).",
        ),
        "ssCa": TLS_COMPONENT,
        "brokerResourceSets": Map(
            TLS_SET, doc="TLS entries of broker resource sets by set name (KAAP)."
        ),
        "proxyResourceSets": Map(
            TLS_PROXY_SET, doc="TLS entries of proxy resource sets by set name (KAAP)."
        ),
        "certProvisioner": Obj(
            {
                "selfSigned": Obj(
                    {
                        "enabled": Bool(
                            False,
                            doc=(
                                "Whether the Issuers and Certificates are rendered (also needs "
                                "tls.enabled)."
                            ),
                        ),
                        "perComponent": Bool(
                            doc="One certificate per component rather than one shared (KAAP)."
                        ),
                        "includeDns": Bool(
                            doc="Add spec.global.dnsName to the front door's certificate (KAAP)."
                        ),
                        "caSecretName": Str(
                            doc=(
                                "The CA's Secret when tls.ssCa.secretName is unset; "
                                "<global.name>-ss-ca by default (KAAP)."
                            )
                        ),
                        "privateKey": CERT_KEY,
                        "zookeeper": CERT_COMPONENT,
                        "bookkeeper": CERT_COMPONENT,
                        "autorecovery": CERT_COMPONENT,
                        "broker": CERT_COMPONENT,
                        "proxy": CERT_COMPONENT,
                        "functionsWorker": CERT_COMPONENT,
                        "external": Map(
                            CERT_COMPONENT,
                            doc=(
                                "KAAP's certificates for external services; refused, not rendered "
                                "by this version."
                            ),
                        ),
                    },
                    doc=(
                        "cert-manager certificates from a self-signed CA, one per mounted Secret "
                        "(KAAP; ours names them after the Secret)."
                    ),
                ),
                "acme": ACME,
            },
            doc="Where certificates come from (KAAP).",
        ),
    },
    doc="TLS per component and set, and where the certificates come from (KAAP).",
)

AUTH = Obj(
    {
        "enabled": Bool(False, doc="Whether token authentication and authorization are on."),
        "token": Obj(
            {
                "publicKeyFile": Str(
                    "my-public.key",
                    doc="The key of the public key in the Secret token-public-key (KAAP).",
                ),
                "privateKeyFile": Str(
                    "my-private.key",
                    doc="The key of the private key in the Secret token-private-key (KAAP).",
                ),
                "superUserRoles": List(
                    Str(),
                    default=["admin", "proxy", "superuser", "websocket"],
                    doc="The superuser roles; each gets a token Secret token-<role> (KAAP).",
                ),
                "proxyRoles": List(
                    Str(), default=["proxy"], doc="The roles the proxies authenticate as (KAAP)."
                ),
                "initialize": Bool(
                    True,
                    doc=(
                        "Whether a Job creates the missing key and token Secrets in the cluster "
                        "(ours; KAAP's operator creates them)."
                    ),
                ),
            },
            doc="JWT token authentication (KAAP).",
        ),
    },
    doc="Authentication and authorization (KAAP).",
)

# ours: what a rack's zone.name and host.name may be (a label value, a node name)
LABEL_VALUE_PATTERN = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?\Z"
NODE_NAME_PATTERN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z"

RACK_HOST = Obj(
    {
        "enabled": Bool(
            False,
            doc="Whether the rack is a node: its pods share nodes and stay off other racks' nodes.",
        ),
        "requireRackAffinity": Bool(
            False, doc="Required (true) or preferred co-location of the rack's pods on one node."
        ),
        "requireRackAntiAffinity": Bool(
            True, doc="Required (true) or preferred separation from other racks' nodes."
        ),
        # ours: pins the rack to one node (placement/pinning.py, docs/racks.md#pinning)
        "name": Str(
            pattern=NODE_NAME_PATTERN, pattern_doc="a node name (a lower-case DNS subdomain)",
            doc=(
                "ours: the node the rack is: its pods get a required node affinity to the node "
                "of this name, in addition to the rules above."
            ),
        ),
    },
    doc="Placement of a rack's pods on nodes (KAAP).",
)
RACK_ZONE = Obj(
    {
        "enabled": Bool(
            False,
            doc=(
                "Whether the rack is a zone: its pods share a zone and stay out of other racks' "
                "zones."
            ),
        ),
        "requireRackAffinity": Bool(
            False, doc="Required (true) or preferred co-location of the rack's pods in one zone."
        ),
        "requireRackAntiAffinity": Bool(
            True, doc="Required (true) or preferred separation from other racks' zones."
        ),
        "enableHostAntiAffinity": Bool(
            True, doc="Whether the pods of one set in the rack also stay on different nodes."
        ),
        "requireRackHostAntiAffinity": Bool(
            True, doc="Required (true) or preferred host anti-affinity inside the zone."
        ),
        # ours: pins the rack to one zone (placement/pinning.py, docs/racks.md#pinning)
        "name": Str(
            pattern=LABEL_VALUE_PATTERN, pattern_doc="a label value (at most 63 characters)",
            doc=(
                "ours: the zone the rack is, a value of the zone label "
                "(spec.global.topologyKeys.zone): its pods get a required node affinity to it, "
                "in addition to the rules above."
            ),
        ),
    },
    doc="Placement of a rack's pods in zones (KAAP).",
)
RACK = Obj(
    {"host": RACK_HOST, "zone": RACK_ZONE}, doc="A rack: a failure domain, a node or a zone (KAAP)."
)

GLOBAL = Obj(
    {
        "name": Name(
            max_length=40,
            doc=(
                "The cluster's name, the prefix of every object name; metadata.name when unset "
                "(KAAP)."
            ),
        ),
        "clusterName": Str(
            doc="The Pulsar cluster name in the metadata store; global.name when unset (KAAP)."
        ),
        "components": Obj(
            {
                "zookeeperBaseName": Name("zookeeper", doc="ZooKeeper's base name (KAAP)."),
                "bookkeeperBaseName": Name("bookkeeper", doc="The bookies' base name (KAAP)."),
                "brokerBaseName": Name("broker", doc="The brokers' base name (KAAP)."),
                "proxyBaseName": Name("proxy", doc="The proxies' base name (KAAP)."),
                "autorecoveryBaseName": Name(
                    "autorecovery", doc="Autorecovery's base name (KAAP)."
                ),
                "bastionBaseName": Name("bastion", doc="The bastion's base name (KAAP)."),
                "functionsWorkerBaseName": Name(
                    "function", doc="The functions worker's base name (KAAP)."
                ),
            },
            doc="The base names of the components' objects (KAAP).",
        ),
        "dnsConfig": Raw(
            {"options": [{"name": "ndots", "value": "4"}]},
            kubernetes="core.v1.PodDNSConfig",
            doc="The pods' dnsConfig; ndots 4 by default (KAAP).",
        ),
        "kubernetesClusterDomain": Str(
            "cluster.local", doc="The cluster's DNS domain in fully qualified Service names (KAAP)."
        ),
        "dnsName": Str(
            doc=(
                "The cluster's public DNS name, added to the front door's self-signed certificate "
                "with includeDns (KAAP)."
            )
        ),
        "nodeSelectors": Map(
            Str(), doc="Node labels every pod must run on, under each component's own (KAAP)."
        ),
        "tls": TLS,
        "persistence": Bool(
            True, doc="Whether data volumes are claims (true) or emptyDir volumes (KAAP)."
        ),
        "restartOnConfigMapChange": Bool(
            False,
            doc=(
                "Whether pods carry checksums of their ConfigMaps, so a configuration change rolls "
                "them (KAAP)."
            ),
        ),
        "auth": AUTH,
        "image": Str(
            DEFAULT_PULSAR_IMAGE, doc="The Pulsar image of every component without its own (KAAP)."
        ),
        "imagePullPolicy": Str(
            "IfNotPresent",
            enum=("Always", "IfNotPresent", "Never"),
            doc="The image pull policy of every component without its own (KAAP).",
        ),
        "storage": Obj(
            {
                "existingStorageClassName": Str(
                    doc=(
                        "A StorageClass that exists in the cluster; 'default' (the default) means "
                        "the cluster's default class (KAAP)."
                    )
                ),
                "storageClass": STORAGE_CLASS,
            },
            doc="The storage choice of every volume without its own (KAAP).",
        ),
        "antiAffinity": GLOBAL_ANTI_AFFINITY,
        "priorityClassName": Str(doc="The PriorityClass of every pod without its own (KAAP)."),
        "resourceSets": Map(
            Obj(
                {"rack": Str(doc="The rack of spec.global.racks the set's pods are placed in.")},
                doc="A resource set declaration.",
            ),
            doc="The resource sets by name, each optionally mapped to a rack (KAAP).",
        ),
        # kaap-parity.md#racks: each rack is merged with the rack defaults field by field
        "racks": Map(RACK, value_defaults=True, doc="The racks by name (KAAP)."),
        "zookeeperPlainSslStorePassword": Bool(
            False, doc="Pass the ZooKeeper TLS store password in clear rather than by file (KAAP)."
        ),
        # ours: topology keys used by anti-affinity and racks (KAAP hard-codes them)
        "topologyKeys": Obj(
            {
                "host": Str(HOST_TOPOLOGY_KEY, doc="The node label of a host."),
                "zone": Str(
                    doc=(
                        "The node label of a zone; KAAP's deprecated beta label for KAAP input, "
                        "topology.kubernetes.io/zone for ours."
                    )
                ),
            },
            doc="ours: the node labels anti-affinity and racks place by (KAAP hard-codes them).",
        ),
        # ours: "restricted" for krm-pulsar.io input, "kaap" for KAAP input (see with_defaults)
        "podSecurity": Str(
            enum=POD_SECURITY_MODES,
            doc=(
                "ours: restricted (the Pod Security Standard) for our API version, kaap (KAAP's pod"
                " templates) for KAAP input; baseline: our pods as in restricted, your sidecars and"
                " init containers checked against the baseline standard only."
            ),
        ),
        # ours: least-privilege NetworkPolicies (docs/security.md#networkpolicies,
        # krm_pulsar/network_policies); the peers and rules are Kubernetes structures
        "networkPolicies": Obj(
            {
                "enabled": Bool(False, doc="Whether the NetworkPolicies are rendered."),
                "metricsFrom": Raw(
                    shape="list",
                    kubernetes="networking.v1.NetworkPolicyPeer",
                    doc=(
                        "NetworkPolicy peers (a monitoring namespace) allowed to reach each "
                        "component's metrics port."
                    ),
                ),
                "brokerClientsFrom": Raw(
                    shape="list",
                    doc=(
                        "ours: NetworkPolicy peers (in-cluster applications, other clusters' "
                        "brokers for geo-replication) allowed to reach the brokers' Service ports "
                        "directly, besides the proxies; without proxies every peer may."
                    ),
                ),
                "egress": Obj(
                    {
                        "enabled": Bool(
                            False,
                            doc=(
                                "Whether egress is locked down too: each pod reaches only DNS, "
                                "what its configuration connects to and the rules below."
                            ),
                        ),
                        "dns": Raw(
                            NETWORK_POLICY_DNS,
                            shape="list",
                            doc=(
                                "NetworkPolicy egress rules to the cluster DNS, for every pod; "
                                "kube-dns in kube-system on port 53 when unset."
                            ),
                        ),
                        "apiServer": Raw(
                            shape="list",
                            doc=(
                                "NetworkPolicy egress rules to the Kubernetes API server (its "
                                "endpoint addresses as an ipBlock, port 443 or 6443), for the "
                                "pods that call it: the token Job, the Oxia coordinator, the "
                                "functions worker with the kubernetes runtime."
                            ),
                        ),
                        "allow": Obj(
                            {
                                entry.section: Raw(
                                    shape="list",
                                    doc=(
                                        f"NetworkPolicy egress rules of the {entry.section} "
                                        "pods to peers outside the cluster."
                                    ),
                                )
                                for entry in registry.COMPONENTS
                            },
                            doc=(
                                "NetworkPolicy egress rules per component for what lies outside "
                                "the cluster: tiered storage and geo-replication (broker), "
                                "connectors and package URLs (functionsWorker, also its function "
                                "instance pods)."
                            ),
                        ),
                    },
                    doc="ours: egress lockdown (docs/security.md#egress-lockdown).",
                ),
            },
            doc=(
                "ours: least-privilege NetworkPolicies: each pod is reachable only by what "
                "connects to it (docs/security.md#networkpolicies)."
            ),
        ),
        # ours (issue 15): defaults of every component
        "topologySpreadConstraints": Raw(
            shape="list", kubernetes="core.v1.TopologySpreadConstraint",
            doc=f"{TOPOLOGY_SPREAD_DOC[:-1]}; the default of every component without its own.",
        ),
        "podMonitor": GLOBAL_POD_MONITOR,
    },
    doc="Settings of the whole cluster and defaults of every component (KAAP).",
)

OXIA = Obj(
    {
        "enabled": Bool(False, doc="Whether Oxia replaces ZooKeeper."),
        "image": Str(DEFAULT_OXIA_IMAGE, doc="The Oxia image."),
        "imagePullPolicy": Str(
            enum=("Always", "IfNotPresent", "Never"),
            doc="The Oxia image pull policy; spec.global.imagePullPolicy when unset.",
        ),
        "initialShardCount": Int(
            3, min=1, doc="Shards of each Oxia namespace (default, broker, bookkeeper)."
        ),
        "replicationFactor": Int(
            3, min=1, doc="Servers each shard is replicated on; at most server.replicas."
        ),
        "coordinator": Obj(
            {
                "resources": Resources(
                    {"limits": {"cpu": "100m", "memory": "128Mi"}},
                    doc="The coordinator's resources.",
                ),
            },
            doc="The Oxia coordinator, one replica.",
        ),
        "server": Obj(
            {
                "replicas": Int(3, min=1, max=MAX_REPLICAS, doc="The number of Oxia servers."),
                "resources": Resources(
                    {"limits": {"cpu": "1", "memory": "1Gi"}}, doc="The servers' resources."
                ),
                "dbCacheSizeMb": Int(512, min=1, doc="The servers' database cache in MiB."),
                "storage": _volume(
                    "data", "8Gi", doc="The servers' data volume, mounted at /data."
                ),
                # ours: the pod securityContext of the Oxia servers, over OXIA_SECURITY_CONTEXT
                "securityContext": Raw(
                    kubernetes="core.v1.PodSecurityContext",
                    doc="The servers' pod securityContext, over the non-root defaults.",
                ),
            },
            doc="The Oxia servers.",
        ),
        # cluster metadata initialization against Oxia (runs the Pulsar image, like ZooKeeper's)
        "metadataInitializationJob": Obj(
            {
                "timeout": Int(
                    60,
                    min=1,
                    doc="Seconds each attempt of the Job may take; it retries until it succeeds.",
                ),
                "resources": Resources(
                    JOB_RESOURCES,
                    doc="The Job container's resources (its JVM heap is sized from them).",
                ),
            },
            doc="The Job that initializes the cluster metadata in Oxia (it runs the Pulsar image).",
        ),
        "podMonitor": POD_MONITOR,
    },
    doc=(
        "ours: Oxia as the metadata store instead of ZooKeeper, as the Apache Helm chart renders "
        "it."
    ),
)

PATCH = Obj(
    {
        "target": Obj(
            {
                "kind": Str(doc="The objects' kind."),
                "name": Str(doc="The objects' name (a Job's without its content hash)."),
                "group": Str(doc="The objects' API group ('' for the core group)."),
                "version": Str(doc="The objects' API version."),
            },
            doc="Which generated objects the patch applies to; every given field must match.",
        ),
        "patch": Raw(shape="list", doc="The RFC 6902 operations, applied in order."),
    },
    doc="One patch: the objects it targets and its RFC 6902 operations.",
)

SPEC = Obj(
    {
        "global": GLOBAL,
        "zookeeper": ZOOKEEPER,
        "bookkeeper": BOOKKEEPER,
        "broker": BROKER,
        "proxy": PROXY,
        "autorecovery": AUTORECOVERY,
        "bastion": BASTION,
        "functionsWorker": FUNCTIONS_WORKER,
        "oxia": OXIA,  # ours
        "patches": List(
            PATCH, doc="ours: RFC 6902 patches applied to the generated objects, last."
        ),  # ours
    },
    doc="A Pulsar cluster: KAAP's PulsarCluster spec with krm-pulsar's additions.",
)

# Components that have resource sets, with the literal default set name (kaap-parity.md#names).
SET_COMPONENTS = {"bookkeeper": BOOKKEEPER_SET, "broker": BROKER_SET, "proxy": PROXY_SET}

# --- derived defaults ---------------------------------------------------------------------------


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
    storage = glob["storage"]
    if not storage["existingStorageClassName"] and not storage["storageClass"]:
        storage["existingStorageClassName"] = "default"

    for entry in registry.PULSAR_COMPONENTS:
        component_defaults(resolved[entry.section], glob)
    # the data volumes of every component (registry.Component.volumes),
    # kaap-parity.md#storage-defaults
    for entry in registry.COMPONENTS:
        for path in entry.volumes:
            volume = resolved[entry.section]
            for part in path.split("."):
                volume = volume[part]
            volume_defaults(volume, glob)

    # kaap-parity.md#cross-component-defaults: cross-component adjustments
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
    package_storage_defaults(resolved["broker"], glob)
    tls_defaults(glob)
    acme_defaults(glob["tls"]["certProvisioner"]["acme"])
    pod_monitor_defaults(resolved)
    return resolved


def acme_defaults(acme: dict) -> None:
    """The typed entries of lists and maps (solvers, external certificates) get their fields'
    defaults too, as racks do."""
    issuer = acme["issuer"]
    issuer["solvers"] = [ACME_SOLVER.with_defaults(entry) for entry in issuer["solvers"] or []]
    acme["external"] = {name: ACME_CERT.with_defaults(entry)
                        for name, entry in (acme["external"] or {}).items()}


def pod_monitor_defaults(resolved: dict) -> None:
    """ours: a component's podMonitor takes every unset field from spec.global.podMonitor;
    its labels are added over the global ones (docs/monitoring.md)."""
    defaults = resolved["global"]["podMonitor"]
    for entry in registry.COMPONENTS:
        if entry.metrics is None:
            continue
        own = resolved[entry.section].get("podMonitor")
        if own is None:
            continue  # a component without the field (docs/architecture.md#adding-a-component)
        for key, value in defaults.items():
            if key == "labels":
                own[key] = {**(value or {}), **(own[key] or {})}
            elif own[key] is None:
                own[key] = copy.deepcopy(value)


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


def tls_defaults(glob: dict) -> None:
    """TLS values derived from other fields (KAAP ``getTlsSecretNameFor*``,
    kaap-parity.md#per-set-tls).

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
    for component in registry.TLS_COMPONENTS:
        entry = tls[component.tls]
        if not entry.get("secretName"):
            entry["secretName"] = tls["defaultSecretName"]
    for component in registry.TLS_COMPONENTS:
        if not component.set_tls_key:
            continue
        sets_key, section = component.set_tls_key, component.tls
        tls[sets_key] = {
            name: {
                key: (
                    (entry or {}).get(key)
                    if (entry or {}).get(key) is not None
                    else tls[section].get(key)
                )
                for key in tls[section]
            }
            for name, entry in (tls[sets_key] or {}).items()
        }
    self_signed = tls["certProvisioner"]["selfSigned"]
    if not tls["ssCa"].get("secretName"):
        tls["ssCa"]["secretName"] = self_signed.get("caSecretName") or f"{glob['name']}-ss-ca"
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
    component["nodeSelectors"] = {
        **(glob["nodeSelectors"] or {}),
        **(component.get("nodeSelectors") or {}),
    }
    if component.get("dnsConfig") is None:
        component["dnsConfig"] = glob["dnsConfig"]
    if component.get("priorityClassName") is None:
        component["priorityClassName"] = glob["priorityClassName"]
    # ours: [] on a component means none (a set's [] inherits, as every KAAP list does)
    if component.get("topologySpreadConstraints") is None:
        component["topologySpreadConstraints"] = copy.deepcopy(glob["topologySpreadConstraints"])
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
        files["claimName"] = (claim.get("metadata") or {}).get(
            "name"
        ) or f"{glob['name']}-{glob['components']['brokerBaseName']}{PACKAGE_STORAGE_CLAIM_SUFFIX}"
    if claim:
        metadata = claim.get("metadata")
        claim["metadata"] = dict(metadata) if isinstance(metadata, dict) else {}
        claim["metadata"].setdefault("name", files["claimName"])
    files["persistentVolumeClaim"] = claim
    if management["enabled"] and files["enabled"] and broker["securityContext"] is None:
        broker["securityContext"] = copy.deepcopy(PACKAGE_STORAGE_SECURITY_CONTEXT)


def volume_defaults(volume: dict, glob: dict) -> None:
    """kaap-parity.md#storage-defaults: a volume with no storage choice of its own takes the global
    one."""
    if not volume.get("existingStorageClassName") and not volume.get("storageClass"):
        storage = glob["storage"]
        if storage["existingStorageClassName"]:
            volume["existingStorageClassName"] = storage["existingStorageClassName"]
        else:
            volume["storageClass"] = dict(storage["storageClass"])
