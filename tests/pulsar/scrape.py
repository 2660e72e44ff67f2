"""Our PodMonitors scraped the way Prometheus scrapes them (docs/monitoring.md), against the
real processes of a harness cluster.

Prometheus' pod service discovery (role `pod`) makes one target per declared port of every
container of every pod, with `__address__` = `<pod IP>:<containerPort>` and the port's name in
`__meta_kubernetes_pod_container_port_name`; the operator keeps the pods its selector matches
and the targets whose port name is the endpoint's `port`; then the endpoint's `relabelings`
apply (we write only `replace` rules); the scrape is `<scheme>://<__address__><path>`. This
module does exactly that with the harness's pods and GETs each target once, without following
redirects (a redirect would hide a wrong path).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

WORKLOADS = ("StatefulSet", "Deployment")


def with_pod_monitors(fixture: Path, folder: Path) -> Path:
    """A copy of `fixture` with every PodMonitor enabled."""
    config = yaml.safe_load(fixture.read_text())
    spec = config.setdefault("spec", None) or {}
    config["spec"] = spec
    spec.setdefault("global", {}).setdefault("podMonitor", {})["enabled"] = True
    path = folder / f"{fixture.stem}-pod-monitors.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def workloads(manifests: list[dict]) -> list[dict]:
    return [m for m in manifests if m.get("kind") in WORKLOADS]


def _selects(selector: dict, labels: dict) -> bool:
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def _replace(rule: dict, labels: dict) -> None:
    assert rule.get("action", "replace") == "replace", f"not emulated: {rule}"
    value = rule.get("separator", ";").join(labels.get(s, "") for s in rule["sourceLabels"])
    match = re.fullmatch(rule.get("regex", "(.*)"), value)
    if match:
        template = re.sub(r"\$\{(\d+)\}|\$(\d+)", lambda m: f"\\{m.group(1) or m.group(2)}",
                          rule.get("replacement", "$1"))
        labels[rule["targetLabel"]] = match.expand(template)


def targets(monitor: dict, pods: list) -> list[tuple[object, str, dict]]:
    """``(pod, url, endpoint)`` of every target of the PodMonitor among the harness's pods."""
    found = []
    for endpoint in monitor["spec"]["podMetricsEndpoints"]:
        for pod in pods:
            if pod.kind == "Job" or not _selects(monitor["spec"]["selector"], pod.labels):
                continue
            for container in pod.containers:
                for port in container.spec.get("ports") or []:
                    if port.get("name") != endpoint["port"]:
                        continue
                    labels = {"__address__": f"{pod.address}:{port['containerPort']}",
                              "__meta_kubernetes_namespace": pod.namespace,
                              "__meta_kubernetes_pod_container_port_name": port["name"]}
                    for rule in endpoint.get("relabelings") or []:
                        _replace(rule, labels)
                    url = f"{endpoint.get('scheme', 'http')}://{labels['__address__']}" \
                          f"{endpoint.get('path', '/metrics')}"
                    found.append((pod, url, endpoint))
    return found


def scrape(cluster, url: str) -> tuple[int, str]:
    """One GET as Prometheus sends it (no redirects followed): ``(status, body)``."""
    result = cluster.node_exec(["curl", "-s", "--max-time", "20", "-H",
                                "Accept: text/plain;version=0.0.4", "-w", "\n%{http_code}", url],
                               timeout=30)
    body, _, code = result.stdout.rpartition("\n")
    return int(code or 0), body


def exposition_problem(body: str) -> str | None:
    """Why `body` is not Prometheus text exposition with samples, or None."""
    samples = [line for line in body.splitlines() if line and not line.startswith("#")]
    if "# TYPE " not in body or not samples:
        return f"no Prometheus samples in the answer: {body[:300]!r}"
    return None
