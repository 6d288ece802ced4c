# OpenIOP: `make demo` runs the demo clinic, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: demo test install dev lint typecheck check serve bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEVSTAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)
dev: $(DEVSTAMP)

demo: $(STAMP)
	DEBUG=true $(BIN)/openiop migrate --no-input
	DEBUG=true $(BIN)/openiop demo
	DEBUG=true $(BIN)/openiop runserver 127.0.0.1:$(PORT)

test: $(DEVSTAMP)
	$(BIN)/python -m openiop.testing.preflight
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEVSTAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEVSTAMP)
	$(BIN)/mypy openiop bench

check: lint typecheck test

serve: $(STAMP)
	$(BIN)/openiop migrate --no-input
	$(BIN)/openiop collectstatic --no-input
	$(BIN)/gunicorn openiop.wsgi --workers $${WEB_CONCURRENCY:-3} --bind 127.0.0.1:$(PORT)

bench: $(DEVSTAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Debian's chromium for the browser tests (root on Debian/Ubuntu).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

clean:
	rm -rf $(VENV) var build *.egg-info
