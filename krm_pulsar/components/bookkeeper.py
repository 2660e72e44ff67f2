"""BookKeeper: the bookies, one StatefulSet per resource set (kaap-parity.md#bookkeeper)."""

from __future__ import annotations

import re

from .. import jvm, names, placement, security, startup, storage, workload
from ..endpoints import BOOKIE, HTTP, port
from ..registry import metrics_port

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..placement import ResourceSet

COMPONENT = "bookkeeper"
JOURNAL_MOUNT = "/pulsar/data/bookkeeper/journal"
LEDGERS_MOUNT = "/pulsar/data/bookkeeper/ledgers"

_IMAGE_VERSION = re.compile(r":(\d+)(\.\d+){0,2}(-[A-Za-z0-9.]+)?")


KAAP_BOOKIE_MEM = "-Xms2g -Xmx2g -XX:MaxDirectMemorySize=2g"
BOOKIE_MEM_OPTIONS = ("-Dio.netty.leakDetectionLevel=disabled "
                      "-Dio.netty.recycler.linkCapacity=1024 -XX:+ExitOnOutOfMemoryError")
# KAAP's liveness path answers 503 until the bookie has fully started (journal replayed); ours
# answers whenever the bookie's HTTP server is up, and the startup probe waits for is_ready.
KAAP_LIVENESS_PATH = "/api/v1/bookie/is_ready"
LIVENESS_PATH = "/api/v1/bookie/state"
READY_PATH = "/api/v1/bookie/is_ready"


def bookie_mem(cluster: Cluster, spec: dict) -> str:
    """KAAP's fixed 2g heap and 2g direct memory for KAAP input (its JVM settings stay); ours
    from the bookie's memory (jvm.py)."""
    if cluster.kaap_input:
        return f"{KAAP_BOOKIE_MEM} {BOOKIE_MEM_OPTIONS}"
    return jvm.with_memory("bookie", spec.get("resources"), BOOKIE_MEM_OPTIONS)


def config_defaults(cluster: Cluster, spec: dict) -> dict:
    return {
        "autoRecoveryDaemonEnabled": "false",
        "useHostNameAsBookieID": "true",
        "httpServerEnabled": "true",
        **placement.bookie_rack_config(),
        "BOOKIE_MEM": bookie_mem(cluster, spec),
        "BOOKIE_GC": "-XX:+UseG1GC",
        **workload.LOG_CONFIG,
        "statsProviderClass": "org.apache.bookkeeper.stats.prometheus.PrometheusMetricsProvider",
        **cluster.metadata_store_keys(COMPONENT),
    }


def tls_config(spec: dict, kaap_input: bool) -> dict:
    """Bookie TLS keys (kaap-parity.md#bookkeeper): OpenSSL provider, PEM key/cert, client
    authentication."""
    config = {
        "tlsProvider": "OpenSSL",
        "tlsProviderFactoryClass": "org.apache.bookkeeper.tls.TLSContextFactory",
        "tlsCertificatePath": security.CERT_FILE,
        "tlsKeyStoreType": "PEM",
        "tlsKeyStore": security.key_file(kaap_input),
        "tlsTrustStoreType": "PEM",
        "tlsHostnameVerificationEnabled": "true",
    }
    if kaap_input:
        # KAAP asks for client authentication with the brokers' key names, which a bookie does
        # not read: KAAP's bookies accept clients without a certificate, and so do these
        # (kaap-parity.md#keys-pulsar-does-not-read)
        config["bookkeeperTLSClientAuthentication"] = "true"
        config["bookkeeperTLSTrustCertsFilePath"] = security.ca_path(spec)
    else:
        # a bookie requires its TLS clients' certificates under these names and verifies them
        # against the CA (every bookie client we render presents one: brokers, autorecovery,
        # the functions worker)
        config["tlsClientAuthentication"] = "true"
        config["tlsTrustStore"] = security.ca_path(spec)
    return config


def rocksdb_step(image: str) -> str:
    """RocksDB config step by the image's major version (kaap-parity.md#bookkeeper); 2 when it
    cannot be told."""
    match = _IMAGE_VERSION.search(image or "")
    major = int(match.group(1)) if match else 2
    if major >= 4:
        return ("bin/update-ini-from-env.py conf/entry_location_rocksdb.conf "
                "PULSAR_PREFIX_entry_location_rocksdb_ && ")
    if major == 3:
        return ("bin/apply-config-from-env.py conf/entry_location_rocksdb.conf "
                "--prefix PULSAR_PREFIX_entry_location_rocksdb_TableOptions_ && ")
    return ""


def render(cluster: Cluster) -> list:
    return placement.render_sets(cluster, COMPONENT, render_set, umbrella_service)


def render_set(cluster: Cluster, rset: ResourceSet) -> list:
    spec = rset.spec
    name = rset.resource_name
    labels = rset.labels(cluster)
    match = rset.match_labels(cluster)
    annotations = spec["annotations"]
    plan = cluster.tls_plan(COMPONENT, rset)
    zk_tls = "zookeeper" in plan.client_of
    defaults = config_defaults(cluster, spec)
    if plan.serves:
        defaults.update(tls_config(cluster.spec, cluster.kaap_input))
    cm = workload.config_map(cluster, name, labels, annotations,
                             workload.config_data(defaults, spec["config"]))

    mounts, volumes = plan.volume()
    claims, classes = [], []
    zk_step = security.keystore_step(cluster.spec) if plan.jks else ""
    for key, mount_path in (("journal", JOURNAL_MOUNT), ("ledgers", LEDGERS_MOUNT)):
        data = storage.data_volume(cluster, spec["volumes"][key], name, mount_path, labels,
                                   annotations, pvc_prefix=spec.get("pvcPrefix") or "")
        mounts.append(data.mount)
        if data.volume:
            volumes.append(data.volume)
        if data.claim:
            claims.append(data.claim)
        if data.storage_class:
            classes.append(data.storage_class)

    base = cluster.resource_name(COMPONENT)
    # KAAP names this container after the component, not the set (harmless, kaap-parity.md#q14)
    init_name = f"{base}-metadata-format"
    if cluster.kaap_input and not cluster.oxia:
        # KAAP's step, kept so a cluster leaving the operator does not roll; on ZooKeeper the
        # metadata Job formats BookKeeper too, and a bookie started before it restarts until
        # the metadata is there. (KAAP has no Oxia: with Oxia, KAAP input gets ours.)
        init = {
            "name": init_name,
            "image": spec["image"],
            "imagePullPolicy": spec["imagePullPolicy"],
            "command": ["sh", "-c"],
            "args": [zk_step + "bin/apply-config-from-env.py conf/bookkeeper.conf && "
                     "bin/bookkeeper shell metaformat --nonInteractive || true;"],
            "envFrom": [{"configMapRef": {"name": name}}],
        }
    else:
        # formats once (whoever is first), retries every failure, and lets the bookie start
        # only on formatted metadata: init containers do not rerun on a container restart
        init = startup.init_container(spec, init_name, startup.format_bookkeeper_args(zk_step),
                                      env_from=[name])
    if zk_tls:
        init["volumeMounts"] = plan.mounts()
    probes = spec["probes"]
    liveness_path = KAAP_LIVENESS_PATH if cluster.kaap_input else LIVENESS_PATH
    main = workload.container(
        base, spec,
        "bin/apply-config-from-env.py conf/bookkeeper.conf && "
        + rocksdb_step(spec["image"])
        + plan.steps(cluster)
        + f"{workload.LOG4J_OPTS} exec bin/pulsar bookie",
        ports=[port(COMPONENT, BOOKIE).container(), port(COMPONENT, HTTP).container()],
        env_from=[name],
        probes=(workload.http_probe(probes["liveness"], liveness_path, "http"),
                workload.http_probe(probes["readiness"], READY_PATH, "http"),
                workload.http_probe(probes["startup"], READY_PATH, "http")),
        mounts=mounts,
    )
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match, rack=rset.rack,
                            init_containers=[init], volumes=volumes)
    template = workload.pod_template(
        rset.pod_labels(cluster),
        workload.pod_annotations(cluster, spec, metrics_port(COMPONENT), [cm]),
        pod)
    objects = [
        cm,
        workload.service(cluster, name, labels, match, [port(COMPONENT, BOOKIE).service()],
                         spec["service"], headless=True, publish_not_ready=True,
                         extra_annotations={
                             names.TOLERATE_UNREADY: "true"}),
        workload.statefulset(
            cluster, name, labels, annotations, replicas=spec["replicas"], selector=match,
            service_name=name, template=template,
            pod_management_policy=spec["podManagementPolicy"],
            update_strategy=spec["updateStrategy"], volume_claim_templates=claims),
        workload.pod_disruption_budget(cluster, name, labels, annotations, match, spec["pdb"]),
    ]
    objects.extend(classes)
    return [obj for obj in objects if obj]


def umbrella_service(cluster: Cluster) -> dict:
    """Headless Service over every bookie of every set (kaap-parity.md#umbrella-service)."""
    spec = cluster.spec[COMPONENT]
    name = cluster.resource_name(COMPONENT)
    labels, match = placement.umbrella_labels(cluster, COMPONENT)
    return workload.service(
        cluster, name, labels, match, [port(COMPONENT, BOOKIE).service()], spec["service"],
        headless=True, publish_not_ready=True,
        extra_annotations={names.TOLERATE_UNREADY: "true"})
