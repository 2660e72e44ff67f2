"""Kubernetes NetworkPolicy semantics, for the reachability test (the judge of
krm_pulsar/network_policies; written from the API reference and the concept page
https://kubernetes.io/docs/concepts/services-networking/network-policies/, and sharing no code
with the package):

* a pod is isolated for ingress (egress) once some policy of its namespace selects it with
  ``Ingress`` (``Egress``) in its ``policyTypes``; ``policyTypes`` defaults to ``Ingress``,
  plus ``Egress`` when the policy has egress rules;
* an isolated pod accepts (opens) only what one of those policies' rules allows: a rule
  without ``from``/``to`` allows every peer, without ``ports`` every port;
* a peer is a ``podSelector`` (pods of the policy's namespace), a ``namespaceSelector`` (every
  pod of the matching namespaces), both (those pods of those namespaces), or an ``ipBlock``
  (addresses in ``cidr`` outside ``except``; applied to pod addresses too, as Calico does);
* selectors have ``matchLabels`` and ``matchExpressions`` (In, NotIn, Exists, DoesNotExist); an
  empty selector matches everything;
* a port is a number (with ``endPort``: a range) or a container port name, resolved against the
  destination pod's container ports; ``protocol`` defaults to TCP;
* a connection needs the source's egress and the destination's ingress; a pod outside the
  policies' namespace is constrained by none of them.
"""

from __future__ import annotations

import ipaddress


class Peer:
    """One end of a connection: a pod (``labels`` set) in `namespace`, or an address outside
    the cluster (``labels`` None). ``ports`` maps container port names to (protocol,
    number), for named ports."""

    def __init__(self, name: str, ip: str, namespace: str | None = None,
                 labels: dict | None = None, ports: dict | None = None) -> None:
        self.name = name
        self.ip = ip
        self.namespace = namespace
        self.labels = labels
        self.ports = ports or {}

    @property
    def is_pod(self) -> bool:
        return self.labels is not None

    @property
    def namespace_labels(self) -> dict:
        return {"kubernetes.io/metadata.name": self.namespace} if self.namespace else {}

    def __repr__(self) -> str:
        return f"Peer({self.name})"


def selector_matches(selector: dict, labels: dict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            raise ValueError(f"unknown operator {operator}")
    return True


def policy_types(policy: dict) -> list[str]:
    spec = policy["spec"]
    if "policyTypes" in spec:
        return list(spec["policyTypes"])
    return ["Ingress"] + (["Egress"] if spec.get("egress") else [])


def selects(policy: dict, pod: Peer, namespace: str) -> bool:
    return pod.is_pod and pod.namespace == namespace and selector_matches(
        policy["spec"].get("podSelector") or {}, pod.labels or {})


def peer_matches(peer: dict, other: Peer, namespace: str) -> bool:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.ip)
        if address not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(address in ipaddress.ip_network(cidr) for cidr in block.get("except") or [])
    if not other.is_pod:
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"] or {}, other.namespace_labels):
            return False
    elif other.namespace != namespace:
        return False
    if "podSelector" in peer:
        return selector_matches(peer["podSelector"] or {}, other.labels or {})
    return True


def port_matches(entries: list | None, protocol: str, port: int, destination: Peer) -> bool:
    if not entries:
        return True
    for entry in entries:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            if destination.ports.get(wanted) == (protocol, port):
                return True
            continue
        if wanted == port or (entry.get("endPort") is not None
                              and wanted <= port <= entry["endPort"]):
            return True
    return False


def isolating(policies: list, namespace: str, pod: Peer, direction: str) -> list[dict] | None:
    """The policies that isolate `pod` in `direction` ("Ingress" or "Egress"), None when it is
    not isolated (no policy of its namespace selects it for that direction)."""
    found = [p for p in policies if selects(p, pod, namespace) and direction in policy_types(p)]
    return found or None


def _rules_allow(isolated: list[dict] | None, rules_key: str, peers_key: str, namespace: str,
                 other: Peer, destination: Peer, protocol: str, port: int) -> bool:
    if isolated is None:
        return True
    for policy in isolated:
        for rule in policy["spec"].get(rules_key) or []:
            peers = rule.get(peers_key)
            if peers and not any(peer_matches(peer, other, namespace) for peer in peers):
                continue
            if port_matches(rule.get("ports"), protocol, port, destination):
                return True
    return False


def allowed(policies: list, namespace: str, source: Peer, destination: Peer, protocol: str,
            port: int) -> bool:
    """Whether `source` may open a connection to `destination` on (protocol, port): the
    destination's ingress and the source's egress both allow it."""
    return (_rules_allow(isolating(policies, namespace, destination, "Ingress"), "ingress",
                         "from", namespace, source, destination, protocol, port)
            and _rules_allow(isolating(policies, namespace, source, "Egress"), "egress", "to",
                             namespace, destination, destination, protocol, port))


def matrix(policies: list, namespace: str, sources: list[Peer], destinations: list[Peer],
           ports: list[tuple[str, int]]) -> dict:
    """``{(source name, destination name): {(protocol, port)}}`` of what is allowed, over
    `ports` (a cell for a pod group and itself is between two pods of the group)."""
    ingress = {id(p): isolating(policies, namespace, p, "Ingress") for p in destinations}
    egress = {id(p): isolating(policies, namespace, p, "Egress") for p in sources}
    result: dict = {}
    for source in sources:
        for destination in destinations:
            if source is destination and not source.is_pod:
                continue
            found = {(protocol, port) for protocol, port in ports
                     if _rules_allow(ingress[id(destination)], "ingress", "from", namespace,
                                     source, destination, protocol, port)
                     and _rules_allow(egress[id(source)], "egress", "to", namespace,
                                      destination, destination, protocol, port)}
            if found:
                result[(source.name, destination.name)] = found
    return result
