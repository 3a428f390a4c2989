"""Form (c): an exception explained at the student's line (autograder/grading/diagnosis/explain.py).

Each student function below is written the way real students write the mistake (our own
code, no student's): it runs through the shipped helper's `grader_record` into an exchange
folder, the judge reads the record back (exchange.read_output validates the frames) and
`execute.verdict` says what happened. Each test asserts the explanation names the cause the
recorded evidence shows, and that no cause is claimed where the evidence shows none.
"""
import importlib.util
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from autograder.grading import cases as registry
from autograder.grading import exchange
from autograder.grading.judge import execute
from autograder.grading.diagnosis import explain

from tests.test_notebooks import helper
from tests.test_visible_checks import _warns_like_numpy_1, run_visible

ZERO_PAD = '''
def zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
'''


def student(tmp_path, code, name="student", zero_pad=False):
    """A module of student code in a real file (so its lines are readable, as in a notebook).

    Line 1 imports NumPy, line 2 is blank (with zero_pad: lines 2-4 define it, line 5 is blank),
    the code starts on the next line."""
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n" + (ZERO_PAD if zero_pad else "") + textwrap.dedent(code))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recorded(tmp_path, monkeypatch, grade_id, func):
    """What the judge reads back after the shipped grader_record ran `func` on the case's inputs."""
    case = registry.CASES[grade_id]
    folder = exchange.prepare(tmp_path / f"exchange-{grade_id}")
    args, kwargs = case.inputs()
    exchange.write_inputs(folder, grade_id, args, kwargs)
    monkeypatch.setenv(exchange.ENV_VAR, str(folder))
    helper(case.assignment).grader_record(grade_id, func)
    monkeypatch.delenv(exchange.ENV_VAR)
    return exchange.read_output(folder, grade_id)


def verdict(tmp_path, monkeypatch, grade_id, func):
    record = recorded(tmp_path, monkeypatch, grade_id, func)
    assert record.raised is not None, "the student function should raise on this case"
    passed, text = execute.verdict(grade_id, record)
    assert not passed
    return text


CAUSES = ("float() and int() take only", "is empty", "holds only", "is not padded", "takes the shape as one tuple",
          "is not defined where", "image index first", "dtype object", "different shapes", "must be a single number")


# ------------------------------------------------------------------------ the causes real students hit

def test_float_of_the_bias_is_explained_with_item(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def conv_single_step(a_slice_prev, W, b):
        s = a_slice_prev * W
        Z = np.sum(s) + float(b)
        return Z
    ''')
    text = verdict(tmp_path, monkeypatch, "conv_single_step__random", m.conv_single_step)
    assert "at line 5 of conv_single_step: Z = np.sum(s) + float(b)" in text
    assert "b (1, 1, 1) float64" in text  # the frame's arrays
    assert "b has shape (1, 1, 1): float() and int() take only a number or a 0-dimensional array" in text
    assert "b.item(), or b[0, 0, 0], or np.squeeze(b)" in text


def test_a_named_mistake_keeps_the_line_and_the_shapes_and_says_its_cause_once(tmp_path, monkeypatch):
    """When the diagnosis (diagnose.py) names the mistake, form (c) adds the evidence only."""
    m = student(tmp_path, '''
    def conv_single_step(a_slice_prev, W, b):
        return np.sum(a_slice_prev * W) + float(b)
    ''')
    record = recorded(tmp_path, monkeypatch, "conv_single_step__random", m.conv_single_step)
    passed, text = execute.verdict("conv_single_step__random", record, extra=["likely mistake: (named here)"])
    assert not passed and "likely mistake: (named here)" in text
    assert "at line 4 of conv_single_step: return np.sum(a_slice_prev * W) + float(b)" in text
    assert "b (1, 1, 1) float64" in text and "float() and int() take only" not in text


def test_float_of_another_array_is_not_blamed_on_the_bias():
    frame = {"function": "conv_single_step", "line": 2, "source": ["def conv_single_step(a_slice_prev, W, b):",
                                                                   "    return float(s) + b.item()"],
             "locals": [["s", {"kind": "array", "shape": [3, 3, 2], "dtype": "float64"}],
                        ["b", {"kind": "array", "shape": [1, 1, 1], "dtype": "float64"}]]}
    said = "\n".join(explain.explain_lines("TypeError", "only 0-dimensional arrays can be converted to Python scalars",
                                           [frame]))
    assert "s has shape (3, 3, 2): it holds more than one value" in said
    assert "b has shape" not in said and "b.item(), or" not in said


def test_float_of_a_sum_with_the_bias_points_at_the_line_that_made_the_array(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def conv_single_step(a_slice_prev, W, b):
        s = a_slice_prev * W
        Z = np.sum(s)
        Z = Z + b
        return float(Z)
    ''')
    text = verdict(tmp_path, monkeypatch, "conv_single_step__negative_bias", m.conv_single_step)
    assert "Z has shape (1, 1, 1)" in text and "Z.item()" in text
    assert "Z became an array at line 6 (Z = Z + b): b has shape (1, 1, 1)" in text and "add b.item() instead" in text


def test_too_many_windows_say_which_window_is_empty_and_why(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def pool_forward(A_prev, hparameters, mode="max"):
        (m, n_H_prev, n_W_prev, n_C) = A_prev.shape
        f = hparameters["f"]
        stride = hparameters["stride"]
        n_H = n_H_prev - f + 1
        n_W = n_W_prev - f + 1
        A = np.zeros((m, n_H, n_W, n_C))
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    for c in range(n_C):
                        vert_start, horiz_start = h * stride, w * stride
                        a_prev_slice = A_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, c]
                        A[i, h, w, c] = np.max(a_prev_slice)
        return A, (A_prev, hparameters)
    ''')
    text = verdict(tmp_path, monkeypatch, "pool_forward__max_f2_s2", m.pool_forward)
    assert "at line 16 of pool_forward: A[i, h, w, c] = np.max(a_prev_slice)" in text
    assert "a_prev_slice (2, 0) float64" in text
    assert "the window A_prev[0, 0:2, 4:6, 0] (line 15) is empty: A_prev has 4 columns (axis 2)" in text
    assert "n_W = 3, but the output has 2 columns" in text
    assert "is not padded" not in text  # pooling pads nothing: never said


CONV_FORWARD = '''
def conv_forward(A_prev, W, b, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        for h in range(ROWS):
            for w in range(COLUMNS):
                vert_start = START_H
                horiz_start = START_W
                vert_end, horiz_end = vert_start + f, horiz_start + f
                a_slice_prev = A_prev_pad[i, vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    Z[i, h, w, c] = np.sum(a_slice_prev * W[:, :, :, c]) + b[0, 0, 0, c]
    return Z, (A_prev, W, b, hparameters)
'''


def _conv_forward(tmp_path, rows="n_H", columns="n_W", start_h="h * stride", start_w="w * stride"):
    code = CONV_FORWARD.replace("ROWS", rows).replace("COLUMNS", columns)
    return student(tmp_path, code.replace("START_H", start_h).replace("START_W", start_w), zero_pad=True).conv_forward


def test_a_window_start_off_its_formula(tmp_path, monkeypatch):
    text = verdict(tmp_path, monkeypatch, "conv_forward__stride1_pad1",
                   _conv_forward(tmp_path, start_h="h * stride + 1", start_w="w * stride + 1"))
    assert "the window A_prev_pad[0, 1:4, 5:8, :]" in text and "holds only 2 of its 3 columns" in text
    assert "horiz_start = 5, but window w = 4 starts at w * stride = 4." in text


def test_a_loop_over_the_input_instead_of_the_output(tmp_path, monkeypatch):
    text = verdict(tmp_path, monkeypatch, "conv_forward__pad0", _conv_forward(tmp_path, rows="n_H_prev", columns="n_W_prev"))
    assert "holds only 2 of its 3 columns: A_prev_pad has 6 columns (axis 2)" in text
    assert "w = 4, but there are only 4 windows along the columns: w runs over range(n_W) with n_W = 4." in text


def test_an_index_past_the_end(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def pool_backward(dA, cache, mode="max"):
        (A_prev, hparameters) = cache
        dA_prev = np.zeros(A_prev.shape)
        for h in range(A_prev.shape[1]):
            dA_prev[0, h, 0, 0] += dA[0, h, 0, 0]
        return dA_prev
    ''')
    text = verdict(tmp_path, monkeypatch, "pool_backward__max_f2_s2", m.pool_backward)
    assert "dA[0, 2, 0, 0] (line 7): index 2 is past the end of dA, which has 2 rows (axis 1)." in text


def test_a_crop_that_is_no_window_gets_no_window_reasons(tmp_path, monkeypatch):
    """The p:-p crop at pad = 0 (a loop variable h is still about): said as an empty slice ending at -pad,
    never as a window start off h * stride or the last window's place."""
    m = student(tmp_path, '''
    def conv_backward(dZ, cache):
        (A_prev, W, b, hparameters) = cache
        pad, stride = hparameters["pad"], hparameters["stride"]
        dA_prev = np.zeros(A_prev.shape)
        for h in range(dZ.shape[1]):
            pass
        da_prev_pad = np.zeros((A_prev.shape[1] + 2 * pad, A_prev.shape[2] + 2 * pad, A_prev.shape[3]))
        dA_prev[0, :, :, :] = da_prev_pad[pad:-pad, pad:-pad, :]
        return dA_prev, np.zeros(W.shape), np.zeros(b.shape)
    ''')
    text = verdict(tmp_path, monkeypatch, "conv_backward__pad0", m.conv_backward)
    assert "the slice da_prev_pad[0:0, 0:0, :] (line 10) is empty" in text
    assert "An end of -pad is 0 when pad is 0: the slice stops at 0 instead of running to the end." in text
    assert "starts at h * stride" not in text and "The last window" not in text


def test_the_correct_forward_raises_nothing_to_explain(tmp_path, monkeypatch):
    """The template above is right as it stands: the judge passes it (the mistakes above are single edits)."""
    record = recorded(tmp_path, monkeypatch, "conv_forward__stride2_overlap", _conv_forward(tmp_path))
    assert record.raised is None
    registry.judge(registry.CASES["conv_forward__stride2_overlap"], record.result)


def test_dw_from_the_unpadded_input_is_told_at_the_slice(tmp_path, monkeypatch):
    m = student(tmp_path, zero_pad=True, code='''
    def conv_backward(dZ, cache):
        (A_prev, W, b, hparameters) = cache
        stride, pad = hparameters["stride"], hparameters["pad"]
        (m, n_H, n_W, n_C) = dZ.shape
        f = W.shape[0]
        A_prev_pad = zero_pad(A_prev, pad)
        dA_prev_pad = np.zeros(A_prev_pad.shape)
        dW, db = np.zeros(W.shape), np.zeros(b.shape)
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    vert_start, horiz_start = h * stride, w * stride
                    a_slice = A_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, :]
                    for c in range(n_C):
                        dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
        return dA_prev_pad, dW, db
    ''')
    text = verdict(tmp_path, monkeypatch, "conv_backward__stride1_pad1", m.conv_backward)
    assert "at line 20 of conv_backward: dW[:, :, :, c] += a_slice * dZ[i, h, w, c]" in text
    assert "A_prev[0, 0:3, 3:6, :] (line 18) holds only 2 of its 3 columns: A_prev has 5 columns (axis 2)" in text
    assert "A_prev is not padded: the windows index the padded arrays, which have 7 columns" in text


def test_a_mask_without_the_image_index_points_at_the_slice_not_at_the_mask(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def create_mask_from_window(x):
        return x == np.max(x)

    def pool_backward(dA, cache, mode="max"):
        (A_prev, hparameters) = cache
        f, stride = hparameters["f"], hparameters["stride"]
        dA_prev = np.zeros(A_prev.shape)
        for i in range(dA.shape[0]):
            for h in range(dA.shape[1]):
                for w in range(dA.shape[2]):
                    for c in range(dA.shape[3]):
                        vs, hs = h * stride, w * stride
                        a_prev_slice = A_prev[vs:vs + f, hs:hs + f, c]
                        mask = create_mask_from_window(a_prev_slice)
                        dA_prev[i, vs:vs + f, hs:hs + f, c] += mask * dA[i, h, w, c]
        return dA_prev
    ''')
    text = verdict(tmp_path, monkeypatch, "pool_backward__max_f2_s2", m.pool_backward)
    assert "A_prev[0:2, 0:2, 0] (line 15) indexes the 4-axis A_prev (2, 4, 4, 3)" in text
    assert "lands on the images axis" in text
    assert "Put the image index first: A_prev[i, vs:vs + f, hs:hs + f, c]" in text


def test_np_zeros_given_separate_sizes(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def conv_forward(A_prev, W, b, hparameters):
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        n_C = W.shape[3]
        n_H, n_W = n_H_prev, n_W_prev
        Z = np.zeros(m, n_H, n_W, n_C)
        return Z, (A_prev, W, b, hparameters)
    ''')
    text = verdict(tmp_path, monkeypatch, "conv_forward__stride1_pad1", m.conv_forward)
    assert "np.zeros takes the shape as one tuple: np.zeros((m, n_H, n_W, n_C)), not np.zeros(m, n_H, n_W, n_C)" in text


def test_np_zeros_given_two_sizes_and_only_that_call():
    local = [["n_H", {"kind": "int", "value": 4}], ["n_W", {"kind": "int", "value": 5}]]
    frame = {"function": "distribute_value", "line": 3, "locals": local,
             "source": ["def distribute_value(dz, shape):", "    n_H, n_W = shape", "    a = np.zeros(n_H, n_W) + dz"]}
    said = explain.explain_lines("TypeError", "Cannot interpret '5' as a data type", [frame])
    assert "np.zeros takes the shape as one tuple: np.zeros((n_H, n_W)), not np.zeros(n_H, n_W)" in said[-1]
    # the same line, but NumPy's message is about another value: nothing claimed about np.zeros
    said = explain.explain_lines("TypeError", "Cannot interpret '7' as a data type", [frame])
    assert not any("one tuple" in line for line in said)


def test_a_name_from_the_notebook_globals(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def pool_backward(dA, cache, mode="max"):
        A_prev = cache[0]
        stride = hparameters["stride"]
        return np.zeros(A_prev.shape)
    ''')
    text = verdict(tmp_path, monkeypatch, "pool_backward__max_f2_s2", m.pool_backward)
    assert "hparameters is not defined where line 5 runs" in text
    assert "In pool_backward it comes with the cache, which holds A_prev and hparameters, in this order." in text


def test_arrays_built_from_lists_of_unequal_pieces(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def distribute_value(dz, shape):
        (n_H, n_W) = shape
        rows = [np.full(n_W, dz / (n_H * n_W)), np.full(n_W + 1, 0.0)]
        return np.array(rows)
    ''')
    text = verdict(tmp_path, monkeypatch, "distribute_value__2x2", m.distribute_value)
    assert "np.array(...) was given pieces of different shapes" in text


def test_an_element_given_an_array(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def step(a, W, b):
        return np.sum(a * W) + b

    def conv_forward(A_prev, W, b, hparameters):
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        f, n_C = W.shape[0], W.shape[3]
        Z = np.zeros((m, 1, 1, n_C))
        for c in range(n_C):
            Z[0, 0, 0, c] = step(A_prev[0, :f, :f, :], W[:, :, :, c], b[:, :, :, c])
        return Z, (A_prev, W, b, hparameters)
    ''')
    text = verdict(tmp_path, monkeypatch, "conv_forward__stride1_pad1", m.conv_forward)
    assert "Z[0, 0, 0, c] is one number, and step(" in text and "must be a single number" in text


def test_an_element_given_a_sum_with_the_bias(tmp_path, monkeypatch):
    """The NumPy 2 form of the Coursera habit inside conv_forward: the (1, 1, 1) bias added in place."""
    m = student(tmp_path, '''
    def conv_forward(A_prev, W, b, hparameters):
        (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
        f, n_C = W.shape[0], W.shape[3]
        Z = np.zeros((m, 1, 1, n_C))
        for c in range(n_C):
            biases = b[:, :, :, c]
            Z[0, 0, 0, c] = np.sum(A_prev[0, :f, :f, :] * W[:, :, :, c]) + biases
        return Z, (A_prev, W, b, hparameters)
    ''')
    text = verdict(tmp_path, monkeypatch, "conv_forward__stride1_pad1", m.conv_forward)
    assert "biases has shape (1, 1, 1): np.sum(A_prev[0, :f, :f, :] * W[:, :, :, c]) + biases is an array" in text
    assert "add biases.item() instead" in text
    # passed to a call, the bias is not the array's cause as far as this line shows: nothing said of it
    frames = [{"function": "conv_forward", "line": 1, "source": ["    Z[0, 0, 0, c] = step(a, b + 0)"],
               "locals": [["Z", {"kind": "array", "shape": [1, 1, 1, 2], "dtype": "float64"}],
                          ["b", {"kind": "array", "shape": [1, 1, 1], "dtype": "float64"}],
                          ["c", {"kind": "int", "value": 0}]]}]
    lines = explain.explain_lines("ValueError", "setting an array element with a sequence.", frames)
    assert any("must be a single number" in line for line in lines)
    assert not any("b.item()" in line for line in lines)


def test_no_cause_is_claimed_without_evidence(tmp_path, monkeypatch):
    """An exception none of the rules can read gets the line and the facts only."""
    m = student(tmp_path, '''
    def pool_forward(A_prev, hparameters, mode="max"):
        f = hparameters["f"]
        stride = hparameters["s"]
        return A_prev, (A_prev, hparameters)
    ''')
    text = verdict(tmp_path, monkeypatch, "pool_forward__max_f2_s2", m.pool_forward)
    assert "at line 5 of pool_forward: stride = hparameters[\"s\"]" in text
    assert "A_prev (2, 4, 4, 3) float64" in text and "f = 2" in text
    assert not any(cause in text for cause in CAUSES), text
    # a window error at a line whose slice the facts cannot evaluate: no window is described
    frames = [{"function": "pool_forward", "line": 3, "locals": [["x", {"kind": "array", "shape": [0], "dtype": "float64"}]],
               "source": ["def pool_forward(A_prev, hparameters, mode='max'):", "    y = A_prev[k:k + 2]",
                          "    return np.max(x)"]}]
    lines = explain.explain_lines("ValueError", "zero-size array to reduction operation maximum", frames)
    assert not any(cause in "\n".join(lines) for cause in CAUSES), lines


def test_the_callee_is_named_when_the_exception_is_deeper(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    def conv_single_step(a_slice_prev, W, b):
        return float(np.sum(a_slice_prev * W) + b)

    def conv_forward(A_prev, W, b, hparameters):
        Z = np.zeros((A_prev.shape[0], 1, 1, W.shape[3]))
        Z[0, 0, 0, 0] = conv_single_step(A_prev[0, :3, :3, :], W[:, :, :, 0], b[:, :, :, 0])
        return Z, (A_prev, W, b, hparameters)
    ''')
    text = verdict(tmp_path, monkeypatch, "conv_forward__stride1_pad1", m.conv_forward)
    assert "at line 4 of conv_single_step (called from conv_forward, line 8)" in text


# ------------------------------------------------------------------------ bounded, validated, never run

def test_recorded_frames_are_bounded_plain_data(tmp_path, monkeypatch):
    m = student(tmp_path, '''
def conv_single_step(a_slice_prev, W, b):
''' + "".join(f"    v{k} = {k}\n" for k in range(60)) + '''
    big = list(range(1000))
    nested = ((1, (2, (3,))), {"k": [1, 2]})
    text = "x\\x1b[31m" * 30
    return float(b)
''')
    record = recorded(tmp_path, monkeypatch, "conv_single_step__random", m.conv_single_step)
    frame = record.raised["frames"][-1]
    assert len(frame["locals"]) == 40 and len(frame["source"]) == 40
    local = dict(frame["locals"])
    assert set(local) <= {"a_slice_prev", "W", "b", *(f"v{k}" for k in range(60)), "big", "nested", "text"}
    json.dumps(record.raised)  # plain data only


def test_hostile_locals_cost_the_frames_not_the_record(tmp_path, monkeypatch):
    m = student(tmp_path, '''
    class Liar(list):
        def __len__(self):
            raise RuntimeError("no length")

    def conv_single_step(a_slice_prev, W, b):
        trap = Liar()
        return float(b)
    ''')
    record = recorded(tmp_path, monkeypatch, "conv_single_step__random", m.conv_single_step)
    assert record.raised["type"] == "TypeError" and record.raised["frames"] == []


GOOD_FRAME = {"function": "f", "line": 3, "source": ["def f(x):", "    y = x", "    return float(y)"],
              "locals": [["y", {"kind": "array", "shape": [1, 1, 1], "dtype": "float64"}],
                         ["k", {"kind": "int", "value": 2}], ["s", {"kind": "slice", "start": 1, "stop": None, "step": None}],
                         ["t", {"kind": "tuple", "len": 2, "items": [{"kind": "int", "value": 1}, {"kind": "none"}]}],
                         ["d", {"kind": "dict", "len": 1, "items": [["stride", {"kind": "int", "value": 2}]]}]]}

BAD_FRAMES = {
    "not a list": {"function": "f"},
    "too many frames": [GOOD_FRAME] * 5,
    "an extra key": [dict(GOOD_FRAME, code="print(1)")],
    "a negative size": [dict(GOOD_FRAME, locals=[["y", {"kind": "array", "shape": [-1], "dtype": "float64"}]])],
    "a name that is no identifier": [dict(GOOD_FRAME, locals=[["a b", {"kind": "int", "value": 1}]])],
    "a control character": [dict(GOOD_FRAME, source=["x = 1\x1b[2J"])],
    "a bool for a line": [dict(GOOD_FRAME, line=True)],
    "a huge int": [dict(GOOD_FRAME, locals=[["k", {"kind": "int", "value": 2**60}]])],
    "a NaN": [dict(GOOD_FRAME, locals=[["x", {"kind": "float", "value": float("nan")}]])],
    "nesting": [dict(GOOD_FRAME, locals=[["t", {"kind": "tuple", "len": 1, "items": [
        {"kind": "tuple", "len": 0, "items": []}]}]])],
    "an unknown kind": [dict(GOOD_FRAME, locals=[["o", {"kind": "object", "pickle": "gASV"}]])],
    "a long source line": [dict(GOOD_FRAME, source=["x" * 201])],
    "too many locals": [dict(GOOD_FRAME, locals=[[f"v{k}", {"kind": "none"}] for k in range(41)])],
    "a bad dict item": [dict(GOOD_FRAME, locals=[["d", {"kind": "dict", "len": 1, "items": [5]}]])],
}


def _write_raised(folder, frames):
    folder = exchange.prepare(folder)
    raised = {"type": "TypeError", "message": "m", "traceback": "t", "frames": frames}
    (folder / "outputs" / "g.json").write_text(json.dumps({"raised": raised}))
    return folder


def test_the_judge_accepts_well_formed_frames(tmp_path):
    record = exchange.read_output(_write_raised(tmp_path / "x", [GOOD_FRAME]), "g")
    assert record.raised["frames"] == [GOOD_FRAME]
    record = exchange.read_output(_write_raised(tmp_path / "y", []), "g")
    assert record.raised["frames"] == []


@pytest.mark.parametrize("what", list(BAD_FRAMES))
def test_the_judge_refuses_frames_that_are_not_bounded_plain_data(tmp_path, what):
    with pytest.raises(exchange.MalformedRecord):
        exchange.read_output(_write_raised(tmp_path / "x", BAD_FRAMES[what]), "g")


def test_source_lines_are_parsed_never_run(tmp_path):
    marker = tmp_path / "ran"
    frames = [{"function": "f", "line": 2, "locals": [["b", {"kind": "array", "shape": [1, 1, 1], "dtype": "float64"}]],
               "source": [f"    b = open({str(marker)!r}, 'w').write('x') or b", "    return float(b)"]}]
    lines = explain.explain_lines("TypeError", "only 0-dimensional arrays can be converted to Python scalars", frames)
    assert any("b has shape (1, 1, 1)" in line for line in lines)
    assert not marker.exists()


# ------------------------------------------------------------------------ the same words while the student works

def test_the_visible_checks_fail_np_float_where_an_older_numpy_only_warns():
    """np.float (and np.int, ...): NumPy 1.20-1.23 warn, the grader's NumPy has no such name; the check fails
    with the cause and the fix in the grader's words (diagnosis/causes.py's numpy_alias_removed)."""
    from autograder.grading.diagnosis import causes
    module = helper("convolution")
    for alias, builtin in (("float", "float"), ("int", "int"), ("object", "object")):
        failure = run_visible("convolution", "conv_single_step__random", "conv_single_step", _warns_like_numpy_1(
            f"`np.{alias}` is a deprecated alias for the builtin `{builtin}`. To silence this warning, use "
            f"`{builtin}` by itself."))
        text = str(failure).splitlines()
        assert text[0] == (f"conv_single_step would raise AttributeError when graded (NumPy {module.GRADER_NUMPY}); "
                           f"your NumPy {np.__version__} only warns")
        graded = causes.cause("AttributeError", f"module 'numpy' has no attribute '{alias}'", [{"locals": []}])
        assert graded.key == "numpy_alias_removed"
        assert f"  likely mistake: {graded.what}." in text and f"  fix: {graded.fix}" in text, text
    # a warning of another removed name keeps its own fix
    failure = run_visible("convolution", "conv_single_step__random", "conv_single_step", _warns_like_numpy_1(
        "`product` is deprecated as of NumPy 1.25.0, and will be removed in NumPy 2.0. Please use `prod` instead."))
    assert "  fix: use np.prod" in str(failure).splitlines() and "likely mistake" not in str(failure)
    with pytest.raises(AttributeError):
        np.float  # noqa: B018  (what the grader's NumPy does with the name)


def test_the_visible_checks_give_the_same_explanation(tmp_path):
    m = student(tmp_path, '''
    def conv_single_step(a_slice_prev, W, b):
        s = a_slice_prev * W
        Z = np.sum(s)
        Z = Z + b
        return float(Z)
    ''')
    failure = run_visible("convolution", "conv_single_step__random", "conv_single_step", m.conv_single_step)
    text = "\n".join(failure._render_traceback_())
    assert "Z has shape (1, 1, 1)" in text and "Z became an array at line 6 (Z = Z + b)" in text
    assert all(len(line) <= 90 for line in failure._render_traceback_() if "https://" not in line)


def test_the_visible_checks_tell_dw_from_the_unpadded_input_at_the_slice(tmp_path):
    m = student(tmp_path, zero_pad=True, code='''
    def conv_backward(dZ, cache):
        (A_prev, W, b, hparameters) = cache
        stride, pad = hparameters["stride"], hparameters["pad"]
        (m, n_H, n_W, n_C) = dZ.shape
        f = W.shape[0]
        dW = np.zeros(W.shape)
        for i in range(m):
            for h in range(n_H):
                for w in range(n_W):
                    vert_start, horiz_start = h * stride, w * stride
                    a_slice = A_prev[i, vert_start:vert_start + f, horiz_start:horiz_start + f, :]
                    for c in range(n_C):
                        dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
        return np.zeros(A_prev.shape), dW, np.zeros(b.shape)
    ''')
    failure = run_visible("convolution", "conv_backward__stride1_pad1", "conv_backward", m.conv_backward)
    text = " ".join(line.strip() for line in failure._render_traceback_())
    assert "A_prev is not padded: the windows index the padded arrays" in text
    assert "(line 16)" in text  # the slice's line, not only the line that used it


def test_the_shipped_explanations_hold_no_line_of_the_solutions():
    """explain.py's shipped part and the hints around it teach without quoting a solution line, even inside a sentence."""
    from tests.test_grading import solution_lines

    lines = [line for line in solution_lines() if len(line) > 16]
    assert len(lines) > 30
    for assignment in ("activations", "convolution", "pooling"):
        text = (Path(__file__).parents[1] / "autograder" / "source" / assignment / f"{assignment}_tests.py").read_text()
        assert "def explain_lines" in text
        assert [line for line in lines if line in text] == [], assignment
