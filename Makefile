# Ember developer commands. Everything runs from a local virtualenv in .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench bench-cfn bench-signals bench-scale bench-cli conformance conformance-report

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

# The all-in-one service on the embedded default: SQLite file ember.sqlite, in-process
# messaging. Stop it with Ctrl-C (SIGINT) or SIGTERM.
run: install
	$(BIN)/heat-all

# Type checks: strict for common/ and template/, everything else clean (pyproject.toml).
lint: install
	$(BIN)/ruff check src tests bench conformance $(wildcard bin/*)
	$(BIN)/ruff format --check src tests bench conformance $(wildcard bin/*)
	$(BIN)/mypy
	MYPYPATH=src $(BIN)/mypy --follow-imports=silent conformance

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/template_bench.py --output bench/results/template.json
	$(BIN)/python bench/engine_bench.py --output bench/results/engine.json
	$(BIN)/python bench/api_bench.py --output bench/results/api.json
	$(BIN)/python bench/api_bench.py --deployment split --output bench/results/api-split.json
	$(BIN)/python bench/api_bench.py --stacks 10 --output bench/results/api-10.json
	$(BIN)/python bench/api_bench.py --deployment split --stacks 10 --output bench/results/api-split-10.json
	$(BIN)/python bench/work_bench.py --output bench/results/work.json
	$(BIN)/python bench/work_bench.py --deployment split --output bench/results/work-split.json
	$(BIN)/python bench/cfn_bench.py --output bench/results/cfn.json
	$(BIN)/python bench/cfn_bench.py --deployment split --output bench/results/cfn-split.json
	$(BIN)/python bench/signal_bench.py --output bench/results/signals.json
	$(BIN)/python bench/signal_bench.py --deployment split --output bench/results/signals-split.json
	$(BIN)/python bench/scale_bench.py --output bench/results/scale.json
	$(BIN)/python bench/cli_bench.py --output bench/results/cli.json
	$(BIN)/python bench/event_latency_bench.py --output bench/results/events.json
	$(BIN)/python bench/event_latency_bench.py --deployment split --output bench/results/events-split.json

# The CloudFormation Query API against the REST API, same reads (heat-all on SQLite).
bench-cfn: install
	$(BIN)/python bench/cfn_bench.py --output bench/results/cfn.json

# Signals from outside: 100 wait conditions signalled at once, a group scaled 0 -> 100 -> 0.
bench-signals: install
	$(BIN)/python bench/signal_bench.py --output bench/results/signals.json
	$(BIN)/python bench/signal_bench.py --deployment split --output bench/results/signals-split.json

# Scaled out behind HAProxy: stacks per second with 1, 2, 4 engine processes; GET /stacks
# with 1 and 2 heat-api processes (MariaDB, RabbitMQ and haproxy on this machine).
bench-scale: install
	$(BIN)/python bench/scale_bench.py --output bench/results/scale.json

# From a stack's last event to the waiting CLI's exit: ember --follow beside openstack --wait.
bench-cli: install
	$(BIN)/python bench/cli_bench.py --output bench/results/cli.json
	$(BIN)/python bench/event_latency_bench.py --output bench/results/events.json
	$(BIN)/python bench/event_latency_bench.py --deployment split --output bench/results/events-split.json

# Heat's own suites (heat-tempest-plugin's API and functional tests, openstack-heat's
# heat_integrationtests) against heat-all behind a real Keystone, from a virtualenv of
# their own. Counts and failing tests go to bench/results/conformance.json.
CONFORMANCE_VENV ?= .conformance/venv
CONFORMANCE_ARGS ?=

$(CONFORMANCE_VENV)/.installed: conformance/requirements.txt
	$(PYTHON) -m venv $(CONFORMANCE_VENV)
	$(CONFORMANCE_VENV)/bin/pip install --quiet --upgrade pip
	$(CONFORMANCE_VENV)/bin/pip install --quiet -r conformance/requirements.txt
	touch $@

conformance: install $(CONFORMANCE_VENV)/.installed
	$(BIN)/python -m conformance.run --venv $(CONFORMANCE_VENV) $(CONFORMANCE_ARGS)

# The same run, recorded without failing on the tests that fail today.
conformance-report: install $(CONFORMANCE_VENV)/.installed
	$(BIN)/python -m conformance.run --venv $(CONFORMANCE_VENV) --report-only $(CONFORMANCE_ARGS)
