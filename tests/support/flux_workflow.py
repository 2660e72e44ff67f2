"""The Flux example's GitHub workflow (examples/flux/github-workflow.yaml), run as GitHub runs
its steps: `bash -e` over each `run:` script, the workflow's env with GitHub's expressions
filled in, and GitHub's own variables. Shared by tests/e2e/test_flux.py and tests/gitops."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import yaml

from conftest import BIN_DIR, ROOT

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


def step_env(kustomize, home, extra_path=(), **overrides) -> dict:
    env = {k: expressions(str(v)) for k, v in workflow()["env"].items()}
    env.update({
        "PATH": os.pathsep.join([*map(str, extra_path), str(BIN_DIR),
                                 os.path.dirname(kustomize), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "GITHUB_SHA": SHA, "GITHUB_REF_NAME": "main", "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": GITHUB["github.repository"],
    })
    env.update(overrides)
    return env


def run_step(step_id, cwd, env):
    # GitHub runs `run:` with `bash -e {0}` on Linux runners
    return subprocess.run(["bash", "-e", "-c", step(step_id)["run"]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)


def checkout(target):
    """What actions/checkout leaves: the repository's example sources."""
    shutil.copytree(ROOT / "examples" / "kustomize", target / "examples" / "kustomize")
    return target
