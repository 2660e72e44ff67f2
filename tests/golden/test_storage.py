"""Golden files for the storage fixtures (fixtures/storage-*.yaml -> tests/golden/storage-*.yaml).

A golden holds the findings (as comment lines) and the generated objects as `krm-pulsar render`
prints them. After a deliberate change, regenerate with UPDATE_GOLDEN=1 and read every line of
the diff before committing it.
"""

from __future__ import annotations

import pytest

import golden
from conftest import FIXTURES
from k8s import assert_valid
from krm_pulsar import render, yamlio

GOLDEN = golden.GOLDEN
CASES = sorted(p.stem for p in FIXTURES.glob("storage-*.yaml"))


def render_fixture(name: str):
    config = yamlio.load_all((FIXTURES / f"{name}.yaml").read_text())[0]
    objects, findings = render.render(config)
    for obj in objects:  # as `krm-pulsar render` prints them
        annotations = obj["metadata"].get("annotations") or {}
        for key in [k for k in annotations if k.startswith("internal.config.kubernetes.io/")]:
            del annotations[key]
    return objects, findings


def check_golden(name: str) -> list:
    objects, findings = render_fixture(name)
    assert objects, f"{name} rendered nothing: {findings}"
    assert not [f for f in findings if f.severity == "error"], findings
    golden.check(f"{name}.yaml", golden.golden_text(objects, findings))
    return objects


@pytest.mark.parametrize("name", CASES)
def test_storage_golden(name):
    assert_valid(check_golden(name))


def test_every_storage_golden_has_a_fixture():
    stale = sorted({p.stem for p in GOLDEN.glob("storage-*.yaml")} - set(CASES))
    assert not stale, f"goldens without a fixture: {stale}"


def test_oxia_functions_package_storage_renders():
    # Functions on Oxia with FileSystem package storage: no ZooKeeper objects, and the
    # non-default storage path reaches both the broker configuration and the mount
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
