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

from . import cluster as cluster_module

PROXY_CLIENT_PORTS = (cluster_module.BROKER_PULSAR_PORT, cluster_module.BROKER_HTTP_PORT)
PROXY_WEBSOCKET_PORT = 8000
BROKER_CLIENT_PORTS = (cluster_module.BROKER_PULSAR_PORT, cluster_module.BROKER_HTTP_PORT)
# Prometheus ports of the components (the prometheus.io/port pod annotations).
METRICS_PORTS = (8000, 8080)


def render(cluster) -> list:
    settings = cluster.glob["networkPolicies"]
    if not settings["enabled"]:
        return []
    own = {"app": "pulsar", "cluster": cluster.name}
    policies = [_policy(cluster, f"{cluster.name}-internal", own,
                        [{"from": [{"podSelector": {"matchLabels": dict(own)}}]}])]
    clients = _client_rule(cluster, own)
    if clients:
        policies.append(clients)
    if settings.get("metricsFrom"):
        policies.append(_policy(cluster, f"{cluster.name}-metrics", own, [{
            "from": list(settings["metricsFrom"]),
            "ports": _ports(METRICS_PORTS),
        }]))
    return policies


def _client_rule(cluster, own: dict) -> dict | None:
    """The proxy's ports, or the brokers' when no proxy pod runs; None when neither runs."""
    proxies = _running_sets(cluster, "proxy")
    if proxies:
        ports = list(PROXY_CLIENT_PORTS)
        if any(rset.spec["webSocket"]["enabled"] for rset in proxies):
            ports.append(PROXY_WEBSOCKET_PORT)
        component = "proxy"
    elif _running_sets(cluster, "broker"):
        ports = list(BROKER_CLIENT_PORTS)
        component = "broker"
    else:
        return None
    selector = dict(own, component=cluster.base_name(component))
    # an empty `from` is "from anywhere"; only the listed ports are opened
    return _policy(cluster, f"{cluster.name}-clients", selector, [{"ports": _ports(ports)}])


def _running_sets(cluster, component: str) -> list:
    """The component's resource sets (merged as the renderers see them) that have pods."""
    from . import placement

    return [rset for rset in placement.resource_sets(cluster, component)
            if rset.spec["replicas"] > 0]


def _ports(numbers) -> list:
    return [{"protocol": "TCP", "port": number} for number in sorted(set(numbers))]


def _policy(cluster, name: str, selector: dict, ingress: list) -> dict:
    labels = {"app": "pulsar", "cluster": cluster.name, "component": "network-policy"}
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
