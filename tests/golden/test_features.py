"""Golden files of the features of issue 15 (PodMonitors, autoscalers, topology spread, pinned
racks, ACME certificates): the exact output for each fixture, validated against the Kubernetes
schemas, cert-manager's CRDs and the Prometheus operator's PodMonitor CRD.

Run with UPDATE_GOLDEN=1 to rewrite the golden files, then read every line of the diff
(`git diff tests/golden/`) before committing.
"""

import pytest

import cert_manager
import golden
import prometheus_operator
from k8s import assert_valid

CASES = ["monitoring-pod-monitors", "monitoring-oxia", "autoscaling-hpa", "placement-spread",
         "racks-pinned-zones", "tls-acme"]
# the kinds each fixture is about: its golden file must show them
SHOWS = {"monitoring-pod-monitors": "PodMonitor", "monitoring-oxia": "PodMonitor",
         "autoscaling-hpa": "HorizontalPodAutoscaler", "placement-spread": "StatefulSet",
         "racks-pinned-zones": "StatefulSet", "tls-acme": "Issuer"}

rendered = golden.rendered


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    objects, findings = rendered(case)
    assert any(o["kind"] == SHOWS[case] for o in objects)
    golden.check(f"{case}.yaml", golden.golden_text(objects, findings))


@pytest.mark.parametrize("case", CASES)
def test_golden_output_validates(case):
    objects, _ = rendered(case)
    by_group = {"cert-manager.io": [], "monitoring.coreos.com": [], "": []}
    for obj in objects:
        group = obj["apiVersion"].rpartition("/")[0]
        by_group[group if group in by_group else ""].append(obj)
    assert_valid(by_group[""])
    cert_manager.assert_valid(by_group["cert-manager.io"])
    prometheus_operator.assert_valid(by_group["monitoring.coreos.com"])


def test_pod_monitor_validation_rejects_bad_objects():
    """The CRD validation can fail: unknown fields, wrong types and enum values are caught."""
    objects, _ = rendered("monitoring-pod-monitors")
    monitor = next(o for o in objects if o["kind"] == "PodMonitor")
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    bad = [
        {**monitor, "spec": {**monitor["spec"], "podMetricEndpoints": []}},
        {**monitor, "spec": {**monitor["spec"], "podMetricsEndpoints": [
            {**endpoint, "scheme": "tcp"}]}},
        {**monitor, "spec": {**monitor["spec"], "podMetricsEndpoints": [
            {**endpoint, "interval": "thirty seconds"}]}},
        {**monitor, "spec": {k: v for k, v in monitor["spec"].items() if k != "selector"}},
    ]
    for obj in bad:
        assert prometheus_operator.schema_errors(obj), obj["spec"]
    assert prometheus_operator.schema_errors(monitor) == []
