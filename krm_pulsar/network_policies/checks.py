"""Checks of ``spec.global.networkPolicies`` (phase ``spec``): its peers and rules are copied
into the NetworkPolicies as written, so each is checked here as the API server would check it
(NetworkPolicyPeer, NetworkPolicyEgressRule), with the field path of the input; and an egress
lockdown that cannot work is refused."""

from __future__ import annotations

from ..schema import SpecError, child_path, label_key_problem, label_value_problem, type_name
from ..schema import warning as _warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    import ipaddress

PEER_KEYS = ("podSelector", "namespaceSelector", "ipBlock")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
PROTOCOLS = ("TCP", "UDP", "SCTP")
PATH = "spec.global.networkPolicies"


def check(spec: dict, raw: dict) -> list[SpecError]:
    settings = spec["global"]["networkPolicies"]
    findings: list[SpecError] = []
    for key in ("metricsFrom", "brokerClientsFrom"):
        for index, peer in enumerate(settings[key] or []):
            _peer(peer, f"{PATH}.{key}[{index}]", findings)
    egress = settings["egress"]
    for key in ("dns", "apiServer"):
        _rules(egress[key], f"{PATH}.egress.{key}", findings)
    for section, rules in egress["allow"].items():
        _rules(rules, f"{PATH}.egress.allow.{section}", findings)
    if findings or not egress["enabled"]:
        return findings
    if not settings["enabled"]:
        findings.append(_warning(f"{PATH}.egress.enabled", (
            "has no effect without spec.global.networkPolicies.enabled")))
        return findings
    callers = kubernetes_api_callers(spec)
    if callers and not egress["apiServer"]:
        findings.append(SpecError(f"{PATH}.egress.apiServer", (
            f"with egress locked down, {', '.join(callers)} cannot reach the Kubernetes API; "
            f"list the API server's addresses here as egress rules (for example "
            f"{{to: [{{ipBlock: {{cidr: <endpoint IP>/32}}}}], ports: [{{port: 443}}]}}, "
            f"the addresses of `kubectl get endpointslices -n default -l "
            f"kubernetes.io/service-name=kubernetes`)")))
    if not egress["dns"]:
        findings.append(_warning(f"{PATH}.egress.dns", (
            "with egress locked down and no DNS rule, no pod can resolve a name (every address "
            "of the cluster is a name): allow your cluster DNS here, or in a policy of your "
            "own")))
    return findings


def kubernetes_api_callers(spec: dict) -> list[str]:
    """What calls the Kubernetes API in this spec (policies.calls_kubernetes_api, by spec)."""
    callers = []
    from ..security import auth_on, token

    if auth_on(spec) and token(spec)["initialize"]:
        callers.append("the token Job (auth.token.initialize)")
    if spec["oxia"]["enabled"]:
        callers.append("the Oxia coordinator")
    worker = spec["functionsWorker"]
    if worker["replicas"] > 0 and worker["runtime"] == "kubernetes":
        callers.append("the functions worker (kubernetes runtime)")
    return callers


def _unknown_fields(value: dict, known: tuple | frozenset, path: str, what: str, has: str,
                   findings: list[SpecError]) -> bool:
    """An error per key of `value` that `what` does not have (``has`` lists what it has);
    whether there was one."""
    unknown = [key for key in value if key not in known]
    for key in unknown:
        findings.append(SpecError(child_path(path, str(key)),
                                  f"unknown field {key!r} of {what}; {has}"))
    return bool(unknown)


def _peer(peer: object, path: str, findings: list[SpecError]) -> None:
    """One NetworkPolicyPeer: pod and namespace selectors, or an ipBlock alone."""
    if not isinstance(peer, dict):
        findings.append(SpecError(path, f"expected a NetworkPolicy peer (a mapping), got "
                                        f"{type_name(peer)}"))
        return
    if _unknown_fields(peer, PEER_KEYS, path, "a NetworkPolicy peer",
                       "a peer has podSelector, namespaceSelector or ipBlock", findings):
        return
    if not peer:
        findings.append(SpecError(path, (
            "an empty NetworkPolicy peer; give podSelector, namespaceSelector or ipBlock")))
        return
    if "ipBlock" in peer:
        if len(peer) > 1:
            findings.append(SpecError(path, (
                "a NetworkPolicy peer with ipBlock cannot also have podSelector or "
                "namespaceSelector; make them two peers")))
        _ip_block(peer["ipBlock"], child_path(path, "ipBlock"), findings)
    for key in ("podSelector", "namespaceSelector"):
        if key in peer:
            _selector(peer[key], child_path(path, key), findings)


def _selector(selector: object, path: str, findings: list[SpecError]) -> None:
    if not isinstance(selector, dict):
        findings.append(SpecError(path, f"expected a label selector (a mapping), got "
                                        f"{type_name(selector)}"))
        return
    _unknown_fields(selector, ("matchLabels", "matchExpressions"), path, "a label selector",
                    "it has matchLabels and matchExpressions", findings)
    labels = selector.get("matchLabels")
    if labels is not None:
        if not isinstance(labels, dict):
            findings.append(SpecError(child_path(path, "matchLabels"),
                                      f"expected a mapping, got {type_name(labels)}"))
        else:
            for key, value in labels.items():
                where = child_path(child_path(path, "matchLabels"), str(key))
                problem = label_key_problem(str(key)) if isinstance(key, str) else \
                    "label keys are strings"
                if problem is None:
                    problem = label_value_problem(value) if isinstance(value, str) else \
                        f"label values are strings, got {type_name(value)}"
                if problem:
                    findings.append(SpecError(where, problem))
    expressions = selector.get("matchExpressions")
    if expressions is not None:
        if not isinstance(expressions, list):
            findings.append(SpecError(child_path(path, "matchExpressions"),
                                      f"expected a list, got {type_name(expressions)}"))
            return
        for index, expression in enumerate(expressions):
            _expression(expression, f"{path}.matchExpressions[{index}]", findings)


def _expression(expression: object, path: str, findings: list[SpecError]) -> None:
    if not isinstance(expression, dict):
        findings.append(SpecError(path, f"expected a mapping, got {type_name(expression)}"))
        return
    _unknown_fields(expression, ("key", "operator", "values"), path, "a selector expression",
                    "it has key, operator and values", findings)
    key = expression.get("key")
    problem = label_key_problem(key) if isinstance(key, str) and key else \
        "a selector expression needs a label key"
    if problem:
        findings.append(SpecError(child_path(path, "key"), problem))
    operator = expression.get("operator")
    values = expression.get("values")
    if operator not in OPERATORS:
        findings.append(SpecError(child_path(path, "operator"), (
            f"operator {operator!r} is not one of {', '.join(OPERATORS)}")))
    elif operator in ("In", "NotIn"):
        if not isinstance(values, list) or not values or not all(
                isinstance(value, str) for value in values):
            findings.append(SpecError(child_path(path, "values"), (
                f"operator {operator} needs a non-empty list of string values")))
    elif values:
        findings.append(SpecError(child_path(path, "values"), (
            f"operator {operator} takes no values")))


def _ip_block(block: object, path: str, findings: list[SpecError]) -> None:
    if not isinstance(block, dict):
        findings.append(SpecError(path, f"expected a mapping, got {type_name(block)}"))
        return
    _unknown_fields(block, ("cidr", "except"), path, "an ipBlock", "it has cidr and except",
                    findings)
    network = _network(block.get("cidr"), child_path(path, "cidr"), findings)
    excepted = block.get("except")
    if excepted is None:
        return
    if not isinstance(excepted, list):
        findings.append(SpecError(child_path(path, "except"),
                                  f"expected a list, got {type_name(excepted)}"))
        return
    for index, cidr in enumerate(excepted):
        where = f"{path}.except[{index}]"
        inner = _network(cidr, where, findings)
        if network is not None and inner is not None and (
                inner.version != network.version or not inner.subnet_of(network)  # type: ignore[arg-type]
                or inner == network):
            findings.append(SpecError(where, (
                f"{cidr} is not a strict subset of the ipBlock's cidr {block.get('cidr')}")))


def _network(value: object, path: str, findings: list[SpecError]
             ) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    import ipaddress

    if not isinstance(value, str):
        findings.append(SpecError(path, "an ipBlock needs a cidr such as 10.0.0.0/16"))
        return None
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        findings.append(SpecError(path, (
            f"{value!r} is not a CIDR such as 10.0.0.0/16 (the address must be the network's "
            f"first)")))
        return None


def _rules(rules: list | None, path: str, findings: list[SpecError]) -> None:
    """NetworkPolicy egress rules: ``to`` (peers) and ``ports`` (the schema checked that
    `rules` is a list of mappings)."""
    for index, rule in enumerate(rules or []):
        where = f"{path}[{index}]"
        if not isinstance(rule, dict):
            findings.append(SpecError(where, f"expected an egress rule (a mapping), got "
                                             f"{type_name(rule)}"))
            continue
        _unknown_fields(rule, ("to", "ports"), where, "a NetworkPolicy egress rule",
                        "it has to and ports", findings)
        peers = rule.get("to")
        if peers is not None:
            if not isinstance(peers, list):
                findings.append(SpecError(f"{where}.to", f"expected a list of peers, got "
                                                         f"{type_name(peers)}"))
            else:
                for number, peer in enumerate(peers):
                    _peer(peer, f"{where}.to[{number}]", findings)
        ports = rule.get("ports")
        if ports is not None:
            if not isinstance(ports, list):
                findings.append(SpecError(f"{where}.ports", f"expected a list, got "
                                                            f"{type_name(ports)}"))
            else:
                for number, port in enumerate(ports):
                    _port(port, f"{where}.ports[{number}]", findings)


def _port(port: object, path: str, findings: list[SpecError]) -> None:
    if not isinstance(port, dict):
        findings.append(SpecError(path, f"expected a mapping, got {type_name(port)}"))
        return
    _unknown_fields(port, ("protocol", "port", "endPort"), path, "a NetworkPolicy port",
                    "it has protocol, port and endPort", findings)
    protocol = port.get("protocol", "TCP")
    if protocol not in PROTOCOLS:
        findings.append(SpecError(child_path(path, "protocol"), (
            f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")))
    number = port.get("port")
    if isinstance(number, bool) or not isinstance(number, (int, str, type(None))):
        findings.append(SpecError(child_path(path, "port"), (
            f"expected a port number or a container port name, got {type_name(number)}")))
        return
    if isinstance(number, int) and not 1 <= number <= 65535:
        findings.append(SpecError(child_path(path, "port"), f"port {number} is not in 1-65535"))
    if isinstance(number, str) and not _port_name(number):
        findings.append(SpecError(child_path(path, "port"), (
            f"{number!r} is not a port name (at most 15 lower-case letters, digits and '-', "
            f"with a letter)")))
    end = port.get("endPort")
    if end is not None and (not isinstance(number, int) or isinstance(end, bool)
                            or not isinstance(end, int) or not number <= end <= 65535):
        findings.append(SpecError(child_path(path, "endPort"), (
                "endPort needs a numeric port and is a number from port to 65535")))


def _port_name(name: str) -> bool:
    import re

    return bool(re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?", name)) and \
        "--" not in name and any(c.isalpha() for c in name)
