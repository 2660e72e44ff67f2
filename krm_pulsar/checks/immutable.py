"""Changes Kubernetes refuses in place, found by comparing the new render with the previous one
(phase ``changes``, docs/day2.md).

kpt keeps the previous render in the package beside the edited PulsarCluster; the KRM envelope
hands the items generated from this cluster (our ``generated-from`` annotation) to this check.
An object of the same kind, namespace and name whose new spec changes a field the API server
refuses to update gets a warning that names the spec field behind it and what to do instead.
The render itself is right (a new cluster takes it as it is), so this is a warning, not an
error: the remedy is an operational step on the live cluster, which the function cannot take.

What the API server refuses (Kubernetes' update validation of each kind):

* StatefulSet: every ``spec`` field except ``replicas``, ``ordinals``, ``template``,
  ``updateStrategy``, ``revisionHistoryLimit``, ``persistentVolumeClaimRetentionPolicy`` and
  ``minReadySeconds`` (so: ``volumeClaimTemplates``, ``podManagementPolicy``, ``serviceName``,
  ``selector``);
* Deployment: ``spec.selector``;
* Job: ``spec.selector`` and ``spec.template`` (our Jobs are named after their content, so a
  changed Job is normally a new Job; this catches one that kept its name);
* PersistentVolumeClaim: every ``spec`` field except a larger ``resources.requests.storage``;
* StorageClass: ``provisioner``, ``parameters``, ``reclaimPolicy``, ``volumeBindingMode``.

Quantities compare by amount, as the API server's semantic equality does (``10Gi`` is
``10240Mi``). A previous item of an unexpected shape (hand-edited) is compared as far as it
can be read, never crashes the render.
"""

from __future__ import annotations

from ..schema import warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster
    from ..schema import SpecError

# StatefulSet spec fields the API server lets an update change
STATEFULSET_MUTABLE = frozenset((
    "replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit",
    "persistentVolumeClaimRetentionPolicy", "minReadySeconds"))
# what the API server fills in when a field is left out: a field we stop writing keeps its
# live value only when that value is the default
STATEFULSET_DEFAULTS = {"podManagementPolicy": "OrderedReady"}
CLAIM_DEFAULTS = {"volumeMode": "Filesystem"}

_ORPHAN = ("delete the StatefulSet without its pods (kubectl delete statefulset {name} "
           "--cascade=orphan{ns}) and apply again: the new StatefulSet adopts the running pods "
           "and their claims, then rolls them")


def check(cluster: Cluster, objects: list, previous: list) -> list[SpecError]:
    """A warning per refused change of an object that is both in ``previous`` (the earlier
    render of this cluster) and in ``objects`` (the new one)."""
    before = {_key(obj): obj for obj in previous if isinstance(obj, dict)}
    before.pop(None, None)
    findings: list[SpecError] = []
    for obj in objects:
        old = before.get(_key(obj))
        # a StorageClass keeps its fields at the top level; every other kind here in spec
        if old is None or (obj.get("kind") != "StorageClass"
                           and not isinstance(old.get("spec"), dict)):
            continue
        compare = _COMPARE.get(str(obj.get("kind")))
        if compare is not None:
            findings.extend(compare(cluster, old, obj))
    return findings


def _key(obj: dict) -> tuple | None:
    """(group, kind, namespace, name), or None for an item whose identity is not plain text
    (a hand-edited previous render: nothing to compare, and nothing to crash on)."""
    metadata = _dict(obj.get("metadata"))
    parts = (obj.get("apiVersion") or "", obj.get("kind"), metadata.get("namespace") or "",
             metadata.get("name"))
    if not all(isinstance(part, str) for part in parts):
        return None
    return (parts[0].rpartition("/")[0], *parts[1:])


# --- per kind -----------------------------------------------------------------------------------


def _statefulset(cluster: Cluster, old: dict, new: dict) -> list[SpecError]:
    name = new["metadata"]["name"]
    where = _Where(cluster, new)
    before, after = old["spec"], new["spec"]
    findings: list[SpecError] = []
    orphan = _ORPHAN.format(name=name, ns=where.namespace_flag)
    for field in sorted((set(before) | set(after)) - STATEFULSET_MUTABLE):
        was = before.get(field, STATEFULSET_DEFAULTS.get(field))
        now = after.get(field, STATEFULSET_DEFAULTS.get(field))
        if field == "volumeClaimTemplates":
            findings.extend(_claim_templates(where, name, _list(was), _list(now), orphan))
        elif was == now:
            continue
        elif field == "selector":
            # orphaned pods would not match the new selector: the pods go, the claims stay
            remedy = (f"delete the StatefulSet with its pods (kubectl delete statefulset "
                      f"{name}{where.namespace_flag}; the claims stay) and apply again: the new "
                      f"pods take the old claims by name. Claims bound to zonal volumes cannot "
                      f"follow a set into another zone: add a set in the new rack and retire "
                      f"this one instead")
            findings.append(_selector(where, f"StatefulSet {name!r}", was, now, remedy))
        elif field == "podManagementPolicy":
            findings.append(warning(
                where.spec_path("podManagementPolicy"),
                f"StatefulSet {name!r}: spec.podManagementPolicy changes from {was} to {now}, "
                f"which Kubernetes refuses in place (updates to statefulset spec for fields "
                f"other than replicas, template, updateStrategy, ... are forbidden); {orphan}"))
        else:
            findings.append(warning(
                where.spec_path(None),
                f"StatefulSet {name!r}: spec.{field} changes from {was!r} to {now!r}, which "
                f"Kubernetes refuses in place; {orphan}"))
    return findings


def _claim_templates(where: _Where, name: str, was: list, now: list,
                     orphan: str) -> list[SpecError]:
    before = {_template_name(t): t for t in was if isinstance(t, dict)}
    after = {_template_name(t): t for t in now if isinstance(t, dict)}
    findings: list[SpecError] = []
    if set(before) != set(after):
        gone = ", ".join(sorted(set(before) - set(after))) or "none"
        added = ", ".join(sorted(set(after) - set(before))) or "none"
        findings.append(warning(
            where.spec_path(None) if where.section else "spec.global.persistence",
            f"StatefulSet {name!r}: spec.volumeClaimTemplates change (removed: {gone}; added: "
            f"{added}), which Kubernetes refuses in place; {orphan} (claims of a removed "
            f"template stay until you delete them)"))
        return findings
    for claim, template in after.items():
        old = before[claim]
        old_spec = {**CLAIM_DEFAULTS, **_dict(old.get("spec"))}
        new_spec = {**CLAIM_DEFAULTS, **_dict(template.get("spec"))}
        # the API server compares quantities by amount (10Gi equals 10240Mi)
        if _same_claim_spec(old_spec, new_spec) and _labels(old) == _labels(template):
            continue
        volume = where.volume_path(claim)
        was_size, now_size = _storage(old_spec), _storage(new_spec)
        if not _same_quantity(was_size, now_size):
            findings.append(warning(
                f"{volume}.size" if volume else where.spec_path(None),
                f"StatefulSet {name!r}: the size of volume claim template {claim!r} changes "
                f"from {was_size} to {now_size}, and Kubernetes refuses to change a "
                f"StatefulSet's volumeClaimTemplates in place: grow each existing claim "
                f"directly (kubectl patch pvc {claim}-{name}-<ordinal>{where.namespace_flag} "
                f"-p '{_size_patch(now_size)}', if its StorageClass allows expansion; claims "
                f"never shrink), then {orphan}"))
        else:
            changed = sorted(k for k in set(old_spec) | set(new_spec)
                             if not _same_claim_field(k, old_spec.get(k), new_spec.get(k)))
            fields = ", ".join(f"spec.{k}" for k in changed) or "metadata.labels"
            findings.append(warning(
                volume or where.spec_path(None),
                f"StatefulSet {name!r}: volume claim template {claim!r} changes ({fields}), "
                f"which Kubernetes refuses in place; existing claims keep what they were made "
                f"with (a claim's storage class and access modes never change: move the data "
                f"to new claims to change them); {orphan}"))
    return findings


def _deployment(cluster: Cluster, old: dict, new: dict) -> list[SpecError]:
    was, now = old["spec"].get("selector"), new["spec"].get("selector")
    if was == now:
        return []
    where = _Where(cluster, new)
    name = new["metadata"]["name"]
    remedy = (f"delete the Deployment (kubectl delete deployment {name}{where.namespace_flag}) "
              f"and apply again, one set at a time so the other sets keep serving; with "
              f"Argo CD the sync option Replace=true, with Flux `force: true`, does the same")
    return [_selector(where, f"Deployment {name!r}", was, now, remedy)]


def _job(cluster: Cluster, old: dict, new: dict) -> list[SpecError]:
    where = _Where(cluster, new)
    name = new["metadata"]["name"]
    changed = [f"spec.{k}" for k in ("selector", "template")
               if old["spec"].get(k) != new["spec"].get(k)]
    if not changed:
        return []
    return [warning(
        where.spec_path(None),
        f"Job {name!r}: {', '.join(changed)} changes, and Kubernetes refuses to change a Job's "
        f"pod template in place: delete the Job before applying (kubectl delete job {name}"
        f"{where.namespace_flag}), so that it is created again and runs once more, or let the "
        f"GitOps tool replace it (Argo CD: Replace=true; Flux: force: true)")]


def _claim(cluster: Cluster, old: dict, new: dict) -> list[SpecError]:
    from ..jvm import quantity_bytes

    where = _Where(cluster, new)
    name = new["metadata"]["name"]
    old_spec = {**CLAIM_DEFAULTS, **old["spec"]}
    new_spec = {**CLAIM_DEFAULTS, **new["spec"]}
    was_size, now_size = _storage(old_spec), _storage(new_spec)
    path = where.claim_path()
    findings: list[SpecError] = []
    was_bytes, now_bytes = quantity_bytes(was_size), quantity_bytes(now_size)
    if was_bytes is not None and now_bytes is not None and now_bytes < was_bytes:
        findings.append(warning(
            f"{path}.spec.resources.requests.storage",
            f"PersistentVolumeClaim {name!r}: its size goes down from {was_size} to "
            f"{now_size}, and Kubernetes refuses to shrink a claim; keep {was_size} (or move "
            f"the data to a new, smaller claim)"))
    others = sorted(k for k in set(old_spec) | set(new_spec)
                    if k != "resources" and old_spec.get(k) != new_spec.get(k))
    if others:
        findings.append(warning(
            f"{path}.spec.{others[0]}",
            f"PersistentVolumeClaim {name!r}: {', '.join(f'spec.{k}' for k in others)} "
            f"changes, and Kubernetes refuses every change of a claim's spec but a larger "
            f"storage request; keep the old value, or move the data to a new claim (delete "
            f"this one only after copying what the brokers stored in it)"))
    return findings


# StorageClass fields the API server refuses to update (storage validation of StorageClass)
STORAGE_CLASS_IMMUTABLE = ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode")


def _storage_class(cluster: Cluster, old: dict, new: dict) -> list[SpecError]:
    """A StorageClass has no spec: its fields sit at the top level."""
    changed = [k for k in STORAGE_CLASS_IMMUTABLE if old.get(k) != new.get(k)]
    if not changed:
        return []
    name = new["metadata"]["name"]
    # our classes are named after their volume (storage.storage_class_name): the volume's
    # storageClass, which inherits spec.global.storage.storageClass
    volume = _Where(cluster, new).volume_path(name)
    return [warning(
        f"{volume}.storageClass" if volume else "spec.global.storage.storageClass",
        f"StorageClass {name!r}: {', '.join(changed)} changes, which Kubernetes refuses to "
        f"update: delete the StorageClass (kubectl delete storageclass {name}) and apply "
        f"again; existing claims keep their volumes and what they were provisioned with, "
        f"only new claims get the new settings")]


_COMPARE = {"StatefulSet": _statefulset, "Deployment": _deployment, "Job": _job,
            "PersistentVolumeClaim": _claim, "StorageClass": _storage_class}


# --- naming the spec field behind an object field -----------------------------------------------


class _Where:
    """Which part of the spec an object of ours comes from: its component's section (by the
    ``component`` label, which is the component's base name) and its resource set."""

    __slots__ = ("cluster", "namespace_flag", "section", "set_name")

    def __init__(self, cluster: Cluster, obj: dict) -> None:
        from .. import names, registry

        self.cluster = cluster
        metadata = obj["metadata"]
        labels = metadata.get("labels") or {}
        component = labels.get(names.COMPONENT_LABEL)
        self.section = next((entry.section for entry in registry.COMPONENTS
                             if cluster.base_name(entry.section) == component), None)
        set_name = labels.get(names.RESOURCE_SET_LABEL)
        raw_sets = (self._raw_section().get("sets") or {}) if self.section else {}
        self.set_name = set_name if isinstance(raw_sets, dict) and set_name in raw_sets else None
        namespace = metadata.get("namespace")
        self.namespace_flag = f" -n {namespace}" if namespace else ""

    def _raw_section(self) -> dict:
        raw = self.cluster.config.get("spec") or {}
        section = raw.get(self.section) if isinstance(raw, dict) else None
        return section if isinstance(section, dict) else {}

    def spec_path(self, key: str | None) -> str:
        """The field as the user writes it: in the set when the set sets it, else in the
        component (``spec.bookkeeper.podManagementPolicy``)."""
        if self.section is None:
            return "spec"
        top = f"spec.{self.section}"
        if key is None:
            return f"{top}.sets.{self.set_name}" if self.set_name else top
        if self.set_name and _has(self._raw_section()["sets"][self.set_name], key):
            return f"{top}.sets.{self.set_name}.{key}"
        return f"{top}.{key}"

    def volume_path(self, claim: str) -> str | None:
        """The spec path of the data volume whose claim template is named ``claim``
        (``<resource name>-<volume name>``, storage.data_volume)."""
        from .. import registry

        if self.section is None:
            return None
        entry = registry.BY_SECTION[self.section]
        spec = self.cluster.spec[self.section]
        if self.set_name:
            rset = next((s for s in self.cluster.sets.get(self.section, [])
                         if s.name == self.set_name), None)
            spec = rset.spec if rset is not None else spec
        for key in entry.volumes:
            volume = _lookup(spec, key)
            if isinstance(volume, dict) and claim.endswith(f"-{volume.get('name')}"):
                return self.spec_path(key)
        return None

    def claim_path(self) -> str:
        """Our only stand-alone claim: the brokers' package storage (storage.py)."""
        return "spec.broker.packageManagement.fileSystemStorage.persistentVolumeClaim"


def _selector(where: _Where, what: str, was: object, now: object, remedy: str) -> SpecError:
    old = _dict(was.get("matchLabels")) if isinstance(was, dict) else {}
    new = _dict(now.get("matchLabels")) if isinstance(now, dict) else {}
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    from .. import names

    label_set = (new.get(names.RESOURCE_SET_LABEL) or old.get(names.RESOURCE_SET_LABEL))
    if names.RACK_LABEL in changed and label_set:
        path = f"spec.global.resourceSets.{label_set}.rack"
        cause = (f"the set moves from rack {old.get(names.RACK_LABEL)} to rack "
                 f"{new.get(names.RACK_LABEL)}")
    else:
        path = where.spec_path("matchLabels")
        cause = "its labels change (" + ", ".join(
            f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed) + ")"
    return warning(
        path,
        f"{what}: spec.selector changes because {cause}, and Kubernetes refuses to change a "
        f"workload's selector in place (field is immutable); {remedy}")


# --- small helpers ------------------------------------------------------------------------------


def _size_patch(size: object) -> str:
    import json

    return json.dumps({"spec": {"resources": {"requests": {"storage": size}}}},
                      separators=(",", ":"))


def _dict(value: object) -> dict:
    """``value`` when it is a mapping, else empty: previous renders are input, and an edited
    one must not crash a check that only warns."""
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _template_name(template: dict) -> str:
    return str(_dict(template.get("metadata")).get("name"))


def _labels(template: dict) -> dict:
    return _dict(_dict(template.get("metadata")).get("labels"))


def _storage(spec: dict) -> object:
    return _dict(_dict(spec.get("resources")).get("requests")).get("storage")


def _same_quantity(a: object, b: object) -> bool:
    from ..jvm import quantity_bytes

    if a == b:
        return True
    amount_a, amount_b = quantity_bytes(a), quantity_bytes(b)
    return amount_a is not None and amount_a == amount_b


def _same_claim_field(key: str, a: object, b: object) -> bool:
    """One field of a claim spec, with the quantities under ``resources`` by amount."""
    if key != "resources" or not (isinstance(a, dict) and isinstance(b, dict)):
        return a == b
    for part in set(a) | set(b):
        was, now = _dict(a.get(part)), _dict(b.get(part))
        if not (isinstance(a.get(part), dict) and isinstance(b.get(part), dict)):
            if a.get(part) != b.get(part):
                return False
            continue
        if set(was) != set(now) or not all(_same_quantity(was[k], now[k]) for k in was):
            return False
    return True


def _same_claim_spec(a: dict, b: dict) -> bool:
    return all(_same_claim_field(k, a.get(k), b.get(k)) for k in set(a) | set(b))


def _lookup(spec: object, dotted: str) -> object:
    for part in dotted.split("."):
        if not isinstance(spec, dict):
            return None
        spec = spec.get(part)
    return spec


def _has(raw: object, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(raw, dict) or part not in raw:
            return False
        raw = raw[part]
    return True
