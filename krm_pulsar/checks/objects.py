"""Checks of the rendered objects (phases ``objects`` and ``output`` of the check registry,
krm_pulsar/checks/__init__.py)."""

from __future__ import annotations

from .. import names, placement
from ..schema import SpecError

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster


# Longest names Kubernetes accepts, by kind: Services and Jobs become DNS labels and label
# values (63); StatefulSet pods carry `controller-revision-hash: <name>-<10 characters>` (52).
_NAME_LIMITS = {"Service": 63, "Job": 63, "StatefulSet": placement.MAX_STATEFULSET_NAME}


def name_lengths(cluster: Cluster, objects: list) -> list[SpecError]:
    """Names longer than Kubernetes accepts (after the Jobs got their content hash)."""
    findings = []
    for obj in objects:
        name = obj["metadata"]["name"]
        limit = _NAME_LIMITS.get(obj["kind"], 253)
        if len(name) > limit:
            findings.append(SpecError("spec.global.name", (
                f"{obj['kind']} {name!r} would have {len(name)} characters and Kubernetes "
                f"allows at most {limit}: shorten spec.global.name (or the component's base "
                f"name in spec.global.components) by {len(name) - limit}")))
    return findings


def duplicates(cluster: Cluster, objects: list) -> list[SpecError]:
    """Two generated objects with the same kind and name: the later would replace the earlier
    when applied. The message names both producers (component and set)."""
    seen: dict[tuple, dict] = {}
    findings = []
    for obj in objects:
        key = names.object_key(obj)
        if key in seen:
            findings.append(SpecError(
                "spec", f"two generated objects are both {key[1]} {key[3]!r} (from "
                f"{_producer(seen[key])} and from {_producer(obj)}); give one of them another "
                f"name, for example with overrideResourceName or another set name"))
        else:
            seen[key] = obj
    return findings


def _producer(obj: dict) -> str:
    labels = obj["metadata"].get("labels") or {}
    component = labels.get(names.COMPONENT_LABEL, "?")
    if names.RESOURCE_SET_LABEL in labels:
        return f"{component} set {labels[names.RESOURCE_SET_LABEL]}"
    return component
