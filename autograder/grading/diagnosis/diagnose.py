"""Say what the mistake is, and show where: the judge's diagnosis of failing cases.

Trusted and never shipped. JudgedExecute judges every test cell of a notebook first, then hands the cells
of each graded function to `notebook()`, which reads them together ("every failing case" means every failing
case of that function in this notebook) and returns, for some failing cells, lines and a picture.

For a function with at least one failing case, in this order:

1. a cascade: the function fails only because a graded function it calls
   (conv_single_step in conv_forward, ...) fails, shown conclusively: the
   helper's named mistake (or pair), put into the reference caller, gives the
   student's outcome on every case; or every failing case raised the exception
   (type and message) the helper raised on its own cases, in the helper's frame.
   The verdict says so: "conv_forward fails because conv_single_step, which
   it calls, raises ...: fix conv_single_step first". A helper that merely
   fails too proves nothing (the caller may not call it, or fail on its own).
2. a known mistake of the function's own lines (mistakes.py; one made in a helper is only told
   as 1.): a variant of the reference with one change whose outcome equals the student's on
   every failing case (values within the judge's tolerance, or exception and message), which
   fails each of those cases and passes every case the student passes. The verdict names it,
   the fix and the equation. Two that both explain the student name neither; if none does
   alone, a pair may (failing exactly where the student fails, each half visible in some
   failing case), or one made with the mistake a helper's verdict names. Or, when every failing
   case raised in the function's own lines, the one cause its recorded frames settle (raised.py).
   An exception names nothing while a helper the function calls returns wrong results.
   Registry: the imagined catalogue and mistakes_seen.
3. an array of the wrong shape whose size every case settles (shapes.py); else structural signatures
   needing no variant, on every failing case: axes in the wrong order, all zeros, a constant factor (the
   sign, f*f, ...), errors only on the border, where windows overlap, in some channels or samples; across
   cases: only for stride > 1, for pad = 0, where the hyper-parameters' keys come in another order; else,
   for a wrong shape, per wrong axis the book's size with the case's numbers and the size returned.
4. wrong values: where the wrong entries are (values.py); a result of the wrong kind: what it holds (structure.py).

Beside the first failing case of each function whose array has the right shape but wrong values, a
small PNG: expected, got and |got - expected| for the sample and channel where the error is largest.

Cost: nothing for a passing function. For a failing one, each known variant runs once per case and
student (cached while cases.drawing's inputs stay the same); pairs only when no single mistake
explains the student, between mistakes failing no case the student passes; a picture: a few tens of ms.
"""
import dataclasses
import itertools
import logging
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import cases as registry, exchange
from . import mistakes, raised, shapes, structure, values
from .picture import picture
from .signatures import (DOCUMENTED_ORDER, SIGNATURE_ORDER, _close, _telling_overlap, case_signatures,
                         graded_array, hyper, only_where, reference)

log = logging.getLogger(__name__)
METADATA_KEY = "btc_diagnosis"  # a failing test cell's metadata: its diagnosis, read by the instructor's report


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
    kind: str = ""      # "mistake", "cascade", "signature", "shape", "values", "structure" or "" (picture only)
    key: str = ""       # the mistake's registry key, "<helper>:<its mistake or raise>", or the first signature
    label: str = ""     # a few words for the instructor's class view
    signatures: tuple = ()  # every signature found (kind "signature")

    def metadata(self, function):
        return {"function": function, "kind": self.kind, "key": self.key, "label": self.label}


def cite(labels):
    """Cite equations (labels) through the function the judge's own citations go through."""
    return registry.citation(registry.Case("diagnosis", "", None, "", equations={"*": labels}), "*")


# ----------------------------------------------------------------------------- comparing outcomes

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


@registry.per_draw  # the inputs depend on the student (cases.drawing)
def variant_outcome(known, grade_id):
    """(outcome, fails): the variant's ("ok", result) or ("raised", type, message) on the case, and
    whether the judge fails it. Computed once per case and draw of the inputs (cases.per_draw)."""
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


# structural signatures: signatures.py; the picture: picture.py

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

def _in_helper(known):
    """A mistake made in a graded helper: never named in the caller, whose outcome cannot tell whose lines hold
    the slip (a (1, 1, 1) bias array added inline raises what a conv_single_step returning one raises); the
    helper's verdict names it, the caller's is the cascade."""
    return any(edit[0] != known.function for edit in known.edits)


def _named(function, judged, leave_out, helper_knowns=()):
    """The one known mistake (its key's first explaining implementation) that explains the student, or None.
    Two keys that both explain the student name neither. helper_knowns: the mistakes the verdicts of the graded
    helpers it calls name; a mistake of its own lines made with one of them (edits of both) counts too."""
    found = {}
    for known in mistakes.registry(function, leave_out):
        if known.key in found or _in_helper(known):
            continue
        for k in [known] + [mistakes.with_helper(known, h) for h in helper_knowns]:
            if k is not None and k.key not in found and explains(k, judged):
                found[k.key] = k
    if not found:
        found = {pair.key: pair for pair in _pairs(function, judged, leave_out)}
    return next(iter(found.values())) if len(found) == 1 else None


def _pairs(function, judged, leave_out):
    """Two known mistakes of `function` made together that explain the student, each visible in some failing
    case (the pair's outcome differs there from the other mistake's alone)."""
    fails = [j for j in judged if not j.passed and j.outcome is not None]
    usable = [j for j in judged if j.case is not None and j.outcome is not None]
    student = {j.grade_id for j in fails}
    known = {}
    for k in mistakes.registry(function, leave_out):
        if _in_helper(k):
            continue
        # one implementation per key; a mistake that fails a case the student passes cannot be half of the pair
        failed = {j.grade_id for j in usable if variant_outcome(k, j.grade_id)[1]}
        if k.key not in known and failed <= student:
            known[k.key] = (k, failed)
    out = []
    for (a, fa), (b, fb) in itertools.combinations(known.values(), 2):
        if fa | fb != student:  # together they must fail exactly where the student fails
            continue
        pair = mistakes.combined(a, b)
        if pair is None or not explains(pair, judged):
            continue
        if all(any(not _same(variant_outcome(pair, j.grade_id)[0], variant_outcome(one, j.grade_id)[0]) for j in fails)
               for one in (a, b)):
            out.append(pair)
    return out


def _same(x, y):
    return x[0] == y[0] and (x[1:] == y[1:] if x[0] == "raised" else agree(x[1], y[1]))


def _raised(j):
    return j.outcome is not None and j.outcome[0] == "raised"


def _names_frame(traceback_text, function):
    """The recorded traceback shows a frame of `function` (an empty traceback cannot say: True)."""
    return not traceback_text or re.search(rf", in {re.escape(function)}\b", traceback_text) is not None


def cascade(function, judged, helper, helper_judged, helper_found):
    """(key, label, lines) when `function` fails only because `helper`, a graded function it calls, does; else None.

    Conclusive in one of two ways. The helper's mistake is named (helper_found) and the reference caller
    with that very mistake in its helper explains every case of the caller (values, or exception and
    message). Or every failing case of the caller raised an exception with the type and message the helper
    raised on its own cases, and the recorded traceback shows the helper's frame."""
    if helper_found and helper_found[0] == "mistake":
        for known in _helper_mistakes(helper, helper_found[1]):
            if explains(dataclasses.replace(known, function=function), judged):
                # the same slip written in the caller's own lines gives the same outcome: say both places
                inline = not all(_raised(j) and _names_frame(j.record.raised.get("traceback", ""), helper)
                                 for j in judged if not j.passed and j.outcome is not None) and any(
                    k.key == known.key and not _in_helper(k) and explains(k, judged) for k in mistakes.registry(function))
                first = (f"{function} gives exactly what this mistake of {helper} gives: {known.what}; if {function} "
                         f"calls {helper}, fix {helper}, and if it computes this in its own lines, fix them too"
                         if inline else f"{function} fails because {helper}, which it calls, is wrong: {known.what}")
                return (f"{helper}:{known.key}", f"through {helper}: {known.label}",
                        [f"{first}.", f"fix {helper} first: {known.fix}; see {cite(known.equation)}"])
    own = {j.outcome[1:] for j in helper_judged if not j.passed and _raised(j)}
    fails = [j for j in judged if not j.passed and j.outcome is not None]
    if not own or not fails or not all(_raised(j) and j.outcome[1:] in own for j in fails):
        return None
    if not all(_names_frame(j.record.raised.get("traceback", ""), helper) for j in fails):
        return None
    kind, message = fails[0].outcome[1:]
    named, label = helper_found[1:3] if helper_found and helper_found[0] == "mistake" else (f"raises {kind}",) * 2
    return (f"{helper}:{named}", f"through {helper}: {label}",
            [f"{function} fails because {helper}, which it calls, raises {kind}: {_short(message)}: "
             f"fix {helper} first (its own verdict above says where)."])


def _helper_mistakes(helper, key):
    """The implementations of a helper's named mistake: its registry entries, or the pair a "+" key names."""
    own, (a, _, b) = [k for k in mistakes.REGISTRY if k.function == helper], key.partition("+")
    pairs = [mistakes.combined(x, y) for x in own if x.key == a for y in own if y.key == b] if b else []
    return [k for k in own if k.key == key] + [pair for pair in pairs if pair is not None]


def _short(message, limit=200):
    message = " ".join(message.split())
    return message if len(message) <= limit else message[:limit - 3] + "..."


def diagnose_function(function, judged, failed_functions, leave_out=(), helpers_found=None, by_function=None):
    """(kind, key, label, {grade_id: lines}, signatures) for a function with failing cells, or None.

    leave_out: registry keys to ignore (tests use it to check what an unregistered mistake gets);
    helpers_found: {helper: its own diagnosis tuple} and by_function: {helper: its Judged cells}, for cascades."""
    fails = [j for j in judged if not j.passed and j.outcome is not None]
    # a wrong helper that accounts for the outcome comes before any slip of the caller's own lines
    for helper in mistakes.CALLS.get(function, ()):
        if helper in failed_functions and by_function and helper in by_function:
            found = cascade(function, judged, helper, by_function[helper], (helpers_found or {}).get(helper))
            if found:
                return ("cascade", found[0], found[1], {j.grade_id: found[2] for j in fails}, ())
    own = raised.named(function, fails)  # {grade_id: Cause}, one key, from the exceptions' own evidence
    # an exception may come from what a wrong helper returned (an array for a number, None for an array)
    helper_returns_wrong = not raised.whatever_the_helpers(own) and any(
        not j.passed and j.outcome is not None and j.outcome[0] == "ok" for h in mistakes.CALLS.get(function, ())
        if h in failed_functions for j in (by_function or {}).get(h, ()))
    if not (helper_returns_wrong and fails and all(map(_raised, fails))):
        named = [(h, f[1]) for h in mistakes.CALLS.get(function, ())
                 if (f := (helpers_found or {}).get(h)) and f[0] == "mistake"]
        known = _named(function, judged, set(leave_out), tuple(k for h, key in named for k in _helper_mistakes(h, key)))
        if known is not None:
            lines = [f"likely mistake{'s (two)' if '+' in known.key else ''}: {known.what}.",
                     f"fix: {known.fix}; see {cite(known.equation)}"]
            lines += [f"and {h}, which it calls, is wrong too (its own verdict says how): fix it as well."
                      for h in dict.fromkeys(e[0] for e in known.edits if e[0] != function)]
            return ("mistake", known.key, known.label, {j.grade_id: lines for j in fails}, ())
        if own and (c := next(iter(own.values()))).key not in leave_out:
            see = cite(fails[0].case.equations.get("*", ()))
            return ("mistake", c.key, c.label, {g: [f"likely mistake: {x.what}.", f"fix: {x.fix}; see {see}"]
                                                for g, x in own.items()}, ())
    shaped = shapes.explained(function, judged)  # an array of the wrong shape: its sizes explained, per axis
    if shaped and shaped[0].count(":") == 2:  # a reading of the size every case settles says more than a signature
        return ("shape", *shaped, ())
    common = None
    for j in fails:
        common = set(case_signatures(j)).intersection(*([] if common is None else [common]))
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
    signature = ("signature", chosen[0][0], chosen[0][1], lines, tuple(name for name, _ in chosen)) if chosen else None
    return signature or (("shape", *shaped, ()) if shaped else None) or values.explained(function, judged) \
        or structure.explained(function, judged)


def notebook(judged, leave_out=(), pictures=True):
    """{grade_id: Finding} for the failing cells of one notebook. judged: Judged cells in notebook order."""
    by_function = {}
    for j in judged:
        if j.case is not None:
            by_function.setdefault(j.case.function, []).append(j)
    failed = {fn for fn, js in by_function.items() if any(not j.passed for j in js)}
    findings = {}
    helpers_found = {}  # each function's own diagnosis, read by the functions that call it (notebook order)
    for fn, js in by_function.items():
        if fn not in failed:
            continue
        try:
            found = diagnose_function(fn, js, failed, leave_out, helpers_found, by_function)
        except Exception:  # a diagnosis is a hint: it must never cost a verdict
            log.exception("diagnosis of %s failed; its verdicts stay as they are", fn)
            found = None
        helpers_found[fn] = found
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
