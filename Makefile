# memman developer commands. Everything runs from a local virtualenv (.venv) that
# the first target needing it creates, so a fresh machine needs only python3.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: dev test unit e2e bench lint demo clean

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)  ## create .venv with memman (editable) and the test tools

test: $(STAMP)  ## unit tests, then whole-process tests
	$(BIN)/python -m pytest tests e2e

unit: $(STAMP)
	$(BIN)/python -m pytest tests

e2e: $(STAMP)
	$(BIN)/python -m pytest e2e

LOCOMO_DATA ?= ../shared/data/locomo-dev

bench: $(STAMP)  ## latency, throughput and recall-quality benchmarks (numbers, not pass/fail)
	$(BIN)/python bench/hotpath.py
	$(BIN)/python bench/recall_latency.py
	$(BIN)/python bench/drain.py
	$(BIN)/python bench/mcp_latency.py
	$(BIN)/python bench/postgres.py
	@if [ -d "$(LOCOMO_DATA)" ]; then $(BIN)/python bench/locomo.py --data "$(LOCOMO_DATA)"; \
	else echo "bench: LoCoMo data not found at $(LOCOMO_DATA); set LOCOMO_DATA=DIR"; fi

lint: $(STAMP)
	$(BIN)/python -m ruff check src tests e2e bench

demo: $(STAMP)  ## offline end-to-end demo in a throw-away data dir
	bash e2e/demo.sh $(BIN)/memman

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache bench/results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
