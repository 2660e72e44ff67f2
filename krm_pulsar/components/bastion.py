"""Bastion: a pod with the Pulsar CLI tools configured for this cluster (KAAP §4.6).

It targets the proxy when there is one, else the brokers (``targetProxy``, KAAP §1.3).
"""

from __future__ import annotations

from .. import workload

COMPONENT = "bastion"

CONFIG_DEFAULTS = {
    "PULSAR_MEM": "-XX:+ExitOnOutOfMemoryError",
    "PULSAR_LOG_LEVEL": "info",
    "PULSAR_LOG_ROOT_LEVEL": "info",
    "PULSAR_EXTRA_OPTS": "-Dpulsar.log.root.level=info",
}


def config_defaults(cluster, spec: dict) -> dict:
    if spec["targetProxy"]:
        urls = {"brokerServiceUrl": cluster.proxy_service_url,
                "webServiceUrl": cluster.proxy_web_service_url}
    else:
        urls = {"brokerServiceUrl": cluster.broker_service_url,
                "webServiceUrl": cluster.broker_web_service_url}
    return {**urls, **CONFIG_DEFAULTS}


def render(cluster) -> list:
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0:
        return []
    name = cluster.resource_name(COMPONENT)
    labels = cluster.labels(COMPONENT, spec["labels"])
    match = cluster.selector_labels(COMPONENT, spec["matchLabels"])
    pod_labels = cluster.pod_labels(COMPONENT, spec)
    annotations = spec["annotations"]
    cm = workload.config_map(cluster, name, labels, annotations,
                             workload.config_data(config_defaults(cluster, spec), spec["config"]))
    main = workload.container(
        name, spec,
        "bin/apply-config-from-env.py conf/client.conf && "
        'exec /bin/bash -c "trap : TERM INT; sleep infinity & wait"',
        env_from=[name],
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match)
    template = workload.pod_template(
        pod_labels,
        # no prometheus annotations: the bastion serves nothing (KAAP)
        workload.pod_annotations(spec, None, workload.checksum_annotations(cluster, [cm])),
        pod)
    return [
        cm,
        workload.deployment(cluster, name, labels, annotations, replicas=spec["replicas"],
                            selector=match, template=template),
    ]
