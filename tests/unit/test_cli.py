"""The real `krm-pulsar` process: modes, exit codes, stdout/stderr discipline."""

import yaml

from conftest import FIXTURES, run_cli
from krm_pulsar import __version__


def test_help_and_version():
    out = run_cli(["--help"])
    assert out.returncode == 0 and b"krm-pulsar render PATH" in out.stdout
    out = run_cli(["--version"])
    assert out.returncode == 0 and out.stdout.decode() == f"krm-pulsar {__version__}\n"


def test_function_mode_round_trip():
    out = run_cli([], (FIXTURES / "kustomize-generator-input.yaml").read_bytes())
    assert out.returncode == 0, out.stderr
    rl = yaml.safe_load(out.stdout)
    assert rl["kind"] == "ResourceList" and len(rl["items"]) > 10


def test_function_mode_bad_input_no_traceback():
    for data in (b"", b"::: not yaml [", b"\xff\xfe\x00", b"- 1\n- 2\n"):
        out = run_cli([], data)
        assert out.returncode == 1
        assert b"Traceback" not in out.stderr
        assert yaml.safe_load(out.stdout)["kind"] == "ResourceList"
        lines = out.stderr.decode().splitlines()
        assert lines and all(line.startswith("krm-pulsar: error: ") for line in lines)


def test_render_mode_prints_only_generated_manifests():
    out = run_cli(["render", str(FIXTURES / "namespaced.yaml")])
    assert out.returncode == 0, out.stderr
    docs = list(yaml.safe_load_all(out.stdout))
    assert docs and all(d["kind"] not in ("PulsarCluster", "ResourceList") for d in docs)
    for doc in docs:
        annotations = doc["metadata"].get("annotations", {})
        assert not any(k.startswith("internal.config.kubernetes.io/") for k in annotations)


def test_render_mode_reads_directories_and_stdin(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "cluster.yaml").write_text((FIXTURES / "minimal.yaml").read_text())
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "junk.yaml").write_text(": not yaml [")
    (tmp_path / "README.md").write_text("not yaml: [")
    from_dir = run_cli(["render", str(tmp_path)])
    from_stdin = run_cli(["render", "-"], (FIXTURES / "minimal.yaml").read_bytes())
    assert from_dir.returncode == 0 and from_dir.stdout == from_stdin.stdout
    assert b"kind: StatefulSet" in from_dir.stdout


def test_render_mode_errors_leave_stdout_empty(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: krm-pulsar.io/v1alpha1\nkind: PulsarCluster\n"
                   "metadata: {name: p}\nspec: {broker: {replicas: -2}}\n")
    for args in (["render", str(bad)], ["render", str(tmp_path / "missing.yaml")],
                 ["render", str(FIXTURES / "kustomize-generator-input.yaml").replace(
                     "kustomize-generator-input", "nothing-here")],
                 ["render"]):
        out = run_cli(args)
        assert out.returncode != 0 and out.stdout == b"", args
        assert b"Traceback" not in out.stderr
    out = run_cli(["render", str(bad)])
    assert out.stderr.decode().strip() == (
        "krm-pulsar: error: PulsarCluster/p spec.broker.replicas: must be >= 0; got -2")


def test_render_mode_without_any_cluster(tmp_path):
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    out = run_cli(["render", str(tmp_path)])
    assert out.returncode == 1 and out.stdout == b""
    assert b"no PulsarCluster found" in out.stderr
