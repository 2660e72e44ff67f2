"""kubeconform with our JSON Schema, exactly as docs/schema.md shows it: every PulsarCluster we
ship is valid (both API versions), a bad one is refused at its field paths, and other kinds in
the same files are left to kubeconform's own schemas."""

from __future__ import annotations

import json
import subprocess

from conftest import FIXTURES, ROOT

LOCATION = "functions/pulsar-cluster/{{ .ResourceKind }}.schema.json"
BAD = ROOT / "functions" / "pulsar-cluster" / "examples" / "render-error-bad-spec"


def run(kubeconform: str, *args: str):
    return subprocess.run([kubeconform, "-output", "json", "-schema-location", LOCATION, *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_every_shipped_cluster_is_valid(kubeconform):
    files = [str(p.relative_to(ROOT)) for p in sorted(FIXTURES.glob("*.yaml"))
             if "\nkind: PulsarCluster" in "\n" + p.read_text()]
    out = run(kubeconform, "-summary", *files)
    assert out.returncode == 0, out.stdout + out.stderr
    summary = json.loads(out.stdout)["summary"]
    assert summary["valid"] == len(files) >= 25
    assert summary["invalid"] == summary["errors"] == 0


def test_a_bad_cluster_is_refused_at_its_field_paths(kubeconform):
    out = run(kubeconform, str((BAD / "pulsar-cluster.yaml").relative_to(ROOT)))
    assert out.returncode == 1
    resource, = json.loads(out.stdout)["resources"]
    assert resource["status"] == "statusInvalid"
    assert sorted(e["path"] for e in resource["validationErrors"]) == [
        "/spec", "/spec/broker/replicas"]
    assert "'proxi' not allowed" in resource["msg"]


def test_other_kinds_are_skipped_without_a_schema(kubeconform, tmp_path):
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text((FIXTURES / "minimal.yaml").read_text() +
                     "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    out = run(kubeconform, "-ignore-missing-schemas", "-summary", str(mixed))
    assert out.returncode == 0, out.stdout + out.stderr
    summary = json.loads(out.stdout)["summary"]
    assert (summary["valid"], summary["skipped"]) == (1, 1)
