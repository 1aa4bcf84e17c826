# Two entry points for a fresh machine (see README):
#   make demo   create .venv, install lavalab, run the demo job
#   make test   create .venv if missing, install, lint (ruff), run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.lavalab-installed
# lava-nc / lava-dl declare Requires-Python <3.11 but run on 3.11 with lavalab's
# import fix. They are installed first without dependency resolution and with
# --ignore-requires-python; the second step resolves everything else normally
# (a global --ignore-requires-python would pick releases too new for this Python).
LAVA   := lava-nc==0.10.0 lava-dl==0.6.0
PYTEST_ARGS ?=

.PHONY: demo test install lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --ignore-requires-python $(LAVA)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lavalab demo

test: $(STAMP)
	$(VENV)/bin/ruff check lavalab tests bench studies
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check lavalab tests bench studies

clean:
	rm -rf $(VENV) build *.egg-info
