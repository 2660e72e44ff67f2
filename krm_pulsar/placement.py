"""Placement: resource sets, racks and pod (anti-)affinity (KAAP §6 and §7).

A resource set is a group of bookies, brokers or proxies with its own workload, ConfigMap,
Service and PDB. A set may be mapped to a rack (a failure domain: a node or a zone). Affinity is
computed per set from the global anti-affinity, the component's override and the set's rack.
"""

from __future__ import annotations

from . import model
from .schema import SpecError

# The literal names of the default set of each set component (they do not follow base names).
DEFAULT_SET = {"bookkeeper": "bookkeeper", "broker": "broker", "proxy": "proxy"}

PREFERRED_WEIGHT = 100


class ResourceSet:
    """One set of a component, with its merged spec and everything derived from it."""

    __slots__ = ("component", "name", "spec", "rack", "resource_name", "is_default", "index")

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
        labels["resource-set"] = self.name
        if self.rack:
            labels["rack"] = self.rack
        return labels

    def pod_labels(self, cluster) -> dict:
        # matchLabels too, so the selector always matches the pods (cluster.pod_labels)
        from .cluster import pod_label_overrides

        labels = cluster.selector_labels(self.component, pod_label_overrides(self.spec))
        labels["resource-set"] = self.name
        if self.rack:
            labels["rack"] = self.rack
        return labels

    def match_labels(self, cluster) -> dict:
        """Selector labels: resource-set only for non-default sets, so the default set keeps
        KAAP's selector and an umbrella Service built like it selects every set."""
        labels = cluster.selector_labels(self.component, self.spec.get("matchLabels"))
        if not self.is_default:
            labels["resource-set"] = self.name
        if self.rack:
            labels["rack"] = self.rack
        return labels


def resource_sets(cluster, component: str) -> list[ResourceSet]:
    """The sets of a component, in declaration order; one default set when none is declared.

    Each set inherits the defaulted component spec and overrides it with KAAP's merge rules.
    Sets with ``replicas: 0`` are kept here; renderers skip them (KAAP §1.5).
    """
    top = cluster.spec[component]
    schema = model.SET_COMPONENTS[component]
    declared = cluster.glob["resourceSets"] or {}
    default_name = DEFAULT_SET[component]
    sets = top.get("sets") or {default_name: None}
    result = []
    for index, (name, raw) in enumerate(sets.items()):
        if raw is None:
            spec = dict(top)
        else:
            # KAAP Q3: a top-level overrideResourceName is not inherited (every set would
            # otherwise render under the same name).
            base = dict(top, overrideResourceName=None)
            spec = schema.merge(base, raw)
            # KAAP Q4: a set's own minAvailable still clears the inherited maxUnavailable.
            if raw.get("pdb", {}) and raw["pdb"].get("minAvailable") is not None:
                spec["pdb"] = dict(spec["pdb"], maxUnavailable=None)
            _set_storage(spec, raw)
        for key in ("sets", "setsUpdateStrategy", "autoRackConfig"):
            spec.pop(key, None)
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


def _set_storage(spec: dict, raw: dict) -> None:
    """KAAP Q5: a set's own storageClass must not be masked by the inherited
    ``existingStorageClassName`` that the component took from the global default."""
    volumes = raw.get("volumes") or {}
    for key, volume in volumes.items():
        if isinstance(volume, dict) and volume.get("storageClass") and not volume.get(
            "existingStorageClassName"
        ):
            spec["volumes"][key] = dict(spec["volumes"][key], existingStorageClassName=None)


def umbrella_needed(cluster, component: str) -> bool:
    """An umbrella Service exists when the component declares sets (KAAP §6.5)."""
    return bool(cluster.spec[component].get("sets"))


# --- validation ---------------------------------------------------------------------------------


def validate(spec: dict) -> list[SpecError]:
    """Resource-set and rack checks (KAAP §10.1), all reported at once (KAAP stops at the first)."""
    errors = []
    glob = spec["global"]
    racks = glob["racks"] or {}
    declared = glob["resourceSets"] or {}
    for set_name, config in declared.items():
        rack = (config or {}).get("rack")
        if rack and rack not in racks:
            errors.append(SpecError(
                f"spec.global.resourceSets.{set_name}.rack",
                f"resource set {set_name} references rack {rack!r}, which is not declared in "
                f"spec.global.racks (declared: {_listing(racks)})",
            ))
    for component in ("broker", "proxy", "bookkeeper"):
        for set_name in spec[component].get("sets") or {}:
            if set_name not in declared:
                errors.append(SpecError(
                    f"spec.{component}.sets.{set_name}",
                    f"{component} resource set {set_name} is not defined in global resource "
                    f"sets (.global.resourceSets), only {_listing(declared)}; declare it there",
                ))
    return errors


def _listing(names) -> str:
    return "[" + ", ".join(names) + "]"


# --- affinity -----------------------------------------------------------------------------------


def affinity(cluster, component_spec: dict, match_labels: dict, rack: str | None = None):
    """The pod ``affinity`` block, or None when it would be empty (KAAP §7.2)."""
    keys = cluster.glob["topologyKeys"]
    pod_affinity = {"requiredDuringSchedulingIgnoredDuringExecution": [],
                    "preferredDuringSchedulingIgnoredDuringExecution": []}
    anti_affinity = {"requiredDuringSchedulingIgnoredDuringExecution": [],
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
