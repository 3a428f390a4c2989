"""Form (a) from an exception's own evidence: a mistake named when the recorded frames settle its cause.

Trusted and never shipped. The rules and their words are causes.py's (`cause`,
shipped into every helper module, so the visible checks name the same causes in
the same words); here the grader decides when one names a function's mistake:
diagnose.py names a cause when every failing case of a function raised in the
function's own lines and the same rule names the same key in each. Student code
is never run: lines are parsed with `ast`, the only values are the recorded ones.
"""
from .causes import Cause, cause

__all__ = ["Cause", "cause", "named", "whatever_the_helpers"]


def named(function, fails):
    """{grade_id: Cause} when every failing cell (diagnose.Judged) of `function` raised in its own lines and one
    rule settles one key: in each cell, or in a cell that raised the very same exception (type and message; a
    frame's line can be off by one once Python has specialised the loop). Else None (an exception raised in a
    helper it calls is the helper's to name)."""
    found, raised = {}, {}
    for j in fails:
        record = j.record.raised if j.outcome is not None and j.outcome[0] == "raised" else None
        frames = (record or {}).get("frames") or []
        if not frames or frames[-1]["function"] != function:
            return None
        raised[j.grade_id] = (record["type"], record["message"])
        found[j.grade_id] = cause(record["type"], record["message"], frames)
    settled = {raised[g]: c for g, c in found.items() if c is not None}
    if not settled or len({c.key for c in settled.values()}) != 1 or any(raised[g] not in settled for g in found):
        return None
    return {g: c or settled[raised[g]] for g, c in found.items()}


# causes no helper's result can bring about (a name, a NumPy attribute, a key of the input dict, the sizes given to
# np.zeros, a variable read before it is set): named even while a graded helper the function calls returns wrong
# results, which otherwise leaves an exception unnamed (the helper's value may be what broke the line)
WHATEVER_THE_HELPERS = frozenset({"numpy_alias_removed", "numpy_name_misspelt", "name_misspelt", "read_before_assigned",
                                  "hparameters_not_from_cache", "key_not_in_dict", "zeros_sizes_not_a_tuple"})


def whatever_the_helpers(own):
    """True when `own`, what `named` found, is a cause of the function's own lines no helper's result can bring
    about."""
    return bool(own) and next(iter(own.values())).key in WHATEVER_THE_HELPERS
