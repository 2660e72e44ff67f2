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


def _runs(cluster, component: str) -> bool:
    """Whether any pod of a set component is rendered (a set or the component has replicas)."""
    spec = cluster.spec[component]
    sets = spec.get("sets") or {}
    if not sets:
        return spec["replicas"] > 0
    return any(((s or {}).get("replicas") if (s or {}).get("replicas") is not None
                else spec["replicas"]) > 0 for s in sets.values())


def _client_rule(cluster, own: dict) -> dict | None:
    if _runs(cluster, "proxy"):
        ports = list(PROXY_CLIENT_PORTS)
        if _websocket(cluster):
            ports.append(PROXY_WEBSOCKET_PORT)
        component = "proxy"
    elif _runs(cluster, "broker"):
        ports = list(BROKER_CLIENT_PORTS)
        component = "broker"
    else:
        return None
    selector = dict(own, component=cluster.base_name(component))
    # an empty `from` is "from anywhere"; only the listed ports are opened
    return _policy(cluster, f"{cluster.name}-clients", selector, [{"ports": _ports(ports)}])


def _websocket(cluster) -> bool:
    spec = cluster.spec["proxy"]
    sets = spec.get("sets") or {}
    enabled = spec["webSocket"]["enabled"]
    if not sets:
        return bool(enabled)
    return any((((s or {}).get("webSocket") or {}).get("enabled", enabled)) for s in sets.values())


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
