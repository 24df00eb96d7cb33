# Two commands do all set-up:  `make run` (the dashboard on the demo data) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
DEMO := data/rasters/jiangbei_landcover_2020.tif data/rasters/jiangbei_landcover_2025.tif

.PHONY: run test demo report clean-demo

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(DEMO): $(BIN)/.installed
	$(BIN)/python -m sinks.demo --data-dir data

demo: $(DEMO)

run: $(BIN)/.installed $(DEMO)
	$(BIN)/python -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT) --browser.gatherUsageStats false

report: $(BIN)/.installed $(DEMO)
	$(BIN)/python -m sinks run configs/jiangbei_demo.toml --out out/jiangbei_demo

test: $(BIN)/.installed $(DEMO)
	$(BIN)/python -m pytest

clean-demo:
	rm -f data/rasters/*.tif data/rasters/*.gpkg
