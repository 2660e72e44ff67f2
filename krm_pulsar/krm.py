"""The KRM function envelope: ResourceList in, ResourceList out, results and exit code.

Rules (see docs/krm-contract.md): the output is always one ResourceList, also on failure;
every input item comes back unchanged except objects this function generated earlier for a
cluster it renders now, which are replaced; errors are results with a field path, one line each
on stderr, and exit code 1.
"""

from __future__ import annotations

import contextlib

from . import names, render, yamlio
from .schema import SpecError, type_name

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

RESOURCE_LIST_VERSIONS = ("config.kubernetes.io/v1", "config.kubernetes.io/v1beta1")
OUTPUT_VERSION = "config.kubernetes.io/v1"

# Inputs above this size are refused before parsing (docs/bad-input.md): parsed YAML takes about
# 12 times its size in memory, so a 50 MB package would need over 600 MB and 8 s. Real inputs
# (a generator's config, a kpt package) are far below it. KRM_PULSAR_MAX_INPUT_MB raises it.
DEFAULT_MAX_INPUT_MB = 16


class Outcome:
    """What one run produced: output items, results, and whether it failed."""

    def __init__(self, items: list, results: list) -> None:
        self.items = items
        self.results = results

    @property
    def failed(self) -> bool:
        return any(result["severity"] == "error" for result in self.results)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def resource_list(self) -> dict:
        output = {"apiVersion": OUTPUT_VERSION, "kind": "ResourceList", "items": self.items}
        if self.results:
            output["results"] = self.results
        return output

    def stderr_lines(self) -> list[str]:
        return [stderr_line(result) for result in self.results
                if result["severity"] in ("error", "warning")]


def stderr_line(result: dict) -> str:
    ref = result.get("resourceRef")
    where = ""
    if ref:
        where = f"{ref['kind']}/{ref['name']}" if ref.get("name") else str(ref["kind"])
    field = (result.get("field") or {}).get("path") or (result.get("tags") or {}).get("field")
    if field:
        where = f"{where} {field}" if where else field
    text = " ".join(result["message"].split())  # one line, whatever the message holds
    prefix = f"krm-pulsar: {result['severity']}: "
    return prefix + (f"{where}: {text}" if where else text)


def result(message: str, severity: str = "error", obj: dict | None = None,
           path: str | None = None) -> dict:
    entry: dict[str, Any] = {"message": message, "severity": severity}
    if obj is not None:
        metadata: dict = obj["metadata"] if isinstance(obj.get("metadata"), dict) else {}
        ref = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
               "name": metadata.get("name")}
        if metadata.get("namespace"):
            ref["namespace"] = metadata["namespace"]
        entry["resourceRef"] = ref
        if path:
            entry["field"] = {"path": path}
        annotations: dict = metadata["annotations"] if isinstance(
            metadata.get("annotations"), dict) else {}
        file_path = annotations.get(names.PATH_ANNOTATION) or annotations.get(
            names.LEGACY_PATH_ANNOTATION)
        if file_path:
            entry["file"] = {"path": file_path}
            index = annotations.get(names.INDEX_ANNOTATION) or annotations.get(
                names.LEGACY_INDEX_ANNOTATION)
            if index not in (None, "", "0"):
                with contextlib.suppress(ValueError):
                    entry["file"]["index"] = int(index)
    elif path:
        entry["tags"] = {"field": path}
    return entry


def max_input_bytes(environ: Mapping[str, str]) -> int:
    """The input size limit in bytes (``KRM_PULSAR_MAX_INPUT_MB`` overrides the default)."""
    text = environ.get("KRM_PULSAR_MAX_INPUT_MB", "")
    megabytes = int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_INPUT_MB
    return megabytes * 1024 * 1024


def too_large(size: int, limit: int) -> tuple[str, list[str], int]:
    """Function-mode output for an input refused by size: nothing was parsed, so there are no
    items to return (kustomize and kpt discard the output of a failed function anyway)."""
    outcome = Outcome([], [result(
        f"input is {size:,} bytes, over the {limit // (1024 * 1024)} MiB limit; split the "
        f"package or raise the limit with KRM_PULSAR_MAX_INPUT_MB")])
    return yamlio.dump(outcome.resource_list()), outcome.stderr_lines(), 1


def findings_to_results(findings: list[SpecError], obj: dict) -> list[dict]:
    return [result(f.message, f.severity, obj, f.path) for f in findings]


# --- reading ------------------------------------------------------------------------------------


def read_input(data: bytes) -> tuple[list, Any, list[dict]]:
    """``(items, function_config, results)`` from stdin bytes. On a problem the results hold an
    error and items holds whatever could be read (so it can be returned unchanged)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], None, [result(f"input is not UTF-8 (byte {exc.start})")]
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return [], None, [result("empty input: expected a ResourceList on stdin")]
    try:
        documents = yamlio.load_all(text)
    except yamlio.YAMLInputError as exc:
        return [], None, [result(f"input is not valid YAML: {exc}")]
    if not documents:
        return [], None, [result("empty input: expected a ResourceList on stdin")]

    first = documents[0]
    if len(documents) == 1 and isinstance(first, dict) and first.get("kind") == "ResourceList":
        if first.get("apiVersion") not in RESOURCE_LIST_VERSIONS:
            return [], None, [result(
                f"unsupported ResourceList apiVersion {first.get('apiVersion')!r}; expected "
                f"{' or '.join(RESOURCE_LIST_VERSIONS)}")]
        items = first.get("items")
        function_config = first.get("functionConfig")
        results = []
        if items is None:
            return [], function_config, [result(
                "the ResourceList has no items (a ResourceList must have an items list, "
                "even an empty one)", path="items")]
        if not isinstance(items, list):
            return [], function_config, [result(
                f"ResourceList items must be a list, got {type_name(items)}", path="items")]
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                results.append(result(f"item {index} is not a mapping (a Kubernetes object)",
                                      path=f"items[{index}]"))
        if function_config is not None and not isinstance(function_config, dict):
            results.append(result("functionConfig must be a mapping", path="functionConfig"))
            function_config = None
        return items, function_config, results

    # A plain multi-document stream of objects (kyaml accepts it too).
    results = [result(f"document {index} is not a mapping (a Kubernetes object)",
                      path=f"items[{index}]")
               for index, doc in enumerate(documents) if not isinstance(doc, dict)]
    return documents, None, results


# --- processing ---------------------------------------------------------------------------------


def clusters_to_render(items: list, function_config: Any) -> list[dict]:
    """Every PulsarCluster: the items, plus the functionConfig when it is not one of them
    (kustomize and kpt `configPath` pass the config both ways)."""
    clusters = [item for item in items if render.is_pulsar_cluster(item)]
    if render.is_pulsar_cluster(function_config):
        ids = {(c.get("apiVersion"), render.cluster_id(c)) for c in clusters}
        names = {(c.get("apiVersion"), (c.get("metadata") or {}).get("name")) for c in clusters}
        key = (function_config.get("apiVersion"), render.cluster_id(function_config))
        name_key = (function_config.get("apiVersion"),
                    (function_config.get("metadata") or {}).get("name"))
        if key not in ids and name_key not in names:
            clusters.append(function_config)
    return clusters


def generated_from(item: object) -> str | None:
    if not isinstance(item, dict):
        return None
    metadata = item.get("metadata")
    if not isinstance(metadata, dict):
        return None
    annotations = metadata.get("annotations")
    if not isinstance(annotations, dict):
        return None
    return annotations.get(render.GENERATED_FROM)


def process(items: list, function_config: Any, input_results: list) -> Outcome:
    """Render every PulsarCluster found; pass everything else through unchanged."""
    if any(r["severity"] == "error" for r in input_results):
        return Outcome(items, input_results)
    clusters = clusters_to_render(items, function_config)
    if not clusters:
        return Outcome(items, [result(
            "no PulsarCluster found: expected a krm-pulsar.io/v1alpha1 (or "
            "kaap.oss.datastax.com/v1beta1) PulsarCluster as functionConfig or among the items")])

    results: list[dict] = []
    generated: list[dict] = []
    replaced: set[str] = set()
    for config in clusters:
        source = render.cluster_id(config)
        # its previous render, if the items hold one (kpt): checked for changes Kubernetes
        # refuses in place (docs/day2.md)
        previous = [item for item in items if generated_from(item) == source]
        objects, findings = render.render(config, previous)
        results.extend(findings_to_results(findings, config))
        if objects:
            generated.extend(objects)
            replaced.add(render.cluster_id(config))
    results.extend(collisions(generated, clusters))
    if any(r["severity"] == "error" for r in results):
        return Outcome(items, results)
    kept = [item for item in items if generated_from(item) not in replaced]
    results.extend(orphans(kept, {render.cluster_id(config) for config in clusters}))
    results.extend(not_local_config(items))
    return Outcome(kept + generated, results)


LOCAL_CONFIG = "config.kubernetes.io/local-config"


def not_local_config(items: list) -> list[dict]:
    """A warning per PulsarCluster among the items without ``config.kubernetes.io/local-config``
    (docs/krm-contract.md#local-config): kpt keeps it in the package, and whatever applies the
    rendered package (kpt live apply, Argo CD, Flux, kubectl apply -f) sends it to the API
    server, which refuses the whole apply unless the PulsarCluster CRD is installed. An
    explicit value (``"false"``: the CRD is installed and the object is meant to be applied)
    silences it. The item itself comes back unchanged, as every item does."""
    results = []
    for item in items:
        if not render.is_pulsar_cluster(item):
            continue
        metadata = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and LOCAL_CONFIG in annotations:
            continue
        results.append(result(
            f'the PulsarCluster is kept among the resources without {LOCAL_CONFIG}: "true", so '
            f"applying the rendered package (kpt live apply, a GitOps tool, kubectl apply) "
            f"sends it to the API server, which refuses it (no matches for kind "
            f"\"PulsarCluster\") unless its CRD is installed; add the annotation {LOCAL_CONFIG}: "
            f'"true" (or "false" if you install the CRD, krm-pulsar schema, and mean to apply it)',
            severity="warning", obj=item, path=f"metadata.annotations.{LOCAL_CONFIG}"))
    return results


def orphans(items: list, present: set) -> list[dict]:
    """A warning per PulsarCluster whose earlier output is in the input but which is not (it
    was renamed, moved to another namespace or deleted). Its objects come back unchanged, as
    every item we do not replace does; the warning says they are stale."""
    stale: dict = {}
    for item in items:
        source = generated_from(item)
        if source is not None and source not in present:
            stale.setdefault(source, []).append(item)
    results = []
    for source, objects in stale.items():
        first = objects[0]
        results.append(result(
            f"{len(objects)} objects were generated from PulsarCluster {source}, which is no "
            f"longer in the input (renamed, moved to another namespace or deleted); they are "
            f"kept unchanged: delete them (for example {first.get('kind')} "
            f"{(first.get('metadata') or {}).get('name')!r}) if that cluster is gone",
            severity="warning"))
    return results


def collisions(objects: list, configs: list) -> list[dict]:
    """Two PulsarClusters whose outputs would overwrite each other: one result per pair of
    clusters (not per object), on the later cluster's spec.global.name."""
    by_id = {render.cluster_id(config): config for config in configs}
    owners: dict[tuple, str | None] = {}
    clashes: dict = {}  # (first owner, second owner) -> keys, in order
    for obj in objects:
        key = render.object_key(obj)
        source = generated_from(obj)
        if key in owners and owners[key] != source:
            clashes.setdefault((owners[key], source), []).append(key)
        owners.setdefault(key, source)
    results = []
    for (first, second), keys in clashes.items():
        kind, name = keys[0][1], keys[0][3]
        more = f" and {len(keys) - 1} other objects" if len(keys) > 1 else ""
        results.append(result(
            f"PulsarClusters {first} and {second} both generate {kind} {name!r}{more}; give "
            f"them different spec.global.name values or namespaces",
            obj=by_id.get(second), path="spec.global.name"))
    return results


def run(data: bytes) -> tuple[str, list[str], int]:
    """Function mode: ``(stdout, stderr lines, exit code)`` for the bytes read from stdin."""
    items, function_config, input_results = read_input(data)
    outcome = process(items, function_config, input_results)
    return yamlio.dump(outcome.resource_list()), outcome.stderr_lines(), outcome.exit_code
