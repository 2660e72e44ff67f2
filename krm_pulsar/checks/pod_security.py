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
  set, /proc mount, SELinux user, role or type, Windows host process, unconfined seccomp or
  AppArmor, probe or lifecycle hosts), and may not run as uid 0 under our inherited
  ``runAsNonRoot: true`` (the kubelet refuses that);
* ``kaap``: KAAP's templates, which KAAP renders without a check: none here either.

Pod-level settings (``pod_contexts``: a component's or set's ``securityContext``,
``spec.oxia.server.securityContext``, ``podAnnotations``) are checked against the baseline
rules under both levels, and against restricted's under ``restricted``.

Written from the Pod Security Standards (Kubernetes' documentation, policy version latest, as
Kubernetes 1.36 enforces it). Kubernetes reads a null field as an unset one, and so do we.
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
PROFILE_TYPES_ALLOWED = ("RuntimeDefault", "Localhost")  # AppArmor, as seccomp
APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
# the sysctls the baseline level admits (namespaced, isolated from other pods), policy latest
SAFE_SYSCTLS = frozenset((
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"))
# where a container may name a host for its probes and lifecycle hooks (refused: baseline)
HOST_HANDLERS = (("livenessProbe",), ("readinessProbe",), ("startupProbe",),
                 ("lifecycle", "postStart"), ("lifecycle", "preStop"))
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
    """An error per pod-level setting the effective level refuses, in a component's or set's
    ``securityContext`` (merged over our restricted defaults), ``spec.oxia.server.securityContext``
    and ``podAnnotations``. Both levels refuse what the baseline standard forbids (seccomp or
    AppArmor unconfined, a Windows host process, SELinux user, role or type, unsafe sysctls,
    an unconfined AppArmor annotation); ``restricted`` also a pod running as uid 0 or
    ``runAsNonRoot: false``; ``baseline`` uid 0 too, which our containers would refuse to
    start as. The workload is accepted and every pod refused, as with a user container
    (docs/security.md#pod-security-context)."""
    level = spec["global"]["podSecurity"]
    if level not in (RESTRICTED, BASELINE):
        return []
    findings: list[SpecError] = []
    for path, context, pod_annotations in _pod_places(raw):
        if isinstance(context, dict):
            findings.extend(_pod_context_findings(level, path, context))
        if isinstance(pod_annotations, dict):
            findings.extend(_annotation_findings(level, path, pod_annotations))
    return findings


def _pod_places(raw: dict) -> list[tuple[str, Any, Any]]:
    """``(path, securityContext, podAnnotations)`` as the user wrote them, of every component,
    resource set and the Oxia servers (``spec.oxia.server.securityContext``; the coordinator
    takes our context only, and no Oxia pod takes podAnnotations)."""
    from .. import registry

    places: list[tuple[str, Any, Any]] = []
    for entry in registry.COMPONENTS:
        section = raw.get(entry.section) if isinstance(raw, dict) else None
        if not isinstance(section, dict):
            continue
        path = f"spec.{entry.section}"
        if entry.section == "oxia":
            server = section.get("server")
            if isinstance(server, dict):
                places.append((f"{path}.server", server.get("securityContext"), None))
            continue
        written = [(path, section)]
        sets = section.get("sets")
        if isinstance(sets, dict):
            written += [(f"{path}.sets.{name}", own)
                        for name, own in sets.items() if isinstance(own, dict)]
        places += [(where, own.get("securityContext"), own.get("podAnnotations"))
                   for where, own in written]
    return places


def _pod_context_findings(level: str, path: str, context: dict) -> list[SpecError]:
    path = f"{path}.securityContext"
    refused: list[tuple[str, str, bool]] = []  # (field, what, refused by restricted only)
    run_as_user = context.get("runAsUser")
    if level == RESTRICTED and run_as_user == 0:
        refused.append(("runAsUser", "uid 0", True))
    if level == RESTRICTED and context.get("runAsNonRoot") is False:
        refused.append(("runAsNonRoot", "runAsNonRoot: false", True))
    refused += [(field, what, False) for field, what in baseline_refusals(context)]
    findings = [SpecError(
        f"{path}.{field}",
        f"{what} does not meet the {level} Pod Security Standard of "
        f"spec.global.podSecurity: {level}, and a namespace enforcing {level} refuses "
        f"every pod of it; remove it"
        + (", or set spec.global.podSecurity: baseline if the namespace enforces only "
           "baseline" if restricted_only else "")) for field, what, restricted_only in refused]
    if level == BASELINE and run_as_user == 0:
        # baseline admits root, but our containers keep runAsNonRoot: true of their own,
        # and the kubelet refuses to start a non-root container as uid 0
        findings.append(SpecError(
            f"{path}.runAsUser",
            "uid 0: our containers run with runAsNonRoot: true (in every mode but "
            "kaap), so the kubelet would refuse to start them; use another uid, or "
            "spec.global.podSecurity: kaap"))
    return findings


def baseline_refusals(context: dict) -> list[tuple[str, str]]:
    """``(field, what)`` of each pod securityContext setting the baseline standard forbids
    (and so restricted too): seccomp or AppArmor profiles other than RuntimeDefault and
    Localhost, a Windows host process, an SELinux user, role or type outside the allowed
    set, a sysctl outside the safe set."""
    refused = []
    seccomp = context.get("seccompProfile")
    if isinstance(seccomp, dict) and seccomp.get("type") == "Unconfined":
        refused.append(("seccompProfile.type", "an Unconfined seccomp profile"))
    apparmor = context.get("appArmorProfile")
    if isinstance(apparmor, dict) and apparmor.get("type") not in PROFILE_TYPES_ALLOWED:
        refused.append(("appArmorProfile.type",
                        f"an AppArmor profile of type {apparmor.get('type')!r} (only "
                        f"RuntimeDefault or Localhost)"))
    windows = context.get("windowsOptions")
    if isinstance(windows, dict) and windows.get("hostProcess") is True:
        refused.append(("windowsOptions.hostProcess", "a Windows host process"))
    selinux = context.get("seLinuxOptions")
    if isinstance(selinux, dict):
        refused += [(f"seLinuxOptions.{field}", what)
                    for field, what in _selinux_refusals(selinux)]
    sysctls = context.get("sysctls")
    if isinstance(sysctls, list):
        for index, sysctl in enumerate(sysctls):
            name = sysctl.get("name") if isinstance(sysctl, dict) else None
            if isinstance(name, str) and name not in SAFE_SYSCTLS:
                refused.append((f"sysctls[{index}].name",
                                f"sysctl {name!r}, not one of the safe sysctls ("
                                f"{', '.join(sorted(SAFE_SYSCTLS))}),"))
    return refused


def _selinux_refusals(selinux: dict) -> list[tuple[str, str]]:
    refused = []
    if (selinux.get("type") or "") not in SELINUX_TYPES:
        refused.append(("type", f"SELinux type {selinux.get('type')!r} (only "
                                f"{', '.join(t for t in SELINUX_TYPES if t)})"))
    refused += [(field, f"an SELinux {field}") for field in ("user", "role")
                if selinux.get(field)]
    return refused


def _annotation_findings(level: str, path: str, annotations: dict) -> list[SpecError]:
    """The AppArmor annotation form (``container.apparmor.security.beta.kubernetes.io/<c>``)
    that the baseline standard checks beside the field: ``runtime/default``,
    ``localhost/<profile>`` or empty only."""
    from ..schema import child_path

    path = f"{path}.podAnnotations"
    findings = []
    for key, value in annotations.items():
        if not str(key).startswith(APPARMOR_ANNOTATION_PREFIX) or not isinstance(value, str):
            continue
        if value and value != "runtime/default" and not value.startswith("localhost/"):
            findings.append(SpecError(
                child_path(path, str(key)),
                f"AppArmor profile {value!r} does not meet the {level} Pod Security Standard "
                f"of spec.global.podSecurity: {level}, and a namespace enforcing {level} "
                f"refuses every pod of it; use runtime/default or localhost/<profile>, or "
                f"remove the annotation"))
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
    # Kubernetes reads a null field as an unset one: the container inherits the pod's
    context = {key: value for key, value in context.items() if value is not None}
    name = container.get("name")
    needed: list[str] = []  # settings to add or change, as the user writes them
    if context.get("privileged") is True:
        needed.append("privileged: false")
    capabilities: dict = context.get("capabilities") if isinstance(
        context.get("capabilities"), dict) else {}
    allowed = RESTRICTED_CAPABILITIES if level == RESTRICTED else BASELINE_CAPABILITIES
    added = [c for c in _list(capabilities.get("add")) if str(c) not in allowed]
    if added:
        needed.append(f"capabilities.add without {', '.join(map(str, added))}")
    if context.get("procMount") not in (None, "Default"):
        needed.append("procMount: Default (or none)")
    selinux = context.get("seLinuxOptions") if isinstance(
        context.get("seLinuxOptions"), dict) else {}
    if _selinux_refusals(selinux):
        needed.append("seLinuxOptions without user, role or a type other than container_t")
    windows = context.get("windowsOptions") if isinstance(
        context.get("windowsOptions"), dict) else {}
    if windows.get("hostProcess") is True:
        needed.append("windowsOptions.hostProcess: false")
    apparmor = context.get("appArmorProfile")
    if isinstance(apparmor, dict) and apparmor.get("type") not in PROFILE_TYPES_ALLOWED:
        needed.append("appArmorProfile.type: RuntimeDefault (or Localhost, or none)")
    seccomp = context.get("seccompProfile") if isinstance(
        context.get("seccompProfile"), dict) else None
    pod_seccomp = pod.get("seccompProfile") if isinstance(pod.get("seccompProfile"), dict) else {}
    seccomp_type = (seccomp or pod_seccomp or {}).get("type")
    if level == BASELINE and seccomp_type == "Unconfined":
        needed.append("seccompProfile.type: RuntimeDefault")
    run_as_non_root = context.get("runAsNonRoot", pod.get("runAsNonRoot"))
    if level == RESTRICTED:
        if context.get("allowPrivilegeEscalation") is not False:
            needed.append("allowPrivilegeEscalation: false")
        if "ALL" not in [str(c) for c in _list(capabilities.get("drop"))]:
            needed.append("capabilities.drop: [ALL]")
        if run_as_non_root is not True:
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
    if level == BASELINE and context.get("runAsUser") == 0 and run_as_non_root is True:
        # baseline admits root, but the kubelet refuses to start a container as uid 0 that
        # runs with runAsNonRoot: true, its own or the pod's (ours sets it)
        findings.append(SpecError(
            f"{path}.securityContext.runAsUser",
            f"{what} {name!r} runs as uid 0 with runAsNonRoot: true "
            f"({'its own' if 'runAsNonRoot' in context else 'from the pod securityContext'}), "
            f"so the kubelet would refuse to start it; set its securityContext runAsNonRoot: "
            f"false (baseline admits root), or another uid"))
    for index, port in enumerate(_list(container.get("ports"))):
        if isinstance(port, dict) and port.get("hostPort"):
            findings.append(SpecError(
                f"{path}.ports[{index}].hostPort",
                f"{what} {name!r} asks for host port {port['hostPort']}, which the {level} "
                f"Pod Security Standard refuses; remove hostPort (a Service reaches the "
                f"container port)"))
    findings.extend(_host_handler_findings(level, path, what, container))
    return findings


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _host_handler_findings(level: str, path: str, what: str,
                           container: dict) -> list[SpecError]:
    """A probe or lifecycle hook that names a ``host``: the baseline standard refuses it
    (a probe the kubelet sends elsewhere than the pod)."""
    findings = []
    for keys in HOST_HANDLERS:
        handler: Any = container
        for key in keys:
            handler = handler.get(key) if isinstance(handler, dict) else None
        if not isinstance(handler, dict):
            continue
        for kind in ("httpGet", "tcpSocket"):
            action = handler.get(kind)
            if isinstance(action, dict) and action.get("host"):
                findings.append(SpecError(
                    f"{path}.{'.'.join(keys)}.{kind}.host",
                    f"{what} {container.get('name')!r} sends a probe or hook to host "
                    f"{action['host']!r}, which the {level} Pod Security Standard refuses; "
                    f"remove host (the kubelet then targets the pod's own address)"))
    return findings
