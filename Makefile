# Telegraphy's entry points. On a fresh machine: `make demo` or `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := telegraphy-core telegraphy-gateway django-telegraphy flask-telegraphy
STAMP := $(VENV)/.stamp-installed
JS_TESTS := tests/js
DEMO_PORT ?= 9000
DJANGO_PORT ?= 8000
DJANGO_JS := packages/django-telegraphy/src/telegraphy/contrib/django_telegraphy/static/telegraphy/telegraphy.min.js

.PHONY: bootstrap demo django-js test lint typecheck pytest test-js docs bench clean

bootstrap: $(STAMP) $(JS_TESTS)/node_modules/.stamp

$(STAMP): requirements-dev.txt $(foreach p,$(PACKAGES),packages/$(p)/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt $(foreach p,$(PACKAGES),-e packages/$(p))
	touch $@

$(JS_TESTS)/node_modules/.stamp: $(JS_TESTS)/package.json $(JS_TESTS)/package-lock.json
	cd $(JS_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The Django demo (examples/django_demo): its gateway on DEMO_PORT, Django on DJANGO_PORT.
demo: bootstrap
	$(PY) examples/django_demo/run_demo.py --port $(DJANGO_PORT) --gateway-port $(DEMO_PORT)

# The JS client's script build ships inside django-telegraphy, served as a static file.
django-js:
	cp js/dist/telegraphy.min.js $(DJANGO_JS)

test: bootstrap lint typecheck pytest test-js docs

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy packages/telegraphy-core/src/telegraphy/core
	$(VENV)/bin/mypy packages/telegraphy-gateway/src/telegraphy/gateway
	$(VENV)/bin/mypy packages/django-telegraphy/src/telegraphy/contrib/django_telegraphy

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
