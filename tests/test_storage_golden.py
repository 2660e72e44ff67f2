"""Golden files for the storage fixtures (fixtures/storage-*.yaml -> tests/golden/storage-*.yaml).

A golden holds the findings (as comment lines) and the generated objects as `krm-pulsar render`
prints them. After a deliberate change, regenerate with UPDATE_GOLDEN=1 and read every line of
the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import FIXTURES
from k8s import assert_valid
from krm_pulsar import render, yamlio

GOLDEN = Path(__file__).resolve().parent / "golden"
# Fixtures whose rendering needs Oxia (issue 3); their goldens are written once it renders.
NEEDS_OXIA = {"storage-oxia-functions-packages"}
CASES = sorted(p.stem for p in FIXTURES.glob("storage-*.yaml") if p.stem not in NEEDS_OXIA)


def render_fixture(name: str):
    config = yamlio.load_all((FIXTURES / f"{name}.yaml").read_text())[0]
    objects, findings = render.render(config)
    for obj in objects:  # as `krm-pulsar render` prints them
        annotations = obj["metadata"].get("annotations") or {}
        for key in [k for k in annotations if k.startswith("internal.config.kubernetes.io/")]:
            del annotations[key]
    return objects, findings


def golden_text(objects, findings) -> str:
    header = "".join(f"# {f.severity} {f.path}: {f.message}\n" for f in findings)
    return header + "---\n" + yamlio.dump_all(objects)


def check_golden(name: str) -> list:
    objects, findings = render_fixture(name)
    assert objects, f"{name} rendered nothing: {findings}"
    assert not [f for f in findings if f.severity == "error"], findings
    text = golden_text(objects, findings)
    path = GOLDEN / f"{name}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"no golden {path}; run with UPDATE_GOLDEN=1 and read it"
    assert text == path.read_text(), f"{name} differs from {path}; UPDATE_GOLDEN=1 to accept"
    return objects


@pytest.mark.parametrize("name", CASES)
def test_storage_golden(name):
    assert_valid(check_golden(name))


def test_every_storage_golden_has_a_fixture():
    stale = sorted({p.stem for p in GOLDEN.glob("storage-*.yaml")} - set(CASES) - NEEDS_OXIA)
    assert not stale, f"goldens without a fixture: {stale}"


def test_oxia_functions_package_storage_golden():
    # At merge with issue 3: remove this marker, run UPDATE_GOLDEN=1, read the new golden.
    assert_valid(check_golden("storage-oxia-functions-packages"))


def test_oxia_functions_package_storage_renders():
    # Turns XPASS (a failure, strict) as soon as Oxia renders: then remove both markers.
    objects, findings = render_fixture("storage-oxia-functions-packages")
    assert not [f for f in findings if f.severity == "error"], findings
    by_key = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    assert not [key for key in by_key if key[1].startswith("ox-zookeeper")]
    data = by_key[("ConfigMap", "ox-broker")]["data"]
    assert data["PULSAR_PREFIX_STORAGE_PATH"] == "/pulsar/test-packages-storage"
    assert data["PULSAR_PREFIX_functionsWorkerEnablePackageManagement"] == "true"
    pod = by_key[("StatefulSet", "ox-broker")]["spec"]["template"]["spec"]
    assert {"name": "broker-package-storage", "mountPath": "/pulsar/test-packages-storage"} in \
        pod["containers"][0]["volumeMounts"]
    assert ("PersistentVolumeClaim", "ox-broker-package-storage") in by_key
    assert_valid(objects)
