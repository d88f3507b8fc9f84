# HR-mnenie: one Makefile for a fresh machine. Python 3.11+ is all it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test test-mongo lint up down schemas clean bench asyncapi test-chaos nats-conf deploy-files

$(STAMP): pyproject.toml package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	npm ci --ignore-scripts --omit=peer --no-audit --no-fund
	touch $(STAMP)

install: $(STAMP)

## run: nats-server (JetStream in ./var), every service, the gateway on http://127.0.0.1:8000, the web client on http://127.0.0.1:8080
run: $(STAMP)
	$(PY) -m scripts.run

## test: the whole suite, one module after another (docs/adr/0025); tests start their own nats-server on a free port
test: $(STAMP)
	$(PY) -m pytest -q --durations=25

## lint: ruff (style, imports, bugbear, asyncio) and mypy over the code
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

## test-chaos: kill -9 of services, nats-server and a cluster node under load (about 3 minutes; also part of `make test`)
test-chaos: $(STAMP)
	$(PY) -m pytest -q -m chaos tests/chaos

## test-mongo: the document-store contract and the end-to-end tests with read models in MongoDB at HRM_MONGO_URL
test-mongo: $(STAMP)
	@test -n "$$HRM_MONGO_URL" || (echo "set HRM_MONGO_URL, e.g. mongodb://127.0.0.1:27017/?replicaSet=rs0" && exit 2)
	$(PY) -m pytest -q tests/kit/test_docstore_contract.py tests/e2e

## bench: measure our path against a raw baseline (own nats-server and services); writes bench-results.json
bench: $(STAMP)
	$(PY) -m scripts.bench $(ARGS)

## schemas: regenerate the JSON Schemas of every event and command in docs/schemas
schemas: $(STAMP)
	$(PY) -m docgen.schemas docs/schemas

## nats-conf: regenerate the NATS users and permissions of deploy/ from the services' registrations
nats-conf: $(STAMP)
	$(PY) -m deploygen.nats

## deploy-files: regenerate each domain service's block of docker-compose.yml and its deploy/k8s Deployment
deploy-files: $(STAMP)
	$(PY) -m deploygen.manifests

## asyncapi: regenerate docs/asyncapi.json, the AsyncAPI 3.0 document of the bus, from the services' code
asyncapi: $(STAMP)
	$(PY) -m docgen.asyncapi docs/asyncapi.json

## up: the whole system under docker compose (NATS, MongoDB, services, gateway, web client, collector, Jaeger); secrets from .env
up:
	@test -f .env || (echo "no .env: cp .env.example .env and fill in every value (see README)" && exit 2)
	docker compose up --build -d

down:
	docker compose down

clean:
	rm -rf $(VENV) var .pytest_cache
