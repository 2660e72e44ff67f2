"""NetworkPolicies of one cluster (``spec.global.networkPolicies.enabled``; neither KAAP nor the
Helm chart has them). See docs/security.md.

Three ingress policies, all selecting pods by the labels every component already carries
(``app: pulsar``, ``cluster: <global.name>``, ``component: <base name>``), so a component added
later (Oxia, autorecovery, the functions worker, ...) is covered without changes here:

* ``<name>-internal``: every pod of the cluster accepts traffic from every pod of the cluster,
  and from nothing else. Policies are additive, so this is the baseline that keeps ZooKeeper,
  Oxia and BookKeeper reachable only by the cluster's own components;
* ``<name>-clients``: the client-facing component, the proxy, or the brokers when the cluster
  has no proxy, accepts its service ports from anywhere;
* ``<name>-metrics``: only when ``metricsFrom`` lists peers (a monitoring namespace): those peers
  may reach the metrics ports.

Egress is not restricted: the cluster's egress needs (DNS, tiered storage, sinks and sources)
are the user's to know.
"""

from __future__ import annotations

from . import names

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterable

    from .cluster import Cluster


def render(cluster: Cluster, objects: list) -> list:
    """The policies for the cluster's rendered `objects`: ports are read from what was
    rendered (Service ports, ``prometheus.io/port`` pod annotations), so TLS, Kafka, additional
    ports and the functions worker's metrics port are opened exactly when they exist."""
    settings = cluster.glob["networkPolicies"]
    if not settings["enabled"]:
        return []
    own = names.cluster_labels(cluster.name)
    policies = [_policy(cluster, f"{cluster.name}-internal", own,
                        [{"from": [{"podSelector": {"matchLabels": dict(own)}}]}])]
    clients = _client_rule(cluster, own, objects)
    if clients:
        policies.append(clients)
    if settings.get("metricsFrom"):
        metrics_ports = sorted({int(port) for port in (
            _template_annotation(obj, names.PROMETHEUS_PORT) for obj in objects) if port})
        if metrics_ports:
            policies.append(_policy(cluster, f"{cluster.name}-metrics", own, [{
                "from": list(settings["metricsFrom"]),
                "ports": _ports(metrics_ports),
            }]))
    return policies


def _client_rule(cluster: Cluster, own: dict, objects: list) -> dict | None:
    """The proxy's Service ports, or the brokers' when no proxy runs; None when neither runs."""
    for component in ("proxy", "broker"):
        base = cluster.base_name(component)
        if not any(obj["kind"] in ("Deployment", "StatefulSet") and _component(obj) == base
                   for obj in objects):
            continue
        ports = []
        for obj in objects:
            if obj["kind"] == "Service" and _component(obj) == base:
                for port in obj["spec"].get("ports") or []:
                    ports.append(port.get("targetPort", port["port"]))
        selector = dict(own, component=base)
        # an empty `from` is "from anywhere"; only the Services' ports are opened
        return _policy(cluster, f"{cluster.name}-clients", selector, [{"ports": _ports(ports)}])
    return None


def _component(obj: dict) -> str | None:
    return (obj["metadata"].get("labels") or {}).get(names.COMPONENT_LABEL)


def _template_annotation(obj: dict, key: str) -> str | None:
    template = (obj.get("spec") or {}).get("template") if obj["kind"] in (
        "Deployment", "StatefulSet") else None
    return ((template or {}).get("metadata", {}).get("annotations") or {}).get(key)


def _ports(ports: Iterable[int | str]) -> list:
    """Numbers first, then named ports, each once."""
    numbers = sorted({p for p in ports if isinstance(p, int)})
    names = sorted({p for p in ports if isinstance(p, str)})
    return [{"protocol": "TCP", "port": port} for port in numbers + names]


def _policy(cluster: Cluster, name: str, selector: dict, ingress: list) -> dict:
    labels = {**names.cluster_labels(cluster.name),
              names.COMPONENT_LABEL: names.NETWORK_POLICY_COMPONENT}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": cluster.metadata(name, labels),
        "spec": {
            "podSelector": {"matchLabels": dict(selector)},
            "policyTypes": ["Ingress"],
            "ingress": ingress,
        },
    }
