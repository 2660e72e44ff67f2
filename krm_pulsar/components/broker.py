"""Brokers: one StatefulSet per resource set, behind an umbrella Service (kaap-parity.md#broker)."""

from __future__ import annotations

from .. import autoscaling, jvm, placement, security, startup, storage, tls_plan, workload
from ..endpoints import HTTP, KAFKA, KAFKA_SCHEMA_REGISTRY, PULSAR, localhost_url, number, port
from ..registry import metrics_port
from ..schema import SpecError, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..placement import ResourceSet

COMPONENT = "broker"
PULSAR_MEM_OPTIONS = ("-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError")
STATUS_FILE = "/pulsar/status"
# Pulsar's defaults (broker.conf) for the managed-ledger quorums and the racks per write quorum
QUORUM_KEYS = ("managedLedgerDefaultEnsembleSize", "managedLedgerDefaultWriteQuorum",
               "managedLedgerDefaultAckQuorum")
PULSAR_DEFAULT_QUORUM = 2
PULSAR_DEFAULT_MIN_RACKS = 2


def auth_config(cluster: Cluster) -> dict:
    """Token authentication and authorization (kaap-parity.md#broker); tokens and keys are files
    from the mounted Secrets. ``authPlugin``/``authParams`` are for client.conf (pulsar-admin in the
    pod)."""
    conf = security.token(cluster.spec)
    return {
        **security.server_auth_config(cluster.spec, "superuser"),
        "proxyRoles": security.roles_csv(conf["proxyRoles"]),
        "authPlugin": security.TOKEN_CLIENT_PLUGIN,
        "authParams": f"file://{security.STRIPPED_SUPERUSER_TOKEN}",
    }


def tls_config(cluster: Cluster) -> dict:
    ca = security.ca_path(cluster.spec)
    return {
        "tlsEnabled": "true",
        "tlsCertificateFilePath": security.CERT_FILE,
        # KAAP input: KAAP's value, leading blank included (Java's properties loader drops
        # it); ours: the PKCS#8 copy (security.PK8_KEY_FILE)
        "tlsKeyFilePath": f" {security.KEY_FILE}" if cluster.kaap_input
        else security.PK8_KEY_FILE,
        "tlsTrustCertsFilePath": ca,
        "brokerServicePortTls": str(number(COMPONENT, PULSAR, tls=True)),
        "webServicePortTls": str(number(COMPONENT, HTTP, tls=True)),
        "brokerClientTlsEnabled": "true",
        "brokerClientTrustCertsFilePath": ca,
        "brokerClient_tlsHostnameVerificationEnable": "true",
    }


def config_defaults(cluster: Cluster, spec: dict, set_name: str | None = None) -> dict:
    defaults = {
        **cluster.metadata_store_keys(COMPONENT),
        "clusterName": cluster.cluster_name,
        "allowAutoTopicCreationType": "non-partitioned",
        # KAAP input keeps KAAP's JVM settings; ours are sized from the broker's memory
        "PULSAR_MEM": PULSAR_MEM_OPTIONS if cluster.kaap_input
        else jvm.with_memory("broker", spec.get("resources"), PULSAR_MEM_OPTIONS),
        **workload.LOG_CONFIG,
        "brokerDeduplicationEnabled": "false",
        "exposeTopicLevelMetricsInPrometheus": "true",
        "exposeConsumerLevelMetricsInPrometheus": "false",
        "backlogQuotaDefaultRetentionPolicy": "producer_exception",
        **placement.broker_rack_config(),
    }
    if uses_status_file(spec):
        defaults["statusFilePath"] = STATUS_FILE
    defaults.update(quorum_defaults(cluster))
    if spec["functionsWorkerEnabled"]:
        defaults["functionsWorkerEnabled"] = "true"
        if cluster.kaap_input:
            # KAAP also writes three functions_worker.yml keys into broker.conf, where nothing
            # reads them: the embedded worker takes the cluster name and its broker's URLs from
            # the broker itself (kaap-parity.md#keys-pulsar-does-not-read)
            defaults.update({
                "pulsarFunctionsCluster": cluster.cluster_name,
                "pulsarServiceUrl": localhost_url("pulsar", COMPONENT, PULSAR),
                "pulsarWebServiceUrl": localhost_url("http", COMPONENT, HTTP),
            })
    if spec["transactions"]["enabled"]:
        defaults["transactionCoordinatorEnabled"] = "true"
    tls = security.tls_on(cluster.spec, COMPONENT, set_name)
    if security.auth_on(cluster.spec):
        defaults.update(auth_config(cluster))
    if tls:
        defaults.update(tls_config(cluster))
    if security.tls_on(cluster.spec, "bookkeeper"):
        # a BookKeeper client with its certificate (tls_plan: brokers are bookie clients)
        defaults.update(security.bookkeeper_client_tls_config(cluster.spec, cluster.kaap_input))
    if spec["kafka"]["enabled"]:
        # Kafka-on-Pulsar protocol handler keys, as KAAP writes them (plaintext listener)
        defaults.update({
            "protocolHandlerDirectory": "./protocols",
            "messagingProtocols": "kafka",
            "kopSchemaRegistryEnable": "true",
            "kopSchemaRegistryPort": str(number(COMPONENT, KAFKA_SCHEMA_REGISTRY)),
            "kafkaTransactionCoordinatorEnabled": "true",
            "kafkaNamespace": "kafka",
            "kafkaListeners": f"PLAINTEXT://0.0.0.0:{number(COMPONENT, KAFKA)}",
            "kafkaAdvertisedListeners": f"PLAINTEXT://advertisedAddress:{number(COMPONENT, KAFKA)}",
            "brokerEntryMetadataInterceptors":
                "org.apache.pulsar.common.intercept.AppendIndexMetadataInterceptor,"
                "org.apache.pulsar.common.intercept.AppendBrokerTimestampMetadataInterceptor",
            "brokerDeleteInactiveTopicsEnabled": "false",
        })
        if tls:
            defaults.update({
                "kopSchemaRegistryEnableTls": "true",
                "kafkaListeners": f"SASL_SSL://0.0.0.0:{number(COMPONENT, KAFKA, tls=True)}",
                "kafkaAdvertisedListeners":
                    f"SASL_SSL://advertisedAddress:{number(COMPONENT, KAFKA, tls=True)}",
                "kopSslTruststoreLocation": security.TRUSTSTORE,
            })
    defaults.update(storage.broker_package_config(cluster))
    return defaults


def _min_racks_per_write_quorum(config: dict) -> None:
    """KAAP: the write quorum also becomes the minimum number of racks per write quorum unless
    the user set it. Both plain and PULSAR_PREFIX_ spellings count (kaap-parity.md#q19)."""
    for quorum_key in ("managedLedgerDefaultWriteQuorum",
                       "PULSAR_PREFIX_managedLedgerDefaultWriteQuorum"):
        if quorum_key in config:
            if ("bookkeeperClientMinNumRacksPerWriteQuorum" not in config
                    and "PULSAR_PREFIX_bookkeeperClientMinNumRacksPerWriteQuorum" not in config):
                config["bookkeeperClientMinNumRacksPerWriteQuorum"] = config[quorum_key]
            return


def uses_status_file(spec: dict) -> bool:
    """Whether a probe reads ``/status.html``, which answers 200 only while the file named by
    ``statusFilePath`` exists (Pulsar's VipStatus)."""
    probes = spec["probes"]
    return (not probes["useHealthCheckForLiveness"] or not probes["useHealthCheckForReadiness"]
            or bool(probes["startup"]["enabled"]))


def bookie_count(cluster: Cluster) -> int:
    """Bookies of every rendered set together."""
    return sum(rset.spec["replicas"] for rset in placement.resource_sets(cluster, "bookkeeper")
               if rset.spec["replicas"] > 0)


def quorum_defaults(cluster: Cluster) -> dict:
    """Managed-ledger quorums that fit the bookies we render. Pulsar's defaults (2/2/2) need
    two bookies: with one, every ledger creation fails and ``/admin/v2/brokers/health``
    answers 500 "Not enough non-faulty bookies" forever. With fewer than two bookies the three
    quorums become the bookie count (user values win; `check_quorums` reports those that
    cannot be met). Only a ConfigMap changes, so KAAP input gets it too (KAAP writes no
    quorums; a KAAP cluster with one bookie never had healthy brokers)."""
    bookies = bookie_count(cluster)
    if not 0 < bookies < PULSAR_DEFAULT_QUORUM:
        return {}
    return {key: str(bookies) for key in QUORUM_KEYS}


def health_probe(config: dict, use_health_check: bool, fallback_path: str,
                 auth_header: str = "") -> dict | None:
    timeout = config.get("timeoutSeconds")
    path = "admin/v2/brokers/health" if use_health_check else fallback_path
    command = ["sh", "-c",
               # byte for byte KAAP's: the auth header (or nothing, leaving two spaces) after
               # --fail, so a cluster taken over from KAAP does not roll its pods
               f"curl -s --max-time {timeout} --fail {auth_header} "
               f"{localhost_url('http', COMPONENT, HTTP)}/{path} > /dev/null"]
    return workload.exec_probe(config, command)


def render(cluster: Cluster) -> list:
    objects = placement.render_sets(cluster, COMPONENT, render_set, umbrella_service)
    if objects:  # package storage objects only when some broker renders
        objects = storage.broker_package_objects(cluster) + objects
    return objects


def service_ports(spec: dict, tls: bool = False) -> list:
    entries = [(HTTP, False), (PULSAR, False)]
    if tls:
        entries += [(HTTP, True), (PULSAR, True)]
    entries.extend(kafka_ports(spec, tls))
    return [port(COMPONENT, protocol, with_tls).service() for protocol, with_tls in entries]


def kafka_ports(spec: dict, tls: bool = False) -> list[tuple[str, bool]]:
    """``(protocol, tls)`` of the Kafka listener and schema registry ports when Kafka is on and
    exposed (KAAP)."""
    kafka = spec["kafka"]
    if kafka["enabled"] and kafka["exposePorts"]:
        return [(KAFKA, tls), (KAFKA_SCHEMA_REGISTRY, False)]
    return []


def render_set(cluster: Cluster, rset: ResourceSet) -> list:
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
    plan = cluster.tls_plan(COMPONENT, rset)
    tls = plan.serves
    auth = security.auth_on(cluster.spec)
    mounts, volumes = plan.volume()
    if auth:
        token_mounts, token_volumes = security.token_volumes(("public-key", "superuser"))
        mounts += token_mounts
        volumes += token_volumes
    steps = plan.steps(cluster)
    steps += ("bin/apply-config-from-env.py conf/broker.conf && "
              "bin/apply-config-from-env.py conf/client.conf && "
              "bin/gen-yml-from-env.py conf/functions_worker.yml && ")
    if auth:
        steps += security.STRIP_TOKEN_STEP
    ports = [port(COMPONENT, HTTP).container(), port(COMPONENT, PULSAR).container()]
    if tls:
        ports += [port(COMPONENT, HTTP, tls=True).container(),
                  port(COMPONENT, PULSAR, tls=True).container()]
    if uses_status_file(spec):
        # /status.html answers 404 until this file exists (KAAP never writes it)
        steps += f'echo OK > "${{PULSAR_PREFIX_statusFilePath:-{STATUS_FILE}}}" && '
    header = security.curl_auth_header(cluster.spec)
    main = workload.container(
        name, spec,
        f"{steps}{workload.LOG4J_OPTS} exec bin/pulsar broker",
        ports=ports,
        env_from=[name],
        probes=(health_probe(probes["liveness"], probes["useHealthCheckForLiveness"],
                             "status.html", header),
                health_probe(probes["readiness"], probes["useHealthCheckForReadiness"],
                             "metrics/", header),
                health_probe(probes["startup"], False, "status.html", header)),
        mounts=mounts + package_mounts,
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match, rack=rset.rack,
                            init_containers=init_containers(cluster, rset),
                            volumes=volumes + package_volumes)
    template = workload.pod_template(
        rset.pod_labels(cluster),
        workload.pod_annotations(cluster, spec, metrics_port(COMPONENT), [cm]),
        pod)
    objects = [
        cm,
        # the brokers' DNS names (their advertised addresses) live under this Service: they
        # must resolve while a broker is not ready, for clients redirected to it (Helm chart)
        workload.service(cluster, name, labels, match, service_ports(spec, tls),
                         spec["service"], headless=True, type_=_service_type(spec),
                         publish_not_ready=True),
        workload.statefulset(
            cluster, name, labels, annotations, replicas=autoscaling.workload_replicas(spec),
            selector=match, service_name=name, template=template,
            pod_management_policy=spec["podManagementPolicy"],
            update_strategy=spec["updateStrategy"]),
        autoscaling.horizontal_pod_autoscaler(cluster, COMPONENT, rset),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
        transactions_job(cluster, rset) if spec["transactions"]["enabled"] else None,
    ]
    return [obj for obj in objects if obj]


def init_containers(cluster: Cluster, rset: ResourceSet) -> list:
    """Ours: wait for the BookKeeper instance id and the cluster metadata before the broker
    starts (startup.py). KAAP input keeps KAAP's pod template, which has none."""
    if cluster.kaap_input:
        return []
    secret = security.secret_name(cluster.spec, COMPONENT, rset.name)
    containers = [startup.wait_cluster_metadata(cluster, rset.spec, secret)]
    if bookie_count(cluster) > 0:
        containers.append(startup.wait_bookkeeper(cluster, rset.spec, secret))
    return containers


def _config_int(config: dict, key: str) -> int | None:
    """`key` of a broker config (plain or PULSAR_PREFIX_ spelling) as an int, or None."""
    for spelled in (key, "PULSAR_PREFIX_" + key):
        if config.get(spelled) is not None:
            try:
                return int(str(workload.config_value(config[spelled])).strip())
            except ValueError:
                return None
    return None


def _config_path(cluster: Cluster, rset: ResourceSet, key: str) -> str:
    raw_sets = (cluster.config.get("spec") or {}).get("broker", {}) or {}
    raw_set = ((raw_sets.get("sets") or {}).get(rset.name) or {}) if raw_sets.get("sets") \
        else {}
    if key in (raw_set.get("config") or {}) or f"PULSAR_PREFIX_{key}" in (
            raw_set.get("config") or {}):
        return f"spec.broker.sets.{rset.name}.config.{key}"
    return f"spec.broker.config.{key}"


def check_quorums(cluster: Cluster) -> list:
    """Managed-ledger quorums every broker set can meet with the bookies (and racks) we render:
    ensemble <= bookies, write quorum <= ensemble, ack quorum <= write quorum; and, where
    the broker enforces a minimum number of racks per write quorum, that many racks among the
    bookie sets. Errors for our API version (the brokers could never write), warnings for KAAP
    input (KAAP accepts them)."""
    bookies = bookie_count(cluster)
    if bookies <= 0:
        return []  # no bookies rendered: they run elsewhere
    racks = {rset.rack for rset in placement.resource_sets(cluster, "bookkeeper")
             if rset.spec["replicas"] > 0}
    finding = warning if cluster.kaap_input else SpecError
    findings = []
    fallback = quorum_defaults(cluster)
    for rset in placement.resource_sets(cluster, COMPONENT):
        if rset.spec["replicas"] <= 0:
            continue
        config = rset.spec["config"] or {}
        values = {}
        for key in QUORUM_KEYS:
            value = _config_int(config, key)
            values[key] = value if value is not None else int(
                fallback.get(key, PULSAR_DEFAULT_QUORUM))
        ensemble, write, ack = (values[key] for key in QUORUM_KEYS)
        problem = None
        if ensemble > bookies:
            problem = (QUORUM_KEYS[0], f"an ensemble of {ensemble} bookies, but {bookies} "
                                       f"bookie(s) are rendered (all sets)")
        elif write > ensemble:
            problem = (QUORUM_KEYS[1], f"a write quorum of {write} above the ensemble size "
                                       f"{ensemble}")
        elif ack > write:
            problem = (QUORUM_KEYS[2], f"an ack quorum of {ack} above the write quorum {write}")
        if problem:
            key, what = problem
            findings.append(finding(
                _config_path(cluster, rset, key),
                f"broker set {rset.name!r} asks for {what}: BookKeeper refuses to create such "
                f"ledgers, no topic can be written and /admin/v2/brokers/health fails. Keep "
                f"ensemble >= write quorum >= ack quorum and the ensemble <= the number of "
                f"bookies (spec.bookkeeper.replicas, all sets)"))
            continue
        enforce = str(workload.config_value(
            config.get("bookkeeperClientEnforceMinNumRacksPerWriteQuorum",
                       config.get("PULSAR_PREFIX_bookkeeperClientEnforceMinNumRacksPerWriteQuorum",
                                  "false")))).strip().lower() == "true"
        if enforce:
            min_racks = _config_int(config, "bookkeeperClientMinNumRacksPerWriteQuorum")
            if min_racks is None:  # KAAP's post-step copies the write quorum when it is given
                min_racks = write if _config_int(config, QUORUM_KEYS[1]) is not None \
                    else PULSAR_DEFAULT_MIN_RACKS
            if min_racks > len(racks):
                findings.append(finding(
                    _config_path(cluster, rset, "bookkeeperClientMinNumRacksPerWriteQuorum"),
                    f"broker set {rset.name!r} enforces {min_racks} racks per write quorum "
                    f"(bookkeeperClientEnforceMinNumRacksPerWriteQuorum), but the bookie sets "
                    f"are in {len(racks)} rack(s): ledger creation fails. Put bookie sets on "
                    f"more racks (spec.global.resourceSets.<set>.rack) or lower "
                    f"bookkeeperClientMinNumRacksPerWriteQuorum"))
    return findings


def transactions_job(cluster: Cluster, rset: ResourceSet) -> dict:
    """The transaction coordinator metadata Job of one set, named like its StatefulSet (KAAP).
    Retried until it succeeds (workload.job_container): it also waits for the cluster
    metadata, which creates the ``pulsar/system`` namespace it writes into."""
    spec = rset.spec
    transactions = spec["transactions"]
    command = (
        "bin/pulsar initialize-transaction-coordinator-metadata "
        f"--cluster {cluster.cluster_name} "
        f"--configuration-store {cluster.configuration_store} "
        f"--initial-num-transaction-coordinators {transactions['partitions']}"
    )
    # a ZooKeeper client with the set's certificates: the key and trust stores and the
    # ZooKeeper TLS options
    plan = tls_plan.client_plan(cluster, security.secret_name(cluster.spec, COMPONENT, rset.name),
                                ("zookeeper",))
    pre_steps = plan.steps(cluster)
    mounts, volumes = plan.volume()
    container = workload.job_container(
        rset.resource_name, spec, transactions["initJob"], command,
        "initializing the transaction coordinator metadata", pre_steps=pre_steps, mounts=mounts)
    return workload.job(cluster, rset.resource_name, rset.labels(cluster), spec["annotations"],
                        spec, container, pod_labels=rset.pod_labels(cluster),
                        pod_component=f"{cluster.base_name(COMPONENT)}-transactions",
                        pod_annotations=spec.get("podAnnotations"), service_account=True,
                        volumes=volumes)


def _service_type(spec: dict) -> str:
    # kaap-parity.md#q15: KAAP pairs any type with clusterIP: None, which the API server rejects for
    # LoadBalancer/NodePort. The broker Service stays headless ClusterIP; validation rejects
    # other types with a pointer to the proxy.
    return spec["service"]["type"]  # always ClusterIP here: render.check refuses others


def umbrella_service(cluster: Cluster) -> dict:
    spec = cluster.spec[COMPONENT]
    name = cluster.resource_name(COMPONENT)
    labels, match = placement.umbrella_labels(cluster, COMPONENT)
    return workload.service(cluster, name, labels, match,
                            service_ports(spec, security.tls_on(cluster.spec, COMPONENT)),
                            spec["service"], headless=True, type_=_service_type(spec))
