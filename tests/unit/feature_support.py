"""Shared helpers of the feature tests of issue 15 (test_monitoring, test_autoscaling,
test_spread_and_pinning, test_acme): render one spec, look objects up, pick findings."""

from __future__ import annotations

import copy

from conftest import render_without_info

KRM = "krm-pulsar.io/v1alpha1"
KAAP = "kaap.oss.datastax.com/v1beta1"


def config(spec: dict, api_version: str = KRM, namespace: str | None = "pulsar") -> dict:
    metadata = {"name": "pulsar"}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": "PulsarCluster", "metadata": metadata,
            "spec": copy.deepcopy(spec)}


def render_spec(spec: dict, **kwargs) -> tuple[list, list]:
    """``(objects, findings without info)``; fails on error findings."""
    objects, findings = render_without_info(config(spec, **kwargs))
    errors = [f for f in findings if f.severity == "error"]
    assert not errors, errors
    return objects, findings


def errors_of(spec: dict, **kwargs) -> list:
    objects, findings = render_without_info(config(spec, **kwargs))
    assert objects == [], "an error must stop the render"
    return [f for f in findings if f.severity == "error"]


def warnings_of(spec: dict, **kwargs) -> list:
    return [f for f in render_spec(spec, **kwargs)[1] if f.severity == "warning"]


def paths(findings: list) -> list[str]:
    return [f.path for f in findings]


def of_kind(objects: list, kind: str) -> dict:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_spec(objects: list, kind: str, name: str) -> dict:
    return of_kind(objects, kind)[name]["spec"]["template"]["spec"]
