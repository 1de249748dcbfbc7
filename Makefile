# Yixiang: `make run` (install, migrate, demo data, serve) and `make test` (install, run all tests).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
# A PostgreSQL URL for the second test run (CI sets it); the first run is always SQLite.
TEST_POSTGRES_URL ?= $(if $(filter postgres%,$(DATABASE_URL)),$(DATABASE_URL),)
PYTEST_ARGS ?=

.PHONY: run test test-fast fuzz install install-dev lint messages bench clean-data browser-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(VENV)/.runtime-installed $@

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py serve --port $(PORT)

browser-deps:
	bash scripts/ensure-browser

test: install-dev browser-deps
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run -v0
	env -u DATABASE_URL $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)
	@if [ -n "$(TEST_POSTGRES_URL)" ]; then \
		echo "== PostgreSQL run: $(TEST_POSTGRES_URL)"; \
		DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS); \
	else echo "== no PostgreSQL URL given (TEST_POSTGRES_URL or DATABASE_URL=postgres://…): SQLite only"; fi

# A long schemathesis run over every API operation (make test runs a short one): same fixed seed,
# FUZZ_EXAMPLES examples per operation; on PostgreSQL too when a URL is given, as for make test.
FUZZ_EXAMPLES ?= 200
fuzz: install-dev
	env -u DATABASE_URL YX_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) YX_FUZZ_STATEFUL_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/python -m pytest -n 2 tests/test_schema_fuzz.py $(PYTEST_ARGS)
	@if [ -n "$(TEST_POSTGRES_URL)" ]; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" YX_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) YX_FUZZ_STATEFUL_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(BIN)/python -m pytest -n 2 tests/test_schema_fuzz.py $(PYTEST_ARGS); fi

# The app tests for the inner loop (a few minutes): no slow cross-cutting tests, no browser; SQLite.
test-fast: install-dev
	env -u DATABASE_URL $(BIN)/python -m pytest -n 2 -m "not slow and not browser" $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Each app keeps its own catalogue (yixiang/<app>/locale); the project one covers templates/ and web/
messages: install-dev
	for app in accounts customers pipeline aftercare incentives reports; do \
		(cd yixiang/$$app && ../../$(BIN)/python ../../manage.py makemessages -l zh_Hans --no-obsolete -v0) || exit 1; done
	cd yixiang && ../$(BIN)/python ../manage.py makemessages -l zh_Hans --no-obsolete -v0 -i "accounts/*" -i "customers/*" \
		-i "pipeline/*" -i "aftercare/*" -i "incentives/*" -i "reports/*" -i ".venv/*"
	$(BIN)/python manage.py compilemessages -l zh_Hans -v0

# Benchmark (issue 7): generate the data set if needed, time the hot paths, write bench/results/.
# make bench CUSTOMERS=100000 DB=postgres [BENCH_ARGS="--only agenda,search_phone"]; see bench/README.md.
CUSTOMERS ?= 1000000
DB ?= sqlite
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m bench.run --customers $(CUSTOMERS) --db $(DB) $(BENCH_ARGS)
