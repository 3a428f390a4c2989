"""The visible checks name the causes an exception's frames settle, in the grader's words (issue 17 item 3).

diagnosis/causes.py holds the rules and their words once; its SHIPPED part is copied into every helper
module. Each student function below is our own code, written the way students slip: a correct version
per function, and variants with one slip each. For every rule: the visible check of a case prints the
cause and the fix; the grader, on its hidden cases recorded by the shipped grader_record (frames
included), names the same key in the same words (shapes aside: they are each case's own); the helper's
`cause` gives exactly what the trusted one gives on the same frames. The correct versions pass, and
slips whose frames leave the cause open are named by no rule.
"""
import ast
import importlib.util
import inspect
import re
import textwrap

import pytest

from autograder.grading import cases as registry
from autograder.grading.diagnosis import causes, diagnose, explain
from tools import make_notebooks as gen

from tests.test_explain import recorded
from tests.test_notebooks import helper
from tests.test_visible_checks import PHRASES, run_visible

# Our own correct code, in the course's API (one function per key, the helpers it calls before it).
CORRECT = {
    "conv_single_step": '''
def conv_single_step(a_slice_prev, W, b):
    s = np.multiply(a_slice_prev, W)
    Z = np.sum(s)
    Z = Z + b.item()
    return Z
''',
    "zero_pad": '''
def zero_pad(X, pad):
    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=(0, 0))
    return X_pad
''',
    "conv_forward": '''
def conv_forward(A_prev, W, b, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    n_H = int((n_H_prev + 2 * pad - f) / stride) + 1
    n_W = int((n_W_prev + 2 * pad - f) / stride) + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    weights = W[:, :, :, c]
                    biases = b[:, :, :, c]
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, weights, biases)
    cache = (A_prev, W, b, hparameters)
    return Z, cache
''',
    "conv_backward": '''
def conv_backward(dZ, cache):
    (A_prev, W, b, hparameters) = cache
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    (m, n_H, n_W, n_C) = dZ.shape
    dA_prev = np.zeros(A_prev.shape)
    dW = np.zeros(W.shape)
    db = np.zeros(b.shape)
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
        dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db
''',
    "pool_forward": '''
def pool_forward(A_prev, hparameters, mode="max"):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    f = hparameters["f"]
    stride = hparameters["stride"]
    n_H = int(1 + (n_H_prev - f) / stride)
    n_W = int(1 + (n_W_prev - f) / stride)
    n_C = n_C_prev
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(a_prev_slice)
                    elif mode == "average":
                        A[i, h, w, c] = np.mean(a_prev_slice)
    cache = (A_prev, hparameters)
    return A, cache
''',
    "create_mask_from_window": '''
def create_mask_from_window(x):
    mask = x == np.max(x)
    return mask
''',
    "distribute_value": '''
def distribute_value(dz, shape):
    (n_H, n_W) = shape
    average = dz / (n_H * n_W)
    a = np.ones(shape) * average
    return a
''',
    "pool_backward": '''
def pool_backward(dA, cache, mode="max"):
    (A_prev, hparameters) = cache
    stride = hparameters["stride"]
    f = hparameters["f"]
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert_start = h * stride
                    vert_end = vert_start + f
                    horiz_start = w * stride
                    horiz_end = horiz_start + f
                    if mode == "max":
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = create_mask_from_window(a_prev_slice)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask * dA[i, h, w, c]
                    elif mode == "average":
                        da = dA[i, h, w, c]
                        shape = (f, f)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += distribute_value(da, shape)
    return dA_prev
''',
}

ASSIGNMENT = {"conv_single_step": "convolution", "zero_pad": "convolution", "conv_forward": "convolution",
              "conv_backward": "convolution", "pool_forward": "pooling", "create_mask_from_window": "pooling",
              "distribute_value": "pooling", "pool_backward": "pooling"}
CALLS = {"conv_forward": ("zero_pad", "conv_single_step"), "conv_backward": ("zero_pad",),
         "pool_backward": ("create_mask_from_window", "distribute_value")}

# (name, function, [(old, new) on its correct code], the visible case, key, words both must say)
VARIANTS = [
    ("np_float", "conv_single_step", [("Z = np.sum(s)", "Z = np.sum(s, dtype=np.float)")],
     "conv_single_step__random", "numpy_alias_removed", "removed it in 1.24"),
    ("np_name_misspelt", "conv_single_step", [("Z = np.sum(s)", "Z = np.summ(s)")],
     "conv_single_step__single_channel", "numpy_name_misspelt", "np.sum is the nearest name NumPy has"),
    ("parameter_case", "conv_forward", [("def conv_forward(A_prev,", "def conv_forward(a_prev,")],
     "conv_forward__stride1_pad1", "name_misspelt", "(Python names are case-sensitive)"),
    ("parameter_case_and_loop", "conv_forward",
     [("def conv_forward(A_prev, W,", "def conv_forward(A_prev, w,"), ("= W.shape", "= w.shape")],
     "conv_forward__pad0", "name_misspelt", "gives w another value"),
    ("batch_shape_short", "conv_forward",
     [("(m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape", "(n_H_prev, n_W_prev, n_C_prev) = A_prev.shape")],
     "conv_forward__single_channel", "shape_unpacked_short", "whose first axis counts the examples m"),
    ("loop_named_like_a_parameter", "conv_forward",
     [("for w in range(n_W):", "for W in range(n_W):"), ("horiz_start = w * stride", "horiz_start = W * stride")],
     "conv_forward__stride1_pad1", "parameter_reused", "W is a parameter of conv_forward"),
    ("zeros_sizes", "conv_forward", [("Z = np.zeros((m, n_H, n_W, n_C))", "Z = np.zeros(m, n_H, n_W, n_C)")],
     "conv_forward__stride2_overlap", "zeros_sizes_not_a_tuple", "np.zeros((m, n_H, n_W, n_C))"),
    ("comma_in_window", "conv_forward",
     [("a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]",
       "a_prev_pad[vert_start:vert_end, horiz_start, horiz_end, :]")],
     "conv_forward__stride1_pad1", "comma_for_colon", "the window's slice horiz_start:horiz_end"),
    ("padded_input_replaced", "conv_forward",
     [("a_prev_pad = A_prev_pad[i]", "A_prev_pad = A_prev_pad[i]"),
      ("= a_prev_pad[vert_start", "= A_prev_pad[vert_start")],
     "conv_forward__stride1_pad1", "array_replaced_by_its_slice", "puts a slice of A_prev_pad back into"),
    ("window_end_from_itself", "conv_forward", [("vert_end = vert_start + f", "vert_end = vert_end + f")],
     "conv_forward__pad0", "read_before_assigned", "(a window's end is its start plus f: vert_start + f)"),
    ("cache_of_three", "conv_backward", [("(A_prev, W, b, hparameters) = cache", "(A_prev, W, b) = cache")],
     "conv_backward__stride1_pad1", "cache_unpacked_short", "(A_prev, W, b, hparameters) = cache"),
    ("hparameters_renamed", "conv_backward",
     [("(A_prev, W, b, hparameters) = cache", "(A_prev, W, b, hparams) = cache")],
     "conv_backward__pad0", "name_misspelt", "use one name for them: hparams"),
    ("pad_key", "conv_backward", [('pad = hparameters["pad"]', 'pad = hparameters["padding"]')],
     "conv_backward__stride2_overlap", "key_not_in_dict", "hparameters['pad']"),
    ("shape_of_shape", "distribute_value", [("(n_H, n_W) = shape", "n_H, n_W = shape.shape[0], shape.shape[1]")],
     "distribute_value__2x2", "shape_of_shape", "but shape is already a tuple, the sizes themselves"),
    ("stride_key", "pool_forward", [('stride = hparameters["stride"]', 'stride = hparameters["strides"]')],
     "pool_forward__max_f2_s2", "key_not_in_dict", "hparameters['stride']"),
    ("pool_zeros_sizes", "pool_forward", [("A = np.zeros((m, n_H, n_W, n_C))", "A = np.zeros(m, n_H, n_W, n_C)")],
     "pool_forward__average_f2_s2", "zeros_sizes_not_a_tuple", "np.zeros((m, n_H, n_W, n_C))"),
    ("pool_window_end_from_itself", "pool_forward", [("horiz_end = horiz_start + f", "horiz_end = horiz_end + f")],
     "pool_forward__max_f3_s2_overlap", "read_before_assigned", "horiz_start + f"),
    ("hparameters_not_unpacked", "pool_backward", [("(A_prev, hparameters) = cache", "A_prev = cache[0]")],
     "pool_backward__max_f2_s2", "hparameters_not_from_cache", "(A_prev, hparameters) = cache"),
    ("pool_comma_in_window", "pool_backward",
     [("dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask",
       "dA_prev[i, vert_start, vert_end, horiz_start:horiz_end, c] += mask")],
     "pool_backward__max_f2_s2", "comma_for_colon", "the window's slice vert_start:vert_end"),
    ("input_replaced_by_its_slice", "pool_backward",
     [("a_prev = A_prev[i]", "A_prev = A_prev[i]"), ("a_prev_slice = a_prev[", "a_prev_slice = A_prev[")],
     "pool_backward__max_f2_s2", "array_replaced_by_its_slice", "puts a slice of A_prev back into"),
    ("pool_batch_shape_short", "pool_backward",
     [("m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape", "n_H_prev, n_W_prev, n_C_prev = A_prev.shape")],
     "pool_backward__average_f2_s2", "shape_unpacked_short", "whose first axis counts the examples m"),
]


def source(function, edits=(), helpers=None):
    """The student's file: NumPy, the helpers `function` calls (correct, or as given), then `function` edited."""
    parts = [(helpers or {}).get(h, CORRECT[h]) for h in CALLS.get(function, ())]
    code = CORRECT[function]
    for old, new in edits:
        assert old in code, (function, old)
        code = code.replace(old, new)
    return "import numpy as np\n" + "".join(parts) + code


def load(tmp_path, text, name):
    """A module of student code in a real file, so its lines are readable (as a notebook's are)."""
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def said(lines):
    """{"likely mistake": what, "fix": fix}: a verdict's or a check's named cause, the grader's citation cut."""
    out = {}
    for line in lines:
        line = line.strip()
        for head in ("likely mistake: ", "fix: "):
            if line.startswith(head):
                out[head[:-2]] = line[len(head):].split("; see chapter")[0]
    return out


def shapes_aside(text):
    """The words with every shape written as a tuple of sizes left out: each case has its own."""
    return re.sub(r"\(\d+(?:, \d+)+\)", "(...)", text)


def grader(tmp_path, monkeypatch, module, function):
    """{grade_id: finding or None} of the grader's diagnosis for every failing case of `function`, each
    recorded by the shipped grader_record with its frames (as a kernel records it)."""
    judged = [diagnose.Judged(c.grade_id, recorded(tmp_path, monkeypatch, c.grade_id, getattr(module, function)))
              for c in registry.for_assignment(ASSIGNMENT[function]) if c.function == function]
    failing = [j for j in judged if not j.passed]
    assert failing, "the slip should fail some case"
    findings = diagnose.notebook(judged, pictures=False)
    return {j.grade_id: findings.get(j.grade_id) for j in failing}


def visible(module, function, grade_id, watch=None):
    """The visible check's CheckFailed (or None) for `grade_id`, with the student's `function`;
    watch: a list that gets (kind, message, frames, Cause) for each call of the helper's `cause`."""
    helper_module = helper(ASSIGNMENT[function])
    if watch is not None:
        shipped = helper_module.cause

        def seen(kind, message, frames):
            found = shipped(kind, message, frames)
            watch.append((kind, message, frames, found))
            return found
        helper_module.cause = seen
    from tests import test_visible_checks
    original = test_visible_checks.helper
    test_visible_checks.helper = lambda assignment: helper_module
    try:
        return run_visible(ASSIGNMENT[function], grade_id, function, getattr(module, function))
    finally:
        test_visible_checks.helper = original


# ------------------------------------------------------------------------------ one source, shipped

def test_every_helper_ships_the_trusted_rules_verbatim():
    """The rules and their words are one text: each helper holds causes.py's shipped part, after explain.py's,
    and every function of causes.py reads there exactly as in the trusted module."""
    part = gen.shipped_part(gen.DIAGNOSIS / "causes.py")
    functions = [name for name, value in vars(causes).items()
                 if inspect.isfunction(value) and value.__module__ == causes.__name__]
    assert "cause" in functions and len(functions) > 12
    for assignment in ("activations", "convolution", "pooling"):
        text = (gen.SOURCE / assignment / f"{assignment}_tests.py").read_text()
        assert part in text and text.index(gen.shipped_part(gen.DIAGNOSIS / "explain.py")) < text.index(part)
        module = helper(assignment)
        for name in functions:
            assert inspect.getsource(getattr(module, name)) == inspect.getsource(getattr(causes, name)), (assignment,
                                                                                                           name)


def _top_names(text):
    """Every name a module's top level binds (def, class, assignment, import), once per binding."""
    names = []
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
    return names


def test_no_name_a_shipped_part_defines_is_defined_twice_in_a_helper():
    """A helper module is one namespace: a rule of causes.py named like one of explain.py (or like anything of
    the helper's own) would silently replace it, and explain_lines would say another rule's words."""
    shipped = {n for path in gen.SHIPPED for n in _top_names(gen.shipped_part(path))} - {"difflib", "NamedTuple"}
    assert {"cause", "explain_lines", "Cause"} <= shipped
    for assignment in ("activations", "convolution", "pooling"):
        names = _top_names((gen.SOURCE / assignment / f"{assignment}_tests.py").read_text())
        assert sorted(n for n in shipped if names.count(n) != 1) == [], assignment


def test_the_name_check_sees_a_name_defined_twice():
    assert _top_names("def _rule(): pass\nx, (y, z) = 1, (2, 3)\nimport a.b\ndef _rule(): pass").count("_rule") == 2


# ------------------------------------------------------------------------------ each rule, both sides

@pytest.mark.parametrize("name, function, edits, grade_id, key, words", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_the_visible_check_names_the_cause_as_the_grader_does(tmp_path, monkeypatch, name, function, edits,
                                                             grade_id, key, words):
    module = load(tmp_path, source(function, edits), f"student_{name}")
    watch = []
    failure = visible(module, function, grade_id, watch)
    assert failure is not None, "the slip should fail its visible check"
    check = said(str(failure).splitlines())
    assert set(check) == {"likely mistake", "fix"}, str(failure)
    assert words in check["likely mistake"] + " " + check["fix"], str(failure)
    # the phrase test_visible_checks.PHRASES knows this cause by (so that no catalogue mistake's check says it)
    shown = " ".join(line.strip() for line in failure._render_traceback_())
    assert [k for phrase, k in PHRASES.items() if phrase in shown] == [key], shown
    # one source: what the helper's shipped cause said is what the trusted cause says on the same frames
    kind, message, frames, found = watch[-1]
    assert found is not None and tuple(found) == tuple(causes.cause(kind, message, frames))
    assert found.key == key and check == {"likely mistake": found.what + ".", "fix": found.fix}
    # the grader, on its hidden cases: the same key on every failing one; on the hidden case of this test cell
    # (the visible case's twin: the same hyper-parameters in the same key order) the same words, its shapes aside
    verdicts = grader(tmp_path, monkeypatch, module, function)
    keys = {gid: (f.kind, f.key) if f else None for gid, f in verdicts.items()}
    assert set(keys.values()) == {("mistake", key)}, keys
    graded = said(verdicts[grade_id].lines)
    assert {k: shapes_aside(v) for k, v in graded.items()} == {k: shapes_aside(v) for k, v in check.items()}


# ------------------------------------------------------------------------------ precision

@pytest.mark.parametrize("function", sorted(CORRECT))
def test_the_correct_versions_pass_every_visible_check_and_say_ok(tmp_path, function):
    import contextlib
    import io

    import solutions
    module = load(tmp_path, source(function), f"correct_{function}")
    checks = helper(ASSIGNMENT[function])
    cells = [g for g in gen.VISIBLE[ASSIGNMENT[function]]() if g.split("__")[0] == function]
    assert cells
    for grade_id in cells:
        for check, functions, params in gen.VISIBLE[ASSIGNMENT[function]]()[grade_id]:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                getattr(checks, check)(*[getattr(module, f, None) or getattr(solutions, f) for f in functions],
                                       **params)
            assert "OK" in out.getvalue() and "likely mistake" not in out.getvalue(), (grade_id, out.getvalue())


# slips whose exceptions leave the cause open (or put it in a helper): no rule names them, on either side
OPEN = [
    ("a name nothing resembles", "pool_forward", [('f = hparameters["f"]', 'f = hyper["f"]')],
     "pool_forward__max_f2_s2", {}),
    ("a NumPy name two names are one letter from", "zero_pad", [("np.pad(X,", "np.padd(X,")], "zero_pad__pad2", {}),
    ("a NumPy name far from any", "conv_single_step", [("Z = np.sum(s)", "Z = np.smu(s)")],
     "conv_single_step__random", {}),
    ("a window past the edge", "conv_forward", [("vert_end = vert_start + f", "vert_end = vert_start + f + 1")],
     "conv_forward__pad0", {}),
    ("a parameter given a helper's wrong result", "conv_forward",
     [("A_prev_pad = zero_pad(A_prev, pad)", "A_prev = zero_pad(A_prev, pad)"),
      ("a_prev_pad = A_prev_pad[i]", "a_prev_pad = A_prev[i]")],
     "conv_forward__stride1_pad1", {"zero_pad": CORRECT["zero_pad"].replace("return X_pad", "return")}),
    ("a cause raised in the helper it calls", "conv_forward", [], "conv_forward__stride1_pad1",
     {"conv_single_step": CORRECT["conv_single_step"].replace("Z = np.sum(s)", "Z = np.sum(s, dtype=np.float)")}),
]


@pytest.mark.parametrize("name, function, edits, grade_id, helpers", OPEN, ids=[o[0] for o in OPEN])
def test_no_cause_is_named_where_the_frames_leave_it_open(tmp_path, monkeypatch, name, function, edits, grade_id,
                                                          helpers):
    module = load(tmp_path, source(function, edits, helpers), "student_open")
    watch = []
    failure = visible(module, function, grade_id, watch)
    assert failure is not None, "the slip should fail its visible check"
    own = [w for w in watch if w[3] is not None and w[2][-1]["function"] == function]
    assert own == [], own
    text = str(failure)
    if helpers:  # the helper's own verdict comes first (the grader's cascade): "which is wrong" or "fails its own"
        assert f"{function} calls {next(iter(helpers))}, which" in text, text
    else:
        assert "likely mistake" not in text, text


def test_a_cause_in_a_helper_is_told_as_the_helpers_own_verdict(tmp_path):
    """conv_forward calling a conv_single_step that reads np.float: the check of conv_forward says the callee is
    wrong, in the callee's own named cause (the grader's cascade says the same of the callee)."""
    broken = CORRECT["conv_single_step"].replace("Z = np.sum(s)", "Z = np.sum(s, dtype=np.float)")
    module = load(tmp_path, source("conv_forward", (), {"conv_single_step": broken}), "student_cascade")
    text = " ".join(line.strip() for line in visible(module, "conv_forward", "conv_forward__stride1_pad1")
                    ._render_traceback_())
    assert "conv_forward calls conv_single_step, which is wrong: np.float was only another name for Python's float" \
        in text, text
    assert "fix conv_single_step first: write float(...) where you wrote np.float(...)" in text, text


def test_the_helper_says_the_graders_two_lines_for_a_function_under_test_only():
    """_raised_cause gives the grader's two lines (likely mistake, fix) for a cause in a function the check tests."""
    frames = [{"function": "pool_forward", "line": 3, "source": ["def pool_forward(A_prev, hparameters, mode='max'):",
                                                                 "    m = A_prev.shape[0]",
                                                                 "    f = hparameters['size']"],
               "locals": [["hparameters", {"kind": "dict", "len": 2, "items": [["f", {"kind": "int", "value": 2}],
                                                                                ["stride", {"kind": "int", "value": 2}]]}],
                          ["m", {"kind": "int", "value": 2}]]}]
    module = helper("pooling")

    def pool_forward(A_prev, hparameters, mode="max"):
        return None
    lines = module._raised_cause("KeyError", "'size'", frames, [pool_forward])
    found = causes.cause("KeyError", "'size'", frames)
    assert found.key == "key_not_in_dict"
    assert lines == [f"likely mistake: {found.what}.", f"fix: {found.fix}"]
    assert module._raised_cause("KeyError", "'size'", frames, []) == []  # not a function under test: nothing


def test_every_rule_has_a_variant_here():
    """Every rule of causes.py is exercised by a variant above (a new rule needs its variant here)."""
    keys = set(re.findall(r'Cause\("(\w+)"', textwrap.dedent(inspect.getsource(causes))))
    assert keys == {v[4] for v in VARIANTS}, keys ^ {v[4] for v in VARIANTS}


# ------------------------------------------------------------------------------ in a real kernel, as a student runs it

def _run_cells(cwd, cells, timeout=60):
    """Run `cells` in a fresh python3 kernel started in `cwd`; returns the outputs of the last one:
    (stdout text, error traceback lines or None)."""
    from jupyter_client.manager import start_new_kernel
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(cwd))
    try:
        for code in cells:
            reply = client.execute_interactive(code, timeout=timeout, output_hook=(out := _Outputs()))
        return out.text, out.traceback if reply["content"]["status"] == "error" else None
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


class _Outputs:
    def __init__(self):
        self.text, self.traceback = "", None

    def __call__(self, msg):
        if msg["msg_type"] == "stream":
            self.text += msg["content"]["text"]
        elif msg["msg_type"] == "error":
            self.traceback = msg["content"]["traceback"]


def test_in_a_kernel_the_students_test_cell_names_the_cause_and_the_correct_version_passes(monkeypatch):
    """The notebook's own cells in a real kernel: the imports cell, the student's functions, the test cell of
    pool_backward__max_f2_s2 (after a correct pool_forward, which the check calls too). With the cache's hyper-parameters never unpacked the cell fails with the grader's
    cause and fix, taken from the student's own traceback; with the correct version it passes."""
    from autograder.grading import exchange
    monkeypatch.delenv(exchange.ENV_VAR, raising=False)
    import json
    cells = json.loads((gen.SOURCE / "pooling" / "pooling.ipynb").read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    imports = next(c for c in code if "from pooling_tests import" in c)
    test_cell = next("".join(c["source"]) for c in cells
                     if c["metadata"].get("nbgrader", {}).get("grade_id") == "pool_backward__max_f2_s2")
    wrong = source("pool_backward", [("(A_prev, hparameters) = cache", "A_prev = cache[0]")])
    text, traceback = _run_cells(gen.SOURCE / "pooling", [imports, CORRECT["pool_forward"], wrong, test_cell])
    assert traceback is not None, text
    shown = " ".join(line.strip() for line in traceback)
    assert shown.startswith("CheckFailed: pool_backward raised NameError: name 'hparameters' is not defined"), shown
    frames = [{"function": "pool_backward", "line": 3, "locals": [], "source": [
        'def pool_backward(dA, cache, mode="max"):', "    A_prev = cache[0]", '    stride = hparameters["stride"]']}]
    found = causes.cause("NameError", "name 'hparameters' is not defined", frames)
    assert found.key == "hparameters_not_from_cache"
    assert f"likely mistake: {found.what}." in shown and f"fix: {found.fix}" in shown, shown
    text, traceback = _run_cells(gen.SOURCE / "pooling", [imports, CORRECT["pool_forward"], source("pool_backward"),
                                                          test_cell])
    assert traceback is None and "pool_backward: gradient check OK" in text, (text, traceback)
