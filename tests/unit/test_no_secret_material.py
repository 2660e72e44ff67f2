"""No secret material in any output: krm-pulsar references keys, certificates and tokens in
Secrets; it never puts them (or anything that looks like them) into what it renders.

Every fixture is rendered (and every golden file read), then scanned for PEM blocks, JWTs,
Secret objects and base64 blobs in ConfigMaps. A planted sample of each kind proves the scanner
finds them.
"""

from __future__ import annotations

import base64
import re

import pytest

from conftest import FIXTURES, ROOT
from krm_pulsar import render, yamlio

PEM = re.compile(r"-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
BASE64_BLOB = re.compile(r"^[A-Za-z0-9+/\s]{64,}={0,2}$")


def configs():
    for path in sorted(FIXTURES.glob("*.yaml")):
        for doc in yamlio.load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "PulsarCluster":
                yield path.name, doc


def findings_in(objects: list) -> list[str]:
    problems = []
    text = yamlio.dump_all(objects)
    problems += [f"PEM block {m.group(0)}" for m in PEM.finditer(text)]
    problems += [f"JWT-like string {m.group(0)[:20]}..." for m in JWT.finditer(text)]
    for obj in objects:
        where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        if obj.get("kind") == "Secret":
            problems.append(f"{where}: a Secret object")
        if obj.get("kind") == "ConfigMap":
            for key, value in (obj.get("data") or {}).items():
                if isinstance(value, str) and BASE64_BLOB.match(value.strip()):
                    problems.append(f"{where}: base64 blob in {key}")
            if obj.get("binaryData"):
                problems.append(f"{where}: binaryData")
    return problems


CONFIGS = list(configs())


@pytest.mark.parametrize("name,config", CONFIGS, ids=[name for name, _ in CONFIGS])
def test_rendered_output_has_no_secret_material(name, config):
    objects, findings = render.render(config)
    assert objects or any(f.severity == "error" for f in findings)
    assert findings_in(objects) == []


def test_golden_files_have_no_secret_material():
    goldens = sorted((ROOT / "tests" / "golden").glob("*.yaml"))
    assert goldens
    for path in goldens:
        text = path.read_text()
        assert not PEM.search(text), path
        assert not JWT.search(text), path


def test_every_security_fixture_is_scanned():
    names = {name for name, _ in CONFIGS}
    assert {"tls-existing-secrets.yaml", "tls-cert-manager.yaml", "auth-token.yaml",
            "tls-auth-resource-sets.yaml"} <= names


def test_the_scanner_finds_planted_material():
    key = base64.b64encode(bytes(range(256))).decode()
    jwt = ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9."
           "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl")
    planted = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"},
         "data": {"k": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"},
         "data": {"token": jwt}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
         "data": {"key": key}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "d"}},
    ]
    problems = findings_in(planted)
    assert any("PEM" in p for p in problems)
    assert any("JWT" in p for p in problems)
    assert any("base64 blob" in p for p in problems)
    assert any("a Secret object" in p for p in problems)
