"""Validation of cert-manager objects against cert-manager's own CRD schemas.

The CRDs come from the cert-manager release's Go module (scripts/ensure-cert-manager-crds.sh,
run by `make test`, path in CERT_MANAGER_CRDS). Validation is strict (tests/support/crds.py):
a field the CRD does not declare fails, unless the CRD preserves unknown fields there.
"""

from __future__ import annotations

from crds import Crds

VERSION = "v1.21.2"
CRD_FILES = {"Certificate": "cert-manager.io_certificates.yaml",
             "Issuer": "cert-manager.io_issuers.yaml"}
CRDS = Crds("cert-manager", VERSION, "cert-manager.io", CRD_FILES, "CERT_MANAGER_CRDS",
            "ensure-cert-manager-crds.sh")
crd_dir = CRDS.directory
schema_errors = CRDS.schema_errors
assert_valid = CRDS.assert_valid
