#!/usr/bin/env bash
# Print the folder holding a real Kubernetes control plane for tests/cluster: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kubectl of one Kubernetes release, and KWOK (fake
# nodes), plus KWOK's default Stage files. Everything is built from the Go module proxy (go.sum
# checked against the Go checksum database) into
#   ${KRM_PULSAR_TOOLS:-./tools}/control-plane-etcd-<v>-kubernetes-<v>-kwok-<v>/{bin,kwok-stages}
# once per machine, and reused afterwards. A cold build takes about ten minutes on two cores and
# about 6 GiB of Go caches (see docs/testing.md for the measured figures).
#
# Kubernetes cannot be `go install`ed: the k8s.io/kubernetes module zip has no staging/ folder and
# its go.mod replaces every k8s.io/<x> staging module by ./staging/src/k8s.io/<x>. A small wrapper
# module (generated below, it names registry modules only) requires k8s.io/kubernetes and replaces
# each staging module by its published v0.<minor>.<patch> release. etcd's server module has
# relative replaces too, so it gets a wrapper as well; KWOK has none and builds directly.
set -euo pipefail
cd "$(dirname "$0")/.."

etcd_version=v3.6.8
kubernetes_version=v1.36.1
kwok_version=v0.8.0

tools="${KRM_PULSAR_TOOLS:-$PWD/tools}"
name="control-plane-etcd-${etcd_version#v}-kubernetes-${kubernetes_version#v}-kwok-${kwok_version#v}"
dest="$tools/$name"
binaries=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)

complete() {
  local b
  for b in "${binaries[@]}"; do [ -x "$dest/bin/$b" ] || return 1; done
  [ -s "$dest/kwok-stages/default-stages.yaml" ]
}

if complete; then echo "$dest"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-control-plane: no Go toolchain to build the control plane into $dest" >&2
  exit 1
fi

mkdir -p "$tools"
# Several checkouts may share one tools folder: one build at a time, the others wait and reuse it.
exec 9>"$tools/$name.lock"
if ! flock -n 9; then
  echo "ensure-control-plane: another build of $name is running; waiting for it" >&2
  flock 9
fi
if complete; then echo "$dest"; exit 0; fi

started=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$dest/bin" "$dest/kwok-stages"
export CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { echo "ensure-control-plane: $* ($(( $(date +%s) - started )) s)" >&2; }

build_etcd() {
  [ -x "$dest/bin/etcd" ] && return
  log "building etcd $etcd_version"
  local mod="$work/etcd"
  mkdir -p "$mod"
  cat > "$mod/go.mod" <<EOF
module krm-pulsar.test/control-plane/etcd

go 1.26

require go.etcd.io/etcd/server/v3 $etcd_version
EOF
  cat > "$mod/tools.go" <<'EOF'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
EOF
  (cd "$mod" && go mod tidy >&2 \
    && go build -trimpath -ldflags "-s -w" -o "$work/etcd-server" go.etcd.io/etcd/server/v3 >&2)
  mv "$work/etcd-server" "$dest/bin/etcd"
}

build_kubernetes() {
  local b missing=()
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [ -x "$dest/bin/$b" ] || missing+=("$b")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "building Kubernetes $kubernetes_version: ${missing[*]}"
  local mod="$work/kubernetes" staging_version gomod
  staging_version="v0.${kubernetes_version#v1.}"
  mkdir -p "$mod"
  gomod=$(cd "$mod" && go mod download -json "k8s.io/kubernetes@$kubernetes_version" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo "module krm-pulsar.test/control-plane/kubernetes"
    echo
    echo "go 1.26"
    echo
    echo "require k8s.io/kubernetes $kubernetes_version"
    echo
    echo "replace ("
    # One replace per staging module, to its published release. The two sample modules are not
    # published at every release and nothing we build imports them.
    sed -nE 's#^[[:space:]]*(k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+$#\1#p' "$gomod" \
      | grep -Ev '^k8s\.io/sample-(cli-plugin|controller)$' \
      | while read -r m; do echo "	$m => $m $staging_version"; done
    echo ")"
  } > "$mod/go.mod"
  cat > "$mod/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
  local minor=${kubernetes_version#v1.}; minor=${minor%%.*}
  local x="" p
  # Without these the binaries report v0.0.0-master, and kubectl warns about version skew.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    x+=" -X $p.gitVersion=$kubernetes_version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    x+=" -X $p.gitTreeState=clean"
  done
  (cd "$mod" && go mod tidy >&2)
  log "go.mod of the Kubernetes wrapper tidied"
  for b in "${missing[@]}"; do
    (cd "$mod" && go build -trimpath -ldflags "-s -w$x" -o "$work/$b" "k8s.io/kubernetes/cmd/$b" >&2)
    mv "$work/$b" "$dest/bin/$b"
    log "built $b"
  done
}

build_kwok() {
  if [ ! -x "$dest/bin/kwok" ]; then
    log "building KWOK $kwok_version"
    (cd "$work" && GOBIN="$work/gobin" go install -trimpath -ldflags "-s -w" \
      "sigs.k8s.io/kwok/cmd/kwok@$kwok_version" >&2)
    mv "$work/gobin/kwok" "$dest/bin/kwok"
  fi
  # KWOK's default stages (node initialisation and heartbeat, pod ready/complete/delete) ship in
  # its module. A --config file replaces them, so the harness concatenates them with its own.
  local dir
  dir=$(cd "$work" && go mod download -json "sigs.k8s.io/kwok@$kwok_version" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  local f out="$dest/kwok-stages/default-stages.yaml.tmp"
  : > "$out"
  for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---" >> "$out"
    cat "$dir/kustomize/stage/$f" >> "$out"
  done
  mv "$out" "$dest/kwok-stages/default-stages.yaml"
}

build_etcd
build_kwok
build_kubernetes
complete
log "control plane ready in $dest"
echo "$dest"
