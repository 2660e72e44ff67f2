"""Code comments cite KAAP's and the Helm chart's behaviour by the anchors of our own docs
(docs/kaap-parity.md, docs/helm-parity.md), never by a document outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "krm_pulsar"
_CITE = re.compile(r"\b((?:kaap|helm)-parity\.md)#([a-z0-9-]+)")
_HEADING = re.compile(r"^#+ (.+)$", re.M)
_ANCHOR = re.compile(r'<a id="([a-z0-9-]+)"></a>')


def anchors(doc: Path) -> set[str]:
    """GitHub's heading anchors (lower case, punctuation dropped, spaces as '-') and explicit
    <a id> anchors."""
    text = doc.read_text()
    found = {re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
             for heading in _HEADING.findall(text)}
    return found | set(_ANCHOR.findall(text))


def test_every_cited_anchor_exists():
    known = {name: anchors(ROOT / "docs" / name) for name in ("kaap-parity.md", "helm-parity.md")}
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for doc, anchor in _CITE.findall(path.read_text()):
            if anchor not in known[doc]:
                missing.append(f"{path.relative_to(ROOT)}: {doc}#{anchor}")
    assert not missing, "\n".join(missing)


def test_no_citation_of_a_document_outside_the_repository():
    """Code and docs cite what a reader of the repository can open: our docs, the upstream
    projects' sources; never the notes outside it."""
    outside = re.compile(r"§|\bKAAP Q\d+|kaap-semantics|helm-chart-facts|shared/reference|"
                         r"krm-integration\.md|pulsar-runtime\.md|control-plane\.md")
    readable = [*PACKAGE.rglob("*.py"), ROOT / "README.md", *(ROOT / "docs").rglob("*.md"),
                *(ROOT / "tests").glob("*/README.md"), *(ROOT / "functions").rglob("*.md")]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in sorted(readable)
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if outside.search(line)]
    assert not found, "\n".join(found)
