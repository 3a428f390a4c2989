"""One declaration per graded function (autograder/grading/cases/functions.py), and every table derived from it.

These fail when a graded name is declared on one side only (the declarations or
solutions.GRADED), when a derived table misses a name, and when a declaration
states a fact the reference code contradicts (its module, the graded helpers it
calls, its hyper-parameters, its outputs, its equations).
"""
import ast
import importlib
import inspect
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import solutions
from autograder.grading import cases
from autograder.grading.cases import citations, functions
from autograder.grading.diagnosis import mistakes, signatures
from autograder.grading.cases.compare import Mismatch

ROOT = Path(__file__).resolve().parents[1]
NAMES = [name for names in solutions.GRADED.values() for name in names]


# ---------------------------------------------------------------- the declarations and solutions.GRADED

def test_declarations_and_solutions_graded_agree():
    assert functions.disagreements() == []
    assert list(functions.FUNCTIONS) == NAMES


def test_a_name_missing_on_either_side_or_in_another_assignment_is_reported():
    declared = dict(functions.FUNCTIONS)
    graded = {a: list(names) for a, names in solutions.GRADED.items()}
    missing = {k: v for k, v in declared.items() if k != "zero_pad"}
    assert functions.disagreements(missing, graded) == ["zero_pad is graded (convolution) but has no declaration"]
    extra = {**graded, "pooling": [n for n in graded["pooling"] if n != "distribute_value"]}
    assert functions.disagreements(declared, extra) == ["distribute_value is declared but not in solutions.GRADED"]
    moved = {**declared, "relu_backward": replace(declared["relu_backward"], assignment="pooling")}
    assert functions.disagreements(moved, graded) == ["relu_backward is declared in pooling but graded in activations"]
    reordered = dict(reversed(list(declared.items())))
    assert any("order" in d for d in functions.disagreements(reordered, graded))
    empty = {**declared, "tanh_backward": replace(declared["tanh_backward"], cases=())}
    assert functions.disagreements(empty, graded) == ["tanh_backward declares no cases"]


# ---------------------------------------------------------------- the derived tables miss no name

@pytest.mark.parametrize("table", ["JUDGES", "MODULES"])
def test_tables_every_function_needs_name_every_graded_function(table):
    assert list(getattr(functions, table)) == NAMES


def test_the_old_names_are_the_derived_tables():
    assert cases.JUDGES is functions.JUDGES
    assert signatures.OUTPUT_NAMES is functions.OUTPUT_NAMES
    assert mistakes.CALLS is functions.CALLS
    assert {name: m.__name__ for name, m in mistakes.MODULES.items()} == functions.MODULES
    assert list(cases.CASES) == [c.grade_id for c in functions.CASES]
    assert {c.function for c in cases.CASES.values()} == set(NAMES)


def test_every_function_returning_a_tuple_names_its_graded_outputs():
    for name, f in functions.FUNCTIONS.items():
        names = [out.name for out in f.outputs]
        assert len(set(names)) == len(names) and names, name
        if f.returns:
            assert set(names) <= set(f.returns), name
            assert signatures.OUTPUT_NAMES[name] == {n: f.returns.index(n) for n in names}
            assert ("cache" in f.returns) == bool(f.cache), name
        else:
            assert len(names) == 1 and name not in signatures.OUTPUT_NAMES, name


def test_every_declared_output_is_what_the_reference_returns():
    for name, f in functions.FUNCTIONS.items():
        case = f.cases[0]
        ref = case.reference()
        if f.returns:
            assert isinstance(ref, tuple) and len(ref) == len(f.returns), name
            for out in f.outputs:
                assert isinstance(ref[f.returns.index(out.name)], np.ndarray), (name, out.name)
            if f.cache:
                assert len(ref[f.returns.index("cache")]) == len(f.cache) == len(case.inputs()[0]), name
        else:
            assert not isinstance(ref, tuple), name


def test_the_derived_judge_passes_the_reference_and_names_each_wrong_output():
    for case in cases.CASES.values():
        f = functions.FUNCTIONS[case.function]
        ref = case.reference()
        cases.judge(case, ref)
        for out in f.outputs:
            if f.returns:
                k = f.returns.index(out.name)
                wrong = tuple(ref[i] + 1.0 if i == k else ref[i] for i in range(len(ref)))
            else:
                wrong = np.logical_not(ref) if getattr(ref, "dtype", None) == bool else ref + 1.0
            with pytest.raises(Mismatch) as raised:
                cases.judge(case, wrong)
            assert raised.value.what == out.name, case.grade_id


# ---------------------------------------------------------------- facts the reference code must confirm

def test_each_reference_lives_in_its_declared_module():
    for name, f in functions.FUNCTIONS.items():
        module = importlib.import_module(f.module)
        assert module.__dict__.get(name) is getattr(solutions, name), name


def _called_names(function):
    tree = ast.parse(inspect.getsource(function))
    return {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def test_calls_are_the_graded_functions_each_reference_calls():
    """A helper left out of `calls` is never blamed in its callers (the diagnosis stays silent)."""
    for name, f in functions.FUNCTIONS.items():
        called = _called_names(getattr(solutions, name)) & set(NAMES) - {name}
        assert set(f.calls) == called, name
        assert all(functions.MODULES[h] == f.module for h in f.calls), name  # the known-mistake edits need it
    assert mistakes.CALLS.get("conv_forward") == ("zero_pad", "conv_single_step")


def _dicts(value):
    if isinstance(value, dict):
        return [value]
    if isinstance(value, (tuple, list)):
        return [d for v in value for d in _dicts(v)]
    return []


def test_hyper_parameters_are_read_for_every_case_that_has_them():
    """A function whose cases carry hparameters (or a pad) without a reader gets no stride/pad/order signature."""
    for case in cases.CASES.values():
        args, kwargs = case.inputs()
        params = list(inspect.signature(getattr(solutions, case.function)).parameters)
        hp = signatures.hyper(case)
        for given in _dicts(args):
            assert {k: hp.get(k) for k in given} == given and hp["order"] == tuple(given), case.grade_id
        if "pad" in params:
            assert hp["pad"] == args[params.index("pad")], case.grade_id


def test_equations_exist_and_each_case_cites_what_its_function_declares():
    known = citations.table()
    for name, f in functions.FUNCTIONS.items():
        assert "*" in f.equations, name  # any output the judge names can be cited
        assert set(f.equations) <= {out.name for out in f.outputs} | {"*"}, name
        for labels in f.equations.values():
            assert labels and set(labels) <= set(known), name
        for case in f.cases:
            assert set(case.equations) <= set(f.equations), case.grade_id
            for what, labels in case.equations.items():
                assert labels and set(labels) <= set(f.equations[what]), (case.grade_id, what)
    assert set(label for labels in functions.EQ.values() for label in labels) <= set(known)


def test_known_mistakes_belong_to_declared_functions_and_cite_declared_labels():
    declared = {label for labels in functions.EQ.values() for label in labels}
    for known in mistakes.REGISTRY:
        assert known.function in functions.FUNCTIONS, known.key
        assert set(known.equation) <= declared, known.key
        for edited, _, _ in known.edits:
            assert functions.MODULES.get(edited, functions.MODULES[known.function]) == \
                functions.MODULES[known.function], known.key


def test_the_helper_modules_cite_only_declared_labels():
    """The shipped helpers' hand-written checks cannot import the grader: their labels are checked here."""
    declared = {label for labels in functions.EQ.values() for label in labels}
    for assignment in solutions.GRADED:
        text = (ROOT / "autograder" / "source" / assignment / f"{assignment}_tests.py").read_text()
        tail = text[text.index("# ---- END EQUATIONS ----"):]
        cited = set(re.findall(r"""["'](eq-[a-z0-9-]+)["']""", tail))
        assert cited and cited <= declared, assignment
