"""Checks for the convolution notebook (shipped to students; holds no solutions).

Also holds `output_size`, the output-size formula of chapter 3, eq.
(eq-output-size), which conv_forward uses. `grader_record` is used by the
instructor's grader only: outside grading it does nothing.
"""
# ---- BEGIN SHARED (identical in every <assignment>_tests.py; tools/make_notebooks.py keeps it so) ----
import json
import os
import traceback
import warnings
from pathlib import Path

import numpy as np

_EXCHANGE_VAR = "BTC_GRADER_EXCHANGE"


def grader_record(grade_id, func):
    """At grading time, call `func` on the grader's inputs for `grade_id` and save its result.

    The grader (outside this kernel) compares the saved result with the
    reference. Outside grading, when the environment names no exchange
    folder, this does nothing.
    """
    folder = os.environ.get(_EXCHANGE_VAR)
    if not folder:
        return
    folder = Path(folder)
    args, kwargs = _read_inputs(folder / "inputs", grade_id)
    doc, arrays = {}, {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = func(*args, **kwargs)
        except Exception as e:
            lines = traceback.format_exception(type(e), e, e.__traceback__.tb_next)
            doc["raised"] = {"type": type(e).__name__, "message": str(e)[:2000],
                             "traceback": "".join(lines)[-4000:]}
        else:
            doc["result"] = _encode(result, arrays)
    doc["warnings"] = [f"{w.category.__name__}: {w.message}"[:300] for w in caught[:5]]
    np.savez(folder / "outputs" / f"{grade_id}.npz", **arrays)
    (folder / "outputs" / f"{grade_id}.json").write_text(json.dumps(doc))


def _encode(value, arrays):
    """The exchange format (autograder/grading/exchange.py documents it)."""
    if isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype != object:
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"kind": "array", "key": key, "scalar": isinstance(value, np.generic)}
    for kind, types in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if isinstance(value, types):
            return {"kind": kind, "value": value}
    if value is None:
        return {"kind": "none", "value": None}
    if isinstance(value, (tuple, list)) and len(value) <= 64:
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"kind": kind, "items": [_encode(v, arrays) for v in value]}
    if isinstance(value, dict) and len(value) <= 64:
        return {"kind": "dict", "items": [[str(k), _encode(v, arrays)] for k, v in value.items()]}
    return {"kind": "other", "type": type(value).__name__, "repr": repr(value)[:200]}


def _decode(enc, arrays):
    kind = enc["kind"]
    if kind == "array":
        array = arrays[enc["key"]]
        return array[()] if enc.get("scalar") else array
    if kind in ("tuple", "list"):
        items = [_decode(v, arrays) for v in enc["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: _decode(v, arrays) for k, v in enc["items"]}
    return enc.get("value")


def _read_inputs(folder, grade_id):
    doc = json.loads((folder / f"{grade_id}.json").read_text())
    with np.load(folder / f"{grade_id}.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    args = [_decode(a, arrays) for a in doc["args"]]
    kwargs = {k: _decode(v, arrays) for k, v in doc["kwargs"].items()}
    return args, kwargs


def visible(check):
    """Mark a visible check: it runs for you, and is skipped while the grader records (it decides nothing)."""
    def run(*args, **kwargs):
        if os.environ.get(_EXCHANGE_VAR):
            return None
        return check(*args, **kwargs)
    run.__name__, run.__doc__ = check.__name__, check.__doc__
    return run


def _call(func, *args, **kwargs):
    """Call the student's function; report its warnings on stdout (they cost nothing by themselves)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    for w in caught[:3]:
        print(f"note: {func.__name__} warned {w.category.__name__}: {w.message}")
    return result


def _fail(problem, case, equation, details=()):
    lines = [problem, f"  case: {case}", *[f"  {d}" for d in details], f"  re-read {equation}"]
    raise AssertionError("\n".join(lines))


def _tolerance(got):
    """Relative tolerance: float32 results are accepted with float32 precision."""
    return 1e-4 if np.asarray(got).dtype == np.float32 else 1e-7


def assert_array(name, got, expected, case, equation):
    """got must be an array shaped like `expected` (float64) and equal to it within tolerance."""
    if not isinstance(got, np.ndarray):
        _fail(f"{name} should be a NumPy array, got {type(got).__name__}", case, equation)
    if got.shape != expected.shape:
        _fail(f"{name} has shape {got.shape}, expected {expected.shape}", case, equation)
    got64 = got.astype(np.float64)
    err = np.abs(got64 - expected)
    rtol = _tolerance(got)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    if not np.all(err <= rtol * (np.abs(expected) + 1e-2 * scale)):
        where = np.unravel_index(int(np.nanargmax(np.where(np.isnan(err), np.inf, err))), err.shape)
        rel = float(np.max(err / np.maximum(np.abs(expected), 1e-12)))
        _fail(f"{name} has wrong values", case, equation, [
            f"largest abs error {float(np.max(err)):.3g} at index {tuple(int(i) for i in where)}: "
            f"got {got64[where]:.6g}, expected {expected[where]:.6g}",
            f"largest rel error {rel:.3g}"])


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of a scalar function.

    f: callable taking an array shaped like x and returning a scalar;
    x: float64 array of any shape (perturbed in place, then restored).
    Returns grad, shaped like x: (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) per entry k.
    The error is O(eps^2) plus rounding of order 1e-16 / eps.
    """
    if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
        # An integer array would round x + eps back to x: every estimate 0.
        # (float32 runs, and chapter 6 shows why its answers are poor.)
        raise ValueError(
            f"numerical_gradient needs a floating-point NumPy array (float64 for a trustworthy check), "
            f"got {getattr(x, 'dtype', type(x).__name__)}"
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + eps
        f_plus = f(x)
        x[k] = old - eps
        f_minus = f(x)
        x[k] = old
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||) over all entries, 0 when both are zero.

    a, b: arrays of one shape. Around 1e-9 or below for a correct float64
    gradient checked by central differences; 1e-2 or above means a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / scale)


def assert_gradient(name, analytic, forward_of, x, case, equation):
    """Compare your backward's `analytic` gradient with central differences of the scalar forward_of(x)."""
    if not isinstance(analytic, np.ndarray) or analytic.shape != x.shape:
        _fail(f"{name} should be an array of shape {x.shape}, got {getattr(analytic, 'shape', type(analytic).__name__)}",
              case, equation)
    single = np.asarray(analytic).dtype == np.float32
    eps, bound = (1e-3, 1e-3) if single else (1e-6, 1e-6)
    numeric = numerical_gradient(forward_of, x.copy(), eps)
    err = relative_error(analytic, numeric)
    if not err <= bound:
        where = np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), x.shape)
        _fail(f"{name} disagrees with the numerical gradient (relative error {err:.2e} > {bound:.0e})", case, equation, [
            f"largest difference at index {tuple(int(i) for i in where)}: your backward gives "
            f"{float(analytic[where]):.6g}, central differences give {numeric[where]:.6g}"])
# ---- END SHARED ----


def output_size(n_prev, f, stride, pad=0):
    """Number of window positions along one spatial axis.

    A window of size f, moved in steps of `stride` over an axis of length
    n_prev padded by `pad` on both sides, fits this many times:

        n = floor((n_prev + 2 * pad - f) / stride) + 1
    """
    return (n_prev + 2 * pad - f) // stride + 1


EQ_PAD = "chapter 3, eq. (eq-zero-pad)"
EQ_FORWARD = "chapter 3, eq. (eq-conv-forward)"
EQ_SIZE = "chapter 3, eq. (eq-output-size)"
EQ_DB = "chapter 4, eq. (eq-conv-db)"
EQ_DW = "chapter 4, eq. (eq-conv-dw)"
EQ_DX = "chapter 4, eq. (eq-conv-dx) and eq. (eq-conv-dx-full); with stride > 1 also eq. (eq-conv-dilate)"


def _layer(shape, f, n_C, seed):
    rng = np.random.default_rng(seed)
    A_prev = rng.standard_normal(shape)
    W = rng.standard_normal((f, f, shape[3], n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    return rng, A_prev, W, b


@visible
def check_zero_pad(zero_pad, shape, pad, seed=0):
    """X of `shape` padded by `pad`: the interior keeps X, the border of width pad is zero."""
    X = np.random.default_rng(seed).standard_normal(shape)
    case = f"zero_pad(X, pad={pad}) with X of shape {shape}"
    X_pad = _call(zero_pad, X.copy(), pad)
    m, n_H, n_W, n_C = shape
    expected = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C))
    expected[:, pad:pad + n_H, pad:pad + n_W, :] = X  # only the two spatial axes grow
    assert_array("X_pad", X_pad, expected, case, EQ_PAD)
    print(f"zero_pad: OK for X of shape {shape}, pad={pad} -> {expected.shape}")


# a_slice_prev, W, b, expected Z: worked by hand.
KNOWN_STEPS = {
    # every product is 0.5 * value; the values 1..8 sum to 36; 18 - 1 = 17
    "two_channels": (np.arange(1.0, 9.0).reshape(2, 2, 2), np.full((2, 2, 2), 0.5), np.array([[[-1.0]]]), 17.0),
    # 1*1 + 2*0 + 3*0 + 4*(-1) = -3, plus 0.5
    "one_channel": (np.array([[[1.0], [2.0]], [[3.0], [4.0]]]), np.array([[[1.0], [0.0]], [[0.0], [-1.0]]]),
                    np.array([[[0.5]]]), -2.5),
}


@visible
def check_conv_single_step(conv_single_step, which):
    """One window, one filter: sum(a_slice_prev * W) + b, as one number."""
    a, W, b, expected = KNOWN_STEPS[which]
    case = f"conv_single_step on a {a.shape} window (worked by hand: expected {expected})"
    Z = _call(conv_single_step, a.copy(), W.copy(), b.copy())
    if np.ndim(Z) != 0:
        _fail(f"conv_single_step should return one number, got an array of shape {np.shape(Z)} "
              "(b has shape (1, 1, 1): add its one value, which b.item() gives)", case, EQ_FORWARD)
    assert_array("Z", np.asarray(Z, dtype=np.float64), np.array(expected), case, EQ_FORWARD)
    print(f"conv_single_step: OK ({which})")


@visible
def check_conv_single_step_bias(conv_single_step, seed=0):
    """Changing b by 1 changes the result by exactly 1: the bias is added once."""
    rng = np.random.default_rng(seed)
    a, W = rng.standard_normal((3, 3, 2)), rng.standard_normal((3, 3, 2))
    case = "conv_single_step on a random (3, 3, 2) window with b = -0.7 and with b = 0.3"
    low = _call(conv_single_step, a, W, np.array([[[-0.7]]]))
    high = _call(conv_single_step, a, W, np.array([[[0.3]]]))
    assert_array("the change in Z", np.asarray(high - low, dtype=np.float64).reshape(()), np.array(1.0), case, EQ_FORWARD)
    print("conv_single_step: bias OK")


# Worked examples of chapter 3: (A_prev 2-D, W 2-D, b, stride, pad, expected Z 2-D).
KNOWN_CONVS = {
    # 3x3 input, 2x2 kernel: Z[0, 0] = 1*1 + 2*2 + 4*3 + 5*4 + 1 = 38, and so on
    "3x3_kernel2": (np.arange(1.0, 10.0).reshape(3, 3), np.array([[1.0, 2.0], [3.0, 4.0]]), 1.0, 1, 0,
                    np.array([[38.0, 48.0], [68.0, 78.0]])),
    # 5x5 input 0..24, 3x3 kernel of ones, stride 2: each window sums to 9 x its centre (6, 8, 16, 18)
    "5x5_kernel3_stride2": (np.arange(25.0).reshape(5, 5), np.ones((3, 3)), 0.0, 2, 0,
                            np.array([[54.0, 72.0], [144.0, 162.0]])),
}


@visible
def check_conv_forward_known(conv_forward, which):
    """A worked example from chapter 3 (one image, one channel, one filter)."""
    A2, W2, b, stride, pad, Z2 = KNOWN_CONVS[which]
    A_prev, W = A2[None, :, :, None], W2[:, :, None, None]
    hparameters = {"stride": stride, "pad": pad}
    case = f"worked example: {A2.shape[0]}x{A2.shape[1]} input, {W2.shape[0]}x{W2.shape[1]} kernel, stride={stride}, pad={pad}, b={b}"
    Z, cache = _call(conv_forward, A_prev, W, np.full((1, 1, 1, 1), b), hparameters)
    assert_array("Z", Z, Z2[None, :, :, None], case, EQ_FORWARD)
    print(f"conv_forward: worked example OK ({which})")


@visible
def check_conv_forward_case(conv_forward, shape, f, n_C, stride, pad, pad_first=False, seed=0):
    """Shape of Z, the cache, and the value at the last output position."""
    rng, A_prev, W, b = _layer(shape, f, n_C, seed)
    hparameters = {"pad": pad, "stride": stride} if pad_first else {"stride": stride, "pad": pad}
    case = f"A_prev {shape}, W {W.shape}, b {b.shape}, hparameters={hparameters}"
    Z, cache = _call(conv_forward, A_prev.copy(), W.copy(), b.copy(), dict(hparameters))
    n_H, n_W = output_size(shape[1], f, stride, pad), output_size(shape[2], f, stride, pad)
    if not isinstance(Z, np.ndarray) or Z.shape != (shape[0], n_H, n_W, n_C):
        _fail(f"Z should have shape {(shape[0], n_H, n_W, n_C)}, got {getattr(Z, 'shape', type(Z).__name__)}", case, EQ_SIZE)
    if not (isinstance(cache, tuple) and len(cache) == 4):
        _fail("cache should be the tuple (A_prev, W, b, hparameters)", case, "the cache contract above conv_forward")
    # The last window: rows (n_H-1)*stride .. +f of the padded input.
    padded = np.zeros((shape[0], shape[1] + 2 * pad, shape[2] + 2 * pad, shape[3]))
    padded[:, pad:pad + shape[1], pad:pad + shape[2], :] = A_prev
    top, left = (n_H - 1) * stride, (n_W - 1) * stride
    window = padded[-1, top:top + f, left:left + f, :]
    expected = np.array([np.sum(window * W[..., c]) + b[0, 0, 0, c] for c in range(n_C)])
    assert_array(f"Z[{shape[0] - 1}, {n_H - 1}, {n_W - 1}, :] (the last output position)", Z[-1, -1, -1, :],
                 expected, case, EQ_FORWARD)
    print(f"conv_forward: OK for {case}")


@visible
def check_conv_backward_case(conv_forward, conv_backward, shape, f, n_C, stride, pad, pad_first=False, seed=1):
    """Gradient check of dA_prev, dW and db against your conv_forward.

    With a fixed random dZ, L = sum(conv_forward(A_prev, W, b)[0] * dZ) has gradients
    (dA_prev, dW, db) = conv_backward(dZ, cache). If your conv_forward is wrong this
    check fails too (the grader's hidden tests build their own cache).
    """
    rng, A_prev, W, b = _layer(shape, f, n_C, seed)
    hparameters = {"pad": pad, "stride": stride} if pad_first else {"stride": stride, "pad": pad}
    n_H, n_W = output_size(shape[1], f, stride, pad), output_size(shape[2], f, stride, pad)
    dZ = rng.uniform(-2, 2, size=(shape[0], n_H, n_W, n_C))
    case = f"A_prev {shape}, W {W.shape}, hparameters={hparameters}, dZ {dZ.shape} random (not all ones)"
    cache = (A_prev.copy(), W.copy(), b.copy(), dict(hparameters))
    grads = _call(conv_backward, dZ.copy(), cache)
    if not (isinstance(grads, tuple) and len(grads) == 3):
        _fail("conv_backward should return the tuple (dA_prev, dW, db)", case, EQ_DX)
    dA_prev, dW, db = grads
    if not isinstance(db, np.ndarray) or db.shape != b.shape:
        _fail(f"db should have shape {b.shape} like b, got {getattr(db, 'shape', type(db).__name__)}", case, EQ_DB)
    assert_array("db", db, dZ.sum(axis=(0, 1, 2)).reshape(b.shape), case, EQ_DB)

    def loss(A, Wt, bt):
        return float(np.sum(conv_forward(A, Wt, bt, dict(hparameters))[0] * dZ))

    assert_gradient("dA_prev", dA_prev, lambda A: loss(A, W, b), A_prev, case, EQ_DX)
    assert_gradient("dW", dW, lambda Wt: loss(A_prev, Wt, b), W, case, EQ_DW)
    print(f"conv_backward: gradient check OK for {case}")
