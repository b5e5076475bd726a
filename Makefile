# Telegraphy's entry points. On a fresh machine: `make demo` or `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := telegraphy-core telegraphy-gateway django-telegraphy flask-telegraphy
STAMP := $(VENV)/.stamp-installed
# The dependencies of the packages' wheels, for tests/test_quickstarts.py's offline install.
WHEELHOUSE := $(VENV)/wheelhouse
DIST := dist
JS_TESTS := tests/js
JS_CLIENT := js
DEMO_PORT ?= 9000
DJANGO_PORT ?= 8000
FLASK_PORT ?= 5000
SHIPPED_JS_DIRS := \
	packages/django-telegraphy/src/telegraphy/contrib/django_telegraphy/static/telegraphy \
	packages/flask-telegraphy/src/telegraphy/contrib/flask_telegraphy/static

.PHONY: bootstrap demo demo-flask ship-js dist test lint typecheck pytest test-js test-js-client docs bench clean

bootstrap: $(STAMP) $(JS_TESTS)/node_modules/.stamp $(JS_CLIENT)/node_modules/.stamp

$(STAMP): requirements-dev.txt $(foreach p,$(PACKAGES),packages/$(p)/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt $(foreach p,$(PACKAGES),-e packages/$(p))
	touch $@

# Our wheels are built only to resolve their dependencies, then left out: the test builds its own.
$(WHEELHOUSE)/.stamp: $(STAMP)
	rm -rf $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)/ours
	for p in $(PACKAGES); do $(PY) -m build -q --wheel --no-isolation --outdir $(WHEELHOUSE)/ours packages/$$p >/dev/null; done
	$(PY) -m pip download -q -d $(WHEELHOUSE) --find-links $(WHEELHOUSE)/ours \
		"django-telegraphy[gateway]" "flask-telegraphy[gateway]" flask-sqlalchemy
	rm -rf $(WHEELHOUSE)/ours $(WHEELHOUSE)/*telegraphy*
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
	for target in $(SHIPPED_JS_DIRS); do cp js/dist/telegraphy.min.js js/dist/telegraphy-htmx.js $$target; done

# Wheels and sdists of the four packages and telegraphy-js's npm tarball, in dist/. The adapters'
# wheels carry the shipped JS client (js/dist/telegraphy.min.js and the htmx extension
# telegraphy-htmx.js, copied by `make ship-js`).
dist: $(STAMP)
	rm -rf $(DIST) && mkdir -p $(DIST)
	for p in $(PACKAGES); do $(PY) -m build -q --no-isolation --outdir $(DIST) packages/$$p >/dev/null; done
	cd $(JS_CLIENT) && npm pack --silent --pack-destination $(abspath $(DIST)) >/dev/null
	ls -1 $(DIST)

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
pytest: $(STAMP) $(WHEELHOUSE)/.stamp
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
	rm -rf $(VENV) $(DIST) docs/_build $(JS_TESTS)/node_modules $(JS_CLIENT)/node_modules
