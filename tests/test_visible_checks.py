"""The visible checks see what the judge sees, say it readably, and are described truly by their headers.

Runs the shipped helper modules in-process (no kernels, no exchange folder): the checks
receive the solution package's functions, or wrong versions of them.
"""
import contextlib
import io
import json
import linecache
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import solutions
from autograder.grading import cases as registry
from autograder.grading import exchange
from tools import make_notebooks as gen

from tests.test_notebooks import helper, notebook

ASSIGNMENTS = list(solutions.GRADED)


@pytest.fixture(autouse=True)
def no_exchange(monkeypatch):
    monkeypatch.delenv(exchange.ENV_VAR, raising=False)


def run_visible(assignment, grade_id, under_test, replacement):
    """Run the visible checks of `grade_id`, with `replacement` for the function `under_test`
    and the solution package's functions for the others; returns the CheckFailed or None."""
    module = helper(assignment)
    for check, functions, params in gen.VISIBLE[assignment]()[grade_id]:
        funcs = [replacement if name == under_test else getattr(solutions, name) for name in functions]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                getattr(module, check)(*funcs, **params)
        except module.CheckFailed as e:
            return e
    return None


def judge_rejects(case, func):
    args, kwargs = case.inputs()
    try:
        registry.judge(case, func(*args, **kwargs))
    except Exception:  # a Mismatch, or the mutated function cannot even run on the case
        return True
    return False


# ---------------------------------------------------------------- the judge's properties, seen visibly

def _first_array(result, change):
    """Apply `change` to the result's first array (the result itself, or the first item of a tuple)."""
    if isinstance(result, tuple):
        return (change(result[0]),) + result[1:]
    return change(result)


def _by_order(func, names):
    """The function reading its hyper-parameter dict by position, as if its keys came in `names` order."""
    def wrong(*args, **kwargs):
        args = list(args)
        at = next(k for k, a in enumerate(args) if isinstance(a, dict) or
                  (isinstance(a, tuple) and a and isinstance(a[-1], dict)))
        if isinstance(args[at], dict):
            args[at] = dict(zip(names, args[at].values()))
        else:
            args[at] = args[at][:-1] + (dict(zip(names, args[at][-1].values())),)
        return func(*args, **kwargs)
    return wrong


def mutations(name):
    """Wrong versions of the reference `name`: {what the judge requires: the function breaking it}."""
    ref = getattr(solutions, name)
    out = {} if name == "conv_single_step" else {
        "a NumPy array, not a list": lambda *a, **k: _first_array(ref(*a, **k), lambda x: np.asarray(x).tolist()),
    }
    out |= {
        "a float dtype": lambda *a, **k: _first_array(ref(*a, **k), lambda x: np.round(np.asarray(x) * 10).astype(int)),
        "the right shape": lambda *a, **k: _first_array(ref(*a, **k), lambda x: np.asarray(x)[None]),
    }
    if name == "conv_single_step":
        out["one number, not an array"] = lambda a, W, b: np.sum(a * W) + b
    if name in ("conv_forward", "pool_forward"):
        out["the cache of the inputs as given"] = lambda *a, **k: (ref(*a, **k)[0], ref(*a, **k)[1][:-1])
        out["hparameters read by key"] = _by_order(ref, ("stride", "pad") if name == "conv_forward" else ("f", "stride"))
    if name in ("conv_backward", "pool_backward"):
        out["hparameters read by key"] = _by_order(ref, ("stride", "pad") if name == "conv_backward" else ("f", "stride"))
        out["all three gradients" if name == "conv_backward" else "an array"] = \
            lambda *a, **k: ref(*a, **k)[:2] if name == "conv_backward" else (ref(*a, **k),)
    if name == "create_mask_from_window":
        out["the mask of the single maximum"] = lambda x: x == np.min(x)
    return out


PROPERTY_CASES = [(assignment, name, what) for assignment in ASSIGNMENTS for name in solutions.GRADED[assignment]
                  for what in mutations(name)]


@pytest.mark.parametrize("assignment, name, what", PROPERTY_CASES, ids=[f"{n}-{w}" for _, n, w in PROPERTY_CASES])
def test_visible_checks_require_what_the_judge_requires(assignment, name, what):
    """Wherever the judge rejects a result for breaking a property, the visible check of that test cell fails too."""
    wrong = mutations(name)[what]
    rejected = [case.grade_id for case in registry.for_assignment(assignment)
                if case.function == name and judge_rejects(case, wrong)]
    assert rejected, f"the judge accepts {name} without {what}: the mutation proves nothing"
    passed = [grade_id for grade_id in rejected if run_visible(assignment, grade_id, name, wrong) is None]
    assert passed == [], f"{name} without {what}: graded 0 in {passed}, yet its visible checks pass"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_checks_pass_on_the_reference(assignment):
    for grade_id in gen.VISIBLE[assignment]():
        name = grade_id.split("__")[0]
        assert run_visible(assignment, grade_id, name, getattr(solutions, name)) is None, grade_id


def test_every_kind_of_hidden_case_has_a_visible_twin():
    """Same hyper-parameters and key order for the layers; pad 0, stride > f, m = 1 and non-square all run visibly."""
    for assignment, layers, keys in (("convolution", gen.CONV_LAYERS, ("stride", "pad")),
                                     ("pooling", gen.POOLS, ("f", "stride"))):
        seen = set()
        for case in registry.for_assignment(assignment):
            suffix = case.grade_id.split("__")[1]
            if case.function not in ("conv_forward", "conv_backward", "pool_forward", "pool_backward") \
                    or suffix not in layers:
                continue
            args, kwargs = case.inputs()
            hidden = args[-1] if isinstance(args[-1], dict) else args[1][-1]
            if case.function in ("pool_forward", "conv_forward"):
                hidden = args[-1] if case.function == "conv_forward" else args[1]
            visible = dict(layers[suffix])
            order = visible.pop("order", keys)
            assert list(hidden) == list(order), case.grade_id
            assert all(hidden[k] == visible[k] for k in keys), case.grade_id
            if "mode" in visible:
                assert kwargs.get("mode", "max") == visible["mode"], case.grade_id
            m, n_H, n_W, _ = visible["shape"]
            f = visible["f"]
            seen |= {"m = 1"} if m == 1 else set()
            seen |= {"non-square"} if n_H != n_W else set()
            seen |= {"stride > f"} if visible["stride"] > f else set()
            seen |= {"pad = 0"} if visible.get("pad") == 0 else set()
            seen |= {"key order"} if order != keys else set()
        assert seen >= {"m = 1", "non-square", "stride > f", "key order"}, (assignment, seen)
        assert assignment == "pooling" or "pad = 0" in seen


# ---------------------------------------------------------------- readable failures

def _raises_inside(*args, **kwargs):
    window = np.zeros((2, 2))
    return window[5, 5]  # IndexError in the student's own line


def test_an_exception_in_student_code_is_reported_like_the_judge_does():
    failure = run_visible("convolution", "conv_backward__stride2_overlap", "conv_backward", _raises_inside)
    assert failure is not None
    lines = failure._render_traceback_()
    text = "\n".join(lines)
    assert lines[0] == "CheckFailed: _raises_inside raised IndexError:" or \
        lines[0].startswith("CheckFailed: _raises_inside raised IndexError: index 5")
    assert "(1, 5, 5, 2)" in text and "'stride': 2" in text  # the case: shapes, hyper-parameters
    assert "window[5, 5]" in text  # the student's own line
    assert "chapter 4, eq." in text and "#equation-eq-conv-db" in text
    for helper_frame in ("visible.<locals>.run", "_call", "_fail", "check_conv_backward_case", "_tests.py"):
        assert helper_frame not in text
    assert all(len(line) <= 90 for line in lines if "https://" not in line)


def test_a_wrong_value_says_what_first_then_the_case_then_the_equation():
    wrong = lambda dA, cache: solutions.relu_backward(dA, cache) * 2  # noqa: E731
    failure = run_visible("activations", "relu_backward__matrix", "relu_backward", wrong)
    lines = failure._render_traceback_()
    assert lines[0].startswith("CheckFailed: dZ disagrees with central differences")
    assert len(lines[0]) <= 90
    assert any(line.strip().startswith("case: relu_backward with Z and dA of shape (4, 5)") for line in lines)
    assert "hint: every entry is 2 times the right one" in "\n".join(lines)
    assert lines[-2].strip().startswith("re-read chapter 2, eq. (")


# ---------------------------------------------------------------- headers tell the truth

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_header_describes_the_checks_below_it(assignment):
    module = helper(assignment)
    cells = notebook(assignment)["cells"]
    for above, cell in zip(cells, cells[1:]):
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if "__" not in grade_id:
            continue
        header = "".join(above["source"])
        case = registry.CASES[grade_id]
        assert header.startswith(f"**Test `{grade_id}`** ({case.points} point")
        calls = "".join(cell["source"]).splitlines()[1:]
        assert len(calls) == len(gen.VISIBLE[assignment]()[grade_id])
        for call, (check, functions, params) in zip(calls, gen.VISIBLE[assignment]()[grade_id]):
            assert call == gen.call_source(check, functions, params)
            assert getattr(module, check).describe(**params)[0] in header, (grade_id, check)
        assert f"Grading runs a hidden case of the same kind: {case.about}." in header


def test_headers_quote_the_values_the_checks_use():
    """The examples of issue 11: a distribute_value header names its own dz; a window its own size."""
    cells = notebook("pooling")["cells"]
    header = next("".join(c["source"]) for c in cells if "**Test `distribute_value__2x2`**" in "".join(c["source"]))
    params = gen.VISIBLE["pooling"]()["distribute_value__2x2"][0][2]
    assert f"dz={params['dz']}, shape={params['shape']}" in header.split("Grading runs")[0]
    cells = notebook("convolution")["cells"]
    header = next("".join(c["source"]) for c in cells
                  if "**Test `conv_single_step__random`**" in "".join(c["source"]))
    a = helper("convolution").KNOWN_STEPS["two_channels"][0]
    assert f"a {'x'.join(map(str, a.shape))} window" in header.split("Grading runs")[0]


def test_structural_hints_name_the_pattern_of_the_error():
    """From central differences of the student's own forward: = instead of += shows only where windows overlap."""
    def assign_not_accumulate(dA, cache, mode="max"):
        A_prev, hparameters = cache
        f, stride = hparameters["f"], hparameters["stride"]
        dA_prev = np.zeros(A_prev.shape)
        for n, h, w, c in np.ndindex(*dA.shape):
            window = A_prev[n, h * stride:h * stride + f, w * stride:w * stride + f, c]
            share = (window == window.max()) * dA[n, h, w, c] if mode == "max" else np.full(window.shape, dA[n, h, w, c] / f**2)
            dA_prev[n, h * stride:h * stride + f, w * stride:w * stride + f, c] = share  # should be +=
        return dA_prev

    overlap = run_visible("pooling", "pool_backward__average_f3_s1_overlap", "pool_backward", assign_not_accumulate)
    assert "hint: only inputs that several windows share are wrong" in str(overlap)
    assert run_visible("pooling", "pool_backward__max_f2_s2", "pool_backward", assign_not_accumulate) is None
    halved = run_visible("pooling", "pool_backward__average_f2_s2", "pool_backward",
                         lambda dA, cache, mode="max": solutions.pool_backward(dA, cache, mode) / 2)
    assert "hint: every entry is 0.5 times the right one" in str(halved)


def test_catalogued_mistakes_fail_with_a_short_first_line_and_no_helper_frames():
    """`nbgrader validate` cuts lines at 90 characters: the key sentence comes first and fits."""
    from tests.submissions import MISTAKES, apply_edits
    from tests.test_notebooks import run_cells

    for mistake in MISTAKES:
        nb = apply_edits(notebook(mistake.assignment), mistake.function, mistake.edits)
        with contextlib.redirect_stdout(io.StringIO()):
            results = run_cells(nb, mistake.assignment, only=mistake.function)
        for grade_id, error in results.items():
            if error is None:
                continue
            lines = error._render_traceback_()
            assert len(lines[0]) <= 90, (mistake.name, grade_id, lines[0])
            assert "re-read chapter" in "\n".join(lines), (mistake.name, grade_id)
            assert not re.search(r"visible\.<locals>|_call|_fail|_tests\.py", "\n".join(lines)), (mistake.name, grade_id)


def test_a_backward_wrong_only_at_stride_above_1_gets_the_stride_hint():
    """Issue 12 point 3: the visible check reruns a failing stride > 1 case at stride 1 and says so when it passes."""
    from tests.submissions import MISTAKES, apply_edits
    from tests.test_notebooks import run_cells

    by_name = {m.name: m for m in MISTAKES}
    for name, function, hinted in (("conv_backward_dA_no_dilation", "conv_backward", True),
                                   ("conv_backward_stride_ignored", "conv_backward", True),
                                   ("conv_backward_assign_not_accumulate", "conv_backward", False)):
        mistake = by_name[name]
        nb = apply_edits(notebook(mistake.assignment), mistake.function, mistake.edits)
        with contextlib.redirect_stdout(io.StringIO()):
            results = run_cells(nb, mistake.assignment, only=function)
        failed = {gid: str(e) for gid, e in results.items() if e is not None}
        assert failed, name
        said = [gid for gid, text in failed.items() if "right at stride 1, wrong at stride" in text]
        assert bool(said) == hinted, (name, {g: t[-300:] for g, t in failed.items()})
    # pooling: windows placed as if the stride were 1 (a mistake not in the catalogue)
    def stride_ignored(dA, cache, mode="max"):
        A_prev, hparameters = cache
        f, dA_prev = hparameters["f"], np.zeros_like(A_prev)
        for i, h, w, c in np.ndindex(dA.shape):
            window = A_prev[i, h:h + f, w:w + f, c]  # h, not h * stride
            share = (window == window.max()) if mode == "max" else np.full(window.shape, 1 / (f * f))
            dA_prev[i, h:h + f, w:w + f, c] += share * dA[i, h, w, c]
        return dA_prev
    strided = [gid for gid, visible in gen.VISIBLE["pooling"]().items() if gid.startswith("pool_backward__")
               and any(params.get("stride", 1) > 1 for _, _, params in visible)]
    assert strided
    failures = {gid: run_visible("pooling", gid, "pool_backward", stride_ignored) for gid in strided}
    failures = {gid: str(e) for gid, e in failures.items() if e is not None}  # some cases cannot tell
    assert len(failures) >= 3, failures
    assert all("right at stride 1, wrong at stride" in text for text in failures.values()), failures


# ---------------------------------------------------------------- issue 17: the grader's words while the student works

def _catalogue_failures(name, only=None):
    """{grade_id: message} of the failing visible checks of catalogue mistake `name`."""
    from tests.submissions import MISTAKES, apply_edits
    from tests.test_notebooks import run_cells

    mistake = next(m for m in MISTAKES if m.name == name)
    nb = apply_edits(notebook(mistake.assignment), mistake.function, mistake.edits)
    with contextlib.redirect_stdout(io.StringIO()):
        results = run_cells(nb, mistake.assignment, only=only or mistake.function)
    return {gid: "\n".join(e._render_traceback_()) if hasattr(e, "_render_traceback_") else str(e)
            for gid, e in results.items() if e is not None}


KEY_ORDER = "hint: right when hparameters lists"


@pytest.mark.parametrize("name, grade_id", [("conv_forward_hparams_by_order", "conv_forward__hparams_pad_first"),
                                            ("conv_backward_hparams_by_order", "conv_backward__hparams_pad_first"),
                                            ("pool_forward_hparams_by_order", "pool_forward__max_hparams_stride_first")])
def test_hyperparameters_read_by_position_get_the_key_order_message(name, grade_id):
    failed = _catalogue_failures(name)
    assert grade_id in failed, failed
    text = " ".join(line.strip() for line in failed[grade_id].splitlines())
    assert KEY_ORDER in text and "not by position (hparameters.values())" in text, text
    assert "right at stride 1" not in text


def test_the_key_order_message_needs_the_usual_order_to_pass():
    """A forward wrong in every key order (the flipped kernel) is not told to read by key."""
    failed = _catalogue_failures("conv_forward_flipped_kernel")
    assert "conv_forward__hparams_pad_first" in failed
    assert not any(KEY_ORDER in text for text in failed.values())


def test_forward_passes_get_the_stride_hint():
    failed = _catalogue_failures("conv_forward_stride_ignored")
    # cells whose first check is a layer case with stride > 1 (a worked example first decides alone)
    strided = [gid for gid, checks in gen.VISIBLE["convolution"]().items() if gid.startswith("conv_forward__")
               and checks[0][0] == "check_conv_forward_case" and checks[0][2]["stride"] > 1]
    assert len(strided) >= 2
    assert set(strided) <= set(failed)
    assert all("right at stride 1, wrong at stride" in failed[gid] for gid in strided), failed
    assert not any("right at stride 1" in text for gid, text in failed.items() if gid not in strided)
    # pooling: windows moved by 1 whatever the stride
    def pool_stride_ignored(A_prev, hparameters, mode="max"):
        f, stride = hparameters["f"], hparameters["stride"]
        return solutions.pool_forward(A_prev[:, ::1, ::1, :], {"f": f, "stride": 1}, mode)[0][:, ::1, ::1, :][
            :, :solutions.output_size(A_prev.shape[1], f, stride), :solutions.output_size(A_prev.shape[2], f, stride), :
        ], (A_prev, hparameters)
    failure = run_visible("pooling", "pool_forward__max_f2_s3_gaps", "pool_forward", pool_stride_ignored)
    assert "right at stride 1, wrong at stride 3" in str(failure)


def test_assign_instead_of_add_is_hinted_on_every_failing_cell():
    """The hint compares with what = gives, computed from central differences of the student's own forward."""
    for name, least in (("conv_backward_assign_not_accumulate", 5), ("pool_backward_assign_not_accumulate", 3)):
        failed = _catalogue_failures(name)
        assert len(failed) >= least, failed
        assert all("hint: dA_prev keeps, at each input, only the share of the last window" in text
                   for text in failed.values()), failed


def test_no_assign_hint_where_the_mistake_is_another():
    """Errors only where windows overlap are said as such, never as = instead of += (issue 17: a wrong name)."""
    for name in ("pool_backward_first_channel_gradient", "pool_backward_mask_whole_feature_map",
                 "pool_backward_mask_whole_volume", "conv_backward_flipped_kernel_dA"):
        failed = _catalogue_failures(name)
        assert failed, name
        assert not any("+=" in text or "look at padding" in text and name.startswith("pool")
                       for text in failed.values()), (name, failed)


def test_the_assign_hint_is_given_only_for_the_gradient_that_fails():
    """With stride > f no windows overlap, so dA_prev assigned per window of summed channels is right:
    a mistake in dW alone must not be told that dA_prev keeps only the last share."""
    for name in ("conv_backward_dW_minus", "conv_backward_dW_forgets_dZ"):
        failed = _catalogue_failures(name)
        assert "conv_backward__stride3_gaps" in failed
        assert not any("hint: dA_prev keeps" in text for text in failed.values()), (name, failed)


def _dW_assigned(dZ, cache):
    """conv_backward with dW[:, :, :, c] = ... (not +=): dW keeps only the last window's share."""
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    f, (m, n_H, n_W, n_C) = W.shape[0], dZ.shape
    dA_prev, _, db = solutions.conv_backward(dZ, cache)
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dW = np.zeros(W.shape)
    for i, h, w, c in np.ndindex(m, n_H, n_W, n_C):
        dW[:, :, :, c] = A_pad[i, h * stride:h * stride + f, w * stride:w * stride + f, :] * dZ[i, h, w, c]
    return dA_prev, dW, db


def test_assign_into_dW_is_told_as_such_not_as_minus_zero():
    for grade_id in [g for g in gen.VISIBLE["convolution"]() if g.startswith("conv_backward__")]:
        failure = run_visible("convolution", grade_id, "conv_backward", _dW_assigned)
        assert failure is not None, grade_id
        text = str(failure)
        assert "hint: dW holds only the last window's share" in text, (grade_id, text)
        assert not re.search(r"gives? -0(?![.\d])", text), text


def test_a_mask_taken_without_the_image_index_points_at_the_slice():
    def pool_backward(dA, cache, mode="max"):
        (A_prev, hparameters) = cache
        f, stride = hparameters["f"], hparameters["stride"]
        dA_prev = np.zeros(A_prev.shape)
        for i, h, w, c in np.ndindex(dA.shape):
            vert_start, horiz_start = h * stride, w * stride
            a_prev_slice = A_prev[vert_start:vert_start + f, horiz_start:horiz_start + f, c]
            mask = a_prev_slice == np.max(a_prev_slice)
            dA_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, c] += mask * dA[i, h, w, c]
        return dA_prev

    failure = run_visible("pooling", "pool_backward__max_f2_s2", "pool_backward", pool_backward)
    text = " ".join(line.strip() for line in failure._render_traceback_())
    line = pool_backward.__code__.co_firstlineno + 6  # the slice, not the line that uses the mask
    assert f"(line {line}) indexes the 4-axis A_prev" in text, text
    assert "Put the image index first: A_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, c]" in text


# ---------------------------------------------------------------- the visible checks agree with the grader's NumPy

def _warns_like_numpy_1(message):
    def conv_single_step(a_slice_prev, W, b):
        import warnings
        warnings.warn(message, DeprecationWarning)  # what NumPy 1.25+ says where NumPy 2 raises
        return float(np.sum(a_slice_prev * W) + b.item())
    return conv_single_step


def test_a_warning_that_is_an_error_in_the_graders_numpy_fails_the_check_with_the_fix():
    module = helper("convolution")
    failure = run_visible("convolution", "conv_single_step__random", "conv_single_step", _warns_like_numpy_1(
        "Conversion of an array with ndim > 0 to a scalar is deprecated, and will error in future. "
        "Ensure you extract a single element from your array before performing this operation."))
    assert failure is not None
    text = str(failure)
    assert text.startswith(f"conv_single_step would raise TypeError when graded (NumPy {module.GRADER_NUMPY})")
    assert "fix: take an array's one value with .item() (b.item())" in text
    assert "warnings.warn(message, DeprecationWarning)" in text  # the line that warned
    # a warning the grader's NumPy does not turn into an error still passes, with a note
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        module.check_conv_single_step(_warns_like_numpy_1("something else is deprecated"), example="two_channels")
    assert "note: conv_single_step warned DeprecationWarning" in out.getvalue()


def test_the_first_code_cell_says_which_numpy_grades_and_warns_when_yours_differs(monkeypatch):
    pinned = re.search(r"^numpy==(\S+)$", (Path(__file__).parents[1] / "requirements.txt").read_text(), re.M).group(1)
    for assignment in ASSIGNMENTS:
        module = helper(assignment)
        assert module.GRADER_NUMPY == pinned
        cells = notebook(assignment)["cells"]
        first_code = next("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "check_numpy()" in first_code and f"NumPy {pinned}" in first_code
        assert f"**Grading runs NumPy {pinned}.**" in "".join(cells[0]["source"])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            module.check_numpy()
        assert out.getvalue() == f"NumPy {pinned}, the same as the grader's.\n"
        monkeypatch.setattr(module, "GRADER_NUMPY", "2.0.0")
        with contextlib.redirect_stdout(out := io.StringIO()):
            module.check_numpy()
        assert out.getvalue().startswith(f"warning: the grader runs NumPy 2.0.0 and you have NumPy {np.__version__}")
        assert "pip install numpy==2.0.0" in out.getvalue()
        monkeypatch.setenv(exchange.ENV_VAR, "/nonexistent")  # while grading it says nothing
        with contextlib.redirect_stdout(out := io.StringIO()):
            module.check_numpy()
        assert out.getvalue() == ""
        monkeypatch.delenv(exchange.ENV_VAR)


def test_conv_single_step_task_text_says_how_to_add_the_bias():
    cells = notebook("convolution")["cells"]
    task = next("".join(c["source"]) for c in cells if "## 2. `conv_single_step`" in "".join(c["source"]))
    assert "`b.item()`" in task and "`b[0, 0, 0]`" in task
    assert "Do not convert\n`b` with Python's `float`: NumPy 2" in task


def test_student_requirements_pin_the_graders_versions():
    """requirements-student.txt: the same pins as the grader's kernel (requirements.txt), nothing unpinned."""
    root = Path(__file__).parents[1]

    def pins(path):
        lines = [line.split("#")[0].strip() for line in (root / path).read_text().splitlines()]
        return dict(line.split("==") for line in lines if line)

    student, grader = pins("requirements-student.txt"), pins("requirements.txt")
    assert {"numpy", "ipykernel", "nbgrader"} <= set(student)
    assert {name: grader.get(name) for name in student} == student


# ---------------------------------------------------------------- issue 17: real students' mistakes, told as the grader tells them

def run_as_jupyter(nb, assignment, only):
    """{grade_id: CheckFailed or None} of the test cells of `only`, each code cell compiled under its own name
    with its source in linecache, as IPython keeps it (so the checks can read the student's lines)."""
    from tests.test_notebooks import is_test, nbgrader_meta

    sys.modules[f"{assignment}_tests"] = helper(assignment)
    namespace, results = {}, {}
    for k, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        name = f"<cell-{assignment}-{k}-{abs(hash(source))}>"
        linecache.cache[name] = (len(source), None, source.splitlines(keepends=True), name)
        code = compile(source, name, "exec")
        if not is_test(cell):
            exec(code, namespace)
            continue
        grade_id = nbgrader_meta(cell)["grade_id"]
        if grade_id.startswith(only + "__"):
            try:
                exec(code, namespace)
                results[grade_id] = None
            except Exception as e:
                results[grade_id] = e
    return results


def catalogue_messages(mistake):
    """{grade_id: the visible check's text} of each failing test cell of the catalogue mistake's function
    and of the functions it breaks."""
    from tests.submissions import apply_edits

    out = {}
    for function in sorted(mistake.allowed):
        nb = apply_edits(notebook(mistake.assignment), mistake.function, mistake.edits)
        with contextlib.redirect_stdout(io.StringIO()):
            results = run_as_jupyter(nb, mistake.assignment, function)
        out |= {gid: " ".join(line.strip() for line in e._render_traceback_()) if hasattr(e, "_render_traceback_")
                else repr(e) for gid, e in results.items() if e is not None}
    return out


def _real(name):
    from tests.submissions import REAL_MISTAKES

    return next(m for m in REAL_MISTAKES if m.name == name)


def _graders_words(mistake):
    """The grader's `what` for the catalogue mistake (autograder/grading/diagnosis/mistakes.py's entry for its key)."""
    from autograder.grading.diagnosis import mistakes

    return next(k.what for k in mistakes.REGISTRY if k.key == mistake.diagnosis and k.function == mistake.function)


# The third pass of real students' mistakes (mistakes_seen.py): the visible checks name each in the grader's
# words, on every failing cell of the function; "own" is the fix (or, where the evidence is an all-zero
# array, the whole sentence) the visible check words itself, never a line of the solution.
SAID_AS_THE_GRADER_SAYS = {
    "zero_pad_channels_first": "fix: give np.pad the pair (pad, pad) for axes 1 and 2 only",
    "zero_pad_returns_none": "fix: end with return X_pad",
    "conv_forward_float_of_b_inline": "fix: add its one value: b[0, 0, 0, c] (or b[:, :, :, c].item())",
    "conv_forward_bias_array_into_Z": "fix: add the bias as a number: b[0, 0, 0, c] (or b[:, :, :, c].item())",
    "conv_forward_window_columns_from_h": "fix: take horiz_start from the column index w",
    "pool_forward_window_columns_from_h": "fix: take horiz_start from the column index w",
    "conv_backward_window_columns_from_h": "fix: take horiz_start from the column index w",
    "pool_backward_window_columns_from_h": "fix: take horiz_start from the column index w",
    "conv_backward_return_inside_example_loop": "fix: dedent the return so that it runs after the loop over i",
    "pool_backward_return_inside_example_loop": "fix: dedent the return so that it runs after the loop over i",
    "conv_backward_returns_dZ_for_db": "fix: return db as the third result, after dA_prev and dW",
    # told from the same check rerun quietly with pad = 1, where it passes
    "conv_backward_dA_prev_unwritten_pad0": "fix: copy in every case: cropping pad rows and columns from each side "
                                            "of da_prev_pad is right for pad = 0 too (a crop of 0 rows)",
    "pool_backward_mask_times_input": "fix: dA_prev[...] += mask * dA[i, h, w, c]",
    "pool_forward_mode_not_a_parameter": 'fix: keep the signature: def pool_forward(A_prev, hparameters, mode="max")',
    "pool_backward_mode_not_a_parameter": 'fix: keep the signature: def pool_backward(dA, cache, mode="max")',
    "pool_forward_output_size_one_inside": "fix: n_H = int(1 + (n_H_prev - f) / stride), and likewise n_W",
    "distribute_value_shape_rows_columns_swapped": "fix: build the array with the shape given, (n_H, n_W) = shape",
    "distribute_value_returns_list": "fix: build a NumPy array of shape `shape`",
    # the eighth pass (mistakes_notebooks.py, mistakes_seen.py's mask_is_the_max)
    "zero_pad_fixed_pad": "fix: use the argument pad in the widths, not the number 2",
    "pool_forward_window_whole_image": "fix: cut each window from its own rows vert_start:vert_end",
    "mask_is_the_max": "fix: compare x with its maximum entry by entry",
}


@pytest.mark.parametrize("name", sorted(SAID_AS_THE_GRADER_SAYS))
def test_the_visible_checks_name_a_real_mistake_in_the_graders_words(name):
    mistake = _real(name)
    failed = {gid: text for gid, text in catalogue_messages(mistake).items() if gid.startswith(mistake.function + "__")}
    assert failed, name
    what = _graders_words(mistake)
    for gid, text in failed.items():
        assert f"likely mistake: {what}." in text, (gid, text)
        assert SAID_AS_THE_GRADER_SAYS[name] in text, (gid, text)
        assert text.index("likely mistake:") < text.index("re-read chapter"), text


def test_a_window_across_the_batch_is_named_only_where_the_case_tells():
    """A_prev[:, window, :]: the same numbers as a window over the channels alone where a case has one example
    (m = 1), so only the cases with two examples and two channels name it, in the grader's words."""
    mistake = _real("pool_forward_window_all_examples_channels")
    failed = {gid: text for gid, text in catalogue_messages(mistake).items() if gid.startswith("pool_forward__")}
    telling = {gid for gid in failed if gen.POOLS.get(gid.split("__")[1], {}).get("shape", (1,))[0] > 1}
    assert telling == {"pool_forward__max_f2_s2", "pool_forward__average_f2_s2"}, failed
    for gid, text in failed.items():
        assert (f"likely mistake: {_graders_words(mistake)}." in text) == (gid in telling), (gid, text)
        assert ("fix: index the window with the example i and the channel c too" in text) == (gid in telling)


def test_dA_prev_all_zeros_is_said_as_the_evidence_shows():
    """Not the 'only shared inputs' hint (every input of these cases lies in several windows) nor 'a factor of 0'."""
    failed = catalogue_messages(_real("conv_backward_dA_prev_never_written"))
    assert len(failed) == 7, failed
    for text in failed.values():
        assert "likely mistake: the dA_prev you return is all zeros while dW and db are right: " \
               "the gradient you accumulate never reaches it (it must be copied back into dA_prev[i], with the " \
               "padding cropped away)." in text, text
        assert "several windows share" not in text and "0 times the right one" not in text, text


@pytest.mark.parametrize("name", ["zero_pad_channels_first", "zero_pad_returns_none"])
def test_the_callers_of_a_wrong_zero_pad_are_told_to_fix_it_first(name):
    """The grader's cascade: conv_forward and conv_backward fail because zero_pad, which they call, is wrong."""
    mistake = _real(name)
    what = _graders_words(mistake)
    failed = catalogue_messages(mistake)
    for function in ("conv_forward", "conv_backward"):
        cells = {gid: text for gid, text in failed.items() if gid.startswith(function + "__")}
        assert cells, function
        for gid, text in cells.items():
            assert f"{function} calls zero_pad, which is wrong: {what}." in text, (gid, text)
            assert "fix zero_pad first: " in text, (gid, text)


def test_a_wrong_helper_is_told_only_where_it_is_wrong():
    """conv_forward's own mistake (its helpers right) says nothing of zero_pad or conv_single_step; a helper
    whose check names nothing is told by its check's first line."""
    assert not any(" calls " in text for text in catalogue_messages(_real("conv_forward_bias_array_into_Z")).values())
    from tests.submissions import MISTAKES

    no_bias = next(m for m in MISTAKES if m.name == "conv_single_step_no_bias")
    cells = {gid: text for gid, text in catalogue_messages(no_bias).items() if gid.startswith("conv_forward__")}
    assert cells
    assert all("conv_forward calls conv_single_step, which fails its own check: Z has wrong values" in text
               and "fix conv_single_step first (its test cells say more)" in text for text in cells.values()), cells


PHRASES = {  # each message's own words -> the catalogue key it names
    "you pad the last two axes, as for images stored channels-first": "zero_pad_channels_first",
    "your zero_pad returns None": "zero_pad_returns_none",
    "your zero_pad returns nothing (None) when pad = 0": "zero_pad_none_when_pad0",
    "float() is taken of b[:, :, :, c]": "float_of_b",
    "NumPy 2 cannot store an array with dimensions into the single entry": "bias_array_into_Z",
    "your window's columns start at h * stride, the row index": "window_columns_from_h",
    "your return statement is indented inside the loop over the examples": "return_inside_example_loop",
    "the dA_prev you return is all zeros": "dA_prev_never_written",
    "your function returns dZ, its input, as its third result": "returns_dZ_for_db",
    "you multiply the mask by the window of the input": "mask_times_input",
    "your signature has no parameter mode": "mode_not_a_parameter",
    "the 1 is added after the division": "output_size_one_inside",
    "your array has n_W rows and n_H columns": "shape_rows_columns_swapped",
    "you return a Python list of lists": "returns_list",
    "a number is written where pad belongs": "zero_pad_fixed_pad",
    "the whole image of example i in channel c": "window_whole_image",
    "keeps every example and every channel": "window_all_examples_channels",
    "your mask is the window's maximum, one number": "mask_is_the_max",
    # the causes an exception's frames settle (diagnosis/causes.py, shipped): no catalogue mistake raises one
    "was only another name for Python's": "numpy_alias_removed",
    "is not a NumPy function: NumPy has no name": "numpy_name_misspelt",
    "which is never defined: the": "name_misspelt",
    "unpacks the cache's hyper-parameters under the name": "name_misspelt",
    "reads hparameters, but nothing in it assigns that name": "hparameters_not_from_cache",
    "and nothing before it gives": "read_before_assigned",
    "is not one of them": "key_not_in_dict",
    "the sizes themselves, and a tuple has no .shape": "shape_of_shape",
    "passes the sizes as separate arguments": "zeros_sizes_not_a_tuple",
    "unpacks its shape into": "shape_unpacked_short",
    "items (A_prev": "cache_unpacked_short",
    "another value, so line": "parameter_reused",
    "back into the name": "array_replaced_by_its_slice",
    "where the window's slice": "comma_for_colon",
}


def _layer_catalogue():
    from tests.submissions import MISTAKES, REAL_MISTAKES

    return [m for m in MISTAKES + REAL_MISTAKES if m.assignment != "activations"]


@pytest.mark.parametrize("mistake", _layer_catalogue(), ids=lambda m: m.name)
def test_no_message_names_another_mistake(mistake):
    """Precision: each named message fires only on its own class, and a helper is called wrong only when it is."""
    for gid, text in catalogue_messages(mistake).items():
        for phrase, key in PHRASES.items():
            assert phrase not in text or mistake.diagnosis == key, (mistake.name, gid, phrase)
        for helper in re.findall(r"calls (\w+), which (?:is wrong|fails its own check)", text):
            assert helper == mistake.function, (mistake.name, gid, text)


@pytest.mark.parametrize("variant", [v for v in __import__("tests.submissions", fromlist=["VARIANTS"]).VARIANTS if v.assignment != "activations"],
                         ids=lambda v: v.name)
def test_correct_variants_pass_every_visible_check(variant):
    from tests.submissions import replace_body

    nb = notebook(variant.assignment)
    for function, body in variant.bodies.items():
        replace_body(nb, function, body)
    for function in solutions.GRADED[variant.assignment]:
        with contextlib.redirect_stdout(io.StringIO()):
            results = run_as_jupyter(nb, variant.assignment, function)
        assert results and all(e is None for e in results.values()), (variant.name, function, results)


def _edited(name, function, edits):
    from tests.submissions import Mistake

    assignment = "convolution" if function.startswith(("conv", "zero")) else "pooling"
    return catalogue_messages(Mistake(name, assignment, function, edits))


def test_a_size_without_the_1_is_not_named_as_the_1_inside_the_division():
    """The probe tells int((1 + n - f) / s) from (n - f) // s: only the first is named."""
    from tests.submissions import E

    failed = _edited("size_without_the_1", "pool_forward",
                     (E("n_H = output_size(n_H_prev, f, stride)", "n_H = (n_H_prev - f) // stride"),
                      E("n_W = output_size(n_W_prev, f, stride)", "n_W = (n_W_prev - f) // stride")))
    assert failed
    assert not any("likely mistake" in text for text in failed.values()), failed


def test_only_example_0_without_a_return_in_the_loop_is_said_as_the_evidence_shows():
    """range(1) for range(m): the same numbers as a return inside the loop, but the source shows no such return."""
    from tests.submissions import E

    failed = _edited("first_example_only", "conv_backward", (E("for i in range(m):", "for i in range(1):"),))
    assert failed
    for text in failed.values():
        assert "only example 0 reaches your result: dA_prev of every other example is zero, and dW and db are " \
               "what example 0 alone gives" in text, text
        assert "likely mistake" not in text, text


def test_the_helpers_hold_no_line_of_the_solutions():
    """Not even inside a message: no line of a graded teaching body (over 12 characters, not given to students)
    appears anywhere in a shipped helper module."""
    given = set()
    for func in (solutions.sigmoid, solutions.relu, solutions.tanh, solutions.softmax, solutions.output_size):
        given |= {line.strip() for line in gen.split_function(func)[1].splitlines()}
    for assignment, names in solutions.GRADED.items():
        text = (gen.SOURCE / assignment / f"{assignment}_tests.py").read_text()
        for name in names:
            for line in gen.split_function(getattr(solutions, name))[1].splitlines():
                line = line.strip()
                if len(line) > 12 and not line.startswith("#") and line not in given:
                    assert line not in text, (assignment, name, line)


def test_a_return_inside_an_inner_loop_is_not_named_as_one_inside_the_loop_over_examples():
    """Returning inside the loop over c also leaves the other examples at zero, but the source shows where."""
    from tests.submissions import E

    failed = _edited("return_inside_channel_loop", "conv_backward",
                     (E("                    db[:, :, :, c] += dZ[i, h, w, c]",
                        "                    db[:, :, :, c] += dZ[i, h, w, c]\n                    return dA_prev, dW, db"),))
    assert failed
    assert not any("your return statement is indented" in text for text in failed.values()), failed


@pytest.mark.parametrize("mistake", [m for m in _layer_catalogue() if m in __import__("tests.submissions", fromlist=["REAL_MISTAKES"]).REAL_MISTAKES],
                         ids=lambda m: m.name)
def test_real_mistakes_fail_with_a_short_first_line_and_no_helper_frames(mistake):
    from tests.submissions import apply_edits

    for function in sorted(mistake.allowed):
        nb = apply_edits(notebook(mistake.assignment), mistake.function, mistake.edits)
        with contextlib.redirect_stdout(io.StringIO()):
            results = run_as_jupyter(nb, mistake.assignment, function)
        for grade_id, error in results.items():
            if error is None:
                continue
            lines = error._render_traceback_()
            assert len(lines[0]) <= 90 and all(len(line) <= 90 for line in lines if "https://" not in line), lines
            assert "re-read chapter" in "\n".join(lines), (mistake.name, grade_id)
            assert not re.search(r"visible\.<locals>|_call|_fail|_tests\.py", "\n".join(lines)), (mistake.name, grade_id)


def test_a_signature_without_mode_is_told_the_signature_to_keep():
    """The fix names the parameters mode follows, whatever else the signature holds (here a misspelt mode)."""
    namespace = {"solutions": solutions}  # defined at the top level, as in a notebook
    exec("def pool_forward(A_prev, hparameters, mod='max'):\n"
         "    return solutions.pool_forward(A_prev, hparameters, mod)\n", namespace)
    pool_forward = namespace["pool_forward"]
    failure = run_visible("pooling", "pool_forward__average_f2_s2", "pool_forward", pool_forward)
    text = " ".join(line.strip() for line in failure._render_traceback_())
    assert text.startswith("CheckFailed: pool_forward raised TypeError: pool_forward() got an unexpected keyword "
                           "argument 'mode'"), text
    assert "likely mistake: your signature has no parameter mode" in text
    assert 'fix: keep the signature: def pool_forward(A_prev, hparameters, mode="max")' in text
    assert "your code, last lines" not in text  # the call itself failed: no line of the student's to show
