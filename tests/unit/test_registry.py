"""The component registry is complete: every consumer finds what it needs in every entry,
and nothing iterates components past the registry."""

from __future__ import annotations

import importlib

import pytest

from krm_pulsar import endpoints, jvm, model, registry
from krm_pulsar.schema import Obj

ENTRIES = registry.COMPONENTS
IDS = [entry.section for entry in ENTRIES]


def _field(schema: Obj, path: str):
    for part in path.split("."):
        assert isinstance(schema, Obj), f"{path}: {part} is not inside a typed object"
        schema = schema.fields[part]
    return schema


def test_every_component_section_of_the_model_has_an_entry():
    sections = set(model.SPEC.fields) - {"global", "patches"}
    assert sections == set(registry.BY_SECTION)


def test_base_names_match_the_model():
    keys = {entry.base_name_key for entry in registry.PULSAR_COMPONENTS}
    assert keys == set(model.GLOBAL.fields["components"].fields)


def test_set_components_match_the_model():
    assert {entry.section for entry in registry.SET_COMPONENTS} == set(model.SET_COMPONENTS)


def test_tls_entries_match_the_model():
    tls = model.TLS.fields
    assert {entry.tls for entry in registry.TLS_COMPONENTS} == {
        key for key, field in tls.items() if isinstance(field, Obj) and "secretName" in field.fields
        and key != "ssCa"}
    assert {entry.set_tls_key for entry in registry.COMPONENTS if entry.set_tls_key} == {
        key for key in tls if key.endswith("ResourceSets")}


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_is_complete(entry):
    schema = model.SPEC.fields[entry.section]
    module = importlib.import_module(f"krm_pulsar.components.{entry.module}")
    assert callable(module.render), f"{entry.module} has no render(cluster)"
    assert entry.stage in range(len(registry.STAGES))
    assert entry in registry.STAGES[entry.stage]
    if entry.base_name_key:  # a Pulsar component: the shared fields of the model
        for field in ("image", "replicas", "resources", "env", "labels", "config"):
            assert field in schema.fields, f"spec.{entry.section} lacks {field}"
    if entry.has_sets:
        assert entry.default_set and "sets" in schema.fields
    for path in entry.volumes:
        assert "size" in _field(schema, path).fields, f"{entry.section}.{path} is no volume"
    for name in entry.forbidden_env:
        assert "env" in schema.fields, f"{entry.section} forbids env {name} but has no env"
    for kind, path in entry.jvms:
        assert kind in jvm.SHARES, f"{entry.section}: no JVM share for {kind}"
        _field(schema, ".".join(path))
    if entry.metrics:
        assert (entry.metrics.endpoint, entry.metrics.protocol, False) in endpoints.TABLE
        assert entry.metrics.path.startswith("/")
        assert entry.metrics.endpoint in entry.endpoints
    for key in entry.endpoints:
        assert any(component == key for component, _, _ in endpoints.TABLE), key
    for target in entry.connects_to:
        assert target in registry.BY_SECTION or target == registry.METADATA_STORE, target
    for server in entry.tls_client_of:
        dialled = server in entry.connects_to or (
            server in ("zookeeper", "oxia") and registry.METADATA_STORE in entry.connects_to)
        assert dialled, f"{entry.section} is a TLS client of {server} but does not connect to it"
    if entry.tls_server_formats:
        assert entry.tls, f"{entry.section} serves TLS without a spec.global.tls entry"
    assert set(entry.tls_server_formats) <= {registry.PK8, registry.JKS}


def test_every_endpoint_belongs_to_a_component():
    owned = {key for entry in ENTRIES for key in entry.endpoints}
    assert {component for component, _, _ in endpoints.TABLE} == owned


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.metadata_keys], ids=lambda e: e.section)
def test_metadata_store_keys_exist_for_zookeeper(entry):
    from krm_pulsar.cluster import Cluster

    config = {"apiVersion": model.API_VERSION, "kind": model.KIND, "metadata": {"name": "p"}}
    spec = model.with_defaults({}, config["metadata"], model.API_VERSION)
    assert Cluster(spec, config).metadata_store_keys(entry.section)


def test_rollout_order_starts_with_the_metadata_store():
    order = [entry.section for entry in registry.in_rollout_order()]
    assert order[:2] == ["zookeeper", "oxia"] and order[-1] == "functionsWorker"
    assert sorted(order) == sorted(IDS)


def test_every_registered_check_resolves():
    from krm_pulsar import checks

    assert set(checks.PHASES) == {check.phase for check in checks.CHECKS}
    for phase in checks.PHASES:
        for check in checks.in_phase(phase):
            assert callable(check.resolve()), check
    for entry in ENTRIES:
        for phase, _function in entry.checks:
            assert phase in checks.PHASES, f"{entry.section}: unknown phase {phase}"
