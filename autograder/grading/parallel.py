"""Grade a class on every core, with one writer to the gradebook (`make grade JOBS=N`).

    from autograder.grading import parallel
    summary = parallel.grade(course, jobs=4, shard=(1, 1))

The pieces (see GRADING.md for a submission's whole path):

- course.py      the course: folders, config (loaded once), gradebook URL, and
                 `discover`, the one rule for which folders are submissions,
                 sharded by `shard_of` (every n-th student of the sorted ids, so
                 n machines sharing the submissions folder split the class once)
- gradebooks.py  the seed (the main gradebook's assignment structure, never a
                 submission) and `merge`, the parent's batched writes
- worker.py      a long-lived process running nbgrader's own Autograde and
                 GenerateFeedback in-process with the course's config (so
                 JudgedExecute and the sandbox apply unchanged) against its
                 private scratch gradebook (on tmpfs when there is one)
- pool.py        the parent: starts the workers, replaces a dead or stuck one,
                 merges; no two processes ever write one SQLite file, so
                 "database is locked" cannot happen (the main gradebook may
                 also be PostgreSQL)
- results.py     `Result` (one submission) and `Summary` (the run, run.json)
- patches.py     the cuts of fixed cost per notebook inside nbgrader (one
                 gradebook engine, one feedback exporter) and the phase timers,
                 behind a version check

Fixed cost cut per notebook, without touching isolation (every notebook
still gets a fresh sandboxed kernel): no `nbgrader` process and no imports
per notebook, the kernel is stopped immediately instead of waiting for a
polite shutdown, one SQLAlchemy engine per scratch gradebook, and feedback
HTML written by the worker that graded the notebook.

This module keeps the names other modules and the tests import.
"""
from __future__ import annotations

from .course import COURSE, REPO, URL_ENV, Course, course_id, gradebook_url, load_config, parse_shard, shard_of
from .course import venv_on_path as ensure_alembic_on_path
from .gradebooks import STRUCTURE_TABLES, merge, seed_gradebook
from .pool import grade
from .pool import scratch_root as _scratch_root
from .results import PHASES, Result, Summary
from .worker import Worker
from .worker import find_trouble as _find_trouble

__all__ = ["COURSE", "REPO", "URL_ENV", "Course", "course_id", "gradebook_url", "load_config", "parse_shard",
           "shard_of", "ensure_alembic_on_path", "STRUCTURE_TABLES", "merge", "seed_gradebook", "grade",
           "_scratch_root", "PHASES", "Result", "Summary", "Worker", "_find_trouble", "discover"]


def discover(course=COURSE, assignments=None, shard=(1, 1)):
    """Sorted (student, assignment) pairs of this shard (`Course.discover`)."""
    return Course(course).discover(assignments, shard)
