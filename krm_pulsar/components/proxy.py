"""Proxies: one Deployment per resource set, the cluster's front door (kaap-parity.md#proxy)."""

from __future__ import annotations

from .. import autoscaling, jvm, placement, security, workload
from ..endpoints import (
    HTTP,
    KAFKA,
    KAFKA_SCHEMA_REGISTRY,
    PULSAR,
    WEBSOCKET,
    localhost_url,
    number,
    port,
)
from ..registry import metrics_port

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..placement import ResourceSet

COMPONENT = "proxy"
PULSAR_MEM_OPTIONS = ("-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError")
# The websocket service serves /status.html (Pulsar's VipStatus) while this file exists; it
# has no /metrics (WebSocketServiceStarter registers /ws, /admin, /admin/v2 and /status.html).
WEBSOCKET_STATUS_FILE = "/pulsar/status"


def tls_config(cluster: Cluster, set_name: str | None) -> dict:
    """The proxy's own TLS listener and, with ``enabledWithBroker``, TLS to the brokers
    (kaap-parity.md#proxy). The proxy reads PEM files; the JKS stores serve the Kafka extension."""
    ca = security.ca_path(cluster.spec)
    config = {
        "tlsKeyStore": security.KEYSTORE,
        "tlsTrustStore": security.TRUSTSTORE,
        "brokerClientTlsTrustStore": security.TRUSTSTORE,
        "tlsEnabledInProxy": "true",
        "tlsCertificateFilePath": security.CERT_FILE,
        "tlsKeyFilePath": security.key_file(cluster.kaap_input),
        "tlsTrustCertsFilePath": ca,
        "brokerClientTrustCertsFilePath": ca,
        # the proxy's own TLS listeners (ProxyConfiguration's servicePortTls, webServicePortTls)
        "webServicePortTls": str(number(COMPONENT, HTTP, tls=True)),
        "servicePortTls": str(number(COMPONENT, PULSAR, tls=True)),
    }
    if cluster.kaap_input:
        # KAAP also writes the broker's name of the TLS port, which the proxy does not read
        # (kaap-parity.md#keys-pulsar-does-not-read)
        config["brokerServicePortTls"] = config["servicePortTls"]
    if security.tls_entry(cluster.spec, COMPONENT, set_name).get("enabledWithBroker"):
        config["tlsEnabledWithBroker"] = "true"
        config["tlsHostnameVerificationEnabled"] = "true"
    if security.tls_on(cluster.spec, "functionsWorker"):
        config["functionWorkerWebServiceURLTLS"] = cluster.functions_worker_url
    return config


def config_defaults(cluster: Cluster, spec: dict, name: str, set_name: str | None = None) -> dict:
    defaults = {
        "brokerServiceURL": cluster.broker_service_url,
        "brokerServiceURLTLS": cluster.broker_service_url_tls,
        "brokerWebServiceURL": cluster.broker_web_service_url,
        "brokerWebServiceURLTLS": cluster.broker_web_service_url_tls,
        **cluster.metadata_store_keys(COMPONENT),
        "clusterName": cluster.cluster_name,
        # KAAP's 10 HTTP threads under the broker's key name, which the proxy does not read;
        # ours under the proxy's (kaap-parity.md#keys-pulsar-does-not-read)
        ("numHttpServerThreads" if cluster.kaap_input else "httpNumThreads"): "10",
        **workload.LOG_CONFIG,
    }
    if not cluster.kaap_input:
        # KAAP writes no PULSAR_MEM for proxies since 2023 (datastax/kaap#133)
        defaults["PULSAR_MEM"] = jvm.with_memory("proxy", spec.get("resources"),
                                                 PULSAR_MEM_OPTIONS)
    if spec["standaloneFunctionsWorker"]:
        defaults["functionWorkerWebServiceURL"] = cluster.functions_worker_url
    if security.auth_on(cluster.spec):
        defaults.update(security.server_auth_config(cluster.spec, "proxy"))
    tls = security.tls_on(cluster.spec, COMPONENT, set_name)
    if tls:
        defaults.update(tls_config(cluster, set_name))
    elif spec["standaloneFunctionsWorker"] and security.tls_on(cluster.spec, "functionsWorker"):
        # the proxy forwards functions calls to the worker's https URL: it must trust its CA
        defaults["brokerClientTrustCertsFilePath"] = security.ca_path(cluster.spec)
    if spec["kafka"]["enabled"]:
        # Kafka-on-Pulsar proxy extension keys, as KAAP writes them (plaintext listener)
        defaults.update({
            "kopSchemaRegistryEnable": "true",
            "kopSchemaRegistryProxyPort": str(number(COMPONENT, KAFKA_SCHEMA_REGISTRY)),
            "kopSchemaRegistryProxyEnableTls": "false",
            "proxyExtensions": "kafka",
            "kafkaTransactionCoordinatorEnabled": "true",
            "kafkaNamespace": "kafka",
            "kafkaListeners": f"PLAINTEXT://0.0.0.0:{number(COMPONENT, KAFKA)}",
            "kafkaAdvertisedListeners": f"PLAINTEXT://{name}:{number(COMPONENT, KAFKA)}",
        })
        if tls:
            defaults.update({
                "kopSchemaRegistryProxyEnableTls": "true",
                "kafkaListeners": f"SASL_SSL://0.0.0.0:{number(COMPONENT, KAFKA, tls=True)}",
                "kafkaAdvertisedListeners":
                    f"SASL_SSL://{name}:{number(COMPONENT, KAFKA, tls=True)}",
                "kopSslTruststoreLocation": security.TRUSTSTORE,
            })
            if security.tls_entry(cluster.spec, COMPONENT, set_name).get("enabledWithBroker"):
                defaults["kopTlsEnabledWithBroker"] = "true"
    return defaults


def websocket_config_defaults(cluster: Cluster, spec: dict, set_name: str | None = None) -> dict:
    defaults = {
        "brokerServiceUrl": cluster.broker_service_url,
        "brokerServiceUrlTls": cluster.broker_service_url_tls,
        "serviceUrl": cluster.broker_web_service_url,
        "serviceUrlTls": cluster.broker_web_service_url_tls,
        **websocket_metadata_store_keys(cluster),
        "clusterName": cluster.cluster_name,
        "numHttpServerThreads": "10",
        "webServicePort": str(number(COMPONENT, WEBSOCKET)),
        **workload.LOG_CONFIG,
    }
    if not cluster.kaap_input:
        # KAAP writes no PULSAR_MEM for the websocket service since 2023 (datastax/kaap#133)
        defaults["PULSAR_MEM"] = jvm.with_memory(
            "websocket", spec["webSocket"].get("resources"), PULSAR_MEM_OPTIONS)
    if websocket_status_probes(cluster, spec):
        defaults["statusFilePath"] = WEBSOCKET_STATUS_FILE
    if security.auth_on(cluster.spec):
        defaults.update(security.server_auth_config(cluster.spec, "websocket"))
        # KAAP lets websocket clients authenticate with TLS certificates too
        defaults["authenticationProviders"] = (f"{security.TOKEN_PROVIDER},"
                                               f"{security.TLS_PROVIDER}")
    if security.tls_on(cluster.spec, COMPONENT, set_name):
        defaults.update({
            "webServicePortTls": str(number(COMPONENT, WEBSOCKET, tls=True)),
            "tlsEnabled": "true",
            "tlsCertificateFilePath": security.CERT_FILE,
            "tlsKeyFilePath": security.key_file(cluster.kaap_input),
            "tlsKeyStore": security.KEYSTORE,
            "tlsTrustStore": security.TRUSTSTORE,
        })
        if security.tls_entry(cluster.spec, COMPONENT, set_name).get("enabledWithBroker"):
            ca = security.ca_path(cluster.spec)
            defaults.update({"brokerClientTlsEnabled": "true", "tlsTrustCertsFilePath": ca,
                             "brokerClientTrustCertsFilePath": ca})
    return defaults


def websocket_metadata_store_keys(cluster: Cluster) -> dict:
    """The websocket service reads only the configuration store (WebSocketProxyConfiguration
    has no local metadata store); KAAP also writes ``zookeeperServers``, which it ignores
    (kaap-parity.md#keys-pulsar-does-not-read)."""
    keys = cluster.metadata_store_keys(COMPONENT)
    if not cluster.kaap_input:
        keys.pop("zookeeperServers", None)
    return keys


def render(cluster: Cluster) -> list:
    return placement.render_sets(cluster, COMPONENT, render_set, umbrella_service)


def check_rollout(cluster: Cluster) -> list:
    """A warning for each proxy set whose rolling update can hang: ``maxUnavailable: 0`` needs
    a free node for every surge pod, which a required host anti-affinity rules out when the
    nodes are as many as the proxies (model.DEPLOYMENT_STRATEGY)."""
    from ..schema import warning

    findings = []
    raw_proxy = (cluster.config.get("spec") or {}).get("proxy") or {}
    for rset in placement.resource_sets(cluster, COMPONENT):
        spec = rset.spec
        if spec["replicas"] <= 0:
            continue
        strategy = spec["updateStrategy"] or {}
        rolling = strategy.get("rollingUpdate") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate" or \
                str(rolling.get("maxUnavailable", "25%")).strip() not in ("0", "0%"):
            continue
        match = rset.match_labels(cluster)
        terms = ((placement.affinity(cluster, spec, match, rset.rack, stateless=True) or {})
                 .get("podAntiAffinity") or {}).get(
                     "requiredDuringSchedulingIgnoredDuringExecution") or []
        # the rack's own host rule as a spread constraint rules a shared node out just the same
        if not any(term.get("topologyKey") == cluster.glob["topologyKeys"]["host"]
                   for term in terms) and not placement.host_spread_replaces_anti_affinity(
                       cluster, spec, rset.rack, stateless=True):
            continue
        own = ((raw_proxy.get("sets") or {}).get(rset.name) or {}).get("updateStrategy")
        path = (f"spec.proxy.sets.{rset.name}.updateStrategy" if own
                else "spec.proxy.updateStrategy")
        findings.append(warning(
            f"{path}.rollingUpdate.maxUnavailable",
            f"proxy set {rset.name!r}: with maxUnavailable 0 and the required host "
            f"anti-affinity a rollout needs a node without a proxy for each surge pod; with as "
            f"many nodes as proxies it never progresses. Allow maxUnavailable: 1 (the default) "
            f"or make the host anti-affinity preferred"))
    return findings


def service_ports(spec: dict, tls: bool = False) -> list:
    """TLS ports when TLS is on; the plaintext ones when it is off or with
    ``service.enablePlainTextWithTLS``. KAAP also lists the websocket port when the websocket
    proxy is off; we leave it out then, since nothing listens on it (a share of the umbrella
    Service's websocket connections would be refused)."""
    websocket = spec["webSocket"]["enabled"]
    entries = []
    if tls:
        entries += [(HTTP, True), (PULSAR, True)]
        if websocket:
            entries.append((WEBSOCKET, True))
    if not tls or spec["service"]["enablePlainTextWithTLS"]:
        entries += [(HTTP, False), (PULSAR, False)]
        if websocket:
            entries.append((WEBSOCKET, False))
    kafka = spec["kafka"]
    if kafka["enabled"] and kafka["exposePorts"]:
        entries += [(KAFKA, tls), (KAFKA_SCHEMA_REGISTRY, False)]
    return [port(COMPONENT, protocol, with_tls).service() for protocol, with_tls in entries]


def _service_extra(service_spec: dict) -> dict:
    extra = {}
    if service_spec.get("loadBalancerIP"):
        extra["loadBalancerIP"] = service_spec["loadBalancerIP"]
    if service_spec.get("loadBalancerClass"):
        extra["loadBalancerClass"] = service_spec["loadBalancerClass"]
    return extra


def proxy_service(cluster: Cluster, name: str, labels: dict, match: dict, spec: dict,
                  tls: bool = False) -> dict:
    svc = workload.service(cluster, name, labels, match, service_ports(spec, tls),
                           spec["service"], type_=spec["service"]["type"])
    svc["spec"].update(_service_extra(spec["service"]))
    return svc


def render_set(cluster: Cluster, rset: ResourceSet) -> list:
    spec = rset.spec
    name = rset.resource_name
    labels = rset.labels(cluster)
    match = rset.match_labels(cluster)
    annotations = spec["annotations"]
    cm = workload.config_map(
        cluster, name, labels, annotations,
        workload.config_data(config_defaults(cluster, spec, name, rset.name), spec["config"]))
    config_maps = [cm]
    probes = spec["probes"]
    # KAAP mounts the certificates when the proxy or the brokers have TLS; ours also with
    # ZooKeeper TLS, because the proxies read the configuration store on ZooKeeper's TLS port,
    # and with functions worker TLS: its https URL is verified against the mounted CA
    plan = cluster.tls_plan(COMPONENT, rset)
    tls = plan.serves
    auth = security.auth_on(cluster.spec)
    mounts, volumes = plan.volume()
    if auth:
        # not the private key (KAAP mounts it): a proxy never signs tokens
        roles = ("public-key", "proxy", "websocket", "superuser") \
            if spec["webSocket"]["enabled"] else ("public-key", "proxy", "superuser")
        token_mounts, token_volumes = security.token_volumes(roles)
        mounts += token_mounts
        volumes += token_volumes
    tls_steps = plan.steps(cluster)
    # the auth header (or nothing, leaving KAAP's two spaces) after --fail
    header = security.curl_auth_header(cluster.spec).replace("{", "{{").replace("}", "}}")
    probe_cmd = ["sh", "-c", f"curl -s --max-time {{t}} --fail {header} "
                 f"{localhost_url('http', COMPONENT, HTTP)}/metrics/ > /dev/null"]
    ports = [port(COMPONENT, HTTP, tls).container(), port(COMPONENT, PULSAR, tls).container()]
    containers = [workload.container(
        name, spec,
        (security.STRIP_TOKEN_STEP if auth else "") + tls_steps
        + "bin/apply-config-from-env.py conf/proxy.conf && "
        f"{workload.LOG4J_OPTS} exec bin/pulsar proxy",
        ports=ports,
        env_from=[name],
        probes=(_curl_probe(probes["liveness"], probe_cmd),
                _curl_probe(probes["readiness"], probe_cmd)),
        mounts=mounts,
    )]
    websocket = spec["webSocket"]
    if websocket["enabled"]:
        ws_name = f"{name}-ws"
        ws_cm = workload.config_map(
            cluster, ws_name, labels, annotations,
            workload.config_data(websocket_config_defaults(cluster, spec, rset.name),
                                 websocket["config"]))
        config_maps.append(ws_cm)
        ws_port = port(COMPONENT, WEBSOCKET, tls).container()
        containers.append(workload.container(
            # KAAP gives the websocket container the volume mounts but not the user's env
            ws_name, dict(spec, env=None),
            # KAAP adds the tokenPublicKey line that websocket.conf lacks
            ('echo "tokenPublicKey=" >> /pulsar/conf/websocket.conf && ' if auth else "")
            + tls_steps
            + "bin/apply-config-from-env.py conf/websocket.conf && "
            + (f'echo OK > "${{PULSAR_PREFIX_statusFilePath:-{WEBSOCKET_STATUS_FILE}}}" && '
               if websocket_status_probes(cluster, spec) else "")
            + f"{workload.LOG4J_OPTS} exec bin/pulsar websocket",
            ports=[ws_port],
            env_from=[ws_name],
            resources=websocket["resources"],
            probes=websocket_probes(cluster, websocket["probes"], probe_cmd, tls),
            mounts=mounts,
        ))
    pod = workload.pod_spec(cluster, spec, containers, match_labels=match, rack=rset.rack,
                            volumes=volumes, stateless=True)
    template = workload.pod_template(
        rset.pod_labels(cluster),
        workload.pod_annotations(cluster, spec, metrics_port(COMPONENT), config_maps),
        pod)
    objects = [
        *config_maps,
        proxy_service(cluster, name, labels, match, spec, tls),
        workload.deployment(cluster, name, labels, annotations,
                            replicas=autoscaling.workload_replicas(spec), selector=match,
                            template=template, strategy=spec["updateStrategy"]),
        autoscaling.horizontal_pod_autoscaler(cluster, COMPONENT, rset),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
    ]
    return [obj for obj in objects if obj]


def websocket_status_probes(cluster: Cluster, spec: dict) -> bool:
    """Whether the websocket container is probed on its own ``/status.html`` (ours)."""
    probes = spec["webSocket"]["probes"]
    return not cluster.kaap_input and any(
        (probes[kind] or {}).get("enabled") for kind in ("liveness", "readiness"))


def websocket_probes(cluster: Cluster, probes: dict, proxy_probe_cmd: list, tls: bool) -> tuple:
    """The websocket container's probes. Ours: ``/status.html`` on the port it listens on
    (8001 over TLS when the proxy has TLS, else 8000). KAAP input: KAAP's, which it renders
    only when asked (they curl the proxy's /metrics/ on 8080 from the websocket container)."""
    if cluster.kaap_input:
        return (_curl_probe(probes["liveness"], proxy_probe_cmd),
                _curl_probe(probes["readiness"], proxy_probe_cmd))
    handler = {"path": "/status.html",
               "port": port(COMPONENT, WEBSOCKET, tls).container_name}
    if tls:
        handler["scheme"] = "HTTPS"  # the kubelet does not verify the certificate
    return tuple(workload._probe(probes[kind], {"httpGet": dict(handler)})
                 for kind in ("liveness", "readiness"))


def _curl_probe(config: dict, command: list) -> dict | None:
    if not config or not config.get("enabled"):
        return None
    command = [part.format(t=config.get("timeoutSeconds")) for part in command]
    return workload.exec_probe(config, command)


def umbrella_service(cluster: Cluster) -> dict:
    """The umbrella Service over every proxy of every set. KAAP makes it a LoadBalancer like
    the sets' Services (one more load balancer; kaap-parity.md#q13, kept for parity)."""
    spec = cluster.spec[COMPONENT]
    name = cluster.resource_name(COMPONENT)
    labels, match = placement.umbrella_labels(cluster, COMPONENT)
    return proxy_service(cluster, name, labels, match, spec, cluster.proxy_tls)
