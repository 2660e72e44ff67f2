"""What every renderer needs to know about one cluster: names, labels, addresses.

A ``Cluster`` is built once from the resolved spec and the PulsarCluster's metadata, and then
only read. Component renderers take it and return plain Kubernetes objects.
"""

from __future__ import annotations

from . import model

# Ports that other components dial (KAAP §4).
ZOOKEEPER_CLIENT_PORT = 2181
BROKER_PULSAR_PORT = 6650
BROKER_HTTP_PORT = 8080
BOOKIE_PORT = 3181
OXIA_PUBLIC_PORT = 6648

# Base-name keys of spec.global.components, per component section.
_BASE_NAME_KEYS = {
    "zookeeper": "zookeeperBaseName",
    "bookkeeper": "bookkeeperBaseName",
    "broker": "brokerBaseName",
    "proxy": "proxyBaseName",
    "autorecovery": "autorecoveryBaseName",
    "bastion": "bastionBaseName",
    "functionsWorker": "functionsWorkerBaseName",
}


class Cluster:
    """One PulsarCluster being rendered: the resolved spec plus derived names and URLs."""

    def __init__(self, spec: dict, config: dict):
        metadata = config.get("metadata") or {}
        self.spec = spec
        self.config = config
        self.api_version = config.get("apiVersion")
        self.kaap_input = self.api_version == model.KAAP_API_VERSION
        self.glob = spec["global"]
        self.name = self.glob["name"]
        self.cluster_name = self.glob["clusterName"]
        # Generated objects carry a namespace only when the PulsarCluster has one, so that a
        # kustomize `namespace:` applied later moves everything together.
        self.namespace = metadata.get("namespace") or None
        self.domain = self.glob["kubernetesClusterDomain"]
        self.oxia = bool(spec["oxia"]["enabled"])

    # --- names ---------------------------------------------------------------------------------

    def base_name(self, component: str) -> str:
        return self.glob["components"][_BASE_NAME_KEYS[component]]

    def resource_name(self, component: str) -> str:
        """``<global.name>-<base name>``, e.g. ``pulsar-broker`` (KAAP §3.1)."""
        return f"{self.name}-{self.base_name(component)}"

    def host(self, service: str) -> str:
        """DNS name of a Service: fully qualified when the namespace is known, else relative
        (resolved through the pod's search path, so it follows a later namespace change)."""
        if self.namespace:
            return f"{service}.{self.namespace}.svc.{self.domain}"
        return service

    def pod_host(self, pod: str, service: str) -> str:
        """DNS name of one pod of a StatefulSet behind its headless Service."""
        if self.namespace:
            return f"{pod}.{service}.{self.namespace}.svc.{self.domain}"
        return f"{pod}.{service}"

    # --- addresses -----------------------------------------------------------------------------

    @property
    def zookeeper_connect(self) -> str:
        # KAAP targets the non-headless `-ca` Service (§3.7)
        return f"{self.host(self.resource_name('zookeeper') + '-ca')}:{ZOOKEEPER_CLIENT_PORT}"

    @property
    def broker_service_url(self) -> str:
        """Umbrella broker Service, which selects every broker pod of every set."""
        return f"pulsar://{self.host(self.resource_name('broker'))}:{BROKER_PULSAR_PORT}/"

    @property
    def broker_web_service_url(self) -> str:
        return f"http://{self.host(self.resource_name('broker'))}:{BROKER_HTTP_PORT}/"

    # --- object scaffolding --------------------------------------------------------------------

    def labels(self, component: str, custom: dict | None = None) -> dict:
        """Metadata labels: KAAP's three base keys, then the user's (kept as given)."""
        labels = {"app": "pulsar", "component": self.base_name(component), "cluster": self.name}
        if custom:
            labels.update(custom)
        return labels

    def selector_labels(self, component: str, custom: dict | None = None) -> dict:
        """Pod and selector labels: a blank custom value removes that key (KAAP §3.2)."""
        labels = {"app": "pulsar", "component": self.base_name(component), "cluster": self.name}
        for key, value in (custom or {}).items():
            if value in (None, ""):
                labels.pop(key, None)
            else:
                labels[key] = value
        return labels

    def metadata(self, name: str, labels: dict | None = None,
                 annotations: dict | None = None) -> dict:
        meta = {"name": name}
        if self.namespace:
            meta["namespace"] = self.namespace
        if labels:
            meta["labels"] = dict(labels)
        if annotations:
            meta["annotations"] = dict(annotations)
        return meta
