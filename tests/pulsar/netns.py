"""Private network for a test cluster: one network namespace per pod, as on a Kubernetes node.

A *node* process holds a private mount and network namespace (`unshare -mn`) in which our
hosts file is bind-mounted over /etc/hosts (the machine's own file is never edited) and a
bridge joins the pods. Each *pod* process holds its own network and UTS namespace (its own
localhost, its own hostname, wildcard binds that collide with no other pod) with a veth on the
bridge. Addresses are loopback addresses (127.1.0.0/16), routed across the bridge with
`route_localnet`, so nothing can leave the namespace. Every holder is a `sleep` whose PID is
recorded; they die with the test process (PR_SET_PDEATHSIG) and are stopped by PID.
"""

from __future__ import annotations

import ctypes
import ipaddress
import os
import signal
import subprocess
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent():
    """preexec_fn: the child (and what it execs) gets SIGKILL when the test process dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setsid()


def _holder(argv: list[str], script: str) -> subprocess.Popen:
    proc = subprocess.Popen([*argv, "sh", "-c", script + "\necho ready\nexec sleep infinity"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=die_with_parent)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise RuntimeError(f"namespace set-up failed: {proc.stderr.read().strip()}")
    return proc


class Node:
    """The cluster's private mount + network namespace, with the bridge the pods hang on."""

    def __init__(self, run_dir: Path, hosts: str, bridge_cidr: str):
        self.run_dir = run_dir
        self.hosts_file = run_dir / "hosts"
        self.hosts_file.write_text(hosts)
        resolv = run_dir / "resolv.conf"
        # no DNS server exists in the namespace: every name is in the hosts file, and a
        # lookup of anything else fails at once instead of waiting for a timeout
        resolv.write_text("# tests/pulsar: names resolve from /etc/hosts only\n"
                          "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        bridge = ipaddress.ip_interface(bridge_cidr)
        self.network = bridge.network
        script = "\n".join([
            "set -e",
            f"mount --bind {self.hosts_file} /etc/hosts",
            f"mount --bind {resolv} /etc/resolv.conf",
            "ip link set lo up",
            "sysctl -q -w net.ipv4.conf.all.route_localnet=1",
            "sysctl -q -w net.ipv4.conf.default.route_localnet=1",
            "ip link add kbr0 type bridge",
            f"ip addr add {bridge_cidr} dev kbr0",
            "ip link set kbr0 up",
        ])
        self.proc = _holder(["unshare", "--mount", "--net", "--propagation", "private", "--"],
                            script)
        self.pid = self.proc.pid
        self.pods: list[PodNamespace] = []

    def enter(self) -> list[str]:
        """The argv prefix that runs a command inside the node's namespaces."""
        return ["nsenter", "-t", str(self.pid), "--mount", "--net", "--"]

    def run(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([*self.enter(), *argv], capture_output=True, text=True,
                              **kwargs)

    def add_pod(self, hostname: str, address: str) -> "PodNamespace":
        pod = PodNamespace(self, hostname, address, len(self.pods))
        self.pods.append(pod)
        return pod

    def write_hosts(self, hosts: str):
        # in place: the bind mount follows the inode, a rename would not be seen
        with open(self.hosts_file, "r+") as stream:
            stream.seek(0)
            stream.write(hosts)
            stream.truncate()

    def namespace_ids(self) -> set[str]:
        ids = {os.readlink(f"/proc/{self.pid}/ns/net")}
        ids.update(os.readlink(f"/proc/{pod.pid}/ns/net") for pod in self.pods
                   if pod.proc.poll() is None)
        return ids

    def stop(self):
        for pod in self.pods:
            pod.stop()
        _stop(self.proc)


class PodNamespace:
    """A pod's own network and UTS namespace, inside the node's mount namespace."""

    def __init__(self, node: Node, hostname: str, address: str, index: int):
        self.node = node
        self.hostname = hostname
        self.address = address
        prefix = node.network.prefixlen
        self.proc = _holder([*node.enter(), "unshare", "--net", "--uts", "--"],
                            f"hostname {hostname}")
        self.pid = self.proc.pid
        veth = f"veth{index}"
        steps = [
            ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns",
             str(self.pid)],
            ["ip", "link", "set", veth, "master", "kbr0", "up"],
        ]
        for step in steps:
            result = node.run(step)
            if result.returncode:
                raise RuntimeError(f"{' '.join(step)}: {result.stderr.strip()}")
        script = "\n".join([
            "set -e",
            "ip link set lo up",
            # a /8 on lo would claim every other pod's address as local
            "ip addr del 127.0.0.1/8 dev lo",
            "ip addr add 127.0.0.1/32 dev lo",
            "sysctl -q -w net.ipv4.conf.all.route_localnet=1",
            "sysctl -q -w net.ipv4.conf.eth0.route_localnet=1",
            f"ip addr add {address}/{prefix} dev eth0",
            "ip link set eth0 up",
        ])
        result = subprocess.run([*self.enter(), "sh", "-c", script], capture_output=True,
                                text=True)
        if result.returncode:
            raise RuntimeError(f"pod {hostname} network: {result.stderr.strip()}")

    def enter(self, workdir: Path | None = None) -> list[str]:
        wd = [f"--wd={workdir}"] if workdir else []
        return ["nsenter", "-t", str(self.pid), "--net", "--uts", "--mount", *wd, "--"]

    def stop(self):
        _stop(self.proc)


def _stop(proc: subprocess.Popen):
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()


def processes_in(namespace_ids: set[str]) -> list[int]:
    """PIDs of every process whose network namespace is one of ours (none may outlive a
    cluster: the last sweep after every recorded PID was stopped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns" / "net") in namespace_ids:
                found.append(int(entry.name))
        except OSError:
            continue
    return found
