# Quick start: `make run` (set up and run the main job), `make test` (run the tests).
VENV ?= .venv
PY := $(VENV)/bin/python
RECIPE ?= networks/ec_lipf6.yaml
OUT ?= out/ec_lipf6
# more oracle label files to keep, besides the shipped ones (data/labels/gfn2_*, kept by default)
LABELS ?=

.PHONY: setup run test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned exactly, so that nothing pulls a CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[all,test]"
	touch $@

run: setup
	$(VENV)/bin/sei-net run $(RECIPE) -o $(OUT) $(foreach f,$(LABELS),--labels $(f))

test: setup
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) out .pytest_cache
