# Telegraphy's entry points. On a fresh machine: `make demo` or `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := telegraphy-core telegraphy-gateway django-telegraphy flask-telegraphy
STAMP := $(VENV)/.stamp-installed
JS_TESTS := tests/js
JS_CLIENT := js
DEMO_PORT ?= 9000
DJANGO_PORT ?= 8000
FLASK_PORT ?= 5000
SHIPPED_JS := \
	packages/django-telegraphy/src/telegraphy/contrib/django_telegraphy/static/telegraphy/telegraphy.min.js \
	packages/flask-telegraphy/src/telegraphy/contrib/flask_telegraphy/static/telegraphy.min.js

.PHONY: bootstrap demo demo-flask ship-js test lint typecheck pytest test-js test-js-client docs bench clean

bootstrap: $(STAMP) $(JS_TESTS)/node_modules/.stamp $(JS_CLIENT)/node_modules/.stamp

$(STAMP): requirements-dev.txt $(foreach p,$(PACKAGES),packages/$(p)/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt $(foreach p,$(PACKAGES),-e packages/$(p))
	touch $@

$(JS_TESTS)/node_modules/.stamp: $(JS_TESTS)/package.json $(JS_TESTS)/package-lock.json
	cd $(JS_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(JS_CLIENT)/node_modules/.stamp: $(JS_CLIENT)/package.json $(JS_CLIENT)/package-lock.json
	cd $(JS_CLIENT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The Django demo (examples/django_demo): its gateway on DEMO_PORT, Django on DJANGO_PORT.
demo: bootstrap
	$(PY) examples/django_demo/run_demo.py --port $(DJANGO_PORT) --gateway-port $(DEMO_PORT)

# The Flask demo (examples/flask_demo): its gateway on DEMO_PORT, Flask on FLASK_PORT.
demo-flask: bootstrap
	$(PY) examples/flask_demo/run_demo.py --port $(FLASK_PORT) --gateway-port $(DEMO_PORT)

# The JS client's script build ships inside the Django and Flask packages as a static file.
ship-js:
	for target in $(SHIPPED_JS); do cp js/dist/telegraphy.min.js $$target; done

test: bootstrap lint typecheck pytest test-js test-js-client docs

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy packages/telegraphy-core/src/telegraphy/core
	$(VENV)/bin/mypy packages/telegraphy-gateway/src/telegraphy/gateway
	$(VENV)/bin/mypy packages/django-telegraphy/src/telegraphy/contrib/django_telegraphy
	$(VENV)/bin/mypy packages/flask-telegraphy/src/telegraphy/contrib/flask_telegraphy

# pytest exits 5 when it collected no test: make treats that as the failure it is.
pytest: $(STAMP)
	$(PY) -m pytest

test-js: bootstrap
	cd $(JS_TESTS) && npm test

# telegraphy-js: type check, unit tests, a real gateway, headless Chromium, bundle size, and
# that the committed dist/ is what the sources build to (`cd js && npm run build` updates it).
test-js-client: bootstrap
	cd $(JS_CLIENT) && npm test

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) docs/_build $(JS_TESTS)/node_modules $(JS_CLIENT)/node_modules
