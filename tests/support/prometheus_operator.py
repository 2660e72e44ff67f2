"""Validation of PodMonitors against the Prometheus operator's own CRD schema.

The CRD comes from the prometheus-operator release's Go module
(scripts/ensure-prometheus-operator-crds.sh, run by `make test`, path in
PROMETHEUS_OPERATOR_CRDS). Validation is strict (tests/support/crds.py): a field the CRD does
not declare fails, because the API server prunes it silently (or refuses it with kubectl's
strict field validation).
"""

from __future__ import annotations

from crds import Crds

VERSION = "v0.89.0"
CRD_FILES = {"PodMonitor": "monitoring.coreos.com_podmonitors.yaml"}
CRDS = Crds("prometheus-operator", VERSION, "monitoring.coreos.com", CRD_FILES,
            "PROMETHEUS_OPERATOR_CRDS", "ensure-prometheus-operator-crds.sh")

crd_dir = CRDS.directory
schema_errors = CRDS.schema_errors
assert_valid = CRDS.assert_valid
