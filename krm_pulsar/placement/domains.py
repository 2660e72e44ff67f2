"""What the rendered objects say about where pods can go
(docs/racks.md#krm-pulsar-explain-the-placement-and-failure-domain-report): one record per
StatefulSet and Deployment, the most pods of one workload a zone or node can
hold under the required rules (pod anti-affinity, node affinity, spread constraints with
DoNotSchedule), the worst loss of one domain, and the brokers' managed-ledger settings.

`krm-pulsar explain` (krm_pulsar/explain.py) builds its report from these, and the render's
zone checks (placement/zones.py) use the very same, so a warning and the report never
disagree. Read off the output, never a second model of placement.
"""

from __future__ import annotations

from .. import names

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

# Pulsar's broker.conf defaults for the keys explain reads
PULSAR_DEFAULTS = {
    "managedLedgerDefaultEnsembleSize": 2,
    "managedLedgerDefaultWriteQuorum": 2,
    "managedLedgerDefaultAckQuorum": 2,
    "bookkeeperClientMinNumRacksPerWriteQuorum": 2,
}
ENFORCE_MIN_RACKS = "bookkeeperClientEnforceMinNumRacksPerWriteQuorum"
REGION_AWARE = "bookkeeperClientRegionawarePolicyEnabled"
WORKLOAD_KINDS = ("StatefulSet", "Deployment")
LEVELS = ("zone", "node")
# exact worst cases up to this many workloads of one kind, an upper bound beyond
EXACT_LIMIT = 16
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"


# --- reading the rendered objects ---------------------------------------------------------------


def selects(selector: dict | None, labels: dict) -> bool:
    """Kubernetes label-selector semantics: a null selector selects nothing, ``{}``
    everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def affinity_terms(affinity: dict, kind: str, when: str) -> list[dict]:
    terms = ((affinity.get(kind) or {}).get(when)) or []
    return [t.get("podAffinityTerm") or {} for t in terms] if when == PREFERRED else terms


def _allowed(pod: dict, key: str, host_key: str | None = None) -> list[str] | None:
    """The values of node label `key` the pod may run on (node selector and required node
    affinity), or None when any value will do. `host_key` also reads ``metadata.name``
    fields, which name nodes too."""
    allowed: set[str] | None = None
    selector = pod.get("nodeSelector") or {}
    if key in selector:
        allowed = {selector[key]}
    node_affinity = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(REQUIRED)
    terms = (node_affinity or {}).get("nodeSelectorTerms") or []
    if terms:
        union: set[str] = set()
        for term in terms:  # terms are ORed: each must restrict the key
            values = None
            for expression in [*(term.get("matchExpressions") or []),
                               *((term.get("matchFields") or []) if host_key else [])]:
                field = expression.get("key")
                if (field == key or (host_key and field == "metadata.name")) \
                        and expression.get("operator") == "In":
                    found = set(expression.get("values") or [])
                    values = found if values is None else values & found
            if values is None:
                union = set()
                break
            union |= values
        if union:
            allowed = union if allowed is None else allowed & union
    return sorted(allowed) if allowed is not None else None


def _role(cluster: Cluster, component: str | None) -> str | None:
    for section in ("zookeeper", "bookkeeper", "broker", "proxy", "autorecovery", "bastion",
                    "functionsWorker"):
        if component == cluster.base_name(section):
            return section
    if component in (names.OXIA_SERVER, names.OXIA_COORDINATOR):
        return component
    return None


def _shared_claims(objects: list[dict]) -> set[str]:
    """Names of the rendered claims any node can mount (ReadWriteMany)."""
    return {obj["metadata"]["name"] for obj in objects
            if obj.get("kind") == "PersistentVolumeClaim"
            and "ReadWriteMany" in ((obj.get("spec") or {}).get("accessModes") or [])}


def _has_zonal_volume(spec: dict, pod: dict, shared: set[str]) -> bool:
    """Whether the pods mount a claim of their own zone: a claim template that is not
    ReadWriteMany, or a claim that is not one of the rendered ReadWriteMany claims (pre-created
    claims count as zonal: we cannot see them)."""
    for template in spec.get("volumeClaimTemplates") or []:
        if "ReadWriteMany" not in ((template.get("spec") or {}).get("accessModes") or []):
            return True
    return any(volume["persistentVolumeClaim"].get("claimName") not in shared
               for volume in pod.get("volumes") or [] if "persistentVolumeClaim" in volume)


def workloads(cluster: Cluster, objects: list[dict]) -> list[dict]:
    """One record per StatefulSet and Deployment, in output order."""
    keys = cluster.glob["topologyKeys"]
    shared = _shared_claims(objects)
    result = []
    for obj in objects:
        if obj.get("kind") not in WORKLOAD_KINDS:
            continue
        spec = obj.get("spec") or {}
        template = spec.get("template") or {}
        pod = template.get("spec") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        replicas = spec.get("replicas")
        affinity = pod.get("affinity") or {}
        result.append({
            "kind": obj["kind"],
            "name": obj["metadata"]["name"],
            "role": _role(cluster, labels.get(names.COMPONENT_LABEL)),
            "set": labels.get(names.RESOURCE_SET_LABEL),
            "rack": labels.get(names.RACK_LABEL),
            # Kubernetes' default when replicas is left out (an autoscaler owns it)
            "replicas": 1 if replicas is None else int(replicas),
            "replicasFixed": replicas is not None,
            "podLabels": dict(labels),
            "zones": _allowed(pod, keys["zone"]),
            "nodes": _allowed(pod, keys["host"], host_key=keys["host"]),
            "_affinity": affinity,
            "_spread": pod.get("topologySpreadConstraints") or [],
            "_surge": _max_surge(obj["kind"], spec),
            "_zonalVolume": _has_zonal_volume(spec, pod, shared),
            "_configMaps": [(source.get("configMapRef") or {}).get("name")
                            for container in pod.get("containers") or []
                            for source in container.get("envFrom") or []],
        })
    kept = [w for w in result if w["replicas"] > 0]
    for record in kept:  # a spread constraint may count the pods of other workloads too
        record["_cluster"] = kept
    return kept


def _max_surge(kind: str, spec: dict) -> int | str:
    strategy = spec.get("strategy") or {}
    if kind != "Deployment" or strategy.get("type") == "Recreate":
        return 0
    return (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")


def level_keys(cluster: Cluster, level: str) -> set[str]:
    """Topology keys whose domains contain at most one domain of `level`: pods apart by zone
    are apart by node too."""
    keys = cluster.glob["topologyKeys"]
    return {keys["zone"]} if level == "zone" else {keys["zone"], keys["host"]}


def exclusive(cluster: Cluster, a: dict, b: dict, level: str) -> bool:
    """Whether pods of `a` and `b` can never share one domain of `level` (a zone or a node)."""
    keys = level_keys(cluster, level)
    for one, other in ((a, b), (b, a)):
        for term in affinity_terms(one["_affinity"], "podAntiAffinity", REQUIRED):
            if term.get("topologyKey") in keys and selects(term.get("labelSelector"),
                                                           other["podLabels"]):
                return True
    if a["zones"] is not None and b["zones"] is not None and not set(a["zones"]) & set(
            b["zones"]):
        return True
    return level == "node" and a["nodes"] is not None and b["nodes"] is not None \
        and not set(a["nodes"]) & set(b["nodes"])


def per_domain(cluster: Cluster, workload: dict, level: str) -> int:
    """The most pods of `workload` one zone or node can hold under the required rules: its
    required anti-affinity to itself, else its bounding spread constraints."""
    if exclusive(cluster, workload, workload, level):
        return 1
    bounds = [spread_bound(cluster, workload, constraint, level,
                           workload.get("_cluster") or [workload])
              for constraint in workload["_spread"]]
    return min([workload["replicas"], *(b for b in bounds if b is not None)])


def _surge(workload: dict) -> int:
    """The extra pods a Deployment's rolling update may run (maxSurge, Kubernetes' 25 %
    default): a spread constraint counts them too."""
    surge = workload["_surge"]
    if isinstance(surge, int):
        return surge
    text = str(surge).strip()
    if text.endswith("%") and text[:-1].isdigit():
        return -(-workload["replicas"] * int(text[:-1]) // 100)  # rounded up, as Kubernetes
    return int(text) if text.isdigit() else workload["replicas"]


def spread_bound(cluster: Cluster, workload: dict, constraint: dict, level: str,
                 found: list[dict]) -> int | None:
    """The most pods of `workload` one zone or node can hold under one spread constraint
    (docs/racks.md#krm-pulsar-explain-the-placement-and-failure-domain-report), or None when
    it bounds nothing. With DoNotSchedule the scheduler places a pod in a domain only while
    that domain holds at most ``min + maxSkew - 1`` counted pods, where ``min`` is the fewest
    in any counted domain, taken as 0 while there are fewer than ``minDomains`` domains. A
    domain with x pods then means at least ``minDomains`` domains of at least ``x - maxSkew``
    pods each (or x <= maxSkew): ``x <= maxSkew + (N - maxSkew) // minDomains`` for the N pods
    the constraint counts."""
    if constraint.get("whenUnsatisfiable") != "DoNotSchedule" or \
            constraint.get("topologyKey") not in level_keys(cluster, level) or \
            constraint.get("matchLabelKeys") or \
            not selects(constraint.get("labelSelector"), workload["podLabels"]):
        return None
    skew, domains = constraint.get("maxSkew"), constraint.get("minDomains") or 1
    if not isinstance(skew, int) or not isinstance(domains, int) or skew < 1 or domains < 1:
        return None
    counted = spread_counted(constraint, found)
    if counted <= skew:
        return None
    return skew + (counted - skew) // domains


def spread_counted(constraint: dict, found: list[dict]) -> int:
    """The pods of `found` a spread constraint counts, a Deployment's surge included."""
    return sum(w["replicas"] + _surge(w) for w in found
               if selects(constraint.get("labelSelector"), w["podLabels"]))


def spread_never_binds(constraint: dict, found: list[dict]) -> bool:
    """Whether a DoNotSchedule constraint can never hold a pod back: it counts at most maxSkew
    pods, so no placement of them exceeds the skew, however many domains there are."""
    skew = constraint.get("maxSkew")
    return constraint.get("whenUnsatisfiable") == "DoNotSchedule" and isinstance(skew, int) \
        and not isinstance(skew, bool) and spread_counted(constraint, found) <= skew


def worst_loss(cluster: Cluster, group: list[dict], level: str) -> tuple[int, list[dict], bool]:
    """``(pods, workloads, exact)``: the most pods of `group` one domain can hold, the workloads
    that can share that domain, and whether the figure is exact (else an upper bound)."""
    if len(group) > EXACT_LIMIT:
        return sum(per_domain(cluster, w, level) for w in group), list(group), False
    weights = [per_domain(cluster, w, level) for w in group]
    best: tuple[int, list[int]] = (0, [])

    def extend(chosen: list[int], start: int, total: int) -> None:
        nonlocal best
        if total > best[0]:
            best = (total, list(chosen))
        for index in range(start, len(group)):
            if all(not exclusive(cluster, group[index], group[other], level)
                   for other in chosen):
                chosen.append(index)
                extend(chosen, index + 1, total + weights[index])
                chosen.pop()

    extend([], 0, 0)
    return best[0], [group[i] for i in best[1]], True


# --- the broker settings ------------------------------------------------------------------------


def _config_value(data: dict, key: str) -> str | None:
    for spelled in (key, f"PULSAR_PREFIX_{key}"):
        if data.get(spelled) not in (None, ""):
            return str(data[spelled]).strip()
    return None


def ledger_settings(broker: dict, objects: list[dict]) -> dict:
    """The managed-ledger settings a broker workload runs with, from its ConfigMaps (Pulsar's
    defaults for keys they leave out)."""
    data: dict = {}
    for obj in objects:
        if obj.get("kind") == "ConfigMap" and obj["metadata"]["name"] in broker["_configMaps"]:
            data.update(obj.get("data") or {})
    settings: dict = {}
    for key, default in PULSAR_DEFAULTS.items():
        value = _config_value(data, key)
        settings[key] = int(value) if value is not None and value.isdigit() else default
    enforce = _config_value(data, ENFORCE_MIN_RACKS)
    settings[ENFORCE_MIN_RACKS] = (enforce or "false").lower() == "true"
    region = _config_value(data, REGION_AWARE)
    settings[REGION_AWARE] = (region or "false").lower() == "true"
    return settings
