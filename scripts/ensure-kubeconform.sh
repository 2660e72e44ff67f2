#!/usr/bin/env bash
# Print the path of kubeconform, the manifest validator docs/schema.md shows with our JSON
# Schema (tests/crd/test_kubeconform.py runs that command). Built with `go install` from the
# Go module proxy into the tools folder, keyed by version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v0.7.0
dir="${KRM_PULSAR_TOOLS:-$PWD/tools}/kubeconform-$version"
if [ -x "$dir/kubeconform" ]; then
  echo "$dir/kubeconform"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-kubeconform: no Go toolchain to build kubeconform $version" >&2
  exit 1
fi
echo "ensure-kubeconform: building kubeconform $version into $dir (go install)" >&2
mkdir -p "$dir"
GOBIN="$dir" GOFLAGS=-mod=mod go install "github.com/yannh/kubeconform/cmd/kubeconform@$version" >&2
echo "$dir/kubeconform"
