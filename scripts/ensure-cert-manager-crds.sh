#!/usr/bin/env bash
# Print the directory holding cert-manager's CRDs (Certificate, Issuer) that the tests validate
# our cert-manager objects against. They come from the cert-manager Go module through the Go
# module proxy: `go mod download` checks the module against the Go checksum database, so the
# files are exactly the release's. Cached under ./tools/crds/cert-manager-<version>.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.21.2
dest="${KRM_PULSAR_TOOLS:-$PWD/tools}/crds/cert-manager-$version"
files=(cert-manager.io_certificates.yaml cert-manager.io_issuers.yaml)

complete() {
  local f
  for f in "${files[@]}"; do [ -s "$dest/$f" ] || return 1; done
}

if complete; then echo "$dest"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-cert-manager-crds: no Go toolchain to download cert-manager $version" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
echo "ensure-cert-manager-crds: downloading github.com/cert-manager/cert-manager@$version" >&2
zip=$(cd "$work" && GOMODCACHE="$work/mod" GOFLAGS=-modcacherw \
  go mod download -json "github.com/cert-manager/cert-manager@$version" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["Zip"])')
mkdir -p "$dest"
for f in "${files[@]}"; do
  unzip -p "$zip" "github.com/cert-manager/cert-manager@$version/deploy/crds/$f" > "$dest/$f.tmp"
  mv "$dest/$f.tmp" "$dest/$f"
done
echo "$dest"
