"""The golden tests (this folder) and the golden-file check every golden test uses: `tests/golden/<name>.yaml` holds the exact
expected text. UPDATE_GOLDEN=1 rewrites the files; read every line of `git diff tests/golden/`
before committing: a golden file is what we claim to render."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import FIXTURES, ROOT
from krm_pulsar import render, yamlio

GOLDEN = Path(__file__).resolve().parent


def rendered(case: str):
    """``(objects, findings)`` of ``fixtures/<case>.yaml``, which must render without errors."""
    config = yamlio.load_all((FIXTURES / f"{case}.yaml").read_text())[0]
    objects, findings = render.render(config)
    assert not [f for f in findings if f.severity == "error"], findings
    return objects, findings


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
