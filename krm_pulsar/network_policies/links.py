"""Who dials whom on which ports: the connections the NetworkPolicies allow, and no others.

A component's registry entry names what its configuration connects to (``connects_to``);
the Jobs and the function instance pods have theirs in ``CONNECTS_TO`` below. For each
target one function here says, for each kind of client, whether this configuration really
dials it and on which port: the TLS decisions are the ones the renderers make when they
write the URL (the TLS plan, ``security.tls_on``, ``tls.<proxy>.enabledWithBroker``), the
numbers come from the endpoint table. A kind of client a function does not know raises, so
a component added later cannot get NetworkPolicies until its rules are written here.
"""

from __future__ import annotations

from .. import registry, security, storage
from ..components.bastion import runs_bookkeeper_shell
from ..endpoints import (
    BOOKIE,
    CLIENT,
    ELECTION,
    GRPC,
    HTTP,
    INTERNAL,
    KAFKA,
    KAFKA_SCHEMA_REGISTRY,
    PUBLIC,
    PULSAR,
    QUORUM,
    number,
)
from .pods import (
    FUNCTION_INSTANCE,
    METADATA_JOB,
    OXIA_COORDINATOR,
    OXIA_SERVER,
    RACK_JOB,
    TOKEN_JOB,
    TRANSACTIONS_JOB,
)

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..cluster import Cluster
    from .pods import Group

    # the ports a client dials on one target group
    Ports = Callable[[Group], tuple[int, ...]]

METADATA_STORE = registry.METADATA_STORE

# What the pods no component owns dial (the components' own lists are in the registry).
CONNECTS_TO: dict[str, tuple[str, ...]] = {
    METADATA_JOB: (METADATA_STORE,),
    TRANSACTIONS_JOB: (METADATA_STORE,),
    RACK_JOB: ("broker",),
    TOKEN_JOB: (),  # the Kubernetes API only (egress.apiServer)
    # brokers (pulsarServiceUrl), the worker (pulsarAdminUrl: package downloads)
    FUNCTION_INSTANCE: ("broker", "functionsWorker"),
}
# Pods a component starts at run time and dials: the worker's function instances (their
# control port; kubernetes runtime).
STARTS: dict[str, tuple[str, ...]] = {"functionsWorker": (FUNCTION_INSTANCE,)}


class Link:
    """Pods of `source` open connections to pods of `target` on `ports` (TCP)."""

    __slots__ = ("ports", "source", "target")

    def __init__(self, source: Group, target: Group, ports: tuple[int, ...]) -> None:
        self.source = source
        self.target = target
        self.ports = ports

    def __repr__(self) -> str:
        return f"Link({self.source.name} -> {self.target.name} {self.ports})"


def connects_to(kind: str) -> tuple[str, ...]:
    """What pods of `kind` dial: their registry entry's list (the Oxia parts: Oxia's), or the
    table above."""
    if kind in registry.BY_SECTION:
        return registry.BY_SECTION[kind].connects_to + STARTS.get(kind, ())
    if kind in (OXIA_SERVER, OXIA_COORDINATOR):
        return registry.BY_SECTION["oxia"].connects_to
    return CONNECTS_TO[kind]


def links(cluster: Cluster, groups: list[Group]) -> list[Link]:
    """Every connection between the groups, in source order."""
    by_kind: dict[str, list[Group]] = {}
    for group in groups:
        by_kind.setdefault(group.kind, []).append(group)
    found = []
    for source in groups:
        for target in connects_to(source.kind):
            for kind, ports in DIALS[target](cluster, source):
                for group in by_kind.get(kind, ()):
                    numbers = tuple(sorted(set(ports(group))))
                    if numbers:
                        found.append(Link(source, group, numbers))
    return found


def _fixed(*numbers: int) -> Ports:
    return lambda target: numbers


def _unknown(source: Group, target: str) -> ValueError:
    return ValueError(f"no NetworkPolicy rule says how {source.kind} pods dial {target}; "
                      f"write it in krm_pulsar/network_policies/links.py")


def _pulsar_and_http(component: str, tls: bool) -> tuple[int, ...]:
    return number(component, PULSAR, tls), number(component, HTTP, tls)


# --- the targets --------------------------------------------------------------------------------


def _metadata_store(cluster: Cluster, source: Group) -> list[tuple[str, Ports]]:
    """ZooKeeper's client port (its TLS port with ZooKeeper TLS) or Oxia's public port, for
    each client whose configuration names the store: a component with metadata-store keys
    (proxies on Oxia have none), the metadata and transactions Jobs."""
    if source.kind in registry.BY_SECTION and not cluster.metadata_store_keys(source.kind):
        return []
    if source.kind == "bastion" and not runs_bookkeeper_shell(cluster):
        return []
    if source.kind not in registry.BY_SECTION and source.kind not in (METADATA_JOB,
                                                                      TRANSACTIONS_JOB):
        raise _unknown(source, METADATA_STORE)
    if cluster.oxia:
        return [(OXIA_SERVER, _fixed(number(OXIA_SERVER, PUBLIC)))]
    from ..tls_plan import zookeeper_tls

    return [("zookeeper", _fixed(number("zookeeper", CLIENT, zookeeper_tls(cluster))))]


def _zookeeper(cluster: Cluster, source: Group) -> list[tuple[str, Ports]]:
    """ZooKeeper's peers: the quorum and election ports, when there is more than one server
    (a single server runs standalone)."""
    if source.kind != "zookeeper":
        raise _unknown(source, "zookeeper")
    if cluster.spec["zookeeper"]["replicas"] < 2:
        return []
    return [("zookeeper", _fixed(number("zookeeper", QUORUM), number("zookeeper", ELECTION)))]


def _oxia(cluster: Cluster, source: Group) -> list[tuple[str, Ports]]:
    """The coordinator drives each server on its internal port; a shard leader replicates to
    its followers there when a namespace keeps more than one copy."""
    internal = _fixed(number(OXIA_SERVER, INTERNAL))
    if source.kind == OXIA_COORDINATOR:
        return [(OXIA_SERVER, internal)]
    if source.kind == OXIA_SERVER:
        return [(OXIA_SERVER, internal)] if cluster.spec["oxia"]["replicationFactor"] > 1 else []
    raise _unknown(source, "oxia")


def _bookkeeper(cluster: Cluster, source: Group) -> list[tuple[str, Ports]]:
    """The bookie port, for every BookKeeper client: brokers, autorecovery, the bastion's
    ``bookkeeper shell`` (not for KAAP input), the functions worker when it keeps function
    packages in BookKeeper (not with package management on the brokers), and bookies that run
    the replication themselves (``autoRecoveryDaemonEnabled``)."""
    kind = source.kind
    if kind == "functionsWorker":
        packages = bool(storage.functions_worker_package_config(cluster.spec).get(
            "functionsWorkerEnablePackageManagement"))
        dials = not config_flag(source.spec, "functionsWorkerEnablePackageManagement", packages)
    elif kind == "bookkeeper":
        dials = config_flag(source.spec, "autoRecoveryDaemonEnabled", False)
    elif kind in ("broker", "autorecovery"):
        dials = True
    elif kind == "bastion":
        dials = runs_bookkeeper_shell(cluster)
    else:
        raise _unknown(source, "bookkeeper")
    return [("bookkeeper", _fixed(number("bookkeeper", BOOKIE)))] if dials else []


def _broker(cluster: Cluster, source: Group) -> list[tuple[str, Ports]]:
    """The brokers' binary and web ports (the TLS ones when the client's URLs are TLS
    URLs), and for proxies with the Kafka extension each broker set's Kafka listener and
    schema registry."""
    kind = source.kind
    if kind == "broker":
        # internal clients and admin calls follow brokerClientTlsEnabled (set with TLS)
        tls = security.tls_on(cluster.spec, "broker", source.set_name)
        return [("broker", _fixed(*_pulsar_and_http("broker", tls)))]
    if kind == "proxy":
        assert source.spec is not None
        base = _pulsar_and_http("broker", proxy_tls_with_broker(cluster, source.set_name))
        if not source.spec["kafka"]["enabled"]:
            return [("broker", _fixed(*base))]
        return [("broker", lambda target: base + kafka_ports(cluster, target))]
    if kind == "bastion":
        assert source.spec is not None
        if source.spec["targetProxy"]:
            return []
        return [("broker", _fixed(*_pulsar_and_http("broker", cluster.broker_tls)))]
    if kind == "functionsWorker":
        return [("broker", _fixed(*_pulsar_and_http("broker", worker_tls_with_broker(cluster))))]
    if kind == FUNCTION_INSTANCE:
        return [("broker", _fixed(number("broker", PULSAR, worker_tls_with_broker(cluster))))]
    if kind == RACK_JOB:
        return [("broker", _fixed(number("broker", HTTP, cluster.broker_tls)))]
    raise _unknown(source, "broker")


def kafka_ports(cluster: Cluster, broker: Group) -> tuple[int, ...]:
    """A broker set's Kafka listener (SASL_SSL with the set's TLS) and schema registry, which
    the proxies' Kafka extension forwards to."""
    assert broker.spec is not None
    if not broker.spec["kafka"]["enabled"]:
        return ()
    tls = security.tls_on(cluster.spec, "broker", broker.set_name)
    return number("broker", KAFKA, tls), number("broker", KAFKA_SCHEMA_REGISTRY)


def _proxy(cluster: Cluster, source: Group) -> list[tuple[str, Ports]]:
    """The bastion's CLI tools target the proxy (``targetProxy``) on its binary and web ports."""
    if source.kind != "bastion":
        raise _unknown(source, "proxy")
    assert source.spec is not None
    if not source.spec["targetProxy"]:
        return []
    return [("proxy", _fixed(*_pulsar_and_http("proxy", cluster.proxy_tls)))]


def _functions_worker(cluster: Cluster, source: Group) -> list[tuple[str, Ports]]:
    """The standalone worker's web port: proxies forward functions calls to it, workers call
    the leader and each other, function instances download their packages from it."""
    worker_tls = security.tls_on(cluster.spec, "functionsWorker")
    kind = source.kind
    if kind == "proxy":
        assert source.spec is not None
        if proxy_tls_with_broker(cluster, source.set_name):
            # the proxy then uses functionWorkerWebServiceURLTLS, set only with worker TLS
            tls: bool | None = True if worker_tls else None
        else:
            tls = worker_tls if source.spec["standaloneFunctionsWorker"] else None
    elif kind == "functionsWorker":
        tls = worker_tls  # https on workerPortTls with tlsEnabled
    elif kind == FUNCTION_INSTANCE:
        tls = False  # pulsarAdminUrl names the plain port (KAAP's value)
    else:
        raise _unknown(source, "functionsWorker")
    if tls is None:
        return []
    return [("functionsWorker", _fixed(number("functionsWorker", HTTP, tls)))]


def _function_instances(cluster: Cluster, source: Group) -> list[tuple[str, Ports]]:
    """The worker controls each instance pod on its gRPC port."""
    if source.kind != "functionsWorker":
        raise _unknown(source, FUNCTION_INSTANCE)
    return [(FUNCTION_INSTANCE, _fixed(number(FUNCTION_INSTANCE, GRPC)))]


DIALS: dict[str, Callable[[Cluster, Group], list[tuple[str, Ports]]]] = {
    METADATA_STORE: _metadata_store,
    "zookeeper": _zookeeper,
    "oxia": _oxia,
    "bookkeeper": _bookkeeper,
    "broker": _broker,
    "proxy": _proxy,
    "functionsWorker": _functions_worker,
    FUNCTION_INSTANCE: _function_instances,
}


# --- TLS decisions shared with the renderers' URLs ----------------------------------------------


def proxy_tls_with_broker(cluster: Cluster, set_name: str | None) -> bool:
    """A proxy set talks TLS to the brokers (``tlsEnabledWithBroker``, the websocket's
    ``brokerClientTlsEnabled``): TLS on the set with ``enabledWithBroker``."""
    return security.tls_on(cluster.spec, "proxy", set_name) and bool(
        security.tls_entry(cluster.spec, "proxy", set_name).get("enabledWithBroker"))


def worker_tls_with_broker(cluster: Cluster) -> bool:
    """The functions worker (and its instances) dial the brokers' TLS ports."""
    from ..components.functions_worker import to_broker_tls

    return to_broker_tls(cluster)


def config_flag(spec: dict | None, key: str, default: bool) -> bool:
    """A boolean of a component's ``config`` (either spelling, a string or a YAML boolean)."""
    config = (spec or {}).get("config") or {}
    for spelled in (key, f"PULSAR_PREFIX_{key}"):
        if config.get(spelled) is not None:
            return str(config[spelled]).strip().lower() == "true"
    return default
