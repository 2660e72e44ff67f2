"""krm-pulsar: a KRM function that expands a PulsarCluster into Apache Pulsar manifests."""

__version__ = "0.1.0"
