# Global Credit Core — the one entry point. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .cache/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
CONSOLE := web/dist/index.html
BUF := $(VENV)/bin/buf
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: help run test test-browser lint generate check-generated bench token webhook rewrap-pii install clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: install $(CONSOLE) ## Start PostgreSQL, NATS, every service and the gateway; print where to go (Ctrl-C stops it all)
	$(PY) -m devstack

test: install lint check-generated ## Every check and test: real PostgreSQL, NATS and Envoy; the console in Chromium
	$(PY) -m pytest libs services gateway tools tests
	cd web && npm test
	cd web && npm run e2e

test-browser: install ## The console in Chromium (/usr/bin/chromium) against a dev stack started on free ports
	cd web && npm run e2e

lint: install ## buf lint + format + breaking, ruff, mypy, import contracts, TypeScript types
	$(BUF) lint
	$(BUF) format --diff --exit-code
	@if git rev-parse -q --verify main >/dev/null; then $(BUF) breaking --against '.git#branch=main'; fi
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/svckit/src services/*/src gateway/webhook-shim/src tools/devstack tools/bench tools/samples
	$(VENV)/bin/lint-imports
	cd web && npx --no-install tsc --noEmit

generate: install ## Regenerate Python (gen/python) and TypeScript (web/src/gen) from protos/
	tools/generate.sh

check-generated: generate ## Fail when the committed generated code is stale
	@git diff --exit-code --stat -- gen/python web/src/gen || \
	  (echo "generated code is stale: run 'make generate' and commit the result" >&2; exit 1)
	@test -z "$$(git ls-files --others --exclude-standard -- gen/python web/src/gen)" || \
	  (echo "generated files are not committed: run 'make generate' and commit the result" >&2; exit 1)

bench: install ## Measure CreateApplication throughput and latency beside the raw PostgreSQL insert rate
	$(PY) -m bench

webhook: install ## Sign and send a bank confirmation to the running stack: make webhook APPLICATION=applications/<id> [NOT_VERIFIED=1] [NOT_DISBURSED=1]
	@test -n "$(APPLICATION)" || (echo "usage: make webhook APPLICATION=applications/<id>" >&2; exit 2)
	@WEBHOOK_SHIM_SECRETS="$$(cat .run/secrets/webhook-secret)" $(PY) -m webhook_shim send \
	  --url http://127.0.0.1:$${GCC_WEBHOOK_SHIM_PORT:-8090}/webhooks/bank-confirmations \
	  --application $(APPLICATION) $(if $(NOT_VERIFIED),--not-verified) $(if $(NOT_DISBURSED),--not-disbursed)

rewrap-pii: install ## Re-wrap PII data keys under the current key (after a rotation in .run/secrets/intake-pii-keys.json and a restart)
	@eval "$$($(PY) -m devstack env intake | grep '^export')" && $(PY) -m intake rewrap

token: install ## Print a development token: make token ROLE=analyst [PARTNER_ID=p-1]
	@$(PY) -m devstack token $(or $(ROLE),analyst) $(if $(PARTNER_ID),--partner-id $(PARTNER_ID))

install: $(VENV)/.synced web/node_modules/.installed ## Create the virtual environment and node modules

$(CONSOLE): web/node_modules/.installed web/index.html web/vite.config.ts $(shell find web/src -type f 2>/dev/null)
	cd web && npm run build

$(UV):
	$(PYTHON) -m venv .cache/uv
	.cache/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml */*/pyproject.toml
	$(UV) sync --frozen --all-packages --python $(PYTHON)
	@touch $@

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

clean: ## Remove the virtual environment, node modules and caches (keeps .run, the dev stack's data)
	rm -rf $(VENV) .cache web/node_modules .mypy_cache .ruff_cache .pytest_cache
