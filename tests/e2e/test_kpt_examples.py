"""Golden tests of functions/pulsar-cluster/examples/*, the way kpt's e2e runner runs the
functions catalog (kptdev/kpt pkg/test/runner):

every directory with `.expected/` is a case: it is copied to a temporary directory, `git init`ed
and committed, the command runs twice (`kpt fn render` or `kpt fn eval`, from
`.expected/config.yaml`), and after each run the exit code, `git diff` against the first commit
(`.expected/diff.patch`) and kpt's results file (`.expected/results.yaml`, when present) must
match. `KPT_E2E_UPDATE_EXPECTED=true` rewrites diff.patch and results.yaml instead: read every
line of the change before committing it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, tool_env
from k8s import assert_valid

pytestmark = pytest.mark.e2e

EXAMPLES = ROOT / "functions" / "pulsar-cluster" / "examples"
CASES = sorted(p.parent.name for p in EXAMPLES.glob("*/.expected"))
UPDATE = os.environ.get("KPT_E2E_UPDATE_EXPECTED", "").lower() == "true"
RUN_COUNT = 2  # kpt's runner: a second run over the first run's output must give the same


def git(cwd, *args) -> str:
    out = subprocess.run(["git", "-c", "user.name=kpt", "-c", "user.email=kpt@example.com",
                          "-c", "core.quotepath=off", "-c", "color.ui=false",
                          "-c", "diff.noprefix=false", "-c", "init.defaultBranch=main", *args],
                         cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout


def kpt_command(kpt, config: dict, pkg: Path, results: Path) -> list[str]:
    if config.get("testType", "render") == "render":
        command = [kpt, "fn", "render", str(pkg), "--results-dir", str(results)]
        if config.get("allowExec"):
            command.append("--allow-exec")
        return command
    command = [kpt, "fn", "eval", str(pkg), "--results-dir", str(results)]
    if config.get("image"):
        command += ["--image", config["image"]]
    else:
        command += ["--exec", config["execPath"]]
    if config.get("args"):
        command += ["--", *(f"{k}={v}" for k, v in config["args"].items())]
    return command


def test_every_example_is_a_case():
    examples = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
    assert examples == CASES and len(CASES) >= 3
    for case in CASES:
        assert (EXAMPLES / case / ".krmignore").read_text().split() == [".expected"]
        assert sorted(p.name for p in (EXAMPLES / case / ".expected").iterdir()) == [
            "config.yaml", "diff.patch", "results.yaml"], case
    # at least one error example
    assert any(yaml.safe_load((EXAMPLES / c / ".expected" / "config.yaml").read_text()).get(
        "exitCode") for c in CASES)


@pytest.mark.parametrize("case", CASES)
def test_example(kpt, tmp_path, case):
    source = EXAMPLES / case
    expected_dir = source / ".expected"
    config = yaml.safe_load((expected_dir / "config.yaml").read_text()) or {}
    if config.get("skip"):
        pytest.skip(f"{case}: skip: true")
    pkg = tmp_path / case
    shutil.copytree(source, pkg)
    git(pkg, "init", "-q")
    git(pkg, "add", "-A")
    git(pkg, "commit", "-qm", "first")
    initial = git(pkg, "rev-parse", "HEAD").strip()
    expected_code = config.get("exitCode", 0)
    expected_diff_file = expected_dir / "diff.patch"
    expected_results_file = expected_dir / "results.yaml"

    for attempt in range(1, RUN_COUNT + 1):
        results = tmp_path / f"results-{attempt}"
        results.mkdir()
        out = subprocess.run(kpt_command(kpt, config, pkg, results), capture_output=True,
                             text=True, env=tool_env(), timeout=120)
        git(pkg, "add", "-A")
        diff = git(pkg, "diff", "--cached", initial).strip()
        written = list(results.iterdir())
        actual_results = written[0].read_text().strip() if written else ""
        if UPDATE:
            # Both files always exist: an empty diff.patch says "no file changes" explicitly.
            expected_diff_file.write_text(diff + "\n" if diff else "")
            expected_results_file.write_text(actual_results + "\n")
            return
        assert out.returncode == expected_code, f"run {attempt}: {out.stderr}"
        expected_diff = expected_diff_file.read_text().strip()
        assert diff == expected_diff, f"run {attempt}: the diff differs from {expected_diff_file}"
        assert len(written) == 1, written
        assert actual_results == expected_results_file.read_text().strip(), (
            f"run {attempt}: results differ from {expected_results_file}")

    if expected_code == 0:
        # what the example generates is valid Kubernetes
        generated = [yaml.safe_load(p.read_text()) for p in pkg.rglob("*.yaml")
                     if ".git" not in p.parts and ".expected" not in p.parts]
        objects = [d for d in generated if d and d.get("kind") not in (
            "Kptfile", "PulsarCluster")]
        assert objects
        assert_valid(objects)
