# One-command entry points. Everything runs from a fresh clone: the venv is created on demand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

DEMO_HTTP_PORT ?= 8080
DEMO_GRPC_PORT ?= 50051
DEMO_MILVUS_PORT ?= 19530
DEMO_UI_PORT ?= 3000

.PHONY: install test test-fast demo demo-migrate bench lint format clean

$(BIN)/w2z: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(BIN)/w2z

install: $(BIN)/w2z

# The suite waits on servers and subprocesses more than it computes: two workers, each taking whole
# files (module fixtures stay in one process), halve its wall time on two cores. Files come longest
# first (the conftest's order, which xdist keeps with --no-loadscope-reorder), so neither worker is
# left alone with the long ones at the end. The 30 slowest tests are printed.
TEST_WORKERS ?= 2

test: install
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=30

# The inner loop: unit and integration tests without the markers of pyproject.toml (docs/testing.md).
FAST_TESTS := not (slow or browser or postgres or dagster_dev or real_milvus)
test-fast: install
	$(BIN)/python -m pytest -q -m "$(FAST_TESTS)" w2z_dagster_tests/unit w2z_dagster_tests/integration

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `exec` makes the demo make's own child, so a SIGTERM to make (which make forwards) reaches it.
demo: install
	exec $(BIN)/python -m w2z_dagster_tests.support.demo --http-port $(DEMO_HTTP_PORT) --grpc-port $(DEMO_GRPC_PORT) \
		--milvus-port $(DEMO_MILVUS_PORT) --ui-port $(DEMO_UI_PORT)

demo-migrate: install
	exec $(BIN)/python -m w2z_dagster_tests.support.demo --no-ui --http-port $(DEMO_HTTP_PORT) --grpc-port $(DEMO_GRPC_PORT) \
		--milvus-port $(DEMO_MILVUS_PORT)

bench: install
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) .dagster_home logs export *.egg-info
