#!/usr/bin/env bash
# Print the path of kube-score, the security/best-practice scanner the tests run over the
# production fixture (tests/test_security.py). Use ./tools/bin/kube-score or one on PATH when it
# is the pinned version, else build it with `go install` from the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v1.20.0
tools_bin="${KRM_PULSAR_TOOLS:-$PWD/tools}/bin"

pinned() {
  # a `go install`ed kube-score reports "development"; the marker file records what we built
  [ -x "$1" ] && [ -f "$tools_bin/.kube-score-$version" ]
}

if pinned "$tools_bin/kube-score"; then
  echo "$tools_bin/kube-score"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-kube-score: no Go toolchain to build kube-score $version" >&2
  exit 1
fi
echo "ensure-kube-score: building kube-score $version into $tools_bin (go install)" >&2
mkdir -p "$tools_bin"
GOBIN="$tools_bin" GOFLAGS=-mod=mod go install "github.com/zegl/kube-score/cmd/kube-score@$version" >&2
touch "$tools_bin/.kube-score-$version"
echo "$tools_bin/kube-score"
