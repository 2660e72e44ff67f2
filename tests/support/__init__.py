"""The tests' shared helpers: paths, running the real `krm-pulsar` process, finding the real
tools, naming generated objects. Beside it: k8s.py (Kubernetes schema validation), pss.py (the
restricted Pod Security Standard), crds.py (strict validation against a project's CRDs) with
cert_manager.py (cert-manager's) and prometheus_operator.py (the PodMonitor's), the
reachability test of the NetworkPolicies (netpol_eval.py: their semantics; netpol_reader.py: what
the rendered configuration connects; reachability.py: the two compared); the golden-file
check is tests/golden/__init__.py. tests/conftest.py puts this folder on sys.path and
re-exports these names, so `from conftest import FIXTURES` and `from k8s import assert_valid`
work from every test folder and harness."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Built tools (scripts/ensure-*.sh): ./tools unless KRM_PULSAR_TOOLS moves them.
TOOLS = Path(os.environ.get("KRM_PULSAR_TOOLS") or ROOT / "tools")
FIXTURES = ROOT / "fixtures"
# The console script of the installed package (the same thing kustomize and kpt execute).
BIN_DIR = Path(sys.executable).parent
KRM_PULSAR = str(BIN_DIR / "krm-pulsar")

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
