"""What the cluster tests do with our output: render it with the real `krm-pulsar` (or real
kustomize / kpt), find the prerequisites it names but does not contain, apply it server-side,
wait for the controllers and the scheduler, read back where pods landed, and diff."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import harness

ROOT = Path(__file__).resolve().parents[2]


# The console script of the installed package, next to the test interpreter (as in
# tests/conftest.py): the same program kustomize and kpt execute by bare name.
BIN_DIR = Path(sys.executable).parent


def _krm_pulsar() -> str:
    return str(BIN_DIR / "krm-pulsar")


def tool_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
    return env


# ---------------------------------------------------------------------------------------------
# Rendering

@dataclass
class Rendered:
    objects: list[dict]
    warnings: list[str] = field(default_factory=list)
    kaap: bool = False  # KAAP input (kaap.oss.datastax.com): kept KAAP pod templates


def _load(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render_file(path: Path, namespace: str | None = None, image: str | None = None) -> Rendered:
    """`krm-pulsar render PATH` (the plain-manifest mode of the Argo CD plugin and CI)."""
    args = [_krm_pulsar(), "render", str(path)]
    if namespace:
        args.append(f"--namespace={namespace}")
    if image:
        args.append(f"--image={image}")
    result = subprocess.run(args, capture_output=True, text=True, env=tool_env(), timeout=120)
    assert result.returncode == 0, f"krm-pulsar render {path} failed:\n{result.stderr}"
    configs = [d for d in _load(Path(path).read_text()) if d.get("kind") == "PulsarCluster"]
    return Rendered(_load(result.stdout), result.stderr.splitlines(),
                    kaap=any(c["apiVersion"].startswith("kaap.") for c in configs))


def render_config(config: dict, namespace: str | None = None) -> Rendered:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pulsar-cluster.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return render_file(path, namespace=namespace)


def fixture_config(name: str, namespace: str | None = None) -> dict:
    """``fixtures/<name>.yaml`` as data, moved to ``namespace`` (as if written there)."""
    config = yaml.safe_load((ROOT / "fixtures" / f"{name}.yaml").read_text())
    if namespace:
        config["metadata"]["namespace"] = namespace
    return config


def render_resource_list(path: Path) -> Rendered:
    """The KRM function mode: a ResourceList on stdin (what kustomize and kpt send)."""
    text = Path(path).read_text()
    result = subprocess.run([_krm_pulsar()], input=text, capture_output=True, text=True,
                            env=tool_env(), timeout=120)
    assert result.returncode == 0, f"krm-pulsar < {path} failed:\n{result.stderr}"
    out = yaml.safe_load(result.stdout)
    items = [i for i in out.get("items", []) if not _local_config(i)]
    inp = yaml.safe_load(text)
    kaap = any(i.get("apiVersion", "").startswith("kaap.") for i in inp.get("items", []))
    return Rendered(_strip_orchestrator_annotations(items), result.stderr.splitlines(), kaap=kaap)


def kustomize_build(kustomize: str, directory: Path) -> Rendered:
    result = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                             str(directory)], capture_output=True, text=True, env=tool_env(),
                            timeout=180)
    assert result.returncode == 0, f"kustomize build {directory} failed:\n{result.stderr}"
    kaap = any(d.get("apiVersion", "").startswith("kaap.")
               for f in Path(directory).rglob("*.yaml") for d in _load(f.read_text())
               if isinstance(d, dict))
    return Rendered(_load(result.stdout), result.stderr.splitlines(), kaap=kaap)


def kpt_render(kpt: str, package: Path, imperative: bool = False) -> Rendered:
    """`kpt fn render` (or `kpt fn eval --exec krm-pulsar`) of a copy of ``package``; what a
    user then applies is every resource of the package that is not local-config."""
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / package.name
        shutil.copytree(package, pkg)
        if imperative:
            cmd = [kpt, "fn", "eval", "--exec", "krm-pulsar", "-o", "stdout", str(pkg)]
        else:
            cmd = [kpt, "fn", "render", "--allow-exec", "-o", "stdout", str(pkg)]
        result = subprocess.run(cmd, capture_output=True, text=True, env=tool_env(), timeout=180)
    assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stderr}"
    out = yaml.safe_load(result.stdout)
    items = out["items"] if out.get("kind") == "ResourceList" else _load(result.stdout)
    kaap = any(i.get("apiVersion", "").startswith("kaap.") for i in items)
    items = [i for i in items if not _local_config(i)]
    return Rendered(_strip_orchestrator_annotations(items), result.stderr.splitlines(), kaap=kaap)


def _local_config(obj: dict) -> bool:
    annotations = obj.get("metadata", {}).get("annotations") or {}
    return str(annotations.get("config.kubernetes.io/local-config", "")).lower() == "true"


def _strip_orchestrator_annotations(items: list[dict]) -> list[dict]:
    """kpt and kustomize bookkeeping (index, path, ids), which their writers drop."""
    items = copy.deepcopy(items)
    for item in items:
        annotations = item.get("metadata", {}).get("annotations")
        if not annotations:
            continue
        for key in list(annotations):
            if (key.startswith("internal.config.kubernetes.io/")
                    or key in ("config.kubernetes.io/index", "config.kubernetes.io/path",
                               "config.k8s.io/id")):
                del annotations[key]
        if not annotations:
            del item["metadata"]["annotations"]
    return items


# ---------------------------------------------------------------------------------------------
# Object bookkeeping

CLUSTER_SCOPED = {"Namespace", "StorageClass", "PriorityClass", "ClusterRole",
                  "ClusterRoleBinding", "CustomResourceDefinition", "ClusterIssuer",
                  "PersistentVolume"}
WORKLOAD_KINDS = ("StatefulSet", "Deployment", "Job", "DaemonSet")


def is_namespaced(obj: dict) -> bool:
    return obj["kind"] not in CLUSTER_SCOPED


def namespaces_of(objects: list[dict]) -> set[str]:
    names = {o["metadata"].get("namespace") for o in objects if is_namespaced(o)}
    names.discard(None)
    return names


def key(obj: dict, default_namespace: str | None = None) -> tuple:
    namespace = obj["metadata"].get("namespace", default_namespace) if is_namespaced(obj) else None
    return obj["kind"], namespace, obj["metadata"]["name"]


def pod_spec(obj: dict) -> dict | None:
    if obj["kind"] in ("StatefulSet", "Deployment", "Job", "DaemonSet", "ReplicaSet"):
        return obj["spec"]["template"].get("spec", {})
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"].get("spec", {})
    if obj["kind"] == "Pod":
        return obj.get("spec", {})
    return None


# ---------------------------------------------------------------------------------------------
# Prerequisites: what the render names but does not contain

@dataclass
class Prerequisite:
    kind: str
    name: str
    namespace: str | None
    reason: str
    manifest: dict | None  # created by the test; None: only listed (needed at run time)

    def __str__(self):
        where = f"{self.namespace}/" if self.namespace else ""
        made = "created by the test" if self.manifest else "not created (run time only)"
        return f"{self.kind} {where}{self.name}: {self.reason} [{made}]"


def prerequisites(objects: list[dict], namespace: str) -> list[Prerequisite]:
    """Objects that ``objects`` reference and do not contain. Created for the test: those the
    API server or the controllers need before pods exist (PriorityClass, ServiceAccount,
    StorageClass, claims named by pods); listed only: Secrets and ConfigMaps that only a kubelet
    would read (KWOK starts no containers), Secrets cert-manager would issue."""
    present = {key(o, namespace) for o in objects}
    found: dict[tuple, Prerequisite] = {}

    def need(kind, name, ns, reason, manifest):
        k = (kind, ns, name)
        if k not in present and k not in found:
            found[k] = Prerequisite(kind, name, ns, reason, manifest)

    issued = set()
    for obj in objects:
        if obj["kind"] == "Certificate":
            ns = obj["metadata"].get("namespace", namespace)
            issued.add((ns, obj["spec"]["secretName"]))
            ref = obj["spec"]["issuerRef"]
            if ref.get("kind", "Issuer") == "Issuer":
                need("Issuer", ref["name"], ns, f"issuerRef of Certificate {obj['metadata']['name']}",
                     {"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
                      "metadata": {"name": ref["name"], "namespace": ns},
                      "spec": {"selfSigned": {}}})
            else:
                need("ClusterIssuer", ref["name"], None, "issuerRef of Certificate "
                     f"{obj['metadata']['name']}", {
                         "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
                         "metadata": {"name": ref["name"]}, "spec": {"selfSigned": {}}})

    claim_modes: dict[str, set[str]] = {}  # storage class -> access modes of its claims
    for obj in objects:
        ns = obj["metadata"].get("namespace", namespace)
        claims = []
        if obj["kind"] == "StatefulSet":
            claims = obj["spec"].get("volumeClaimTemplates", [])
        elif obj["kind"] == "PersistentVolumeClaim":
            claims = [obj]
        for claim in claims:
            sc = claim["spec"].get("storageClassName")
            if sc:
                claim_modes.setdefault(sc, set()).update(claim["spec"].get("accessModes", []))
        spec = pod_spec(obj)
        if spec is None:
            continue
        owner = f"{obj['kind']} {obj['metadata']['name']}"
        if spec.get("priorityClassName"):
            need("PriorityClass", spec["priorityClassName"], None, f"priorityClassName of {owner}",
                 {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                  "metadata": {"name": spec["priorityClassName"]}, "value": 1000000,
                  "description": "created by the krm-pulsar cluster tests"})
        sa = spec.get("serviceAccountName")
        if sa and sa != "default":
            need("ServiceAccount", sa, ns, f"serviceAccountName of {owner}",
                 {"apiVersion": "v1", "kind": "ServiceAccount",
                  "metadata": {"name": sa, "namespace": ns}})
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                name = volume["persistentVolumeClaim"]["claimName"]
                need("PersistentVolumeClaim", name, ns, f"volume {volume['name']} of {owner} "
                     "(pre-created ReadWriteMany claim)", {
                         "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                         "metadata": {"name": name, "namespace": ns},
                         "spec": {"accessModes": ["ReadWriteMany"],
                                  "storageClassName": harness.RWX_STORAGE_CLASS,
                                  "resources": {"requests": {"storage": "10Gi"}}}})
            sources = [volume] + [s for s in volume.get("projected", {}).get("sources", [])]
            for source in sources:
                if "secret" in source:
                    name = source["secret"].get("secretName") or source["secret"].get("name")
                    why = ("issued by cert-manager from a rendered Certificate"
                           if (ns, name) in issued else f"volume of {owner}")
                    need("Secret", name, ns, why, None)
                if "configMap" in source:
                    need("ConfigMap", source["configMap"]["name"], ns, f"volume of {owner}", None)
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            for env in container.get("env", []):
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    why = ("issued by cert-manager" if (ns, ref["name"]) in issued
                           else f"env {env['name']} of {owner}")
                    need("Secret", ref["name"], ns, why, None)
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    need("Secret", source["secretRef"]["name"], ns, f"envFrom of {owner}", None)
                if "configMapRef" in source:
                    need("ConfigMap", source["configMapRef"]["name"], ns, f"envFrom of {owner}",
                         None)

    for sc, modes in sorted(claim_modes.items()):
        shared = "ReadWriteMany" in modes
        need("StorageClass", sc, None, "storageClassName of claims"
             + (" (ReadWriteMany: a file service)" if shared else ""), {
                 "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                 "metadata": {"name": sc},
                 "provisioner": harness.TEST_FILE_PROVISIONER if shared else harness.TEST_PROVISIONER,
                 "volumeBindingMode": "Immediate" if shared else "WaitForFirstConsumer",
                 "allowVolumeExpansion": True, "reclaimPolicy": "Delete"})
    return list(found.values())


def create_prerequisites(cp: harness.ControlPlane, needed: list[Prerequisite]) -> list[Prerequisite]:
    """Create what is missing from the cluster; returns what was created."""
    created = []
    for item in needed:
        if item.manifest is None:
            continue
        if cp.get(harness.object_path(item.kind, item.namespace, item.name)):
            continue  # the harness provides it (default and ReadWriteMany StorageClasses)
        created.append(item)
    if created:
        cp.apply_objects([c.manifest for c in created])
    return created


# ---------------------------------------------------------------------------------------------
# Applying

@dataclass
class ApplyResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def __str__(self):
        return f"exit {self.returncode}\n{self.stderr}{self.stdout}"


def _namespace_args(namespace):
    # Objects without metadata.namespace go to ``namespace`` (kubectl -n), as `kubectl apply -n`
    # users and GitOps tools with a destination namespace do.
    return [f"--namespace={namespace}"] if namespace else []


def apply(cp: harness.ControlPlane, objects: list[dict], namespace: str | None = None,
          dry_run: bool = False, extra: tuple = ()) -> ApplyResult:
    """`kubectl apply --server-side --warnings-as-errors` (field manager `kubectl`, as users and
    `kubectl diff --server-side` see it)."""
    args = ["apply", "--server-side", "--warnings-as-errors", "-f", "-",
            *_namespace_args(namespace), *extra]
    if dry_run:
        args.append("--dry-run=server")
    result = cp.kubectl(*args, input=yaml.safe_dump_all(objects, sort_keys=False), check=False)
    return ApplyResult(result.returncode, result.stdout, result.stderr)


def diff(cp: harness.ControlPlane, objects: list[dict], namespace: str | None = None) -> ApplyResult:
    """`kubectl diff --server-side`: exit 0 = no difference, 1 = differences, >1 = error."""
    result = cp.kubectl("diff", "--server-side", "-f", "-", *_namespace_args(namespace),
                        input=yaml.safe_dump_all(objects, sort_keys=False), check=False)
    return ApplyResult(result.returncode, result.stdout, result.stderr)


# ---------------------------------------------------------------------------------------------
# Waiting for the controllers and the scheduler

WORKLOAD_PATHS = {
    "StatefulSet": "/apis/apps/v1/namespaces/{ns}/statefulsets",
    "Deployment": "/apis/apps/v1/namespaces/{ns}/deployments",
    "Job": "/apis/batch/v1/namespaces/{ns}/jobs",
}


def workload_problems(cp: harness.ControlPlane, namespace: str) -> list[str]:
    """Every workload of ``namespace`` that has not reached its desired state, with why."""
    problems = []
    for sts in cp.items(WORKLOAD_PATHS["StatefulSet"].format(ns=namespace)):
        spec, status, name = sts["spec"], sts.get("status", {}), sts["metadata"]["name"]
        want = spec.get("replicas", 1)
        if status.get("observedGeneration", 0) < sts["metadata"]["generation"]:
            problems.append(f"StatefulSet {name}: generation not observed yet")
        elif (status.get("readyReplicas", 0) != want or status.get("updatedReplicas", 0) != want
              or status.get("replicas", 0) != want
              or status.get("currentRevision") != status.get("updateRevision")):
            problems.append(f"StatefulSet {name}: {status.get('readyReplicas', 0)}/{want} ready, "
                            f"{status.get('updatedReplicas', 0)} updated, "
                            f"{status.get('replicas', 0)} pods")
    for dep in cp.items(WORKLOAD_PATHS["Deployment"].format(ns=namespace)):
        spec, status, name = dep["spec"], dep.get("status", {}), dep["metadata"]["name"]
        want = spec.get("replicas", 1)
        if status.get("observedGeneration", 0) < dep["metadata"]["generation"]:
            problems.append(f"Deployment {name}: generation not observed yet")
        elif (status.get("updatedReplicas", 0) != want or status.get("availableReplicas", 0) != want
              or status.get("replicas", 0) != want or status.get("readyReplicas", 0) != want):
            problems.append(f"Deployment {name}: {status.get('availableReplicas', 0)}/{want} "
                            f"available, {status.get('updatedReplicas', 0)} updated, "
                            f"{status.get('replicas', 0)} pods")
    for job in cp.items(WORKLOAD_PATHS["Job"].format(ns=namespace)):
        status, name = job.get("status", {}), job["metadata"]["name"]
        want = job["spec"].get("completions", 1)
        if status.get("succeeded", 0) < want:
            problems.append(f"Job {name}: {status.get('succeeded', 0)}/{want} succeeded")
    for pod in cp.items(f"/api/v1/namespaces/{namespace}/pods"):
        phase = pod.get("status", {}).get("phase")
        if phase not in ("Running", "Succeeded") or pod["metadata"].get("deletionTimestamp"):
            owner = (pod["metadata"].get("ownerReferences") or [{}])[0].get("kind", "no owner")
            owner = {"ReplicaSet": "Deployment"}.get(owner, owner)
            name = f"Pod {pod['metadata']['name']} (of a {owner})"
            if not pod["spec"].get("nodeName"):
                problems.append(f"{name}: unscheduled: "
                                f"{last_scheduling_failure(cp, namespace, pod['metadata']['name'])}")
            else:
                problems.append(f"{name}: {phase}")
    return problems


NOT_YET_TRIED = "(no FailedScheduling event yet)"


def last_scheduling_failure(cp, namespace: str, pod: str) -> str:
    selector = urllib.parse.quote(f"involvedObject.name={pod},reason=FailedScheduling")
    events = cp.items(f"/api/v1/namespaces/{namespace}/events?fieldSelector={selector}")
    if not events:
        return NOT_YET_TRIED
    latest = max(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return latest.get("message", "").strip()


def wait_settled(cp: harness.ControlPlane, namespaces, timeout: float = 90,
                 settle: float = 1.0, stuck_after: float = 10.0) -> list[str]:
    """Poll until every workload of ``namespaces`` is at its desired state and stays so for
    ``settle`` seconds (a rollout can look done between two steps); returns the problems left
    (empty: settled). Gives up early when the same problems persist, word for word (ready
    counts, scheduler messages), for ``stuck_after`` seconds: the controllers and KWOK act within
    a second, so an unchanged state that long is a deadlock, not a slow step."""
    namespaces = [namespaces] if isinstance(namespaces, str) else list(namespaces)
    deadline = time.monotonic() + timeout
    good_since = None
    last, same_since = None, time.monotonic()
    while True:
        problems = [p for ns in namespaces for p in
                    (f"{ns}: {q}" for q in workload_problems(cp, ns))]
        now = time.monotonic()
        if not problems:
            good_since = good_since or now
            if now - good_since >= settle:
                return []
        else:
            good_since = None
        if problems != last:
            last, same_since = problems, now
        elif (problems and now - same_since >= stuck_after
              and not any(NOT_YET_TRIED in p for p in problems)):
            # a pod without a FailedScheduling event is still being placed (the scheduler
            # waits for its volumes to bind, which takes KWOK longer while it is busy): only
            # what the scheduler has refused can be stuck
            return problems
        if now > deadline:
            return problems
        time.sleep(0.3)


def failed_scheduling_left(cp, namespace: str) -> list[str]:
    """FailedScheduling events of pods that exist and are still unscheduled."""
    left = []
    for pod in cp.items(f"/api/v1/namespaces/{namespace}/pods"):
        if not pod["spec"].get("nodeName"):
            left.append(f"{pod['metadata']['name']}: "
                        f"{last_scheduling_failure(cp, namespace, pod['metadata']['name'])}")
    return left


def warning_events(cp, namespace: str) -> list[str]:
    """One line per object and reason (the first message; a controller retrying repeats it)."""
    first: dict[tuple, str] = {}
    for e in cp.items(f"/api/v1/namespaces/{namespace}/events"):
        if e.get("type") == "Warning":
            obj = e["involvedObject"]
            first.setdefault((obj["kind"], obj["name"], e.get("reason")),
                             e.get("message", "").strip())
    return [f"{kind}/{name}: {reason}: {message}"
            for (kind, name, reason), message in sorted(first.items())]


# ---------------------------------------------------------------------------------------------
# Placement

@dataclass
class PodPlace:
    name: str
    labels: dict
    node: str | None
    zone: str | None
    phase: str
    claims: list[str]
    owner_kind: str = ""

    @property
    def workload(self) -> tuple:
        """(component, resource set): the set a pod belongs to."""
        return self.labels.get("component"), self.labels.get("resource-set")


def pods(cp: harness.ControlPlane, namespace: str, selector: str | None = None) -> list[PodPlace]:
    zones = {n["metadata"]["name"]: n["metadata"]["labels"].get("topology.kubernetes.io/zone")
             for n in cp.nodes()}
    out = []
    for pod in cp.items(f"/api/v1/namespaces/{namespace}/pods", selector):
        if pod["metadata"].get("deletionTimestamp"):
            continue
        node = pod["spec"].get("nodeName")
        claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"].get("volumes", [])
                  if "persistentVolumeClaim" in v]
        owners = pod["metadata"].get("ownerReferences") or [{}]
        out.append(PodPlace(pod["metadata"]["name"], pod["metadata"].get("labels", {}), node,
                            zones.get(node) if node else None,
                            pod.get("status", {}).get("phase", ""), claims,
                            owners[0].get("kind", "")))
    return out


def volume_zones(cp: harness.ControlPlane, namespace: str) -> dict[str, str | None]:
    """Claim name -> the zone its bound volume is pinned to (None: no topology)."""
    volumes = {pv["metadata"]["name"]: pv for pv in cp.items("/api/v1/persistentvolumes")}
    out = {}
    for claim in cp.items(f"/api/v1/namespaces/{namespace}/persistentvolumeclaims"):
        pv = volumes.get(claim["spec"].get("volumeName") or "")
        zone = None
        if pv:
            for term in (pv["spec"].get("nodeAffinity", {}).get("required", {})
                         .get("nodeSelectorTerms", [])):
                for expr in term.get("matchExpressions", []):
                    if expr["key"] == "topology.kubernetes.io/zone":
                        zone = expr["values"][0]
        out[claim["metadata"]["name"]] = zone if pv else "unbound"
    return out


def deploy(cp: harness.ControlPlane, rendered: Rendered, namespace: str,
           level: str = "restricted") -> list[Prerequisite]:
    """Namespace, prerequisites, then a server-side apply that must succeed without warnings;
    returns the prerequisites created."""
    cp.create_namespace(namespace, level)
    created = create_prerequisites(cp, prerequisites(rendered.objects, namespace))
    result = apply(cp, rendered.objects, namespace)
    assert result.ok, f"applying into {namespace} failed:\n{result}"
    return created


def teardown(cp: harness.ControlPlane, namespaces: list[str], renders=()) -> None:
    """Delete the namespaces and the cluster-scoped objects of ``renders`` (StorageClasses,
    PriorityClasses), so the next test finds the cluster as the harness made it. Every test uses
    namespaces of its own, never reused, and pods of other namespaces take no part in its
    placement rules (the nodes have room for all): the namespace controller's clean-up (10 s
    and more per namespace, pods, claims and volumes) is not waited for."""
    if namespaces:
        cp.kubectl("delete", "namespace", *namespaces, "--wait=false", "--ignore-not-found")
    by_kind: dict[str, list[str]] = {}
    for kind, name in sorted({(o["kind"], o["metadata"]["name"]) for r in renders
                              for o in r.objects
                              if not is_namespaced(o) and o["kind"] != "Namespace"}):
        by_kind.setdefault(kind, []).append(name)
    for kind, names in by_kind.items():
        cp.kubectl("delete", kind, *names, "--ignore-not-found")


def pod_table(cp: harness.ControlPlane, namespace: str) -> str:
    """Every pod with its node, zone and phase: the evidence a failed wait prints."""
    rows = [f"{p.name:<60} {p.node or '-':<16} {p.zone or '-':<8} {p.phase}"
            for p in sorted(pods(cp, namespace), key=lambda p: p.name)]
    return "\n".join(rows)

