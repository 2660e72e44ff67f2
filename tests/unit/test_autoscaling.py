"""Horizontal autoscaling of brokers and proxies (issue 15 item 2, docs/autoscaling.md): an
autoscaling/v2 HorizontalPodAutoscaler per set, workloads without replicas, the API server's
rules and what makes an accepted autoscaler useless, refused or warned at their field."""

from __future__ import annotations

import pytest

from k8s import assert_valid
from krm_pulsar import model, storage
from unit.feature_support import (
    KAAP,
    errors_of,
    of_kind,
    paths,
    render_spec,
    warnings_of,
)

BROKER_HPA = {"broker": {"hpa": {"enabled": True, "maxReplicas": 6}}}


def test_an_autoscaler_per_set_and_workloads_without_replicas():
    objects, _ = render_spec({
        "global": {"resourceSets": {"blue": {}, "green": {}}},
        "broker": {"replicas": 2, "hpa": {"enabled": True, "maxReplicas": 6},
                   "sets": {"blue": {}, "green": {"replicas": 4, "hpa": {"maxReplicas": 8}}}},
        "proxy": {"hpa": {"enabled": True, "minReplicas": 2, "maxReplicas": 5}}})
    hpas = of_kind(objects, "HorizontalPodAutoscaler")
    assert sorted(hpas) == ["pulsar-broker-blue", "pulsar-broker-green", "pulsar-proxy"]
    green = hpas["pulsar-broker-green"]["spec"]
    assert green["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet",
                                       "name": "pulsar-broker-green"}
    # minReplicas defaults to the set's replicas; the default metric is CPU at 80 %
    assert (green["minReplicas"], green["maxReplicas"]) == (4, 8)
    assert hpas["pulsar-broker-blue"]["spec"]["minReplicas"] == 2
    assert green["metrics"] == model.HPA_DEFAULT_METRICS
    assert hpas["pulsar-proxy"]["spec"]["scaleTargetRef"]["kind"] == "Deployment"
    for name in ("pulsar-broker-blue", "pulsar-broker-green"):
        assert "replicas" not in of_kind(objects, "StatefulSet")[name]["spec"]
    assert "replicas" not in of_kind(objects, "Deployment")["pulsar-proxy"]["spec"]
    # the set labels, so sync waves and pruning treat it with its workload
    assert hpas["pulsar-broker-blue"]["metadata"]["labels"]["resource-set"] == "blue"
    assert_valid(list(hpas.values()))


def test_a_set_can_opt_out_and_keeps_its_replicas():
    objects, _ = render_spec({
        "global": {"resourceSets": {"a": {}, "b": {}}},
        "proxy": {"hpa": {"enabled": True, "maxReplicas": 5},
                  "sets": {"a": {}, "b": {"replicas": 1, "hpa": {"enabled": False}}}}})
    assert sorted(of_kind(objects, "HorizontalPodAutoscaler")) == ["pulsar-proxy-a"]
    assert of_kind(objects, "Deployment")["pulsar-proxy-b"]["spec"]["replicas"] == 1


def test_behavior_and_metrics_pass_through():
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 600, "policies": [
        {"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    metrics = [{"type": "Pods", "pods": {"metric": {"name": "pulsar_rate_in"},
                                         "target": {"type": "AverageValue",
                                                    "averageValue": "10k"}}}]
    objects, _ = render_spec({"broker": {"hpa": {"enabled": True, "maxReplicas": 4,
                                                 "behavior": behavior, "metrics": metrics}}})
    spec = of_kind(objects, "HorizontalPodAutoscaler")["pulsar-broker"]["spec"]
    assert (spec["behavior"], spec["metrics"]) == (behavior, metrics)
    assert_valid([of_kind(objects, "HorizontalPodAutoscaler")["pulsar-broker"]])


def test_kaap_input_gets_it_too_and_the_kaap_autoscaler_warning_points_at_hpa():
    objects, findings = render_spec({"broker": {"autoscaler": {"enabled": True},
                                                "hpa": {"enabled": True, "maxReplicas": 5}}},
                                    api_version=KAAP)
    assert "pulsar-broker" in of_kind(objects, "HorizontalPodAutoscaler")
    warning = next(f for f in findings if f.path == "spec.broker.autoscaler.enabled")
    assert "spec.broker.hpa" in warning.message


@pytest.mark.parametrize("spec,path", [
    ({"broker": {"hpa": {"enabled": True}}}, "spec.broker.hpa.maxReplicas"),
    ({"broker": {"hpa": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}},
     "spec.broker.hpa.minReplicas"),
    # the default minReplicas is the set's replicas
    ({"broker": {"replicas": 4, "hpa": {"enabled": True, "maxReplicas": 3}}},
     "spec.broker.replicas"),
    ({"global": {"resourceSets": {"a": {}}},
      "broker": {"hpa": {"enabled": True, "maxReplicas": 3}, "sets": {"a": {
          "hpa": {"minReplicas": 4}}}}}, "spec.broker.sets.a.hpa.minReplicas"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "minReplicas": 0}}},
     "spec.broker.hpa.minReplicas"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "metrics": [
        {"type": "Resource"}]}}}, "spec.broker.hpa.metrics[0].resource"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "metrics": [
        {"type": "Cpu"}]}}}, "spec.broker.hpa.metrics[0].type"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "metrics": [
        {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization"}}}]}}},
     "spec.broker.hpa.metrics[0].resource.target.averageUtilization"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "metrics": [
        {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Value", "value": "1"}}}]}}},
     "spec.broker.hpa.metrics[0].resource.target.type"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "metrics": [
        {"type": "Pods", "pods": {"metric": {"name": "x"}, "target": {
            "type": "AverageValue", "averageValue": "lots"}}}]}}},
     "spec.broker.hpa.metrics[0].pods.target.averageValue"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "metrics": [
        {"type": "Object", "object": {"metric": {"name": "x"}, "target": {
            "type": "Value", "value": "1"}}}]}}},
     "spec.broker.hpa.metrics[0].object.describedObject"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "metrics": [
        {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 80}},
         "pods": {"metric": {"name": "x"}}}]}}}, "spec.broker.hpa.metrics[0].pods"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "behavior": {
        "scaleUp": {"stabilizationWindowSeconds": 7200}}}}},
     "spec.broker.hpa.behavior.scaleUp.stabilizationWindowSeconds"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "behavior": {
        "scaleDown": {"policies": [{"type": "Nodes", "value": 1, "periodSeconds": 60}]}}}}},
     "spec.broker.hpa.behavior.scaleDown.policies[0].type"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "behavior": {
        "scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 3600}]}}}}},
     "spec.broker.hpa.behavior.scaleDown.policies[0].periodSeconds"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "behavior": {
        "scaleDown": {"selectPolicy": "Fastest"}}}}},
     "spec.broker.hpa.behavior.scaleDown.selectPolicy"),
    # int32 fields: the API server refuses 2^31
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "metrics": [
        {"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 2 ** 31}}}]}}},
     "spec.broker.hpa.metrics[0].resource.target.averageUtilization"),
    ({"broker": {"hpa": {"enabled": True, "maxReplicas": 3, "behavior": {
        "scaleUp": {"policies": [{"type": "Percent", "value": 2 ** 31, "periodSeconds": 60}]}}}}},
     "spec.broker.hpa.behavior.scaleUp.policies[0].value"),
])
def test_what_the_api_server_refuses_is_an_error_at_its_field(spec, path):
    assert path in paths(errors_of(spec))


def test_utilization_targets_need_requests_on_every_container():
    # a sidecar without a CPU request: the autoscaler would report the metric missing
    sidecar = {"name": "log-shipper", "image": "busybox:1.36", "securityContext": {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}
    found = errors_of({"broker": {**BROKER_HPA["broker"], "sidecars": [sidecar]}})
    assert "spec.broker.hpa.metrics[0]" in paths(found)
    assert "log-shipper" in found[0].message
    # the main container without requests
    found = errors_of({"proxy": {"resources": {"requests": {"memory": "1Gi"}},
                                 "hpa": {"enabled": True, "maxReplicas": 4}}})
    assert "requests no cpu" in found[0].message
    # a limit is also the request; an AverageValue target needs no request
    render_spec({"proxy": {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                           "hpa": {"enabled": True, "maxReplicas": 4}}})
    render_spec({"broker": {**BROKER_HPA["broker"], "sidecars": [sidecar], "hpa": {
        "enabled": True, "maxReplicas": 6, "metrics": [
            {"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "AverageValue", "averageValue": "500m"}}}]}}})
    # the websocket container of the proxy pod counts as well
    found = errors_of({"proxy": {"webSocket": {"resources": {"requests": {"memory": "1Gi"}}},
                                 "hpa": {"enabled": True, "maxReplicas": 4}}})
    assert "pulsar-proxy-ws" in found[0].message


def test_container_resource_metrics_name_an_existing_container():
    metric = {"type": "ContainerResource", "containerResource": {
        "name": "cpu", "container": "broker", "target": {"type": "Utilization",
                                                       "averageUtilization": 70}}}
    found = errors_of({"broker": {"hpa": {"enabled": True, "maxReplicas": 4,
                                          "metrics": [metric]}}})
    assert "spec.broker.hpa.metrics[0].containerResource.container" in paths(found)
    metric["containerResource"]["container"] = "pulsar-broker"
    render_spec({"broker": {"hpa": {"enabled": True, "maxReplicas": 4, "metrics": [metric]}}})


def test_disruption_budget_interplay_is_warned():
    one = warnings_of({"broker": {"replicas": 1, "hpa": {"enabled": True, "maxReplicas": 3}}})
    assert "spec.broker.hpa.minReplicas" in paths(one)
    blocked = warnings_of({"broker": {"replicas": 2, "pdb": {"minAvailable": 2},
                                      "hpa": {"enabled": True, "maxReplicas": 4}}})
    assert "spec.broker.pdb.minAvailable" in paths(blocked)
    assert warnings_of({"broker": {"replicas": 3, "hpa": {"enabled": True,
                                                          "maxReplicas": 6}}}) == []


def test_a_set_without_replicas_gets_no_autoscaler_and_a_warning():
    spec = {"global": {"resourceSets": {"a": {}, "b": {}}},
            "broker": {"hpa": {"enabled": True, "maxReplicas": 4},
                       "sets": {"a": {}, "b": {"replicas": 0}}}}
    objects, findings = render_spec(spec)
    assert sorted(of_kind(objects, "HorizontalPodAutoscaler")) == ["pulsar-broker-a"]
    assert "spec.broker.hpa.enabled" in paths(findings)


def test_package_storage_counts_the_most_brokers_the_autoscaler_may_run():
    spec = {"broker": {"replicas": 1, "hpa": {"enabled": True, "maxReplicas": 3}}}
    resolved = model.with_defaults(spec, {"name": "p"}, model.API_VERSION)
    assert storage.broker_count(resolved) == 3
    # one broker on a ReadWriteOnce claim is fine, up to three of them are not
    found = errors_of({**spec, "broker": {**spec["broker"], "packageManagement": {
        "enabled": True, "fileSystemStorage": {"enabled": True}}}})
    assert any("accessModes" in f.path for f in found)
