"""From one PulsarCluster object to the Kubernetes objects of its cluster.

The steps follow kustomize's kyaml function framework: read the config, default it, validate it,
render it. Each step returns findings (errors, warnings) instead of raising, so every problem of
an input is reported in one run.
"""

from __future__ import annotations

from . import model, placement, storage
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
        "spec.global.name" if (spec.get("global") or {}).get("name") else "metadata.name",
        name_errors)
    findings.extend(name_errors)
    findings.extend(check(resolved, spec))
    if any(f.severity == "error" for f in findings):
        return None, findings
    return resolved, findings


def check(spec: dict, raw: dict) -> list[SpecError]:
    """Cross-field checks of the resolved spec; `raw` is the spec as the user wrote it."""
    findings = placement.validate(spec, raw)
    findings.extend(_unsupported(spec))
    findings.extend(storage.check(spec))
    findings.extend(_forbidden_env(spec))
    findings.extend(_pod_label_conflicts(spec))
    from .security import check as security_check

    findings.extend(security_check(spec))
    if spec["oxia"]["enabled"]:
        findings.extend(_oxia_conflicts(spec, raw))
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
    for component in ("zookeeper", "bookkeeper"):
        # the schema accepts KAAP's field, but these Services are always headless (as in KAAP)
        if (((raw.get(component) or {}).get("service")) or {}).get("type"):
            findings.append(warning(
                f"spec.{component}.service.type",
                f"has no effect: {component} Services are headless (clusterIP: None), as in "
                f"KAAP; clients reach {component} only from inside the cluster"))
    return findings


# Environment variables a component computes itself (KAAP §10.2: "Env list contains forbidden
# env var"); a user value would silently break the pods.
FORBIDDEN_ENV = {
    "zookeeper": {"ZOOKEEPER_SERVERS": "is computed from the replicas"},
    "functionsWorker": {"workerHostname": "is set to the pod name",
                        "PF_workerId": "is set to the pod name"},
}


def _forbidden_env(spec: dict) -> list[SpecError]:
    findings = []
    for component, names in FORBIDDEN_ENV.items():
        for index, env in enumerate(spec[component]["env"] or []):
            name = env.get("name")
            if name in names:
                findings.append(SpecError(
                    f"spec.{component}.env[{index}].name",
                    f"env list contains forbidden env var {name}: it {names[name]} and cannot "
                    f"be set; remove it"))
    return findings


def _pod_label_conflicts(spec: dict) -> list[SpecError]:
    """A podLabels value that differs from the selector's value of the same key (the base
    labels app/component/cluster, or a matchLabels entry), or blanks it, would give pods the
    selector does not match: the API server rejects the workload, and its Service and PDB
    select nothing."""
    from .cluster import _BASE_NAME_KEYS

    findings = []
    glob = spec["global"]
    for component in model.COMPONENTS:
        top = spec[component]
        base = {"app": "pulsar", "cluster": glob["name"],
                "component": glob["components"][_BASE_NAME_KEYS[component]]}
        entries = [(f"spec.{component}", top.get("matchLabels"), top.get("podLabels"))]
        # a set's maps are merged over the component's (KAAP §6.2)
        entries += [(f"spec.{component}.sets.{name}",
                     {**(top.get("matchLabels") or {}), **((raw or {}).get("matchLabels") or {})},
                     {**(top.get("podLabels") or {}), **((raw or {}).get("podLabels") or {})})
                    for name, raw in (top.get("sets") or {}).items()]
        # metadata labels: the base keys drive sync waves, kpt file paths and NetworkPolicies
        for path, labels in [(f"spec.{component}", top.get("labels"))] + [
                (f"spec.{component}.sets.{name}", (raw or {}).get("labels"))
                for name, raw in (top.get("sets") or {}).items()]:
            for key, value in (labels or {}).items():
                if key in base and value != base[key]:
                    findings.append(SpecError(
                        f"{path}.labels.{key}",
                        f"labels.{key} cannot change the {key} label ({base[key]!r}): it names "
                        f"the component, its sync wave and its files. Use another label key, "
                        f"or spec.global.components / spec.global.name to rename"))
        for path, match, pod in entries:
            selector = dict(base)
            for key, value in (match or {}).items():
                if value in (None, ""):
                    selector.pop(key, None)  # a blank matchLabels value removes the key
                else:
                    selector[key] = value
            for key, value in (pod or {}).items():
                if key in selector and value != selector[key]:
                    source = (f"matchLabels.{key}" if key in (match or {})
                              else f"the {key} label every pod of the component carries")
                    findings.append(SpecError(
                        f"{path}.podLabels.{key}",
                        f"podLabels.{key} is {value!r} but the selector needs "
                        f"{selector[key]!r} ({source}); the pods would not match their own "
                        f"selector. Drop the podLabels entry, or change matchLabels.{key} too"))
    return findings


def _oxia_conflicts(spec: dict, raw: dict) -> list[SpecError]:
    """With Oxia as the metadata store: no ZooKeeper, and nothing that needs ZooKeeper."""
    findings = []
    raw_zk = raw.get("zookeeper") or {}
    if (raw_zk.get("replicas") or 0) > 0:
        findings.append(SpecError(
            "spec.zookeeper.replicas",
            "ZooKeeper and Oxia cannot both be the metadata store; with spec.oxia.enabled "
            "remove spec.zookeeper.replicas (ZooKeeper is then not rendered), or turn Oxia off"))
    elif set(raw_zk) - {"replicas"}:
        findings.append(warning(
            "spec.zookeeper",
            "ZooKeeper is not rendered with Oxia as the metadata store; these settings have no "
            "effect (the metadata Job takes its settings from spec.broker and spec.oxia)"))
    # Embedded functions on Oxia are checked by storage.check (they need FileSystem package
    # storage). A standalone worker on Oxia is not supported upstream: it keeps its own
    # coordination and package access paths on ZooKeeper (apache/pulsar#26082 is open).
    if spec["functionsWorker"]["replicas"] > 0:
        findings.append(SpecError(
            "spec.functionsWorker.replicas",
            "a standalone functions worker cannot run on Oxia: Pulsar's standalone worker still "
            "needs ZooKeeper (apache/pulsar#26082). Run functions inside the brokers instead "
            "(spec.broker.functionsWorkerEnabled: true with FileSystem package storage) or use "
            "ZooKeeper"))
    oxia = spec["oxia"]
    if oxia["replicationFactor"] > oxia["server"]["replicas"]:
        findings.append(SpecError(
            "spec.oxia.replicationFactor",
            f"each Oxia shard needs {oxia['replicationFactor']} servers but "
            f"spec.oxia.server.replicas is {oxia['server']['replicas']}; lower the "
            f"replication factor or add servers"))
    tls_zk = (spec["global"]["tls"].get("zookeeper") or {})
    if tls_zk.get("enabled"):
        findings.append(SpecError(
            "spec.global.tls.zookeeper.enabled",
            "ZooKeeper TLS has no meaning with Oxia as the metadata store (there is no "
            "ZooKeeper, and Oxia has no TLS settings); turn it off"))
    if spec["bookkeeper"]["autoRackConfig"].get("additionalZookeeperClientConfig"):
        findings.append(SpecError(
            "spec.bookkeeper.autoRackConfig.additionalZookeeperClientConfig",
            "ZooKeeper client settings have no effect with Oxia as the metadata store; "
            "remove them"))
    return findings


def _unsupported(spec: dict) -> list[SpecError]:
    """Features whose rendering is not implemented yet: refuse them visibly rather than render
    a cluster that silently lacks them."""
    findings = []
    self_signed = spec["global"]["tls"]["certProvisioner"]["selfSigned"]
    if self_signed.get("external"):
        findings.append(SpecError(
            "spec.global.tls.certProvisioner.selfSigned.external",
            "certificates for external services are not rendered by this version of "
            "krm-pulsar; remove the entries and create those certificates yourself"))
    if spec["global"]["tls"]["certProvisioner"].get("acme"):
        findings.append(SpecError(
            "spec.global.tls.certProvisioner.acme",
            "the ACME certificate provisioner is not supported by this version of krm-pulsar; "
            "use selfSigned or provide the TLS Secrets yourself"))
    return findings


# --- render -------------------------------------------------------------------------------------


def render_objects(cluster) -> list[dict]:
    """Every object of the cluster, in rollout order (metadata store, bookies, brokers, ...)."""
    from .components import (autorecovery, bastion, bookkeeper, broker, functions_worker, oxia,
                              proxy, zookeeper)

    objects = []
    for component in (oxia, zookeeper, bookkeeper, broker, proxy, autorecovery, bastion,
                      functions_worker):
        objects.extend(component.render(cluster))
    from . import rack_registration

    objects.extend(rack_registration.render(cluster))
    from . import certs, token_init

    objects.extend(certs.render(cluster, objects))
    objects.extend(token_init.render(cluster))
    if cluster.glob["networkPolicies"]["enabled"]:
        from . import network_policy

        objects.extend(network_policy.render(cluster, objects))
    # Argo CD sync waves from the component/resource-set labels (setsUpdateStrategy)
    placement.annotate_sync_waves(cluster, objects)
    return objects


def render(config: dict):
    """``(objects, findings)`` for one PulsarCluster; objects is empty when there are errors."""
    from .cluster import Cluster

    spec, findings = load(config)
    if spec is None:
        return [], findings
    cluster = Cluster(spec, config)
    from .components import functions_worker

    findings.extend(functions_worker.validate(cluster))
    from .components import broker

    findings.extend(broker.check_quorums(cluster))
    from .components import proxy

    findings.extend(proxy.check_rollout(cluster))
    from . import jvm

    findings.extend(jvm.check(cluster))
    if spec["global"]["tls"]["certProvisioner"]["selfSigned"]["enabled"]:
        from . import certs

        findings.extend(certs.check(cluster))
    findings.extend(storage.check_cluster(cluster))
    if any(f.severity == "error" for f in findings):
        return [], findings
    objects = render_objects(cluster)
    findings.extend(duplicates(objects))
    if spec["patches"]:
        from .patches import apply_patches  # jsonpatch is only imported when patches exist

        objects = apply_patches(objects, spec["patches"], findings)
        from .workload import refresh_checksums

        refresh_checksums(cluster, objects)
    from .workload import name_jobs

    name_jobs(objects)
    findings.extend(name_lengths(objects))
    if any(f.severity == "error" for f in findings):
        return [], findings
    from . import prerequisites

    findings.extend(prerequisites.check(cluster, objects))
    annotate(objects, cluster_id(config), cluster.name)
    return objects, findings


def object_key(obj: dict) -> tuple:
    metadata = obj.get("metadata") or {}
    group = obj.get("apiVersion", "").rpartition("/")[0]
    return group, obj.get("kind"), metadata.get("namespace") or "", metadata.get("name")


# Longest names Kubernetes accepts, by kind: Services and Jobs become DNS labels and label
# values (63); StatefulSet pods carry `controller-revision-hash: <name>-<10 characters>` (52).
_NAME_LIMITS = {"Service": 63, "Job": 63, "StatefulSet": placement.MAX_STATEFULSET_NAME}


def name_lengths(objects: list) -> list[SpecError]:
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


def duplicates(objects: list) -> list[SpecError]:
    """Two generated objects with the same kind and name: the later would replace the earlier
    when applied. The message names both producers (component and set)."""
    seen = {}
    findings = []
    for obj in objects:
        key = object_key(obj)
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
    component = labels.get("component", "?")
    if "resource-set" in labels:
        return f"{component} set {labels['resource-set']}"
    return component


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

