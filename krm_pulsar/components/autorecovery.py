"""Autorecovery: the BookKeeper auditor and replication workers, one Deployment (KAAP §4.5)."""

from __future__ import annotations

import copy

from .. import jvm, model, placement, security, startup, workload

COMPONENT = "autorecovery"
PROMETHEUS_PORT = 8000  # KAAP uses the bookie HTTP port


KAAP_BOOKIE_MEM = "-Xms512m -Xmx512m -XX:+ExitOnOutOfMemoryError"


def config_defaults(cluster, spec: dict) -> dict:
    return {
        **cluster.metadata_store_config(COMPONENT),
        # KAAP input keeps KAAP's JVM settings; ours are sized from the container's memory
        "BOOKIE_MEM": KAAP_BOOKIE_MEM if cluster.kaap_input
        else jvm.with_memory(COMPONENT, spec.get("resources"), "-XX:+ExitOnOutOfMemoryError"),
        "BOOKIE_GC": "-XX:+UseG1GC",
        **workload.LOG_CONFIG,
        # rack resolver and region-aware placement, as KAAP writes them (placement owns them)
        **placement.autorecovery_rack_config(),
    }


def render(cluster) -> list:
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0:
        return []
    name, labels, match, pod_labels = cluster.identity(COMPONENT, spec)
    annotations = spec["annotations"]
    bk_tls = security.tls_on(cluster.spec, "bookkeeper")
    zk_tls = security.tls_on(cluster.spec, "zookeeper") and not cluster.oxia
    defaults = config_defaults(cluster, spec)
    if bk_tls:
        # a bookie client with its own certificate (KAAP §4.5)
        defaults.update({
            "tlsHostnameVerificationEnabled": "true",
            "tlsProvider": "OpenSSL",
            "tlsProviderFactoryClass": "org.apache.bookkeeper.tls.TLSContextFactory",
            "tlsCertificatePath": security.CERT_FILE,
            "tlsKeyStoreType": "PEM",
            "tlsKeyStore": security.PK8_KEY_FILE,
            "tlsTrustStoreType": "PEM",
            "tlsClientAuthentication": "true",
            "tlsTrustStore": security.ca_path(cluster.spec),
        })
    cm = workload.config_map(cluster, name, labels, annotations,
                             workload.config_data(defaults, spec["config"]))
    mounts, volumes = [], []
    if bk_tls or zk_tls:
        mount, volume = security.certs_volume(security.secret_name(cluster.spec, COMPONENT))
        mounts, volumes = [mount], [volume]
    main = workload.container(
        name, spec,
        "bin/apply-config-from-env.py conf/bookkeeper.conf && "
        + (security.PK8_STEP if bk_tls else "")
        + (security.keystore_step(cluster.spec) if zk_tls else "")
        + f"{workload.LOG4J_OPTS} exec bin/bookkeeper autorecovery",
        ports=[{"name": "http", "containerPort": 8000}],
        env_from=[name],
        mounts=mounts,
    )
    # ours: start once the BookKeeper metadata exists (KAAP input keeps KAAP's pod template)
    inits = [] if cluster.kaap_input else [startup.wait_bookkeeper(
        cluster, spec, security.secret_name(cluster.spec, COMPONENT))]
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match, volumes=volumes,
                            init_containers=inits)
    template = workload.pod_template(
        pod_labels,
        workload.pod_annotations(cluster, spec, PROMETHEUS_PORT, [cm]),
        pod)
    return [
        cm,
        # KAAP leaves the Deployment default (25%/25%), which can hang (model.DEPLOYMENT_STRATEGY)
        workload.deployment(cluster, name, labels, annotations, replicas=spec["replicas"],
                            selector=match, template=template, strategy=copy.deepcopy(model.DEPLOYMENT_STRATEGY)),
    ]
