"""Property: whatever the user writes into the raw Kubernetes sections of a spec, krm-pulsar
either refuses it with field paths inside what was written, or prints output that the
Kubernetes schemas of 1.30 and 1.37 accept (kubernetes-validate, strict). Never exit 0 with
invalid output (docs/kubernetes-schema.md).

Valid structures of every kind (env, tolerations, imagePullSecrets, sidecars, initContainers,
additionalVolumes, securityContext, nodeAffinity, dnsConfig, updateStrategy,
service.additionalPorts, resources) are drawn, then broken at a random place: a value of another
type, an unknown field, a removed field, a null, or left as it is. One to three of them go into
random components, a resource set or spec.global, of either API version.
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from k8s import assert_valid

from krm_pulsar import render

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CONTAINER = {"name": "side", "image": "busybox:1.36", "command": ["sleep", "infinity"],
             "args": ["--v", "2"],
             "ports": [{"containerPort": 9000, "name": "side", "protocol": "TCP"}],
             "env": [{"name": "A", "value": "b"}],
             "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}},
             "livenessProbe": {"httpGet": {"port": 9000, "path": "/"}, "periodSeconds": 10},
             "securityContext": {"runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}}
# field -> valid values of it (the field's Kubernetes type: krm_pulsar/model.py)
VALID = {
    "env": [[{"name": "TZ", "value": "UTC"},
             {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
             {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]],
    "tolerations": [[{"key": "dedicated", "operator": "Equal", "value": "pulsar",
                      "effect": "NoSchedule"},
                     {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]],
    "imagePullSecrets": [[{"name": "regcred"}]],
    "sidecars": [[CONTAINER]],
    "initContainers": [[{"name": "init", "image": "busybox:1.36", "command": ["true"],
                         "resources": {"requests": {"cpu": "10m"}}}]],
    "additionalVolumes": [{
        "volumes": [{"name": "extra", "configMap": {"name": "cm", "items": [
            {"key": "a", "path": "a"}]}}, {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
        "mounts": [{"name": "extra", "mountPath": "/pulsar/extra", "readOnly": True}]}],
    "securityContext": [{"runAsUser": 10000, "runAsGroup": 0, "fsGroup": 0,
                         "fsGroupChangePolicy": "OnRootMismatch", "supplementalGroups": [1000],
                         "runAsNonRoot": True}],
    "nodeAffinity": [{
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["pulsar"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": {
            "matchExpressions": [{"key": "disk", "operator": "Exists"}]}}]}],
    "dnsConfig": [{"options": [{"name": "ndots", "value": "3"}, {"name": "edns0"}],
                   "nameservers": ["10.0.0.10"], "searches": ["svc.cluster.local"]}],
    "resources": [{"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}],
    "service": [{"additionalPorts": [{"name": "extra", "port": 9999, "targetPort": 9999,
                                      "protocol": "TCP"}]}],
    "statefulSetStrategy": [{"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}],
    "deploymentStrategy": [{"type": "RollingUpdate",
                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}}],
}
COMMON = ["env", "tolerations", "imagePullSecrets", "sidecars", "initContainers",
          "securityContext", "nodeAffinity", "dnsConfig", "resources"]
# section -> the fields it has (autorecovery and bastion have no volumes, Service or strategy)
SECTIONS = {
    "zookeeper": [*COMMON, "additionalVolumes", "service", "statefulSetStrategy"],
    "bookkeeper": [*COMMON, "additionalVolumes", "service", "statefulSetStrategy"],
    "broker": [*COMMON, "additionalVolumes", "service", "statefulSetStrategy"],
    "broker.sets.a": [*COMMON, "additionalVolumes", "statefulSetStrategy"],
    "proxy": [*COMMON, "additionalVolumes", "service", "deploymentStrategy"],
    "autorecovery": COMMON,
    "bastion": COMMON,
    "global": ["dnsConfig"],
}
FIELD_KEY = {"statefulSetStrategy": "updateStrategy", "deploymentStrategy": "updateStrategy"}

wrong_value = st.one_of(
    st.integers(-3, 2**40), st.booleans(), st.floats(allow_nan=False, allow_infinity=False,
                                                     width=32),
    st.text(max_size=4), st.none(), st.lists(st.integers(0, 9), max_size=2),
    st.dictionaries(st.sampled_from(["a", "name"]), st.integers(0, 9), max_size=1))
unknown_key = st.from_regex(r"zz[A-Za-z]{1,5}", fullmatch=True)


def places(value, path=()):
    """Every (path, container) inside a structure, the structure itself included."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from places(item, (*path, index))


@st.composite
def broken(draw, field):
    """A valid value of `field`, broken (or not) at one random place."""
    value = copy.deepcopy(draw(st.sampled_from(VALID[field])))
    path, node = draw(st.sampled_from(list(places(value))))
    operation = draw(st.sampled_from(["replace", "unknown", "remove", "keep"]))
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if operation == "replace" and path:
        parent[path[-1]] = draw(wrong_value)
    elif operation == "unknown" and isinstance(node, dict):
        node[draw(unknown_key)] = draw(wrong_value)
    elif operation == "remove" and isinstance(node, dict) and node:
        del node[draw(st.sampled_from(sorted(node)))]
    return value


@st.composite
def specs(draw):
    spec: dict = {"global": {"resourceSets": {"a": {}}}, "broker": {"sets": {"a": {}}}}
    written = []
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(sorted(SECTIONS)))
        field = draw(st.sampled_from(SECTIONS[section]))
        target = spec
        for part in section.split("."):
            target = target.setdefault(part, {})
        key = FIELD_KEY.get(field, field)
        target[key] = draw(broken(field))
        written.append(f"spec.{section}.{key}")
    return spec, written


@SETTINGS
@given(specs(), st.sampled_from(["krm-pulsar.io/v1alpha1", "kaap.oss.datastax.com/v1beta1"]))
def test_raw_structures_are_refused_with_a_path_or_render_valid_output(drawn, api_version):
    spec, written = drawn
    config = {"apiVersion": api_version, "kind": "PulsarCluster", "metadata": {"name": "p"},
              "spec": copy.deepcopy(spec)}
    objects, findings = render.render(config)
    assert config["spec"] == spec  # the input is never changed
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        assert not objects
        for error in errors:
            assert any(error.path == place or error.path.startswith((f"{place}.", f"{place}["))
                       for place in written), (error, written)
    else:
        assert objects
        assert_valid(objects)
