"""The Kubernetes structures of the spec, checked against the Kubernetes API
(docs/kubernetes-schema.md), through the real `krm-pulsar` process.

For each kind of structure (every model field with a Kubernetes type): a wrong type, an unknown
field, a missing required field (where the type has one) and a number or boolean where
Kubernetes wants a string (refused, never converted). Each case must exit 1, name the exact
field path in its KRM result and on stderr, and return every input item unchanged; in both API
versions. The positive controls render the same structures written correctly and validate the
output against Kubernetes 1.30 and 1.37 (kubernetes-validate, strict).
"""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import render_without_info, run_cli
from k8s import assert_valid

from krm_pulsar import yamlio

OURS = "krm-pulsar.io/v1alpha1"
KAAP = "kaap.oss.datastax.com/v1beta1"
OTHER = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine"},
         "data": {"on": "yes"}}
QUOTE = "Kubernetes does not convert numbers or booleans to strings"


def cluster(spec: dict, api_version: str = OURS) -> dict:
    return {"apiVersion": api_version, "kind": "PulsarCluster", "metadata": {"name": "p"},
            "spec": spec}


def run(spec: dict, api_version: str = OURS):
    items = [copy.deepcopy(OTHER), cluster(spec, api_version)]
    data = yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                        "items": items})
    out = run_cli([], data)
    return out, items


def refused(spec: dict, api_version: str = OURS) -> tuple[dict, str]:
    """{field path: message} of the errors, and stderr; asserts the KRM contract of a refusal."""
    out, items = run(spec, api_version)
    stderr = out.stderr.decode()
    assert out.returncode == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    output = yaml.safe_load(out.stdout)
    assert output["items"] == items  # nothing lost, nothing changed
    errors = {r["field"]["path"]: r["message"] for r in output["results"]
              if r["severity"] == "error"}
    for path, message in errors.items():
        assert f"PulsarCluster/p {path}: {message}" in stderr
    return errors, stderr


def component(section: str, **fields) -> dict:
    return {section: fields}


# (case id, spec, field path, message fragment): for every kind of structure, its wrong type,
# unknown field, missing required field and number-for-a-string cases.
CASES = [
    # env: EnvVar
    ("env-number", component("broker", env=[{"name": "A", "value": 2}]),
     "spec.broker.env[0].value", 'got integer 2: quote it as you mean it (for example "2")'),
    ("env-boolean", component("zookeeper", env=[{"name": "A", "value": True}]),
     "spec.zookeeper.env[0].value", 'got boolean true: quote it'),
    ("env-wrong-type", component("bookkeeper", env=[{"name": "A", "valueFrom": []}]),
     "spec.bookkeeper.env[0].valueFrom",
     "expected a mapping (a Kubernetes EnvVarSource), got list"),
    ("env-unknown", component("proxy", env=[{"name": "A", "valu": "x"}]),
     "spec.proxy.env[0].valu", "unknown field 'valu': a Kubernetes 1.30 EnvVar has no such field; "
                               "did you mean 'value'?"),
    ("env-required", component("autorecovery", env=[{"value": "x"}]),
     "spec.autorecovery.env[0].name", "is required: a Kubernetes EnvVar needs name"),
    ("env-nested-required", component("bastion", env=[
        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s"}}}]),
     "spec.bastion.env[0].valueFrom.secretKeyRef.key",
     "is required: a Kubernetes SecretKeySelector needs key"),
    # tolerations: Toleration
    ("toleration-unknown", component("broker", tolerations=[{"key": "a", "efect": "NoSchedule"}]),
     "spec.broker.tolerations[0].efect", "did you mean 'effect'?"),
    ("toleration-wrong-type", component("broker", tolerations=[
        {"operator": "Exists", "tolerationSeconds": "300"}]),
     "spec.broker.tolerations[0].tolerationSeconds", "expected an integer, got string"),
    ("toleration-enum", component("broker", tolerations=[{"key": "a", "operator": "Equals"}]),
     "spec.broker.tolerations[0].operator", "must be one of 'Equal', 'Exists'; got 'Equals'"),
    ("toleration-boolean", component("broker", tolerations=[{"key": "a", "value": True}]),
     "spec.broker.tolerations[0].value", QUOTE),
    ("toleration-null-item", component("broker", tolerations=[None]),
     "spec.broker.tolerations[0]", "expected a mapping, got null"),
    # imagePullSecrets: LocalObjectReference
    ("pull-secret-unknown", component("proxy", imagePullSecrets=[{"secret": "regcred"}]),
     "spec.proxy.imagePullSecrets[0].secret", "a Kubernetes 1.30 LocalObjectReference has no"),
    ("pull-secret-number", component("proxy", imagePullSecrets=[{"name": 42}]),
     "spec.proxy.imagePullSecrets[0].name", QUOTE),
    # sidecars and initContainers: Container
    ("sidecar-unknown", component("broker", sidecars=[{"name": "s", "image": "b", "bad": 1}]),
     "spec.broker.sidecars[0].bad", "a Kubernetes 1.30 Container has no such field"),
    ("sidecar-required", component("broker", sidecars=[{"image": "busybox"}]),
     "spec.broker.sidecars[0].name", "is required: a Kubernetes Container needs name"),
    ("sidecar-wrong-type", component("broker", sidecars=[
        {"name": "s", "ports": [{"containerPort": "9000"}]}]),
     "spec.broker.sidecars[0].ports[0].containerPort", "expected an integer, got string"),
    ("sidecar-int32-range", component("broker", sidecars=[
        {"name": "s", "ports": [{"containerPort": 2**32}]}]),
     "spec.broker.sidecars[0].ports[0].containerPort",
     "4294967296 is out of range for an int32 (-2147483648 to 2147483647)"),
    ("sidecar-null-quantity", component("broker", sidecars=[
        {"name": "s", "resources": {"limits": {"cpu": None}}}]),
     "spec.broker.sidecars[0].resources.limits.cpu", "a value cannot be null"),
    ("sidecar-number", component("broker", sidecars=[{"name": "s", "args": ["--port", 9000]}]),
     "spec.broker.sidecars[0].args[1]", 'got integer 9000: quote it'),
    ("init-unknown", component("zookeeper", initContainers=[{"name": "i", "imagePolicy": "x"}]),
     "spec.zookeeper.initContainers[0].imagePolicy", "a Kubernetes 1.30 Container has no such"),
    ("init-required", component("zookeeper", initContainers=[{"image": "busybox"}]),
     "spec.zookeeper.initContainers[0].name", "is required"),
    ("init-quantity", component("zookeeper", initContainers=[
        {"name": "i", "resources": {"limits": {"cpu": "2x"}}}]),
     "spec.zookeeper.initContainers[0].resources.limits.cpu",
     "'2x' is not a Kubernetes quantity"),
    ("init-boolean", component("zookeeper", initContainers=[
        {"name": "i", "command": ["test", True]}]),
     "spec.zookeeper.initContainers[0].command[1]", QUOTE),
    # additionalVolumes: Volume and VolumeMount
    ("volume-unknown", component("bookkeeper", additionalVolumes={
        "volumes": [{"name": "v", "emptyDir": {}, "what": 1}]}),
     "spec.bookkeeper.additionalVolumes.volumes[0].what", "a Kubernetes 1.30 Volume has no"),
    ("volume-required", component("bookkeeper", additionalVolumes={
        "volumes": [{"configMap": {"name": "cm"}}]}),
     "spec.bookkeeper.additionalVolumes.volumes[0].name", "a Kubernetes Volume needs name"),
    ("volume-wrong-type", component("bookkeeper", additionalVolumes={
        "volumes": [{"name": "v", "emptyDir": []}]}),
     "spec.bookkeeper.additionalVolumes.volumes[0].emptyDir", "got list"),
    ("volume-number", component("bookkeeper", additionalVolumes={
        "volumes": [{"name": "v", "configMap": {"name": 1}}]}),
     "spec.bookkeeper.additionalVolumes.volumes[0].configMap.name", QUOTE),
    ("mount-unknown", component("broker", additionalVolumes={
        "mounts": [{"name": "v", "mountPath": "/x", "nope": 2}]}),
     "spec.broker.additionalVolumes.mounts[0].nope", "a Kubernetes 1.30 VolumeMount has no"),
    ("mount-required", component("broker", additionalVolumes={"mounts": [{"name": "v"}]}),
     "spec.broker.additionalVolumes.mounts[0].mountPath", "needs mountPath"),
    ("mount-wrong-type", component("broker", additionalVolumes={
        "mounts": [{"name": "v", "mountPath": "/x", "readOnly": "yes"}]}),
     "spec.broker.additionalVolumes.mounts[0].readOnly", "expected true or false, got string"),
    # securityContext: PodSecurityContext (KAAP's six fields for KAAP input)
    ("security-context-unknown", component("broker", securityContext={"bogus": True}),
     "spec.broker.securityContext.bogus",
     {OURS: "a Kubernetes 1.30 PodSecurityContext has no such field",
      KAAP: "KAAP's securityContext has only fsGroup, fsGroupChangePolicy, "}),
    ("security-context-wrong-type", component("broker", securityContext={"runAsUser": "1000"}),
     "spec.broker.securityContext.runAsUser", "expected an integer, got string"),
    ("security-context-enum", component("broker", securityContext={
        "fsGroupChangePolicy": "Sometimes"}),
     "spec.broker.securityContext.fsGroupChangePolicy", "must be one of 'Always', "
                                                        "'OnRootMismatch'; got 'Sometimes'"),
    ("oxia-security-context-unknown", {"oxia": {"enabled": True, "server": {
        "securityContext": {"runAsUsr": 1}}}},
     "spec.oxia.server.securityContext.runAsUsr", "did you mean 'runAsUser'?"),
    # nodeAffinity: NodeAffinity
    ("node-affinity-unknown", component("broker", nodeAffinity={
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "a", "operator": "In", "values": ["b"], "extra": 1}]}]}}),
     "spec.broker.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
     ".nodeSelectorTerms[0].matchExpressions[0].extra",
     "a Kubernetes 1.30 NodeSelectorRequirement has no such field"),
    ("node-affinity-required", component("broker", nodeAffinity={
        "requiredDuringSchedulingIgnoredDuringExecution": {}}),
     "spec.broker.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
     "a Kubernetes NodeSelector needs nodeSelectorTerms"),
    ("node-affinity-number", component("broker", nodeAffinity={
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {
            "matchExpressions": [{"key": "zone", "operator": "In", "values": [1]}]}}]}),
     "spec.broker.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference"
     ".matchExpressions[0].values[0]", QUOTE),
    # dnsConfig: PodDNSConfig, global and per component
    ("dns-config-number", {"global": {"dnsConfig": {"options": [{"name": "ndots", "value": 4}]}}},
     "spec.global.dnsConfig.options[0].value", 'got integer 4: quote it'),
    ("dns-config-unknown", component("proxy", dnsConfig={"option": []}),
     "spec.proxy.dnsConfig.option", "did you mean 'options'?"),
    ("dns-config-wrong-type", component("proxy", dnsConfig={"nameservers": "10.0.0.10"}),
     "spec.proxy.dnsConfig.nameservers", "expected a list, got string"),
    # updateStrategy: StatefulSetUpdateStrategy (StatefulSets), DeploymentStrategy (proxy)
    ("update-strategy-enum", component("bookkeeper", updateStrategy={"type": "Rolling"}),
     "spec.bookkeeper.updateStrategy.type", "must be one of 'OnDelete', 'RollingUpdate'"),
    ("update-strategy-unknown", component("zookeeper", updateStrategy={"rollingUpdates": {}}),
     "spec.zookeeper.updateStrategy.rollingUpdates", "did you mean 'rollingUpdate'?"),
    ("update-strategy-wrong-type", component("broker", updateStrategy={
        "type": "RollingUpdate", "rollingUpdate": {"partition": "1"}}),
     "spec.broker.updateStrategy.rollingUpdate.partition", "expected an integer, got string"),
    ("deployment-strategy-wrong-type", component("proxy", updateStrategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1.5}}),
     "spec.proxy.updateStrategy.rollingUpdate.maxSurge",
     "expected an integer or a string, got number"),
    ("deployment-strategy-enum", component("proxy", updateStrategy={"type": "OnDelete"}),
     "spec.proxy.updateStrategy.type", "must be one of 'Recreate', 'RollingUpdate'"),
    # service.additionalPorts: ServicePort
    ("service-port-required", component("broker", service={"additionalPorts": [{"name": "x"}]}),
     "spec.broker.service.additionalPorts[0].port", "a Kubernetes ServicePort needs port"),
    ("service-port-unknown", component("proxy", service={
        "additionalPorts": [{"port": 9999, "portName": "x"}]}),
     "spec.proxy.service.additionalPorts[0].portName", "a Kubernetes 1.30 ServicePort has no"),
    ("service-port-enum", component("proxy", service={
        "additionalPorts": [{"port": 9999, "protocol": "tcp"}]}),
     "spec.proxy.service.additionalPorts[0].protocol", "must be one of 'SCTP', 'TCP', 'UDP'"),
    ("service-port-number", component("proxy", service={
        "additionalPorts": [{"port": 9999, "name": 9999}]}),
     "spec.proxy.service.additionalPorts[0].name", QUOTE),
    # resources: ResourceRequirements (the quantities are the model's own check)
    ("resources-claim-unknown", component("broker", resources={"claims": [
        {"name": "gpu", "request": "a"}]}),
     "spec.broker.resources.claims[0].request",  # a field of 1.31
     "a Kubernetes 1.30 ResourceClaim has no such field"),
    ("resources-claim-required", component("broker", resources={"claims": [{}]}),
     "spec.broker.resources.claims[0].name", "a Kubernetes ResourceClaim needs name"),
    # package storage: StorageClass, PersistentVolume, PersistentVolumeClaim objects
    ("storage-class-required", component("broker", packageManagement={
        "enabled": True, "fileSystemStorage": {"enabled": True, "storageClass": {
            "metadata": {"name": "pkgs"}}}}),
     "spec.broker.packageManagement.fileSystemStorage.storageClass.provisioner",
     "a Kubernetes StorageClass needs provisioner"),
    ("persistent-volume-quantity", component("broker", packageManagement={
        "enabled": True, "fileSystemStorage": {"enabled": True, "persistentVolume": {
            "spec": {"capacity": {"storage": "10Gx"}}}}}),
     "spec.broker.packageManagement.fileSystemStorage.persistentVolume.spec.capacity.storage",
     "'10Gx' is not a Kubernetes quantity"),
    ("claim-enum", component("broker", packageManagement={
        "enabled": True, "fileSystemStorage": {"enabled": True, "persistentVolumeClaim": {
            "spec": {"accessModes": ["ReadWriteEverywhere"]}}}}),
     "spec.broker.packageManagement.fileSystemStorage.persistentVolumeClaim.spec.accessModes[0]",
     "got 'ReadWriteEverywhere'"),
    # global.networkPolicies.metricsFrom: NetworkPolicyPeer
    ("metrics-from-unknown", {"global": {"networkPolicies": {"enabled": True, "metricsFrom": [
        {"namespaceSelectr": {}}]}}},
     "spec.global.networkPolicies.metricsFrom[0].namespaceSelectr",
     "did you mean 'namespaceSelector'?"),
    # a resource set's own structures
    ("set-env-number", {"global": {"resourceSets": {"a": {}}},
                        "broker": {"sets": {"a": {"env": [{"name": "A", "value": 2}]}}}},
     "spec.broker.sets.a.env[0].value", 'got integer 2: quote it'),
]


@pytest.mark.parametrize("api_version", [OURS, KAAP])
@pytest.mark.parametrize(("spec", "path", "fragment"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_each_structure_kind_is_refused_with_its_field_path(spec, path, fragment, api_version):
    errors, _ = refused(spec, api_version)
    assert path in errors, errors
    if isinstance(fragment, dict):  # the message differs by API version
        fragment = fragment[api_version]
    assert fragment in errors[path]
    assert len(errors) == 1, errors


def test_the_cases_of_the_issue_are_refused_in_one_run():
    """Issue 13 item 2: each of these rendered with exit 0 before, and the API server refused
    the output. KAAP input, as KAAP's migration tool writes it (unquoted numbers)."""
    errors, stderr = refused({
        "global": {"dnsConfig": {"options": [{"name": "ndots", "value": 4}]},
                   "resourceSets": {"a": {}}},
        "broker": {
            "sets": {"a": {"env": [{"name": "managedLedgerDefaultAckQuorum", "value": 2}]}},
            "tolerations": [{"key": "a", "operator": "Equal", "value": "b", "foo": 1}],
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "a", "operator": "In", "values": ["b"], "extra": 1}]}]}},
            "securityContext": {"runAsUser": 1000, "bogus": True},
            "additionalVolumes": {"volumes": [{"name": "v", "emptyDir": {}, "what": 1}],
                                  "mounts": [{"name": "v", "mountPath": "/x", "nope": 2}]},
            "sidecars": [{"name": "s", "image": "busybox", "bad": 1}],
            "initContainers": [{"name": "i", "image": "busybox", "worse": 1}],
        }}, KAAP)
    assert sorted(errors) == sorted([
        "spec.global.dnsConfig.options[0].value",
        "spec.broker.sets.a.env[0].value",
        "spec.broker.tolerations[0].foo",
        "spec.broker.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0].matchExpressions[0].extra",
        "spec.broker.securityContext.bogus",
        "spec.broker.additionalVolumes.volumes[0].what",
        "spec.broker.additionalVolumes.mounts[0].nope",
        "spec.broker.sidecars[0].bad",
        "spec.broker.initContainers[0].worse",
    ])
    assert stderr.count("\n") == len(errors)


def test_kaap_input_has_kaaps_six_security_context_fields():
    spec = component("bookkeeper", securityContext={
        "runAsUser": 10000, "seccompProfile": {"type": "RuntimeDefault"}})
    errors, _ = refused(spec, KAAP)
    assert errors == {"spec.bookkeeper.securityContext.seccompProfile": (
        "KAAP's securityContext has only fsGroup, fsGroupChangePolicy, runAsGroup, runAsNonRoot, "
        "runAsUser, supplementalGroups; remove seccompProfile, or use apiVersion "
        "krm-pulsar.io/v1alpha1, whose securityContext is a whole Kubernetes PodSecurityContext")}
    # our API version takes the whole PodSecurityContext, and checks it
    objects, findings = render_without_info(cluster(spec, OURS))
    assert objects, findings
    bookie = next(o for o in objects if o["kind"] == "StatefulSet"
                  and o["metadata"]["name"] == "p-bookkeeper")
    assert bookie["spec"]["template"]["spec"]["securityContext"]["seccompProfile"] == {
        "type": "RuntimeDefault"}
    errors, _ = refused(component("bookkeeper", securityContext={"seccompProfile": {}}), OURS)
    assert errors == {"spec.bookkeeper.securityContext.seccompProfile.type":
                      "is required: a Kubernetes SeccompProfile needs type"}


# --- spec.patches: the patched objects, whole ----------------------------------------------------

def patches(*entries: dict) -> dict:
    return {"patches": list(entries)}


def test_a_patched_value_of_the_wrong_type_names_the_operation_value():
    errors, _ = refused(patches(
        {"target": {"kind": "StatefulSet", "name": "p-broker"}, "patch": [
            {"op": "add", "path": "/metadata/annotations/a", "value": "b"},
            {"op": "add", "path": "/spec/template/spec/containers/0/env",
             "value": [{"name": "X", "value": 2}]}]}))
    assert errors == {"spec.patches[0].patch[1].value[0].value": (
        "after the patches, StatefulSet 'p-broker' would be refused by the API server: "
        "spec.template.spec.containers[0].env[0].value: expected a string, got integer 2: quote "
        f'it as you mean it (for example "2"); {QUOTE}')}


def test_a_patched_unknown_field_and_a_removed_required_field_are_refused():
    errors, _ = refused(patches(
        {"target": {"kind": "StatefulSet", "name": "p-broker"}, "patch": [
            {"op": "add", "path": "/spec/template/spec/hostNetwok", "value": True}]},
        {"target": {"kind": "Deployment", "name": "p-proxy"}, "patch": [
            {"op": "remove", "path": "/spec/template/spec/containers/0/name"}]},
        {"target": {"kind": "Job"}, "patch": [
            {"op": "add", "path": "/spec/backoffLimit", "value": "6"}]},
        {"target": {"kind": "ConfigMap", "name": "p-broker"}, "patch": [
            {"op": "add", "path": "/data/extra", "value": 5}]}))
    assert sorted(errors) == ["spec.patches[0].patch[0].value", "spec.patches[1].patch[0]",
                              "spec.patches[2].patch[0].value", "spec.patches[3].patch[0].value"]
    assert "spec.template.spec.hostNetwok: unknown field 'hostNetwok'" in errors[
        "spec.patches[0].patch[0].value"]
    assert "did you mean 'hostNetwork'?" in errors["spec.patches[0].patch[0].value"]
    assert "spec.template.spec.containers[0].name: is required" in errors[
        "spec.patches[1].patch[0]"]
    assert errors["spec.patches[2].patch[0].value"].startswith(
        "after the patches, Job 'p-zookeeper-metadata-")
    assert "data.extra: expected a string, got integer 5" in errors[
        "spec.patches[3].patch[0].value"]


def test_valid_patches_render():
    out, _ = run(patches({"target": {"kind": "StatefulSet", "name": "p-broker"}, "patch": [
        {"op": "add", "path": "/spec/template/spec/hostAliases",
         "value": [{"ip": "10.0.0.1", "hostnames": ["registry.local"]}]}]}))
    assert out.returncode == 0, out.stderr


# --- the positive controls: the same structures, written correctly ----------------------------

VALID_COMPONENT = {
    "env": [{"name": "TZ", "value": "UTC"},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k",
                                                         "optional": True}}},
            {"name": "EMPTY", "value": None}],
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "pulsar",
                     "effect": "NoSchedule"},
                    {"operator": "Exists", "effect": "", "tolerationSeconds": 300}],
    "imagePullSecrets": [{"name": "regcred"}],
    "sidecars": [{"name": "side", "image": "busybox:1.36", "command": ["sleep", "infinity"],
                  "ports": [{"containerPort": 9000, "name": "side", "protocol": "TCP"}],
                  "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}},
                  "livenessProbe": {"httpGet": {"port": 9000, "path": "/"}},
                  # what restricted needs of a user container (checks/pod_security.py)
                  "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                                      "capabilities": {"drop": ["ALL"]}}}],
    "initContainers": [{"name": "init", "image": "busybox:1.36",
                        "command": ["sh", "-c", "true"],
                        "resources": {"requests": {"cpu": 0.01, "memory": "16Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "capabilities": {"drop": ["ALL"]}}}],
    "securityContext": {"runAsUser": 10000, "runAsGroup": 0, "fsGroup": 0,
                        "fsGroupChangePolicy": "OnRootMismatch", "supplementalGroups": [1000]},
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["pulsar"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "preference": {"matchExpressions": [
                {"key": "disk", "operator": "Exists"}]}}]},
    "dnsConfig": {"options": [{"name": "ndots", "value": "3"}, {"name": "edns0"}],
                  "nameservers": ["10.0.0.10"], "searches": ["svc.cluster.local"]},
    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "claims": [{"name": "gpu"}]},
}
VALID_VOLUMES = {"additionalVolumes": {
    "volumes": [{"name": "extra", "configMap": {"name": "cm", "items": [{"key": "a",
                                                                           "path": "a"}]}},
                {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}}],
    "mounts": [{"name": "extra", "mountPath": "/pulsar/extra", "readOnly": True}]}}
VALID_SPEC = {
    "global": {"dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
               "networkPolicies": {"enabled": True, "metricsFrom": [
                   {"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]}},
    "zookeeper": {**VALID_COMPONENT, **VALID_VOLUMES,
                  "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}},
    "bookkeeper": {**VALID_COMPONENT, **VALID_VOLUMES, "updateStrategy": {"type": "OnDelete"}},
    "broker": {**VALID_COMPONENT, **VALID_VOLUMES, "replicas": 1,
               "service": {"additionalPorts": [{"name": "extra", "port": 9999,
                                                "targetPort": "extra"}]},
               "packageManagement": {"enabled": True, "fileSystemStorage": {
                   "enabled": True, "storageClass": {"metadata": {"name": "pkgs"},
                                                     "provisioner": "efs.csi.aws.com",
                                                     "reclaimPolicy": "Retain",
                                                     "volumeBindingMode": "Immediate"},
                   "persistentVolumeClaim": {"spec": {"storageClassName": "pkgs"}}}}},
    "proxy": {**VALID_COMPONENT, **VALID_VOLUMES,
              "updateStrategy": {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}}},
    "autorecovery": VALID_COMPONENT,
    "bastion": VALID_COMPONENT,
}


@pytest.mark.parametrize("api_version", [OURS, KAAP])
def test_valid_structures_render_and_the_output_validates(api_version):
    out, items = run(VALID_SPEC, api_version)
    assert out.returncode == 0, out.stderr.decode()
    output = yaml.safe_load(out.stdout)
    assert output["items"][0] == items[0]
    generated = output["items"][2:] if output["items"][1]["kind"] == "PulsarCluster" \
        else output["items"][1:]
    generated = [o for o in generated if o["kind"] != "PulsarCluster"]
    assert len(generated) > 20
    assert_valid(generated)
    broker = next(o for o in generated if o["kind"] == "StatefulSet"
                  and o["metadata"]["name"] == "p-broker")
    pod = broker["spec"]["template"]["spec"]
    assert pod["tolerations"] == VALID_COMPONENT["tolerations"]
    assert pod["dnsConfig"] == VALID_COMPONENT["dnsConfig"]
    assert pod["initContainers"][0] == VALID_COMPONENT["initContainers"][0]
