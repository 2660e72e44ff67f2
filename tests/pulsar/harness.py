"""Run our rendered manifests as real Pulsar processes, the way the image and a node would.

`Cluster(manifests, ...)` plans one pod per replica of every StatefulSet, Deployment and Job,
gives each a folder laid out like the image's /pulsar (`image/bin` scripts, base `image/conf`
files, the cached jars) and its own network namespace (netns.py), then starts them in our
Argo CD sync-wave order: within a wave every workload at once, a StatefulSet's pods one after
the other unless its podManagementPolicy is Parallel, init containers to completion first, and
the next wave only when every pod of this one is Ready and every Job has completed. Containers
run their rendered command and args unchanged, with their rendered env and envFrom ConfigMaps;
probes run as rendered (exec commands inside the pod, httpGet and tcpSocket from the node
against the pod's address). What the harness must change to fit one machine is machine.yaml,
applied here and nowhere else.
"""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

import netns

HERE = Path(__file__).resolve().parent
IMAGE = HERE / "image"
MACHINE = yaml.safe_load((HERE / "machine.yaml").read_text())
WAVE = "argocd.argoproj.io/sync-wave"
# the subcommand of `bin/pulsar` / `bin/bookkeeper` a main container runs -> machine.yaml jvm
_PROGRAM = re.compile(r"bin/(pulsar|bookkeeper) ([a-z-]+)")
# Kubernetes' probe defaults
_PROBE_DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 1,
                   "failureThreshold": 3, "successThreshold": 1}
# the harness polls probes this often while waiting (Kubernetes runs them every periodSeconds;
# polling faster only finds the first success sooner, it cannot make a failing probe pass)
POLL_SECONDS = 2.0


class ClusterError(AssertionError):
    """The cluster did not come up as our output says it should (with the evidence)."""


@dataclass
class Container:
    name: str
    spec: dict
    init: bool = False
    proc: subprocess.Popen | None = None
    log: Path | None = None
    started: float | None = None
    ready_at: float | None = None
    first_pass: dict = field(default_factory=dict)   # probe kind -> seconds after start
    exit_codes: list = field(default_factory=list)
    folder: Path | None = None   # this container's own /pulsar (its image filesystem)
    answers: dict = field(default_factory=dict)      # probe kind -> its last answer
    failed: str | None = None    # why Kubernetes would restart it (the harness does not)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def probes(self) -> dict:
        return {kind: self.spec[kind + "Probe"] for kind in ("startup", "liveness", "readiness")
                if kind + "Probe" in self.spec}


@dataclass
class Pod:
    name: str
    kind: str                  # StatefulSet / Deployment / Job
    workload: str
    index: int
    spec: dict                 # the pod template's spec
    labels: dict
    subdomain: str | None
    address: str
    folder: Path
    wave: int
    namespace: str
    containers: list = field(default_factory=list)
    init_containers: list = field(default_factory=list)
    ns: netns.PodNamespace | None = None
    phase: str = "Pending"     # Pending, Init, Running, Succeeded, Failed
    attempts: int = 0
    next_try: float = 0.0
    changes: list = field(default_factory=list)

    @property
    def fqdn(self) -> str | None:
        if not self.subdomain:
            return None
        return f"{self.name}.{self.subdomain}.{self.namespace}.svc.cluster.local"

    @property
    def ready(self) -> bool:
        if self.kind == "Job":
            return self.phase == "Succeeded"
        return self.phase == "Running" and all(c.ready_at for c in self.containers)

    @property
    def failures(self) -> list[str]:
        return [f"{self.name}/{c.name}: {c.failed}"
                for c in [*self.init_containers, *self.containers] if c.failed]

    @property
    def settled(self) -> bool:
        """Ready, or known never to become ready without a restart."""
        return self.ready or bool(self.failures) or self.phase == "Failed"


def manifests_by_kind(manifests: list[dict], kind: str) -> list[dict]:
    return [m for m in manifests if m.get("kind") == kind]


def _wave(obj: dict) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(WAVE, "0"))


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Cluster:
    """One cluster of real processes from our manifests. Use as a context manager: `stop()`
    always runs, and stops every process by the PID recorded here."""

    def __init__(self, manifests: list[dict], run_dir: Path, jars: Path,
                 start_timeout: float = 480.0, after_wave=None):
        self.manifests = manifests
        self.run_dir = run_dir
        self.jars = jars
        self.start_timeout = start_timeout
        self.config_maps = {m["metadata"]["name"]: m.get("data") or {}
                            for m in manifests_by_kind(manifests, "ConfigMap")}
        self.pods: list[Pod] = []
        self.failures: list[str] = []
        self.node: netns.Node | None = None
        self.timings: dict = {}
        self.leaked: list[int] = []
        self._hosts = ""
        self.after_wave = after_wave
        self._plan()

    # ---- planning -----------------------------------------------------------------------
    def _plan(self):
        network = MACHINE["podNetwork"]
        address = ipaddress.ip_address(network["firstPod"])
        for obj in self.manifests:
            kind = obj.get("kind")
            if kind not in ("StatefulSet", "Deployment", "Job"):
                continue
            spec = obj["spec"]
            replicas = 1 if kind == "Job" else spec.get("replicas", 1)
            template = spec["template"]
            for index in range(replicas):
                name = obj["metadata"]["name"]
                pod_name = f"{name}-{index}"
                pod = Pod(name=pod_name, kind=kind, workload=name, index=index,
                          spec=template["spec"], labels=template["metadata"].get("labels", {}),
                          subdomain=spec.get("serviceName") if kind == "StatefulSet" else None,
                          address=str(address), folder=self.run_dir / "pods" / pod_name,
                          wave=_wave(obj), namespace=obj["metadata"].get("namespace", "default"))
                pod.init_containers = [Container(c["name"], c, init=True)
                                       for c in template["spec"].get("initContainers", [])]
                pod.containers = [Container(c["name"], c)
                                  for c in template["spec"]["containers"]]
                self.pods.append(pod)
                address += 1

    def pod(self, name: str) -> Pod:
        for pod in self.pods:
            if pod.name == name:
                return pod
        raise KeyError(name)

    def pods_of(self, workload: str) -> list[Pod]:
        return [p for p in self.pods if p.workload == workload]

    def hosts(self) -> str:
        """What cluster DNS would answer now: each pod's own name (its FQDN when it has a
        subdomain), every Service's name with the addresses of the pods that are its endpoints
        (the Ready pods it selects; all of them with publishNotReadyAddresses), and the names
        the pods' search path (<ns>.svc.cluster.local, svc.cluster.local, cluster.local)
        would complete. Rewritten whenever a pod's readiness changes."""
        lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
        for pod in self.pods:
            names = [pod.fqdn, *_short_names(pod.fqdn, pod.namespace)] if pod.fqdn else []
            lines.append(" ".join([pod.address, *names, pod.name]))
        for service in manifests_by_kind(self.manifests, "Service"):
            selector = service["spec"].get("selector") or {}
            namespace = service["metadata"].get("namespace", "default")
            fqdn = f"{service['metadata']['name']}.{namespace}.svc.cluster.local"
            names = " ".join([fqdn, *_short_names(fqdn, namespace)])
            everyone = service["spec"].get("publishNotReadyAddresses", False)
            for pod in self.pods:
                if (pod.kind != "Job" and _selects(selector, pod.labels)
                        and (everyone or pod.ready)):
                    lines.append(f"{pod.address} {names}")
        return "\n".join(lines) + "\n"

    def refresh_dns(self):
        hosts = self.hosts()
        if hosts != self._hosts:
            self.node.write_hosts(hosts)
            self._hosts = hosts

    def endpoints(self, service: str) -> list[str]:
        """The addresses the Service's name resolves to now."""
        manifest = next(m for m in manifests_by_kind(self.manifests, "Service")
                        if m["metadata"]["name"] == service)
        fqdn = f"{service}.{manifest['metadata'].get('namespace', 'default')}.svc.cluster.local"
        return sorted({line.split()[0] for line in self._hosts.splitlines()
                       if fqdn in line.split()[1:]})

    # ---- pod folders ----------------------------------------------------------------------
    def _lay_out(self, pod: Pod):
        """Every container gets its own copy of the image's /pulsar (as in Kubernetes, where
        only volumes are shared between the containers of a pod); volumes are folders of the
        pod, linked in at their mount paths."""
        for container in [*pod.init_containers, *pod.containers]:
            container.folder = pod.folder / container.name
            self._lay_out_container(pod, container)
        self._mount_volumes(pod)

    def _lay_out_container(self, pod: Pod, container: Container):
        folder = container.folder
        (folder / "bin").mkdir(parents=True)
        for script in (IMAGE / "bin").iterdir():
            target = folder / "bin" / script.name
            target.write_bytes(script.read_bytes())
            target.chmod(0o755)
        (folder / "conf").mkdir()
        extra = MACHINE["config"]
        for conf in (IMAGE / "conf").iterdir():
            text = conf.read_text()
            for key, value in (extra.get(conf.name) or {}).items():
                text += f"# tests/pulsar/machine.yaml\n{key}={value}\n"
                self._changed(pod, f"{container.name}: conf/{conf.name}: {key}={value}")
            (folder / "conf" / conf.name).write_text(text)
        jvm = MACHINE["jvm"][self._program(container)]
        self._changed(pod, f"{container.name}: JVM options appended: {jvm}")
        # conf/pulsar_env.sh and conf/bkenv.sh are where the image keeps its JVM defaults;
        # ours only append the machine's sizes after everything our output sets
        (folder / "conf" / "pulsar_env.sh").write_text(
            f'PULSAR_EXTRA_OPTS="$PULSAR_EXTRA_OPTS {jvm}"\n')
        (folder / "conf" / "bkenv.sh").write_text(
            f'BOOKIE_EXTRA_OPTS="$BOOKIE_EXTRA_OPTS {jvm}"\n')
        (folder / "lib").symlink_to(self.jars)
        (folder / "instances").symlink_to(self.jars / "instances")
        (folder / "examples").symlink_to(self.jars / "examples")
        (folder / "logs").mkdir()

    @staticmethod
    def _changed(pod: Pod, change: str):
        if change not in pod.changes:
            pod.changes.append(change)

    @staticmethod
    def _program(container: Container) -> str:
        """The machine.yaml `jvm` entry of what the container runs (`bin/pulsar broker`,
        `bin/bookkeeper autorecovery`, ...); command-line tools and one-shot steps: tools."""
        text = " ".join([*(container.spec.get("command") or []),
                         *(container.spec.get("args") or [])])
        for match in _PROGRAM.finditer(text):
            if match.group(2) in MACHINE["jvm"]:
                return match.group(2)
        return "tools"

    def local_path(self, container: Container, path: str) -> Path:
        """A path of the image's filesystem inside the container's folder (machine.yaml
        pulsarHome)."""
        home = MACHINE["pulsarHome"].rstrip("/")
        if path == home or path.startswith(home + "/"):
            return container.folder / path[len(home):].lstrip("/")
        raise ClusterError(f"{container.name}: {path} is outside {home}; the harness maps "
                           f"only the image's working directory into container folders")

    def volume_path(self, pod: Pod, volume: str) -> Path:
        return pod.folder / "volumes" / volume

    def _mount_volumes(self, pod: Pod):
        volumes = {v["name"]: v for v in pod.spec.get("volumes", [])}
        for container in [*pod.init_containers, *pod.containers]:
            for mount in container.spec.get("volumeMounts", []):
                target = self.local_path(container, mount["mountPath"])
                target.parent.mkdir(parents=True, exist_ok=True)
                volume = volumes.get(mount["name"], {})
                if "configMap" in volume:
                    data = self.config_maps[volume["configMap"]["name"]]
                    if "subPath" in mount:
                        target.write_text(data[mount["subPath"]])
                        continue
                    source = self.volume_path(pod, mount["name"])
                    source.mkdir(parents=True, exist_ok=True)
                    for key, value in data.items():
                        (source / key).write_text(value)
                elif volume and not ({"emptyDir", "persistentVolumeClaim"} & volume.keys()):
                    raise ClusterError(f"{pod.name}: volume {mount['name']} of a kind the "
                                       f"harness does not provide: {sorted(volume)}")
                else:
                    # a claim template, a claim or an emptyDir: a folder of the pod's
                    source = self.volume_path(pod, mount["name"])
                    if "subPath" in mount:
                        source = source / mount["subPath"]
                    source.mkdir(parents=True, exist_ok=True)
                if target.is_dir() and not target.is_symlink():
                    target.rmdir()   # an empty folder of the image copy (logs/)
                target.symlink_to(source, target_is_directory=True)

    # ---- environment -------------------------------------------------------------------------
    def container_env(self, pod: Pod, container: Container) -> dict:
        env = {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/sbin",
                                     "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
                                     "/bin"]),
            "HOME": str(container.folder),
            "HOSTNAME": pod.name,
            "LANG": "C.UTF-8",
        }
        if os.environ.get("JAVA_HOME"):
            env["JAVA_HOME"] = os.environ["JAVA_HOME"]
        for source in container.spec.get("envFrom", []):
            if "configMapRef" not in source:
                raise ClusterError(f"{pod.name}: envFrom {source} is not a ConfigMap")
            prefix = source.get("prefix", "")
            for key, value in self.config_maps[source["configMapRef"]["name"]].items():
                env[prefix + key] = value
        for item in container.spec.get("env", []):
            env[item["name"]] = self._env_value(pod, item)
        home = MACHINE["pulsarHome"].rstrip("/") + "/"
        for key, value in list(env.items()):
            if value.startswith(home):
                env[key] = str(self.local_path(container, value))
                self._changed(pod, f"{container.name}: env {key}: {value} -> "
                                   f"{env[key][len(str(pod.folder)) + 1:]} (in the pod folder)")
        return env

    def _env_value(self, pod: Pod, item: dict) -> str:
        if "value" in item:
            return str(item["value"])
        source = item.get("valueFrom", {})
        if "fieldRef" in source:
            path = source["fieldRef"]["fieldPath"]
            values = {"metadata.name": pod.name, "metadata.namespace": pod.namespace,
                      "status.podIP": pod.address, "spec.nodeName": "node"}
            if path not in values:
                raise ClusterError(f"{pod.name}: env {item['name']}: fieldRef {path}")
            return values[path]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            return self.config_maps[ref["name"]][ref["key"]]
        raise ClusterError(f"{pod.name}: env {item['name']} from {sorted(source)}")

    # ---- running things in pods ----------------------------------------------------------
    def exec(self, pod: Pod | str, argv: list[str], timeout: float = 120,
             container: str | None = None, env: dict | None = None,
             check: bool = False) -> subprocess.CompletedProcess:
        """Run argv in a pod (like `kubectl exec`): its namespaces, its folder, the env of
        its first (or the named) container."""
        pod = self.pod(pod) if isinstance(pod, str) else pod
        chosen = next(c for c in [*pod.containers, *pod.init_containers]
                      if container in (None, c.name))
        full_env = self.container_env(pod, chosen)
        full_env.update(env or {})
        proc = subprocess.Popen([*pod.ns.enter(chosen.folder), *argv], env=full_env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # the whole command, with the JVMs it started (its own process group)
            _signal_group(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
        result = subprocess.CompletedProcess(argv, proc.returncode, out, err)
        if check and result.returncode:
            raise ClusterError(f"{pod.name}: {' '.join(argv)} exited {result.returncode}\n"
                               f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def node_exec(self, argv: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
        return self.node.run(argv, timeout=timeout)

    def _start(self, pod: Pod, container: Container):
        argv = [*container.spec.get("command", []), *container.spec.get("args", [])]
        if not argv:
            raise ClusterError(f"{pod.name}/{container.name}: no command (the image's "
                               f"entrypoint is not reproduced)")
        container.log = self.run_dir / "logs" / f"{pod.name}.{container.name}.log"
        stream = open(container.log, "a")
        stream.write(f"--- start {time.strftime('%H:%M:%S')}: {argv}\n")
        stream.flush()
        container.proc = subprocess.Popen([*pod.ns.enter(container.folder), *argv],
                                          env=self.container_env(pod, container),
                                          stdout=stream, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL,
                                          preexec_fn=netns.die_with_parent)
        stream.close()
        container.started = time.monotonic()

    def probe(self, pod: Pod, container: Container, kind: str) -> tuple[bool, str]:
        """Run one of the container's rendered probes once: (passed, what it answered)."""
        spec = {**_PROBE_DEFAULTS, **container.probes()[kind]}
        timeout = spec["timeoutSeconds"]
        if "exec" in spec:
            try:
                result = self.exec(pod, spec["exec"]["command"], timeout=timeout + 5,
                                   container=container.name)
            except subprocess.TimeoutExpired:
                return False, f"exec timed out after {timeout} s"
            return result.returncode == 0, (f"exit {result.returncode} "
                                            f"{(result.stdout + result.stderr).strip()[-300:]}")
        if "httpGet" in spec:
            get = spec["httpGet"]
            port = self._port(container, get["port"])
            url = (f"{get.get('scheme', 'HTTP').lower()}://{get.get('host', pod.address)}:"
                   f"{port}{get.get('path', '/')}")
            result = self.node_exec(["curl", "-s", "-k", "-o", "/dev/null", "-w",
                                     "%{http_code}", "--max-time", str(timeout), url],
                                    timeout=timeout + 5)
            code = int(result.stdout or 0)
            return 200 <= code < 400, f"GET {url} -> {code}"
        if "tcpSocket" in spec:
            port = self._port(container, spec["tcpSocket"]["port"])
            host = spec["tcpSocket"].get("host", pod.address)
            result = self.node_exec(["timeout", str(timeout), "bash", "-c",
                                     f"exec 3<>/dev/tcp/{host}/{port}"], timeout=timeout + 5)
            return result.returncode == 0, f"tcp {host}:{port} -> exit {result.returncode}"
        raise ClusterError(f"{pod.name}/{container.name}: {kind} probe {sorted(spec)} "
                           f"is of a kind the harness does not run")

    @staticmethod
    def _port(container: Container, port) -> int:
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for item in container.spec.get("ports", []):
            if item.get("name") == port:
                return item["containerPort"]
        raise ClusterError(f"{container.name}: probe port {port!r} is not a container port")

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self):
        began = time.monotonic()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(exist_ok=True)
        network = MACHINE["podNetwork"]
        self._hosts = self.hosts()
        self.node = netns.Node(self.run_dir, self._hosts, network["bridge"])
        for pod in self.pods:
            self._lay_out(pod)
            pod.ns = self.node.add_pod(pod.name, pod.address)
        self.timings["namespaces"] = round(time.monotonic() - began, 1)
        (self.run_dir / "changes.txt").write_text("".join(
            f"{pod.name}: {change}\n" for pod in self.pods for change in pod.changes))
        for wave in sorted({pod.wave for pod in self.pods}):
            wave_began = time.monotonic()
            self._run_wave([pod for pod in self.pods if pod.wave == wave], began)
            self.timings[f"wave {wave}"] = round(time.monotonic() - wave_began, 1)
            if self.after_wave:
                self.after_wave(self, wave)
        self.timings["start"] = round(time.monotonic() - began, 1)

    def _run_wave(self, pods: list[Pod], began: float):
        while True:
            for pod in pods:
                if pod.phase == "Pending" and self._may_start(pod, pods):
                    pod.phase = "Init"
                self._advance(pod)
            self.refresh_dns()
            if all(pod.settled for pod in pods):
                self.failures += [f for pod in pods for f in pod.failures]
                return
            if time.monotonic() - began > self.start_timeout:
                raise ClusterError("cluster did not start within "
                                   f"{self.start_timeout:.0f} s:\n" + self.describe(pods))
            time.sleep(POLL_SECONDS)

    def _may_start(self, pod: Pod, wave: list[Pod]) -> bool:
        if pod.kind != "StatefulSet" or pod.index == 0:
            return True
        workload = next(m for m in manifests_by_kind(self.manifests, "StatefulSet")
                        if m["metadata"]["name"] == pod.workload)
        if workload["spec"].get("podManagementPolicy") == "Parallel":
            return True
        before = [p for p in wave if p.workload == pod.workload and p.index < pod.index]
        blocked = [p.name for p in before if p.settled and not p.ready]
        if blocked:
            # OrderedReady: Kubernetes creates no further pod while one before is not Ready
            pod.phase = "Failed"
            pod.containers[0].failed = f"not created: {blocked[0]} is not Ready (OrderedReady)"
            return False
        return all(p.ready for p in before)

    def _advance(self, pod: Pod):
        now = time.monotonic()
        if pod.phase == "Init":
            pending = [c for c in pod.init_containers if not c.exit_codes or c.exit_codes[-1]]
            if not pending:
                for container in pod.containers:
                    self._start(pod, container)
                pod.phase = "Running"
                return
            container = pending[0]
            if container.proc is None or container.proc.poll() is not None:
                if container.proc is not None:
                    container.exit_codes.append(container.proc.returncode)
                    container.proc = None
                    if container.exit_codes[-1] == 0:
                        return
                    if len(container.exit_codes) >= 3:
                        # Kubernetes would go on retrying with a longer back-off
                        pod.phase = "Failed"
                        container.failed = (f"init container exited "
                                            f"{container.exit_codes} (3 attempts)")
                        return
                    pod.next_try = now + 5
                if now >= pod.next_try:
                    self._start(pod, container)
            return
        if pod.phase != "Running":
            return
        for container in pod.containers:
            code = container.proc.poll()
            if code is not None and container.failed:
                continue
            if code is not None:
                container.exit_codes.append(code)
                if pod.kind == "Job" and code == 0:
                    pod.phase = "Succeeded"
                    return
                if pod.kind == "Job":
                    # restartPolicy OnFailure: Kubernetes runs the container again (with a
                    # back-off of 10 s and more; 5 s here), up to the Job's backoffLimit
                    limit = 6
                    if len(container.exit_codes) > limit:
                        pod.phase = "Failed"
                        container.failed = (f"Job failed {len(container.exit_codes)} times "
                                            f"(backoffLimit {limit})")
                        return
                    if now - container.started > 5:
                        self._start(pod, container)
                    else:
                        container.exit_codes.pop()
                    continue
                if not container.failed:
                    container.failed = (f"exited {code} (Kubernetes would restart it; the "
                                        f"harness does not)")
                continue
            if not container.failed:
                self._poll_probes(pod, container, now)

    def _poll_probes(self, pod: Pod, container: Container, now: float):
        probes = container.probes()
        elapsed = now - container.started
        for kind in ("startup", "liveness", "readiness"):
            if kind not in probes or kind in container.first_pass:
                continue
            if kind != "startup" and "startup" in probes and "startup" not in container.first_pass:
                continue   # Kubernetes runs no other probe before the startup probe passes
            spec = {**_PROBE_DEFAULTS, **probes[kind]}
            if elapsed < spec["initialDelaySeconds"]:
                continue
            passed, answer = self.probe(pod, container, kind)
            container.answers[kind] = answer
            if passed:
                container.first_pass[kind] = round(time.monotonic() - container.started, 1)
                continue
            allowance = spec["initialDelaySeconds"] + spec["periodSeconds"] * spec[
                "failureThreshold"]
            if kind != "readiness" and elapsed > allowance and not container.failed:
                container.failed = (f"{kind} probe has not passed {allowance} s after start "
                                    f"(the kubelet would restart the container); last answer: "
                                    f"{answer}")
        if container.ready_at is None:
            if "readiness" in probes:
                if "readiness" in container.first_pass:
                    container.ready_at = time.monotonic()
            elif "startup" not in probes or "startup" in container.first_pass:
                container.ready_at = time.monotonic()

    def describe(self, pods: list[Pod] | None = None) -> str:
        out = []
        for pod in pods or self.pods:
            out.append(f"{pod.name} {pod.phase} ready={pod.ready}")
            for container in [*pod.init_containers, *pod.containers]:
                out.append(f"  {container.name}: pid={container.pid} exits={container.exit_codes}"
                           f" passed={container.first_pass} failed={container.failed}"
                           f" answers={container.answers}")
                if container.log and pod.phase != "Pending" and not pod.ready:
                    out.append(self.log_tail(container, 15))
        return "\n".join(out)

    @staticmethod
    def log_tail(container: Container, lines: int = 40) -> str:
        if not container.log or not container.log.exists():
            return "(no log)"
        text = container.log.read_text(errors="replace").splitlines()
        return "\n".join("    | " + line for line in text[-lines:])

    def stop(self):
        """Stop every container by its recorded PID (SIGTERM, then SIGKILL after the pod's
        terminationGracePeriodSeconds), last wave first, then sweep the namespaces."""
        began = time.monotonic()
        for wave in sorted({pod.wave for pod in self.pods}, reverse=True):
            running = [(pod, c) for pod in self.pods if pod.wave == wave
                       for c in [*pod.init_containers, *pod.containers]
                       if c.proc and c.proc.poll() is None]
            for _, container in running:
                _signal(container.proc.pid, signal.SIGTERM)
            for pod, container in running:
                grace = pod.spec.get("terminationGracePeriodSeconds", 30)
                try:
                    container.proc.wait(timeout=max(1.0, grace - (time.monotonic() - began)))
                except subprocess.TimeoutExpired:
                    _signal(container.proc.pid, signal.SIGKILL)
                    container.proc.wait()
        if self.node:
            holders = {self.node.pid, *(p.ns.pid for p in self.pods if p.ns)}
            self.leaked = [pid for pid in netns.processes_in(self.node.namespace_ids())
                           if pid not in holders]
            for pid in self.leaked:
                _signal(pid, signal.SIGKILL)
            self.node.stop()
        self.timings["stop"] = round(time.monotonic() - began, 1)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()


def _signal_group(pid: int, sig: int):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _signal(pid: int, sig: int):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _short_names(fqdn: str, namespace: str) -> list[str]:
    """The shorter names a pod's DNS search path completes to `fqdn`."""
    suffix = f".{namespace}.svc.cluster.local"
    if not fqdn.endswith(suffix):
        return []
    base = fqdn[:-len(suffix)]
    return [f"{base}.{namespace}.svc", f"{base}.{namespace}", base]
