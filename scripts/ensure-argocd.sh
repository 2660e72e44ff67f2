#!/usr/bin/env bash
# Print the directory holding Argo CD v3.6.1's repo-server and cmp-server (tests/gitops), built
# once per machine from the Go module proxy into ${KRM_PULSAR_TOOLS:-./tools}/argocd-v3.6.1:
#   argocd-harness       tests/gitops/argocd (Argo CD's own commands and its repo-server client)
#   argocd-repo-server   -> argocd-harness (the command is chosen by name, as in Argo CD's image)
#   argocd-cmp-server    -> argocd-harness
#   install.yaml         Argo CD's own manifests/install.yaml from the same module (the sidecar
#                        patch is tested against it)
# A stamp of the harness source (go.mod, go.sum, *.go) makes a changed harness rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v3.6.1
# Argo CD v3.6.1 declares Go 1.27; the go command takes this toolchain from the module proxy.
export GOTOOLCHAIN=go1.27.3
src=tests/gitops/argocd
tools="${KRM_PULSAR_TOOLS:-$PWD/tools}"
dir="$tools/argocd-$version"
stamp=$(cat "$src/go.mod" "$src/go.sum" "$src"/*.go "$0" | sha256sum | cut -c1-16)

if [ -x "$dir/argocd-harness" ] && [ "$(cat "$dir/.source" 2>/dev/null)" = "$stamp" ]; then
  echo "$dir"; exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "ensure-argocd: no Go toolchain to build Argo CD $version" >&2
  exit 1
fi
echo "ensure-argocd: building Argo CD $version (repo-server, cmp-server) into $dir" >&2
mkdir -p "$tools"
# build next to the target and move it in place: a half-built folder is never used
work=$(mktemp -d "$tools/.argocd-$version.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
start=$SECONDS
(cd "$src" && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X github.com/argoproj/argo-cd/v3/common.version=${version#v}" \
  -o "$work/argocd-harness" .) >&2
module=$(cd "$src" && go list -m -f '{{.Dir}}' github.com/argoproj/argo-cd/v3)
cp "$module/manifests/install.yaml" "$work/install.yaml"
chmod 644 "$work/install.yaml"
ln -s argocd-harness "$work/argocd-repo-server"
ln -s argocd-harness "$work/argocd-cmp-server"
echo "$stamp" > "$work/.source"
rm -rf "$dir"
mv "$work" "$dir"
trap - EXIT
echo "ensure-argocd: built in $((SECONDS - start)) s" >&2
echo "$dir"
