"""The schema harness's tools: the API server's CRD code (apiserver-check) and kubeconform,
built by scripts/ensure-apiserver-check.sh and scripts/ensure-kubeconform.sh."""

from __future__ import annotations

import os

import pytest

from conftest import TOOLS, _missing_tool


def _tool(variable: str, pattern: str, script: str) -> str:
    path = os.environ.get(variable)
    if not path:
        found = sorted(TOOLS.glob(pattern))
        path = str(found[-1]) if found else ""
    if not path or not os.access(path, os.X_OK):
        _missing_tool(pattern.split("/")[-1], f"run `make test` ({script} builds it)")
    return path


@pytest.fixture(scope="session")
def apiserver_check() -> str:
    return _tool("KRM_PULSAR_APISERVER_CHECK", "apiserver-check-*/apiserver-check",
                 "scripts/ensure-apiserver-check.sh")


@pytest.fixture(scope="session")
def kubeconform() -> str:
    return _tool("KRM_PULSAR_KUBECONFORM", "kubeconform-*/kubeconform",
                 "scripts/ensure-kubeconform.sh")
