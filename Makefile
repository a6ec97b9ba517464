# 就业助手 — every command a developer, operator or CI needs. `make help` lists them.
SHELL := /bin/bash
PY := .venv/bin/python
RASA := .venv-rasa/bin/rasa
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export OMP_WAIT_POLICY := PASSIVE
export HF_HUB_OFFLINE := 1

.DEFAULT_GOAL := help
.PHONY: help setup build knowledge model models run chat test test-quick rasa-validate rasa-test eval bench lint format clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36mmake %-14s\033[0m %s\n", $$1, $$2}'

setup: ## Create .venv (3.11) and .venv-rasa (3.10) where missing; install the pinned stacks
	@scripts/setup.sh

knowledge: setup ## Build what is stale: embedding model, policy index, job dataset and index
	@$(PY) -m scripts.build_knowledge

model: setup ## Train the Rasa model if bot/ or nlu/ changed (content hash)
	@$(PY) -m scripts.rasa_model

build: knowledge model ## Everything `make run` needs

models: setup ## Install the Chinese Vosk model (vosk-model-small-cn-0.22) where the network allows
	@$(PY) -m connectors.speech.download_model

run: build ## Start action server, Rasa and connectors; Ctrl-C stops them all
	@$(PY) -m scripts.run

chat: setup ## Chat in the terminal over Rasa's REST channel (needs `make run` in another terminal)
	@$(PY) -m connectors.terminal

rasa-validate: model ## rasa data validate on the whole Rasa project
	$(RASA) data validate --config bot/config.yml --domain bot/domain --data bot/data nlu --fail-on-warnings

rasa-test: model ## rasa test on the test stories (fails on any prediction error)
	$(RASA) test core --model $$($(PY) -m scripts.rasa_model --print-path) --stories bot/tests \
		--out results/rasa --fail-on-prediction-errors

test: build rasa-validate rasa-test ## Set up and run every test (what CI runs)
	$(PY) -m pytest

test-quick: setup ## The quick loop: unit tests only
	$(PY) -m pytest -m "not slow"

eval: build ## NLU cross-validation, out-of-domain rate, policy retrieval and answers (reports/)
	@$(PY) -m scripts.evaluate

bench: build ## Benchmarks: retrieval, job search, Rasa latency, speech (reports/)
	@$(PY) -m scripts.benchmark

lint: setup ## ruff check + format check, mypy
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format: setup ## Apply ruff fixes and formatting
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

clean: ## Remove built artefacts (keeps the environments)
	rm -rf models results reports var/index .pytest_cache
