# syntax=docker/dockerfile:1
# krm-pulsar as a container KRM function (kustomize `container:` / kpt `image:`).
# Runs as nobody, with no network, as the KRM function spec requires.
FROM python:3.11.7-slim-bookworm AS function
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY krm_pulsar ./krm_pulsar
RUN pip install --no-compile . && rm -rf /src
WORKDIR /
USER 65534:65534
ENTRYPOINT ["krm-pulsar"]
