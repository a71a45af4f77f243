# Single entry point. `make synth` and `make test` work on a fresh machine (Python 3.11, Node 20,
# no AWS credentials, no Docker): they create .venv and node_modules when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= configs/default.yaml
CDK := npx --no-install cdk
CDK_ARGS := -c config=$(CONFIG)

# Project-wide settings for every tool started from here: the jsii runtime (Python -> Node) and
# the CDK CLI both print a Node 20 end-of-life banner; CDK CLI telemetry is off (also in cdk.json).
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup synth test lint deploy diff destroy deploy-local bench clean config cost preflight schema pipeline pipeline-deploy diagram

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# checkov pins its own boto3 and more: it lives in its own virtualenv, installed here so the test
# suite's time does not include it.
.venv-checkov/.installed: requirements-checkov.txt
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed .venv-checkov/.installed

synth: setup
	rm -rf cdk.out
	$(CDK) synth --quiet $(CDK_ARGS)
	$(PY) -m stacks.summary cdk.out

test: setup
	$(PY) -m pytest -n 2 --dist loadgroup -q

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/cfn-lint cdk.out/*.template.json

deploy: setup
	$(CDK) deploy --all $(CDK_ARGS)

diff: setup
	$(CDK) diff --all $(CDK_ARGS)

destroy: setup
	$(CDK) destroy --all $(CDK_ARGS)

# Emulated deploy of configs/local.yaml to a moto server on loopback (no account, no Docker); see
# stacks/local_deploy.py for what it proves and what it changes in the templates.
deploy-local: setup
	$(PY) -m stacks.local_deploy --config configs/local.yaml

bench: setup
	$(PY) -m bench

config: setup
	$(PY) -m stacks.config.show $(CONFIG)

cost: setup
	$(PY) -m stacks.cost $(CONFIG)

# Regenerate schema/*.schema.json and docs/config-reference.md from the pydantic model (a test checks them).
schema: setup
	$(PY) -m stacks.config.schema

# Architecture diagram of the default platform from a fresh synth; rendering needs graphviz (`dot`).
diagram: synth
	$(PY) docs/architecture.py cdk.out docs/architecture.dot
	dot -Tsvg docs/architecture.dot -o docs/architecture.svg

PIPELINE_ARGS := --app '$(PY) pipeline/app.py' -o cdk.out.pipeline

pipeline: setup
	rm -rf cdk.out.pipeline
	$(CDK) synth --quiet $(PIPELINE_ARGS)

pipeline-deploy: setup
	$(CDK) deploy $(PIPELINE_ARGS) --all

# Needs credentials for the target account (reads Service Quotas and EC2 offerings); never run by synth.
preflight: setup
	$(PY) -m stacks.preflight $(CONFIG)

clean:
	rm -rf cdk.out cdk.out.pipeline .pytest_cache
