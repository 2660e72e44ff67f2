"""The pod groups the NetworkPolicies select: what runs in them and the labels they carry.

A group is read off a rendered workload (a component, one of its resource sets, the Oxia
coordinator or servers) or a kind of Job, so its selector is exactly what the renderer put on
the pods; the function instance pods of the kubernetes runtime are not rendered by us and are
selected by the labels we make the worker give them (functions_worker.instance_labels).
"""

from __future__ import annotations

from .. import names, placement, registry

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

# What runs in a group, besides the registry's components (whose kind is their section):
# the Oxia parts (the endpoint-table keys of the oxia entry) and the pods no component owns.
OXIA_SERVER = names.OXIA_SERVER
OXIA_COORDINATOR = names.OXIA_COORDINATOR
METADATA_JOB = "metadata-job"            # initialize-cluster-metadata (ZooKeeper or Oxia)
TRANSACTIONS_JOB = "transactions-job"    # initialize-transaction-coordinator-metadata, per set
RACK_JOB = "rack-registration-job"       # bookie racks through the brokers' admin API
TOKEN_JOB = "token-init-job"             # token Secrets through the Kubernetes API
FUNCTION_INSTANCE = "function-instance"  # pods of the functions worker's kubernetes runtime

WORKLOADS = ("StatefulSet", "Deployment", "Job")


class Group:
    """Pods of one pod template (or of every Job of one kind): ``kind`` says what runs in them,
    ``selector`` selects exactly them, ``labels`` are the labels they carry, ``section`` is
    the spec section they belong to and ``spec`` its resolved spec (the resource set's for a
    set), ``set_name`` the set."""

    __slots__ = ("kind", "labels", "name", "section", "selector", "set_name", "spec")

    def __init__(self, kind: str, name: str, selector: dict, labels: dict,
                 section: str | None, spec: dict | None, set_name: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.selector = selector
        self.labels = labels
        self.section = section
        self.spec = spec
        self.set_name = set_name

    def __repr__(self) -> str:
        return f"Group({self.kind!r}, {self.name!r})"


def kinds(cluster: Cluster) -> dict[str, str]:
    """``{component label of the pods: kind}`` for every pod the cluster renders."""
    found = {cluster.base_name(entry.section): entry.section
             for entry in registry.PULSAR_COMPONENTS}
    for key in registry.BY_SECTION["oxia"].endpoints:  # the Oxia parts label their pods so
        found[key] = key
    found[names.OXIA_METADATA] = METADATA_JOB
    found[names.job_component(cluster.base_name("zookeeper"), "metadata")] = METADATA_JOB
    found[names.job_component(cluster.base_name("broker"), "transactions")] = TRANSACTIONS_JOB
    found[names.RACK_REGISTRATION_COMPONENT] = RACK_JOB
    found[names.TOKEN_INIT_COMPONENT] = TOKEN_JOB
    return found


def section_of(kind: str) -> str | None:
    """The spec section a kind belongs to (None for the Jobs)."""
    if kind in registry.BY_SECTION:
        return kind
    if kind in registry.BY_SECTION["oxia"].endpoints:
        return "oxia"
    if kind == FUNCTION_INSTANCE:
        return "functionsWorker"
    return None


def groups(cluster: Cluster, objects: list) -> list[Group]:
    """Every pod group, in the order of the rendered objects (the instances last)."""
    by_label = kinds(cluster)
    sets = {rset.resource_name: rset for entry in registry.SET_COMPONENTS
            for rset in placement.resource_sets(cluster, entry.section)}
    found: list[Group] = []
    jobs: set[str] = set()
    for obj in objects:
        if obj["kind"] not in WORKLOADS:
            continue
        labels = obj["spec"]["template"]["metadata"].get("labels") or {}
        # a workload's own labels name its component (a set's matchLabels may give its pods
        # another value); a Job's pods carry the Job's own component
        owner = labels if obj["kind"] == "Job" else obj["metadata"].get("labels") or {}
        component = owner.get(names.COMPONENT_LABEL)
        kind = by_label.get(component or "")
        if kind is None:
            raise ValueError(
                f"{obj['kind']} {obj['metadata']['name']}: no NetworkPolicy rules for pods of "
                f"component {component!r}; write them in krm_pulsar/network_policies")
        section = section_of(kind)
        if obj["kind"] == "Job":
            if kind not in jobs:  # every Job of a kind dials the same (a Job per broker set)
                jobs.add(kind)
                selector = names.base_labels(cluster.name, str(component))
                found.append(Group(kind, f"{cluster.name}-{component}", selector, selector,
                                   section, None))
            continue
        name = obj["metadata"]["name"]
        rset = sets.get(name) if section in registry.BY_SECTION and \
            registry.BY_SECTION[section].has_sets else None
        spec = rset.spec if rset is not None else cluster.spec[section] if section else None
        found.append(Group(kind, name, dict(obj["spec"]["selector"]["matchLabels"]), labels,
                           section, spec, rset.name if rset is not None else None))
    worker = cluster.spec["functionsWorker"]
    if worker["replicas"] > 0 and worker["runtime"] == "kubernetes":
        from ..components.functions_worker import instance_labels

        labels = instance_labels(cluster)
        found.append(Group(FUNCTION_INSTANCE, f"{cluster.name}-{labels[names.COMPONENT_LABEL]}",
                           labels, labels, "functionsWorker", worker))
    return found


def kind_selector(cluster: Cluster, kind: str, members: list[Group]) -> dict | None:
    """One selector for every group of `kind` (the component's base labels, which each of
    its pods carries), or None when some group's pods lack them (a ``matchLabels`` that
    renames a base label): then each group is named on its own."""
    section = section_of(kind)
    if kind in registry.BY_SECTION and registry.BY_SECTION[kind].base_name_key:
        base = names.base_labels(cluster.name, cluster.base_name(kind))
    elif section == "oxia":
        base = names.base_labels(cluster.name, kind)
    else:
        return members[0].selector if len(members) == 1 else None
    if all(all(group.labels.get(key) == value for key, value in base.items())
           for group in members):
        return base
    return None
