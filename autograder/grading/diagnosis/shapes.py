"""A result of the wrong shape, explained: the shape analogue of an exception explained at the student's line.

When a failing function returns an array whose shape differs from the expected one (and nothing named the
mistake), the verdict gains, per wrong axis, which axis it is, the size the book's equation gives with this
case's numbers written out, and the size returned, e.g.

    axis 2 (n_W): n_W = floor((n_W_prev + 2 pad - f) / stride) + 1 = floor((4 + 2*0 - 2) / 2) + 1 = 2; yours is 1

and, only when every case of the function settles it, what the returned size is consistent with: the one
hypothesis (below) that gives the size returned on every case, passing cases included, while the book's
equation does not. Two hypotheses that both fit, or a case that returned no array of the right number of
axes, leave only the facts. A student's int() truncates toward zero where the book floors: the two differ only
for a negative quotient, so the int() readings are consulted only when no floor reading fits at all. Nothing here runs student code: the sizes come from the recorded results and the
cases' own inputs.

Arrays: a layer's A_prev (m, n_H_prev, n_W_prev, n_C_prev); W (f, f, n_C_prev, n_C); Z, A, dA
(m, n_H, n_W, n_C); a window x and distribute_value's output (n_H, n_W).
"""
import inspect
import math

import solutions

from ..cases import functions
from .signatures import graded_array

def _floor(x):
    return math.floor(x + 1e-9)


def _size(n, f, s, p):
    """The book's output size (eq-output-size), floor((n + 2p - f) / s) + 1."""
    return (n + 2 * p - f) // s + 1


def quantities(case):
    """{name: number} a case gives: the input's sizes, f, stride, pad (0 for pooling), n_C (conv)."""
    args, kwargs = case.inputs()
    fn = case.function
    if fn in ("conv_forward", "pool_forward"):
        A_prev, hp = args[0], (args[3] if fn == "conv_forward" else args[1])
        q = {"f": args[1].shape[0], "n_C": args[1].shape[3]} if fn == "conv_forward" else {"f": hp["f"]}
        q.update(stride=hp["stride"], pad=hp.get("pad", 0))
    elif fn in ("conv_backward", "pool_backward"):
        A_prev, hp = args[1][0], args[1][-1]
        q = {"f": args[1][1].shape[0] if fn == "conv_backward" else hp["f"], "stride": hp["stride"],
             "pad": hp.get("pad", 0)}
        q.update(n_H=args[0].shape[1], n_W=args[0].shape[2], n_C=args[0].shape[3])
    elif fn == "zero_pad":
        A_prev, q = args[0], {"pad": args[1]}
    else:
        return {}
    q.update(zip(("m", "n_H_prev", "n_W_prev", "n_C_prev"), A_prev.shape))
    return q


# (axis name, equation text, size) per axis of each graded output, from a case's quantities q
def _spatial(axis, conv):
    prev = f"{axis}_prev"
    text = f"floor(({prev} + 2 pad - f) / stride) + 1" if conv else f"floor(({prev} - f) / stride) + 1"

    def numbers(q):
        inner = f"{q[prev]} + 2*{q['pad']} - {q['f']}" if conv else f"{q[prev]} - {q['f']}"
        return f"floor(({inner}) / {q['stride']}) + 1"
    return axis, text, numbers, lambda q: _size(q[prev], q["f"], q["stride"], q["pad"])


def _same(axis, source, text):
    return axis, text, lambda q: str(q[source]), lambda q: q[source]


M = _same("m", "m", "A_prev.shape[0]")
AXES = {
    ("conv_forward", "Z"): [M, _spatial("n_H", True), _spatial("n_W", True),
                            _same("n_C", "n_C", "W.shape[3] (the number of filters)")],
    ("pool_forward", "A"): [M, _spatial("n_H", False), _spatial("n_W", False),
                            _same("n_C", "n_C_prev", "n_C_prev (pooling keeps the channels)")],
    ("zero_pad", "X_pad"): [_same("m", "m", "X.shape[0]"),
                            *[(a, f"{a}_prev + 2 pad", lambda q, a=a: f"{q[a + '_prev']} + 2*{q['pad']}",
                               lambda q, a=a: q[a + "_prev"] + 2 * q["pad"]) for a in ("n_H", "n_W")],
                            _same("n_C", "n_C_prev", "X.shape[3]")],
    **{(fn, "dA_prev"): [_same(a, a, f"A_prev.shape[{k}]")
                         for k, a in enumerate(("m", "n_H_prev", "n_W_prev", "n_C_prev"))]
       for fn in ("conv_backward", "pool_backward")},
}


WORDS = {"m": "m, the number of examples", "n_H_prev": "n_H_prev, the input's height",
         "n_W_prev": "n_W_prev, the input's width", "n_C_prev": "n_C_prev, the input's channels",
         "f": "f, the window's size", "n_C": "n_C, the number of filters", "n_H": "n_H, dZ's height",
         "n_W": "n_W, dZ's width"}


def _truncate(x):
    return math.trunc(x + (1e-9 if x >= 0 else -1e-9))


def _divided(axis, conv, rounding):
    """The readings of a wrong n_H or n_W that divide by a stride, rounding the quotient with `rounding`."""
    own, other = f"{axis}_prev", ("n_W_prev" if axis == "n_H" else "n_H_prev")
    sized = lambda n, f, s, p: rounding((n + 2 * p - f) / s) + 1  # noqa: E731
    return [
        ("other_axis", f"the equation with {other}'s numbers in place of {own}'s",
         lambda q: sized(q[other], q["f"], q["stride"], q["pad"])),
        ("channels", f"the equation with n_C_prev (the channels) in place of {own}",
         lambda q: sized(q["n_C_prev"], q["f"], q["stride"], q["pad"])),
        *[(f"stride_{k}", f"the equation with stride {k}, whatever stride the case gives",
           lambda q, k=k: sized(q[own], q["f"], k, q["pad"])) for k in (1, 2, 3)],
        *([("no_pad", "the equation without the padding (pad = 0)", lambda q: sized(q[own], q["f"], q["stride"], 0))]
          if conv else []),
        ("f_for_stride", "the equation with f in place of the stride",
         lambda q: sized(q[own], q["f"], q["f"], q["pad"])),
        ("f_stride_exchanged", "the equation with f and the stride exchanged",
         lambda q: sized(q[own], q["stride"], q["f"], q["pad"])),
        ("no_plus_one", "the equation without its + 1", lambda q: sized(q[own], q["f"], q["stride"], q["pad"]) - 1),
        ("plus_two", "the equation with + 2 in place of + 1",
         lambda q: sized(q[own], q["f"], q["stride"], q["pad"]) + 1),
        ("no_f", "the equation without f", lambda q: sized(q[own], 0, q["stride"], q["pad"])),
    ]


def _hypotheses(axis, conv):
    """[(id, words, size(q))]: what a wrong size may be consistent with, each one reading of a slip."""
    out = [(name, WORDS[name], lambda q, name=name: q.get(name)) for name in WORDS]  # None: not in this case
    if axis.endswith("_prev"):  # a backward pass's dA_prev: the padded array returned uncropped
        return out + [("padded", "the padded input's size (A_prev's + 2 pad: the padding not cropped)",
                      lambda q: q[axis] + 2 * q["pad"])]
    if axis not in ("n_H", "n_W"):
        return out
    own = f"{axis}_prev"
    return out + _divided(axis, conv, _floor) + [
        *([("pad_once", "the equation with the padding added once (pad, not 2 pad)",
            lambda q: _floor((q[own] + q["pad"] - q["f"]) / q["stride"]) + 1),
           ("padded", f"the padded input's size, {own} + 2 pad", lambda q: q[own] + 2 * q["pad"])] if conv else []),
        ("one_inside", "the equation with the 1 added before the division",
         lambda q: _floor((q[own] + 2 * q["pad"] - q["f"] + 1) / q["stride"])),
        ("rounded_up", "the equation rounded up instead of down",
         lambda q: math.ceil((q[own] + 2 * q["pad"] - q["f"]) / q["stride"] - 1e-9) + 1),
    ]


def _truncated(axis, conv):
    """The dividing readings with int() in place of floor: int() truncates toward zero, so a negative quotient
    (a window larger than what it is computed from) rounds up. explained() consults them only when no floor
    reading fits every case: a size that floor's readings leave open and int()'s settle."""
    if axis not in ("n_H", "n_W"):
        return []
    return [(f"{key}_int", f"{words}, with int() truncating toward zero (a negative quotient rounds up, where "
             "floor rounds down)", size) for key, words, size in _divided(axis, conv, _truncate)]


def _zero_pad_hypotheses(axis):
    out = [(name, WORDS[name], lambda q, name=name: q[name]) for name in ("m", "n_H_prev", "n_W_prev", "n_C_prev")]
    if axis in ("n_H", "n_W"):
        own = f"{axis}_prev"
        out += [("pad_once", f"{own} + pad (the padding added on one side only)", lambda q: q[own] + q["pad"]),
                ("pad_twice", f"{own} + 4 pad (the padding added twice on each side)", lambda q: q[own] + 4 * q["pad"])]
    return out


def _array(j, what):
    """The output `what` a case returned, as an array; None when the case raised or returned none."""
    if j.outcome is None or j.outcome[0] != "ok":
        return None
    return graded_array(j.case.function, j.record.result, what)


def _fitting(hypotheses, seen):
    """The hypotheses (id, words, size) giving every (q, size) in seen."""
    fits = []
    for hypothesis in hypotheses:
        try:
            if all(hypothesis[2](q) == n for q, n in seen):
                fits.append(hypothesis)
        except (KeyError, TypeError, ZeroDivisionError):
            continue  # a quantity this case does not have (no pad in pooling): the hypothesis is not this one
    return fits


def _settled(hypotheses, seen):
    """The one hypothesis giving every (q, size) in seen; None when none or several do (two that give the
    same sizes on every case are two readings the cases cannot tell apart: neither is said)."""
    fits = _fitting(hypotheses, seen)
    return fits[0] if len(fits) == 1 else None


def explained(function, judged):
    """(key, label, {grade_id: lines}) when some failing case of `function` returned an array of the wrong shape
    (the lines go to those cases), else None. key: "shape:<output>", and ":<id>" of the hypothesis settled for
    the first wrong axis when the cases settle one."""
    fails = [j for j in judged if not j.passed and j.mismatch is not None and j.outcome is not None]
    what = fails[0].mismatch.what if fails else None
    axes = AXES.get((function, what))
    if axes is None:
        return _like_an_input(function, what, fails)
    rows = [(j, quantities(j.case), getattr(_array(j, what), "shape", None)) for j in judged if j.case is not None]
    wrong = [(j, q, s) for j, q, s in rows if not j.passed and s is not None and s != _expected(axes, q)]
    if not wrong:
        return None
    # every case returned the output with its number of axes: the evidence a hypothesis must fit, case by case
    complete = len(rows) >= 3 and all(s is not None and len(s) == len(axes) for _, _, s in rows)
    settled = {}
    for k, (axis, *_) in enumerate(axes):
        seen = [(q, s[k]) for _, q, s in rows] if complete else []
        if any(n != axes[k][3](q) for q, n in seen):
            readings = (_zero_pad_hypotheses(axis) if function == "zero_pad"
                        else _hypotheses(axis, function == "conv_forward"))
            found = _settled(readings, seen)
            if not found and not _fitting(readings, seen) and function != "zero_pad":
                found = _settled(_truncated(axis, function == "conv_forward"), seen)
            if found:
                settled[k] = found
    lines = {}
    for j, q, s in wrong:
        if len(s) != len(axes):
            lines[j.grade_id] = [f"{what} should have {len(axes)} axes ({', '.join(a[0] for a in axes)}) = "
                                 f"{_expected(axes, q)}; yours has {len(s)}: {s}."]
            continue
        out = [f"axis {k} ({axis}): {axis} = {text}" + (f" = {numbers(q)}" if numbers(q) != str(size(q)) else "")
               + f" = {size(q)}; yours is {s[k]}." for k, (axis, text, numbers, size) in enumerate(axes)
               if s[k] != size(q)]
        told = {}  # hypothesis words: the wrong axes of this case it settles
        for k in settled:
            if s[k] != axes[k][3](q):
                told.setdefault(settled[k][1], []).append(axes[k][0])
        if told:  # one hypothesis, and only one, gives the size you return on every case
            said = "; ".join(f"your {' and '.join(names)} {'equal' if len(names) > 1 else 'equals'} {words}"
                             for words, names in told.items())
            out = out[:2] + [f"in all {len(rows)} cases of {function} (passing ones included), {said}."]
        lines[j.grade_id] = out[:3]
    first = settled[min(settled)] if settled else None
    return (f"shape:{what}" + (f":{first[0]}" if first else ""),
            f"{what} of the wrong shape" + (f" ({first[1]})" if first else ""), lines)


def _expected(axes, q):
    return tuple(int(size(q)) for _, _, _, size in axes)


def _inputs(case):
    """[(name, array)] of a case's array inputs, a cache's items named as its forward declares them."""
    args, kwargs = case.inputs()
    bound = dict(zip(inspect.signature(getattr(solutions, case.function)).parameters, args), **kwargs)
    forward = functions.FUNCTIONS.get(case.function.replace("backward", "forward"))
    out = []
    for name, value in bound.items():
        if name == "cache" and isinstance(value, tuple) and forward is not None and forward.cache:
            out += list(zip(forward.cache, value))
        else:
            out.append((name, value))
    return [(n, v) for n, v in out if hasattr(v, "shape")]


def _like_an_input(function, what, fails):
    """For an output without axis equations (dW, db, a mask, distribute_value's a): (key, label, lines) when in
    every failing case the wrong shape is the shape of the same input(s), else None."""
    seen = []
    for j in fails:
        got, ref = _array(j, what), graded_array(function, j.case.reference(), what)
        if got is None or ref is None or got.shape == ref.shape:
            return None
        seen.append((j, got.shape, ref.shape, _inputs(j.case)))
    common = [n for n, _ in seen[0][3]] if seen else []
    for _, shape, _, inputs in seen:
        common = [n for n in common if n in {m for m, x in inputs if x.shape == shape}]
    if not common:
        return None
    every = " in every failing case" if len(seen) > 1 else ""
    lines = {}
    for j, shape, want, inputs in seen:
        book = [n for n, x in inputs if x.shape == want]
        lines[j.grade_id] = [f"your {what} has the shape of {' and of '.join(common)}{every}: here {shape}; the book's "
                             f"{what} has " + (f"the shape of {' and of '.join(book)}, {want}." if book
                                               else f"shape {want}.")]
    return f"shape:{what}:like_{common[0]}", f"{what} of the wrong shape (that of {common[0]})", lines
