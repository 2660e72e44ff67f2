#!/usr/bin/env bash
# Print the directory holding the Prometheus operator's PodMonitor CRD that the tests validate
# our PodMonitors against. It comes from the prometheus-operator Go module through the Go
# module proxy: `go mod download` checks the module against the Go checksum database, so the
# file is exactly the release's. Cached under ./tools/crds/prometheus-operator-<version>.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v0.89.0
dest="${KRM_PULSAR_TOOLS:-$PWD/tools}/crds/prometheus-operator-$version"
files=(monitoring.coreos.com_podmonitors.yaml)

complete() {
  local f
  for f in "${files[@]}"; do [ -s "$dest/$f" ] || return 1; done
}

if complete; then echo "$dest"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-prometheus-operator-crds: no Go toolchain to download prometheus-operator $version" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
echo "ensure-prometheus-operator-crds: downloading github.com/prometheus-operator/prometheus-operator@$version" >&2
zip=$(cd "$work" && GOMODCACHE="$work/mod" GOFLAGS=-modcacherw \
  go mod download -json "github.com/prometheus-operator/prometheus-operator@$version" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["Zip"])')
mkdir -p "$dest"
for f in "${files[@]}"; do
  unzip -p "$zip" "github.com/prometheus-operator/prometheus-operator@$version/example/prometheus-operator-crd/$f" > "$dest/$f.tmp"
  mv "$dest/$f.tmp" "$dest/$f"
done
echo "$dest"
