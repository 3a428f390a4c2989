"""Structural signatures of a wrong result, when no known mistake matches (used by diagnose.py).

Each names where or how the student's array differs from the reference on a
case (axes, zeros, sign, a constant factor, border, overlap, channels,
samples), or across a function's failing cases (stride > 1 only, pad = 0
only, key order), without any variant of the reference.
"""
import itertools

import numpy as np

from .. import cases as registry
from ..cases import functions

OUTPUT_NAMES = functions.OUTPUT_NAMES  # graded arrays of a result, by the name the judge's Mismatch uses
LAYER_ARRAYS = {"Z", "A", "dA_prev", "X_pad"}  # (m, n_H, n_W, n_C) arrays: axes 1, 2 are the image's rows, columns


def _rtol(x):
    return registry.RTOL.get(getattr(x, "dtype", None), registry.RTOL[np.dtype(np.float64)])


def _close(got, want):
    """Elementwise: got equals want within the judge's tolerance for got's dtype (NaN equals NaN)."""
    got64, want64 = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(np.nan_to_num(want64)), initial=0.0)))
    with np.errstate(invalid="ignore"):
        ok = np.abs(got64 - want64) <= _rtol(got) * (np.abs(want64) + 0.1 * scale)
    return ok | (np.isnan(got64) & np.isnan(want64)) | (got64 == want64)


def hyper(case):
    """{"f", "stride", "pad", "order", "size"} of a case (whatever applies), read from its inputs as its
    function's declaration says (functions.py); "order" is the hyper-parameters' key order as the dict lists them."""
    read = functions.HYPER.get(case.function)
    return read(*case.inputs()) if read else {}


DOCUMENTED_ORDER = {("stride", "pad"), ("f", "stride")}  # hparameters as the docstrings list them


def graded_array(function, result, what):
    """The array the judge found wrong, taken out of a result; None when it is not there."""
    index = OUTPUT_NAMES.get(function, {}).get(what)
    try:
        value = result if index is None else result[index]
    except (TypeError, IndexError, KeyError):
        return None
    if isinstance(value, (np.ndarray, np.generic, float, int)) and not isinstance(value, bool):
        value = np.asarray(value)
        return value if value.dtype.kind in "biuf" else None
    return None


def _axis_names(what, ndim):
    if what == "dW":
        return ("i", "j", "k", "c")[:ndim]
    if ndim == 4:
        return ("n", "h", "w", "c")
    return tuple(f"axis {a}" for a in range(ndim))


def _coverage(n_in, f, stride, pad, n_out):
    """How many windows contain each input row (pad cropped away): a vector of length n_in."""
    count = np.zeros(n_in + 2 * pad, dtype=int)
    for h in range(n_out):
        count[h * stride:h * stride + f] += 1
    return count[pad:pad + n_in]


def _factor_words(c, hp):
    """(signature name, where, usually) for a result that is c times the expected one."""
    if abs(c + 1) < 1e-9:
        return "sign", "every entry has the wrong sign (your result is -1 times the expected one)", \
            "look for a minus sign, or a subtraction written the wrong way round"
    text = f"every entry is {c:.4g} times the expected value"
    size, name = (hp["size"], "n_H*n_W") if "size" in hp else ((hp["f"] ** 2, "f*f") if "f" in hp else (None, ""))
    if size and abs(c - size) < 1e-6 * size:
        return "factor", text + f" ({name} = {size}, the window's size)", \
            f"a sum over the {size} entries of a window that should be an average (divide by {name})"
    if size and abs(c * size - 1) < 1e-6:
        return "factor", text + f" (1/({name}) = 1/{size})", f"a division by the window's size {name} too many"
    if abs(c - round(c)) < 1e-9:
        return "factor", text, f"a contribution counted {int(round(c))} times (a loop or a sum too many)"
    return "factor", text, "a missing or extra multiplication by a constant"


def array_signatures(function, case, got, ref, what):
    """{name: (label, where, usually)} that hold for one case (got, ref: the graded array)."""
    out = {}
    got = np.asarray(got)
    names = _axis_names(what, ref.ndim)
    if got.shape != ref.shape or ref.ndim >= 2:
        for perm in itertools.permutations(range(ref.ndim)):
            if perm == tuple(range(ref.ndim)) or ref.transpose(perm).shape != got.shape:
                continue
            if np.all(_close(got, ref.transpose(perm))):
                order = ", ".join(names[a] for a in perm)
                spatial = what in LAYER_ARRAYS and perm == (0, 2, 1, 3)
                where = ("rows and columns are swapped: your array is the expected one with h and w exchanged"
                         if spatial else f"your {what} holds the right values with its axes in the order "
                         f"({order}) instead of ({', '.join(names)})")
                return {"axes": ("rows and columns swapped" if spatial else "axes in the wrong order", where,
                                 "an index order or a reshape/transpose that does not match (m, n_H, n_W, n_C)")}
    if got.shape != ref.shape or not np.all(np.isfinite(got)):
        return out
    bad = ~_close(got, ref)
    if not bad.any():
        return out
    g, r = got.astype(np.float64), ref.astype(np.float64)
    if not g.any() and what == "mask":
        # not "never written to": a mask built as mask = x and then overwritten with 0s and 1s is written, and
        # ends all False because what it compares with changes as it goes
        out["zeros"] = ("mask marks nothing", "your mask is all False: no entry is marked as the window's maximum",
                        "a comparison with the maximum that never holds; compare x with np.max(x) taken before "
                        "anything is written, into a new array")
    elif not g.any():
        out["zeros"] = ("all zeros", f"your {what} is all zeros",
                        "nothing but zeros reaches it: a loop or branch that does not run (a mode never handled), "
                        "or results written into a copy")
    hp = hyper(case)
    denom = float(np.sum(r * r))
    if denom > 0 and g.any():
        c = float(np.sum(g * r)) / denom
        if abs(c - 1) > 1e-6 and np.all(_close(g.astype(got.dtype), (c * r))):
            kind, where, usually = _factor_words(c, hp)
            out[kind] = ("wrong sign" if kind == "sign" else "wrong by a constant factor", where, usually)
    if what in LAYER_ARRAYS and ref.ndim == 4:
        k = max(1, int(hp.get("pad", 0)))
        H, W = ref.shape[1:3]
        if H > 2 * k and W > 2 * k:
            inner = bad[:, k:H - k, k:W - k, :]
            if not inner.any():
                out["border"] = ("wrong only on the border", f"only the outer {k} row(s) and column(s) of {what} "
                                 "are wrong; the inside is right",
                                 "the edges: the zeros added around the input or how they are cut away, "
                                 "or a loop bound off by one at the first or last window")
        if what == "dA_prev" and "f" in hp and hp["f"] > hp.get("stride", 1):
            p = int(hp.get("pad", 0))
            n_H, n_W = (case.inputs()[0][0].shape[1:3])
            cover = np.outer(_coverage(H, hp["f"], hp["stride"], p, n_H), _coverage(W, hp["f"], hp["stride"], p, n_W))
            wrong = bad.any(axis=(0, 3))
            if (cover >= 2).any() and not (wrong & (cover < 2)).any():
                out["overlap"] = ("wrong only where windows overlap",
                                  "only the inputs that lie in two or more windows are wrong; the rest is right",
                                  "where windows overlap, the gradients of all of them must add up (+=, not =)")
        if ref.shape[0] > 1:
            samples = np.flatnonzero(bad.any(axis=(1, 2, 3)))
            if len(samples) < ref.shape[0]:
                out["samples"] = ("wrong only in some samples",
                                  f"only sample(s) n = {', '.join(map(str, samples))} (of n = 0..{ref.shape[0] - 1}) "
                                  "are wrong",
                                  "an index that is not the loop's own where the sample i belongs (a fixed 0, or "
                                  "another loop's variable), or a line inside or outside the loop over samples")
    if ref.ndim >= 3 and ref.shape[-1] > 1:
        channels = np.flatnonzero(bad.any(axis=tuple(range(ref.ndim - 1))))
        if len(channels) < ref.shape[-1]:
            out["channels"] = ("wrong only in some channels",
                               f"only channel(s) c = {', '.join(map(str, channels))} (of c = 0..{ref.shape[-1] - 1}) "
                               "are wrong",
                               "an index that is not the loop's own where the channel belongs (a fixed 0, or "
                               "another loop's variable; c for output channels, k for input channels)")
    return out


SIGNATURE_ORDER = ("axes", "zeros", "sign", "factor", "border", "overlap", "channels", "samples")


def case_signatures(j):
    """The signatures of one failing cell (an empty dict when its result cannot be compared)."""
    if j.passed or j.mismatch is None or j.outcome is None or j.outcome[0] != "ok":
        return {}
    fn = j.case.function
    got = graded_array(fn, j.record.result, j.mismatch.what)
    ref_result = reference(j.grade_id)
    ref = graded_array(fn, ref_result, j.mismatch.what)
    if got is None or ref is None or ref.ndim == 0:
        return {}
    return array_signatures(fn, j.case, got, ref, j.mismatch.what)


@registry.per_draw  # the inputs depend on the student (cases.drawing)
def reference(grade_id):
    return registry.CASES[grade_id].reference()


def _telling_overlap(j):
    """Can this cell tell "wrong where windows overlap" from "wrong anywhere"? A failing cell with inputs
    in a single window, or a passing cell whose windows do not overlap at all."""
    hp = hyper(j.case) if j.case is not None else {}
    if "f" not in hp or j.case.function not in ("conv_backward", "pool_backward"):
        return False
    if j.passed:
        return hp["f"] <= hp.get("stride", 1)
    if j.outcome is None:
        return False
    args = j.case.inputs()[0]
    A_prev, dZ = args[1][0], args[0]
    p = int(hp.get("pad", 0))
    rows = _coverage(A_prev.shape[1], hp["f"], hp["stride"], p, dZ.shape[1])
    cols = _coverage(A_prev.shape[2], hp["f"], hp["stride"], p, dZ.shape[2])
    return bool((np.outer(rows, cols) == 1).any())


def only_where(judged, name, test, usually):
    """A signature across cases: every failing case has `test` true, some passing case has it false."""
    fails = [j for j in judged if not j.passed and j.outcome is not None]
    passes = [j for j in judged if j.passed]
    if fails and passes and all(test(hyper(j.case)) for j in fails) and not any(test(hyper(j.case)) for j in passes):
        return (name, f"wrong only in the cases with {name} ({', '.join(j.grade_id.split('__')[1] for j in fails)}); "
                      f"right in the others", usually)
    return None
