"""The Flux pre-render path (examples/flux): CI renders, Flux only applies plain YAML.

The workflow's render and publish steps run as written (bash, the workflow's env, GitHub's
variables), with real standalone kustomize and the installed function, and a fake `flux` that
records what would be pushed. The rendered artifact must then build with kustomize with
plugins off, which is all Flux's kustomize-controller does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import BIN_DIR, ROOT
from k8s import assert_valid

pytestmark = pytest.mark.e2e

FLUX = ROOT / "examples" / "flux"
GITHUB = {"github.repository_owner": "krm-pulsar", "github.repository": "krm-pulsar/krm-pulsar"}
SHA = "0123456789abcdef0123456789abcdef01234567"


def workflow() -> dict:
    return yaml.safe_load((FLUX / "github-workflow.yaml").read_text())


def expressions(text: str) -> str:
    """GitHub's ${{ github.x }} expressions (only those; secrets are never needed here)."""
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: GITHUB[m.group(1)], text)


def step(step_id: str) -> dict:
    steps = workflow()["jobs"]["publish"]["steps"]
    return next(s for s in steps if s.get("id") == step_id)


def step_env(kustomize, tmp_path, extra_path=()) -> dict:
    env = {k: expressions(str(v)) for k, v in workflow()["env"].items()}
    env.update({
        "PATH": os.pathsep.join([*map(str, extra_path), str(BIN_DIR),
                                 os.path.dirname(kustomize), "/usr/bin", "/bin"]),
        "HOME": str(tmp_path),
        "GITHUB_SHA": SHA, "GITHUB_REF_NAME": "main", "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": GITHUB["github.repository"],
    })
    return env


def run_step(step_id, cwd, env):
    # GitHub runs `run:` with `bash -e {0}` on Linux runners
    return subprocess.run(["bash", "-e", "-c", step(step_id)["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture
def checkout(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "examples" / "kustomize", repo / "examples" / "kustomize")
    return repo


def objects(text: str) -> list:
    return [d for d in yaml.safe_load_all(text) if d]


def test_render_step_output_builds_with_plugins_off(kustomize, checkout, tmp_path):
    env = step_env(kustomize, tmp_path)
    out = run_step("render", checkout, env)
    assert out.returncode == 0, out.stderr
    rendered = checkout / "rendered"
    assert sorted(p.name for p in rendered.iterdir()) == ["kustomization.yaml", "pulsar.yaml"]
    docs = objects((rendered / "pulsar.yaml").read_text())
    assert not [d for d in docs if d["kind"] == "PulsarCluster"]
    assert_valid(docs)
    # what Flux's kustomize-controller does: plain build, plugins and exec off
    flux_build = subprocess.run([kustomize, "build", str(rendered)], capture_output=True,
                                text=True, env=env, timeout=120)
    assert flux_build.returncode == 0, flux_build.stderr
    assert sorted(map(repr, objects(flux_build.stdout))) == sorted(map(repr, docs))


def test_the_source_overlay_cannot_be_built_by_flux(kustomize, checkout, tmp_path):
    # why the workflow exists: with plugins off the generator is refused
    env = step_env(kustomize, tmp_path)
    out = subprocess.run([kustomize, "build", env["OVERLAY"]], cwd=checkout, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "external plugins disabled" in out.stderr


def test_render_step_fails_on_a_bad_spec(kustomize, checkout, tmp_path):
    config = checkout / "examples" / "kustomize" / "base" / "pulsar-cluster.yaml"
    config.write_text(config.read_text() + "  broker:\n    replicas: many\n")
    out = run_step("render", checkout, step_env(kustomize, tmp_path))
    assert out.returncode != 0
    assert "spec.broker.replicas" in out.stderr


FAKE_FLUX = """#!/bin/sh
# Records each call (one line, arguments separated by tabs) and what --path points to.
(IFS="$(printf '\\t')"; echo "$*") >> {log}
for arg in "$@"; do
  case "$arg" in --path=*) ls "${{arg#--path=}}" > {log}.path ;; esac
done
"""


def test_publish_step_pushes_what_the_flux_objects_consume(kustomize, checkout, tmp_path):
    fake = tmp_path / "fake-flux"
    fake.mkdir()
    log = tmp_path / "flux-calls"
    (fake / "flux").write_text(FAKE_FLUX.format(log=log))
    (fake / "flux").chmod(0o755)
    env = step_env(kustomize, tmp_path, extra_path=[fake])
    assert run_step("render", checkout, env).returncode == 0
    out = run_step("publish", checkout, env)
    assert out.returncode == 0, out.stderr
    calls = [line.split("\t") for line in log.read_text().splitlines()]
    artifact = env["ARTIFACT"]
    assert calls == [
        ["push", "artifact", f"{artifact}:{SHA[:12]}", "--path=rendered",
         "--source=https://github.com/krm-pulsar/krm-pulsar", f"--revision=main@sha1:{SHA}"],
        ["tag", "artifact", f"{artifact}:{SHA[:12]}", "--tag=production"],
    ]
    assert (tmp_path / "flux-calls.path").read_text().split() == [
        "kustomization.yaml", "pulsar.yaml"]

    source, kustomization = objects((FLUX / "clusters" / "production" / "pulsar.yaml")
                                    .read_text())
    assert source["kind"] == "OCIRepository"
    assert source["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert source["spec"]["url"] == artifact
    assert source["spec"]["ref"] == {"tag": "production"}
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert kustomization["spec"]["sourceRef"] == {"kind": "OCIRepository",
                                                  "name": source["metadata"]["name"]}
    assert kustomization["metadata"]["namespace"] == source["metadata"]["namespace"]
    assert kustomization["spec"]["path"] == "./" and kustomization["spec"]["prune"] is True


def test_render_step_refuses_to_publish_an_empty_render(kustomize, checkout, tmp_path):
    # A kustomize that skips the exec function (kubectl's does, silently) builds nothing but
    # succeeds; the step must stop rather than publish an artifact that prunes the cluster.
    fake = tmp_path / "silent-kustomize"
    fake.mkdir()
    (fake / "kustomize").write_text("#!/bin/sh\nexit 0\n")
    (fake / "kustomize").chmod(0o755)
    out = run_step("render", checkout, step_env(kustomize, tmp_path, extra_path=[fake]))
    assert out.returncode != 0
    assert not (checkout / "rendered" / "kustomization.yaml").exists()
