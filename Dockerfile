# syntax=docker/dockerfile:1
# krm-pulsar container images (docs/integrations/container.md).
#
#   docker build --target function -t ghcr.io/krm-pulsar/krm-pulsar:v0.1.0 .
#       the KRM function: kustomize `container:`, kpt `image:`; runs as nobody, needs no network
#   docker build --target argocd-cmp -t ghcr.io/krm-pulsar/krm-pulsar-argocd-cmp:v0.1.0 .
#       the Argo CD config-management-plugin sidecar: the function, kustomize, plugin.yaml and
#       its discover and generate commands
#
# Base images are pinned by tag. They are not pinned by digest: no registry is reachable from
# the development machines to resolve one, and a digest copied from elsewhere cannot be checked.
# Add `@sha256:...` in your own build pipeline if you mirror the images.

# kustomize v5.8.1 (the version Argo CD ships) built from source with the Go toolchain it needs.
FROM golang:1.24.6-bookworm AS kustomize
ARG KUSTOMIZE_VERSION=v5.8.1
RUN CGO_ENABLED=0 GOBIN=/out go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" \
    && /out/kustomize version

FROM python:3.11.13-slim-bookworm AS function
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/krm-pulsar/bin:$PATH
# The same install step the tests run (scripts/install-venv.sh into a fresh virtualenv).
COPY pyproject.toml README.md /src/
COPY krm_pulsar /src/krm_pulsar
COPY scripts/install-venv.sh /src/scripts/install-venv.sh
RUN /src/scripts/install-venv.sh /opt/krm-pulsar /src && rm -rf /src
WORKDIR /tmp
# The KRM function spec: functions must be able to run as nobody.
USER 65534:65534
ENTRYPOINT ["krm-pulsar"]

FROM function AS argocd-cmp
COPY --from=kustomize /out/kustomize /usr/local/bin/kustomize
# plugin.yaml's discover and generate commands, by bare name on PATH
COPY --chmod=755 argocd/krm-pulsar-discover argocd/krm-pulsar-generate /usr/local/bin/
COPY argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml
ENV HOME=/tmp
# Argo CD runs plugin sidecars as the repo-server's user.
USER 999:999
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]
