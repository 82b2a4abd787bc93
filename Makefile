# make run · make test · make check · make bench  (see README.md)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app questionnaire

SCAN_FLAGS ?= --quick

.PHONY: run test check bench load clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) run --host 127.0.0.1 --port 5000

test: $(STAMP)
	$(BIN)/pytest

check: $(STAMP)
	$(BIN)/ruff check questionnaire tests bench migrations .ci/scan.py
	$(BIN)/ruff format --check questionnaire tests bench .ci/scan.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pylint questionnaire
	$(BIN)/python .ci/scan.py $(SCAN_FLAGS)

bench: $(STAMP)
	$(BIN)/python bench/rules.py

load: $(STAMP)
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
