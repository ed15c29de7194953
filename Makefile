# Two commands do all set-up on a fresh machine:
#   make lab   - create .venv and open JupyterLab on the notebooks
#   make test  - create .venv and run every test (unit, engine, notebooks in both modes, ...)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# A socket nobody listens on: how the notebooks are checked "as on Binder".
NO_ENGINE := unix:///nonexistent/labkit-no-engine.sock
# nbval runs the exercises' checkers: keep what they record out of the learner's own progress file.
NBVAL  := LABKIT_PROGRESS=$(CURDIR)/.venv/nbval-progress.json $(BIN)/pytest -p no:cacheprovider --nbval --nbval-sanitize-with notebooks/sanitize.cfg notebooks

.PHONY: lab test unit notebooks-engine notebooks-offline notebooks-binder notebooks-laptop execute bench \
        classroom classroom-down bench-classroom clean notebooks-podman notebooks-podman-ci

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[lab,test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# Jupyter refuses to run as root unless told; root is normal in containers and CI.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

test: $(STAMP) unit notebooks-engine notebooks-offline

# The tests, and every docstring example in labkit (examples stay true).
unit: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider --durations=25 --doctest-modules tests labkit

# nbval with whatever engine answers (CI: a real one), then with none at all.
notebooks-engine: $(STAMP)
	$(NBVAL)

notebooks-offline: $(STAMP)
	DOCKER_HOST=$(NO_ENGINE) $(NBVAL)

# nbval as on Binder: a user who is not root, no engine, no C compiler on PATH, a fresh
# copy of the checkout and a fresh venv from environment.yml's pip list (.ci/binder-like).
notebooks-binder:
	.ci/binder-like notebooks

# nbval as on a learner's macOS and Windows laptop: LABKIT_HOST_PLATFORM=darwin / win32, no
# engine, no compiler, no docker CLI, no busybox (see .ci/laptop-like and docs/laptops.md).
notebooks-laptop: $(STAMP)
	.ci/laptop-like darwin
	.ci/laptop-like win32

# nbval (lax) with a Podman service as the only engine: the fleet's podman-4.3.1 (root; its
# root is made on first use). CI runs PODMAN_CI (under five minutes with the fleet's tests).
PODMAN_CI := notebooks/00-start-here.ipynb notebooks/02-a-static-hello.ipynb notebooks/06-what-a-registry-stores.ipynb
notebooks-podman: $(STAMP)
	.ci/podman-like

notebooks-podman-ci: $(STAMP)
	.ci/podman-like $(PODMAN_CI)

# Re-execute every notebook and deep dive in place (engine mode), recording the %%terminal
# cells into data/terminal/ and the registry's answers into data/registry/exchanges.json
# (replayed where docker-registry is missing) (.ci/execute); commit the result.
execute: $(STAMP)
	BIN=$(BIN) .ci/execute

bench: $(STAMP)
	$(BIN)/python -m bench

# A class server on this machine (as root): JupyterHub on 127.0.0.1:$(PORT), one system user
# per learner, each on a rootless Docker engine of their own, running as them, with limits
# (CLASSROOM_ARGS="--engine machine": all on this machine's engine). Ctrl-C tears it all down;
# with CLASSROOM_ARGS=--detach it keeps running until `make classroom-down`.
# Needs Debian's node-configurable-http-proxy (JupyterHub's proxy), and for the rootless engines
# rootlesskit uidmap slirp4netns fuse-overlayfs. See docs/instructors.md.
LEARNERS       ?= 5
PORT           ?= 8000
CLASSROOM_ROOT ?= /srv/labkit-classroom
classroom: $(STAMP)
	$(BIN)/labkit classroom up --learners $(LEARNERS) --port $(PORT) --root $(CLASSROOM_ROOT) $(CLASSROOM_ARGS)

classroom-down: $(STAMP)
	$(BIN)/labkit classroom down --root $(CLASSROOM_ROOT)

# The load test: for each engine mode, 10 learners at once three times in a row, then 30, each
# running every notebook through their own server and kernel; a table side by side at the end.
# BENCH_MODES=machine adds the machine's engine; BENCH_ARGS adds more (--json FILE, --deep-dives).
BENCH_MODES    ?= class per-learner rootless
BENCH_LEARNERS ?= 10 10 10 30
bench-classroom: $(STAMP)
	$(BIN)/python -m bench.bench_classroom $(foreach m,$(BENCH_MODES),--engine $(m)) \
	  $(foreach n,$(BENCH_LEARNERS),--learners $(n)) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
