# OpenIOP: `make demo` runs the demo clinic, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo worker test test-fast install dev lint typecheck check serve bench browser audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# One install for both (a fresh clone, as in CI, would otherwise build the package twice).
$(DEVSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP) $@

install: $(STAMP)
dev: $(DEVSTAMP)

# The demo turns MFA enforcement off unless MFA_REQUIRED_ROLES is set (e.g. MFA_REQUIRED_ROLES=clinician make demo).
DEMO_ENV = DEBUG=true MFA_REQUIRED_ROLES="$${MFA_REQUIRED_ROLES-}" PORT=$(PORT)

demo: $(STAMP)
	$(DEMO_ENV) $(BIN)/openiop migrate --no-input
	$(DEMO_ENV) $(BIN)/openiop demo
	$(DEMO_ENV) $(BIN)/openiop runserver 127.0.0.1:$(PORT)

# Background tasks and periodic jobs for the demo: run it in a second terminal beside `make demo` (same database).
worker: $(STAMP)
	$(DEMO_ENV) $(BIN)/openiop worker

# pytest-xdist workers, each with its own test database (PostgreSQL: test_<name>_gw0, ...; SQLite: one file per
# worker process). `--dist loadgroup` keeps each xdist_group (the process tests) on one worker.
# PYTEST_WORKERS=auto|N|0 (0: one process, no xdist); PYTEST_ARGS adds pytest options or paths.
PYTEST_WORKERS ?= 2
PYTEST_XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadgroup)

# Persistent connections would keep the live-server threads' sessions open past the test database's drop.
test: $(DEVSTAMP)
	$(BIN)/python -m openiop.testing.preflight
	DB_CONN_MAX_AGE=0 $(BIN)/pytest $(PYTEST_XDIST) --durations=15 $(PYTEST_ARGS) || { rc=$$?; \
	  [ $$rc -ne 5 ] || echo "make: FAIL pytest collected no tests (exit 5)" >&2; exit $$rc; }

# The quick loop: everything but the headless-browser tests and the tests that start worker processes.
test-fast: $(DEVSTAMP)
	DB_CONN_MAX_AGE=0 $(BIN)/pytest $(PYTEST_XDIST) -m "not browser and not process" --durations=15 $(PYTEST_ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(DEVSTAMP)
	$(BIN)/mypy openiop bench

check: lint typecheck test

# Production-style, from a fresh clone (docs/operations.md): needs HTTPS=true, SECRET_KEY, ALLOWED_HOSTS (and
# BEHIND_PROXY=true behind a TLS proxy); migrate, build the hashed static files, then gunicorn on 127.0.0.1:$(PORT).
serve: $(STAMP)
	$(BIN)/openiop migrate --no-input
	$(BIN)/openiop collectstatic --no-input
	$(BIN)/gunicorn openiop.wsgi --workers $${WEB_CONCURRENCY:-3} --bind 127.0.0.1:$(PORT)

bench: $(DEVSTAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Known vulnerabilities in the installed packages (pip-audit; docs/decisions/0008-test-tooling.md). Exit 1 lists them;
# with no vulnerability database reachable it says "could not reach the vulnerability database" and exits 0.
# AUDIT_SERVICE=osv asks OSV instead of PyPI.
audit: $(DEVSTAMP)
	$(BIN)/python -m openiop.testing.depaudit

# Debian's chromium for the browser tests (root on Debian/Ubuntu).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

clean:
	rm -rf $(VENV) var build *.egg-info
