"""The CRD as the Kubernetes API server judges it, with the API server's own code
(k8s.io/apiextensions-apiserver, run by apiserver-check): the CRD is accepted (structural
schema, defaults that validate and survive pruning, patterns Go can compile); every PulsarCluster
we ship goes through the create path (pruning, defaulting, validation) without an unknown field
or an error; the defaults the API server fills in change nothing krm-pulsar renders; and the bad
specs the CRD can express are refused."""

from __future__ import annotations

import copy
import json
import subprocess

import pytest

from conftest import FIXTURES, ROOT
from krm_pulsar import crd, model, render, yamlio

CRD_FILE = ROOT / "functions" / "pulsar-cluster" / "crd.yaml"


def check(tool: str, objects: list, crd_file=CRD_FILE) -> dict:
    out = subprocess.run([tool, str(crd_file)], input=json.dumps(objects).encode(),
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    return json.loads(out.stdout)


def shipped_clusters() -> list:
    """``(label, PulsarCluster)`` of every fixture and example, in our API version (the CRD is
    ours; KAAP input has the same spec)."""
    found = []
    files = [*sorted(FIXTURES.glob("*.yaml")), *sorted((ROOT / "examples").rglob("*.yaml")),
             *sorted((ROOT / "functions" / "pulsar-cluster" / "examples").rglob("*.yaml"))]
    for path in files:
        if "render-error-bad-spec" in str(path):
            continue
        for document in yamlio.load_all(path.read_text()):
            if isinstance(document, dict) and document.get("kind") == model.KIND:
                document = json.loads(json.dumps(document))
                document["apiVersion"] = model.API_VERSION
                found.append((str(path.relative_to(ROOT)), document))
    return found


def test_the_api_server_accepts_the_crd(apiserver_check):
    assert check(apiserver_check, [])["crd"] == []


@pytest.mark.parametrize(("change", "message"), [
    (lambda spec: spec["broker"]["properties"]["replicas"].pop("type"),
     "properties[replicas].type: Required value"),
    (lambda spec: spec["broker"]["properties"]["replicas"].update(default=-1),
     "properties[replicas].default: Invalid value: -1"),
    (lambda spec: spec["global"]["properties"]["image"].update(default=3),
     "properties[image].default: Invalid value"),
    (lambda spec: spec["bookkeeper"]["properties"]["env"].update(
        {"x-kubernetes-preserve-unknown-fields": None, "type": "array",
         "items": {"type": "object", "properties": {"name": {"type": "string"}}},
         "default": [{"name": "a", "unknown": 1}]}),
     "env].default: Invalid value: [{\"name\":\"a\",\"unknown\":1}]: must not have unknown "
     "fields"),
])
def test_the_check_refuses_what_the_api_server_refuses(apiserver_check, tmp_path, change,
                                                       message):
    document = crd.custom_resource_definition()
    spec = document["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    change(spec["properties"])
    broken = tmp_path / "crd.yaml"
    broken.write_text(yamlio.dump(json.loads(json.dumps(document))))
    errors = check(apiserver_check, [], broken)["crd"]
    assert any(message in error for error in errors), errors


def test_every_cluster_we_ship_passes_the_create_path(apiserver_check):
    clusters = shipped_clusters()
    assert len(clusters) > 25
    report = check(apiserver_check, [c for _, c in clusters])
    problems = [(label, result["errors"], result["unknownFields"])
                for (label, _), result in zip(clusters, report["objects"], strict=True)
                if result["errors"] or result["unknownFields"]]
    assert problems == []


def in_order_of(value, original):
    """`value` with its mappings' keys in `original`'s order where `original` has them. JSON
    objects have no order and the API server stores them sorted; krm-pulsar keeps the order of
    resource sets (rollout order), so the comparison restores it."""
    if isinstance(value, dict):
        source = original if isinstance(original, dict) else {}
        keys = [k for k in source if k in value] + [k for k in value if k not in source]
        return {k: in_order_of(value[k], source.get(k)) for k in keys}
    if isinstance(value, list):
        source = original if isinstance(original, list) else []
        return [in_order_of(v, source[i] if i < len(source) else None)
                for i, v in enumerate(value)]
    return value


def rendered(config: dict):
    objects, findings = render.render(copy.deepcopy(config))
    return (json.loads(json.dumps(objects)),
            sorted((f.path, f.message, f.severity) for f in findings))


def test_api_server_defaults_change_nothing_krm_pulsar_renders(apiserver_check):
    clusters = shipped_clusters()
    report = check(apiserver_check, [c for _, c in clusters])
    different = []
    stored_by_label = {}
    for (label, original), result in zip(clusters, report["objects"], strict=True):
        stored = in_order_of(result["defaulted"], original)
        stored_by_label[label] = stored
        if rendered(stored) != rendered(original):
            different.append(label)
    assert different == []
    # the API server did fill in defaults: where a section is written, and inside racks, but
    # not inside resource sets (they inherit the component's values)
    stored = stored_by_label["fixtures/three-zones.yaml"]["spec"]
    assert stored["bookkeeper"]["resources"] == {"requests": {"memory": "2Gi", "cpu": "1"}}
    assert stored["global"]["racks"]["rack1"]["zone"]["requireRackAntiAffinity"] is True
    assert stored["bookkeeper"]["sets"]["shared-az1"] == {}


BAD = {
    "wrong-type": ({"zookeeper": {"replicas": "three"}}, "spec.zookeeper.replicas"),
    "negative-replicas": ({"broker": {"replicas": -1}}, "spec.broker.replicas"),
    "absurd-replicas": ({"bookkeeper": {"replicas": 100000}}, "spec.bookkeeper.replicas"),
    "invalid-volume-size": ({"zookeeper": {"dataVolume": {"size": "2Gix"}}},
                            "spec.zookeeper.dataVolume.size"),
    "invalid-resource-quantity": ({"broker": {"resources": {"requests": {"memory": "2Gix"}}}},
                                  "spec.broker.resources.requests.memory"),
    "invalid-global-name": ({"global": {"name": "pulsar.prod"}}, "spec.global.name"),
    "name-too-long": ({"global": {"name": "p" * 41}}, "spec.global.name"),
    "invalid-label": ({"broker": {"labels": {"team": "a b"}}}, "spec.broker.labels.team"),
    "bad-enum": ({"global": {"imagePullPolicy": "Sometimes"}}, "spec.global.imagePullPolicy"),
}
UNKNOWN = {
    "unknown-field": ({"broker": {"replicsa": 3}}, "spec.broker.replicsa"),
    "unknown-field-far": ({"broker": {"colour": "blue"}}, "spec.broker.colour"),
}


def test_bad_specs_the_crd_can_express_are_refused(apiserver_check):
    cases = {**BAD, **UNKNOWN}
    objects = [{"apiVersion": model.API_VERSION, "kind": model.KIND,
                "metadata": {"name": "p"}, "spec": spec} for spec, _ in cases.values()]
    report = check(apiserver_check, objects)
    for (case, (_, path)), result in zip(cases.items(), report["objects"], strict=True):
        if case in UNKNOWN:  # pruned; kubectl's strict field validation refuses them
            assert result["unknownFields"] == [path], case
        else:
            assert any(error.startswith(path + ":") for error in result["errors"]), (
                case, result["errors"])
