"""Every field of the spec model has its documentation (Field.doc), the one source for a
`schema` command, `explain` and docs/features.md; features.md names only fields that exist."""

from __future__ import annotations

import re
from pathlib import Path

from krm_pulsar import model
from krm_pulsar.schema import Field, List, Map, Obj

ROOT = Path(__file__).resolve().parents[2]


def fields(field: Field, path: str = "spec"):
    """``(path, field)`` of every field reachable from `field`: typed objects' fields, and the
    typed values of maps (resource sets, racks) and lists (patches)."""
    yield path, field
    if isinstance(field, Obj):
        for key, child in field.fields.items():
            yield from fields(child, f"{path}.{key}")
    elif isinstance(field, Map) and isinstance(field.values, Obj):
        yield from fields(field.values, f"{path}.<name>")
    elif isinstance(field, List) and isinstance(field.items, Obj):
        yield from fields(field.items, f"{path}[]")


def test_every_field_has_a_one_sentence_doc():
    undocumented = [path for path, field in fields(model.SPEC) if not field.doc.strip()]
    assert not undocumented, "fields without doc:\n" + "\n".join(undocumented)
    unfinished = [path for path, field in fields(model.SPEC) if not field.doc.endswith(".")]
    assert not unfinished, "docs are sentences:\n" + "\n".join(unfinished)


def test_the_check_sees_an_undocumented_field():
    spec = Obj({"documented": Field(doc="A field."), "nested": Obj({"bare": Field()}, doc="x.")},
               doc="Root.")
    assert [path for path, f in fields(spec) if not f.doc] == ["spec.nested.bare"]


def _resolves(path: str) -> bool:
    field: Field = model.SPEC
    for part in path.split(".")[1:]:
        if isinstance(field, Map):  # a set, rack or resource-set name
            field = field.values
            continue
        if not isinstance(field, Obj) or part not in field.fields:
            return False
        field = field.fields[part]
    return True


def test_features_md_names_only_fields_of_the_model():
    text = (ROOT / "docs" / "features.md").read_text()
    sections = "|".join(model.SPEC.fields)
    paths = sorted({f"spec.{path}" for path in re.findall(
        rf"`(?:spec\.)?((?:{sections})\.[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9])", text)})
    assert paths, "features.md names no spec field"
    unknown = [path for path in paths if not _resolves(path)]
    assert not unknown, "features.md names fields the model does not have:\n" + "\n".join(unknown)
