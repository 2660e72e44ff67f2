"""The KRM envelope: pass-through, replacement of earlier output, results, exit codes."""

import copy

import pytest
import yaml

from conftest import FIXTURES
from krm_pulsar import krm, render, yamlio


def resource_list(items, function_config=None, api_version="config.kubernetes.io/v1"):
    rl = {"apiVersion": api_version, "kind": "ResourceList", "items": items}
    if function_config is not None:
        rl["functionConfig"] = function_config
    return rl


def run(rl) -> tuple[dict, list, int]:
    text = rl if isinstance(rl, (str, bytes)) else yamlio.dump(rl)
    data = text if isinstance(text, bytes) else text.encode()
    stdout, stderr, code = krm.run(data)
    return yamlio.load_all(stdout)[0], stderr, code


def cluster(name="pulsar", **spec):
    return {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
            "metadata": {"name": name}, "spec": spec}


OTHER = {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "mine", "annotations": {
             "internal.config.kubernetes.io/path": "mine.yaml",
             "config.kubernetes.io/path": "mine.yaml", "config.k8s.io/id": "7"}},
         "data": {"enabled": "yes", "mode": "0755"}}


def generated(items):
    return [i for i in items if krm.generated_from(i)]


def test_kustomize_generator_input_renders_and_echoes_config():
    out, stderr, code = run((FIXTURES / "kustomize-generator-input.yaml").read_text())
    assert code == 0 and stderr == []
    assert out["apiVersion"] == "config.kubernetes.io/v1" and out["kind"] == "ResourceList"
    config = out["items"][0]
    assert config["kind"] == "PulsarCluster"  # returned unchanged, annotations included
    source = yaml.safe_load((FIXTURES / "kustomize-generator-input.yaml").read_text())
    assert config == source["items"][0]
    kinds = {(o["kind"], o["metadata"]["name"]) for o in generated(out["items"])}
    # the cluster is rendered once even though it came both as item and functionConfig
    assert len(kinds) == len(generated(out["items"]))
    assert ("StatefulSet", "pulsar-broker") in kinds


def test_function_config_only_kpt_eval_style():
    out, _, code = run(resource_list([OTHER], function_config=cluster()))
    assert code == 0
    assert out["items"][0] == OTHER
    assert any(o["kind"] == "StatefulSet" for o in generated(out["items"]))


def test_v1beta1_and_json_input_are_accepted():
    import json

    rl = resource_list([cluster()], api_version="config.kubernetes.io/v1beta1")
    out, _, code = run(json.dumps(rl))
    assert code == 0 and generated(out["items"])


def test_every_other_item_comes_back_unchanged():
    other = copy.deepcopy(OTHER)
    out, _, code = run(resource_list([other, cluster()]))
    assert code == 0
    assert out["items"][0] == OTHER
    # YAML 1.1-looking strings stay strings on the way out
    text = yamlio.dump(out)
    assert 'enabled: "yes"' in text and 'mode: "0755"' in text


def test_rerun_is_idempotent_and_replaces_earlier_output():
    first, _, _ = run(resource_list([OTHER, cluster(broker={"replicas": 2})]))
    second, _, _ = run(resource_list(first["items"]))
    assert second["items"] == first["items"]
    # removing a part removes its objects on the next run
    items = copy.deepcopy(first["items"])
    items[1]["spec"]["proxy"] = {"replicas": 0}
    third, _, code = run(resource_list(items))
    assert code == 0
    names = {(o["kind"], o["metadata"]["name"]) for o in generated(third["items"])}
    assert ("Deployment", "pulsar-proxy") not in names
    assert ("StatefulSet", "pulsar-broker") in names
    assert third["items"][0] == OTHER


def test_output_of_another_cluster_is_not_touched():
    first, _, _ = run(resource_list([cluster("a", **{"global": {"name": "a"}})]))
    out, _, _ = run(resource_list(first["items"][1:] + [cluster("b", **{"global": {"name": "b"}})]))
    from_a = [o for o in out["items"] if krm.generated_from(o) == "a"]
    assert from_a == first["items"][1:]


def test_generated_objects_have_marker_and_distinct_paths():
    out, _, _ = run(resource_list([cluster()]))
    paths = []
    for obj in generated(out["items"]):
        annotations = obj["metadata"]["annotations"]
        assert annotations[render.GENERATED_FROM] == "pulsar"
        paths.append(annotations[render.PATH_ANNOTATION])
        assert annotations[render.INDEX_ANNOTATION] == "0"
    assert len(paths) == len(set(paths))
    assert all(p.startswith("pulsar/") and ".." not in p for p in paths)


def test_error_results_name_the_field_and_keep_items():
    bad = cluster(broker={"replicas": -1, "replicsa": 2})
    bad["metadata"]["annotations"] = {"internal.config.kubernetes.io/path": "pulsar.yaml"}
    out, stderr, code = run(resource_list([OTHER, bad]))
    assert code == 1
    assert out["items"] == [OTHER, bad]
    errors = {r["field"]["path"]: r for r in out["results"]}
    assert errors["spec.broker.replicas"]["message"] == "must be >= 0; got -1"
    assert "did you mean 'replicas'?" in errors["spec.broker.replicsa"]["message"]
    result = errors["spec.broker.replicas"]
    assert result["severity"] == "error"
    assert result["resourceRef"] == {"apiVersion": "krm-pulsar.io/v1alpha1",
                                     "kind": "PulsarCluster", "name": "pulsar"}
    assert result["file"] == {"path": "pulsar.yaml"}
    assert len(stderr) == 2 and all("\n" not in line for line in stderr)
    assert any("PulsarCluster/pulsar spec.broker.replicas: must be >= 0" in s for s in stderr)


def test_wrong_type_is_an_error():
    out, _, code = run(resource_list([cluster(zookeeper={"replicas": "three"})]))
    assert code == 1
    assert out["results"][0]["field"]["path"] == "spec.zookeeper.replicas"
    assert "expected an integer, got string" in out["results"][0]["message"]


@pytest.mark.parametrize("data, message", [
    (b"", "empty input"),
    (b"a: [1\n", "not valid YAML"),
    (b"\xff\xfe", "not UTF-8"),
    (b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n", "has no items"),
    (b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", "no PulsarCluster"),
])
def test_bad_input_still_writes_a_resource_list(data, message):
    stdout, stderr, code = krm.run(data)
    out = yamlio.load_all(stdout)[0]
    assert code == 1 and out["kind"] == "ResourceList" and "items" in out
    assert message in out["results"][0]["message"]
    assert len(stderr) == 1 and message in stderr[0]


def test_items_that_are_not_mappings_are_reported_and_returned():
    out, _, code = run(resource_list(["just a string", cluster()]))
    assert code == 1
    assert out["items"][0] == "just a string"
    assert out["results"][0]["tags"] == {"field": "items[0]"}


def test_two_clusters_with_colliding_output():
    a = cluster("a", **{"global": {"name": "pulsar"}})
    b = cluster("b", **{"global": {"name": "pulsar"}})
    out, stderr, code = run(resource_list([a, b]))
    assert code == 1
    assert out["items"] == [a, b]
    assert any("both generate" in r["message"] for r in out["results"]
               if r["severity"] == "error")


def test_output_of_a_renamed_cluster_is_kept_with_a_warning():
    first, _, _ = run(resource_list([cluster("old", **{"global": {"name": "old"}})]))
    stale = generated(first["items"])
    renamed = cluster("new", **{"global": {"name": "new"}})
    renamed["metadata"]["annotations"] = {"config.kubernetes.io/local-config": "true"}
    out, stderr, code = run(resource_list(stale + [renamed]))
    assert code == 0
    assert out["items"][:len(stale)] == stale  # unchanged, as every item we do not own
    warnings = [r for r in out["results"] if r["severity"] == "warning"]
    assert len(warnings) == 1 and "generated from PulsarCluster old" in warnings[0]["message"]
    assert any("no longer in the input" in line for line in stderr)


# --- the PulsarCluster kept in a package must be local-config (docs/krm-contract.md) -----------


def _local_config_warnings(out):
    return [r for r in out.get("results") or []
            if (r.get("field") or {}).get("path")
            == "metadata.annotations.config.kubernetes.io/local-config"]


def test_pulsar_cluster_item_without_local_config_warns():
    """kpt keeps the config item in the package; applying the rendered package sends it to the
    API server, which refuses it without the CRD (tests/cluster/test_cluster_admission.py)."""
    config = cluster(broker={"replicas": 1})
    out, stderr, code = run(resource_list([copy.deepcopy(config)], copy.deepcopy(config)))
    found = _local_config_warnings(out)
    assert code == 0
    assert [r["severity"] for r in found] == ["warning"]
    assert found[0]["resourceRef"]["kind"] == "PulsarCluster"
    assert "no matches for kind" in found[0]["message"]
    assert any("local-config" in line for line in stderr)
    assert out["items"][0] == config, "the item comes back unchanged, without the annotation"


@pytest.mark.parametrize("value", ["true", "false"])
def test_explicit_local_config_silences_the_warning(value):
    config = cluster(broker={"replicas": 1})
    config["metadata"]["annotations"] = {"config.kubernetes.io/local-config": value}
    out, _, code = run(resource_list([copy.deepcopy(config)], copy.deepcopy(config)))
    assert code == 0 and not _local_config_warnings(out)


def test_function_config_alone_is_not_a_resource():
    """A kustomize generator's config is never among the items: nothing to warn about."""
    out, _, code = run(resource_list([], cluster(broker={"replicas": 1})))
    assert code == 0 and not _local_config_warnings(out)


def test_every_shipped_package_keeps_its_pulsar_cluster_local():
    """The kpt packages we ship (catalog examples, examples/kpt) must render into something
    that applies: their PulsarCluster is local-config."""
    from conftest import ROOT

    packages = [p for p in (ROOT / "functions" / "pulsar-cluster" / "examples").iterdir()
                if p.is_dir()] + [ROOT / "examples" / "kpt"]
    seen = 0
    for package in packages:
        for path in package.glob("*.yaml"):
            for doc in yamlio.load_all(path.read_text()):
                if render.is_pulsar_cluster(doc):
                    seen += 1
                    annotations = doc["metadata"].get("annotations") or {}
                    assert annotations.get("config.kubernetes.io/local-config") == "true", path
    assert seen == len(packages)
