"""The component registry: one entry per component, and everything that iterates components
iterates this.

An entry says where the component lives in the spec, what its objects are named after, when
it rolls out, its TLS role, its volumes, which module renders it and which checks it brings,
and what the next features read: the port and path of its metrics, the components its
configuration connects to. ``tests/unit/test_registry.py`` fails when an entry lacks something
a consumer needs; docs/architecture.md says how to add a component (the model's fields, one
module, one entry).

Plain data, no imports from the rest of the package: model.py reads the registry for its
defaults, so the registry cannot read the model.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Callable

# What `connects_to` names besides components: the metadata store is ZooKeeper or Oxia.
METADATA_STORE = "metadata-store"

# Rollout stages in the order KAAP gates them (docs/kaap-parity.md#rollout-order): metadata
# store, bookies, brokers, the rest, the functions worker last.
METADATA_STAGE, BOOKIE_STAGE, BROKER_STAGE, SERVICES_STAGE, FUNCTIONS_STAGE = range(5)

# TLS key formats a process needs beside the mounted PEM files (tls_plan.py): "pk8" the key
# converted to PKCS#8 (Pulsar and BookKeeper read only that), "jks" Java key and trust stores
# (ZooKeeper, the Kafka extension, the proxy).
PK8 = "pk8"
JKS = "jks"


class Metrics:
    """Where Prometheus scrapes a component: a port of the endpoint table and a path."""

    __slots__ = ("endpoint", "path", "protocol")

    def __init__(self, endpoint: str, protocol: str, path: str) -> None:
        self.endpoint = endpoint
        self.protocol = protocol
        self.path = path


class Component:
    """One component. ``section`` is its key under ``spec`` (and its name everywhere in the
    code); the other fields are described where each is used."""

    __slots__ = ("base_name_key", "checks", "connects_to", "default_set", "endpoints",
                 "forbidden_env",
                 "jvms", "metadata_keys", "metrics", "module", "pulsar", "rendered", "section",
                 "set_tls_key", "stage", "tls", "tls_client_of", "tls_server_formats",
                 "volumes")

    def __init__(
        self,
        section: str,
        *,
        module: str,
        stage: int,
        rendered: Callable[[dict], bool],
        base_name_key: str | None = None,
        default_set: str | None = None,
        tls: str | None = None,
        set_tls_key: str | None = None,
        tls_server_formats: tuple[str, ...] = (),
        tls_client_of: tuple[str, ...] = (),
        volumes: tuple[str, ...] = (),
        forbidden_env: dict[str, str] | None = None,
        jvms: tuple[tuple[str, tuple[str, ...]], ...] = (),
        metadata_keys: str | None = None,
        metrics: Metrics | None = None,
        endpoints: tuple[str, ...] = (),
        connects_to: tuple[str, ...] = (),
        checks: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.section = section
        # krm_pulsar.components.<module> renders it: render(cluster) -> list of objects
        self.module = module
        # rollout stage: the Argo CD sync wave is stage * placement.STAGE_WAVE_SPAN (+ set)
        self.stage = stage
        # whether the resolved spec renders it at all (sets decide further for themselves)
        self.rendered = rendered
        # its key in spec.global.components (its objects are <global.name>-<base name>); None
        # for a component without a configurable base name (Oxia)
        self.base_name_key = base_name_key
        # KAAP's resource sets: the literal name of the default set; None without sets
        self.default_set = default_set
        # its entry in spec.global.tls, and the key of the per-set entries
        self.tls = tls
        self.set_tls_key = set_tls_key
        # the key formats it needs when it serves TLS, and the TLS servers it is a client of
        self.tls_server_formats = tls_server_formats
        self.tls_client_of = tls_client_of
        # paths of its data volumes inside its spec (the storage defaults and checks)
        self.volumes = volumes
        # environment variables it computes itself: {name: why} (KAAP refuses them too)
        self.forbidden_env = forbidden_env or {}
        # its JVMs sized from the container memory: (jvm.SHARES kind, path of the resources)
        self.jvms = jvms
        # which metadata-store keys its configuration takes (cluster.metadata_store_config)
        self.metadata_keys = metadata_keys
        self.metrics = metrics
        # its keys in the endpoint table (endpoints.TABLE): the ports it listens on
        self.endpoints = endpoints
        # what its rendered configuration dials: components, or METADATA_STORE; the
        # NetworkPolicies (krm_pulsar/network_policies/links.py) say on which ports and when
        self.connects_to = connects_to
        # its own checks: (phase of krm_pulsar/checks, function of its module)
        self.checks = checks

    @property
    def has_sets(self) -> bool:
        return self.default_set is not None

    def __repr__(self) -> str:
        return f"Component({self.section!r})"


def _replicas(section: str) -> Callable[[dict], bool]:
    return lambda spec: spec[section]["replicas"] > 0


def _always(spec: dict) -> bool:
    return True


COMPONENTS: tuple[Component, ...] = (
    Component(
        "zookeeper", module="zookeeper", stage=METADATA_STAGE,
        rendered=lambda spec: spec["zookeeper"]["replicas"] > 0 and not spec["oxia"]["enabled"],
        base_name_key="zookeeperBaseName",
        tls="zookeeper", tls_server_formats=(JKS,),
        volumes=("dataVolume",),
        forbidden_env={"ZOOKEEPER_SERVERS": "is computed from the replicas"},
        jvms=(("zookeeper", ("resources",)),),
        metrics=Metrics("zookeeper", "metrics", "/metrics"),
        endpoints=("zookeeper",),
        connects_to=("zookeeper",),
    ),
    Component(
        "bookkeeper", module="bookkeeper", stage=BOOKIE_STAGE, rendered=_always,
        base_name_key="bookkeeperBaseName", default_set="bookkeeper",
        tls="bookkeeper", tls_server_formats=(PK8,), tls_client_of=("zookeeper",),
        volumes=("volumes.journal", "volumes.ledgers"),
        jvms=(("bookie", ("resources",)),),
        metadata_keys="bookkeeper",
        metrics=Metrics("bookkeeper", "http", "/metrics"),
        endpoints=("bookkeeper",),
        # other bookies only when autoRecoveryDaemonEnabled runs the replication in the bookies
        connects_to=(METADATA_STORE, "bookkeeper"),
    ),
    Component(
        "broker", module="broker", stage=BROKER_STAGE, rendered=_always,
        base_name_key="brokerBaseName", default_set="broker",
        tls="broker", set_tls_key="brokerResourceSets", tls_server_formats=(PK8, JKS),
        tls_client_of=("zookeeper", "bookkeeper"),
        jvms=(("broker", ("resources",)),),
        metadata_keys="broker",
        metrics=Metrics("broker", "http", "/metrics/"),
        endpoints=("broker",),
        connects_to=(METADATA_STORE, "bookkeeper", "broker"),
        checks=(("cluster", "check_quorums"),),
    ),
    Component(
        "proxy", module="proxy", stage=SERVICES_STAGE, rendered=_always,
        base_name_key="proxyBaseName", default_set="proxy",
        tls="proxy", set_tls_key="proxyResourceSets", tls_server_formats=(PK8, JKS),
        tls_client_of=("zookeeper", "broker", "functionsWorker"),
        jvms=(("proxy", ("resources",)), ("websocket", ("webSocket", "resources"))),
        metadata_keys="proxy",
        metrics=Metrics("proxy", "http", "/metrics/"),
        endpoints=("proxy",),
        connects_to=(METADATA_STORE, "broker", "functionsWorker"),
        checks=(("cluster", "check_rollout"),),
    ),
    Component(
        "autorecovery", module="autorecovery", stage=SERVICES_STAGE,
        rendered=_replicas("autorecovery"),
        base_name_key="autorecoveryBaseName",
        tls="autorecovery", tls_client_of=("zookeeper", "bookkeeper"),
        jvms=(("autorecovery", ("resources",)),),
        metadata_keys="bookkeeper",
        metrics=Metrics("autorecovery", "http", "/metrics"),
        endpoints=("autorecovery",),
        connects_to=(METADATA_STORE, "bookkeeper"),
    ),
    Component(
        "bastion", module="bastion", stage=SERVICES_STAGE, rendered=_replicas("bastion"),
        base_name_key="bastionBaseName",
        # a client of its target (the proxy, else the brokers), with the target's Secret
        tls_client_of=("proxy", "broker"),
        jvms=(("bastion", ("resources",)),),
        metadata_keys="bookkeeper",
        # the CLI tools: pulsar-admin and pulsar-client through the target, bookkeeper shell
        connects_to=("proxy", "broker", "bookkeeper", METADATA_STORE),
    ),
    Component(
        "functionsWorker", module="functions_worker", stage=FUNCTIONS_STAGE,
        rendered=_replicas("functionsWorker"),
        base_name_key="functionsWorkerBaseName",
        tls="functionsWorker", tls_server_formats=(PK8,),
        tls_client_of=("zookeeper", "bookkeeper", "broker"),
        volumes=("logsVolume",),
        forbidden_env={"workerHostname": "is set to the pod name",
                       "PF_workerId": "is set to the pod name"},
        jvms=(("functionsWorker", ("resources",)),),
        metadata_keys="functionsWorker",
        metrics=Metrics("functionsWorker", "http", "/metrics"),
        # its own pods, and the function instance pods of the kubernetes runtime
        endpoints=("functionsWorker", "function-instance"),
        # the bookies only when it keeps packages in BookKeeper; other workers (the leader)
        connects_to=(METADATA_STORE, "bookkeeper", "broker", "functionsWorker"),
        checks=(("cluster", "validate"), ("cluster", "check_config")),
    ),
    # ours: the metadata store that replaces ZooKeeper (no base name, no KAAP fields)
    Component(
        "oxia", module="oxia", stage=METADATA_STAGE,
        rendered=lambda spec: bool(spec["oxia"]["enabled"]),
        volumes=("server.storage",),
        metrics=Metrics("oxia-server", "metrics", "/metrics"),
        endpoints=("oxia-server", "oxia-coordinator"),
        connects_to=("oxia",),
    ),
)

BY_SECTION: dict[str, Component] = {c.section: c for c in COMPONENTS}

# The Pulsar components, KAAP's (every one with the shared component fields of the model).
PULSAR_COMPONENTS: tuple[Component, ...] = tuple(c for c in COMPONENTS if c.base_name_key)
# The components with resource sets.
SET_COMPONENTS: tuple[Component, ...] = tuple(c for c in COMPONENTS if c.has_sets)
# The components with an entry in spec.global.tls.
TLS_COMPONENTS: tuple[Component, ...] = tuple(c for c in COMPONENTS if c.tls)
STAGES: tuple[tuple[Component, ...], ...] = tuple(
    tuple(c for c in COMPONENTS if c.stage == stage) for stage in range(FUNCTIONS_STAGE + 1))


def component(section: str) -> Component:
    return BY_SECTION[section]


def metrics_port(section: str) -> int:
    """The port Prometheus scrapes component `section` on (its entry's ``metrics``)."""
    from .endpoints import number

    metrics = BY_SECTION[section].metrics
    if metrics is None:
        raise ValueError(f"{section} serves no metrics")
    return number(metrics.endpoint, metrics.protocol)


def in_rollout_order() -> list[Component]:
    """Every component by rollout stage (within a stage, in registry order)."""
    return [c for stage in STAGES for c in stage]
