"""Golden files of the full cluster (issue 3): the exact output for each fixture.

Run with UPDATE_GOLDEN=1 to rewrite the golden files, then read every line of the diff
(`git diff tests/golden/`) before committing: the golden is what we claim to render.
"""

import pytest

import golden
from conftest import FIXTURES
from k8s import assert_valid
from krm_pulsar import render, yamlio

CASES = ["full-defaults", "full-kaap", "full-oxia", "full-functions-worker",
         "full-functions-embedded", "full-every-knob"]


def rendered(case: str):
    config = yamlio.load_all((FIXTURES / f"{case}.yaml").read_text())[0]
    objects, findings = render.render(config)
    assert not [f for f in findings if f.severity == "error"], findings
    return objects, findings


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    objects, findings = rendered(case)
    golden.check(f"{case}.yaml", golden.golden_text(objects, findings))


@pytest.mark.parametrize("case", CASES)
def test_golden_output_validates(case):
    objects, _ = rendered(case)
    assert_valid(objects)
