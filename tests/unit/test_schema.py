"""`krm-pulsar schema` (issue 15 item 6): the CRD and the JSON Schema come from the spec model,
the committed copies are current, every fixture validates, and the bad-input cases a schema can
express are refused by it. The API server's own checks of the CRD are in tests/crd."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import jsonschema
import pytest

from conftest import FIXTURES, ROOT, run_cli
from krm_pulsar import crd, model, schema, yamlio
from krm_pulsar.schema import Field, List, Map, Obj

from .test_bad_input import CASES

PACKAGE = ROOT / "functions" / "pulsar-cluster"
COMMITTED = {
    (): PACKAGE / "crd.yaml",
    ("--json-schema",): PACKAGE / "pulsarcluster.schema.json",
}
REGENERATE = ("krm-pulsar schema > functions/pulsar-cluster/crd.yaml && krm-pulsar schema "
              "--json-schema > functions/pulsar-cluster/pulsarcluster.schema.json")
BAD_EXAMPLE = PACKAGE / "examples" / "render-error-bad-spec" / "pulsar-cluster.yaml"


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(COMMITTED[("--json-schema",)].read_text()))


def clusters_in(path) -> list[dict]:
    docs = yamlio.load_all(path.read_text(encoding="utf-8"))
    return [json.loads(json.dumps(d)) for d in docs
            if isinstance(d, dict) and d.get("kind") == model.KIND]


def every_cluster_file() -> list:
    files = [*sorted(FIXTURES.glob("*.yaml")), *sorted((ROOT / "examples").rglob("*.yaml")),
             *sorted((PACKAGE / "examples").rglob("*.yaml"))]
    return [f for f in files if f != BAD_EXAMPLE and clusters_in(f)]


def error_paths(document: dict) -> list[str]:
    """The field paths (krm-pulsar's spelling) of the JSON Schema's errors."""
    paths = []
    for error in validator().iter_errors(document):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "additionalProperties":  # the unknown key is the path
            path += "." + re.search(r"\('([^']+)' was unexpected", error.message)[1]
        paths.append(path)
    return paths


# --- generated, committed, current --------------------------------------------------------------


@pytest.mark.parametrize("args", sorted(COMMITTED), ids=["crd", "json-schema"])
def test_committed_copy_is_what_the_command_prints(args):
    out = run_cli(["schema", *args])
    assert out.returncode == 0, out.stderr
    assert out.stderr == b""
    committed = COMMITTED[args]
    assert out.stdout.decode("utf-8") == committed.read_text(encoding="utf-8"), (
        f"{committed.relative_to(ROOT)} is not what `krm-pulsar schema {' '.join(args)}` prints "
        f"now; regenerate both and read the diff: {REGENERATE}")


def test_the_crd_is_the_one_of_our_api_version():
    document = yamlio.load_all(COMMITTED[()].read_text())[0]
    assert document["apiVersion"] == "apiextensions.k8s.io/v1"
    assert document["metadata"]["name"] == "pulsarclusters.krm-pulsar.io"
    version, = document["spec"]["versions"]
    assert f"{document['spec']['group']}/{version['name']}" == model.API_VERSION
    assert version["served"] and version["storage"]
    assert document["spec"]["names"]["kind"] == model.KIND


def test_the_json_schema_is_a_valid_draft_7_schema():
    jsonschema.Draft7Validator.check_schema(json.loads(COMMITTED[("--json-schema",)].read_text()))


def test_schema_rejects_unknown_options_with_one_line():
    out = run_cli(["schema", "--yaml"])
    assert out.returncode == 2
    assert out.stdout == b""
    assert out.stderr.decode() == (
        "krm-pulsar: error: unknown schema option '--yaml'; run krm-pulsar --help\n")


def test_help_names_both_subcommands():
    out = run_cli(["--help"]).stdout.decode()
    assert "krm-pulsar schema [--json-schema]" in out
    assert "krm-pulsar explain PATH" in out


def test_rendering_never_imports_the_schema_module():
    code = ("import sys; from krm_pulsar import cli; sys.argv = ['krm-pulsar', 'render', "
            f"{str(FIXTURES / 'production.yaml')!r}]; import io, contextlib; "
            "buf = io.StringIO()\nwith contextlib.redirect_stdout(buf): cli.main()\n"
            "print('krm_pulsar.crd' in sys.modules, 'json' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "False"


# --- from the model, nothing re-declared --------------------------------------------------------


def model_fields(field: Field, path: tuple = ()):
    """``(schema path, field, defaulted)`` of every field: typed objects' fields, the typed
    values of maps and lists (``*`` and ``[]`` in the path)."""
    yield path, field
    if isinstance(field, Obj):
        for key, child in field.fields.items():
            yield from model_fields(child, (*path, key))
    elif isinstance(field, Map) and isinstance(field.values, Obj):
        yield from model_fields(field.values, (*path, "*"))
    elif isinstance(field, List) and isinstance(field.items, Obj):
        yield from model_fields(field.items, (*path, "[]"))


def schema_node(root: dict, path: tuple) -> dict:
    node = root
    for part in path:
        if part == "*":
            node = node["additionalProperties"]
        elif part == "[]":
            node = node["items"]
        else:
            node = node["properties"][part]
    return node


@pytest.mark.parametrize("crd_dialect", [True, False], ids=["crd", "json-schema"])
def test_every_field_is_in_the_schema_with_its_doc_and_nothing_else(crd_dialect):
    root = crd.spec_schema(crd_dialect)
    count = 0
    for path, field in model_fields(model.SPEC):
        node = schema_node(root, path)
        description = field.doc
        if crd_dialect and "default" in node:  # for kubectl explain, which omits defaults
            default = node["default"]
            description += (f" Default: {default if isinstance(default, str) else json.dumps(default, separators=(', ', ': '))}.")
        assert node["description"] == description, path
        if isinstance(field, Obj):
            assert sorted(node["properties"]) == sorted(field.fields), path
        count += 1
    assert count > 600  # the whole model, not a part of it


def defaults_in(node: dict, path: tuple = ()):
    if "default" in node:
        yield path, node["default"]
    for key, child in (node.get("properties") or {}).items():
        yield from defaults_in(child, (*path, key))
    if isinstance(node.get("additionalProperties"), dict):
        yield from defaults_in(node["additionalProperties"], (*path, "*"))
    if isinstance(node.get("items"), dict):
        yield from defaults_in(node["items"], (*path, "[]"))


def resolved_at(path: tuple):
    """What ``SPEC.with_defaults`` gives at `path` when only its parents are written."""
    written: dict = {}
    cursor = written
    for part in path[:-1]:
        assert part != "[]", f"a default inside a list item: {path}"
        cursor[("x" if part == "*" else part)] = {}
        cursor = cursor["x" if part == "*" else part]
    value = model.SPEC.with_defaults(written)
    for part in path:
        value = value["x" if part == "*" else part]
    return value


def test_the_crd_defaults_are_exactly_what_the_model_applies():
    root = crd.spec_schema(True)
    found = dict(defaults_in(root))
    assert len(found) > 200
    for path, default in found.items():
        assert resolved_at(path) == default, path
    # and every default the model applies without a written value is in the CRD
    for path, field in model_fields(model.SPEC):
        if field.default is not None and "*" not in path and "[]" not in path:
            assert path in found, path
    # a resource set inherits its component's values: no default may stand there
    assert not [p for p in found if p[:1] in (("bookkeeper",), ("broker",), ("proxy",))
                and "sets" in p]
    # racks are defaulted value by value (Map(value_defaults=True))
    assert found[("global", "racks", "*", "zone", "requireRackAntiAffinity")] is True


SAMPLES = {
    schema.DNS_LABEL: ["pulsar", "a-1", "a", "-a", "a-", "A", "a.b", "a b", "é"],
    schema._QUANTITY.pattern: ["10Gi", "500m", "1", "0.5", ".5", "1e3", "+1", "-1Ki", "2Gix",
                               "Gi", "1 Gi", "", "1.5.5"],
    schema._LABEL_NAME.pattern: ["team", "a.b_c-d", "", "-a", "a-", "a b", "x" * 70],
}


@pytest.mark.parametrize("regex", sorted(SAMPLES), ids=["dns-label", "label", "quantity"])
def test_published_patterns_match_what_the_model_matches(regex):
    published = re.compile(crd.pattern(regex))
    model_regex = re.compile(regex)
    for sample in SAMPLES[regex]:
        assert bool(published.search(sample)) == bool(model_regex.match(sample)), sample


def test_model_regexes_with_python_only_syntax_are_refused():
    with pytest.raises(ValueError):
        crd.pattern(r"(?P<name>a)\Z")


# --- validation: fixtures pass, bad input fails -------------------------------------------------


@pytest.mark.parametrize("path", every_cluster_file(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_cluster_we_ship_validates(path):
    for document in clusters_in(path):
        assert error_paths(document) == []


def test_the_bad_spec_example_is_refused_where_krm_pulsar_refuses_it():
    document, = clusters_in(BAD_EXAMPLE)
    assert sorted(error_paths(document)) == ["spec.broker.replicas", "spec.proxi"]


def test_kaap_input_validates_too():
    document, = clusters_in(FIXTURES / "full-kaap.yaml")
    assert document["apiVersion"] == model.KAAP_API_VERSION
    assert error_paths(document) == []
    assert error_paths({**document, "apiVersion": "kaap.oss.datastax.com/v1"}) == ["apiVersion"]


# Bad-input catalog cases (docs/bad-input.md) about a PulsarCluster's spec: the ones the JSON
# Schema can express, with the path it refuses, and the ones it cannot, with why.
SCHEMA_REFUSES = {
    "spec-not-a-mapping": "spec",
    "wrong-type": "spec.zookeeper.replicas",
    "wrong-type-bool": "spec.global.persistence",
    "unknown-field": "spec.broker.replicsa",
    "unknown-field-case": "spec.broker.Replicas",
    "unknown-field-far": "spec.broker.colour",
    "negative-replicas": "spec.broker.replicas",
    "absurd-replicas": "spec.bookkeeper.replicas",
    "invalid-volume-size": "spec.zookeeper.dataVolume.size",
    "invalid-resource-quantity": "spec.broker.resources.requests.memory",
    "invalid-global-name": "spec.global.name",
    "name-too-long": "spec.global.name",
    "invalid-label": "spec.broker.labels.team",
    "missing-name": "metadata",
}
SCHEMA_CANNOT = {
    "invalid-name": "metadata.name must be a valid global.name only when global.name is unset",
    "undeclared-set": "a set must be declared in another map (global.resourceSets)",
    "invalid-set-name": "map keys are names; JSON Schema cannot constrain them and stay readable",
    "invalid-rack-name": "map keys are names (as above)",
    "undeclared-rack": "a reference into another map",
    "undeclared-component-set": "a reference into another map",
    "zookeeper-with-oxia": "two fields together",
    "functions-on-oxia-without-package-storage": "two fields together",
    "package-claim-read-write-once": "three fields together",
    "patch-targets-nothing": "depends on what is rendered",
    "forbidden-env": "a value inside a raw Kubernetes list",
    "private-key-in-spec": "a value's content, anywhere",
    "unsupported-feature": "acme is a raw structure, refused by krm-pulsar",
    "colliding-clusters": "two PulsarClusters together",
    "item-not-a-mapping": "another item of the ResourceList; the PulsarCluster itself is valid",
}


def catalog_clusters(case: str) -> list[dict] | None:
    """The PulsarClusters of a catalog case, or None for envelope cases (no readable cluster)."""
    data = CASES[case]
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if len(text) > 1_000_000:
        return None
    try:
        docs = yamlio.load_all(text)
    except yamlio.YAMLInputError:
        return None
    items = docs[0].get("items") if docs and isinstance(docs[0], dict) else None
    found = [json.loads(json.dumps(i)) for i in (items if isinstance(items, list) else [])
             if isinstance(i, dict) and i.get("kind") == model.KIND]
    return found or None


def test_every_spec_case_of_the_catalog_is_classified():
    spec_cases = {case for case in CASES if catalog_clusters(case)}
    assert spec_cases == set(SCHEMA_REFUSES) | set(SCHEMA_CANNOT)
    assert not set(SCHEMA_REFUSES) & set(SCHEMA_CANNOT)


@pytest.mark.parametrize("case", sorted(SCHEMA_REFUSES))
def test_the_schema_refuses_what_it_can_express(case):
    paths = [p for cluster in catalog_clusters(case) for p in error_paths(cluster)]
    assert paths == [SCHEMA_REFUSES[case]]


@pytest.mark.parametrize("case", sorted(SCHEMA_CANNOT))
def test_what_the_schema_cannot_express_passes_it(case):
    # honest classification: a case listed as inexpressible must really get through
    assert [p for cluster in catalog_clusters(case) for p in error_paths(cluster)] == []
