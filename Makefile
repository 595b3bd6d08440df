# Two entry points: `make demo` runs Bookbag on its embedded defaults,
# `make test` runs the whole test suite. Both create .venv on first use.

PYTHON_BIN ?= python3
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: demo test install install-test

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON_BIN) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PYTHON) -m pip install --quiet -e ".[test]"
	touch $@

demo: install
	$(PYTHON) manage.py demo

test: install-test
	PYTHON=$(PYTHON) bash scripts/test
