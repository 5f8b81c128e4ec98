# weightreel: `make demo` and `make test` do all the set-up on a machine with only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
OUT := out
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The demo needs TensorFlow and the viewer only: a newcomer's first command stays quick.
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[tensorflow,viewer]"
	touch $@

# Every framework, for the tests; the constraints pin torch's CPU build (PyPI's default torch
# wheel pulls several GB of CUDA libraries).
$(VENV)/.installed-dev: pyproject.toml .ci/constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c .ci/constraints.txt -e ".[all,dev]"
	touch $@ $(VENV)/.installed-demo

## demo: record the origin post's single neuron, then open the recording in the viewer
demo: $(VENV)/.installed-demo
	@mkdir -p $(OUT)
	$(BIN)/python -m weightreel.recorder.demo $(OUT)/demo.h5
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(BIN)/weightreel view $(OUT)/demo.h5; \
	else \
		QT_QPA_PLATFORM=offscreen $(BIN)/weightreel view $(OUT)/demo.h5 --screenshot $(OUT)/demo.png && \
		echo "No display: the viewer's snapshot is $(abspath $(OUT))/demo.png" && \
		echo "The recording is $(abspath $(OUT))/demo.h5 (try: $(BIN)/weightreel info $(OUT)/demo.h5)"; \
	fi

## test: lint, then the whole suite
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -p no:cacheprovider

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

## bench-quick: every benchmark's small run
bench-quick: $(VENV)/.installed-dev
	for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b --quick | tail -n 1; done

clean:
	rm -rf $(VENV) $(OUT) build *.egg-info
