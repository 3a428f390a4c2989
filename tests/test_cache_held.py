"""A forward's cache of the wrong length: the grader and the visible check say what it holds, item by item.

Real students return a third item in pool_forward's cache (heldout7's v001): the verdict said only "got tuple
of length 3". Both sides now say which items are the inputs as given and what the others are.
"""
import numpy as np
import pytest

import solutions
from autograder.grading import cases as registry
from autograder.grading.cases.compare import Mismatch, held

from tests.test_notebooks import helper
from tests.test_visible_checks import run_visible

A = np.arange(24.0).reshape(1, 2, 3, 4)
H = {"f": 2, "stride": 1}
NAMES = ("A_prev", "hparameters")


@pytest.mark.parametrize("cache, said", [
    ((A, H, np.zeros((1, 1, 2, 4))), "(A_prev as given, hparameters as given, an array of shape (1, 1, 2, 4))"),
    ((A + 1, H), "(an array of shape (1, 2, 3, 4), hparameters as given)"),
    ((H, {"f": 2}, 3), "(hparameters as given, a dict with keys ['f'], int)"),
    (({"f": np.ones(3), "stride": 1},), "(a dict with keys ['f', 'stride'])"),
    (tuple(range(8)), "(int, int, int, int, int, int, ...)"),
])
def test_held_names_each_item(cache, said):
    assert held(cache, (A, H), NAMES) == f"your cache holds: {said}"


def test_the_helper_says_the_same_words():
    module = helper("pooling")
    for cache in [(A, H, A), [A, H], (A,), ({"f": np.ones(2)}, 1)]:
        assert module._held(cache, (A, H), NAMES) == held(cache, (A, H), NAMES)


def _extra_item(A_prev, hparameters, mode="max"):
    out, cache = solutions.pool_forward(A_prev, hparameters, mode)
    return out, cache + (out,)


def test_the_judge_and_the_visible_check_show_the_items():
    case = next(c for c in registry.for_assignment("pooling") if c.function == "pool_forward")
    args, kwargs = case.inputs()
    with pytest.raises(Mismatch) as judged:
        registry.judge(case, _extra_item(*args, **kwargs))
    shape = solutions.pool_forward(*args, **kwargs)[0].shape
    line = f"your cache holds: (A_prev as given, hparameters as given, an array of shape {shape})"
    assert line in judged.value.details
    failed = run_visible("pooling", case.grade_id, "pool_forward", _extra_item)
    assert failed is not None and "your cache holds: (A_prev as given, hparameters as given, an array" in str(failed)


def test_a_right_cache_says_nothing():
    case = next(c for c in registry.for_assignment("pooling") if c.function == "pool_forward")
    args, kwargs = case.inputs()
    registry.judge(case, solutions.pool_forward(*args, **kwargs))  # raises nothing
    assert run_visible("pooling", case.grade_id, "pool_forward", solutions.pool_forward) is None
