"""Validation of cert-manager objects against cert-manager's own CRD schemas.

The CRDs come from the cert-manager release's Go module (scripts/ensure-cert-manager-crds.sh,
run by `make test`, path in CERT_MANAGER_CRDS). Validation is strict like tests/support/k8s.py: a field
the CRD does not declare fails, unless the CRD preserves unknown fields there.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("KRM_PULSAR_TOOLS") or ROOT / "tools")
VERSION = "v1.21.2"
CRD_FILES = {"Certificate": "cert-manager.io_certificates.yaml",
             "Issuer": "cert-manager.io_issuers.yaml"}
METADATA_FIELDS = {"name", "namespace", "labels", "annotations"}


def crd_dir() -> Path:
    path = os.environ.get("CERT_MANAGER_CRDS") or str(
        TOOLS / "crds" / f"cert-manager-{VERSION}")
    path = Path(path)
    if not all((path / f).is_file() for f in CRD_FILES.values()):
        why = (f"cert-manager {VERSION} CRDs not in {path}; run `make test` "
               f"(scripts/ensure-cert-manager-crds.sh downloads them)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(why)  # in CI a missing schema is a failure, not a skip
        pytest.skip(why)
    return path


def _strict(schema):
    """Close every object schema that declares properties (structural CRD schemas allow no
    other fields; the API server prunes them silently, which hides typos)."""
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if (schema.get("type") == "object" and "properties" in schema
                and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@functools.lru_cache(maxsize=None)
def _schema(directory: str, kind: str, version: str) -> dict:
    crd = yaml.safe_load((Path(directory) / CRD_FILES[kind]).read_text())
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            schema = copy.deepcopy(entry["schema"]["openAPIV3Schema"])
            # metadata is validated by the API server itself; check our keys below
            schema["properties"].pop("metadata", None)
            schema["properties"]["metadata"] = {"type": "object"}
            return _strict(schema)
    raise AssertionError(f"cert-manager {VERSION} has no {kind} {version}")


def schema_errors(obj: dict) -> list[str]:
    group, _, version = obj.get("apiVersion", "").rpartition("/")
    kind = obj.get("kind")
    where = f"{kind}/{(obj.get('metadata') or {}).get('name')}"
    if group != "cert-manager.io" or kind not in CRD_FILES:
        return [f"{where}: not a cert-manager object this test knows ({obj.get('apiVersion')})"]
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
