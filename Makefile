# Two commands do all set-up:  `make run` (the dashboard on the demo data) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
# Leaflet + Leaflet.draw for the offline maps, pinned with integrity hashes in the lock file
VENDOR := static/vendor/node_modules/.installed

.PHONY: run test demo report clean-demo

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(VENDOR): static/vendor/package.json static/vendor/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed once, to fetch Leaflet for the offline maps: sudo apt-get install npm"; exit 1; }
	npm ci --prefix static/vendor --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

# The generator skips in ~0.1 s when its outputs match its code, seed and boundaries.
demo: $(BIN)/.installed $(VENDOR)
	$(BIN)/python -m sinks.demo --data-dir data

run: demo
	$(BIN)/python -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

report: demo
	$(BIN)/python -m sinks run configs/jiangbei_demo.toml --out out/jiangbei_demo

test: demo
	$(BIN)/python -m pytest

clean-demo:
	rm -f data/rasters/*.tif data/rasters/*.gpkg data/rasters/*.json
