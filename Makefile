# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs Gapo alone; `make test` adds the test tools (`.[test]`).
# The test install also satisfies the run one, so it touches both; the run install leaves
# the test stamp alone, so `make test` after `make run` still installs the test tools.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-test

# `make run PORT=8001 HOST=0.0.0.0`. GAPO_BASE_URL, the origin every link and id is built
# from, follows the port unless it is set (in the environment, or by a GAPO_CONFIG file).
HOST ?= 127.0.0.1
PORT ?= 8000
PUBLIC_HOST := $(if $(filter 127.0.0.1 0.0.0.0 :: ::1 localhost,$(HOST)),localhost,$(HOST))
ifeq ($(origin GAPO_BASE_URL)$(GAPO_CONFIG),undefined)
export GAPO_BASE_URL := http://$(PUBLIC_HOST):$(PORT)
endif

# `make test-fast`: the edit-run loop, without the browser and multi-process federation
# tests (markers set by folder in tests/conftest.py); `make test` still runs everything.
.PHONY: run test test-postgresql test-fast lint check clean messages system-packages

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/gapo migrate
	@echo "Create the first admin in another terminal, with the same GAPO_* settings"
	@echo "as this server (the username admin is reserved: choose your own NAME):"
	@echo "    $(if $(GAPO_CONFIG),GAPO_CONFIG=$(GAPO_CONFIG) ,$(if $(filter http://localhost:8000,$(GAPO_BASE_URL)),,GAPO_BASE_URL=$(GAPO_BASE_URL) ))$(BIN)/gapo user create NAME --email you@example.org --admin"
	$(BIN)/gapo serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --check --no-cache .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The system programs the tests drive (Debian's chromium): installed when this user may
# install packages, otherwise the script names the one command to run.
system-packages:
	@sh scripts/system-packages.sh

# One test process per CPU (pytest-xdist); a file's tests stay in one process, in order.
PYTEST_PROCESSES ?= auto

# The second pass: these files again with the instance's data on PostgreSQL (a private
# cluster per test process, tests/helpers/postgres.py): the queries of every room, the
# writers, feeds, search and visibility. The whole suite runs there too with
# `make test-postgresql` (about three times as long; docs/scale-out.md lists what differs).
PG_TESTS ?= tests/test_pg_sql.py tests/test_database_backend.py tests/test_search.py \
	tests/test_notifications.py tests/test_post_writers.py tests/test_relationship_writers.py \
	tests/test_visibility_sql.py tests/test_block_mute.py tests/test_hostile_urls.py

test: lint system-packages
	$(BIN)/python -m pytest -q -n $(PYTEST_PROCESSES) --dist loadfile; rc=$$?; if [ $$rc -ne 5 ] && [ $$rc -ne 0 ]; then exit $$rc; fi
	GAPO_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q -n $(PYTEST_PROCESSES) --dist loadfile $(PG_TESTS)

test-postgresql: $(STAMP) system-packages
	GAPO_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q -n $(PYTEST_PROCESSES) --dist loadfile -m "not browser and not federation"

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_PROCESSES) --dist loadfile -m "not browser and not federation"

# Re-extract translatable strings into the template and merge them into each catalogue;
# then translate the new entries in instance/locale/vi/LC_MESSAGES/messages.po.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --project=Gapo --version=0.1.0 \
		--copyright-holder="Gapo contributors" -o instance/locale/messages.pot .
	$(BIN)/pybabel update -i instance/locale/messages.pot -d instance/locale --width=100 \
		--no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .venv-bovine .mypy_cache .ruff_cache build dist
