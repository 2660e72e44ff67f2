"""What each rendered pod's configuration connects to, read from the rendered objects alone:
the expected side of the reachability test (tests/unit/test_network_policies.py).

It shares no code with krm_pulsar/network_policies and never reads the PulsarCluster spec: it
reads the pods' ConfigMaps (as apply-config-from-env.py and gen-yml-from-env.py apply them),
environment, mounted files and commands, finds the processes they start, and resolves every
address their configuration dials (Services through their selectors and ports, StatefulSet
pod names through their governing Service), with what Pulsar, BookKeeper, ZooKeeper and Oxia
do with those settings:

* URLs and address lists named by the configuration keys each process reads (``PROCESS_KEYS``),
  for the proxy and the websocket service the TLS or plain ones as ``tlsEnabledWithBroker`` and
  ``brokerClientTlsEnabled`` choose, and for the proxy the functions worker URL the same way;
* what is found through the metadata store rather than named: a BookKeeper client reaches
  every bookie registered in its metadata store (brokers, autorecovery, the bastion's
  ``bookkeeper shell``, the functions worker unless ``functionsWorkerEnablePackageManagement``,
  bookies with ``autoRecoveryDaemonEnabled``); a broker's internal clients reach every broker
  of its cluster on their TLS ports when ``brokerClientTlsEnabled``, else their plain ones; a
  proxy's Kafka extension reaches each Kafka broker's listener and schema registry;
* peers: ZooKeeper's servers (``ZOOKEEPER_SERVERS``, quorum and election ports, more than one
  server), the functions workers (``workerHostname``, ``workerPortTls`` with ``tlsEnabled``),
  the Oxia coordinator's servers (their internal addresses; servers replicate to each other
  when a namespace keeps more than one copy);
* the function instance pods of the kubernetes runtime, built as Pulsar's KubernetesRuntime
  builds them from functions_worker.yml (labels, ports, annotations); the worker dials their
  gRPC port, they dial ``pulsarServiceUrl`` and ``pulsarAdminUrl``;
* the Kubernetes API: the token Job, the Oxia coordinator, the kubernetes runtime's worker.

Anything it cannot read (an unknown process, an address no object resolves) raises: a new
component or Job fails the reachability test until both sides know it.
"""

from __future__ import annotations

import re

import yaml

PREFIX = "PULSAR_PREFIX_"
WORKLOADS = ("StatefulSet", "Deployment", "Job")
# Pulsar's defaults for keys our ConfigMaps may leave out (conf/*.conf of the image)
BROKER_PORTS = {"brokerServicePort": 6650, "webServicePort": 8080}
GRPC_DEFAULT, METRICS_DEFAULT = 9093, 9094  # KubernetesRuntimeFactoryConfig
ZOOKEEPER_PEER_PORTS = (2888, 3888)  # generate-zookeeper-config.sh: server.N=<host>:2888:3888
KUBE_API = "kubernetes-api"


class Pod:
    """One pod template: its workload, labels, annotations, containers and volumes."""

    def __init__(self, name: str, labels: dict, annotations: dict, spec: dict,
                 workload: dict | None) -> None:
        self.name = name
        self.labels = labels
        self.annotations = annotations
        self.spec = spec
        self.workload = workload
        self.processes: list[Process] = []

    @property
    def containers(self) -> list[dict]:
        return list(self.spec.get("initContainers") or []) + list(self.spec["containers"])

    @property
    def ports(self) -> dict[str, tuple[str, int]]:
        """Container port names -> (protocol, number)."""
        return {p["name"]: (p.get("protocol", "TCP"), p["containerPort"])
                for c in self.spec["containers"] for p in c.get("ports") or [] if p.get("name")}

    def __repr__(self) -> str:
        return f"Pod({self.name})"


class Process:
    """A process a container starts: what it is and the configuration it reads."""

    def __init__(self, what: str, config: dict, command: str, container: dict) -> None:
        self.what = what
        self.config = config
        self.command = command
        self.container = container

    def __repr__(self) -> str:
        return f"Process({self.what})"


def pods(objects: list) -> list[Pod]:
    """Every rendered pod template, then the function instance pods the kubernetes runtime
    would start for a worker's functions."""
    found = []
    config_maps = {o["metadata"]["name"]: o.get("data") or {} for o in objects
                   if o["kind"] == "ConfigMap"}
    for obj in objects:
        if obj["kind"] not in WORKLOADS:
            continue
        template = obj["spec"]["template"]
        meta = template.get("metadata") or {}
        pod = Pod(f"{obj['kind']}/{_base_name(obj)}", dict(meta.get("labels") or {}),
                  dict(meta.get("annotations") or {}), template["spec"], obj)
        pod.processes = [p for c in pod.containers for p in _processes(c, pod, config_maps)]
        found.append(pod)
    for pod in list(found):
        for process in pod.processes:
            if process.what == "functions-worker" and _kubernetes_runtime(process.config):
                found.append(_instance_pod(pod, process))
    return found


def _base_name(obj: dict) -> str:
    """Jobs carry a content hash in their name; the matrix names them without it."""
    name = obj["metadata"]["name"]
    if obj["kind"] == "Job":
        return re.sub(r"-[0-9a-f]{8}$", "", name)
    return name


# --- configuration of a container -----------------------------------------------------------------


def _env_config(container: dict, config_maps: dict) -> dict:
    """The settings apply-config-from-env.py writes: every envFrom ConfigMap and env value,
    with PULSAR_PREFIX_ stripped (the key is set whether or not the file has it)."""
    env: dict = {}
    for source in container.get("envFrom") or []:
        name = (source.get("configMapRef") or {}).get("name")
        if name:
            env.update(config_maps[name])
    for entry in container.get("env") or []:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
    config = {}
    for key, value in env.items():
        config[key[len(PREFIX):] if key.startswith(PREFIX) else key] = value
    return config


def _mounted_file(pod: Pod, config_maps: dict, path_end: str) -> str | None:
    volumes = {v["name"]: v for v in pod.spec.get("volumes") or []}
    for container in pod.containers:
        for mount in container.get("volumeMounts") or []:
            if mount["mountPath"].endswith(path_end):
                config_map = (volumes[mount["name"]].get("configMap") or {}).get("name")
                if config_map:
                    return config_maps[config_map][mount.get("subPath") or path_end]
    return None


def _command(container: dict) -> str:
    return " ".join(list(container.get("command") or []) + list(container.get("args") or []))


def _processes(container: dict, pod: Pod, config_maps: dict) -> list[Process]:
    command = _command(container)
    config = _env_config(container, config_maps)
    found = []
    for what in ("zookeeper", "bookie", "broker", "proxy", "websocket", "functions-worker"):
        if re.search(rf"exec bin/pulsar {what}\b", command):
            found.append(what)
    if "exec bin/bookkeeper autorecovery" in command:
        found.append("autorecovery")
    if "conf/client.conf" in command and "sleep infinity" in command:
        found.append("toolset")
    if re.search(r"bin/bookkeeper shell (whatisinstanceid|initnewcluster|metaformat)", command):
        found.append("bookkeeper-metadata-client")
    if "zookeeper-shell" in command:
        found.append("zookeeper-shell")
    if "initialize-cluster-metadata" in command:
        found.append("cluster-metadata")
    if "initialize-transaction-coordinator-metadata" in command:
        found.append("transaction-metadata")
    if command.startswith("oxia coordinator"):
        found.append("oxia-coordinator")
    if command.startswith("oxia server"):
        found.append("oxia-server")
    if "token_init.py" in command:
        found.append("token-init")
    if "racks-info" in command:
        found.append("rack-registration")
    if not found:
        # the user's own sidecars and init containers: their connections are theirs to allow
        # (docs/security.md); anything running our tools must be known
        if not re.search(r"bin/(pulsar|bookkeeper)|apply-config-from-env|^oxia ", command):
            return []
        raise ValueError(f"{pod.name}: the reader knows no process in {container['name']}: "
                         f"{command[:200]}")
    if "functions-worker" in found:
        worker = yaml.safe_load(_mounted_file(pod, config_maps, "functions_worker.yml") or "{}")
        # gen-yml-from-env.py: PF_<key> exported by the start command overrides <key>
        for key, value in re.findall(r'export PF_(\w+)="([^"]*)"', command):
            worker[key] = value.replace("${workerHostname}", "<pod>")
        config = {**config, **worker}
    if "oxia-coordinator" in found:
        name = re.search(r"--conf=configmap:[^/]+/(\S+)", command).group(1)
        config = yaml.safe_load(config_maps[name]["config.yaml"])
    return [Process(what, config, command, container) for what in found]


def _kubernetes_runtime(worker: dict) -> bool:
    return str(worker.get("functionRuntimeFactoryClassName", "")).endswith(
        "KubernetesRuntimeFactory")


def _instance_pod(worker_pod: Pod, worker: Process) -> Pod:
    """A function's instance pod as KubernetesRuntime builds it: its labels (component,
    namespace, tenant, name; then customLabels over them), the grpc and prometheus container
    ports, the prometheus annotations."""
    factory = worker.config.get("functionRuntimeFactoryConfigs") or {}
    grpc = int(factory.get("grpcPort", GRPC_DEFAULT))
    metrics = int(factory.get("metricsPort", METRICS_DEFAULT))
    labels = {"component": "function", "namespace": "default", "tenant": "public",
              "name": "example", **(factory.get("customLabels") or {})}
    spec = {"containers": [{"name": "pulsarfunction", "ports": [
        {"name": "grpc", "containerPort": grpc}, {"name": "prometheus", "containerPort": metrics}],
        "command": ["sh", "-c", "function instance"]}]}
    pod = Pod("StatefulSet/<function instance>", labels,
              {"prometheus.io/scrape": "true", "prometheus.io/port": str(metrics)}, spec, None)
    pod.processes = [Process("function-instance", factory, "", spec["containers"][0])]
    return pod


# --- addresses ----------------------------------------------------------------------------------


def addresses(value: object) -> list[tuple[str, int]]:
    """``[(host, port)]`` of a URL or an address list: ``pulsar://h:6650/``,
    ``metadata-store:oxia://h:6648/ns``, ``h1:2181,h2:2181/chroot``, ``zk+hierarchical://...``."""
    text = str(value or "").strip()
    if not text:
        return []
    if text.startswith("metadata-store:"):
        text = text[len("metadata-store:"):]
    if text.startswith("zk:"):
        text = text[len("zk:"):]
    if "://" in text:
        text = text.split("://", 1)[1]
    text = text.split("/", 1)[0]
    found = []
    for part in re.split(r"[,;]", text):
        host, _, port = part.rpartition(":")
        found.append((host, int(port)))
    return found


class Resolver:
    """Host names of the rendered objects: Services (through their selectors and ports) and
    the pods of StatefulSets (``<name>-<n>.<governing Service>``)."""

    def __init__(self, objects: list, all_pods: list[Pod]) -> None:
        self.pods = all_pods
        self.services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
        namespaces = {o["metadata"].get("namespace") for o in objects if o["kind"] == "Service"}
        self.namespace = next(iter(namespaces)) if len(namespaces) == 1 else None
        self.unresolved: list[str] = []

    def _names(self, host: str) -> list[str]:
        parts = host.rstrip(".").split(".")
        if "svc" in parts:
            index = parts.index("svc")
            if self.namespace is None or parts[index - 1] != self.namespace:
                raise ValueError(f"{host}: not in the cluster's namespace {self.namespace}")
            parts = parts[:index - 1]
        return parts

    def resolve(self, host: str, port: int, source: Pod) -> list[tuple[Pod, int]]:
        """``[(pod, port on the pod)]`` a connection to host:port reaches."""
        if host in ("localhost", "127.0.0.1", "0.0.0.0"):
            return []
        parts = self._names(host)
        if len(parts) == 1:
            service = self.services.get(parts[0])
            if service is None:
                # a component that renders no pods (replicas 0): nothing there to reach
                self.unresolved.append(f"{source.name} -> {host}:{port}")
                return []
            return self._through_service(service, port, f"{host}:{port}")
        if len(parts) == 2:
            pod_name, governing = parts
            for pod in self.pods:
                workload = pod.workload or {}
                if workload.get("kind") == "StatefulSet" and \
                        workload["spec"].get("serviceName") == governing and \
                        re.fullmatch(re.escape(workload["metadata"]["name"]) + r"-\d+",
                                     pod_name):
                    return [(pod, port)]
            raise ValueError(f"{source.name} dials {host}:{port}: no such StatefulSet pod")
        raise ValueError(f"{source.name} dials {host}:{port}: not a cluster address")

    def governed(self, service: str, source: Pod) -> list[Pod]:
        """The pods of the StatefulSets whose governing Service is `service`."""
        found = [pod for pod in self.pods if (pod.workload or {}).get("kind") == "StatefulSet"
                 and pod.workload["spec"].get("serviceName") == service]
        if not found:
            raise ValueError(f"{source.name}: no StatefulSet governed by {service}")
        return found

    def statefulset_pod(self, pod_name: str, source: Pod) -> Pod:
        for pod in self.pods:
            workload = pod.workload or {}
            if workload.get("kind") == "StatefulSet" and re.fullmatch(
                    re.escape(workload["metadata"]["name"]) + r"-\d+", pod_name):
                return pod
        raise ValueError(f"{source.name}: no StatefulSet pod {pod_name}")

    def _through_service(self, service: dict, port: int, what: str) -> list[tuple[Pod, int]]:
        selector = service["spec"].get("selector") or {}
        selected = [pod for pod in self.pods if selector and all(
            pod.labels.get(k) == v for k, v in selector.items())]
        if service["spec"].get("clusterIP") == "None":  # headless: DNS names the pods
            return [(pod, port) for pod in selected]
        entry = next((p for p in service["spec"]["ports"] if p["port"] == port), None)
        if entry is None:
            raise ValueError(f"{what}: Service {service['metadata']['name']} has no port {port}")
        target = entry.get("targetPort", port)
        result = []
        for pod in selected:
            number = pod.ports[target][1] if isinstance(target, str) else target
            result.append((pod, number))
        return result

    def service_ports(self, pod: Pod) -> list[int]:
        """The pod ports of every Service that selects `pod`."""
        found = []
        for service in self.services.values():
            selector = service["spec"].get("selector") or {}
            if not selector or not all(pod.labels.get(k) == v for k, v in selector.items()):
                continue
            for entry in service["spec"]["ports"]:
                target = entry.get("targetPort", entry["port"])
                number = pod.ports[target][1] if isinstance(target, str) else target
                if number not in found:
                    found.append(number)
        return found


# --- what each process dials --------------------------------------------------------------------

# The configuration keys naming what a process dials (for the proxy and the websocket service,
# the plain or TLS variant is chosen in _named).
PROCESS_KEYS = {
    "broker": ("zookeeperServers", "configurationStoreServers", "metadataStoreUrl",
               "configurationMetadataStoreUrl", "bookkeeperMetadataServiceUri",
               "pulsarServiceUrl", "pulsarWebServiceUrl"),
    "proxy": ("zookeeperServers", "configurationStoreServers", "metadataStoreUrl",
              "configurationMetadataStoreUrl"),
    "websocket": ("configurationStoreServers", "configurationMetadataStoreUrl"),
    "bookie": ("zkServers", "metadataServiceUri"),
    "autorecovery": ("zkServers", "metadataServiceUri"),
    "bookkeeper-metadata-client": ("zkServers", "metadataServiceUri"),
    "toolset": ("webServiceUrl", "brokerServiceUrl", "zkServers", "metadataServiceUri"),
    # (WorkerConfig reads no zookeeperServers: configurationStoreServers names its store)
    "functions-worker": ("configurationStoreServers", "metadataStoreUrl",
                         "configurationMetadataStoreUrl", "pulsarServiceUrl",
                         "pulsarWebServiceUrl"),
    "function-instance": ("pulsarServiceUrl", "pulsarAdminUrl"),
    "zookeeper": (), "oxia-server": (), "token-init": (),
}
FLAGS = {"cluster-metadata": ("--zookeeper", "--configuration-store", "--metadata-store"),
         "transaction-metadata": ("--configuration-store",),
         "zookeeper-shell": ("-server",)}


def _true(config: dict, key: str, default: bool = False) -> bool:
    value = config.get(key)
    return default if value in (None, "") else str(value).strip().lower() == "true"


def _named(process: Process) -> list[tuple[str, int]]:
    config, what = process.config, process.what
    found = []
    for key in PROCESS_KEYS.get(what, ()):
        found += addresses(config.get(key))
    if what == "proxy":
        tls = _true(config, "tlsEnabledWithBroker")
        suffix = "TLS" if tls else ""
        for key in ("brokerServiceURL", "brokerWebServiceURL", "functionWorkerWebServiceURL"):
            found += addresses(config.get(key + suffix))
    if what == "websocket":
        tls = _true(config, "brokerClientTlsEnabled")
        binary = config.get("brokerServiceUrlTls" if tls else "brokerServiceUrl")
        found += addresses(binary or config.get("serviceUrlTls" if tls else "serviceUrl"))
    for flag in FLAGS.get(what, ()):
        for value in re.findall(rf"(?:^|\s){re.escape(flag)} (\S+)", process.command):
            found += addresses(value)
    if what == "rack-registration":
        found += addresses(re.search(r"^admin=(\S+)", process.command, re.M).group(1))
    if what == "oxia-coordinator":
        found += [a for server in config["servers"] for a in addresses(server["internal"])]
    return found


def _bookkeeper_client(process: Process) -> bool:
    what, config = process.what, process.config
    if what in ("broker", "autorecovery", "toolset"):
        return True
    if what == "bookie":
        return _true(config, "autoRecoveryDaemonEnabled", True)
    if what == "functions-worker":
        return not _true(config, "functionsWorkerEnablePackageManagement")
    return False


class Needed:
    """The connections the configuration needs: ``pairs[(source, destination)]`` ports,
    ``exposed[pod]`` the ports anyone may dial, ``metrics[pod]`` the metrics port,
    ``broker_clients[pod]`` the brokers' Service ports, ``kubernetes_api`` the pods that call
    the API server."""

    def __init__(self) -> None:
        self.pairs: dict[tuple[str, str], set[int]] = {}
        self.exposed: dict[str, set[int]] = {}
        self.metrics: dict[str, int] = {}
        self.broker_clients: dict[str, set[int]] = {}
        self.kubernetes_api: set[str] = set()
        self.pods: list[Pod] = []
        self.unresolved: list[str] = []  # addresses of Services not rendered (no pods)

    def add(self, source: Pod, destination: Pod, port: int) -> None:
        self.pairs.setdefault((source.name, destination.name), set()).add(port)


def needed(objects: list) -> Needed:
    result = Needed()
    all_pods = pods(objects)
    result.pods = all_pods
    resolver = Resolver(objects, all_pods)
    result.unresolved = resolver.unresolved

    def processes(what: str) -> list[tuple[Pod, Process]]:
        return [(pod, p) for pod in all_pods for p in pod.processes if p.what == what]

    def store(pod: Pod, process: Process, keys: tuple[str, ...]) -> frozenset:
        found: set = set()
        for key in keys:
            for host, port in addresses(process.config.get(key)):
                targets = {(target.name, number) for target, number in
                           resolver.resolve(host, port, pod)}
                # a store that is not rendered here (ZooKeeper with no replicas of ours) is
                # still the same store for every client that names the same address
                found.update(targets or {(host, port)})
        return frozenset(found)

    def bookkeeper_store(pod: Pod, process: Process) -> frozenset:
        """Where a BookKeeper client finds the bookies: the BookKeeper metadata service URI,
        else the metadata store (ZooKeeper). The standalone worker asks the brokers at its
        pulsarWebServiceUrl for theirs (their internal configuration data)."""
        if process.what == "functions-worker":
            asked = {target.name for host, port in addresses(process.config.get(
                "pulsarWebServiceUrl")) for target, _ in resolver.resolve(host, port, pod)}
            stores = {bookkeeper_store(broker, broker_process)
                      for broker, broker_process in processes("broker") if broker.name in asked}
            if len(stores) == 1:
                return next(iter(stores))
            # no broker rendered here (they run elsewhere): the brokers keep their BookKeeper
            # metadata in the worker's configuration store
            return store(pod, process, ("configurationMetadataStoreUrl",
                                        "configurationStoreServers"))
        if process.what == "broker":
            return store(pod, process, ("bookkeeperMetadataServiceUri",)) or store(
                pod, process, ("metadataStoreUrl", "zookeeperServers"))
        return store(pod, process, ("metadataServiceUri",)) or store(pod, process, ("zkServers",))

    broker_keys = ("metadataStoreUrl", "zookeeperServers")
    bookies = [(pod, bookkeeper_store(pod, p), int(p.config.get("bookiePort", 3181)))
               for pod, p in processes("bookie")]
    brokers = [(pod, p, store(pod, p, broker_keys)) for pod, p in processes("broker")]

    for pod in all_pods:
        for process in pod.processes:
            for host, port in _named(process):
                for target, number in resolver.resolve(host, port, pod):
                    result.add(pod, target, number)
            if _bookkeeper_client(process):
                mine = bookkeeper_store(pod, process)
                for bookie, theirs, port in bookies:
                    # a client that names no store (the bastion of KAAP input) finds no bookies
                    if mine and theirs == mine:
                        result.add(pod, bookie, port)
            if process.what == "broker":
                mine = store(pod, process, broker_keys)
                tls = _true(process.config, "brokerClientTlsEnabled")
                for other, other_process, theirs in brokers:
                    if theirs != mine:
                        continue
                    if tls:
                        ports = [other_process.config.get("brokerServicePortTls"),
                                 other_process.config.get("webServicePortTls")]
                    else:
                        ports = [other_process.config.get(key, default)
                                 for key, default in BROKER_PORTS.items()]
                    for port in ports:
                        if port not in (None, ""):
                            result.add(pod, other, int(port))
            if process.what == "proxy" and "kafka" in str(process.config.get(
                    "proxyExtensions", "")):
                for other, other_process, _ in brokers:
                    if "kafka" not in str(other_process.config.get("messagingProtocols", "")):
                        continue
                    # the broker's advertised Kafka listener, as it registers it
                    advertised = other_process.config.get("kafkaAdvertisedListeners") or \
                        other_process.config.get("kafkaListeners")
                    for _, port in addresses(advertised):
                        result.add(pod, other, port)
                    # the schema registry proxy forwards to <broker web host>:kopSchemaRegistryPort;
                    # the proxy's config does not set that key (KoP's default 8001 reaches
                    # nothing: reported), so the reader takes the port the brokers serve
                    result.add(pod, other, int(process.config.get(
                        "kopSchemaRegistryPort", other_process.config["kopSchemaRegistryPort"])))
            if process.what == "zookeeper":
                servers = [s for s in process.config.get("ZOOKEEPER_SERVERS", "").split(",") if s]
                if len(servers) > 1:
                    for server in servers:
                        target = resolver.statefulset_pod(server, pod)
                        for port in ZOOKEEPER_PEER_PORTS:
                            result.add(pod, target, port)
            if process.what == "functions-worker":
                config = process.config
                port = config["workerPortTls"] if _true(config, "tlsEnabled") else \
                    config["workerPort"]
                # workerHostname is <pod name>.<governing Service>: every worker of the set
                _, governing = str(config["workerHostname"]).split(".", 1)
                for target in resolver.governed(governing, pod):
                    result.add(pod, target, int(port))
                if _kubernetes_runtime(config):
                    result.kubernetes_api.add(pod.name)
                    factory = config.get("functionRuntimeFactoryConfigs") or {}
                    for instance in all_pods:
                        if instance.workload is None:
                            result.add(pod, instance, int(factory.get("grpcPort", GRPC_DEFAULT)))
            if process.what == "oxia-server":
                coordinators = processes("oxia-coordinator")
                copies = max(n.get("replicationFactor", 1) for _, c in coordinators
                             for n in c.config["namespaces"])
                if copies > 1:
                    for _, coordinator in coordinators:
                        for server in coordinator.config["servers"]:
                            for host, port in addresses(server["internal"]):
                                for target, number in resolver.resolve(host, port, pod):
                                    result.add(pod, target, number)
            if process.what in ("token-init", "oxia-coordinator"):
                result.kubernetes_api.add(pod.name)
    # Pulsar clients follow lookups and redirects to the broker that owns a topic (its
    # advertised address): reaching one broker of a cluster on a port reaches them all on it
    # (on the binary and web ports; a Kafka client follows KoP's own routing)
    cluster_of = {pod.name: {other.name for other, _, theirs in brokers if theirs == mine}
                  for pod, _, mine in brokers}
    pulsar_ports = {pod.name: _pulsar_ports(process.config) for pod, process, _ in brokers}
    for (source, destination), ports in list(result.pairs.items()):
        for other in cluster_of.get(destination, ()):
            result.pairs.setdefault((source, other), set()).update(
                ports & pulsar_ports[destination])
    # the client-facing pods: the proxies, or the brokers when no proxy runs
    proxies = processes("proxy")
    entry = [pod for pod, _ in proxies] or [pod for pod, _, _ in brokers]
    for pod in entry:
        result.exposed[pod.name] = set(resolver.service_ports(pod))
    if proxies and not any("kafka" in str(p.config.get("proxyExtensions", ""))
                           for _, p in proxies):
        for pod, process, _ in brokers:
            kafka = {port for _, port in addresses(process.config.get("kafkaListeners"))}
            if process.config.get("kopSchemaRegistryPort"):
                kafka.add(int(process.config["kopSchemaRegistryPort"]))
            ports = set(resolver.service_ports(pod)) & kafka
            if ports:
                result.exposed[pod.name] = ports
    if proxies:
        for pod, _, _ in brokers:
            result.broker_clients[pod.name] = set(resolver.service_ports(pod))
    for pod in all_pods:
        port = _metrics_port(pod)
        if port is not None:
            result.metrics[pod.name] = port
    return result


def _pulsar_ports(broker: dict) -> set[int]:
    """A broker's binary and web ports, plain and TLS."""
    ports = {int(broker.get(key, default)) for key, default in BROKER_PORTS.items()}
    for key in ("brokerServicePortTls", "webServicePortTls"):
        if broker.get(key):
            ports.add(int(broker[key]))
    return ports


def _metrics_port(pod: Pod) -> int | None:
    """Where Prometheus scrapes the pod: its prometheus.io annotations; the functions worker
    serves its metrics on its HTTP port (KAAP's annotation names the brokers' port there,
    kaap-parity.md#q18)."""
    for process in pod.processes:
        if process.what == "functions-worker":
            return int(process.config["workerPort"])
    if pod.annotations.get("prometheus.io/scrape") == "true" and \
            pod.annotations.get("prometheus.io/port"):
        return int(pod.annotations["prometheus.io/port"])
    return None
