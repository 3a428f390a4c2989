"""A grading worker: autograde and feedback for one submission after another, in one long-lived process.

It runs nbgrader's own `Autograde` and `GenerateFeedback` converters
in-process with the course's config (so JudgedExecute and the sandbox apply
unchanged), against a private scratch SQLite gradebook copied from the seed,
and hands each result back as a `results.Result`. It never opens the main
gradebook.
"""
from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from .. import limits
from ..course import as_course, venv_on_path
from ..kernel import recovering
from . import patches, speedups
from .gradebooks import submission_data
from .results import PHASES, Result


class LogCapture(logging.Handler):
    """Warnings and errors nbgrader logs while it grades one submission."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        try:
            self.records.append((record.levelno, record.getMessage()))
        except Exception:
            pass


def error_reason(records, exc):
    """One line saying why grading failed, from nbgrader's error log."""
    for level, msg in records:
        if level >= logging.ERROR and "Traceback" in msg:
            lines = [ln.strip() for ln in msg.strip().splitlines() if ln.strip()]
            return lines[-1][:300]
    for level, msg in records:
        if level >= logging.ERROR:
            return msg.strip().splitlines()[0][:300]
    return f"{type(exc).__name__}: {exc}"[:300]


def peak_rss_mb():
    """This process's peak resident memory so far (MiB; Linux reports KiB, macOS bytes)."""
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


# A worker keeps ~370,000 objects alive (nbgrader, the exporter's templates, the gradebook engine), and
# CPython's collector walked them ~8 times per notebook: 0.07 s CPU of ~0.6. In a fast worker the first
# notebook's survivors are frozen out of the collector's walks and it collects 14x less often (0.016 s).
GC_THRESHOLD = (10000, 10, 10)


class Worker:
    """Grades (student, assignment) jobs in this process against a private scratch gradebook.

    fast: the cuts of fixed cost per notebook (immediate kernel stop, no idle wait in the
    kernel's ready handshake or its stop (kernel/client.py), one gradebook engine, one feedback
    exporter, a collector that leaves the long-lived objects alone: GC_THRESHOLD, nbgrader's metadata
    schema checked once: speedups.py); False grades
    the way plain nbgrader does (for the benchmark).
    """

    def __init__(self, course, seed_path, scratch_dir, fast=True, feedback=True):
        self.course = as_course(course)
        self.scratch_dir = Path(scratch_dir)
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        db = self.scratch_dir / "gradebook.db"
        shutil.copyfile(seed_path, db)
        self.db_url = f"sqlite:///{db}"
        self.feedback = feedback
        self.fast = fast
        self._feedback = None
        venv_on_path()
        self.config = self.course.config
        patches.skip_precheck_in_this_process()  # the parent prechecked every folder it hands out
        if fast:
            self.config.Execute.shutdown_kernel = "immediate"
            self.config.SandboxKernelManager.quick_handshakes = True
            patches.reuse_gradebook_engines()
            speedups.cache_metadata_schema()
            gc.set_threshold(*GC_THRESHOLD)
        self._frozen = not fast  # the collector's long-lived objects are frozen after the first notebook
        self.seconds = patches.install_timers(dict.fromkeys(PHASES, 0.0))
        for name in ("traitlets", "nbgrader", "NbGraderAPI"):
            logging.getLogger(name).setLevel(logging.WARNING)

    def _run(self, converter_class, assignment, student):
        from nbgrader.coursedir import CourseDirectory
        cd = CourseDirectory(config=self.config)
        cd.root = str(self.course.root)
        cd.db_url = self.db_url
        cd.assignment_id = assignment
        cd.student_id = student
        if converter_class is patches.reusable_feedback_class() and self.fast:
            conv = self._feedback = self._feedback or converter_class(coursedir=cd, config=self.config)
            conv.coursedir = cd
        else:
            conv = converter_class(coursedir=cd, config=self.config)
        conv.force = True
        conv.log.setLevel(logging.WARNING)
        with contextlib.redirect_stdout(io.StringIO()):
            conv.start()

    def grade(self, student, assignment):
        """Autograde + feedback for one submission. Returns a Result (never raises)."""
        from nbgrader.api import Gradebook
        from nbgrader.converters import Autograde
        for phase in self.seconds:
            self.seconds[phase] = 0.0
        res = Result(student, assignment, worker=os.getpid())
        capture = LogCapture()
        loggers = [logging.getLogger(n) for n in ("traitlets", "nbgrader")]
        for lg in loggers:
            lg.addHandler(capture)
        start = time.perf_counter()
        recovering.take_events()  # nothing left over from an earlier notebook
        try:
            self._run(Autograde, assignment, student)
        except BaseException as exc:  # nbgrader raises after logging; a KeyboardInterrupt ends the run
            if isinstance(exc, KeyboardInterrupt):
                raise
            res.ok, res.error = False, error_reason(capture.records, exc)
        graded = time.perf_counter()
        if res.ok:
            res.trouble = recovering.take_events()
            if self.feedback:
                try:
                    self._run(patches.reusable_feedback_class(), assignment, student)
                except Exception as exc:
                    res.ok, res.error = False, "feedback: " + error_reason(capture.records, exc)
        done = time.perf_counter()
        try:
            t = time.perf_counter()
            with Gradebook(self.db_url, self.course.course_id) as gb:
                try:
                    res.data = submission_data(gb, assignment, student)
                    gb.remove_submission(assignment, student)  # keep the scratch gradebook small
                except Exception:
                    res.data = None
            self.seconds["database"] += time.perf_counter() - t
        except Exception as exc:
            res.ok = False
            res.error = res.error or f"scratch gradebook: {exc}"
        for lg in loggers:
            lg.removeHandler(capture)
        res.seconds = time.perf_counter() - start
        if not self._frozen:
            self._frozen = True
            gc.collect()
            gc.freeze()
        res.peak_rss_mb = peak_rss_mb()
        ph = dict(self.seconds)
        ph["feedback"] = done - graded
        accounted = ph["kernel_start"] + ph["cells"] + ph["kernel_stop"] + ph["database"]
        ph["judge_and_rest"] = max(0.0, (graded - start) - accounted)
        res.phases = ph
        return res


# A worker decodes whatever its kernels send it, and a kernel can send one message as big
# as its own address space: a ceiling on the worker's own (kernels lower theirs to 4 GiB)
# turns such a message into that notebook's grading error instead of the host's memory.
WORKER_ADDRESS_SPACE = limits.WORKER_ADDRESS_SPACE


def _bound_memory():
    try:
        import resource
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        limit = WORKER_ADDRESS_SPACE if hard == resource.RLIM_INFINITY else min(WORKER_ADDRESS_SPACE, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):  # not on this platform: the kernels' own limits still hold
        pass


def worker_main(index, course, seed_path, scratch_dir, options, tasks, results, log_path=None):
    """A worker process: grade the jobs of `tasks` until a None, put ("start"|"done", index, ...) on `results`."""
    if log_path:  # nbgrader's and the kernels' chatter goes to a log file, not over the progress bar
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, "a", buffering=1)
        os.dup2(log.fileno(), 2)
        sys.stderr = log
    _bound_memory()
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
