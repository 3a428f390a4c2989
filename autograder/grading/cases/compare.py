"""How a kernel's result is compared with the reference: arrays, numbers, masks, sequences, caches.

Every message is bounded (`short`): what the kernel sent is shown elided, never in full.
"""
import reprlib

import numpy as np

# Relative tolerance by result dtype; the absolute floor is 0.1 * rtol * max(1, max|reference|).
RTOL = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 1e-4}


class Mismatch(Exception):
    """The student's result differs from the reference; `what` names the output at fault."""

    def __init__(self, what, problem, details=()):
        super().__init__(problem)
        self.what, self.problem, self.details = what, problem, list(details)


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 2, 80, 80
_SHORT.maxdict = _SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxset = 6


def short(value, limit=300):
    """A bounded repr of a value the kernel sent: nested and long values elided, never over `limit`.

    A record can hold thousands of references to one array; its full repr
    once held a worker for 11 minutes and 4 GB.
    """
    try:
        text = _SHORT.repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _where(index):
    return tuple(int(i) for i in index)


def compare_array(name, got, ref):
    """got: an ndarray shaped like ref (float64), float32 or float64, equal within that dtype's tolerance."""
    if isinstance(got, np.generic) and ref.ndim == 0:
        got = np.asarray(got)
    if not isinstance(got, np.ndarray):
        raise Mismatch(name, f"{name} should be a NumPy array of shape {ref.shape}, got {type(got).__name__}")
    if got.shape != ref.shape:
        raise Mismatch(name, f"{name} has shape {got.shape}, expected {ref.shape}")
    if got.dtype not in RTOL:
        raise Mismatch(name, f"{name} has dtype {got.dtype}; expected floating point (float64, or float32)",
                       ["integer or boolean arrays lose the fractional part: build it with np.zeros(shape), "
                        "which is float64" if got.dtype.kind in "biu" else "convert it to float64"])
    rtol = RTOL[got.dtype]
    got64 = got.astype(np.float64)
    err = np.abs(got64 - ref)
    scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
    ok = err <= rtol * (np.abs(ref) + 0.1 * scale)
    if not np.all(ok):
        bad = np.where(np.isnan(err), np.inf, err)
        where = np.unravel_index(int(np.argmax(bad)), ref.shape)
        rel = bad / np.maximum(np.abs(ref), 1e-12)
        raise Mismatch(name, f"{name} has wrong values ({int(np.sum(~ok))} of {ok.size} entries off)", [
            f"largest absolute error {float(np.max(bad)):.3g} at index {_where(where)}: "
            f"got {got64[where]:.6g}, expected {ref[where]:.6g}",
            f"largest relative error {float(np.max(rel)):.3g} (tolerance for {got.dtype}: rtol {rtol:g})"])


def compare_scalar(name, got, ref):
    """A single number: a Python float or int, a NumPy scalar or a 0-d array."""
    if isinstance(got, bool) or not (isinstance(got, (int, float, np.generic)) or
                                     (isinstance(got, np.ndarray) and got.ndim == 0)):
        shape = getattr(got, "shape", None)
        raise Mismatch(name, f"{name} should be a single number, got "
                       + (f"an array of shape {shape}" if shape is not None else type(got).__name__),
                       ["b has shape (1, 1, 1): add its one value (b.item()), not the array"] if shape else [])
    value = np.asarray(got)
    if value.dtype not in RTOL:
        value = value.astype(np.float64) if value.dtype.kind in "iu" else value
    if value.dtype.kind not in "fiu":
        raise Mismatch(name, f"{name} has dtype {value.dtype}; expected a real number")
    compare_array(name, value.astype(np.float64 if value.dtype.kind in "iu" else value.dtype), np.asarray(ref, dtype=np.float64))


def compare_mask(name, got, ref):
    """A boolean array (0/1 numbers are accepted too: the mask is used by multiplication)."""
    if not isinstance(got, np.ndarray):
        raise Mismatch(name, f"{name} should be a NumPy array of shape {ref.shape}, got {type(got).__name__}")
    if got.shape != ref.shape:
        raise Mismatch(name, f"{name} has shape {got.shape}, expected {ref.shape}")
    if got.dtype.kind not in "biuf" or not np.all((got == 0) | (got == 1)):
        raise Mismatch(name, f"{name} should hold True/False (or 1/0), got values {np.unique(got)[:5].tolist()}")
    if not np.array_equal(got.astype(bool), ref):
        raise Mismatch(name, f"{name} is {got.astype(bool).astype(int).tolist()}, expected {ref.astype(int).tolist()}",
                       ["the mask marks the single maximum of the window it is given"])


def _same_input(item, given):
    """Whether a cache's item is the input `given`, unchanged (a dict equal to it, or an equal array)."""
    if isinstance(given, dict):
        try:  # a dict of arrays compares to a dict of numbers by arrays (no truth value): not the input
            return isinstance(item, dict) and bool(item == given)
        except Exception:
            return False
    return isinstance(item, np.ndarray) and item.shape == given.shape and np.array_equal(item, given)


def held(got, inputs, names):
    """What a cache of the wrong length holds, item by item: an input as given, or an array's shape, a dict's
    keys, a type (at most 6 items)."""
    def one(item):
        for n, x in zip(names, inputs):
            if _same_input(item, x):
                return f"{n} as given"
        if isinstance(item, np.ndarray):
            return f"an array of shape {item.shape}"
        return f"a dict with keys {short(list(item)[:6], 80)}" if isinstance(item, dict) else type(item).__name__
    items = [one(item) for item in got[:6]] + (["..."] if len(got) > 6 else [])
    return f"your cache holds: ({', '.join(items)})"


def compare_sequence(name, got, length, names):
    if not isinstance(got, (tuple, list)) or len(got) != length:
        what = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
        raise Mismatch(name, f"{name} should return the tuple ({', '.join(names)}), got {what}")
    return got


def compare_cache(got, inputs, names):
    """A forward's cache must be the tuple of its inputs (the backward pass reads it)."""
    want = f"the tuple ({', '.join(names)})"
    if not isinstance(got, tuple) or len(got) != len(inputs):
        raise Mismatch("cache", f"cache should be {want}, got {type(got).__name__}"
                       + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""),
                       [held(got, inputs, names)] if isinstance(got, (tuple, list)) else [])
    for n, g, x in zip(names, got, inputs):
        if isinstance(x, dict):
            if not isinstance(g, dict) or g != x:
                raise Mismatch("cache", f"cache should hold {n} = {x} as given, got {short(g)}")
        else:
            try:
                compare_array(f"cache's {n}", g, x)
            except Mismatch as m:
                raise Mismatch("cache", m.problem + f" (cache should be {want}, the inputs as given)", m.details)
