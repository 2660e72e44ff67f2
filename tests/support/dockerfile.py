"""The project's Dockerfile read as instructions, for the tests that check or replay it
(tests/unit/test_container.py, tests/gitops)."""

from __future__ import annotations

from conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str, str]]:
    """``(stage, INSTRUCTION, arguments)`` with line continuations joined, comments dropped."""
    result, stage, pending = [], None, ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage = arguments.split()[-1] if " AS " in arguments.upper() else arguments
        result.append((stage, keyword, arguments.strip()))
    return result


def stage(name: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` of one stage."""
    return [(keyword, args) for st, keyword, args in instructions() if st == name]
