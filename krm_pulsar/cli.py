"""The ``krm-pulsar`` command: KRM function mode (no arguments) and ``render`` mode.

Kept free of heavy imports: this runs on every kustomize build and every Argo CD sync.
"""

from __future__ import annotations

import os
import sys

from . import __version__

TYPE_CHECKING = False  # typing costs start-up time; mypy reads the guarded imports
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType
    from typing import BinaryIO

HELP = """\
krm-pulsar: expand a PulsarCluster into the manifests of an Apache Pulsar cluster.

Usage:
  krm-pulsar                     KRM function mode: read a ResourceList on stdin, write one on
                                 stdout (kustomize generators, kpt fn render / fn eval).
  krm-pulsar render PATH... | - [OPTIONS]
                                 read YAML files or directories (or stdin), render every
                                 PulsarCluster found and print only the generated manifests
                                 as a YAML stream (Argo CD plugins, CI pre-render steps).
                                 On any error: nothing on stdout, a non-zero exit.
    --image=IMAGE                override spec.global.image of every PulsarCluster (the
                                 Pulsar image of each component without its own image)
    --namespace=NAMESPACE        override metadata.namespace of every PulsarCluster: all
                                 objects go there and addresses become fully qualified.
                                 An empty value means "no override" (unset Argo CD parameters).
  krm-pulsar schema [--json-schema]
                                 print the CustomResourceDefinition of pulsarclusters.krm-pulsar.io
                                 (kubectl explain, kubectl apply --dry-run=server), or with
                                 --json-schema the JSON Schema of a PulsarCluster document (YAML
                                 language server, kubeconform); both from the spec model.
  krm-pulsar explain PATH... | - [--output=text|json]
                                 for every PulsarCluster found: where its pods go (racks, zones,
                                 nodes) and what losing one zone or one node leaves (metadata
                                 store quorum, bookies against the ensemble and write/ack quorums,
                                 brokers, proxies), with a verdict on whether writes continue.
  krm-pulsar --help | --version

The config resource:
  apiVersion: krm-pulsar.io/v1alpha1      # kaap.oss.datastax.com/v1beta1 is accepted as is
  kind: PulsarCluster
  metadata: {name: pulsar}
  spec: {global: {...}, zookeeper: {...}, bookkeeper: {...}, broker: {...}, proxy: {...}}

Errors are reported as KRM results with field paths, one line each on stderr, and exit code 1;
every input item is returned unchanged.

kustomize (standalone kustomize; kubectl's embedded kustomize silently skips exec functions):
  kustomize build --enable-alpha-plugins --enable-exec DIR
kpt:
  kpt fn render --allow-exec PKG     (Kptfile pipeline: `exec: krm-pulsar`, `configPath`)

Documentation: functions/pulsar-cluster/README.md and docs/ in the source repository.
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if not argv:
            return function_mode()
        if argv[0] in ("-h", "--help", "help"):
            sys.stdout.write(HELP)
            return 0
        if argv[0] in ("--version", "version"):
            sys.stdout.write(f"krm-pulsar {__version__}\n")
            return 0
        if argv[0] == "render":
            return render_mode(argv[1:])
        if argv[0] == "schema":
            return schema_mode(argv[1:])
        if argv[0] == "explain":
            return explain_mode(argv[1:])
        _error(f"unknown command {argv[0]!r}; run krm-pulsar --help")
        return 2
    except KeyboardInterrupt:
        return 130


def function_mode() -> int:
    from . import krm

    limit = krm.max_input_bytes(os.environ)
    data, size = _read_bounded(sys.stdin.buffer, limit)
    try:
        if size > limit:
            stdout, stderr_lines, code = krm.too_large(size, limit)
        else:
            stdout, stderr_lines, code = krm.run(data)
    except Exception as exc:  # never a traceback, never an empty stdout
        stdout, stderr_lines, code = _internal_error(krm, data, exc)
    for line in stderr_lines:
        _error_line(line)
    sys.stdout.write(stdout)
    sys.stdout.flush()
    return code


def _read_bounded(stream: BinaryIO, limit: int) -> tuple[bytes, int]:
    """``(data, total size)``: at most `limit` + 1 bytes are kept; the rest is read and counted
    but dropped, so the writer (kustomize, kpt) never sees a broken pipe and memory stays
    bounded."""
    data = stream.read(limit + 1)
    size = len(data)
    if size > limit:
        data = b""
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
    return data, size


def _internal_error(krm: ModuleType, data: bytes, exc: Exception) -> tuple[str, list[str], int]:
    """Return the input items unchanged with an error result when our own code fails."""
    message = f"internal error in krm-pulsar {__version__}: {type(exc).__name__}: {exc}"
    try:
        items, _, _ = krm.read_input(data)
    except Exception:
        items = []
    outcome = krm.Outcome(items, [krm.result(message)])
    from . import yamlio

    try:
        stdout = yamlio.dump(outcome.resource_list())
    except Exception:
        stdout = yamlio.dump(krm.Outcome([], [krm.result(message)]).resource_list())
    return stdout, outcome.stderr_lines(), 1


def render_mode(args: list[str]) -> int:
    """Print the generated manifests of every PulsarCluster under `args` as a YAML stream.

    On any error print nothing on stdout (an empty success would make Argo CD prune the
    cluster) and exit 1.
    """
    try:
        return _render(args)
    except Exception as exc:
        _error(f"internal error in krm-pulsar {__version__}: {type(exc).__name__}: {exc}")
        return 1


_YAML_SUFFIXES = (".yaml", ".yml", ".json")


def explain_mode(args: list[str]) -> int:
    """Print where each PulsarCluster's pods go and what a zone or node outage leaves
    (krm_pulsar/explain.py); bad input is reported as `render` reports it, exit 1."""
    paths, output = [], "text"
    index = 0
    while index < len(args):
        name, sep, value = args[index].partition("=")
        if name == "--output":
            if not sep:
                index += 1
                value = args[index] if index < len(args) else ""
            if value not in ("text", "json"):
                _error(f"--output must be text or json, not {value!r}")
                return 2
            output = value
        elif args[index].startswith("--"):
            _error(f"unknown explain option {args[index]!r}; run krm-pulsar --help")
            return 2
        else:
            paths.append(args[index])
        index += 1
    if not paths:
        _error("explain needs at least one PATH (a file or directory) or - for stdin")
        return 2
    try:
        return _explain(paths, output)
    except Exception as exc:
        _error(f"internal error in krm-pulsar {__version__}: {type(exc).__name__}: {exc}")
        return 1


def _explain(paths: list[str], output: str) -> int:
    from . import explain, krm

    clusters = _read_clusters(paths)
    if isinstance(clusters, int):
        return clusters
    documents, failed = [], False
    for config in clusters:
        document, findings = explain.explain(config)
        for entry in krm.findings_to_results(findings, config):
            if entry["severity"] in ("error", "warning"):
                _error_line(krm.stderr_line(entry))
        if document is None:
            failed = True
        else:
            documents.append(document)
    if failed:
        return 1
    if output == "json":
        import json

        sys.stdout.write(json.dumps({"clusters": documents}, indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(explain.text(document) for document in documents))
    sys.stdout.flush()
    return 0


def schema_mode(args: list[str]) -> int:
    """Print the CRD (default) or the JSON Schema; the schema module loads only here."""
    unknown = [arg for arg in args if arg != "--json-schema"]
    if unknown:
        _error(f"unknown schema option {unknown[0]!r}; run krm-pulsar --help")
        return 2
    from . import crd

    sys.stdout.write(crd.json_schema_text() if args else crd.crd_yaml())
    sys.stdout.flush()
    return 0


# Render-mode options: name -> how the value is applied to each PulsarCluster.
_RENDER_OPTIONS = ("--image", "--namespace")
# RFC 1123 label, as Kubernetes requires for namespace names.
_NAMESPACE_PATTERN = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"


def _parse_render_args(args: list[str]) -> tuple[list[str], dict[str, str], str | None]:
    """``(paths, overrides, error)``; options take ``--name=value`` or ``--name value``."""
    paths, overrides = [], {}
    index = 0
    while index < len(args):
        arg = args[index]
        name, sep, value = arg.partition("=")
        if name in _RENDER_OPTIONS:
            if not sep:
                if index + 1 >= len(args):
                    return [], {}, f"{name} needs a value"
                index += 1
                value = args[index]
            overrides[name[2:]] = value.strip()
        elif arg.startswith("--"):
            return [], {}, f"unknown render option {arg!r}; run krm-pulsar --help"
        else:
            paths.append(arg)
        index += 1
    # An empty value is "no override": Argo CD passes unset parameters as empty strings.
    overrides = {key: value for key, value in overrides.items() if value}
    namespace = overrides.get("namespace")
    import re  # render mode only: function mode stays lean

    if namespace is not None and not re.fullmatch(_NAMESPACE_PATTERN, namespace):
        return [], {}, (f"--namespace={namespace!r} is not a valid namespace name (lower-case "
                        f"letters, digits and '-', at most 63 characters)")
    image = overrides.get("image")
    if image is not None and any(c.isspace() for c in image):
        return [], {}, f"--image={image!r} must not contain spaces"
    return paths, overrides, None


def _apply_overrides(config: dict, overrides: dict) -> dict:
    """A copy of one PulsarCluster with the command-line overrides applied."""
    if not overrides:
        return config
    config = dict(config)
    metadata = config.get("metadata")
    if "namespace" in overrides and isinstance(metadata, dict):
        config["metadata"] = {**metadata, "namespace": overrides["namespace"]}
    spec = config.get("spec") or {}
    # A malformed spec is left alone: validation reports it with its field path.
    if "image" in overrides and isinstance(spec, dict) and isinstance(
            spec.get("global") or {}, dict):
        config["spec"] = {**spec, "global": {**(spec.get("global") or {}),
                                             "image": overrides["image"]}}
    return config


def _read_clusters(args: list[str]) -> list[dict] | int:
    """The PulsarClusters in files, directories or stdin (``-``), or the exit code after
    saying on stderr why there are none."""
    from . import krm, yamlio

    items: list = []
    for arg in args:
        try:
            sources = list(_read_sources(arg))
        except (OSError, UnicodeDecodeError) as exc:
            _error(f"cannot read {arg}: {exc}")
            return 1
        for label, text in sources:
            try:
                documents = yamlio.load_all(text)
            except yamlio.YAMLInputError as exc:
                _error(f"{label}: not valid YAML: {exc}")
                return 1
            items.extend(documents)
    bad = [index for index, doc in enumerate(items) if not isinstance(doc, dict)]
    if bad:
        _error(f"document {bad[0]} of the input is not a Kubernetes object")
        return 1
    clusters = krm.clusters_to_render(items, None)
    if not clusters:
        _error("no PulsarCluster found in " + ", ".join(args))
        return 1
    return clusters


def _render(args: list[str]) -> int:
    from . import krm, yamlio

    args, overrides, problem = _parse_render_args(args)
    if problem:
        _error(problem)
        return 2
    if not args:
        _error("render needs at least one PATH (a file or directory) or - for stdin")
        return 2
    clusters = _read_clusters(args)
    if isinstance(clusters, int):
        return clusters
    generated, results = [], []
    from . import render

    for found in clusters:
        config = _apply_overrides(found, overrides)
        objects, findings = render.render(config)
        results.extend(krm.findings_to_results(findings, config))
        generated.extend(objects)
    results.extend(krm.collisions(generated, clusters))
    for entry in results:
        if entry["severity"] in ("error", "warning"):
            _error_line(krm.stderr_line(entry))
    if any(entry["severity"] == "error" for entry in results):
        return 1
    for obj in generated:
        _strip_internal(obj)
    sys.stdout.write(yamlio.dump_all(generated))
    sys.stdout.flush()
    return 0


def _strip_internal(obj: dict) -> None:
    annotations = obj.get("metadata", {}).get("annotations")
    if not annotations:
        return
    from .names import ORCHESTRATOR_ANNOTATION_PREFIXES

    for key in [k for k in annotations if k.startswith(ORCHESTRATOR_ANNOTATION_PREFIXES)]:
        del annotations[key]
    if not annotations:
        del obj["metadata"]["annotations"]


def _read_sources(arg: str) -> Iterator[tuple[str, str]]:
    """``(label, text)`` for stdin, a file, or every YAML/JSON file under a directory (sorted,
    hidden directories such as .git skipped)."""
    if arg == "-":
        yield "stdin", sys.stdin.buffer.read().decode("utf-8")
        return
    if os.path.isdir(arg):
        for root, dirs, files in os.walk(arg):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.endswith(_YAML_SUFFIXES):
                    path = os.path.join(root, name)
                    yield path, _read_file(path)
        return
    yield arg, _read_file(arg)


def _read_file(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8")


def _error(message: str) -> None:
    _error_line(f"krm-pulsar: error: {message}")


def _error_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
