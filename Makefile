# Warden: `make demo` plays the local demo, `make test` runs every check. Both bootstrap themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
BIN := $(VENV)/bin
SAM := $(abspath $(SAM_VENV)/bin/sam)
DEV_STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

# `sam build` for the python3.13 runtime needs a python3.13 on PATH. With pyenv, make an installed
# 3.13 visible next to the default interpreter (PYENV_VERSION=3.11.7:3.13.0 on our machines).
# `command -v` is not enough: a pyenv shim named python3.13 exists even when 3.13 is not selected.
ifneq ($(shell python3.13 -c '' >/dev/null 2>&1 && echo yes),yes)
  PYENV_313 := $(shell command -v pyenv >/dev/null 2>&1 && pyenv versions --bare 2>/dev/null | grep -E '^3\.13(\.[0-9]+)?$$' | tail -n 1)
  ifneq ($(PYENV_313),)
    export PYENV_VERSION := $(shell pyenv version-name 2>/dev/null | cut -d: -f1):$(PYENV_313)
  endif
endif
# Make 4.3's $(shell) does not see exported variables: pass PYENV_VERSION explicitly.
HAS_PY313 = $(shell $(if $(PYENV_VERSION),PYENV_VERSION=$(PYENV_VERSION)) python3.13 -c '' >/dev/null 2>&1 && echo yes)

export AWS_EC2_METADATA_DISABLED := true
export SAM_CLI_TELEMETRY := 0
export WARDEN_SAM := $(SAM)
export WARDEN_CHECKOV := $(abspath $(CHECKOV_VENV)/bin/checkov)

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(DEV_STAMP): requirements/dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

$(SAM_STAMP): requirements/sam.lock
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements/sam.lock
	@touch $@

# checkov has a virtual environment of its own too: its pins conflict with the dev tools and the SAM CLI.
$(CHECKOV_STAMP): requirements/checkov.lock
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements/checkov.lock
	@touch $@

.PHONY: venv
venv: $(DEV_STAMP) $(SAM_STAMP) $(CHECKOV_STAMP) ## Create the virtual environments from the pinned lock files

.PHONY: demo
# TARGET=ecs plays the same month against an ECS Fargate service (moto's ECS and Application Auto Scaling).
TARGET ?= apprunner
demo: $(DEV_STAMP) ## Play the local demo against emulated AWS (no account needed); TARGET=ecs for an ECS service, FLEET=1 for a fleet of App Runner and ECS services, VERBOSE=1 for every message in full
	$(BIN)/python -m local.demo --target $(TARGET) $(if $(FLEET),--fleet) $(if $(VERBOSE),--verbose)

.PHONY: invoke
# The Docker-free `sam local invoke -e`: the handler in-process against a fresh local account.
invoke: $(DEV_STAMP) ## Run one handler on an event file against the local account (no Docker): FUNCTION=on_alarm EVENT=events/... [SPEND=10.42] [LOGS=1] [SETTINGS="ALARM_ACTIONS=*-cpu=pause"]
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<folder under functions/> EVENT=<event file>" >&2; exit 2; }
	$(BIN)/python -m local.invoke $(FUNCTION) $(EVENT) $(if $(SPEND),--actual-spend $(SPEND)) $(if $(LOGS),--logs) $(foreach setting,$(SETTINGS),--env $(setting))

.PHONY: test
test: $(DEV_STAMP) $(SAM_STAMP) $(CHECKOV_STAMP) lint typecheck docs ## Lint, type-check, build the docs and run every test tier
	@$(MAKE) --no-print-directory build-check-banner
	$(BIN)/python -m pytest -n auto

.PHONY: docs
docs: $(DEV_STAMP) ## Build the docs site into .site/ (mkdocs build --strict: a broken link or figure fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir .site

.PHONY: build-check-banner
build-check-banner:
	@if [ -z "$(HAS_PY313)" ]; then \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!! SKIPPING the 'sam build' check: no python3.13 on PATH. SAM builds the python3.13"; \
	  echo "!! layer with a local python3.13. Install one (pyenv install 3.13) to run it."; \
	  echo "!! Every other check still runs."; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

.PHONY: lint
lint: $(DEV_STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: format
format: $(DEV_STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: typecheck
typecheck: $(DEV_STAMP) ## mypy --strict on the warden layer
	$(BIN)/mypy

.PHONY: unit integration template-tests
unit: $(DEV_STAMP) ## Unit tests only (no network)
	$(BIN)/python -m pytest tests/unit
integration: $(DEV_STAMP) ## Handlers and adapters against moto and the App Runner emulator
	$(BIN)/python -m pytest tests/integration
template-tests: $(DEV_STAMP) $(SAM_STAMP) $(CHECKOV_STAMP) ## cfn-lint, sam validate --lint, sam build, checkov, IAM checks
	$(BIN)/python -m pytest tests/template

# template.yaml is assembled from templates/src/ (one file per concern) and committed. The assembler needs only the
# standard library: no virtual environment, no network.
.PHONY: template
template: ## Assemble template.yaml from its parts in templates/src/ (CHECK=1: only say whether it is up to date)
	$(PYTHON) -m local.template_build $(if $(CHECK),--check)

.PHONY: validate
validate: $(SAM_STAMP) ## sam validate --lint
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint

.PHONY: build
build: $(SAM_STAMP) ## sam build (python3.13, arm64; no Docker needed)
	$(PYTHON) -m local.template_build --check
	$(SAM) build

.PHONY: deploy
deploy: build ## sam deploy --guided (asks for the service ARN, budget name and e-mail)
	$(SAM) deploy --guided

.PHONY: bench
# Regenerates every file in bench/results/ (about 30 minutes on 2 cores; QUICK=1: about 12, and the files say
# so). Call counts first, the timing-sensitive benchmarks last. bench.performance needs python3.13 (see above).
bench: $(DEV_STAMP) $(SAM_STAMP) ## Regenerate every results file in bench/results/ (QUICK=1 for shorter runs)
	$(BIN)/python -m bench.ecs $(if $(QUICK),3)
	$(BIN)/python -m bench.images
	$(BIN)/python -m bench.spend_guard $(if $(QUICK),--quick)
	$(BIN)/python -m bench.fuzz $(if $(QUICK),--quick)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.keys $(if $(QUICK),--runs 3)
	$(BIN)/python -m bench.performance $(if $(QUICK),--quick)

.PHONY: lock
lock: ## Re-resolve requirements/*.in into the pinned lock files
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements/dev.in
	{ echo "# Generated by 'make lock' from dev.in: the exact environment 'make demo' and 'make test' install."; .lock-venv/bin/pip freeze; } > requirements/dev.lock
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements/sam.in
	{ echo "# Generated by 'make lock' from sam.in."; .lock-venv/bin/pip freeze; } > requirements/sam.lock
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements/checkov.in
	{ echo "# Generated by 'make lock' from checkov.in."; .lock-venv/bin/pip freeze; } > requirements/checkov.lock
	rm -rf .lock-venv

.PHONY: clean
clean: ## Remove build output and caches (keeps the virtual environments)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
