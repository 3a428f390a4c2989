"""A real PostgreSQL gradebook: a private server on loopback, graded into in parallel, grades read back.

The server comes from Debian's `postgresql` package (binaries under
/usr/lib/postgresql/<version>/bin), runs as an unprivileged user (initdb
refuses root) in a temporary folder, listens on 127.0.0.1 and a unix socket in
that folder only, and is stopped at the end.
"""
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support import require
from autograder.grading.run import pool
from autograder.grading.course import URL_ENV, gradebook_url
from tests.test_parallel import make_toy_course, release

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("postgres")]

# the toy course's scores, worked out by hand from its variants (see test_parallel.VARIANTS):
# students rotate through blank, bugdouble, bugsquare, crash, ok; beta is shifted by one.
#   blank 0; bugdouble loses double__neg (2 of 6) -> 4; bugsquare: x * 3 == 9 at x = 3 -> 6;
#   crash: double defined before the raise, square never -> 3; ok -> 6
EXPECTED = {("s000", "alpha"): 0, ("s001", "alpha"): 4, ("s002", "alpha"): 6,
            ("s000", "beta"): 4, ("s001", "beta"): 6, ("s002", "beta"): 3}


def _bindir():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _as_user():
    """Command prefix that runs a program as an unprivileged user (we may be root)."""
    if os.geteuid() != 0:
        return [], None
    try:
        import pwd
        pw = pwd.getpwnam("postgres")
        return ["runuser", "-u", "postgres", "--"], (pw.pw_uid, pw.pw_gid)
    except KeyError:
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"], (65534, 65534)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    bindir = _bindir()
    require(str(bindir / "initdb") if bindir else "/usr/lib/postgresql/N/bin/initdb", "postgresql")
    prefix, owner = _as_user()
    home = Path(tempfile.mkdtemp(prefix="btc-pg-"))
    os.chmod(home, 0o755)
    data, sock = home / "data", home / "sock"
    sock.mkdir()
    if owner:
        os.chown(home, *owner)
        os.chown(sock, *owner)
    port = _free_port()
    subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(data), "-U", "grader", "--auth=trust",
                             "--no-sync", "-E", "UTF8"], check=True, capture_output=True, cwd=home)
    opts = f"-h 127.0.0.1 -p {port} -k {sock} -F"
    subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(home / "log"),
                             "-w", "-t", "60", "start"], check=True, capture_output=True, cwd=home)
    try:
        import psycopg2
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="grader", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, cwd=home)
        shutil.rmtree(home, ignore_errors=True)


def test_grades_round_trip_through_postgresql(postgres, tmp_path):
    from nbgrader.api import Gradebook
    course = make_toy_course(tmp_path / "course", 3)
    # the assignments go into the PostgreSQL gradebook exactly as `nbgrader generate_assignment` puts them
    release(course, db_url=postgres)
    (course / "gradebook.db").unlink()  # made by make_toy_course; must not be what gets graded into
    os.environ[URL_ENV] = postgres
    try:
        assert gradebook_url(course) == postgres
        summary = pool.grade(course, jobs=2, progress=False)
    finally:
        del os.environ[URL_ENV]
    assert len(summary.results) == 6 and all(r.ok for r in summary.results), summary.results
    assert not (course / "gradebook.db").exists()
    with Gradebook(postgres, "toy") as gb:
        got = {(s.student.id, a.name): s.score for a in gb.assignments for s in a.submissions}
        cells = {(s.student.id, a.name, g.name): g.auto_score
                 for a in gb.assignments for s in a.submissions for nb in s.notebooks for g in nb.grades}
    assert got == EXPECTED
    assert cells[("s001", "alpha", "double__neg")] == 0 and cells[("s001", "alpha", "double__small")] == 1
    # a regrade updates the same rows instead of adding new ones
    pool.grade(course, jobs=2, progress=False, db_url=postgres, pairs=[("s001", "alpha")])
    with Gradebook(postgres, "toy") as gb:
        assert len(gb.find_assignment("alpha").submissions) == 3
        assert gb.find_submission("alpha", "s001").score == 4
