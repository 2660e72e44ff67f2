"""Golden files of the full cluster (issue 3): the exact output for each fixture.

Run with UPDATE_GOLDEN=1 to rewrite the golden files, then read every line of the diff
(`git diff tests/golden/`) before committing: the golden is what we claim to render.
"""

import os

import pytest

from conftest import FIXTURES, ROOT
from k8s import assert_valid
from krm_pulsar import render, yamlio

GOLDEN = ROOT / "tests" / "golden"
CASES = ["full-defaults", "full-kaap", "full-oxia", "full-functions-worker",
         "full-functions-embedded", "full-every-knob"]


def rendered(case: str):
    config = yamlio.load_all((FIXTURES / f"{case}.yaml").read_text())[0]
    objects, findings = render.render(config)
    assert not [f for f in findings if f.severity == "error"], findings
    return objects, findings


def golden_text(objects, findings) -> str:
    header = "".join(f"# {f.severity}: {f.path}: {f.message}\n" for f in findings)
    return header + yamlio.dump_all(objects)


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    objects, findings = rendered(case)
    text = golden_text(objects, findings)
    path = GOLDEN / f"{case}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(), (
        f"{case} output differs from {path}; if the change is intended, run with "
        f"UPDATE_GOLDEN=1 and review `git diff {path.relative_to(ROOT)}`")


@pytest.mark.parametrize("case", CASES)
def test_golden_output_validates(case):
    objects, _ = rendered(case)
    assert_valid(objects)
