"""Brokers: one StatefulSet per resource set, behind an umbrella Service (KAAP §4.3)."""

from __future__ import annotations

from .. import placement, security, storage, workload

COMPONENT = "broker"
PROMETHEUS_PORT = 8080
KAFKA_PORT = 9092
KAFKA_SSL_PORT = 9093
KAFKA_SCHEMA_REGISTRY_PORT = 8081


def auth_config(cluster) -> dict:
    """Token authentication and authorization (KAAP §4.3); tokens and keys are files from
    the mounted Secrets. ``authPlugin``/``authParams`` are for client.conf (pulsar-admin in
    the pod)."""
    conf = security.token(cluster.spec)
    return {
        **security.server_auth_config(cluster.spec, "superuser"),
        "proxyRoles": security.roles_csv(conf["proxyRoles"]),
        "authPlugin": security.TOKEN_CLIENT_PLUGIN,
        "authParams": f"file://{security.STRIPPED_SUPERUSER_TOKEN}",
    }


def tls_config(cluster) -> dict:
    ca = security.ca_path(cluster.spec)
    return {
        "tlsEnabled": "true",
        "tlsCertificateFilePath": security.CERT_FILE,
        # KAAP writes " /pulsar/tls-pk8.key" with a leading blank; ours has none
        "tlsKeyFilePath": security.PK8_KEY_FILE,
        "tlsTrustCertsFilePath": ca,
        "brokerServicePortTls": str(security.BROKER_PULSAR_TLS_PORT),
        "webServicePortTls": str(security.BROKER_HTTPS_PORT),
        "brokerClientTlsEnabled": "true",
        "brokerClientTrustCertsFilePath": ca,
        "brokerClient_tlsHostnameVerificationEnable": "true",
    }


def config_defaults(cluster, spec: dict, set_name: str | None = None) -> dict:
    defaults = {
        **cluster.metadata_store_config("broker"),
        "clusterName": cluster.cluster_name,
        "allowAutoTopicCreationType": "non-partitioned",
        "PULSAR_MEM": "-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError",
        **workload.LOG_CONFIG,
        "brokerDeduplicationEnabled": "false",
        "exposeTopicLevelMetricsInPrometheus": "true",
        "exposeConsumerLevelMetricsInPrometheus": "false",
        "backlogQuotaDefaultRetentionPolicy": "producer_exception",
        **placement.broker_rack_config(),
    }
    probes = spec["probes"]
    if not probes["useHealthCheckForLiveness"] or not probes["useHealthCheckForReadiness"]:
        defaults["statusFilePath"] = "/pulsar/status"
    if spec["functionsWorkerEnabled"]:
        defaults.update({
            "functionsWorkerEnabled": "true",
            "pulsarFunctionsCluster": cluster.cluster_name,
            "pulsarServiceUrl": "pulsar://localhost:6650",
            "pulsarWebServiceUrl": "http://localhost:8080",
        })
    if spec["transactions"]["enabled"]:
        defaults["transactionCoordinatorEnabled"] = "true"
    tls = security.tls_on(cluster.spec, COMPONENT, set_name)
    if security.auth_on(cluster.spec):
        defaults.update(auth_config(cluster))
    if tls:
        defaults.update(tls_config(cluster))
    if security.tls_on(cluster.spec, "bookkeeper"):
        defaults.update(security.bookkeeper_client_tls_config(cluster.spec))
    if spec["kafka"]["enabled"]:
        # Kafka-on-Pulsar protocol handler keys, as KAAP writes them (plaintext listener)
        defaults.update({
            "protocolHandlerDirectory": "./protocols",
            "messagingProtocols": "kafka",
            "kopSchemaRegistryEnable": "true",
            "kopSchemaRegistryPort": str(KAFKA_SCHEMA_REGISTRY_PORT),
            "kafkaTransactionCoordinatorEnabled": "true",
            "kafkaNamespace": "kafka",
            "kafkaListeners": f"PLAINTEXT://0.0.0.0:{KAFKA_PORT}",
            "kafkaAdvertisedListeners": f"PLAINTEXT://advertisedAddress:{KAFKA_PORT}",
            "brokerEntryMetadataInterceptors":
                "org.apache.pulsar.common.intercept.AppendIndexMetadataInterceptor,"
                "org.apache.pulsar.common.intercept.AppendBrokerTimestampMetadataInterceptor",
            "brokerDeleteInactiveTopicsEnabled": "false",
        })
        if tls:
            defaults.update({
                "kopSchemaRegistryEnableTls": "true",
                "kafkaListeners": f"SASL_SSL://0.0.0.0:{KAFKA_SSL_PORT}",
                "kafkaAdvertisedListeners": f"SASL_SSL://advertisedAddress:{KAFKA_SSL_PORT}",
                "kopSslTruststoreLocation": security.TRUSTSTORE,
            })
    defaults.update(storage.broker_package_config(cluster))
    return defaults


def _min_racks_per_write_quorum(config: dict) -> None:
    """KAAP: the write quorum also becomes the minimum number of racks per write quorum unless
    the user set it. Both plain and PULSAR_PREFIX_ spellings count (KAAP Q19)."""
    for quorum_key in ("managedLedgerDefaultWriteQuorum",
                       "PULSAR_PREFIX_managedLedgerDefaultWriteQuorum"):
        if quorum_key in config:
            if ("bookkeeperClientMinNumRacksPerWriteQuorum" not in config
                    and "PULSAR_PREFIX_bookkeeperClientMinNumRacksPerWriteQuorum" not in config):
                config["bookkeeperClientMinNumRacksPerWriteQuorum"] = config[quorum_key]
            return


def health_probe(config: dict, use_health_check: bool, fallback_path: str,
                 auth_header: str = "") -> dict | None:
    timeout = config.get("timeoutSeconds")
    path = "admin/v2/brokers/health" if use_health_check else fallback_path
    command = ["sh", "-c",
               # byte for byte KAAP's: the auth header (or nothing, leaving two spaces) after
               # --fail, so a cluster taken over from KAAP does not roll its pods
               f"curl -s --max-time {timeout} --fail {auth_header} "
               f"http://localhost:8080/{path} > /dev/null"]
    return workload.exec_probe(config, command)


def render(cluster) -> list:
    objects = placement.render_sets(cluster, COMPONENT, render_set, umbrella_service)
    if objects:  # package storage objects only when some broker renders
        objects = storage.broker_package_objects(cluster) + objects
    return objects


def service_ports(spec: dict, tls: bool = False) -> list:
    entries = [("http", 8080), ("pulsar", 6650)]
    if tls:
        entries += [("https", security.BROKER_HTTPS_PORT),
                    ("pulsarssl", security.BROKER_PULSAR_TLS_PORT)]
    entries.extend(kafka_ports(spec, tls))
    return workload.ports(*entries)


def kafka_ports(spec: dict, tls: bool = False) -> list:
    """Kafka listener and schema registry ports when Kafka is on and exposed (KAAP)."""
    kafka = spec["kafka"]
    if kafka["enabled"] and kafka["exposePorts"]:
        listener = ("kafkassl", KAFKA_SSL_PORT) if tls else ("kafkaplaintext", KAFKA_PORT)
        return [listener, ("kafkaschemaregistry", KAFKA_SCHEMA_REGISTRY_PORT)]
    return []


def render_set(cluster, rset) -> list:
    spec = rset.spec
    name = rset.resource_name
    labels = rset.labels(cluster)
    match = rset.match_labels(cluster)
    annotations = spec["annotations"]
    cm = workload.config_map(
        cluster, name, labels, annotations,
        workload.config_data(config_defaults(cluster, spec, rset.name), spec["config"],
                             post=_min_racks_per_write_quorum))
    probes = spec["probes"]
    package_mounts, package_volumes = storage.broker_package_volume(cluster)
    tls = security.tls_on(cluster.spec, COMPONENT, rset.name)
    zk_tls = security.tls_on(cluster.spec, "zookeeper") and not cluster.oxia
    auth = security.auth_on(cluster.spec)
    mounts, volumes = [], []
    if tls or zk_tls or security.tls_on(cluster.spec, "bookkeeper"):
        mount, volume = security.certs_volume(
            security.secret_name(cluster.spec, COMPONENT, rset.name))
        mounts.append(mount)
        volumes.append(volume)
    if auth:
        token_mounts, token_volumes = security.token_volumes(("public-key", "superuser"))
        mounts += token_mounts
        volumes += token_volumes
    steps = ""
    if tls or security.tls_on(cluster.spec, "bookkeeper"):
        steps += security.PK8_STEP
    if tls or zk_tls:
        steps += security.keystore_step(cluster.spec)
    steps += ("bin/apply-config-from-env.py conf/broker.conf && "
              "bin/apply-config-from-env.py conf/client.conf && "
              "bin/gen-yml-from-env.py conf/functions_worker.yml && ")
    if auth:
        steps += security.STRIP_TOKEN_STEP
    ports = [{"name": "http", "containerPort": 8080},
             {"name": "pulsar", "containerPort": 6650}]
    if tls:
        ports += [{"name": "https", "containerPort": security.BROKER_HTTPS_PORT},
                  {"name": "pulsarssl", "containerPort": security.BROKER_PULSAR_TLS_PORT}]
    header = security.curl_auth_header(cluster.spec)
    main = workload.container(
        name, spec,
        f"{steps}{workload.LOG4J_OPTS} exec bin/pulsar broker",
        ports=ports,
        env_from=[name],
        probes=(health_probe(probes["liveness"], probes["useHealthCheckForLiveness"],
                             "status.html", header),
                health_probe(probes["readiness"], probes["useHealthCheckForReadiness"],
                             "metrics/", header)),
        mounts=mounts + package_mounts,
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match, rack=rset.rack,
                            volumes=volumes + package_volumes)
    template = workload.pod_template(
        rset.pod_labels(cluster),
        workload.pod_annotations(cluster, spec, PROMETHEUS_PORT, [cm]),
        pod)
    objects = [
        cm,
        workload.service(cluster, name, labels, match, service_ports(spec, tls),
                         spec["service"], headless=True, type_=_service_type(spec)),
        workload.statefulset(
            cluster, name, labels, annotations, replicas=spec["replicas"], selector=match,
            service_name=name, template=template,
            pod_management_policy=spec["podManagementPolicy"],
            update_strategy=spec["updateStrategy"]),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
        transactions_job(cluster, rset) if spec["transactions"]["enabled"] else None,
    ]
    return [obj for obj in objects if obj]


def transactions_job(cluster, rset) -> dict:
    """The transaction coordinator metadata Job of one set, named like its StatefulSet (KAAP).

    The args keep KAAP's multi-line form (backslash continuations, no empty line after them,
    which kustomize#4201 would break).
    """
    spec = rset.spec
    transactions = spec["transactions"]
    args = (
        "bin/pulsar initialize-transaction-coordinator-metadata "
        f"--cluster {cluster.cluster_name} \\\n"
        f"    --configuration-store {cluster.configuration_store} \\\n"
        f"    --initial-num-transaction-coordinators {transactions['partitions']}\n"
    )
    volumes = None
    if security.tls_on(cluster.spec, "zookeeper") and not cluster.oxia:
        # a ZooKeeper client: the key and trust stores and the ZooKeeper TLS options
        args = security.keystore_step(cluster.spec) + args
        mount, volume = security.certs_volume(
            security.secret_name(cluster.spec, COMPONENT, rset.name))
        volumes = [volume]
    container = {
        "name": rset.resource_name,
        "image": spec["image"],
        "imagePullPolicy": spec["imagePullPolicy"],
        "command": ["timeout", str(transactions["initJob"]["timeout"]), "sh", "-c"],
        "args": [args],
    }
    if volumes:
        container["volumeMounts"] = [mount]
    if transactions["initJob"].get("resources"):
        container["resources"] = transactions["initJob"]["resources"]
    return workload.job(cluster, rset.resource_name, rset.labels(cluster), spec["annotations"],
                        spec, container, pod_labels=rset.pod_labels(cluster),
                        pod_component=f"{cluster.base_name(COMPONENT)}-transactions",
                        pod_annotations=spec.get("podAnnotations"), service_account=True,
                        volumes=volumes)


def _service_type(spec: dict) -> str:
    # KAAP Q15: KAAP pairs any type with clusterIP: None, which the API server rejects for
    # LoadBalancer/NodePort. The broker Service stays headless ClusterIP; validation rejects
    # other types with a pointer to the proxy.
    return spec["service"]["type"]  # always ClusterIP here: render.check refuses others


def umbrella_service(cluster) -> dict:
    spec = cluster.spec[COMPONENT]
    name = cluster.resource_name(COMPONENT)
    labels, match = placement.umbrella_labels(cluster, COMPONENT)
    return workload.service(cluster, name, labels, match,
                            service_ports(spec, security.tls_on(cluster.spec, COMPONENT)),
                            spec["service"], headless=True, type_=_service_type(spec))
