"""The exercise notebooks and their helper modules, without running nbgrader.

Proves: the committed files are what tools/make_notebooks.py generates; the
solution regions are the solution package's teaching bodies; every test cell is
a registered case with the same points; test cells avoid nbgrader's traps; the
visible checks pass on the reference quietly and catch the catalogued mistakes.
"""
import ast
import contextlib
import importlib.util
import inspect
import io
import json
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import solutions
from autograder.grading import cases as registry
from autograder.grading.cases import citations
from autograder.grading import exchange
from tools import make_notebooks as gen

from tests.submissions import MISTAKES, apply_edits

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "autograder" / "source"
ASSIGNMENTS = list(solutions.GRADED)


def notebook(assignment):
    return json.loads((SOURCE / assignment / f"{assignment}.ipynb").read_text())


def nbgrader_meta(cell):
    return cell["metadata"].get("nbgrader", {})


def is_test(cell):
    meta = nbgrader_meta(cell)
    return cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution")


def helper(assignment):
    """Import source/<a>/<a>_tests.py under its own name (as the notebook does)."""
    name = f"{assignment}_tests"
    spec = importlib.util.spec_from_file_location(name, SOURCE / assignment / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_files_are_the_generated_ones():
    stale = [str(p) for p, text in gen.expected_files().items() if p.read_text() != text]
    assert stale == [], "run `python -m tools.make_notebooks`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_regions_hold_the_teaching_bodies(assignment):
    cells = {nbgrader_meta(c).get("grade_id"): "".join(c["source"]) for c in notebook(assignment)["cells"]
             if nbgrader_meta(c).get("solution")}
    assert sorted(cells) == sorted(solutions.GRADED[assignment])
    for name, source in cells.items():
        body = source.split("### BEGIN SOLUTION\n")[1].split("\n    ### END SOLUTION")[0]
        teaching = inspect.getsource(inspect.unwrap(getattr(solutions, name)))
        assert body.rstrip() in teaching and body.count("\n") >= 1, name
        # and the region is the whole body: every line after the docstring
        _, expected = gen.split_function(getattr(solutions, name))
        assert body == expected, name
        assert source.startswith(f"def {name}("), name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_is_a_registered_case(assignment):
    nb = notebook(assignment)
    tests = [c for c in nb["cells"] if is_test(c)]
    ids = [nbgrader_meta(c)["grade_id"] for c in tests]
    assert ids == [c.grade_id for c in registry.for_assignment(assignment)]
    for cell, grade_id in zip(tests, ids):
        function, case = grade_id.split("__")
        assert function in solutions.GRADED[assignment] and re.fullmatch(r"[a-z0-9_]+", case)
        assert nbgrader_meta(cell)["points"] == registry.CASES[grade_id].points
        assert nbgrader_meta(cell)["locked"] is True
    # each function's test cells come after its answer cell
    order = [nbgrader_meta(c).get("grade_id") for c in nb["cells"] if nbgrader_meta(c)]
    for grade_id in ids:
        assert order.index(grade_id.split("__")[0]) < order.index(grade_id)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_avoid_nbgrader_traps(assignment):
    names = set(dir(helper(assignment)))
    for cell in filter(is_test, notebook(assignment)["cells"]):
        source, grade_id = "".join(cell["source"]), nbgrader_meta(cell)["grade_id"]
        # the record comes first, so nothing the visible checks do can change what it records
        assert source.splitlines()[0].startswith(f'grader_record("{grade_id}", {grade_id.split("__")[0]})')
        # nothing hidden: the released cell is the source cell (see test_release_keeps_locked_cells_intact)
        assert "BEGIN HIDDEN" not in source and "BEGIN SOLUTION" not in source
        # only calls of the helper module's checks: no bare value nbgrader could read as a partial score
        for stmt in ast.parse(source).body:
            assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call), grade_id
            assert stmt.value.func.id in names, grade_id


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_are_stored_clean(assignment):
    nb = notebook(assignment)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
        text = "".join(cell["source"])
        outside = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", text, flags=re.S)
        assert "float(" not in outside  # float() of a 1-element array raises in NumPy 2


def test_shipped_helper_copies_match_the_solution_package():
    """output_size, numerical_gradient and relative_error ship as verbatim copies of solutions'."""
    copies = {"convolution": ("output_size", "numerical_gradient", "relative_error"),
              "pooling": ("output_size", "numerical_gradient", "relative_error"),
              "activations": ("numerical_gradient", "relative_error")}
    for assignment, names in copies.items():
        for name in names:
            reference = inspect.getsource(getattr(solutions, name))
            assert inspect.getsource(getattr(helper(assignment), name)) == reference, (assignment, name)
        # and the citation wording is the judge's
        assert inspect.getsource(helper(assignment).format_citation) == inspect.getsource(citations.format_citation)


def test_the_shared_block_is_the_template():
    """Every helper module starts with tools/helpers_template.py's block (issue: no hand-kept copies)."""
    for assignment in ASSIGNMENTS:
        text = (SOURCE / assignment / f"{assignment}_tests.py").read_text()
        block = text[text.index(gen.SHARED_BEGIN):text.index(gen.SHARED_END)]
        assert gen.with_reference_copies(gen.shared_block()).startswith(block[:200])
        assert block == gen.with_reference_copies(gen.shared_block())[:len(block)]


def run_cells(nb, assignment, only=None):
    """Execute the notebook's code cells in order, in-process; returns {grade_id: exception or None}.

    Test cells run only their visible part (no exchange folder: grader_record does nothing).
    `only`: run just the test cells of this function.
    """
    sys.modules[f"{assignment}_tests"] = helper(assignment)
    namespace, results = {}, {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        if is_test(cell):
            grade_id = nbgrader_meta(cell)["grade_id"]
            if only and not grade_id.startswith(only + "__"):
                continue
            try:
                value = exec("".join(cell["source"]), namespace)
                results[grade_id] = None if value is None else AssertionError("cell produced a value")
            except Exception as e:
                results[grade_id] = e
        else:
            exec("".join(cell["source"]), namespace)
    return results


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_checks_pass_quietly_on_the_reference(assignment, monkeypatch):
    monkeypatch.delenv(exchange.ENV_VAR, raising=False)
    err = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stderr(err):
        warnings.simplefilter("error")
        results = run_cells(notebook(assignment), assignment)
    assert {k: v for k, v in results.items() if v is not None} == {}
    assert err.getvalue() == ""


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_visible_checks_catch_each_catalogued_mistake(mistake, monkeypatch):
    """Students see their bug before they submit: some visible check of the function fails."""
    monkeypatch.delenv(exchange.ENV_VAR, raising=False)
    nb = apply_edits(notebook(mistake.assignment), mistake.function, mistake.edits)
    with contextlib.redirect_stdout(io.StringIO()):
        results = run_cells(nb, mistake.assignment, only=mistake.function)
    failed = [k for k, v in results.items() if v is not None]
    assert failed, f"{mistake.name}: every visible check of {mistake.function} passed"


def test_visible_failure_messages_teach(monkeypatch):
    monkeypatch.delenv(exchange.ENV_VAR, raising=False)
    m = next(m for m in MISTAKES if m.name == "conv_backward_assign_not_accumulate")
    nb = apply_edits(notebook("convolution"), m.function, m.edits)
    with contextlib.redirect_stdout(io.StringIO()):
        results = run_cells(nb, "convolution", only="conv_backward")
    message = str(results["conv_backward__stride2_overlap"])
    assert "stride': 2" in message and "(1, 5, 5, 2)" in message  # the case: hyper-parameters, shapes
    assert "relative error" in message and citations.cite(["eq-conv-dx", "eq-conv-dx-full", "eq-conv-dilate"],
                                                          link=False) in message
    assert citations.url("eq-conv-dx") in message
    assert message.splitlines()[0].startswith("dA_prev disagrees with central differences")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grader_record_round_trips_through_the_exchange(assignment, tmp_path, monkeypatch):
    """The shipped kernel side and the trusted judge side speak the same format."""
    module = helper(assignment)
    folder = exchange.prepare(tmp_path / "x")
    monkeypatch.setenv(exchange.ENV_VAR, str(folder))
    for case in registry.for_assignment(assignment):
        args, kwargs = case.inputs()
        exchange.write_inputs(folder, case.grade_id, args, kwargs)
        seen = {}

        def spy(*a, **k):
            seen["args"], seen["kwargs"] = a, k
            return case.reference()

        module.grader_record(case.grade_id, spy)
        # the kernel got the inputs, including the dict key order
        for got, want in zip(seen["args"] + tuple(seen["kwargs"].values()), args + tuple(kwargs.values())):
            assert type(got) is type(want) or isinstance(got, np.ndarray)
            if isinstance(want, dict):
                assert list(got.items()) == list(want.items())
        record = exchange.read_output(folder, case.grade_id)
        registry.judge(case, record.result)  # the reference, recorded, passes


@pytest.mark.slow
def test_release_keeps_locked_cells_intact(tmp_path):
    """An untouched released notebook passes nbgrader's OverwriteCells without one warning.

    nbgrader stores each locked cell's checksum before it clears hidden tests; a test cell
    with a hidden part therefore always differs in the release, and plain `nbgrader autograde`
    warned "Attribute 'checksum' ... has changed!" for every test cell of every untouched
    submission (jupyter/nbgrader#1961). Test cells hide nothing, so the release is the source.
    """
    import logging

    import nbformat
    from nbgrader.preprocessors import OverwriteCells

    from tests.submissions import course

    repo = course.copy_course(tmp_path)
    course.release(repo)
    db_url = f"sqlite:///{repo / 'autograder' / 'gradebook.db'}"
    for assignment in ASSIGNMENTS:
        released = repo / "autograder" / "release" / assignment / f"{assignment}.ipynb"
        nb = nbformat.read(released, as_version=4)
        before = [cell.source for cell in nb.cells]
        overwrite = OverwriteCells()
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        overwrite.log.addHandler(handler)
        try:
            overwrite.preprocess(nb, {"nbgrader": {"notebook": assignment, "assignment": assignment,
                                                   "db_url": db_url}})
        finally:
            overwrite.log.removeHandler(handler)
        assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == [], assignment
        assert [cell.source for cell in nb.cells] == before
