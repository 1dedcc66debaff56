# One command runner for people and CI; every target bootstraps its own virtual environment.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Prefect's temporary server migrates its database on first start: give it time on slow disks.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: demo test lint sandbox serve screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/aftercare demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy aftercare app flows tasks models deployments sandbox bench

# Ports: PORT (Prefect server and UI), SANDBOX_PORT (sandbox APIs); make serve PORT=4300
PORT ?= 4200
SANDBOX_PORT ?= 8765
serve: $(STAMP)
	$(BIN)/aftercare serve --port $(PORT) --sandbox-port $(SANDBOX_PORT)

sandbox: $(STAMP)
	$(BIN)/aftercare sandbox

# Screenshots of the Prefect UI after a demo run (docs/screenshots); needs Debian's chromium.
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py --out docs/screenshots

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
