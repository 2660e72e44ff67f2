"""Resource sets (docs/resource-sets.md): a group of bookies, brokers or proxies with its own
workload, ConfigMap, Service and PDB, merged over its component with KAAP's rules, and the
umbrella Service over every set of a component."""

from __future__ import annotations

from .. import model, names, registry

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..cluster import Cluster

# The literal names of the default set of each set component (they do not follow base names).
DEFAULT_SET = {c.section: c.default_set for c in registry.SET_COMPONENTS}


class ResourceSet:
    """One set of a component, with its merged spec and everything derived from it."""

    __slots__ = ("component", "index", "is_default", "name", "rack", "resource_name", "spec")

    def __init__(self, component: str, name: str, spec: dict, rack: str | None,
                 resource_name: str, is_default: bool, index: int) -> None:
        self.component = component
        self.name = name
        self.spec = spec
        self.rack = rack
        self.resource_name = resource_name
        self.is_default = is_default
        self.index = index

    def labels(self, cluster: Cluster) -> dict:
        """Metadata labels: resource-set always, rack when mapped (added after custom keys)."""
        labels = cluster.labels(self.component, self.spec.get("labels"))
        labels[names.RESOURCE_SET_LABEL] = self.name
        if self.rack:
            labels[names.RACK_LABEL] = self.rack
        return labels

    def pod_labels(self, cluster: Cluster) -> dict:
        # matchLabels too, so the selector always matches the pods (cluster.pod_labels)
        from ..cluster import pod_label_overrides

        labels = cluster.selector_labels(self.component, pod_label_overrides(self.spec))
        labels[names.RESOURCE_SET_LABEL] = self.name
        if self.rack:
            labels[names.RACK_LABEL] = self.rack
        return labels

    def match_labels(self, cluster: Cluster) -> dict:
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
    Sets with ``replicas: 0`` are kept here; renderers skip them (kaap-parity.md#zero-replicas).
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
        # kaap-parity.md#q3: a top-level overrideResourceName is not inherited (every set would
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
    """kaap-parity.md#q4: the set's own choice between minAvailable and maxUnavailable wins over the
    inherited one; Kubernetes rejects a PDB with both."""
    own = raw.get("pdb") or {}
    if own.get("minAvailable") is not None:
        spec["pdb"] = dict(spec["pdb"], maxUnavailable=None)
    elif own.get("maxUnavailable") is not None:
        spec["pdb"] = dict(spec["pdb"], minAvailable=None)


def _set_storage(spec: dict, raw: dict) -> None:
    """kaap-parity.md#q5: a set's own storageClass must not be masked by the inherited
    ``existingStorageClassName`` that the component took from the global default."""
    volumes = raw.get("volumes") or {}
    for key, volume in volumes.items():
        if isinstance(volume, dict) and volume.get("storageClass") and not volume.get(
            "existingStorageClassName"
        ):
            spec["volumes"][key] = dict(spec["volumes"][key], existingStorageClassName=None)


def render_sets(cluster: Cluster, component: str,
                render_set: Callable[[Cluster, ResourceSet], list],
                umbrella_service: Callable[[Cluster], dict]) -> list:
    """The objects of every set with replicas (kaap-parity.md#zero-replicas: zero replicas render
    nothing), in declaration order, then the umbrella Service when one is needed."""
    sets = resource_sets(cluster, component)
    objects = []
    for rset in sets:
        if rset.spec["replicas"] > 0:
            objects.extend(render_set(cluster, rset))
    if umbrella_needed(cluster, component, sets):
        objects.append(umbrella_service(cluster))
    return objects


def umbrella_needed(cluster: Cluster, component: str, sets: list) -> bool:
    """Whether the component needs a separate umbrella Service ``<name>-<base>``.

    KAAP renders it when sets are declared (kaap-parity.md#umbrella-service). We render it whenever
    some set renders and none of the rendered sets already owns that name: other components dial it
    (broker URLs, the bastion's proxy), so it must exist also when the top-level ``replicas`` is 0
    (kaap-parity.md#q12) or the default set is renamed with ``overrideResourceName``. A set named
    like the default keeps the name for its own Service (kaap-parity.md#q11: the set wins).
    """
    rendered = [s for s in sets if s.spec["replicas"] > 0]
    umbrella = cluster.resource_name(component)
    return bool(rendered) and all(s.resource_name != umbrella for s in rendered)


def umbrella_labels(cluster: Cluster, component: str) -> tuple[dict, dict]:
    """``(metadata labels, selector)`` of the umbrella Service. Metadata labels are KAAP's (the
    umbrella is built as the default set: ``resource-set: <default>``); the selector has only
    the component's selector labels, so it picks every pod of every set (without the ``rack``
    KAAP would add when the default set name is mapped to a rack, kaap-parity.md#umbrella-service
    Edge), and without the component's custom ``matchLabels`` keys that a rendered set gives another
    value."""
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
