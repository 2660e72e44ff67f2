"""The checks of the Kubernetes structures in a PulsarCluster (registered in
krm_pulsar/checks/__init__.py; docs/kubernetes-schema.md):

* ``user_structures`` (phase ``read``): every field of the model with a Kubernetes type that
  the user wrote (env, tolerations, sidecars, volumes, securityContext, ...), of both API
  versions, against the Kubernetes API; KAAP input may only use the six pod securityContext
  fields KAAP's CRD has;
* ``patched_objects`` (phase ``output``): every object ``spec.patches`` changed, whole, after
  patching.
"""

from __future__ import annotations

from ..schema import List, Map, Obj, SpecError, child_path

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from ..cluster import Cluster
    from ..schema import Field

# KAAP's SecurityContextConfig: the subset of a PodSecurityContext its CRD exposes
# (docs/kaap-parity.md#security-context).
KAAP_SECURITY_CONTEXT = ("fsGroup", "fsGroupChangePolicy", "runAsGroup", "runAsNonRoot",
                         "runAsUser", "supplementalGroups")


def user_structures(raw: dict, api_version: str) -> list[SpecError]:
    """The Kubernetes structures as the user wrote them (the defaults are ours and tested);
    a spec without any opens no schema. Both API versions carry the same Kubernetes types."""
    from .. import model

    written = list(_written(model.SPEC, raw, "spec"))
    if not written:
        return []
    from .validate import Schema, validate

    kaap = api_version == model.KAAP_API_VERSION
    schema = Schema()
    findings: list[SpecError] = []
    for expression, value, path in written:
        checked = value
        # the components' securityContext is KAAP's field; spec.oxia is ours in both versions
        if kaap and expression == "core.v1.PodSecurityContext" and isinstance(value, dict) \
                and not path.startswith("spec.oxia."):
            checked = _kaap_security_context(value, path, findings)
        validate(schema, expression, checked, path, findings)
    return findings


def _kaap_security_context(value: dict, path: str, findings: list[SpecError]) -> dict:
    """KAAP's CRD has six pod securityContext fields; its API server drops or refuses the
    others, so KAAP input using one would render a pod KAAP never runs. Returns the fields
    left to check as a PodSecurityContext."""
    for key in value:
        if key not in KAAP_SECURITY_CONTEXT:
            findings.append(SpecError(
                child_path(path, str(key)),
                f"KAAP's securityContext has only {', '.join(KAAP_SECURITY_CONTEXT)}; remove "
                f"{key}, or use apiVersion krm-pulsar.io/v1alpha1, whose securityContext is a "
                f"whole Kubernetes PodSecurityContext"))
    return {key: item for key, item in value.items() if key in KAAP_SECURITY_CONTEXT}


def _written(field: Field, value: Any, path: str) -> Iterator[tuple[str, Any, str]]:
    """(type expression, value, field path) of every value with a Kubernetes type."""
    if value is None:
        return
    if field.kubernetes:
        if value == {}:
            return  # "none" (the package storage objects: {} renders nothing), never invalid
        list_shape = getattr(field, "shape", None) == "list"
        yield ("[]" if list_shape else "") + field.kubernetes, value, path
    elif isinstance(field, Obj) and isinstance(value, dict):
        for key, item in value.items():
            child = field.fields.get(key)
            if child is not None:
                yield from _written(child, item, child_path(path, key))
    elif isinstance(field, Map) and isinstance(value, dict):
        for key, item in value.items():
            yield from _written(field.values, item, child_path(path, str(key)))
    elif isinstance(field, List) and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _written(field.items, item, child_path(path, index))


def patched_objects(cluster: Cluster, objects: list) -> list[SpecError]:
    """Each object a patch targeted, whole, as it will be printed: a patch writes raw JSON
    into our objects. Objects of kinds Kubernetes does not define (cert-manager's) are left to
    their own API server (docs/kubernetes-schema.md#patches)."""
    patches = cluster.spec["patches"]
    if not patches:
        return []
    from .validate import Schema, validate

    schema = Schema()
    findings: list[SpecError] = []
    for obj in objects:
        indices = [index for index, entry in enumerate(patches)
                   if _targets(entry.get("target") or {}, obj)]
        name = schema.object_type(obj)
        if not indices or name is None:
            continue
        problems: list[SpecError] = []
        validate(schema, name, obj, "", problems)
        for problem in problems:
            findings.append(SpecError(
                _patch_path(problem.path, patches, indices),
                f"after the patches, {obj.get('kind')} {obj['metadata'].get('name')!r} would be "
                f"refused by the API server: {problem.path}: {problem.message}"))
    return findings


def _targets(target: dict, obj: dict) -> bool:
    from ..patches import matches

    if matches(target, obj):
        return True
    if obj.get("kind") != "Job":
        return False
    # a Job's name has its content hash by now (workload.name_jobs); patches name it without
    unhashed = obj["metadata"]["name"].rpartition("-")[0]
    return matches(target, {**obj, "metadata": {**obj["metadata"], "name": unhashed}})


def _segments(path: str) -> list[str]:
    """``a.b[0]["c.d"]`` -> ``["a", "b", "0", "c.d"]`` (schema.child_path's notation)."""
    import re

    return [name or index or quoted for name, index, quoted in
            re.findall(r'\.?([A-Za-z0-9_-]+)|\[(\d+)\]|\["([^"]*)"\]', path)]


def _patch_path(problem: str, patches: list, indices: list[int]) -> str:
    """The field path in the spec of what caused a problem: the value of the latest patch
    operation whose path leads to it (spec.patches[1].patch[0].value.env[2].value), else the
    latest patch of the object."""
    segments = _segments(problem)
    for index in reversed(indices):
        operations = patches[index].get("patch") or []
        for number in reversed(range(len(operations))):
            operation = operations[number]
            if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
                continue
            pointer = [part.replace("~1", "/").replace("~0", "~")
                       for part in operation["path"].split("/")[1:]]
            if len(pointer) > len(segments) or any(
                    part not in (segment, "-")
                    for part, segment in zip(pointer, segments[:len(pointer)], strict=True)):
                continue
            path = f"spec.patches[{index}].patch[{number}]"
            if "value" not in operation:
                return path
            path += ".value"
            for segment in segments[len(pointer):]:
                path = child_path(path, int(segment) if segment.isdigit() else segment)
            return path
    return f"spec.patches[{indices[-1]}]"
