"""Known mistakes: for each graded function, small variants of the reference with one change.

Trusted and never shipped (nothing here reaches autograder/source or a release).
Each `Known` is a textual edit of the `solutions` package's own teaching code
(the function bodies the source notebooks hold), so a variant is the reference
with exactly one thing done wrong, the way a student would type it. The judge
(diagnose.py) runs a variant on a case's inputs and, when a student's wrong
outputs equal the variant's on every case where the student fails (and the
variant passes wherever the student passes), names the mistake.

A mistake in a helper breaks the functions that call it: such a mistake is
registered once per function it breaks, under the same `key`, with the edit in
the helper (e.g. zero_pad's all-axes padding is also a conv_forward and a
conv_backward mistake). One key may also have several implementations (the
same slip written in loops or vectorised).
"""
import ast
import functools
import importlib
import inspect
from dataclasses import dataclass

from ..cases import functions
from . import mistakes_notebooks, mistakes_seen

MODULES = {name: importlib.import_module(module) for name, module in functions.MODULES.items()}

# The graded helpers each function calls (declared in functions.py): a helper that fails its own cases
# explains its callers' failures.
CALLS = functions.CALLS


@dataclass(frozen=True)
class Known:
    """One known mistake of `function`: `edits` {function in the same module: ((old, new), ...)}."""

    key: str         # stable name, shared by every function the mistake breaks
    function: str    # the graded function whose cases it explains
    label: str       # a few words, for the instructor's class view
    what: str        # one short sentence: what the student's code does
    fix: str         # how to fix it
    equation: tuple  # equation labels, e.g. ("eq-conv-dx",), cited through cases.citation
    edits: tuple     # ((function, old, new), ...) applied to the solutions module's source


def _k(key, function, label, what, fix, equation, *edits):
    return Known(key, function, label, what, fix, equation, tuple(edits))


EQ = functions.EQ  # equation labels, cited as the cases cite them (cases.citation: "chapter 2, eq. (2.5)")
CH2 = {name: EQ[name] for name in ("sigmoid", "relu", "tanh", "softmax")}
PAD, FWD = EQ["pad"], EQ["forward"]
DB, DW, DX = EQ["db"], EQ["dw"], EQ["dx"]
DILATE = EQ["dilate"]
MAXPOOL, AVGPOOL = EQ["maxpool"], EQ["avgpool"]
MAXBACK, AVGBACK = EQ["maxback"], EQ["avgback"]

HP_CONV = ('stride = hparameters["stride"]\n    pad = hparameters["pad"]', "stride, pad = hparameters.values()")
HP_POOL = ('f = hparameters["f"]\n    stride = hparameters["stride"]', "f, stride = hparameters.values()")
ZP_ALL = ("zero_pad", "((0, 0), (pad, pad), (pad, pad), (0, 0))", "pad")
NO_BIAS = ("conv_single_step", "Z = Z + b.item()", "Z = Z")
MASK_AXIS = ("create_mask_from_window", "mask = x == np.max(x)", "mask = x == np.max(x, axis=0)")
NOT_DIVIDED = ("distribute_value", "average = dz / (f_H * f_W)", "average = dz")

_hp_what = ("you unpack hparameters by dict order (`{a}, {b} = hparameters.values()`), "
            "so the values swap when the dict lists them in another order")
_hp_fix = 'read each by key: {a} = hparameters["{a}"], {b} = hparameters["{b}"]'
_zp_what = "zero_pad pads every axis (np.pad(X, pad)), batch and channels too"
_zp_fix = "pad only the two spatial axes: np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))"

REGISTRY = [
    # ---- activations
    _k("sigmoid_derivative_of_A", "sigmoid_backward", "derivative taken of A instead of Z",
       "you use the cache as if it held A = sigmoid(Z): it holds Z, so s(1 - s) is taken of the wrong numbers",
       "compute s = sigmoid(Z) from Z = cache first, then dZ = dA * s * (1 - s)", CH2["sigmoid"],
       ("sigmoid_backward", "s, _ = sigmoid(Z)", "s = Z")),
    _k("sigmoid_forgets_dA", "sigmoid_backward", "upstream gradient dA not multiplied in",
       "dZ is the local derivative s(1 - s) alone: the upstream gradient dA is not multiplied in",
       "chain rule: dZ = dA * s * (1 - s)", CH2["sigmoid"],
       ("sigmoid_backward", "dZ = dA * s * (1 - s)", "dZ = s * (1 - s)")),
    _k("relu_gates_on_dA", "relu_backward", "ReLU gate read from dA instead of Z",
       "you zero dZ where dA <= 0; the gate is where the forward input Z <= 0",
       "set dZ[Z <= 0] = 0 with Z = cache", CH2["relu"],
       ("relu_backward", "dZ[Z <= 0] = 0", "dZ[dA <= 0] = 0")),
    _k("relu_mask_only", "relu_backward", "returns the 0/1 gate, not dA times it",
       "you return the gate (1 where Z > 0) without multiplying by the upstream gradient dA",
       "start from a copy of dA (dZ = np.array(dA, copy=True)), then zero it where Z <= 0", CH2["relu"],
       ("relu_backward", "dZ = np.array(dA, copy=True)", "dZ = np.ones(dA.shape)")),
    _k("tanh_without_square", "tanh_backward", "1 - tanh instead of 1 - tanh^2",
       "you multiply by 1 - tanh(Z); the derivative of tanh is 1 - tanh(Z)**2",
       "dZ = dA * (1 - t**2) with t = np.tanh(Z)", CH2["tanh"],
       ("tanh_backward", "dZ = dA * (1 - t**2)", "dZ = dA * (1 - t)")),
    _k("tanh_derivative_of_A", "tanh_backward", "derivative taken of A instead of Z",
       "you use the cache as if it held A = tanh(Z): it holds Z, so 1 - t**2 is taken of the wrong numbers",
       "compute t = np.tanh(Z) from Z = cache first", CH2["tanh"],
       ("tanh_backward", "t = np.tanh(Z)", "t = Z")),
    _k("tanh_forgets_dA", "tanh_backward", "upstream gradient dA not multiplied in",
       "dZ is the local derivative 1 - tanh(Z)**2 alone: the upstream gradient dA is not multiplied in",
       "chain rule: dZ = dA * (1 - t**2)", CH2["tanh"],
       ("tanh_backward", "dZ = dA * (1 - t**2)", "dZ = 1 - t**2")),
    _k("softmax_elementwise", "softmax_backward", "softmax treated element-wise (Jacobian diagonal only)",
       "you treat softmax as if it acted element-wise (dZ = dA * s * (1 - s)), keeping only the Jacobian's "
       "diagonal; every output of a row depends on every input of that row",
       "multiply each row by the full Jacobian J = diag(s) - s s^T, or use dZ = s * (dA - sum(dA * s))",
       CH2["softmax"],
       ("softmax_backward", """    for r in range(S_rows.shape[0]):
        s = S_rows[r]
        J = np.diag(s) - np.outer(s, s)
        dZ_rows[r] = J @ dA_rows[r]""", "    dZ_rows = dA_rows * S_rows * (1 - S_rows)")),
    # ---- convolution
    _k("zero_pad_all_axes", "zero_pad", "pads the batch and channel axes too", _zp_what, _zp_fix, PAD, ZP_ALL),
    _k("zero_pad_all_axes", "conv_forward", "zero_pad pads every axis", _zp_what, _zp_fix, PAD, ZP_ALL),
    _k("zero_pad_all_axes", "conv_backward", "zero_pad pads every axis", _zp_what, _zp_fix, PAD, ZP_ALL),
    _k("conv_single_step_no_bias", "conv_single_step", "bias not added",
       "the bias b is never added", "return the sum plus b.item()", FWD, NO_BIAS),
    _k("conv_single_step_no_bias", "conv_forward", "bias not added (conv_single_step)",
       "Z lacks the bias: conv_single_step never adds b", "in conv_single_step return the sum plus b.item()",
       FWD, NO_BIAS),
    _k("conv_single_step_returns_array", "conv_single_step", "returns the (1, 1, 1) array Z + b",
       "you add the (1, 1, 1) array b and return an array, not a number",
       "add its one value, b.item(), and return float(Z)", FWD,
       ("conv_single_step", "Z = Z + b.item()\n    return float(Z)", "Z = Z + b\n    return Z")),
    _k("conv_single_step_returns_array", "conv_forward", "conv_single_step returns an array",
       "conv_single_step returns the (1, 1, 1) array Z + b, which cannot be stored as one entry of Z",
       "in conv_single_step add b.item() and return float(Z)", FWD,
       ("conv_single_step", "Z = Z + b.item()\n    return float(Z)", "Z = Z + b\n    return Z")),
    _k("hparams_by_order", "conv_forward", "hyper-parameters unpacked by dict order",
       _hp_what.format(a="stride", b="pad"), _hp_fix.format(a="stride", b="pad"), FWD,
       ("conv_forward",) + HP_CONV),
    _k("hparams_by_order", "conv_backward", "hyper-parameters unpacked by dict order",
       _hp_what.format(a="stride", b="pad"), _hp_fix.format(a="stride", b="pad"), DX,
       ("conv_backward",) + HP_CONV),
    _k("stride_ignored", "conv_forward", "stride ignored (windows move by 1)",
       "your windows start at h and w instead of h * stride and w * stride",
       "vert_start = h * stride and horiz_start = w * stride", FWD,
       ("conv_forward", "vert_start = h * stride", "vert_start = h"),
       ("conv_forward", "horiz_start = w * stride", "horiz_start = w")),
    _k("stride_ignored", "conv_backward", "stride ignored (windows move by 1)",
       "your windows start at h and w instead of h * stride and w * stride",
       "vert_start = h * stride and horiz_start = w * stride, as in the forward pass", DILATE,
       ("conv_backward", "vert_start = h * stride", "vert_start = h"),
       ("conv_backward", "horiz_start = w * stride", "horiz_start = w")),
    _k("flipped_kernel", "conv_forward", "kernel flipped (convolution, not cross-correlation)",
       "you flip the kernel (rot180(W)): that is a convolution, and the layer computes a cross-correlation",
       "use W[:, :, :, c] as it is, unflipped", FWD,
       ("conv_forward", "conv_single_step(a_slice_prev, W[:, :, :, c]", "conv_single_step(a_slice_prev, W[::-1, ::-1, :, c]")),
    _k("crop_p_minus_p", "conv_backward", "the p:-p crop (empty when pad = 0)",
       "you crop the padding with [pad:-pad], which is empty when pad = 0",
       "crop with [pad:pad + n_H_prev, pad:pad + n_W_prev]", DX,
       ("conv_backward", "da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]", "da_prev_pad[pad:-pad, pad:-pad, :]")),
    _k("crop_p_minus_p", "conv_backward", "the p:-p crop (empty when pad = 0)",
       "you crop the padding with [pad:-pad], which is empty when pad = 0",
       "crop with [pad:pad + n_H_prev, pad:pad + n_W_prev]", DX,
       ("conv_backward", "return dA_prev, dW, db", "return dA_prev_pad[:, pad:-pad, pad:-pad, :], dW, db")),
    _k("assign_not_accumulate", "conv_backward", "`=` instead of `+=` into da_prev_pad",
       "you assign (=) into da_prev_pad, so each window, and each output channel c, overwrites what the ones "
       "before it added",
       "accumulate: da_prev_pad[...] += W[:, :, :, c] * dZ[i, h, w, c]", DX,
       ("conv_backward", "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += ",
        "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] = ")),
    _k("dW_unpadded", "conv_backward", "dW from the unpadded input",
       "you take dW's windows from the unpadded A_prev; the forward pass read them from the padded input",
       "a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :], with a_prev_pad = zero_pad(A_prev, pad)[i]",
       DW, ("conv_backward", "a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]",
            "a_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, :]")),
    _k("dW_forgets_dZ", "conv_backward", "dW without the upstream gradient dZ",
       "each window adds a_slice to dW without multiplying by its upstream gradient dZ[i, h, w, c]",
       "dW[:, :, :, c] += a_slice * dZ[i, h, w, c]", DW,
       ("conv_backward", "dW[:, :, :, c] += a_slice * dZ[i, h, w, c]", "dW[:, :, :, c] += a_slice")),
    _k("db_wrong_shape", "conv_backward", "db of shape (n_C,)",
       "your db has shape (n_C,); b has shape (1, 1, 1, n_C) and its gradient has the same shape",
       "db = np.zeros(b.shape) and db[:, :, :, c] += dZ[i, h, w, c]", DB,
       ("conv_backward", "db = np.zeros(b.shape)", "db = np.zeros(n_C)"),
       ("conv_backward", "db[:, :, :, c] += dZ[i, h, w, c]", "db[c] += dZ[i, h, w, c]")),
    _k("flipped_kernel_dA", "conv_backward", "kernel flipped in dA_prev",
       "you spread W flipped (rot180) over each window; rot180 belongs to the full-correlation "
       "form (pad(D) correlated with rot180(W)), not to the window loop", "in the loop add W[:, :, :, c] * dZ[i, h, w, c], unflipped", DX,
       ("conv_backward", "+= W[:, :, :, c] * dZ[i, h, w, c]", "+= W[::-1, ::-1, :, c] * dZ[i, h, w, c]")),
    _k("dA_no_dilation", "conv_backward", "no dilation for stride > 1 in dA_prev",
       "dA_prev is built as if the stride were 1: window (h, w) starts at (h, w), not (h * stride, w * stride) "
       "(the missing dilation of dZ)",
       "place each window's gradient at rows vert_start:vert_end and columns horiz_start:horiz_end", DILATE,
       ("conv_backward", "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += ",
        "da_prev_pad[h:h + f, w:w + f, :] += ")),
    # ---- pooling
    _k("hparams_by_order", "pool_forward", "hyper-parameters unpacked by dict order",
       _hp_what.format(a="f", b="stride"), _hp_fix.format(a="f", b="stride"), MAXPOOL,
       ("pool_forward",) + HP_POOL),
    _k("hparams_by_order", "pool_forward", "hyper-parameters unpacked by dict order",
       _hp_what.format(a="stride", b="f"), _hp_fix.format(a="f", b="stride"), MAXPOOL,
       ("pool_forward", HP_POOL[0], "stride, f = hparameters.values()")),
    _k("hparams_by_order", "pool_backward", "hyper-parameters unpacked by dict order",
       _hp_what.format(a="f", b="stride"), _hp_fix.format(a="f", b="stride"), MAXBACK,
       ("pool_backward", 'stride = hparameters["stride"]\n    f = hparameters["f"]',
        "f, stride = hparameters.values()")),
    _k("hparams_by_order", "pool_backward", "hyper-parameters unpacked by dict order",
       _hp_what.format(a="stride", b="f"), _hp_fix.format(a="f", b="stride"), MAXBACK,
       ("pool_backward", 'stride = hparameters["stride"]\n    f = hparameters["f"]',
        "stride, f = hparameters.values()")),
    _k("pool_mode_ignored", "pool_forward", "average mode computes the maximum",
       "in mode 'average' your code still takes the maximum", "use np.mean(a_prev_slice) when mode == 'average'",
       AVGPOOL, ("pool_forward", "A[i, h, w, c] = np.mean(a_prev_slice)", "A[i, h, w, c] = np.max(a_prev_slice)")),
    _k("rows_cols_swapped", "pool_forward", "rows and columns swapped in the window",
       "your window's rows are placed by the column index w and its columns by the row index h (the window cut "
       "with its two ranges exchanged, or vert_start computed from w and horiz_start from h)",
       "rows (axis 1) go with h: vert_start = h * stride, horiz_start = w * stride, "
       "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]", MAXPOOL,
       ("pool_forward", "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]",
        "A_prev[i, horiz_start:horiz_end, vert_start:vert_end, c]")),
    _k("stride_ignored", "pool_forward", "stride ignored (windows move by 1)",
       "your windows start at h and w instead of h * stride and w * stride",
       "vert_start = h * stride and horiz_start = w * stride", MAXPOOL,
       ("pool_forward", "vert_start = h * stride", "vert_start = h"),
       ("pool_forward", "horiz_start = w * stride", "horiz_start = w")),
    _k("mask_max_over_one_axis", "create_mask_from_window", "maximum along one axis only",
       "np.max(x, axis=0) gives each column's maximum, so your mask marks one entry per column",
       "compare with the maximum of the whole window: mask = x == np.max(x)", MAXBACK, MASK_AXIS),
    _k("mask_max_over_one_axis", "pool_backward", "mask marks column maxima (create_mask_from_window)",
       "create_mask_from_window takes np.max(x, axis=0), so the gradient goes to every column's maximum",
       "in create_mask_from_window compare with the whole window's maximum: mask = x == np.max(x)", MAXBACK,
       MASK_AXIS),
    _k("average_not_divided", "distribute_value", "not divided by the window size",
       "you spread dz to every entry without dividing by the number of entries",
       "average = dz / (f_H * f_W)", AVGBACK, NOT_DIVIDED),
    _k("average_not_divided", "pool_backward", "average gradient not divided by f*f (distribute_value)",
       "distribute_value does not divide dz by the window's size, so each input gets f*f times too much",
       "in distribute_value: average = dz / (f_H * f_W)", AVGBACK, NOT_DIVIDED),
    _k("assign_not_accumulate", "pool_backward", "`=` instead of `+=` where windows overlap",
       "you assign (=) each window's gradient into dA_prev, so where windows overlap only the last one counts",
       "accumulate with += into dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]",
       MAXBACK + AVGBACK,
       ("pool_backward", "horiz_start:horiz_end, c] += mask", "horiz_start:horiz_end, c] = mask"),
       ("pool_backward", "horiz_start:horiz_end, c] += distribute_value", "horiz_start:horiz_end, c] = distribute_value")),
    _k("mask_forgets_dA", "pool_backward", "max: the mask without the upstream gradient dA",
       "in max mode each window adds its 0/1 mask without multiplying by its upstream gradient dA[i, h, w, c]",
       "add mask * dA[i, h, w, c]", MAXBACK,
       ("pool_backward", "+= mask * dA[i, h, w, c]", "+= mask")),
    _k("mask_whole_feature_map", "pool_backward", "mask of the whole feature map, not the window",
       "you build the mask from the whole feature map and cut the window out of it, so a window whose "
       "maximum is not the map's maximum passes no gradient",
       "mask = create_mask_from_window(a_prev_slice), with a_prev_slice the window itself", MAXBACK,
       ("pool_backward", "mask = create_mask_from_window(a_prev_slice)",
        "mask = create_mask_from_window(a_prev[:, :, c])[vert_start:vert_end, horiz_start:horiz_end]")),
    _k("mask_whole_volume", "pool_backward", "mask over the whole volume (all channels)",
       "you take the mask over the window in all channels at once, so only the channel holding the largest "
       "value of the whole volume passes gradient",
       "build the mask of channel c's window alone: create_mask_from_window(a_prev[vert_start:vert_end, "
       "horiz_start:horiz_end, c])", MAXBACK,
       ("pool_backward", "mask = create_mask_from_window(a_prev_slice)",
        "mask = create_mask_from_window(a_prev[vert_start:vert_end, horiz_start:horiz_end, :])[:, :, c]")),
    _k("average_by_stride", "pool_backward", "average spread over stride x stride, not f x f",
       "you spread the average gradient over a stride x stride block; the window is f x f",
       "distribute_value(da, (f, f))", AVGBACK,
       ("pool_backward", "distribute_value(da, (f, f))", "distribute_value(da, (stride, stride))")),
]


REGISTRY += [_k(*entry) for entry in mistakes_seen.SEEN + mistakes_notebooks.SEEN]  # seen in real students' code


def registry(function, leave_out=()):
    """The known mistakes of `function`, in registry order, without the keys in leave_out."""
    return [k for k in REGISTRY if k.function == function and k.key not in leave_out]


@functools.lru_cache(maxsize=None)
def combined(a, b):
    """Known mistakes a and b of one function made together (one Known naming both), or None when their edits
    cannot both apply (one changes what the other edits)."""
    if a.function != b.function or a.key == b.key:
        return None
    pair = Known(f"{a.key}+{b.key}", a.function, f"{a.label}; and {b.label}"[:60], f"{a.what}; and also {b.what}",
                 f"{a.fix}; and {b.fix}", tuple(dict.fromkeys(a.equation + b.equation)), a.edits + b.edits)
    try:
        _edit(_source(MODULES[a.function].__name__), pair.edits)
    except ValueError:
        return None
    return pair


@functools.lru_cache(maxsize=None)
def with_helper(own, helper_known):
    """own, a mistake of a caller's own lines, made while the graded helper it calls has helper_known (named by
    the helper's own verdict): one Known with both edits (own's key and words), or None when they cannot both
    apply or the helper lives in another module."""
    if MODULES[own.function] is not MODULES[helper_known.function]:
        return None
    both = Known(own.key, own.function, own.label, own.what, own.fix, own.equation, own.edits + helper_known.edits)
    try:
        _edit(_source(MODULES[own.function].__name__), both.edits)
    except ValueError:
        return None
    return both


def _edit(text, edits):
    """Apply ((function, old, new), ...) inside each function's own lines of a module's source."""
    tree = ast.parse(text)
    # each function's code after its docstring (docstrings quote the formulas the edits change)
    spans = {n.name: (n.body[1 if ast.get_docstring(n) else 0].lineno, n.end_lineno)
             for n in tree.body if isinstance(n, ast.FunctionDef)}
    heads = {n.name: (n.lineno, n.lineno) for n in tree.body if isinstance(n, ast.FunctionDef)}
    lines = text.splitlines(keepends=True)
    for function, old, new in edits:
        start, end = (heads if old.startswith("def ") else spans)[function]  # "def ...": the signature line
        body = "".join(lines[start - 1:end])
        if body.count(old) != 1:
            raise ValueError(f"{function}: {old!r} occurs {body.count(old)} times in solutions")
        body = body.replace(old, new)
        lines[start - 1:end] = [body] + [""] * (end - start)  # keep the other functions' line numbers
    return "".join(lines)


@functools.lru_cache(maxsize=None)
def _source(module_name):
    return inspect.getsource(__import__(module_name, fromlist=["_"]))


@functools.lru_cache(maxsize=None)
def implementation(known):
    """The variant: solutions' module with the edits applied, executed afresh; returns known.function."""
    module = MODULES[known.function]
    text = _edit(_source(module.__name__), known.edits)
    namespace = {"__name__": f"{module.__name__}__{known.key}", "__package__": "solutions",
                 "__file__": module.__file__}
    exec(compile(text, f"<{known.key} in {module.__name__}>", "exec"), namespace)
    return namespace[known.function]
