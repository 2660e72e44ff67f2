"""Real Pulsar processes configured by our output (marker `pulsar`; README.md)."""
