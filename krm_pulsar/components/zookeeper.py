"""ZooKeeper: the metadata store when Oxia is not used (KAAP §4.1)."""

from __future__ import annotations

from .. import storage, workload

COMPONENT = "zookeeper"
PROMETHEUS_PORT = 8000
PORTS = (("server", 2888), ("leader-election", 3888), ("client", 2181))
DATA_MOUNT = "/pulsar/data"

CONFIG_DEFAULTS = {
    "PULSAR_MEM": "-Dcom.sun.management.jmxremote -Djute.maxbuffer=10485760",
    "PULSAR_LOG_LEVEL": "info",
    "PULSAR_LOG_ROOT_LEVEL": "info",
    "PULSAR_EXTRA_OPTS": "-Dzookeeper.tcpKeepAlive=true -Dzookeeper.clientTcpKeepAlive=true "
                         "-Dpulsar.log.root.level=info",
}

FORBIDDEN_ENV = ("ZOOKEEPER_SERVERS",)


def render(cluster) -> list:
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0 or cluster.oxia:
        return []
    name = cluster.resource_name(COMPONENT)
    labels = cluster.labels(COMPONENT, spec["labels"])
    match = cluster.selector_labels(COMPONENT, spec["matchLabels"])
    pod_labels = cluster.selector_labels(COMPONENT, spec["podLabels"])
    annotations = spec["annotations"]

    cm = workload.config_map(cluster, name, labels, annotations,
                             workload.config_data(CONFIG_DEFAULTS, spec["config"]))

    mount, volume, claim, created_class = storage.data_volume(
        cluster, spec["dataVolume"], name, DATA_MOUNT, labels, annotations)
    servers = ",".join(f"{name}-{i}" for i in range(spec["replicas"]))
    probe_cmd = ["timeout", str(spec["probes"]["liveness"]["timeoutSeconds"]),
                 "bin/pulsar-zookeeper-ruok.sh"]
    main = workload.container(
        name, spec,
        "bin/apply-config-from-env.py conf/zookeeper.conf && "
        "bin/generate-zookeeper-config.sh conf/zookeeper.conf && "
        f"{workload.LOG4J_OPTS} exec bin/pulsar zookeeper",
        ports=[{"name": "client", "containerPort": 2181},
               {"name": "server", "containerPort": 2888},
               {"name": "leader-election", "containerPort": 3888}],
        env=[{"name": "ZOOKEEPER_SERVERS", "value": servers}],
        env_from=[name],
        probes=(workload.exec_probe(spec["probes"]["liveness"], probe_cmd),
                workload.exec_probe(spec["probes"]["readiness"],
                                    ["timeout", str(spec["probes"]["readiness"]["timeoutSeconds"]),
                                     "bin/pulsar-zookeeper-ruok.sh"])),
        mounts=[mount],
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match,
                            volumes=[volume] if volume else None)
    template = workload.pod_template(
        pod_labels,
        workload.pod_annotations(spec, PROMETHEUS_PORT,
                                 workload.checksum_annotations(cluster, [cm])),
        pod)
    service_ports = workload.ports(*PORTS)
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
    """``initialize-cluster-metadata`` against ZooKeeper, with the umbrella broker URLs.

    KAAP runs it once the StatefulSet is ready; statically it starts at once, and
    ``restartPolicy: OnFailure`` with a backoff retries until ZooKeeper answers. The command
    is idempotent, so a re-created Job is harmless.
    """
    name = f"{cluster.resource_name(COMPONENT)}-metadata"
    job_spec = spec["metadataInitializationJob"]
    zk = cluster.zookeeper_connect
    args = (
        f"bin/pulsar initialize-cluster-metadata --cluster {cluster.cluster_name} "
        f"--zookeeper {zk} --configuration-store {zk} "
        f"--web-service-url {cluster.broker_web_service_url} "
        f"--broker-service-url {cluster.broker_service_url}"
    )
    container = {
        "name": name,
        "image": spec["image"],
        "imagePullPolicy": spec["imagePullPolicy"],
        "command": ["timeout", str(job_spec["timeout"]), "sh", "-c"],
        "args": [args],
    }
    if job_spec.get("resources"):
        container["resources"] = job_spec["resources"]
    pod = {}
    if spec.get("dnsConfig"):
        pod["dnsConfig"] = spec["dnsConfig"]
    if spec.get("priorityClassName"):
        pod["priorityClassName"] = spec["priorityClassName"]
    if spec.get("nodeSelectors"):
        pod["nodeSelector"] = dict(sorted(spec["nodeSelectors"].items()))
    if spec.get("tolerations"):
        pod["tolerations"] = spec["tolerations"]
    if spec.get("imagePullSecrets"):
        pod["imagePullSecrets"] = spec["imagePullSecrets"]
    security = workload.pod_security_context(cluster, {})
    if security:
        pod["securityContext"] = security
    pod["containers"] = [workload.secure_container(cluster, container)]
    pod["restartPolicy"] = "OnFailure"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": cluster.metadata(name, labels, spec["annotations"]),
        "spec": {"template": {"metadata": {"labels": dict(labels)}, "spec": pod}},
    }
