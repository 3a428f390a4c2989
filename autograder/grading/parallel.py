"""Grade a class on every core, with one writer to the gradebook.

    from autograder.grading import parallel
    summary = parallel.grade(course, jobs=4, shard=(1, 1))

How it works (see GRADING.md):

- The parent lists the submissions (`discover`), keeps this machine's shard
  (`shard_of`: every n-th student of the sorted ids, so n machines sharing
  the submissions folder split the class exactly once between them), and copies the *structure* of the main gradebook
  (course, assignments, notebooks, grade/solution/source/task cells; never a
  submission) into a seed SQLite file (`seed_gradebook`).
- N long-lived worker processes each copy the seed into their own scratch
  gradebook (on tmpfs when there is one) and run nbgrader's own `Autograde`
  and `GenerateFeedback` converters in-process, with the course's
  `nbgrader_config.py` (so JudgedExecute and the sandbox apply unchanged),
  against that scratch gradebook. A worker reads its result back from its
  scratch gradebook and sends it to the parent as plain data.
- Only the parent writes the main gradebook (`merge`), in batched
  transactions. No two processes ever write the same SQLite file, so
  "database is locked" cannot happen; the main gradebook may also be
  PostgreSQL (any SQLAlchemy URL nbgrader accepts).

Fixed cost cut per notebook, without touching isolation (every notebook
still gets a fresh sandboxed kernel): no `nbgrader` process and no imports
per notebook (workers live for the whole run), the kernel is stopped
immediately instead of waiting for a polite shutdown, one SQLAlchemy engine
per scratch gradebook instead of one (plus a schema check) per preprocessor,
the scratch gradebook lives on tmpfs, and feedback HTML is written by the
worker that graded the notebook, while its files are in the page cache.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import multiprocessing as mp
import os
import queue
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "autograder"
URL_ENV = "BTC_GRADEBOOK_URL"

# Tables that describe the assignments (copied into every scratch gradebook),
# parents before children. Submissions and students are never copied.
STRUCTURE_TABLES = ("course", "assignment", "notebook", "base_cell", "source_cell",
                    "grade_cells", "solution_cells", "task_cells")

PHASES = ("kernel_start", "cells", "kernel_stop", "judge_and_rest", "database", "feedback")


# ----------------------------------------------------------------------------
# what to grade


def parse_shard(text):
    """'k/n' -> (k, n), 1 <= k <= n."""
    try:
        k, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise ValueError(f"shard must look like k/n (e.g. 2/3), got {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"shard {text!r}: need 1 <= k <= n")
    return k, n


def shard_of(students, shard):
    """The students of shard (k, n): every n-th of the sorted ids, starting at the k-th.

    Round-robin over the sorted ids gives every shard the same number of
    students (within one), and n machines that list the same submissions
    folder split it exactly once between them.
    """
    k, n = shard
    return sorted(students)[k - 1::n]


def discover(course=COURSE, assignments=None, shard=(1, 1)):
    """Sorted (student, assignment) pairs with a folder submitted/<student>/<assignment>/.

    assignments: the assignment names to consider (default: every folder in source/).
    """
    course = Path(course)
    if assignments is None:
        assignments = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    known = set(assignments)
    jobs = []
    submitted = course / "submitted"
    if not submitted.is_dir():
        return jobs
    students = [p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")]
    for student in shard_of(students, shard):
        for a_dir in sorted((submitted / student).iterdir()):
            if a_dir.is_dir() and a_dir.name in known:
                jobs.append((student, a_dir.name))
    return jobs


# ----------------------------------------------------------------------------
# configuration and gradebooks


def ensure_alembic_on_path():
    """nbgrader runs the `alembic` program when it creates a gradebook; it lives next to our Python."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def load_config(course=COURSE):
    """The course's nbgrader_config.py, loaded as `nbgrader` loads it."""
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(Path(course).resolve())
    return config


def gradebook_url(course=COURSE, url=None, config=None):
    """Where grades go: `url`, else $BTC_GRADEBOOK_URL, else the course config's, else gradebook.db."""
    if url:
        return url
    if os.environ.get(URL_ENV):
        return os.environ[URL_ENV]
    if config is not None and "db_url" in config.CourseDirectory:
        return config.CourseDirectory.db_url
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def course_id(config):
    return config.CourseDirectory.course_id if "course_id" in config.CourseDirectory else "default_course"


def seed_gradebook(main_url, seed_path):
    """Copy the assignment structure (not one submission) of the main gradebook into a new SQLite file."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, text
    src = create_engine(main_url, future=True)
    dst = create_engine(f"sqlite:///{seed_path}", future=True)
    try:
        Base.metadata.create_all(dst)
        tables = Base.metadata.tables
        with src.connect() as s, dst.begin() as d:
            version = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
            d.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            d.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
            for name in STRUCTURE_TABLES:
                rows = [dict(r) for r in s.execute(tables[name].select()).mappings()]
                if rows:
                    d.execute(tables[name].insert(), rows)
    finally:
        src.dispose()
        dst.dispose()


def _submission_data(gb, assignment, student):
    """What autograde wrote for one submission, as plain data."""
    sub = gb.find_submission(assignment, student)
    data = {"timestamp": sub.timestamp.isoformat() if sub.timestamp else None, "notebooks": {}}
    for nb in sub.notebooks:
        data["notebooks"][nb.name] = {
            "late_submission_penalty": nb.late_submission_penalty,
            "grades": {g.name: [g.auto_score, bool(g.needs_manual_grade)] for g in nb.grades},
            "comments": {c.name: c.auto_comment for c in nb.comments},
        }
    return data


def merge(gb, results):
    """Write grading results into the main gradebook `gb` (one transaction). Parent only."""
    import warnings

    from sqlalchemy.exc import SAWarning
    with warnings.catch_warnings():
        # nbgrader's add_submission builds rows under autoflush; SQLAlchemy 2 warns, the rows are right
        warnings.simplefilter("ignore", SAWarning)
        _merge(gb, results)
    gb.db.commit()


def _merge(gb, results):
    from nbgrader.api import MissingEntry
    for res in results:
        data = res.get("data")
        if not data:
            continue
        student, assignment = res["student"], res["assignment"]
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.update_or_create_student(student)
        if data["timestamp"]:
            sub = gb.update_or_create_submission(assignment, student, timestamp=data["timestamp"])
        else:
            sub = gb.update_or_create_submission(assignment, student)
        for nb in sub.notebooks:
            nbdata = data["notebooks"].get(nb.name)
            if nbdata is None:
                continue
            nb.late_submission_penalty = nbdata["late_submission_penalty"]
            for g in nb.grades:
                if g.name in nbdata["grades"]:
                    auto, needs = nbdata["grades"][g.name]
                    g.auto_score = auto
                    # as SaveAutoGrades would decide it in the main gradebook
                    g.needs_manual_grade = bool(needs or g.manual_score is not None)
            for c in nb.comments:
                if c.name in nbdata["comments"]:
                    c.auto_comment = nbdata["comments"][c.name]


# ----------------------------------------------------------------------------
# the worker


class _Timer:
    """Seconds spent per phase of the current notebook, collected by wrapping library methods."""

    def __init__(self):
        self.t = dict.fromkeys(PHASES, 0.0)
        self.installed = False

    def wrap(self, owner, name, phase):
        original = getattr(owner, name)
        timer = self

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timer.t[phase] += time.perf_counter() - start
        timed.__wrapped__ = original
        setattr(owner, name, timed)


_TIMER = _Timer()


def _fast_gradebooks():
    """One SQLAlchemy engine per gradebook URL for this process, and no schema check after the first.

    nbgrader opens a new Gradebook (new engine, table inspection, create_all)
    in every preprocessor of every notebook; in a worker the scratch gradebook
    is private and its schema is known, so the engine is kept.
    """
    from nbgrader import api
    from sqlalchemy.orm import scoped_session, sessionmaker
    if getattr(api.Gradebook, "_btc_fast", False):
        return
    api.Gradebook._btc_fast = True
    original = api.Gradebook.__init__
    engines = {}

    def __init__(self, db_url, course_id="default_course", authenticator=None):
        engine = engines.get(db_url)
        if engine is None:
            original(self, db_url, course_id, authenticator)
            engines[db_url] = self.engine
            return
        self.engine = engine
        self.db = scoped_session(sessionmaker(autoflush=True, bind=engine, future=True))
        self.check_course(course_id=course_id)
        self.course_id = course_id
        self.authenticator = authenticator

    def close(self):
        self.db.remove()  # keep the engine (and its connection pool) for the next notebook

    api.Gradebook.__init__ = __init__
    api.Gradebook.close = close

    # A worker only ever opens its own scratch gradebook, which is thrown away after the run:
    # no fsync per commit (SaveAutoGrades commits once per cell).
    import sqlite3

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "connect")
    def _scratch_pragmas(dbapi_connection, record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA journal_mode=MEMORY")
            cur.close()


def _find_trouble(notebook_path):
    """Timeouts and dead kernels recorded in an autograded notebook, one short string per kind."""
    import nbformat
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
    except Exception:
        return []
    cells = {"timeout": [], "kernel died": []}
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")
        text = " ".join(f"{o.get('ename', '')} {o.get('evalue', '')}".lower()
                        for o in cell.get("outputs", []) if o.get("output_type") == "error")
        if any(k in text for k in ("timeout", "timed out", "time limit", "ran out of time")):
            cells["timeout"].append(gid)
        elif any(k in text for k in ("deadkernel", "kerneldied", "kernel died", "kernel crashed")):
            cells["kernel died"].append(gid)
    return [f"{kind}: {gids[0]}" + (f" (+{len(gids) - 1} more cells)" if len(gids) > 1 else "")
            for kind, gids in cells.items() if gids]


_FEEDBACK = []


def _feedback_class():
    """nbgrader's GenerateFeedback, able to run again with the exporter it built the first time."""
    if _FEEDBACK:
        return _FEEDBACK[0]
    import os as _os

    from nbgrader.converters import GenerateFeedback

    class ReusableFeedback(GenerateFeedback):
        def start(self):
            if self._trait_values.get("exporter") is None:
                return super().start()
            self.init_notebooks()
            here = _os.getcwd()
            _os.chdir(self.coursedir.root)
            try:
                self.convert_notebooks()
            finally:
                _os.chdir(here)

    _FEEDBACK.append(ReusableFeedback)
    return ReusableFeedback


class _LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        try:
            self.records.append((record.levelno, record.getMessage()))
        except Exception:
            pass


def _error_reason(records, exc):
    """One line saying why grading failed, from nbgrader's error log."""
    for level, msg in records:
        if level >= logging.ERROR and "Traceback" in msg:
            lines = [ln.strip() for ln in msg.strip().splitlines() if ln.strip()]
            return lines[-1][:300]
    for level, msg in records:
        if level >= logging.ERROR:
            return msg.strip().splitlines()[0][:300]
    return f"{type(exc).__name__}: {exc}"[:300]


class Worker:
    """Grades (student, assignment) jobs in this process against a private scratch gradebook."""

    def __init__(self, course, seed_path, scratch_dir, fast=True, feedback=True):
        self.course = Path(course).resolve()
        self.scratch_dir = Path(scratch_dir)
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        db = self.scratch_dir / "gradebook.db"
        shutil.copyfile(seed_path, db)
        self.db_url = f"sqlite:///{db}"
        self.feedback = feedback
        self.fast = fast
        self._feedback = None
        ensure_alembic_on_path()
        self.config = load_config(self.course)
        from . import patches
        patches.skip_precheck_in_this_process()  # the parent prechecked every folder it hands out
        self.course_id = course_id(self.config)
        if fast:
            self.config.Execute.shutdown_kernel = "immediate"
            _fast_gradebooks()
        self._instrument()
        for name in ("traitlets", "nbgrader", "NbGraderAPI"):
            logging.getLogger(name).setLevel(logging.WARNING)

    def _instrument(self):
        from nbclient import NotebookClient
        from nbconvert.preprocessors import ExecutePreprocessor
        from nbgrader import api
        from nbgrader.preprocessors import Execute
        self.timer = _TIMER
        if self.timer.installed:
            return
        self.timer.installed = True
        w = self.timer.wrap
        w(NotebookClient, "start_new_kernel", "kernel_start")
        w(NotebookClient, "start_new_kernel_client", "kernel_start")
        w(NotebookClient, "_cleanup_kernel", "kernel_stop")
        w(ExecutePreprocessor, "preprocess_cell", "cells")
        w(api.Gradebook, "__init__", "database")
        w(api.Gradebook, "close", "database")
        for n in ("find_grade", "find_comment", "update_or_create_submission", "update_or_create_student",
                  "find_submission", "find_submission_notebook", "find_notebook", "find_assignment"):
            w(api.Gradebook, n, "database")
        try:  # subclasses that rebind the synchronous twin (JudgedExecute) get timed too
            from autograder.grading.execute import JudgedExecute
            if "start_new_kernel" in JudgedExecute.__dict__:
                w(JudgedExecute, "start_new_kernel", "kernel_start")
        except Exception:
            pass
        del Execute

    def _run(self, converter_class, assignment, student):
        from nbgrader.coursedir import CourseDirectory
        cd = CourseDirectory(config=self.config)
        cd.root = str(self.course)
        cd.db_url = self.db_url
        cd.assignment_id = assignment
        cd.student_id = student
        if converter_class is _feedback_class() and self.fast:
            # one HTML exporter per worker: its Jinja templates are compiled once, not per notebook
            # (compiling them was ~70% of generate_feedback's time per notebook)
            conv = self._feedback = self._feedback or converter_class(coursedir=cd, config=self.config)
            conv.coursedir = cd
        else:
            conv = converter_class(coursedir=cd, config=self.config)
        conv.force = True
        conv.log.setLevel(logging.WARNING)
        conv.start()

    def grade(self, student, assignment):
        """Autograde + feedback for one submission. Returns a result dict (never raises)."""
        from nbgrader.api import Gradebook
        from nbgrader.converters import Autograde
        GenerateFeedback = _feedback_class()
        self.timer.t = dict.fromkeys(PHASES, 0.0)
        res = {"student": student, "assignment": assignment, "ok": True, "error": None,
               "trouble": [], "seconds": 0.0, "phases": {}, "data": None, "worker": os.getpid()}
        capture = _LogCapture()
        loggers = [logging.getLogger(n) for n in ("traitlets", "nbgrader")]
        for lg in loggers:
            lg.addHandler(capture)
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self._run(Autograde, assignment, student)
        except BaseException as exc:  # nbgrader raises after logging; a KeyboardInterrupt ends the run
            if isinstance(exc, KeyboardInterrupt):
                raise
            res["ok"] = False
            res["error"] = _error_reason(capture.records, exc)
        graded = time.perf_counter()
        autograded = self.course / "autograded" / student / assignment / f"{assignment}.ipynb"
        if res["ok"]:
            res["trouble"] = _find_trouble(autograded)
            if self.feedback:
                try:
                    with contextlib.redirect_stdout(io.StringIO()):
                        self._run(GenerateFeedback, assignment, student)
                except Exception as exc:
                    res["ok"] = False
                    res["error"] = "feedback: " + _error_reason(capture.records, exc)
        done = time.perf_counter()
        try:
            t = time.perf_counter()
            with Gradebook(self.db_url, self.course_id) as gb:
                try:
                    res["data"] = _submission_data(gb, assignment, student)
                    gb.remove_submission(assignment, student)  # keep the scratch gradebook small
                except Exception:
                    res["data"] = None
            self.timer.t["database"] += time.perf_counter() - t
        except Exception as exc:
            res["ok"] = False
            res["error"] = res["error"] or f"scratch gradebook: {exc}"
        for lg in loggers:
            lg.removeHandler(capture)
        res["seconds"] = time.perf_counter() - start
        res["peak_rss_mb"] = _peak_rss_mb()
        ph = dict(self.timer.t)
        ph["feedback"] = done - graded
        accounted = ph["kernel_start"] + ph["cells"] + ph["kernel_stop"] + ph["database"]
        ph["judge_and_rest"] = max(0.0, (graded - start) - accounted)
        res["phases"] = ph
        return res


def _peak_rss_mb():
    """This process's peak resident memory so far (MiB; Linux reports KiB, macOS bytes)."""
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _worker_main(index, course, seed_path, scratch_dir, options, tasks, results, log_path=None):
    if log_path:  # nbgrader's and the kernels' chatter goes to a log file, not over the progress bar
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "a", buffering=1)
        os.dup2(log.fileno(), 2)
        sys.stderr = log
    try:
        worker = Worker(course, seed_path, scratch_dir, **options)
    except BaseException:
        results.put(("fatal", index, traceback.format_exc()))
        return
    results.put(("ready", index, None))
    while True:
        job = tasks.get()
        if job is None:
            break
        results.put(("start", index, job))
        results.put(("done", index, worker.grade(*job)))


# ----------------------------------------------------------------------------
# the parent


@dataclass
class Summary:
    results: list = field(default_factory=list)
    wall: float = 0.0
    jobs: int = 1
    shard: tuple = (1, 1)
    db_url: str = ""

    @property
    def failures(self):
        return [r for r in self.results if not r["ok"] or r["trouble"]]

    def to_json(self):
        return {"wall": self.wall, "jobs": self.jobs, "shard": list(self.shard), "db_url": _safe_url(self.db_url),
                "results": [{k: v for k, v in r.items() if k != "data"} for r in self.results]}


def _safe_url(url):
    """A gradebook URL without its password, for logs and reports."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        return f"{scheme}://{cred.split(':')[0]}:***@{host}"
    return url


PRELOAD = ["autograder.grading.parallel", "nbgrader.api", "nbgrader.converters", "nbgrader.preprocessors",
           "nbclient", "nbconvert.exporters", "jupyter_client"]


def _context():
    """Workers fork from a clean server that imported nbgrader once (~3 s) instead of importing it each.

    The fork server is a fresh single-threaded process, so nothing of the
    parent (threads, database connections) leaks into a worker.
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    return mp.get_context("spawn")


def _scratch_root(course):
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="btc-grading-", dir=shm))
    base = Path(course) / ".scratch"
    base.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="run-", dir=base))


def grade(course=COURSE, jobs=None, shard=(1, 1), db_url=None, pairs=None, fast=True, feedback=True,
          progress=True, stream=None, lines=None, merge_every=2.0, run_log="report/run.json", log_dir="report/logs",
          job_timeout=3600.0):
    """Grade every submission of this shard with `jobs` worker processes; returns a Summary.

    pairs: the (student, assignment) jobs (default: `discover(course, shard=shard)`).
    job_timeout: a worker still on one notebook after this many seconds is killed (the
    sandbox's own limits normally end a runaway kernel long before) and the notebook
    is reported as failed.
    The main gradebook (db_url, see `gradebook_url`) must already hold the
    assignments (`make release` / `nbgrader generate_assignment`).
    """
    from nbgrader.api import Gradebook

    from . import progress as progress_mod

    course = Path(course).resolve()
    stream = stream or sys.stderr
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    ensure_alembic_on_path()
    config = load_config(course)
    main_url = gradebook_url(course, db_url, config)
    cid = course_id(config)
    if pairs is None:
        pairs = discover(course, shard=shard)
    pairs = [tuple(p) for p in pairs]
    summary = Summary(jobs=jobs, shard=tuple(shard), db_url=main_url)
    started = time.perf_counter()
    if not pairs:
        _write_run_log(course, run_log, shard, summary)
        return summary
    jobs = min(jobs, len(pairs))

    scratch = _scratch_root(course)
    seed = scratch / "seed.db"
    seed_gradebook(main_url, seed)
    options = {"fast": fast, "feedback": feedback}
    ctx = _context()
    tasks, results = ctx.Queue(), ctx.Queue()
    for p in pairs:
        tasks.put(p)
    workers, current = {}, {}
    next_index = [0]

    def spawn():
        i = next_index[0]
        next_index[0] += 1
        proc = ctx.Process(target=_worker_main, name=f"grader-{i}", daemon=True,
                           args=(i, str(course), str(seed), str(scratch / f"w{i}"), options, tasks, results,
                                 str(course / log_dir / f"grader-{i}.log") if log_dir else None))
        proc.start()
        workers[i] = proc

    for _ in range(jobs):
        spawn()
    for _ in range(jobs):
        tasks.put(None)

    bar = progress_mod.Progress(len(pairs), enabled=progress, stream=stream, lines=lines)
    pending, done_count, last_merge = [], 0, time.perf_counter()
    gb = Gradebook(main_url, cid)
    fatal = None
    try:
        while done_count < len(pairs):
            try:
                kind, index, payload = results.get(timeout=0.5)
            except queue.Empty:
                kind = None
            if kind == "start":
                current[index] = (tuple(payload), time.perf_counter())
            elif kind == "done":
                current.pop(index, None)
                summary.results.append(payload)
                pending.append(payload)
                done_count += 1
                bar.update(payload)
            elif kind == "fatal":
                fatal = payload
                break
            # a worker that died mid-notebook: its job fails, a new worker takes its place
            for i, (job, t0) in list(current.items()):
                if time.perf_counter() - t0 > job_timeout and workers[i].is_alive():
                    workers[i].kill()
                    workers[i].join(timeout=10)
            for i, proc in list(workers.items()):
                if not proc.is_alive() and proc.exitcode not in (0, None):
                    del workers[i]
                    job = current.pop(i, None)
                    if job is not None:
                        (student, assignment), t0 = job
                        res = {"student": student, "assignment": assignment, "ok": False,
                               "error": f"grading process died (exit code {proc.exitcode})", "trouble": [],
                               "seconds": time.perf_counter() - t0, "phases": {}, "data": None, "worker": None}
                        summary.results.append(res)
                        done_count += 1
                        bar.update(res)
                        tasks.put(None)  # the dead worker's share of the stop signals
                    spawn()
            if pending and (time.perf_counter() - last_merge > merge_every or done_count == len(pairs)):
                merge(gb, pending)
                pending, last_merge = [], time.perf_counter()
        if pending:
            merge(gb, pending)
    finally:
        gb.close()
        bar.close()
        for proc in workers.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
        tasks.cancel_join_thread()
        results.cancel_join_thread()
        shutil.rmtree(scratch, ignore_errors=True)
    if fatal:
        raise RuntimeError(f"a grading worker could not start:\n{fatal}")
    summary.wall = time.perf_counter() - started
    summary.results.sort(key=lambda r: (r["student"], r["assignment"]))
    _write_run_log(course, run_log, shard, summary)
    return summary


def _write_run_log(course, run_log, shard, summary):
    if run_log:
        if tuple(shard) != (1, 1):  # machines sharing one course folder keep one log each
            run_log = run_log.replace(".json", f"-{shard[0]}of{shard[1]}.json")
        path = Path(course) / run_log
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary.to_json(), indent=1, default=str))
