# Convolutional Neural Networks, hands-on. Two commands do all set-up on a fresh machine:
#   make lab    create .venv if missing, then open the course in JupyterLab (prints the URL)
#   make test   create/update .venv, then run every test in fast mode
# Python 3.10-3.13: the versions TensorFlow 2.16-2.21 ships wheels for (3.14 has none yet). PYTHON is the first of these
# commands that is one of them; choose another with `make lab PYTHON=python3.12`.
PY_OK := import sys; sys.exit(0 if (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)
PYTHON ?= $(firstword $(foreach p,python3 python3.12 python3.11 python3.13 python3.10,$(shell command -v $(p) >/dev/null 2>&1 && $(p) -c '$(PY_OK)' >/dev/null 2>&1 && echo $(p))) python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LAB_IP   ?= 127.0.0.1
LAB_PORT ?= 8888
LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=

.PHONY: help venv prepare slides guide lab lint test test-browser test-unit test-notebooks test-full notebooks notebooks-fast template export bench bench-gan test-floor test-colab colab-venv clean

help:
	@echo "make lab        open the course in JupyterLab (creates .venv first if needed)"
	@echo "make test       run every test in fast mode (unit tests, lint, notebooks with nbval)"
	@echo "make test-full  run the notebooks with nbval in full mode (meant for a GPU machine)"
	@echo "make notebooks  re-run every notebook in full mode, save outputs and measured runtimes"
	@echo "make export     copy the lesson code marked #@save in the notebooks into utils (edit it in the notebook)"
	@echo "make bench      train the MNIST CNN in full mode and record a benchmark line"
	@echo "make bench-gan  train notebook 10's GAN in full mode and record a benchmark line"
	@echo "make test-colab run the tests in a copy of Colab's runtime (requirements-colab.txt, Python 3.13)"
	@echo "make prepare    before class: train every model the notebooks cache, in full mode, then a table of seconds"
	@echo "make slides     regenerate every notebook's slide metadata (the deck) and list cells too long for a slide"
	@echo "make guide      regenerate the instructor's guide (notebooks/guide/)"
	@echo "make lint       check utils/, tests/ and the notebooks' code with ruff (make test does it too)"
	@echo "Python: 3.10-3.13; pick one with PYTHON=python3.12 (now: $(PYTHON))"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -c '$(PY_OK)' >/dev/null 2>&1 || { v=$$($(PYTHON) -c 'import sys; print("Python %d.%d" % sys.version_info[:2])' 2>/dev/null) || v="not found"; echo "The course needs Python 3.10, 3.11, 3.12 or 3.13, but $(PYTHON) is $${v:-not found}: install one of those and run, e.g., make $(or $(MAKECMDGOALS),lab) PYTHON=python3.12"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

# jupyterlab-slideshow remembers a started deck in the user's settings; --deck-off opens the course as notebooks.
lab: $(STAMP)
	@$(BIN)/python -m utils.slides --deck-off
	$(BIN)/jupyter lab --notebook-dir=notebooks --no-browser --ip=$(LAB_IP) --port=$(LAB_PORT) $(LAB_ROOT) $(LAB_ARGS)

test: $(STAMP)
	COURSE_FAST=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	COURSE_FAST=1 $(BIN)/python -m pytest tests $(PYTEST_ARGS)

test-notebooks: $(STAMP)
	COURSE_FAST=1 $(BIN)/python -m pytest notebooks $(PYTEST_ARGS)

# Full mode compares only what does not depend on hardware: mode-dependent outputs carry nbval-ignore-output.
test-full: $(STAMP)
	COURSE_FAST=0 $(BIN)/python -m pytest notebooks --nbval-cell-timeout=3600 $(PYTEST_ARGS)

notebooks: $(STAMP)
	$(BIN)/python -m utils.run_notebooks --fast $(NB)
	$(BIN)/python -m utils.run_notebooks $(NB)

prepare: $(STAMP)
	$(BIN)/python -m utils.prepare $(PREPARE_ARGS)

slides: $(STAMP)
	$(BIN)/python -m utils.slides --write
	$(BIN)/python -m utils.slides --report

guide: $(STAMP)
	$(BIN)/python -m utils.guide --write

template: $(STAMP)
	$(BIN)/python -m utils.notebook_template --write

export: $(STAMP)
	$(BIN)/python -m utils.export

bench: $(STAMP)
	$(BIN)/python -m utils.bench

bench-gan: $(STAMP)
	$(BIN)/python -m utils.gan

# The oldest versions requirements.txt allows (each ">=X" pinned to "==X"), in their own venv: the unit tests must pass.
FLOOR_VENV := .venv-floor
test-floor:
	@test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
	sed -E 's/>=([0-9][0-9.]*)(,<[0-9.]+)?/==\1/' requirements.txt > $(FLOOR_VENV)/floor.txt
	$(FLOOR_VENV)/bin/python -m pip install -q --disable-pip-version-check -r $(FLOOR_VENV)/floor.txt pytest pytest-timeout ruff
	COURSE_FAST=1 $(FLOOR_VENV)/bin/python -m pytest tests --ignore=tests/browser --ignore=tests/test_lab_smoke.py $(PYTEST_ARGS)

# Colab's runtime (requirements-colab.txt: its published versions, ipywidgets 7.7.1) in its own venv on Python 3.13:
# the unit tests, every notebook in fast mode through the setup cell's Colab branch (tests/colab), and the drawing pad
# in classic Notebook 6.5 (tests/colab/test_pad_notebook6.py). COLAB_NOTEBOOKS="01 04" runs only those notebooks.
# Left out here: JupyterLab's tests (no JupyterLab in Colab's list), ruff's lint (a developer tool, not in Colab's list)
# and the requirements.txt resolution (make test does all three).
COLAB_VENV   := .venv-colab
COLAB_STAMP  := $(COLAB_VENV)/.installed
COLAB_PY_OK  := import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)
COLAB_PYTHON ?= $(firstword $(foreach p,python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13),$(shell $(p) -c '$(COLAB_PY_OK)' >/dev/null 2>&1 && echo $(p))) python3.13)
COLAB_NOTEBOOKS ?=

$(COLAB_STAMP): requirements-colab.txt
	@$(COLAB_PYTHON) -c '$(COLAB_PY_OK)' >/dev/null 2>&1 || { echo "make test-colab needs Python 3.13 (Colab's): install it or pass COLAB_PYTHON=/path/to/python3.13"; exit 1; }
	@test -x $(COLAB_VENV)/bin/python || $(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(COLAB_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-colab.txt
	@touch $(COLAB_STAMP)

colab-venv: $(COLAB_STAMP)

test-colab: $(COLAB_STAMP)
	COURSE_FAST=1 $(COLAB_VENV)/bin/python -m pytest -p no:nbval -o addopts="-ra -p no:cacheprovider" tests --ignore=tests/browser --ignore=tests/colab --ignore=tests/test_lab_smoke.py --ignore=tests/test_lint.py --deselect "tests/test_colab_readiness.py::test_requirements_resolve_for_colab_python" $(PYTEST_ARGS)
	COURSE_FAST=1 COURSE_COLAB_PROFILE=1 COURSE_COLAB_NOTEBOOKS="$(COLAB_NOTEBOOKS)" $(COLAB_VENV)/bin/python -m pytest -p no:nbval -o addopts="-ra -p no:cacheprovider" tests/colab $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check utils tests notebooks conftest.py

test-browser: $(STAMP)
	COURSE_FAST=1 $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(FLOOR_VENV) $(COLAB_VENV) .cache artifacts
