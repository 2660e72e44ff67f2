"""What KAAP writes for a spec, restated as plain data from docs/kaap-parity.md (the section each
builder follows is named in its docstring). The parity tests compare krm-pulsar's objects for KAAP
input with these expectations; nothing here is taken from KAAP's own test files.

Every builder takes the cluster name ``n`` (``global.name``) and the namespace ``ns`` and assumes
the default base names and cluster domain (docs/kaap-parity.md#names).
"""

from __future__ import annotations

# KAAP's default `global.tls.caPath` (docs/kaap-parity.md#what-kaap-writes-with-tls)
CA = "/etc/ssl/certs/ca-certificates.crt"
CERT = "/pulsar/certs/tls.crt"
KEY = "/pulsar/certs/tls.key"
KEYSTORE = "/pulsar/tls.keystore.jks"
TRUSTSTORE = "/pulsar/tls.truststore.jks"

# docs/kaap-parity.md#configmaps: the log keys every Pulsar component's ConfigMap starts from
LOG_KEYS = {"PULSAR_LOG_LEVEL": "info", "PULSAR_LOG_ROOT_LEVEL": "info",
            "PULSAR_EXTRA_OPTS": "-Dpulsar.log.root.level=info"}


def prefixed(config: dict) -> dict:
    """The prefix rule (docs/kaap-parity.md#configmaps)."""
    return {k if k.startswith(("PULSAR_", "BOOKIE_")) else f"PULSAR_PREFIX_{k}": v
            for k, v in config.items()}


def host(n: str, ns: str, service: str) -> str:
    return f"{n}-{service}.{ns}.svc.cluster.local"


def zookeeper(n: str, ns: str, tls: bool = False) -> str:
    """docs/kaap-parity.md#internal-urls: the `-ca` Service, 2281 with ZooKeeper TLS."""
    return f"{host(n, ns, 'zookeeper-ca')}:{2281 if tls else 2181}"


def broker_urls(n: str, ns: str) -> dict:
    """docs/kaap-parity.md#internal-urls: the umbrella broker Service, plain and TLS."""
    broker = host(n, ns, "broker")
    return {"pulsar": f"pulsar://{broker}:6650/", "http": f"http://{broker}:8080/",
            "pulsar+ssl": f"pulsar+ssl://{broker}:6651/", "https": f"https://{broker}:8443/"}


def labels(n: str, component: str, resource_set: str | None = None) -> dict:
    """docs/kaap-parity.md#labels (`resource-set` on objects and pods of bookie, broker and
    proxy sets, also the default set)."""
    found = {"app": "pulsar", "component": component, "cluster": n}
    if resource_set:
        found["resource-set"] = resource_set
    return found


def host_anti_affinity(selector: dict) -> dict:
    """docs/kaap-parity.md#anti-affinity: the global default, one required host term."""
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": selector}, "topologyKey": "kubernetes.io/hostname"}]}}


def curl_probe(url: str) -> dict:
    """docs/kaap-parity.md#what-the-parity-tests-pin: KAAP's curl probe, with two blanks where
    the token header goes when auth is on; 10 s delay, 30 s period, 5 s timeout."""
    return {"exec": {"command": ["sh", "-c", f"curl -s --max-time 5 --fail  {url} > /dev/null"]},
            "initialDelaySeconds": 10, "periodSeconds": 30, "timeoutSeconds": 5}


def main_args(conf: str, role: str) -> list[str]:
    """docs/kaap-parity.md#pod-spec: apply the configuration, then exec the role."""
    return [f"bin/apply-config-from-env.py conf/{conf}.conf && "
            f'OPTS="${{OPTS}} -Dlog4j2.formatMsgNoLookups=true" exec bin/pulsar {role}']


DNS_CONFIG = {"options": [{"name": "ndots", "value": "4"}]}   # docs/kaap-parity.md#pod-spec


# --- proxy (docs/kaap-parity.md#proxy) -----------------------------------------------------------


def proxy_config(n: str, ns: str) -> dict:
    urls = broker_urls(n, ns)
    return {**LOG_KEYS, **prefixed({
        "brokerServiceURL": urls["pulsar"], "brokerServiceURLTLS": urls["pulsar+ssl"],
        "brokerWebServiceURL": urls["http"], "brokerWebServiceURLTLS": urls["https"],
        "zookeeperServers": zookeeper(n, ns), "configurationStoreServers": zookeeper(n, ns),
        "clusterName": n, "numHttpServerThreads": "10"})}


def websocket_config(n: str, ns: str) -> dict:
    urls = broker_urls(n, ns)
    return {**LOG_KEYS, **prefixed({
        "brokerServiceUrl": urls["pulsar"], "brokerServiceUrlTls": urls["pulsar+ssl"],
        "serviceUrl": urls["http"], "serviceUrlTls": urls["https"],
        "zookeeperServers": zookeeper(n, ns), "configurationStoreServers": zookeeper(n, ns),
        "clusterName": n, "numHttpServerThreads": "10", "webServicePort": "8000"})}


def proxy_objects(n: str, ns: str, image: str) -> dict:
    """``{(kind, name): {section: value}}`` of the default proxy set with KAAP's defaults:
    three replicas, requests of one CPU and 1Gi for both containers, a LoadBalancer Service that
    lists the websocket port, no probes on the websocket container and no PULSAR_MEM."""
    r = f"{n}-proxy"
    selector = labels(n, "proxy")
    meta = {"name": r, "labels": labels(n, "proxy", "proxy")}
    requests = {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}
    proxy = {"name": r, "image": image, "imagePullPolicy": "IfNotPresent",
             "command": ["sh", "-c"], "args": main_args("proxy", "proxy"),
             "envFrom": [{"configMapRef": {"name": r}}],
             "ports": [{"name": "http", "containerPort": 8080},
                       {"name": "pulsar", "containerPort": 6650}],
             "livenessProbe": curl_probe("http://localhost:8080/metrics/"),
             "readinessProbe": curl_probe("http://localhost:8080/metrics/"), **requests}
    websocket = {"name": f"{r}-ws", "image": image, "imagePullPolicy": "IfNotPresent",
                 "command": ["sh", "-c"], "args": main_args("websocket", "websocket"),
                 "envFrom": [{"configMapRef": {"name": f"{r}-ws"}}],
                 "ports": [{"name": "ws", "containerPort": 8000}], **requests}
    return {
        ("ConfigMap", r): {"metadata": meta, "data": proxy_config(n, ns)},
        ("ConfigMap", f"{r}-ws"): {"metadata": {**meta, "name": f"{r}-ws"},
                                   "data": websocket_config(n, ns)},
        ("Service", r): {"metadata": meta, "spec": {
            "type": "LoadBalancer", "selector": selector,
            "ports": [{"name": "http", "port": 8080}, {"name": "pulsar", "port": 6650},
                      {"name": "ws", "port": 8000}]}},
        ("Deployment", r): {"metadata": meta, "spec": {
            "replicas": 3, "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels(n, "proxy", "proxy"),
                             "annotations": {"prometheus.io/scrape": "true",
                                             "prometheus.io/port": "8080"}},
                "spec": {"dnsConfig": DNS_CONFIG, "terminationGracePeriodSeconds": 60,
                         "affinity": host_anti_affinity(selector),
                         "containers": [proxy, websocket]}}}},
        ("PodDisruptionBudget", r): {"metadata": meta, "spec": {
            "maxUnavailable": 1, "selector": {"matchLabels": selector}}},
    }


# --- TLS (docs/kaap-parity.md#what-kaap-writes-with-tls) -----------------------------------------


def broker_config(n: str, ns: str) -> dict:
    """docs/kaap-parity.md#broker and #rack-awareness: the broker's defaults."""
    return {**LOG_KEYS, **prefixed({
        "zookeeperServers": zookeeper(n, ns), "configurationStoreServers": zookeeper(n, ns),
        "clusterName": n, "allowAutoTopicCreationType": "non-partitioned",
        "PULSAR_MEM": "-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError",
        "brokerDeduplicationEnabled": "false", "exposeTopicLevelMetricsInPrometheus": "true",
        "exposeConsumerLevelMetricsInPrometheus": "false",
        "backlogQuotaDefaultRetentionPolicy": "producer_exception",
        "bookkeeperClientRegionawarePolicyEnabled": "true"})}


BROKER_TLS = prefixed({
    "tlsEnabled": "true", "tlsCertificateFilePath": CERT, "tlsKeyFilePath": f" {KEY}",
    "tlsTrustCertsFilePath": CA, "brokerServicePortTls": "6651", "webServicePortTls": "8443",
    "brokerClientTlsEnabled": "true", "brokerClientTrustCertsFilePath": CA,
    "brokerClient_tlsHostnameVerificationEnable": "true"})

BROKER_AS_BOOKIE_CLIENT = prefixed({
    "bookkeeperTLSClientAuthentication": "true", "bookkeeperTLSKeyFileType": "PEM",
    "bookkeeperTLSKeyFilePath": KEY, "bookkeeperTLSCertificateFilePath": CERT,
    "bookkeeperTLSTrustCertsFilePath": CA, "bookkeeperTLSTrustCertTypes": "PEM",
    "bookkeeperUseV2WireProtocol": "false"})

# the bookie's own TLS (server and, for autorecovery, client): OpenSSL provider, PEM files
BOOKIE_TLS = prefixed({
    "tlsProvider": "OpenSSL",
    "tlsProviderFactoryClass": "org.apache.bookkeeper.tls.TLSContextFactory",
    "tlsCertificatePath": CERT, "tlsKeyStoreType": "PEM", "tlsKeyStore": KEY,
    "tlsTrustStoreType": "PEM", "tlsHostnameVerificationEnabled": "true"})

RACK_RESOLVER = "org.apache.pulsar.zookeeper.ZkBookieRackAffinityMapping"


def bookie_config(n: str, ns: str) -> dict:
    """docs/kaap-parity.md#bookkeeper and #rack-awareness: the bookie's defaults."""
    return {**LOG_KEYS, **prefixed({
        "autoRecoveryDaemonEnabled": "false", "useHostNameAsBookieID": "true",
        "httpServerEnabled": "true", "reppDnsResolverClass": RACK_RESOLVER,
        "BOOKIE_MEM": "-Xms2g -Xmx2g -XX:MaxDirectMemorySize=2g "
                      "-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError",
        "BOOKIE_GC": "-XX:+UseG1GC",
        "statsProviderClass": "org.apache.bookkeeper.stats.prometheus.PrometheusMetricsProvider",
        "zkServers": zookeeper(n, ns)})}


# KAAP asks bookies for client certificates with the brokers' key names
# (docs/kaap-parity.md#keys-pulsar-does-not-read)
BOOKIE_CLIENT_AUTH_AS_KAAP = prefixed({"bookkeeperTLSClientAuthentication": "true",
                                       "bookkeeperTLSTrustCertsFilePath": CA})


def autorecovery_config(n: str, ns: str) -> dict:
    """docs/kaap-parity.md#autorecovery and #rack-awareness."""
    return {**LOG_KEYS, **prefixed({
        "reppDnsResolverClass": RACK_RESOLVER, "zkServers": zookeeper(n, ns),
        "BOOKIE_MEM": "-Xms512m -Xmx512m -XX:+ExitOnOutOfMemoryError", "BOOKIE_GC": "-XX:+UseG1GC",
        "ensemblePlacementPolicy":
            "org.apache.bookkeeper.client.RegionAwareEnsemblePlacementPolicy"})}


# autorecovery with its own TLS is a bookie TLS client with a certificate
AUTORECOVERY_TLS = {**BOOKIE_TLS, **prefixed({"tlsClientAuthentication": "true",
                                               "tlsTrustStore": CA})}


def proxy_tls(n: str, ns: str) -> dict:
    """The proxy's TLS keys with broker TLS and a standalone functions worker with TLS."""
    return prefixed({
        "tlsEnabledInProxy": "true", "tlsCertificateFilePath": CERT, "tlsKeyFilePath": KEY,
        "tlsTrustCertsFilePath": CA, "brokerClientTrustCertsFilePath": CA,
        "tlsKeyStore": KEYSTORE, "tlsTrustStore": TRUSTSTORE,
        "brokerClientTlsTrustStore": TRUSTSTORE,
        "servicePortTls": "6651", "brokerServicePortTls": "6651", "webServicePortTls": "8443",
        "tlsEnabledWithBroker": "true", "tlsHostnameVerificationEnabled": "true",
        "functionWorkerWebServiceURLTLS": f"https://{host(n, ns, 'function-ca')}:6751"})


WEBSOCKET_TLS = prefixed({
    "tlsEnabled": "true", "webServicePortTls": "8001", "tlsCertificateFilePath": CERT,
    "tlsKeyFilePath": KEY, "tlsKeyStore": KEYSTORE, "tlsTrustStore": TRUSTSTORE,
    "tlsTrustCertsFilePath": CA, "brokerClientTlsEnabled": "true",
    "brokerClientTrustCertsFilePath": CA})


# --- functions worker (docs/kaap-parity.md#functions-worker) -------------------------------------


def worker_file(n: str, ns: str, broker_tls: bool = False) -> dict:
    """functions_worker.yml as KAAP's writer leaves it: numbers as integers, `true` as a
    string; the worker dials the brokers' TLS URLs when it talks TLS to them."""
    urls = broker_urls(n, ns)
    return {
        "configurationStoreServers": zookeeper(n, ns), "zookeeperServers": zookeeper(n, ns),
        "zooKeeperSessionTimeoutMillis": 30000, "pulsarFunctionsCluster": n,
        "workerId": f"{n}-function", "workerHostname": f"{n}-function", "workerPort": 6750,
        "pulsarServiceUrl": urls["pulsar+ssl" if broker_tls else "pulsar"],
        "pulsarWebServiceUrl": urls["https" if broker_tls else "http"],
        "downloadDirectory": "/tmp/pulsar_functions",
        "pulsarFunctionsNamespace": "public/functions", "functionMetadataTopicName": "metadata",
        "clusterCoordinationTopicName": "coordinate", "functionAssignmentTopicName": "assignments",
        "numHttpServerThreads": 16,
        "schedulerClassName": "org.apache.pulsar.functions.worker.scheduler.RoundRobinScheduler",
        "failureCheckFreqMs": 30000, "rescheduleTimeoutMs": 60000,
        "initialBrokerReconnectMaxRetries": 60, "assignmentWriteMaxRetries": 60,
        "instanceLivenessCheckFreqMs": 30000, "topicCompactionFrequencySec": 1800,
        "includeStandardPrometheusMetrics": "true", "connectorsDirectory": "./connectors",
        "numFunctionPackageReplicas": 2,
        "functionRuntimeFactoryClassName":
            "org.apache.pulsar.functions.runtime.process.ProcessRuntimeFactory",
        "functionRuntimeFactoryConfigs": {}}


# with TLS to the brokers and bookie TLS: the worker's TLS keys, its JKS stores and KAAP's one
# bookie key, a broker key the worker ignores (docs/kaap-parity.md#keys-pulsar-does-not-read)
WORKER_TLS = {
    "tlsEnabled": "true", "workerPortTls": 6751, "tlsCertificateFilePath": CERT,
    "tlsKeyFilePath": KEY, "tlsTrustCertsFilePath": CA, "brokerClientTrustCertsFilePath": CA,
    "useTls": "true", "tlsEnableHostnameVerification": "true",
    "tlsEnabledWithKeyStore": "true", "tlsKeyStore": KEYSTORE, "tlsTrustStore": TRUSTSTORE,
    "bookkeeperTLSClientAuthentication": "true"}

WORKER_RBAC_RULES = [   # docs/kaap-parity.md#functions-worker: what the kubernetes runtime needs
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "create", "delete"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get", "create", "delete"]}]


def worker_objects(n: str, ns: str) -> dict:
    """The functions worker's objects with KAAP's defaults (two replicas given)."""
    r = f"{n}-function"
    selector = meta_labels = labels(n, "function")
    ports = [{"name": "http", "port": 6750}, {"name": "https", "port": 6751}]
    return {
        ("ServiceAccount", r): {"metadata": {"name": r}},
        ("Role", r): {"metadata": {"name": r}, "rules": WORKER_RBAC_RULES},
        ("RoleBinding", r): {"metadata": {"name": r},
                             "roleRef": {"kind": "Role", "name": r},
                             "subjects": [{"kind": "ServiceAccount", "name": r, "namespace": ns}]},
        ("ConfigMap", r): {"metadata": {"name": r, "labels": meta_labels},
                           "data": {"functions_worker.yml": worker_file(n, ns)}},
        ("ConfigMap", f"{r}-extra"): {"metadata": {"name": f"{r}-extra", "labels": meta_labels},
                                      "data": {**LOG_KEYS,
                                               "PULSAR_MEM": "-XX:+ExitOnOutOfMemoryError"}},
        ("Service", f"{r}-ca"): {"metadata": {"name": f"{r}-ca", "labels": meta_labels},
                                 "spec": {"ports": ports, "selector": selector}},
        ("Service", r): {"metadata": {"name": r, "labels": meta_labels},
                         "spec": {"type": "ClusterIP", "clusterIP": "None", "ports": ports,
                                  "selector": selector}},
        ("PodDisruptionBudget", r): {"metadata": {"name": r, "labels": meta_labels}, "spec": {
            "maxUnavailable": 1, "selector": {"matchLabels": selector}}},
    }


def worker_statefulset(n: str, ns: str, image: str) -> dict:
    """The worker's StatefulSet (docs/kaap-parity.md#functions-worker): the file mounted from
    ConfigMap `R`, the pod name as worker id and hostname, the logs claim (with the apiVersion
    and kind KAAP's claim templates carry, docs/kaap-parity.md#storage-objects), liveness by
    curl and readiness on the port, Prometheus annotated with 8080 (Q18)."""
    r = f"{n}-function"
    selector = labels(n, "function")
    pod_name = {"valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    worker = {
        "name": r, "image": image, "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c"],
        "args": ["bin/apply-config-from-env.py conf/broker.conf && cp -f "
                 "funcconf/functions_worker.yml conf/functions_worker.yml && export "
                 f'PF_workerHostname="${{workerHostname}}.{r}" && bin/gen-yml-from-env.py '
                 'conf/functions_worker.yml && OPTS="${OPTS} -Dlog4j2.formatMsgNoLookups=true" '
                 "exec bin/pulsar functions-worker"],
        "resources": {"requests": {"cpu": "1", "memory": "4Gi"}},
        "ports": [{"name": "http", "containerPort": 6750},
                  {"name": "https", "containerPort": 6751}],
        "env": [{"name": "workerHostname", **pod_name}, {"name": "PF_workerId", **pod_name}],
        "envFrom": [{"configMapRef": {"name": f"{r}-extra"}}],
        "livenessProbe": curl_probe("http://localhost:6750/metrics/"),
        "readinessProbe": {"tcpSocket": {"port": 6750}, "initialDelaySeconds": 10,
                           "periodSeconds": 30, "timeoutSeconds": 5},
        "volumeMounts": [{"name": "config-volume",
                          "mountPath": "/pulsar/funcconf/functions_worker.yml",
                          "subPath": "functions_worker.yml"},
                         {"name": f"{r}-logs", "mountPath": "/pulsar/logs"}]}
    return {"metadata": {"name": r, "labels": selector}, "spec": {
        "replicas": 2, "selector": {"matchLabels": selector}, "serviceName": r,
        "podManagementPolicy": "Parallel", "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {"labels": selector, "annotations": {"prometheus.io/scrape": "true",
                                                             "prometheus.io/port": "8080"}},
            "spec": {"dnsConfig": DNS_CONFIG, "serviceAccountName": r,
                     "terminationGracePeriodSeconds": 60, "securityContext": {"fsGroup": 0},
                     "affinity": host_anti_affinity(selector), "containers": [worker],
                     "volumes": [{"name": "config-volume", "configMap": {"name": r}}]}},
        "volumeClaimTemplates": [{
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": f"{r}-logs", "labels": selector},
            "spec": {"accessModes": ["ReadWriteOnce"],
                     "resources": {"requests": {"storage": "5Gi"}}}}]}}
