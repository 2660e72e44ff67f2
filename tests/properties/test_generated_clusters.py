"""Properties of the whole function, checked on generated inputs (hypothesis).

* any valid spec renders objects that validate against the Kubernetes schemas of the oldest and
  newest minors we support (tests/support/k8s.py: 1.30 and 1.37);
* output is byte-identical across runs and across PYTHONHASHSEED values;
* feeding the output back in gives the same output (idempotence);
* items that are not ours come back unchanged, scalar for scalar (types and written text).

Specs are generated from every feature on main (see docs/properties.md for the list): both
metadata stores (ZooKeeper, Oxia), functions (standalone worker, embedded with broker package
storage), transactions, kafka, resource sets with racks, TLS (existing Secrets, cert-manager),
token auth, network policies, pod security modes, spec.patches, storage classes. Only valid specs
are generated: combinations refused by design are left out (each says so where it is drawn).
Example counts are kept moderate so the suite stays fast on a 2-core machine.
"""

from __future__ import annotations

import copy
import json
import subprocess

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cert_manager
import prometheus_operator
from conftest import KRM_PULSAR, ROOT, tool_env
from k8s import VERSIONS, assert_valid
from pss import restricted_violations
from unit.test_security import REFUSED_PATTERNS, secret_findings
from krm_pulsar import krm, render, yamlio

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- spec strategies ----------------------------------------------------------------------------

dns_label = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
# a non-empty label value (drawn directly: filtering out empty ones made hypothesis discard
# too many inputs once the specs grew)
label_value = st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?", fullmatch=True)
# user label keys that do not replace the base selector keys (app, component, cluster)
label_key = st.sampled_from(["team", "tier", "example.com/owner", "cost-center", "env"])
labels = st.dictionaries(label_key, label_value, max_size=3)
annotations = st.dictionaries(
    st.sampled_from(["example.com/note", "owner", "backup.velero.io/backup-volumes"]),
    st.text(max_size=20), max_size=2)

binary_unit = st.sampled_from(["Ki", "Mi", "Gi", "Ti"])
quantity = st.one_of(
    st.builds(lambda n, u: f"{n}{u}", st.integers(1, 4096), binary_unit),
    st.builds(lambda n: f"{n}m", st.integers(1, 64000)),
    st.sampled_from(["0.5", "1", "2", "1.5"]),
    st.integers(1, 64),
)
resources = st.fixed_dictionaries({}, optional={
    "requests": st.fixed_dictionaries({}, optional={"cpu": quantity, "memory": quantity}),
    "limits": st.fixed_dictionaries({}, optional={"cpu": quantity, "memory": quantity}),
})

config_key = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,15}", fullmatch=True)
config_value = st.one_of(
    st.text(max_size=30), st.integers(-10**6, 10**6), st.booleans(),
    st.sampled_from(["yes", "0755", "1e3", "null", "on", "2024-01-01", "a: b", "- x", "#"]),
)
config = st.dictionaries(config_key, config_value, max_size=4)

pdb = st.one_of(
    st.fixed_dictionaries({"enabled": st.booleans()}),
    st.fixed_dictionaries({"minAvailable": st.integers(0, 2)}),
    st.fixed_dictionaries({"maxUnavailable": st.one_of(st.integers(1, 2),
                                                       st.sampled_from(["25%", "50%"]))}),
)
anti_rule = st.fixed_dictionaries({}, optional={"enabled": st.booleans(),
                                                "required": st.booleans()})


# env values the user may set (FORBIDDEN_ENV names are refused by design, not generated)
env = st.lists(st.fixed_dictionaries({
    "name": st.sampled_from(["TZ", "MY_SETTING", "PULSAR_EXTRA_OPTS", "JAVA_TOOL_OPTIONS"]),
    "value": st.sampled_from(["UTC", "1", "-Dx=y", ""])}), unique_by=lambda e: e["name"],
    max_size=2)
tolerations = st.lists(st.fixed_dictionaries({
    "key": st.sampled_from(["dedicated", "example.com/pulsar"]), "operator": st.just("Exists"),
    "effect": st.sampled_from(["NoSchedule", "NoExecute"])}), max_size=2)
probe = st.fixed_dictionaries({}, optional={"enabled": st.booleans(),
                                            "periodSeconds": st.integers(1, 60),
                                            "timeoutSeconds": st.integers(1, 30),
                                            "failureThreshold": st.integers(1, 10)})
# a ConfigMap mounted read-only next to what we mount
additional_volumes = st.just({
    "volumes": [{"name": "extra-config", "configMap": {"name": "my-extra-config"}}],
    "mounts": [{"name": "extra-config", "mountPath": "/pulsar/extra", "readOnly": True}]})

# The user's own containers: emitted exactly as written; with what restricted needs of them
# (docs/security.md#user-containers: without it, restricted and baseline differ), so every pod
# of a restricted or baseline render meets the restricted standard
USER_SECURITY = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
USER_SIDECAR = {"name": "user-sidecar", "image": "busybox:1.36", "command": ["sleep", "infinity"],
                "securityContext": USER_SECURITY}
USER_INIT = {"name": "user-init", "image": "busybox:1.36", "command": ["true"],
             "securityContext": USER_SECURITY}
USER_CONTAINERS = {USER_SIDECAR["name"], USER_INIT["name"]}
sidecars = st.builds(lambda: [copy.deepcopy(USER_SIDECAR)])
init_containers = st.builds(lambda: [copy.deepcopy(USER_INIT)])


def component(max_replicas: int = 4, **extra):
    return st.fixed_dictionaries({}, optional={
        "sidecars": sidecars,
        "initContainers": init_containers,
        # selector keys of their own, so podLabels never contradict them (that is refused)
        "matchLabels": st.dictionaries(st.sampled_from(["pool", "example.com/selector"]),
                                       label_value, max_size=2),
        "serviceAccountName": st.sampled_from(["pulsar-sa", "default"]),
        "imagePullSecrets": st.just([{"name": "regcred"}]),
        "env": env,
        "tolerations": tolerations,
        "probes": st.fixed_dictionaries({}, optional={"liveness": probe, "readiness": probe}),
        "additionalVolumes": additional_volumes,
        "replicas": st.integers(0, max_replicas),
        "resources": resources,
        "labels": labels,
        "podLabels": labels,
        "annotations": annotations,
        "podAnnotations": annotations,
        "config": config,
        "pdb": pdb,
        "gracePeriod": st.integers(0, 120),
        "nodeSelectors": st.dictionaries(label_key, label_value, max_size=2),
        "antiAffinity": st.fixed_dictionaries({}, optional={"host": anti_rule,
                                                            "zone": anti_rule}),
        **extra,
    })


volume = st.fixed_dictionaries({}, optional={"size": quantity})
# A storage choice of a volume or of spec.global.storage: an existing class, or a class we create
# (which needs a provisioner: storage.check_cluster). Never both (that is only a warning).
storage_choice = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"existingStorageClassName": st.sampled_from(["default", "fast-ssd"])}),
    st.fixed_dictionaries({"storageClass": st.fixed_dictionaries(
        {"provisioner": st.sampled_from(["ebs.csi.aws.com", "pd.csi.storage.gke.io"])},
        optional={"type": st.sampled_from(["gp3", "pd-ssd"]), "fsType": st.just("xfs"),
                  "reclaimPolicy": st.sampled_from(["Retain", "Delete"])})}),
)
volume = st.builds(lambda size, choice: {**size, **choice}, volume, storage_choice)
# Features are switched on more often than not: with 25 examples per run, a feature behind two
# fair coins would be missed by most runs.
often = st.sampled_from([True, True, True, False])
SET_NAMES = ["blue", "green", "rack-a", "rack-b", "c1"]
RACKS = ["r1", "r2", "r3"]
rack = st.fixed_dictionaries({}, optional={
    "host": st.fixed_dictionaries({}, optional={"enabled": st.booleans(),
                                                "requireRackAffinity": st.booleans(),
                                                "requireRackAntiAffinity": st.booleans(),
                                                # pinned: each rack to a node of its own below
                                                "name": st.just(True)}),
    "zone": st.fixed_dictionaries({}, optional={"enabled": st.booleans(),
                                                "requireRackAffinity": st.booleans(),
                                                "requireRackAntiAffinity": st.booleans(),
                                                "enableHostAntiAffinity": st.booleans(),
                                                "requireRackHostAntiAffinity": st.booleans(),
                                                "name": st.just(True)}),
})


def pinned(name: str, config: dict) -> dict:
    """A drawn rack with its pins (issue 15 item 4) named after the rack: racks pinned to one
    zone or node are refused by design."""
    config = copy.deepcopy(config)
    for level, value in (("zone", f"zone-{name}"), ("host", f"node-{name}")):
        if (config.get(level) or {}).get("name"):
            config[level]["name"] = value
    return config


# Topology spread constraints (issue 15 item 3). With racks only ScheduleAnyway: a zone or host
# rack spread over its own level with DoNotSchedule is refused by design (placement/spread.py).
def spread_constraints(racked: bool):
    entry = st.fixed_dictionaries(
        {"maxSkew": st.integers(1, 3),
         "topologyKey": st.sampled_from(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]),
         "whenUnsatisfiable": st.just("ScheduleAnyway") if racked
         else st.sampled_from(["DoNotSchedule", "ScheduleAnyway"])},
        optional={"labelSelector": st.just({"matchLabels": {"team": "pulsar"}}),
                  "nodeAffinityPolicy": st.sampled_from(["Honor", "Ignore"])})
    # one entry per (topologyKey, whenUnsatisfiable): the API server refuses duplicates
    return st.lists(entry, max_size=2,
                    unique_by=lambda e: (e["topologyKey"], e["whenUnsatisfiable"]))


# PodMonitor settings (issue 15 item 1): the timeout never above the interval
pod_monitor = st.fixed_dictionaries({}, optional={
    "enabled": often,
    "interval": st.sampled_from(["30s", "1m"]),
    "labels": st.just({"release": "kube-prometheus-stack"}),
    "metricRelabelings": st.just([{"action": "drop", "sourceLabels": ["__name__"],
                                   "regex": "jvm_.*"}]),
}).map(lambda pm: {**pm, "scrapeTimeout": "10s"} if "interval" in pm else pm)

# Autoscalers of broker and proxy sets (issue 15 item 2). Targets that need no requests
# (utilization targets without CPU requests on every container are refused by design; the
# default CPU-utilization metric is covered by the golden and unit tests).
hpa_metrics = st.lists(st.sampled_from([
    {"type": "Resource", "resource": {"name": "cpu", "target": {
        "type": "AverageValue", "averageValue": "500m"}}},
    {"type": "Resource", "resource": {"name": "memory", "target": {
        "type": "AverageValue", "averageValue": "1Gi"}}},
    {"type": "Pods", "pods": {"metric": {"name": "pulsar_rate_in"}, "target": {
        "type": "AverageValue", "averageValue": "1k"}}},
    {"type": "External", "external": {"metric": {"name": "queue_depth"}, "target": {
        "type": "Value", "value": "100"}}},
]), min_size=1, max_size=2, unique_by=lambda m: json.dumps(m, sort_keys=True))
hpa = st.fixed_dictionaries(
    {"enabled": often, "maxReplicas": st.integers(4, 8), "metrics": hpa_metrics},
    optional={"minReplicas": st.integers(1, 4),
              "behavior": st.just({"scaleDown": {"stabilizationWindowSeconds": 300,
                                                 "policies": [{"type": "Pods", "value": 1,
                                                               "periodSeconds": 60}]}})})
sets_update_strategy = st.sampled_from(["RollingUpdate", "Parallel"])
TLS_SECRETS = ["pulsar-tls", "pulsar-broker-tls", "pulsar-proxy-tls", "pulsar-zk-tls"]
tls_entry = st.fixed_dictionaries({"enabled": often},
                                  optional={"secretName": st.sampled_from(TLS_SECRETS)})
BASE_NAMES = {"zookeeper": "zk", "bookkeeper": "bookie", "broker": "brk", "proxy": "gateway",
              "autorecovery": "recovery", "bastion": "admin", "functionsWorker": "functions"}
# the annotation the generated spec.patches entry adds (checked in the output)
PATCH_ANNOTATION = "example.com/patched"


def broker_count(broker: dict) -> int:
    """Broker pods of all sets together, as storage.broker_count counts them (3 by default;
    with an autoscaler, the most it may scale to)."""
    top = broker.get("replicas", 3)
    scaled = broker.get("hpa") or {}

    def most(replicas: int) -> int:
        if replicas > 0 and scaled.get("enabled"):
            return max(replicas, scaled["maxReplicas"])
        return replicas

    sets = broker.get("sets")
    if not sets:
        return most(top)
    return sum(most(s.get("replicas", top)) for s in sets.values())


@st.composite
def tls_spec(draw, metadata_store, broker_sets, proxy_sets, namespaced=True):
    """global.tls: per component, per broker/proxy set, existing Secrets or cert-manager.
    Refused by design and not generated: ZooKeeper TLS on Oxia, proxy enabledWithBroker
    without broker TLS, ZooKeeper TLS with self-signed certificates and no namespace (the
    quorum verifies fully qualified peer names; tests/unit/test_tls_auth.py covers the error)."""
    tls = {"enabled": draw(often)}
    sections = ["bookkeeper", "autorecovery", "broker"]
    if metadata_store == "zookeeper":
        sections.append("zookeeper")
    for section in sections:
        if draw(st.booleans()):
            tls[section] = draw(tls_entry)
    broker_tls = (tls.get("broker") or {}).get("enabled", False)
    with_broker = st.booleans() if broker_tls else st.just(False)
    if draw(st.booleans()):
        tls["functionsWorker"] = {**draw(tls_entry), "enabledWithBroker": draw(with_broker)}
    if draw(st.booleans()):
        tls["proxy"] = {**draw(tls_entry), "enabledWithBroker": draw(with_broker)}
    for key, names, extra in (("brokerResourceSets", broker_sets, {}),
                              ("proxyResourceSets", proxy_sets,
                               {"enabledWithBroker": with_broker})):
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=2)) if names else []
        if chosen:
            tls[key] = {name: draw(st.fixed_dictionaries(
                {}, optional={"enabled": st.booleans(),
                              "secretName": st.sampled_from(TLS_SECRETS), **extra}))
                for name in chosen}
    if draw(st.booleans()):
        tls["defaultSecretName"] = "cluster-tls"
    if draw(st.booleans()):
        tls["caPath"] = "/pulsar/certs/ca.crt"
    private_key = st.fixed_dictionaries({"algorithm": st.just("ECDSA"), "size": st.just(256)},
                                        optional={"rotationPolicy": st.just("Always"),
                                                  "encoding": st.just("PKCS8")})
    certificate = st.fixed_dictionaries({}, optional={
        "generate": st.booleans(), "privateKey": private_key,
        "dnsNames": st.just(["pulsar.example.com"])})
    # the provisioner: self-signed, or ACME (issue 15 item 5) in one case of three
    acme = draw(st.sampled_from([False, False, True]))
    if not acme and draw(often):
        tls["certProvisioner"] = {"selfSigned": draw(st.fixed_dictionaries(
            {"enabled": often},
            optional={"perComponent": st.booleans(), "includeDns": st.booleans(),
                      "caSecretName": st.just("pulsar-ca"), "privateKey": private_key,
                      "broker": certificate, "proxy": certificate,
                      "bookkeeper": certificate}))}
    self_signed = tls["enabled"] and (tls.get("certProvisioner") or {}).get(
        "selfSigned", {}).get("enabled")
    if not namespaced and self_signed and (tls.get("zookeeper") or {}).get("enabled"):
        tls["zookeeper"] = dict(tls["zookeeper"], enabled=False)
    # ACME (issue 15 item 5). Refused by design and not generated: ACME certificates in pods
    # that trust the CA of their own Secret (the self-signed provisioner, a caPath under
    # /pulsar/certs), two ACME entries writing one Secret (tests/unit/test_acme.py)
    if acme and tls.get("caPath") != "/pulsar/certs/ca.crt":
        tls["certProvisioner"] = {"acme": draw(acme_spec)}
    return tls


acme_solver = st.sampled_from([
    {"http01": {"ingressClass": "nginx"}},
    {"dns01": {"route53": {"region": "eu-west-1", "hostedZoneId": "Z1"}}},
    {"dns01": {"cloudflare": {"apiTokenSecretName": "cf", "apiTokenSecretKey": "token"}}},
    {"dns01": {"cloudDNS": {"project": "pulsar"}}},
])
acme_spec = st.fixed_dictionaries(
    {"enabled": often,
     "issuer": st.fixed_dictionaries(
         {"server": st.just("https://acme-staging-v02.api.letsencrypt.org/directory"),
          "solvers": st.lists(acme_solver, min_size=1, max_size=2)},
         optional={"email": st.just("ops@example.com"), "name": st.just("letsencrypt")})},
    optional={
        "proxy": st.just({"generate": True, "dnsNames": ["pulsar.example.com"]}),
        "broker": st.just({"generate": True, "dnsNames": ["brokers.example.com"],
                           "secretName": "acme-broker-tls"}),
        "external": st.just({"console": {"generate": True, "secretName": "console-tls",
                                          "dnsNames": ["console.example.com"]}}),
        "privateKey": st.just({"algorithm": "ECDSA", "size": 256}),
    })


@st.composite
def package_management(draw, broker: dict, needed: bool):
    """spec.broker.packageManagement with FileSystem storage that respects storage.check:
    several brokers need a ReadWriteMany claim, or a pre-created claimName (a warning)."""
    files = {"enabled": True}
    if draw(st.booleans()):
        files["storagePath"] = draw(st.sampled_from(["/pulsar/packages-storage",
                                                     "/data/packages"]))
    several = broker_count(broker) > 1
    forms = ["rwx-claim", "precreated"] + ([] if several else ["default-claim"])
    form = draw(st.sampled_from(forms))
    if form == "rwx-claim":
        claim = {"spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "efs-sc",
                          "resources": {"requests": {"storage": draw(
                              st.sampled_from(["5Gi", "50Gi"]))}}}}
        if draw(st.booleans()):
            claim["metadata"] = {"name": "shared-packages"}
            if draw(st.booleans()):
                files["claimName"] = "shared-packages"
        files["persistentVolumeClaim"] = claim
        if draw(st.booleans()):
            files["storageClass"] = {"metadata": {"name": "efs-sc"},
                                     "provisioner": "efs.csi.aws.com"}
    elif form == "precreated":
        files["claimName"] = "pulsar-packages"
    management = {"enabled": True}
    if needed or draw(often):
        management["fileSystemStorage"] = files
    return management


@st.composite
def specs(draw, cluster_name: str = "p", namespaced: bool = False):
    racks = {name: pinned(name, config) for name, config in
             draw(st.dictionaries(st.sampled_from(RACKS), rack, max_size=3)).items()}
    declared = draw(st.lists(st.sampled_from(SET_NAMES), unique=True, max_size=4))
    resource_sets = {}
    for name in declared:
        choice = draw(st.sampled_from([None, *sorted(racks)]))
        resource_sets[name] = {"rack": choice} if choice else {}
    glob = draw(st.fixed_dictionaries({}, optional={
        "name": dns_label,
        "persistence": st.booleans(),
        "restartOnConfigMapChange": st.booleans(),
        "antiAffinity": st.fixed_dictionaries({}, optional={"host": anti_rule,
                                                            "zone": anti_rule}),
        "nodeSelectors": st.dictionaries(label_key, label_value, max_size=2),
        "priorityClassName": dns_label,
        "image": st.sampled_from(["apachepulsar/pulsar:3.0.7", "apachepulsar/pulsar:4.0.12",
                                  "registry.example.com/pulsar:2.10.5"]),
        "podSecurity": st.sampled_from(["restricted", "baseline", "kaap"]),
    }))
    # the features, each switched on often (see `often`)
    if draw(often):
        glob["networkPolicies"] = draw(st.fixed_dictionaries({"enabled": often}, optional={
            "metricsFrom": st.just([{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "monitoring"}}}]),
            "brokerClientsFrom": st.just([{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "apps"}}}]),
            # the API server's address: the token Job, Oxia and the kubernetes runtime need it
            "egress": st.builds(lambda on, allow: {
                "enabled": on, "apiServer": [{"to": [{"ipBlock": {"cidr": "172.18.0.2/32"}}],
                                              "ports": [{"port": 6443}]}],
                "allow": {"broker": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                      "ports": [{"port": 443}]}]} if allow else {}},
                st.booleans(), st.booleans())}))
    if draw(often):
        glob["storage"] = draw(storage_choice)
    if draw(often):
        glob["auth"] = draw(st.fixed_dictionaries({"enabled": often}, optional={
            "token": st.fixed_dictionaries({}, optional={
                "initialize": st.booleans(),
                # the roles the components authenticate with must stay (security.check)
                "superUserRoles": st.just(["admin", "proxy", "superuser", "websocket", "ops"]),
                "proxyRoles": st.just(["proxy", "edge"])})}))
    # renamed components (KAAP's base names), each to a name no other component uses
    renamed = draw(st.lists(st.sampled_from(sorted(BASE_NAMES)), unique=True, max_size=3))
    if renamed:
        glob["components"] = {f"{section}BaseName": BASE_NAMES[section] for section in renamed}
    if draw(st.booleans()):
        glob["kubernetesClusterDomain"] = "example.internal"
    if draw(st.booleans()):
        glob["dnsName"] = "pulsar.example.com"
    if racks:
        glob["racks"] = racks
    if resource_sets:
        glob["resourceSets"] = resource_sets
    # issue 15: spread constraints, PodMonitors
    racked = any(config for config in resource_sets.values())
    if draw(st.booleans()):
        glob["topologySpreadConstraints"] = draw(spread_constraints(racked))
    if draw(often):
        glob["podMonitor"] = draw(pod_monitor)
    spec = {"global": glob}
    # the metadata store: ZooKeeper, or Oxia with no ZooKeeper section at all
    metadata_store = draw(st.sampled_from(["zookeeper", "oxia"]))
    if metadata_store == "zookeeper":
        spec["zookeeper"] = draw(component(
            5, dataVolume=volume, topologySpreadConstraints=spread_constraints(False),
            podMonitor=pod_monitor))
    else:
        servers = draw(st.integers(1, 4))
        spec["oxia"] = {"enabled": True, "server": {"replicas": servers, "storage": draw(volume)},
                        "replicationFactor": draw(st.integers(1, servers)),
                        "initialShardCount": draw(st.integers(1, 4))}
    spec["bookkeeper"] = draw(component(
        volumes=st.fixed_dictionaries({}, optional={"journal": volume, "ledgers": volume}),
        setsUpdateStrategy=sets_update_strategy,
        topologySpreadConstraints=spread_constraints(racked), podMonitor=pod_monitor))
    spec["broker"] = draw(component(setsUpdateStrategy=sets_update_strategy, hpa=hpa,
                                    podMonitor=pod_monitor))
    if draw(st.booleans()):
        spec["broker"]["functionsWorkerEnabled"] = draw(often)
    if draw(st.booleans()):
        spec["broker"]["transactions"] = draw(st.fixed_dictionaries(
            {"enabled": often}, optional={"partitions": st.integers(1, 32)}))
    if draw(st.booleans()):
        spec["broker"]["kafka"] = draw(st.fixed_dictionaries(
            {"enabled": often}, optional={"exposePorts": st.booleans()}))
    spec["proxy"] = draw(component(
        setsUpdateStrategy=sets_update_strategy, hpa=hpa,
        topologySpreadConstraints=spread_constraints(racked),
        webSocket=st.fixed_dictionaries({}, optional={"enabled": st.booleans(),
                                                      "resources": resources}),
        service=st.fixed_dictionaries({}, optional={
            "type": st.sampled_from(["ClusterIP", "NodePort", "LoadBalancer"]),
            "annotations": annotations,
            "additionalPorts": st.just([{"name": "extra", "port": 9999}])})))
    if draw(st.booleans()):
        spec["proxy"]["kafka"] = {"enabled": draw(often)}
    spec["autorecovery"] = draw(st.fixed_dictionaries({}, optional={
        "replicas": st.integers(0, 2), "resources": resources, "config": config,
        "podMonitor": pod_monitor}))
    spec["bastion"] = draw(st.fixed_dictionaries({}, optional={
        "replicas": st.integers(0, 2), "resources": resources, "targetProxy": st.booleans()}))
    if draw(st.booleans()):
        spec["bookkeeper"]["pvcPrefix"] = "data"
    for section in ("bookkeeper", "broker", "proxy"):
        names = draw(st.lists(st.sampled_from(declared), unique=True, max_size=3)) \
            if declared else []
        if names:
            extra = {"functionsWorkerEnabled": st.booleans()} if section == "broker" else {}
            if section in ("broker", "proxy"):
                extra["hpa"] = st.just({"enabled": False})  # a set opting out
            spec[section]["sets"] = {name: draw(component(3, **extra)) for name in names}
            for name in names:  # renamed sets, to names no other set or component uses
                if draw(st.integers(0, 4)) == 0:
                    spec[section]["sets"][name]["overrideResourceName"] = f"{section}-{name}-x"
    # functions: a standalone worker (ZooKeeper only; refused on Oxia), or embedded in the
    # brokers, which on Oxia needs FileSystem package storage (storage.py)
    if metadata_store == "zookeeper" and draw(st.booleans()):
        worker = draw(component(3, logsVolume=volume, rbac=st.fixed_dictionaries(
            {}, optional={"create": st.booleans(),
                          # a ClusterRoleBinding needs the namespace (functions_worker.validate)
                          "namespaced": st.booleans() if namespaced else st.just(True)}),
            runtime=st.sampled_from(["process", "kubernetes"] if namespaced else ["process"])))
        worker["replicas"] = draw(st.integers(1, 3))
        spec["functionsWorker"] = worker
    embedded = spec["broker"].get("functionsWorkerEnabled") or any(
        s.get("functionsWorkerEnabled") for s in (spec["broker"].get("sets") or {}).values())
    needs_files = metadata_store == "oxia" and embedded
    if needs_files or draw(often):
        spec["broker"]["packageManagement"] = draw(package_management(spec["broker"],
                                                                     needs_files))
    if metadata_store == "zookeeper" and draw(st.booleans()):
        glob["zookeeperPlainSslStorePassword"] = True
    if draw(often):
        glob["tls"] = draw(tls_spec(metadata_store, list(spec["broker"].get("sets") or {}),
                                    list(spec["proxy"].get("sets") or {}), namespaced))
    # a patch on a generated object: the broker StatefulSet of the default set, when it renders
    broker = spec["broker"]
    if not broker.get("sets") and broker.get("replicas", 3) > 0 and draw(st.booleans()):
        base = (glob.get("components") or {}).get("brokerBaseName", "broker")
        name = f"{glob.get('name') or cluster_name}-{base}"  # global.name defaults to it
        spec["patches"] = [{"target": {"kind": "StatefulSet", "name": name}, "patch": [
            {"op": "add", "path": "/metadata/annotations/" + PATCH_ANNOTATION.replace("/", "~1"),
             "value": draw(st.sampled_from(["yes", "1", "a b"]))}]}]
    return spec


@st.composite
def clusters(draw):
    metadata = {"name": draw(dns_label)}
    if draw(st.booleans()):
        metadata["namespace"] = draw(dns_label)
    api_version = draw(st.sampled_from(["krm-pulsar.io/v1alpha1",
                                        "kaap.oss.datastax.com/v1beta1"]))
    spec = draw(specs(metadata["name"], "namespace" in metadata))
    return {"apiVersion": api_version, "kind": "PulsarCluster", "metadata": metadata,
            "spec": spec}


def resource_list(items, function_config=None) -> bytes:
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if function_config is not None:
        rl["functionConfig"] = function_config
    return yamlio.dump(rl).encode("utf-8")


def _pods(objects: list):
    for obj in objects:
        if "template" in (obj.get("spec") or {}):
            yield obj["spec"]["template"]["spec"]


def user_containers(objects: list) -> list:
    return [c for pod in _pods(objects) for key in ("containers", "initContainers")
            for c in pod.get(key) or [] if c["name"] in USER_CONTAINERS]


# --- references between generated objects ------------------------------------------------------

WORKLOADS = ("Deployment", "StatefulSet", "Job")
USER_CONFIG_MAPS = {"my-extra-config"}  # mounted by additional_volumes, the user's own


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def broken_references(objects: list) -> list[str]:
    """References the schemas cannot check but the API server or the pods need: a workload's
    selector matches its own pods, mounts name volumes of the pod, ConfigMaps and governing
    Services exist, every Service and PDB selects some generated pod, and the default-deny
    NetworkPolicy selects every generated pod."""
    problems = []
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    templates = []
    for obj in objects:
        if obj["kind"] not in WORKLOADS:
            continue
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        template = obj["spec"]["template"]
        pod_labels = (template.get("metadata") or {}).get("labels") or {}
        templates.append(pod_labels)
        selector = (obj["spec"].get("selector") or {}).get("matchLabels")
        if obj["kind"] != "Job" and not _selects(selector, pod_labels):
            problems.append(f"{where}: selector {selector} does not match its pods {pod_labels}")
        pod = template["spec"]
        volumes = {v["name"] for v in pod.get("volumes") or []}
        volumes |= {c["metadata"]["name"] for c in obj["spec"].get("volumeClaimTemplates") or []}
        for volume in pod.get("volumes") or []:
            config_map = (volume.get("configMap") or {}).get("name")
            if config_map and config_map not in USER_CONFIG_MAPS \
                    and ("ConfigMap", config_map) not in names:
                problems.append(f"{where}: volume {volume['name']} mounts ConfigMap "
                                f"{config_map}, which is not generated")
        for container in pod.get("initContainers", []) + pod["containers"]:
            for mount in container.get("volumeMounts") or []:
                if mount["name"] not in volumes:
                    problems.append(f"{where}: {container['name']} mounts {mount['name']}, "
                                    f"which is not a volume of the pod")
            for source in container.get("envFrom") or []:
                config_map = (source.get("configMapRef") or {}).get("name")
                if config_map and ("ConfigMap", config_map) not in names:
                    problems.append(f"{where}: {container['name']} reads ConfigMap "
                                    f"{config_map}, which is not generated")
        if obj["kind"] == "StatefulSet" and ("Service", obj["spec"]["serviceName"]) not in names:
            problems.append(f"{where}: serviceName {obj['spec']['serviceName']} is not generated")
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "Service":
            selector = obj["spec"].get("selector")
        elif obj["kind"] == "PodDisruptionBudget":
            selector = obj["spec"]["selector"].get("matchLabels")
        else:
            continue
        if not any(_selects(selector, labels) for labels in templates):
            problems.append(f"{where}: selector {selector} selects no generated pod")
    problems.extend(_feature_references(objects))
    # with NetworkPolicies, the default-deny policy isolates every generated pod (Jobs
    # included); what each may reach is the reachability test's (test_network_policies.py)
    for policy in objects:
        if policy["kind"] == "NetworkPolicy" and \
                policy["metadata"]["name"].endswith("-default-deny"):
            isolated = policy["spec"]["podSelector"]["matchLabels"]
            for labels in templates:
                if not _selects(isolated, labels):
                    problems.append(f"pods {labels} are outside NetworkPolicy "
                                    f"{policy['metadata']['name']} ({isolated})")
    return problems


def _feature_references(objects: list) -> list[str]:
    """Issue 15's references: a PodMonitor selects pods of workloads (no Job's) and each of its
    endpoints names a port some selected container declares; an autoscaler's target is a
    generated workload of that kind, which leaves replicas to it."""
    problems = []
    workloads = {(o["kind"], o["metadata"]["name"]): o for o in objects
                 if o["kind"] in ("Deployment", "StatefulSet")}
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] == "PodMonitor":
            selector = obj["spec"]["selector"]
            selected = [w["spec"]["template"] for w in workloads.values()
                        if _selects(selector["matchLabels"], w["spec"]["template"]["metadata"][
                            "labels"]) and all(
                            w["spec"]["template"]["metadata"]["labels"].get(e["key"])
                            in e["values"] for e in selector.get("matchExpressions") or [])]
            jobs = [o for o in objects if o["kind"] == "Job" and _selects(
                selector["matchLabels"], o["spec"]["template"]["metadata"]["labels"])
                and not selector.get("matchExpressions")]
            if not selected or jobs:
                problems.append(f"{where}: selects {len(selected)} workloads' pods and "
                                f"{len(jobs)} Jobs' pods")
            ports = {p.get("name") for t in selected for c in t["spec"]["containers"]
                     for p in c.get("ports") or []}
            for endpoint in obj["spec"]["podMetricsEndpoints"]:
                if endpoint["port"] not in ports:
                    problems.append(f"{where}: port {endpoint['port']} is no container port "
                                    f"of the selected pods")
        elif obj["kind"] == "HorizontalPodAutoscaler":
            target = obj["spec"]["scaleTargetRef"]
            workload = workloads.get((target["kind"], target["name"]))
            if workload is None:
                problems.append(f"{where}: scales {target['kind']}/{target['name']}, which is "
                                f"not generated")
            elif "replicas" in workload["spec"]:
                problems.append(f"{where}: {target['kind']}/{target['name']} keeps replicas")
    return problems


def test_feature_reference_check_catches_each_broken_reference():
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {
                  "global": {"podMonitor": {"enabled": True}},
                  "broker": {"hpa": {"enabled": True, "maxReplicas": 5}}}}
    objects, _ = render.render(config)
    assert _feature_references(objects) == []
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    by_name[("StatefulSet", "p-broker")]["spec"]["replicas"] = 3
    by_name[("PodMonitor", "p-proxy")]["spec"]["podMetricsEndpoints"][0]["port"] = "web"
    by_name[("PodMonitor", "p-bookkeeper")]["spec"]["selector"]["matchLabels"]["component"] = \
        "bookie"
    problems = "\n".join(_feature_references(objects))
    for expected in ("StatefulSet/p-broker keeps replicas", "port web is no container port",
                     "PodMonitor/p-bookkeeper: selects 0 workloads"):
        assert expected in problems


def test_reference_check_catches_each_broken_reference():
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {}}
    objects, _ = render.render(config)
    assert broken_references(objects) == []
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    broker = by_name[("StatefulSet", "p-broker")]
    broker["spec"]["selector"]["matchLabels"]["component"] = "brokers"
    broker["spec"]["serviceName"] = "p-brokers"
    bookie_pod = by_name[("StatefulSet", "p-bookkeeper")]["spec"]["template"]["spec"]
    bookie_pod["containers"][0]["volumeMounts"].append({"name": "gone", "mountPath": "/x"})
    bookie_pod["containers"][0]["envFrom"] = [{"configMapRef": {"name": "p-bookie"}}]
    by_name[("Service", "p-proxy")]["spec"]["selector"] = {"component": "proxies"}
    objects.remove(by_name[("ConfigMap", "p-zookeeper")])
    problems = "\n".join(broken_references(objects))
    for expected in ("StatefulSet/p-broker: selector", "serviceName p-brokers",
                     "mounts gone", "reads ConfigMap p-bookie", "Service/p-proxy: selector",
                     "ConfigMap p-zookeeper"):
        assert expected in problems


def test_reference_check_catches_pods_outside_the_network_policy():
    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "p"}, "spec": {"global": {"networkPolicies": {
                  "enabled": True}}}}
    objects, _ = render.render(config)
    assert broken_references(objects) == []
    job = next(o for o in objects if o["kind"] == "Job")
    del job["spec"]["template"]["metadata"]["labels"]["app"]
    assert [p for p in broken_references(objects) if "outside NetworkPolicy p-default-deny" in p]


# --- properties ---------------------------------------------------------------------------------


@SETTINGS
@given(clusters())
def test_any_valid_spec_renders_schema_valid_objects(config):
    objects, findings = render.render(config)
    errors = [f for f in findings if f.severity == "error"]
    assert not errors, errors
    spec = config["spec"]
    # not vacuous: the metadata store is there, and what the spec asks for is rendered
    if spec.get("oxia"):
        assert any(o["kind"] == "StatefulSet" and "oxia" in o["metadata"]["name"]
                   for o in objects)
    elif spec["zookeeper"].get("replicas", 3) > 0:
        zookeeper = (spec["global"].get("components") or {}).get("zookeeperBaseName",
                                                                  "zookeeper")
        assert any(o["kind"] == "StatefulSet" and o["metadata"]["labels"]["component"]
                   == zookeeper for o in objects)
    for patch in spec.get("patches") or []:
        target = [o for o in objects if (o["kind"], o["metadata"]["name"])
                  == (patch["target"]["kind"], patch["target"]["name"])]
        assert len(target) == 1
        assert target[0]["metadata"]["annotations"][PATCH_ANNOTATION] == \
            patch["patch"][0]["value"]
    cert_manager_objects = [o for o in objects
                            if o["apiVersion"].startswith("cert-manager.io/")]
    pod_monitors = [o for o in objects if o["apiVersion"].startswith("monitoring.coreos.com/")]
    assert_valid([o for o in objects if o not in cert_manager_objects + pod_monitors], VERSIONS)
    cert_manager.assert_valid(cert_manager_objects)
    prometheus_operator.assert_valid(pod_monitors)
    pod_security = spec["global"].get("podSecurity") or (
        "restricted" if config["apiVersion"] == "krm-pulsar.io/v1alpha1" else "kaap")
    if pod_security in ("restricted", "baseline"):  # ours, and the user's (given what it needs)
        assert restricted_violations(objects) == []
    for container in user_containers(objects):
        assert container in (USER_SIDECAR, USER_INIT)
    assert secret_findings(yamlio.dump_all(objects), REFUSED_PATTERNS) == []
    assert broken_references(objects) == []


_PUBLISHED = json.loads((ROOT / "functions" / "pulsar-cluster" / "pulsarcluster.schema.json")
                        .read_text())


@SETTINGS
@given(clusters())
def test_any_valid_spec_passes_the_published_schema_and_explains(config):
    """The JSON Schema of `krm-pulsar schema --json-schema` accepts whatever krm-pulsar accepts,
    and `explain`'s worst cases hold together: nothing lost beyond what exists, a node never
    takes more than a zone, a set never has more pods in one domain than replicas."""
    import jsonschema

    from krm_pulsar import explain

    errors = list(jsonschema.Draft7Validator(_PUBLISHED).iter_errors(json.loads(json.dumps(
        config))))
    assert errors == [], [e.message for e in errors]
    report, findings = explain.explain(copy.deepcopy(config))
    assert report is not None, findings
    for workload in report["workloads"]:
        assert 1 <= workload["node"]["maxPodsPerDomain"] <= \
            workload["zone"]["maxPodsPerDomain"] <= workload["replicas"]
    zone, node = (report["outages"][level] for level in ("zone", "node"))
    for kind, entry in zone["worstCase"].items():
        assert 0 <= entry["lost"] <= entry["total"]
        assert entry["left"] == entry["total"] - entry["lost"]
        assert node["worstCase"][kind]["lost"] <= entry["lost"]
    assert node["writesContinue"] or not zone["writesContinue"]
    assert explain.text(report)


# Combinations refused by design, each applied to an otherwise valid generated spec, with the
# field path of the error it must get. The generator above never draws them.
def _zookeeper_with_oxia(spec):
    spec.setdefault("oxia", {})["enabled"] = True
    spec.setdefault("zookeeper", {})["replicas"] = 3
    return "spec.zookeeper.replicas"


def _worker_on_oxia(spec):
    spec.pop("zookeeper", None)
    spec.setdefault("oxia", {})["enabled"] = True
    spec.setdefault("functionsWorker", {})["replicas"] = 1
    return "spec.functionsWorker.replicas"


def _embedded_functions_on_oxia_without_files(spec):
    spec.pop("zookeeper", None)
    spec.setdefault("oxia", {})["enabled"] = True
    spec["broker"]["functionsWorkerEnabled"] = True
    spec["broker"].pop("packageManagement", None)
    return "spec.broker.packageManagement.enabled"


def _several_brokers_on_a_read_write_once_claim(spec):
    spec["broker"].pop("sets", None)
    spec["broker"]["replicas"] = 2
    # without persistence the package storage is an emptyDir (a warning, not this error)
    spec["global"]["persistence"] = True
    spec["broker"]["packageManagement"] = {"enabled": True, "fileSystemStorage": {
        "enabled": True, "persistentVolumeClaim": {"spec": {"accessModes": ["ReadWriteOnce"]}}}}
    return "spec.broker.packageManagement.fileSystemStorage.persistentVolumeClaim.spec.accessModes"


def _proxy_with_broker_tls_but_no_broker_tls(spec):
    tls = spec["global"].setdefault("tls", {})
    tls["broker"] = {"enabled": False}
    tls["proxy"] = {"enabled": True, "enabledWithBroker": True}
    return "spec.global.tls.proxy.enabledWithBroker"


REFUSED = [_zookeeper_with_oxia, _worker_on_oxia, _embedded_functions_on_oxia_without_files,
           _several_brokers_on_a_read_write_once_claim, _proxy_with_broker_tls_but_no_broker_tls]


@SETTINGS
@given(clusters(), st.sampled_from(REFUSED))
def test_combinations_refused_by_design_get_an_error_at_their_field(config, refuse):
    path = refuse(config["spec"])
    objects, findings = render.render(config)
    assert objects == []
    assert path in [f.path for f in findings if f.severity == "error"]


@settings(SETTINGS, max_examples=6)
@given(clusters())
def test_output_is_byte_identical_across_runs_and_hash_seeds(config):
    data = resource_list([config], function_config=config)
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = dict(tool_env(), PYTHONHASHSEED=seed)
        proc = subprocess.run([KRM_PULSAR], input=data, capture_output=True, env=env,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    # and in-process, twice
    assert krm.run(data)[0].encode("utf-8") in outputs
    assert krm.run(data)[0].encode("utf-8") in outputs


@SETTINGS
@given(clusters())
def test_feeding_the_output_back_gives_the_same_output(config):
    first, _, code = krm.run(resource_list([config], function_config=config))
    assert code == 0
    second, _, code = krm.run(first.encode("utf-8"))
    assert code == 0
    assert second == first
    # and once more with the config only as functionConfig (kustomize generator style)
    items = yamlio.load_all(first)[0]["items"]
    third, _, _ = krm.run(resource_list(items[1:], function_config=config))
    reordered = yamlio.load_all(third)[0]["items"]
    assert sorted(map(yamlio.dump, reordered)) == sorted(map(yamlio.dump, items[1:]))


# --- items that are not ours --------------------------------------------------------------------

# Plain scalars whose written text matters: YAML 1.1 readers take several of them for booleans,
# octals, dates or floats, and numbers must keep the text they were written with.
PLAIN_TOKENS = ["0x1F", "+3", "007", "1e3", ".inf", "-.inf", ".nan", "0o17", "12", "-0",
                "1.50", "yes", "on", "No", "~", "null", "2024-01-01", "12:30", "true", "1_000"]

leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(PLAIN_TOKENS),
    st.sampled_from(["line one\nline two\n", "trailing\n\n", " lead", "tab\there", "é ü 中",
                     "a: b", "- x", "# not a comment", "'q'", '"dq"', "\u2028", "key:", ""]),
)
content = st.recursive(
    leaf,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(min_size=1, max_size=12), children,
                                               max_size=4)),
    max_leaves=20,
)


@st.composite
def foreign_items(draw):
    count = draw(st.integers(1, 4))
    items = []
    for index in range(count):
        item = {"apiVersion": draw(st.sampled_from(["v1", "example.com/v1", "apps/v1"])),
                "kind": draw(st.sampled_from(["ConfigMap", "Thing", "Deployment"])),
                "metadata": {"name": f"item-{index}"}}
        extra = draw(st.dictionaries(st.sampled_from(["data", "spec", "status", "x"]), content,
                                     max_size=3))
        item.update(extra)
        items.append(item)
    return items


def typed(value):
    """A canonical form that tells 1, 1.0, True and '1' apart (== does not)."""
    if isinstance(value, dict):
        return {"map": [[typed(k), typed(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return {"seq": [typed(v) for v in value]}
    if isinstance(value, float):
        return {"float": repr(value)}
    return {type(value).__name__.lstrip("Y").lower(): value}


@SETTINGS
@given(foreign_items(), clusters())
def test_items_that_are_not_ours_come_back_unchanged(items, config):
    data = resource_list([*items, config])
    output, _, code = krm.run(data)
    assert code == 0
    returned = yamlio.load_all(output)[0]["items"][:len(items)]
    assert json.dumps(typed(returned)) == json.dumps(typed(items))
    # and a YAML 1.1 reader (PyYAML, many CI tools) reads the same strings back
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    assert yaml.load(output, Loader=loader)["items"][:len(items)] == yaml.load(
        yamlio.dump({"items": items}), Loader=loader)["items"]


# How each token is written back: numbers keep their text; strings that a YAML 1.1 reader would
# take for something else are quoted; null is written one way.
WRITTEN_BACK = {
    "0x1F": "0x1F", "+3": "+3", "007": "007", "1e3": "1e3", ".inf": ".inf", "-.inf": "-.inf",
    ".nan": ".nan", "0o17": "0o17", "12": "12", "-0": "-0", "1.50": "1.50",
    "yes": '"yes"', "on": '"on"', "No": '"No"', "~": "null", "null": "null",
    "2024-01-01": '"2024-01-01"', "12:30": '"12:30"', "true": "true", "1_000": '"1_000"',
}


@SETTINGS
@given(st.lists(st.sampled_from(PLAIN_TOKENS), min_size=1, max_size=8))
def test_plain_scalars_of_foreign_items_keep_their_written_text(tokens):
    def thing(values):
        return ("- apiVersion: example.com/v1\n  kind: Thing\n  metadata:\n    name: t\n"
                "  spec:\n" + "".join(f"    k{i}: {v}\n" for i, v in enumerate(values)))

    config = "- apiVersion: krm-pulsar.io/v1alpha1\n  kind: PulsarCluster\n  metadata:\n    name: p\n"
    head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    output, _, code = krm.run((head + thing(tokens) + config).encode())
    assert code == 0
    expected = thing([WRITTEN_BACK[token] for token in tokens])
    assert output.startswith(head + expected + config)


@SETTINGS
@given(foreign_items())
def test_libyaml_and_pure_python_parsers_read_the_same(items):
    text = yamlio.dump({"items": items})
    fast = yamlio.load_all(text)
    slow = yamlio._load_yaml_documents(text, parser_class=yamlio._PyParser)
    assert json.dumps(typed(fast)) == json.dumps(typed(slow))


def test_libyaml_parser_is_used_when_available():
    assert yaml.__with_libyaml__, "PyYAML without libyaml: reading is 8x slower"
    assert yamlio._parser_class() is not yamlio._PyParser

