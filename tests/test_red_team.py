"""The red team's findings that need more than a corpus case (issue 9).

The corpus (tests/hostile/corpus.py, RED_TEAM) holds every attack a
submission can carry; these tests cover the rest: a link planted where the
grader writes the next connection file, grading without a sandbox, plain
`nbgrader autograde` on folders it must not copy, and the kernel's
environment built from a hostile grader environment.
"""
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync

from conftest import ROOT, require

sys.path.insert(0, str(Path(__file__).parent))
from hostile import corpus  # noqa: E402
from test_hostile import _make_course  # noqa: E402

from autograder.grading import precheck, sandbox  # noqa: E402


def _wait(predicate, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_links_in_the_ipc_folder_are_never_followed_on_restart(tmp_path):
    """The kernel replaces kernel.json (and the next socket names) by links to a root-only host file and dies.

    Before: the grader chowned that file to the kernel's uid on restart, and
    rewrote it with the connection info. Now every start gets a new folder.
    """
    require("bwrap", "bubblewrap")
    target = tmp_path / "host_secret"
    target.write_text("root only")
    os.chmod(target, 0o600)
    before = os.stat(target)
    folder = tmp_path / "work"
    folder.mkdir()
    km = sandbox.SandboxKernelManager()
    run_sync(km.start_kernel)(cwd=str(folder))
    try:
        kc = km.blocking_client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        first_ipc = os.path.dirname(km.connection_file)
        code = ("import os, sys\n"
                f"cf = {km.connection_file!r}\n"
                f"os.unlink(cf); os.symlink({str(target)!r}, cf)\n"
                "for n in range(1024, 65536, 61):\n"
                f"    os.symlink({str(target)!r}, os.path.join(os.path.dirname(cf), f'k-{{n}}'))\n"
                "os._exit(1)\n")
        kc.execute(code)
        assert _wait(lambda: not run_sync(km.is_alive)())
        kc.stop_channels()
        run_sync(km.restart_kernel)(now=True)
        kc = km.blocking_client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive("x = 1 + 1", timeout=30)
        assert reply["content"]["status"] == "ok"          # the restarted kernel works ...
        assert os.path.dirname(km.connection_file) != first_ipc  # ... from a new folder
        assert not os.path.lexists(first_ipc)                   # the kernel's old one is gone
        kc.stop_channels()
    finally:
        run_sync(km.shutdown_kernel)(now=True)
    after = os.stat(target)
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == \
        (before.st_uid, before.st_gid, stat.S_IMODE(before.st_mode))
    assert target.read_text() == "root only"


def test_kernel_environment_is_an_allow_list(tmp_path):
    km = sandbox.SandboxKernelManager(sandbox="off")
    km._rundir = str(tmp_path)  # unsandboxed, the kernel's HOME is made in here
    hostile = {"BTC_GRADEBOOK_URL": "postgresql://grader:hunter2@db/gb", "BTC_ANYTHING": "x",
               "GRADER_TOKEN": "t", "NBGRADER_DB_URL": "u", "PYTHONPATH": "/work/main", "AWS_SECRET_ACCESS_KEY": "k",
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", sandbox.EXCHANGE_ENV: "/tmp/ex", "PATH": "/evil:/usr/bin"}
    env = km._kernel_env(hostile)
    assert "hunter2" not in json.dumps(env)
    assert set(env) >= {"LANG", "LC_ALL", sandbox.EXCHANGE_ENV, "PATH", "HOME"}
    assert not {"BTC_GRADEBOOK_URL", "BTC_ANYTHING", "GRADER_TOKEN", "NBGRADER_DB_URL", "PYTHONPATH",
                "AWS_SECRET_ACCESS_KEY"} & set(env)
    assert "/evil" not in env["PATH"]
    # a configuration that passes everything still never passes a secret-looking name
    km.pass_env = ["*"]
    env = km._kernel_env(hostile)
    assert not {"BTC_GRADEBOOK_URL", "GRADER_TOKEN", "NBGRADER_DB_URL", "AWS_SECRET_ACCESS_KEY", "PYTHONPATH"} & set(env)


def _grade(course, env_extra, path):
    env = dict(os.environ)
    env.pop("BTC_ALLOW_UNSANDBOXED", None)
    env.update(PATH=path, **env_extra)
    return subprocess.run([sys.executable, "-m", "autograder.grading.grade", "--jobs", "1", "--course", str(course)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_without_bubblewrap_make_grade_refuses_unless_told_and_then_says_so(tmp_path):
    case = corpus.Case("s_plain", "activations", corpus.notebook_builder())
    course = _make_course(tmp_path, [case])
    # the course's own config, not the test copy's explicit 'require' line
    (course / "nbgrader_config.py").write_text((ROOT / "autograder" / "nbgrader_config.py").read_text())
    no_bwrap = str(Path(sys.executable).parent)  # PATH without /usr/bin: no bubblewrap to be found
    refused = _grade(course, {}, no_bwrap)
    assert refused.returncode != 0
    assert "refusing to grade" in refused.stderr and "bubblewrap" in refused.stderr, refused.stderr
    assert "ALLOW_UNSANDBOXED=1" in refused.stderr
    assert not (course / "autograded").exists()  # nobody was graded
    opted = _grade(course, {"BTC_ALLOW_UNSANDBOXED": "1"}, no_bwrap)
    assert opted.returncode == 0, opted.stdout + opted.stderr
    assert "UNSANDBOXED" in opted.stderr                     # said at the start,
    assert "graded UNSANDBOXED" in opted.stdout.splitlines()[-1]  # in the exit message,
    assert "UNSANDBOXED" in (course / "report" / "index.html").read_text()  # and in the report


def _fifo_builder(folder, nb, assignment):
    import nbformat
    nbformat.write(nb, str(folder / f"{assignment}.ipynb"))
    os.mkfifo(folder / "pipe")


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_plain_nbgrader_autograde_prechecks_before_copying(tmp_path):
    """`nbgrader autograde` by hand: a link to solutions/ and a FIFO are refused before nbgrader copies them."""
    require("bwrap", "bubblewrap")
    link = corpus.Case("p_link", "pooling", corpus.notebook_builder(
        lambda nb: corpus.replace_body(nb, "distribute_value",
                                       "from notes import distribute_value as d\nreturn d(dz, shape)")))
    fifo = corpus.Case("p_fifo", "pooling", _fifo_builder)
    honest = corpus.Case("p_honest", "pooling", corpus.notebook_builder())
    course = _make_course(tmp_path, [link, fifo, honest])
    (course / "submitted" / "p_link" / "pooling" / "notes.py").symlink_to(ROOT / "solutions" / "pool.py")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for step in (["generate_assignment", "pooling", "--force"], ["autograde", "pooling", "--force"]):
        proc = subprocess.run(nbgrader + step, cwd=course, capture_output=True, text=True, timeout=600, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    log = proc.stdout + proc.stderr
    assert "not graded (unsafe_file)" in log
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("pooling", "p_link").score == 0
        assert gb.find_submission("pooling", "p_fifo").score == 0
        honest_sub = gb.find_submission("pooling", "p_honest")
        assert honest_sub.score == honest_sub.max_score > 0
    for student in ("p_link", "p_fifo"):
        assert not (course / "autograded" / student).exists()  # nothing of it was copied
        page = course / "feedback" / student / "pooling" / "pooling.html"
        assert "unsafe_file" in page.read_text()


def test_student_chosen_names_are_shown_safely():
    assert precheck.shown("\x1b]0;pwned\x07") == "\\x1b]0;pwned\\x07"
    assert precheck.shown(os.fsdecode(b"caf\xe9.ipynb")) == "caf\\xe9.ipynb"
    assert not precheck.valid_id("honest*") and not precheck.valid_id("bob[1]") and not precheck.valid_id("../x")
    assert not precheck.valid_id("_static") and not precheck.valid_id(".hidden")  # feedback/_static is the pages' MathJax
    assert precheck.valid_id("s1234567") and precheck.valid_id("jane.doe@uni.edu")
