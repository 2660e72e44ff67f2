"""The Flux example's render step without Flux (the fast subset): the failures it must stop on.

Everything Flux itself does with the artifact (push, tag, pull, `flux build kustomization`,
the kustomize-controller's build) runs with Flux's own code in tests/gitops/test_gitops_flux.py.
"""

from __future__ import annotations

import pytest

from flux_workflow import checkout as make_checkout
from flux_workflow import run_step, step_env

pytestmark = pytest.mark.e2e


@pytest.fixture
def checkout(tmp_path):
    return make_checkout(tmp_path / "repo")


def test_render_step_fails_on_a_bad_spec(kustomize, checkout, tmp_path):
    config = checkout / "examples" / "kustomize" / "base" / "pulsar-cluster.yaml"
    config.write_text(config.read_text() + "  broker:\n    replicas: many\n")
    out = run_step("render", checkout, step_env(kustomize, tmp_path))
    assert out.returncode != 0
    assert "spec.broker.replicas" in out.stderr


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
