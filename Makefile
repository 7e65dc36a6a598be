# Two commands from a clean clone: `make run` and `make test`. Each builds .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_ENV := PARTICIPATION_DEMO=1 PARTICIPATION_SESSION_COOKIE_SECURE=0

.PHONY: run test lint format bench translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/python -c "from participation.i18n import compile_catalogues; compile_catalogues()"

# SQLite: one process with threads; every request takes the write lock at BEGIN and waits
# for it (participation.db), so people acting at once queue instead of "database is locked".
run: $(STAMP) translations
	$(DEMO_ENV) $(BIN)/flask --app wsgi db upgrade
	$(DEMO_ENV) $(BIN)/flask --app wsgi demo load
	@echo ""
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C stops it), with a worker for panel packs."
	$(DEMO_ENV) $(BIN)/flask --app wsgi jobs work --loop & JOBS=$$!; \
	trap 'kill $$JOBS 2>/dev/null' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/gunicorn --bind 127.0.0.1:5000 --workers 1 --threads 8 --access-logfile - wsgi:app

# axe-core for the browser tests' accessibility checks, pinned in package-lock.json.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

test: $(STAMP) translations $(AXE)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) translations
	$(BIN)/python benchmarks/classifier_bench.py
	$(BIN)/python benchmarks/survey_bench.py
	$(BIN)/python benchmarks/load_bench.py
	$(BIN)/python benchmarks/dashboard_bench.py
	$(BIN)/python benchmarks/dashboard_bench.py --postgres $${BENCH_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}

clean:
	rm -rf $(VENV) instance/*.sqlite3*
