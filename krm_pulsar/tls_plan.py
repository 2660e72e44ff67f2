"""One TLS plan per component and set: what its pods serve, mount, convert and trust.

Each decision is made here once, from the component's registry entry (its TLS entry, the key
formats it needs as a TLS server, the TLS servers it may be a client of) and the resolved spec;
renderers, the cert-manager Certificates (certs.py) and, later, per-component NetworkPolicies
read the plan instead of deciding again (docs/architecture.md, docs/tls.md).

* ``serves``: the pod's own listeners use TLS (its ``spec.global.tls.<component>`` entry, or
  its resource set's);
* ``client_of``: the TLS servers it dials (ZooKeeper, the bookies, the brokers, the proxies,
  the functions worker), each only when that server has TLS;
* ``secret``: the Secret mounted at ``/pulsar/certs`` when it serves or is a client of any;
  its own (per set for brokers and proxies), or its target's for the bastion;
* ``pk8``, ``jks``: whether the start script converts the key to PKCS#8 (Pulsar and
  BookKeeper read only that) and builds JKS key and trust stores (ZooKeeper clients and
  servers, the Kafka extension).
"""

from __future__ import annotations

from . import registry, security

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

# The key formats a client of each TLS server needs (a ZooKeeper client reads JKS stores, a
# BookKeeper client presents its certificate with a PKCS#8 key; HTTP and Pulsar clients only
# need the CA in PEM).
CLIENT_FORMATS = {"zookeeper": (registry.JKS,), "bookkeeper": (registry.PK8,)}


class TlsPlan:
    """The TLS decisions of one pod template (a component, a resource set or a Job)."""

    __slots__ = ("client_of", "jks", "pk8", "secret", "serves")

    def __init__(self, serves: bool, client_of: tuple[str, ...], secret: str | None,
                 formats: set[str]) -> None:
        self.serves = serves
        self.client_of = client_of
        self.secret = secret if (serves or client_of) else None
        self.pk8 = self.secret is not None and registry.PK8 in formats
        self.jks = self.secret is not None and registry.JKS in formats

    @property
    def mounted(self) -> bool:
        return self.secret is not None

    def volume(self) -> tuple[list[dict], list[dict]]:
        """``(mounts, volumes)`` of the certificates, empty when nothing is mounted."""
        if self.secret is None:
            return [], []
        mount, volume = security.certs_volume(self.secret)
        return [mount], [volume]

    def mounts(self) -> list[dict]:
        return self.volume()[0]

    def steps(self, cluster: Cluster) -> str:
        """The start-script steps that make the key formats it needs."""
        return ((security.PK8_STEP if self.pk8 else "")
                + (security.keystore_step(cluster.spec) if self.jks else ""))

    def __repr__(self) -> str:
        return (f"TlsPlan(serves={self.serves}, client_of={self.client_of}, "
                f"secret={self.secret!r}, pk8={self.pk8}, jks={self.jks})")


def zookeeper_tls(cluster: Cluster) -> bool:
    """ZooKeeper serves TLS (it does not run with Oxia)."""
    return not cluster.oxia and security.tls_on(cluster.spec, "zookeeper")


def _server_tls(cluster: Cluster, client: str, server: str, spec: dict) -> bool:
    """Whether `client` (with its set's `spec`) dials `server` over TLS."""
    if server == "zookeeper":
        return zookeeper_tls(cluster)
    if server == "bookkeeper":
        return security.tls_on(cluster.spec, "bookkeeper")
    if client == "bastion":
        # the CLI tools dial their target: the proxy when there is one, else the brokers
        target = "proxy" if spec["targetProxy"] else "broker"
        return server == target and (cluster.proxy_tls if target == "proxy"
                                     else cluster.broker_tls)
    if server == "broker":
        if client == "functionsWorker":
            # unless tls.functionsWorker.enabledWithBroker says otherwise (model.tls_defaults)
            return cluster.broker_tls and bool(
                cluster.glob["tls"]["functionsWorker"]["enabledWithBroker"])
        # KAAP mounts the certificates into proxies whenever the brokers have TLS
        return cluster.broker_tls
    if server == "functionsWorker":
        # proxies forward functions calls to a standalone worker's https URL
        return bool(spec["standaloneFunctionsWorker"]) and security.tls_on(
            cluster.spec, "functionsWorker")
    raise ValueError(f"{client} cannot be a TLS client of {server}")


def plan(cluster: Cluster, section: str, set_name: str | None = None,
         spec: dict | None = None) -> TlsPlan:
    """The plan of component `section` (one of its sets with `set_name` and the set's merged
    `spec`); use ``cluster.tls_plan``, which computes each plan once."""
    entry = registry.BY_SECTION[section]
    own = cluster.spec[section] if spec is None else spec
    serves = bool(entry.tls_server_formats) and security.tls_on(cluster.spec, section, set_name)
    client_of = tuple(server for server in entry.tls_client_of
                      if _server_tls(cluster, section, server, own))
    formats = set(entry.tls_server_formats) if serves else set()
    for server in client_of:
        formats.update(CLIENT_FORMATS.get(server, ()))
    if section == "proxy":
        # KAAP's proxy converts whatever it mounts: its Kafka extension and its websocket
        # service read the JKS stores, the proxy the PKCS#8 key
        formats = {registry.PK8, registry.JKS}
    if entry.tls:
        secret = security.secret_name(cluster.spec, section, set_name)
    elif client_of:
        # no certificate of its own (the bastion): the Secret of the server it dials, whose
        # ca.crt is the CA to trust
        secret = security.secret_name(cluster.spec, client_of[0])
    else:
        secret = None
    return TlsPlan(serves, client_of, secret, formats)


def client_plan(cluster: Cluster, secret: str, servers: tuple[str, ...]) -> TlsPlan:
    """The plan of a Job or init container that is only a client of `servers`, with the
    certificates of the pod it belongs to (`secret`)."""
    client_of = tuple(s for s in servers if _job_server_tls(cluster, s))
    formats: set[str] = set()
    for server in client_of:
        formats.update(CLIENT_FORMATS.get(server, ()))
    return TlsPlan(False, client_of, secret, formats)


def _job_server_tls(cluster: Cluster, server: str) -> bool:
    if server == "zookeeper":
        return zookeeper_tls(cluster)
    if server == "broker":
        return cluster.broker_tls
    raise ValueError(f"a Job cannot be a TLS client of {server}")
