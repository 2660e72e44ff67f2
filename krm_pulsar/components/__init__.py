"""One module per Pulsar component; each has ``render(cluster) -> list[dict]``."""
