"""The control plane of tests/cluster: one per test session, started on first use.

Its folder comes from KRM_PULSAR_CONTROL_PLANE (exported by `make test`, which runs
scripts/ensure-control-plane.sh), else from that script itself. With CI=true a control plane that
cannot be built or started fails the tests; elsewhere it skips them.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import time
from pathlib import Path

import pytest

from . import harness
from .report import NOTES, TIMINGS

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"

def _unavailable(why: str):
    if IN_CI:
        pytest.fail(f"the Kubernetes control plane is required in CI: {why}")
    pytest.skip(f"no Kubernetes control plane: {why}")


def _control_plane_home() -> Path:
    home = os.environ.get("KRM_PULSAR_CONTROL_PLANE")
    if not home:
        result = subprocess.run([str(ROOT / "scripts" / "ensure-control-plane.sh")],
                                capture_output=True, text=True)
        if result.returncode:
            _unavailable(f"scripts/ensure-control-plane.sh failed:\n{result.stderr[-3000:]}")
        home = result.stdout.strip().splitlines()[-1]
    return Path(home)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory):
    home = _control_plane_home()
    plane = harness.ControlPlane(home, tmp_path_factory.mktemp("cp"))
    # Also if pytest itself dies before the fixture's teardown (stop() is idempotent).
    atexit.register(plane.stop)
    try:
        plane.start()
    except harness.StartError as exc:
        plane.stop()
        _unavailable(str(exc))
    except BaseException:
        plane.stop()
        raise
    TIMINGS["control plane start"] = plane.timings["ready"]
    try:
        crds = os.environ.get("CERT_MANAGER_CRDS")
        if crds:
            plane.kubectl("apply", "--server-side", "-f", crds)
            for crd in ("certificates.cert-manager.io", "issuers.cert-manager.io"):
                plane.wait_for(lambda: any(
                    c["type"] == "Established" and c["status"] == "True" for c in plane.get(
                        f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")
                    .get("status", {}).get("conditions") or []), f"CRD {crd} established")
        # ours (issue 15): the Prometheus operator's PodMonitor CRD, for the PodMonitors
        crds = os.environ.get("PROMETHEUS_OPERATOR_CRDS")
        if crds:
            plane.kubectl("apply", "--server-side", "-f", crds)
            plane.wait_for(lambda: any(
                c["type"] == "Established" and c["status"] == "True" for c in plane.get(
                    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                    "podmonitors.monitoring.coreos.com").get("status", {}).get("conditions")
                or []), "CRD podmonitors.monitoring.coreos.com established")
        yield plane
    finally:
        plane.stop()
        TIMINGS["control plane stop"] = plane.timings.get("stop", 0.0)


@pytest.fixture(scope="session")
def cert_manager_crds(control_plane):
    """cert-manager's CRDs (Certificate, Issuer) installed in the control plane."""
    if not control_plane.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                             "certificates.cert-manager.io"):
        _unavailable("CERT_MANAGER_CRDS is not set (make test sets it from "
                     "scripts/ensure-cert-manager-crds.sh)")
    return True


@pytest.fixture(scope="session")
def prometheus_operator_crds(control_plane):
    """The Prometheus operator's PodMonitor CRD installed in the control plane."""
    if not control_plane.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                             "podmonitors.monitoring.coreos.com"):
        _unavailable("PROMETHEUS_OPERATOR_CRDS is not set (make test sets it from "
                     "scripts/ensure-prometheus-operator-crds.sh)")
    return True


@pytest.fixture(scope="module", autouse=True)
def module_wall_time(request):
    """Wall time of each test module, its module fixtures' set-up and teardown included (the
    session's control plane start is counted apart)."""
    started = time.monotonic()
    yield
    TIMINGS[request.node.nodeid] = time.monotonic() - started


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("tests/cluster timings (s)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{seconds:8.1f}  {name}")
    if NOTES:
        terminalreporter.section("tests/cluster notes")
        for line in NOTES:
            terminalreporter.write_line(line)

