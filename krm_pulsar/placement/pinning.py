"""Racks pinned to a named zone or node (docs/racks.md#pinning).

KAAP's rack rules keep a rack's pods together and away from the other racks, but leave the
choice of the zone (or node) to the scheduler: a rack called ``zone-a`` may land in any zone.
``spec.global.racks.<rack>.zone.name`` (a value of the zone label) and ``.host.name`` (a node
name) pin it: the rack's pods get a required node affinity to that zone or node, in addition
to KAAP's pod affinity terms. The node affinity is a requirement the scheduler (and topology
spread constraints, which count only the domains a pod's node affinity allows) honour.
"""

from __future__ import annotations

import copy

from ..schema import SpecError, warning

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from ..cluster import Cluster

REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
# a node's name is a field, not a label: matchFields is the only exact match on it
NODE_NAME_FIELD = "metadata.name"


def pin(cluster: Cluster, rack: str | None) -> tuple[list, list]:
    """``(matchExpressions, matchFields)`` that pin the pods of `rack` (empty when it is not
    pinned)."""
    if not rack:
        return [], []
    config = (cluster.glob["racks"] or {}).get(rack) or {}
    expressions, fields = [], []
    zone = (config.get("zone") or {}).get("name")
    if zone:
        expressions.append({"key": cluster.glob["topologyKeys"]["zone"], "operator": "In",
                            "values": [zone]})
    host = (config.get("host") or {}).get("name")
    if host:
        fields.append({"key": NODE_NAME_FIELD, "operator": "In", "values": [host]})
    return expressions, fields


def node_affinity(cluster: Cluster, own: dict | None, rack: str | None) -> dict | None:
    """The pod's ``nodeAffinity``: the component's own (KAAP's field, as written) with the
    rack's pin added to each of its required terms (terms are alternatives, so the pin must
    hold in every one), or a required term of its own when there is none."""
    expressions, fields = pin(cluster, rack)
    if not expressions and not fields:
        return own or None
    result = copy.deepcopy(own) if own else {}
    required = result.get(REQUIRED) or {}
    terms = required.get("nodeSelectorTerms") or [{}]
    pinned = []
    for own_term in terms:
        term = dict(own_term)
        if expressions:
            term["matchExpressions"] = list(term.get("matchExpressions") or []) + copy.deepcopy(
                expressions)
        if fields:
            term["matchFields"] = list(term.get("matchFields") or []) + copy.deepcopy(fields)
        pinned.append(term)
    result[REQUIRED] = {**required, "nodeSelectorTerms": pinned}
    return result


def check(spec: dict, raw: dict | None = None) -> list[SpecError]:
    """Racks pinned to the same zone or node (phase ``spec``)."""
    findings: list[SpecError] = []
    racks = spec["global"]["racks"] or {}
    for level, what in (("zone", "zone"), ("host", "node")):
        owners: dict[str, str] = {}
        for rack, config in racks.items():
            name = config[level].get("name")
            if not name:
                continue
            if name not in owners:
                owners[name] = rack
                continue
            first = owners[name]
            path = f"spec.global.racks.{rack}.{level}.name"
            apart = [r for r in (first, rack) if racks[r][level]["enabled"]
                     and racks[r][level]["requireRackAntiAffinity"]]
            if apart:
                findings.append(SpecError(path, (
                    f"racks {first} and {rack} are both pinned to the {what} {name!r}, but "
                    f"rack {apart[0]} must stay out of the other racks' {what}s "
                    f"({level}.requireRackAntiAffinity): the pods of whichever rack comes "
                    f"second stay Pending. Pin each rack to a {what} of its own")))
            else:
                findings.append(warning(path, (
                    f"racks {first} and {rack} are both pinned to the {what} {name!r}: they "
                    f"are one failure domain, although bookie rack awareness counts them as "
                    f"two, so losing that {what} loses the copies of both")))
    return findings
