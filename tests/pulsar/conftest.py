"""Fixtures of the `pulsar` tests: the cached jars, rendering, one real cluster per module."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = HERE / "fixtures"
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

KRM_PULSAR = str(Path(sys.executable).parent / "krm-pulsar")
# What the harness needs from the machine besides the jars (all in Debian's base system here).
COMMANDS = ("unshare", "nsenter", "ip", "sysctl", "mount", "curl", "java", "javac", "javap",
            "timeout", "bash")


def _missing(what: str):
    # In CI a missing prerequisite is a failure: a skipped runtime test proves nothing.
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (required in CI)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def pulsar_jars() -> Path:
    """The version-keyed jar cache (scripts/ensure-pulsar-jars.sh; `make test` passes it)."""
    missing = [c for c in COMMANDS if not shutil.which(c)]
    if missing:
        _missing(f"the pulsar harness needs {', '.join(missing)} on PATH")
    path = os.environ.get("PULSAR_JARS")
    if not path:
        result = subprocess.run([str(ROOT / "scripts" / "ensure-pulsar-jars.sh")],
                                capture_output=True, text=True)
        if result.returncode:
            _missing(f"scripts/ensure-pulsar-jars.sh failed: {result.stderr.strip()[-800:]}")
        path = result.stdout.strip().splitlines()[-1]
    jars = Path(path)
    if not (jars / "classpath.txt").is_file():
        _missing(f"{jars} holds no classpath.txt (run scripts/ensure-pulsar-jars.sh)")
    return jars


@pytest.fixture(scope="session")
def namespaces_allowed():
    """unshare -mn needs root (CI runs as root)."""
    if os.geteuid() != 0:
        _missing("the pulsar harness creates network namespaces: run as root")
    probe = subprocess.run(["unshare", "--mount", "--net", "true"], capture_output=True,
                           text=True)
    if probe.returncode:
        _missing(f"unshare --mount --net fails here: {probe.stderr.strip()}")


def render(fixture: Path | str) -> list[dict]:
    """Our output for a fixture, from the real `krm-pulsar render` process."""
    result = subprocess.run([KRM_PULSAR, "render", str(fixture)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@contextmanager
def running_cluster(request, run_dir: Path, fixture: Path, jars: Path, **options):
    """Start our output for `fixture` as real processes; stop them all by PID afterwards,
    also when start-up fails. Timings go to the session's summary."""
    cluster = harness.Cluster(render(fixture), run_dir, jars, **options)
    began = time.monotonic()
    try:
        with cluster:
            cluster.timings["ready"] = round(time.monotonic() - began, 1)
            yield cluster
    finally:
        summary = request.config.stash.setdefault(_TIMINGS, [])
        summary.append((fixture.name, dict(cluster.timings), len(cluster.leaked),
                        cluster.failures, run_dir))


_TIMINGS = pytest.StashKey[list]()


def pytest_terminal_summary(terminalreporter, config):
    runs = config.stash.get(_TIMINGS, [])
    if not runs:
        return
    terminalreporter.section("pulsar clusters (seconds)")
    for name, timings, leaked, failures, run_dir in runs:
        terminalreporter.write_line(f"{name}: {timings}; processes left after stop (killed): "
                                    f"{leaked}; logs: {run_dir}/logs")
        for failure in failures:
            terminalreporter.write_line(f"  not up: {failure}")
