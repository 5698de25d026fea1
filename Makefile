# Set-up and run commands. Every target creates the virtual environment on first use,
# so `make serve` and `make test` are the only commands a fresh machine needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install browser serve migrate test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed browser

# Playwright's own Chromium is used when a system one is missing; the download needs
# internet access, so a machine with Debian's chromium skips it.
browser: $(VENV)/.installed
	@if [ -n "$$TIKTOK_BROWSER_PATH" ] || command -v chromium >/dev/null || \
	    command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then \
	    echo "Using the system Chromium."; \
	else \
	    $(BIN)/python -m playwright install chromium; \
	fi

migrate: install
	$(BIN)/flask --app app db upgrade

serve: install
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash infra/lint.sh

bench: install
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
