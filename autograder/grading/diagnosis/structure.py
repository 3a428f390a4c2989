"""A result of the wrong kind explained by what it holds (form (c), "structure").

When every failing case of a function failed on what its result IS rather than on its values, and no named
mistake, cascade, exception, shape or signature covers it, the verdict gains facts read from what the kernel
sent (decoded data: arrays, numbers, lists, dicts; never objects). Per failing case, one of:

- a Python list or tuple, or a single number, where an array is expected: how it nests, and read as an array
  (np.asarray), its shape and whether its values are the book's;
- an integer or boolean array where floats are expected: whether its entries are the book's cut to integers;
- a function that returns one value where it returns a tuple: what that value is (the book's first output?);
- a cache of the wrong length: which inputs it holds as given, and when its other items are exactly the
  values of the hyper-parameters dict, that it holds them one by one instead of the dict;
- a cache item that is not its input: whether it is another input (items in another order) or the input
  zero-padded by the case's pad.

Facts only, each true of the case it is told for; when a failing case shows none of these, nothing is added.
Nothing here runs student code. Arrays: as the judge's messages say (A_prev (m, n_H, n_W, n_C), ...).

Two users, one text: the SHIPPED part below is copied into every helper module (tools/make_notebooks.py), where
the visible checks say the same facts of the student's own result. So it uses only NumPy and `_same_input`,
which a helper module defines as cases/compare.py does.
"""
import numpy as np

from ..cases import functions
from ..cases.compare import _same_input  # noqa: F401 (the shipped part reads it, as a helper module's own)

LABELS = {"list": "a list or number, not an array", "dtype": "an integer array", "returns": "one value, not a tuple",
          "cache_dict_unpacked": "the cache holds the dict's values, not the dict",
          "cache_length": "a cache of the wrong length", "cache_item": "a cache item that is not its input"}


def explained(function, judged):
    """("structure", key, label, {grade_id: lines}, ()) when every failing case's result is of the wrong kind
    and each says what it holds; else None."""
    fails = [j for j in judged if not j.passed and j.outcome is not None]
    if not fails or any(j.outcome[0] != "ok" or j.mismatch is None for j in fails):
        return None
    found = {j.grade_id: _case(functions.FUNCTIONS[function], j) for j in fails}
    if any(f is None for f in found.values()):
        return None
    kinds = list(dict.fromkeys(kind for kind, _ in found.values()))
    key = kinds[0] if len(kinds) == 1 else "+".join(sorted(kinds))
    return ("structure", f"structure:{key}", LABELS.get(key, "results of the wrong kind"),
            {gid: lines for gid, (_, lines) in found.items()}, ())


def _case(declared, j):
    """(kind, lines) for one failing case, or None."""
    m, result = j.mismatch, j.record.result
    args, _ = j.case.inputs()
    ref = j.case.reference()
    if m.what == "cache":
        if not (isinstance(result, (tuple, list)) and len(result) == len(declared.returns)):
            return None
        return cache_facts(list(declared.cache), list(args[:len(declared.cache)]),
                           result[declared.returns.index("cache")])
    if m.problem.startswith(f"{declared.name} should return the tuple"):
        return returns_facts(declared.name, declared.returns, result, ref[0])
    if m.what not in {o.name for o in declared.outputs}:
        return None
    index = declared.returns.index(m.what) if declared.returns else None
    got = result if index is None else (result[index] if isinstance(result, (tuple, list)) else None)
    if "should be a NumPy array" in m.problem or "should be a single number" in m.problem or " has dtype " in m.problem:
        return kind_facts(m.what, got, ref if index is None else ref[index])
    return None


# ---- BEGIN SHIPPED (autograder/grading/diagnosis/structure.py; tools/make_notebooks.py copies it) ----
def kind_facts(what, got, want):
    """(kind, lines) for a result that is not a float array: a list or tuple, a number, None where an array is
    expected, or an integer array; else None. want: the book's array (or number)."""
    want = np.asarray(want, dtype=np.float64)
    if isinstance(got, np.ndarray) and got.dtype.kind in "biu" and got.shape == want.shape and want.ndim:
        cut = np.array_equal(got.astype(np.float64), np.trunc(want))
        return "dtype", [f"your {what} holds integers (dtype {got.dtype}); " + (
            "its entries are the book's with the fractional part cut off: an array built with an integer dtype "
            "(from an integer array, or dtype=int) keeps only integers" if cut else
            "its entries are not the book's, even cut to integers")]
    if isinstance(got, np.ndarray) or not want.ndim:
        return None
    if got is None:
        return "list", [f"your {what} is None, not an array: None is what a function without a return value gives "
                        f"back, and what calls that work in place (np.copyto, list.sort) return"]
    if isinstance(got, (int, float, np.generic)) and not isinstance(got, bool):
        return "list", [f"your {what} is a single number ({float(got):.6g}) where the book's is an array of shape "
                        f"{want.shape}"]
    if not isinstance(got, (list, tuple)):
        return None
    arr = _read_as_array(got)
    lines = [f"your {what} is {_nested(got)}, not a NumPy array"]
    if arr is None:
        lines.append("it cannot be read as an array of numbers (rows of different lengths, or items that are "
                     "not numbers)")
    elif arr.shape != want.shape:
        lines.append(f"read as an array it has shape {arr.shape}; the book's {what} has shape {want.shape}")
    elif _book_close(arr, want):
        lines.append(f"read as an array it has the book's shape {want.shape} and values: only its kind is wrong "
                     f"(np.array(...) of it, or building it with NumPy, makes it an array)")
    else:
        lines.append(f"read as an array it has the book's shape {want.shape}, but not its values")
    return "list", lines


def returns_facts(name, returns, result, first):
    """(kind, lines) for a function that returns one value where it returns the tuple `returns`; first: the
    book's first output (None: not known, nothing said of it)."""
    names = ", ".join(returns)
    if isinstance(result, np.ndarray):
        first = None if first is None else np.asarray(first, dtype=np.float64)
        same = first is not None and result.shape == first.shape and result.dtype.kind in "biuf" and \
            _book_close(result, first)
        return "returns", [f"your {name} returns one array of shape {result.shape}, not the tuple ({names})"
                           + (f"; it is the book's {returns[0]}" if same else "")]
    if isinstance(result, (tuple, list)):
        return "returns", [f"your {name} returns {_nested(result)}; the book's returns the tuple ({names}) "
                           f"of {len(returns)} items"]
    return None


def cache_facts(names, inputs, cache):
    """(kind, lines) for a cache that is not the tuple of the inputs `names` as given: its length, which inputs
    it holds, the dict's values held one by one; an item that is another input or the input zero-padded."""
    if not isinstance(cache, (tuple, list)):
        return None
    if len(cache) != len(inputs):
        return _cache_length(names, inputs, list(cache))
    for n, item, given in zip(names, cache, inputs):
        if _same_input(item, given):
            continue
        for other_name, other in zip(names, inputs):
            if other_name != n and _same_input(item, other):
                return "cache_item", [f"your cache's item for {n} is {other_name} as given: the cache holds the inputs "
                                      f"in another order than ({', '.join(names)}), the order the backward pass "
                                      f"unpacks"]
        pad = next((x.get("pad") for x in inputs if isinstance(x, dict)), None)
        if isinstance(item, np.ndarray) and isinstance(given, np.ndarray) and pad and given.ndim == 4:
            padded = np.pad(given, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
            if item.shape == padded.shape and np.array_equal(item, padded):
                return "cache_item", [f"your cache's {n} is the input zero-padded by pad = {pad}, shape {item.shape}: "
                                      f"the cache holds {n} as given, of shape {given.shape}"]
        return None
    return None


def _cache_length(names, inputs, items):
    held = [n for n, x in zip(names, inputs) if any(_same_input(item, x) for item in items)]
    missing = [n for n in names if n not in held]
    head = (f"your cache has {len(items)} items where the book's has {len(names)}, ({', '.join(names)}), which the "
            f"backward pass unpacks in that order")
    dicts = [(n, x) for n, x in zip(names, inputs) if isinstance(x, dict)]
    rest = [item for item in items if not any(_same_input(item, x) for x in inputs)]
    if len(dicts) == 1 and missing == [dicts[0][0]] and rest and _dict_values_held(rest, dicts[0][1]):
        n, d = dicts[0]
        told = ", ".join(f"{k} = {v}" for k, v in d.items())
        return "cache_dict_unpacked", [head, f"it holds {', '.join(held)} as given and the values of {n} ({told}) one "
                                             f"by one, where the book's holds the dict {n} itself"]
    said = f"it holds {', '.join(held)} as given" if held else "it holds none of the inputs as given"
    return "cache_length", [head, said + (f"; {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing"
                                          if missing and held else "")]


def _dict_values_held(items, d):
    """The items are exactly the dict's values (each once, in any order), all numbers."""
    values = list(d.values())
    if len(items) != len(values):
        return False
    if not all(isinstance(v, (int, float, np.generic)) and not isinstance(v, bool) for v in items + values):
        return False
    return sorted(float(v) for v in items) == sorted(float(v) for v in values)


def _read_as_array(value):
    """value read as a float array, or None (ragged lists, strings, objects)."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _book_close(got, want):
    """Equal within the judge's float64 tolerance (cases/compare.py's compare_array)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
    return bool(np.all(np.abs(got - want) <= 1e-7 * (np.abs(want) + 0.1 * scale)))


def _nested(value):
    """'a Python list of 2 lists of 3 numbers' (at most four levels; items told alike only when they are alike)."""
    def kind(v):
        if isinstance(v, (list, tuple)):
            return type(v).__name__, len(v)
        if isinstance(v, np.ndarray):
            return "array", v.shape
        return ("number", None) if isinstance(v, (int, float, np.generic)) and not isinstance(v, bool) else \
            (type(v).__name__, None)

    def one(v, depth):
        if isinstance(v, (list, tuple)) and depth < 4:
            alike = len({kind(x) for x in v}) == 1
            inner = one(v[0], depth + 1) if alike else "items of different kinds or lengths" if len(v) else "items"
            return (f"{type(v).__name__}s" if depth else f"a Python {type(v).__name__}") + f" of {len(v)} {inner}"
        if isinstance(v, np.ndarray):
            return f"arrays of shape {v.shape}" if depth else f"an array of shape {v.shape}"
        return "numbers" if kind(v)[0] == "number" else f"{type(v).__name__}s"
    return one(value, 0)
# ---- END SHIPPED ----
