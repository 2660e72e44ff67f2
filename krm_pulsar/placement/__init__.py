"""Placement: resource sets, racks, pod (anti-)affinity and rollout order (KAAP's resource sets
and racks, docs/kaap-parity.md#resource-sets and #racks).

One module per concern: ``sets`` (the sets of a component, their merge and the umbrella
Service), ``affinity`` (pod affinity from anti-affinity rules and racks), ``racks`` (static
bookie rack awareness), ``waves`` (Argo CD sync waves), ``checks`` (set and rack validation),
``spread`` (topology spread constraints), ``pinning`` (racks pinned to a zone or node).
This package re-exports what the renderers use.
"""

from __future__ import annotations

from .affinity import (
    PREFERRED_WEIGHT,
    affinity,
    host_spread_replaces_anti_affinity,
    own_host_spread,
)
from .checks import MAX_SERVICE_NAME, MAX_STATEFULSET_NAME, validate
from .racks import (
    RACK_RESOLVER_CLASS,
    REGION_AWARE_POLICY,
    autorecovery_rack_config,
    bookie_rack_config,
    broker_rack_config,
    region_aware,
)
from .sets import (
    DEFAULT_SET,
    ResourceSet,
    build_resource_sets,
    render_sets,
    resource_sets,
    umbrella_labels,
    umbrella_needed,
)
from .spread import constraints as topology_spread
from .waves import STAGE_WAVE_SPAN, SYNC_WAVE, annotate_sync_waves, sync_waves

__all__ = [
    "DEFAULT_SET", "MAX_SERVICE_NAME", "MAX_STATEFULSET_NAME", "PREFERRED_WEIGHT",
    "RACK_RESOLVER_CLASS", "REGION_AWARE_POLICY", "STAGE_WAVE_SPAN", "SYNC_WAVE", "ResourceSet",
    "affinity", "annotate_sync_waves", "autorecovery_rack_config", "bookie_rack_config",
    "broker_rack_config", "build_resource_sets", "host_spread_replaces_anti_affinity",
    "own_host_spread", "region_aware", "render_sets",
    "resource_sets", "sync_waves", "topology_spread", "umbrella_labels", "umbrella_needed",
    "validate",
]
