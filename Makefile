# Two commands from a fresh clone: `make compare` and `make test`.
# Each environment is rebuilt only when its requirement file changes; a second run installs nothing.
PYTHON ?= python3
VENV := .venv
MXVENV := .venv-mxnet
PY := $(VENV)/bin/python
MXPY := $(MXVENV)/bin/python

.PHONY: env browser compare test lint format bench backends clean

env: $(VENV)/.installed $(MXVENV)/.installed

# Full environment build: only when the lock file changes (or the venv is missing).
$(VENV)/.requirements: requirements/main.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements/main.txt
	cp requirements/main.txt $@

$(MXVENV)/.requirements: requirements/mxnet.txt
	rm -rf $(MXVENV)
	$(PYTHON) -m venv $(MXVENV)
	$(MXPY) -m pip install --quiet -r requirements/mxnet.txt
	cp requirements/mxnet.txt $@

# unigrad itself, editable, without touching dependencies: reruns only when packaging metadata changes.
$(VENV)/.installed: $(VENV)/.requirements pyproject.toml
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(MXVENV)/.installed: $(MXVENV)/.requirements pyproject.toml
	$(MXPY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Headless Chromium for the browser test of agreement.html: Debian's package, installed where
# apt-get can (as root; about 15 s once, nothing when it is there). Elsewhere that one test is
# skipped and says why; the page's pure-Python checks always run.
APT_CHROMIUM := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { $(APT_CHROMIUM) >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && $(APT_CHROMIUM) >/dev/null 2>&1; }; }; } || \
	echo "note: no chromium here; the agreement.html browser test will be skipped"

# (`make backends` lists what is installed: it imports every framework, 6 s, so not here)
compare: env
	$(VENV)/bin/unigrad compare

# pytest processes for the main suite (pytest-xdist); each imports every framework
TEST_JOBS ?= 2

# the test files with MXNet cells, run inside .venv-mxnet (MXNet in process)
MXNET_TESTS = \
	tests/test_api.py \
	tests/test_kinks.py \
	tests/test_protocol.py \
	tests/test_user_code.py \
	tests/test_wrong_numbers.py \
	tests/test_bad_input.py \
	tests/test_ops.py \
	tests/test_ops_structure.py \
	tests/test_ops_elementwise.py \
	tests/test_ops_linalg.py \
	tests/test_framework_nesting.py \
	tests/test_nn_conv.py \
	tests/test_outside_values.py \
	tests/test_mxnet_inside.py \
	tests/test_port_mxnet_inside.py \
	tests/test_fuzz_programs.py \
	tests/test_native_nn.py

test: env browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n $(TEST_JOBS)
	@echo "--- the conformance suite: every case on all five backends, float32 and float64 ---"
	$(PY) -m pytest --pyargs unigrad.conformance --unigrad-backends all --unigrad-dtypes both -p no:cacheprovider
	@echo "--- MXNet, in its own environment (.venv-mxnet) ---"
	$(MXPY) -m pytest $(MXNET_TESTS) -k "mxnet or inside"

bench: env
	$(PY) benchmarks/run.py

backends: env
	$(VENV)/bin/unigrad backends

lint: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: env
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(MXVENV) build *.egg-info
