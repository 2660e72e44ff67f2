"""Argo CD sync waves: the static equivalent of KAAP's rollout gating (setsUpdateStrategy,
docs/kaap-parity.md#rollout-order)."""

from __future__ import annotations

from .. import names, registry
from .sets import resource_sets

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster
    pass

SYNC_WAVE = names.SYNC_WAVE

# Waves reserved per rollout stage (registry.Component.stage): more sets than this in one
# component would reach the next stage.
STAGE_WAVE_SPAN = 1000


def sync_waves(cluster: Cluster) -> dict:
    """``{(section, set name): wave}`` plus ``{(section, None): first wave of the section}``.

    Argo CD applies one wave, waits until it is healthy, then applies the next: the static
    equivalent of KAAP's gating. With ``setsUpdateStrategy: RollingUpdate`` every rendered set
    of a component gets its own wave in declaration order (one set rolls at a time); with
    ``Parallel`` the sets share the component's wave. Waves start at 0, Argo CD's wave for
    objects without the annotation, so prerequisites can go in negative waves.

    Each stage starts at a fixed multiple of ``STAGE_WAVE_SPAN``, so adding or removing a set
    renumbers only the later sets of that component, not every later component (a kpt package
    then changes exactly the files of what changed).
    """
    waves: dict[tuple[str, str | None], int] = {}
    for entry in registry.in_rollout_order():
        section = entry.section
        wave = entry.stage * STAGE_WAVE_SPAN
        waves[(section, None)] = wave
        if entry.has_sets:
            rolling = cluster.spec[section]["setsUpdateStrategy"] != "Parallel"
            rendered = [s for s in resource_sets(cluster, section) if s.spec["replicas"] > 0]
            for position, rset in enumerate(rendered):
                waves[(section, rset.name)] = wave + (position if rolling else 0)
    return waves


def annotate_sync_waves(cluster: Cluster, objects: list) -> None:
    """Put the sync-wave annotation on every generated object whose component is known.

    Plain metadata, ignored by kubectl, kustomize, kpt and Flux. Objects that already carry a
    wave keep it. The component comes from the ``component`` label (a base name of
    ``spec.global.components``), else from the object name; the set from ``resource-set``.
    """
    waves = sync_waves(cluster)
    by_base: dict[str, str] = {}
    sections = [entry.section for entry in registry.PULSAR_COMPONENTS]
    for known in sections:
        by_base.setdefault(cluster.base_name(known), known)
    prefixes = sorted(((cluster.resource_name(known), known) for known in sections),
                      key=lambda item: -len(item[0]))
    for obj in objects:
        metadata = obj["metadata"]
        annotations = metadata.get("annotations") or {}
        if SYNC_WAVE in annotations:
            continue
        labels = metadata.get("labels") or {}
        section = _section_of(labels.get(names.COMPONENT_LABEL), metadata.get("name") or "",
                              by_base, prefixes)
        if section is None:
            continue
        wave = waves.get((section, labels.get(names.RESOURCE_SET_LABEL)), waves[(section, None)])
        metadata["annotations"] = {**annotations, SYNC_WAVE: str(wave)}


def _section_of(component_label: str | None, name: str, by_base: dict,
                prefixes: list) -> str | None:
    if component_label in by_base:
        return by_base[component_label]
    if component_label and component_label.startswith("oxia"):
        return "oxia"
    for prefix, section in prefixes:
        if name == prefix or name.startswith(prefix + "-"):
            return section
    return None
