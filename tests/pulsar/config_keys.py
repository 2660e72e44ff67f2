"""Which configuration keys our output writes, and which keys Pulsar's classes know.

Pulsar ignores a key it does not know (a misspelt key is silently a default), so every key we
write for a component must be one its configuration class reads, in the version under test.
Keys written: each container's envFrom ConfigMaps, as the image's scripts turn them into conf
files (`PULSAR_PREFIX_<key>` for the properties files `apply-config-from-env.py` edits, `PF_<key>`
for the YAML file `gen-yml-from-env.py` edits) and the functions worker's YAML mounted from a
ConfigMap. Keys known: read from the cached jars by `java/ConfigKeys.java` (fields, and the
values of String constants) and `javap` (string literals of the classes that parse their
configuration by hand).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

# What a main container runs (`bin/pulsar <program>` / `bin/bookkeeper <program>`) -> the classes
# whose fields or constants are the keys of its configuration file.
PROGRAM_CLASSES = {
    "broker": ["org.apache.pulsar.broker.ServiceConfiguration"],
    "proxy": ["org.apache.pulsar.proxy.server.ProxyConfiguration"],
    "websocket": ["org.apache.pulsar.websocket.service.WebSocketProxyConfiguration"],
    "functions-worker": ["org.apache.pulsar.functions.worker.WorkerConfig"],
    # bookies and autorecovery: ServerConfiguration (with AbstractConfiguration's and so the
    # client's keys) and ClientConfiguration; DbLedgerStorage and the Prometheus provider read
    # their own keys (dbStorage_*, prometheusStats*) from the same file
    # (the placement policies read reppDnsResolverClass and their other keys themselves)
    "bookie": ["org.apache.bookkeeper.conf.ServerConfiguration",
               "org.apache.bookkeeper.conf.ClientConfiguration",
               "org.apache.bookkeeper.bookie.storage.ldb.DbLedgerStorage",
               "org.apache.bookkeeper.stats.prometheus.PrometheusMetricsProvider",
               "org.apache.bookkeeper.client.RackawareEnsemblePlacementPolicyImpl",
               "org.apache.bookkeeper.client.RegionAwareEnsemblePlacementPolicy",
               "org.apache.bookkeeper.client.TopologyAwareEnsemblePlacementPolicy"],
    "autorecovery": ["org.apache.bookkeeper.conf.ServerConfiguration",
                     "org.apache.bookkeeper.conf.ClientConfiguration",
                     "org.apache.bookkeeper.client.RackawareEnsemblePlacementPolicyImpl",
                     "org.apache.bookkeeper.client.RegionAwareEnsemblePlacementPolicy",
                     "org.apache.bookkeeper.client.TopologyAwareEnsemblePlacementPolicy"],
}
PROGRAM_CLASSES["shell"] = PROGRAM_CLASSES["bookie"]
BOOKKEEPER_CLIENT = ["org.apache.bookkeeper.conf.ClientConfiguration"]
# `brokerClient_<key>` in broker.conf: the broker's own Pulsar client takes <key>
PULSAR_CLIENT = ["org.apache.pulsar.client.impl.conf.ClientConfigurationData"]
# ZooKeeper's ssl.* keys become the system properties these objects name
ZOOKEEPER_SSL = ["new:org.apache.zookeeper.common.ClientX509Util",
                 "new:org.apache.zookeeper.common.QuorumX509Util"]
# Classes that parse their file by hand: the keys are string literals of these classes.
LITERAL_CLASSES = {
    # ZooKeeper: QuorumPeerConfig.parseProperties; any other key becomes the system property
    # `zookeeper.<key>`, whose names are literals of ZooKeeper's classes (ZKConfig, X509Util...)
    "zookeeper": ["org.apache.zookeeper.server.quorum.QuorumPeerConfig",
                  "org.apache.zookeeper.common.ZKConfig",
                  "org.apache.zookeeper.common.X509Util",
                  "org.apache.zookeeper.common.ClientX509Util",
                  "org.apache.zookeeper.common.QuorumX509Util",
                  "org.apache.zookeeper.server.ServerCnxnFactory",
                  "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"],
    # the command-line tools read client.conf themselves
    "tools": ["org.apache.pulsar.admin.cli.PulsarAdminTool",
              "org.apache.pulsar.admin.cli.PulsarAdminTool$RootParams",
              "org.apache.pulsar.admin.cli.PulsarAdminPropertiesProvider",
              "org.apache.pulsar.client.cli.PulsarClientTool",
              "org.apache.pulsar.client.cli.PulsarClientTool$RootParams",
              "org.apache.pulsar.client.cli.PulsarClientPropertiesProvider"],
    # the token authentication provider reads its keys from the component's properties
    "token": ["org.apache.pulsar.broker.authentication.AuthenticationProviderToken"],
    # the broker hands `brokerClient_<key>` properties to its own Pulsar client
    "broker-client": ["org.apache.pulsar.broker.PulsarService"],
    # the broker's FileSystem package storage reads STORAGE_PATH from the broker's properties
    "package-storage": [
        "org.apache.pulsar.packages.management.storage.filesystem.FileSystemPackagesStorage"],
    # the broker passes every `bookkeeper_<key>` property to its BookKeeper client
    "broker-bookkeeper": ["org.apache.pulsar.broker.BookKeeperClientFactoryImpl"],
    # the functions worker hands every `properties.bookkeeper_<key>` of its YAML to the
    # BookKeeper client of its package store as `<key>` (WorkerUtils.getDlogConf)
    "worker-bookkeeper": ["org.apache.pulsar.functions.worker.WorkerUtils"],
}

# Keys Pulsar reads that are not fields of the component's configuration class, each with the
# reason and the LITERAL_CLASSES group whose literals prove it is read.
NOT_FIELDS = {
    ("broker", "STORAGE_PATH"): (
        "package-storage", "FileSystemPackagesStorage reads it from the broker's properties "
        "(PulsarConfiguration.getProperties), the Helm chart's way to set its folder"),
}
# Token authentication keys (tokenPublicKey, tokenSecretKey, ...): not fields anywhere; the
# token provider reads them from the properties of a properties-file component (a functions
# worker would need them under `properties:` in its YAML).
TOKEN_PROGRAMS = ("broker", "proxy", "websocket")
# Kafka-on-Pulsar keys: read by the KoP protocol handler and proxy extension, which are not
# part of Pulsar (nor of its image); they cannot be checked against Pulsar's classes.
KOP_PREFIXES = ("kafka", "kop")
# `bookkeeper_<key>` in broker.conf: the broker strips the prefix and hands the key to its
# BookKeeper client (BookKeeperClientFactoryImpl), so <key> must be a ClientConfiguration key.
BROKER_BOOKKEEPER_PREFIX = "bookkeeper_"
# `entry_location_rocksdb_*` goes to conf/entry_location_rocksdb.conf (update-ini-from-env.py),
# RocksDB's options file, not to a Java class.
ROCKSDB_PREFIX = "PULSAR_PREFIX_entry_location_rocksdb_"

_PROGRAM = re.compile(r"bin/(pulsar|bookkeeper) ([a-z-]+)")
# Who reads each properties file `apply-config-from-env.py` writes: a key is read when one of
# the files the container's command writes it to is read by a class that knows it.
FILE_PROGRAMS = {"conf/broker.conf": "broker", "conf/proxy.conf": "proxy",
                 "conf/websocket.conf": "websocket", "conf/zookeeper.conf": "zookeeper",
                 "conf/bookkeeper.conf": "shell", "conf/client.conf": "tools"}
_ENV_VARIABLE = re.compile(r"\A[A-Z][A-Z0-9_]*\Z")   # PULSAR_MEM, BOOKIE_GC, ... (scripts' own)


@dataclass(frozen=True)
class WrittenKey:
    program: str       # broker, bookie, zookeeper, tools, ...
    key: str
    where: str         # object/container/ConfigMap key, for the message
    files: tuple = ()  # what reads each properties file the command writes (client.conf: tools)


def program_of(container: dict) -> str:
    text = " ".join([*(container.get("command") or []), *(container.get("args") or [])])
    programs = [m.group(2) for m in _PROGRAM.finditer(text)]
    for program in reversed(programs):   # the program the container ends by exec'ing
        if program in PROGRAM_CLASSES or program == "zookeeper":
            return program
    return "tools"


def written_keys(manifests: list[dict]) -> list[WrittenKey]:
    config_maps = {m["metadata"]["name"]: m.get("data") or {}
                   for m in manifests if m.get("kind") == "ConfigMap"}
    found = []
    for obj in manifests:
        if obj.get("kind") not in ("StatefulSet", "Deployment", "Job", "DaemonSet"):
            continue
        spec = obj["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            text = " ".join(container.get("args") or container.get("command") or [])
            if "bin/" not in text:
                continue   # not the Pulsar image (Oxia's own server, a shell helper)
            program = program_of(container)
            where = f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"
            properties = "apply-config-from-env.py" in text
            worker_yaml = "gen-yml-from-env.py" in text
            files = tuple(FILE_PROGRAMS[name] for name in
                                re.findall(r"apply-config-from-env\.py (conf/\S+)", text)
                                if name in FILE_PROGRAMS)
            for source in container.get("envFrom", []):
                name = (source.get("configMapRef") or {}).get("name")
                for env in config_maps.get(name, {}):
                    found += _env_key(program, env, f"{where} <- ConfigMap {name}",
                                      properties, worker_yaml, files)
            for item in container.get("env", []):
                found += _env_key(program, item["name"], f"{where} env", properties,
                                  worker_yaml, files)
            for mount in container.get("volumeMounts", []):
                volume = volumes.get(mount["name"], {})
                if "configMap" in volume and mount["mountPath"].endswith(".yml"):
                    data = config_maps[volume["configMap"]["name"]]
                    text = data[mount.get("subPath", Path(mount["mountPath"]).name)]
                    worker = yaml.safe_load(text) or {}
                    for key in worker:
                        found.append(WrittenKey("functions-worker", key,
                                                f"{where} {mount['mountPath']}"))
                    # WorkerConfig.properties: read by their own consumers, checked one by one
                    for key in (worker.get("properties") or {}):
                        found.append(WrittenKey("functions-worker", f"properties.{key}",
                                                f"{where} {mount['mountPath']} properties"))
    return found


def _env_key(program: str, env: str, where: str, properties: bool, worker_yaml: bool,
             files: tuple):
    if env.startswith(ROCKSDB_PREFIX):
        return []
    if env.startswith("PULSAR_PREFIX_") and properties:
        return [WrittenKey(program, env[len("PULSAR_PREFIX_"):], where, files)]
    if env.startswith("PF_") and worker_yaml:
        # gen-yml-from-env.py: the name up to the first `_` is the top-level key
        return [WrittenKey("functions-worker", env[3:].split("_")[0], where)]
    if properties and not _ENV_VARIABLE.match(env) and program != "functions-worker":
        # an exact conf key name in the environment replaces the image's line of that key
        return [WrittenKey(program, env, where + " (exact name)", files)]
    return []


class KnownKeys:
    """The keys of every class above, read once from the jars."""

    def __init__(self, jars: Path, work: Path):
        classpath = (jars / "classpath.txt").read_text().strip()
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(["javac", "-d", str(work), str(HERE / "java" / "ConfigKeys.java")],
                       check=True, capture_output=True)
        classes = sorted({c for group in PROGRAM_CLASSES.values() for c in group}
                         | set(PULSAR_CLIENT) | set(ZOOKEEPER_SSL))
        out = subprocess.run(["java", "-cp", f"{work}:{classpath}", "ConfigKeys", *classes],
                             check=True, capture_output=True, text=True).stdout
        self.by_class: dict[str, set] = {c: set() for c in classes}
        for line in out.splitlines():
            name, _, key = line.partition(" ")[0], None, line.split(" ", 2)[-1]
            if name in self.by_class and line.count(" ") >= 2:
                self.by_class[name].add(key)   # (other lines: a class's own logging)
        names = sorted({n for group in LITERAL_CLASSES.values() for n in group})
        found = _literals(classpath, names)
        self.literals: dict[str, set] = {
            group: set().union(*(found[n] for n in members))
            for group, members in LITERAL_CLASSES.items()}

    def of_program(self, program: str) -> set:
        keys = set()
        for name in PROGRAM_CLASSES.get(program, []):
            keys |= self.by_class[name]
        return keys

    def missing(self, written: WrittenKey) -> str | None:
        """None when the key is read by the component (or by what reads another file the
        container writes it to), else why not."""
        reasons = [self._missing(program, written.key)
                   for program in dict.fromkeys((written.program, *written.files))]
        return None if None in reasons else reasons[0]

    def _missing(self, program: str, key: str) -> str | None:
        if program == "zookeeper":
            zk = self.literals["zookeeper"] | set().union(
                *(self.by_class[c] for c in ZOOKEEPER_SSL))
            if (key in zk or f"zookeeper.{key}" in zk or re.fullmatch(r"(server|group|weight)\.\d+", key)
                    or key.startswith("metricsProvider.") and key.split(".", 1)[1] in zk
                    or key == "metricsProvider.className"):
                return None
            return "not read by QuorumPeerConfig, nor a zookeeper.* system property"
        if program == "tools":
            return None if key in self.literals["tools"] else \
                "not read by PulsarAdminTool / PulsarClientTool from client.conf"
        if (program, key) in NOT_FIELDS:
            group, _ = NOT_FIELDS[(program, key)]
            return None if key in self.literals[group] else \
                f"listed as read by {LITERAL_CLASSES[group]}, which do not name it"
        if key.startswith(KOP_PREFIXES) and program in ("broker", "proxy"):
            return None
        if program in TOKEN_PROGRAMS and key in self.literals["token"]:
            return None
        if program == "broker" and key.startswith("brokerClient_"):
            if "brokerClient_" not in self.literals["broker-client"]:
                return "the broker no longer passes brokerClient_* to its own client"
            inner = key[len("brokerClient_"):]
            return None if inner in self.by_class[PULSAR_CLIENT[0]] else \
                f"{inner} is not a ClientConfigurationData field"
        if program == "functions-worker" and key.startswith("properties."):
            inner = key[len("properties."):]
            if inner in self.literals["token"]:
                return None   # tokenPublicKey and family: the token provider's
            if not inner.startswith(BROKER_BOOKKEEPER_PREFIX):
                return "no reader known for this WorkerConfig property"
            if BROKER_BOOKKEEPER_PREFIX not in self.literals["worker-bookkeeper"]:
                return "the worker no longer passes properties.bookkeeper_* to BookKeeper"
            client = set().union(*(self.by_class[c] for c in BOOKKEEPER_CLIENT))
            inner = inner[len(BROKER_BOOKKEEPER_PREFIX):]
            return None if inner in client else f"{inner} is not a ClientConfiguration key"
        if program == "broker" and key.startswith(BROKER_BOOKKEEPER_PREFIX):
            inner = key[len(BROKER_BOOKKEEPER_PREFIX):]
            if BROKER_BOOKKEEPER_PREFIX not in self.literals["broker-bookkeeper"]:
                return "the broker no longer passes bookkeeper_* to its BookKeeper client"
            client = set().union(*(self.by_class[c] for c in BOOKKEEPER_CLIENT))
            return None if inner in client else f"{inner} is not a ClientConfiguration key"
        known = self.of_program(program)
        if not known:
            return f"no configuration class known for `{program}`"
        return None if key in known else \
            f"not a key of {', '.join(c.rsplit('.', 1)[1] for c in PROGRAM_CLASSES[program])}"


def _literals(classpath: str, names: list[str]) -> dict[str, set]:
    """For each class, the String constants of its constant pool and the `descriptionKey`s of
    its picocli options (the command-line tools map client.conf keys to options by them); one
    `javap -v` for all."""
    out = subprocess.run(["javap", "-v", "-cp", classpath, *names], capture_output=True,
                         text=True)
    if out.returncode:
        raise RuntimeError(f"javap: {out.stderr.strip()}")
    found = {}
    sections = re.split(r"^Classfile ", out.stdout, flags=re.M)[1:]
    for name, section in zip(names, sections):
        path = name.replace(".", "/") + ".class"
        if path not in section.splitlines()[0]:
            raise RuntimeError(f"javap output out of order at {name}")
        found[name] = (set(re.findall(r"= String\s+#\d+\s+// (.*)$", section, re.M))
                       | set(re.findall(r'descriptionKey="([^"]*)"', section)))
    return found
