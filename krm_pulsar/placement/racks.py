"""Static bookie rack awareness as KAAP writes it (docs/kaap-parity.md#rack-awareness)."""

from __future__ import annotations

# Bookie rack awareness as KAAP writes it (kaap-parity.md#rack-awareness). The resolver reads the
# /bookies rack map from the metadata store; the region-aware policy turns "<rack>/<node>" into
# region/rack.
RACK_RESOLVER_CLASS = "org.apache.pulsar.zookeeper.ZkBookieRackAffinityMapping"
REGION_AWARE_POLICY = "org.apache.bookkeeper.client.RegionAwareEnsemblePlacementPolicy"


def broker_rack_config() -> dict:
    """Broker defaults; the user's ``config`` wins (``"false"`` turns region awareness off)."""
    return {"bookkeeperClientRegionawarePolicyEnabled": "true"}


def bookie_rack_config() -> dict:
    return {"reppDnsResolverClass": RACK_RESOLVER_CLASS}


def autorecovery_rack_config() -> dict:
    """Autorecovery defaults (KAAP sets the placement policy here, not the broker's key).
    For the autorecovery renderer: merge these under the user's ``config``."""
    return {"reppDnsResolverClass": RACK_RESOLVER_CLASS,
            "ensemblePlacementPolicy": REGION_AWARE_POLICY}


def region_aware(spec: dict) -> bool:
    """Whether brokers use the region-aware placement policy (on unless the user turned it
    off in the broker's top-level ``config``)."""
    config = spec["broker"].get("config") or {}
    for key in ("bookkeeperClientRegionawarePolicyEnabled",
                "PULSAR_PREFIX_bookkeeperClientRegionawarePolicyEnabled"):
        if key in config and config[key] is not None:
            return str(config[key]).strip().lower() != "false"
    return True
