# Bazres: `make run` serves the demo on SQLite + SpatiaLite; `make test` runs the suite
# on SpatiaLite and, when BAZRES_TEST_POSTGIS_URL is set, again on PostGIS.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run serve test install spatialite chromium watermelon migrate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Argon2id (every login) in argon2-cffi-bindings built with AVX2 where the CPU has it: PyPI's
# wheel, built for any x86-64 CPU, costs about 1.7x the CPU a check for the same hashes
# (scripts/argon2_build.py; without a compiler the wheel stays).
$(VENV)/.installed: pyproject.toml scripts/argon2_build.py | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python scripts/argon2_build.py
	touch $@

install: $(VENV)/.installed

spatialite: install
	@$(BIN)/python scripts/ensure_packages.py spatialite

chromium: install
	@$(BIN)/python scripts/ensure_packages.py chromium

# The WatermelonDB example client (examples/watermelon), which the tests drive in Node.
WMDB := examples/watermelon
$(WMDB)/node_modules/.installed: $(WMDB)/package-lock.json
	npm ci --prefix $(WMDB) --no-audit --no-fund --loglevel=error
	touch $@

watermelon: $(WMDB)/node_modules/.installed

migrate: install spatialite
	$(FLASK) db upgrade

run: migrate
	$(FLASK) seed --if-empty --with-demo-reports --with-demo-activity
	@$(BIN)/python scripts/banner.py $(HOST) $(PORT)
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production-style: gunicorn workers on PostGIS (DATABASE_URL, default the local `bazres` database).
serve: install
	@bash scripts/serve.sh

test: install spatialite chromium watermelon
	@bash scripts/test.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .test-results
