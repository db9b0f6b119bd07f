# dpnb — set-up, course and tests.
#
#   make course     set up .venv (with JupyterLab) and open the course
#   make test       set up .venv and run every test: tests/, doctests, notebooks
#   make notebooks  execute the notebooks in place, storing the outputs nbval checks
#   make fuzz       run the program fuzzer on 10000 random programs (tests/fuzz/run.py;
#                   more options through FUZZ_ARGS, e.g. FUZZ_ARGS="--kinds numpy --jobs 4")
#   make images     redraw docs/img/ (the README's pictures) in JupyterLab through Chromium
#
# The browser test (tests/browser/) runs when Chromium is installed and is skipped
# otherwise; DPNB_BROWSER=1 makes it required (CI sets it).
#
# The virtual environment is (re)installed only when pyproject.toml changes:
# a stamp file inside .venv records each installed set of extras.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --disable-pip-version-check --quiet

STAMP_TEST := $(VENV)/.installed-test
STAMP_LAB  := $(VENV)/.installed-lab

# JupyterLab refuses to run as root unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

PYTEST_ARGS ?=
FUZZ_ARGS ?=

.PHONY: course test notebooks fuzz images venv clean

course: $(STAMP_LAB)
	cd notebooks && ../$(BIN)/jupyter lab $(ALLOW_ROOT) 00-index.ipynb

test: $(STAMP_TEST)
	$(BIN)/python -m pytest \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
		--nbval-sanitize-with notebooks/nbval.cfg \
		tests dpnb notebooks $(PYTEST_ARGS)

notebooks: $(STAMP_TEST)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 notebooks/*.ipynb notebooks/guide/*.ipynb

images: $(STAMP_TEST)
	$(BIN)/python -m tests.browser.lab --images docs/img

fuzz: $(STAMP_TEST)
	$(BIN)/python tests/fuzz/run.py --n 10000 --seed 0 $(FUZZ_ARGS)

venv: $(STAMP_TEST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[viz,test]'
	touch $@

$(STAMP_LAB): pyproject.toml | $(BIN)/python
	$(PIP) -e '.[viz,test,lab]'
	touch $@ $(STAMP_TEST)

clean:
	rm -rf $(VENV) build *.egg-info .hypothesis
