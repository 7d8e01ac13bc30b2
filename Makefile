# twsim: two commands for a newcomer — `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench serve clean system

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench,fast]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/twsim demo

test: $(STAMP) system lint
	$(BIN)/python -m pytest

system:
	bash tools/install-apt.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP) system
	$(BIN)/python -m bench

serve: $(STAMP)
	$(BIN)/twsim serve

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
