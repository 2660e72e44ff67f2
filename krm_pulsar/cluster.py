"""What every renderer needs to know about one cluster: names, labels, addresses.

A ``Cluster`` is built once from the resolved spec and the PulsarCluster's metadata, and then
only read. Component renderers take it and return plain Kubernetes objects.
"""

from __future__ import annotations

from . import model, names, registry
from .endpoints import CLIENT, HTTP, PUBLIC, PULSAR, number

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from typing import Any

    from .placement import ResourceSet
    from .tls_plan import TlsPlan


class Cluster:
    """One PulsarCluster being rendered: the resolved spec plus derived names and URLs."""

    def __init__(self, spec: dict, config: dict) -> None:
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
        # the resource sets of every set component, resolved once (placement.resource_sets)
        from .placement import build_resource_sets

        self.sets: dict[str, list[ResourceSet]] = {
            entry.section: build_resource_sets(self, entry.section)
            for entry in registry.SET_COMPONENTS}
        self._tls_plans: dict[tuple[str, str | None], TlsPlan] = {}

    # --- TLS -----------------------------------------------------------------------------------

    def tls_plan(self, section: str, rset: ResourceSet | None = None) -> TlsPlan:
        """The TLS plan of a component, or of one of its resource sets, computed once."""
        key = (section, rset.name if rset is not None else None)
        found = self._tls_plans.get(key)
        if found is None:
            from .tls_plan import plan

            if rset is None:
                found = plan(self, section)
            else:
                found = plan(self, section, rset.name, rset.spec)
            self._tls_plans[key] = found
        return found

    # --- names ---------------------------------------------------------------------------------

    def base_name(self, component: str) -> str:
        entry = registry.BY_SECTION.get(component)
        key = entry.base_name_key if entry else None
        # components without a configurable base name (the Oxia parts) use their own name
        return self.glob["components"][key] if key else component

    def resource_name(self, component: str) -> str:
        """``<global.name>-<base name>``, e.g. ``pulsar-broker`` (kaap-parity.md#names)."""
        return names.resource_name(self.name, self.base_name(component))

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
        # KAAP targets the non-headless `-ca` Service (kaap-parity.md#internal-urls), on the TLS
        # port with ZooKeeper TLS
        tls = bool((self.glob["tls"]["zookeeper"] or {}).get("enabled"))
        port = number("zookeeper", CLIENT, tls)
        return f"{self.host(names.client_service(self.resource_name('zookeeper')))}:{port}"

    @property
    def oxia_service(self) -> str:
        """Headless Service of the Oxia servers, which Pulsar dials (Helm chart,
        helm-parity.md#metadata-store-urls)."""
        return names.oxia_headless_service(self.name)

    @property
    def oxia_url(self) -> str:
        """Oxia address without the Oxia namespace: ``oxia://<svc>:6648``."""
        return f"oxia://{self.host(self.oxia_service)}:{number('oxia-server', PUBLIC)}"

    def metadata_store_keys(self, section: str) -> dict:
        """The metadata-store keys of component `section`'s configuration (its registry
        entry says which kind)."""
        consumer = registry.BY_SECTION[section].metadata_keys
        if consumer is None:
            raise ValueError(section)
        return self.metadata_store_config(consumer)

    def metadata_store_config(self, consumer: str) -> dict:
        """The metadata-store keys of one consumer's configuration, for ZooKeeper or Oxia;
        `consumer` is a component's ``registry.Component.metadata_keys``.

        This is the one place that decides how components find the metadata store.
        ZooKeeper keeps KAAP's legacy keys (a KAAP user sees no config change); Oxia uses the
        metadata-store URL keys of the Apache Helm chart (helm-parity.md#metadata-store-urls), with
        the Oxia namespaces ``broker`` and ``bookkeeper`` keeping the two apart.
        """
        if not self.oxia:
            zk = self.zookeeper_connect
            if consumer in ("broker", "proxy", "functionsWorker"):
                return {"zookeeperServers": zk, "configurationStoreServers": zk}
            if consumer == "bookkeeper":
                return {"zkServers": zk}
            raise ValueError(consumer)
        if consumer == "broker":
            return {"metadataStoreUrl": f"{self.oxia_url}/broker",
                    "bookkeeperMetadataServiceUri": f"metadata-store:{self.oxia_url}/bookkeeper"}
        if consumer == "bookkeeper":
            # the Helm chart blanks the ZooKeeper keys so nothing falls back to localhost:2181
            return {"metadataServiceUri": f"metadata-store:{self.oxia_url}/bookkeeper",
                    "zkServers": "", "zkLedgersRootPath": ""}
        if consumer == "proxy":
            return {}  # proxies and websocket talk to brokers only
        raise ValueError(consumer)

    def metadata_store_flags(self) -> str:
        """``bin/pulsar initialize-cluster-metadata`` flags naming the metadata stores."""
        if self.oxia:
            url = f"{self.oxia_url}/broker"
            return f"--metadata-store {url} --configuration-store {url}"
        zk = self.zookeeper_connect
        return f"--zookeeper {zk} --configuration-store {zk}"

    @property
    def configuration_store(self) -> str:
        """The configuration store as CLI tools take it (``--configuration-store``)."""
        return f"{self.oxia_url}/broker" if self.oxia else self.zookeeper_connect

    def umbrella_url(self, scheme: str, component: str, protocol: str, tls: bool = False) -> str:
        """``<scheme>://<umbrella Service>:<port>/`` of the brokers or proxies (KAAP builds
        these URLs from the base name, never from sets)."""
        return (f"{scheme}://{self.host(self.resource_name(component))}:"
                f"{number(component, protocol, tls)}/")

    @property
    def proxy_service_url(self) -> str:
        """Umbrella proxy Service (KAAP builds it from the base name, never from sets)."""
        return self.umbrella_url("pulsar", "proxy", PULSAR)

    @property
    def proxy_web_service_url(self) -> str:
        return self.umbrella_url("http", "proxy", HTTP)

    @property
    def functions_worker_url(self) -> str:
        """The functions worker's ClusterIP ``-ca`` Service, as KAAP gives it to proxies
        (https on 6751 when the worker has TLS)."""
        service = names.client_service(self.resource_name("functionsWorker"))
        if (self.glob["tls"]["functionsWorker"] or {}).get("enabled"):
            return f"https://{self.host(service)}:{number('functionsWorker', HTTP, True)}"
        return f"http://{self.host(service)}:{number('functionsWorker', HTTP)}"

    @property
    def broker_service_url(self) -> str:
        """Umbrella broker Service, which selects every broker pod of every set."""
        return self.umbrella_url("pulsar", "broker", PULSAR)

    @property
    def broker_web_service_url(self) -> str:
        return self.umbrella_url("http", "broker", HTTP)

    @property
    def broker_tls(self) -> bool:
        """TLS on the umbrella broker Service, which KAAP decides by ``tls.broker`` alone."""
        return bool((self.glob["tls"]["broker"] or {}).get("enabled"))

    @property
    def broker_client_service_url(self) -> str:
        """What in-cluster clients dial: the TLS URL when the brokers have TLS (KAAP)."""
        return self.broker_service_url_tls if self.broker_tls else self.broker_service_url

    @property
    def broker_client_web_service_url(self) -> str:
        return self.broker_web_service_url_tls if self.broker_tls else self.broker_web_service_url

    @property
    def proxy_tls(self) -> bool:
        return bool((self.glob["tls"]["proxy"] or {}).get("enabled"))

    @property
    def proxy_service_url_tls(self) -> str:
        return self.umbrella_url("pulsar+ssl", "proxy", PULSAR, tls=True)

    @property
    def proxy_web_service_url_tls(self) -> str:
        return self.umbrella_url("https", "proxy", HTTP, tls=True)

    # KAAP writes the TLS URLs into proxy configs even with TLS off; unused until TLS is on.
    @property
    def broker_service_url_tls(self) -> str:
        return self.umbrella_url("pulsar+ssl", "broker", PULSAR, tls=True)

    @property
    def broker_web_service_url_tls(self) -> str:
        return self.umbrella_url("https", "broker", HTTP, tls=True)

    # --- object scaffolding --------------------------------------------------------------------

    def labels(self, component: str, custom: dict | None = None) -> dict:
        """Metadata labels: KAAP's three base keys, then the user's (kept as given)."""
        labels = names.base_labels(self.name, self.base_name(component))
        if custom:
            labels.update(custom)
        return labels

    def selector_labels(self, component: str, custom: dict | None = None) -> dict:
        """Pod and selector labels: a blank custom value removes that key
        (kaap-parity.md#labels)."""
        labels = names.base_labels(self.name, self.base_name(component))
        for key, value in (custom or {}).items():
            if value in (None, ""):
                labels.pop(key, None)
            else:
                labels[key] = value
        return labels

    def pod_labels(self, component: str, spec: dict) -> dict:
        """Pod template labels: the selector's custom labels, then ``podLabels``.

        KAAP leaves ``matchLabels`` out of the pod template, so a user ``matchLabels`` gives a
        selector that matches no pod and the API server rejects the workload; we put them on
        the pods too (render.check rejects a podLabels value that contradicts them).
        """
        return self.selector_labels(component, pod_label_overrides(spec))

    def identity(self, component: str, spec: dict) -> tuple[str, dict, dict, dict]:
        """``(name, metadata labels, selector labels, pod labels)`` of a component without
        resource sets (ZooKeeper, autorecovery, bastion, functions worker)."""
        return (self.resource_name(component), self.labels(component, spec["labels"]),
                self.selector_labels(component, spec["matchLabels"]),
                self.pod_labels(component, spec))

    def metadata(self, name: str, labels: dict | None = None,
                 annotations: dict | None = None) -> dict:
        meta: dict[str, Any] = {"name": name}
        if self.namespace:
            meta["namespace"] = self.namespace
        if labels:
            meta["labels"] = dict(labels)
        if annotations:
            meta["annotations"] = dict(annotations)
        return meta


def pod_label_overrides(spec: dict) -> dict:
    """The custom pod labels of a component or set: non-blank matchLabels, then podLabels."""
    labels = {key: value for key, value in (spec.get("matchLabels") or {}).items() if value}
    labels.update(spec.get("podLabels") or {})
    return labels
