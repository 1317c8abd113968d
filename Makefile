# The two commands: `make run` and `make test`. Only Python 3.11, pip and make are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
PO := $(wildcard portal/translations/*/LC_MESSAGES/messages.po portal/*/translations/*/LC_MESSAGES/messages.po)
MO := $(PO:.po=.mo)

.PHONY: run test lint translations extract-messages clean-venv lock

# requirements.lock pins every package (and its dependencies) to the versions CI installed:
# a fresh clone installs exactly those. `make lock` re-resolves after pyproject.toml changes.
LOCK := requirements.lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --constraint $(LOCK) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --constraint $(LOCK) -e '.[dev]'
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

# Resolve pyproject.toml's ranges afresh in a throwaway venv and pin what it installed.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet '.[dev]'
	{ echo "# Exact versions that CI installs (make lock; Python 3.11, Linux). Do not edit."; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^service-network-portal'; } > $(LOCK)
	rm -rf .lock-venv
