"""Hostile and broken submissions must not derail grading (issue 5).

Part 1, the sandbox on its own: hostile probe cells (tests/hostile/probes.py)
run in one sandboxed kernel through nbclient, each outcome asserted.
Part 2, precheck: broken files are classified before nbgrader reads them.
"""
import json
import logging
import os
import socket
import stat
import sys
import threading
import time
import uuid
from fnmatch import fnmatch
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tests.support import ROOT, require

from tests.hostile.course import make_course as _make_course
from tests.hostile.probes import PROBES, SHADOW, SHADOWED

from autograder.grading.kernel import launcher, sandbox
from autograder.grading import precheck
from autograder.grading.kernel.budgets import grading_mounts, tree_bytes
from autograder.grading.cases import SEED_FILE
from autograder.grading.kernel.recovering import RecoveringExecute


def _notebook(sources):
    return new_notebook(cells=[new_code_cell(s) for s in sources], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def _run(nb, folder, config=None, timeout=10, **km_traits):
    from nbclient import NotebookClient
    from traitlets.config import Config
    cfg = Config()
    for key, value in km_traits.items():
        setattr(cfg.SandboxKernelManager, key, value)
    client = NotebookClient(nb, config=cfg, timeout=timeout, interrupt_on_timeout=True,
                            allow_errors=True, kernel_manager_class=sandbox.SandboxKernelManager,
                            resources={"metadata": {"path": str(folder)}})
    return client, client.execute()


def _lines(nb):
    """{probe: result} from the cells' printed lines. A cell's stream outputs are joined first: under
    load the kernel may flush `print`'s pieces ("PROBE x:", " clean") as two outputs of one line."""
    out = {}
    for cell in nb.cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        for line in text.splitlines():
            if line.startswith("PROBE "):
                name, _, rest = line[6:].partition(":")
                out[name] = rest.strip()
    return out


def _uid_processes(uid):
    """Live (not zombie) processes owned by uid."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid != uid:
                    continue
                state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
            except OSError:
                continue
            if state not in ("Z", "X"):
                found.append((pid, state))
    return found


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """Run every probe in one sandboxed kernel; return (probe lines, paths, kernel uid)."""
    require("bwrap", "bubblewrap")
    base = tmp_path_factory.mktemp("probes")
    folder = base / "submitted" / "alice" / "pooling"
    folder.mkdir(parents=True)
    (folder / "data.txt").write_text("original")
    (folder / "secret.txt").write_text("root only")   # e.g. copied in through a link
    os.chmod(folder / "secret.txt", 0o600)
    other = base / "submitted" / "bob" / "pooling" / "pooling.ipynb"
    other.parent.mkdir(parents=True)
    other.write_text("bob's answers")
    exchange = base / "exchange"
    (exchange / "outputs").mkdir(parents=True)
    (exchange / "inputs").mkdir()
    (exchange / "inputs" / "probe.json").write_text("{}")  # the judge's one case: `probe`
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    paths = dict(solutions=str(ROOT / "solutions"), other=str(other),
                 port=listener.getsockname()[1], outside=str(base / "outside.txt"),
                 tmpfile=f"/tmp/probe-{uuid.uuid4().hex}")
    for name in SHADOWED:  # module names the launcher imports, beside the notebook
        (folder / f"{name}.py").write_text(SHADOW)
    order = ["uid", "solutions", "import_solutions", "other_student", "net_internet",
             "net_loopback", "write_outside", "write_inside", "write_tmp", "exchange", "env",
             "root_only_file", "replace_file", "caps", "mknod", "remount", "shadow",
             "env_names", "env_values", "var_tmp", "dev_shm",
             "alloc_10gb", "big_file", "infinite_loop", "fork_bomb", "still_alive"]
    nb = _notebook([PROBES[name].format(**paths) for name in order])
    old = dict(os.environ)
    os.environ["PROBE_SECRET_TOKEN"] = "postgresql://grader:hunter2@db/gradebook"
    # the red team's finding: BTC_* variables reached the kernel, the gradebook password with them
    os.environ["BTC_GRADEBOOK_URL"] = "postgresql://grader:hunter2@db/gradebook"
    os.environ["BTC_API_KEY"] = "hunter2"
    os.environ["NBGRADER_DB_PASSWORD"] = "hunter2"
    os.environ["PYTHONPATH"] = str(ROOT)
    os.environ["BTC_GRADER_EXCHANGE"] = str(exchange)
    try:
        client, nb = _run(nb, folder, timeout=8)
    finally:
        os.environ.clear()
        os.environ.update(old)
        listener.close()
    return _lines(nb), paths, folder, exchange, nb, order


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
class TestSandboxProbes:
    def test_kernel_runs_as_an_unprivileged_uid(self, probed):
        lines = probed[0]
        assert int(lines["uid"]) != 0, lines

    def test_course_and_other_students_are_invisible(self, probed):
        lines = probed[0]
        assert lines["solutions"] == "False"
        assert lines["import_solutions"] == "ImportError"
        assert lines["other_student"].startswith("OSError"), lines["other_student"]

    def test_network_is_unreachable_even_the_graders_loopback(self, probed):
        lines = probed[0]
        assert lines["net_internet"] == "OSError"
        assert lines["net_loopback"] == "OSError"

    def test_writes_stay_in_the_private_copy(self, probed):
        lines, paths, folder, exchange = probed[:4]
        assert lines["write_outside"] == "OSError"
        assert not Path(paths["outside"]).exists()
        assert lines["write_inside"] == "mine"          # the folder is writable ...
        assert not (folder / "scribble.txt").exists()     # ... but only a private copy of it
        assert (folder / "data.txt").read_text() == "original"
        assert lines["write_tmp"] == "wrote"
        assert not Path(paths["tmpfile"]).exists()         # /tmp is private

    def test_files_keep_their_owner_folders_are_the_kernels(self, probed):
        lines, folder = probed[0], probed[2]
        assert lines["root_only_file"] == "OSError"
        assert lines["replace_file"] == "new"
        assert (folder / "data.txt").read_text() == "original"

    def test_exchange_folder_is_writable_for_the_judge(self, probed):
        exchange = probed[3]
        assert (exchange / "outputs" / "probe.json").read_text() == "{}"
        if os.geteuid() == 0:  # records written on the kernel's own disk are copied out by exact name ...
            assert not (exchange / "outputs" / "stray.json").exists()
            # ... and counted at their apparent size: the sparse 60 MB .npz is kept, within the budget
            assert (exchange / "outputs" / "probe.npz").stat().st_size == 60_000_000

    def test_grader_secrets_do_not_reach_the_kernel(self, probed):
        lines = probed[0]
        assert lines["env"] == "absent"
        assert lines["env_values"] == "clean"
        names = set(lines["env_names"].split())
        assert not names & {"BTC_GRADEBOOK_URL", "BTC_API_KEY", "NBGRADER_DB_PASSWORD", "PYTHONPATH"}
        allowed = set(sandbox.FIXED_ENV) | {"HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "PATH"}
        allowed |= {"TERM", "CLICOLOR", "CLICOLOR_FORCE", "FORCE_COLOR", "PAGER", "GIT_PAGER",
                    "PYDEVD_USE_FRAME_EVAL", "PWD"}  # set by ipykernel and the shell themselves
        assert all(n in allowed or any(fnmatch(n, p) for p in sandbox.DEFAULT_PASS_ENV) for n in names), names

    def test_no_privilege_survives_into_the_sandbox(self, probed):
        lines = probed[0]
        assert lines["caps"] == "0 0"          # no effective, no permitted capability
        assert lines["mknod"] == "OSError"     # no block device for the host disk
        assert lines["remount"] == "refused"   # the read-only system stays read-only

    def test_student_modules_never_run_in_the_privileged_launcher(self, probed):
        # json.py, resource.py, signal.py ... beside the notebook: the launcher (which
        # runs before the uid drop) never imports them; the kernel may, as the student
        shadow = probed[0]["shadow"]
        assert shadow.startswith("imported as "), shadow   # the files were importable from the folder ...
        assert "0" not in shadow.split()[-1].split(","), shadow  # ... and only ever by the unprivileged kernel

    def test_scratch_space_is_bounded(self, probed):
        lines = probed[0]
        size, where = lines["var_tmp"].split()   # /var/tmp is the private, bounded /tmp ...
        assert where == "same" and int(size) <= sandbox.SandboxKernelManager.tmp_size.default_value // 2**20
        # ... and /dev/shm a small tmpfs of its own (both were unbounded host RAM)
        assert int(lines["dev_shm"]) <= sandbox.SandboxKernelManager.shm_size.default_value // 2**20

    def test_resources_are_bounded_and_the_kernel_survives(self, probed):
        lines, nb = probed[0], probed[4]
        assert lines["alloc_10gb"] == "MemoryError"
        assert lines["big_file"].startswith("OSError"), lines["big_file"]
        assert lines["fork_bomb"].startswith("stopped after"), lines["fork_bomb"]
        assert int(lines["fork_bomb"].split()[-1]) <= sandbox.SandboxKernelManager.max_processes.default_value
        loop = nb.cells[probed[5].index("infinite_loop")]
        assert any(o.get("ename") == "KeyboardInterrupt" for o in loop.outputs), loop.outputs
        assert lines["still_alive"] == "yes"            # interrupted, not killed

    def test_no_process_of_the_sandbox_outlives_it(self, probed):
        uid = int(probed[0]["uid"])
        for _ in range(50):  # SIGKILL is delivered at once; reaping may lag a little
            if not _uid_processes(uid):
                break
            time.sleep(0.2)
        assert _uid_processes(uid) == []


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_notebook_wall_clock_kills_the_kernel(tmp_path):
    require("bwrap", "bubblewrap")
    from nbclient.exceptions import DeadKernelError
    nb = _notebook(["print('started')", "import time\ntime.sleep(60)", "print('never')"])
    before = set(sandbox.RUNDIRS)
    with pytest.raises(DeadKernelError):
        _run(nb, tmp_path, timeout=30, notebook_timeout=3.0)
    assert set(sandbox.RUNDIRS) == before  # the dead kernel's sandbox (and its disk) is released too
    assert nb.cells[0].outputs[0]["text"] == "started\n"
    assert nb.cells[2].outputs == []


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_without_bwrap_limits_still_apply_and_the_gap_is_said_once(tmp_path, caplog):
    launcher._warned.clear()
    nb = _notebook(["import resource; print('PROBE as:', resource.getrlimit(resource.RLIMIT_AS)[0])"])
    with caplog.at_level(logging.WARNING):
        _run(nb, tmp_path, sandbox="off")
        _run(_notebook(["pass"]), tmp_path, sandbox="off")
    warnings = [r for r in caplog.records if "run WITHOUT" in r.getMessage()]
    assert len(warnings) == 1
    assert "filesystem isolation" in warnings[0].getMessage()
    assert "network isolation" in warnings[0].getMessage()
    assert int(_lines(nb)["as"]) == sandbox.SandboxKernelManager.address_space.default_value


# ---- precheck ----

GOOD = json.dumps(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))


@pytest.mark.parametrize("content, kind", [
    (b"", "empty"),
    (b"  \n", "empty"),
    (b'{"cells": [', "invalid_json"),
    (b"\xff\xfe{\x00}\x00", "not_utf8"),
    (b"[1, 2]", "not_notebook"),
    (b'{"nbformat": 3, "cells": []}', "not_notebook"),
    (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "python"}]}',
     "not_notebook"),
    (GOOD.encode(), None),
])
def test_precheck_classifies_a_file(tmp_path, content, kind):
    path = tmp_path / "pooling.ipynb"
    path.write_bytes(content)
    found = precheck.check_file(path)
    assert (found[0] if found else None) == kind, found


def test_precheck_refuses_a_huge_notebook_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "pooling.ipynb"
    with open(path, "wb") as f:          # sparse: 300 MB on paper, nothing on disk
        f.truncate(300 * 2**20)

    def no_read(*a, **k):
        raise AssertionError("a huge notebook was read")
    monkeypatch.setattr(Path, "read_bytes", no_read)
    kind, message = precheck.check_file(path)
    assert kind == "too_large" and "300.0 MB" in message


def test_precheck_course_names_missing_and_misnamed_notebooks(tmp_path):
    sub = tmp_path / "submitted"
    (sub / "ann" / "pooling").mkdir(parents=True)
    (sub / "ann" / "pooling" / "pooling.ipynb").write_text(GOOD)
    (sub / "ben" / "pooling").mkdir(parents=True)
    (sub / "ben" / "pooling" / "Pooling (1).ipynb").write_text(GOOD)
    (sub / "cid" / "pooling").mkdir(parents=True)
    (sub / "cid" / "pooling" / "notes.txt").write_text("forgot it")
    (tmp_path / "source" / "pooling").mkdir(parents=True)  # the course's assignments (Course.discover's rule)
    (sub / "dan").symlink_to(sub / "ann")                    # reported, as make grade reports it
    problems = precheck.check_course(tmp_path)
    got = {(p.student, p.kind) for p in problems}
    assert got == {("ben", "misnamed"), ("cid", "missing"), ("dan", "unsafe_file")}
    ben = next(p for p in problems if p.student == "ben")
    assert "Pooling (1).ipynb" in ben.message and "pooling.ipynb" in ben.message


def test_precheck_problem_reaches_feedback_summary_and_report(tmp_path):
    p = precheck.Problem("dee", "pooling", "pooling.ipynb", "invalid_json", "broken <json>")
    page = precheck.write_feedback(tmp_path, p).read_text()
    assert "could not be graded" in page and "broken &lt;json&gt;" in page and "Score:</strong> 0" in page
    assert page.count("<script") == 0
    precheck.write_report(tmp_path, [p])
    assert precheck.read_report(tmp_path) == [p]
    lines = precheck.summary_lines([p])
    assert "1 notebook(s) could not be graded" in lines[0] and "dee/pooling/pooling.ipynb" in lines[1]


# ---- part 3: the adversarial corpus, graded by `make grade`'s code beside honest work ----

from tests.hostile import corpus  # noqa: E402

NBGRADER_ASSIGNMENTS = ("activations", "pooling")


def _walk_files(top):
    """Every file under top, iteratively (a corpus case nests 1,100 folders), never following links."""
    stack = [Path(top)]
    while stack:
        for entry in os.scandir(stack.pop()):
            if entry.is_dir(follow_symlinks=False):
                stack.append(Path(entry.path))
            else:
                yield Path(entry.path)


def _tree_hashes(*tops):
    """{path: (content hash, owner, mode)} of every file under tops (big files: size instead of content)."""
    import hashlib
    out = {}
    for top in tops:
        top = Path(top)
        for p in ([top] if top.is_file() else _walk_files(top)):
            if "__pycache__" in p.parts:
                continue
            st = os.lstat(p)
            if st.st_size > 2**24 or not p.is_file() or p.is_symlink():
                digest = f"size {st.st_size}"
            else:
                digest = hashlib.sha256(p.read_bytes()).hexdigest()
            out[str(p)] = (digest, st.st_uid, st.st_mode)
    return out


SECRET = f"hunter2-{uuid.uuid4().hex}"
COURSE_SEED = f"{uuid.uuid4().int:032x}\n"


def _grades(course, students):
    """{student: {grade_id: (score, max_score)}} from the course's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry
    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student, assignment in students:
            try:
                nb = gb.find_submission_notebook(assignment, assignment, student)
            except MissingEntry:
                out[student] = None
                continue
            out[student] = {g.name: (g.score, g.max_score) for g in nb.grades}
    return out


def _probe_lines(course, case):
    path = course / "autograded" / case.student / case.assignment / f"{case.assignment}.ipynb"
    found = {}
    if not path.exists():
        return found
    import warnings
    with warnings.catch_warnings():  # the duplicated-cell case repeats a cell id on purpose
        warnings.simplefilter("ignore")
        nb = nbformat.read(str(path), as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or corpus.meta(cell).get("grade"):
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
        for line in text.splitlines():  # joined first, as in _lines
            if line.startswith("PROBE "):
                name, _, rest = line[6:].partition(":")
                found[name] = rest.strip()
    return found


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory):
    """Grade the hostile corpus beside honest work, and the honest work alone, concurrently."""
    require("bwrap", "bubblewrap")
    import subprocess
    base = tmp_path_factory.mktemp("corpus")
    hostile = _make_course(base / "hostile", corpus.CASES + corpus.HONEST)
    clean = _make_course(base / "clean", corpus.HONEST)
    # one course seed for both, so the honest students get the same hidden inputs in each
    for course in (hostile, clean):
        (course / SEED_FILE).write_text(COURSE_SEED)
        os.chmod(course / SEED_FILE, 0o600)
    watched = [hostile / "source", hostile / "nbgrader_config.py", hostile / "submitted"]
    before = _tree_hashes(*watched)
    cmd = [sys.executable, "-m", "autograder.grading.run.grade", "--jobs", "2", "--course"]
    # Secrets in the grader's environment (none may reach a kernel), and a private
    # temporary folder per run (everything a run makes there must be gone after it).
    tmp = {name: base / f"tmp-{name}" for name in ("hostile", "clean")}
    for t in tmp.values():
        t.mkdir()
    secrets = {"BTC_SECRET_TOKEN": SECRET, "GRADER_PASSWORD": SECRET, "NBGRADER_DB_URL": f"postgresql://g:{SECRET}@db/x",
               "PYTHONPATH": str(ROOT)}
    procs = {name: subprocess.Popen(cmd + [str(course)], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True,
                                    env=dict(os.environ, TMPDIR=str(tmp[name]), **secrets))
             for name, course in (("hostile", hostile), ("clean", clean))}
    # the run's scratch (sandboxes, the kernels' disks, exchanges: all in its TMPDIR), sampled
    peak, done = {"hostile": 0, "clean": 0}, threading.Event()

    def sample():
        while not done.wait(0.2):
            for name in peak:
                peak[name] = max(peak[name], tree_bytes(str(tmp[name]), 10**6)[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    logs = {}
    try:
        for name, proc in procs.items():
            logs[name], _ = proc.communicate(timeout=900)
    finally:
        done.set()
        sampler.join()
    (base / "hostile.log").write_text(logs["hostile"])
    after = _tree_hashes(*watched)
    every = [(c.student, c.assignment) for c in corpus.CASES + corpus.HONEST]
    run_log = json.loads((hostile / "report" / "run.json").read_text())
    corpus.remove_nested(hostile / "submitted" / "h_nested" / "pooling")  # pytest's cleanup recurses per level
    mounts = {name: grading_mounts(str(t)) for name, t in tmp.items()}
    return dict(hostile=hostile, clean=clean, logs=logs, before=before, after=after, tmp=tmp, peak=peak, mounts=mounts,
                run_log=run_log, exit=procs["hostile"].returncode,
                grades=_grades(hostile, every),
                clean_grades=_grades(clean, [(c.student, c.assignment) for c in corpus.HONEST]))


def _outcome(case, run):
    """A list of what went wrong for this case (empty: it survived as expected)."""
    wrong = []
    grades = run["grades"].get(case.student)
    if case.precheck == "bad_id":  # never graded, never in the gradebook, named in the summary
        if grades is not None:
            wrong.append("a folder that is not a student id reached the gradebook")
        if "not graded (bad_id)" not in run["logs"]["hostile"] or repr(case.student) not in run["logs"]["hostile"]:
            wrong.append("the summary does not name the bad id")
        return wrong
    if grades is None:
        return [f"{case.student}: no submission in the gradebook"]
    page = run["hostile"] / "feedback" / case.student / case.assignment / f"{case.assignment}.html"
    if not page.exists():  # every notebook that was graded, however it ended, has its page
        wrong.append("no feedback page")
    if case.precheck:
        if any(score for score, _ in (grades or {}).values()):
            wrong.append("scored above 0")
        page = run["hostile"] / "feedback" / case.student / case.assignment / f"{case.assignment}.html"
        if not page.exists() or case.precheck not in page.read_text():
            wrong.append(f"no feedback page naming {case.precheck}")
        if f"not graded ({case.precheck})" not in run["logs"]["hostile"]:
            wrong.append("the summary does not say why it was not graded")
        return wrong
    by_function = {}
    for gid, (score, maximum) in grades.items():
        by_function.setdefault(gid.split("__")[0], []).append((gid, score, maximum))
    for func, rows in by_function.items():
        if func in case.lose:
            wrong += [f"{gid} scored {s}/{m}, expected 0" for gid, s, m in rows if s]
        elif func not in case.may_lose and corpus.ALL not in case.may_lose:
            wrong += [f"{gid} scored {s}/{m}, expected full" for gid, s, m in rows if s != m]
    if case.says:
        path = run["hostile"] / "autograded" / case.student / case.assignment / f"{case.assignment}.ipynb"
        if not path.exists() or not any(text in path.read_text() for text in case.says):
            wrong.append(f"the autograded notebook does not say {case.says!r}")
    probes = _probe_lines(run["hostile"], case)
    for name, value in case.probes.items():
        if probes.get(name) != value:
            wrong.append(f"PROBE {name}: expected {value!r}, got {probes.get(name)!r}")
    return wrong


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
@pytest.mark.parametrize("case", corpus.CASES + corpus.HONEST, ids=lambda c: c.student)
def test_corpus_case_has_its_expected_outcome(corpus_run, case):
    assert _outcome(case, corpus_run) == [], case.about


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
def test_corpus_survival_count(corpus_run):
    survived = [c.student for c in corpus.CASES if not _outcome(c, corpus_run)]
    kinds = len(corpus.CASES)
    print(f"\nhostile kinds survived: {len(survived)}/{kinds}")
    assert kinds >= 20
    assert len(survived) == kinds


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
def test_honest_grades_equal_a_clean_run(corpus_run):
    for case in corpus.HONEST:
        assert corpus_run["grades"][case.student] == corpus_run["clean_grades"][case.student], case.student
    assert corpus_run["grades"]["honest_full"] and all(
        s == m for s, m in corpus_run["grades"]["honest_full"].values())


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
def test_gradebook_integrity(corpus_run):
    from nbgrader.api import Gradebook
    course = corpus_run["hostile"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for case in corpus.CASES + corpus.HONEST:
            if case.precheck == "bad_id":
                continue
            sub = gb.find_submission(case.assignment, case.student)
            assert 0 <= sub.score <= sub.max_score, case.student
            source = gb.find_notebook(case.assignment, case.assignment)
            nb = gb.find_submission_notebook(case.assignment, case.assignment, case.student)
            assert {g.name for g in nb.grades} == {c.name for c in source.grade_cells}, case.student
            for g in nb.grades:
                assert g.score is not None and 0 <= g.score <= g.max_score, (case.student, g.name)
    rows = (course / "grades.csv").read_text().splitlines()
    students = {c.student for c in corpus.CASES + corpus.HONEST if c.precheck != "bad_id"}
    assert {r.split(",")[3] for r in rows[1:]} >= students
    assert not {r.split(",")[3] for r in rows[1:]} & {c.student for c in corpus.CASES if c.precheck == "bad_id"}


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
def test_nothing_outside_the_sandbox_changed(corpus_run):
    # the course the corpus was graded in: source, config and every submission; the grader's one
    # documented change: a browser-renamed notebook alone in its folder takes the released name
    # (precheck.accept_renamed), its bytes, owner and mode untouched
    before = dict(corpus_run["before"])
    folder = corpus_run["hostile"] / "submitted" / "h_browser_renamed" / "pooling"
    before[str(folder / "pooling.ipynb")] = before.pop(str(folder / "pooling (1).ipynb"))
    assert corpus_run["after"] == before
    # the repository the grader ran from (others may edit it meanwhile: look for
    # what the hostile cells write, not for any change)
    marks = ("# hacked", "corrupted by a student")
    for top in (ROOT / "solutions", ROOT / "autograder" / "source", ROOT / "autograder" / "nbgrader_config.py",
                Path("/etc/passwd")):
        for p in ([top] if top.is_file() else top.rglob("*")):
            if p.is_file() and p.suffix in (".py", ".ipynb", ""):
                text = p.read_text(errors="replace")
                assert not any(m in text for m in marks), p


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
def test_the_host_is_as_it_was(corpus_run):
    """After the corpus: the run succeeded, left nothing behind, leaked nothing, stayed within budget."""
    run = corpus_run
    assert run["exit"] == 0, run["logs"]["hostile"][-3000:]
    # nothing left in the run's temporary folder (sandbox copies, IPC folders, exchanges), nothing mounted there
    for name, tmp in run["tmp"].items():
        assert list(tmp.iterdir()) == [], (name, list(tmp.iterdir())[:5])
        assert run["mounts"][name] == [], (name, run["mounts"][name])
    # the run's scratch stayed within its budget: per worker, a kernel's disk and the judge's exchange
    from autograder.grading.exchange import MAX_RECORD_TOTAL
    from autograder.grading.kernel.sandbox import SandboxKernelManager as SKM
    budget = 2 * (SKM.disk_budget.default_value + MAX_RECORD_TOTAL + 64 * 2**20)
    print(f"\nscratch peak: hostile {run['peak']['hostile'] / 2**20:.0f} MiB, clean "
          f"{run['peak']['clean'] / 2**20:.0f} MiB (budget {budget / 2**20:.0f} MiB)")
    assert 0 < run["peak"]["hostile"] < budget
    # no process of any kernel outlives the run (each worker's kernels have uids derived from its pid)
    from autograder.grading.kernel.sandbox import SandboxKernelManager
    base = SandboxKernelManager.uid_base.default_value
    workers = {r["worker"] for r in run["run_log"]["results"] if r.get("worker")}
    uids = {base + (pid % 65536) * 16 + k for pid in workers for k in range(16)}
    for _ in range(50):
        alive = [u for u in uids if _uid_processes(u)]
        if not alive:
            break
        time.sleep(0.2)
    assert alive == []
    # no secret of the grader's environment in anything a student or the instructor reads
    for top in ("autograded", "feedback", "report"):
        for p in _walk_files(run["hostile"] / top):
            if p.suffix in (".ipynb", ".html", ".json", ".log", ".csv"):
                assert SECRET not in p.read_text(errors="replace"), p
    # the worker that grades is bounded whatever a notebook prints or allocates
    peaks = [r["peak_rss_mb"] for r in run["run_log"]["results"] if "peak_rss_mb" in r]
    print(f"\npeak worker memory: {max(peaks):.0f} MiB over {len(peaks)} notebooks")
    assert peaks and max(peaks) < 1500
    # disk: what grading kept of each student is small, hostile or not
    for case in corpus.CASES + corpus.HONEST:
        for top in ("autograded", "feedback"):
            folder = run["hostile"] / top / case.student
            if folder.is_dir():
                size = sum(p.stat().st_size for p in _walk_files(folder))
                assert size < 5 * 2**20, (case.student, top, size)
    # terminal escapes a student chose never reach the instructor's terminal
    assert "\x1b]0;pwned" not in run["logs"]["hostile"]


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
def test_hidden_inputs_are_each_students_own(corpus_run):
    """Two students print every hidden input they get: each gets other inputs, none the fixed seeds' (issue 18, 7)."""
    digests = {s: _probe_lines(corpus_run["hostile"], next(c for c in corpus.CASES if c.student == s)).get("inputs_digest")
               for s in ("h_inputs_a", "h_inputs_b")}
    assert all(d and d != "none" for d in digests.values()), digests
    assert digests["h_inputs_a"] != digests["h_inputs_b"]
    run = json.loads((corpus_run["hostile"] / "report" / "run.json").read_text())
    assert run["inputs_seed"] == COURSE_SEED.strip()  # recorded: a regrade can draw them again
    assert stat.S_IMODE(os.stat(corpus_run["hostile"] / "report" / "run.json").st_mode) == 0o600


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
def test_no_control_byte_reaches_the_instructors_terminal(corpus_run):
    for name, log in corpus_run["logs"].items():
        found = sorted({hex(ord(ch)) for ch in log if (ord(ch) < 32 and ch not in "\n\t\r") or 0x7f <= ord(ch) <= 0x9f})
        assert found == [], (name, found)


@pytest.mark.slow
@pytest.mark.xdist_group("hostile_corpus")
def test_flooded_output_is_cut_not_kept(corpus_run):
    for student in ("h_print_100mb", "h_print_chunks"):
        path = corpus_run["hostile"] / "autograded" / student / "activations" / "activations.ipynb"
        assert path.stat().st_size < 2_000_000
        assert "output cut" in path.read_text()


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_plain_nbgrader_autograde_is_sandboxed_too(tmp_path):
    """`nbgrader autograde` run by hand in the course folder gets the same protection as `make grade`."""
    require("bwrap", "bubblewrap")
    import subprocess
    probe = corpus.Case("s1", "activations", corpus.notebook_builder(corpus.A(
        "sigmoid_backward",
        "import os\nprint('PROBE uid:', os.getuid())\n"
        f"print('PROBE solutions:', os.path.exists({str(ROOT / 'solutions')!r}))",
        corpus.after)))
    course = _make_course(tmp_path, [probe])
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for step in (["generate_assignment", "activations", "--force"], ["autograde", "activations", "--force"]):
        done = subprocess.run(nbgrader + step, cwd=course, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    found = _probe_lines(course, probe)
    assert int(found["uid"]) != 0 and found["solutions"] == "False", found
    grades = _grades(course, [("s1", "activations")])["s1"]
    assert grades and all(s == m for s, m in grades.values()), grades


def test_precheck_refuses_links_and_special_files(tmp_path):
    folder = tmp_path / "submitted" / "eve" / "pooling"
    folder.mkdir(parents=True)
    (folder / "pooling.ipynb").write_text(GOOD)
    (tmp_path / "source" / "pooling").mkdir(parents=True)
    assert precheck.check_course(tmp_path) == []
    (folder / "sol.py").symlink_to(ROOT / "solutions" / "__init__.py")
    os.mkfifo(folder / "pipe")
    [p] = precheck.check_course(tmp_path)
    assert p.kind == "unsafe_file" and "sol.py" in p.message and "pipe" in p.message


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_dead_and_stuck_kernels_are_restarted_and_grading_goes_on(tmp_path):
    """RecoveringExecute on its own: each crash costs its cell (and its function's later tests) only."""
    require("bwrap", "bubblewrap")
    from nbgrader.preprocessors import Execute

    class Recovering(RecoveringExecute, Execute):
        pass

    def cell(src, gid=None, test=False):
        c = new_code_cell(src)
        if gid:
            c.metadata["nbgrader"] = {"grade": test, "solution": not test, "grade_id": gid, "points": 1}
        return c

    nb = _notebook([])
    nb.cells = [
        cell("def f():\n    return 1", "f"), cell("print('f', f())", "f__a", True),
        cell("def g():\n    import os\n    os._exit(3)", "g"), cell("g()", "g__a", True),
        cell("g()", "g__b", True),
        cell("print('f', f())", "f__b", True),
        cell("import ctypes\nctypes.string_at(0)"), cell("print('f', f())", "f__c", True),
        cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
        cell("print('f', f())", "f__d", True),
        cell("print('x' * 10_000_000)"), cell("print('f', f())", "f__e", True),
    ]
    ex = Recovering(timeout=4, responsive_timeout=3)
    nb, _ = ex.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    texts = [" ".join(o.get("text", "") or f"{o.get('ename')}: {o.get('evalue')}" for o in c.outputs)
             for c in nb.cells]
    for i in (1, 5, 7, 9, 11):            # f keeps working after every kind of death
        assert texts[i] == "f 1\n", (i, texts[i])
    assert texts[3].startswith("KernelDied: the kernel exited with status 3")
    assert texts[4].startswith("NotRun: not run: an earlier test of g killed the kernel")
    assert texts[6].startswith("KernelDied: the kernel was killed by SIGSEGV")
    assert "KernelUnresponsive" in texts[8]
    assert len(texts[10]) < 30_000 and "output cut" in texts[10]
    assert ex._sbx_restarts == 3


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_a_kernel_killed_over_memory_just_after_its_cell_timed_out_says_so(tmp_path):
    """The watchdog's kill can land after the cell's timeout: the student still learns it was memory.

    In CI a forked-children attack crossed the budget only after its cell's time was up, and the
    notebook said "the kernel did not stop" instead of naming the memory budget.
    """
    require("bwrap", "bubblewrap")
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config

    class Recovering(RecoveringExecute, Execute):
        pass

    cfg = Config()
    cfg.SandboxKernelManager.memory_budget = 2**30
    # ignores the interrupt at the timeout (2 s), then takes 1.5 GiB at 3 s, inside the 5 s
    # the grader waits for a reply before it restarts the kernel
    nb = _notebook(["import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                    "time.sleep(3)\nkeep = b'x' * (3 * 2**29)\ntime.sleep(30)", "print('after')"])
    ex = Recovering(timeout=2, responsive_timeout=5, config=cfg, kernel_manager_class=sandbox.SandboxKernelManager)
    nb, _ = ex.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    text = " ".join(f"{o.get('ename')}: {o.get('evalue')}" for o in nb.cells[0].outputs)
    assert "CellTimeoutError" in text and "KernelDied: the notebook went over its memory" in text, text
    assert "KernelUnresponsive" not in text
    assert nb.cells[1].outputs[0]["text"] == "after\n"


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
def test_record_zero_adds_the_rows_and_zeroes_an_earlier_grading(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # alembic
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.add_assignment("pooling")
        gb.add_notebook("pooling", "pooling")
        for name in ("pool_forward__a", "pool_forward__b"):
            gb.add_grade_cell(name, "pooling", "pooling", max_score=2, cell_type="code")
        gb.add_student("graded_before")
        sub = gb.add_submission("pooling", "graded_before")
        for g in gb.find_submission_notebook("pooling", "pooling", "graded_before").grades:
            g.auto_score = 2
        gb.db.commit()
        assert gb.find_submission("pooling", "graded_before").score == 4
    assert precheck.record_zero(url, "graded_before", "pooling") == 0
    assert precheck.record_zero(url, "never_seen", "pooling") == 0
    with Gradebook(url) as gb:
        first = [g.auto_score for g in gb.find_submission_notebook("pooling", "pooling", "never_seen").grades]
    assert precheck.record_zero(url, "never_seen", "pooling") == 0     # idempotent: the same rows again
    with Gradebook(url) as gb:
        assert [g.auto_score for g in gb.find_submission_notebook("pooling", "pooling", "never_seen").grades] \
            == first == [0, 0]
        for student in ("graded_before", "never_seen"):
            nb = gb.find_submission_notebook("pooling", "pooling", student)
            assert sorted(g.name for g in nb.grades) == ["pool_forward__a", "pool_forward__b"]
            assert gb.find_submission("pooling", student).score == 0
