#!/usr/bin/env python3
"""Generate krm_pulsar/kubernetes/schema.json: the Kubernetes API types a PulsarCluster may
carry, reduced to what the validator needs (docs/kubernetes-schema.md).

Sources, both Go modules from the Go module proxy (`go mod download`, checked against the Go
checksum database):

* k8s.io/kubernetes@KUBERNETES: `api/openapi-spec/v3/*.json`, the OpenAPI v3 documents the
  API server publishes (types, properties, required fields), and
  `pkg/generated/openapi/zz_generated.openapi.go`, the generator output they are made from,
  which still carries the enum values that publishing drops;
* k8s.io/api@API: the Go types, for which enum fields are pointers (an empty string there is
  a value the API server refuses; in a plain string field it means "unset").

Only the definitions reachable from ROOTS are kept, without descriptions. The output is
deterministic: `tests/unit/test_kubernetes_schema.py` regenerates it and compares.

Usage: scripts/generate-kubernetes-schema.py [OUTPUT]   (default: the package data file)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

# The Kubernetes release whose API we validate against: the oldest minor the output is
# validated for (tests/support/k8s.py OLDEST_KUBERNETES), its last patch release...
KUBERNETES = "v1.30.14"
API = "v0.30.14"  # k8s.io/api of the same release
# ...less what the newest minor we support (tests/support/k8s.py NEWEST_KUBERNETES) no longer
# has: a field must apply on every minor from the oldest to the newest.
NEWEST = "v1.37.0"

# OpenAPI v3 documents (api/openapi-spec/v3/<name>_openapi.json) of the groups we use.
DOCUMENTS = (
    "api__v1",
    "apis__apps__v1",
    "apis__autoscaling__v2",
    "apis__batch__v1",
    "apis__networking.k8s.io__v1",
    "apis__policy__v1",
    "apis__rbac.authorization.k8s.io__v1",
    "apis__storage.k8s.io__v1",
)
# Go packages of k8s.io/api whose types.go say which fields are pointers.
GO_PACKAGES = ("core/v1", "apps/v1", "autoscaling/v2", "batch/v1", "networking/v1", "policy/v1",
               "rbac/v1", "storage/v1")

# The types a user writes into a PulsarCluster (the model's Raw fields, krm_pulsar/model.py)...
USER_TYPES = (
    "core.v1.Container",
    "core.v1.EnvVar",
    "core.v1.LocalObjectReference",
    "core.v1.NodeAffinity",
    "core.v1.PersistentVolume",
    "core.v1.PersistentVolumeClaim",
    "core.v1.PodDNSConfig",
    "core.v1.PodSecurityContext",
    "core.v1.ResourceRequirements",
    "core.v1.ServicePort",
    "core.v1.Toleration",
    "core.v1.Volume",
    "core.v1.VolumeMount",
    "apps.v1.DeploymentStrategy",
    "apps.v1.StatefulSetUpdateStrategy",
    "networking.v1.NetworkPolicyPeer",
    "storage.v1.StorageClass",
)
# ...and the objects krm-pulsar renders, which spec.patches may change (checked after patching).
OBJECT_TYPES = (
    "core.v1.ConfigMap",
    "core.v1.PersistentVolume",
    "core.v1.PersistentVolumeClaim",
    "core.v1.Secret",
    "core.v1.Service",
    "core.v1.ServiceAccount",
    "apps.v1.Deployment",
    "apps.v1.StatefulSet",
    "autoscaling.v2.HorizontalPodAutoscaler",
    "batch.v1.Job",
    "networking.v1.NetworkPolicy",
    "policy.v1.PodDisruptionBudget",
    "rbac.v1.ClusterRole",
    "rbac.v1.ClusterRoleBinding",
    "rbac.v1.Role",
    "rbac.v1.RoleBinding",
    "storage.v1.StorageClass",
)

# Definitions that are values, not objects: their type expression instead of a definition.
SCALARS = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "int-or-string",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": "date-time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "date-time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": "object",
    "io.k8s.apimachinery.pkg.runtime.RawExtension": "object",
}
PREFIXES = (("io.k8s.api.", ""), ("io.k8s.apimachinery.pkg.apis.", ""))
REF = "#/components/schemas/"


def short(name: str) -> str:
    for prefix, replacement in PREFIXES:
        if name.startswith(prefix):
            return replacement + name[len(prefix):]
    raise SystemExit(f"unexpected definition {name}")


def module_zip(module: str) -> str:
    """The module's zip in the Go module cache (downloaded and verified by `go mod download`)."""
    with tempfile.TemporaryDirectory() as work:  # outside any module: no go.mod to consult
        result = subprocess.run(["go", "mod", "download", "-json", module], cwd=work,
                                check=True, capture_output=True, text=True,
                                env={**os.environ, "GOFLAGS": "-mod=mod"})
    return json.loads(result.stdout)["Zip"]


def type_expression(schema: dict, refs: set[str]) -> str:
    """A property's type as the validator reads it: string, boolean, integer:int32,
    integer:int64, number, quantity, int-or-string, date-time, byte, object (free-form),
    []T (a list), {}T (a map with string keys) or a definition's name."""
    if "allOf" in schema:
        (schema,) = schema["allOf"]
    if "$ref" in schema:
        name = schema["$ref"].removeprefix(REF)
        if name in SCALARS:
            return SCALARS[name]
        refs.add(name)
        return short(name)
    kind = schema.get("type")
    if kind == "array":
        return "[]" + type_expression(schema["items"], refs)
    if kind == "object":
        if "additionalProperties" in schema:
            return "{}" + type_expression(schema["additionalProperties"], refs)
        return "object"
    if kind == "string":
        return {"byte": "byte", "date-time": "date-time"}.get(schema.get("format"), "string")
    if kind == "integer":
        return f"integer:{schema.get('format', 'int64')}"
    if kind in ("boolean", "number"):
        return kind
    raise SystemExit(f"unexpected schema {schema}")


def go_enums(source: str) -> dict[tuple[str, str], list[str]]:
    """(definition, property) -> enum values, from zz_generated.openapi.go of k8s.io/api types
    (properties of a definition are at five tabs in each schema_<package>_<Type> function)."""
    enums: dict[tuple[str, str], list[str]] = {}
    definition = prop = None
    for line in source.splitlines():
        match = re.match(r"func schema_k8sio_api_(\w+?)_(v\w+?)_(\w+)\(", line)
        if match:
            definition, prop = f"{match[1]}.{match[2]}.{match[3]}", None
            continue
        if line.startswith("func "):
            definition = None
        match = re.match(r'\t{5}"(\w+)": \{$', line)
        if match:
            prop = match[1]
        match = re.search(r"Enum:\s+\[\]interface\{\}\{(.*)\},$", line)
        if match and definition and prop:
            enums[(definition, prop)] = json.loads(f"[{match[1]}]")
    return enums


def go_pointers(sources: dict[str, str]) -> dict[tuple[str, str], bool]:
    """(definition, json name) -> whether the Go field is a pointer."""
    pointers = {}
    embedded: list[tuple[str, str]] = []  # (struct, the struct it embeds with json:",inline")
    for package, source in sources.items():
        group = package.replace("/", ".")
        struct = None
        for line in source.splitlines():
            match = re.match(r"type (\w+) struct \{", line)
            if match:
                struct = f"{group}.{match[1]}"
                continue
            if line.startswith("}"):
                struct = None
            if not struct:
                continue
            match = re.match(r'\t\w+\s+(\*?)\S+\s+`json:"(\w+)', line)
            if match:
                pointers[(struct, match[2])] = bool(match[1])
            match = re.match(r'\t(\w+)\s+`json:",inline"', line)
            if match:
                embedded.append((struct, f"{group}.{match[1]}"))
    for struct, inner in embedded:
        for (owner, field), pointer in list(pointers.items()):
            if owner == inner:
                pointers.setdefault((struct, field), pointer)
    return pointers


def openapi(module: zipfile.ZipFile, version: str) -> dict[str, dict]:
    schemas: dict[str, dict] = {}
    for document in DOCUMENTS:
        text = module.read(f"k8s.io/kubernetes@{version}/api/openapi-spec/v3/{document}"
                           f"_openapi.json")
        schemas.update(json.loads(text)["components"]["schemas"])
    return schemas


def kind_of(schema: dict) -> str:
    (gvk,) = schema["x-kubernetes-group-version-kind"]
    api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
    return f"{api_version} {gvk['kind']}"


def generate() -> dict:
    kubernetes = zipfile.ZipFile(module_zip(f"k8s.io/kubernetes@{KUBERNETES}"))
    api = zipfile.ZipFile(module_zip(f"k8s.io/api@{API}"))
    root = f"k8s.io/kubernetes@{KUBERNETES}/"
    schemas = openapi(kubernetes, KUBERNETES)
    newest = openapi(zipfile.ZipFile(module_zip(f"k8s.io/kubernetes@{NEWEST}")), NEWEST)
    enums = go_enums(kubernetes.read(
        f"{root}pkg/generated/openapi/zz_generated.openapi.go").decode())
    pointers = go_pointers({package: api.read(f"k8s.io/api@{API}/{package}/types.go").decode()
                            for package in GO_PACKAGES})

    definitions: dict[str, dict] = {}
    pending = [f"io.k8s.api.{name}" for name in USER_TYPES + OBJECT_TYPES]
    while pending:
        name = pending.pop()
        if short(name) in definitions:
            continue
        schema, later = schemas[name], newest.get(name, {})
        refs: set[str] = set()
        # a property the newest minor removed is dropped (1.30's alpha resourceClaims[].source)
        properties = {prop: type_expression(value, refs)
                      for prop, value in sorted(schema.get("properties", {}).items())
                      if prop in later.get("properties", {})}
        for prop, value in later.get("properties", {}).items():
            if prop in properties and type_expression(value, set()) != properties[prop]:
                raise SystemExit(f"{name}.{prop} changed its type after {KUBERNETES}")
        # a field either minor requires is required
        required = sorted(set(schema.get("required", [])) | set(later.get("required", [])))
        definition: dict = {"properties": properties}
        if required:
            definition["required"] = required
        allowed = {}
        for prop in properties:
            values = enums.get((short(name), prop))
            if values is None:
                continue
            if short(name) not in {k[0] for k in pointers}:
                raise SystemExit(f"no Go type for {name}")
            # "" means unset in an optional plain string field; in a pointer, a list item or a
            # required field the API server refuses it
            empty_is_unset = (prop not in required and not properties[prop].startswith("[]")
                              and not pointers[(short(name), prop)])
            allowed[prop] = sorted(set(values) | ({""} if empty_is_unset else set()))
        if allowed:
            definition["enum"] = allowed
        definitions[short(name)] = definition
        pending.extend(sorted(refs))
    return {
        "kubernetes": KUBERNETES.removeprefix("v"),
        "newest": NEWEST.removeprefix("v"),
        "sources": [f"k8s.io/kubernetes@{KUBERNETES}", f"k8s.io/api@{API}",
                    f"k8s.io/kubernetes@{NEWEST}"],
        "generator": "scripts/generate-kubernetes-schema.py",
        # the objects spec.patches may change, by "<apiVersion> <kind>"
        "kinds": {kind_of(schemas[f"io.k8s.api.{name}"]): name for name in OBJECT_TYPES},
        "definitions": dict(sorted(definitions.items())),
    }


def render(data: dict) -> str:
    """One definition per line: small diffs when the Kubernetes version moves, and the loader
    decodes only the lines it needs (krm_pulsar/kubernetes/validate.py)."""
    head = {key: value for key, value in data.items() if key != "definitions"}
    lines = [json.dumps(head, sort_keys=True, separators=(",", ":"))]
    for name, definition in data["definitions"].items():
        lines.append(json.dumps({"name": name, **definition}, separators=(",", ":")))
    return "\n".join(lines) + "\n"


DEFAULT_OUTPUT = os.path.join(os.path.dirname(__file__), "..", "krm_pulsar", "kubernetes",
                              "schema.jsonl")

if __name__ == "__main__":
    output = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUTPUT
    with open(output, "w", encoding="utf-8") as file:
        file.write(render(generate()))
