"""Grading end to end with real nbgrader, on temporary copies of the course.

Two graded classes, each built once per session in its own xdist group (so the
two run side by side): `graded_class` (the reference, the unmodified release and
the correct variants) and `graded_catalogue` (the catalogue of mistakes, packed
into few notebooks). The judge itself is also tested directly, without kernels.
"""
import csv
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import solutions
from autograder.grading import cases as registry
from autograder.grading.cases import citations
from autograder.grading import exchange
from autograder.grading.judge.execute import verdict, verdict_outputs
from tools.make_notebooks import split_function

from tests.submissions import MISTAKES, VARIANTS, pack, replace_body, with_mistakes
from tests.submissions import course as C

TOTAL = {a: sum(c.points for c in registry.for_assignment(a)) for a in C.ASSIGNMENTS}
CLASS = pytest.mark.xdist_group("grading-class")
CATALOGUE = pytest.mark.xdist_group("grading-catalogue")


def variant_notebook(variant):
    nb = C.source_notebook(variant.assignment)
    for function, body in variant.bodies.items():
        replace_body(nb, function, body)
    return nb


TAMPERED = """
import json, os
from pathlib import Path
def grader_record(grade_id, func):
    out = Path(os.environ["BTC_GRADER_EXCHANGE"]) / "outputs" / (grade_id + ".json")
    out.write_text(json.dumps({"raised": {"type": "Tampered", "message": "", "traceback": ""}}))
def check_gradient(*args): pass
def check_known_values(*args): pass
"""


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    repo = C.copy_course(tmp_path_factory.mktemp("class"))
    C.release(repo)
    for a in C.ASSIGNMENTS:
        C.submit(repo, "reference", a, C.source_notebook(a))
        C.submit(repo, "blank", a, C.release_notebook(repo, a))
    for v in VARIANTS:
        C.submit(repo, f"variant_{v.name}", v.assignment, variant_notebook(v))
    # A student who also edits the helper module: autograde must use the source copy.
    C.submit(repo, "tampered", "activations", C.release_notebook(repo, "activations"))
    (repo / "autograder" / "submitted" / "tampered" / "activations" / "activations_tests.py").write_text(TAMPERED)
    first_run = C.run(repo, "autograder.grading.run.grade", "--jobs", "2")
    first = C.grades(repo)
    # Regrade a third of the class (blank, and two variants) with --force semantics.
    second_run = C.run(repo, "autograder.grading.run.grade", "--shard", "1/3")
    return SimpleNamespace(repo=repo, first=first, second=C.grades(repo),
                           first_run=first_run, second_run=second_run)


@pytest.fixture(scope="session")
def graded_catalogue(tmp_path_factory):
    repo = C.copy_course(tmp_path_factory.mktemp("catalogue"))
    C.release(repo)
    student_of = {}
    for k, group in enumerate(pack(MISTAKES)):
        student = f"mistakes{k:02d}"
        C.submit(repo, student, group[0].assignment, with_mistakes(C.source_notebook(group[0].assignment), group))
        for m in group:
            student_of[m.name] = (student, group)
    run = C.run(repo, "autograder.grading.run.grade")
    return SimpleNamespace(repo=repo, grades=C.grades(repo), student_of=student_of, run=run)


# ------------------------------------------------------------------ the class

@pytest.mark.slow
@CLASS
@pytest.mark.parametrize("assignment", C.ASSIGNMENTS)
def test_source_notebooks_get_full_marks(graded_class, assignment):
    cells = graded_class.first[("reference", assignment)]
    assert sorted(cells) == sorted(c.grade_id for c in registry.for_assignment(assignment))
    assert {gid: s for gid, (s, top) in cells.items() if s != top} == {}
    assert sum(top for _, top in cells.values()) == TOTAL[assignment]


@pytest.mark.slow
@CLASS
@pytest.mark.parametrize("assignment", C.ASSIGNMENTS)
def test_unmodified_release_scores_zero_and_grading_completes(graded_class, assignment):
    cells = graded_class.first[("blank", assignment)]
    assert len(cells) == len(registry.for_assignment(assignment))
    assert all(score == 0 for score, _ in cells.values())
    messages = C.autograded_outputs(graded_class.repo, "blank", assignment)
    assert all("raised NotImplementedError" in text for text in messages.values())
    assert "grading errors: 0" in graded_class.first_run.stdout


@pytest.mark.slow
@CLASS
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_correct_variants_get_full_marks(graded_class, variant):
    cells = graded_class.first[(f"variant_{variant.name}", variant.assignment)]
    assert {gid: s for gid, (s, top) in cells.items() if s != top} == {}
    assert sum(top for _, top in cells.values()) == TOTAL[variant.assignment]


@pytest.mark.slow
@CLASS
def test_grading_twice_gives_identical_grades(graded_class):
    regraded = {line.split()[1].split("/")[0] for line in graded_class.second_run.stdout.splitlines()
                if line.startswith("[")}
    assert len(regraded) == 4 and "blank" in regraded  # a third of 11 students, sorted by id
    assert graded_class.second == graded_class.first


@pytest.mark.slow
@CLASS
def test_feedback_and_export(graded_class):
    repo = graded_class.repo / "autograder"
    for (student, assignment) in graded_class.first:
        if (repo / "submitted" / student / assignment).is_dir():
            html = (repo / "feedback" / student / assignment / f"{assignment}.html").read_text()
            assert "Score:" in html or "score" in html.lower()
    rows = list(csv.DictReader((repo / "grades.csv").open()))
    ref = {r["assignment"]: r for r in rows if r["student_id"] == "reference"}
    assert {a: float(ref[a]["score"]) for a in C.ASSIGNMENTS} == {a: float(TOTAL[a]) for a in C.ASSIGNMENTS}
    assert {a: float(ref[a]["max_score"]) for a in C.ASSIGNMENTS} == {a: float(TOTAL[a]) for a in C.ASSIGNMENTS}


@pytest.mark.slow
@CLASS
def test_feedback_shows_the_teaching_message(graded_class):
    html = (graded_class.repo / "autograder" / "feedback" / "blank" / "convolution" / "convolution.html").read_text()
    assert "conv_backward__pad0" in html
    assert f"chapter 4, eq. ({citations.table()['eq-conv-db'].number})" in html  # the number the book shows


@pytest.mark.slow
@CLASS
def test_nbgrader_validate_passes_on_the_source_notebooks(graded_class):
    source = graded_class.repo / "autograder" / "source"
    paths = [str(source / a / f"{a}.ipynb") for a in C.ASSIGNMENTS]
    proc = C.subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "validate", *paths],
                            cwd=source, capture_output=True, text=True, timeout=600)
    assert proc.stdout.count("Success! Your notebook passes all the tests.") == 3, proc.stdout + proc.stderr


def solution_lines():
    """Lines of the graded functions' teaching bodies, except lines the notebooks give away on purpose."""
    given = set()
    for func in (solutions.sigmoid, solutions.relu, solutions.tanh, solutions.softmax, solutions.output_size):
        given |= {line.strip() for line in split_function(func)[1].splitlines()}
    lines = set()
    for names in solutions.GRADED.values():
        for name in names:
            body = split_function(getattr(solutions, name))[1]
            lines |= {line.strip() for line in body.splitlines()
                      if line.strip() and not line.strip().startswith("#") and len(line.strip()) > 12}
    return lines - given


@pytest.mark.slow
@CLASS
def test_no_solution_code_in_the_release(graded_class):
    lines = solution_lines()
    assert len(lines) > 40
    release = graded_class.repo / "autograder" / "release"
    files = sorted(release.rglob("*.ipynb")) + sorted(release.rglob("*.py"))
    assert len(files) == 6
    for path in files:
        text = path.read_text()
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
            assert text.count("\n    raise NotImplementedError()") == 4  # one stub per graded function
        # whole lines, also when commented out (a docstring may state the formula in words)
        shipped = {line.strip().lstrip("#").strip() for line in text.splitlines()}
        leaked = sorted(lines & shipped)
        assert leaked == [], f"{path.name} holds solution lines: {leaked}"


@pytest.mark.slow
@CLASS
def test_autograde_uses_the_source_helper_module_not_the_students(graded_class):
    messages = C.autograded_outputs(graded_class.repo, "tampered", "activations")
    assert all("raised NotImplementedError" in m and "Tampered" not in m for m in messages.values())


# ------------------------------------------------------------------ the catalogue

@pytest.mark.slow
@CATALOGUE
@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_each_mistake_loses_points_where_it_should_and_nowhere_else(graded_catalogue, mistake):
    student, group = graded_catalogue.student_of[mistake.name]
    cells = graded_catalogue.grades[(student, mistake.assignment)]
    lost = C.lost(cells)
    assert mistake.function in lost, f"{mistake.name} was not caught"
    # the group's mistakes have disjoint allowed sets: anything lost outside all of them is a false alarm
    allowed = set().union(*(m.allowed for m in group))
    assert lost <= allowed, f"points lost on {sorted(lost - allowed)}"


@pytest.mark.slow
@CATALOGUE
def test_catalogue_failure_messages_teach(graded_catalogue):
    student, _ = graded_catalogue.student_of["conv_backward_crop_p_minus_p"]
    out = C.autograded_outputs(graded_catalogue.repo, student, "convolution")
    # pad 0: the empty p:-p crop raises; the message keeps the student's own traceback
    assert "raised ValueError" in out["conv_backward__pad0"]
    assert "dA_prev[i, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]" in out["conv_backward__pad0"]
    assert "✓" in out["conv_backward__stride1_pad1"]  # pad 1 is fine
    student, _ = graded_catalogue.student_of["conv_backward_assign_not_accumulate"]
    text = C.autograded_outputs(graded_catalogue.repo, student, "convolution")["conv_backward__stride2_overlap"]
    assert "dA_prev has wrong values" in text and "largest absolute error" in text
    assert "{'stride': 2, 'pad': 1}" in text and f"({citations.table()['eq-conv-dilate'].number})" in text


# ------------------------------------------------------------------ the judge, without kernels

def record(tmp_path, grade_id, result):
    """Write what a kernel would have recorded; returns what the judge reads back."""
    folder = exchange.prepare(tmp_path)
    arrays = {}
    doc = {"result": exchange.encode(result, arrays), "warnings": []}
    np.savez(folder / "outputs" / f"{grade_id}.npz", **arrays)
    (folder / "outputs" / f"{grade_id}.json").write_text(json.dumps(doc))
    return exchange.read_output(folder, grade_id)


def test_judge_accepts_the_reference_and_float32(tmp_path):
    case = registry.CASES["conv_backward__stride2_overlap"]
    ref = case.reference()
    assert verdict(case.grade_id, record(tmp_path / "a", case.grade_id, ref))[0]
    single = tuple(x.astype(np.float32) for x in ref)
    assert verdict(case.grade_id, record(tmp_path / "b", case.grade_id, single))[0]


def test_judge_rejects_wrong_values_shapes_and_dtypes(tmp_path):
    case = registry.CASES["conv_backward__stride2_overlap"]
    dA, dW, db = case.reference()
    wrong = (dA, dW * (1 + 1e-3), db)
    ok, text = verdict(case.grade_id, record(tmp_path / "a", case.grade_id, wrong))
    assert not ok and "dW has wrong values" in text and citations.cite("eq-conv-dw") in text
    ok, text = verdict(case.grade_id, record(tmp_path / "b", case.grade_id, (dA, dW, db.reshape(-1))))
    assert not ok and "db has shape" in text
    ok, text = verdict(case.grade_id, record(tmp_path / "c", case.grade_id, (dA, dW.astype(np.float32) * (1 + 1e-3), db)))
    assert not ok and "float32" in text  # float32 accepted only within float32 precision
    ok, text = verdict("zero_pad__pad2", record(tmp_path / "d", "zero_pad__pad2",
                                                registry.CASES["zero_pad__pad2"].reference().astype(int)))
    assert not ok and "dtype int" in text


def test_judge_checks_the_forward_cache(tmp_path):
    case = registry.CASES["conv_forward__hparams_pad_first"]
    Z, (A_prev, W, b, hp) = case.reference()
    assert verdict(case.grade_id, record(tmp_path / "a", case.grade_id, (Z, (A_prev, W, b, hp))))[0]
    ok, text = verdict(case.grade_id, record(tmp_path / "b", case.grade_id, (Z, (A_prev, W, b))))
    assert not ok and "cache" in text
    ok, text = verdict(case.grade_id, record(tmp_path / "c", case.grade_id, (Z, (A_prev, W.T, b, hp))))
    assert not ok and "cache" in text


def test_judge_never_trusts_what_the_kernel_wrote(tmp_path):
    grade_id = "relu_backward__matrix"
    folder = exchange.prepare(tmp_path / "a")
    (folder / "outputs" / f"{grade_id}.json").write_text("{not json")
    with pytest.raises(exchange.MalformedRecord):
        exchange.read_output(folder, grade_id)
    # a pickled (object) array is refused, not unpickled
    folder = exchange.prepare(tmp_path / "b")
    np.save(folder / "x.npy", np.array([object()], dtype=object), allow_pickle=True)
    np.savez(folder / "outputs" / f"{grade_id}.npz", a0=np.array([{"x": 1}], dtype=object))
    (folder / "outputs" / f"{grade_id}.json").write_text(json.dumps({"result": {"kind": "array", "key": "a0"}}))
    with pytest.raises(exchange.MalformedRecord):
        exchange.read_output(folder, grade_id)
    # no record at all: the cell never reached grader_record
    ok, text = verdict(grade_id, None, [{"output_type": "error", "ename": "NameError", "evalue": "relu_backward"}])
    assert not ok and "NameError" in text


def test_verdicts_become_outputs_nbgrader_scores_as_intended():
    from nbformat.v4 import new_code_cell
    from nbgrader.utils import determine_grade

    cell = new_code_cell("x")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 2, "grade_id": "t__x"}
    cell.outputs = verdict_outputs(True, "✓ fine")
    assert determine_grade(cell) == (2, 2)
    cell.outputs = verdict_outputs(False, "✗ wrong")
    assert determine_grade(cell) == (0, 2)
