"""Validation of PodMonitors against the Prometheus operator's own CRD schema.

The CRD comes from the prometheus-operator release's Go module
(scripts/ensure-prometheus-operator-crds.sh, run by `make test`, path in
PROMETHEUS_OPERATOR_CRDS). Strict like tests/support/cert_manager.py: a field the CRD does not
declare fails, because the API server prunes it silently (or refuses it with kubectl's strict
field validation).
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path

import jsonschema
import pytest
import yaml

from cert_manager import METADATA_FIELDS, TOOLS, _strict

VERSION = "v0.89.0"
CRD_FILES = {"PodMonitor": "monitoring.coreos.com_podmonitors.yaml"}


def crd_dir() -> Path:
    path = Path(os.environ.get("PROMETHEUS_OPERATOR_CRDS") or str(
        TOOLS / "crds" / f"prometheus-operator-{VERSION}"))
    if not all((path / f).is_file() for f in CRD_FILES.values()):
        why = (f"prometheus-operator {VERSION} CRDs not in {path}; run `make test` "
               f"(scripts/ensure-prometheus-operator-crds.sh downloads them)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why)  # in CI a missing schema is a failure, not a skip
        pytest.skip(why)
    return path


@functools.lru_cache(maxsize=None)
def _schema(directory: str, kind: str, version: str) -> dict:
    crd = yaml.safe_load((Path(directory) / CRD_FILES[kind]).read_text())
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            schema = copy.deepcopy(entry["schema"]["openAPIV3Schema"])
            schema["properties"]["metadata"] = {"type": "object"}
            return _strict(schema)
    raise AssertionError(f"prometheus-operator {VERSION} has no {kind} {version}")


def schema_errors(obj: dict) -> list[str]:
    group, _, version = obj.get("apiVersion", "").rpartition("/")
    kind = obj.get("kind")
    where = f"{kind}/{(obj.get('metadata') or {}).get('name')}"
    if group != "monitoring.coreos.com" or kind not in CRD_FILES:
        return [f"{where}: not a Prometheus operator object this test knows "
                f"({obj.get('apiVersion')})"]
    errors = [f"{where}: unexpected metadata field {key}"
              for key in sorted(set(obj.get("metadata") or {}) - METADATA_FIELDS)]
    validator = jsonschema.Draft7Validator(_schema(str(crd_dir()), kind, version))
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(e.path)):
        errors.append(f"{where}: {error.message} at {'.'.join(str(p) for p in error.path)}")
    return errors


def assert_valid(objects: list) -> None:
    errors = []
    for obj in objects:
        errors.extend(schema_errors(obj))
    assert not errors, "\n".join(errors)
