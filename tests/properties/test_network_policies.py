"""The reachability test (tests/unit/test_network_policies.py) over hypothesis-generated
PulsarClusters: whatever the spec (both metadata stores, sets and racks, TLS per component and
set, Kafka, functions in a worker or in the brokers, the kubernetes runtime, renamed
components and sets, KAAP input, user sidecars), the rendered NetworkPolicies allow exactly
the connections the rendered configuration needs, with and without egress lockdown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from properties.test_generated_clusters import SETTINGS, clusters
from k8s import assert_valid
from krm_pulsar import render
from reachability import compare, with_policies


@SETTINGS
@given(clusters(), st.booleans(), st.booleans())
def test_generated_clusters_reach_exactly_what_they_connect(config, egress, broker_clients):
    config = with_policies(config, egress=egress, broker_clients=broker_clients)
    objects, findings = render.render(config)
    errors = [f for f in findings if f.severity == "error"]
    assert not errors, errors
    _, expected, problems = compare(objects, egress=egress, broker_clients=broker_clients)
    assert not problems, "\n".join(problems)
    assert expected  # something connects: at least the clients to their entry point
    assert_valid([o for o in objects if o["kind"] == "NetworkPolicy"])
