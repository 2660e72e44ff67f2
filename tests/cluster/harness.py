"""A real Kubernetes control plane for the tests: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and KWOK (fake nodes), built by scripts/ensure-control-plane.sh, started on
127.0.0.1 only with throwaway certificates and stopped by the PIDs recorded here.

Nothing here is a stand-in for Kubernetes code: admission (Pod Security included), defaulting,
server-side apply, the scheduler's placement and the controllers' rollouts, evictions and garbage
collection are the real ones. KWOK replaces only the kubelets (it marks scheduled pods Running,
Job pods Succeeded, and removes deleted pods) and, through tests/cluster/kwok-stages.yaml, a CSI
driver's volume provisioner and resizer.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
STAGES = HERE / "kwok-stages.yaml"
# KWOK default stages that kwok-stages.yaml replaces.
REPLACED_STAGES = {"pod-delete"}

# Three zones of one region; fake nodes are named kwok-<zone>-<n> (the volume provisioner of
# kwok-stages.yaml reads the zone off the node name).
ZONES = ("zone-x", "zone-y", "zone-z")
REGION = "region-1"
NODES_PER_ZONE = 2
NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# Generous room per node: the tests place by affinity rules, not by resource pressure, and several
# fixtures run side by side in different namespaces. (Pulsar's production requests, 2 CPU / 8 GiB
# per bookie or broker, fit many times; with 38 inputs in one admission wave, 64 CPU a node ran
# out.)
NODE_ALLOCATABLE = {"cpu": "128", "memory": "512Gi", "pods": "250", "ephemeral-storage": "1Ti"}
# The cluster's default StorageClass, and the ReadWriteMany class (a managed file service, like
# Amazon EFS) the production fixture's package storage names. Neither has a real driver: the KWOK
# stages provision their volumes.
DEFAULT_STORAGE_CLASS = "standard"
RWX_STORAGE_CLASS = "efs-sc"
TEST_PROVISIONER = "krm-pulsar.test/block"
TEST_FILE_PROVISIONER = "krm-pulsar.test/file"

SERVICE_CIDR = "10.96.0.0/16"


class StartError(RuntimeError):
    """The control plane could not be built or started (a failure in CI, never a skip)."""


def node_name(zone: str, index: int) -> str:
    return f"kwok-{zone}-{index}"


def zone_of_node(name: str) -> str:
    # kwok-<zone>-<n>
    return name[len("kwok-"):].rsplit("-", 1)[0]


def node_manifest(zone: str, index: int) -> dict:
    name = node_name(zone, index)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {NODE_ANNOTATION[0]: NODE_ANNOTATION[1],
                            "node.alpha.kubernetes.io/ttl": "0"},
            # Kubernetes' cloud node controller (k8s.io/cloud-provider v0.36) still sets the
            # deprecated failure-domain.beta labels beside the current ones; KAAP input places
            # by the beta zone label, so fake nodes carry both, like cloud nodes do.
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": zone,
                "topology.kubernetes.io/region": REGION,
                "failure-domain.beta.kubernetes.io/zone": zone,
                "failure-domain.beta.kubernetes.io/region": REGION,
                "type": "kwok",
            },
        },
        "spec": {},
        "status": {
            "allocatable": dict(NODE_ALLOCATABLE),
            "capacity": dict(NODE_ALLOCATABLE),
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux",
                         "kubeletVersion": "fake", "kubeProxyVersion": "fake"},
        },
    }


def storage_classes() -> list[dict]:
    return [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": DEFAULT_STORAGE_CLASS, "annotations": {
                "storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": TEST_PROVISIONER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": True,
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": RWX_STORAGE_CLASS},
            "provisioner": TEST_FILE_PROVISIONER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
            "allowVolumeExpansion": True,
        },
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Throwaway certificates (openssl, part of every Debian base system)

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:10.96.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
"""

# Client identities: (file stem, subject). The controller-manager and scheduler users are the ones
# Kubernetes' bootstrap RBAC policy binds; the admin and KWOK are cluster admins (KWOK writes
# node and pod status, events, volumes).
CLIENTS = {
    "admin": "/O=system:masters/CN=krm-pulsar-test-admin",
    "controller-manager": "/CN=system:kube-controller-manager",
    "scheduler": "/CN=system:kube-scheduler",
    "kwok": "/O=system:masters/CN=kwok-controller",
}


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode:
        raise StartError(f"openssl {' '.join(args)} failed: {result.stderr.strip()}")


def make_certificates(pki: Path) -> None:
    pki.mkdir(parents=True, exist_ok=True)
    (pki / "openssl.cnf").write_text(_OPENSSL_CONFIG)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-config", "openssl.cnf", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=krm-pulsar-test-ca", "-extensions", "ca", cwd=pki)
    signed = ["-config", "openssl.cnf", "-x509", "-CA", "ca.crt", "-CAkey", "ca.key", "-days", "2"]
    _openssl("req", *signed, *ec, "-keyout", "apiserver.key", "-out", "apiserver.crt",
             "-subj", "/CN=kube-apiserver", "-extensions", "server", cwd=pki)
    for stem, subject in CLIENTS.items():
        _openssl("req", *signed, *ec, "-keyout", f"{stem}.key", "-out", f"{stem}.crt",
                 "-subj", subject, "-extensions", "client", cwd=pki)
    # Service account token signing key pair.
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", "sa.key", cwd=pki)
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def write_kubeconfig(path: Path, server: str, pki: Path, user: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": {
            "server": server, "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": user, "user": {
            "client-certificate": str(pki / f"{user}.crt"),
            "client-key": str(pki / f"{user}.key")}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": user}}],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(config))


# ---------------------------------------------------------------------------------------------

class ControlPlane:
    """One control plane in ``workdir`` (data dirs, certificates, kubeconfigs, logs)."""

    def __init__(self, home: Path, workdir: Path):
        self.home = Path(home)
        self.bin = self.home / "bin"
        self.workdir = Path(workdir)
        self.pki = self.workdir / "pki"
        self.processes: dict[str, subprocess.Popen] = {}
        self.timings: dict[str, float] = {}
        self.kubeconfig = self.workdir / "admin.kubeconfig"
        self.server = ""
        self._local = threading.local()

    # --- processes -----------------------------------------------------------------------------

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")
        # A session of its own, so a signal to the test runner's terminal does not reach it
        # before stop(); stop() signals exactly this PID.
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.processes[name] = proc
        with (self.workdir / "pids").open("a") as pids:
            pids.write(f"{name} {proc.pid}\n")

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise StartError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def stop(self) -> None:
        """Stop every process this object started, by its PID, newest first (the API server
        before etcd, or it keeps retrying its storage); the data is throwaway, so whatever does
        not end within a few seconds of SIGTERM is killed."""
        t0 = time.monotonic()
        for name, proc in reversed(list(self.processes.items())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self.processes.clear()
        self.timings["stop"] = time.monotonic() - t0

    # --- start ---------------------------------------------------------------------------------

    def start(self) -> None:
        t0 = time.monotonic()
        for binary in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
                       "kubectl", "kwok"):
            if not os.access(self.bin / binary, os.X_OK):
                raise StartError(f"{self.bin / binary} is missing; run scripts/ensure-control-plane.sh")
        self.workdir.mkdir(parents=True, exist_ok=True)
        make_certificates(self.pki)

        etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self._spawn("etcd", [
            str(self.bin / "etcd"), "--name=test", f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer_url}", f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=test={peer_url}", "--log-level=warn",
            # tests need no durability; fsync dominates etcd's latency on a shared disk
            "--unsafe-no-fsync",
        ])
        self._wait_http(f"http://127.0.0.1:{etcd_port}/health", "etcd")
        self.timings["etcd"] = time.monotonic() - t0

        self.server = f"https://127.0.0.1:{api_port}"
        p = self.pki
        self._spawn("kube-apiserver", [
            str(self.bin / "kube-apiserver"),
            "--bind-address=127.0.0.1", f"--secure-port={api_port}",
            "--advertise-address=127.0.0.1",
            # the default reconciler would publish the loopback address as the kubernetes Service
            # endpoint and fight over it; no pod dials it here
            "--endpoint-reconciler-type=none",
            f"--etcd-servers={etcd_url}",
            f"--tls-cert-file={p / 'apiserver.crt'}", f"--tls-private-key-file={p / 'apiserver.key'}",
            f"--client-ca-file={p / 'ca.crt'}",
            f"--service-account-key-file={p / 'sa.pub'}",
            f"--service-account-signing-key-file={p / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            # Pod Security admission (namespace labels), not this switch, judges pods
            "--allow-privileged=true",
            "--profiling=false",
        ])
        self._wait_api_ready()
        self.timings["kube-apiserver"] = time.monotonic() - t0

        for user in CLIENTS:
            write_kubeconfig(self.workdir / f"{user}.kubeconfig", self.server, p, user)
        kcm_config = self.workdir / "controller-manager.kubeconfig"
        self._spawn("kube-controller-manager", [
            str(self.bin / "kube-controller-manager"),
            f"--kubeconfig={kcm_config}", f"--authentication-kubeconfig={kcm_config}",
            f"--authorization-kubeconfig={kcm_config}",
            "--bind-address=127.0.0.1", "--secure-port=0",
            "--leader-elect=false", "--use-service-account-credentials=true",
            f"--service-account-private-key-file={p / 'sa.key'}",
            f"--root-ca-file={p / 'ca.crt'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--cluster-name=krm-pulsar-test",
        ])
        sched_config = self.workdir / "scheduler.kubeconfig"
        self._spawn("kube-scheduler", [
            str(self.bin / "kube-scheduler"),
            f"--kubeconfig={sched_config}", f"--authentication-kubeconfig={sched_config}",
            f"--authorization-kubeconfig={sched_config}",
            "--bind-address=127.0.0.1", "--secure-port=0", "--leader-elect=false",
        ])
        # KWOK's --config holds Stage objects only: a KwokConfiguration in it drops KWOK's
        # defaults (it then exits with "playStageParallelism must be greater than 0").
        stages = self.workdir / "kwok-stages.yaml"
        defaults = [s for s in yaml.safe_load_all(
            (self.home / "kwok-stages" / "default-stages.yaml").read_text())
            if s and s["metadata"]["name"] not in REPLACED_STAGES]
        stages.write_text(yaml.safe_dump_all(defaults) + "\n---\n" + STAGES.read_text())
        self._spawn("kwok", [
            str(self.bin / "kwok"), f"--kubeconfig={self.workdir / 'kwok.kubeconfig'}",
            f"--config={stages}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={NODE_ANNOTATION[0]}={NODE_ANNOTATION[1]}",
            "--cidr=10.244.0.0/16", "--node-ip=127.0.0.1",
        ])

        self.apply_objects(storage_classes())
        self.add_nodes([(zone, i) for zone in ZONES for i in range(1, NODES_PER_ZONE + 1)])
        self.timings["nodes-ready"] = time.monotonic() - t0
        self._smoke_test()
        self.timings["ready"] = time.monotonic() - t0

    def _wait_http(self, url: str, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        parsed = urllib.parse.urlparse(url)
        while True:
            self._check_alive()
            try:
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=2)
                conn.request("GET", parsed.path)
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise StartError(f"{name} not healthy after {timeout} s:\n{self.log_tail(name)}")
            time.sleep(0.1)

    def _wait_api_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            try:
                status, _ = self.request("GET", "/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise StartError(f"kube-apiserver not ready after {timeout} s:\n"
                                 f"{self.log_tail('kube-apiserver')}")
            time.sleep(0.2)

    def _smoke_test(self) -> None:
        """Prove every component works before the first test: the controller-manager creates a
        namespace's default ServiceAccount, the scheduler binds a pod, KWOK runs it."""
        t0 = time.monotonic()
        namespace = "krm-pulsar-smoke"
        self.create_namespace(namespace, "restricted")
        self.timings["smoke-namespace"] = time.monotonic() - t0
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "smoke", "namespace": namespace},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "runAsUser": 10000,
                                    "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{"name": "c", "image": "registry.invalid/none:1",
                                "securityContext": {"allowPrivilegeEscalation": False,
                                                    "capabilities": {"drop": ["ALL"]}}}],
            },
        }
        self.apply_objects([pod])
        try:
            self.wait_for(lambda: (self.get(f"/api/v1/namespaces/{namespace}/pods/smoke")
                                   .get("status", {}).get("phase") == "Running"),
                          "the smoke pod Running (scheduler and KWOK)", timeout=60)
        except AssertionError as exc:
            raise StartError(f"{exc}\nscheduler:\n{self.log_tail('kube-scheduler')}\n"
                             f"kwok:\n{self.log_tail('kwok')}") from None
        self.kubectl("delete", "namespace", namespace, "--wait=false")

    # --- API access ----------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPSConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            context = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
            context.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
            parsed = urllib.parse.urlparse(self.server)
            conn = http.client.HTTPSConnection(parsed.hostname, parsed.port, context=context,
                                               timeout=30)
            self._local.conn = conn
        return conn

    def request(self, method: str, path: str, body=None, content_type="application/json"):
        """One API request as the admin; returns (status, parsed JSON or text)."""
        data = None if body is None else (body if isinstance(body, (bytes, str))
                                          else json.dumps(body))
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        try:
            return response.status, json.loads(raw)
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def get(self, path: str) -> dict:
        status, body = self.request("GET", path)
        if status == 404:
            return {}
        assert status == 200, f"GET {path}: {status} {body}"
        return body

    def items(self, path: str, selector: str | None = None) -> list[dict]:
        if selector:
            path += ("&" if "?" in path else "?") + "labelSelector=" + urllib.parse.quote(selector)
        return self.get(path).get("items", [])

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 180) -> subprocess.CompletedProcess:
        """The kubectl built with this server (never the machine's older one)."""
        result = subprocess.run([str(self.bin / "kubectl"), f"--kubeconfig={self.kubeconfig}",
                                 *args], input=input, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stderr}{result.stdout}")
        return result

    def apply_objects(self, objects: list[dict]) -> None:
        """Server-side apply of the harness's own objects (namespaces, nodes, prerequisites),
        straight through the API: a kubectl process each would cost the two cores more than
        the apply itself. Our output is applied with kubectl (workloads.apply), as users do."""
        for obj in objects:
            path = object_path(obj["kind"], obj["metadata"].get("namespace"),
                               obj["metadata"]["name"])
            status, body = self.request(
                "PATCH", f"{path}?fieldManager=krm-pulsar-test-harness&force=true",
                json.dumps(obj), content_type="application/apply-patch+yaml")
            assert status in (200, 201), f"applying {obj['kind']} {path}: {status} {body}"

    def wait_for(self, condition, what: str, timeout: float = 120, interval: float = 0.25):
        """Poll ``condition`` until it returns a truthy value; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(interval)

    # --- cluster furniture ---------------------------------------------------------------------

    def create_namespace(self, name: str, level: str = "restricted") -> None:
        """A namespace whose Pod Security level is ``level`` for enforce, warn and audit (warn
        also judges the pod templates of Deployments, StatefulSets and Jobs, so a violation shows
        as an apply warning before any pod exists); returns once its default ServiceAccount
        exists (pods are refused before that)."""
        labels = {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "warn", "audit")}
        labels.update({f"pod-security.kubernetes.io/{mode}-version": "latest"
                       for mode in ("enforce", "warn", "audit")})
        self.apply_objects([{"apiVersion": "v1", "kind": "Namespace",
                             "metadata": {"name": name, "labels": labels}}])
        self.wait_for(lambda: self.get(f"/api/v1/namespaces/{name}/serviceaccounts/default"),
                      f"the default ServiceAccount of namespace {name}", timeout=60)

    def delete_namespaces(self, names: list[str], timeout: float = 180) -> None:
        """Delete namespaces and wait until they are gone (with their pods and volumes)."""
        if not names:
            return
        self.kubectl("delete", "namespace", *names, "--wait=false", "--ignore-not-found")
        self.wait_for(lambda: not any(self.get(f"/api/v1/namespaces/{n}") for n in names),
                      f"namespaces {names} deleted", timeout=timeout)

    def add_nodes(self, nodes: list[tuple[str, int]], labels: dict | None = None,
                  taints: list | None = None) -> None:
        """Fake nodes; ``labels`` and ``taints`` model a node pool (a cloud node group's labels
        and its dedicated taint), as tests/cluster/test_cluster_admission.py needs for
        fixtures that select one."""
        manifests = [node_manifest(zone, index) for zone, index in nodes]
        for manifest in manifests:
            manifest["metadata"]["labels"].update(labels or {})
            if taints:
                manifest["spec"]["taints"] = [dict(taint) for taint in taints]
        self.apply_objects(manifests)
        names = [node_name(zone, index) for zone, index in nodes]
        self.wait_for(lambda: all(node_ready(self.get(f"/api/v1/nodes/{n}")) for n in names),
                      f"nodes {names} Ready (KWOK)", timeout=60)

    def delete_nodes(self, names: list[str]) -> None:
        self.kubectl("delete", "node", *names, "--wait=true")

    def nodes(self) -> list[dict]:
        return self.items("/api/v1/nodes")


# API paths of the kinds the harness and the tests create themselves.
API_PATHS = {
    "Namespace": "/api/v1/namespaces",
    "Node": "/api/v1/nodes",
    "Pod": "/api/v1/namespaces/{ns}/pods",
    "ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
    "PersistentVolumeClaim": "/api/v1/namespaces/{ns}/persistentvolumeclaims",
    "StorageClass": "/apis/storage.k8s.io/v1/storageclasses",
    "PriorityClass": "/apis/scheduling.k8s.io/v1/priorityclasses",
    "Issuer": "/apis/cert-manager.io/v1/namespaces/{ns}/issuers",
    "ClusterIssuer": "/apis/cert-manager.io/v1/clusterissuers",
}


def object_path(kind: str, namespace: str | None, name: str) -> str:
    return API_PATHS[kind].format(ns=namespace) + "/" + name


def node_ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in node.get("status", {}).get("conditions", []))
