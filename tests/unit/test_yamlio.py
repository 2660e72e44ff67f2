"""YAML reading (1.2 core schema, duplicates, alias bombs) and writing (block style, quoting)."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from krm_pulsar import yamlio


def test_yaml_1_2_scalars_keep_their_meaning_and_text():
    doc = yamlio.load_all("a: yes\nb: on\nc: 0x1F\nd: 1e3\ne: 2024-01-01\nf: 007\ng: ~\n")[0]
    assert doc["a"] == "yes" and doc["b"] == "on"  # strings in YAML 1.2, unlike PyYAML
    assert doc["c"] == 31 and doc["d"] == 1000.0 and doc["f"] == 7
    assert doc["e"] == "2024-01-01" and doc["g"] is None
    # numbers are written back exactly as they came in
    assert yamlio.dump(doc) == ('a: "yes"\nb: "on"\nc: 0x1F\nd: 1e3\ne: "2024-01-01"\n'
                                'f: 007\ng: null\n')


@pytest.mark.parametrize("text", ["yes", "No", "on", "OFF", "y", "null", "~", "true", "1.5",
                                  "0755", "1e3", "2001-12-14", "1:20", ".inf", "0x1f", "",
                                  " lead", "trail ", "a: b", "a #b", "- x", "-", "@x", "`x",
                                  "*x", "&x", "!x", "|x", ">x", "%x", "{x", "[x", "'x", '"x',
                                  "#x", "---", "...", "=", "<<", "tab\tin", "é"])
def test_ambiguous_strings_are_quoted_and_read_back_by_pyyaml(text):
    out = yamlio.dump({"k": text})
    assert yaml.safe_load(out) == {"k": text}
    assert yamlio.load_all(out)[0] == {"k": text}


def test_plain_strings_stay_plain():
    out = yamlio.dump({"opts": "-Xmx2g -XX:+UseG1GC", "url": "pulsar://a-b.ns.svc:6650/",
                       "key.with/slash": "v"})
    assert out == ("opts: -Xmx2g -XX:+UseG1GC\nurl: pulsar://a-b.ns.svc:6650/\n"
                   "key.with/slash: v\n")


def test_multiline_strings_are_literal_blocks():
    out = yamlio.dump({"args": ["set -e\necho hi\n"], "keep": "a\n\n", "strip": "a\nb"})
    assert out == ("args:\n- |\n  set -e\n  echo hi\nkeep: |+\n  a\n\nstrip: |-\n  a\n  b\n")
    assert yaml.safe_load(out) == {"args": ["set -e\necho hi\n"], "keep": "a\n\n",
                                   "strip": "a\nb"}


def test_output_has_no_anchors_even_for_shared_objects():
    shared = {"x": 1}
    out = yamlio.dump({"a": shared, "b": shared})
    assert "&" not in out and "*" not in out
    assert yaml.safe_load(out) == {"a": {"x": 1}, "b": {"x": 1}}


def test_duplicate_keys_are_rejected_with_their_line():
    with pytest.raises(yamlio.YAMLInputError, match=r"duplicate key 'a' at line 2"):
        yamlio.load_all("a: 1\na: 2\n")
    with pytest.raises(yamlio.YAMLInputError, match="duplicate key 'a'"):
        yamlio.load_all('{"a": 1, "a": 2}')


def test_merge_keys_do_not_count_as_duplicates():
    doc = yamlio.load_all("base: &b {x: 1, y: 1}\nm:\n  <<: *b\n  y: 2\n")[0]
    assert doc["m"] == {"x": 1, "y": 2}


def test_alias_bomb_is_stopped():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    prev = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
        prev = name
    with pytest.raises(yamlio.YAMLInputError, match="alias expansion bomb"):
        yamlio.load_all("\n".join(lines) + "\n")


def test_small_aliases_are_expanded_on_output():
    doc = yamlio.load_all("a: &x {k: v}\nb: *x\n")[0]
    assert yamlio.dump(doc) == "a:\n  k: v\nb:\n  k: v\n"


def test_not_yaml_reports_the_position():
    with pytest.raises(yamlio.YAMLInputError, match=r"line \d+, column \d+"):
        yamlio.load_all("a: [1, 2\nb: 3\n")


def test_json_input():
    assert yamlio.load_all('{"a": [1, true, null, "x"]}') == [{"a": [1, True, None, "x"]}]


def test_multi_document_stream():
    assert yamlio.load_all("a: 1\n---\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
    out = yamlio.dump_all([{"a": 1}, {"b": 2}])
    assert out == "a: 1\n---\nb: 2\n"


_keys = st.text(min_size=1, max_size=12)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                     st.text(max_size=30))
_values = st.recursive(_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_round_trip_through_our_reader_and_pyyaml(document):
    out = yamlio.dump(document)
    assert yamlio.load_all(out)[0] == document if document else True
    assert yaml.safe_load(out) == (document if document else {})
