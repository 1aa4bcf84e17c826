# Two entry points for a fresh machine (see README):
#   make demo   create .venv, install lavalab, run the demo job
#   make test   create .venv if missing, install, lint (ruff), run the test suite,
#               build the manual (mkdocs build --strict)
#   make docs   build the manual into site/
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.lavalab-installed
# lava-nc / lava-dl declare Requires-Python <3.11 but run on 3.11 with lavalab's
# import fix. They are installed first without dependency resolution and with
# --ignore-requires-python; the second step resolves everything else normally
# (a global --ignore-requires-python would pick releases too new for this Python).
LAVA   := lava-nc==0.10.0 lava-dl==0.6.0
# one pytest worker per core (pytest-xdist); a test file's tests stay on one worker, so its
# module fixtures are built once
PYTEST_ARGS ?= -n auto --dist loadfile
# mkdocs 1.6 prints a banner about mkdocs 2 on every build; the manual pins 1.6
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test install lint docs clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python $(LAVA)
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lavalab demo

test: $(STAMP)
	$(VENV)/bin/ruff check lavalab tests bench studies
	$(PY) -m pytest $(PYTEST_ARGS)
	$(VENV)/bin/mkdocs build --strict --site-dir site

lint: $(STAMP)
	$(VENV)/bin/ruff check lavalab tests bench studies

docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) build *.egg-info site docs/results docs/reference/cli.md
