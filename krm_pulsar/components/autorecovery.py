"""Autorecovery: the BookKeeper auditor and replication workers, one Deployment
(kaap-parity.md#autorecovery)."""

from __future__ import annotations

import copy

from .. import jvm, model, placement, security, startup, workload
from ..endpoints import HTTP, port
from ..registry import metrics_port

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

COMPONENT = "autorecovery"


KAAP_BOOKIE_MEM = "-Xms512m -Xmx512m -XX:+ExitOnOutOfMemoryError"


def config_defaults(cluster: Cluster, spec: dict) -> dict:
    return {
        **cluster.metadata_store_keys(COMPONENT),
        # KAAP input keeps KAAP's JVM settings; ours are sized from the container's memory
        "BOOKIE_MEM": KAAP_BOOKIE_MEM if cluster.kaap_input
        else jvm.with_memory(COMPONENT, spec.get("resources"), "-XX:+ExitOnOutOfMemoryError"),
        "BOOKIE_GC": "-XX:+UseG1GC",
        **workload.LOG_CONFIG,
        # rack resolver and region-aware placement, as KAAP writes them (placement owns them)
        **placement.autorecovery_rack_config(),
    }


def render(cluster: Cluster) -> list:
    spec = cluster.spec[COMPONENT]
    if spec["replicas"] <= 0:
        return []
    name, labels, match, pod_labels = cluster.identity(COMPONENT, spec)
    annotations = spec["annotations"]
    plan = cluster.tls_plan(COMPONENT)
    defaults = config_defaults(cluster, spec)
    if "bookkeeper" in plan.client_of:
        # a bookie client with its own certificate (kaap-parity.md#autorecovery)
        defaults.update({
            "tlsHostnameVerificationEnabled": "true",
            "tlsProvider": "OpenSSL",
            "tlsProviderFactoryClass": "org.apache.bookkeeper.tls.TLSContextFactory",
            "tlsCertificatePath": security.CERT_FILE,
            "tlsKeyStoreType": "PEM",
            "tlsKeyStore": security.key_file(cluster.kaap_input),
            "tlsTrustStoreType": "PEM",
            "tlsClientAuthentication": "true",
            "tlsTrustStore": security.ca_path(cluster.spec),
        })
    cm = workload.config_map(cluster, name, labels, annotations,
                             workload.config_data(defaults, spec["config"]))
    mounts, volumes = plan.volume()
    main = workload.container(
        name, spec,
        "bin/apply-config-from-env.py conf/bookkeeper.conf && "
        + plan.steps(cluster)
        + f"{workload.LOG4J_OPTS} exec bin/bookkeeper autorecovery",
        ports=[port(COMPONENT, HTTP).container()],
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
        workload.pod_annotations(cluster, spec, metrics_port(COMPONENT), [cm]),
        pod)
    return [
        cm,
        # KAAP leaves the Deployment default (25%/25%), which can hang (model.DEPLOYMENT_STRATEGY)
        workload.deployment(cluster, name, labels, annotations, replicas=spec["replicas"],
                            selector=match, template=template,
                            strategy=copy.deepcopy(model.DEPLOYMENT_STRATEGY)),
    ]
