"""A checker for the Kubernetes "restricted" Pod Security Standard, which includes every rule of
"baseline" (policy version latest, as Kubernetes 1.36 enforces it), written from
https://kubernetes.io/docs/concepts/security/pod-security-standards/ so the tests need no
cluster. Returns one line per violation. Written apart from krm_pulsar/checks/pod_security.py
on purpose: the tests cross-check the two readings."""

from __future__ import annotations

ALLOWED_VOLUME_KEYS = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                       "persistentVolumeClaim", "projected", "secret"}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}
ALLOWED_APPARMOR = {"RuntimeDefault", "Localhost"}
ALLOWED_SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t",
                         "container_engine_t"}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def pod_templates(objects: list):
    """``(label, pod metadata, pod spec)`` of every workload (Deployment, StatefulSet, Job,
    Pod, ...)."""
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        spec = obj.get("spec") or {}
        if obj["kind"] == "Pod":
            yield where, obj["metadata"], spec
        elif obj["kind"] == "CronJob":
            template = spec["jobTemplate"]["spec"]["template"]
            yield where, template.get("metadata") or {}, template["spec"]
        elif "template" in spec:
            yield where, spec["template"].get("metadata") or {}, spec["template"]["spec"]


def pod_specs(objects: list):
    """``(label, pod spec)`` of every workload."""
    for where, _, pod in pod_templates(objects):
        yield where, pod


def _set(mapping: dict, key: str):
    """A field's value, None when absent or null (Kubernetes reads null as unset)."""
    return (mapping or {}).get(key)


def _selinux_problems(options: dict | None) -> list[str]:
    if not options:
        return []
    problems = []
    if (options.get("type") or "") not in ALLOWED_SELINUX_TYPES:
        problems.append(f"seLinuxOptions type {options['type']}")
    problems += [f"seLinuxOptions {key} set" for key in ("user", "role") if options.get(key)]
    return problems


def _baseline_context_problems(sc: dict) -> list[str]:
    """What baseline forbids in a pod or container securityContext alike."""
    problems = []
    if (_set(sc, "seccompProfile") or {}).get("type") == "Unconfined":
        problems.append("seccompProfile Unconfined")
    apparmor = _set(sc, "appArmorProfile")
    if apparmor is not None and apparmor.get("type") not in ALLOWED_APPARMOR:
        problems.append(f"appArmorProfile {apparmor.get('type')}")
    if (_set(sc, "windowsOptions") or {}).get("hostProcess") is True:
        problems.append("windowsOptions.hostProcess")
    problems += _selinux_problems(_set(sc, "seLinuxOptions"))
    return problems


def violations(where: str, pod: dict, metadata: dict | None = None) -> list[str]:
    problems = []
    pod_sc = pod.get("securityContext") or {}
    problems += [f"{where}: pod {p}" for p in _baseline_context_problems(pod_sc)]
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl["name"] not in SAFE_SYSCTLS:
            problems.append(f"{where}: pod sysctl {sysctl['name']}")
    for key, value in ((metadata or {}).get("annotations") or {}).items():
        if key.startswith(APPARMOR_ANNOTATION) and value and value != "runtime/default" \
                and not value.startswith("localhost/"):
            problems.append(f"{where}: annotation {key}={value}")
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
        problems += [f"{name}: {p}" for p in _baseline_context_problems(sc)]
        if _set(sc, "procMount") not in (None, "Default"):
            problems.append(f"{name}: procMount {sc['procMount']}")
        for handler in (container.get("livenessProbe"), container.get("readinessProbe"),
                        container.get("startupProbe"),
                        (container.get("lifecycle") or {}).get("postStart"),
                        (container.get("lifecycle") or {}).get("preStop")):
            for kind in ("httpGet", "tcpSocket"):
                if ((handler or {}).get(kind) or {}).get("host"):
                    problems.append(f"{name}: probe or lifecycle host {handler[kind]['host']}")
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            problems.append(f"{name}: capabilities do not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities {caps['add']}")
        non_root = _set(sc, "runAsNonRoot")
        if non_root is None:
            non_root = pod_sc.get("runAsNonRoot")
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
    for where, metadata, pod in pod_templates(objects):
        problems.extend(violations(where, pod, metadata))
    return problems
