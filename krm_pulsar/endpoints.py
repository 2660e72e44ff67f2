"""Every port a component listens on: one table, (component, protocol, TLS) -> port.

Renderers never write a port number: Service ports, container ports, probes, configuration
keys and the URLs other components dial all read this table, and so will NetworkPolicies
derived from what each component connects to (docs/architecture.md). The numbers and names
are KAAP's (docs/kaap-parity.md#ports) and, for Oxia, the Apache Helm chart's
(docs/helm-parity.md#oxia).
"""

from __future__ import annotations


class Port:
    """One listening port: its number, the name its Service gives it and the name its
    container gives it (the same but for the bookies, whose Service calls 3181 ``server``
    and whose container calls it ``client``, as KAAP writes them)."""

    __slots__ = ("container_name", "name", "number")

    def __init__(self, number: int, name: str, container_name: str | None = None) -> None:
        self.number = number
        self.name = name
        self.container_name = container_name or name

    def service(self) -> dict:
        """A Service port entry as KAAP writes it: name and port only."""
        return {"name": self.name, "port": self.number}

    def container(self) -> dict:
        return {"name": self.container_name, "containerPort": self.number}

    def __repr__(self) -> str:
        return f"Port({self.number}, {self.name!r})"


# Protocols, as the keys of the table.
PULSAR = "pulsar"            # Pulsar's binary protocol (brokers, proxies)
HTTP = "http"                # the web service: admin REST API, metrics, status
KAFKA = "kafka"              # Kafka-on-Pulsar listener
KAFKA_SCHEMA_REGISTRY = "kafka-schema-registry"
WEBSOCKET = "websocket"      # the proxy pod's websocket service
CLIENT = "client"            # ZooKeeper's client port
QUORUM = "quorum"            # ZooKeeper's follower-to-leader port
ELECTION = "election"        # ZooKeeper's leader election port
BOOKIE = "bookie"            # a bookie's client protocol
PUBLIC = "public"            # Oxia's client port
INTERNAL = "internal"        # Oxia's coordinator-to-server port
METRICS = "metrics"          # a port that serves only metrics
GRPC = "grpc"                # a function instance's control port (the worker dials it)

# (component, protocol, tls) -> Port. The components are spec sections, plus the Oxia parts.
TABLE: dict[tuple[str, str, bool], Port] = {
    ("zookeeper", CLIENT, False): Port(2181, "client"),
    ("zookeeper", CLIENT, True): Port(2281, "client-tls"),
    ("zookeeper", QUORUM, False): Port(2888, "server"),
    ("zookeeper", ELECTION, False): Port(3888, "leader-election"),
    # Pulsar's ZooKeeper serves Prometheus metrics on its admin HTTP port
    ("zookeeper", METRICS, False): Port(8000, "metrics"),
    ("bookkeeper", BOOKIE, False): Port(3181, "server", "client"),
    ("bookkeeper", HTTP, False): Port(8000, "http"),
    ("broker", HTTP, False): Port(8080, "http"),
    ("broker", HTTP, True): Port(8443, "https"),
    ("broker", PULSAR, False): Port(6650, "pulsar"),
    ("broker", PULSAR, True): Port(6651, "pulsarssl"),
    ("broker", KAFKA, False): Port(9092, "kafkaplaintext"),
    ("broker", KAFKA, True): Port(9093, "kafkassl"),
    ("broker", KAFKA_SCHEMA_REGISTRY, False): Port(8081, "kafkaschemaregistry"),
    ("proxy", HTTP, False): Port(8080, "http"),
    ("proxy", HTTP, True): Port(8443, "https"),
    ("proxy", PULSAR, False): Port(6650, "pulsar"),
    ("proxy", PULSAR, True): Port(6651, "pulsarssl"),
    ("proxy", WEBSOCKET, False): Port(8000, "ws"),
    ("proxy", WEBSOCKET, True): Port(8001, "wss"),
    ("proxy", KAFKA, False): Port(9092, "kafkaplaintext"),
    ("proxy", KAFKA, True): Port(9093, "kafkassl"),
    ("proxy", KAFKA_SCHEMA_REGISTRY, False): Port(8081, "kafkaschemaregistry"),
    # autorecovery runs the bookie's HTTP server (metrics)
    ("autorecovery", HTTP, False): Port(8000, "http"),
    ("functionsWorker", HTTP, False): Port(6750, "http"),
    ("functionsWorker", HTTP, True): Port(6751, "https"),
    ("oxia-server", PUBLIC, False): Port(6648, "public"),
    ("oxia-server", INTERNAL, False): Port(6649, "internal"),
    ("oxia-server", METRICS, False): Port(8080, "metrics"),
    ("oxia-coordinator", INTERNAL, False): Port(6649, "internal"),
    ("oxia-coordinator", METRICS, False): Port(8080, "metrics"),
    # the pods of the functions worker's kubernetes runtime (Pulsar's KubernetesRuntimeFactory
    # defaults, written into functions_worker.yml with NetworkPolicies, whose rules use them)
    ("function-instance", GRPC, False): Port(9093, "grpc"),
    ("function-instance", METRICS, False): Port(9094, "prometheus"),
}


def port(component: str, protocol: str, tls: bool = False) -> Port:
    """The port `component` serves `protocol` on, with or without TLS (KeyError: none)."""
    return TABLE[(component, protocol, tls)]


def number(component: str, protocol: str, tls: bool = False) -> int:
    return TABLE[(component, protocol, tls)].number


def service_ports(component: str, *entries: tuple[str, bool]) -> list[dict]:
    """Service port entries for ``(protocol, tls)`` pairs, in the given order."""
    return [TABLE[(component, protocol, tls)].service() for protocol, tls in entries]


def container_ports(component: str, *entries: tuple[str, bool]) -> list[dict]:
    return [TABLE[(component, protocol, tls)].container() for protocol, tls in entries]


def localhost_url(scheme: str, component: str, protocol: str, tls: bool = False) -> str:
    """``<scheme>://localhost:<port>``: how a process reaches its own pod's listener."""
    return f"{scheme}://localhost:{number(component, protocol, tls)}"
