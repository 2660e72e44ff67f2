"""The user's own containers (``sidecars``, ``initContainers``) against the Pod Security level
that ``spec.global.podSecurity`` promises (phase ``spec``; docs/security.md#user-containers).

Our containers get the restricted settings (workload.secure_container); the user's are rendered
exactly as written. A sidecar without a securityContext makes the whole pod non-compliant: in a
namespace that enforces ``restricted`` the API server accepts the StatefulSet or Deployment
but refuses every pod it creates, so the cluster never starts. That is an error here (we never
print a manifest the API server would refuse and exit 0), at the container's field path,
naming the missing settings.

* ``restricted``: each user container must meet the restricted standard, inheriting
  ``runAsNonRoot`` and ``seccompProfile`` from the pod (our pod securityContext sets both);
* ``baseline``: our pods as in ``restricted``; the user's containers must meet only the
  baseline standard (no privileged mode, host ports, added capabilities beyond the default
  set, /proc mount, SELinux user or role, Windows host process, unconfined seccomp);
* ``kaap``: KAAP's templates, which KAAP renders without a check: none here either.

Written from the Pod Security Standards (Kubernetes' documentation, policy version latest).
"""

from __future__ import annotations

from ..schema import SpecError

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from typing import Any

RESTRICTED, BASELINE = "restricted", "baseline"
# capabilities the baseline level lets a container add (the container runtimes' defaults)
BASELINE_CAPABILITIES = frozenset((
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"))
RESTRICTED_CAPABILITIES = frozenset(("NET_BIND_SERVICE",))
SECCOMP_ALLOWED = ("RuntimeDefault", "Localhost")
SELINUX_TYPES = ("", "container_t", "container_init_t", "container_kvm_t",
                 "container_engine_t")
CONTAINER_LISTS = {"sidecars": "sidecar", "initContainers": "init container"}


def user_containers(spec: dict, raw: dict) -> list[SpecError]:
    """An error per user container the effective ``global.podSecurity`` level would refuse."""
    level = spec["global"]["podSecurity"]
    if level not in (RESTRICTED, BASELINE):
        return []
    from .. import registry

    findings: list[SpecError] = []
    for entry in registry.COMPONENTS:
        section = raw.get(entry.section) if isinstance(raw, dict) else None
        if not isinstance(section, dict):
            continue
        places: list[tuple[str, dict, dict | None]] = [(f"spec.{entry.section}", section, None)]
        sets = section.get("sets")
        if isinstance(sets, dict):
            places += [(f"spec.{entry.section}.sets.{name}", own, section)
                       for name, own in sets.items() if isinstance(own, dict)]
        for path, written, parent in places:
            pod = _pod_context(spec, entry.section, written, parent)
            for key, what in CONTAINER_LISTS.items():
                containers = written.get(key)
                if not isinstance(containers, list):
                    continue
                for index, container in enumerate(containers):
                    if isinstance(container, dict):
                        findings.extend(_container(level, f"{path}.{key}[{index}]", what,
                                                   container, pod))
    return findings


def pod_contexts(spec: dict, raw: dict) -> list[SpecError]:
    """An error per component or set ``securityContext`` (the pod's, merged over our
    restricted defaults) that the effective level refuses: under ``restricted`` a pod running
    as uid 0, ``runAsNonRoot: false`` or an unconfined seccomp profile; under ``baseline`` an
    unconfined seccomp profile. The workload is accepted and every pod refused, as with a user
    container (docs/security.md#pod-security-context)."""
    level = spec["global"]["podSecurity"]
    if level not in (RESTRICTED, BASELINE):
        return []
    from .. import registry

    findings: list[SpecError] = []
    for entry in registry.COMPONENTS:
        section = raw.get(entry.section) if isinstance(raw, dict) else None
        if not isinstance(section, dict):
            continue
        places = [(f"spec.{entry.section}", section)]
        sets = section.get("sets")
        if isinstance(sets, dict):
            places += [(f"spec.{entry.section}.sets.{name}", own)
                       for name, own in sets.items() if isinstance(own, dict)]
        for path, written in places:
            context = written.get("securityContext")
            if not isinstance(context, dict):
                continue
            seccomp = context.get("seccompProfile")
            unconfined = isinstance(seccomp, dict) and seccomp.get("type") == "Unconfined"
            refused = []
            if level == RESTRICTED and context.get("runAsUser") == 0:
                refused.append(("runAsUser", "uid 0"))
            elif context.get("runAsUser") == 0:
                # baseline admits root, but our containers keep runAsNonRoot: true of their
                # own, and the kubelet refuses to start a non-root container as uid 0
                findings.append(SpecError(
                    f"{path}.securityContext.runAsUser",
                    "uid 0: our containers run with runAsNonRoot: true (in every mode but "
                    "kaap), so the kubelet would refuse to start them; use another uid, or "
                    "spec.global.podSecurity: kaap"))
            if level == RESTRICTED and context.get("runAsNonRoot") is False:
                refused.append(("runAsNonRoot", "runAsNonRoot: false"))
            if unconfined:
                refused.append(("seccompProfile.type", "an Unconfined seccomp profile"))
            findings.extend(SpecError(
                f"{path}.securityContext.{field}",
                f"{what} does not meet the {level} Pod Security Standard of "
                f"spec.global.podSecurity: {level}, and a namespace enforcing {level} refuses "
                f"every pod of it; remove it"
                + ("" if level == BASELINE or field == "seccompProfile.type" else
                   ", or set spec.global.podSecurity: baseline if the namespace enforces only "
                   "baseline")) for field, what in refused)
    return findings


def _pod_context(spec: dict, section: str, written: dict, parent: dict | None) -> dict:
    """The pod securityContext the container inherits from: our restricted defaults, the
    component's own, the set's own (workload.pod_security_context)."""
    from .. import model

    pod = dict(model.RESTRICTED_POD_SECURITY_CONTEXT)
    own = (spec.get(section) or {}).get("securityContext")
    for context in (own, written.get("securityContext") if parent is not None else None):
        if isinstance(context, dict):
            pod.update(context)
    return pod


def _container(level: str, path: str, what: str, container: dict,
               pod: dict) -> list[SpecError]:
    context: Any = container.get("securityContext")
    if not isinstance(context, dict):
        context = {}
    name = container.get("name")
    needed: list[str] = []  # settings to add or change, as the user writes them
    if context.get("privileged") is True:
        needed.append("privileged: false")
    capabilities = context.get("capabilities") if isinstance(
        context.get("capabilities"), dict) else {}
    allowed = RESTRICTED_CAPABILITIES if level == RESTRICTED else BASELINE_CAPABILITIES
    added = [c for c in capabilities.get("add") or [] if str(c) not in allowed]
    if added:
        needed.append(f"capabilities.add without {', '.join(map(str, added))}")
    if context.get("procMount") not in (None, "Default"):
        needed.append("procMount: Default (or none)")
    selinux = context.get("seLinuxOptions") if isinstance(
        context.get("seLinuxOptions"), dict) else {}
    if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") \
            or selinux.get("role"):
        needed.append("seLinuxOptions without user, role or a type other than container_t")
    windows = context.get("windowsOptions") if isinstance(
        context.get("windowsOptions"), dict) else {}
    if windows.get("hostProcess") is True:
        needed.append("windowsOptions.hostProcess: false")
    seccomp = context.get("seccompProfile") if isinstance(
        context.get("seccompProfile"), dict) else None
    seccomp_type = (seccomp or pod.get("seccompProfile") or {}).get("type")
    if level == BASELINE and seccomp_type == "Unconfined":
        needed.append("seccompProfile.type: RuntimeDefault")
    if level == RESTRICTED:
        if context.get("allowPrivilegeEscalation") is not False:
            needed.append("allowPrivilegeEscalation: false")
        if "ALL" not in [str(c) for c in capabilities.get("drop") or []]:
            needed.append("capabilities.drop: [ALL]")
        if context.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
            needed.append("runAsNonRoot: true")
        if context.get("runAsUser", pod.get("runAsUser")) == 0:
            needed.append("runAsUser other than 0")
        if seccomp_type not in SECCOMP_ALLOWED:
            needed.append("seccompProfile.type: RuntimeDefault")
    findings = []
    if needed:
        findings.append(SpecError(
            f"{path}.securityContext",
            f"{what} {name!r} does not meet the {level} Pod Security Standard of "
            f"spec.global.podSecurity: {level} (user containers are rendered as written, and a "
            f"namespace enforcing {level} refuses every pod with this container): set "
            f"securityContext {'; '.join(needed)}"
            + ("; or set spec.global.podSecurity: baseline if the namespace enforces only "
               "baseline" if level == RESTRICTED else "")))
    for index, port in enumerate(container.get("ports") or []):
        if isinstance(port, dict) and port.get("hostPort"):
            findings.append(SpecError(
                f"{path}.ports[{index}].hostPort",
                f"{what} {name!r} asks for host port {port['hostPort']}, which the {level} "
                f"Pod Security Standard refuses; remove hostPort (a Service reaches the "
                f"container port)"))
    return findings
