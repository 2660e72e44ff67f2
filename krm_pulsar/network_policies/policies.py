"""The NetworkPolicy objects: ``<name>-default-deny``, then one policy per pod group.

* ``<name>-default-deny`` selects every pod of the cluster (``app``, ``cluster``): nothing may
  reach a pod that no rule below names, Jobs and function instances included; with egress
  lockdown it also denies egress but to the cluster DNS;
* each group's policy is named like its workload (``<name>-broker-a``; Jobs and function
  instances ``<name>-<component label>``) and selects its pods by the workload's selector.
  Ingress: from the groups that dial it, on the ports they dial; from anywhere on the
  client-facing Service ports (the proxies', or the brokers' when no proxy runs);
  ``metricsFrom`` on its metrics port; ``brokerClientsFrom`` on the brokers' Service ports.
  Egress (lockdown only): to the groups it dials, the API server where it calls it, and the
  user's ``allow`` rules of its component.

Rules with the same ports are one rule; the groups of a component that are all named with the
same ports are one peer (the component's base labels).
"""

from __future__ import annotations

from .. import names, registry
from ..endpoints import METRICS, TABLE
from .links import Link, kafka_ports, links
from .pods import OXIA_COORDINATOR, TOKEN_JOB, Group, groups, kind_selector

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from typing import Any

    from ..cluster import Cluster

API_VERSION = "networking.k8s.io/v1"
# a peer of an ingress rule: None is "from anywhere"
Peer = dict


def policies(cluster: Cluster, objects: list) -> list[dict]:
    """The NetworkPolicies of the cluster's rendered `objects`."""
    settings = cluster.glob["networkPolicies"]
    egress = bool(settings["egress"]["enabled"])
    found = groups(cluster, objects)
    connections = links(cluster, found)
    by_kind: dict[str, list[Group]] = {}
    for group in found:
        by_kind.setdefault(group.kind, []).append(group)
    services = _service_ports(objects, found)
    result = [_default_deny(cluster, egress)]
    for group in found:
        ingress = _ingress(cluster, group, connections, by_kind, services)
        outgoing = _egress(cluster, group, connections, by_kind) if egress else []
        if ingress or outgoing:
            result.append(_policy(cluster, group, ingress, outgoing, egress))
    return result


# --- ingress ------------------------------------------------------------------------------------


def _ingress(cluster: Cluster, group: Group, connections: list[Link],
             by_kind: dict[str, list[Group]], services: dict[str, list]) -> list[dict]:
    settings = cluster.glob["networkPolicies"]
    rules: list[tuple[tuple, Peer | None]] = []
    # from the groups whose configuration dials this one
    for ports, peer in _peers(cluster, [(link.source, link.ports) for link in connections
                                        if link.target is group], by_kind):
        rules.append((ports, peer))
    # from anywhere: the client-facing Service ports
    exposed = _exposed(cluster, group, by_kind, services)
    if exposed:
        rules.append((exposed, None))
    if group.kind == "broker" and "proxy" in by_kind and services.get(group.name):
        for peer in settings["brokerClientsFrom"] or []:
            rules.append((tuple(services[group.name]), peer))
    metrics = metrics_port(group.kind)
    if metrics is not None:
        for peer in settings["metricsFrom"] or []:
            rules.append(((metrics,), peer))
    if exposed:  # what anyone may reach needs no rule for particular peers
        rules = [(ports, peer) for ports, peer in rules
                 if peer is None or not set(ports) <= set(exposed)]
    return _merge(rules, "from")


def _exposed(cluster: Cluster, group: Group, by_kind: dict[str, list[Group]],
             services: dict[str, list]) -> tuple:
    """The Service ports clients reach from anywhere: the proxies', or the brokers' when no
    proxy runs; with proxies, still the brokers' Kafka ports when no proxy set runs the Kafka
    extension (Kafka clients then connect to the brokers' advertised listeners)."""
    ports = services.get(group.name) or []
    if group.kind == "proxy":
        return tuple(ports)
    if group.kind != "broker":
        return ()
    if "proxy" not in by_kind:
        return tuple(ports)
    if any((proxy.spec or {})["kafka"]["enabled"] for proxy in by_kind["proxy"]):
        return ()
    kafka = kafka_ports(cluster, group)  # what this set serves (the umbrella may name more)
    return tuple(port for port in ports if port in kafka)


def _service_ports(objects: list, found: list[Group]) -> dict[str, list]:
    """``{group name: [pod port]}`` of the Services that select each group: the Service's
    ``targetPort`` (a number or a container port name), else its ``port``."""
    result: dict[str, list] = {}
    for obj in objects:
        if obj["kind"] != "Service":
            continue
        selector = obj["spec"].get("selector") or {}
        if not selector:
            continue
        for group in found:
            if all(group.labels.get(key) == value for key, value in selector.items()):
                ports = result.setdefault(group.name, [])
                for entry in obj["spec"].get("ports") or []:
                    port = entry.get("targetPort", entry.get("port"))
                    if port not in ports:
                        ports.append(port)
    return result


def metrics_port(kind: str) -> int | None:
    """Where Prometheus scrapes pods of `kind` (the registry's metrics, the endpoint table's
    metrics port of the Oxia parts and the function instances); None for the Jobs and the
    bastion, which serve nothing."""
    entry = registry.BY_SECTION.get(kind)
    if entry is not None:
        return registry.metrics_port(kind) if entry.metrics else None
    port = TABLE.get((kind, METRICS, False))
    return port.number if port else None


# --- egress -------------------------------------------------------------------------------------


def _egress(cluster: Cluster, group: Group, connections: list[Link],
            by_kind: dict[str, list[Group]]) -> list[dict]:
    settings = cluster.glob["networkPolicies"]["egress"]
    rules: list[tuple[tuple, Peer | None]] = list(_peers(
        cluster, [(link.target, link.ports) for link in connections if link.source is group],
        by_kind))
    result = _merge(rules, "to")
    if calls_kubernetes_api(cluster, group.kind):
        result.extend(_copy(settings["apiServer"] or []))
    if group.section:
        result.extend(_copy(settings["allow"][group.section] or []))
    return result


def calls_kubernetes_api(cluster: Cluster, kind: str) -> bool:
    """The pods that call the Kubernetes API: the token Job, the Oxia coordinator (its
    ConfigMap status and leases), the functions worker with the kubernetes runtime."""
    if kind in (TOKEN_JOB, OXIA_COORDINATOR):
        return True
    return kind == "functionsWorker" and cluster.spec["functionsWorker"]["runtime"] == "kubernetes"


# --- rules and peers ----------------------------------------------------------------------------


def _peers(cluster: Cluster, reached: list[tuple[Group, tuple]],
           by_kind: dict[str, list[Group]]) -> list[tuple[tuple, Peer]]:
    """``(ports, peer)`` for the groups at the other end of some links, in order; when every
    group of a kind is there with the same ports, one peer selects them all."""
    result: list[tuple[tuple, Peer]] = []
    done: set[str] = set()
    for group, ports in reached:
        if group.name in done:
            continue
        members = by_kind[group.kind]
        same = [other for other, other_ports in reached if other.kind == group.kind
                and other_ports == ports]
        selector = kind_selector(cluster, group.kind, members) if len(same) == len(
            members) else None
        if selector is not None:
            done.update(member.name for member in members)
            result.append((ports, _pod_peer(selector)))
        else:
            done.add(group.name)
            result.append((ports, _pod_peer(group.selector)))
    return result


def _pod_peer(selector: dict) -> Peer:
    return {"podSelector": {"matchLabels": dict(selector)}}


def _merge(rules: list[tuple[tuple, Peer | None]], key: str) -> list[dict]:
    """One rule per set of ports, in first-seen order; a rule with a None peer has no
    `key` (``from``/``to``: any peer)."""
    merged: dict[tuple, list | None] = {}
    for ports, peer in rules:
        ordered = tuple(sorted(ports, key=lambda p: (isinstance(p, str), p)))
        if ordered not in merged:
            merged[ordered] = []
        peers = merged[ordered]
        if peers is None:
            continue
        if peer is None:
            merged[ordered] = None
        elif peer not in peers:
            peers.append(peer)
    result = []
    for ports, peers in merged.items():
        rule: dict = {}
        if peers is not None:
            rule[key] = [_copy(peer) for peer in peers]
        rule["ports"] = [{"protocol": "TCP", "port": port} for port in ports]
        result.append(rule)
    return result


def _copy(value: object) -> Any:
    import copy

    return copy.deepcopy(value)


# --- objects ------------------------------------------------------------------------------------


def _metadata(cluster: Cluster, name: str, first: bool = False) -> dict:
    """`first`: in the first sync wave, the token Job's (the other policies take the wave of
    the component they protect, placement.annotate_sync_waves), so no pod ever runs before
    the policies that isolate it."""
    labels = {**names.cluster_labels(cluster.name),
              names.COMPONENT_LABEL: names.NETWORK_POLICY_COMPONENT}
    if not first:
        return cluster.metadata(name, labels)
    from ..token_init import SYNC_WAVE

    return cluster.metadata(name, labels, {names.SYNC_WAVE: SYNC_WAVE})


def _default_deny(cluster: Cluster, egress: bool) -> dict:
    spec: dict = {"podSelector": {"matchLabels": names.cluster_labels(cluster.name)},
                  "policyTypes": ["Ingress", "Egress"] if egress else ["Ingress"]}
    if egress:
        spec["egress"] = _copy(cluster.glob["networkPolicies"]["egress"]["dns"] or [])
    return {"apiVersion": API_VERSION, "kind": "NetworkPolicy",
            "metadata": _metadata(cluster, f"{cluster.name}-default-deny", first=True),
            "spec": spec}


def _policy(cluster: Cluster, group: Group, ingress: list, egress: list,
            locked: bool) -> dict:
    spec: dict = {"podSelector": {"matchLabels": dict(group.selector)}}
    types = []
    if ingress:
        types.append("Ingress")
        spec["ingress"] = ingress
    if locked and egress:
        types.append("Egress")
        spec["egress"] = egress
    spec["policyTypes"] = types
    return {"apiVersion": API_VERSION, "kind": "NetworkPolicy",
            "metadata": _metadata(cluster, group.name, first=group.kind == TOKEN_JOB),
            "spec": spec}

