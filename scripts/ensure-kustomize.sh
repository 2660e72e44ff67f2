#!/usr/bin/env bash
# Print the path of a standalone kustomize that can run exec KRM functions (v5.7+ has
# --enable-exec, exec.args and exec.envs). Use one on PATH when it is suitable, else build
# v5.8.1 (the version Argo CD ships) with `go install` into ./tools/bin.
# kubectl's embedded kustomize is never suitable: it silently skips exec functions.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v5.8.1
tools_bin="${KRM_PULSAR_TOOLS:-$PWD/tools}/bin"

suitable() {
  local bin=$1 v
  v=$("$bin" version 2>/dev/null | grep -Eo 'v5\.[0-9]+\.[0-9]+' | head -1) || return 1
  [ -n "$v" ] || return 1
  local minor=${v#v5.}; minor=${minor%%.*}
  [ "$minor" -ge 7 ]
}

if [ -x "$tools_bin/kustomize" ] && suitable "$tools_bin/kustomize"; then
  echo "$tools_bin/kustomize"; exit 0
fi
if command -v kustomize >/dev/null 2>&1 && suitable "$(command -v kustomize)"; then
  command -v kustomize; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-kustomize: no suitable kustomize on PATH and no Go toolchain to build $version" >&2
  exit 1
fi
echo "ensure-kustomize: building kustomize $version into $tools_bin (go install)" >&2
mkdir -p "$tools_bin"
GOBIN="$tools_bin" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@$version" >&2
echo "$tools_bin/kustomize"
