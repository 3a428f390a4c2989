"""The parent of a grading run: N long-lived workers, one writer to the gradebook.

The parent copies the structure of the main gradebook into a seed
(`gradebooks.seed_gradebook`), starts the workers (`worker.worker_main`),
hands out (student, assignment) jobs, replaces a worker that dies or sticks
on one notebook, and alone merges the results into the main gradebook
(`gradebooks.merge`), every `merge_every` seconds in one transaction.
"""
from __future__ import annotations

import html
import json
import logging
import multiprocessing as mp
import os
import queue
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .. import limits, precheck
from ..cases.draws import course_seed
from ..course import COURSE, as_course, venv_on_path
from ..kernel.budgets import run_all, sweep_stale
from . import progress as progress_mod
from .gradebooks import merge, seed_gradebook
from .results import Result, Summary
from .worker import worker_main

LOG = logging.getLogger(__name__)
PRELOAD = ["autograder.grading.run.worker", "nbgrader.api", "nbgrader.converters", "nbgrader.preprocessors",
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


def scratch_root(course_root):
    """A new folder for the seed and the workers' gradebooks: on tmpfs where there is one."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="btc-grading-", dir=shm))
    base = Path(course_root) / ".scratch"
    base.mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="run-", dir=base))


class _Pool:
    """Worker processes fed from one task queue; replaces any that dies."""

    def __init__(self, course_root, seed, scratch, options, log_dir):
        self.ctx = _context()
        self.tasks, self.results = self.ctx.Queue(), self.ctx.Queue()
        self.args = (str(course_root), str(seed), scratch, options, log_dir)
        self.procs, self.current, self.count = {}, {}, 0

    def spawn(self):
        course_root, seed, scratch, options, log_dir = self.args
        i, self.count = self.count, self.count + 1
        log = str(Path(course_root) / log_dir / f"grader-{i}.log") if log_dir else None
        proc = self.ctx.Process(target=worker_main, name=f"grader-{i}", daemon=True,
                                args=(i, course_root, seed, str(scratch / f"w{i}"), options, self.tasks,
                                      self.results, log))
        proc.start()
        self.procs[i] = proc

    def remove_leftovers(self, i):
        """What a killed worker i can leave: its scratch, and its sandboxes and exchanges (folders named
        for the worker's pid, tmpfs mounts included: budgets.sweep_stale removes those of dead processes)."""
        shutil.rmtree(self.args[2] / f"w{i}", ignore_errors=True)
        sweep_stale(tempfile.gettempdir(), log=LOG)

    def reap(self, job_timeout):
        """Results of the jobs whose worker died (or was killed for taking over job_timeout s); new workers."""
        failed = []
        for i, (_, t0) in list(self.current.items()):
            if time.perf_counter() - t0 > job_timeout and self.procs[i].is_alive():
                self.procs[i].kill()
                self.procs[i].join(timeout=10)
        for i, proc in list(self.procs.items()):
            if not proc.is_alive() and proc.exitcode not in (0, None):
                del self.procs[i]
                self.remove_leftovers(i)
                job = self.current.pop(i, None)
                if job is not None:
                    (student, assignment), t0 = job
                    failed.append(Result.failed(student, assignment, f"grading process died (exit code {proc.exitcode})",
                                                time.perf_counter() - t0))
                    self.tasks.put(None)  # the dead worker's share of the stop signals
                self.spawn()
        return failed

    def close(self):
        for proc in self.procs.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=10)
        sweep_stale(tempfile.gettempdir(), log=LOG)  # a worker killed on the way out leaves nothing either
        self.tasks.cancel_join_thread()
        self.results.cancel_join_thread()


def grade(course=COURSE, jobs=None, shard=(1, 1), db_url=None, pairs=None, fast=True, feedback=True,
          progress=True, stream=None, lines=None, merge_every=2.0, run_log="report/run.json", log_dir="report/logs",
          job_timeout=limits.JOB_TIMEOUT):
    """Grade every submission of this shard with `jobs` worker processes; returns a Summary.

    course: a Course or its folder. pairs: the (student, assignment) jobs (default:
    `course.discover(shard=shard)`). job_timeout: a worker still on one notebook after
    this many seconds is killed (the sandbox's own limits normally end a runaway
    kernel long before) and the notebook is reported as failed. Every merged
    Result carries the score and max_score the merge wrote. The main gradebook
    (db_url, else the course's) must already hold the assignments (`make release`).
    """
    from nbgrader.api import Gradebook


    course = as_course(course)
    url = db_url or course.db_url
    stream = stream or sys.stderr
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    venv_on_path()
    pairs = [tuple(p) for p in (course.discover(shard=shard) if pairs is None else pairs)]
    summary = Summary(jobs=jobs, shard=tuple(shard), db_url=url)
    started = time.perf_counter()
    if not pairs:
        write_run_log(course.root, run_log, shard, summary)
        return summary

    summary.inputs_seed = f"{course_seed(course.root):032x}"  # the hidden inputs' draw (cases.drawing)
    scratch = scratch_root(course.root)
    seed = scratch / "seed.db"
    seed_gradebook(url, seed)
    sweep_stale(tempfile.gettempdir(), log=LOG)  # what killed graders of earlier runs left
    pool = _Pool(course.root, seed, scratch, {"fast": fast, "feedback": feedback}, log_dir)
    for p in pairs:
        pool.tasks.put(p)
    for _ in range(min(jobs, len(pairs))):
        pool.spawn()
        pool.tasks.put(None)
    bar = progress_mod.Progress(len(pairs), enabled=progress, stream=stream, lines=lines)
    pending, last_merge, fatal = [], time.perf_counter(), None
    gb = Gradebook(url, course.course_id)

    def finished(res):
        summary.results.append(res)
        pending.append(res)
        bar.update(res)

    try:
        while len(summary.results) < len(pairs):
            try:
                kind, index, payload = pool.results.get(timeout=0.5)
            except queue.Empty:
                kind = None
            if kind == "start":
                pool.current[index] = (tuple(payload), time.perf_counter())
            elif kind == "done":
                pool.current.pop(index, None)
                finished(payload)
            elif kind == "fatal":
                fatal = payload
                break
            for res in pool.reap(job_timeout):
                finished(res)
            if pending and (time.perf_counter() - last_merge > merge_every or len(summary.results) == len(pairs)):
                _merge(gb, pending)
                pending, last_merge = [], time.perf_counter()
        if pending:
            _merge(gb, pending)
    finally:  # every step, whatever an earlier one raised (a full disk can fail the gradebook's close)
        run_all(gb.close, bar.close, pool.close, lambda: shutil.rmtree(scratch, ignore_errors=True), log=LOG)
    failed_pages(course, [r for r in summary.results if not r.ok])
    if fatal:
        raise RuntimeError(f"a grading worker could not start:\n{fatal}")
    summary.wall = time.perf_counter() - started
    summary.results.sort(key=lambda r: (r.student, r.assignment))
    write_run_log(course.root, run_log, shard, summary)
    return summary


def _merge(gb, results):
    """Merge a batch; each result learns the score the gradebook now holds for it.

    A batch that cannot be written (a full disk, a broken row) is merged one
    result at a time: a result that still fails is that notebook's error, never the run's.
    """
    try:
        scores = merge(gb, results)
    except Exception:
        gb.db.rollback()
        scores = {}
        for res in results:
            try:
                scores.update(merge(gb, [res]))
            except Exception as e:
                gb.db.rollback()
                res.ok, res.data = False, None
                res.error = f"its grades could not be written to the gradebook ({type(e).__name__}: {str(e)[:200]})"
                LOG.warning("%s/%s: %s", res.student, res.assignment, res.error)
    for res in results:
        res.score, res.max_score = scores.get((res.student, res.assignment), (None, None))


def failed_pages(course, results):
    """Every notebook whose grading failed, however, gets a feedback page saying what happened.

    Not graded to the end: a score of 0 (a partial grading is not kept, so the
    page and the gradebook say the same thing). Graded, when only the detailed
    page failed: the merged grades stand and the page gives the score.
    """
    for res in results:
        why = precheck.shown(res.error or "unknown error")  # an error can quote the kernel: escaped
        if res.score is not None and (res.error or "").startswith("feedback:"):
            # graded and merged; only the detailed page failed: the grades stand, the page says so
            run_all(lambda: _write_page(course.root, res, graded_page(res, why)), log=LOG)
            continue
        problem = GradingFailure(res.student, res.assignment, f"{res.assignment}.ipynb", "grading_error",
                                 f"grading stopped before it was complete: {why}")
        run_all(lambda: precheck.record_zero(course.db_url, res.student, res.assignment),
                lambda: precheck.write_feedback(course.root, problem), log=LOG)


def graded_page(res, why):
    """The page of a notebook that was graded when its detailed feedback page could not be made."""
    e = html.escape
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">\n'
            f"<title>{e(res.assignment)}: graded</title></head><body>\n"
            f"<h1>{e(res.assignment)}: your notebook was graded</h1>\n"
            f"<p><strong>Student:</strong> {e(res.student)}<br>\n"
            f"<strong>Score:</strong> {res.score:g} of {res.max_score:g}</p>\n"
            f"<p>The page with each test's result could not be made ({e(why)}); "
            f"ask your instructor for the details.</p>\n</body></html>\n")


def _write_page(root, res, text):
    out = as_course(root).feedback(res.student, res.assignment)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{res.assignment}.html").write_text(text, encoding="utf-8")


@dataclass
class GradingFailure(precheck.Problem):
    """A notebook the workers could not finish grading (the grader's connection to the kernel broke, a worker died...)."""

    @property
    def fix(self):
        return ("Restart the kernel and run all cells (Kernel > Restart & Run All): your notebook must run "
                "from top to bottom on its own, without starting processes that outlive a cell or printing "
                "without end. If it does, ask your instructor to look at this grading error.")


def write_run_log(course_root, run_log, shard, summary):
    if run_log:
        if tuple(shard) != (1, 1):  # machines sharing one course folder keep one log each
            run_log = run_log.replace(".json", f"-{shard[0]}of{shard[1]}.json")
        path = Path(course_root) / run_log
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary.to_json(), indent=1, default=str))
        path.chmod(0o600)  # it holds the course's seed of the hidden inputs
