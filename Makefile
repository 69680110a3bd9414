# The two commands of the README: `make run` and `make test`. Both set up .venv first;
# the set-up is skipped when nothing it depends on changed (building llama-cpp-python from
# source takes about 4 minutes on 2 cores, once; pip caches the wheel afterwards).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.alpaca-desk-installed
TS := $(wildcard assets/translations/*.ts)
QM := $(TS:.ts=.qm)
MODEL ?=

.PHONY: setup run test quality style screenshot bench translations lupdate fonts clean

setup: $(STAMP) translations fonts

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

translations: $(QM)

assets/translations/%.qm: assets/translations/%.ts $(STAMP)
	$(VENV)/bin/pyside6-lrelease -silent $< -qm $@

# Refresh the .ts files from the source after changing user-visible strings.
lupdate: $(STAMP)
	$(VENV)/bin/pyside6-lupdate $$(find app -name '*.py' | sort) -ts $(TS) -no-obsolete

fonts:
	@bash packaging/ensure_cjk_font.sh

run: setup
	$(PY) -m app $(if $(MODEL),--model "$(MODEL)")

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

quality: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy runtime

style: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Renders the main window with a short conversation offscreen (see README).
screenshot: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m app.screenshot --out docs/screenshot.png
	QT_QPA_PLATFORM=offscreen $(PY) -m app.screenshot --lang zh_CN --out docs/screenshot-zh_CN.png

bench: setup
	$(PY) bench/chat_throughput.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/gui_latency.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache $(QM)
