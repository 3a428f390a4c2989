"""Every graded case: grade_id -> inputs, reference, comparison, points, equation (the registry).

The package holds what a case is made of: functions.py (one `GradedFunction` per
graded name), inputs.py (their inputs), compare.py (the comparisons), draws.py
(per-course and per-student draws) and citations.py (each case's equations).

Trusted and never shipped. The cases are declared with their function in
functions.py (one `GradedFunction` per graded name); this module keys them by
grade_id and judges them. The judge (execute.py) builds a case's inputs from
the case's seed, the course's secret seed and the student's id (`drawing`),
hands them to the kernel through the exchange folder, rebuilds
them itself, computes the reference with the `solutions` package and compares
it with what the kernel recorded. `CASES` is ordered as the notebooks are;
tools/make_notebooks.py writes one test cell per case, with these points.
"""
import inspect

import numpy as np

import solutions

from . import citations, functions
from .compare import (
    RTOL, Mismatch, compare_array, compare_cache, compare_mask, compare_scalar, compare_sequence, short,
)
from .draws import SEED_FILE, course_seed, drawing, per_draw, rng  # noqa: F401
from .functions import Case  # noqa: F401 (diagnose.py builds one to cite)

JUDGES = functions.JUDGES  # {function: judge(got, ref, args, kwargs)}, each declared in functions.py


def judge(case, result):
    """Raise Mismatch when `result` (decoded from the kernel) is not the reference's answer.

    The reference is ours: an error there is raised as it is. Any error while
    comparing the kernel's result with it is the result's: a Mismatch.
    """
    args, kwargs = case.inputs()
    ref = case.reference()
    try:
        JUDGES[case.function](result, ref, args, kwargs)
    except Mismatch:
        raise
    except Exception as e:
        raise Mismatch("*", f"the result {short(result, 120)} cannot be compared with the expected one "
                       f"({type(e).__name__}: {str(e)[:200]})") from None


def describe_inputs(case):
    """The inputs in words: argument names with shapes, hyper-parameters and small values."""
    args, kwargs = case.inputs()
    params = list(inspect.signature(getattr(solutions, case.function)).parameters)
    bound = dict(zip(params, args), **kwargs)

    def show(value, top=True):
        if isinstance(value, np.ndarray):
            if top and value.size <= 9:
                return np.array2string(value, precision=3, separator=", ").replace("\n", "")
            return f"of shape {value.shape}"
        if isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value):
            return "(" + ", ".join(show(v, False) for v in value) + ")"
        return repr(value)

    return "; ".join(f"{k} {show(v)}" for k, v in bound.items())


def citation(case, what):
    """What to re-read when output `what` is wrong: "chapter 4, eq. (4.3): <link to it in the book>"."""
    labels = case.equations.get(what) or case.equations.get("*")
    return citations.cite(labels) if labels else ""


CASES = {case.grade_id: case for case in functions.CASES}


def for_assignment(assignment):
    """The assignment's cases in notebook order."""
    return [case for case in CASES.values() if case.assignment == assignment]
