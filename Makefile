# Two commands: `make run` starts the app, `make test` runs every test. Both install what is missing first.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test system clean

$(PY):
	python3 -m venv $(VENV)

$(VENV)/.runtime: requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

system:  ## Debian packages the tests need: Fashion-MNIST and Chromium
	scripts/install_system_packages.sh

run: $(VENV)/.runtime
	$(PY) -m app --server.port $(PORT)  # streamlit run app/main.py, with TCP_NODELAY (app/serve.py)

test: system $(VENV)/.dev
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
