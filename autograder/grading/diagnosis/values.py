"""Wrong values explained: where the wrong entries of a result of the right shape are (form (c), "values").

When every failing case of a function returned its output with the right shape and wrong values, and no named
mistake, cascade, exception, shape or structural signature covers it, the verdict gains at most three lines of
facts, computed by the trusted side from the returned and expected arrays of every case of the function
(passing cases included: there the returned array is the expected one), in this order:

1. a position: your values are the book's at another position, one index map for every case, e.g.
   "A[i, h, w, c] = expected[0, h, w, c]" (every example gets example 0's values), "expected[i, w, h, c]"
   (rows and columns exchanged) or "expected[-1-i, -1-j, k, c]" (the kernel turned round). The family is small
   (per axis: the same index, the first, the last, reversed; at most two axes changed; the image's rows and
   columns exchanged or not) and a map is said only when it gives every case's values within the judge's
   tolerance and no other map of the family (one that moves the entries differently) does too;
2. which entries are right in every case and which are wrong in every failing case: over the image's positions
   (the first row and column, the border) or along one axis (examples i, rows h, columns w, channels c; dW's
   kernel rows i, kernel columns j, input channels k and filters c), when one description (the first, the last,
   the first and last, all but the first, ...) gives exactly the wrong indices of every failing case;
3. along which axes your values do not change, in every failing case, where the book's do;
4. your array is all 0, or every wrong entry is 0 where the book's is not (or the book's is 0 where yours is not);
5. only when none of these holds: your entries add up to the book's total in every failing case (a total not 0).

The output the judge found wrong comes first; when its arrays show none of these, another output of the
function wrong in every failing case is read the same way, and its lines say which (conv_backward's verdict
about dW may say "dA_prev is wrong too: in every failing case, your dA_prev is all 0").

Facts only: no line says what the code does; a description some failing case contradicts is not said, and
when nothing holds, nothing is added. Nothing here runs student code.

Arrays: Z, A, dA_prev, X_pad (m, n_H, n_W, n_C); dW (f, f, n_C_prev, n_C); db (1, 1, 1, n_C);
a mask and distribute_value's a (n_H, n_W).
"""
import itertools

import numpy as np

from ..cases import functions
from .signatures import _close, graded_array, reference

_LAYER = (("example", "i"), ("row", "h"), ("column", "w"), ("channel", "c"))
_PLANE = (("row", "h"), ("column", "w"))
# (function, output) -> ((axis word, index letter), ...), the unit an entry is, the two axes of the image's plane
AXES = {
    ("conv_forward", "Z"): (_LAYER, "window", (1, 2)),
    ("pool_forward", "A"): (_LAYER, "window", (1, 2)),
    ("zero_pad", "X_pad"): (_LAYER, "entry", (1, 2)),
    ("conv_backward", "dA_prev"): (_LAYER, "entry", (1, 2)),
    ("pool_backward", "dA_prev"): (_LAYER, "entry", (1, 2)),
    ("conv_backward", "dW"): ((("kernel row", "i"), ("kernel column", "j"), ("input channel", "k"),
                               ("filter", "c")), "entry", (0, 1)),
    ("conv_backward", "db"): ((("", "0"), ("", "0"), ("", "0"), ("channel", "c")), "entry", None),
    ("create_mask_from_window", "mask"): (_PLANE, "entry", (0, 1)),
    ("distribute_value", "a"): (_PLANE, "entry", (0, 1)),
}
MAX_LINES = 3
PLURAL = {"entry": "entries"}


def _rows(function, judged, what=None):
    """[(got, ref, passed)] of `what` over every case with a result, when every failing case returned it with the
    right shape and wrong values; else None. what=None: the output the judge found wrong (the same in every
    failing case); another output must be wrong in every failing case too."""
    fails = [j for j in judged if not j.passed and j.outcome is not None]
    if not fails or any(j.mismatch is None or j.outcome[0] != "ok" for j in fails):
        return None
    first = what is None
    what = fails[0].mismatch.what if first else what
    if (function, what) not in AXES or first and any(j.mismatch.what != what or not _wrong_values(j.mismatch)
                                                     for j in fails):
        return None
    ndim = len(AXES[function, what][0])
    rows = []
    for j in judged:
        if j.case is None or j.outcome is None or j.outcome[0] != "ok":
            continue
        ref = graded_array(function, reference(j.grade_id), what)
        got = graded_array(function, j.record.result, what) if not j.passed else ref  # passed: got is ref
        if ref is None or ref.ndim != ndim:
            return None
        if got is None or got.shape != ref.shape or not np.all(np.isfinite(got.astype(np.float64))):
            return None
        if not j.passed and not first and not _bad(np.asarray(got), np.asarray(ref)).any():
            return None  # right in this failing case: "in every failing case" would not hold
        rows.append((np.asarray(got), np.asarray(ref), j.passed))
    return rows


def _wrong_values(mismatch):
    return "has wrong values" in mismatch.problem or (mismatch.what == "mask" and " is [" in mismatch.problem)


def _bad(got, ref):
    """Where got is off (the judge's tolerance for got's dtype), as a boolean array of ref's shape."""
    return ~_close(got.astype(np.float64) if got.dtype == bool else got, ref.astype(np.float64))


# ----------------------------------------------------------------------------- 1. a position

_MAPS = {"same": lambda n: np.arange(n), "first": lambda n: np.zeros(n, int),
         "last": lambda n: np.full(n, n - 1), "reversed": lambda n: np.arange(n)[::-1]}


def _text_of(kind, letter):
    return {"same": letter, "first": "0", "last": "-1", "reversed": f"-1-{letter}"}[kind]


def _candidates(ndim, plane):
    """(maps per axis, swap) with at most two axes changed; swap exchanges the plane's two axes first."""
    for changed in range(0, 3):
        for axes in itertools.combinations(range(ndim), changed):
            for kinds in itertools.product(("first", "last", "reversed"), repeat=changed):
                maps = ["same"] * ndim
                for a, k in zip(axes, kinds):
                    maps[a] = k
                for swap in ((False, True) if plane else (False,)):
                    if changed or swap:
                        yield tuple(maps), swap


def _index(maps, swap, plane, shape):
    """The flat index into ref of each entry of got under (maps, swap), or None when swap needs a square plane."""
    if swap and shape[plane[0]] != shape[plane[1]]:
        return None
    grids = list(np.meshgrid(*[_MAPS[k](n) for k, n in zip(maps, shape)], indexing="ij"))
    if swap:  # got[.., h, w, ..] reads ref[.., g(w), g(h), ..]
        grids[plane[0]], grids[plane[1]] = grids[plane[1]], grids[plane[0]]
    return np.ravel_multi_index(grids, shape)


def position(what, rows, axes, plane):
    """(id, line) when exactly one index map of the family gives every case's values; else None."""
    fitting = {}  # how the map moves the entries in every case -> the first (simplest) map that does so
    for maps, swap in _candidates(len(axes), plane):
        moved, fits = [], True
        for got, ref, _ in rows:
            index = _index(maps, swap, plane, ref.shape)
            if index is None or not np.all(_close(got, ref.reshape(-1)[index])):
                fits = False
                break
            moved.append(index.tobytes())
        if fits and any(not np.array_equal(np.frombuffer(m, dtype=int), np.arange(ref.size))
                        for m, (_, ref, _) in zip(moved, rows)):
            fitting.setdefault(tuple(moved), (maps, swap))
    if len(fitting) != 1:
        return None  # none, or two maps that move the entries differently: two readings
    maps, swap = next(iter(fitting.values()))
    letters = [letter for _, letter in axes]
    read = [_text_of(k, letter) for k, letter in zip(maps, letters)]
    if swap:
        read[plane[0]], read[plane[1]] = read[plane[1]], read[plane[0]]
    words = [f"every {word} gets {word} 0's values" if k == "first" else f"every {word} gets the last {word}'s values"
             if k == "last" else f"the {word}s in reverse order" for (word, _), k in zip(axes, maps) if k != "same"]
    if swap:
        words.insert(0, f"{axes[plane[0]][0]}s and {axes[plane[1]][0]}s exchanged")
    key = "+".join(([f"swap_{letters[plane[0]]}{letters[plane[1]]}"] if swap else [])
                   + [f"{k}_{letter}" for k, letter in zip(maps, letters) if k != "same"])
    return f"position:{key}", (f"your values are the book's at another position, {_all(rows)}: "
                               f"{what}[{', '.join(letters)}] = expected[{', '.join(read)}] ({'; '.join(words)}).")


# ----------------------------------------------------------------------------- 2. which entries are right

# (id, indices wrong of an axis of size n, words for the wrong ones, words for the right ones)
_ALONG = [
    ("first", lambda n: {0}, "the first {word} ({letter} = 0)", "every other {word}"),
    ("last", lambda n: {n - 1}, "the last {word}", "every other {word}"),
    ("not_first", lambda n: set(range(1, n)), "every {word} but the first", "{word} 0 ({letter} = 0)"),
    ("not_last", lambda n: set(range(n - 1)), "every {word} but the last", "the last {word}"),
    ("first_last", lambda n: {0, n - 1}, "the first and last {word}s", "the {word}s between the first and the last"),
    ("inner", lambda n: set(range(1, n - 1)), "the {word}s between the first and the last",
     "the first and last {word}s"),
]
# (id, positions (h, w) wrong of an (H, W) plane, words for the wrong ones, words for the right ones)
_PLANE_REGIONS = [
    ("border", lambda h, w, H, W: (h == 0) | (h == H - 1) | (w == 0) | (w == W - 1),
     "{unit} on the border (the first or last row or column)", "the inner {units}"),
    ("first_row_column", lambda h, w, H, W: (h == 0) | (w == 0), "{unit} in the first row or column",
     "the rest"),
    ("after_first_row_column", lambda h, w, H, W: (h > 0) & (w > 0), "{unit} off the first row and column",
     "the first row and the first column"),
    ("last_row_column", lambda h, w, H, W: (h == H - 1) | (w == W - 1), "{unit} in the last row or column",
     "the rest"),
    ("before_last_row_column", lambda h, w, H, W: (h < H - 1) & (w < W - 1),
     "{unit} off the last row and column", "the last row and the last column"),
]


def _fits(wrong_sets, describe):
    """describe gives exactly the wrong set of every failing case, and leaves something right in one of them."""
    return all(np.array_equal(wrong, describe(wrong.shape)) for wrong in wrong_sets) and \
        any(not describe(wrong.shape).all() for wrong in wrong_sets)


def where_right(rows, axes, unit, plane):
    """[(id, line)]: a region of the plane, else one line per axis, whose description fits every failing case."""
    bads = [_bad(got, ref) for got, ref, passed in rows if not passed]
    every = "in every failing case" if len(bads) > 1 else "in the failing case"
    out = []
    if plane:
        others = tuple(a for a in range(len(axes)) if a not in plane)
        planes = [bad.any(axis=others) if others else bad for bad in bads]
        for name, region, wrong, right in _PLANE_REGIONS:
            def describe(shape, region=region):
                h, w = np.indices(shape)
                return region(h, w, *shape)
            if _fits(planes, describe):
                full = all((bad.all(axis=others) if others else bad)[describe(p.shape)].all()
                           for bad, p in zip(bads, planes))
                units = PLURAL.get(unit, unit + "s")
                out.append((f"plane:{name}", f"right {_all(rows)}: {right.format(units=units)}; wrong "
                            f"{every}: {'every entry of every ' if full else 'some entries of every '}"
                            f"{wrong.format(unit=unit)}."))
                break
    for a, (word, letter) in enumerate(axes):
        if not word or (plane and out and a in plane):
            continue
        others = tuple(b for b in range(len(axes)) if b != a)
        wrong_sets = [bad.any(axis=others) for bad in bads]
        for name, indices, wrong, right in _ALONG:
            def describe(shape, indices=indices):
                mask = np.zeros(shape, bool)
                mask[sorted(i for i in indices(shape[0]) if 0 <= i < shape[0])] = True
                return mask
            if _fits(wrong_sets, describe):
                full = all(np.moveaxis(bad, a, 0)[describe(w.shape)].all() for bad, w in zip(bads, wrong_sets))
                sizes = {w.shape[0] for w in wrong_sets}
                if len(sizes) == 1:  # one size in every failing case: the indices themselves say it plainest
                    wrong_at = np.flatnonzero(wrong_sets[0])
                    right = _indices(word, letter, np.setdiff1d(np.arange(sizes.pop()), wrong_at))
                    wrong = _indices(word, letter, wrong_at)
                else:
                    right, wrong = right.format(word=word, letter=letter), wrong.format(word=word, letter=letter)
                out.append((f"{letter}:{name}", f"right {_all(rows)}: {right}; wrong {every}: "
                            f"{'every entry of ' if full else 'entries in '}{wrong}."))
                break
    return out


def _indices(word, letter, ks):
    """Indices along one axis in words: "example i = 0", "channels c = 1 and 2"."""
    if len(ks) == 1:
        return f"{word} {letter} = {ks[0]}"
    return f"{PLURAL.get(word, word + 's')} {letter} = {_and([str(k) for k in ks])}"


# ----------------------------------------------------------------------------- 3. constant, 4. zeros

def constant(what, rows, axes):
    """(id, line) naming the axes along which every failing case's values do not change while the book's do."""
    fails = [(got, ref) for got, ref, passed in rows if not passed]
    flat = []
    for a, (word, letter) in enumerate(axes):
        seen = [(got, ref) for got, ref in fails if got.shape[a] > 1]
        if word and seen and all(_same_along(got, a) and not _same_along(ref, a) for got, ref in seen):
            flat.append(a)
    if not flat:
        return None
    letters = [axes[a][1] for a in flat]
    rest = [axes[a][0] for a in range(len(axes)) if a not in flat and axes[a][0]]
    where = f" (for each {_and(rest)})" if rest else ""
    every = "in every failing case" if len(fails) > 1 else "in the failing case"
    return (f"constant:{''.join(letters)}", f"{every}, your {what} is the same for every {_and(letters)}{where}, "
                                             f"where the book's is not.")


def _same_along(x, axis):
    x = x.astype(np.float64)
    return bool(np.all(_close(x, np.take(x, [0], axis=axis))))


def _all(rows):
    return f"in all {len(rows)} cases" if len(rows) > 1 else "in the one case"


def _and(names):
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def zeros(what, rows):
    """(id, line) when every wrong entry of every failing case is 0 where the book's is not, or the reverse."""
    pairs = [(got.astype(np.float64), ref.astype(np.float64), _bad(got, ref)) for got, ref, passed in rows
             if not passed]
    every = "in every failing case" if len(pairs) > 1 else "in the failing case"
    count = sum(int(bad.sum()) for _, _, bad in pairs)
    zero, other = ("False", "True") if what == "mask" else ("0", "nonzero")
    if not any(got.any() for got, _, _ in pairs):
        return "all_zeros", f"{every}, your {what} is all {zero}, where the book's is not."
    if all(np.all(got[bad] == 0) for got, _, bad in pairs):
        return "zeros", (f"{every}, every wrong entry of your {what} is {zero} where the book's is not "
                         f"({count} wrong entries in all).")
    if all(np.all(ref[bad] == 0) for _, ref, bad in pairs):
        return "nonzero", (f"{every}, every wrong entry of your {what} is {other} where the book's is {zero} "
                           f"({count} wrong entries in all).")
    return None


def total(what, rows):
    """(id, line) when in every failing case the entries of `what` add up to the book's total, a total that is not
    0 in some case (the amount is right, where it lands is not). Said only when no other fact is."""
    pairs = [(got.astype(np.float64), ref.astype(np.float64)) for got, ref, passed in rows if not passed]
    if what == "mask" or not pairs or not any(abs(ref.sum()) > 1e-3 * np.abs(ref).sum() for _, ref in pairs):
        return None
    if not all(bool(_close(np.array(got.sum()), np.array(ref.sum()))) for got, ref in pairs):
        return None
    every = "in every failing case" if len(pairs) > 1 else "in the failing case"
    return "total", (f"{every}, the entries of your {what} add up to the book's total: the amount that reaches "
                     f"{what} is right, the entries it lands in are not.")


# ----------------------------------------------------------------------------- the form

def explained(function, judged):
    """("values", key, label, {grade_id: lines}, ()) for a function whose failing cases all returned the right
    shape with wrong values and whose arrays show where, else None. The lines go to every failing case.

    The output the judge found wrong first; when its arrays show nothing, another output of the function that
    is wrong in every failing case (conv_backward's dA_prev when the verdict is about dW), named in its lines."""
    first = _rows(function, judged)
    if first is None:
        return None
    what = next(j.mismatch.what for j in judged if not j.passed and j.outcome is not None)
    outputs = [what] + [o.name for o in functions.FUNCTIONS[function].outputs if o.name != what]
    for out in outputs:
        rows = first if out == what else _rows(function, judged, out)
        if rows is None:
            continue
        axes, unit, plane = AXES[function, out]
        zero = zeros(out, rows)
        flat = None if zero and zero[0] == "all_zeros" else constant(out, rows, axes)  # all 0 says it already
        facts = [f for f in [position(out, rows, axes, plane) if plane else None,
                             *where_right(rows, axes, unit, plane), flat, zero] if f] or [
            f for f in [total(out, rows)] if f]
        if facts:
            break
    else:
        return None
    lines = [line for _, line in facts[:MAX_LINES]]
    if out != what:  # say which array the lines are about
        lines = [f"{out} is wrong too: {lines[0]}"] + [x if f"your {out}" in x or f"{out}[" in x else f"{out}: {x}"
                                                      for x in lines[1:]]
    fails = [j for j in judged if not j.passed and j.outcome is not None]
    return ("values", f"values:{out}:{facts[0][0]}", f"{out}: {_label(facts[0][0])}",
            {j.grade_id: list(lines) for j in fails}, ())


def _label(fact):
    """A few words for the instructor's class view, from a fact's id."""
    kind, _, rest = fact.partition(":")
    if kind in ("position", "plane", "constant"):
        return {"position": "the book's values at another position", "plane": "wrong in one region of the image",
                "constant": f"the same for every {_and(list(rest))}"}[kind]
    return {"zeros": "0 where the book's is not", "nonzero": "not 0 where the book's is", "all_zeros": "all 0",
            "total": "the right total in the wrong entries"}.get(kind, f"wrong only at some {kind} indices")
