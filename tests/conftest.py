"""Shared test helpers: running the function, finding the real tools, schema validation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Built tools (scripts/ensure-*.sh): ./tools unless KRM_PULSAR_TOOLS moves them.
TOOLS = Path(os.environ.get("KRM_PULSAR_TOOLS") or ROOT / "tools")
FIXTURES = ROOT / "fixtures"
# The console script of the installed package (the same thing kustomize and kpt execute).
BIN_DIR = Path(sys.executable).parent
KRM_PULSAR = str(BIN_DIR / "krm-pulsar")

sys.path.insert(0, str(Path(__file__).resolve().parent))


# A kpt package whose pipeline runs krm-pulsar by bare name on its PulsarCluster file.
KPTFILE = """\
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: pulsar-pkg
  annotations:
    config.kubernetes.io/local-config: "true"
pipeline:
  mutators:
  - exec: krm-pulsar
    configPath: pulsar-cluster.yaml
"""


def tool_env() -> dict:
    """Environment in which `krm-pulsar` resolves by bare name, as users set it up."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN_DIR}{os.pathsep}{env.get('PATH', '')}"
    return env


def _missing_tool(name: str, why: str):
    # In CI a missing orchestrator is a failure: a skipped end-to-end test proves nothing.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{name} is required in CI: {why}")
    pytest.skip(f"{name} not available: {why}")


@pytest.fixture(scope="session")
def kustomize() -> str:
    path = os.environ.get("KUSTOMIZE") or shutil.which("kustomize") or str(
        TOOLS / "bin" / "kustomize")
    if not path or not os.access(path, os.X_OK):
        _missing_tool("kustomize", "run `make test` (it builds kustomize v5.8.1 into tools/bin)")
    version = subprocess.run([path, "version"], capture_output=True, text=True).stdout
    if "v5." not in version:
        _missing_tool("kustomize", f"{path} is not a standalone kustomize v5 ({version.strip()})")
    return path


@pytest.fixture(scope="session")
def kpt() -> str:
    path = shutil.which("kpt")
    if not path:
        _missing_tool("kpt", "kpt 1.0.0-beta.56 must be on PATH")
    return path


def run_cli(args: list[str], stdin: bytes | str = b"", cwd=None, env=None):
    """Run the real `krm-pulsar` process; returns CompletedProcess with bytes decoded."""
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    return subprocess.run([KRM_PULSAR, *args], input=stdin, capture_output=True, cwd=cwd,
                          env=env or tool_env(), timeout=120)


_JOB_HASH = re.compile(r"-[0-9a-f]{8}\Z")


def object_name(obj: dict) -> str:
    """An object's name, without the content hash that names Jobs (``<name>-<8 hex>``), so
    tests can refer to `pulsar-zookeeper-metadata` whatever the Job's spec hashes to."""
    name = obj["metadata"]["name"]
    if obj.get("kind") == "Job":
        assert _JOB_HASH.search(name), f"Job {name} is not named after its content"
        return _JOB_HASH.sub("", name)
    return name


def object_key(obj: dict) -> tuple:
    return obj["kind"], object_name(obj)


def render_without_info(config: dict):
    """``render.render`` without its ``info`` findings (the prerequisites every cluster
    reports, docs/runtime.md), for tests about errors and warnings."""
    from krm_pulsar import render

    objects, findings = render.render(config)
    return objects, [f for f in findings if f.severity != "info"]
