# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# `make test-fast`: the edit-run loop, without the browser and multi-process federation
# tests (markers set by folder in tests/conftest.py); `make test` still runs everything.
.PHONY: run test test-fast lint check clean messages system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gapo migrate
	@echo "Create the first admin in another terminal with:"
	@echo "    $(BIN)/gapo user create NAME --email you@example.org --admin"
	$(BIN)/gapo serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check --no-cache .
	$(BIN)/ruff format --check --no-cache .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The system programs the tests drive (Debian's chromium): installed when this user may
# install packages, otherwise the script names the one command to run.
system-packages:
	@sh scripts/system-packages.sh

test: lint system-packages
	$(BIN)/python -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then exit 0; else exit $$rc; fi

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser and not federation"

# Re-extract translatable strings into the template and merge them into each catalogue;
# then translate the new entries in instance/locale/vi/LC_MESSAGES/messages.po.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --project=Gapo --version=0.1.0 \
		--copyright-holder="Gapo contributors" -o instance/locale/messages.pot .
	$(BIN)/pybabel update -i instance/locale/messages.pot -d instance/locale --width=100 \
		--no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .venv-bovine .mypy_cache .ruff_cache build dist
