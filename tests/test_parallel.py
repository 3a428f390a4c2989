"""Parallel grading: shards, single writer, and grades identical to plain serial nbgrader.

The nbgrader tests use a tiny two-assignment course of their own (plain
nbgrader config, no sandbox), so they test the driver, not the course's
notebooks: its only job is to give the same grades as `nbgrader autograde`
would, faster, without two processes ever writing one gradebook.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.run import gradebooks, pool, progress
from autograder.grading.course import URL_ENV, Course, load_config, parse_shard, shard_of, venv_on_path
from autograder.grading.run.results import Result

PY = Path(sys.executable)
NBGRADER = PY.parent / "nbgrader"

# student -> {assignment: variant}
VARIANTS = {
    "ok": {"double": "def double(x):\n    return x + x", "square": "def square(x):\n    return x ** 2"},
    "bugdouble": {"double": "def double(x):\n    return 2 * abs(x)", "square": "def square(x):\n    return x * x"},
    "bugsquare": {"double": "def double(x):\n    return 2 * x", "square": "def square(x):\n    return x * 3"},
    "blank": {},
    "crash": {"double": "def double(x):\n    return 2 * x\nraise RuntimeError('boom')"},
}


def _meta(grade_id, **kw):
    m = {"grade": False, "solution": False, "locked": False, "schema_version": 3, "grade_id": grade_id}
    m.update(kw)
    return {"nbgrader": m}


def _source_notebook():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    cells = [
        new_markdown_cell("# toy", metadata=_meta("intro", locked=True)),
        new_code_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=_meta("double", solution=True)),
        new_code_cell("assert double(2) == 4", metadata=_meta("double__small", grade=True, locked=True, points=1)),
        new_code_cell("assert double(-3) == -6", metadata=_meta("double__neg", grade=True, locked=True, points=2)),
        new_code_cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
                      metadata=_meta("square", solution=True)),
        new_code_cell("assert square(3) == 9", metadata=_meta("square__three", grade=True, locked=True, points=3)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def env():
    e = dict(os.environ)
    e["PATH"] = str(PY.parent) + os.pathsep + e.get("PATH", "")
    e.pop(URL_ENV, None)
    return e


def run_converter(course, converter, assignment, student="*", db_url=None, **traits):
    """Run an nbgrader converter in this process, exactly as its `nbgrader` command would."""
    import logging

    from nbgrader.coursedir import CourseDirectory
    venv_on_path()
    cfg = load_config(course)
    if db_url:
        cfg.CourseDirectory.db_url = db_url
    cd = CourseDirectory(config=cfg)
    cd.root = str(course)
    cd.assignment_id = assignment
    cd.student_id = student
    conv = converter(coursedir=cd, config=cfg)
    conv.log.setLevel(logging.ERROR)
    for k, v in traits.items():
        setattr(conv, k, v)
    conv.start()


def release(course, assignments=("alpha", "beta"), db_url=None):
    from nbgrader.converters import GenerateAssignment
    for a in assignments:
        run_converter(course, GenerateAssignment, a, ".", db_url, force=True, create_assignment=True)


def make_toy_course(root, n_students, assignments=("alpha", "beta")):
    """A course with released assignments and n_students submissions mixing right, wrong, blank, crashing."""
    import nbformat
    root = Path(root)
    for a in assignments:
        (root / "source" / a).mkdir(parents=True, exist_ok=True)
        nbformat.write(_source_notebook(), str(root / "source" / a / f"{a}.ipynb"))
    (root / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'toy'\n")
    release(root, assignments)
    names = sorted(VARIANTS)
    for i in range(n_students):
        for j, a in enumerate(assignments):
            v = VARIANTS[names[(i + j) % len(names)]]
            nb = nbformat.read(str(root / "release" / a / f"{a}.ipynb"), 4)
            for c in nb.cells:
                gid = c.metadata.get("nbgrader", {}).get("grade_id")
                if gid in v:
                    c.source = v[gid]
            (root / "submitted" / f"s{i:03d}" / a).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(root / "submitted" / f"s{i:03d}" / a / f"{a}.ipynb"))
    return root


def grade_rows(db_url):
    """(student, assignment, grade_id, auto_score, needs_manual_grade) for every grade, and the submissions."""
    from nbgrader.api import Gradebook
    rows = []
    with Gradebook(db_url, "toy") as gb:
        for a in gb.assignments:
            for sub in a.submissions:
                for nb in sub.notebooks:
                    for g in nb.grades:
                        rows.append((sub.student.id, a.name, g.name, g.auto_score, g.needs_manual_grade))
                    for c in nb.comments:
                        rows.append((sub.student.id, a.name, c.name, c.auto_comment, None))
    return sorted(rows, key=repr)


def export(course, name):
    """`nbgrader export --to=name`, in this process."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin
    plugin = CsvExportPlugin()
    plugin.to = str(Path(course) / name)
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}", "toy") as gb:
        plugin.export(gb)
    with open(Path(course) / name) as f:
        return sorted(csv.reader(f))


# ---------------------------------------------------------------------------- shards


def test_shard_parsing():
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "1/0", "x", "1-2"):
        with pytest.raises(ValueError):
            parse_shard(bad)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_shards_cover_every_student_exactly_once(tmp_path, n):
    students = [f"stu{i:04d}" for i in range(97)] + ["alice", "bob.smith", "ünï"]
    for s in students:
        for a in ("activations", "pooling"):
            (tmp_path / "submitted" / s / a).mkdir(parents=True)
    (tmp_path / "submitted" / "bob.smith" / "notanassignment").mkdir()
    for a in ("activations", "pooling", "convolution"):
        (tmp_path / "source" / a).mkdir(parents=True)
    everything = Course(tmp_path).discover()
    assert len(everything) == 2 * len(students)
    slices = [Course(tmp_path).discover(shard=(k, n)) for k in range(1, n + 1)]
    seen = [job for s in slices for job in s]
    assert sorted(seen) == everything                      # every submission, none twice
    owners = {}
    for k, s in enumerate(slices):
        for student, _ in s:
            assert owners.setdefault(student, k) == k      # a student's assignments stay together
    sizes = [len({s for s, _ in sl}) for sl in slices]
    assert max(sizes) - min(sizes) <= 1                    # balanced
    # deterministic: the same slice whatever order the students are listed in
    assert shard_of(reversed(students), (1, n)) == shard_of(students, (1, n))


# ---------------------------------------------------------------------------- grading


@pytest.fixture(scope="session")
def toy_courses(tmp_path_factory):
    base = tmp_path_factory.mktemp("toy")
    serial = make_toy_course(base / "serial", 4)
    par = base / "parallel"
    shutil.copytree(serial, par)
    return serial, par


@pytest.mark.slow
@pytest.mark.xdist_group("toy_grading")
def test_parallel_grades_equal_plain_serial_nbgrader(toy_courses):
    from nbgrader.converters import Autograde
    from nbgrader.converters.base import NbGraderException
    serial, par = toy_courses
    for a in ("alpha", "beta"):  # `nbgrader autograde A --force`, in this process
        try:
            run_converter(serial, Autograde, a, "*", force=True)
        except NbGraderException:
            pass  # raised at the end when a notebook had errors; every student was still graded
    summary = pool.grade(par, jobs=2, progress=False)
    assert len(summary.results) == 8
    assert grade_rows(f"sqlite:///{par / 'gradebook.db'}") == grade_rows(f"sqlite:///{serial / 'gradebook.db'}")
    assert export(par, "grades.csv") == export(serial, "grades.csv")
    scores = {(r[3], r[0]): float(r[7]) for r in export(par, "grades.csv") if r[0] != "assignment"}
    assert scores == {("s000", "alpha"): 0, ("s001", "alpha"): 4, ("s002", "alpha"): 6, ("s003", "alpha"): 3,
                      ("s000", "beta"): 4, ("s001", "beta"): 6, ("s002", "beta"): 3, ("s003", "beta"): 6}
    # the merge hands back the scores it wrote; run.json keeps its fields (report.py reads them)
    assert {(r.student, r.assignment): r.score for r in summary.results} == scores
    run = json.loads((par / "report" / "run.json").read_text())
    assert [sorted(r) for r in run["results"]] == [sorted(["student", "assignment", "ok", "error", "trouble", "seconds",
                                                           "phases", "worker", "peak_rss_mb"])] * 8
    assert [(r["student"], r["assignment"], r["ok"]) for r in run["results"]] == [
        (r.student, r.assignment, r.ok) for r in summary.results]
    # every notebook got its feedback page, written by the worker that graded it
    for student, assignment in Course(par).discover():
        assert (par / "feedback" / student / assignment / f"{assignment}.html").exists()
    table = progress.summary_table(summary)
    assert "graded 8 notebook(s) of 4 student(s) with 2 worker(s)" in table
    assert "seconds per notebook" in table and "kernel_start" in table
    # regrading is idempotent
    before = grade_rows(f"sqlite:///{par / 'gradebook.db'}")
    pool.grade(par, jobs=2, progress=False, pairs=[("s001", "alpha"), ("s003", "beta")])
    assert grade_rows(f"sqlite:///{par / 'gradebook.db'}") == before


@pytest.mark.slow
@pytest.mark.xdist_group("toy_grading")
def test_workers_never_touch_the_main_gradebook(toy_courses, tmp_path):
    """A worker grades with the main gradebook moved away; only merge() (the parent) writes it."""
    from nbgrader.api import Gradebook
    serial, _ = toy_courses
    course = tmp_path / "c"
    shutil.copytree(serial, course, ignore=shutil.ignore_patterns("autograded", "feedback"))
    main = course / "gradebook.db"
    gradebooks.seed_gradebook(f"sqlite:///{main}", tmp_path / "seed.db")
    hidden = tmp_path / "main.db"
    main.rename(hidden)
    # in a child process, as in a real run (a Worker patches nbgrader in the process it lives in)
    code = ("import json; from autograder.grading.run.worker import Worker; "
            "w = Worker(%r, %r, %r); print(json.dumps(w.grade('s002', 'alpha').to_json()))"
            % (str(course), str(tmp_path / "seed.db"), str(tmp_path / "w0")))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["ok"], res
    assert not main.exists(), "the worker opened the main gradebook"
    assert res["data"]["notebooks"]["alpha"]["grades"]["double__neg"][0] == 2
    hidden.rename(main)
    with Gradebook(f"sqlite:///{main}", "toy") as gb:
        assert gradebooks.merge(gb, [Result.from_json(res)]) == {("s002", "alpha"): (6, 6)}
    with Gradebook(f"sqlite:///{main}", "toy") as gb:
        assert gb.find_submission("alpha", "s002").score == 6


@pytest.mark.slow
@pytest.mark.xdist_group("toy_grading")
def test_a_stuck_worker_is_replaced_and_the_class_finishes(toy_courses, tmp_path):
    """A notebook that keeps its worker past job_timeout fails alone; a new worker grades the rest."""
    import nbformat
    serial, _ = toy_courses
    course = tmp_path / "c"
    shutil.copytree(serial, course, ignore=shutil.ignore_patterns("autograded", "feedback", "report"))
    nb = nbformat.read(str(course / "release" / "alpha" / "alpha.ipynb"), 4)
    nb.cells[1].source = "import time\nwhile True:\n    time.sleep(0.1)"
    (course / "submitted" / "stuck" / "alpha").mkdir(parents=True)
    nbformat.write(nb, str(course / "submitted" / "stuck" / "alpha" / "alpha.ipynb"))
    # nbgrader's own cell timeout (30 s) is longer than the job timeout: the driver must act
    summary = pool.grade(course, jobs=1, progress=False, job_timeout=15,
                             pairs=[("stuck", "alpha"), ("s001", "alpha"), ("s002", "alpha")])
    by = {(r.student, r.assignment): r for r in summary.results}
    assert not by[("stuck", "alpha")].ok and "died" in by[("stuck", "alpha")].error
    assert by[("s001", "alpha")].ok and by[("s002", "alpha")].ok
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "toy") as gb:
        assert gb.find_submission("alpha", "s001").score == 4
        assert gb.find_submission("alpha", "s002").score == 6
    assert "stuck" in progress.summary_table(summary)


def test_kernel_events_are_listed_one_line_per_kind():
    """The summary's reason for a notebook with kernel events (data from recovering.take_events)."""
    events = [{"kind": "timeout", "cell": "conv_forward", "why": "the cell ran out of time"},
              {"kind": "timeout", "cell": "conv_forward__a", "why": "the cell ran out of time"},
              {"kind": "kernel died", "cell": "pool_backward", "why": "the kernel was killed by SIGSEGV"}]
    assert progress.trouble_text(events) == ("timeout: conv_forward (+1 more cells); "
                                             "kernel died: pool_backward (the kernel was killed by SIGSEGV)")
    assert progress.trouble_text([]) == ""
