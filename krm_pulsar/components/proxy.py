"""Proxies: one Deployment per resource set, the cluster's front door (KAAP §4.4)."""

from __future__ import annotations

from .. import placement, workload

COMPONENT = "proxy"
PROMETHEUS_PORT = 8080
KAFKA_PORT = 9092
KAFKA_SCHEMA_REGISTRY_PORT = 8081


def config_defaults(cluster, spec: dict, name: str) -> dict:
    defaults = {
        "brokerServiceURL": cluster.broker_service_url,
        "brokerServiceURLTLS": cluster.broker_service_url_tls,
        "brokerWebServiceURL": cluster.broker_web_service_url,
        "brokerWebServiceURLTLS": cluster.broker_web_service_url_tls,
        **cluster.metadata_store_config("proxy"),
        "clusterName": cluster.cluster_name,
        "numHttpServerThreads": "10",
        "PULSAR_MEM": "-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError",
        "PULSAR_LOG_LEVEL": "info",
        "PULSAR_LOG_ROOT_LEVEL": "info",
        "PULSAR_EXTRA_OPTS": "-Dpulsar.log.root.level=info",
    }
    if spec["standaloneFunctionsWorker"]:
        defaults["functionWorkerWebServiceURL"] = cluster.functions_worker_url
    if spec["kafka"]["enabled"]:
        # Kafka-on-Pulsar proxy extension keys, as KAAP writes them (plaintext listener)
        defaults.update({
            "kopSchemaRegistryEnable": "true",
            "kopSchemaRegistryProxyPort": str(KAFKA_SCHEMA_REGISTRY_PORT),
            "kopSchemaRegistryProxyEnableTls": "false",
            "proxyExtensions": "kafka",
            "kafkaTransactionCoordinatorEnabled": "true",
            "kafkaNamespace": "kafka",
            "kafkaListeners": f"PLAINTEXT://0.0.0.0:{KAFKA_PORT}",
            "kafkaAdvertisedListeners": f"PLAINTEXT://{name}:{KAFKA_PORT}",
        })
    return defaults


def websocket_config_defaults(cluster, spec: dict) -> dict:
    return {
        "brokerServiceUrl": cluster.broker_service_url,
        "brokerServiceUrlTls": cluster.broker_service_url_tls,
        "serviceUrl": cluster.broker_web_service_url,
        "serviceUrlTls": cluster.broker_web_service_url_tls,
        **cluster.metadata_store_config("websocket"),
        "clusterName": cluster.cluster_name,
        "numHttpServerThreads": "10",
        "webServicePort": "8000",
        "PULSAR_MEM": "-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError",
        "PULSAR_LOG_LEVEL": "info",
        "PULSAR_LOG_ROOT_LEVEL": "info",
        "PULSAR_EXTRA_OPTS": "-Dpulsar.log.root.level=info",
    }


def render(cluster) -> list:
    return placement.render_sets(cluster, COMPONENT, render_set, umbrella_service)


def service_ports(spec: dict) -> list:
    # the ws port is there even when the websocket proxy is off (KAAP)
    entries = [("http", 8080), ("pulsar", 6650), ("ws", 8000)]
    kafka = spec["kafka"]
    if kafka["enabled"] and kafka["exposePorts"]:
        entries += [("kafkaplaintext", KAFKA_PORT),
                    ("kafkaschemaregistry", KAFKA_SCHEMA_REGISTRY_PORT)]
    return workload.ports(*entries)


def _service_extra(service_spec: dict) -> dict:
    extra = {}
    if service_spec.get("loadBalancerIP"):
        extra["loadBalancerIP"] = service_spec["loadBalancerIP"]
    if service_spec.get("loadBalancerClass"):
        extra["loadBalancerClass"] = service_spec["loadBalancerClass"]
    return extra


def proxy_service(cluster, name, labels, match, spec) -> dict:
    svc = workload.service(cluster, name, labels, match, service_ports(spec), spec["service"],
                           type_=spec["service"]["type"] or "LoadBalancer")
    svc["spec"].update(_service_extra(spec["service"]))
    return svc


def render_set(cluster, rset) -> list:
    spec = rset.spec
    name = rset.resource_name
    labels = rset.labels(cluster)
    match = rset.match_labels(cluster)
    annotations = spec["annotations"]
    cm = workload.config_map(
        cluster, name, labels, annotations,
        workload.config_data(config_defaults(cluster, spec, name), spec["config"]))
    config_maps = [cm]
    probes = spec["probes"]
    # two spaces after --fail, as KAAP writes it (see broker.health_probe)
    probe_cmd = ["sh", "-c", "curl -s --max-time {t} --fail  http://localhost:8080/metrics/ "
                 "> /dev/null"]
    containers = [workload.container(
        name, spec,
        "bin/apply-config-from-env.py conf/proxy.conf && "
        f"{workload.LOG4J_OPTS} exec bin/pulsar proxy",
        ports=[{"name": "http", "containerPort": 8080},
               {"name": "pulsar", "containerPort": 6650}],
        env_from=[name],
        probes=(_curl_probe(probes["liveness"], probe_cmd),
                _curl_probe(probes["readiness"], probe_cmd)),
    )]
    websocket = spec["webSocket"]
    if websocket["enabled"]:
        ws_name = f"{name}-ws"
        ws_cm = workload.config_map(
            cluster, ws_name, labels, annotations,
            workload.config_data(websocket_config_defaults(cluster, spec), websocket["config"]))
        config_maps.append(ws_cm)
        ws_probes = websocket["probes"]
        ws_probe_cmd = ["sh", "-c", "curl -s --max-time {t} --fail "
                        "http://localhost:8000/metrics/ > /dev/null"]
        containers.append(workload.container(
            # KAAP gives the websocket container the volume mounts but not the user's env
            ws_name, dict(spec, env=None),
            "bin/apply-config-from-env.py conf/websocket.conf && "
            f"{workload.LOG4J_OPTS} exec bin/pulsar websocket",
            ports=[{"name": "ws", "containerPort": 8000}],
            env_from=[ws_name],
            resources=websocket["resources"],
            probes=(_curl_probe(ws_probes["liveness"], ws_probe_cmd),
                    _curl_probe(ws_probes["readiness"], ws_probe_cmd)),
        ))
    pod = workload.pod_spec(cluster, spec, containers, match_labels=match, rack=rset.rack)
    template = workload.pod_template(
        rset.pod_labels(cluster),
        workload.pod_annotations(spec, PROMETHEUS_PORT,
                                 workload.checksum_annotations(cluster, config_maps)),
        pod)
    objects = [
        *config_maps,
        proxy_service(cluster, name, labels, match, spec),
        workload.deployment(cluster, name, labels, annotations, replicas=spec["replicas"],
                            selector=match, template=template, strategy=spec["updateStrategy"]),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
    ]
    return [obj for obj in objects if obj]


def _curl_probe(config: dict, command: list) -> dict | None:
    if not config or not config.get("enabled"):
        return None
    command = [part.format(t=config.get("timeoutSeconds")) for part in command]
    return workload.exec_probe(config, command)


def umbrella_service(cluster) -> dict:
    """The umbrella Service over every proxy of every set. KAAP makes it a LoadBalancer like
    the sets' Services (one more load balancer; KAAP Q13, kept for parity)."""
    spec = cluster.spec[COMPONENT]
    name = cluster.resource_name(COMPONENT)
    labels, match = placement.umbrella_labels(cluster, COMPONENT)
    return proxy_service(cluster, name, labels, match, spec)
