"""The block every shipped <assignment>_tests.py starts with (tools/make_notebooks.py puts it in).

Everything between the BEGIN and END lines below is copied into each helper
module, with the functions named in make_notebooks.REFERENCE_COPIES replaced
by the package's own source (numerical_gradient, relative_error,
format_citation), and followed by the module's generated EQUATIONS table.
Edit here, then run `python -m tools.make_notebooks`.
"""
# ---- BEGIN SHARED (from tools/helpers_template.py; tools/make_notebooks.py copies it) ----
import contextlib
import io
import json
import os
import textwrap
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


# ------------------------------------------------------------------ visible checks

WIDTH = 86  # `nbgrader validate` cuts longer lines


class CheckFailed(AssertionError):
    """A visible check failed. Shown without the helper's own frames: the first line says what
    is wrong, the next ones the case, the details and the equation to re-read."""

    def _render_traceback_(self):  # IPython shows these lines instead of a traceback
        lines = str(self).splitlines()
        lines[0] = f"{type(self).__name__}: {lines[0]}"
        out = []
        for line in lines:
            indent = " " * (len(line) - len(line.lstrip()))
            out += textwrap.wrap(line.lstrip(), WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                                 break_long_words=False, break_on_hyphens=False) or [""]
        return out


def _cite(labels):
    """'chapter 4, eq. (4.4) and (4.5)' and the address of the first, from EQUATIONS below."""
    return format_citation(labels, EQUATIONS, ""), EQUATIONS[labels[0]][2]


def _fail(problem, case, equation, details=()):
    words, url = _cite(equation)
    lines = [problem, f"  case: {case}", *[f"  {d}" for d in details], f"  re-read {words} in the book:",
             f"  {url}"]
    raise CheckFailed("\n".join(lines))


def _student_frames(error, limit=3):
    """The last frames of `error`'s traceback in the student's code (not this module's, not NumPy's)."""
    numpy_dir = os.path.dirname(np.__file__)
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if f.filename != __file__ and not f.filename.startswith(numpy_dir)]
    return frames[-limit:]


def visible(describe):
    """Mark a visible check. describe(**params) -> (case in words, equation labels).

    The check runs for you (it is skipped while the grader records: it decides nothing). It is
    called as check(your functions..., **params) and receives `case` and `equation` too.
    An exception raised by your code is reported like a failed check: which case, your own
    last lines, the equation to re-read.
    """
    def wrap(check):
        def run(*functions, **params):
            if os.environ.get(_EXCHANGE_VAR):
                return None
            case, equation = describe(**params)
            try:
                return check(*functions, case=case, equation=equation, **params)
            except CheckFailed:
                raise
            except Exception as e:  # raised by the student's code
                frames = _student_frames(e)
                where = frames[-1].name if frames else check.__name__
                message = str(e).strip().splitlines()[0] if str(e).strip() else ""
                lines = [f"{where} raised {type(e).__name__}" + (f": {message}" if message else "")]
                if len(lines[0]) > WIDTH - 20:  # keep the first line whole: the message goes below
                    lines = [f"{where} raised {type(e).__name__}:", f"  {message}"]
                lines += [f"  case: {case}", "  your code, last lines:"]
                for f in frames:
                    lines += [f"    {f.name}, line {f.lineno}: {(f.line or '').strip()}"]
                words, url = _cite(equation)
                lines += [f"  re-read {words} in the book:", f"  {url}"]
                raise CheckFailed("\n".join(lines)) from None
        run.__name__, run.__doc__, run.describe = check.__name__, check.__doc__, describe
        return run
    return wrap


def _call(func, *args, **kwargs):
    """Call the student's function; report its warnings on stdout (they cost nothing by themselves)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    for w in caught[:3]:
        print(f"note: {func.__name__} warned {w.category.__name__}: {w.message}")
    return result


def _tolerance(got):
    """Relative tolerance: float32 results are accepted with float32 precision."""
    return 1e-4 if np.asarray(got).dtype == np.float32 else 1e-7


def _shape_of(value):
    return getattr(value, "shape", type(value).__name__)


def assert_type_shape_dtype(name, got, shape, case, equation):
    """got must be a floating-point NumPy array (float64, or float32) of `shape` (as the grader requires)."""
    if not isinstance(got, np.ndarray):
        _fail(f"{name} should be a NumPy array of shape {shape}, got {type(got).__name__}", case, equation)
    if got.shape != tuple(shape):
        _fail(f"{name} has shape {got.shape}, expected {tuple(shape)}", case, equation)
    if got.dtype not in (np.float64, np.float32):
        _fail(f"{name} has dtype {got.dtype}; expected float64 (or float32)", case, equation,
              ["integer or boolean arrays lose the fractional part: np.zeros(shape) is float64"])


def assert_array(name, got, expected, case, equation):
    """got must be a float array shaped like `expected` (float64) and equal to it within tolerance."""
    assert_type_shape_dtype(name, got, expected.shape, case, equation)
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


def assert_number(name, got, expected, case, equation):
    """got must be one number (a Python float, a NumPy scalar or a 0-d array), equal to `expected`."""
    if isinstance(got, bool) or not (isinstance(got, (int, float, np.generic))
                                     or (isinstance(got, np.ndarray) and got.ndim == 0)):
        shape = getattr(got, "shape", None)
        _fail(f"{name} should be one number, got "
              + (f"an array of shape {shape}" if shape is not None else type(got).__name__), case, equation,
              ["b has shape (1, 1, 1): add its one value (b.item()), not the array"] if shape else [])
    value = np.asarray(got)
    value = value.astype(np.float64) if value.dtype.kind in "iu" else value
    assert_array(name, value, np.asarray(expected, dtype=np.float64), case, equation)


def assert_tuple(name, got, names, case, equation):
    """got must be a tuple (or list) of len(names) items: the function returns them in this order."""
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        what = (f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list))
                else type(got).__name__)
        _fail(f"{name} should return the tuple ({', '.join(names)}), got {what}", case, equation)
    return got


def assert_cache(cache, inputs, names, case, equation):
    """A forward's cache must be the tuple of its inputs, as given (the backward pass reads it)."""
    want = f"the tuple ({', '.join(names)}), the inputs as given"
    if not isinstance(cache, tuple) or len(cache) != len(inputs):
        _fail(f"cache should be {want}", case, equation,
              [f"got {type(cache).__name__}" + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else "")])
    for n, got, given in zip(names, cache, inputs):
        if isinstance(given, dict):
            if not (isinstance(got, dict) and got == given):
                _fail(f"cache should hold {n} = {given} as given, got {got!r}", case, equation)
        elif not (isinstance(got, np.ndarray) and got.shape == given.shape and np.array_equal(got, given)):
            _fail(f"cache's {n} is not the {n} given (cache should be {want})", case, equation)


def window_counts(n_prev, f, stride, pad=0):
    """How many windows cover each input position along one axis (a window covers rows s*h-p .. s*h-p+f-1)."""
    n = (n_prev + 2 * pad - f) // stride + 1
    return np.array([sum(0 <= u + pad - stride * h < f for h in range(n)) for u in range(n_prev)])


def coverage(shape, f, stride, pad=0):
    """Windows covering each entry of an input of `shape` (m, n_H, n_W, n_C)."""
    rows, cols = window_counts(shape[1], f, stride, pad), window_counts(shape[2], f, stride, pad)
    return np.broadcast_to((rows[:, None] * cols[None, :])[None, :, :, None], shape)


def _hint(analytic, numeric, covered=None):
    """A structural hint when a gradient differs from central differences, or None.

    covered: for an input gradient, how many windows cover each entry (see coverage()).
    """
    bad = np.abs(analytic - numeric) > 1e-5 * (1 + np.abs(numeric))
    if covered is not None and bad.any():
        if not (bad & (covered <= 1)).any() and (covered > 1).any():
            return ("only inputs that several windows share are wrong: each window's share must be "
                    "added (+=), not assigned")
        if not (bad & (covered > 0)).any():
            return "only inputs no window reads are wrong: their gradient is 0"
    if analytic.ndim == 4 and analytic.shape[1] > 2 and analytic.shape[2] > 2:
        inner = np.zeros(bad.shape, dtype=bool)
        inner[:, 1:-1, 1:-1, :] = True
        if bad.any() and not (bad & inner).any():
            return "only the border rows/columns are wrong: look at padding and cropping"
    if np.any(numeric != 0) and np.all(analytic[numeric == 0] == 0):
        nonzero = np.abs(numeric) > 1e-6
        ratio = analytic[nonzero] / numeric[nonzero]
        if ratio.size and np.allclose(ratio, ratio.flat[0], rtol=1e-4) and abs(ratio.flat[0] - 1) > 1e-3:
            return f"every entry is {ratio.flat[0]:.4g} times the right one: a missing or extra factor"
    return None


def right_at_stride_1(check, functions, params):
    """Whether the visible `check` passes on the same case with stride 1 (run quietly).

    A backward that fails only when the stride is above 1 is wrong where the
    stride enters, which is worth saying (the judge's diagnosis says the same).
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            check(*functions, **dict(params, stride=1))
    except Exception:
        return False
    return True


def numerical_gradient(f, x, eps=1e-6):
    """Copied from the solution package by tools/make_notebooks.py."""


def relative_error(a, b):
    """Copied from the solution package by tools/make_notebooks.py."""


def format_citation(labels, entries, link="text"):
    """Copied from autograder/grading/citations.py by tools/make_notebooks.py."""


def assert_gradient(name, analytic, forward_of, x, case, equation, covered=None):
    """Compare your backward's `analytic` gradient with central differences of the scalar forward_of(x).

    covered: for an input gradient, the windows covering each entry (for a hint when it fails).
    """
    assert_type_shape_dtype(name, analytic, x.shape, case, equation)
    single = analytic.dtype == np.float32
    eps, bound = (1e-3, 1e-3) if single else (1e-6, 1e-6)
    numeric = numerical_gradient(forward_of, x.copy(), eps)
    err = relative_error(analytic, numeric)
    if not err <= bound:
        where = np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), x.shape)
        hint = _hint(analytic.astype(np.float64), numeric, covered)
        _fail(f"{name} disagrees with central differences (relative error {err:.2e})", case, equation, [
            f"largest difference at index {tuple(int(i) for i in where)}: your backward gives "
            f"{float(analytic[where]):.6g}, central differences give {numeric[where]:.6g}",
            f"(central differences of your own forward; tolerance {bound:.0e})"]
            + ([f"hint: {hint}"] if hint else []))
# ---- END SHARED ----
