"""Checks for the pooling notebook (shipped to students; holds no solutions).

Also holds `output_size`, the output-size formula of chapter 3, eq.
(eq-output-size), which pool_forward uses. `grader_record` is used by the
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


EQ = {
    "max": "chapter 5, eq. (eq-maxpool)",
    "average": "chapter 5, eq. (eq-avgpool)",
    "max_backward": "chapter 5, eq. (eq-maxpool-backward)",
    "average_backward": "chapter 5, eq. (eq-avgpool-backward)",
    "size": "chapter 3, eq. (eq-output-size)",
}


def distinct_values(shape, seed):
    """Random values, all different, so no pooling window has a tie for its maximum."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 3.0


# Worked examples of chapter 5 on the 4x4 input 0..15 with f = 2, stride = 2.
KNOWN_POOLS = {
    "max": np.array([[5.0, 7.0], [13.0, 15.0]]),
    "average": np.array([[2.5, 4.5], [10.5, 12.5]]),
}


@visible
def check_pool_forward_known(pool_forward, mode):
    """The 4x4 input 0..15 pooled with f = 2, stride = 2."""
    A_prev = np.arange(16.0).reshape(1, 4, 4, 1)
    case = f"worked example: 4x4 input 0..15, f=2, stride=2, mode={mode!r}"
    A, cache = _call(pool_forward, A_prev, {"f": 2, "stride": 2}, mode=mode)
    assert_array("A", A, KNOWN_POOLS[mode][None, :, :, None], case, EQ[mode])
    print(f"pool_forward: worked example OK ({mode})")


@visible
def check_pool_forward_default(pool_forward):
    """Called without `mode`, pool_forward takes the maximum."""
    A_prev = np.arange(16.0).reshape(1, 4, 4, 1)
    case = "worked example: 4x4 input 0..15, f=2, stride=2, mode not given"
    A, cache = _call(pool_forward, A_prev, {"f": 2, "stride": 2})
    assert_array("A", A, KNOWN_POOLS["max"][None, :, :, None], case, EQ["max"])
    print("pool_forward: default mode OK (max)")


@visible
def check_pool_forward_case(pool_forward, shape, f, stride, mode, stride_first=False, seed=0):
    """Shape of A, the cache, and the value at the last output position."""
    A_prev = distinct_values(shape, seed)
    hparameters = {"stride": stride, "f": f} if stride_first else {"f": f, "stride": stride}
    case = f"A_prev {shape}, hparameters={hparameters}, mode={mode!r}"
    A, cache = _call(pool_forward, A_prev.copy(), dict(hparameters), mode=mode)
    n_H, n_W = output_size(shape[1], f, stride), output_size(shape[2], f, stride)
    if not isinstance(A, np.ndarray) or A.shape != (shape[0], n_H, n_W, shape[3]):
        _fail(f"A should have shape {(shape[0], n_H, n_W, shape[3])}, got {getattr(A, 'shape', type(A).__name__)}",
              case, EQ["size"])
    if not (isinstance(cache, tuple) and len(cache) == 2):
        _fail("cache should be the tuple (A_prev, hparameters)", case, "the cache contract above pool_forward")
    top, left = (n_H - 1) * stride, (n_W - 1) * stride
    window = A_prev[-1, top:top + f, left:left + f, :]
    expected = window.max(axis=(0, 1)) if mode == "max" else window.mean(axis=(0, 1))
    assert_array(f"A[{shape[0] - 1}, {n_H - 1}, {n_W - 1}, :] (the last output position)", A[-1, -1, -1, :],
                 expected, case, EQ[mode])
    print(f"pool_forward: OK for {case}")


KNOWN_MASKS = {
    "2x2": [[1.0, 3.0], [4.0, 2.0]],
    "3x3_negative": [[-1.0, -3.0, -2.5], [-4.0, -2.0, -0.5], [-7.0, -0.75, -6.0]],
    "4x4": [[0.1, 0.2, 0.3, 0.4], [1.5, 1.2, 1.1, 1.0], [0.0, -1.0, 2.5, 0.5], [0.9, 2.4, 0.7, 0.8]],
}


@visible
def check_mask(create_mask_from_window, which):
    """The mask is True exactly where the window's (single) maximum sits."""
    x = np.array(KNOWN_MASKS[which])
    expected = np.zeros(x.shape, dtype=bool)
    expected[np.unravel_index(int(np.argmax(x)), x.shape)] = True
    case = f"x = {x.tolist()}"
    mask = _call(create_mask_from_window, x.copy())
    if not isinstance(mask, np.ndarray) or mask.shape != x.shape:
        _fail(f"mask should be an array of shape {x.shape}, got {getattr(mask, 'shape', type(mask).__name__)}",
              case, EQ["max_backward"])
    if not np.array_equal(mask.astype(bool), expected) or not np.all((mask == 0) | (mask == 1)):
        _fail(f"mask is {mask.tolist()}, expected {expected.tolist()}", case, EQ["max_backward"])
    print(f"create_mask_from_window: OK ({which})")


@visible
def check_distribute_value(distribute_value, dz, shape):
    """Every entry is dz / (n_H * n_W): average pooling spreads its gradient evenly."""
    case = f"distribute_value(dz={dz}, shape={shape})"
    a = _call(distribute_value, dz, shape)
    assert_array("a", a, np.full(shape, dz / (shape[0] * shape[1])), case, EQ["average_backward"])
    print(f"distribute_value: OK for dz={dz}, shape={shape}")


@visible
def check_pool_backward_case(pool_forward, pool_backward, shape, f, stride, mode, stride_first=False, seed=1):
    """Gradient check of dA_prev against your pool_forward (inputs without ties).

    With a fixed random dA, L = sum(pool_forward(A_prev)[0] * dA) has gradient
    pool_backward(dA, cache). If your pool_forward is wrong this check fails too
    (the grader's hidden tests build their own cache).
    """
    A_prev = distinct_values(shape, seed)
    hparameters = {"stride": stride, "f": f} if stride_first else {"f": f, "stride": stride}
    n_H, n_W = output_size(shape[1], f, stride), output_size(shape[2], f, stride)
    dA = np.random.default_rng(seed).uniform(-2, 2, size=(shape[0], n_H, n_W, shape[3]))
    case = f"A_prev {shape}, hparameters={hparameters}, mode={mode!r}, dA {dA.shape} random (not all ones)"
    dA_prev = _call(pool_backward, dA.copy(), (A_prev.copy(), dict(hparameters)), mode=mode)
    assert_gradient("dA_prev", dA_prev,
                    lambda A: float(np.sum(pool_forward(A, dict(hparameters), mode=mode)[0] * dA)),
                    A_prev, case, EQ[mode + "_backward"])
    print(f"pool_backward: gradient check OK for {case}")
