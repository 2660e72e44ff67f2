"""The cluster harness (tests/cluster/README.md); a package, so that its conftest and modules
never shadow the top-level tests/conftest.py that other test modules import."""
