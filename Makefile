# make run · make test · make check · make translations · make messages · make sdc · make bench · make load · make pages · make screenshots · make cluster · make lock · make audit  (see README.md)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLASK := $(BIN)/flask --app questionnaire
#: Every dependency pinned with hashes (pip-tools); the dev lock also holds the runtime pins.
LOCK := requirements-dev.lock
RUNTIME_LOCK := requirements.lock
COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links

SCAN_FLAGS ?= --quick
#: Hypothesis examples per route in the fuzz test (.ci/run sets more).
FUZZ_EXAMPLES ?= 5

.PHONY: help sdc run test check translations messages bench bench-peers load pages screenshots cluster clean lock audit

# One line per target; tests/test_docs.py checks that every target is listed here.
help:
	@echo "make run           install, compile translations, migrate SQLite, serve http://127.0.0.1:5000"
	@echo "make test          the whole test suite (TEST_DATABASE_URL and BROWSER switch on PostgreSQL and Chromium)"
	@echo "make check         ruff, mypy, import layers, pylint, licences and the security scanners"
	@echo "make translations  compile the .po message catalogues"
	@echo "make messages      extract every string again and update each .po"
	@echo "make sdc           the npm FHIR clients the tests drive (LHC-Forms, FHIR.js)"
	@echo "make bench         every speed budget; writes bench/results.json"
	@echo "make bench-peers   the JSON Logic ports the rules bench compares against"
	@echo "make load          the load benchmark (locust)"
	@echo "make pages         page weight of every patient page"
	@echo "make screenshots   full-page PNGs of every page, both languages, 320 and 1280 px"
	@echo "make cluster       several instances behind nginx, with one database"
	@echo "make lock          refresh the lock files from pyproject.toml (UPGRADE=--upgrade)"
	@echo "make audit         known vulnerabilities in the locked dependencies (needs PyPI)"
	@echo "make mutants       mutation testing of the pure core (mutmut; about an hour; not in CI)"
	@echo "make clean         remove the virtualenv, the benchmark peers and the tools' caches"

# Only what the lock names, each file checked against its hash; then the app itself,
# without dependencies (they are all in the lock) and without fetching a build backend.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Refresh the lock files from pyproject.toml; `make lock UPGRADE=--upgrade` moves every pin on.
lock: $(STAMP)
	$(COMPILE) $(UPGRADE) --extra dev -o $(LOCK) pyproject.toml
	$(COMPILE) $(UPGRADE) -o $(RUNTIME_LOCK) pyproject.toml

# Needs the advisory databases (PyPI / OSV). --strict: a package that could not be audited is
# a failure, never "No known vulnerabilities found".
audit: $(STAMP)
	@$(BIN)/pip-audit --strict --disable-pip --require-hashes --progress-spinner off \
		-r $(RUNTIME_LOCK) -r $(LOCK) \
	|| { echo "make audit: FAILED. A vulnerability was found, or some package could not be" \
		"audited (is PyPI's advisory data reachable from here?). Nothing was proven safe." >&2; \
		exit 1; }

# Message catalogues: the .po files are in the repository, the .mo files are compiled here
# (never committed). `make messages` extracts every string again and updates each .po.
PO_FILES := $(wildcard questionnaire/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
translations: $(MO_FILES)
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-wrap --sort-by-file --omit-header \
		-o questionnaire/translations/messages.pot .
	$(BIN)/pybabel update -i questionnaire/translations/messages.pot -d questionnaire/translations \
		--no-wrap --ignore-obsolete --no-fuzzy-matching

# The export worker runs in the background beside the development server and is stopped,
# by its pid, when the server exits (Ctrl-C included).
run: $(STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) exports worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# Third-party FHIR clients the tests drive (LHC-Forms, FHIR.js), from npm, pinned by the lock
# with integrity hashes; install scripts never run. Test-only: nothing here is shipped.
SDC := tests/browser/sdc
sdc: $(SDC)/node_modules/.installed-stamp
$(SDC)/node_modules/.installed-stamp: $(SDC)/package.json $(SDC)/package-lock.json
	cd $(SDC) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

test: $(STAMP) translations sdc
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest

check: $(STAMP) translations
	$(BIN)/ruff check questionnaire tests bench docs migrations .ci/scan.py .ci/licences.py
	$(BIN)/ruff format --check questionnaire tests bench docs .ci/scan.py .ci/licences.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pylint questionnaire
	$(BIN)/python .ci/licences.py
	$(BIN)/python .ci/scan.py $(SCAN_FLAGS)

PEERS := bench/.peers/json-logic-qubit
# The performance budget (README, Performance): writes bench/results.json, exit 1 if one fails.
bench: $(STAMP) translations $(PEERS)/.installed-stamp
	$(BIN)/python bench/run.py

# The JSON Logic port that cannot live in the venv (see bench/peers.lock), in its own folder.
bench-peers: $(PEERS)/.installed-stamp
$(PEERS)/.installed-stamp: bench/peers.lock $(STAMP)
	rm -rf $(PEERS)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps --target $(PEERS) -r bench/peers.lock
	touch $@

load: $(STAMP) translations
	$(BIN)/python bench/load.py

# Page weight in Chromium (apt-get install -y chromium); exit 1 over 30 KB or on a third-party request.
pages: $(STAMP) translations
	$(BIN)/python bench/pages.py

# Every patient page at 320 and 1280 px in en and fr-CA, and the clinician's, into screenshots/.
screenshots: $(STAMP) translations
	$(BIN)/python docs/screenshots.py

# nginx in front of two gunicorn instances on one database (needs nginx, PostgreSQL, Redis).
cluster: $(STAMP) translations
	bench/cluster.sh

# Mutation testing of the pure core with mutmut (docs/developers-mutation.md); not in CI.
# One module after another, 2 processes; a fresh mutants/ each time (stale stats skip tests).
# MUTANT_MODULES=rules.engine runs one module.
MUTANT_MODULES ?= questions.parsers questions.instruments rules.conditions rules.engine rules.lexicon
MUTANT_CHILDREN ?= 2
.PHONY: mutants
mutants: $(STAMP) translations
	rm -rf mutants && mkdir mutants
	for module in $(MUTANT_MODULES); do \
		echo "make mutants: questionnaire.$$module (log: mutants/$$module.log)"; \
		$(BIN)/mutmut run "questionnaire.$$module.*" --max-children $(MUTANT_CHILDREN) \
			>mutants/$$module.log 2>&1 || { tail -n 30 mutants/$$module.log; exit 1; }; \
	done
	$(BIN)/python tests/mutation_score.py $(MUTANT_MODULES)

clean:
	rm -rf $(VENV) bench/.peers .pytest_cache .mypy_cache .ruff_cache .hypothesis
