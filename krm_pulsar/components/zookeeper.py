"""ZooKeeper: the metadata store when Oxia is not used (kaap-parity.md#zookeeper)."""

from __future__ import annotations

from .. import jvm, names, security, storage, tls_plan, workload
from ..endpoints import CLIENT, ELECTION, QUORUM, number, port
from ..registry import metrics_port

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

COMPONENT = "zookeeper"
DATA_MOUNT = "/pulsar/data"

PULSAR_MEM_OPTIONS = "-Dcom.sun.management.jmxremote -Djute.maxbuffer=10485760"
CONFIG_DEFAULTS = {
    "PULSAR_MEM": PULSAR_MEM_OPTIONS,
    "PULSAR_LOG_LEVEL": "info",
    "PULSAR_LOG_ROOT_LEVEL": "info",
    "PULSAR_EXTRA_OPTS": "-Dzookeeper.tcpKeepAlive=true -Dzookeeper.clientTcpKeepAlive=true "
                         "-Dpulsar.log.root.level=info",
}

# ZooKeeper TLS keys (kaap-parity.md#zookeeper); TLSv1.2 keeps ZooKeeper < 3.9.2 peers compatible
TLS_CONFIG = {
    "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
    "secureClientPort": str(number(COMPONENT, CLIENT, tls=True)),
    "sslQuorum": "true",
    "ssl.protocol": "TLSv1.2",
    "ssl.quorum.protocol": "TLSv1.2",
}

FORBIDDEN_ENV = ("ZOOKEEPER_SERVERS",)


def render(cluster: Cluster) -> list:
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0 or cluster.oxia:
        return []
    name, labels, match, pod_labels = cluster.identity(COMPONENT, spec)
    annotations = spec["annotations"]

    plan = cluster.tls_plan(COMPONENT)
    tls = plan.serves
    defaults = {**CONFIG_DEFAULTS, **(TLS_CONFIG if tls else {})}
    if not cluster.kaap_input:  # KAAP input keeps KAAP's JVM settings
        defaults["PULSAR_MEM"] = jvm.with_memory("zookeeper", spec.get("resources"),
                                                 PULSAR_MEM_OPTIONS)
    cm = workload.config_map(cluster, name, labels, annotations,
                             workload.config_data(defaults, spec["config"]))

    data = storage.data_volume(cluster, spec["dataVolume"], name, DATA_MOUNT, labels,
                               annotations)
    certs_mounts, certs_volumes = plan.volume()
    mounts = [data.mount, *certs_mounts]
    volumes = ([data.volume] if data.volume else []) + certs_volumes
    tls_step = plan.steps(cluster)
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
        ports=[port(COMPONENT, CLIENT).container(), port(COMPONENT, QUORUM).container(),
               port(COMPONENT, ELECTION).container()],
        env=[{"name": "ZOOKEEPER_SERVERS", "value": servers}],
        env_from=[name],
        probes=(ruok("liveness"), ruok("readiness"), ruok("startup")),
        mounts=mounts,
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match, volumes=volumes)
    template = workload.pod_template(
        pod_labels,
        workload.pod_annotations(cluster, spec, metrics_port(COMPONENT), [cm]),
        pod)
    service_ports = [port(COMPONENT, QUORUM).service(), port(COMPONENT, ELECTION).service(),
                     port(COMPONENT, CLIENT).service()]
    if tls:
        service_ports.append(port(COMPONENT, CLIENT, tls=True).service())
    objects = [
        cm,
        workload.service(cluster, name, labels, match, service_ports, spec["service"],
                         headless=True, publish_not_ready=True,
                         extra_annotations={
                             names.TOLERATE_UNREADY: "true"}),
        workload.service(cluster, f"{name}-ca", labels, match, service_ports, spec["service"]),
        workload.statefulset(
            cluster, name, labels, annotations, replicas=spec["replicas"], selector=match,
            service_name=name, template=template,
            pod_management_policy=spec["podManagementPolicy"],
            update_strategy=spec["updateStrategy"],
            volume_claim_templates=[data.claim] if data.claim else None),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
        metadata_job(cluster, spec, labels),
    ]
    if data.storage_class:
        objects.append(data.storage_class)
    return [obj for obj in objects if obj]


def metadata_job(cluster: Cluster, spec: dict, labels: dict) -> dict:
    """``<name>-zookeeper-metadata-<hash>``: cluster metadata initialization against ZooKeeper."""
    name = f"{cluster.resource_name(COMPONENT)}-metadata"
    # the job is a ZooKeeper client: the same stores and client options as the servers
    plan = tls_plan.client_plan(cluster, security.secret_name(cluster.spec, COMPONENT),
                                ("zookeeper",))
    tls: dict = {}
    if plan.mounted:
        mounts, volumes = plan.volume()
        tls = {"pre_steps": plan.steps(cluster), "mounts": mounts, "volumes": volumes}
    return workload.cluster_metadata_job(cluster, name, labels, spec["annotations"], spec,
                                         spec["metadataInitializationJob"],
                                         service_account=True,
                                         pod_component=f"{cluster.base_name(COMPONENT)}-metadata",
                                         **tls)
