"""Issue 12, points 1, 2 and 7 for every input we ship: each fixture, each kpt function example
and the kustomize overlays (through real kustomize / kpt) is

1. accepted by `kubectl apply --server-side --dry-run=server --warnings-as-errors` in a namespace
   labelled pod-security.kubernetes.io/enforce (and warn, audit): restricted (baseline for KAAP
   input, which keeps KAAP's pod templates: test_kaap_input_needs_baseline shows why), then
   applied for real;
2. brought up by the real controllers and scheduler: every StatefulSet, Deployment and Job at its
   desired pods Running or Completed on the fake nodes, no FailedScheduling left;
7. free of drift: `kubectl diff --server-side` of the same render against the live objects shows
   nothing.

Inputs run side by side, each in a namespace of its own: a fixture that names a namespace (most
name `pulsar`) is rendered from a copy whose metadata.namespace is `adm-<fixture>`, exactly as if
its author had written that; objects without a namespace are applied with `kubectl -n
adm-<input>`. Inputs whose cluster-scoped objects share a name (StorageClasses, PriorityClasses)
go to different waves; each wave's namespaces and cluster-scoped objects are deleted before the
next wave starts (namespaces are never reused, so their deletion is not waited for).
"""

from __future__ import annotations

import concurrent.futures
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from . import harness, workloads
from .report import NOTES
from .workloads import ROOT

pytestmark = pytest.mark.cluster

FIXTURES = ROOT / "fixtures"
EXAMPLES = ROOT / "functions" / "pulsar-cluster" / "examples"


@dataclass
class Case:
    id: str
    how: str  # "render", "resource-list", "kustomize", "kpt-render", "kpt-eval"
    path: Path
    # filled in by the run
    rendered: workloads.Rendered | None = None
    namespace: str | None = None  # for objects without metadata.namespace
    namespaces: list[str] = field(default_factory=list)
    level: str = "restricted"
    prerequisites: list = field(default_factory=list)
    created: list = field(default_factory=list)
    dry_run: workloads.ApplyResult | None = None
    applied: workloads.ApplyResult | None = None
    problems: list[str] = field(default_factory=list)
    scheduling_left: list[str] = field(default_factory=list)
    warning_events: list[str] = field(default_factory=list)
    diff: workloads.ApplyResult | None = None
    error: str = ""


def _cases() -> list[Case]:
    cases = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        how = "resource-list" if "kind: ResourceList" in path.read_text() else "render"
        cases.append(Case(f"fixture:{path.stem}", how, path))
    cases.append(Case("example:render-simple", "kpt-render", EXAMPLES / "render-simple"))
    cases.append(Case("example:eval-imperative", "kpt-eval", EXAMPLES / "eval-imperative"))
    cases.append(Case("kpt:examples/kpt", "kpt-render", ROOT / "examples" / "kpt"))
    for overlay in ("base", "overlays/dev", "overlays/prod"):
        cases.append(Case(f"kustomize:{overlay}", "kustomize", ROOT / "examples" / "kustomize" / overlay))
    cases.append(Case("kustomize:repository-root", "kustomize", ROOT))
    return cases


CASES = _cases()

# Known defects of today's output, each an expected failure (strict: the test flips to a failure
# when the fix lands, so the mark must then go). Key: (case id, point).
KNOWN: dict[tuple[str, str], str] = {}

# The node pools fixtures/full-every-knob.yaml selects (global nodeSelectors pool: pulsar,
# disk: ssd, each component's own over them), as a cloud has them: node groups with those
# labels, tainted dedicated=pulsar:NoSchedule (the taint the fixture tolerates), so no other
# input's pods land there. Sized for the fixture's replicas under its required host
# anti-affinity: ZooKeeper 5 (disk: nvme), bookies 4 (disk: local-nvme), brokers 2 (cpu: fast),
# proxies 2 (edge), autorecovery 2 and bastion 1 (role: ops) on one serving pool, the functions
# worker 2 (role: compute). Spread over the three zones (zonal volumes follow their node).
POOL_TAINT = {"key": "dedicated", "value": "pulsar", "effect": "NoSchedule"}
NODE_POOLS = {
    "nvme": ({"pool": "pulsar", "disk": "nvme"}, 5),
    "local-nvme": ({"pool": "pulsar", "disk": "local-nvme"}, 4),
    "serving": ({"pool": "pulsar", "disk": "ssd", "cpu": "fast", "edge": "true", "role": "ops"}, 2),
    "compute": ({"pool": "pulsar", "disk": "ssd", "role": "compute"}, 2),
}
POOL_FIRST_INDEX = 11  # kwok-<zone>-<n>: far above the harness's and day-2's own nodes


def _pool_nodes() -> dict[str, list[tuple[str, int]]]:
    pools, index = {}, POOL_FIRST_INDEX
    for pool, (_, count) in NODE_POOLS.items():
        pools[pool] = []
        for _ in range(count):
            pools[pool].append((harness.ZONES[index % len(harness.ZONES)], index))
            index += 1
    return pools


@pytest.fixture(scope="module")
def node_pools(control_plane):
    pools = _pool_nodes()
    for pool, nodes in pools.items():
        control_plane.add_nodes(nodes, labels=NODE_POOLS[pool][0], taints=[POOL_TAINT])
    yield pools
    control_plane.kubectl("delete", "node", *[harness.node_name(z, i) for nodes in pools.values()
                                              for z, i in nodes], "--ignore-not-found")


def _params(point: str):
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=KNOWN[(c.id, point)])]
                         if (c.id, point) in KNOWN else []) for c in CASES]


def _render(case: Case, kustomize: str, kpt: str) -> workloads.Rendered:
    if case.how == "render":
        config = yaml.safe_load(case.path.read_text())
        if config["metadata"].get("namespace"):
            config["metadata"]["namespace"] = "adm-" + _slug(case.id.split(":", 1)[1])
            rendered = workloads.render_config(config)
            rendered.kaap = config["apiVersion"].startswith("kaap.")
            return rendered
        return workloads.render_file(case.path)
    if case.how == "resource-list":
        return workloads.render_resource_list(case.path)
    if case.how == "kustomize":
        return workloads.kustomize_build(kustomize, case.path)
    return workloads.kpt_render(kpt, case.path, imperative=case.how == "kpt-eval")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50]


def _claims(case: Case) -> tuple[set, set]:
    """What a case occupies while it runs: its namespaces and rendered cluster-scoped objects
    (exclusively), and the cluster-scoped prerequisites the harness creates for it (shared:
    identical for every case that needs them, but in the way of a render that contains an
    object of that name, such as the prod overlay's PriorityClass)."""
    objects = case.rendered.objects
    own = {("Namespace", ns) for ns in case.namespaces}
    own |= {(o["kind"], o["metadata"]["name"]) for o in objects if not workloads.is_namespaced(o)}
    shared = {(p.kind, p.name) for p in case.prerequisites
              if p.manifest is not None and p.namespace is None}
    return own, shared - own


def _waves(cases: list[Case]) -> list[list[Case]]:
    waves: list[tuple[set, set, list[Case]]] = []
    for case in cases:
        own, shared = _claims(case)
        for wave_own, wave_shared, members in waves:
            if not (own & (wave_own | wave_shared) or shared & wave_own):
                wave_own |= own
                wave_shared |= shared
                members.append(case)
                break
        else:
            waves.append((set(own), set(shared), [case]))
    return [members for _, _, members in waves]


def _prepare(case: Case, kustomize: str, kpt: str) -> None:
    case.rendered = _render(case, kustomize, kpt)
    objects = case.rendered.objects
    rendered_namespaces = workloads.namespaces_of(objects)
    if any(workloads.is_namespaced(o) and "namespace" not in o["metadata"] for o in objects):
        case.namespace = "adm-" + _slug(case.id.split(":", 1)[1])
        rendered_namespaces.add(case.namespace)
    case.namespaces = sorted(rendered_namespaces)
    case.level = "baseline" if case.rendered.kaap else "restricted"
    case.prerequisites = workloads.prerequisites(objects, case.namespace)


def _apply(cp: harness.ControlPlane, case: Case) -> None:
    for ns in case.namespaces:
        cp.create_namespace(ns, case.level)
    case.created = workloads.create_prerequisites(cp, case.prerequisites)
    objects = case.rendered.objects
    case.dry_run = workloads.apply(cp, objects, case.namespace, dry_run=True)
    case.applied = workloads.apply(cp, objects, case.namespace)
    if not case.applied.ok and not case.dry_run.ok:
        # Warnings (--warnings-as-errors) must not hide what the controllers would do.
        case.applied = workloads.apply(cp, objects, case.namespace, extra=("--warnings-as-errors=false",))
        case.applied.returncode = case.applied.returncode or 99  # still a failure of point 1


def _inspect(cp: harness.ControlPlane, case: Case) -> None:
    case.problems = [p for ns in case.namespaces for p in workloads.workload_problems(cp, ns)]
    case.scheduling_left = [f"{ns}/{p}" for ns in case.namespaces
                            for p in workloads.failed_scheduling_left(cp, ns)]
    case.warning_events = [e for ns in case.namespaces for e in workloads.warning_events(cp, ns)]
    # Without a PulsarCluster left in a kpt package (no CRD: the dry-run test reports it), so
    # that what the function generated is still checked for drift.
    generated = [o for o in case.rendered.objects if o["kind"] != "PulsarCluster"]
    case.diff = workloads.diff(cp, generated, case.namespace)


def _cleanup(cp: harness.ControlPlane, wave: list[Case]) -> None:
    namespaces = [ns for case in wave for ns in case.namespaces]
    if namespaces:
        cp.kubectl("delete", "namespace", *namespaces, "--wait=false", "--ignore-not-found")
    cluster_objects = {(o["kind"], o["metadata"]["name"]) for case in wave
                       for o in case.rendered.objects
                       if not workloads.is_namespaced(o) and o["kind"] != "Namespace"}
    cluster_objects |= {(p.kind, p.name) for case in wave for p in case.created
                        if p.namespace is None}
    by_kind = {}
    for kind, name in sorted(cluster_objects):
        by_kind.setdefault(kind, []).append(name)
    for kind, names in by_kind.items():
        cp.kubectl("delete", kind, *names, "--ignore-not-found", "--wait=false")


@pytest.fixture(scope="module")
def admitted(control_plane, node_pools, cert_manager_crds, prometheus_operator_crds, kustomize,
             kpt):
    """Run every case once (wave by wave); the tests below read the outcome."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for case, error in zip(CASES, pool.map(lambda c: _safely(_prepare, c, kustomize, kpt), CASES)):
            case.error = error
        ready = [c for c in CASES if not c.error]
        waves = _waves(ready)
        for number, wave in enumerate(waves, 1):
            t0 = time.monotonic()
            for case, error in zip(wave, pool.map(lambda c: _safely(_apply, control_plane, c), wave)):
                case.error = error
            t1 = time.monotonic()
            namespaces = [ns for c in wave for ns in c.namespaces]
            # (an OrderedReady StatefulSet of five brokers takes its time on a loaded machine;
            # inputs that stop making progress end the wait early)
            left = workloads.wait_settled(control_plane, namespaces, timeout=90)
            t2 = time.monotonic()
            for case, error in zip(wave, pool.map(lambda c: _safely(_inspect, control_plane, c), wave)):
                case.error = case.error or error
            t3 = time.monotonic()
            _cleanup(control_plane, wave)
            NOTES.append(f"admission wave {number} ({', '.join(c.id for c in wave)}): apply "
                         f"{t1 - t0:.1f} s, settle {t2 - t1:.1f} s, inspect {t3 - t2:.1f} s, "
                         f"delete {time.monotonic() - t3:.1f} s; not settled: {left or 'none'}")
    NOTES.append(f"admission: {len(CASES)} inputs in {len(waves)} waves, "
                 f"{time.monotonic() - started:.1f} s")
    for case in CASES:
        for item in case.prerequisites:
            NOTES.append(f"prerequisite of {case.id}: {item}")
        for event in case.warning_events:
            NOTES.append(f"warning event of {case.id}: {event}")
    yield {c.id: c for c in CASES}



def _safely(function, *args) -> str:
    try:
        function(*args)
        return ""
    except Exception as exc:  # reported by the test of that case, not by the whole module
        return f"{type(exc).__name__}: {exc}"


def _case(admitted, case) -> Case:
    case = admitted[case.id]
    assert not case.error, case.error
    return case


@pytest.mark.parametrize("case", _params("dry-run"))
def test_accepted_by_server_side_dry_run(admitted, case):
    case = _case(admitted, case)
    assert case.dry_run.ok, f"the API server refused or warned about {case.id}:\n{case.dry_run}"


@pytest.mark.parametrize("case", _params("apply"))
def test_applied_for_real(admitted, case):
    case = _case(admitted, case)
    assert case.applied.ok, f"applying {case.id} failed:\n{case.applied}"


@pytest.mark.parametrize("case", _params("runs"))
def test_every_pod_runs(admitted, case):
    case = _case(admitted, case)
    assert not case.problems and not case.scheduling_left, (
        f"{case.id} did not come up:\n" + "\n".join(case.problems + case.scheduling_left)
        + "\nwarning events:\n" + "\n".join(case.warning_events))


@pytest.mark.parametrize("case", _params("drift"))
def test_no_drift_after_apply(admitted, case):
    case = _case(admitted, case)
    assert case.diff.returncode == 0, f"kubectl diff --server-side of {case.id}:\n{case.diff}"


def test_every_input_is_a_case():
    """A new fixture or example joins these tests by itself; this fails if the collection
    above silently lost some."""
    assert {c.id for c in CASES} >= {f"fixture:{p.stem}" for p in FIXTURES.glob("*.yaml")}
    examples = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    # render-error-bad-spec is refused by the function itself (test below), never applied
    assert {c.id.split(":")[1] for c in CASES if c.id.startswith("example:")} == examples - {
        "render-error-bad-spec"}


def test_bad_spec_example_never_reaches_the_api_server(kpt, tmp_path):
    """The error example must fail in kpt with the field path, so nothing is applied."""
    import shutil
    import subprocess
    pkg = tmp_path / "pkg"
    shutil.copytree(EXAMPLES / "render-error-bad-spec", pkg)
    result = subprocess.run([kpt, "fn", "render", "--allow-exec", "-o", "stdout", str(pkg)],
                            capture_output=True, text=True, env=workloads.tool_env(),
                            timeout=120)
    assert result.returncode != 0
    assert "spec.broker.replicas" in result.stderr + result.stdout


def test_kaap_input_needs_baseline(control_plane):
    """Why KAAP input runs in a baseline namespace: its pod templates are KAAP's (no
    runAsNonRoot, seccomp profile or dropped capabilities), which `restricted` refuses. The
    API server's own words are the evidence."""
    namespace = "adm-kaap-restricted"
    control_plane.create_namespace(namespace, "restricted")
    try:
        rendered = workloads.render_file(FIXTURES / "kaap-basic.yaml", namespace=namespace)
        result = workloads.apply(control_plane, rendered.objects, dry_run=True)
        assert not result.ok
        assert 'would violate PodSecurity "restricted:latest"' in result.stderr, result
        NOTES.append("restricted refuses KAAP input: " + next(
            line for line in result.stderr.splitlines() if "would violate PodSecurity" in line))
    finally:
        workloads.teardown(control_plane, [namespace])
