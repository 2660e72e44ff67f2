"""Golden files of the NetworkPolicies (docs/security.md#networkpolicies): the exact policies of
the production fixture and of the egress-lockdown fixture (the rest of their output is the
other golden files' concern), validated against the Kubernetes schemas. Whether the policies
allow exactly what the configuration connects is the reachability test's
(tests/unit/test_network_policies.py).

Run with UPDATE_GOLDEN=1 to rewrite the golden files, then read every line of the diff
(`git diff tests/golden/`) before committing.
"""

import pytest
from k8s import assert_valid

import golden

CASES = ["production", "network-policies-egress"]


def policies(case: str) -> tuple[list, list]:
    objects, findings = golden.rendered(case)
    return [o for o in objects if o["kind"] == "NetworkPolicy"], findings


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    found, findings = policies(case)
    assert found
    golden.check(f"network-policies-{case.removeprefix('network-policies-')}.yaml",
                 golden.golden_text(found, [f for f in findings if f.severity != "info"]))


@pytest.mark.parametrize("case", CASES)
def test_golden_output_validates(case):
    objects, _ = golden.rendered(case)
    assert_valid(objects)
