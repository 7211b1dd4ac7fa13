# johann.monitor: every entry point bootstraps .venv from the requirements
# files first; a second run finds it up to date and goes straight on.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv demo test matrix lint sanity bench bench-quick chaos lab-start lab-stop lab-status clean \
	ara-start ara-stop ara-list ara-prune build ee-context

help:
	@echo "make demo    start the demo lab, run playbooks/monitor.yml against it with ARA recording, print where the report is"
	@echo "make test    make lint, chromium and postgresql if missing, make matrix, then every test (unit, lab, integration, browser) in .venv (ansible-core 2.19)"
	@echo "make venv    create or update .venv (requirements-dev.txt; ARA's plugins; cisco.ios, ansible.netcommon, ansible.utils from PyPI)"
	@echo "make matrix  ansible-test sanity + every test on ansible-core $(MATRIX_CORE) with Python 3.12, in $(MATRIX_VENV)"
	@echo "make lint    static checks (ruff, compileall, ansible-lint, antsibull-changelog lint, ansible-test sanity)"
	@echo "make sanity  ansible-test sanity for the collection only"
	@echo "make bench   benchmarks (bench/run.py: lab throughput over TLS, netcommon interop, the fleet stage)"
	@echo "make bench-quick   smaller benchmarks (bench/run.py --quick)"
	@echo "make chaos   the monitor against misbehaving devices and controller faults (bench/chaos.py, root for tmpfs)"
	@echo "make lab-start / lab-stop / lab-status   the background demo lab (LAB_ARGS)"
	@echo "make browser-deps   Debian's chromium (apt-get) for the browser tests"
	@echo "make ara-start / ara-stop / ara-list   the local ARA server (run history) at $(ARA_SERVER)"
	@echo "make ara-start ARA_DB=postgresql   ARA's server on PostgreSQL, $(ARA_WORKERS) workers (a team's; docs/ara.md)"
	@echo "make ara-prune   delete ARA's runs older than ARA_KEEP_DAYS=$(ARA_KEEP_DAYS) days (ara playbook prune)"
	@echo "make postgresql-deps   Debian's postgresql (apt-get) for ARA_DB=postgresql and its tests"
	@echo "make build   the collection's tarball in build/ (ansible-galaxy collection build)"
	@echo "make ee-context   build + the execution environment's build context in build/ee (ansible-builder create)"
	@echo "make clean   stop the lab and the local ARA server; remove .lab, reports/out, bench/work, tests/artifacts, .pytest_cache, build"

$(STAMP): requirements.txt requirements-dev.txt requirements-collections.txt requirements.yml tools/collections_from_pypi.py
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.x")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@# a fixed path to ARA's Ansible plugins for ansible.cfg, whatever the Python version
	ln -sfn "$$($(PY) -m ara.setup.path)/plugins" $(VENV)/ara-plugins
	@# cisco.ios, ansible.netcommon, ansible.utils (requirements.yml) from PyPI: no Galaxy here
	$(PY) tools/collections_from_pypi.py --dest $(VENV)/collections
	@touch $@

venv: $(STAMP)

# LAB_ARGS: e.g. --network 127.78.0.0/16 for a second checkout on the same machine
LAB_ARGS ?=

lab-start: $(STAMP)
	@$(PY) -m lab stop >/dev/null
	$(PY) -m lab start --fleet lab/fleets/demo.yml $(LAB_ARGS)

lab-stop: $(STAMP)
	@$(PY) -m lab stop

lab-status: $(STAMP)
	@$(PY) -m lab status

# ARA: the run history. ansible.cfg points ARA's callback at $(ARA_SERVER); the
# johann.monitor.ara_server callback starts the server there when a run needs it.
# (a second checkout on the same machine: ARA_SERVER=http://127.0.0.1:8056, or it shares this history)
ARA_SERVER ?= http://127.0.0.1:8055
ARA_DATA := $(CURDIR)/.ara/server
ARA_ENV := ARA_API_CLIENT=http ARA_API_SERVER=$(ARA_SERVER)
# ARA_DB=sqlite (the default): the server above, one gunicorn worker on SQLite, started on demand by the runs.
# ARA_DB=postgresql: a team's server (docs/ara.md): a private PostgreSQL cluster (Debian's package, data in
# .ara/postgresql, on $(ARA_PG_HOST):$(ARA_PG_PORT), ARA's role with a generated password in a 0600 file there)
# and gunicorn with ARA_WORKERS sync workers at the same $(ARA_SERVER), ARA's data dir .ara/server-postgresql.
# Runs then record with ARA's callback threads: ARA_CALLBACK_THREADS=4 (ansible.cfg keeps 0, SQLite's setting).
ARA_DB ?= sqlite
ARA_WORKERS ?= 4
ARA_PG_DIR ?= $(CURDIR)/.ara/postgresql
ARA_PG_DATA ?= $(CURDIR)/.ara/server-postgresql
ARA_PG_HOST ?= 127.0.0.1
ARA_PG_PORT ?= 55432
# make ara-prune: ARA keeps ARA_KEEP_DAYS days of runs (a 15-minute schedule makes 96 runs a day)
ARA_KEEP_DAYS ?= 30
ARA_PRUNE_LIMIT ?= 5000

ara-start: $(STAMP) $(if $(filter postgresql,$(ARA_DB)),postgresql-deps)
ifeq ($(ARA_DB),postgresql)
	$(PY) tools/postgres.py ara-start $(ARA_PG_DIR) --ara-data $(ARA_PG_DATA) --ara-server $(ARA_SERVER) \
		--workers $(ARA_WORKERS) --host $(ARA_PG_HOST) --port $(ARA_PG_PORT)
	@echo "Record there with ARA's callback threads (and restart only this server if it stops):"
	@echo "  export ARA_CALLBACK_THREADS=4 JOHANN_ARA_DATA_DIR=$(ARA_PG_DATA)"
else ifeq ($(ARA_DB),sqlite)
	@$(PY) tools/ara_server.py start $(ARA_SERVER) $(ARA_DATA) --timeout 30
	@echo "ARA: $(ARA_SERVER) (data in $(ARA_DATA))"
else
	$(error ARA_DB is sqlite (the default) or postgresql, not '$(ARA_DB)')
endif

# stops whichever runs: the SQLite server, and the PostgreSQL one with its cluster
ara-stop:
	@if [ -f $(ARA_DATA)/gunicorn.pid ] && kill "$$(cat $(ARA_DATA)/gunicorn.pid)" 2>/dev/null; then \
		echo "ARA server stopped"; else echo "no ARA server running from $(ARA_DATA)"; fi; rm -f $(ARA_DATA)/gunicorn.pid
	@if [ -d $(ARA_PG_DIR) ]; then $(PY) tools/postgres.py ara-stop $(ARA_PG_DIR) --ara-data $(ARA_PG_DATA); fi

ara-list: $(STAMP)
	$(ARA_ENV) $(VENV)/bin/ara playbook list --limit 20

# ARA's own pruning (either database): deletes the runs started more than ARA_KEEP_DAYS days ago, with their
# results, through the API. Schedule it daily (cron, a systemd timer, an AWX schedule: docs/ara.md).
ara-prune: $(STAMP)
	$(ARA_ENV) $(VENV)/bin/ara playbook prune --days $(ARA_KEEP_DAYS) --limit $(ARA_PRUNE_LIMIT) --confirm

demo: lab-start
	ARA_API_SERVER=$(ARA_SERVER) $(VENV)/bin/ansible-playbook playbooks/monitor.yml
	@echo
	@echo "The report: file://$(CURDIR)/reports/out/index.html"
	@echo "The run history (ARA): $(ARA_SERVER) in a browser, or make ara-list"
	@echo "The lab keeps running for you to explore (make lab-status, make lab-stop); see README.md."

# ansible-lint: the production profile over playbooks, tests' playbooks and the collection
# (.ansible-lint: offline, no Galaxy); a finding fails the build. The venv's bin first in PATH:
# ansible-lint runs ansible-playbook --syntax-check from there. antsibull-changelog lint: the
# collection's changelog fragments (changelogs/fragments, a fragment per change).
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m compileall -q lab tests tools $(wildcard bench)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/ansible-lint --nocolor
	cd $(COLLECTION) && $(CURDIR)/$(VENV)/bin/antsibull-changelog lint
	@$(MAKE) --no-print-directory sanity

# ansible-test sanity over the collection, every test, with no ignore file.
# --venv: each test's pinned tools go in their own virtual environment under
# ~/.ansible/test/venv (kept between runs), not in .venv. ansible-test bootstraps
# pip in them with a get-pip script from a host that is not reachable here; it uses
# a cached copy first, and tools/ansible_test_getpip.py writes that copy (ensurepip,
# then pip install from the package index).
COLLECTION := collections/ansible_collections/johann/monitor
SANITY_ARGS ?=

sanity: $(STAMP)
	@if [ -n "$$(find $(COLLECTION)/tests/sanity -name 'ignore-*.txt' -size +0c 2>/dev/null)" ]; then \
		echo "$(COLLECTION)/tests/sanity/ignore-*.txt must stay empty: fix the finding instead"; exit 1; fi
	$(PY) tools/ansible_test_getpip.py
	cd $(COLLECTION) && $(CURDIR)/$(VENV)/bin/ansible-test sanity --venv \
		--python "$$($(CURDIR)/$(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')" $(SANITY_ARGS)

# The collection's tarball, built from the collection's directory (its galaxy.yml; the top-level
# galaxy.yml carries the same metadata), with the report's default templates (templates/report).
BUILD_DIR := build
VERSION = $(shell sed -n 's/^version: *//p' $(COLLECTION)/galaxy.yml)

build: $(STAMP)
	$(VENV)/bin/ansible-galaxy collection build $(COLLECTION) --output-path $(BUILD_DIR) --force
	@echo "The collection: $(BUILD_DIR)/johann-monitor-$(VERSION).tar.gz"

# The execution environment's build context (execution-environment.yml); build the image from it
# with podman or docker where one is available (ansible-builder build).
ee-context: build
	$(VENV)/bin/ansible-builder create -f execution-environment.yml -c $(BUILD_DIR)/ee --output-filename Containerfile
	@echo "Build context: $(BUILD_DIR)/ee (podman build -f $(BUILD_DIR)/ee/Containerfile $(BUILD_DIR)/ee)"

# Debian's chromium for the browser tests (tests/browser, Playwright drives /usr/bin/chromium).
.PHONY: browser-deps
browser-deps:
	@test -x /usr/bin/chromium && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; else \
		echo "make browser-deps: /usr/bin/chromium is missing; run 'apt-get install chromium' as root (no sudo here)" >&2; exit 1; fi; \
	echo "make browser-deps: installing Debian's chromium for the browser tests"; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		|| { echo "make browser-deps: apt-get could not install chromium (needed by tests/browser)" >&2; exit 1; }; \
	test -x /usr/bin/chromium || { echo "make browser-deps: chromium installed but /usr/bin/chromium is missing" >&2; exit 1; }

# Debian's PostgreSQL for ARA_DB=postgresql and the tests' ARA on PostgreSQL (tests/ara_postgres.py; tools/postgres.py
# runs it as the postgres user when root). The package's own cluster (5432) is not used.
.PHONY: postgresql-deps
postgresql-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null; then sudo=sudo; else \
		echo "make postgresql-deps: PostgreSQL is missing; run 'apt-get install postgresql' as root (no sudo here)" >&2; exit 1; fi; \
	echo "make postgresql-deps: installing Debian's postgresql for ARA on PostgreSQL"; \
	$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql \
		|| { echo "make postgresql-deps: apt-get could not install postgresql (needed by ARA_DB=postgresql and its tests)" >&2; exit 1; }; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "make postgresql-deps: postgresql installed but no /usr/lib/postgresql/*/bin/initdb" >&2; exit 1; }

test: lint browser-deps postgresql-deps matrix
	$(PY) -m pytest $(PYTEST_ARGS)

# make matrix: the newest ansible-core line the collection allows (requirements.txt: >=2.19,<2.22), 2.21 on
# Python 3.12, in .venv-2.21: the venv recipe above with that interpreter (the same requirements files, ARA's
# plugins linked), ansible-core held to 2.21 by constraints-2.21.txt, then the collections of requirements.yml
# from the `ansible` release for 2.21 (requirements-collections-2.21.txt: 2.19's netcommon does not run on 2.21);
# then ansible-test sanity and every test, as make test runs them on .venv. .venv stays on 2.19 without a pin:
# ansible-core 2.20 and later need Python 3.12+, and .venv is made with python3 (3.11 on these machines).
# tests/conftest.py points Ansible at the running venv's collections and ARA plugins (ansible.cfg names .venv's).
# PYTHON312: python3.12 from PATH when it runs (a pyenv shim may not), else the newest pyenv 3.12.x.
MATRIX_CORE := 2.21
MATRIX_VENV := .venv-$(MATRIX_CORE)
MATRIX_CONSTRAINTS := $(CURDIR)/constraints-$(MATRIX_CORE).txt
MATRIX_PYTEST_ARGS ?= $(PYTEST_ARGS)
PYTHON312 ?= $(shell for p in "$$(command -v python3.12)" \
	$$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/3.12.*/bin/python3.12 2>/dev/null | sort -rV); do \
	[ -n "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 \
	&& { echo "$$p"; break; }; done)
MATRIX_MAKE = $(MAKE) --no-print-directory VENV=$(MATRIX_VENV) PYTHON="$(PYTHON312)"

# the matrix venv is made again when its constraints change, as when the requirements do
$(MATRIX_VENV)/.installed: $(MATRIX_CONSTRAINTS)

matrix: browser-deps postgresql-deps
	@test -n "$(PYTHON312)" || { echo "make matrix: no Python 3.12 found: neither python3.12 on PATH (that runs) nor" \
		"$${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12.*/bin/python3.12; install one (pyenv install 3.12)" \
		"or name it: make matrix PYTHON312=/path/to/python3.12" >&2; exit 1; }
	@"$(PYTHON312)" -c 'import sys; sys.exit(None if sys.version_info[:2] == (3, 12) else \
		"make matrix: PYTHON312=$(PYTHON312) is Python %d.%d, not 3.12" % sys.version_info[:2])'
	PIP_CONSTRAINT="$(MATRIX_CONSTRAINTS)" $(MATRIX_MAKE) venv
	$(MATRIX_VENV)/bin/python tools/collections_from_pypi.py --pins requirements-collections-$(MATRIX_CORE).txt \
		--dest $(MATRIX_VENV)/collections
	@$(MATRIX_VENV)/bin/python -c 'import sys; from ansible.release import __version__ as v; \
		sys.exit(None if v.startswith("$(MATRIX_CORE).") and sys.version_info[:2] == (3, 12) else \
		f"make matrix: $(MATRIX_VENV) has ansible-core {v} on Python {sys.version.split()[0]}, not $(MATRIX_CORE) on 3.12: " \
		"remove $(MATRIX_VENV) and run make matrix again")'
	@echo "make matrix: ansible-core $$($(MATRIX_VENV)/bin/ansible --version | sed -n '1s/.*core \([^]]*\)].*/\1/p')" \
		"on $$($(MATRIX_VENV)/bin/python --version) ($(MATRIX_VENV))"
	$(MATRIX_MAKE) sanity
	$(MATRIX_VENV)/bin/python -m pytest $(MATRIX_PYTEST_ARGS)

bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m bench.run --quick $(BENCH_ARGS)

# The chaos suite (bench/chaos.py): every misbehaving device and controller fault, then 1000 devices with
# 20% faulty; results in bench/results/<date>-chaos.{md,json}. The report-directory cases mount tmpfs (root).
# CHAOS_ARGS: e.g. --cases drip-body,ara-hung --fleet-devices 0
CHAOS_ARGS ?=

chaos: $(STAMP)
	$(PY) -m bench.chaos $(CHAOS_ARGS)

clean: ara-stop
	-$(PY) -m lab stop
	rm -rf .lab reports/out bench/work tests/artifacts .pytest_cache $(BUILD_DIR)
