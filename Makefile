# Liutong — `make run` serves the demo on 127.0.0.1:8000; `make test` runs every test but the schemathesis fuzzing
# (`make fuzz`) and the tests with NATS and a replica (`make scaling`); CI runs all three. All set up from scratch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
# `make test` runs in one process per core and one more (pytest-xdist): tests wait on PostgreSQL, servers and
# browsers often enough that a spare process keeps the cores busy. Each worker has its own databases
# (tests/conftest.py); a worker that runs out of tests takes some of another's (--dist worksteal), so the run
# does not end with one worker finishing a queue alone. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
UV_VERSION := 0.13.9
# pytest may write its rewritten test modules (each worker would rewrite all of them otherwise), whatever the
# environment says about byte-code.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

.PHONY: install run test scaling fuzz lint bench clean

# uv installs the packages (pip only installs uv): it resolves and unpacks in parallel, far faster than pip on a
# fresh clone, and compiles their byte-code as pip does.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/shop migrate
	$(BIN)/shop demo
	$(BIN)/shop serve --host $(HOST) --port $(PORT) --sandbox-payments

# Byte-code compiled first, in parallel: every worker, server and command the tests start imports the app. The
# fuzzing module is not even collected: schemathesis builds its hundreds of tests from the OpenAPI schema at
# collection, in every worker.
test: install
	$(BIN)/python -m compileall -q -j 0 app tests >/dev/null
	$(PYTEST) -m "not fuzz and not scaling" --ignore tests/security/test_fuzz_openapi.py

# The real NATS server (JetStream) and a streaming replica, with processes killed on purpose: minutes, not seconds.
scaling: install
	$(PYTEST) -m scaling

fuzz: install
	$(PYTEST) -m fuzz

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy app

bench: install
	BENCH_RESULTS=var/bench-results.jsonl $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
