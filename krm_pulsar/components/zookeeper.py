"""ZooKeeper: the metadata store when Oxia is not used (KAAP §4.1)."""

from __future__ import annotations

from .. import jvm, security, storage, workload

COMPONENT = "zookeeper"
PROMETHEUS_PORT = 8000
PORTS = (("server", 2888), ("leader-election", 3888), ("client", 2181))
DATA_MOUNT = "/pulsar/data"

PULSAR_MEM_OPTIONS = "-Dcom.sun.management.jmxremote -Djute.maxbuffer=10485760"
CONFIG_DEFAULTS = {
    "PULSAR_MEM": PULSAR_MEM_OPTIONS,
    "PULSAR_LOG_LEVEL": "info",
    "PULSAR_LOG_ROOT_LEVEL": "info",
    "PULSAR_EXTRA_OPTS": "-Dzookeeper.tcpKeepAlive=true -Dzookeeper.clientTcpKeepAlive=true "
                         "-Dpulsar.log.root.level=info",
}

# ZooKeeper TLS keys (KAAP §4.1); TLSv1.2 keeps ZooKeeper < 3.9.2 peers compatible
TLS_CONFIG = {
    "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
    "secureClientPort": str(security.ZOOKEEPER_TLS_PORT),
    "sslQuorum": "true",
    "ssl.protocol": "TLSv1.2",
    "ssl.quorum.protocol": "TLSv1.2",
}

FORBIDDEN_ENV = ("ZOOKEEPER_SERVERS",)


def render(cluster) -> list:
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0 or cluster.oxia:
        return []
    name, labels, match, pod_labels = cluster.identity(COMPONENT, spec)
    annotations = spec["annotations"]

    tls = security.tls_on(cluster.spec, COMPONENT)
    defaults = {**CONFIG_DEFAULTS, **(TLS_CONFIG if tls else {})}
    if not cluster.kaap_input:  # KAAP input keeps KAAP's JVM settings
        defaults["PULSAR_MEM"] = jvm.with_memory("zookeeper", spec.get("resources"),
                                                 PULSAR_MEM_OPTIONS)
    cm = workload.config_map(cluster, name, labels, annotations,
                             workload.config_data(defaults, spec["config"]))

    mount, volume, claim, created_class = storage.data_volume(
        cluster, spec["dataVolume"], name, DATA_MOUNT, labels, annotations)
    mounts, volumes = [mount], [volume] if volume else []
    tls_step = ""
    if tls:
        certs_mount, certs_volume = security.certs_volume(
            security.secret_name(cluster.spec, COMPONENT))
        mounts.append(certs_mount)
        volumes.append(certs_volume)
        tls_step = security.keystore_step(cluster.spec)
    servers = ",".join(f"{name}-{i}" for i in range(spec["replicas"]))
    def ruok(kind: str) -> dict | None:
        return workload.exec_probe(spec["probes"][kind], [
            "timeout", str(spec["probes"][kind]["timeoutSeconds"]),
            "bin/pulsar-zookeeper-ruok.sh"])

    main = workload.container(
        name, spec,
        "bin/apply-config-from-env.py conf/zookeeper.conf && "
        + tls_step
        + "bin/generate-zookeeper-config.sh conf/zookeeper.conf && "
        f"{workload.LOG4J_OPTS} exec bin/pulsar zookeeper",
        ports=[{"name": "client", "containerPort": 2181},
               {"name": "server", "containerPort": 2888},
               {"name": "leader-election", "containerPort": 3888}],
        env=[{"name": "ZOOKEEPER_SERVERS", "value": servers}],
        env_from=[name],
        probes=(ruok("liveness"), ruok("readiness"), ruok("startup")),
        mounts=mounts,
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match, volumes=volumes)
    template = workload.pod_template(
        pod_labels,
        workload.pod_annotations(cluster, spec, PROMETHEUS_PORT, [cm]),
        pod)
    service_ports = workload.ports(*PORTS, *((("client-tls", security.ZOOKEEPER_TLS_PORT),)
                                             if tls else ()))
    objects = [
        cm,
        workload.service(cluster, name, labels, match, service_ports, spec["service"],
                         headless=True, publish_not_ready=True,
                         extra_annotations={
                             "service.alpha.kubernetes.io/tolerate-unready-endpoints": "true"}),
        workload.service(cluster, f"{name}-ca", labels, match, service_ports, spec["service"]),
        workload.statefulset(
            cluster, name, labels, annotations, replicas=spec["replicas"], selector=match,
            service_name=name, template=template,
            pod_management_policy=spec["podManagementPolicy"],
            update_strategy=spec["updateStrategy"],
            volume_claim_templates=[claim] if claim else None),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
        metadata_job(cluster, spec, labels),
    ]
    if created_class:
        objects.append(created_class)
    return [obj for obj in objects if obj]


def metadata_job(cluster, spec: dict, labels: dict) -> dict:
    """``<name>-zookeeper-metadata-<hash>``: cluster metadata initialization against ZooKeeper."""
    name = f"{cluster.resource_name(COMPONENT)}-metadata"
    tls = {}
    if security.tls_on(cluster.spec, COMPONENT):
        # the job is a ZooKeeper client: the same stores and client options as the servers
        mount, volume = security.certs_volume(security.secret_name(cluster.spec, COMPONENT))
        tls = {"pre_steps": security.keystore_step(cluster.spec), "mounts": [mount],
               "volumes": [volume]}
    return workload.cluster_metadata_job(cluster, name, labels, spec["annotations"], spec,
                                         spec["metadataInitializationJob"],
                                         service_account=True,
                                         pod_component=f"{cluster.base_name(COMPONENT)}-metadata",
                                         **tls)
