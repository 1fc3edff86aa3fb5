# Two commands do everything on a fresh machine with Python 3.11 and Node:
#   make local   installs what is missing, then runs the platform on http://127.0.0.1:8000
#   make test    installs what is missing, then runs every test and check
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(VENV)/bin/python
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PYTHONPATH := $(CURDIR)

.PHONY: local test lint typecheck unit integration infra e2e synth clean install schedule bench browser readme screenshots

# checkov runs from a tool environment of its own (its hundred dependencies stay out of the platform's lock);
# asl-validator comes from npm (package.json).
CHECKOV_VERSION := 3.3.30
CHECKOV := $(TOOLS)/bin/checkov

install: $(VENV)/.synced $(VENV)/bin/accu $(CHECKOV) node_modules/.package-lock.json browser

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# The operator CLI (cli/): a launcher in the environment's bin, for this checkout.
$(VENV)/bin/accu: $(VENV)/.synced
	printf '#!/bin/sh\nPYTHONPATH="%s$${PYTHONPATH:+:$$PYTHONPATH}" exec "%s" -m cli "$$@"\n' "$(CURDIR)" "$(CURDIR)/$(RUN)" > $@
	chmod +x $@

$(CHECKOV): | $(UV)
	UV_TOOL_DIR=$(TOOLS)/uv-tools UV_TOOL_BIN_DIR=$(TOOLS)/bin $(UV) tool install --python $(PYTHON) checkov==$(CHECKOV_VERSION)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

local: $(VENV)/.synced
	FRESH=$(FRESH) $(RUN) -m infra.local

test: install browser lint typecheck
	$(RUN) -m pytest -n 2 --dist loadgroup

lint: install
	$(VENV)/bin/ruff check .

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(RUN) -m pytest tests/unit

integration: install
	$(RUN) -m pytest tests/integration

infra: install
	$(RUN) -m pytest tests/infra

e2e: install browser
	$(RUN) -m pytest tests/e2e

# The operations console's pages as PNGs in docs/ (a platform of its own, seeded, in Chromium)
screenshots: install browser
	$(RUN) docs/screenshots.py

# The e2e tests open the console and Swagger UI in Debian's Chromium (Playwright's own browser download
# does not work offline): installed once with apt-get (as root, or through sudo) where apt is available;
# elsewhere the browser tests are skipped, saying so.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends chromium; \
	else echo "no apt-get here: install Chromium at /usr/bin/chromium to run the browser tests (skipped without it)"; fi

# The local platform against the bare engine, and a lifecycle's cost in AWS (about 10 minutes);
# prints a table and writes .local/bench/latest.json
bench: install
	$(RUN) -m bench

# Run one of the local platform's schedules now: make schedule NAME=HealthCheck (FailureRecovery, DailyReport)
schedule:
	@curl -s -X POST http://127.0.0.1:$${PORT:-8000}/local/schedules/$(NAME); echo

synth: install
	$(RUN) app.py

# The README's tables made from the catalog (what each function may do)
readme: $(VENV)/.synced
	$(RUN) -m infra.readme_tables

clean:
	rm -rf $(VENV) $(TOOLS) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache .local
