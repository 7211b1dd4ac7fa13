# johann.monitor: every entry point bootstraps .venv from the requirements
# files first; a second run finds it up to date and goes straight on.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv demo test lint bench bench-quick lab-start lab-stop lab-status clean

help:
	@echo "make demo    start the simulated lab and show it is ready"
	@echo "make test    lint + every test (unit, lab, integration)"
	@echo "make lint    static checks"
	@echo "make bench   benchmarks (lab throughput over TLS; netcommon interop)"
	@echo "make lab-stop / lab-status"

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.x")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

lab-start: $(STAMP)
	@$(PY) -m lab stop >/dev/null
	$(PY) -m lab start --fleet lab/fleets/demo.yml

lab-stop: $(STAMP)
	@$(PY) -m lab stop

lab-status: $(STAMP)
	@$(PY) -m lab status

demo: lab-start
	$(PY) -m lab probe

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m compileall -q lab tests $(wildcard bench)

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/run.py $(BENCH_ARGS)

bench-quick: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/run.py --quick $(BENCH_ARGS)

clean:
	-$(PY) -m lab stop
	rm -rf .lab reports/out bench/work tests/artifacts .pytest_cache
