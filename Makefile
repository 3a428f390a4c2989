# One entry point: every target sets up .venv/ on first use and reinstalls
# only when a requirements file changed (the stamps depend on them).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
# JOBS: workers (default: the CPUs this task may use; inside a Slurm task, SLURM_CPUS_PER_TASK).
JOBS   ?=
SHARD  ?= 1/1
SHARDS ?=
# COURSE: the nbgrader course folder (default autograder/); STUDENTS=a,b ASSIGNMENTS=x narrow `make grade`.
COURSE ?= autograder

.PHONY: setup setup-dev book test release collect grade export roster grade-prepare grade-shard grade-finish slurm-grade bench bench-grading clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# The project itself is installed editable (pyproject.toml): no file edits sys.path, and
# plain `nbgrader` finds the protected grading package wherever the course folder is.
$(VENV)/.runtime: requirements.txt $(wildcard pyproject.toml) | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	rm -rf *.egg-info
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

# npm fetches MathJax for the book; without a system npm, use the pinned wheel.
$(VENV)/.node: requirements-node.txt $(VENV)/.runtime
	@command -v npm >/dev/null || $(PY) -m pip install --disable-pip-version-check -q -r requirements-node.txt
	touch $@

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

book: setup $(VENV)/.node
	$(PY) -m tools.build_book

test: setup-dev
	$(PY) -m pytest

# Regenerates the source notebooks first (solutions, cases, the book's URL, autograder/extra/ cells).
release: setup
	$(PY) -m tools.make_notebooks
	$(PY) -m autograder.grading.run.release --course $(COURSE)

# Copies every student's newest inbound folder from nbgrader's exchange into autograder/submitted/,
# treating each as hostile (grading/run/collect.py); ASSIGNMENTS=a,b limits it, EXCHANGE=path picks the exchange.
collect: setup
	$(PY) -m autograder.grading.run.collect --course $(COURSE) $(if $(EXCHANGE),--exchange $(EXCHANGE)) $(ASSIGNMENTS)

# ALLOW_UNSANDBOXED=1 grades without bubblewrap (announced everywhere); never on a shared host.
grade: setup
	$(if $(ALLOW_UNSANDBOXED),BTC_ALLOW_UNSANDBOXED=1 )$(PY) -m autograder.grading.run.grade $(if $(JOBS),--jobs $(JOBS)) --shard $(SHARD) --course $(COURSE) \
		$(if $(STUDENTS),--students $(STUDENTS)) $(if $(ASSIGNMENTS),--assignments $(ASSIGNMENTS))

# The class's grades for a spreadsheet and for Canvas (autograder/export/), and the class list in.
export: setup
	$(PY) -m autograder.grading.run.export --course $(COURSE)

roster: setup
	@test -n "$(FILE)" || { echo "usage: make roster FILE=students.csv"; exit 2; }
	$(PY) -m autograder.grading.run.roster "$(FILE)" --course $(COURSE)

# A class on a cluster (README, "Grading on a Slurm cluster"): three steps, each safe to repeat.
# grade-shard and grade-finish never run pip: the venv is built once, before (make setup).
grade-prepare: setup
	$(PY) -m autograder.grading.run.cluster prepare

grade-shard:
	@test -x $(PY) || { echo "grade-shard: no $(VENV): run 'make setup' once first"; exit 2; }
	$(PY) -m autograder.grading.run.cluster shard --shard $(if $(filter 1/1,$(SHARD)),auto,$(SHARD)) $(if $(SHARDS),--shards $(SHARDS)) $(if $(JOBS),--jobs $(JOBS))

grade-finish:
	@test -x $(PY) || { echo "grade-finish: no $(VENV): run 'make setup' once first"; exit 2; }
	$(PY) -m autograder.grading.run.cluster finish $(if $(SHARDS),--shards $(SHARDS))

# Submits prepare, the array of SHARDS shards and finish, chained (afterok); WAIT=1 waits and
# fails unless every job completed; SBATCH="--partition=x --account=y --time=1:00:00" passes through.
slurm-grade: setup
	$(PY) -m autograder.grading.run.cluster slurm $(if $(SHARDS),--shards $(SHARDS)) $(if $(JOBS),--jobs $(JOBS)) $(if $(WAIT),--wait) $(if $(SBATCH),--sbatch '$(SBATCH)')

bench: setup-dev
	$(PY) -m bench.conv_bench

bench-grading: setup-dev
	$(PY) -m bench.grading_bench

clean:
	rm -rf _build autograder/release autograder/autograded autograder/feedback
