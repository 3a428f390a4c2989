"""The causes an exception's own recorded frames settle: the rules and their words, in one place.

A raised record carries the student's last frames as plain data (explain.py
describes them: the failing line, the function's source up to it, and the
locals as shapes, integers, slices and the keys of dicts). Some exceptions
leave only one reading of that evidence: `np.float` in a NumPy that removed
it, a name spelt differently from the one the function defines, a key the dict
does not hold, `np.zeros` given the sizes one by one, a shape or a cache
unpacked into too few names, a parameter whose name a later line takes for
something else, an array replaced by its own slice inside a loop, a comma
where a window's colon belongs, a name computed from itself. `cause` returns

    Cause(key, label, what, fix)

only then, and None whenever the evidence allows another reading (a wrong name
is worse than none). Student code is never run: lines are parsed with `ast`,
the only values are the recorded ones.

Two users, one text. The grader (raised.py's `named`, trusted) names a cause
when every failing case of a function raised and each settles the same key.
The SHIPPED part below is copied into every helper module after explain.py's
(tools/make_notebooks.py), where the visible checks name the same cause in the
same words from the student's own traceback in their own kernel. So it uses
only what a helper module has: explain.py's shipped part, ast, re, NumPy, and
the standard library modules it imports itself.
"""
import ast
import re

import numpy as np

from .explain import _CACHES, _arrays, _parse, _text, _zeros_shape

# ---- BEGIN SHIPPED (autograder/grading/diagnosis/causes.py; tools/make_notebooks.py copies it) ----
import difflib  # noqa: E402  (the shipped part stands in the middle of a helper module)
from typing import NamedTuple  # noqa: E402


class Cause(NamedTuple):
    """A mistake an exception's recorded frames settle (the grader's and the visible checks' words)."""
    key: str     # stable name, as a registry key (the class report groups students by it)
    label: str   # a few words for the instructor's class view
    what: str    # what the student's code does, from the evidence (no trailing full stop)
    fix: str     # how to fix it (no trailing full stop)


def cause(kind, message, frames):
    """The Cause the recorded evidence of one raised record settles, or None."""
    if not frames:
        return None
    for rule in (_numpy_name, _name_not_defined, _from_itself, _missing_key, _zeros_sizes, _unpacked_short,
                 _shape_of_shape, _parameter_reused, _replaced_by_its_slice, _comma_for_colon):
        try:
            found = rule(kind, message, frames[-1])
        except Exception:  # evidence the rule cannot read settles nothing
            found = None
        if found:
            return found
    return None


# ------------------------------------------------------------------------------ reading a frame

def _locals(frame):
    return dict(frame["locals"])


def _parameters(frame):
    """The function's parameters, from its def line when the recorded source starts with it, else None."""
    source = frame["source"]
    if not source or not source[0].lstrip().startswith("def "):
        return None
    header = []
    for line in source:
        header.append(line.strip())
        tree = _parse(" ".join(header))
        if tree and tree.body and isinstance(tree.body[0], ast.FunctionDef):
            args = tree.body[0].args
            return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    return None


def _assignments(frame, name):
    """[(line number, text)] of every line before the failing one that binds `name` (=, +=, for, with)."""
    lines, first, out = frame["source"][:-1], frame["line"] - len(frame["source"]) + 1, []
    for k, text in enumerate(lines):
        tree = _parse(text)
        for node in ast.walk(tree) if tree else ():
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For)) else [])
            if any(isinstance(t, ast.Name) and t.id == name for target in targets for t in ast.walk(target)):
                out.append((first + k, text.strip()))
                break
    return out


def _unpacks_of_cache(frame):
    """[(line number, text)] of the lines before the failing one that unpack the cache into a tuple of names."""
    lines, first, out = frame["source"][:-1], frame["line"] - len(frame["source"]) + 1, []
    for k, text in enumerate(lines):
        tree = _parse(text)
        stmt = tree.body[0] if tree and tree.body else None
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name) and stmt.value.id == "cache" \
                and isinstance(stmt.targets[0], (ast.Tuple, ast.List)) and _last_target(text):
            out.append((first + k, text.strip()))
    return out


def _last_target(text):
    tree = _parse(text)
    target = tree.body[0].targets[0] if tree and tree.body and isinstance(tree.body[0], ast.Assign) else None
    last = target.elts[-1] if isinstance(target, (ast.Tuple, ast.List)) and target.elts else None
    return last.id if isinstance(last, ast.Name) else None


def _line(frame):
    """The failing line's statement as an ast node, or None."""
    tree = _parse(_text(frame))
    return tree.body[0] if tree and tree.body else None


def _distance(a, b):
    """Edit distance (insertions, deletions, substitutions) between two short names."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def _alike(wrong, right):
    """Two spellings of one name: equal but for case, or one letter apart in a name of 5 letters or more."""
    if wrong == right:
        return False
    if wrong.lower() == right.lower():
        return True
    return min(len(wrong), len(right)) >= 5 and _distance(wrong, right) == 1


# ------------------------------------------------------------------------------ the rules

_REMOVED = {"float": "float", "int": "int", "bool": "bool", "object": "object", "complex": "complex",
            "str": "str", "long": "int", "unicode": "str"}  # NumPy 1.20 deprecated, 1.24 removed these aliases


def _numpy_name(kind, message, frame):
    m = re.fullmatch(r"module 'numpy' has no attribute '(\w+)'\.?", message.splitlines()[0].strip()) \
        if kind == "AttributeError" else None
    if not m:
        return None
    name = m.group(1)
    if name in _REMOVED:
        builtin = _REMOVED[name]
        return Cause("numpy_alias_removed", f"np.{name} (removed in NumPy 1.24)",
                     f"np.{name} was only another name for Python's {builtin}; NumPy deprecated it in 1.20 and "
                     f"removed it in 1.24, so the NumPy that grades this has no np.{name}",
                     f"write {builtin}(...) where you wrote np.{name}(...)" if builtin != "object" else
                     "write object where you wrote np.object")
    names = [n for n in dir(np) if not n.startswith("_") and callable(getattr(np, n, None))]
    close = difflib.get_close_matches(name, names, n=2, cutoff=0.75)
    if len(close) != 1 or _distance(name, close[0]) > 1:
        return None
    return Cause("numpy_name_misspelt", "a NumPy function name misspelt",
                 f"np.{name} is not a NumPy function: NumPy has no name {name} (one letter from np.{close[0]})",
                 f"write the NumPy function you meant (np.{close[0]} is the nearest name NumPy has)")


def _name_not_defined(kind, message, frame):
    m = re.search(r"name '(\w+)' is not defined", message) if kind == "NameError" else None
    if not m:
        return None
    name, function, line = m.group(1), frame["function"], frame["line"]
    parameters = _parameters(frame) or []
    defined = list(dict.fromkeys(parameters + [n for n, _ in frame["locals"]]))
    alike = [d for d in defined if _alike(name, d)]
    if len(alike) == 1:
        other = alike[0]
        case = name.lower() == other.lower()
        reused = [a for a in _assignments(frame, other) if other in parameters]
        if reused:  # the parameter's name was also taken for something else: both must be said
            k, text = reused[0]
            return Cause("name_misspelt", "a name spelt two ways",
                         f"line {line} reads {name}, which is never defined: the parameter of {function} is "
                         f"{other}, and line {k} ({text}) gives {other} another value"
                         + (" (Python names are case-sensitive)" if case else ""),
                         f"name the parameter {name}, so that {other} stays free for line {k}")
        return Cause("name_misspelt", "a name spelt two ways",
                     f"line {line} reads {name}, which is never defined: the name {function} defines is {other}"
                     + (" (Python names are case-sensitive)" if case else " (spelt differently)"),
                     f"use one spelling: {other}")
    if name == "hparameters" and function in _CACHES and "cache" in defined and not alike:
        for k, text in _unpacks_of_cache(frame)[:1]:
            alias = _last_target(text)
            return Cause("name_misspelt", "a name spelt two ways",
                         f"line {line} reads hparameters, which is never defined: line {k} ({text}) unpacks the "
                         f"cache's hyper-parameters under the name {alias}", f"use one name for them: {alias}")
        return Cause("hparameters_not_from_cache", "hparameters never unpacked from the cache",
                     f"{function} reads hparameters, but nothing in it assigns that name: it comes with the cache, "
                     f"which holds {_CACHES[function]}, in this order",
                     f"unpack it first: ({_CACHES[function]}) = cache".replace(" and ", ", "))
    return None


def _from_itself(kind, message, frame):
    """X = X + f (or X += f) on the first line that binds X: X is read before it has any value."""
    m = re.search(r"local variable '(\w+)'", message) if kind == "UnboundLocalError" else None
    node = _line(frame)
    if not m or not isinstance(node, (ast.Assign, ast.AugAssign)) or _assignments(frame, m.group(1)):
        return None
    name = m.group(1)
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not any(isinstance(t, ast.Name) and t.id == name for t in targets) or not (
            isinstance(node, ast.AugAssign) or any(isinstance(n, ast.Name) and n.id == name
                                                   for n in ast.walk(node.value))):
        return None
    start = name[:-3] + "start" if name.endswith("end") else None
    hint = f" (a window's end is its start plus f: {start} + f)" if start in _locals(frame) else ""
    return Cause("read_before_assigned", "a name computed from itself before it has a value",
                 f"line {frame['line']} ({_text(frame)}) computes {name} from {name} itself, and nothing before it "
                 f"gives {name} a value", f"compute {name} from values that exist by then{hint}")


def _missing_key(kind, message, frame):
    if kind != "KeyError":
        return None
    local, node = _locals(frame), _line(frame)
    for sub in ast.walk(node) if node else ():
        if not (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name)
                and isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, str)):
            continue
        fact, key = local.get(sub.value.id), sub.slice.value
        if not fact or fact["kind"] != "dict" or message.strip() != repr(key):
            continue
        keys = [k for k, _ in fact["items"]]
        if fact["len"] != len(keys) or key in keys:
            return None  # not every key was recorded: the evidence cannot say which exist
        name, meant = sub.value.id, [k for k in keys if _MEANS.get(k) and re.search(_MEANS[k], key.lower())]
        return Cause("key_not_in_dict", "a key the dict does not have",
                     f"{name} has the keys {', '.join(map(repr, keys))}: {key!r} is not one of them",
                     f"read it under the key the dict has: {name}[{meant[0]!r}]" if len(meant) == 1 else
                     f"read it under one of the keys the dict has ({', '.join(map(repr, keys))})")
    return None


# the hyper-parameters' keys, and what other names for them contain (a suggestion only when one key matches)
_MEANS = {"f": r"^f(_|$)|filter|kernel|window|pool_?size", "stride": r"stride|step", "pad": r"pad"}


def _zeros_sizes(kind, message, frame):
    said = _zeros_shape(kind, message, [frame], {})
    node = _line(frame)
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and len(n.args) >= 2
             and (getattr(n.func, "attr", None) or getattr(n.func, "id", None)) in ("zeros", "ones", "empty")] \
        if said and node else []
    if len(calls) != 1:
        return None
    call = calls[0]
    sizes = ", ".join(map(ast.unparse, call.args))
    return Cause("zeros_sizes_not_a_tuple", "np.zeros given the sizes one by one",
                 f"{ast.unparse(call)} passes the sizes as separate arguments: {ast.unparse(call.func)} takes the "
                 "shape as one tuple, and reads its second argument as a dtype",
                 f"{ast.unparse(call.func)}(({sizes}))")


def _unpacked_short(kind, message, frame):
    m = re.fullmatch(r"too many values to unpack \(expected (\d+)(?:, got \d+)?\)", message.strip())
    node = _line(frame)
    if kind != "ValueError" or not m or not isinstance(node, ast.Assign) or len(node.targets) != 1:
        return None
    target, value, wanted = node.targets[0], node.value, int(m.group(1))
    if not isinstance(target, (ast.Tuple, ast.List)) or len(target.elts) != wanted:
        return None
    names = ast.unparse(target).strip("()[]")
    local = _locals(frame)
    shaped = value.value if isinstance(value, ast.Attribute) and value.attr == "shape" else (
        value.args[0] if isinstance(value, ast.Call) and len(value.args) == 1
        and ast.unparse(value.func) in ("np.shape", "numpy.shape") else None)
    if isinstance(shaped, ast.Name) and local.get(shaped.id, {}).get("kind") == "array":
        shape = tuple(local[shaped.id]["shape"])
        if len(shape) <= wanted:
            return None
        batch = len(shape) == 4
        return Cause("shape_unpacked_short", "a shape unpacked into too few names",
                     f"{shaped.id} has {len(shape)} axes {shape}, and line {frame['line']} unpacks its shape into "
                     f"{wanted} names ({names})" + (": the layer takes a batch, whose first axis counts the "
                                                    "examples m" if batch else ""),
                     f"unpack all {len(shape)} axes" + (", m first: (m, n_H, n_W, n_C)" if batch else ""))
    if isinstance(value, ast.Name) and value.id == "cache" and frame["function"] in _CACHES:
        fact = local.get("cache", {})
        if fact.get("kind") == "tuple" and fact["len"] > wanted:
            held = _CACHES[frame["function"]]
            return Cause("cache_unpacked_short", "the cache unpacked into too few names",
                         f"the cache holds {fact['len']} items ({held}) and line {frame['line']} unpacks {wanted} "
                         f"({names})", f"unpack all of them, in this order: ({held.replace(' and ', ', ')}) = cache")
    return None


def _parameter_reused(kind, message, frame):
    m = re.fullmatch(r"'(int|float|tuple|NoneType|str)' object (has no attribute '\w+'|is not subscriptable)",
                     message.strip())
    parameters = _parameters(frame)
    if not m or kind not in ("AttributeError", "TypeError") or not parameters:
        return None
    node, local = _line(frame), _locals(frame)
    used = {sub.value.id for sub in ast.walk(node) if isinstance(sub, (ast.Attribute, ast.Subscript))
            and isinstance(sub.value, ast.Name)} if node else set()
    suspects = [p for p in parameters if p in used and local.get(p, {}).get("kind") == _KINDS[m.group(1)]]
    for p in suspects:
        again = _assignments(frame, p)
        # a value that came from a call may be a helper's wrong result (zero_pad returning None): not settled
        if len(suspects) == 1 and again and _plain(again[-1][1]):
            k, text = again[-1]
            return Cause("parameter_reused", "a parameter's name reused for another value",
                         f"{p} is a parameter of {frame['function']}, and line {k} ({text}) gives the name {p} "
                         f"another value, so line {frame['line']} finds {_shown(local[p])} where the array passed "
                         f"in was", f"give that value another name, so that {p} keeps the array it was passed")
    return None


def _shape_of_shape(kind, message, frame):
    """p.shape of a parameter p passed in as a tuple of sizes (distribute_value's shape) and never rebound."""
    if kind != "AttributeError" or message.strip() != "'tuple' object has no attribute 'shape'":
        return None
    node, local = _line(frame), _locals(frame)
    read = {sub.value.id for sub in ast.walk(node) if isinstance(sub, ast.Attribute) and sub.attr == "shape"
            and isinstance(sub.value, ast.Name)} if node else set()
    suspects = [p for p in _parameters(frame) or () if p in read and local.get(p, {}).get("kind") == "tuple"
                and not _assignments(frame, p)]
    p = suspects[0] if len(suspects) == 1 else None
    return p and Cause("shape_of_shape", f"{p}.shape: {p} is already a tuple",
                       f"line {frame['line']} takes {p}.shape, but {p} is already {_shown(local[p])}, the sizes "
                       f"themselves, and a tuple has no .shape", f"use {p} itself where you wrote {p}.shape")


def _plain(text):
    """A binding whose value no function of the student's made: a loop's target, a shape unpacked, arithmetic."""
    tree = _parse(text)
    stmt = tree.body[0] if tree and tree.body else None
    if isinstance(stmt, ast.For):
        return True
    value = getattr(stmt, "value", None)
    return value is not None and all(ast.unparse(n.func) in ("np.shape", "len", "int", "range", "float")
                                     for n in ast.walk(value) if isinstance(n, ast.Call))


_KINDS = {"int": "int", "float": "float", "tuple": "tuple", "NoneType": "none", "str": "str"}


def _shown(fact):
    return f"the {fact['kind']} {fact['value']!r}" if "value" in fact else f"a {fact['kind']}"


def _replaced_by_its_slice(kind, message, frame):
    m = re.search(r"too many indices for array: array is (\d+)-dimensional, but (\d+) were indexed", message)
    node = _line(frame)
    if kind != "IndexError" or not m or node is None:
        return None
    arrays = _arrays(frame)
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Subscript) or not isinstance(sub.value, ast.Name) or sub.value.id not in arrays:
            continue
        name = sub.value.id
        items = sub.slice.elts if isinstance(sub.slice, ast.Tuple) else [sub.slice]
        if len(arrays[name]["shape"]) != int(m.group(1)) or len(items) != int(m.group(2)):
            continue
        for k, text in _assignments(frame, name):
            tree = _parse(text)
            stmt = tree.body[0] if tree and tree.body else None
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Subscript) \
                    and isinstance(stmt.value.value, ast.Name) and stmt.value.value.id == name:
                return Cause("array_replaced_by_its_slice", "an array replaced by its own slice in a loop",
                             f"line {k} ({text}) puts a slice of {name} back into the name {name}, so each pass of "
                             f"the loop takes another axis off it: by line {frame['line']} it has "
                             f"{m.group(1)} axes {tuple(arrays[name]['shape'])}",
                             f"give the slice its own name and index that, leaving {name} whole")
    return None


def _comma_for_colon(kind, message, frame):
    m = re.search(r"too many indices for array: array is (\d+)-dimensional, but (\d+) were indexed", message)
    node = _line(frame)
    if kind != "IndexError" or not m or node is None or int(m.group(2)) != int(m.group(1)) + 1:
        return None
    arrays = _arrays(frame)
    for sub in ast.walk(node):
        if not (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id in arrays
                and isinstance(sub.slice, ast.Tuple) and len(sub.slice.elts) == int(m.group(2))):
            continue
        items = sub.slice.elts
        for a, b in zip(items, items[1:]):
            if isinstance(a, ast.Name) and isinstance(b, ast.Name) and a.id.endswith("start") \
                    and b.id.endswith("end") and a.id[:-5] == b.id[:-3]:
                return Cause("comma_for_colon", "a comma where the window's colon belongs",
                             f"{ast.unparse(sub)} has a comma between {a.id} and {b.id}, so it indexes "
                             f"{len(items)} axes of the {m.group(1)}-axis {sub.value.id}: two separate indices "
                             f"where the window's slice {a.id}:{b.id} belongs", f"{a.id}:{b.id}")
    return None
# ---- END SHIPPED ----
