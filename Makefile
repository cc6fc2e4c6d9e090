# websession developer commands. `make demo` and `make test` work on a fresh Debian 12 machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: all venv demo test test-fast lint typecheck format bench bench-stores bench-http fuzz clean services

all: lint typecheck test

# The development tools are PEP 735 dependency groups (pyproject.toml), which pip >= 25.1 installs
# (Debian 12's venv brings pip 23: upgrade it first).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=25.1"
	$(PY) -m pip install -q -e ".[all,examples]" --group dev
	touch $(STAMP)

venv: $(STAMP)

# The demo web app on the embedded default store (a FilesystemStore under ./.demo-sessions). It
# needs only the package's own dependencies (cryptography, msgpack): a small venv of its own with
# just those, and the package run from src/ (no build step, no development tools), so a fresh
# clone serves in seconds.
DEMO_VENV ?= .venv-demo
$(DEMO_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(DEMO_VENV)
	$(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' > $(DEMO_VENV)/requirements.txt
	$(DEMO_VENV)/bin/python -m pip install -q --disable-pip-version-check -r $(DEMO_VENV)/requirements.txt
	touch $@

demo: $(DEMO_VENV)/.installed
	PYTHONPATH=src $(DEMO_VENV)/bin/python -m websession demo $(DEMO_ARGS)

# Installs the database servers (apt) and Chromium, starts them on 127.0.0.1 on free ports inside
# a loopback-only network namespace, runs every test, and stops exactly what it started.
test: $(STAMP)
	$(PY) tools/testenv.py install
	$(PY) -m tests.compat.fetch  # the frameworks' sdists, before the network namespace
	$(PY) tools/testenv.py run -- $(PY) -m pytest $(PYTEST_ARGS)

# Only the tests that need no server (quick feedback while coding).
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools examples
	$(VENV)/bin/ruff format --check src

format: $(STAMP)
	$(VENV)/bin/ruff format src
	$(VENV)/bin/ruff check --fix src tests benchmarks tools examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Codec benchmark: websession against the cookie pipelines people use today, ratios in one run.
bench: $(STAMP)
	$(PY) benchmarks/cookie_codecs.py

# Store benchmark: load + save through each ServerStore backend vs the raw client, same servers.
bench-stores: $(STAMP)
	$(PY) tools/testenv.py install
	$(PY) tools/testenv.py run -- $(PY) benchmarks/stores.py $(BENCH_ARGS)

# HTTP benchmark: wrk against uvicorn and gunicorn on 127.0.0.1, a session read and written on
# every request: websession vs Starlette's SessionMiddleware and Flask's default cookie session.
bench-http: $(STAMP)
	@command -v wrk >/dev/null || apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=300 wrk
	$(PY) benchmarks/http_throughput.py $(BENCH_HTTP_ARGS)

# Fuzz: 1,000,000 hostile inputs per cookie codec and serializer; reports escapes (exceptions
# other than DecodeError) and forgeries, both of which must be 0 (`make test` runs 50,000 each).
fuzz: $(STAMP)
	$(PY) tools/fuzz.py $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_VENV) .pytest_cache .mypy_cache .ruff_cache .demo-sessions build *.egg-info src/*.egg-info
