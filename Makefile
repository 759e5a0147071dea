# Quick start: `make run` (set up and run the main job), `make test` (run the tests).
VENV ?= .venv
PY := $(VENV)/bin/python
RECIPE ?= networks/ec_lipf6.yaml
OUT ?= out/ec_lipf6
# more oracle label files to keep, besides the shipped ones (data/labels/gfn2_*, kept by default)
LABELS ?=

.PHONY: setup run test bench networks clean

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

# the networks the shipped energy model's card names (for sei-net recalibrate and sei-net adapt),
# and the VC network no shipped model trained on; about 2 min
NETS := out/labelling/ec_lipf6.db out/labelling/ec_fec_lipf6_gen4.db out/labelling/ec_dmc_lipf6_gen4.db \
	out/labelling/ec_vc_lipf6_gen4.db
networks: setup $(NETS)

out/labelling/ec_lipf6.db:
	mkdir -p out/labelling && $(VENV)/bin/sei-net build ec_lipf6 -o $@

out/labelling/%_gen4.db:
	mkdir -p out/labelling && $(VENV)/bin/sei-net build $* --max-generations 4 -o $@

clean:
	rm -rf $(VENV) out .pytest_cache
