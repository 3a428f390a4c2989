"""Say what the mistake is, and show where: the judge's diagnosis of failing cases.

Trusted and never shipped. JudgedExecute judges every test cell of a notebook
first, then hands the cells of each graded function to `notebook()`, which
reads them together ("every failing case" means every failing case of that
function in this notebook) and returns, for some failing cells, extra lines
for the verdict and a picture. Passing functions cost nothing.

For a function with at least one failing case, in this order:

1. a known mistake (mistakes.py): a variant of the reference with one change
   whose outcome equals the student's on every failing case (same values within
   the judge's tolerance, or the same exception and message), which itself fails
   each of those cases, and which passes every case the student passes. Then the
   verdict names it in one sentence, says how to fix it and cites the equation.
2. a graded helper the function calls (zero_pad in conv_forward, ...) failing
   its own cases: fix that first.
3. structural signatures that need no variant, holding on every failing case:
   axes in the wrong order, all zeros, a constant factor (the sign, f*f, ...),
   errors only on the border rows/columns, only where windows overlap, only in
   some channels or some samples; and across cases: wrong only for stride > 1,
   only for pad = 0, only where the hyper-parameters' dict lists its keys in
   another order.
4. otherwise nothing: the verdict stays as it was.

Beside the first failing case of each function whose array has the right shape
but wrong values, a small PNG: expected, got and |got - expected| for the
sample and channel where the error is largest.

Cost: nothing for a function whose cases all pass. For a failing function,
each known variant runs once per case per process (cached: the inputs are
fixed by the cases' seeds), so a long-lived grading worker pays it once; a
picture takes a few tens of ms.
"""
import functools
import io
import itertools
import logging
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import cases as registry
from . import exchange, mistakes

log = logging.getLogger(__name__)
METADATA_KEY = "btc_diagnosis"  # a failing test cell's metadata: its diagnosis, read by the instructor's report
OUTPUT_NAMES = {  # graded arrays of a result, by the name the judge's Mismatch uses
    "conv_forward": {"Z": 0},
    "conv_backward": {"dA_prev": 0, "dW": 1, "db": 2},
    "pool_forward": {"A": 0},
}
LAYER_ARRAYS = {"Z", "A", "dA_prev", "X_pad"}  # (m, n_H, n_W, n_C) arrays: axes 1, 2 are the image's rows, columns


@dataclass
class Judged:
    """One graded test cell, judged: record is an exchange.Record, None or a MalformedRecord."""

    grade_id: str
    record: object
    case: object = None
    passed: bool = False
    mismatch: object = None   # the judge's Mismatch when the result was wrong

    def __post_init__(self):
        self.case = registry.CASES.get(self.grade_id)
        if self.case is None or not isinstance(self.record, exchange.Record) or self.record.raised is not None:
            return
        try:
            registry.judge(self.case, self.record.result)
            self.passed = True
        except registry.Mismatch as m:
            self.mismatch = m

    @property
    def outcome(self):
        """("ok", result) or ("raised", type, message); None when nothing usable was recorded."""
        if not isinstance(self.record, exchange.Record):
            return None
        if self.record.raised is not None:
            return ("raised", self.record.raised["type"], self.record.raised["message"].strip())
        return ("ok", self.record.result)


@dataclass
class Finding:
    """What the verdict of one failing cell gains: lines of text, a picture, a summary for the class view."""

    lines: list = field(default_factory=list)
    picture: bytes = None
    kind: str = ""      # "mistake", "helper", "signature" or "" (picture only)
    key: str = ""       # the mistake's registry key, "helper:<name>", or the first signature's name
    label: str = ""     # a few words for the instructor's class view
    signatures: tuple = ()  # every signature found (kind "signature")

    def metadata(self, function):
        return {"function": function, "kind": self.kind, "key": self.key, "label": self.label}


def cite(labels):
    """Cite equations (labels) through the function the judge's own citations go through."""
    return registry.citation(registry.Case("diagnosis", "", None, "", equations={"*": labels}), "*")


# ----------------------------------------------------------------------------- comparing outcomes

def _rtol(x):
    return registry.RTOL.get(getattr(x, "dtype", None), registry.RTOL[np.dtype(np.float64)])


def _close(got, want):
    """Elementwise: got equals want within the judge's tolerance for got's dtype (NaN equals NaN)."""
    got64, want64 = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(np.nan_to_num(want64)), initial=0.0)))
    with np.errstate(invalid="ignore"):
        ok = np.abs(got64 - want64) <= _rtol(got) * (np.abs(want64) + 0.1 * scale)
    return ok | (np.isnan(got64) & np.isnan(want64)) | (got64 == want64)


def agree(got, want):
    """True when a student's decoded result equals a variant's result (same structure, values close)."""
    if isinstance(want, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(want) and all(map(agree, got, want))
    if isinstance(want, dict):
        return isinstance(got, dict) and list(got) == list(want) and all(agree(got[k], want[k]) for k in want)
    if isinstance(want, (np.ndarray, np.generic, float, int)) and not isinstance(want, bool):
        if isinstance(got, bool) or not isinstance(got, (np.ndarray, np.generic, float, int)):
            return False
        g, w = np.asarray(got), np.asarray(want)
        if g.shape != w.shape or g.dtype.kind not in "biuf" or w.dtype.kind not in "biuf":
            return False
        return bool(np.all(_close(g, w)))
    return type(got) is type(want) and got == want


@functools.lru_cache(maxsize=None)
def variant_outcome(known, grade_id):
    """(outcome, fails): the variant's ("ok", result) or ("raised", type, message) on the case, and
    whether the judge fails it. Inputs are fixed by the case's seed, so this is computed once per process."""
    case = registry.CASES[grade_id]
    args, kwargs = case.inputs()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a variant's warnings (mean of an empty slice) are not the grader's
            result = mistakes.implementation(known)(*args, **kwargs)
    except Exception as e:  # the variant's own error is its outcome, as a student's would be
        return ("raised", type(e).__name__, str(e)[:2000].strip()), True
    try:
        registry.judge(case, result)
        return ("ok", result), False
    except registry.Mismatch:
        return ("ok", result), True


def explains(known, judged):
    """The variant is the student's code, as far as this function's cases can tell."""
    used = False
    for j in judged:
        seen = j.outcome
        if seen is None or j.case is None:
            continue
        (want, fails) = variant_outcome(known, j.grade_id)
        if j.passed:
            if fails:
                return False
            continue
        if not fails or seen[0] != want[0]:
            return False
        if seen[0] == "raised" and seen[1:] != want[1:]:
            return False
        if seen[0] == "ok" and not agree(seen[1], want[1]):
            return False
        used = True
    return used


# ----------------------------------------------------------------------------- structural signatures

def hyper(case):
    """{"f", "stride", "pad", "order"} of a case (whatever applies), read from its inputs;
    "order" is the hyper-parameters' key order as the dict lists them."""
    args, kwargs = case.inputs()
    fn = case.function
    if fn == "zero_pad":
        return {"pad": args[1]}
    if fn == "conv_forward":
        return {"f": args[1].shape[0], **args[3], "order": tuple(args[3])}
    if fn == "conv_backward":
        return {"f": args[1][1].shape[0], **args[1][3], "order": tuple(args[1][3])}
    if fn == "pool_forward":
        return {**args[1], "order": tuple(args[1])}
    if fn == "pool_backward":
        return {**args[1][1], "order": tuple(args[1][1])}
    if fn == "distribute_value":
        return {"size": args[1][0] * args[1][1]}
    return {}


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
    if not g.any():
        out["zeros"] = ("all zeros", f"your {what} is all zeros",
                        "the array is created but never written to (a loop that does not run, "
                        "or results written into a copy)")
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


@functools.lru_cache(maxsize=None)
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


# ----------------------------------------------------------------------------- the picture

def _panel(array, what, where):
    """A 2-D view of `array` (rows, columns) at the sample/channel `where` picks, and its title."""
    if array.ndim == 1:
        return array[None, :], ""
    if array.ndim == 2:
        return array, ""
    if array.ndim == 4 and what == "dW":
        return array[:, :, where[2], where[3]], f"k = {where[2]}, c = {where[3]}"
    if array.ndim == 4:
        return array[where[0], :, :, where[3]], f"n = {where[0]}, c = {where[3]}"
    lead = tuple(where[:-2])
    return array[lead], ", ".join(f"axis {a} = {i}" for a, i in enumerate(lead))


def _rgba(data, cmap, vmin, vmax):
    from matplotlib import colormaps
    return colormaps[cmap](np.clip((data - vmin) / (vmax - vmin), 0, 1))


def picture(got, ref, what):
    """PNG bytes: expected, got and |got - expected| on one 2-D slice where the error is largest.

    Drawn as one image with matplotlib's colour maps and PNG writer (no axes: a few ms each); a black
    square marks each wrong entry in the third panel.
    """
    from matplotlib.figure import Figure
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    err = np.abs(np.nan_to_num(got - ref, nan=np.inf))
    where = np.unravel_index(int(np.argmax(err)), ref.shape)
    e2, sub = _panel(ref, what, where)
    g2, _ = _panel(got, what, where)
    bad = ~_close(g2, e2)
    g2 = np.nan_to_num(g2, nan=0.0, posinf=0.0, neginf=0.0)  # NaN and inf are drawn as 0, and marked wrong
    d2 = np.abs(g2 - e2)
    lim = max(float(np.max(np.abs(e2), initial=0)), float(np.max(np.abs(g2), initial=0)), 1e-12)
    rows, cols = e2.shape
    cell = int(max(6, min(28, 150 // max(rows, cols))))   # pixels per entry: a panel is at most ~150 px
    panels = [_rgba(e2, "RdBu_r", -lim, lim), _rgba(g2, "RdBu_r", -lim, lim),
              _rgba(d2, "Reds", 0.0, max(float(d2.max()), 1e-12))]
    centre = np.zeros((cell, cell), dtype=bool)      # a black square in the middle of each wrong entry
    dot = max(2, cell // 3)
    centre[(cell - dot) // 2:(cell + dot) // 2, (cell - dot) // 2:(cell + dot) // 2] = True
    marks = np.kron(bad, centre).astype(bool)
    gap, top, bottom = 14, 34, 6
    panels_width = 3 * cols * cell + 2 * gap
    left = max(gap, (440 - panels_width) // 2)  # centred; at least 440 px wide, so the caption fits
    image = np.ones((rows * cell + top + bottom, panels_width + 2 * left, 4))
    for k, panel in enumerate(panels):
        up = np.repeat(np.repeat(panel, cell, axis=0), cell, axis=1)
        if k == 2:
            up[marks] = (0, 0, 0, 1)
        up[::cell, :, :3] *= 0.85   # faint grid lines between entries
        up[:, ::cell, :3] *= 0.85
        x0 = left + k * (cols * cell + gap)
        image[top:top + rows * cell, x0:x0 + cols * cell] = up
    dpi = 72
    fig = Figure(figsize=(image.shape[1] / dpi, image.shape[0] / dpi), dpi=dpi)
    fig.figimage(image, xo=0, yo=0, origin="upper")
    height = image.shape[0]
    for k, title in enumerate(("expected", "got", "|got - expected|")):
        x = (left + k * (cols * cell + gap) + cols * cell / 2) / image.shape[1]
        fig.text(x, 1 - (top - 4) / height, title, ha="center", va="bottom", fontsize=9)
    axes_words = {4: "rows i, columns j" if what == "dW" else "rows h, columns w"}.get(ref.ndim, "")
    caption = ", ".join(x for x in (f"{what}{' at ' + sub if sub else ''}", axes_words) if x)
    fig.text(0.5, 1 - 2 / height, caption + "; a black square marks a wrong entry", ha="center", va="top", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _pictured(j):
    """The got and expected arrays of a failing cell worth drawing (same shape, wrong values), else None."""
    if j.passed or j.mismatch is None or j.outcome is None or j.outcome[0] != "ok":
        return None
    fn = j.case.function
    got = graded_array(fn, j.record.result, j.mismatch.what)
    ref = graded_array(fn, reference(j.grade_id), j.mismatch.what)
    if got is None or ref is None or got.shape != ref.shape or ref.size < 2:
        return None
    return got, ref


# ----------------------------------------------------------------------------- one notebook

def diagnose_function(function, judged, failed_functions, leave_out=()):
    """(kind, key, label, {grade_id: lines}, signatures) for a function with failing cells, or None.

    leave_out: registry keys to ignore (tests use it to check what an unregistered mistake gets)."""
    fails = [j for j in judged if not j.passed and j.outcome is not None]
    for known in mistakes.registry(function, leave_out):
        if explains(known, judged):
            lines = [f"likely mistake: {known.what}.", f"fix: {known.fix}; see {cite(known.equation)}"]
            return ("mistake", known.key, known.label, {j.grade_id: lines for j in fails}, ())
    helpers = [h for h in mistakes.CALLS.get(function, ()) if h in failed_functions]
    if helpers:
        names = " and ".join(helpers)
        lines = [f"{function} calls {names}, which fails its own cases above: fix {names} first."]
        return ("helper", f"helper:{helpers[0]}", f"fails through {names}", {j.grade_id: lines for j in fails}, ())
    common = None
    for j in fails:
        sig = case_signatures(j)
        common = set(sig) if common is None else common & set(sig)
        if not common:
            break
    if common and "overlap" in common and not any(_telling_overlap(j) for j in judged):
        common.discard("overlap")  # every input lies in two windows in these cases: "only there" says nothing
    lines = {j.grade_id: [] for j in fails}
    chosen = []  # (name, label)
    if common:
        name = next(n for n in SIGNATURE_ORDER if n in common)
        again = " (the same pattern in every failing case of this function)" if len(fails) > 1 else ""
        for j in fails:
            label, where, usually = case_signatures(j)[name]
            lines[j.grade_id] += [f"where it is wrong: {where}{again}.", f"that usually means: {usually}."]
        chosen.append((name, label))
    for test_name, test, usually in (
            ("stride > 1", lambda hp: hp.get("stride", 1) > 1,
             "where the stride enters: windows start at h * stride, w * stride (and in a backward pass "
             "the gradient is spread with the same stride: the dilation of the upstream gradient)"),
            ("pad = 0", lambda hp: "pad" in hp and hp["pad"] == 0,
             "an expression that breaks when pad = 0, such as the slice [pad:-pad], which is then empty"),
            ("hyper-parameters in another key order", lambda hp: "order" in hp and hp["order"] not in DOCUMENTED_ORDER,
             "the hyper-parameters read by position (hparameters.values(), or unpacking the dict), "
             "which depends on the order of its keys: read each by its name")):
        if test_name == "stride > 1" and judged and "stride" not in hyper(judged[0].case):
            continue
        found = only_where(judged, test_name, test, usually)
        if found:
            for gid in lines:
                lines[gid] += [f"where it is wrong: {found[1]}.", f"that usually means: {found[2]}."]
            chosen.append((found[0], f"wrong only for {test_name}"))
    if not chosen:
        return None
    return ("signature", chosen[0][0], chosen[0][1], lines, tuple(name for name, _ in chosen))


def notebook(judged, leave_out=(), pictures=True):
    """{grade_id: Finding} for the failing cells of one notebook. judged: Judged cells in notebook order."""
    by_function = {}
    for j in judged:
        if j.case is not None:
            by_function.setdefault(j.case.function, []).append(j)
    failed = {fn for fn, js in by_function.items() if any(not j.passed for j in js)}
    findings = {}
    for fn, js in by_function.items():
        if fn not in failed:
            continue
        try:
            found = diagnose_function(fn, js, failed, leave_out)
        except Exception:  # a diagnosis is a hint: it must never cost a verdict
            log.exception("diagnosis of %s failed; its verdicts stay as they are", fn)
            found = None
        drawn = False
        for j in js:
            if j.passed or j.outcome is None:
                continue
            finding = Finding()
            if found:
                finding.kind, finding.key, finding.label, finding.signatures = found[0], found[1], found[2], found[4]
                finding.lines = list(found[3].get(j.grade_id, []))
            if pictures and not drawn:
                try:
                    arrays = _pictured(j)
                    if arrays is not None:
                        finding.picture = picture(*arrays, j.mismatch.what)
                        drawn = True
                except Exception:
                    log.exception("picture of %s failed", j.grade_id)
                    drawn = True
            if finding.lines or finding.picture:
                findings[j.grade_id] = finding
    return findings
