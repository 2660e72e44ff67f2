"""The golden-file check every golden test uses: `tests/golden/<name>.yaml` holds the exact
expected text. UPDATE_GOLDEN=1 rewrites the files; read every line of `git diff tests/golden/`
before committing: a golden file is what we claim to render."""

from __future__ import annotations

import os

from conftest import ROOT
from krm_pulsar import yamlio

GOLDEN = ROOT / "tests" / "golden"


def golden_text(objects: list, findings: list) -> str:
    """The findings as comment lines, then the objects as `krm-pulsar render` prints them."""
    header = "".join(f"# {f.severity}: {f.path}: {f.message}\n" for f in findings)
    return header + yamlio.dump_all(objects)


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), (
        f"{name} differs from the golden file; if the change is intended, run with "
        f"UPDATE_GOLDEN=1 and review `git diff {path.relative_to(ROOT)}`")
