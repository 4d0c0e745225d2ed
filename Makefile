# digifit — the two commands: `make demo` and `make test`. Both set up everything they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := r-base-core r-cran-survey

.PHONY: demo test lint sysdeps install bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[test,dev,polars,pandas]"
	touch $@

install: $(VENV)/.installed

# Debian packages the tests need (R's survey as the numerical peer). Installed only where missing.
sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

test: install sysdeps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q
	$(VENV)/bin/pytest -q --doctest-modules src/digifit/stats

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check src tests benchmarks

demo: install
	$(VENV)/bin/digifit demo

bench: install
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/run_estimate.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
