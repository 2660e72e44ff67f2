"""PodMonitors (issue 15 item 1, docs/monitoring.md): one per component, selecting every set's
pods, scraping the port and path each component serves metrics on, with the token Pulsar asks
for; settings inherited from spec.global.podMonitor; bad settings refused at their field."""

from __future__ import annotations

import pytest

import prometheus_operator
from krm_pulsar import endpoints, model, monitoring, registry, render
from unit.feature_support import (
    KAAP,
    config,
    errors_of,
    of_kind,
    paths,
    render_spec,
    warnings_of,
)

ON = {"global": {"podMonitor": {"enabled": True}}}


def monitors(spec, **kwargs):
    objects, _ = render_spec(spec, **kwargs)
    return of_kind(objects, "PodMonitor")


def test_off_by_default_and_nothing_else_changes_when_on():
    plain, _ = render_spec({})
    assert not of_kind(plain, "PodMonitor")
    with_monitors, _ = render_spec(ON)
    assert [o for o in with_monitors if o["kind"] != "PodMonitor"] == plain


def test_every_component_with_metrics_has_a_pod_monitor_field():
    for entry in registry.COMPONENTS:
        fields = model.SPEC.fields[entry.section].fields
        assert ("podMonitor" in fields) == (entry.metrics is not None), entry.section
    # ... and no set has one (one PodMonitor per component)
    for section, set_schema in model.SET_COMPONENTS.items():
        assert "podMonitor" not in set_schema.fields, section


def test_one_pod_monitor_per_rendered_component_at_the_registry_port_and_path():
    found = monitors({**ON, "functionsWorker": {"replicas": 1}})
    assert sorted(found) == ["pulsar-autorecovery", "pulsar-bookkeeper", "pulsar-broker",
                             "pulsar-function", "pulsar-proxy", "pulsar-zookeeper"]
    for section, name in (("bookkeeper", "pulsar-bookkeeper"), ("broker", "pulsar-broker"),
                          ("proxy", "pulsar-proxy"), ("autorecovery", "pulsar-autorecovery"),
                          ("functionsWorker", "pulsar-function")):
        metrics = registry.BY_SECTION[section].metrics
        endpoint = found[name]["spec"]["podMetricsEndpoints"][0]
        port = endpoints.port(metrics.endpoint, metrics.protocol)
        assert (endpoint["port"], endpoint["path"], endpoint["scheme"]) == (
            port.container_name, metrics.path, "http"), section
        assert "relabelings" not in endpoint or all(
            r["targetLabel"] != "__address__" for r in endpoint["relabelings"])


def test_zookeeper_is_scraped_on_its_undeclared_metrics_port():
    """ZooKeeper's metrics provider listens on 8000, which its container does not declare
    (KAAP's pod template): the target of a declared port is rewritten to 8000."""
    endpoint = monitors(ON)["pulsar-zookeeper"]["spec"]["podMetricsEndpoints"][0]
    assert endpoint["port"] == "client"
    rewrite = endpoint["relabelings"][0]
    assert rewrite["targetLabel"] == "__address__"
    assert rewrite["replacement"] == f"${{1}}:{registry.metrics_port('zookeeper')}"
    import re

    address = re.fullmatch(rewrite["regex"], "10.1.2.3:2181")
    assert address and address.expand(r"\1:8000") == "10.1.2.3:8000"
    assert re.fullmatch(rewrite["regex"], "[fd00::5]:2181").group(1) == "[fd00::5]"


def test_proxy_sets_with_and_without_tls_get_one_endpoint_each():
    found = monitors({**ON, "global": {**ON["global"], "resourceSets": {"a": {}, "b": {}},
                                       "tls": {"proxyResourceSets": {"b": {"enabled": True}}}},
                      "proxy": {"sets": {"a": {}, "b": {}}}})
    endpoints_ = found["pulsar-proxy"]["spec"]["podMetricsEndpoints"]
    assert [e["port"] for e in endpoints_] == ["http", "https"]
    # the TLS set still serves HTTP metrics on 8080: no certificate needed
    assert endpoints_[1]["relabelings"][0]["replacement"] == "${1}:8080"
    assert {e["scheme"] for e in endpoints_} == {"http"}


def test_the_selector_reaches_every_set_and_no_other_component():
    objects, _ = render_spec({**ON, "global": {**ON["global"], "resourceSets": {
        "blue": {}, "green": {}}}, "broker": {"sets": {"blue": {}, "green": {}}}})
    selector = of_kind(objects, "PodMonitor")["pulsar-broker"]["spec"]["selector"]
    templates = [o["spec"]["template"]["metadata"]["labels"] for o in objects
                 if o["kind"] in ("StatefulSet", "Deployment", "Job")]
    selected = [labels for labels in templates if all(
        labels.get(k) == v for k, v in selector["matchLabels"].items())]
    assert {labels["resource-set"] for labels in selected} == {"blue", "green"}
    assert {labels["component"] for labels in selected} == {"broker"}


def test_oxia_pod_monitor_selects_coordinator_and_servers():
    found = monitors({**ON, "oxia": {"enabled": True}})
    selector = found["pulsar-oxia"]["spec"]["selector"]
    assert selector["matchExpressions"] == [{"key": "component", "operator": "In",
                                             "values": ["oxia-coordinator", "oxia-server"]}]
    assert found["pulsar-oxia"]["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    assert "pulsar-zookeeper" not in found


def test_component_settings_override_the_global_ones():
    found = monitors({"global": {"podMonitor": {"enabled": True, "interval": "30s",
                                                "labels": {"release": "prom"}}},
                      "broker": {"podMonitor": {"interval": "15s", "labels": {"team": "x"},
                                                "metricRelabelings": [
                                                    {"action": "drop", "regex": "x.*",
                                                     "sourceLabels": ["__name__"]}]}},
                      "bookkeeper": {"podMonitor": {"enabled": False}}})
    broker = found["pulsar-broker"]
    assert broker["metadata"]["labels"]["release"] == "prom"
    assert broker["metadata"]["labels"]["team"] == "x"
    assert broker["spec"]["podMetricsEndpoints"][0]["interval"] == "15s"
    assert broker["spec"]["podMetricsEndpoints"][0]["metricRelabelings"][0]["action"] == "drop"
    assert found["pulsar-proxy"]["spec"]["podMetricsEndpoints"][0]["interval"] == "30s"
    assert "metricRelabelings" not in found["pulsar-proxy"]["spec"]["podMetricsEndpoints"][0]
    assert "pulsar-bookkeeper" not in found


def test_a_component_can_turn_its_pod_monitor_on_alone():
    assert sorted(monitors({"broker": {"podMonitor": {"enabled": True}}})) == ["pulsar-broker"]


@pytest.mark.parametrize("api_version", ["krm-pulsar.io/v1alpha1", KAAP])
def test_token_only_where_pulsar_authenticates_metrics(api_version):
    found = monitors({"global": {"podMonitor": {"enabled": True}, "auth": {"enabled": True}},
                      "functionsWorker": {"replicas": 1}}, api_version=api_version)
    with_token = {name for name, m in found.items()
                  if any("authorization" in e for e in m["spec"]["podMetricsEndpoints"])}
    assert with_token == {"pulsar-proxy", "pulsar-function"}
    credentials = found["pulsar-proxy"]["spec"]["podMetricsEndpoints"][0]["authorization"]
    assert credentials == {"type": "Bearer", "credentials": {"name": "token-metrics",
                                                             "key": "metrics.jwt"}}


def test_authenticate_metrics_endpoint_in_config_decides():
    found = monitors({"global": {"podMonitor": {"enabled": True}, "auth": {"enabled": True}},
                      "broker": {"config": {"authenticateMetricsEndpoint": "true"}},
                      "proxy": {"config": {"authenticateMetricsEndpoint": False}}})
    assert "authorization" in found["pulsar-broker"]["spec"]["podMetricsEndpoints"][0]
    assert "authorization" not in found["pulsar-proxy"]["spec"]["podMetricsEndpoints"][0]


def test_the_token_job_creates_the_metrics_token_only_when_needed():
    def roles(spec):
        objects, _ = render_spec(spec)
        job = next(o for o in objects if o["kind"] == "Job" and "token-init" in
                   o["metadata"]["name"])
        env = {e["name"]: e.get("value") for e in
               job["spec"]["template"]["spec"]["containers"][0]["env"]}
        return env["TOKEN_ROLES"].split(",")

    assert "metrics" not in roles({"global": {"auth": {"enabled": True}}})
    assert "metrics" in roles({"global": {"auth": {"enabled": True},
                                          "podMonitor": {"enabled": True}}})


def test_without_the_token_job_the_metrics_token_is_a_prerequisite():
    objects, findings = render.render(config({"global": {
        "auth": {"enabled": True, "token": {"initialize": False}},
        "podMonitor": {"enabled": True}}}))
    assert objects
    messages = [f.message for f in findings if f.severity == "info"]
    assert any("'token-metrics' must exist" in m for m in messages)
    assert any("Prometheus operator" in m for m in messages)


def test_rendered_pod_monitors_validate_against_the_crd():
    found = monitors({"global": {"podMonitor": {"enabled": True, "interval": "1m30s",
                                                "scrapeTimeout": "20s"},
                                 "auth": {"enabled": True},
                                 "tls": {"proxy": {"enabled": True}}},
                      "functionsWorker": {"replicas": 1}})
    prometheus_operator.assert_valid(list(found.values()))


@pytest.mark.parametrize("settings,path", [
    ({"global": {"podMonitor": {"interval": "10s", "scrapeTimeout": "30s"}}},
     "spec.global.podMonitor.scrapeTimeout"),
    ({"global": {"podMonitor": {"interval": "10s"}}, "broker": {"podMonitor": {
        "scrapeTimeout": "1m"}}}, "spec.broker.podMonitor.scrapeTimeout"),
    ({"global": {"podMonitor": {"interval": "every minute"}}}, "spec.global.podMonitor.interval"),
    ({"proxy": {"podMonitor": {"metricRelabelings": [{"action": "explode"}]}}},
     "spec.proxy.podMonitor.metricRelabelings[0].action"),
    ({"proxy": {"podMonitor": {"metricRelabelings": [{"action": "replace",
                                                       "sourceLabels": ["a"]}]}}},
     "spec.proxy.podMonitor.metricRelabelings[0].targetLabel"),
    ({"proxy": {"podMonitor": {"metricRelabelings": [{"action": "hashmod",
                                                       "targetLabel": "x"}]}}},
     "spec.proxy.podMonitor.metricRelabelings[0].modulus"),
    ({"proxy": {"podMonitor": {"metricRelabelings": [{"action": "labeldrop", "regex": "x",
                                                       "targetLabel": "y"}]}}},
     "spec.proxy.podMonitor.metricRelabelings[0].targetLabel"),
    ({"proxy": {"podMonitor": {"metricRelabelings": [{"source_labels": ["a"]}]}}},
     "spec.proxy.podMonitor.metricRelabelings[0].source_labels"),
    ({"global": {"podMonitor": {"labels": {"bad key!": "x"}}}},
     'spec.global.podMonitor.labels["bad key!"]'),
])
def test_bad_settings_are_refused_at_their_field(settings, path):
    assert path in paths(errors_of(settings))


def test_warnings_name_what_cannot_work():
    superuser = warnings_of({"global": {"podMonitor": {"enabled": True}, "auth": {
        "enabled": True, "token": {"superUserRoles": ["admin", "proxy", "superuser",
                                                      "websocket", "metrics"]}}}})
    assert "spec.global.auth.token.superUserRoles" in paths(superuser)
    blocked = warnings_of({"global": {"podMonitor": {"enabled": True},
                                      "networkPolicies": {"enabled": True}}})
    assert "spec.global.networkPolicies.metricsFrom" in paths(blocked)


def test_relabel_problems_accept_what_prometheus_accepts():
    for rule in ({"action": "drop", "sourceLabels": ["__name__"], "regex": "x"},
                 {"action": "Replace", "sourceLabels": ["a", "b"], "separator": "/",
                  "targetLabel": "c", "replacement": "$1"},
                 {"action": "labelmap", "regex": "__meta_(.+)"},
                 {"action": "hashmod", "sourceLabels": ["a"], "targetLabel": "b",
                  "modulus": 4}):
        assert monitoring.relabel_problems(rule, "p") == [], rule
