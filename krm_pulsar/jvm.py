"""JVM memory from the container's memory: heap and direct memory as fixed shares of it.

Without ``-Xmx`` a JVM takes a quarter of the memory it sees (the container limit, or the
node's memory when there is no limit), which has nothing to do with the pod's request; and
Pulsar's own defaults (``conf/pulsar_env.sh``: 2g heap, 4g direct; ``conf/bkenv.sh``: 2g and
2g) do not fit the requests we render. So every Pulsar JVM of our API version gets
``-Xms<h>m -Xmx<h>m -XX:MaxDirectMemorySize=<d>m`` computed from the container's memory limit,
or its request when there is no limit. The shares leave room for what the JVM uses beside
heap and direct memory (metaspace, code cache, thread stacks, GC structures) and, for bookies,
for the page cache of the journal and ledger files. docs/runtime.md explains the numbers.

A user's own ``PULSAR_MEM``/``BOOKIE_MEM`` in ``config`` wins, as every config key does.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

# (heap share, direct-memory share) of the container memory, per process kind.
SHARES = {
    # Pulsar's default broker ratio is 1:2 (2g heap, 4g direct): the managed-ledger cache and
    # Netty buffers live in direct memory
    "broker": (0.25, 0.50),
    # BookKeeper's default ratio is 1:1 (2g, 2g); half the container stays free for the page
    # cache the journal and the entry logs depend on
    "bookie": (0.25, 0.25),
    # proxies and the websocket service move bytes through Netty direct buffers
    "proxy": (0.25, 0.50),
    "websocket": (0.25, 0.50),
    # ZooKeeper keeps its data tree on the heap and hardly uses direct memory
    "zookeeper": (0.50, 0.10),
    # a BookKeeper client that re-replicates entries
    "autorecovery": (0.50, 0.25),
    # the process runtime starts function instances as child processes in the same container:
    # half of it stays for them
    "functionsWorker": (0.25, 0.25),
    # one CLI JVM at a time (pulsar-admin, bookkeeper shell)
    "bastion": (0.50, 0.25),
    # one-shot tools: metadata initialization, BookKeeper formatting, the waits
    "tool": (0.50, 0.25),
}

_SUFFIX = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "m": 10**-3, "u": 10**-6, "n": 10**-9}
_QUANTITY = re.compile(r"([+-]?[0-9.]+)(e[+-]?[0-9]+|E[+-]?[0-9]+)?([a-zA-Z]*)\Z")


def quantity_bytes(value: object) -> float | None:
    """Bytes of a Kubernetes memory quantity (``2Gi``, ``512M``, ``1e9``, 1073741824), or None
    when it cannot be read (the schema has already refused malformed ones)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(3) not in _SUFFIX:
        return None
    number = float(match.group(1) + (match.group(2) or ""))
    return number * _SUFFIX[match.group(3)]


def container_memory(resources: dict | None) -> float | None:
    """The memory a container may use: its limit, else its request, in bytes."""
    resources = resources or {}
    for key in ("limits", "requests"):
        memory = quantity_bytes((resources.get(key) or {}).get("memory"))
        if memory:
            return memory
    return None


def memory_flags(kind: str, resources: dict | None) -> str:
    """``-Xms<h>m -Xmx<h>m -XX:MaxDirectMemorySize=<d>m`` for a container, or "" when its
    memory is not known (no request and no limit)."""
    memory = container_memory(resources)
    if not memory:
        return ""
    heap_share, direct_share = SHARES[kind]
    mib = memory / 2**20
    heap = max(int(mib * heap_share), 32)
    direct = max(int(mib * direct_share), 16)
    return f"-Xms{heap}m -Xmx{heap}m -XX:MaxDirectMemorySize={direct}m"


def with_memory(kind: str, resources: dict | None, options: str) -> str:
    """`options` (the rest of a ``PULSAR_MEM``) after the sizing flags."""
    flags = memory_flags(kind, resources)
    return f"{flags} {options}".strip() if flags else options


def check(cluster: Cluster) -> list:
    """A warning for each JVM of our API version whose size cannot be derived: a container
    with neither a memory request nor a limit (its JVM would take a quarter of the node)."""
    if cluster.kaap_input:
        return []
    from .registry import PULSAR_COMPONENTS
    from .schema import warning

    findings = []
    # where each sized JVM takes its memory from (registry.Component.jvms)
    sized = [(entry, path) for entry in PULSAR_COMPONENTS for _kind, path in entry.jvms]
    for entry, path in sized:
        component = entry.section
        spec = cluster.spec[component]
        if spec["replicas"] <= 0 or not entry.rendered(cluster.spec):
            continue
        value = spec
        for part in path:
            value = (value or {}).get(part)
        if container_memory(value) is None:
            field = ".".join(("spec", component) + path)
            findings.append(warning(
                field, "has no memory request or limit, so the JVM heap and direct memory "
                       "cannot be sized from it: the JVM takes a quarter of the node's memory. "
                       "Give requests.memory (or set PULSAR_MEM/BOOKIE_MEM in config)"))
    return findings
