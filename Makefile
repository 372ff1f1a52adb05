# `make run` starts the app, `make test` runs every test (`make test-fast`: the core tier), `make serve-class` serves a classroom (HAProxy + replicas,
# docs/DEPLOY.md). Each installs what is missing first (Debian packages: `make system`).
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501
REPLICAS ?= 2
# pytest-xdist workers for `make test`: the browser tests mostly wait (for a server, a page, a quiet spell), so three
# keep 2 cores busy (docs/PERFORMANCE.md, "The test suite")
WORKERS ?= 3
ADDRESS ?= 0.0.0.0

.PHONY: run serve-class test test-fast system clean

$(PY):
	python3 -m venv $(VENV)

$(VENV)/.runtime: requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

system:  ## Debian packages the tests and the classroom server need: Fashion-MNIST, Chromium, HAProxy
	scripts/install_system_packages.sh

run: $(VENV)/.runtime
	$(PY) -m app --server.port $(PORT)  # streamlit run app/main.py, with TCP_NODELAY (app/serve.py)

serve-class: $(VENV)/.runtime  ## REPLICAS app processes on 127.0.0.1 behind HAProxy on ADDRESS:PORT
	$(PY) -m deploy.serve_class --replicas $(REPLICAS) --port $(PORT) --address $(ADDRESS)

test: system $(VENV)/.dev  ## the whole suite, as CI runs it: tests/core, tests/app, tests/browser
	$(PY) -m pytest -q -n $(WORKERS) --dist loadfile --durations=25

test-fast: $(VENV)/.dev  ## the developer's loop: tests/core without the slow ones (under 2 minutes)
	$(PY) -m pytest -q -m "core and not slow" tests/core

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
