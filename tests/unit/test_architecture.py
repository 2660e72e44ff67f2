"""Rules of the package's shape that a reviewer would otherwise have to remember
(docs/architecture.md): each kind of fact lives in one module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from krm_pulsar import endpoints

PACKAGE = Path(__file__).resolve().parents[2] / "krm_pulsar"
PORTS = sorted({port.number for port in endpoints.TABLE.values()})
_PORT_IN_TEXT = re.compile(r"(?<![0-9])(" + "|".join(map(str, PORTS)) + r")(?![0-9])")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may name a port)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def bare_ports(path: Path) -> list[str]:
    """Port numbers written as code in `path`: integer literals and numbers inside strings."""
    tree = ast.parse(path.read_text())
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings:
            continue
        if type(node.value) is int and node.value in PORTS:
            found.append(f"{path.name}:{node.lineno}: {node.value}")
        elif isinstance(node.value, str):
            found.extend(f"{path.name}:{node.lineno}: {match}"
                         for match in _PORT_IN_TEXT.findall(node.value))
    return found


def test_no_port_number_outside_the_endpoint_table():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "endpoints.py":
            found.extend(bare_ports(path))
    assert not found, "port numbers belong in krm_pulsar/endpoints.py:\n" + "\n".join(found)


def test_the_check_finds_a_bare_port(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""Listens on 6650."""\nPORT = 6650\nURL = "http://localhost:8080/"\n')
    assert bare_ports(sample) == ["sample.py:2: 6650", "sample.py:3: 8080"]
