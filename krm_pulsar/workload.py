"""Building blocks shared by the component renderers: ConfigMaps, pod templates, probes,
Services and PodDisruptionBudgets, following KAAP's conventions (kaap-parity.md#conventions)."""

from __future__ import annotations

from . import model, names, placement

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .cluster import Cluster

LOG4J_OPTS = 'OPTS="${OPTS} -Dlog4j2.formatMsgNoLookups=true"'

# The log settings KAAP puts in every component's ConfigMap (ZooKeeper adds its own options).
LOG_CONFIG = {
    "PULSAR_LOG_LEVEL": "info",
    "PULSAR_LOG_ROOT_LEVEL": "info",
    "PULSAR_EXTRA_OPTS": "-Dpulsar.log.root.level=info",
}


# --- configuration ------------------------------------------------------------------------------


def config_value(value: object) -> str:
    """Stringify a configuration value the way KAAP does (Java ``toString``)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    text = getattr(value, "text", None)  # a number as the user wrote it
    if text is not None:
        return text
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def prefixed(key: str) -> str:
    """KAAP's prefix rule: keys that are not PULSAR_*/BOOKIE_* become PULSAR_PREFIX_<key>, which
    the image's apply-config-from-env.py writes into the configuration file."""
    if key.startswith(("PULSAR_", "BOOKIE_")):
        return key
    return "PULSAR_PREFIX_" + key


def config_data(defaults: dict, user: dict | None,
                post: Callable[[dict], None] | None = None) -> dict:
    """ConfigMap data: defaults, then the user's ``config`` (user keys win), then `post`, then
    the prefix rule. Keys are sorted so output does not depend on insertion order."""
    merged = dict(defaults)
    for key, value in (user or {}).items():
        if value is not None:
            merged[key] = config_value(value)
    if post:
        post(merged)
    data = {}
    for key, value in merged.items():
        data[prefixed(key)] = value
    return dict(sorted(data.items()))


def user_set(user: dict | None, key: str) -> bool:
    """Whether the user wrote `key` in ``config`` (plain or with the PULSAR_PREFIX_ form)."""
    user = user or {}
    return key in user or ("PULSAR_PREFIX_" + key) in user


def config_map(cluster: Cluster, name: str, labels: dict, annotations: dict | None,
               data: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": cluster.metadata(name, labels, annotations),
        "data": data,
    }


def sha256_of(value: object) -> str:
    """SHA-256 (hex) of a value's canonical JSON: sorted keys, no spaces."""
    import hashlib
    import json

    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def config_checksum(config_map_obj: dict) -> str:
    """Checksum of a ConfigMap's data for ``restartOnConfigMapChange``."""
    return sha256_of(config_map_obj.get("data") or {})


def checksum_prefix(cluster: Cluster) -> str:
    return names.KAAP_CHECKSUM_PREFIX if cluster.kaap_input else names.CHECKSUM_PREFIX


def checksum_annotations(cluster: Cluster, config_maps: list) -> dict:
    if not cluster.glob["restartOnConfigMapChange"]:
        return {}
    prefix = checksum_prefix(cluster)
    return {f"{prefix}{cm['metadata']['name']}": config_checksum(cm) for cm in config_maps}


def refresh_checksums(cluster: Cluster, objects: list) -> None:
    """Recompute the checksum annotations from the ConfigMaps as they are now (after
    spec.patches), so a patched ConfigMap still rolls the pods that use it."""
    if not cluster.glob["restartOnConfigMapChange"]:
        return
    prefix = checksum_prefix(cluster)
    config_maps = {obj["metadata"]["name"]: obj for obj in objects
                   if obj.get("kind") == "ConfigMap"}
    for obj in objects:
        template = (obj.get("spec") or {}).get("template")
        annotations = ((template or {}).get("metadata") or {}).get("annotations") or {}
        for key in annotations:
            name = key[len(prefix):] if key.startswith(prefix) else None
            if name in config_maps:
                annotations[key] = config_checksum(config_maps[name])


# --- pods ---------------------------------------------------------------------------------------


def pod_annotations(cluster: Cluster, spec: dict, prometheus_port: int | None,
                    config_maps: list) -> dict:
    """KAAP's pod annotations, in its order (later wins): prometheus, the user's
    ``podAnnotations``, the checksums of `config_maps` with ``restartOnConfigMapChange``."""
    annotations = {}
    if prometheus_port is not None:
        annotations[names.PROMETHEUS_SCRAPE] = "true"
        annotations[names.PROMETHEUS_PORT] = str(prometheus_port)
    annotations.update(spec.get("podAnnotations") or {})
    annotations.update(checksum_annotations(cluster, config_maps))
    return annotations


def exec_probe(config: dict, command: list) -> dict | None:
    return _probe(config, {"exec": {"command": command}})


def http_probe(config: dict, path: str, port: int | str) -> dict | None:
    return _probe(config, {"httpGet": {"path": path, "port": port}})


def tcp_probe(config: dict, port: int | str) -> dict | None:
    return _probe(config, {"tcpSocket": {"port": port}})


def _probe(config: dict, handler: dict) -> dict | None:
    if not config or not config.get("enabled"):
        return None
    probe = dict(handler)
    for key in ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold",
                "successThreshold"):
        if config.get(key) is not None:
            probe[key] = config[key]
    return probe


def container(name: str, spec: dict, args: str, *, ports: list | None = None,
              env_from: list[str] | None = None, env: list | None = None,
              probes: tuple | None = None, mounts: list | None = None,
              resources: dict | None = None) -> dict:
    """The main container of a component: ``sh -c`` with one args string, as KAAP writes it."""
    result = {
        "name": name,
        "image": spec["image"],
        "imagePullPolicy": spec["imagePullPolicy"],
        "command": ["sh", "-c"],
        "args": [args],
    }
    resources = spec.get("resources") if resources is None else resources
    if resources:
        result["resources"] = resources
    if ports:
        result["ports"] = ports
    # KAAP's order everywhere: the user's env and volume mounts first, then ours
    all_env = list(spec.get("env") or []) + list(env or [])
    if all_env:
        result["env"] = all_env
    if env_from:
        result["envFrom"] = [{"configMapRef": {"name": cm}} for cm in env_from]
    liveness, readiness, startup = (tuple(probes) + (None,))[:3] if probes else (None,) * 3
    if liveness:
        result["livenessProbe"] = liveness
    if readiness:
        result["readinessProbe"] = readiness
    if startup:
        result["startupProbe"] = startup
    extra_mounts = (spec.get("additionalVolumes") or {}).get("mounts") or []
    all_mounts = list(extra_mounts) + list(mounts or [])
    if all_mounts:
        result["volumeMounts"] = all_mounts
    return result


def scheduling(spec: dict) -> dict:
    """The scheduling fields every pod of a component takes from its spec
    (kaap-parity.md#pod-spec)."""
    pod = {}
    if spec.get("dnsConfig"):
        pod["dnsConfig"] = spec["dnsConfig"]
    if spec.get("priorityClassName"):
        pod["priorityClassName"] = spec["priorityClassName"]
    if spec.get("nodeSelectors"):
        pod["nodeSelector"] = dict(sorted(spec["nodeSelectors"].items()))
    if spec.get("tolerations"):
        pod["tolerations"] = spec["tolerations"]
    if spec.get("imagePullSecrets"):
        pod["imagePullSecrets"] = spec["imagePullSecrets"]
    return pod


def job_pod(cluster: Cluster, spec: dict, container: dict, *, service_account: str | None = None,
            automount_token: bool | None = None, volumes: list | None = None) -> dict:
    """The pod of a one-shot Job: the component's scheduling fields, our hardened container,
    ``restartPolicy: OnFailure``. Jobs get no affinity (kaap-parity.md#affinity)."""
    pod = scheduling(spec)
    if service_account:
        pod["serviceAccountName"] = service_account
    if automount_token is not None:
        pod["automountServiceAccountToken"] = automount_token
    security = pod_security_context(cluster, {})
    if security:
        pod["securityContext"] = security
    pod["containers"] = [secure_container(cluster, container)]
    pod["restartPolicy"] = "OnFailure"
    if volumes:
        pod["volumes"] = list(volumes)
    return pod


def pod_spec(cluster: Cluster, spec: dict, main_containers: list, *, match_labels: dict,
             rack: str | None = None, init_containers: list | None = None,
             volumes: list | None = None,
             restart_policy: str | None = None, with_affinity: bool = True,
             stateless: bool = False) -> dict:
    """A pod spec with KAAP's common fields (kaap-parity.md#pod-spec); user sidecars come before our
    containers, user init containers before ours, user volumes before ours. `stateless`: the
    pods belong to a Deployment (placement.affinity: a racked set's own host rule is then a
    spread constraint, docs/racks.md#stateless-sets-own-host-spread)."""
    pod = scheduling(spec)
    if spec.get("serviceAccountName"):
        pod["serviceAccountName"] = spec["serviceAccountName"]
    if spec.get("gracePeriod") is not None:
        pod["terminationGracePeriodSeconds"] = spec["gracePeriod"]
    security = pod_security_context(cluster, spec)
    if security:
        pod["securityContext"] = security
    if with_affinity:
        affinity = placement.affinity(cluster, spec, match_labels, rack, stateless)
        if affinity:
            pod["affinity"] = affinity
        # ours: topology spread constraints beside the affinity (placement/spread.py)
        own_host = (placement.own_host_spread(cluster, match_labels)
                    if placement.host_spread_replaces_anti_affinity(cluster, spec, rack,
                                                                    stateless)
                    else None)
        spread = placement.topology_spread(spec, match_labels, own_host)
        if spread:
            pod["topologySpreadConstraints"] = spread
    ours = [secure_container(cluster, c) for c in (init_containers or [])]
    inits = list(spec.get("initContainers") or []) + ours
    if inits:
        pod["initContainers"] = inits
    pod["containers"] = list(spec.get("sidecars") or []) + [
        secure_container(cluster, c) for c in main_containers]
    if restart_policy:
        pod["restartPolicy"] = restart_policy
    all_volumes = list((spec.get("additionalVolumes") or {}).get("volumes") or []) + list(
        volumes or [])
    if all_volumes:
        pod["volumes"] = all_volumes
    return pod


def restricted(cluster: Cluster) -> bool:
    """Whether our containers get the restricted settings: in ``restricted`` and in
    ``baseline`` mode, which differ only in what the user's containers must meet
    (checks/pod_security.py)."""
    return cluster.glob["podSecurity"] in ("restricted", "baseline")


def pod_security_context(cluster: Cluster, spec: dict) -> dict | None:
    """The pod ``securityContext``: the component's own (KAAP's field) over the restricted
    defaults, or the component's own alone in ``kaap`` mode (KAAP's templates)."""
    own = spec.get("securityContext") or {}
    if not restricted(cluster):
        return dict(own) or None
    import copy

    return {**copy.deepcopy(model.RESTRICTED_POD_SECURITY_CONTEXT), **own}


def secure_container(cluster: Cluster, container: dict) -> dict:
    """One of our containers with the restricted container ``securityContext`` (restricted mode
    only). User sidecars and init containers are left exactly as written."""
    if not restricted(cluster) or "securityContext" in container:
        return container
    import copy

    return {**container,
            "securityContext": copy.deepcopy(model.RESTRICTED_CONTAINER_SECURITY_CONTEXT)}


def pod_template(labels: dict, annotations: dict, pod: dict) -> dict:
    metadata = {"labels": labels}
    if annotations:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": pod}


# --- services and disruption budgets ------------------------------------------------------------


def service(cluster: Cluster, name: str, labels: dict, selector: dict, service_ports: list,
            service_spec: dict | None,
            *, headless: bool = False, type_: str | None = None,
            publish_not_ready: bool = False,
            extra_annotations: dict | None = None) -> dict:
    annotations = dict(extra_annotations or {})
    annotations.update((service_spec or {}).get("annotations") or {})
    spec: dict[str, Any] = {}
    if type_:
        spec["type"] = type_
    if headless:
        spec["clusterIP"] = "None"
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    spec["ports"] = list(service_ports) + list((service_spec or {}).get("additionalPorts") or [])
    spec["selector"] = dict(selector)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": cluster.metadata(name, labels, annotations),
        "spec": spec,
    }


def pod_disruption_budget(cluster: Cluster, name: str, labels: dict, annotations: dict | None,
                          selector: dict, pdb: dict) -> dict | None:
    if not pdb or not pdb.get("enabled"):
        return None
    spec = {}
    if pdb.get("minAvailable") is not None:
        spec["minAvailable"] = pdb["minAvailable"]
    if pdb.get("maxUnavailable") is not None:
        spec["maxUnavailable"] = pdb["maxUnavailable"]
    spec["selector"] = {"matchLabels": dict(selector)}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": cluster.metadata(name, labels, annotations),
        "spec": spec,
    }


def statefulset(cluster: Cluster, name: str, labels: dict, annotations: dict | None, *,
                replicas: int | None, selector: dict,
                service_name: str, template: dict, pod_management_policy: str | None = None,
                update_strategy: dict | None = None,
                volume_claim_templates: list | None = None) -> dict:
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": dict(selector)},
                            "serviceName": service_name}
    if replicas is None:  # a HorizontalPodAutoscaler owns it (autoscaling.py)
        del spec["replicas"]
    if pod_management_policy:
        spec["podManagementPolicy"] = pod_management_policy
    if update_strategy:
        spec["updateStrategy"] = update_strategy
    spec["template"] = template
    if volume_claim_templates:
        spec["volumeClaimTemplates"] = volume_claim_templates
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": cluster.metadata(name, labels, annotations),
        "spec": spec,
    }


def deployment(cluster: Cluster, name: str, labels: dict, annotations: dict | None, *,
               replicas: int | None, selector: dict,
               template: dict, strategy: dict | None = None) -> dict:
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": dict(selector)}}
    if replicas is None:  # a HorizontalPodAutoscaler owns it (autoscaling.py)
        del spec["replicas"]
    if strategy:
        spec["strategy"] = strategy
    spec["template"] = template
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": cluster.metadata(name, labels, annotations),
        "spec": spec,
    }


def content_hash(value: object) -> str:
    """Eight hex digits of ``sha256_of``: names objects after their content."""
    return sha256_of(value)[:8]


def job(cluster: Cluster, name: str, labels: dict, annotations: dict | None, spec: dict,
        container: dict, *,
        pod_component: str, pod_labels: dict | None = None, pod_annotations: dict | None = None,
        service_account: bool = False, volumes: list | None = None) -> dict:
    """A one-shot Job with the component's scheduling fields (kaap-parity.md#zookeeper).

    KAAP runs its Jobs once the StatefulSet they need is ready; statically they start at once,
    and ``restartPolicy: OnFailure`` retries until the store answers. The commands we run are
    idempotent, so a re-run is harmless. Two departures from KAAP, both for GitOps:

    * the Job is named ``<name>-<content hash>`` (``name_jobs``, after ``spec.patches``, which
      target the name without the hash): a Job's pod template is immutable, so an image
      upgrade applied to a fixed name fails (``field is immutable``); a new name makes a new
      Job, and the GitOps tool prunes the old one;
    * its pods carry ``component: <pod_component>``, not the component's own: with KAAP's
      labels the ZooKeeper (or broker) Services route to the Job's pod while it runs, and the
      component's PodDisruptionBudget selects a pod no scalable controller owns, which makes
      the eviction API refuse every drain of that component.
    """
    pod = job_pod(cluster, spec, container, volumes=volumes,
                  service_account=spec.get("serviceAccountName") if service_account else None)
    template_labels = dict(pod_labels if pod_labels is not None else labels)
    template_labels[names.COMPONENT_LABEL] = pod_component
    template_metadata = {"labels": template_labels}
    if pod_annotations:
        template_metadata["annotations"] = dict(pod_annotations)
    job_spec = {"template": {"metadata": template_metadata, "spec": pod}}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": cluster.metadata(name, labels, annotations),
        "spec": job_spec,
    }


def name_jobs(objects: list) -> None:
    """Append the content hash of its spec to every Job's name: the last step before the
    objects are annotated, so a change made by ``spec.patches`` also makes a new Job."""
    for obj in objects:
        if obj.get("kind") == "Job":
            obj["metadata"]["name"] = f"{obj['metadata']['name']}-{content_hash(obj['spec'])}"


def cluster_metadata_command(cluster: Cluster) -> str:
    """``bin/pulsar initialize-cluster-metadata`` with the umbrella broker URLs, against
    ZooKeeper or Oxia (the store flags come from the cluster, the one place that knows the
    store). With broker TLS the TLS URLs are registered too (KAAP), so clients looking the
    cluster up get ``pulsar+ssl://`` and ``https://`` addresses."""
    command = (
        f"bin/pulsar initialize-cluster-metadata --cluster {cluster.cluster_name} "
        f"{cluster.metadata_store_flags()} "
        f"--web-service-url {cluster.broker_web_service_url} "
        f"--broker-service-url {cluster.broker_service_url}"
    )
    if cluster.broker_tls:
        command += (f" --web-service-url-tls {cluster.broker_web_service_url_tls} "
                    f"--broker-service-url-tls {cluster.broker_service_url_tls}")
    return command


def job_container(name: str, spec: dict, job_spec: dict, command: str, what: str, *,
                  pre_steps: str = "", mounts: list | None = None) -> dict:
    """The container of a one-shot Job: `command` retried until it succeeds, each attempt
    bounded by ``job_spec.timeout`` (startup.retry), with a small heap from the Job's memory.

    KAAP runs ``timeout <t> sh -c <command>`` once and leaves retries to the Job's
    ``backoffLimit`` (6, with exponential back-off): a metadata store that takes longer to
    come up than those retries (image pulls, volume provisioning) would leave the Job failed
    for good and the cluster uninitialized. Retrying inside the pod waits as long as needed
    and prints every failure."""
    from . import jvm, startup

    container = {
        "name": name,
        "image": spec["image"],
        "imagePullPolicy": spec["imagePullPolicy"],
        "command": ["sh", "-c"],
        "args": [pre_steps + startup.retry(command, what, timeout=job_spec["timeout"])],
    }
    resources = job_spec.get("resources")
    flags = jvm.with_memory("tool", resources, "-XX:+ExitOnOutOfMemoryError")
    container["env"] = [{"name": "PULSAR_MEM", "value": flags}]
    if mounts:
        container["volumeMounts"] = list(mounts)
    if resources:
        container["resources"] = resources
    return container


def cluster_metadata_job(cluster: Cluster, name: str, labels: dict, annotations: dict | None,
                         spec: dict,
                         job_spec: dict, service_account: bool = False, *, pod_component: str,
                         pre_steps: str = "", mounts: list | None = None,
                         volumes: list | None = None) -> dict:
    """The cluster metadata Job (``cluster_metadata_command``); `pre_steps` prepare the
    store's TLS."""
    container = job_container(name, spec, job_spec, cluster_metadata_command(cluster),
                              "initializing the cluster metadata", pre_steps=pre_steps,
                              mounts=mounts)
    return job(cluster, name, labels, annotations, spec, container,
               pod_component=pod_component, service_account=service_account, volumes=volumes)
