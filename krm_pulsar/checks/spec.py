"""Cross-field checks of the resolved spec that belong to no single concern (phase ``spec``
of the check registry, krm_pulsar/checks/__init__.py). Each takes the resolved spec and the
spec as the user wrote it, and returns findings with field paths."""

from __future__ import annotations

from .. import names, registry
from ..schema import SpecError, warning


def unsupported(spec: dict, raw: dict) -> list[SpecError]:
    """Features whose rendering is not implemented yet: refuse them visibly rather than render
    a cluster that silently lacks them."""
    findings = []
    self_signed = spec["global"]["tls"]["certProvisioner"]["selfSigned"]
    if self_signed.get("external"):
        findings.append(SpecError(
            "spec.global.tls.certProvisioner.selfSigned.external",
            "certificates for external services are not rendered by this version of "
            "krm-pulsar; remove the entries and create those certificates yourself"))
    return findings


def forbidden_env(spec: dict, raw: dict) -> list[SpecError]:
    """Environment variables a component computes itself (registry.Component.forbidden_env;
    KAAP: "Env list contains forbidden env var"): a user value would silently break the
    pods."""
    findings = []
    for entry in registry.COMPONENTS:
        component, forbidden = entry.section, entry.forbidden_env
        if not forbidden:
            continue
        for index, env in enumerate(spec[component]["env"] or []):
            name = env.get("name")
            if name in forbidden:
                findings.append(SpecError(
                    f"spec.{component}.env[{index}].name",
                    f"env list contains forbidden env var {name}: it {forbidden[name]} and cannot "
                    f"be set; remove it"))
    return findings


def pod_label_conflicts(spec: dict, raw_spec: dict) -> list[SpecError]:
    """A podLabels value that differs from the selector's value of the same key (the base
    labels app/component/cluster, or a matchLabels entry), or blanks it, would give pods the
    selector does not match: the API server rejects the workload, and its Service and PDB
    select nothing."""
    findings = []
    glob = spec["global"]
    for entry in registry.PULSAR_COMPONENTS:
        component = entry.section
        top = spec[component]
        base = names.base_labels(glob["name"], glob["components"][entry.base_name_key])
        entries = [(f"spec.{component}", top.get("matchLabels"), top.get("podLabels"))]
        # a set's maps are merged over the component's (kaap-parity.md#set-merge)
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


def oxia_conflicts(spec: dict, raw: dict) -> list[SpecError]:
    """With Oxia as the metadata store: no ZooKeeper, and nothing that needs ZooKeeper."""
    if not spec["oxia"]["enabled"]:
        return []
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


def autoscalers(spec: dict, raw: dict) -> list[SpecError]:
    """KAAP's autoscalers need the operator: warn that the static replicas are rendered."""
    findings = []
    message = ("the autoscaler is a KAAP operator feature that needs a controller at run time; "
               "krm-pulsar renders the static replicas")
    for component in ("bookkeeper", "broker"):
        if spec[component]["autoscaler"]["enabled"]:
            findings.append(warning(
                f"spec.{component}.autoscaler.enabled",
                message + ("; for horizontal autoscaling use spec.broker.hpa (a Kubernetes "
                           "HorizontalPodAutoscaler, docs/autoscaling.md)"
                           if component == "broker" else "")))
        # a set's own autoscaler (KAAP runs one per set); a set without one inherits the
        # component's, which the warning above covers
        for name, raw_set in (((raw.get(component) or {}).get("sets")) or {}).items():
            autoscaler = (raw_set or {}).get("autoscaler") if isinstance(raw_set, dict) else None
            if isinstance(autoscaler, dict) and autoscaler.get("enabled"):
                findings.append(warning(
                    f"spec.{component}.sets.{name}.autoscaler.enabled",
                    f"{message} of set {name}"))
    return findings


def secrets_in_spec(spec: dict, raw: dict) -> list[SpecError]:
    from ..secret_scan import secret_material

    return secret_material(raw, "spec")


def service_types(spec: dict, raw: dict) -> list[SpecError]:
    """Service types the headless Services cannot take."""
    findings = []
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


def misplaced_sections(findings: list[SpecError]) -> list[SpecError]:
    """Schema errors for component sections written under ``spec.global`` (two of KAAP's own
    examples, keycloak and tiered-storage, do this; KAAP's CRD drops them without a word):
    the refusal stays, and the message says where the section belongs."""
    from .. import model

    sections = set(model.SPEC.fields) - set(model.GLOBAL.fields)
    result = []
    for found in findings:
        parts = found.path.split(".")
        finding = found
        if (found.severity == "error" and len(parts) == 3 and parts[:2] == ["spec", "global"]
                and parts[2] in sections):
            finding = SpecError(
                found.path,
                f"{parts[2]} is a section of spec, not of spec.global: move it directly under "
                f"spec (spec.{parts[2]}); KAAP's CRD drops it there without a word, so KAAP "
                f"never applied these settings either")
        result.append(finding)
    return result
