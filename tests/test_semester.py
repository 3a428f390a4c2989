"""An instructor's semester, end to end, on a fresh copy of the course (issue 22, "Done when").

The slow test walks the README's instructor section with the commands it
documents (`make X` runs `python -m autograder.grading.X`; here the modules run
directly in the copy, so the shared virtualenv is never reinstalled):
release; three students hand in `convolution` (ada and cy through nbgrader's
exchange as their own uids, cy after the due date; bob's notebook placed in
submitted/ by hand, saved by his browser as `convolution (1).ipynb` and never
touched); collect; the instructor adds a written question before grading;
grade; a change of cells after grading is refused with what to do; regrade one
student; release_feedback; export; the report. At each step
it checks what the instructor would look at. The fast tests check the pieces
the walk relies on.
"""
import csv
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.submissions import course as C
from tests.submissions import replace_body

from autograder.grading import cases as registry
from autograder.grading.pages.late import LatePenalty
from autograder.grading.precheck import accept_renamed, check_submission

ROOT = C.ROOT
COURSE_ID = "backprop-through-cnns"
TOTAL = {a: sum(c.points for c in registry.for_assignment(a)) for a in C.ASSIGNMENTS}


# ----------------------------------------------------------------------------- the pieces


def test_late_penalty_is_a_percent_per_started_day_after_grace_capped():
    p = LatePenalty(percent_per_day=10, max_percent=25, grace_minutes=5)
    assert p.late_submission_penalty("a", 20.0, 4 * 60) == 0.0            # within the grace period
    assert p.late_submission_penalty("a", 20.0, 6 * 60) == 2.0            # a started day: 10 %
    assert p.late_submission_penalty("a", 20.0, 86400 + 1) == 4.0         # two started days: 20 %
    assert p.late_submission_penalty("a", 20.0, 9 * 86400) == 5.0         # capped at 25 %
    assert LatePenalty(penalty_method="zero").late_submission_penalty("a", 7.0, 1) == 7.0  # nbgrader's own


def test_a_browser_renamed_notebook_alone_in_its_folder_is_graded_under_its_name(tmp_path):
    folder = tmp_path / "bob" / "convolution"
    folder.mkdir(parents=True)
    (folder / "convolution (1).ipynb").write_text("{}")
    assert accept_renamed(folder, "convolution") == "convolution (1).ipynb"
    assert sorted(p.name for p in folder.iterdir()) == ["convolution.ipynb"]
    assert accept_renamed(folder, "convolution") is None                  # nothing left to rename


@pytest.mark.parametrize("names", [["convolution (1).ipynb", "convolution (2).ipynb"],   # two: which one?
                                   ["homework.ipynb"],                                   # not a browser's rename
                                   ["pooling (1).ipynb"]])                               # another assignment's
def test_a_notebook_that_is_not_unambiguously_renamed_stays_misnamed(tmp_path, names):
    folder = tmp_path / "bob" / "convolution"
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).write_text("{}")
    assert accept_renamed(folder, "convolution") is None
    assert [p.kind for p in check_submission(folder, "bob", "convolution")] == ["misnamed"]


def test_a_link_named_like_a_renamed_notebook_is_never_renamed_or_followed(tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("secret")
    folder = tmp_path / "mallory" / "convolution"
    folder.mkdir(parents=True)
    (folder / "convolution (1).ipynb").symlink_to(secret)
    assert accept_renamed(folder, "convolution") is None
    assert (folder / "convolution (1).ipynb").is_symlink() and not (folder / "convolution.ipynb").exists()
    assert [p.kind for p in check_submission(folder, "mallory", "convolution")] == ["unsafe_file"]


# ----------------------------------------------------------------------------- the semester

USERS = ("btc22ada", "btc22cy")   # students who submit through the exchange, as their own uids


def need_root():
    if os.geteuid() == 0 and shutil.which("useradd") and shutil.which("setpriv"):
        return
    reason = "needs root with useradd and setpriv (students submit as their own uids)"
    if os.environ.get("CI_REQUIRE_ALL"):
        pytest.fail(f"CI must not skip: {reason}")
    pytest.skip(reason)


@pytest.fixture
def users():
    need_root()
    for u in USERS:
        subprocess.run(["userdel", u], capture_output=True)
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", u], check=True)
    yield {u: pwd.getpwnam(u) for u in USERS}
    for u in USERS:
        subprocess.run(["userdel", u], capture_output=True)


def run(repo, *args, env=None, user=None, cwd=None, check=True):
    """A command in the course copy (its own package first), optionally as a student's uid."""
    env = dict(env or os.environ, PYTHONPATH=str(repo))
    cmd = [sys.executable, *args]
    if user is not None:
        env["HOME"] = str(cwd)
        cmd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *cmd]
    proc = subprocess.run(cmd, cwd=cwd or repo / "autograder", env=env, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def copy_repo(where):
    """The course (C.copy_course) plus what regenerating the notebooks reads."""
    repo = C.copy_course(where)
    for folder in ("tools", "chapters"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__", "exercises"))
    for top in ROOT.iterdir():  # _config.yml, _toc.yml, requirements*.txt ... (never run: no make, no pip here)
        if top.is_file() and not top.name.startswith("."):
            shutil.copy2(top, repo / top.name)
    return repo


def student_dir(base, user):
    home = Path(base) / user.pw_name
    home.mkdir()
    os.chown(home, user.pw_uid, user.pw_gid)
    return home


def written_question():
    """The instructor's extra cells: a question (a plain cell) and a manually graded answer cell (2 points).

    The question carries no nbgrader metadata: nbgrader (0.9) puts a missing graded cell back after
    the tracked cell before it, and fails when that one is missing from the submission too.
    """
    meta = {"grade": True, "solution": True, "locked": False, "schema_version": 3, "grade_id": "written_rot180",
            "points": 2}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "id": "written-rot180-question", "metadata": {},
         "source": "**Written question.** Why does the input gradient use the kernel rotated by 180 degrees?"},
        {"cell_type": "markdown", "id": "written-rot180", "metadata": {"nbgrader": meta},
         "source": "Each input pixel meets each kernel weight once, mirrored."}]}


def notebook_of(repo, folder, assignment):
    return json.loads((repo / "autograder" / folder / assignment / f"{assignment}.ipynb").read_text())


def summary_line(out, student, assignment):
    """The summary table's line for one notebook (not the indented list of failures)."""
    lines = [line for line in out.splitlines() if line.split()[:2] == [student, assignment] and line[:1] != " "]
    assert len(lines) == 1, out
    return lines[0]


@pytest.mark.slow
def test_one_semester(tmp_path, users):
    repo = copy_repo(tmp_path)
    course = repo / "autograder"
    base = Path(tempfile.mkdtemp(prefix="btc22-"))       # students' homes and the exchange: reachable by them
    os.chmod(base, 0o755)
    exchange = base / "exchange"
    exchange.mkdir(mode=0o1777)
    os.chmod(exchange, 0o1777)
    env = dict(os.environ, BTC_EXCHANGE_ROOT=str(exchange))
    env.pop("BTC_GRADEBOOK_URL", None)
    ada, cy = users["btc22ada"], users["btc22cy"]
    try:
        # 1. Release (`make release`): student versions, the gradebook named, no solution in them.
        out = run(repo, "-m", "autograder.grading.run.release", env=env).stdout
        assert f"gradebook: sqlite:///{course / 'gradebook.db'}" in out
        released = (course / "release" / "convolution" / "convolution.ipynb").read_text()
        assert "BEGIN SOLUTION" not in released and "raise NotImplementedError()" in released
        run(repo, "-m", "nbgrader", "release_assignment", "convolution", "--force", env=env)

        # 2. Students fetch and submit: ada on time, cy after the due date; bob by hand, renamed, untouched.
        source = C.source_notebook("convolution")
        for user, nb in ((ada, source), (cy, replace_body(json.loads(json.dumps(source)), "conv_backward",
                                                                 "raise ValueError('not done')"))):
            home = student_dir(base, user)
            run(repo, "-m", "nbgrader", "fetch_assignment", "convolution", f"--course={COURSE_ID}",
                f"--Exchange.root={exchange}", env=env, user=user, cwd=home)
            (home / "convolution" / "convolution.ipynb").write_text(json.dumps(nb))
            if user is cy:
                due = datetime.now(timezone.utc)
                time.sleep(1.5)  # the deadline passes between the two submissions
            run(repo, "-m", "nbgrader", "submit", "convolution", f"--course={COURSE_ID}",
                f"--Exchange.root={exchange}", env=env, user=user, cwd=home)
        hand = course / "submitted" / "bob" / "convolution"
        hand.mkdir(parents=True)
        shutil.copy(course / "release" / "convolution" / "convolution.ipynb", hand / "convolution (1).ipynb")
        # The due date and the late penalty live in the course config (one place).
        with open(course / "nbgrader_config.py", "a") as f:
            f.write(f"\nc.Semester.due_dates = {{'convolution': '{due:%Y-%m-%d %H:%M:%S.%f} UTC'}}\n"
                    "c.LatePenalty.percent_per_day = 10.0\n")

        # 3. Collect: both exchange submissions land in submitted/ under their ids.
        run(repo, "-m", "nbgrader", "collect", "convolution", env=env)
        for user in (ada, cy):
            assert (course / "submitted" / user.pw_name / "convolution" / "convolution.ipynb").is_file()

        # 4. Before grading, the instructor adds a written question to convolution (autograder/extra/):
        # regenerated, released; submissions made before it get the cell back, empty, for a manual grade.
        extra = course / "extra"
        extra.mkdir()
        (extra / "convolution.ipynb").write_text(json.dumps(written_question()))
        run(repo, "-m", "tools.make_notebooks", env=env, cwd=repo)
        assert "written_rot180" in (course / "source" / "convolution" / "convolution.ipynb").read_text()
        out = run(repo, "-m", "autograder.grading.run.release", env=env).stdout
        assert "convolution: due" in out
        released = (course / "release" / "convolution" / "convolution.ipynb").read_text()
        answer = [c for c in json.loads(released)["cells"]
                  if c["metadata"].get("nbgrader", {}).get("grade_id") == "written_rot180"]
        assert len(answer) == 1 and "mirrored" not in "".join(answer[0]["source"])  # the model answer stays home

        # 5. Grade (`make grade`): scores, and what each needs, per student and assignment.
        out = run(repo, "-m", "autograder.grading.run.grade", "--jobs", "2", env=env).stdout
        top = TOTAL["convolution"] + 2
        assert f"gradebook: sqlite:///{course / 'gradebook.db'}" in out
        ada_line = summary_line(out, "btc22ada", "convolution")
        assert f"{TOTAL['convolution']:g}/{top:g}" in ada_line and "needs manual grading (1 cell)" in ada_line
        assert "late" not in ada_line and "not attempted" not in ada_line
        bob = summary_line(out, "bob", "convolution")
        assert "not attempted" in bob and "submitted as 'convolution (1).ipynb'" in bob
        late = summary_line(out, "btc22cy", "convolution")
        assert "late (by " in late and "points)" in late and "not attempted" not in late
        grades = C.grades(repo)
        cy_raw = sum(s or 0 for s, _ in grades[("btc22cy", "convolution")].values())
        assert 0 < cy_raw < TOTAL["convolution"]
        assert f"{cy_raw * 0.9:g}/{top:g}" in late                            # 10 % for one started day

        # 6. Now that convolution is graded, nbgrader refuses to add or remove its cells: release says what
        # to do and changes nothing; with the cells as they were, it releases again.
        (extra / "convolution.ipynb").unlink()
        run(repo, "-m", "tools.make_notebooks", env=env, cwd=repo)
        refused = run(repo, "-m", "autograder.grading.run.release", "convolution", env=env, check=False)
        assert refused.returncode == 1
        assert "Cannot add or remove cells" in refused.stderr and "removes written_rot180" in refused.stderr
        assert "release/convolution/ is unchanged" in refused.stderr
        assert (course / "release" / "convolution" / "convolution.ipynb").read_text() == released
        (extra / "convolution.ipynb").write_text(json.dumps(written_question()))
        run(repo, "-m", "tools.make_notebooks", env=env, cwd=repo)
        run(repo, "-m", "autograder.grading.run.release", "convolution", env=env)

        # 7. Bob hands in his work after all: regrade him alone (`make grade STUDENTS=bob ASSIGNMENTS=convolution`).
        (hand / "convolution.ipynb").write_text(json.dumps(source))
        feedback = {s: course / "feedback" / s / "convolution" / "convolution.html" for s in ("bob", "btc22ada")}
        before = {s: p.stat().st_mtime_ns for s, p in feedback.items()}
        out = run(repo, "-m", "autograder.grading.run.grade", "--students", "bob", "--assignments", "convolution",
                  env=env).stdout
        assert "not attempted" not in summary_line(out, "bob", "convolution")
        assert not [line for line in out.splitlines() if line.startswith(("btc22ada ", "btc22cy "))], out
        assert feedback["bob"].stat().st_mtime_ns != before["bob"]
        assert feedback["btc22ada"].stat().st_mtime_ns == before["btc22ada"]
        assert sum(s or 0 for s, _ in C.grades(repo)[("bob", "convolution")].values()) == TOTAL["convolution"]

        # 8. Feedback back through the exchange.
        fed = run(repo, "-m", "nbgrader", "release_feedback", "convolution", env=env, check=False)
        assert fed.returncode == 0, fed.stdout + fed.stderr

        # 9. Export (`make export`): one row per student; blank where nothing was handed in; late penalty applied.
        roster = tmp_path / "roster.csv"
        roster.write_text("id,first_name,last_name,email\nbtc22ada,Ada,Lovelace,ada@example.org\n")
        run(repo, "-m", "autograder.grading.run.roster", str(roster), env=env)
        run(repo, "-m", "autograder.grading.run.export", env=env)
        with open(course / "export" / "grades-wide.csv", newline="") as f:
            wide = {r["student_id"]: r for r in csv.DictReader(f)}
        assert (wide["btc22ada"]["last_name"], wide["btc22ada"]["email"]) == ("Lovelace", "ada@example.org")
        assert wide["bob"]["activations"] == "" and wide["bob"]["pooling"] == ""     # never handed in: blank
        assert float(wide["bob"]["convolution"]) == TOTAL["convolution"]
        assert float(wide["btc22cy"]["convolution"]) == pytest.approx(cy_raw * 0.9, abs=1e-3)
        assert float(wide["btc22ada"]["total"]) == TOTAL["convolution"]
        with open(course / "export" / "canvas.csv", newline="") as f:
            canvas = list(csv.reader(f))
        assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
        assert canvas[1][0].strip() == "Points Possible"
        by_login = {row[3]: row for row in canvas[2:]}
        assert by_login["btc22ada"][:4] == ["Lovelace, Ada", "", "", "btc22ada"]
        assert by_login["bob"][5:] == ["", f"{TOTAL['convolution']:g}", ""]      # activations, convolution, pooling

        # 10. The report says it too.
        page = (course / "report" / "index.html").read_text()
        assert "needs manual grading (1 cell)" in page and "late (by " in page
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_a_release_that_fails_leaves_the_previous_release_in_place(tmp_path):
    repo = C.copy_course(tmp_path)
    course = repo / "autograder"
    C.release(repo)
    page = course / "release" / "pooling" / "pooling.ipynb"
    before = page.read_text()
    source = course / "source" / "pooling" / "pooling.ipynb"
    nb = json.loads(source.read_text())
    nb["cells"].append({"cell_type": "code", "id": "broken", "metadata": {"nbgrader": {
        "grade": True, "solution": False, "locked": False, "points": 1, "schema_version": 3}},  # no grade_id
        "source": "pass", "outputs": [], "execution_count": None})
    source.write_text(json.dumps(nb))
    done = C.run(repo, "autograder.grading.run.release", "pooling", check=False)
    assert done.returncode != 0                                 # nbgrader refused the broken source
    assert page.read_text() == before                           # and the students' version is still there
    assert sorted(p.name for p in (course / "release").iterdir()) == list(C.ASSIGNMENTS)  # no leftover copy
