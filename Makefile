# The two commands of the README: `make run` and `make test`. Everything else is a step they take.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

# The embedded default is a development install: the demo's secret key is fine here, never in production.
export CEASEFIRE_ENV ?= development
# The demo lets every role in with a password alone; production requires a second factor of police,
# supervisors and admins (MFA_REQUIRED_ROLES).
export MFA_REQUIRED_ROLES ?= none
# The demo program runs on Pacific time: every time is shown and read in it (the tests set their own zones).
run: export TIMEZONE ?= America/Los_Angeles

.PHONY: run test install lint check clean redis browser

$(BIN)/flask: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/flask

install: $(BIN)/flask

## make run: install, create the SQLite database, seed the demo once, start the server.
run: install
	$(BIN)/flask --app wsgi db upgrade
	@$(BIN)/flask --app wsgi seed-demo || echo "Keeping the data already there. \
	Demo sign-ins: caseworker, police, provider, community, supervisor or admin @demo.ceasefire.test, \
	password ceasefire-demo-2026."
	@echo
	@echo "ceasefire is starting at http://$(HOST):$(PORT)/"
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

## make test: install and run the whole suite (TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL), one
## pytest-xdist worker per core (JOBS=1 for one process); each worker has a database of its own.
JOBS ?= auto
test: install redis browser
	$(BIN)/pytest -n $(JOBS) --dist worksteal $(PYTEST_ARGS)

## The session-store tests talk to Redis at 127.0.0.1:6379: start it when nothing answers there.
redis:
	@if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then \
	  command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server); \
	  redis-server --daemonize yes --save '' --appendonly no; \
	  for _ in $$(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 1; done; \
	fi

## The browser tests drive Debian's Chromium (Playwright's own browser download does not work offline) and inject
## axe-core from npm: both are installed when missing.
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	@test -f tests/browser/node_modules/axe-core/axe.min.js || npm ci --prefix tests/browser --silent --no-audit --no-fund

lint: install
	$(BIN)/ruff check .

## make check: the migrations build exactly the models (against a scratch SQLite database).
check: install
	rm -f instance/check.sqlite
	DATABASE_URL=sqlite:///$(CURDIR)/instance/check.sqlite $(BIN)/flask --app wsgi db upgrade
	DATABASE_URL=sqlite:///$(CURDIR)/instance/check.sqlite $(BIN)/flask --app wsgi db check
	rm -f instance/check.sqlite

clean:
	rm -rf $(VENV) instance *.egg-info tests/browser/node_modules
