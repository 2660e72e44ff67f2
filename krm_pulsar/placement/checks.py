"""Resource-set and rack checks (phase ``spec`` of the check registry)."""

from __future__ import annotations

import re

from .. import names, registry
from ..schema import DNS_LABEL, SpecError, child_path, warning
from .sets import DEFAULT_SET
from .waves import STAGE_WAVE_SPAN

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterable

# StatefulSet pods carry `controller-revision-hash: <name>-<10 characters>`, a label value of at
# most 63 characters, so a StatefulSet name may have at most 52.
MAX_STATEFULSET_NAME = 52
MAX_SERVICE_NAME = 63

_DNS_LABEL = re.compile(DNS_LABEL)

_NAME_RULE = ("lower-case letters, digits and '-', starting and ending with a letter or digit, "
              "at most 63 characters")


def _valid_name(name: object) -> bool:
    return isinstance(name, str) and len(name) <= 63 and bool(_DNS_LABEL.match(name))


def validate(spec: dict, raw: dict | None = None) -> list[SpecError]:
    """Resource-set and rack checks (KAAP's and ours, kaap-parity.md#validation), all reported
    at once (KAAP stops at the first, kaap-parity.md#q22). Errors stop the render; warnings point
    at KAAP behaviour that is kept but easy to get wrong."""
    raw = raw or {}
    errors = []
    glob = spec["global"]
    racks = glob["racks"] or {}
    declared = glob["resourceSets"] or {}
    for rack in racks:
        if not _valid_name(rack):
            errors.append(SpecError(
                child_path("spec.global.racks", rack),
                f"rack name {rack!r} is not a valid Kubernetes name ({_NAME_RULE}); it becomes "
                f"the value of the `rack` label and the bookie rack path: rename it"))
    for set_name, config in declared.items():
        if not _valid_name(set_name):
            errors.append(SpecError(
                child_path("spec.global.resourceSets", set_name),
                f"resource set name {set_name!r} is not a valid Kubernetes name ({_NAME_RULE}); "
                f"it becomes part of object names and the `resource-set` label: rename it"))
        rack = (config or {}).get("rack")
        if rack and rack not in racks:
            errors.append(SpecError(
                f"spec.global.resourceSets.{set_name}.rack",
                f"Resource set {set_name} references a rack {rack} that does not exist. You must "
                f"define racks in .global.racks (declared: {_listing(racks)}); declare rack "
                f"{rack} there or map the set to one of the declared racks"))
    for component in DEFAULT_SET:
        if len(spec[component].get("sets") or {}) > STAGE_WAVE_SPAN:
            errors.append(SpecError(
                f"spec.{component}.sets",
                f"at most {STAGE_WAVE_SPAN} sets per component (each rolls in its own sync "
                f"wave); merge some sets"))
        for set_name in spec[component].get("sets") or {}:
            if set_name not in declared:
                errors.append(SpecError(
                    f"spec.{component}.sets.{set_name}",
                    f"{component} resource set {set_name} is not defined in global resource "
                    f"sets (.global.resourceSets), only {_listing(declared)}; declare it there"))
    errors.extend(_resource_names(spec))
    if any(e.severity == "error" for e in errors):
        return errors
    errors.extend(_placement_warnings(spec, raw))
    return errors


def _resource_names(spec: dict) -> list[SpecError]:
    """Set object names: length limits, and two sets that would render under one name."""
    errors = []
    glob = spec["global"]
    owners: dict[str, str] = {}
    for component in DEFAULT_SET:
        top = spec[component]
        base = names.resource_name(
            glob["name"], glob["components"][registry.BY_SECTION[component].base_name_key])
        sets = top.get("sets")
        if sets and top.get("overrideResourceName"):
            errors.append(warning(
                f"spec.{component}.overrideResourceName",
                f"has no effect when spec.{component}.sets is given (sets do not inherit it, "
                f"the umbrella Service keeps the name {base}); give each set its own "
                f"overrideResourceName instead"))
        for set_name, set_spec in (sets or {DEFAULT_SET[component]: None}).items():
            own = (set_spec or {}).get("overrideResourceName") if sets else top.get(
                "overrideResourceName")
            if own:
                name, path = own, (f"spec.{component}.sets.{set_name}.overrideResourceName"
                                   if sets else f"spec.{component}.overrideResourceName")
            elif set_name == DEFAULT_SET[component]:
                name, path = base, (f"spec.{component}.sets.{set_name}" if sets
                                    else f"spec.{component}")
            else:
                name, path = f"{base}-{set_name}", f"spec.{component}.sets.{set_name}"
            limit = MAX_SERVICE_NAME if component == "proxy" else MAX_STATEFULSET_NAME
            if len(name) > limit:
                errors.append(SpecError(path, (
                    f"the objects of this set would be named {name!r} ({len(name)} characters); "
                    f"Kubernetes allows at most {limit} here: use a shorter set name, "
                    f"global.name or overrideResourceName")))
            if name in owners:
                errors.append(SpecError(path, (
                    f"the objects of this set would be named {name!r}, like those of "
                    f"{owners[name]}; every set needs its own name: change the set name or "
                    f"overrideResourceName")))
            else:
                owners[name] = path
    return errors


def _placement_warnings(spec: dict, raw: dict) -> list[SpecError]:
    findings = []
    glob = spec["global"]
    racks = glob["racks"] or {}
    declared = glob["resourceSets"] or {}
    used_racks: dict[str, str] = {}
    for component in DEFAULT_SET:
        top = spec[component]
        sets = top.get("sets") or {}
        names = list(sets) or [DEFAULT_SET[component]]
        for set_name in names:
            rack = (declared.get(set_name) or {}).get("rack")
            if rack:
                used_racks.setdefault(rack, f"spec.{component}.sets.{set_name}")
                if (sets.get(set_name) or {}).get("antiAffinity") is not None:
                    findings.append(warning(
                        f"spec.{component}.sets.{set_name}.antiAffinity",
                        f"has no effect: set {set_name} is mapped to rack {rack}, and racked "
                        f"sets take their placement from spec.global.racks.{rack} (see "
                        f"docs/racks.md)"))
            else:
                override = _override_path(top, sets.get(set_name), component, set_name)
                if override:
                    for finding in _anti_affinity_warning(glob, override):
                        if finding not in findings:
                            findings.append(finding)
        if DEFAULT_SET[component] in sets and len(sets) > 1:
            findings.append(warning(
                f"spec.{component}.sets.{DEFAULT_SET[component]}",
                f"a set named like the default ({DEFAULT_SET[component]}) keeps KAAP's default "
                f"selector without `resource-set`: its StatefulSet/Deployment, Service and PDB "
                f"also select the pods of the other {component} sets (pods under two PDBs "
                f"cannot be evicted); rename the set unless you migrate it from KAAP as it is"))
    for rack, user in used_racks.items():
        config = racks.get(rack) or {}
        enabled = [level for level in ("host", "zone") if config[level]["enabled"]]
        if not enabled:
            findings.append(warning(
                f"spec.global.racks.{rack}",
                f"rack {rack} enables neither host nor zone placement, so sets in it (e.g. "
                f"{user}) get no pod affinity or anti-affinity at all, not even the global host "
                f"anti-affinity (KAAP behaviour); set zone.enabled or host.enabled on the rack "
                f"if its pods must be spread"))
        elif len(racks) == 1:
            findings.append(warning(
                f"spec.global.racks.{rack}",
                f"rack {rack} is the only rack, so the anti-affinity to other racks is left "
                f"out (KAAP would emit `rack In []`, which Kubernetes rejects); declare the "
                f"other racks to keep pods of different racks apart"))
    config = (raw.get("bookkeeper") or {}).get("autoRackConfig") or {}
    for key in ("periodMs", "additionalZookeeperClientConfig"):
        if config.get(key) is not None:
            findings.append(warning(
                f"spec.bookkeeper.autoRackConfig.{key}",
                "has no effect: krm-pulsar registers bookie racks through the brokers with a "
                "Job that runs when the bookie layout changes (see docs/racks.md)"))
    return findings


def _override_path(top: dict, set_spec: dict | None, component: str,
                   set_name: str) -> tuple[str, dict] | None:
    """``(field path, effective value)`` of the antiAffinity override in effect for a set
    without rack, or None when the global one applies. A set's value merges over the
    component's (kaap-parity.md#set-merge)."""
    own = (set_spec or {}).get("antiAffinity")
    if own is not None:
        return (f"spec.{component}.sets.{set_name}.antiAffinity",
                {**(top.get("antiAffinity") or {}), **{k: v for k, v in own.items() if v}})
    if top.get("antiAffinity") is not None:
        return f"spec.{component}.antiAffinity", top["antiAffinity"]
    return None


def _anti_affinity_warning(glob: dict, override: tuple[str, dict]) -> list[SpecError]:
    """kaap-parity.md#q6: an override replaces the global antiAffinity as a whole, so an override
    that does not mention `host` drops the global host rule."""
    path, value = override
    host_global = glob["antiAffinity"]["host"]["enabled"]
    if host_global and not (value or {}).get("host"):
        return [warning(path, (
            "replaces spec.global.antiAffinity as a whole and has no `host` rule, so pods of "
            "this set may share a node; add `host: {enabled: true, required: true}` to keep "
            "the global host rule"))]
    return []


def _listing(names: Iterable[str]) -> str:
    return "[" + ", ".join(names) + "]"
