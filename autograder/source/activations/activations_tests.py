"""Checks for the activations notebook (shipped to students; holds no solutions).

The visible checks below run in your notebook and raise AssertionError with
a message that says which case failed, the largest error, and which equation
to re-read. `grader_record` is used by the instructor's grader only: outside
grading it does nothing.
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


def _upstream(rng, shape):
    """An upstream gradient dA that is not all ones (so forgetting to multiply by it shows)."""
    return rng.uniform(-2, 2, size=shape)


def _inputs(name, shape, seed):
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-3, 3, size=shape)
    if name == "relu":  # keep away from the kink at 0, where the derivative is a convention
        Z = np.sign(Z) * rng.uniform(0.1, 3, size=shape)
    return Z, _upstream(rng, shape)


EQUATIONS = {
    "sigmoid": "chapter 2, eq. (eq-sigmoid-grad)",
    "relu": "chapter 2, eq. (eq-relu-grad)",
    "tanh": "chapter 2, eq. (eq-tanh-grad)",
    "softmax": "chapter 2, eq. (eq-softmax-jacobian) and eq. (eq-softmax-backward)",
}

# Small cases worked out by hand (chapter 2): (Z, dA, dZ).
KNOWN = {
    # s(0) = 1/2 so s(1-s) = 1/4; s(2) = 0.8808; s(-1) = 0.2689.
    "sigmoid": ([[0.0, 2.0, -1.0]], [[1.0, 0.5, -2.0]], [[0.25, 0.05249679270175331, -0.3932238664829637]]),
    # the gradient passes where Z > 0 and stops where Z < 0
    "relu": ([[-1.5, 0.5, 2.0]], [[3.0, -2.0, 0.25]], [[0.0, -2.0, 0.25]]),
    # tanh(0) = 0 so the slope is 1; 1 - tanh(1)^2 = 0.42; 1 - tanh(-2)^2 = 0.0707
    "tanh": ([[0.0, 1.0, -2.0]], [[2.0, -1.0, 0.5]], [[2.0, -0.41997434161402614, 0.035325412426582214]]),
    # s = (1/6, 2/6, 3/6); with dA = e_1, dZ = s_1 (e_1 - s) = (5/36, -2/36, -3/36)
    "softmax": ([[0.0, np.log(2.0), np.log(3.0)]], [[1.0, 0.0, 0.0]], [[5 / 36, -2 / 36, -3 / 36]]),
}


@visible
def check_known_values(name, backward):
    """`name` is "sigmoid", "relu", "tanh" or "softmax"; backward is your <name>_backward."""
    Z, dA, expected = (np.array(v) for v in KNOWN[name])
    case = f"{name}_backward(dA, cache=Z) with Z = {Z.tolist()}, dA = {dA.tolist()} (worked by hand)"
    dZ = _call(backward, dA.copy(), Z.copy())
    assert_array("dZ", dZ, expected, case, EQUATIONS[name])
    print(f"{name}_backward: hand-computed case OK")


@visible
def check_gradient(name, forward, backward, shape, seed=0):
    """Gradient check of your backward against the forward for inputs of `shape`.

    With a fixed upstream gradient dA, L(Z) = sum(forward(Z)[0] * dA) has dL/dZ = backward(dA, Z).
    """
    Z, dA = _inputs(name, shape, seed)
    case = f"{name}_backward with Z and dA of shape {shape}, dA random (not all ones)"
    dZ = _call(backward, dA.copy(), Z.copy())
    assert_gradient("dZ", dZ, lambda z: float(np.sum(forward(z)[0] * dA)), Z, case, EQUATIONS[name])
    print(f"{name}_backward: gradient check OK for shape {shape}")
