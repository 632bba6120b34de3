# The two commands of the README. Both need only Python 3.11+ on the machine.
PYTHON ?= python3

.PHONY: run test stop lint format messages

run:  ## the whole portal in the foreground; Ctrl-C stops everything
	$(PYTHON) tools/dev.py run

test:  ## the whole test suite against real PostgreSQL and Redis
	$(PYTHON) tools/dev.py test $(ARGS)

stop:  ## stops embedded servers a crashed run left behind
	$(PYTHON) tools/dev.py stop

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

messages:  ## extracts texts into locale/*/django.po; lists what needs Indonesian
	.venv/bin/python tools/messages.py
