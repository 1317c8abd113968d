# The two commands: `make run` and `make test`. Only Python 3.11, pip and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
PO := $(wildcard portal/translations/*/LC_MESSAGES/messages.po portal/*/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test lint translations extract-messages clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

%.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(MO)

run: $(VENV)/.installed $(MO)
	$(FLASK) db upgrade
	$(FLASK) demo-data --if-empty
	$(BIN)/gunicorn --workers 1 --threads 4 --bind 127.0.0.1:5000 --access-logfile - 'portal:create_app()'

test: $(VENV)/.installed-dev $(MO)
	$(BIN)/python -m tests.run_suite

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# After changing visible strings: extract them and merge into the catalogues.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract --ignore-dirs=".* __pycache__" -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

clean-venv:
	rm -rf $(VENV)
