# digifit — the two commands: `make demo` and `make test`. Both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := r-base-core r-cran-survey postgresql openjdk-17-jre-headless \
	libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils chromium gettext
# PostgreSQL for the second run of the Django tests (`make postgres` starts it and creates the role).
TEST_DATABASE_URL ?= postgres://digifit:digifit@127.0.0.1:5432/digifit
PG_AS := $(shell [ "$$(id -u)" = 0 ] && echo "runuser -u postgres --" || echo "sudo -u postgres")
# The suite on every core (pytest-xdist); `make test XDIST=` runs it in one process.
XDIST ?= -n auto --dist loadscope
# Front-end assets (Pico CSS, HTMX, Vega/Vega-Lite/Vega-Embed, Vega's CSP-safe expression interpreter, scorm-again's SCORM runtime) from npm, copied where Django's staticfiles find them (gitignored).
# npm also brings the tests' peers: Enketo's XPath evaluator (openrosa-xpath-evaluator) under jsdom (tests/forms/test_enketo_peer.py).
ASSETS := src/digifit/web/vendor

.PHONY: demo test lint sysdeps install bench clean assets postgres

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[test,dev,polars,pandas,spark,server]"
	touch $@

install: $(VENV)/.installed assets

$(ASSETS)/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(ASSETS)
	cp node_modules/@picocss/pico/css/pico.min.css node_modules/htmx.org/dist/htmx.min.js $(ASSETS)/
	cp node_modules/vega/build/vega.min.js node_modules/vega-lite/build/vega-lite.min.js \
	  node_modules/vega-embed/build/vega-embed.min.js node_modules/vega-interpreter/build/vega-interpreter.min.js $(ASSETS)/
	cp node_modules/scorm-again/dist/scorm12.min.js node_modules/scorm-again/dist/scorm2004.min.js \
	  node_modules/scorm-again/dist/cross-frame-lms.min.js node_modules/scorm-again/dist/cross-frame-api.min.js $(ASSETS)/
	touch $@

assets: $(ASSETS)/.installed

# Start the local PostgreSQL cluster (installed by sysdeps) and create the test role; idempotent.
postgres: sysdeps
	@cluster=$$(pg_lsclusters -h | awk 'NR==1 {print $$1" "$$2}'); \
	if [ -z "$$cluster" ]; then ver=$$(ls /usr/lib/postgresql | sort -n | tail -1); $(SUDO) pg_createcluster $$ver main; cluster="$$ver main"; fi; \
	$(SUDO) pg_ctlcluster $$cluster start 2>/dev/null || pg_lsclusters -h | awk 'NR==1 {exit ($$4 == "online") ? 0 : 1}'
	@$(PG_AS) psql -tAc "SELECT 1 FROM pg_roles WHERE rolname='digifit'" | grep -q 1 || \
	  $(PG_AS) psql -q -c "CREATE ROLE digifit LOGIN CREATEDB PASSWORD 'digifit'"
	@$(PG_AS) psql -tAc "SELECT 1 FROM pg_database WHERE datname='digifit'" | grep -q 1 || \
	  $(PG_AS) createdb -O digifit digifit

# Debian packages the tests need (R's survey as the numerical peer). Installed only where missing.
sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

test: install sysdeps postgres
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	env -u DATABASE_URL $(VENV)/bin/pytest -q $(XDIST)
	# the Django tests again, on PostgreSQL (fails, never skips, if the server is unreachable)
	DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest -q $(XDIST) tests/survey tests/accounts tests/web tests/programme tests/notifications tests/assessment tests/learning
	$(VENV)/bin/pytest -q --doctest-modules src/digifit/stats src/digifit/forms src/digifit/learning/certificate_code.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check src tests benchmarks

# `make demo PORT=8001` serves on another port (e-mail links follow it)
PORT ?= 8000
demo: install
	$(VENV)/bin/digifit demo --port $(PORT)

bench: install
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/run_estimate.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
