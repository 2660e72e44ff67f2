"""Strict validation of custom resources against the CRDs of the project that owns them
(cert-manager, the Prometheus operator): tests/support/cert_manager.py and
prometheus_operator.py name the CRD files, this module reads and applies them.

The CRDs come from the releases' Go modules (scripts/ensure-*-crds.sh, run by `make test`,
which passes their folder in an environment variable). Validation is strict like
tests/support/k8s.py: a field the CRD does not declare fails, unless the CRD preserves unknown
fields there (the API server would prune it silently, which hides typos).
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
METADATA_FIELDS = {"name", "namespace", "labels", "annotations"}


def strict(schema):
    """Close every object schema that declares properties (structural CRD schemas allow no
    other fields; the API server prunes them silently, which hides typos)."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if (schema.get("type") == "object" and "properties" in schema
                and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


class Crds:
    """The CRDs of one project at one version: ``files`` maps kind to CRD file name."""

    def __init__(self, project: str, version: str, group: str, files: dict[str, str],
                 environment: str, script: str) -> None:
        self.project = project
        self.version = version
        self.group = group
        self.files = files
        self.environment = environment
        self.script = script

    def directory(self) -> Path:
        path = Path(os.environ.get(self.environment) or str(
            TOOLS / "crds" / f"{self.project}-{self.version}"))
        if not all((path / f).is_file() for f in self.files.values()):
            why = (f"{self.project} {self.version} CRDs not in {path}; run `make test` "
                   f"(scripts/{self.script} downloads them)")
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(why)  # in CI a missing schema is a failure, not a skip
            pytest.skip(why)
        return path

    def schema_errors(self, obj: dict) -> list[str]:
        group, _, version = obj.get("apiVersion", "").rpartition("/")
        kind = obj.get("kind")
        where = f"{kind}/{(obj.get('metadata') or {}).get('name')}"
        if group != self.group or kind not in self.files:
            return [f"{where}: not a {self.project} object this test knows "
                    f"({obj.get('apiVersion')})"]
        errors = [f"{where}: unexpected metadata field {key}"
                  for key in sorted(set(obj.get("metadata") or {}) - METADATA_FIELDS)]
        schema = _schema(str(self.directory() / self.files[kind]), version)
        for error in sorted(jsonschema.Draft7Validator(schema).iter_errors(obj),
                            key=lambda e: list(e.path)):
            errors.append(f"{where}: {error.message} at {'.'.join(str(p) for p in error.path)}")
        return errors

    def assert_valid(self, objects: list) -> None:
        errors = []
        for obj in objects:
            errors.extend(self.schema_errors(obj))
        assert not errors, "\n".join(errors)


@functools.lru_cache(maxsize=None)
def _schema(path: str, version: str) -> dict:
    crd = yaml.safe_load(Path(path).read_text())
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            schema = copy.deepcopy(entry["schema"]["openAPIV3Schema"])
            # metadata is validated by the API server itself; our keys are checked apart
            schema["properties"]["metadata"] = {"type": "object"}
            return strict(schema)
    raise AssertionError(f"{path} has no version {version}")
