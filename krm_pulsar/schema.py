"""A small declarative schema for the PulsarCluster spec: types, defaults, validation, merging.

Why not pydantic or jsonschema: importing either costs more than the whole render, and this
runs on every build. The schema is plain data; three small walkers use it:

* ``validate`` checks a user value and reports every problem with its field path;
* ``with_defaults`` fills in defaults, field by field for typed objects (KAAP's
  ``applyDefaults``), wholesale for raw Kubernetes structures;
* ``merge`` overlays a resource set over its component with KAAP's rules (scalars replace,
  free maps merge by key, lists replace unless empty, objects merge recursively).
"""

from __future__ import annotations

import copy
import re

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any as Value  # a value of the user's spec, of any type

MISSING = object()


class SpecError:
    """One finding about the input: where (a field path such as ``spec.broker.replicas``), what,
    and how bad (``error`` stops the render; ``warning`` and ``info`` do not)."""

    __slots__ = ("message", "path", "severity")

    def __init__(self, path: str, message: str, severity: str = "error") -> None:
        self.path = path
        self.message = message
        self.severity = severity

    def __repr__(self) -> str:
        return f"SpecError({self.path!r}, {self.message!r}, {self.severity!r})"

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpecError) and (self.path, self.message, self.severity) == (
            other.path, other.message, other.severity)


def warning(path: str, message: str) -> SpecError:
    return SpecError(path, message, "warning")


_SIMPLE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _SIMPLE_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


class Field:
    """Base of every schema node. ``default`` is what ``with_defaults`` uses when the user is
    silent."""

    expected = "value"

    def __init__(self, default: Value = None, doc: str = "") -> None:
        self.default = default
        self.doc = doc

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        """Report every problem of `value` (at field path `path`) into `errors`."""
        self.typed(value, path, errors)

    def typed(self, value: Value, path: str, errors: list[SpecError]) -> bool:
        """Report a value of the wrong type; True when a subclass may check the value further
        (it is given and of the right type)."""
        if value is None:
            return False
        if not self.accepts(value):
            errors.append(SpecError(path, f"expected {self.expected}, got {type_name(value)}"))
            return False
        return True

    def accepts(self, value: Value) -> bool:
        return True

    def with_defaults(self, value: Value) -> Value:
        if value is None:
            return copy.deepcopy(self.default)
        return value

    def merge(self, base: Value, over: Value) -> Value:
        """Resource-set merge: a set's non-null scalar replaces the component's."""
        return base if over is None else over


class Str(Field):
    expected = "a string"

    def __init__(self, default: Value = None, doc: str = "", enum: Iterable[str] | None = None,
                 pattern: str | None = None, pattern_doc: str = "") -> None:
        super().__init__(default, doc)
        self.enum = tuple(enum) if enum else None
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_doc = pattern_doc

    def accepts(self, value: Value) -> bool:
        return isinstance(value, str)

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        if not self.typed(value, path, errors):
            return
        if self.enum and value not in self.enum:
            errors.append(
                SpecError(path, f"must be one of {', '.join(self.enum)}; got {value!r}")
            )
        elif self.pattern and not self.pattern.match(value):
            errors.append(SpecError(path, f"{value!r} is not {self.pattern_doc}"))


DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z"


class Name(Str):
    """A name that becomes part of Kubernetes object names and label values (RFC 1123 label)."""

    def __init__(self, default: Value = None, doc: str = "", max_length: int = 63) -> None:
        super().__init__(default, doc, pattern=DNS_LABEL,
                         pattern_doc="a valid name (lower-case letters, digits and '-', "
                                     "starting and ending with a letter or digit)")
        self.max_length = max_length

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        before = len(errors)
        super().validate(value, path, errors)
        if len(errors) == before and isinstance(value, str) and len(value) > self.max_length:
            errors.append(SpecError(path, f"{value!r} is longer than {self.max_length} characters"))


class Int(Field):
    expected = "an integer"

    def __init__(self, default: Value = None, doc: str = "", min: float | None = None,
                 max: float | None = None) -> None:
        super().__init__(default, doc)
        self.min = min
        self.max = max

    def accepts(self, value: Value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        if not self.typed(value, path, errors):
            return
        if self.min is not None and value < self.min:
            errors.append(SpecError(path, f"must be >= {self.min}; got {value}"))
        elif self.max is not None and value > self.max:
            errors.append(SpecError(path, f"must be <= {self.max}; got {value}"))


class Number(Int):
    expected = "a number"

    def accepts(self, value: Value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)


class Bool(Field):
    expected = "true or false"

    def accepts(self, value: Value) -> bool:
        return isinstance(value, bool)


# Kubernetes resource.Quantity, as the API server's OpenAPI pattern describes it.
_QUANTITY = re.compile(
    r"[+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?\Z"
)


def is_quantity(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value >= 0
    return isinstance(value, str) and bool(_QUANTITY.match(value))


class Quantity(Field):
    expected = "a Kubernetes quantity such as 10Gi or 500m"

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        if value is not None and not is_quantity(value):
            errors.append(SpecError(path, f"{value!r} is not {self.expected}"))


class Resources(Field):
    """A container's ``resources`` (requests, limits, claims). The quantities are checked here:
    a typo such as ``2Gix`` would otherwise render a manifest the API server rejects at apply
    time, far from the line that caused it."""

    expected = "a mapping with requests and/or limits"
    KEYS = ("requests", "limits", "claims")

    def accepts(self, value: Value) -> bool:
        return isinstance(value, dict)

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        if not self.typed(value, path, errors):
            return
        for key, item in value.items():
            key_path = child_path(path, str(key))
            if key not in self.KEYS:
                errors.append(SpecError(key_path, unknown_field_message(
                    str(key), dict.fromkeys(self.KEYS))))
            elif key == "claims":
                if not isinstance(item, list):
                    errors.append(SpecError(key_path, f"expected a list, got {type_name(item)}"))
            elif item is not None and not isinstance(item, dict):
                errors.append(SpecError(key_path, f"expected a mapping, got {type_name(item)}"))
            elif item:
                for resource, quantity in item.items():
                    if not is_quantity(quantity):
                        errors.append(SpecError(
                            child_path(key_path, str(resource)),
                            f"{quantity!r} is not {Quantity.expected}"))

    def merge(self, base: Value, over: Value) -> Value:
        # a set's resources merge over the component's, key by key (KAAP merges typed objects)
        if isinstance(base, dict) and isinstance(over, dict):
            return deep_merge(base, over)
        return base if over is None else over


# Kubernetes label syntax: an optional DNS-subdomain prefix, then a name of at most 63
# characters; values are at most 63 characters of the same alphabet, or empty.
_LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?\Z")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
LABEL_MAX_LENGTH = 63  # of a label value and of a key's name part
LABEL_PREFIX_MAX_LENGTH = 253


def label_key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > LABEL_PREFIX_MAX_LENGTH or not _DNS_SUBDOMAIN.match(prefix)):
        return f"label key {key!r} has an invalid prefix (a lower-case DNS subdomain)"
    if not name or len(name) > LABEL_MAX_LENGTH or not _LABEL_NAME.match(name):
        return (f"label key {key!r} is not valid (at most 63 letters, digits, '-', '_' or '.', "
                f"starting and ending with a letter or digit)")
    return None


def label_value_problem(value: str) -> str | None:
    if len(value) > LABEL_MAX_LENGTH or not _LABEL_NAME.match(value):
        return (f"label value {value!r} is not valid (at most 63 letters, digits, '-', '_' or "
                f"'.', starting and ending with a letter or digit)")
    return None


class Any(Field):
    """Free-form value (for example a configuration value of any type)."""


class Raw(Field):
    """A Kubernetes structure passed through as written (a toleration, a NodeAffinity, ...).

    Only its outer shape is checked here; the generated manifests are validated against the
    Kubernetes schemas in the tests. Defaults apply wholesale (KAAP replaces, e.g., ``resources``
    as a whole); a resource set merges it recursively (KAAP merges typed Kubernetes objects).
    """

    def __init__(self, default: Value = None, doc: str = "", shape: str = "object") -> None:
        super().__init__(default, doc)
        self.shape = shape
        self.expected = {"object": "a mapping", "list": "a list"}.get(shape, "a value")

    def accepts(self, value: Value) -> bool:
        if self.shape == "object":
            return isinstance(value, dict)
        if self.shape == "list":
            return isinstance(value, list)
        return True

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        super().validate(value, path, errors)
        if self.shape == "list" and isinstance(value, list):
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    errors.append(SpecError(child_path(path, index),
                                            f"expected a mapping, got {type_name(item)}"))

    def merge(self, base: Value, over: Value) -> Value:
        if self.shape == "list":
            return over if over else base
        if isinstance(base, dict) and isinstance(over, dict):
            return deep_merge(base, over)
        return base if over is None else over


def deep_merge(base: dict, over: dict) -> dict:
    result = dict(base)
    for key, value in over.items():
        if value is None:
            continue
        current = result.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            result[key] = deep_merge(current, value)
        else:
            result[key] = value
    return result


class Map(Field):
    """A free map (labels, annotations, config): keys are the user's, values of one type.

    ``value_defaults``: each value gets its own defaults (racks); without it values stay as
    written (a resource set inherits its component's values instead)."""

    expected = "a mapping"

    def __init__(self, values: Field | None = None, default: Value = None,
                 doc: str = "", value_defaults: bool = False) -> None:
        super().__init__(default, doc)
        self.values = values or Any()
        self.value_defaults = value_defaults

    def with_defaults(self, value: Value) -> Value:
        value = super().with_defaults(value)
        if self.value_defaults and isinstance(value, dict):
            return {key: self.values.with_defaults(item) for key, item in value.items()}
        return value

    def accepts(self, value: Value) -> bool:
        return isinstance(value, dict)

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        if not self.typed(value, path, errors):
            return
        for key, item in value.items():
            if not isinstance(key, str):
                errors.append(SpecError(child_path(path, str(key)), "keys must be strings"))
                continue
            self.values.validate(item, child_path(path, key), errors)

    def merge(self, base: Value, over: Value) -> Value:
        # KAAP: a copy of the component's map with the set's entries put over it
        if base is None:
            return over
        if over is None:
            return base
        return {**base, **over}


class Labels(Map):
    """Kubernetes labels; checked here because the API server would reject them at apply."""

    def __init__(self, default: Value = None, doc: str = "") -> None:
        super().__init__(Str(), default, doc)

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        before = len(errors)
        super().validate(value, path, errors)
        if len(errors) != before or not value:
            return
        for key, item in value.items():
            problem = label_key_problem(key)
            if problem is None and isinstance(item, str):
                problem = label_value_problem(item)
            if problem:
                errors.append(SpecError(child_path(path, key), problem))


class List(Field):
    expected = "a list"

    def __init__(self, items: Field | None = None, default: Value = None,
                 doc: str = "") -> None:
        super().__init__(default, doc)
        self.items = items or Any()

    def accepts(self, value: Value) -> bool:
        return isinstance(value, list)

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        if not self.typed(value, path, errors):
            return
        for index, item in enumerate(value):
            self.items.validate(item, child_path(path, index), errors)

    def merge(self, base: Value, over: Value) -> Value:
        # KAAP: lists are never concatenated; an empty list means "inherit"
        return over if over else base


class Obj(Field):
    """A typed object: known fields only, each with its own type and default."""

    expected = "a mapping"

    def __init__(self, fields: dict[str, Field], doc: str = "", default: Value = MISSING) -> None:
        super().__init__(None if default is MISSING else default, doc)
        self.fields = fields
        self._default_is_fields = default is MISSING

    def accepts(self, value: Value) -> bool:
        return isinstance(value, dict)

    def validate(self, value: Value, path: str, errors: list[SpecError]) -> None:
        if not self.typed(value, path, errors):
            return
        for key, item in value.items():
            field = self.fields.get(key) if isinstance(key, str) else None
            if field is None:
                errors.append(SpecError(child_path(path, str(key)), unknown_field_message(
                    str(key), self.fields)))
                continue
            field.validate(item, child_path(path, key), errors)

    def with_defaults(self, value: Value) -> Value:
        if value is None:
            if not self._default_is_fields:
                return copy.deepcopy(self.default)
            value = {}
        result = {}
        for key, field in self.fields.items():
            result[key] = field.with_defaults(value.get(key))
        return result

    def merge(self, base: Value, over: Value) -> Value:
        if base is None:
            return over
        if over is None:
            return base
        result = {}
        for key, field in self.fields.items():
            result[key] = field.merge(base.get(key), over.get(key))
        return result


def unknown_field_message(key: str, fields: dict) -> str:
    import difflib  # only on the error path

    close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
    if not close:
        lowered = {name.lower(): name for name in fields}
        if key.lower() in lowered:
            close = [lowered[key.lower()]]
    hint = f"; did you mean {close[0]!r}?" if close else "; remove it or check its section"
    return f"unknown field {key!r}{hint}"
