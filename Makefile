# One entry point: every target sets up .venv/ on first use and reinstalls
# only when a requirements file changed (the stamps depend on them).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
SHARD  ?= 1/1

.PHONY: setup setup-dev book test release grade bench bench-grading clean

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

release: setup
	$(PY) -m autograder.grading.release

# ALLOW_UNSANDBOXED=1 grades without bubblewrap (announced everywhere); never on a shared host.
grade: setup
	$(if $(ALLOW_UNSANDBOXED),BTC_ALLOW_UNSANDBOXED=1 )$(PY) -m autograder.grading.grade --jobs $(JOBS) --shard $(SHARD)

bench: setup-dev
	$(PY) -m bench.conv_bench

bench-grading: setup-dev
	$(PY) -m bench.grading_bench

clean:
	rm -rf _build autograder/release autograder/autograded autograder/feedback
