"""Rules of the package's shape that a reviewer would otherwise have to remember
(docs/architecture.md): each kind of fact lives in one module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from krm_pulsar import endpoints

PACKAGE = Path(__file__).resolve().parents[2] / "krm_pulsar"
PORTS = sorted({port.number for port in endpoints.TABLE.values()})
_PORT_IN_TEXT = re.compile(r"(?<![0-9])(" + "|".join(map(str, PORTS)) + r")(?![0-9])")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may name a port)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def bare_ports(path: Path) -> list[str]:
    """Port numbers written as code in `path`: integer literals and numbers inside strings."""
    tree = ast.parse(path.read_text())
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        if type(node.value) is int and node.value in PORTS:
            found.append(f"{path.name}:{node.lineno}: {node.value}")
        elif isinstance(node.value, str):
            found.extend(f"{path.name}:{node.lineno}: {match}"
                         for match in _PORT_IN_TEXT.findall(node.value))
    return found


def test_no_port_number_outside_the_endpoint_table():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "endpoints.py":
            found.extend(bare_ports(path))
    assert not found, "port numbers belong in krm_pulsar/endpoints.py:\n" + "\n".join(found)


def test_the_check_finds_a_bare_port(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""Listens on 6650."""\nPORT = 6650\nURL = "http://localhost:8080/"\n')
    assert bare_ports(sample) == ["sample.py:2: 6650", "sample.py:3: 8080"]


# --- adding a component (docs/architecture.md#adding-a-component) -------------------------------


def _echo_render(cluster):
    """The module of a small component: a ConfigMap and a Deployment, built from the shared
    building blocks, with names, ports and metrics from the cluster, the table and the entry."""
    from krm_pulsar import registry, workload

    spec = cluster.spec["echo"]
    if spec["replicas"] <= 0:
        return []
    name, labels, match, pod_labels = cluster.identity("echo", spec)
    cm = workload.config_map(cluster, name, labels, spec["annotations"], workload.config_data(
        {"clusterName": cluster.cluster_name}, spec["config"]))
    main = workload.container(name, spec, f"{workload.LOG4J_OPTS} exec bin/pulsar version",
                              ports=[endpoints.port("echo", endpoints.HTTP).container()],
                              env_from=[name])
    pod = workload.pod_spec(cluster, spec, [main], match_labels=match)
    template = workload.pod_template(
        pod_labels, workload.pod_annotations(cluster, spec, registry.metrics_port("echo"), [cm]),
        pod)
    return [cm, workload.deployment(cluster, name, labels, spec["annotations"],
                                    replicas=spec["replicas"], selector=match, template=template)]


def _add_echo(monkeypatch):
    """The model's fields, one module, one entry (and its port in the endpoint table)."""
    import sys
    import types

    from krm_pulsar import model, registry
    from krm_pulsar.schema import Name, Obj

    # 1. the model: the section and its base name
    monkeypatch.setitem(model.SPEC.fields, "echo", Obj(model._component(
        replicas=1, resources=model._requests("256Mi", "0.1"), probes=model._probes(10, 30, 5))))
    monkeypatch.setitem(model.GLOBAL.fields["components"].fields, "echoBaseName", Name("echo"))
    # 2. the module
    module = types.ModuleType("krm_pulsar.components.echo")
    module.render = _echo_render
    monkeypatch.setitem(sys.modules, "krm_pulsar.components.echo", module)
    # 3. the entry, and its port
    monkeypatch.setitem(endpoints.TABLE, ("echo", endpoints.HTTP, False),
                        endpoints.Port(7070, "http"))
    entry = registry.Component(
        "echo", module="echo", stage=registry.SERVICES_STAGE,
        rendered=lambda spec: spec["echo"]["replicas"] > 0, base_name_key="echoBaseName",
        metrics=registry.Metrics("echo", endpoints.HTTP, "/metrics"), endpoints=("echo",),
        connects_to=("broker",))
    components = (*registry.COMPONENTS, entry)
    monkeypatch.setattr(registry, "COMPONENTS", components)
    monkeypatch.setattr(registry, "BY_SECTION", {c.section: c for c in components})
    monkeypatch.setattr(registry, "PULSAR_COMPONENTS",
                        tuple(c for c in components if c.base_name_key))
    monkeypatch.setattr(registry, "STAGES", tuple(
        tuple(c for c in components if c.stage == stage) for stage in range(len(registry.STAGES))))
    return entry


def test_a_component_added_through_the_registry_renders(monkeypatch):
    from k8s import assert_valid
    from krm_pulsar import model, render
    from unit import test_registry

    entry = _add_echo(monkeypatch)
    test_registry.test_entry_is_complete(entry)
    test_registry.test_every_component_section_of_the_model_has_an_entry()
    test_registry.test_base_names_match_the_model()

    config = {"apiVersion": "krm-pulsar.io/v1alpha1", "kind": "PulsarCluster",
              "metadata": {"name": "pulsar", "namespace": "pulsar"},
              "spec": {"echo": {"replicas": 2, "config": {"answer": 42}}}}
    objects, findings = render.render(config)
    assert not [f for f in findings if f.severity == "error"], findings
    echo = {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects
            if obj["metadata"]["labels"].get("component") == "echo"}
    assert set(echo) == {("ConfigMap", "pulsar-echo"), ("Deployment", "pulsar-echo")}
    deployment = echo[("Deployment", "pulsar-echo")]
    annotations = deployment["metadata"]["annotations"]
    assert annotations["argocd.argoproj.io/sync-wave"] == "3000"  # its stage's wave
    assert annotations["internal.config.kubernetes.io/path"] == \
        "pulsar/echo/deployment_pulsar-echo.yaml"
    template = deployment["spec"]["template"]
    assert template["metadata"]["annotations"]["prometheus.io/port"] == "7070"
    container = template["spec"]["containers"][0]
    assert container["image"] == model.DEFAULT_PULSAR_IMAGE  # from spec.global
    assert container["ports"] == [{"name": "http", "containerPort": 7070}]
    assert echo[("ConfigMap", "pulsar-echo")]["data"]["PULSAR_PREFIX_answer"] == "42"
    assert_valid(list(echo.values()))

    config["spec"]["echo"]["replicas"] = 0
    objects, _ = render.render(config)
    assert not [o for o in objects if o["metadata"]["labels"].get("component") == "echo"]


def test_an_entry_without_its_model_section_fails_the_registry_test(monkeypatch):
    import pytest

    from krm_pulsar import model
    from unit import test_registry

    _add_echo(monkeypatch)
    monkeypatch.delitem(model.SPEC.fields, "echo")
    with pytest.raises(AssertionError):
        test_registry.test_every_component_section_of_the_model_has_an_entry()
