# One entry point for people and CI: `make test` and `make app` set up .venv (and Chromium) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser tests drive Debian's Chromium through PyPI's playwright (`playwright install` would download).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test unit app lint bench screenshots clean

$(STAMP): requirements.txt requirements-dev.txt requirements-scale.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-scale.txt  # the optional Ray build engine, for its tests
	touch $(STAMP)

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests (apt-get, as root)"
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver

# Everything: lint, unit tests and the system tests (real app over the wire, browser, load).
test: $(STAMP) $(CHROMIUM) lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

# The fast loop: unit tests only (no server, no browser).
unit: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not system"

app: $(STAMP)
	$(BIN)/python app.py

# docs/ARCHITECTURE.md, "How the rules are enforced": style, import contracts, types.
# The README's screenshots, from the demo (real products, trained model); a PNG is rewritten only when it changed.
screenshots: $(STAMP) $(CHROMIUM)
	SCREENSHOTS_DIR=docs SCREENSHOTS_BUNDLE=demo HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/system/test_browser.py -k "not another_language"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
