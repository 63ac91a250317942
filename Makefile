PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install migrate worker beat bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The Celery app defaults to production settings; these targets ask for development unless told otherwise.
worker beat: export DJANGO_SETTINGS_MODULE ?= config.settings.development
worker-%: export DJANGO_SETTINGS_MODULE ?= config.settings.development

# `make worker` consumes every queue (one host does everything); a fleet runs one kind per host:
# make worker-till, worker-bulk, worker-exports, worker-webhooks, worker-celery (docs/scaling.md, "Workers").
WORKER_QUEUES := celery till bulk exports webhooks
.PHONY: $(addprefix worker-,$(WORKER_QUEUES))

worker: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=info

$(addprefix worker-,$(WORKER_QUEUES)): worker-%: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=info -Q $* -n $*@%h

beat: $(STAMP)
	$(BIN)/celery -A config beat --loglevel=info --scheduler django_celery_beat.schedulers:DatabaseScheduler

clean:
	rm -rf $(VENV) build *.egg-info
