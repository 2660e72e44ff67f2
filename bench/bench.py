#!/usr/bin/env python3
"""Time the whole `krm-pulsar` process, as kustomize and Argo CD run it.

Every figure is printed beside two floors measured in the same run: `python -c pass`
(interpreter start-up) and `kustomize build` of the already-rendered output (when KUSTOMIZE is
set), so the ratio is visible.

    python bench/bench.py [--runs N] [FIXTURE ...]     median wall time and peak RSS per fixture
    python bench/bench.py --scale [--plot PATH]        1 to 500 resource sets: the curve, a plot
    python bench/bench.py --pass-through [--items N]   a ResourceList of N unrelated items

The package is byte-compiled first, as an installed package (pip install, the container image)
is: without .pyc files every run would also pay for compiling the sources (about 25 ms).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = ["fixtures/minimal.yaml", "fixtures/production.yaml"]
SCALE_POINTS = (1, 10, 25, 50, 100, 200, 300, 400, 500)
SCALE_BUDGET_S = 2.0
PASS_THROUGH_BUDGET_S = 2.0

sys.path.insert(0, str(ROOT))
from krm_pulsar import yamlio  # noqa: E402  (the bench builds its inputs with our own writer)


def resource_list(items: list, function_config=None) -> bytes:
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if function_config is not None:
        rl["functionConfig"] = function_config
    return yamlio.dump(rl).encode()


def krm_input(fixture: Path) -> bytes:
    """A ResourceList as kustomize sends a generator: the config as item and functionConfig."""
    docs = yamlio.load_all(fixture.read_text())
    if docs and docs[0].get("kind") == "ResourceList":
        return fixture.read_bytes()
    return resource_list([docs[0]], docs[0])


def measure(argv: list[str], stdin: bytes, runs: int, env=None) -> tuple[float, float]:
    """(median wall seconds, peak max-RSS MiB) over `runs` runs of a whole process."""
    walls, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
        proc.stdin.write(stdin)
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}")
    return statistics.median(walls), max(peaks)


def kustomize_floor(kustomize: str | None, rendered: bytes, runs: int) -> float | None:
    """Median wall time of `kustomize build` over the already-rendered manifests."""
    if not kustomize:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "rendered.yaml").write_bytes(rendered)
        Path(tmp, "kustomization.yaml").write_text("resources:\n- rendered.yaml\n")
        wall, _ = measure([kustomize, "build", tmp], b"", runs)
    return wall


def render_stream(krm: str, data: bytes) -> bytes:
    """The generated manifests of `data` as a plain YAML stream (what kustomize would build)."""
    proc = subprocess.run([krm, "render", "-"], input=data, capture_output=True, check=True)
    return proc.stdout


def count_objects(stream: bytes) -> int:
    return stream.count(b"\nkind: ") + stream.startswith(b"kind: ")


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


# --- fixtures -----------------------------------------------------------------------------------


def bench_fixtures(krm: str, kustomize: str | None, fixtures: list[str], runs: int) -> None:
    print(f"{'fixture':32} {'wall (median)':>14} {'peak RSS':>10} {'objects':>8} "
          f"{'kustomize floor':>16}")
    for name in fixtures:
        fixture = (ROOT / name) if not Path(name).is_absolute() else Path(name)
        data = krm_input(fixture)
        wall, peak = measure([krm], data, runs)
        rendered = render_stream(krm, fixture.read_bytes())
        floor = kustomize_floor(kustomize, rendered, runs)
        print(f"{name:32} {ms(wall):>14} {peak:6.1f} MiB {count_objects(rendered):8d} "
              f"{ms(floor):>16}")


# --- scale --------------------------------------------------------------------------------------


def scale_config(sets: int) -> dict:
    """A cluster with `sets` resource sets over three zone racks, each set used by bookies,
    brokers and proxies (so 3 x `sets` workloads with their ConfigMaps, Services and PDBs)."""
    names = [f"s{index}" for index in range(sets)]
    spec = {"global": {
        "name": "pulsar",
        "racks": {f"zone-{zone}": {"zone": {"enabled": True}} for zone in "abc"},
        "resourceSets": {name: {"rack": f"zone-{'abc'[i % 3]}"} for i, name in enumerate(names)},
    }}
    for component in ("bookkeeper", "broker", "proxy"):
        spec[component] = {"sets": {name: {"replicas": 2} for name in names}}
    return {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
            "metadata": {"name": "pulsar"}, "spec": spec}


def bench_scale(krm: str, kustomize: str | None, runs: int, plot: Path | None) -> None:
    print(f"{'sets':>5} {'objects':>8} {'wall (median)':>14} {'peak RSS':>10} "
          f"{'ms per set':>11} {'kustomize floor':>16}")
    points = []
    for sets in SCALE_POINTS:
        config = scale_config(sets)
        data = resource_list([config], config)
        wall, peak = measure([krm], data, runs)
        rendered = render_stream(krm, yamlio.dump(config).encode())
        # one run: kustomize needs tens of seconds for thousands of objects
        floor = kustomize_floor(kustomize, rendered, 1)
        objects = count_objects(rendered)
        points.append((sets, wall, floor, objects))
        print(f"{sets:5d} {objects:8d} {ms(wall):>14} {peak:6.1f} MiB "
              f"{wall * 1000 / sets:11.2f} {ms(floor):>16}")
    # linear growth: the marginal cost per set stays flat between the halves of the curve
    (s1, w1, _, _), (s2, w2, _, _), (s3, w3, _, _) = points[4], points[6], points[-1]
    early, late = (w2 - w1) / (s2 - s1), (w3 - w2) / (s3 - s2)
    print(f"marginal cost per set: {early * 1000:.2f} ms ({s1}->{s2} sets), "
          f"{late * 1000:.2f} ms ({s2}->{s3} sets); ratio {late / early:.2f} (1.0 = linear)")
    slope, intercept, r2 = linear_fit([p[0] for p in points], [p[1] * 1000 for p in points])
    print(f"least squares: {intercept:.1f} ms + {slope:.3f} ms per set, r^2 = {r2:.4f}")
    print(f"500 sets: {ms(points[-1][1])} (budget {SCALE_BUDGET_S:.0f} s): "
          f"{'OK' if points[-1][1] < SCALE_BUDGET_S else 'OVER BUDGET'}")
    if plot:
        write_plot(points, plot)
        print(f"plot written to {plot.relative_to(ROOT) if plot.is_relative_to(ROOT) else plot}")


def write_plot(points: list, path: Path) -> None:
    """PNG with matplotlib when it is installed (pip install -e '.[bench]'), else an SVG drawn
    by hand next to the requested path."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _write_svg(points, path.with_suffix(".svg"))
        return
    sets = [p[0] for p in points]
    ours = [p[1] * 1000 for p in points]
    slope, intercept, _ = linear_fit(sets, ours)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    left.plot(sets, ours, "o-", label="krm-pulsar, whole process (median)")
    left.plot(sets, [intercept + slope * x for x in sets], ":", color="gray",
              label=f"least squares: {intercept:.0f} ms + {slope:.2f} ms/set")
    left.axhline(SCALE_BUDGET_S * 1000, color="red", linestyle="--", label="budget (2 s)")
    left.set_ylim(0, SCALE_BUDGET_S * 1000 * 1.1)
    left.set_title("krm-pulsar")
    floors = [p[2] for p in points]
    right.plot(sets, ours, "o-", label="krm-pulsar")
    if all(f is not None for f in floors):
        right.plot(sets, [f * 1000 for f in floors], "s--", label="kustomize build of the output")
    right.set_yscale("log")
    right.set_title("beside the kustomize floor (log scale)")
    for axis in (left, right):
        axis.set_xlabel("resource sets (each with bookies, brokers and proxies)")
        axis.set_ylabel("wall time (ms)")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize="small")
    figure.tight_layout()
    # no timestamps in the file, so re-running on the same numbers gives the same bytes
    figure.savefig(path, metadata={"Software": None})
    plt.close(figure)


def linear_fit(xs: list, ys: list) -> tuple[float, float, float]:
    """Least squares ``(slope, intercept, r squared)``."""
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys))
    total = sum((y - mean_y) ** 2 for y in ys)
    return slope, intercept, 1 - residual / total if total else 1.0


def _write_svg(points: list, path: Path) -> None:
    width, height, pad = 640, 360, 50
    top = max(SCALE_BUDGET_S, max(p[1] for p in points)) * 1000
    right = max(p[0] for p in points)

    def xy(sets, millis):
        return (pad + (width - 2 * pad) * sets / right,
                height - pad - (height - 2 * pad) * millis / top)

    line = " ".join("%.1f,%.1f" % xy(s, w * 1000) for s, w, _, _ in points)
    budget_y = xy(0, SCALE_BUDGET_S * 1000)[1]
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<polyline points="{line}" fill="none" stroke="blue" stroke-width="2"/>'
        f'<line x1="{pad}" y1="{budget_y:.1f}" x2="{width - pad}" y2="{budget_y:.1f}" '
        f'stroke="red" stroke-dasharray="4"/>'
        f'<text x="{pad}" y="20">wall time (ms) by resource sets; red: 2 s budget</text>'
        "</svg>\n")


# --- pass-through -------------------------------------------------------------------------------


def pass_through_items(count: int) -> list:
    """Unrelated objects of a typical package: ConfigMaps, Deployments and Services."""
    items = []
    for index in range(count):
        kind = ("ConfigMap", "Deployment", "Service")[index % 3]
        item = {"apiVersion": "apps/v1" if kind == "Deployment" else "v1", "kind": kind,
                "metadata": {"name": f"app-{index}", "namespace": "apps",
                             "labels": {"app": f"app-{index % 50}", "tier": "backend"},
                             "annotations": {"example.com/owner": "team-a"}}}
        if kind == "ConfigMap":
            item["data"] = {"enabled": "yes", "mode": "0755", "json": '{"a": [1, 2]}',
                            "script": "#!/bin/sh\necho hello\n"}
        elif kind == "Service":
            item["spec"] = {"selector": {"app": f"app-{index % 50}"},
                            "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
        else:
            item["spec"] = {"replicas": 2, "selector": {"matchLabels": {"app": f"app-{index}"}},
                            "template": {"metadata": {"labels": {"app": f"app-{index}"}},
                                         "spec": {"containers": [{
                                             "name": "app", "image": "example/app:1.0",
                                             "resources": {"requests": {"cpu": "100m"}}}]}}}
        items.append(item)
    return items


def bench_pass_through(krm: str, kustomize: str | None, count: int, runs: int) -> None:
    config = yamlio.load_all((ROOT / "fixtures" / "minimal.yaml").read_text())[0]
    items = pass_through_items(count)
    data = resource_list([*items, config], config)
    wall, peak = measure([krm], data, runs)
    # one run: kustomize needs tens of seconds for thousands of objects
    floor = kustomize_floor(kustomize, yamlio.dump_all(items).encode(), 1)
    print(f"pass-through: {count} unrelated items + minimal cluster, {len(data) / 1e6:.1f} MB in: "
          f"{ms(wall)} (budget {PASS_THROUGH_BUDGET_S:.0f} s: "
          f"{'OK' if wall < PASS_THROUGH_BUDGET_S else 'OVER BUDGET'}), peak {peak:.1f} MiB; "
          f"kustomize build of the {count} items: {ms(floor)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--scale", action="store_true", help="1 to 500 resource sets")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "performance-scale.png")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--pass-through", action="store_true", help="unrelated items only")
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("fixtures", nargs="*", default=DEFAULT_FIXTURES)
    args = parser.parse_args()

    compileall.compile_dir(str(ROOT / "krm_pulsar"), quiet=1)
    krm = str(Path(sys.executable).parent / "krm-pulsar")
    kustomize = os.environ.get("KUSTOMIZE")
    python_floor, python_peak = measure([sys.executable, "-c", "pass"], b"", args.runs)
    print(f"floor  python -c pass: {ms(python_floor)}, {python_peak:.1f} MiB")
    if args.scale:
        bench_scale(krm, kustomize, max(3, args.runs // 4), None if args.no_plot else args.plot)
    elif args.pass_through:
        bench_pass_through(krm, kustomize, args.items, max(3, args.runs // 3))
    else:
        bench_fixtures(krm, kustomize, args.fixtures, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
