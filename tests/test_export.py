"""`make export` and `make roster`: the files an LMS imports, checked against their documented layouts.

The gradebook is built with nbgrader's own API (no kernels run): a class where
not every student was given every assignment, one submission is late with a
penalty, one cell awaits a manual grade, and the roster gives some students
names, emails and LMS ids.
"""
import csv
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.grading.run import export as X
from autograder.grading.run import roster as R
from autograder.grading.course import Course, venv_on_path
from autograder.grading.pages.status import duration, standings

ROOT = Path(__file__).resolve().parents[1]
# nbgrader 0.9 builds submissions under SQLAlchemy 2's autoflush, which warns; the rows are right
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
DUE = datetime(2027, 3, 1, 23, 59)


def make_course(where):
    """A course folder with a minimal config and a gradebook: two assignments, three students."""
    venv_on_path()  # nbgrader creates the gradebook with alembic
    course = Path(where) / "autograder"
    course.mkdir()
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'btc-test'\n")
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url, "btc-test") as gb:
        for name, cells in (("activations", {"relu__a": 2, "relu__b": 3}), ("convolution", {"pad__a": 4, "essay": 6})):
            gb.add_assignment(name, duedate=DUE)
            gb.add_notebook(name, name)
            for cell, points in cells.items():
                gb.add_grade_cell(cell, name, name, max_score=points, cell_type="markdown" if cell == "essay" else "code")
        for student in ("ada", "bob", "cy"):
            gb.add_student(student)
        # ada: both assignments, convolution late by 2 h with a 1.5 point penalty, essay not yet graded
        sub = gb.add_submission("activations", "ada", timestamp=DUE - timedelta(hours=1))
        _score(sub, {"relu__a": 2, "relu__b": 1.5})
        sub = gb.add_submission("convolution", "ada", timestamp=DUE + timedelta(hours=2))
        _score(sub, {"pad__a": 4, "essay": None})
        sub.notebooks[0].late_submission_penalty = 1.5
        # bob: activations only (never given convolution: blank, not 0)
        sub = gb.add_submission("activations", "bob", timestamp=DUE)
        _score(sub, {"relu__a": 0, "relu__b": 3})
        # cy: on the roster, no submission at all
        gb.db.commit()
    return course


def _score(sub, scores):
    for grade in sub.notebooks[0].grades:
        value = scores[grade.name]
        grade.auto_score = value
        grade.needs_manual_grade = value is None


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.fixture
def course(tmp_path):
    return make_course(tmp_path)


def test_standings_say_late_manual_and_score_after_penalty(course):
    got = standings(course, f"sqlite:///{course / 'gradebook.db'}", "btc-test")
    ada = got[("ada", "convolution")]
    assert (ada.raw_score, ada.penalty, ada.score, ada.max_score) == (4.0, 1.5, 2.5, 10.0)
    assert ada.notes() == ["late (by 2 h, -1.5 points)", "needs manual grading (1 cell)"]
    assert got[("ada", "activations")].notes() == []          # on time: not late
    assert got[("bob", "activations")].notes() == []          # exactly at the due date: not late
    assert ("bob", "convolution") not in got and ("cy", "activations") not in got
    assert [duration(s) for s in (12, 250, 3900, 2 * 86400 + 3 * 3600 + 59)] == ["12 s", "4 min 10 s", "1 h 5 min",
                                                                                 "2 d 3 h"]


def test_wide_csv_one_row_per_student_blank_when_not_given(course):
    wide, _ = X.export(course)
    rows = read(wide)
    assert wide == course / "export" / "grades-wide.csv"
    assert rows[0] == ["student_id", "last_name", "first_name", "email", "activations", "convolution", "total"]
    by_id = {r[0]: r for r in rows[1:]}
    assert list(by_id) == ["ada", "bob", "cy"]                   # every student of the gradebook, sorted
    assert by_id["ada"][4:] == ["3.5", "2.5", "6"]               # convolution after its late penalty
    assert by_id["bob"][4:] == ["3", "", "3"]                    # never given convolution: blank, not 0
    assert by_id["cy"][4:] == ["", "", ""]
    assert all(len(r) == len(rows[0]) for r in rows)


def test_canvas_csv_follows_the_gradebook_import_layout(course):
    # Canvas: Student, ID, SIS User ID, SIS Login ID, Section, then one column per assignment;
    # an optional second row "Points Possible"; blank cells are left alone on import.
    roster = course.parent / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n"
                      "    Points Possible,,,,\n"
                      '"Lovelace, Ada",1001,S-17,ada,CS 101 A\n')
    assert R.main([str(roster), "--course", str(course)]) == 0
    _, canvas = X.export(course)
    rows = read(canvas)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "activations", "convolution"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "5", "10"]
    assert rows[2] == ["Lovelace, Ada", "1001", "S-17", "ada", "CS 101 A", "3.5", "2.5"]
    assert rows[3] == ["bob", "", "", "bob", "", "3", ""]
    assert rows[4] == ["cy", "", "", "cy", "", "", ""]


def test_roster_import_nbgrader_layout_fills_names_and_skips_bad_ids(course, capsys):
    roster = course.parent / "class.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      "bob,Bob,Marley,bob@example.org\n"
                      "new1,=cmd(),Neu,\n"
                      "a*,Glob,Star,x@example.org\n")
    assert R.main([str(roster), "--course", str(course)]) == 0
    out = capsys.readouterr()
    assert "1 student(s) added, 1 updated, 1 row(s) skipped" in out.out
    assert "'a*' is not a plain name" in out.err
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "btc-test") as gb:
        assert {s.id for s in gb.students} == {"ada", "bob", "cy", "new1"}
        bob = gb.find_student("bob")
        assert (bob.first_name, bob.last_name, bob.email) == ("Bob", "Marley", "bob@example.org")
    rows = {r[0]: r for r in read(X.export(course)[0])[1:]}
    assert rows["bob"][:4] == ["bob", "Marley", "Bob", "bob@example.org"]
    assert rows["new1"][:4] == ["new1", "Neu", "'=cmd()", ""]     # never a live spreadsheet formula


def test_roster_update_keeps_what_a_later_file_lacks(course):
    first = course.parent / "first.csv"
    first.write_text("username,name,email\nada,Ada Lovelace,ada@example.org\n")
    second = course.parent / "second.csv"
    second.write_text("student_id,name\nada,\"Byron, Ada\"\n")
    for f in (first, second):
        assert R.main([str(f), "--course", str(course)]) == 0
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "btc-test") as gb:
        ada = gb.find_student("ada")
        assert (ada.first_name, ada.last_name, ada.email) == ("Ada", "Byron", "ada@example.org")


def test_roster_without_an_id_column_imports_nothing(course, capsys):
    roster = course.parent / "names.csv"
    roster.write_text("first_name,last_name\nAda,Lovelace\n")
    assert R.main([str(roster), "--course", str(course)]) == 1
    assert "no student id column" in capsys.readouterr().err


def test_make_targets_print_the_gradebook_with_the_password_hidden(tmp_path):
    course = make_course(tmp_path)
    roster = tmp_path / "r.csv"
    roster.write_text("id\nzed\n")
    env = dict(os.environ, BTC_GRADEBOOK_URL="postgresql+psycopg2://grader:s3cret-pw@127.0.0.1:9/gradebook")
    for target in (["roster", f"FILE={roster}"], ["export"]):
        proc = subprocess.run(["make", "-s", "-C", str(ROOT), *target, f"COURSE={course}"], capture_output=True,
                              text=True, env=env, timeout=300)
        assert "gradebook: postgresql+psycopg2://grader:***@127.0.0.1:9/gradebook" in proc.stdout, proc.stdout
        assert "s3cret-pw" not in proc.stdout + proc.stderr
        assert proc.returncode != 0                     # nothing listens on port 9: it says so and fails
    env.pop("BTC_GRADEBOOK_URL")
    proc = subprocess.run(["make", "-s", "-C", str(ROOT), "export", f"COURSE={course}"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"gradebook: sqlite:///{course / 'gradebook.db'}" in proc.stdout
    assert (course / "export" / "canvas.csv").is_file()
    assert Course(course).db_url.endswith("gradebook.db")


def test_plain_nbgrader_names_the_gradebook_once_with_the_password_hidden(tmp_path):
    from tests.submissions import course as C
    repo = C.copy_course(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(repo),
               BTC_GRADEBOOK_URL="postgresql+psycopg2://grader:s3cret-pw@127.0.0.1:9/gradebook")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=repo / "autograder", env=env,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert out.count("gradebook: postgresql+psycopg2://grader:***@127.0.0.1:9/gradebook") == 1, out
    assert "s3cret-pw" not in out
