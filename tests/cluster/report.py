"""What the cluster tests tell the reader at the end of a run (pytest_terminal_summary in
conftest.py): wall times, prerequisites created, the API server's refusals and warnings."""

# Wall time in seconds of the control plane's start and stop and of each test module.
TIMINGS: dict[str, float] = {}
# Free-form lines, in the order the tests added them.
NOTES: list[str] = []
