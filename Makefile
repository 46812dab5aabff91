# The front door. `make run` starts the product locally; `make test` checks everything CI checks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
SAM_VENV  := .venv-sam
PY        := $(VENV)/bin/python
SAM       := $(SAM_VENV)/bin/sam
ENV       ?= default
ARGS      ?=
PYTEST    := $(VENV)/bin/pytest
# The suite runs in as many pytest-xdist workers as there are CPUs (at most 4), a whole module to a worker
# (--dist loadfile), so a module's local stack and browser still start once; the slowest folders go first
# (tests/conftest.py orders them; --no-loadscope-reorder keeps that order). PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n < 4 ? n : 4 )))
PYTEST_PARALLEL = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder)
# schemathesis' tests are collected by pytest-xdist workers but never run there (silently: 105 tests missing
# from the count), so under workers that module runs after the others, in one process.
FUZZ_TESTS := tests/integration/test_api_fuzz.py
WITHOUT_FUZZ = $(if $(PYTEST_PARALLEL),--ignore=$(FUZZ_TESTS))
FUZZ_ALONE = $(if $(PYTEST_PARALLEL),$(PYTEST) $(FUZZ_TESTS),true)
# The fault drill's e2e (issue 15, part 3) runs in make test; alone: make faults-e2e (FAULTS_E2E_SEED=N for
# another seed than 4).
FAULTS_E2E := tests/e2e/test_faults.py
export AWS_DEFAULT_REGION ?= us-east-1
# sam validate/lint read credentials even though they call nothing: give them harmless ones.
SAM_CREDS := AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-local} SAM_CLI_TELEMETRY=0

.PHONY: help install system-deps run test checks test-timeshift lint format template openapi check-openapi events-doc check-events-doc unit integration local-tests e2e faults-e2e fuzz build deploy clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml layers/oms/requirements.txt
	@py=$$(scripts/find-python local) && echo "using $$py" && \
	  { [ -x $(PY) ] || $$py -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	@py=$$(scripts/find-python local) && { [ -x $(SAM_VENV)/bin/python ] || $$py -m venv $(SAM_VENV); }
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements-sam.txt
	@touch $@

install: $(VENV)/.installed ## create .venv with the product, the local stack and the dev tools

run: $(VENV)/.installed ## start the whole product locally until Ctrl-C (ARGS="--port 3001 --no-simulator")
	$(VENV)/bin/oms local $(ARGS)

# What the tests need from the system: pdftoppm (renders the product's PDFs) and Debian's chromium (the
# dashboard's browser tests; Playwright's own browser download is not used). Installed once, as root or via sudo.
system-deps: ## apt packages the tests use: poppler-utils, chromium, faketime
	@missing=""; command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v faketime >/dev/null || missing="$$missing faketime"; \
	  if [ -n "$$missing" ]; then sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); echo "installing$$missing"; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

test: system-deps ## everything CI runs: lint, template checks, generated docs' freshness, all tests
	@# the checks side by side (each waits mostly on its own start-up), their output kept whole; then the suite
	$(MAKE) --no-print-directory -j4 --output-sync=target checks
	$(PYTEST) tests $(PYTEST_PARALLEL) $(WITHOUT_FUZZ)
	$(FUZZ_ALONE)

checks: lint template check-openapi check-events-doc ## what make test checks before the suite (make -j4 checks)

# The suite on other days than today (Debian's faketime shifts every process's clock, the stacks the
# tests start included): a year ahead, and a Saturday night before a public holiday (New York, 3 July
# 2027, 23:30; Independence Day falls on the Sunday and is observed on the Monday). The shift is an
# offset, so processes started later agree with the tests' clock (faketime's "@time" restarts it per process).
# The local stack's processes follow the same offset through time_machine, not libfaketime (whose timed
# waits break Python's threads: local/oms_local/clock.py).
TIMESHIFTS ?= "+365 days" "2027-07-04 03:30:00 UTC"
test-timeshift: install system-deps ## the whole suite under faketime: a year ahead, and a Saturday night before a holiday
	@set -e; for at in $(TIMESHIFTS); do \
	  offset=$$(printf '%+ds' $$(( $$(date -d "$$at" +%s) - $$(date +%s) ))); \
	  echo "== the suite with the clock at $$(date -u -d "$$at") (faketime $$offset)"; \
	  faketime -f "$$offset" $(PYTEST) tests -q -p no:cacheprovider $(PYTEST_PARALLEL) $(WITHOUT_FUZZ); \
	  faketime -f "$$offset" $(FUZZ_ALONE) -q -p no:cacheprovider; done

lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed ## fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

template: $(VENV)/.installed $(SAM_VENV)/.installed ## cfn-lint and sam validate --lint
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_CREDS) $(SAM) validate --lint --template template.yaml

openapi: $(VENV)/.installed ## regenerate docs/openapi.json from the API's routes
	$(PY) -m oms_local.openapi > docs/openapi.json

check-openapi: $(VENV)/.installed ## fail if docs/openapi.json is stale
	@$(PY) -m oms_local.openapi | diff -q - docs/openapi.json >/dev/null || \
	  { echo "docs/openapi.json is stale: run 'make openapi' and commit it"; exit 1; }

events-doc: $(VENV)/.installed ## regenerate docs/events.md from the event definitions (oms/events.py)
	$(PY) -m oms_local.events_doc > docs/events.md

check-events-doc: $(VENV)/.installed ## fail if docs/events.md is stale
	@$(PY) -m oms_local.events_doc | diff -q - docs/events.md >/dev/null || \
	  { echo "docs/events.md is stale: run 'make events-doc' and commit it"; exit 1; }

unit: $(VENV)/.installed ## pure logic tests
	$(PYTEST) tests/unit $(PYTEST_PARALLEL)

integration: $(VENV)/.installed ## handlers with events/ against moto in process
	$(PYTEST) tests/integration $(PYTEST_PARALLEL) $(WITHOUT_FUZZ)
	$(FUZZ_ALONE)

local-tests: $(VENV)/.installed ## the emulator, simulator, template reader and CLI (tests/local)
	$(PYTEST) tests/local $(PYTEST_PARALLEL)

e2e: $(VENV)/.installed ## the local stack as a subprocess, over HTTP and boto3
	$(PYTEST) tests/e2e $(PYTEST_PARALLEL)

faults-e2e: $(VENV)/.installed ## the fault drill, small: a faulty local stack beside a fault-free one (5-20 min)
	$(PYTEST) $(FAULTS_E2E)

# The suite fuzzes every operation with a few examples; this runs the same test with many (FUZZ_EXAMPLES per
# operation and mode, positive and negative data): no 5xx, every answer as docs/openapi.json describes it.
FUZZ_EXAMPLES ?= 100
fuzz: $(VENV)/.installed ## fuzz the whole API from docs/openapi.json (schemathesis; FUZZ_EXAMPLES=100)
	OMS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) -p no:cacheprovider tests/integration/test_api_fuzz.py

build: $(SAM_VENV)/.installed ## sam build (no container; needs Python 3.13 for the arm64 Lambda runtime)
	@py=$$(scripts/find-python lambda) && PATH="$$(dirname $$py):$$PATH" $(SAM_CREDS) $(SAM) build --config-env $(ENV)
	@# lambda-builders downloads manylinux aarch64 wheels (pip download --platform); fail if anything else got in
	@test -f .aws-sam/build/OmsLayer/python/oms/__init__.py || { echo "build: OmsLayer lacks the oms package"; exit 1; }
	@bad=$$(find .aws-sam/build -type f \( -name '*.so' -o -name '*.so.*' \) \
	  -exec sh -c 'od -An -tx1 -j18 -N2 "$$1" | grep -qv "b7 00"' _ {} \; -print); \
	  [ -z "$$bad" ] || { echo "build: not built for arm64 (aarch64):"; echo "$$bad"; exit 1; }

deploy: build $(VENV)/.installed ## sam deploy (guided the first time; ENV=prod for the prod profile)
	@if [ -f .aws-sam/deployed-$(ENV) ]; then SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-env $(ENV); \
	  else SAM_CLI_TELEMETRY=0 $(SAM) deploy --guided --config-env $(ENV) && touch .aws-sam/deployed-$(ENV); fi
	$(PY) -m oms_tools.publish_dashboard --config-env $(ENV)

clean: ## remove build output and local state (not the virtual environments)
	rm -rf .aws-sam .oms .pytest_cache .mypy_cache .ruff_cache
