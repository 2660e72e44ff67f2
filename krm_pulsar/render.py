"""From one PulsarCluster object to the Kubernetes objects of its cluster.

The steps follow kustomize's kyaml function framework: read the config, default it, validate it,
render it. Each step returns findings (errors, warnings) instead of raising, so every problem of
an input is reported in one run.
"""

from __future__ import annotations

from . import model, placement
from .schema import SpecError, warning

# Marker annotation on every generated object: which PulsarCluster (namespace/name) it came
# from. A re-run replaces exactly these objects, so removed parts disappear.
GENERATED_FROM = "krm-pulsar.io/generated-from"
PATH_ANNOTATION = "internal.config.kubernetes.io/path"
INDEX_ANNOTATION = "internal.config.kubernetes.io/index"


def is_pulsar_cluster(obj) -> bool:
    return (isinstance(obj, dict) and obj.get("kind") == model.KIND
            and obj.get("apiVersion") in model.ACCEPTED_API_VERSIONS)


def cluster_id(obj: dict) -> str:
    """The value of the marker annotation for objects generated from `obj`."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name")
    return f"{namespace}/{name}" if namespace else str(name)


# --- read, default, validate --------------------------------------------------------------------


def load(config: dict):
    """``(resolved spec or None, findings)`` for one PulsarCluster object."""
    findings: list[SpecError] = []
    metadata = config.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) \
            or not metadata.get("name"):
        findings.append(SpecError("metadata.name", "a PulsarCluster needs metadata.name"))
        return None, findings
    spec = config.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        from .schema import type_name

        findings.append(SpecError("spec", f"expected a mapping, got {type_name(spec)}"))
        return None, findings
    model.SPEC.validate(spec, "spec", findings)
    if findings:
        return None, findings
    resolved = model.with_defaults(spec, metadata, config.get("apiVersion"))
    name_errors: list[SpecError] = []
    # global.name defaults to metadata.name, so that one must be a valid name too
    model.GLOBAL.fields["name"].validate(
        resolved["global"]["name"],
        "spec.global.name" if spec.get("global", {}).get("name") else "metadata.name",
        name_errors)
    findings.extend(name_errors)
    findings.extend(check(resolved, spec))
    if any(f.severity == "error" for f in findings):
        return None, findings
    return resolved, findings


def check(spec: dict, raw: dict) -> list[SpecError]:
    """Cross-field checks of the resolved spec; `raw` is the spec as the user wrote it."""
    findings = placement.validate(spec)
    findings.extend(_unsupported(spec))
    for env_index, env in enumerate(spec["zookeeper"]["env"] or []):
        if env.get("name") == "ZOOKEEPER_SERVERS":
            findings.append(SpecError(
                f"spec.zookeeper.env[{env_index}].name",
                "ZOOKEEPER_SERVERS is computed from the replicas and cannot be set"))
    for component in ("bookkeeper", "broker"):
        if spec[component]["autoscaler"]["enabled"]:
            findings.append(warning(
                f"spec.{component}.autoscaler.enabled",
                "the autoscaler is a KAAP operator feature that needs a controller at run time; "
                "krm-pulsar renders the static replicas"))
    from .secret_scan import secret_material

    findings.extend(secret_material(raw, "spec"))
    broker_type = spec["broker"]["service"]["type"]
    if broker_type not in (None, "ClusterIP"):
        findings.append(SpecError(
            "spec.broker.service.type",
            f"broker Services are headless (clusterIP: None), which Kubernetes only allows with "
            f"type ClusterIP; got {broker_type}. Expose the cluster through the proxy instead"))
    return findings


def _unsupported(spec: dict) -> list[SpecError]:
    """Features whose rendering is not implemented yet: refuse them visibly rather than render
    a cluster that silently lacks them."""
    findings = []
    glob = spec["global"]
    tls = glob["tls"]
    if tls["enabled"] or any((tls.get(c) or {}).get("enabled") for c in (
            "zookeeper", "bookkeeper", "autorecovery", "broker", "proxy", "functionsWorker")):
        findings.append(SpecError("spec.global.tls", "TLS is not supported by this version of "
                                  "krm-pulsar yet; turn it off or render TLS another way"))
    if glob["auth"]["enabled"]:
        findings.append(SpecError("spec.global.auth.enabled", "authentication is not supported "
                                  "by this version of krm-pulsar yet"))
    if spec["oxia"]["enabled"]:
        findings.append(SpecError("spec.oxia.enabled", "Oxia is not supported by this version "
                                  "of krm-pulsar yet; use ZooKeeper"))
    if spec["functionsWorker"]["replicas"] > 0:
        findings.append(SpecError("spec.functionsWorker.replicas", "the functions worker is not "
                                  "supported by this version of krm-pulsar yet"))
    if spec["broker"]["transactions"]["enabled"]:
        findings.append(SpecError("spec.broker.transactions.enabled", "transactions are not "
                                  "supported by this version of krm-pulsar yet"))
    if spec["patches"]:
        findings.append(SpecError("spec.patches", "patches are not supported by this version "
                                  "of krm-pulsar yet"))
    return findings


# --- render -------------------------------------------------------------------------------------


def render_objects(cluster) -> list[dict]:
    """Every object of the cluster, in rollout order (metadata store, bookies, brokers, ...)."""
    from .components import bookkeeper, broker, proxy, zookeeper

    objects = []
    for component in (zookeeper, bookkeeper, broker, proxy):
        objects.extend(component.render(cluster))
    if cluster.glob["networkPolicies"]["enabled"]:
        from . import network_policy

        objects.extend(network_policy.render(cluster))
    return objects


def render(config: dict):
    """``(objects, findings)`` for one PulsarCluster; objects is empty when there are errors."""
    from .cluster import Cluster

    spec, findings = load(config)
    if spec is None:
        return [], findings
    cluster = Cluster(spec, config)
    objects = render_objects(cluster)
    findings.extend(duplicates(objects))
    if any(f.severity == "error" for f in findings):
        return [], findings
    annotate(objects, cluster_id(config), cluster.name)
    return objects, findings


def object_key(obj: dict) -> tuple:
    metadata = obj.get("metadata") or {}
    group = obj.get("apiVersion", "").rpartition("/")[0]
    return group, obj.get("kind"), metadata.get("namespace") or "", metadata.get("name")


def duplicates(objects: list) -> list[SpecError]:
    seen = set()
    findings = []
    for obj in objects:
        key = object_key(obj)
        if key in seen:
            findings.append(SpecError(
                "spec", f"two generated objects are both {key[1]} {key[3]!r}; give one of them "
                f"another name (for example with overrideResourceName or another set name)"))
        seen.add(key)
    return findings


def annotate(objects: list, source: str, cluster_name: str) -> None:
    """Marker, and a distinct file per object so kpt writes tidy files."""
    for obj in objects:
        metadata = obj["metadata"]
        component = (metadata.get("labels") or {}).get("component", "cluster")
        annotations = metadata.setdefault("annotations", {})
        annotations[GENERATED_FROM] = source
        annotations[PATH_ANNOTATION] = (
            f"{cluster_name}/{component}/{obj['kind'].lower()}_{metadata['name']}.yaml")
        annotations[INDEX_ANNOTATION] = "0"

