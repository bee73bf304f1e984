# The README's commands. `make run` and `make test` do all the set-up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test lint setup venv vendor translations db demo messages clean bench bench-inprocess bench-weight oidc-provider

run: setup db demo
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The suite runs in PYTEST_WORKERS processes (one per CPU; a file's tests stay together).
PYTEST_WORKERS ?= auto

test: setup oidc-provider lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Lint and types (docs/development.md): ruff over the repository, mypy over the application.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy innolab

# The real OpenID provider the sign-in tests run against (oidc-provider on Node 22).
oidc-provider: tests/oidc/provider/node_modules/.stamp

tests/oidc/provider/node_modules/.stamp: tests/oidc/provider/package.json tests/oidc/provider/package-lock.json
	cd tests/oidc/provider && npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: venv vendor translations

venv: $(VENV)/.stamp-install

$(VENV)/.stamp-install: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

vendor: static/vendor/.stamp static/vendor/kern/kern.pruned.css

# vendor.sh subsets the fonts with the venv's fontTools (order-only: a new setup.cfg alone
# does not copy everything again).
static/vendor/.stamp: package.json package-lock.json scripts/vendor.sh scripts/purge-kern.mjs \
		scripts/subset_fonts.py | $(VENV)/.stamp-install
	npm ci --no-audit --no-fund --loglevel=error
	PYTHON=$(BIN)/python sh scripts/vendor.sh
	touch $@

# Which of KERN's rules stay depends on the classes in the templates, our JavaScript and the
# Python package: prune again (under a second) when one of them changed.
PRUNE_CONTENT := $(shell find templates static/js innolab \( -name '*.html' -o -name '*.js' -o -name '*.py' \) 2>/dev/null)

static/vendor/kern/kern.pruned.css: static/vendor/.stamp $(PRUNE_CONTENT)
	node scripts/purge-kern.mjs static/vendor/kern/kern.min.css $@
	gzip -9 -k -f -n $@
	$(BIN)/python scripts/brotli_copy.py $@

translations: venv
	$(BIN)/pybabel compile --statistics -d innolab/translations

db: venv
	$(FLASK) db upgrade

demo: venv
	$(FLASK) innolab seed-demo

# Re-extract the strings to translate and merge them into the catalogues. --ignore-dirs replaces
# Babel's default, which skips every folder starting with "_" (templates/_macros): only hidden
# folders and node_modules are left out. The English catalogue keeps lines of 100 characters.
messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs '.* node_modules' -o innolab/translations/messages.pot .
	$(BIN)/pybabel update -w 100 -i innolab/translations/messages.pot -d innolab/translations --no-fuzzy-matching

# Load benchmark (bench/load.py: PostgreSQL and wrk; settings in its docstring), and the older
# in-process one (bench/run.py: SQLite or BENCH_DATABASE_URL, no network).
bench: setup
	$(BIN)/python bench/load.py

bench-inprocess: setup
	$(BIN)/python bench/run.py

# What a first visit weighs (bytes as nginx sends them; Chromium with an empty cache);
# ARGS=--lighthouse adds Lighthouse's mobile performance score of each page.
bench-weight: setup
	$(BIN)/python bench/weight.py $(ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor tests/oidc/provider/node_modules
