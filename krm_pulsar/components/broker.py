"""Brokers: one StatefulSet per resource set, behind an umbrella Service (KAAP §4.3)."""

from __future__ import annotations

from .. import placement, workload

COMPONENT = "broker"
PROMETHEUS_PORT = 8080


def config_defaults(cluster, spec: dict) -> dict:
    zk = cluster.zookeeper_connect
    defaults = {
        "zookeeperServers": zk,
        "configurationStoreServers": zk,
        "clusterName": cluster.cluster_name,
        "allowAutoTopicCreationType": "non-partitioned",
        "PULSAR_MEM": "-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError",
        "PULSAR_LOG_LEVEL": "info",
        "PULSAR_LOG_ROOT_LEVEL": "info",
        "PULSAR_EXTRA_OPTS": "-Dpulsar.log.root.level=info",
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


def health_probe(config: dict, use_health_check: bool, fallback_path: str) -> dict | None:
    timeout = config.get("timeoutSeconds")
    path = "admin/v2/brokers/health" if use_health_check else fallback_path
    command = ["sh", "-c",
               f"curl -s --max-time {timeout} --fail http://localhost:8080/{path} > /dev/null"]
    return workload.exec_probe(config, command)


def render(cluster) -> list:
    objects = []
    sets = placement.resource_sets(cluster, COMPONENT)
    for rset in sets:
        if rset.spec["replicas"] > 0:
            objects.extend(render_set(cluster, rset))
    if placement.umbrella_needed(cluster, COMPONENT, sets):
        objects.append(umbrella_service(cluster))
    return objects


def service_ports(spec: dict) -> list:
    return workload.ports(("http", 8080), ("pulsar", 6650))


def render_set(cluster, rset) -> list:
    spec = rset.spec
    name = rset.resource_name
    labels = rset.labels(cluster)
    match = rset.match_labels(cluster)
    annotations = spec["annotations"]
    cm = workload.config_map(
        cluster, name, labels, annotations,
        workload.config_data(config_defaults(cluster, spec), spec["config"],
                             post=_min_racks_per_write_quorum))
    probes = spec["probes"]
    main = workload.container(
        name, spec,
        "bin/apply-config-from-env.py conf/broker.conf && "
        "bin/apply-config-from-env.py conf/client.conf && "
        "bin/gen-yml-from-env.py conf/functions_worker.yml && "
        f"{workload.LOG4J_OPTS} exec bin/pulsar broker",
        ports=[{"name": "http", "containerPort": 8080},
               {"name": "pulsar", "containerPort": 6650}],
        env_from=[name],
        probes=(health_probe(probes["liveness"], probes["useHealthCheckForLiveness"],
                             "status.html"),
                health_probe(probes["readiness"], probes["useHealthCheckForReadiness"],
                             "metrics/")),
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match, rack=rset.rack)
    template = workload.pod_template(
        rset.pod_labels(cluster),
        workload.pod_annotations(spec, PROMETHEUS_PORT,
                                 workload.checksum_annotations(cluster, [cm])),
        pod)
    objects = [
        cm,
        workload.service(cluster, name, labels, match, service_ports(spec), spec["service"],
                         headless=True, type_=_service_type(spec)),
        workload.statefulset(
            cluster, name, labels, annotations, replicas=spec["replicas"], selector=match,
            service_name=name, template=template,
            pod_management_policy=spec["podManagementPolicy"],
            update_strategy=spec["updateStrategy"]),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
    ]
    return [obj for obj in objects if obj]


def _service_type(spec: dict) -> str:
    # KAAP Q15: KAAP pairs any type with clusterIP: None, which the API server rejects for
    # LoadBalancer/NodePort. The broker Service stays headless ClusterIP; validation rejects
    # other types with a pointer to the proxy.
    return spec["service"]["type"] or "ClusterIP"


def umbrella_service(cluster) -> dict:
    spec = cluster.spec[COMPONENT]
    name = cluster.resource_name(COMPONENT)
    labels, match = placement.umbrella_labels(cluster, COMPONENT)
    return workload.service(cluster, name, labels, match, service_ports(spec), spec["service"],
                            headless=True, type_=_service_type(spec))
