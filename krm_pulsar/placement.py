"""Placement: resource sets, racks and pod (anti-)affinity (KAAP §6 and §7).

A resource set is a group of bookies, brokers or proxies with its own workload, ConfigMap,
Service and PDB. A set may be mapped to a rack (a failure domain: a node or a zone). Affinity is
computed per set from the global anti-affinity, the component's override and the set's rack.
"""

from __future__ import annotations

import re

from . import model, names, registry
from .schema import DNS_LABEL, SpecError, child_path, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

# The literal names of the default set of each set component (they do not follow base names).
DEFAULT_SET = {c.section: c.default_set for c in registry.SET_COMPONENTS}

PREFERRED_WEIGHT = 100

# Bookie rack awareness as KAAP writes it (§8.1). The resolver reads the /bookies rack map from
# the metadata store; the region-aware policy turns "<rack>/<node>" into region/rack.
RACK_RESOLVER_CLASS = "org.apache.pulsar.zookeeper.ZkBookieRackAffinityMapping"
REGION_AWARE_POLICY = "org.apache.bookkeeper.client.RegionAwareEnsemblePlacementPolicy"

# StatefulSet pods carry `controller-revision-hash: <name>-<10 characters>`, a label value of at
# most 63 characters, so a StatefulSet name may have at most 52.
MAX_STATEFULSET_NAME = 52
MAX_SERVICE_NAME = 63

_DNS_LABEL = re.compile(DNS_LABEL)


class ResourceSet:
    """One set of a component, with its merged spec and everything derived from it."""

    __slots__ = ("component", "index", "is_default", "name", "rack", "resource_name", "spec")

    def __init__(self, component, name, spec, rack, resource_name, is_default, index):
        self.component = component
        self.name = name
        self.spec = spec
        self.rack = rack
        self.resource_name = resource_name
        self.is_default = is_default
        self.index = index

    def labels(self, cluster) -> dict:
        """Metadata labels: resource-set always, rack when mapped (added after custom keys)."""
        labels = cluster.labels(self.component, self.spec.get("labels"))
        labels[names.RESOURCE_SET_LABEL] = self.name
        if self.rack:
            labels[names.RACK_LABEL] = self.rack
        return labels

    def pod_labels(self, cluster) -> dict:
        # matchLabels too, so the selector always matches the pods (cluster.pod_labels)
        from .cluster import pod_label_overrides

        labels = cluster.selector_labels(self.component, pod_label_overrides(self.spec))
        labels[names.RESOURCE_SET_LABEL] = self.name
        if self.rack:
            labels[names.RACK_LABEL] = self.rack
        return labels

    def match_labels(self, cluster) -> dict:
        """Selector labels: resource-set only for non-default sets, so the default set keeps
        KAAP's selector and an umbrella Service built like it selects every set."""
        labels = cluster.selector_labels(self.component, self.spec.get("matchLabels"))
        if not self.is_default:
            labels[names.RESOURCE_SET_LABEL] = self.name
        if self.rack:
            labels[names.RACK_LABEL] = self.rack
        return labels


def resource_sets(cluster: Cluster, component: str) -> list[ResourceSet]:
    """The sets of a component (resolved once, when the Cluster is built)."""
    return cluster.sets[component]


def build_resource_sets(cluster: Cluster, component: str) -> list[ResourceSet]:
    """The sets of a component, in declaration order; one default set when none is declared.

    Each set inherits the defaulted component spec and overrides it with KAAP's merge rules.
    Sets with ``replicas: 0`` are kept here; renderers skip them (KAAP §1.5).
    """
    top = cluster.spec[component]
    declared = cluster.glob["resourceSets"] or {}
    default_name = DEFAULT_SET[component]
    result = []
    for index, (name, spec) in enumerate(_set_specs(top, component)):
        rack = (declared.get(name) or {}).get("rack")
        is_default = name == default_name
        if spec.get("overrideResourceName"):
            resource_name = spec["overrideResourceName"]
        elif is_default:
            resource_name = cluster.resource_name(component)
        else:
            resource_name = f"{cluster.resource_name(component)}-{name}"
        result.append(ResourceSet(component, name, spec, rack, resource_name, is_default, index))
    return result


def _set_specs(top: dict, component: str) -> list:
    """``[(set name, merged spec)]``: the declared sets merged over the component, or the
    component itself as the default set."""
    declared_sets = top.get("sets")
    if not declared_sets:
        spec = dict(top)
        _drop_top_level_fields(spec)
        return [(DEFAULT_SET[component], spec)]
    schema = model.SET_COMPONENTS[component]
    result = []
    for name, declared in declared_sets.items():
        raw = declared or {}  # `name: {}` and `name:` (null) both mean "inherit everything"
        # KAAP Q3: a top-level overrideResourceName is not inherited (every set would
        # otherwise render under the same name and overwrite the others).
        spec = schema.merge(dict(top, overrideResourceName=None), raw)
        _set_pdb(spec, raw)
        _set_storage(spec, raw)
        _drop_top_level_fields(spec)
        result.append((name, spec))
    return result


def _drop_top_level_fields(spec: dict) -> None:
    for key in ("sets", "setsUpdateStrategy", "autoRackConfig"):
        spec.pop(key, None)


def _set_pdb(spec: dict, raw: dict) -> None:
    """KAAP Q4: the set's own choice between minAvailable and maxUnavailable wins over the
    inherited one; Kubernetes rejects a PDB with both."""
    own = raw.get("pdb") or {}
    if own.get("minAvailable") is not None:
        spec["pdb"] = dict(spec["pdb"], maxUnavailable=None)
    elif own.get("maxUnavailable") is not None:
        spec["pdb"] = dict(spec["pdb"], minAvailable=None)


def _set_storage(spec: dict, raw: dict) -> None:
    """KAAP Q5: a set's own storageClass must not be masked by the inherited
    ``existingStorageClassName`` that the component took from the global default."""
    volumes = raw.get("volumes") or {}
    for key, volume in volumes.items():
        if isinstance(volume, dict) and volume.get("storageClass") and not volume.get(
            "existingStorageClassName"
        ):
            spec["volumes"][key] = dict(spec["volumes"][key], existingStorageClassName=None)


def render_sets(cluster, component: str, render_set, umbrella_service) -> list:
    """The objects of every set with replicas (KAAP §1.5: zero replicas render nothing), in
    declaration order, then the umbrella Service when one is needed."""
    sets = resource_sets(cluster, component)
    objects = []
    for rset in sets:
        if rset.spec["replicas"] > 0:
            objects.extend(render_set(cluster, rset))
    if umbrella_needed(cluster, component, sets):
        objects.append(umbrella_service(cluster))
    return objects


def umbrella_needed(cluster, component: str, sets: list) -> bool:
    """Whether the component needs a separate umbrella Service ``<name>-<base>``.

    KAAP renders it when sets are declared (§6.5). We render it whenever some set renders and
    none of the rendered sets already owns that name: other components dial it (broker URLs,
    the bastion's proxy), so it must exist also when the top-level ``replicas`` is 0 (KAAP Q12)
    or the default set is renamed with ``overrideResourceName``. A set named like the default
    keeps the name for its own Service (KAAP Q11: the set wins).
    """
    rendered = [s for s in sets if s.spec["replicas"] > 0]
    umbrella = cluster.resource_name(component)
    return bool(rendered) and all(s.resource_name != umbrella for s in rendered)


def umbrella_labels(cluster, component: str) -> tuple[dict, dict]:
    """``(metadata labels, selector)`` of the umbrella Service. Metadata labels are KAAP's (the
    umbrella is built as the default set: ``resource-set: <default>``); the selector has only
    the component's selector labels, so it picks every pod of every set (without the ``rack``
    KAAP would add when the default set name is mapped to a rack, §6.5 Edge), and without the
    component's custom ``matchLabels`` keys that a rendered set gives another value."""
    top = cluster.spec[component]
    labels = cluster.labels(component, top.get("labels"))
    labels[names.RESOURCE_SET_LABEL] = DEFAULT_SET[component]
    selector = cluster.selector_labels(component, top.get("matchLabels"))
    # A set's matchLabels value replaces the component's on that set's pods; an umbrella that
    # kept the component's value would not reach them (KAAP keeps it). Drop such keys.
    base = cluster.selector_labels(component)
    for rset in resource_sets(cluster, component):
        if rset.spec["replicas"] > 0:
            pods = rset.pod_labels(cluster)
            selector = {key: value for key, value in selector.items()
                        if key in base or pods.get(key) == value}
    return labels, selector


# --- static rack awareness (KAAP §8.1) ----------------------------------------------------------


def broker_rack_config() -> dict:
    """Broker defaults; the user's ``config`` wins (``"false"`` turns region awareness off)."""
    return {"bookkeeperClientRegionawarePolicyEnabled": "true"}


def bookie_rack_config() -> dict:
    return {"reppDnsResolverClass": RACK_RESOLVER_CLASS}


def autorecovery_rack_config() -> dict:
    """Autorecovery defaults (KAAP sets the placement policy here, not the broker's key).
    For the autorecovery renderer: merge these under the user's ``config``."""
    return {"reppDnsResolverClass": RACK_RESOLVER_CLASS,
            "ensemblePlacementPolicy": REGION_AWARE_POLICY}


def region_aware(spec: dict) -> bool:
    """Whether brokers use the region-aware placement policy (on unless the user turned it
    off in the broker's top-level ``config``)."""
    config = spec["broker"].get("config") or {}
    for key in ("bookkeeperClientRegionawarePolicyEnabled",
                "PULSAR_PREFIX_bookkeeperClientRegionawarePolicyEnabled"):
        if key in config and config[key] is not None:
            return str(config[key]).strip().lower() != "false"
    return True


# --- Argo CD sync waves (setsUpdateStrategy) ----------------------------------------------------

SYNC_WAVE = names.SYNC_WAVE

# Waves reserved per rollout stage (registry.Component.stage): more sets than this in one
# component would reach the next stage.
STAGE_WAVE_SPAN = 1000


def sync_waves(cluster) -> dict:
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
    waves = {}
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


def annotate_sync_waves(cluster, objects: list) -> None:
    """Put the sync-wave annotation on every generated object whose component is known.

    Plain metadata, ignored by kubectl, kustomize, kpt and Flux. Objects that already carry a
    wave keep it. The component comes from the ``component`` label (a base name of
    ``spec.global.components``), else from the object name; the set from ``resource-set``.
    """
    waves = sync_waves(cluster)
    by_base: dict[str, str] = {}
    sections = [entry.section for entry in registry.PULSAR_COMPONENTS]
    for section in sections:
        by_base.setdefault(cluster.base_name(section), section)
    prefixes = sorted(((cluster.resource_name(section), section) for section in sections),
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


def _section_of(component_label, name: str, by_base: dict, prefixes: list):
    if component_label in by_base:
        return by_base[component_label]
    if component_label and component_label.startswith("oxia"):
        return "oxia"
    for prefix, section in prefixes:
        if name == prefix or name.startswith(prefix + "-"):
            return section
    return None


# --- validation ---------------------------------------------------------------------------------

_NAME_RULE = ("lower-case letters, digits and '-', starting and ending with a letter or digit, "
              "at most 63 characters")


def _valid_name(name) -> bool:
    return isinstance(name, str) and len(name) <= 63 and bool(_DNS_LABEL.match(name))


def validate(spec: dict, raw: dict | None = None) -> list[SpecError]:
    """Resource-set and rack checks (KAAP §10.1 plus our §10.3 choices), all reported at once
    (KAAP stops at the first, Q22). Errors stop the render; warnings point at KAAP behaviour
    that is kept but easy to get wrong."""
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
        base = f"{glob['name']}-{glob['components'][component + 'BaseName']}"
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
                        f"sets take their placement from spec.global.racks.{rack} (KAAP §7.4)"))
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


def _override_path(top: dict, set_spec, component: str, set_name: str):
    """``(field path, effective value)`` of the antiAffinity override in effect for a set
    without rack, or None when the global one applies. A set's value merges over the
    component's (KAAP §6.2)."""
    own = (set_spec or {}).get("antiAffinity")
    if own is not None:
        return (f"spec.{component}.sets.{set_name}.antiAffinity",
                {**(top.get("antiAffinity") or {}), **{k: v for k, v in own.items() if v}})
    if top.get("antiAffinity") is not None:
        return f"spec.{component}.antiAffinity", top["antiAffinity"]
    return None


def _anti_affinity_warning(glob: dict, override) -> list[SpecError]:
    """KAAP Q6: an override replaces the global antiAffinity as a whole, so an override that
    does not mention `host` drops the global host rule."""
    path, value = override
    host_global = glob["antiAffinity"]["host"]["enabled"]
    if host_global and not (value or {}).get("host"):
        return [warning(path, (
            "replaces spec.global.antiAffinity as a whole and has no `host` rule, so pods of "
            "this set may share a node; add `host: {enabled: true, required: true}` to keep "
            "the global host rule"))]
    return []


def _listing(names) -> str:
    return "[" + ", ".join(names) + "]"


# --- affinity -----------------------------------------------------------------------------------


def affinity(cluster, component_spec: dict, match_labels: dict, rack: str | None = None):
    """The pod ``affinity`` block, or None when it would be empty (KAAP §7.2)."""
    keys = cluster.glob["topologyKeys"]
    pod_affinity: dict[str, list] = {"requiredDuringSchedulingIgnoredDuringExecution": [],
                    "preferredDuringSchedulingIgnoredDuringExecution": []}
    anti_affinity: dict[str, list] = {"requiredDuringSchedulingIgnoredDuringExecution": [],
                     "preferredDuringSchedulingIgnoredDuringExecution": []}
    if rack:
        _rack_rules(cluster, rack, match_labels, keys, pod_affinity, anti_affinity)
    else:
        # a component's antiAffinity replaces the global one as a whole (KAAP §7.2)
        effective = component_spec.get("antiAffinity") or cluster.glob["antiAffinity"]
        _anti_term(effective.get("host"), keys["host"], match_labels, anti_affinity)
        _anti_term(effective.get("zone"), keys["zone"], match_labels, anti_affinity)
    result = {}
    if _non_empty(pod_affinity):
        result["podAffinity"] = _non_empty(pod_affinity)
    if component_spec.get("nodeAffinity"):
        result["nodeAffinity"] = component_spec["nodeAffinity"]
    if _non_empty(anti_affinity):
        result["podAntiAffinity"] = _non_empty(anti_affinity)
    return result or None


def _non_empty(terms: dict) -> dict:
    return {key: value for key, value in terms.items() if value}


def _place(term: dict, required: bool, target: dict) -> None:
    if required:
        target["requiredDuringSchedulingIgnoredDuringExecution"].append(term)
    else:
        target["preferredDuringSchedulingIgnoredDuringExecution"].append(
            {"weight": PREFERRED_WEIGHT, "podAffinityTerm": term})


def _anti_term(rule, topology_key: str, match_labels: dict, anti_affinity: dict) -> None:
    if not rule or rule.get("enabled") is not True:
        return
    term = {"labelSelector": {"matchLabels": dict(match_labels)}, "topologyKey": topology_key}
    # `required` left out means preferred (KAAP §7.3)
    _place(term, rule.get("required") is True, anti_affinity)


def _rack_rules(cluster, rack, match_labels, keys, pod_affinity, anti_affinity) -> None:
    racks = cluster.glob["racks"] or {}
    config = racks[rack]
    # Sorted, not KAAP's Java HashMap order: same selector semantics, deterministic output.
    others = sorted(name for name in racks if name != rack)
    for level in ("host", "zone"):
        block = config[level]
        if not block["enabled"]:
            continue
        key = keys[level]
        _place(_rack_term(key, [rack]), block["requireRackAffinity"], pod_affinity)
        if others:
            _place(_rack_term(key, others), block["requireRackAntiAffinity"], anti_affinity)
        if level == "zone" and block["enableHostAntiAffinity"]:
            term = {"labelSelector": {"matchLabels": dict(match_labels)},
                    "topologyKey": keys["host"]}
            _place(term, block["requireRackHostAntiAffinity"], anti_affinity)


def _rack_term(topology_key: str, racks: list) -> dict:
    return {
        "labelSelector": {"matchExpressions": [{"key": "rack", "operator": "In",
                                                "values": list(racks)}]},
        "topologyKey": topology_key,
    }
