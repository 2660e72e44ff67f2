"""The Flux path (examples/flux) with Flux v2.9.5's own code (tests/gitops).

The workflow's render and publish steps run as written, with the real `flux` CLI pushing to an
OCI registry on 127.0.0.1; Flux then pulls the artifact, `flux build kustomization --dry-run`
builds it, and kustomize-controller v1.9.5's build (its library at its version) builds it as the
controller would before applying. Both must give exactly the objects the workflow rendered.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

import gitops_harness as gh
from flux_workflow import FLUX, SHA, expressions, run_step, step_env, workflow
from flux_workflow import checkout as make_checkout
from k8s import assert_valid

pytestmark = pytest.mark.gitops

FLUX_OBJECTS = FLUX / "clusters" / "production" / "pulsar.yaml"
# what `flux build kustomization` adds to every object (the controller's ownership labels)
FLUX_LABELS = {"kustomize.toolkit.fluxcd.io/name": "pulsar",
               "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}


@pytest.fixture(scope="module")
def flux_dir():
    return gh.ensure_tool("Flux v2.9.5", "KRM_PULSAR_FLUX", "ensure-flux.sh")


@pytest.fixture(scope="module")
def registry(flux_dir, tmp_path_factory):
    server = gh.Registry(tmp_path_factory.mktemp("registry"), flux_dir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def published(flux_dir, registry, kustomize, tmp_path_factory):
    """The workflow's render and publish steps, as written, against the local registry."""
    work = tmp_path_factory.mktemp("workflow")
    repo = make_checkout(work / "repo")
    artifact = f"oci://{registry.address}/pulsar-manifests"
    env = step_env(kustomize, work, extra_path=[flux_dir], ARTIFACT=artifact)
    render = run_step("render", repo, env)
    assert render.returncode == 0, render.stderr
    publish = run_step("publish", repo, env)
    assert publish.returncode == 0, publish.stderr
    return {"repo": repo, "env": env, "artifact": artifact, "work": work,
            "publish": publish}


def flux(flux_dir, *args, cwd, env) -> subprocess.CompletedProcess:
    return subprocess.run([str(flux_dir / "flux"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def canonical(objects) -> list[str]:
    return sorted(json.dumps(obj, sort_keys=True) for obj in objects)


def rendered_objects(published) -> list[dict]:
    return gh.load_objects((published["repo"] / "rendered" / "pulsar.yaml").read_text())


@pytest.fixture(scope="module")
def pulled(flux_dir, published):
    """`flux pull artifact` of the tag the OCIRepository follows."""
    target = published["work"] / "pulled"
    target.mkdir()
    tag = next(yaml.safe_load_all(FLUX_OBJECTS.read_text()))["spec"]["ref"]["tag"]
    out = flux(flux_dir, "pull", "artifact", f"{published['artifact']}:{tag}",
               f"--output={target}", cwd=published["work"], env=published["env"])
    assert out.returncode == 0, out.stderr
    return target


def test_the_render_step_renders_the_overlay(published, kustomize):
    rendered = published["repo"] / "rendered"
    assert sorted(p.name for p in rendered.iterdir()) == ["kustomization.yaml", "pulsar.yaml"]
    objects = rendered_objects(published)
    assert not [o for o in objects if o["kind"] == "PulsarCluster"]
    assert_valid(objects)
    overlay = published["repo"] / workflow()["env"]["OVERLAY"]
    reference = subprocess.run(
        [kustomize, "build", "--enable-alpha-plugins", "--enable-exec", str(overlay)],
        capture_output=True, text=True, env=published["env"], timeout=120)
    assert canonical(objects) == canonical(gh.load_objects(reference.stdout))


def test_the_publish_step_pushes_and_tags_the_artifact(flux_dir, published):
    out = flux(flux_dir, "list", "artifacts", published["artifact"], cwd=published["work"],
               env=published["env"])
    assert out.returncode == 0, out.stderr
    # a table: ARTIFACT, DIGEST, SOURCE, REVISION, tab-separated
    header, *rows = [[cell.strip() for cell in line.split("\t")][:4]
                     for line in out.stdout.splitlines() if line.strip()]
    assert header == ["ARTIFACT", "DIGEST", "SOURCE", "REVISION"], header
    artifacts = {row[0].rsplit(":", 1)[-1]: dict(zip(("url", "digest", "source", "revision"),
                                                      row)) for row in rows}
    assert set(artifacts) == {SHA[:12], "production"}
    pushed, promoted = artifacts[SHA[:12]], artifacts["production"]
    assert pushed["digest"] == promoted["digest"]
    assert pushed["source"] == "https://github.com/krm-pulsar/krm-pulsar"
    assert pushed["revision"] == f"main@sha1:{SHA}"


def test_flux_pulls_exactly_what_was_rendered(published, pulled):
    rendered = published["repo"] / "rendered"
    assert {p.name: p.read_bytes() for p in pulled.iterdir()} == {
        p.name: p.read_bytes() for p in rendered.iterdir()}


def test_flux_build_kustomization_dry_run_returns_our_objects(flux_dir, published, pulled):
    out = flux(flux_dir, "build", "kustomization", "pulsar", f"--path={pulled}",
               f"--kustomization-file={FLUX_OBJECTS}", "--dry-run", cwd=published["work"],
               env=published["env"])
    assert out.returncode == 0, out.stderr
    objects = gh.load_objects(out.stdout)
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert {k: labels.pop(k, None) for k in FLUX_LABELS} == FLUX_LABELS, obj["kind"]
        if not labels:
            del obj["metadata"]["labels"]
    assert canonical(objects) == canonical(rendered_objects(published))


def controller_build(flux_dir, artifact_dir, kustomization_file):
    return subprocess.run([str(flux_dir / "flux-controller-build"), str(artifact_dir),
                           str(kustomization_file)], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin"})


def test_the_controller_build_of_the_artifact_returns_exactly_our_objects(flux_dir, published,
                                                                          pulled):
    out = controller_build(flux_dir, pulled, FLUX_OBJECTS)
    assert out.returncode == 0, out.stderr
    objects = gh.load_objects(out.stdout)
    assert canonical(objects) == canonical(rendered_objects(published))


def test_the_controller_refuses_the_source_overlay(flux_dir, published, tmp_path):
    # Why the workflow exists: a Kustomization pointed at the overlay in git is refused.
    kustomization = next(d for d in yaml.safe_load_all(FLUX_OBJECTS.read_text())
                         if d["kind"] == "Kustomization")
    kustomization["spec"]["path"] = "./" + workflow()["env"]["OVERLAY"]
    kustomization["spec"]["sourceRef"] = {"kind": "GitRepository", "name": "krm-pulsar"}
    source_file = tmp_path / "kustomization.yaml"
    source_file.write_text(yaml.safe_dump(kustomization))
    out = controller_build(flux_dir, published["repo"], source_file)
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith("kustomize build failed: accumulating resources: "), out.stderr
    assert out.stderr.rstrip().endswith(
        "external plugins disabled; unable to load external plugin 'PulsarCluster'"), out.stderr


def test_the_flux_objects_consume_what_the_workflow_publishes():
    source, kustomization = yaml.safe_load_all(FLUX_OBJECTS.read_text())
    assert (source["apiVersion"], source["kind"]) == ("source.toolkit.fluxcd.io/v1",
                                                      "OCIRepository")
    # the workflow's ARTIFACT as GitHub fills it in, and the tag its publish step moves
    assert source["spec"]["url"] == expressions(workflow()["env"]["ARTIFACT"])
    publish = [s for s in workflow()["jobs"]["publish"]["steps"] if s.get("id") == "publish"][0]
    assert f"--tag={source['spec']['ref']['tag']}" in publish["run"]
    assert kustomization["spec"]["sourceRef"] == {"kind": "OCIRepository",
                                                  "name": source["metadata"]["name"]}
    assert kustomization["metadata"]["namespace"] == source["metadata"]["namespace"]
    assert kustomization["spec"]["prune"] is True
