"""Golden files of TLS and token authentication (issue 8): the exact output for each fixture,
validated against the Kubernetes schemas and, for cert-manager objects, cert-manager's CRDs.

Run with UPDATE_GOLDEN=1 to rewrite the golden files, then read every line of the diff
(`git diff tests/golden/`) before committing.
"""

import pytest

import cert_manager
import golden
from k8s import assert_valid

CASES = ["tls-existing-secrets", "tls-cert-manager", "auth-token", "tls-auth-resource-sets"]


rendered = golden.rendered


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    objects, findings = rendered(case)
    golden.check(f"{case}.yaml", golden.golden_text(objects, findings))


@pytest.mark.parametrize("case", CASES)
def test_golden_output_validates(case):
    objects, _ = rendered(case)
    cert_manager_objects = [o for o in objects if o["apiVersion"].startswith("cert-manager.io/")]
    assert_valid([o for o in objects if o not in cert_manager_objects])
    cert_manager.assert_valid(cert_manager_objects)


def test_cert_manager_validation_rejects_bad_objects():
    """The CRD validation can fail: unknown fields, wrong types and enum values are caught."""
    objects, _ = rendered("tls-cert-manager")
    certificate = next(o for o in objects if o["kind"] == "Certificate"
                       and not o["spec"].get("isCA"))
    bad = [
        {**certificate, "spec": {**certificate["spec"], "dnsName": ["typo"]}},
        {**certificate, "spec": {**certificate["spec"], "dnsNames": "not-a-list"}},
        {**certificate, "spec": {**certificate["spec"],
                                 "privateKey": {"algorithm": "DSA"}}},
        {**certificate, "spec": {k: v for k, v in certificate["spec"].items()
                                 if k != "secretName"}},
    ]
    for obj in bad:
        assert cert_manager.schema_errors(obj), obj["spec"]
    assert cert_manager.schema_errors(certificate) == []
