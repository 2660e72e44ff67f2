"""Bastion: a pod with the Pulsar CLI tools configured for this cluster (kaap-parity.md#bastion).

It targets the proxy when there is one, else the brokers (``targetProxy``,
kaap-parity.md#cross-component-defaults).
"""

from __future__ import annotations

import copy

from .. import jvm, model, security, workload

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

COMPONENT = "bastion"

CONFIG_DEFAULTS = {
    "PULSAR_MEM": "-XX:+ExitOnOutOfMemoryError",
    **workload.LOG_CONFIG,
}


def target_tls(cluster: Cluster, spec: dict) -> bool:
    """Whether the CLI tools dial their target over TLS (tls_plan: the bastion is a TLS client
    of the proxy, else of the brokers)."""
    return bool(cluster.tls_plan(COMPONENT).client_of)


def runs_bookkeeper_shell(cluster: Cluster) -> bool:
    """Ours: the bastion is configured for `bin/bookkeeper shell`, so it dials the metadata
    store and the bookies (the Helm chart's toolset carries the BookKeeper client
    configuration too). KAAP input keeps KAAP's pod, whose container applies client.conf
    only, where nothing would read these keys (kaap-parity.md#keys-pulsar-does-not-read)."""
    return not cluster.kaap_input


def config_defaults(cluster: Cluster, spec: dict) -> dict:
    """client.conf of the CLI tools: the TLS URLs of the target when it has TLS (KAAP)."""
    tls = target_tls(cluster, spec)
    if spec["targetProxy"]:
        urls = {"brokerServiceUrl": cluster.proxy_service_url_tls if tls
                else cluster.proxy_service_url,
                "webServiceUrl": cluster.proxy_web_service_url_tls if tls
                else cluster.proxy_web_service_url}
    else:
        urls = {"brokerServiceUrl": cluster.broker_client_service_url,
                "webServiceUrl": cluster.broker_client_web_service_url}
    defaults = {**urls, **CONFIG_DEFAULTS}
    if not cluster.kaap_input:
        # ours: a heap for the CLI JVMs (pulsar-admin, bookkeeper shell) from the pod's memory
        defaults["PULSAR_MEM"] = jvm.with_memory(COMPONENT, spec.get("resources"),
                                                 CONFIG_DEFAULTS["PULSAR_MEM"])
    if runs_bookkeeper_shell(cluster):
        defaults.update(cluster.metadata_store_keys(COMPONENT))
    if security.auth_on(cluster.spec):
        defaults["authPlugin"] = security.TOKEN_CLIENT_PLUGIN
        defaults["authParams"] = f"file://{security.STRIPPED_SUPERUSER_TOKEN}"
    if tls:
        defaults["tlsEnableHostnameVerification"] = "true"
        defaults["tlsTrustCertsFilePath"] = security.ca_path(cluster.spec)
    return defaults


def render(cluster: Cluster) -> list:
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0:
        return []
    name, labels, match, pod_labels = cluster.identity(COMPONENT, spec)
    annotations = spec["annotations"]
    cm = workload.config_map(cluster, name, labels, annotations,
                             workload.config_data(config_defaults(cluster, spec), spec["config"]))
    # the target's Secret: its ca.crt is the CA to trust (KAAP mounts tls.ssCa's Secret)
    mounts, volumes = cluster.tls_plan(COMPONENT).volume()
    auth = security.auth_on(cluster.spec)
    if auth:
        # the admin and superuser tokens, not the private key (KAAP mounts it; see docs/auth.md)
        roles = ["public-key", "superuser"]
        if "admin" in security.token_roles(cluster.spec):
            roles.insert(1, "admin")
        token_mounts, token_volumes = security.token_volumes(roles)
        mounts += token_mounts
        volumes += token_volumes
    main = workload.container(
        name, spec,
        (security.STRIP_TOKEN_STEP if auth else "")
        + "bin/apply-config-from-env.py conf/client.conf && "
        # ours: bookkeeper.conf too (KAAP input keeps KAAP's pod template)
        + ("" if cluster.kaap_input else "bin/apply-config-from-env.py conf/bookkeeper.conf && ")
        + 'exec /bin/bash -c "trap : TERM INT; sleep infinity & wait"',
        env_from=[name],
        mounts=mounts,
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match, volumes=volumes)
    template = workload.pod_template(
        pod_labels,
        # no prometheus annotations: the bastion serves nothing (KAAP)
        workload.pod_annotations(cluster, spec, None, [cm]),
        pod)
    return [
        cm,
        workload.deployment(cluster, name, labels, annotations, replicas=spec["replicas"],
                            selector=match, template=template,
                            strategy=copy.deepcopy(model.DEPLOYMENT_STRATEGY)),
    ]
