"""Whose graded inputs: drawn per course and student, from a seed the course keeps secret.

The hidden cases used to be the same for every student and every year: one
student printing them (a cell can) published them for all. Now a case's
inputs come from three numbers: the case's own seed (its kind: shapes,
hyper-parameters), the course's secret seed (`<course>/.grading_seed`, made
on first grading, mode 0600, never inside a sandbox), and the student's id.
Publishing one's inputs helps nobody else; a regrade with the same seed
gives identical inputs, grades and pages. The builders keep the graded-case
properties for every draw (no max-pool ties, ReLU inputs away from 0).
"""
import contextlib
import contextvars
import functools
import hashlib
import os
import secrets

import numpy as np

SEED_FILE = ".grading_seed"   # in the course folder: the course's secret seed, made on first grading
_DRAW = contextvars.ContextVar("btc_inputs_draw", default=None)  # (course seed, student) or None


def course_seed(root, create=True):
    """The course's grading seed (an int) from <root>/.grading_seed, made (mode 0600) on first use.

    Every graded input is drawn from it and the student's id, so the inputs
    differ between students and between courses (a new course folder, a new
    seed), and a regrade with the same seed gives the same inputs, grades and
    pages. Two processes making it at once agree: the first link wins.
    None when it does not exist and create is False.
    """
    path = os.path.join(root, SEED_FILE)
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except FileNotFoundError:
        if not create:
            return None
        tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(16) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return course_seed(root, create=False)
    try:
        return int(text, 16)
    except ValueError:  # never replaced silently: that would change every grade
        raise RuntimeError(f"{path} is not a grading seed (32 hex digits); restore it or delete it "
                           "to draw new inputs for every student") from None


@contextlib.contextmanager
def drawing(seed, student):
    """Within it, every case's inputs (and reference) are this student's under this course seed.

    seed None: the fixed seeds (tests, visible checks, timing), the same for everyone.
    """
    token = _DRAW.set(None if seed is None else (int(seed), str(student)))
    try:
        yield
    finally:
        _DRAW.reset(token)


def per_draw(func):
    """functools.lru_cache for a function of the cases' inputs: it keeps the current draw's values only.

    A cache keyed by grade_id alone would hand one student's reference to the next.
    """
    memo = {"draw": object(), "values": {}}

    @functools.wraps(func)
    def cached(*args):
        draw = _DRAW.get()
        if memo["draw"] != draw:
            memo["draw"], memo["values"] = draw, {}
        if args not in memo["values"]:
            memo["values"][args] = func(*args)
        return memo["values"][args]

    cached.cache_clear = lambda: memo["values"].clear()
    return cached


def rng(case_seed):
    """The generator of a case's inputs under the current draw."""
    draw = _DRAW.get()
    if draw is None:
        return np.random.default_rng(case_seed)
    seed, student = draw
    who = int.from_bytes(hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()[:16], "big")
    return np.random.default_rng([seed, who, case_seed])
