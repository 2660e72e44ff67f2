# krm-pulsar developer entry points. Everything installs what it needs on a fresh machine:
# a virtualenv with the package and its test dependencies, and a standalone kustomize.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The exec function is found by bare name on PATH, as kustomize and kpt users set it up.
# Built tools live in ./tools (ignored), one folder per tool and version; KRM_PULSAR_TOOLS moves
# them (several checkouts of one machine can share one folder).
export KRM_PULSAR_TOOLS ?= $(CURDIR)/tools
export PATH := $(CURDIR)/$(BIN):$(KRM_PULSAR_TOOLS)/bin:$(PATH)

.PHONY: setup demo lint test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	# compat editable mode: a plain .pth path entry, no import hook on every start-up
	$(BIN)/python -m pip install --quiet --config-settings editable_mode=compat -e '.[test]'
	touch $@

setup: $(VENV)/.installed
	@scripts/ensure-kustomize.sh >/dev/null
	@scripts/ensure-cert-manager-crds.sh >/dev/null
	@scripts/ensure-prometheus-operator-crds.sh >/dev/null

## Render the bundled example cluster through real standalone kustomize and the exec function.
demo: setup
	@"$$(scripts/ensure-kustomize.sh)" build --enable-alpha-plugins --enable-exec .

## Lint and type-check the package (ruff, mypy; pinned in pyproject's test extra).
lint: $(VENV)/.installed
	$(BIN)/ruff check krm_pulsar
	$(BIN)/mypy

## Run every test (unit, golden, end-to-end with real kustomize and kpt, real Pulsar processes
## from Maven Central jars: tests/pulsar, Argo CD's and Flux's own programs: tests/gitops,
## our output on a real Kubernetes control plane: tests/cluster), after the linters.
## PYTEST_ARGS='-m "not pulsar"' skips the Pulsar tests, PYTEST_ARGS="-m cluster" runs the
## control-plane tests alone. Argo CD, Flux and the control plane are built once per machine
## into the tools folder (about 6, 7 and 9 minutes cold on 2 cores), then only found.
test: setup lint
	KUSTOMIZE="$$(scripts/ensure-kustomize.sh)" \
	CERT_MANAGER_CRDS="$$(scripts/ensure-cert-manager-crds.sh)" \
	PROMETHEUS_OPERATOR_CRDS="$$(scripts/ensure-prometheus-operator-crds.sh)" \
	KUBE_SCORE="$$(scripts/ensure-kube-score.sh)" \
	KRM_PULSAR_APISERVER_CHECK="$$(scripts/ensure-apiserver-check.sh)" \
	KRM_PULSAR_KUBECONFORM="$$(scripts/ensure-kubeconform.sh)" \
	KRM_PULSAR_ARGOCD="$$(scripts/ensure-argocd.sh)" \
	KRM_PULSAR_FLUX="$$(scripts/ensure-flux.sh)" \
	PULSAR_JARS="$$(scripts/ensure-pulsar-jars.sh)" \
	KRM_PULSAR_CONTROL_PLANE="$$(scripts/ensure-control-plane.sh)" \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --config-settings editable_mode=compat -e '.[test,bench]'
	touch $@

## Time the whole krm-pulsar process (median wall time, peak memory) on the fixtures.
## BENCH_ARGS=--scale: the curve from 1 to 500 resource sets, plotted into
## docs/performance-scale.png; BENCH_ARGS=--pass-through: 5,000 unrelated items.
bench: setup $(VENV)/.bench-installed
	KUSTOMIZE="$$(scripts/ensure-kustomize.sh)" $(BIN)/python bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) tools build *.egg-info .pytest_cache
