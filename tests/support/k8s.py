"""Validation of generated objects against the Kubernetes OpenAPI schemas (strict: unknown
fields fail), for the Kubernetes minors we support."""

from __future__ import annotations

import functools

import kubernetes_validate
import kubernetes_validate.utils

# kubernetes_validate re-reads and re-parses the multi-megabyte definitions file on every call;
# the files never change, so parse each once (10x faster, which the property tests need).
kubernetes_validate.utils.schema_contents = functools.lru_cache(maxsize=None)(
    kubernetes_validate.utils.schema_contents)

# Oldest and newest Kubernetes minors krm-pulsar output is validated for.
OLDEST_KUBERNETES = "1.30.0"
NEWEST_KUBERNETES = "1.37.0"
VERSIONS = (OLDEST_KUBERNETES, NEWEST_KUBERNETES)


def schema_errors(obj: dict, version: str = NEWEST_KUBERNETES) -> list[str]:
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}: {exc.message} "
                f"at {'.'.join(str(p) for p in exc.path)}"]
    except kubernetes_validate.SchemaNotFoundError as exc:
        return [f"{obj.get('kind')}: no schema ({exc})"]
    return []


def assert_valid(objects: list, versions=VERSIONS) -> None:
    errors = []
    for version in versions:
        for obj in objects:
            errors.extend(schema_errors(obj, version))
    assert not errors, "\n".join(errors)
