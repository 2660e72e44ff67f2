#!/usr/bin/env python3
"""The image's bin/gen-yml-from-env.py, rewritten for the `pulsar` test harness.

Rules, as the Pulsar image applies them to each YAML file named on the command line:
- every variable `PF_<a>_<b>_..._<key>` sets `conf[a][b]...[key]` (maps created as needed;
  the name is split at every `_`), in sorted order;
- the last part is an int for workerPort, numFunctionPackageReplicas, failureCheckFreqMs,
  rescheduleTimeoutMs, initialBrokerReconnectMaxRetries, assignmentWriteMaxRetries,
  instanceLivenessCheckFreqMs; a comma-split list for the set-valued keys below; else a string;
- `containerFactory` is dropped from the file; `PF_containerFactory` = k8s / process / thread
  also drops the two other container-factory sections;
- the file is written back with block style.
"""
import os
import sys

import yaml

INT_KEYS = {"workerPort", "numFunctionPackageReplicas", "failureCheckFreqMs",
            "rescheduleTimeoutMs", "initialBrokerReconnectMaxRetries",
            "assignmentWriteMaxRetries", "instanceLivenessCheckFreqMs"}
SET_KEYS = {"brokerInterceptors", "messagingProtocols", "tlsProtocols", "tlsCiphers",
            "authenticationProviders", "superUserRoles", "proxyRoles",
            "schemaRegistryCompatibilityCheckers", "brokerClientTlsCiphers",
            "brokerClientTlsProtocols"}
PREFIX = "PF_"
FACTORIES = {"k8s": "kubernetesContainerFactory", "process": "processContainerFactory",
             "thread": "threadContainerFactory"}


def apply(conf: dict, environ: dict) -> dict:
    for name in sorted(environ):
        if not name.startswith(PREFIX):
            continue
        value = environ[name]
        *path, last = name[len(PREFIX):].split("_")
        target = conf
        for part in path:
            target = target.setdefault(part, {})
        if last in INT_KEYS:
            target[last] = int(value)
        elif last in SET_KEYS:
            target[last] = value.split(",")
        else:
            target[last] = value
    chosen = environ.get("PF_containerFactory")
    conf.pop("containerFactory", None)
    if chosen in FACTORIES:
        for kind, section in FACTORIES.items():
            if kind != chosen:
                conf.pop(section, None)
    return conf


def main() -> int:
    if len(sys.argv) < 2:
        print(f"Usage: {sys.argv[0]}")
        return 1
    for path in sys.argv[1:]:
        with open(path) as stream:
            conf = yaml.safe_load(stream) or {}
        with open(path, "w") as stream:
            yaml.dump(apply(conf, dict(os.environ)), stream, default_flow_style=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
