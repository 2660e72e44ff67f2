"""The standalone functions worker: a StatefulSet next to the brokers
(kaap-parity.md#functions-worker).

Rendered when ``functionsWorker.replicas > 0``. Its configuration is a ``functions_worker.yml``
file (ConfigMap ``R``, mounted into the pod) plus a ``-extra`` ConfigMap with the ``PULSAR_*``
variables ``bin/pulsar`` reads. The proxy points at the worker's ``-ca`` Service
(``functionWorkerWebServiceURL``, see proxy.py).
"""

from __future__ import annotations

from .. import jvm, names, security, storage, workload
from ..endpoints import GRPC, HTTP, METRICS, localhost_url, number, port
from ..registry import metrics_port
from ..schema import SpecError, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

COMPONENT = "functionsWorker"
# the endpoint-table key of the function instance pods (kubernetes runtime)
INSTANCE = "function-instance"
CONFIG_MOUNT = "/pulsar/funcconf/functions_worker.yml"
# KAAP annotates the worker pods with the brokers' HTTP port although the worker serves metrics
# on its own (kaap-parity.md#q18). KAAP input keeps KAAP's so pod templates stay identical; our own
# input gets the worker's.
KAAP_PROMETHEUS_PORT = number("broker", HTTP)

RUNTIME_FACTORIES = {
    "process": "org.apache.pulsar.functions.runtime.process.ProcessRuntimeFactory",
    "kubernetes": "org.apache.pulsar.functions.runtime.kubernetes.KubernetesRuntimeFactory",
}

EXTRA_DEFAULTS = {
    "PULSAR_MEM": "-XX:+ExitOnOutOfMemoryError",
    **workload.LOG_CONFIG,
}


def validate(cluster: Cluster) -> list:
    """Checks that need the PulsarCluster's metadata (the namespace)."""
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0:
        return []
    findings = []
    if spec["service"]["type"] not in (None, "ClusterIP"):
        findings.append(SpecError(
            "spec.functionsWorker.service.type",
            f"the functions worker Service is headless (clusterIP: None), which Kubernetes only "
            f"allows with type ClusterIP; got {spec['service']['type']}"))
    if spec["rbac"]["create"] and spec["serviceAccountName"] \
            and spec["serviceAccountName"] != cluster.resource_name(COMPONENT):
        findings.append(warning(
            "spec.functionsWorker.serviceAccountName",
            f"the worker pods run as {spec['serviceAccountName']!r}, but rbac.create binds the "
            f"Role to the ServiceAccount {cluster.resource_name(COMPONENT)!r} (as KAAP does); "
            f"grant {spec['serviceAccountName']!r} the rights yourself or drop "
            f"serviceAccountName"))
    if not cluster.namespace:
        if spec["rbac"]["create"] and not spec["rbac"]["namespaced"]:
            findings.append(SpecError(
                "spec.functionsWorker.rbac.namespaced",
                "a ClusterRoleBinding must name the namespace of the worker's ServiceAccount; "
                "set metadata.namespace on the PulsarCluster or keep rbac.namespaced true"))
        if spec["runtime"] == "kubernetes":
            findings.append(SpecError(
                "spec.functionsWorker.runtime",
                "the kubernetes runtime starts function pods in a namespace written into "
                "functions_worker.yml; set metadata.namespace on the PulsarCluster"))
    return findings


def worker_config(cluster: Cluster, spec: dict, name: str) -> dict:
    """``functions_worker.yml``: KAAP's defaults, then the user's non-``PULSAR_*`` keys with
    their own types."""
    # Numbers as KAAP's YAML has them (its YAML writer leaves number-like strings unquoted, so
    # they read back as integers); "true" stays a string, as in KAAP's (WorkerConfig, loaded by
    # Jackson, takes either for its int and boolean fields: kaap-parity.md#functions-worker)
    data = {
        **worker_metadata_store_keys(cluster),
        "zooKeeperSessionTimeoutMillis": 30000,
        "pulsarFunctionsCluster": cluster.cluster_name,
        "workerId": name,
        "workerHostname": name,
        "workerPort": number(COMPONENT, HTTP),
        "pulsarServiceUrl": broker_service_url(cluster),
        "pulsarWebServiceUrl": broker_web_service_url(cluster),
        "downloadDirectory": "/tmp/pulsar_functions",
        "pulsarFunctionsNamespace": "public/functions",
        "functionMetadataTopicName": "metadata",
        "clusterCoordinationTopicName": "coordinate",
        "numHttpServerThreads": 16,
        "schedulerClassName": "org.apache.pulsar.functions.worker.scheduler.RoundRobinScheduler",
        "functionAssignmentTopicName": "assignments",
        "failureCheckFreqMs": 30000,
        "rescheduleTimeoutMs": 60000,
        "initialBrokerReconnectMaxRetries": 60,
        "assignmentWriteMaxRetries": 60,
        "instanceLivenessCheckFreqMs": 30000,
        "topicCompactionFrequencySec": 1800,
        "includeStandardPrometheusMetrics": "true",
        "connectorsDirectory": "./connectors",
        "functionRuntimeFactoryClassName": RUNTIME_FACTORIES[spec["runtime"]],
    }
    if spec["runtime"] == "kubernetes":
        data["functionRuntimeFactoryConfigs"] = {
            "jobNamespace": cluster.namespace,
            "pulsarDockerImageName": spec["image"],
            "pulsarRootDir": "/pulsar",
            "submittingInsidePod": True,
            "pulsarServiceUrl": broker_service_url(cluster),
            # KAAP's value, https on the plain port included
            "pulsarAdminUrl": f"https://{cluster.host(name)}:{number(COMPONENT, HTTP)}/",
            "percentMemoryPadding": 10,
        }
        if cluster.glob["networkPolicies"]["enabled"]:
            # function instances run in pods the worker creates: the NetworkPolicies select
            # them by these labels (their own component keeps them out of every selector of
            # ours) and open exactly these ports (docs/security.md#networkpolicies)
            data["functionRuntimeFactoryConfigs"].update({
                "customLabels": instance_labels(cluster),
                "grpcPort": number(INSTANCE, GRPC),
                "metricsPort": number(INSTANCE, METRICS),
            })
    else:
        data["functionRuntimeFactoryConfigs"] = {}
    # with package management on the brokers, the worker stores packages through them
    data.update(storage.functions_worker_package_config(cluster.spec))
    data.update(security_config(cluster))
    user = user_worker_config(cluster, spec["config"])
    if isinstance(user.get("properties"), dict) and "properties" in data:
        # the user's properties over ours, key by key
        user["properties"] = {**data["properties"], **user["properties"]}
    data.update(user)
    # KAAP's 2 replicas of each function package need two bookies; with one bookie every
    # package upload fails, so ours stores as many copies as there are bookies (up to 2)
    replicas = 2
    if not cluster.kaap_input:
        from .broker import bookie_count

        bookies = bookie_count(cluster)
        if 0 < bookies < 2:
            replicas = bookies
    data.setdefault("numFunctionPackageReplicas", replicas)
    return dict(sorted(data.items()))


PREFIX = "PULSAR_PREFIX_"


def user_worker_config(cluster: Cluster, config: dict | None) -> dict:
    """The user's ``config`` keys that belong to functions_worker.yml, with their YAML types.
    ``PULSAR_MEM`` and family go to the -extra ConfigMap. A ``PULSAR_PREFIX_<key>`` is
    ``<key>`` (as in every other component's ConfigMap); KAAP copies the prefixed name into
    the YAML, where the worker ignores it, and KAAP input keeps that (warning in
    check_config; kaap-parity.md#keys-pulsar-does-not-read)."""
    data: dict = {}
    prefixed: dict = {}
    for key, value in (config or {}).items():
        if key.startswith(PREFIX) and not cluster.kaap_input:
            prefixed[key[len(PREFIX):]] = _plain(value)
        elif key.startswith(PREFIX) or not key.startswith("PULSAR_"):
            data[key] = _plain(value)
    # a key written both ways: the plain one wins
    return {**prefixed, **data}


def worker_metadata_store_keys(cluster: Cluster) -> dict:
    """WorkerConfig reads the configuration store only (``configurationStoreServers``); KAAP
    also writes ``zookeeperServers``, which it ignores
    (kaap-parity.md#keys-pulsar-does-not-read)."""
    keys = cluster.metadata_store_keys(COMPONENT)
    if not cluster.kaap_input:
        keys.pop("zookeeperServers", None)
    return keys


def check_config(cluster: Cluster) -> list:
    """KAAP input: a ``PULSAR_PREFIX_`` key lands in functions_worker.yml under its prefixed
    name, as KAAP writes it, where the worker ignores it."""
    spec = cluster.spec[COMPONENT]
    if not cluster.kaap_input or spec["replicas"] <= 0:
        return []
    return [warning(
        f"spec.functionsWorker.config.{key}",
        f"KAAP copies {key} into functions_worker.yml under this name, which the functions "
        f"worker does not read, and so does krm-pulsar for KAAP input; write "
        f"{key[len(PREFIX):]} instead to set it")
        for key in (spec["config"] or {}) if key.startswith(PREFIX)]


def instance_labels(cluster: Cluster) -> dict:
    """The labels the kubernetes runtime puts on the function instance pods (its
    ``customLabels`` override the runtime's own ``component``)."""
    return names.base_labels(cluster.name,
                             names.job_component(cluster.base_name(COMPONENT), "instance"))


def to_broker_tls(cluster: Cluster) -> bool:
    """The worker dials the brokers over TLS when they have it, unless
    ``tls.functionsWorker.enabledWithBroker: false`` (model.tls_defaults; tls_plan)."""
    return "broker" in cluster.tls_plan(COMPONENT).client_of


def broker_service_url(cluster: Cluster) -> str:
    return cluster.broker_service_url_tls if to_broker_tls(cluster) \
        else cluster.broker_service_url


def broker_web_service_url(cluster: Cluster) -> str:
    return cluster.broker_web_service_url_tls if to_broker_tls(cluster) \
        else cluster.broker_web_service_url


def security_config(cluster: Cluster) -> dict:
    """TLS and token keys of functions_worker.yml (kaap-parity.md#functions-worker), typed as
    YAML."""
    spec = cluster.spec
    data: dict = {}
    properties: dict = {}
    if security.tls_on(spec, "bookkeeper"):
        if cluster.kaap_input:
            # KAAP's one key, a broker key WorkerConfig does not read: KAAP's worker reaches
            # the bookies without TLS, and so does this one
            data["bookkeeperTLSClientAuthentication"] = "true"
        else:
            properties.update(security.worker_bookkeeper_tls_properties(spec))
    if security.auth_on(spec):
        conf = security.token(spec)
        data.update({
            "authenticationEnabled": "true",
            "authorizationEnabled": "true",
            "authorizationProvider":
                "org.apache.pulsar.broker.authorization.PulsarAuthorizationProvider",
            "authenticationProviders": [security.TOKEN_PROVIDER, security.TLS_PROVIDER],
            "clientAuthenticationPlugin": security.TOKEN_CLIENT_PLUGIN,
            "clientAuthenticationParameters": "file:///pulsar/token-superuser/superuser.jwt",
            "proxyRoles": list(conf["proxyRoles"]),
            "superUserRoles": sorted(set(conf["superUserRoles"])),
        })
        properties["tokenPublicKey"] = security.public_key_url(spec)
    if security.tls_on(spec, COMPONENT):
        ca = security.ca_path(spec)
        data.update({
            "tlsEnabled": "true",
            "workerPortTls": number(COMPONENT, HTTP, tls=True),
            "tlsCertificateFilePath": security.CERT_FILE,
            "tlsKeyFilePath": security.key_file(cluster.kaap_input),
            "tlsTrustCertsFilePath": ca,
            "brokerClientTrustCertsFilePath": ca,
        })
    if to_broker_tls(cluster):
        ca = security.ca_path(spec)
        data.update({
            "useTls": "true",
            "tlsEnableHostnameVerification": "true",
            "tlsTrustCertsFilePath": ca,
            "brokerClientTrustCertsFilePath": ca,
        })
    if properties:
        data["properties"] = properties
    return data


def _plain(value: object) -> object:
    """User values keep their YAML type; numbers as the user wrote them."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def extra_config(cluster: Cluster, spec: dict) -> dict:
    data = dict(EXTRA_DEFAULTS)
    if not cluster.kaap_input:  # KAAP input keeps KAAP's JVM settings
        data["PULSAR_MEM"] = jvm.with_memory(COMPONENT, spec.get("resources"),
                                             EXTRA_DEFAULTS["PULSAR_MEM"])
    if security.auth_on(cluster.spec):
        # for bin/pulsar's broker.conf, which the worker also loads (KAAP)
        data.update(security.server_auth_config(cluster.spec, "superuser"))
        data["authenticationProviders"] = f"{security.TOKEN_PROVIDER},{security.TLS_PROVIDER}"
    for key, value in (spec["config"] or {}).items():
        if key.startswith("PULSAR_") and isinstance(value, str):
            data[key] = value
    return workload.config_data(data, None)


def render(cluster: Cluster) -> list:
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0:
        return []
    from .. import yamlio

    name, labels, match, pod_labels = cluster.identity(COMPONENT, spec)
    annotations = spec["annotations"]

    objects = rbac(cluster, spec, name, labels)
    cm = workload.config_map(cluster, name, labels, annotations,
                             {"functions_worker.yml": yamlio.dump(worker_config(cluster, spec,
                                                                                name))})
    extra = workload.config_map(cluster, f"{name}-extra", labels, annotations,
                                extra_config(cluster, spec))

    logs = storage.functions_worker_logs_volume(cluster, spec, name, labels, annotations)
    additional = spec["additionalVolumes"] or {}
    # KAAP's order: the user's volumes and mounts first, then the config file, then the logs
    volumes = list(additional.get("volumes") or [])
    volumes.append({"name": "config-volume", "configMap": {"name": name}})
    if logs.volume:
        volumes.append(logs.volume)
    mounts = list(additional.get("mounts") or [])
    mounts.append({"name": "config-volume", "mountPath": CONFIG_MOUNT,
                   "subPath": "functions_worker.yml"})
    mounts.append(logs.mount)
    plan = cluster.tls_plan(COMPONENT)
    certs_mounts, certs_volumes = plan.volume()
    mounts += certs_mounts
    volumes += certs_volumes
    auth = security.auth_on(cluster.spec)
    if auth:
        token_mounts, token_volumes = security.token_volumes(("superuser", "public-key"))
        mounts += token_mounts
        volumes += token_volumes
    # JKS stores for the ZooKeeper client; the worker trusts the brokers from PEM files
    steps = (security.STRIP_TOKEN_STEP if auth else "") + plan.steps(cluster)
    # the worker's identity comes from the pod name; the user's env goes first (KAAP)
    env = list(spec["env"] or []) + [
        {"name": "workerHostname", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "PF_workerId", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
    ]
    container_spec = dict(spec, env=env, additionalVolumes=None)
    probes = spec["probes"]
    timeout = probes["liveness"]["timeoutSeconds"]
    main = workload.container(
        name, container_spec,
        steps
        + "bin/apply-config-from-env.py conf/broker.conf && "
        "cp -f funcconf/functions_worker.yml conf/functions_worker.yml && "
        f'export PF_workerHostname="${{workerHostname}}.{name}" && '
        "bin/gen-yml-from-env.py conf/functions_worker.yml && "
        f"{workload.LOG4J_OPTS} exec bin/pulsar functions-worker",
        ports=[port(COMPONENT, HTTP).container(), port(COMPONENT, HTTP, tls=True).container()],
        env_from=[f"{name}-extra"],
        probes=(
            # the auth header after --fail (or nothing, leaving KAAP's two spaces)
            workload.exec_probe(probes["liveness"], [
                "sh", "-c", f"curl -s --max-time {timeout} --fail "
                            f"{security.curl_auth_header(cluster.spec)} "
                            f"{localhost_url('http', COMPONENT, HTTP)}/metrics/ > /dev/null"]),
            workload.tcp_probe(probes["readiness"], number(COMPONENT, HTTP))),
        mounts=mounts,
    )
    pod_source = dict(spec, serviceAccountName=spec["serviceAccountName"] or name,
                      additionalVolumes=None)
    pod = workload.pod_spec(cluster, pod_source, [main], match_labels=match, volumes=volumes)
    prometheus_port = KAAP_PROMETHEUS_PORT if cluster.kaap_input else metrics_port(COMPONENT)
    template = workload.pod_template(
        pod_labels,
        workload.pod_annotations(cluster, spec, prometheus_port, [cm, extra]),
        pod)
    service_ports = [port(COMPONENT, HTTP).service(), port(COMPONENT, HTTP, tls=True).service()]
    headless_service = {"additionalPorts": spec["service"]["additionalPorts"]}
    objects += [
        cm,
        extra,
        workload.service(cluster, f"{name}-ca", labels, match, service_ports, spec["service"]),
        # KAAP gives the headless Service no annotations
        # the workers' own DNS names (workerHostname) live under it: they must resolve while
        # a worker is not ready, for the other workers and the proxies redirected to it
        workload.service(cluster, name, labels, match, service_ports, headless_service,
                         headless=True, type_=spec["service"]["type"], publish_not_ready=True),
        workload.statefulset(
            cluster, name, labels, annotations, replicas=spec["replicas"], selector=match,
            service_name=name, template=template,
            pod_management_policy=spec["podManagementPolicy"],
            update_strategy=spec["updateStrategy"],
            volume_claim_templates=[logs.claim] if logs.claim else None),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
        logs.storage_class,
    ]
    return [obj for obj in objects if obj]


RBAC_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "create", "delete"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get", "create", "delete"]},
]


def rbac(cluster: Cluster, spec: dict, name: str, labels: dict) -> list:
    """ServiceAccount, Role and RoleBinding (or cluster-scoped ones) named like the worker.

    The rules let the kubernetes runtime manage function pods. KAAP puts no labels on these
    objects; we label them like everything else so label selectors and pruning find them.
    """
    if not spec["rbac"]["create"]:
        return []
    # KAAP binds an account named like the worker even when the pods use another one
    account = name
    subject = {"kind": "ServiceAccount", "name": account}
    if cluster.namespace:
        subject["namespace"] = cluster.namespace
    if spec["rbac"]["namespaced"]:
        role_kind, binding_kind = "Role", "RoleBinding"

        def role_meta(object_name: str, object_labels: dict) -> dict:
            return cluster.metadata(object_name, object_labels)
    else:
        role_kind, binding_kind = "ClusterRole", "ClusterRoleBinding"

        def role_meta(object_name: str, object_labels: dict) -> dict:
            return {"name": object_name, "labels": dict(object_labels)}  # cluster-scoped
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": cluster.metadata(account, labels)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind,
         "metadata": role_meta(name, labels), "rules": [dict(rule) for rule in RBAC_RULES]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": binding_kind,
         "metadata": role_meta(name, labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
         "subjects": [subject]},
    ]
