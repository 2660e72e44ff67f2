"""YAML in and out, safely and without changing what users wrote.

Reading uses libyaml's event parser and builds plain Python data ourselves, because the stock
PyYAML constructors are wrong for Kubernetes in three ways that matter here:

* PyYAML resolves scalars with YAML 1.1 rules, so an unquoted ``yes`` in a user's ConfigMap would
  come back as ``true`` and ``2024-01-01`` as a date. We resolve with the YAML 1.2 core schema
  (what kubectl/kustomize use) and keep the original text of every number, so items we pass
  through are written back with the same scalars they came in with.
* It silently keeps the last of two duplicate keys; we report them.
* Aliases are shared references that expand on output: a few lines of anchors can become
  gigabytes (the "billion laughs"). We count the expanded size while reading and stop early.

Writing uses our own emitter: block style, no anchors or aliases, strings quoted whenever any
YAML 1.1 or 1.2 reader could take them for something else, multi-line strings as literal blocks.
"""

from __future__ import annotations

import functools
import json
import re

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

# Expanded-node budget for alias expansion. Real manifests are far below it (a 5,000-object
# ResourceList is ~300k nodes); the limit exists only to stop alias bombs.
MAX_EXPANDED_NODES = 5_000_000


class YAMLInputError(Exception):
    """The input is not acceptable YAML; the message says where and why."""


# --- scalars that keep their source text -------------------------------------------------------


class YInt(int):
    """An int read from YAML; ``text`` is how it was written (``0x1F``, ``+3``, ``007``)."""

    text: str


class YFloat(float):
    """A float read from YAML; ``text`` is how it was written (``1e3``, ``.inf``)."""

    text: str


def _yint(value: int, text: str) -> YInt:
    obj = YInt(value)
    obj.text = text
    return obj


def _yfloat(value: float, text: str) -> YFloat:
    obj = YFloat(value)
    obj.text = text
    return obj


# --- YAML 1.2 core schema resolution of plain scalars --------------------------------------------

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_TRUES = frozenset(("true", "True", "TRUE"))
_FALSES = frozenset(("false", "False", "FALSE"))
_INT_DEC = re.compile(r"[-+]?[0-9]+\Z")
_INT_OCT = re.compile(r"0o[0-7]+\Z")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(nan|NaN|NAN)\Z")


def resolve_plain(text: str) -> object:
    """Value of an unquoted scalar under the YAML 1.2 core schema."""
    if text in _NULLS:
        return None
    first = text[0]
    if first in "tTfF":
        if text in _TRUES:
            return True
        if text in _FALSES:
            return False
        return text
    if first in "0123456789+-.":
        if _INT_DEC.match(text):
            return _yint(int(text, 10), text)
        if _INT_OCT.match(text):
            return _yint(int(text[2:], 8), text)
        if _INT_HEX.match(text):
            return _yint(int(text[2:], 16), text)
        if _FLOAT.match(text):
            return _yfloat(float(text), text)
        if _INF.match(text):
            return _yfloat(float("-inf") if text[0] == "-" else float("inf"), text)
        if _NAN.match(text):
            return _yfloat(float("nan"), text)
    return text


_STR_TAGS = frozenset(("tag:yaml.org,2002:str", "!"))


def _tagged_scalar(tag: str, value: str, mark: Any) -> object:
    if tag in _STR_TAGS:
        return value
    if tag == "tag:yaml.org,2002:int":
        resolved = resolve_plain(value)
        if isinstance(resolved, int) and not isinstance(resolved, bool):
            return resolved
    elif tag == "tag:yaml.org,2002:float":
        resolved = resolve_plain(value)
        if isinstance(resolved, (int, float)) and not isinstance(resolved, bool):
            return _yfloat(float(resolved), value)
    elif tag == "tag:yaml.org,2002:bool":
        resolved = resolve_plain(value)
        if isinstance(resolved, bool):
            return resolved
    elif tag == "tag:yaml.org,2002:null":
        if value in _NULLS:
            return None
    else:
        raise YAMLInputError(f"unsupported YAML tag {tag!r} {_where(mark)}")
    raise YAMLInputError(f"value {value!r} does not match its tag {tag!r} {_where(mark)}")


def _where(mark: Any) -> str:
    return f"at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


# --- reading ------------------------------------------------------------------------------------


def _parser_class() -> Any:
    """libyaml's parser when PyYAML was built with it (8x faster here); the pure-Python one
    gives the same events. CParser is not re-exported by `yaml`, only by `yaml._yaml`."""
    try:
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover - PyYAML without libyaml
        return _PyParser
    return CParser


def _load_yaml_documents(text: str, parser_class: Any = None) -> list:
    import yaml  # deferred: only the YAML path pays for it (JSON input does not)

    parser = (parser_class or _parser_class())(text)
    events = yaml.events
    ScalarEvent, MappingStartEvent, SequenceStartEvent = (
        events.ScalarEvent,
        events.MappingStartEvent,
        events.SequenceStartEvent,
    )
    AliasEvent, MappingEndEvent, SequenceEndEvent = (
        events.AliasEvent,
        events.MappingEndEvent,
        events.SequenceEndEvent,
    )
    DocumentStartEvent, DocumentEndEvent = events.DocumentStartEvent, events.DocumentEndEvent

    documents: list = []
    anchors: dict = {}  # anchor -> (value, expanded node count)
    expanded = 0
    # Stack frames: [container, is_mapping, pending_key, has_key, anchor, size, mark, seen_keys]
    stack: list = []
    root = None
    get_event = parser.get_event
    try:
        while True:
            event = get_event()
            if event is None:
                break
            cls = event.__class__
            if cls is ScalarEvent:
                tag = event.tag
                if tag is None or tag == "!":
                    # a plain scalar: style is None from the Python parser, '' from libyaml
                    if event.implicit[0] and not event.style:
                        value = event.value
                        # only a plain `<<` is a merge key; a quoted one is just a string
                        value = MERGE_KEY if value == "<<" else resolve_plain(value)
                    else:
                        value = event.value
                else:
                    value = _tagged_scalar(tag, event.value, event.start_mark)
                size = 1
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
            elif cls is MappingStartEvent or cls is SequenceStartEvent:
                is_map = cls is MappingStartEvent
                if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                    raise YAMLInputError(
                        f"unsupported YAML tag {event.tag!r} {_where(event.start_mark)}"
                    )
                stack.append([{} if is_map else [], is_map, None, False, event.anchor, 1,
                              event.start_mark, None])
                continue
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                frame = stack.pop()
                value, size = frame[0], frame[5]
                if frame[4] is not None:
                    anchors[frame[4]] = (value, size)
            elif cls is AliasEvent:
                try:
                    value, size = anchors[event.anchor]
                except KeyError:
                    raise YAMLInputError(
                        f"unknown alias *{event.anchor} {_where(event.start_mark)}"
                    ) from None
                expanded += size
                if expanded > MAX_EXPANDED_NODES:
                    raise YAMLInputError(
                        f"alias *{event.anchor} {_where(event.start_mark)} expands the document "
                        f"beyond {MAX_EXPANDED_NODES:,} nodes (an alias expansion bomb?)"
                    )
            elif cls is DocumentStartEvent:
                anchors = {}
                root = None
                continue
            elif cls is DocumentEndEvent:
                documents.append(root)
                continue
            else:  # StreamStart/StreamEnd
                continue

            # attach `value` to its parent
            if not stack:
                root = value
                continue
            parent = stack[-1]
            parent[5] += size
            if parent[1]:
                if not parent[3]:
                    if isinstance(value, (dict, list)):
                        raise YAMLInputError(
                            f"mapping keys must be scalars {_where(event.start_mark)}"
                        )
                    parent[2], parent[3] = value, True
                else:
                    key = parent[2]
                    parent[3] = False
                    mapping = parent[0]
                    if key is MERGE_KEY:
                        merged = parent[7]
                        if merged is None:
                            merged = parent[7] = set()
                        _merge_key(mapping, value, merged, event.start_mark)
                        continue
                    if key in mapping:
                        merged = parent[7]
                        if merged is None or key not in merged:
                            raise YAMLInputError(
                                f"duplicate key {key!r} {_where(event.start_mark)}"
                            )
                        merged.discard(key)  # an explicit key overrides a merged one
                    mapping[key] = value
            else:
                parent[0].append(value)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YAMLInputError(f"{problem} {_where(mark)}".rstrip()) from None
    return documents


class _MergeKey(str):
    """The plain scalar ``<<`` in key position."""


MERGE_KEY = _MergeKey("<<")


def _merge_key(mapping: dict, value: object, merged: set, mark: Any) -> None:
    """YAML merge key (``<<: *base``): keys written in the mapping itself win, as in YAML 1.1."""
    sources = value if isinstance(value, list) else [value]
    for source in sources:
        if not isinstance(source, dict):
            raise YAMLInputError(f"merge key '<<' needs a mapping {_where(mark)}")
        for key, item in source.items():
            if key not in mapping:
                mapping[key] = item
                merged.add(key)


class _PyParser:
    def __init__(self, text: str) -> None:
        import yaml

        self._loader = yaml.SafeLoader(text)

    def get_event(self) -> Any:
        if self._loader.check_event():
            return self._loader.get_event()
        return None


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise YAMLInputError(f"duplicate key {key!r} in JSON object")
        result[key] = value
    return result


def load_all(text: str) -> list:
    """Every document of a YAML (or JSON) stream, as plain data. Empty documents are dropped."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return [json.loads(text, object_pairs_hook=_reject_duplicates)]
        except json.JSONDecodeError:
            pass  # YAML flow mappings also start with '{'; let the YAML reader decide
    return [doc for doc in _load_yaml_documents(text) if doc is not None]


# --- writing ------------------------------------------------------------------------------------

# Strings that some YAML reader (1.1 or 1.2) would not read back as that same string.
_SPECIAL_WORDS = frozenset((
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE",
    "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
    "~", "=", "<<",
))
_NUMBERISH = re.compile(
    r"""[-+]?(
        [0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?   # decimal, 1.1 underscores, floats
      | \.[0-9_]+([eE][-+]?[0-9]+)?
      | 0[bB][01_]+ | 0[oO]?[0-7_]+ | 0[xX][0-9a-fA-F_]+
      | [0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?      # 1.1 sexagesimal
      | \.(inf|Inf|INF) | \.(nan|NaN|NAN)
    )\Z""",
    re.VERBOSE,
)
_TIMESTAMPISH = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./=+$()^~-][\x20-\x7e]*\Z")
_UNSAFE_INSIDE = re.compile(r": |:\Z| #|[\x00-\x1f\x7f]|\A-(\s|\Z)|\A(---|\.\.\.)|\s\Z")
_LITERAL_OK = re.compile(
    "[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]*\\Z")


def _plain_ok(text: str) -> bool:
    if not text or text in _SPECIAL_WORDS:
        return False
    if not _PLAIN_SAFE.match(text) or _UNSAFE_INSIDE.search(text):
        return False
    first = text[0]
    if first in "0123456789+-." and _NUMBERISH.match(text):
        return False
    return not (first in "0123456789" and _TIMESTAMPISH.match(text))


# Characters JSON leaves alone but YAML readers reject or take as line breaks / BOM.
_YAML_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _double_quoted(text: str) -> str:
    # JSON escaping is valid YAML double-quoted style; keep printable non-ASCII characters.
    out = json.dumps(text, ensure_ascii=False)
    return _YAML_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


@functools.lru_cache(maxsize=50_000)
def _string_scalar(text: str) -> str:
    # A pure function memoized: keys and many values repeat across objects (name, labels,
    # image, ...), and caching makes writing 2.5x faster. Bounded, so memory stays flat on
    # large pass-through inputs.
    return text if _plain_ok(text) else _double_quoted(text)


def scalar(value: object) -> str:
    """The YAML form of a scalar value on one line (no literal blocks)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string_scalar(value)
    text = getattr(value, "text", None)
    if text is not None:
        return text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ".nan"
        if value in (float("inf"), float("-inf")):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _literal_block(text: str, indent: str) -> str | None:
    """``|`` block for multi-line strings, or None when the string cannot be one."""
    if "\n" not in text or not _LITERAL_OK.match(text) or "\r" in text:
        return None
    if text.endswith("\n"):
        body = text[:-1]
        chomp = ""
        if body.endswith("\n") or body == "":
            chomp = "+"
            body = text[:-1]
    else:
        body, chomp = text, "-"
    lines = body.split("\n")
    # Readers take the block's indentation from its first line; a first line that is empty or
    # starts with whitespace would need an indentation indicator. Quote those instead.
    if not lines[0] or lines[0][0] in " \t":
        return None
    inner = indent + "  "
    out = ["|" + chomp]
    for line in lines:
        out.append(inner + line if line else "")
    return "\n".join(out)


def _emit(value: object, indent: str, out: list, key_prefix: str) -> None:
    """Append lines for `value`, the first one starting with `key_prefix` (``key:`` or ``-``)."""
    if isinstance(value, dict):
        if not value:
            out.append(key_prefix + " {}" if key_prefix else "{}")
            return
        first = True
        child_indent = indent
        if key_prefix:
            if key_prefix.endswith("-"):
                # "- key: value" puts the first entry on the dash line
                child_indent = indent + "  "
            else:
                out.append(key_prefix)
                child_indent = indent + "  "
                first = False
        for key, item in value.items():
            k = scalar(key)
            if first and key_prefix:
                prefix = key_prefix + " " + k + ":"
                first = False
            else:
                prefix = child_indent + k + ":"
            _emit_value(item, child_indent, out, prefix)
        return
    if isinstance(value, list):
        if not value:
            out.append(key_prefix + " []" if key_prefix else "[]")
            return
        item_indent = indent
        if key_prefix:
            if key_prefix.endswith("-"):
                # nested list directly in a list item: "- - a"
                out.append(key_prefix)
                item_indent = indent + "  "
            else:
                out.append(key_prefix)
        for item in value:
            _emit_value(item, item_indent, out, item_indent + "-")
        return
    raise TypeError(f"cannot write {type(value).__name__} as a YAML collection")


def _emit_value(value: object, indent: str, out: list, prefix: str) -> None:
    if isinstance(value, (dict, list)):
        _emit(value, indent, out, prefix)
        return
    if isinstance(value, str) and "\n" in value:
        block = _literal_block(value, indent)
        if block is not None:
            out.append(prefix + " " + block)
            return
    out.append(prefix + " " + scalar(value))


def dump(document: object) -> str:
    """One document as block-style YAML, ending with a newline."""
    out: list = []
    if isinstance(document, (dict, list)):
        _emit(document, "", out, "")
    else:
        out.append(scalar(document))
    return "\n".join(out) + "\n"


def dump_all(documents: Iterable[object]) -> str:
    """A multi-document stream (``---`` between documents)."""
    return "---\n".join(dump(doc) for doc in documents)
