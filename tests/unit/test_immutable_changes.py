"""Changes Kubernetes refuses in place (krm_pulsar/checks/immutable.py, docs/day2.md): the
function compares its new render with the previous one it finds among the input items (kpt
keeps it in the package) and warns, naming the spec field and what to do. The cluster test
(tests/cluster/test_cluster_day2.py) shows the API server's own refusal of each change."""

import copy

import pytest
import yaml
from conftest import FIXTURES

from krm_pulsar import krm, render, yamlio

THREE_ZONES = yaml.safe_load((FIXTURES / "three-zones.yaml").read_text())
# as a kpt package keeps it (docs/integrations/kpt.md)
THREE_ZONES["metadata"]["annotations"] = {"config.kubernetes.io/local-config": "true"}


def _run(config, previous_items):
    """The function as kpt runs it: the edited PulsarCluster (configPath: item and
    functionConfig) beside the previous render."""
    items = [copy.deepcopy(config)] + copy.deepcopy(previous_items)
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items,
          "functionConfig": copy.deepcopy(config)}
    stdout, stderr, code = krm.run(yamlio.dump(rl).encode())
    return yamlio.load_all(stdout)[0], stderr, code


def _previous(config):
    """The previous render as kpt keeps it: the function's own output items."""
    out, _, code = _run(config, [])
    assert code == 0
    return [i for i in out["items"] if krm.generated_from(i)]


def _changes(out):
    return [r for r in out.get("results") or [] if r["severity"] != "info"]


def _edited(edit, base=THREE_ZONES):
    config = copy.deepcopy(base)
    edit(config["spec"])
    return config


@pytest.fixture(scope="module")
def previous():
    return _previous(THREE_ZONES)


def test_no_change_no_warning(previous):
    out, stderr, code = _run(THREE_ZONES, previous)
    assert code == 0 and not _changes(out) and not stderr


def test_allowed_changes_do_not_warn(previous):
    """Replicas, the pod template (resources, image) and the update strategy change in place."""
    def edit(spec):
        spec["bookkeeper"]["sets"]["shared-az1"]["replicas"] = 3
        spec["broker"]["resources"] = {"requests": {"cpu": "1500m", "memory": "3Gi"}}
        spec["global"]["image"] = "apachepulsar/pulsar:4.0.13"
        spec["bookkeeper"]["updateStrategy"] = {"type": "OnDelete"}
    out, _, code = _run(_edited(edit), previous)
    assert code == 0 and not _changes(out), _changes(out)


def test_volume_size_of_a_statefulset(previous):
    def edit(spec):
        spec["bookkeeper"].setdefault("volumes", {})["ledgers"] = {"size": "200Gi"}
    out, stderr, code = _run(_edited(edit), previous)
    found = _changes(out)
    assert code == 0, "a warning: the render is right, the live cluster needs a step"
    assert {r["severity"] for r in found} == {"warning"}
    assert {r["field"]["path"] for r in found} == {"spec.bookkeeper.volumes.ledgers.size"}
    assert len(found) == 3, "one per bookie set"
    message = found[0]["message"]
    assert "50Gi to 200Gi" in message and "kubectl patch pvc" in message
    assert "--cascade=orphan" in message
    assert any("spec.bookkeeper.volumes.ledgers.size" in line for line in stderr)
    # the items come back: the new render replaces the previous one, the config is unchanged
    assert out["items"][0] == THREE_ZONES | {"spec": _edited(edit)["spec"]}


def test_volume_size_of_one_set_names_the_set(previous):
    def edit(spec):
        spec["bookkeeper"]["sets"]["shared-az2"]["volumes"] = {"journal": {"size": "30Gi"}}
    found = _changes(_run(_edited(edit), previous)[0])
    assert [r["field"]["path"] for r in found] == [
        "spec.bookkeeper.sets.shared-az2.volumes.journal.size"]
    assert "pulsar-bookkeeper-shared-az2" in found[0]["message"]


def test_storage_class_of_a_claim_template(previous):
    def edit(spec):
        spec["bookkeeper"].setdefault("volumes", {})["journal"] = {
            "existingStorageClassName": "fast"}
    found = _changes(_run(_edited(edit), previous)[0])
    assert found and {r["field"]["path"] for r in found} == {"spec.bookkeeper.volumes.journal"}
    assert "spec.storageClassName" in found[0]["message"]


def test_pod_management_policy(previous):
    def edit(spec):
        spec["bookkeeper"]["podManagementPolicy"] = "OrderedReady"
    found = _changes(_run(_edited(edit), previous)[0])
    assert {r["field"]["path"] for r in found} == {"spec.bookkeeper.podManagementPolicy"}
    assert "Parallel to OrderedReady" in found[0]["message"]
    assert "kubectl delete statefulset pulsar-bookkeeper-shared-az1 --cascade=orphan -n pulsar" \
        in found[0]["message"]


def test_pod_management_policy_left_at_the_kubernetes_default(previous):
    """The brokers' StatefulSets leave podManagementPolicy out (OrderedReady, the API
    server's default): writing that default explicitly changes nothing live."""
    def edit(spec):
        spec["broker"]["podManagementPolicy"] = "OrderedReady"
    assert not _changes(_run(_edited(edit), previous)[0])

    def parallel(spec):
        spec["broker"]["podManagementPolicy"] = "Parallel"
    found = _changes(_run(_edited(parallel), previous)[0])
    assert {r["field"]["path"] for r in found} == {"spec.broker.podManagementPolicy"}


def test_service_name_of_a_statefulset(previous):
    """A StatefulSet's serviceName: changed here on the previous render, as an older
    renderer (or a patch) could have left it."""
    old = copy.deepcopy(previous)
    sts = next(o for o in old if o["kind"] == "StatefulSet"
               and o["metadata"]["name"] == "pulsar-broker-shared-az1")
    sts["spec"]["serviceName"] = "pulsar-broker-old"
    found = _changes(_run(THREE_ZONES, old)[0])
    assert [r["field"]["path"] for r in found] == ["spec.broker.sets.shared-az1"]
    assert "spec.serviceName" in found[0]["message"] and "--cascade=orphan" in found[0]["message"]


def test_set_moved_to_another_rack_changes_the_deployment_selector(previous):
    def edit(spec):
        spec["global"]["resourceSets"]["kafka-az3"] = {"rack": "rack1"}
    found = _changes(_run(_edited(edit), previous)[0])
    assert [r["field"]["path"] for r in found] == ["spec.global.resourceSets.kafka-az3.rack"]
    assert found[0]["resourceRef"]["kind"] == "PulsarCluster"
    assert "Deployment 'pulsar-proxy-kafka-az3'" in found[0]["message"]
    assert "rack rack3 to rack rack1" in found[0]["message"]


def test_statefulset_selector_from_match_labels(previous):
    def edit(spec):
        spec["broker"]["matchLabels"] = {"tier": "serving"}
    found = _changes(_run(_edited(edit), previous)[0])
    assert found and {r["field"]["path"] for r in found} == {"spec.broker.matchLabels"}
    assert all("StatefulSet" in r["message"] and "tier" in r["message"] for r in found)
    assert "--cascade=orphan" not in found[0]["message"], \
        "orphaned pods would not match the new selector"


def test_job_pod_template_with_the_same_name(previous):
    """Our Jobs are named after their content; one that kept its name while its template
    changed (an older render, a hand edit) is refused by Kubernetes."""
    old = copy.deepcopy(previous)
    job = next(o for o in old if o["kind"] == "Job")
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "apachepulsar/pulsar:3.0.0"
    found = _changes(_run(THREE_ZONES, old)[0])
    assert len(found) == 1 and found[0]["severity"] == "warning"
    assert f"Job {job['metadata']['name']!r}: spec.template" in found[0]["message"]
    assert "kubectl delete job" in found[0]["message"]


PACKAGE = {"enabled": True, "fileSystemStorage": {"enabled": True, "persistentVolumeClaim": {
    "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": "efs-sc",
             "resources": {"requests": {"storage": "20Gi"}}}}}}


def _with_package(spec):
    spec["broker"]["packageManagement"] = copy.deepcopy(PACKAGE)


def test_claim_grows_in_place_but_never_shrinks():
    base = _edited(_with_package)
    previous = _previous(base)

    def grow(spec):
        _with_package(spec)
        claim = spec["broker"]["packageManagement"]["fileSystemStorage"]["persistentVolumeClaim"]
        claim["spec"]["resources"]["requests"]["storage"] = "40Gi"
    assert not _changes(_run(_edited(grow), previous)[0])

    def shrink(spec):
        _with_package(spec)
        claim = spec["broker"]["packageManagement"]["fileSystemStorage"]["persistentVolumeClaim"]
        claim["spec"]["resources"]["requests"]["storage"] = "10Gi"
    found = _changes(_run(_edited(shrink), previous)[0])
    assert [r["field"]["path"] for r in found] == [
        "spec.broker.packageManagement.fileSystemStorage.persistentVolumeClaim.spec.resources"
        ".requests.storage"]
    assert "20Gi to 10Gi" in found[0]["message"]

    def access(spec):
        _with_package(spec)
        claim = spec["broker"]["packageManagement"]["fileSystemStorage"]["persistentVolumeClaim"]
        claim["spec"]["storageClassName"] = "other"
    found = _changes(_run(_edited(access), previous)[0])
    assert [r["field"]["path"] for r in found] == [
        "spec.broker.packageManagement.fileSystemStorage.persistentVolumeClaim.spec"
        ".storageClassName"]


def test_only_our_previous_render_is_compared(previous):
    """Objects of another cluster, or of no cluster, are never compared (they are not ours)."""
    def edit(spec):
        spec["bookkeeper"]["podManagementPolicy"] = "OrderedReady"
    stranger = copy.deepcopy(previous)
    for obj in stranger:
        obj["metadata"]["annotations"][render.GENERATED_FROM] = "other/cluster"
    found = [r for r in _changes(_run(_edited(edit), stranger)[0])
             if "podManagementPolicy" in str(r.get("field"))]
    assert not found


def test_an_error_render_compares_nothing(previous):
    def edit(spec):
        spec["broker"]["replicas"] = -1
    out, _, code = _run(_edited(edit), previous)
    assert code == 1
    assert all(r["severity"] == "error" for r in _changes(out))


def test_a_size_spelled_differently_is_the_same_size(previous):
    """The API server compares quantities by amount: 51200Mi is the 50Gi default."""
    def edit(spec):
        spec["bookkeeper"].setdefault("volumes", {})["ledgers"] = {"size": "51200Mi"}
    out, _, code = _run(_edited(edit), previous)
    assert code == 0 and not _changes(out), _changes(out)


@pytest.mark.parametrize("damage", [
    lambda sts: sts["spec"].__setitem__("volumeClaimTemplates", 5),
    lambda sts: sts["spec"]["volumeClaimTemplates"][0].__setitem__("metadata", "x"),
    lambda sts: sts["spec"]["volumeClaimTemplates"][0].__setitem__("spec", ["x"]),
    lambda sts: sts["spec"]["volumeClaimTemplates"][0]["spec"].__setitem__("resources", "x"),
    lambda sts: sts["spec"]["selector"].__setitem__("matchLabels", "abc"),
    lambda sts: sts["metadata"].__setitem__("name", ["a"]),
    lambda sts: sts["metadata"].__setitem__("namespace", {"a": 1}),
], ids=["templates-int", "template-metadata-str", "template-spec-list", "resources-str",
        "match-labels-str", "name-list", "namespace-map"])
def test_a_hand_edited_previous_render_never_crashes(previous, damage):
    """Previous renders are input: an item of an odd shape is compared as far as it reads, and
    the render goes on (exit 0, no internal error)."""
    items = copy.deepcopy(previous)
    sts = next(i for i in items if i["kind"] == "StatefulSet"
               and i["spec"].get("volumeClaimTemplates"))
    damage(sts)
    out, stderr, code = _run(THREE_ZONES, items)
    assert code == 0, stderr
    assert not any("internal error" in line for line in stderr)


def test_a_storage_class_change_warns_at_its_volume():
    """StorageClass parameters, provisioner, reclaimPolicy and volumeBindingMode are immutable."""
    base = yaml.safe_load((FIXTURES / "storage-class-created.yaml").read_text())
    base["metadata"]["annotations"] = {"config.kubernetes.io/local-config": "true"}
    before = _previous(base)

    def edit(spec):
        spec["global"]["storage"]["storageClass"]["type"] = "pd-extreme"
    out, _, code = _run(_edited(edit, base), before)
    warnings = _changes(out)
    assert code == 0 and [w["field"]["path"] for w in warnings] == [
        "spec.bookkeeper.volumes.ledgers.storageClass"], warnings
    assert "delete the StorageClass" in warnings[0]["message"]
    out, _, _ = _run(base, before)
    assert not _changes(out)
