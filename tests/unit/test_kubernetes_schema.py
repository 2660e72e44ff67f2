"""krm_pulsar/kubernetes/schema.jsonl, the Kubernetes API types the validator checks against
(docs/kubernetes-schema.md): the committed file is what the generator writes from the Go
modules, it agrees with the schemas the tests validate output with, and it accepts everything
krm-pulsar itself renders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from conftest import ROOT, _missing_tool
from k8s import VERSIONS

from krm_pulsar import model
from krm_pulsar.kubernetes import checks
from krm_pulsar.kubernetes.validate import DATA, Schema, validate

GENERATOR = ROOT / "scripts" / "generate-kubernetes-schema.py"


def definitions() -> dict[str, dict]:
    lines = Path(DATA).read_text(encoding="utf-8").splitlines()[1:]
    return {json.loads(line)["name"]: json.loads(line) for line in lines}


def test_the_committed_schema_is_what_the_generator_writes(tmp_path):
    if shutil.which("go") is None:
        _missing_tool("go", "the generator reads k8s.io/kubernetes and k8s.io/api from the Go "
                            "module proxy")
    output = tmp_path / "schema.jsonl"
    subprocess.run([sys.executable, str(GENERATOR), str(output)], check=True, timeout=600,
                   env={**os.environ, "GOFLAGS": "-mod=mod"})
    assert output.read_text(encoding="utf-8") == Path(DATA).read_text(encoding="utf-8"), (
        "krm_pulsar/kubernetes/schema.jsonl is not what scripts/generate-kubernetes-schema.py "
        "writes: run it and read the diff")


def validated_schemas(version: str) -> dict[str, dict]:
    """kubernetes-validate's strict definitions of one minor (what tests/support/k8s.py uses)."""
    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    text = (base / f"v{version}-local-strict" / "_definitions.json").read_text()
    return json.loads(text)["$defs"]


def their_name(name: str, theirs: dict) -> str:
    for prefix in ("io.k8s.api.", "io.k8s.apimachinery.pkg.apis."):
        if prefix + name in theirs:
            return prefix + name
    raise AssertionError(f"{name} is not a definition of kubernetes-validate")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_field_we_accept_exists_in_each_validated_minor(version):
    theirs = validated_schemas(version)
    problems = []
    for name, definition in definitions().items():
        other = theirs[their_name(name, theirs)]
        extra = set(definition["properties"]) - set(other.get("properties", {}))
        if extra:
            problems.append(f"{name}: {sorted(extra)} not in Kubernetes {version}")
        required = set(other.get("required", [])) - set(definition.get("required", []))
        if required:
            problems.append(f"{name}: {sorted(required)} required in Kubernetes {version}")
    assert not problems, "\n".join(problems)


def test_nothing_of_the_oldest_minor_is_left_out_but_what_the_newest_removed():
    oldest, newest = (validated_schemas(version) for version in VERSIONS)
    missing = []
    for name, definition in definitions().items():
        full = their_name(name, oldest)
        for prop in set(oldest[full].get("properties", {})) - set(definition["properties"]):
            if prop in newest.get(full, {}).get("properties", {}):
                missing.append(f"{name}.{prop}")
    assert not missing, missing


def test_enums_allow_the_empty_string_only_where_it_means_unset():
    data = definitions()
    # plain string fields: "" is "unset" (a toleration's effect matches every effect)
    assert data["core.v1.Toleration"]["enum"] == {
        "effect": ["", "NoExecute", "NoSchedule", "PreferNoSchedule"],
        "operator": ["", "Equal", "Exists"]}
    # pointers, list items and required fields: "" is a value the API server refuses
    assert data["core.v1.VolumeMount"]["enum"]["mountPropagation"] == [
        "Bidirectional", "HostToContainer", "None"]
    assert data["core.v1.PersistentVolumeClaimSpec"]["enum"]["accessModes"] == [
        "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
    assert data["core.v1.NodeSelectorRequirement"]["enum"]["operator"] == [
        "DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"]
    assert data["core.v1.SeccompProfile"]["required"] == ["type"]
    assert "" not in data["core.v1.SeccompProfile"]["enum"]["type"]


def test_every_model_type_is_in_the_schema():
    schema = Schema()
    types = {expression for expression, _, _ in checks._written(model.SPEC, full_spec(), "spec")}
    assert types, "the walk found no Kubernetes field"
    for expression in types:
        assert expression.removeprefix("[]") in schema, expression


def full_spec() -> dict:
    """A spec with a value in every field of the model that has a Kubernetes type."""
    def fill(field, path=()):
        from krm_pulsar.schema import Map, Obj

        if field.kubernetes:
            return [{}] if getattr(field, "shape", None) == "list" else {"x": 1}
        if isinstance(field, Obj):
            return {key: value for key, child in field.fields.items()
                    if (value := fill(child, (*path, key))) is not None}
        if isinstance(field, Map) and isinstance(field.values, Obj):
            return {"a": fill(field.values, path)}
        return None
    return fill(model.SPEC)


def test_every_rendered_object_passes_the_validator():
    """The patched-object check validates our own objects whole: none of them may fail."""
    schema = Schema()
    checked = 0
    for golden in sorted((ROOT / "tests" / "golden").glob("*.yaml")):
        for obj in yaml.safe_load_all(golden.read_text()):
            name = schema.object_type(obj or {})
            if name is None:
                continue
            findings: list = []
            validate(schema, name, obj, "", findings)
            assert not findings, f"{golden.name} {obj['kind']} {obj['metadata']['name']}: " \
                                 f"{findings}"
            checked += 1
    assert checked > 300


def test_only_the_definitions_in_use_are_decoded(monkeypatch):
    schema = Schema()
    findings: list = []
    validate(schema, "[]core.v1.Toleration", [{"key": "a", "operator": "Exists"}], "t", findings)
    assert not findings
    assert list(schema._decoded) == ["core.v1.Toleration"]
    # a spec without Kubernetes structures never opens the data
    from krm_pulsar.kubernetes import validate as module

    def no_schema(*args, **kwargs):
        raise AssertionError("schema.jsonl opened")

    monkeypatch.setattr(module, "Schema", no_schema)
    assert checks.user_structures({"broker": {"replicas": 1}}, model.API_VERSION) == []
    empty = {"broker": {"packageManagement": {"fileSystemStorage": {"storageClass": {}}}}}
    assert checks.user_structures(empty, model.API_VERSION) == []  # {}: "render none"
