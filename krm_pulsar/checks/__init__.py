"""The check registry: every check of a PulsarCluster, by phase, in the order it runs.

A render runs the phases in order and stops after a phase that found an error
(render.render), so every problem of one phase is reported in one run:

* ``read``: the spec as written and the PulsarCluster's apiVersion (``f(raw, api_version)``),
  right after the model's own type checks and before any default is derived from it: the
  Kubernetes structures the user wrote (krm_pulsar/kubernetes, docs/kubernetes-schema.md);
* ``spec``: the resolved spec and the spec as written (``f(spec, raw)``), before any name or
  address exists;
* ``cluster``: the resolved cluster, with names, namespace, resource sets and TLS plans
  (``f(cluster)``); components bring their own checks here (registry.Component.checks);
* ``objects``: the rendered objects before ``spec.patches`` (``f(cluster, objects)``);
* ``output``: the objects as printed, after the patches and the Jobs' content-hash names;
* ``report``: ``info`` results about what the output needs in the cluster, for a render
  without errors;
* ``changes`` (ours, docs/day2.md): the objects as printed against the previous render of the
  same cluster found among the input items (``f(cluster, objects, previous)``), for a render
  without errors and only when there is a previous render (kpt keeps it in the package):
  changes Kubernetes refuses in place.

Checks live with their concern (placement, storage, security, certs, jvm, the components,
prerequisites); those of no single concern live in checks/spec.py and checks/objects.py.
User-supplied Kubernetes structures are checked against the Kubernetes API
(krm_pulsar/kubernetes, docs/kubernetes-schema.md): as written in ``read``, and the objects
``spec.patches`` changed in ``output``.
"""

from __future__ import annotations

import importlib

from .. import registry

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..schema import SpecError

READ, SPEC, CLUSTER, OBJECTS, OUTPUT, REPORT = (
    "read", "spec", "cluster", "objects", "output", "report")
CHANGES = "changes"  # ours: against the previous render (checks/immutable.py)
PHASES = (READ, SPEC, CLUSTER, OBJECTS, OUTPUT, REPORT, CHANGES)


class Check:
    """One check: its phase and the function that runs it (``module:function`` inside the
    package, imported when the phase runs)."""

    __slots__ = ("function", "module", "phase")

    def __init__(self, phase: str, module: str, function: str) -> None:
        self.phase = phase
        self.module = module
        self.function = function

    def resolve(self) -> Callable[..., list[SpecError]]:
        module = importlib.import_module(f"krm_pulsar.{self.module}")
        return getattr(module, self.function)

    def __repr__(self) -> str:
        return f"Check({self.phase!r}, {self.module}.{self.function})"


# The checks of no single component, in the order they run within each phase.
CHECKS: tuple[Check, ...] = (
    Check(READ, "kubernetes.checks", "user_structures"),
    Check(SPEC, "placement", "validate"),
    Check(SPEC, "checks.spec", "unsupported"),
    Check(SPEC, "storage", "check"),
    Check(SPEC, "checks.spec", "forbidden_env"),
    Check(SPEC, "checks.spec", "pod_label_conflicts"),
    Check(SPEC, "security", "check"),
    Check(SPEC, "checks.spec", "oxia_conflicts"),
    Check(SPEC, "checks.spec", "autoscalers"),
    Check(SPEC, "checks.spec", "secrets_in_spec"),
    Check(SPEC, "checks.spec", "service_types"),
    Check(SPEC, "network_policies.checks", "check"),
    # ours (issue 15): PodMonitors, racks pinned to a zone or node
    Check(SPEC, "monitoring", "check"),
    Check(SPEC, "placement.pinning", "check"),
    # ours: user sidecars and init containers against global.podSecurity (docs/security.md)
    Check(SPEC, "checks.pod_security", "user_containers"),
    # the components' own checks come first in this phase (component_checks)
    Check(CLUSTER, "jvm", "check"),
    Check(CLUSTER, "certs", "check"),
    Check(CLUSTER, "security", "check_roles"),
    Check(CLUSTER, "storage", "check_cluster"),
    # ours (issue 15): spread constraints and autoscalers (of merged sets), ACME certificates
    Check(CLUSTER, "placement.spread", "check"),
    Check(CLUSTER, "autoscaling", "check"),
    Check(CLUSTER, "acme", "check"),
    Check(OBJECTS, "checks.objects", "duplicates"),
    Check(OUTPUT, "checks.objects", "name_lengths"),
    Check(OUTPUT, "kubernetes.checks", "patched_objects"),
    Check(REPORT, "prerequisites", "check"),
    # ours (docs/day2.md): changes Kubernetes refuses in place, against the previous render
    Check(CHANGES, "checks.immutable", "check"),
)


def component_checks() -> list[Check]:
    """The checks the components bring (registry.Component.checks), in registry order."""
    return [Check(phase, f"components.{entry.module}", function)
            for entry in registry.COMPONENTS for phase, function in entry.checks]


def in_phase(phase: str) -> list[Check]:
    own = [check for check in component_checks() if check.phase == phase]
    return own + [check for check in CHECKS if check.phase == phase]


def run(phase: str, *args: object) -> list[SpecError]:
    """Every finding of one phase, check by check."""
    findings: list[SpecError] = []
    for check in in_phase(phase):
        findings.extend(check.resolve()(*args))
    return findings
