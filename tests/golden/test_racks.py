"""Golden files for placement: where every object of a racked cluster goes and how it selects.

Each golden holds a projection of the output (names, labels, selectors, sync waves, Service
types and annotations, pod labels, affinity) plus the rack registration Job in full, so a
change in placement shows up as a readable diff. Regenerate with ``UPDATE_GOLDEN=1`` and read
every line of the diff before committing it.
"""

import pytest

from conftest import FIXTURES
from golden import check as golden_check
from k8s import assert_valid
from krm_pulsar import render, yamlio

CASES = {
    "racks-three-zones.yaml": "three-zones.yaml",
    "racks-kaap-host-racks.yaml": "kaap-host-racks.yaml",
}
GENERATED = (render.GENERATED_FROM, render.PATH_ANNOTATION, render.INDEX_ANNOTATION)


def projection(obj: dict) -> dict:
    metadata = obj["metadata"]
    result = {"kind": obj["kind"], "name": metadata["name"], "labels": metadata.get("labels")}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items()
                   if k not in GENERATED}
    if annotations:
        result["annotations"] = annotations
    spec = obj.get("spec") or {}
    if obj["kind"] == "Job" and "-bookie-racks-" in metadata["name"]:
        result["spec"] = spec
        return result
    if obj["kind"] == "Service":
        result["type"] = spec.get("type", "ClusterIP")
        result["selector"] = spec.get("selector")
        result["ports"] = [f"{p['name']}:{p['port']}" for p in spec.get("ports", [])]
    elif obj["kind"] == "PodDisruptionBudget":
        result["selector"] = spec["selector"]["matchLabels"]
    elif "template" in spec:
        if "selector" in spec:  # not a Job
            result["selector"] = spec["selector"]["matchLabels"]
            result["replicas"] = spec.get("replicas")
        result["podLabels"] = spec["template"]["metadata"].get("labels")
        affinity = spec["template"]["spec"].get("affinity")
        if affinity:
            result["affinity"] = affinity
    return result


def rendered(fixture: str) -> list:
    config = yamlio.load_all((FIXTURES / fixture).read_text())[0]
    objects, findings = render.render(config)
    assert not [f for f in findings if f.severity == "error"], findings
    return objects


@pytest.mark.parametrize("golden, fixture", sorted(CASES.items()))
def test_golden(golden, fixture):
    objects = rendered(fixture)
    assert_valid(objects)
    text = yamlio.dump_all([projection(o) for o in objects])
    golden_check(golden, text)
