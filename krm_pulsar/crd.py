"""The published schema of a PulsarCluster, generated from the spec model (``model.SPEC``):
the ``apiextensions.k8s.io/v1`` CustomResourceDefinition (``krm-pulsar schema``) and a JSON
Schema of the PulsarCluster document (``krm-pulsar schema --json-schema``). docs/schema.md says
how to use them and where they are less strict than krm-pulsar.

Every type, description, default, enum, pattern and bound comes from the model's fields; this
module only translates the schema language of ``schema.py`` into the two dialects. It is
imported by the ``schema`` subcommand only: the render path never pays for it.

Defaults are written where ``model.SPEC.with_defaults`` applies them: a field of a typed object,
a rack (``Map(value_defaults=True)``), never inside a resource set or a list item (a set
inherits its component's values, so a default there would change what the set means).
"""

from __future__ import annotations

import copy
import json

from . import model, schema
from .schema import (
    Any,
    Bool,
    Field,
    Int,
    Labels,
    List,
    Map,
    Name,
    Number,
    Obj,
    Quantity,
    Raw,
    Resources,
    Str,
)

CRD_NAME = f"pulsarclusters.{model.API_GROUP}"
PLURAL = "pulsarclusters"
JSON_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"

_KIND_DOC = (
    "A PulsarCluster: the configuration krm-pulsar expands into the manifests of an Apache "
    "Pulsar cluster (KAAP's PulsarCluster spec with krm-pulsar's additions)."
)


def pattern(regex: str) -> str:
    """A model regex (Python ``re.match`` semantics: anchored at the start, ``\\Z`` at the end)
    as an ECMA-262/RE2 pattern, which JSON Schema and the API server search unanchored."""
    anchored_end = regex.endswith("\\Z")
    body = regex[:-2] if anchored_end else regex
    if "\\Z" in body or "(?P" in body or "\\A" in body:
        raise ValueError(f"pattern {regex!r} uses Python-only syntax")
    return f"^(?:{body})" + ("$" if anchored_end else "")


def _quantity_pattern() -> str:
    return pattern(schema._QUANTITY.pattern)


def _label_value() -> dict:
    return {"maxLength": schema.LABEL_MAX_LENGTH, "pattern": pattern(schema._LABEL_NAME.pattern)}


def _label_key_pattern() -> str:
    """An optional DNS-subdomain prefix and a non-empty name (lengths: krm-pulsar checks)."""
    prefix = schema._DNS_SUBDOMAIN.pattern.removesuffix("\\Z")
    # the label alphabet allows an empty value; a key's name is not empty
    name = schema._LABEL_NAME.pattern.removesuffix("\\Z").removesuffix("?")
    if not (name.startswith("(") and name.endswith(")")):
        raise ValueError(f"unexpected label pattern {schema._LABEL_NAME.pattern!r}")
    return f"^(?:(?:{prefix})/)?{name}$"


class _Dialect:
    """What differs between the CRD's structural OpenAPI v3 and the JSON Schema."""

    __slots__ = ("crd",)

    def __init__(self, crd: bool) -> None:
        self.crd = crd

    def typed(self, json_type: str) -> dict:
        # the model takes null as "not given" everywhere; the API server prunes nulls of
        # non-nullable fields before defaulting, which means the same
        return {"type": json_type if self.crd else [json_type, "null"]}


def node(field: Field, dialect: _Dialect, defaulted: bool = True) -> dict:
    """The schema of one field. `defaulted`: ``with_defaults`` reaches this field, so its
    default is written."""
    result: dict = {}
    has_default = defaulted and field.default is not None
    if field.doc:
        result["description"] = field.doc
        if has_default and dialect.crd:
            # kubectl explain prints descriptions but not defaults
            result["description"] += f" Default: {_short(field.default)}."
    result.update(_shape(field, dialect, defaulted))
    if has_default:
        result["default"] = copy.deepcopy(field.default)
    return result


def _short(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": "))


def _shape(field: Field, dialect: _Dialect, defaulted: bool) -> dict:
    # subclasses before their bases: Name is a Str, Number an Int, Labels a Map
    if isinstance(field, Obj):
        shape = dialect.typed("object")
        shape["properties"] = {key: node(child, dialect, defaulted)
                               for key, child in field.fields.items()}
        if not dialect.crd:
            shape["additionalProperties"] = False
        return shape
    if isinstance(field, Labels):
        values = {**dialect.typed("string"), **_label_value()}
        shape = {**dialect.typed("object"), "additionalProperties": values}
        if not dialect.crd:  # OpenAPI v3 in a CRD has no propertyNames
            shape["propertyNames"] = {"pattern": _label_key_pattern()}
        return shape
    if isinstance(field, Map):
        values = node(field.values, dialect, defaulted and field.value_defaults)
        if dialect.crd:
            # `blue:` (null) declares a key as much as `blue: {}` (a set that inherits
            # everything, a rack with its defaults); the API server would drop the key
            values["nullable"] = True
        return {**dialect.typed("object"), "additionalProperties": values}
    if isinstance(field, List):
        return {**dialect.typed("array"), "items": node(field.items, dialect, False)}
    if isinstance(field, Name):
        return {**dialect.typed("string"), "maxLength": field.max_length,
                "pattern": pattern(schema.DNS_LABEL)}
    if isinstance(field, Str):
        shape = dialect.typed("string")
        if field.enum:
            shape["enum"] = list(field.enum) if dialect.crd else [*field.enum, None]
        elif field.pattern:
            shape["pattern"] = pattern(field.pattern.pattern)
        return shape
    if isinstance(field, Int):  # Number too
        shape = dialect.typed("number" if isinstance(field, Number) else "integer")
        if field.min is not None:
            shape["minimum"] = field.min
        if field.max is not None:
            shape["maximum"] = field.max
        return shape
    if isinstance(field, Bool):
        return dialect.typed("boolean")
    if isinstance(field, Quantity):
        return _quantity(dialect)
    if isinstance(field, Resources):
        return _resources(dialect)
    if isinstance(field, Raw):
        return _raw(field.shape, dialect)
    if isinstance(field, Any):
        return {"x-kubernetes-preserve-unknown-fields": True} if dialect.crd else {}
    raise TypeError(f"no schema for {type(field).__name__}")


def _quantity(dialect: _Dialect) -> dict:
    if dialect.crd:
        # Kubernetes' own quantity schema: an integer or a string (a plain 0.5 is refused by
        # the API server, not by krm-pulsar; docs/schema.md#less-strict-or-stricter)
        return {"anyOf": [{"type": "integer"}, {"type": "string"}],
                "pattern": _quantity_pattern(), "x-kubernetes-int-or-string": True}
    return {"anyOf": [{"type": "number", "minimum": 0},
                      {"type": "string", "pattern": _quantity_pattern()},
                      {"type": "null"}]}


def _resources(dialect: _Dialect) -> dict:
    quantities = {**dialect.typed("object"), "additionalProperties": _quantity(dialect)}
    properties = {
        "requests": {"description": "Minimum resources the pods are scheduled with.",
                     **quantities},
        "limits": {"description": "Maximum resources the containers may use.",
                   **copy.deepcopy(quantities)},
        "claims": {"description": "Dynamic resource claims the containers use.",
                   **_raw("list", dialect)},
    }
    if set(properties) != set(Resources.KEYS):
        raise ValueError("Resources.KEYS changed: describe every key")
    shape = {**dialect.typed("object"), "properties": properties}
    if not dialect.crd:
        shape["additionalProperties"] = False
    return shape


def _raw(shape: str, dialect: _Dialect) -> dict:
    """A Kubernetes structure passed through as written: its outer shape only (issue 13 adds
    the Kubernetes schemas)."""
    if shape == "object":
        result = dialect.typed("object")
        if dialect.crd:
            result["x-kubernetes-preserve-unknown-fields"] = True
        return result
    if shape == "list":
        item: dict = {"type": "object"}
        if dialect.crd:
            item["x-kubernetes-preserve-unknown-fields"] = True
        return {**dialect.typed("array"), "items": item}
    return {"x-kubernetes-preserve-unknown-fields": True} if dialect.crd else {}


# --- the two documents --------------------------------------------------------------------------


def spec_schema(crd: bool) -> dict:
    """The schema of ``spec`` alone, in the CRD's dialect or JSON Schema's."""
    return node(model.SPEC, _Dialect(crd))


def custom_resource_definition() -> dict:
    group, version = model.API_VERSION.split("/")
    root = {
        "description": _KIND_DOC,
        "type": "object",
        "properties": {
            "apiVersion": {"description": f"{model.API_VERSION}.", "type": "string"},
            "kind": {"description": f"{model.KIND}.", "type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema(crd=True),
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": group,
            "names": {"kind": model.KIND, "listKind": f"{model.KIND}List",
                      "plural": PLURAL, "singular": model.KIND.lower()},
            "scope": "Namespaced",
            "versions": [{
                "name": version,
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": root},
            }],
        },
    }


def json_schema() -> dict:
    """A PulsarCluster document of either accepted API version (the spec is the same)."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": model.KIND,
        "description": _KIND_DOC,
        "type": "object",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": {
                "description": (f"{model.API_VERSION}, or {model.KAAP_API_VERSION} for KAAP "
                                f"input (KAAP's defaults where they differ)."),
                "enum": list(model.ACCEPTED_API_VERSIONS),
            },
            "kind": {"const": model.KIND},
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "namespace": {"type": "string"}},
            },
            "spec": spec_schema(crd=False),
        },
    }


def crd_yaml() -> str:
    from . import yamlio

    return yamlio.dump(custom_resource_definition())


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
