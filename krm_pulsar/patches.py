"""``spec.patches``: the escape hatch for anything the spec does not model.

Each entry is shaped like a kustomize ``patches`` entry with an inline RFC 6902 patch::

    patches:
    - target: {kind: StatefulSet, name: pulsar-broker}
      patch:
      - {op: add, path: /spec/template/spec/hostNetwork, value: true}

Patches apply last, in order, to the generated objects they target (a later patch sees the
result of an earlier one). A patch that targets no generated object, or that fails to apply,
is an error naming the patch by index: silently skipping it would ship a cluster without the
change the user asked for.

The ``jsonpatch`` package is imported only here, and this module only when patches exist, so
a render without patches does not pay for the import.
"""

from __future__ import annotations

from .schema import SpecError

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterable


def matches(target: dict, obj: dict) -> bool:
    """Whether `obj` is selected by `target` (every given field must match exactly)."""
    api_version = obj.get("apiVersion", "")
    group, _, version = api_version.rpartition("/")
    checks = (
        ("kind", obj.get("kind")),
        ("name", (obj.get("metadata") or {}).get("name")),
        ("group", group),
        ("version", version),
    )
    return all(target.get(key) in (None, value) for key, value in checks)


def apply_patches(objects: list, patches: list, findings: list) -> list:
    """Apply every patch to the objects it targets; errors go to `findings`.

    Returns the patched objects in their original order (a patch never adds or removes
    objects, and the identity of a patched object is checked afterwards).
    """
    import jsonpatch

    result = list(objects)
    for index, entry in enumerate(patches):
        path = f"spec.patches[{index}]"
        target = entry.get("target") or {}
        operations = entry.get("patch") or []
        if not target.get("kind") and not target.get("name"):
            findings.append(SpecError(f"{path}.target", "a patch needs a target with at least "
                                      "a kind or a name"))
            continue
        if not operations:
            findings.append(SpecError(f"{path}.patch", "a patch needs at least one RFC 6902 "
                                      "operation"))
            continue
        selected = [i for i, obj in enumerate(result) if matches(target, obj)]
        if not selected:
            findings.append(SpecError(
                f"{path}.target",
                f"patch {index} targets {_describe(target)}, which is not among the generated "
                f"objects; {_candidates(target, result)}"))
            continue
        try:
            patch = jsonpatch.JsonPatch(operations)
        except Exception as exc:  # jsonpatch raises several types for malformed operations
            findings.append(SpecError(f"{path}.patch", f"patch {index} is not a valid RFC 6902 "
                                      f"patch: {exc}"))
            continue
        for i in selected:
            obj = result[i]
            try:
                patched = patch.apply(obj)
            except Exception as exc:
                findings.append(SpecError(
                    f"{path}.patch",
                    f"patch {index} does not apply to {obj.get('kind')} "
                    f"{obj['metadata'].get('name')!r}: {exc}"))
                break
            broken = _broken_shape(patched)
            if broken:
                findings.append(SpecError(
                    f"{path}.patch",
                    f"patch {index} leaves {obj.get('kind')} {obj['metadata'].get('name')!r} "
                    f"with {broken}; a Kubernetes object needs it to be a mapping"))
                break
            if (patched.get("kind"), patched["metadata"].get("name")) != (
                    obj.get("kind"), obj["metadata"].get("name")):
                findings.append(SpecError(
                    f"{path}.patch",
                    f"patch {index} changes the kind or name of {obj.get('kind')} "
                    f"{obj['metadata'].get('name')!r}; rename objects with the spec "
                    f"(overrideResourceName, base names) instead"))
                break
            result[i] = patched
    return result


def _broken_shape(obj: object) -> str | None:
    """What a patch broke that later steps (checksums, names, annotations) rely on."""
    if not isinstance(obj, dict):
        return "no object at all"
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return "metadata that is not a mapping"
    for key in ("labels", "annotations"):
        if metadata.get(key) is not None and not isinstance(metadata[key], dict):
            return f"metadata.{key} that is not a mapping"
    template = (obj.get("spec") or {}).get("template") if isinstance(obj.get("spec"), dict) \
        else None
    if template is not None and (not isinstance(template, dict) or not isinstance(
            template.get("metadata", {}), dict)):
        return "spec.template or its metadata that is not a mapping"
    return None


def _describe(target: dict) -> str:
    parts = [f"{key} {target[key]!r}" for key in ("kind", "name", "group", "version")
             if target.get(key)]
    return ", ".join(parts)


def _candidates(target: dict, objects: list) -> str:
    """What the target may have meant: the generated objects of its kind, or its name under
    another kind, so the user can fix the target without rendering without the patch."""
    kind, name = target.get("kind"), target.get("name")
    if not objects:
        return "nothing was generated"
    same_kind = [obj for obj in objects if obj.get("kind") == kind]
    if name and any(obj["metadata"].get("name") == name for obj in same_kind):
        versions = sorted({obj.get("apiVersion", "") for obj in same_kind
                           if obj["metadata"].get("name") == name})
        return (f"the {kind} {name!r} is {', '.join(versions)}: fix target.group or "
                f"target.version")
    if same_kind:
        return (f"the generated {kind} objects are named "
                f"{_listing(obj['metadata'].get('name') for obj in same_kind)}: fix target.name")
    if name:
        kinds = [obj.get("kind") for obj in objects if obj["metadata"].get("name") == name]
        if kinds:
            return f"{name!r} is generated as {_listing(kinds, quote=False)}: fix target.kind"
    kinds = sorted({obj.get("kind") for obj in objects})
    what = f"no {kind} is generated" if kind else f"no object is named {name!r}"
    return f"{what}; the generated kinds are {_listing(kinds, quote=False)}"


def _listing(values: Iterable[object], quote: bool = True, limit: int = 6) -> str:
    texts = [repr(v) if quote else str(v) for v in values]
    shown = ", ".join(texts[:limit])
    return shown + (f" and {len(texts) - limit} more" if len(texts) > limit else "")
