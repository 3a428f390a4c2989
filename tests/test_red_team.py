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

from tests.support import ROOT, require

from tests.hostile import corpus
from tests.hostile.course import make_course as _make_course

from autograder.grading import precheck
from autograder.grading.kernel import sandbox


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
    return subprocess.run([sys.executable, "-m", "autograder.grading.run.grade", "--jobs", "1", "--course", str(course)],
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


# ---- issue 18: the judge after the kernel (findings 2, 4, 7, 9) ----

import io  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402

from autograder.grading.kernel import budgets  # noqa: E402
from autograder.grading import cases, exchange, limits  # noqa: E402
from autograder.grading.cases import draws  # noqa: E402
from autograder.grading.judge import execute  # noqa: E402
from autograder.grading.run import pool  # noqa: E402


def _record(folder, grade_id, doc, npz=None):
    out = exchange.prepare(folder) / "outputs"
    (out / f"{grade_id}.json").write_text(json.dumps(doc))
    if npz is not None:
        (out / f"{grade_id}.npz").write_bytes(npz)
    return exchange.prepare(folder)


def _npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _lying_zip(entries, count=1):
    """A zip whose central directory lists `entries` entries while its end record claims `count`."""
    name = b"a0.npy"
    entry = b"PK\x01\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name),
                                        0, 0, 0, 0, 0, 0) + name
    directory = entry * entries
    return directory + b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, count, count, len(directory), 0, 0)


ARRAY = {"result": {"kind": "array", "key": "a0"}}


@pytest.mark.parametrize("npz, says", [
    (_lying_zip(200_000), "directory is"),               # a million entries behind a small count
    (_lying_zip(10, count=0xFFFF), "zip64"),            # a count only zip64 can hold
    (_lying_zip(1)[:-22] + b"PK\x06\x07" + bytes(16) + _lying_zip(1)[-22:], "zip64"),  # zipfile would read a
    # zip64 record's counts (and its directory) whatever the plain end record says
    (_lying_zip(70, count=70), "lists 70 entries"),
    (b"not a zip at all", "not a zip archive"),
])
def test_a_zip_is_bounded_from_its_end_record_before_zipfile_reads_it(tmp_path, monkeypatch, npz, says):
    def no_zipfile(*a, **k):
        raise AssertionError("zipfile parsed a directory that the end record already refuses")
    monkeypatch.setattr(exchange.zipfile, "ZipFile", no_zipfile)
    folder = _record(tmp_path, "relu_backward__matrix", ARRAY, npz)
    with pytest.raises(exchange.MalformedRecord, match=says):
        exchange.read_output(folder, "relu_backward__matrix")


def test_array_entries_are_stored_npy_that_hold_what_they_declare(tmp_path):
    buf = io.BytesIO()
    np.savez_compressed(buf, a0=np.zeros(10))
    with pytest.raises(exchange.MalformedRecord, match="uncompressed"):
        exchange.load_arrays(buf.getvalue())
    # a header declaring a 10**10-element array over 80 bytes of data: refused before any allocation
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**10,)})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a0.npy", header.getvalue() + bytes(80))
    with pytest.raises(exchange.MalformedRecord, match="declares more data"):
        exchange.load_arrays(buf.getvalue())
    assert np.array_equal(exchange.load_arrays(_npz(a0=np.arange(3.0)))["a0"], np.arange(3.0))


def test_a_record_holds_a_bounded_number_of_values(tmp_path):
    ref = {"kind": "array", "key": "a0"}
    many = {"kind": "dict", "items": [[f"k{i}", {"kind": "list", "items": [{"kind": "list", "items": [ref] * 60}] * 8}]
                                      for i in range(60)]}  # 28,800 references to one array, 0.9 MB
    doc = {"result": {"kind": "tuple", "items": [ref, {"kind": "tuple", "items": [ref, many]}]}}
    assert len(json.dumps(doc)) < exchange.MAX_JSON_BYTES
    folder = _record(tmp_path, "pool_forward__max_f2_s2", doc, _npz(a0=np.zeros((2, 2))))
    with pytest.raises(exchange.MalformedRecord, match="more than 2000 values"):
        exchange.read_output(folder, "pool_forward__max_f2_s2")


@pytest.mark.parametrize("doc", [
    {"result": {"kind": "array", "key": ["a0"]}},            # TypeError once, and the notebook aborted
    {"result": {"kind": "array", "key": {"a": 1}}},
    {"result": {"kind": "dict", "items": [["k", "not an encoding"]]}},
    {"raised": ["not", "a", "dict"]},
])
def test_a_malformed_structure_is_a_bad_record_never_an_exception(tmp_path, doc):
    folder = _record(tmp_path, "relu_backward__matrix", doc, _npz(a0=np.zeros((4, 5))))
    with pytest.raises(exchange.MalformedRecord):
        exchange.read_output(folder, "relu_backward__matrix")


def test_any_error_while_reading_is_that_records_fault(tmp_path, monkeypatch):
    folder = _record(tmp_path, "relu_backward__matrix", ARRAY, _npz(a0=np.zeros((4, 5))))

    def exhausted(*a, **k):
        raise MemoryError()
    monkeypatch.setattr(exchange, "load_arrays", exhausted)
    with pytest.raises(exchange.MalformedRecord, match="MemoryError"):
        exchange.read_output(folder, "relu_backward__matrix")


def test_the_cache_a_kernel_sent_is_shown_bounded():
    case = cases.CASES["pool_forward__max_f2_s2"]
    A, (A_prev, hp) = case.reference()
    huge = {f"k{i}": [[A_prev] * 60] * 8 for i in range(60)}
    passed, text = execute.verdict(case.grade_id, exchange.Record(result=(A, (A_prev, huge))))
    assert not passed and "cache should hold hparameters" in text
    assert len(text) < 3000, len(text)


def test_an_error_while_comparing_is_a_mismatch_of_the_result(monkeypatch):
    case = cases.CASES["zero_pad__pad2"]

    class Weird(np.ndarray):
        def astype(self, *a, **k):
            raise TypeError("no astype for you")
    got = case.reference().view(Weird) * 2
    with pytest.raises(cases.Mismatch, match="cannot be compared"):
        cases.judge(case, got)


def test_the_judge_gives_each_record_a_deadline(tmp_path, monkeypatch):
    folder = _record(tmp_path, "relu_backward__matrix", ARRAY, _npz(a0=np.zeros((4, 5))))

    def endless(*a, **k):
        while True:
            pass
    monkeypatch.setattr(exchange, "read_output", endless)
    monkeypatch.setattr(execute, "RECORD_SECONDS", 0.5)
    [(grade_id, record)] = execute.read_records(folder, ["relu_backward__matrix"])
    assert isinstance(record, exchange.MalformedRecord) and "more than 0.5 s" in str(record)
    # and judging: a comparison that never ends is a bad record for its case, the verdicts go on
    monkeypatch.setattr(cases, "judge", endless)
    [(passed, text, _, _)] = execute.judge_notebook([("relu_backward__matrix", exchange.Record(result=np.zeros(3)))])
    assert not passed and "within its limits" in text


def test_the_judge_runs_within_a_memory_allowance():
    with pytest.raises(MemoryError):
        with limits.memory_limit(256 * 2**20):
            np.ones(2**30 // 8 * 2)  # 2 GiB
    assert np.ones(2**27 // 8).sum() == 2**24  # restored afterwards


def test_verdicts_are_clipped(monkeypatch):
    monkeypatch.setattr(cases, "judge", lambda case, result: (_ for _ in ()).throw(
        cases.Mismatch("dZ", "wrong " + "x" * 50_000)))
    [(passed, text, _, _)] = execute.judge_notebook([("relu_backward__matrix", exchange.Record(result=np.zeros(3)))])
    assert not passed and len(text) <= execute.MAX_VERDICT_CHARS + 40


def _kernel_outputs(tmp_path, files):
    src = tmp_path / "kernel"
    src.mkdir()
    for name, size in files.items():
        with open(src / name, "wb") as f:
            if size < 0:
                f.truncate(-size)   # sparse
            else:
                f.write(b"x" * size)
    dst = tmp_path / "judge" / "outputs"
    dst.mkdir(parents=True)
    return src, dst


def test_records_are_copied_by_exact_name_within_a_total(tmp_path):
    mb = 2**20
    src, dst = _kernel_outputs(tmp_path, {"a__1.json": 10, "a__1.npz": -60 * mb, "a__2.json": 10,
                                          "a__2.npz": -60 * mb, "fill0.npz": -60 * mb, "a__3.json.x": 5})
    (src / "a__3.json").symlink_to(src / "a__1.json")
    refused = budgets.copy_records(src, dst, {"a__1", "a__2", "a__3"})
    assert sorted(p.name for p in dst.iterdir()) == ["a__1.json", "a__1.npz", "a__2.json", "a__3.json"]
    assert os.path.getsize(dst / "a__1.npz") == 60 * mb            # a sparse record costs its full size ...
    assert "96 MiB together" in refused["a__2.npz"]                # ... so the second one is over the total
    assert "not a regular file" in refused["a__3.json"]            # a link is never followed
    for gid, says in (("a__2", "96 MiB together"), ("a__3", "not a regular file")):  # the judge reads why
        with pytest.raises(exchange.MalformedRecord, match=says):
            exchange.read_output(dst.parent, gid)


def test_every_cleanup_step_runs_whatever_an_earlier_one_raised(tmp_path, monkeypatch):
    km = sandbox.SandboxKernelManager(sandbox="off")
    rundir = tmp_path / "nbsandbox-x"
    (rundir / "disk" / "outputs").mkdir(parents=True)
    km._rundir, km._disk, km._outputs = str(rundir), str(rundir / "disk"), (str(rundir / "disk" / "outputs"), "/nowhere")
    sandbox.RUNDIRS[str(rundir)] = km._release
    unmounted = []

    def broken(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(sandbox, "copy_records", broken)
    monkeypatch.setattr(sandbox, "unmount_disk", unmounted.append)
    km._mounted = True
    km._release()
    assert unmounted == [str(rundir / "disk")] and not rundir.exists() and str(rundir) not in sandbox.RUNDIRS


def test_what_dead_graders_left_is_swept_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f"sbx-{dead}-abc"
    live = tmp_path / (budgets.owned_name("btcx") + "abc")
    other = tmp_path / "sbx-notapid"
    for d in (stale / "disk", live, other):
        d.mkdir(parents=True)
    mounted = budgets.mount_disk(str(stale / "disk"), 2**20, 100)  # as root: a tmpfs left mounted too
    assert budgets.grading_mounts(str(tmp_path)) == ([str(stale / "disk")] if mounted else [])
    assert budgets.sweep_stale(str(tmp_path)) == [str(stale)]
    assert not stale.exists() and live.exists() and other.exists()
    assert budgets.grading_mounts(str(tmp_path)) == []


def test_a_batch_that_cannot_be_merged_costs_only_the_result_that_fails(monkeypatch):
    from autograder.grading.run.results import Result
    written = []

    def merge(gb, results):
        if any(r.student == "bad" for r in results):
            raise RuntimeError("database or disk is full")
        written.extend(r.student for r in results)
        return {(r.student, r.assignment): (3.0, 4.0) for r in results}

    class Session:
        rollbacks = 0

        def rollback(self):
            Session.rollbacks += 1

    class Book:
        db = Session()
    monkeypatch.setattr(pool, "merge", merge)
    results = [Result(s, "pooling", data={"x": 1}) for s in ("a", "bad", "c")]
    pool._merge(Book(), results)
    assert written == ["a", "c"] and [r.score for r in results] == [3.0, None, 3.0]
    assert not results[1].ok and "could not be written" in results[1].error and results[0].ok


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_a_notebook_whose_grading_failed_gets_a_zero_and_a_page_saying_why(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    from autograder.grading.run.results import Result
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # alembic
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("pooling")
        gb.add_notebook("pooling", "pooling")
        gb.add_grade_cell("pool_forward__a", "pooling", "pooling", max_score=2, cell_type="code")

    class Course:
        root, db_url = tmp_path, url
    res = Result.failed("s1", "pooling", "Invalid Signature \x1b[2J")
    pool.failed_pages(Course, [res])
    page = (tmp_path / "feedback" / "s1" / "pooling" / "pooling.html").read_text()
    assert "grading stopped before it was complete" in page and "Invalid Signature" in page
    assert "\x1b" not in page and "Score:</strong> 0" in page
    with Gradebook(url) as gb:
        assert gb.find_submission("pooling", "s1").score == 0


# ---- finding 7: the hidden inputs, per course and student ----

def test_the_course_seed_is_made_once_private_and_kept(tmp_path):
    seed = draws.course_seed(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / draws.SEED_FILE).st_mode) == 0o600
    assert draws.course_seed(tmp_path) == seed and draws.course_seed(tmp_path / "x", create=False) is None
    (tmp_path / draws.SEED_FILE).write_text("not hex")
    with pytest.raises(RuntimeError, match="grading seed"):
        draws.course_seed(tmp_path)


def test_inputs_differ_per_student_and_course_and_repeat_for_the_same_seed():
    def arrays(seed, student):
        with cases.drawing(seed, student):
            return [np.concatenate([np.ravel(a) for a in c.inputs()[0] if isinstance(a, np.ndarray)])
                    for c in cases.CASES.values() if isinstance(c.inputs()[0][0], np.ndarray)]
    a, a_again, b, other_course = arrays(1, "ann"), arrays(1, "ann"), arrays(1, "bob"), arrays(2, "ann")
    fixed = arrays(None, None)
    assert all(np.array_equal(x, y) for x, y in zip(a, a_again))
    for other in (b, other_course, fixed):
        assert not any(np.array_equal(x, y) for x, y in zip(a, other))


@pytest.mark.parametrize("student", ["ann", "bob", "s0042", "ünï"])
def test_every_draw_keeps_the_graded_case_properties(student):
    """No max-pool window with a tie, ReLU inputs at least 0.1 away from 0, upstream gradients not all ones."""
    with cases.drawing(12345, student):
        for case in cases.CASES.values():
            args, kwargs = case.inputs()
            if case.function.startswith("pool_") or case.function == "create_mask_from_window":
                x = args[0] if case.function != "pool_backward" else args[1][0]
                if case.function == "pool_backward":
                    assert not np.allclose(args[0], 1)
                assert len(np.unique(x)) == x.size, case.grade_id   # all distinct: no window ties
            if case.function == "relu_backward":
                assert np.min(np.abs(args[1])) >= 0.1, case.grade_id


def test_cached_references_never_cross_students():
    calls = []

    @cases.per_draw
    def reference(grade_id):
        calls.append(grade_id)
        return cases.CASES[grade_id].reference()
    with cases.drawing(7, "ann"):
        ann = reference("relu_backward__matrix")
        assert reference("relu_backward__matrix") is ann          # cached within one draw
    with cases.drawing(7, "bob"):
        assert not np.array_equal(reference("relu_backward__matrix"), ann)
    assert calls == ["relu_backward__matrix"] * 2


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_a_regrade_with_the_same_seed_gives_identical_grades_and_pages(tmp_path):
    require("bwrap", "bubblewrap")
    student = corpus.Case("r_buggy", "pooling", corpus.notebook_builder(
        lambda nb: corpus.replace_body(nb, "pool_backward", "return np.zeros_like(cache[0])")))
    course = _make_course(tmp_path, [student])
    runs = []
    for _ in range(2):
        done = _grade(course, {}, os.environ["PATH"])
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        page = (course / "feedback" / "r_buggy" / "pooling" / "pooling.html").read_bytes()
        nb = (course / "autograded" / "r_buggy" / "pooling" / "pooling.ipynb").read_text()
        runs.append((page, (course / "grades.csv").read_text(), json.loads(
            (course / "report" / "run.json").read_text())["inputs_seed"], nb))
    assert runs[0][:3] == runs[1][:3]
    assert runs[0][2] == (course / draws.SEED_FILE).read_text().strip()
    # a new course seed (next year's course): other inputs, in the verdicts too
    (course / draws.SEED_FILE).unlink()
    done = _grade(course, {}, os.environ["PATH"])
    assert done.returncode == 0
    assert (course / "autograded" / "r_buggy" / "pooling" / "pooling.ipynb").read_text() != runs[0][3]


def test_a_graded_notebook_whose_page_failed_keeps_its_grades_and_gets_a_page(tmp_path, monkeypatch):
    from autograder.grading.run.results import Result

    class Course:
        root, db_url = tmp_path, "sqlite:///nowhere.db"
    monkeypatch.setattr(pool.precheck, "record_zero", lambda *a: pytest.fail("a graded notebook was zeroed"))
    res = Result("s2", "pooling", ok=False, error="feedback: TemplateError <b>", score=31.0, max_score=35.0)
    pool.failed_pages(Course, [res])
    page = (tmp_path / "feedback" / "s2" / "pooling" / "pooling.html").read_text()
    assert "was graded" in page and "31 of 35" in page and "&lt;b&gt;" in page and "<b>" not in page


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_a_killed_worker_leaves_nothing_and_its_notebook_gets_a_page(tmp_path, request):
    """The parent kills a worker mid-notebook (its kernel running, its disk mounted when root): the run goes
    on, the worker's sandbox, exchange and mounts are removed, and the notebook scores 0 with a page."""
    require("bwrap", "bubblewrap")
    sleepy = corpus.Case("k_sleepy", "activations", corpus.notebook_builder(
        *[corpus.A(f, "import time\ntime.sleep(30)", corpus.before)
          for f in ("sigmoid_backward", "relu_backward", "tanh_backward", "softmax_backward")]))
    course = _make_course(tmp_path / "course", [sleepy, corpus.Case("k_honest", "pooling", corpus.notebook_builder())])
    tmp = Path(tempfile.mkdtemp(prefix="kw-", dir="/tmp"))  # short: sockets are made below it
    request.addfinalizer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    code = ("import json\n"
            "from autograder.grading import course as C\n"
            "from autograder.grading.run import grade, pool\n"
            f"c = C.Course({str(course)!r})\n"
            "grade.ensure_released(c, ['activations', 'pooling'])\n"
            "run = pool.grade(c, jobs=1, progress=False, job_timeout=20)\n"
            "print(json.dumps([[r.student, r.ok, r.error] for r in run.results]))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, TMPDIR=str(tmp)))
    assert done.returncode == 0, done.stderr[-3000:]
    results = {s: (ok, error) for s, ok, error in json.loads(done.stdout.strip().splitlines()[-1])}
    assert results["k_honest"] == (True, None)
    assert not results["k_sleepy"][0] and "died" in results["k_sleepy"][1]
    assert list(tmp.iterdir()) == [] and budgets.grading_mounts(str(tmp)) == []
    page = (course / "feedback" / "k_sleepy" / "activations" / "activations.html").read_text()
    assert "grading stopped before it was complete" in page
