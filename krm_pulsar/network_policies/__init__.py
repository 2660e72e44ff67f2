"""Least-privilege NetworkPolicies of one cluster (``spec.global.networkPolicies``; neither
KAAP nor the Helm chart has any). docs/security.md#networkpolicies shows what each pod may
reach and why; this package derives it from what the rendered configuration connects:

* ``pods``: the pod groups the policies select, read off the rendered workloads (each
  resource set's pod template, each kind of Job) plus the function instance pods the
  kubernetes runtime starts;
* ``links``: who dials whom on which ports: each registry entry's ``connects_to`` (and a table
  for the Jobs), the TLS decisions that pick the port, the endpoint table for its number;
* ``policies``: ``<name>-default-deny`` isolating every pod of the cluster, then one policy per
  pod group, named like its workload: ingress from the pods that dial it, from anywhere on
  the client-facing Service ports, from ``metricsFrom`` on its metrics port; with egress
  lockdown also its egress to what it dials;
* ``checks``: the checks of the settings (phase ``spec``).

A component or Job added later has no rule here: rendering it with NetworkPolicies raises
until its rules are written (tests/unit/test_network_policies.py).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster


def render(cluster: Cluster, objects: list) -> list:
    """The NetworkPolicies for the cluster's rendered `objects` (none when disabled)."""
    if not cluster.glob["networkPolicies"]["enabled"]:
        return []
    from .policies import policies

    return policies(cluster, objects)
