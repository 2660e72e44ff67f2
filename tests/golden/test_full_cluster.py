"""Golden files of the full cluster (issue 3): the exact output for each fixture.

Run with UPDATE_GOLDEN=1 to rewrite the golden files, then read every line of the diff
(`git diff tests/golden/`) before committing: the golden is what we claim to render.
"""

import pytest

import golden
from k8s import assert_valid

CASES = ["full-defaults", "full-kaap", "full-oxia", "full-functions-worker",
         "full-functions-embedded", "full-every-knob"]


rendered = golden.rendered


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    objects, findings = rendered(case)
    golden.check(f"{case}.yaml", golden.golden_text(objects, findings))


@pytest.mark.parametrize("case", CASES)
def test_golden_output_validates(case):
    objects, _ = rendered(case)
    assert_valid(objects)
