"""Course data no student can read (issue 18): `make release` / `make grade` / `make collect` refuse while
students submit on this host and other users can read the course's answers, gradebook or submissions.

The course copies here live in a folder every user can pass through (like a clone with umask 022),
not in pytest's private 0700 folder, and use their own copy of the package (PYTHONPATH), so the
`solutions` the judge would import is the copy's.
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.submissions import course as C

COURSE_ID = "backprop-through-cnns"


@pytest.fixture
def open_course():
    """(repo, course, exchange): a world-readable course copy and an exchange holding the course."""
    base = Path(tempfile.mkdtemp(prefix="btc-open-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        if not all(os.stat(p).st_mode & 0o001 for p in base.parents):
            pytest.skip("/tmp's parents are not reachable by others here")
        repo = C.copy_course(base)
        for p in [repo, *repo.rglob("*")]:  # as a clone made with umask 022
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        exchange = base / "exchange"
        (exchange / COURSE_ID / "inbound").mkdir(parents=True)
        yield repo, repo / "autograder", exchange
    finally:
        subprocess.run(["rm", "-rf", "--one-file-system", str(base)])


def run(repo, module, exchange, *args):
    env = dict(os.environ, PYTHONPATH=str(repo), BTC_EXCHANGE_ROOT=str(exchange))
    return subprocess.run([sys.executable, "-m", module, *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("module,command", [("autograder.grading.run.release", "make release"),
                                            ("autograder.grading.run.grade", "make grade"),
                                            ("autograder.grading.run.collect", "make collect")])
def test_a_readable_course_is_refused_and_the_message_says_how_to_fix_it(open_course, module, command):
    repo, course, exchange = open_course
    done = run(repo, module, exchange)
    assert done.returncode != 0
    assert f"{command}: refusing to run" in done.stderr, done.stderr
    assert str(course / "source") in done.stderr and str(repo / "solutions") in done.stderr
    assert "chmod" in done.stderr
    assert not (course / "release").exists() and not (course / "gradebook.db").exists()  # nothing ran


def test_the_printed_fix_makes_release_run(open_course):
    repo, course, exchange = open_course
    os.chmod(repo, 0o750)  # the message's shorter fix: others cannot pass through the checkout
    done = run(repo, "autograder.grading.run.release", exchange, "pooling")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (course / "release" / "pooling" / "pooling.ipynb").is_file()


def test_without_students_on_this_host_nothing_is_refused(open_course):
    """No course folder in the exchange: nobody submits here, a readable checkout is not refused."""
    repo, course, exchange = open_course
    subprocess.run(["rm", "-rf", str(exchange / COURSE_ID)], check=True)
    done = run(repo, "autograder.grading.run.release", exchange, "pooling")
    assert done.returncode == 0, done.stdout + done.stderr


def _try_read(paths):
    """As the student: every path must be unreadable (raises otherwise, failing the child)."""
    for p in paths:
        try:
            with open(p, "rb") as f:
                f.read(1)
        except PermissionError:
            continue
        raise AssertionError(f"a student read {p}")


def test_after_the_printed_fix_a_student_uid_reads_nothing_of_the_course(open_course):
    """Before the fix a student uid reads the reference notebook; after it, nothing the check names."""
    if os.geteuid() != 0:
        if os.environ.get("CI_REQUIRE_ALL"):
            pytest.fail("CI must not skip: needs root (a student uid made with useradd)")
        pytest.skip("needs root (a student uid made with useradd)")
    from tests.hostile.exchange_attacks import Students, run_as
    from autograder.grading.course import Course
    from autograder.grading.permissions import sensitive_paths
    repo, course, exchange = open_course
    reference = course / "source" / "pooling" / "pooling.ipynb"
    students = Students()
    try:
        with pytest.raises(AssertionError):  # the control: world-readable, as cloned
            run_as(students.alice, _try_read, [reference])
        os.chmod(repo, 0o750)
        files = [reference, repo / "solutions" / "__init__.py"] + [
            p for p in sensitive_paths(Course(course)) if p.is_file()]
        run_as(students.alice, _try_read, files)
    finally:
        students.remove()
