"""A checker for the Kubernetes "restricted" Pod Security Standard (policy version 1.30+),
written from https://kubernetes.io/docs/concepts/security/pod-security-standards/ so the tests
need no cluster. Returns one line per violation."""

from __future__ import annotations

ALLOWED_VOLUME_KEYS = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                       "persistentVolumeClaim", "projected", "secret"}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}


def pod_specs(objects: list):
    """``(label, pod spec)`` of every workload (Deployment, StatefulSet, Job, Pod, ...)."""
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        spec = obj.get("spec") or {}
        if obj["kind"] == "Pod":
            yield where, spec
        elif obj["kind"] == "CronJob":
            yield where, spec["jobTemplate"]["spec"]["template"]["spec"]
        elif "template" in spec:
            yield where, spec["template"]["spec"]


def violations(where: str, pod: dict) -> list[str]:
    problems = []
    pod_sc = pod.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            problems.append(f"{where}: {flag}")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUME_KEYS:
            problems.append(f"{where}: volume {volume['name']} of type {sorted(kinds)}")
    if pod_sc.get("runAsUser") == 0:
        problems.append(f"{where}: pod runAsUser 0")
    if pod_sc.get("runAsNonRoot") is False:
        # an explicit false on the pod is refused whatever its containers set
        problems.append(f"{where}: pod runAsNonRoot false")
    containers = [*(pod.get("initContainers") or []), *pod["containers"],
                  *(pod.get("ephemeralContainers") or [])]
    for container in containers:
        name = f"{where} container {container['name']}"
        sc = container.get("securityContext") or {}
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{name}: capabilities do not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities {caps['add']}")
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if non_root is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser") == 0:
            problems.append(f"{name}: runAsUser 0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ALLOWED_SECCOMP:
            problems.append(f"{name}: seccompProfile {seccomp}")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                problems.append(f"{name}: hostPort {port['hostPort']}")
    return problems


def restricted_violations(objects: list) -> list[str]:
    problems = []
    for where, pod in pod_specs(objects):
        problems.extend(violations(where, pod))
    return problems
