# Telegraphy's entry points. On a fresh machine: `make demo` or `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := telegraphy-core telegraphy-gateway django-telegraphy flask-telegraphy
STAMP := $(VENV)/.stamp-installed
JS_TESTS := tests/js
DEMO_PORT ?= 9000

.PHONY: bootstrap demo test lint typecheck pytest test-js docs bench clean

bootstrap: $(STAMP) $(JS_TESTS)/node_modules/.stamp

$(STAMP): requirements-dev.txt $(foreach p,$(PACKAGES),packages/$(p)/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt $(foreach p,$(PACKAGES),-e packages/$(p))
	touch $@

$(JS_TESTS)/node_modules/.stamp: $(JS_TESTS)/package.json $(JS_TESTS)/package-lock.json
	cd $(JS_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: bootstrap
	@echo "Starting the gateway with examples/gateway/telegraphy.toml (Ctrl-C stops it)."
	@echo "  WAMP over WebSocket: ws://127.0.0.1:$(DEMO_PORT)/ws  realm: telegraphy"
	@echo "  Health:              http://127.0.0.1:$(DEMO_PORT)/health"
	@echo "  Backend (WAMP-CRA):  authid demo-backend, secret in examples/gateway/telegraphy.toml"
	@echo "  Anonymous sessions may subscribe to telegraphy.demo.hello and telegraphy.public.*"
	@echo "  Try it: $(PY) examples/gateway/hello.py --port $(DEMO_PORT)"
	$(VENV)/bin/telegraphy-gateway --config examples/gateway/telegraphy.toml --port $(DEMO_PORT)

test: bootstrap lint typecheck pytest test-js docs

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy packages/telegraphy-core/src/telegraphy/core
	$(VENV)/bin/mypy packages/telegraphy-gateway/src/telegraphy/gateway

# pytest exits 5 when it collected no test: make treats that as the failure it is.
pytest: $(STAMP)
	$(PY) -m pytest

test-js: bootstrap
	cd $(JS_TESTS) && npm test

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) docs/_build $(JS_TESTS)/node_modules
