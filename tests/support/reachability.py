"""The reachability test: the rendered NetworkPolicies, evaluated by their semantics
(netpol_eval.py), against the connections the rendered configuration needs
(netpol_reader.py), over every pair of pods and a few peers outside the cluster.

Peers besides the rendered pods (each set's pod template, each Job's pod, the function
instance pods of the kubernetes runtime):

* ``outside``: a pod of another namespace (any client, in or out of the cluster);
* ``monitoring``: a pod of namespace ``monitoring``, which ``metricsFrom`` names;
* ``apps``: an ``app: producer`` pod of namespace ``apps``, which ``brokerClientsFrom`` names;
* destinations only: ``kube-dns`` (the default DNS rule's pods), ``kubernetes-api`` (the API
  server's address, which ``egress.apiServer`` names), ``s3`` (an address outside the
  cluster, which ``egress.allow`` names for brokers and the functions worker).

Expected: every connection the reader finds, the client-facing Service ports from anyone,
the metrics ports from ``monitoring``, the brokers' Service ports from ``apps`` (with
proxies), and outside the cluster: everything without egress lockdown; with it DNS, the API
server for the pods that call it and ``s3`` on 443 for brokers, workers and instances. Every
other pair and port (the ports of every object, and two no one uses) must be denied.
"""

from __future__ import annotations

import copy

from netpol_eval import Peer, matrix
from netpol_reader import needed

MONITORING = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
APPS = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}},
         "podSelector": {"matchLabels": {"app": "producer"}}}]
API_SERVER_IP, API_SERVER_PORT = "172.18.0.2", 6443
EXTERNAL_IP, EXTERNAL_PORT = "203.0.113.10", 443
EGRESS = {
    "enabled": True,
    "apiServer": [{"to": [{"ipBlock": {"cidr": f"{API_SERVER_IP}/32"}}],
                   "ports": [{"protocol": "TCP", "port": API_SERVER_PORT}]}],
    "allow": {section: [{"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}],
                         "ports": [{"port": EXTERNAL_PORT}]}]
              for section in ("broker", "functionsWorker")},
}
# the processes of the sections `egress.allow` names above (the worker's also run in instances)
ALLOWED_OUT = {"broker", "functions-worker", "function-instance"}
UNUSED_PORTS = [("TCP", 1), ("TCP", 65535), ("UDP", 1)]
DNS_PORTS = {("UDP", 53), ("TCP", 53)}


def with_policies(config: dict, egress: bool = False, broker_clients: bool = False) -> dict:
    """`config` with NetworkPolicies on, ``metricsFrom`` naming the monitoring namespace, and
    optionally egress lockdown and ``brokerClientsFrom``."""
    config = copy.deepcopy(config)
    settings = config.setdefault("spec", {}).setdefault("global", {}).setdefault(
        "networkPolicies", {})
    settings.update({"enabled": True, "metricsFrom": copy.deepcopy(MONITORING),
                     "brokerClientsFrom": copy.deepcopy(APPS) if broker_clients else [],
                     "egress": copy.deepcopy(EGRESS) if egress else {"enabled": False}})
    return config


def _numbers(value: object, found: set) -> None:
    """Every port number of the rendered objects (ports, containerPort, targetPort, endPort)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("port", "containerPort", "targetPort", "endPort", "nodePort") and \
                    isinstance(item, int) and not isinstance(item, bool):
                found.add(item)
            else:
                _numbers(item, found)
    elif isinstance(value, list):
        for item in value:
            _numbers(item, found)


def compare(objects: list, egress: bool = False, broker_clients: bool = False
            ) -> tuple[dict, dict, list[str]]:
    """``(allowed, expected, problems)`` for rendered `objects`, whose spec asked for egress
    lockdown (`egress`) and for ``brokerClientsFrom`` naming ``apps`` (`broker_clients`) as
    with_policies does."""
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    namespaces = {o["metadata"].get("namespace") for o in objects}
    namespace = next(iter(namespaces)) or "default"
    need = needed(objects)
    ours = [Peer(pod.name, f"10.244.{index // 200}.{index % 200 + 10}", namespace, pod.labels,
                 pod.ports) for index, pod in enumerate(need.pods)]
    outside = Peer("outside", "198.51.100.7", "elsewhere", {"app": "client"})
    monitoring = Peer("monitoring", "10.245.0.10", "monitoring", {"app": "prometheus"})
    apps = Peer("apps", "10.245.1.10", "apps", {"app": "producer"})
    dns = Peer("kube-dns", "10.245.2.10", "kube-system", {"k8s-app": "kube-dns"})
    api = Peer("kubernetes-api", API_SERVER_IP)
    external = Peer("s3", EXTERNAL_IP)
    numbers = {53, API_SERVER_PORT, EXTERNAL_PORT}
    _numbers(objects, numbers)
    for ports in need.pairs.values():
        numbers |= ports
    universe = sorted({("TCP", n) for n in numbers} | set(UNUSED_PORTS) | DNS_PORTS)
    # into the cluster from every peer, and out of it to every peer (our policies say
    # nothing about connections between two peers outside)
    allowed = matrix(policies, namespace, [*ours, outside, monitoring, apps], ours, universe)
    allowed.update(matrix(policies, namespace, ours, [outside, dns, api, external], universe))

    every = set(universe)
    expected: dict = {}

    def expect(source: Peer, destination: Peer, ports: set) -> None:
        if ports:
            expected.setdefault((source.name, destination.name), set()).update(ports)

    processes = {pod.name: {p.what for p in pod.processes} for pod in need.pods}
    for source in ours:
        for destination in ours:
            expect(source, destination,
                   {("TCP", n) for n in need.pairs.get((source.name, destination.name), ())})
            if not egress:
                expect(source, destination,
                       {("TCP", n) for n in need.exposed.get(destination.name, ())})
        if not egress:
            for destination in (outside, dns, api, external):
                expect(source, destination, every)
            continue
        expect(source, dns, DNS_PORTS)
        if source.name in need.kubernetes_api:
            expect(source, api, {("TCP", API_SERVER_PORT)})
        if processes[source.name] & ALLOWED_OUT:
            expect(source, external, {("TCP", EXTERNAL_PORT)})
    for destination in ours:
        exposed = {("TCP", n) for n in need.exposed.get(destination.name, ())}
        for source in (outside, monitoring, apps):
            expect(source, destination, exposed)
        if destination.name in need.metrics:
            expect(monitoring, destination, {("TCP", need.metrics[destination.name])})
        if broker_clients:
            expect(apps, destination,
                   {("TCP", n) for n in need.broker_clients.get(destination.name, ())})

    problems = []
    for pair in sorted(set(allowed) | set(expected)):
        extra = allowed.get(pair, set()) - expected.get(pair, set())
        missing = expected.get(pair, set()) - allowed.get(pair, set())
        if extra:
            problems.append(f"{pair[0]} -> {pair[1]}: allowed but not needed {_ports(extra)}")
        if missing:
            problems.append(f"{pair[0]} -> {pair[1]}: needed but denied {_ports(missing)}")
    return allowed, expected, problems


def _ports(ports: set) -> str:
    if len(ports) > 12:
        return f"{len(ports)} ports"
    return ", ".join(f"{n}/{p}" if p != "TCP" else str(n) for p, n in sorted(
        ports, key=lambda item: (item[1], item[0])))


# --- the matrix as a table (docs/security.md) -----------------------------------------------------


def table(objects: list, allowed: dict, outbound: bool = False) -> str:
    """The allowed matrix as a Markdown table: a row per source (pods, then ``outside`` and
    ``monitoring``), a column per destination pod; the sets of one workload with the same row
    and column are one row and column (``pulsar-broker-a, -b, -c``). `outbound`: columns for
    the peers outside the cluster too, rows for the pods only."""
    need = needed(objects)
    names = [pod.name for pod in need.pods]
    components = {pod.name: pod.labels.get("component") for pod in need.pods}

    def row(name: str) -> dict:
        return {d: allowed.get((name, d), set()) for d in names + ["outside", "kube-dns"]}

    def column(name: str) -> dict:
        return {s: allowed.get((s, name), set()) for s in names + ["outside", "monitoring"]}

    merged: list[list[str]] = []
    for name in names:
        for members in merged:
            first = members[0]
            if components[first] == components[name] and _same(
                    row(first), row(name), members + [name]) and _same(
                    column(first), column(name), members + [name]):
                members.append(name)
                break
        else:
            merged.append([name])
    label = {members[0]: _label(members) for members in merged}
    heads = [members[0] for members in merged]
    columns = heads + (["kube-dns", "kubernetes-api", "s3", "outside"] if outbound else [])
    lines = ["| from \\ to | " + " | ".join(
        f"`{label[h]}`" if h in label else f"*{h}*" for h in columns) + " |",
        "|---|" + "---|" * len(columns)]
    for source in heads + ([] if outbound else ["outside", "monitoring"]):
        cells = []
        for destination in columns:
            ports = sorted(allowed.get((source, destination), set()),
                           key=lambda item: (item[1], item[0]))
            cells.append(", ".join(str(n) if p == "TCP" else f"{n}/{p}" for p, n in ports)
                         or "·")
        name = f"`{label[source]}`" if source in label else f"*{source}*"
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _same(first: dict, second: dict, members: list[str]) -> bool:
    """Rows (or columns) equal once the members stand for one another."""
    for key in first:
        if key in members:
            continue
        if first[key] != second.get(key, set()):
            return False
    within = {frozenset(first.get(m, set())) for m in members} | {
        frozenset(second.get(m, set())) for m in members}
    return len(within) <= 1


def _label(members: list[str]) -> str:
    names = [m.split("/", 1)[1] for m in members]
    if len(names) == 1:
        return names[0]
    stem = names[0].rsplit("-", 1)[0]
    return names[0] + "".join(f", -{n.rsplit('-', 1)[1]}" for n in names[1:]) \
        if all(n.startswith(stem + "-") for n in names) else ", ".join(names)
