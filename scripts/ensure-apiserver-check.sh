#!/usr/bin/env bash
# Print the path of apiserver-check (tests/crd/apiserver-check): the Kubernetes API server's
# own CustomResourceDefinition validation, pruning, defaulting and schema validation
# (k8s.io/apiextensions-apiserver, from the Go module proxy) as a small program. Built once per
# machine into the tools folder, keyed by the apiextensions version and the program's source.
set -euo pipefail
cd "$(dirname "$0")/.."
src=tests/crd/apiserver-check
version=$(awk '$1 == "k8s.io/apiextensions-apiserver" {print $2}' "$src/go.mod")
digest=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)
dir="${KRM_PULSAR_TOOLS:-$PWD/tools}/apiserver-check-apiextensions-$version-$digest"
if [ -x "$dir/apiserver-check" ]; then
  echo "$dir/apiserver-check"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-apiserver-check: no Go toolchain to build $src" >&2
  exit 1
fi
echo "ensure-apiserver-check: building $src (apiextensions-apiserver $version) into $dir" >&2
mkdir -p "$dir"
(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -o "$dir/apiserver-check.tmp" . >&2)
mv "$dir/apiserver-check.tmp" "$dir/apiserver-check"
echo "$dir/apiserver-check"
