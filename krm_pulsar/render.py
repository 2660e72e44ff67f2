"""From one PulsarCluster object to the Kubernetes objects of its cluster.

The steps follow kustomize's kyaml function framework: read the config, default it, validate it,
render it. Each step returns findings (errors, warnings) instead of raising, so every problem of
an input is reported in one run.
"""

from __future__ import annotations

from . import model, names, placement
from .schema import SpecError

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from .cluster import Cluster

# re-exported: the KRM envelope and the tests know them as render.GENERATED_FROM, ...
GENERATED_FROM = names.GENERATED_FROM
PATH_ANNOTATION = names.PATH_ANNOTATION
INDEX_ANNOTATION = names.INDEX_ANNOTATION
object_key = names.object_key


def is_pulsar_cluster(obj: object) -> bool:
    return (isinstance(obj, dict) and obj.get("kind") == model.KIND
            and obj.get("apiVersion") in model.ACCEPTED_API_VERSIONS)


def cluster_id(obj: dict) -> str:
    """The value of the marker annotation for objects generated from `obj`."""
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name")
    return f"{namespace}/{name}" if namespace else str(name)


# --- read, default, validate --------------------------------------------------------------------


def load(config: dict) -> tuple[dict | None, list[SpecError]]:
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
        from .checks.spec import misplaced_sections  # only on the error path

        return None, misplaced_sections(findings)
    from . import checks

    # the Kubernetes structures as written, before any default is derived from them
    findings.extend(checks.run(checks.READ, spec, str(config.get("apiVersion"))))
    if _failed(findings):
        return None, findings
    resolved = model.with_defaults(spec, metadata, str(config.get("apiVersion")))
    name_errors: list[SpecError] = []
    # global.name defaults to metadata.name, so that one must be a valid name too
    model.GLOBAL.fields["name"].validate(
        resolved["global"]["name"],
        "spec.global.name" if (spec.get("global") or {}).get("name") else "metadata.name",
        name_errors)
    findings.extend(name_errors)
    findings.extend(checks.run(checks.SPEC, resolved, spec))
    if any(f.severity == "error" for f in findings):
        return None, findings
    return resolved, findings


# --- render -------------------------------------------------------------------------------------


def render_objects(cluster: Cluster) -> list[dict]:
    """Every object of the cluster, in rollout order (metadata store, bookies, brokers, ...)."""
    import importlib

    from . import registry

    objects = []
    for entry in registry.in_rollout_order():
        module = importlib.import_module(f"krm_pulsar.components.{entry.module}")
        objects.extend(module.render(cluster))
    from . import rack_registration

    objects.extend(rack_registration.render(cluster))
    from . import certs, token_init

    objects.extend(certs.render(cluster))
    from . import acme

    objects.extend(acme.render(cluster))
    objects.extend(token_init.render(cluster))
    from . import monitoring  # ours: PodMonitors, read off the rendered workloads

    objects.extend(monitoring.render(cluster, objects))
    if cluster.glob["networkPolicies"]["enabled"]:
        from . import network_policies

        objects.extend(network_policies.render(cluster, objects))
    # Argo CD sync waves from the component/resource-set labels (setsUpdateStrategy)
    placement.annotate_sync_waves(cluster, objects)
    return objects


def render(config: dict, previous: list | None = None) -> tuple[list[dict], list[SpecError]]:
    """``(objects, findings)`` for one PulsarCluster; objects is empty when there are errors.
    ``previous``: the objects an earlier render of this cluster left among the input items (kpt
    keeps them in the package), compared with the new ones (checks phase ``changes``)."""
    from .cluster import Cluster

    spec, findings = load(config)
    if spec is None:
        return [], findings
    cluster = Cluster(spec, config)
    from . import checks

    findings.extend(checks.run(checks.CLUSTER, cluster))
    if _failed(findings):
        return [], findings
    objects = render_objects(cluster)
    findings.extend(checks.run(checks.OBJECTS, cluster, objects))
    if spec["patches"]:
        from .patches import apply_patches  # jsonpatch is only imported when patches exist

        objects = apply_patches(objects, spec["patches"], findings)
        from .workload import refresh_checksums

        refresh_checksums(cluster, objects)
    from .workload import name_jobs

    name_jobs(objects)
    findings.extend(checks.run(checks.OUTPUT, cluster, objects))
    if _failed(findings):
        return [], findings
    findings.extend(checks.run(checks.REPORT, cluster, objects))
    if previous:
        findings.extend(checks.run(checks.CHANGES, cluster, objects, previous))
    annotate(objects, cluster_id(config), cluster.name)
    return objects, findings


def _failed(findings: list[SpecError]) -> bool:
    return any(f.severity == "error" for f in findings)


def annotate(objects: list, source: str, cluster_name: str) -> None:
    """Marker, and a distinct file per object so kpt writes tidy files."""
    for obj in objects:
        metadata = obj["metadata"]
        component = (metadata.get("labels") or {}).get(names.COMPONENT_LABEL, "cluster")
        annotations = metadata.setdefault("annotations", {})
        annotations[GENERATED_FROM] = source
        annotations[PATH_ANNOTATION] = (
            f"{cluster_name}/{component}/{obj['kind'].lower()}_{metadata['name']}.yaml")
        annotations[INDEX_ANNOTATION] = "0"

