"""The published CRD (`functions/pulsar-cluster/crd.yaml`, issue 15 item 6) on the real
kube-apiserver: applied server-side it becomes Established, `kubectl explain` serves our
descriptions, every shipped `krm-pulsar.io/v1alpha1` PulsarCluster passes a server-side dry run
as an object of it, and specs our own validator refuses for a wrong type, an unknown enum value
or a bad pattern are refused by the API server too, at the same field path.

tests/crd runs the API server's CRD code without a server (every fixture, many more bad specs);
this module is what only a running server shows: the CRD's registration, discovery, OpenAPI
publishing for kubectl explain, and the request path of `kubectl apply` itself. The CRD is
deleted again at the end, so that later modules see the cluster as the harness made it (the
admission test expects PulsarCluster to be unknown to it).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from . import workloads
from .report import NOTES

pytestmark = pytest.mark.cluster

CRD = workloads.ROOT / "functions" / "pulsar-cluster" / "crd.yaml"
NAME = "pulsarclusters.krm-pulsar.io"
API_VERSION = "krm-pulsar.io/v1alpha1"
NAMESPACE = "crd-dry-run"


@pytest.fixture(scope="module")
def crd(control_plane):
    applied = control_plane.kubectl("apply", "--server-side", "--field-manager=krm-pulsar-test",
                                    "-f", str(CRD))
    control_plane.wait_for(lambda: _established(control_plane), f"{NAME} Established",
                           timeout=60)
    control_plane.create_namespace(NAMESPACE)
    yield control_plane, applied.stdout.strip()
    control_plane.kubectl("delete", "namespace", NAMESPACE, "--wait=false", "--ignore-not-found")
    control_plane.kubectl("delete", "crd", NAME, "--wait=true", "--ignore-not-found")


def _established(cp) -> bool:
    crd = cp.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{NAME}")
    return any(c["type"] == "Established" and c["status"] == "True"
               for c in ((crd or {}).get("status") or {}).get("conditions") or [])


def _schema() -> dict:
    return yaml.safe_load(CRD.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def _explain(cp, field: str, cache: Path) -> str:
    """kubectl explain with a discovery cache of its own (the session's kubectl cached the API
    groups before the CRD existed)."""
    def served():
        result = cp.kubectl("explain", field, f"--api-version={API_VERSION}",
                            f"--cache-dir={cache}", check=False)
        return result.stdout if result.returncode == 0 else None
    # discovery and the OpenAPI document serve a new CRD a moment after it is Established
    return cp.wait_for(served, f"kubectl explain {field}", timeout=60)


def test_kubectl_explain_shows_our_descriptions(crd, tmp_path):
    cp, applied = crd
    NOTES.append(f"crd: {applied}")
    out = _explain(cp, "pulsarclusters.spec.global.racks", tmp_path)
    racks = _schema()["properties"]["spec"]["properties"]["global"]["properties"]["racks"]
    assert "FIELD: racks <map[string]Object>" in out, out
    assert racks["description"] in " ".join(out.split()), out
    rack = racks["additionalProperties"]["properties"]
    # one level down, the fields of a rack and their own descriptions
    zone = _explain(cp, "pulsarclusters.spec.global.racks.zone", tmp_path)
    words = " ".join(zone.split())
    assert " ".join(rack["zone"]["description"].split()) in words, zone
    for field in rack["zone"]["properties"]:
        assert f"{field}\t<" in zone or f"{field} <" in words, (field, zone)
    NOTES.append("crd: kubectl explain pulsarclusters.spec.global.racks --api-version="
                 f"{API_VERSION}:\n" + out.rstrip())


def _shipped() -> list[tuple[str, dict]]:
    found = []
    for path in sorted((workloads.ROOT / "fixtures").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("apiVersion") == API_VERSION and doc.get("kind") == "PulsarCluster":
                found.append((path.stem, doc))
    return found


def _dry_run(cp, obj: dict) -> subprocess.CompletedProcess:
    obj = {**obj, "metadata": {**obj["metadata"], "namespace": NAMESPACE}}
    return cp.kubectl("apply", "--server-side", "--dry-run=server", "--field-manager=krm-pulsar",
                      "--validate=strict", "--warnings-as-errors", "-f", "-",
                      input=yaml.safe_dump(obj), check=False)


def test_every_shipped_cluster_passes_a_server_side_dry_run(crd):
    cp, _ = crd
    shipped = _shipped()
    assert len(shipped) >= 20, [name for name, _ in shipped]
    refused = {}
    for name, obj in shipped:
        result = _dry_run(cp, obj)
        if result.returncode or "serverside-applied (server dry run)" not in result.stdout:
            refused[name] = result.stderr + result.stdout
    NOTES.append(f"crd: {len(shipped) - len(refused)} of {len(shipped)} krm-pulsar.io fixtures "
                 "accepted by a server-side dry run as PulsarCluster objects")
    assert not refused, refused


# wrong type, unknown enum value, bad pattern (and a bad quantity): (spec, field path)
INVALID = {
    "wrong-type": ({"zookeeper": {"replicas": "three"}}, "spec.zookeeper.replicas"),
    "unknown-enum": ({"global": {"imagePullPolicy": "Sometimes"}},
                     "spec.global.imagePullPolicy"),
    "bad-pattern": ({"global": {"name": "Pulsar_Prod"}}, "spec.global.name"),
    "bad-quantity": ({"bookkeeper": {"volumes": {"journal": {"size": "10 gigs"}}}},
                     "spec.bookkeeper.volumes.journal.size"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_specs_are_refused_as_our_validator_refuses_them(crd, case):
    cp, _ = crd
    spec, path = INVALID[case]
    obj = {"apiVersion": API_VERSION, "kind": "PulsarCluster",
           "metadata": {"name": "bad", "namespace": NAMESPACE}, "spec": spec}
    server = _dry_run(cp, obj)
    assert server.returncode != 0, server.stdout
    # schema validation names the path; a wrong type fails earlier, building the apply patch
    assert (f'The PulsarCluster "bad" is invalid: {path}: ' in server.stderr
            or f"Kind=PulsarCluster): .{path}: expected" in server.stderr), server.stderr
    ours = subprocess.run([str(workloads.BIN_DIR / "krm-pulsar"), "render", "-"],
                          input=yaml.safe_dump(obj), capture_output=True, text=True,
                          env=workloads.tool_env(), timeout=60, check=False)
    assert ours.returncode != 0 and ours.stdout == "", ours.stdout
    assert path in ours.stderr, ours.stderr
    NOTES.append(f"crd {case}: API server: {server.stderr.strip().splitlines()[-1]}\n"
                 f"        krm-pulsar: {ours.stderr.strip().splitlines()[0]}")
