# One-command set-up: every target creates the virtualenv and installs the project first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench mutation mutation-decoders install clean evaluate-helsinki

$(BIN)/parking-guide: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/parking-guide

demo: install  ## run the demo: embedded broker, simulated sensors, engine, web UI
	$(BIN)/parking-guide demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## lint, type-check, then the whole test suite (needs Mosquitto on 127.0.0.1:1883)
	$(BIN)/pytest

bench: install  ## benchmarks: ingest, board endpoint, publish-to-board latency
	$(BIN)/python -m bench

evaluate-helsinki: install  ## guidance strategies on central Helsinki (OSM, ODbL): examples/helsinki/config.yaml
	$(BIN)/parking-guide import-osm tests/data/helsinki-centre.osm.pbf -o examples/helsinki/roads.npz
	$(BIN)/parking-guide evaluate -c examples/helsinki/config.yaml --scales 1 --seed 1,2,3 --occupancy 0.9

mutation: install  ## mutation testing of the domain (docs/testing.md); lists the mutants that survived
	$(BIN)/pip install --quiet -e '.[dev,mutation]'
	rm -rf mutants
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results | grep -v ': caught by type check$$' || true

mutation-decoders: install  ## mutation testing of the feed decoders and topic matcher alone (a shorter run)
	$(BIN)/pip install --quiet -e '.[dev,mutation]'
	rm -rf mutants && mkdir mutants
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/mutmut run --max-children 2 'sensors.*' > mutants/run.log \
		|| { tail -n 40 mutants/run.log; exit 1; }
	$(BIN)/mutmut results --all true | grep '^ *sensors\.' | grep -v ': killed$$\|: caught by type check$$' || true

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache .pytest_cache mutants
