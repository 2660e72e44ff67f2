"""Refuse secret material in a PulsarCluster spec (docs/security.md).

Config values land in ConfigMaps and env values in pod specs, both readable by anyone who can
read the namespace or the Git repository: a key or token there is a leak, so it is an error at
its field path, with a pointer to referencing a Secret instead.
"""

from __future__ import annotations

from .schema import SpecError, child_path

_SECRET_PATTERNS = (
    ("a private key", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY"),
    ("a JSON Web Token", r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
)


def secret_material(value: object, path: str) -> list[SpecError]:
    """Errors for every string under `value` that holds a private key or a token."""
    findings = []
    if isinstance(value, dict):
        for key, item in value.items():
            findings.extend(secret_material(item, child_path(path, str(key))))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            findings.extend(secret_material(item, f"{path}[{index}]"))
    elif isinstance(value, str) and ("-----BEGIN" in value or "eyJ" in value):
        import re

        for what, pattern in _SECRET_PATTERNS:
            if re.search(pattern, value):
                findings.append(SpecError(path, (
                    f"holds {what}; it would be written in clear text into a ConfigMap or pod "
                    f"spec. Put it in a Secret and reference it (env valueFrom.secretKeyRef, or "
                    f"a Secret volume in additionalVolumes)")))
    return findings
