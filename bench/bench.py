#!/usr/bin/env python3
"""Time the whole `krm-pulsar` process, as kustomize and Argo CD run it.

For each fixture: median wall time over N runs and peak memory (max RSS) of the process,
printed beside two floors measured in the same run: `python -c pass` (interpreter start-up)
and, when kustomize is available, `kustomize build` of the already-rendered output.

    python bench/bench.py [--runs N] [FIXTURE ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = ["fixtures/minimal.yaml"]


def krm_input(fixture: Path) -> bytes:
    """A ResourceList as kustomize sends a generator: the config as item and functionConfig."""
    sys.path.insert(0, str(ROOT))
    from krm_pulsar import yamlio

    docs = yamlio.load_all(fixture.read_text())
    if docs and docs[0].get("kind") == "ResourceList":
        return fixture.read_bytes()
    config = docs[0]
    return yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                        "items": [config], "functionConfig": config}).encode()


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("fixtures", nargs="*", default=DEFAULT_FIXTURES)
    args = parser.parse_args()

    krm = str(Path(sys.executable).parent / "krm-pulsar")
    kustomize = os.environ.get("KUSTOMIZE")
    python_floor, _ = measure([sys.executable, "-c", "pass"], b"", args.runs)
    print(f"floor  python -c pass: {python_floor * 1000:7.1f} ms")
    print(f"{'fixture':40} {'wall (median)':>14} {'peak RSS':>10} {'objects':>8} "
          f"{'kustomize floor':>16}")
    for name in args.fixtures:
        fixture = (ROOT / name) if not Path(name).is_absolute() else Path(name)
        data = krm_input(fixture)
        wall, peak = measure([krm], data, args.runs)
        rendered = subprocess.run([krm, "render", str(fixture)], capture_output=True,
                                  check=True).stdout
        objects = rendered.count(b"\nkind: ") + rendered.startswith(b"kind: ")
        floor = ""
        if kustomize:
            with tempfile.TemporaryDirectory() as tmp:
                Path(tmp, "rendered.yaml").write_bytes(rendered)
                Path(tmp, "kustomization.yaml").write_text("resources:\n- rendered.yaml\n")
                k_wall, _ = measure([kustomize, "build", tmp], b"", args.runs)
                floor = f"{k_wall * 1000:13.1f} ms"
        print(f"{name:40} {wall * 1000:11.1f} ms {peak:7.1f} MiB {objects:8d} {floor:>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
