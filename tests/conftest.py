"""pytest configuration: the shared helpers (tests/support) and the fixtures that find the
real tools. Test folders: unit/, golden/, properties/, e2e/ and the real-system harnesses
(cluster/, pulsar/, gitops/); docs/architecture.md#tests says what goes where."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# `import golden` (tests/golden), `from k8s import ...` (tests/support/k8s.py), `import support`
for folder in (TESTS / "support", TESTS):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from support import (  # noqa: E402  (re-exported: every test folder imports them from here)
    BIN_DIR,
    FIXTURES,
    KPTFILE,
    KRM_PULSAR,
    ROOT,
    TOOLS,
    _missing_tool,
    object_key,
    object_name,
    render_without_info,
    run_cli,
    tool_env,
)

__all__ = ["BIN_DIR", "FIXTURES", "KPTFILE", "KRM_PULSAR", "ROOT", "TOOLS", "_missing_tool",
           "kpt", "kustomize", "object_key", "object_name", "render_without_info", "run_cli",
           "tool_env"]


@pytest.fixture(scope="session")
def kustomize() -> str:
    import os
    import shutil

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
    import shutil

    path = shutil.which("kpt")
    if not path:
        _missing_tool("kpt", "kpt 1.0.0-beta.56 must be on PATH")
    return path
