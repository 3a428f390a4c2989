"""Checks for the pooling notebook (shipped to students; holds no solutions).

The visible checks below run in your notebook. When one fails it raises
CheckFailed with a message that says what is wrong, which case, the largest
error, and which equation of the book to re-read (with its address). Grading
runs hidden cases of the same kind. Also holds `output_size`, the output-size
formula of chapter 3, which pool_forward uses. `grader_record` is used by the
instructor's grader only: outside grading it does nothing.
"""
# ---- BEGIN SHARED (from tools/helpers_template.py; tools/make_notebooks.py copies it) ----
import ast
import contextlib
import inspect
import io
import json
import linecache
import math
import os
import re
import sysconfig
import textwrap
import traceback
import types
import warnings
from pathlib import Path

import numpy as np

_EXCHANGE_VAR = "BTC_GRADER_EXCHANGE"
GRADER_NUMPY = '2.4.6'  # requirements.txt


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
            try:  # the shapes in the failing frames, for the grader's explanation (bounded plain data)
                doc["raised"]["frames"] = _frames(e.__traceback__)
            except Exception:
                pass
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


# ------------------------------------------------------------------ the failing frames, as plain data

def _library(filename):
    """Whether `filename` is NumPy's, Python's or this module's (not the student's own code)."""
    if filename == __file__:
        return True
    roots = [os.path.dirname(np.__file__)] + [sysconfig.get_paths()[k] for k in ("stdlib", "purelib", "platlib")]
    return any(filename.startswith(root + os.sep) for root in roots)


def _fact(value, top=True):
    """A local's value as bounded plain data: an array's shape and dtype, an int, a slice's bounds..."""
    if isinstance(value, np.ndarray):
        if value.ndim > 32:
            return {"kind": "other", "type": "ndarray"}
        return {"kind": "array", "shape": [int(d) for d in value.shape], "dtype": str(value.dtype)[:32]}
    if isinstance(value, (bool, np.bool_)):
        return {"kind": "bool", "value": bool(value)}
    if isinstance(value, (int, np.integer)):
        return {"kind": "int", "value": int(value)} if abs(int(value)) < 2**53 else {"kind": "other", "type": "int"}
    if isinstance(value, (float, np.floating)):
        return {"kind": "float", "value": float(value)} if math.isfinite(value) else {"kind": "other", "type": "float"}
    if isinstance(value, str):
        return {"kind": "str", "value": re.sub(r"[\x00-\x1f\x7f]", "?", value[:40])}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, slice):
        bounds = [value.start, value.stop, value.step]
        if all(b is None or (isinstance(b, (int, np.integer)) and not isinstance(b, bool) and abs(int(b)) < 2**53)
               for b in bounds):
            return dict(zip(("kind", "start", "stop", "step"), ["slice"] + [None if b is None else int(b) for b in bounds]))
    if top and isinstance(value, (tuple, list)):
        return {"kind": type(value).__name__, "len": len(value), "items": [_fact(v, False) for v in value[:8]]}
    if top and isinstance(value, dict):
        items = [[k, _fact(v, False)] for k, v in list(value.items())[:8] if isinstance(k, str) and len(k) <= 40]
        return {"kind": "dict", "len": len(value), "items": [[re.sub(r"[\x00-\x1f\x7f]", "?", k), f] for k, f in items]}
    return {"kind": "other", "type": re.sub(r"[^\w.]", "?", type(value).__name__[:60])}


def _frames(tb, limit=3):
    """The last `limit` frames of the student's code in a traceback, innermost last, as plain data:
    {"function", "line", "source" (the function's lines up to the failing one), "locals": [[name, fact]]}.
    autograder/grading/exchange.py validates this on the grader's side; explain_lines reads it."""
    picked = []
    while tb is not None:
        if not _library(tb.tb_frame.f_code.co_filename):
            picked.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    frames = []
    for frame, line in picked[-limit:]:
        code = frame.f_code
        source = [re.sub(r"[\x00-\x08\x0a-\x1f\x7f]", " ", linecache.getline(code.co_filename, k).rstrip("\n")[:200])
                  for k in range(max(code.co_firstlineno, line - 39), line + 1)]
        local = []
        for name, value in list(frame.f_locals.items()):
            if len(local) < 40 and isinstance(name, str) and name.isidentifier() and len(name) <= 40 \
                    and not name.startswith("_") and not callable(value) and not isinstance(value, types.ModuleType):
                local.append([name, _fact(value)])
        frames.append({"function": re.sub(r"[^\w<>.]", "?", code.co_name[:80]), "line": line,
                       "source": source if any(s.strip() for s in source) else [], "locals": local})
    return frames


# ---- BEGIN SHIPPED (autograder/grading/diagnosis/explain.py; tools/make_notebooks.py copies it) ----
_CACHES = {"conv_backward": "A_prev, W, b and hparameters", "pool_backward": "A_prev and hparameters"}
_SCALAR_MESSAGES = ("only 0-dimensional arrays", "only length-1 arrays", "only size-1 arrays")


def explain_lines(kind, message, frames, context=None, causes=True):
    """Lines explaining an exception `kind`: `message` raised in `frames` (the student's, innermost last).

    context: the case's geometry when known ({"n_H_prev", "n_W_prev", "f", "stride", "pad",
    "functions"}); rules use it only in the frames of those functions.
    causes: False for the line and the facts only (when a diagnosis already names the mistake).
    """
    if not frames:
        return []
    frame = frames[-1]
    out = [_where(frames)] + _facts(frame)
    for rule in () if not causes else (_scalar_conversion, _zeros_shape, _undefined_name, _bad_slice, _object_array):
        try:
            said = rule(kind, message, frames, context or {})
        except Exception:  # the rule cannot read this evidence: it says nothing
            said = None
        if said:
            return out + said
    return out


def _text(frame):
    return frame["source"][-1].strip() if frame["source"] else ""


def _where(frames):
    frame = frames[-1]
    where = f"at line {frame['line']} of {frame['function']}"
    if len(frames) > 1:
        where += f" (called from {frames[-2]['function']}, line {frames[-2]['line']})"
    return where + (f": {_text(frame)}" if _text(frame) else "")


def _show(fact):
    kind = fact["kind"]
    if kind == "array":
        return f"{tuple(fact['shape'])} {fact['dtype']}"
    if kind == "slice":
        return f"{'' if fact['start'] is None else fact['start']}:{'' if fact['stop'] is None else fact['stop']}"
    if kind in ("tuple", "list"):
        items = ", ".join(_show(f) for f in fact["items"]) + (", ..." if fact["len"] > len(fact["items"]) else "")
        return f"({items}{',' if fact['len'] == 1 else ''})" if kind == "tuple" else f"[{items}]"
    if kind == "dict":
        return "{" + ", ".join(f"{k!r}: {_show(f)}" for k, f in fact["items"]) + "}"
    if kind in ("int", "float", "bool"):
        return repr(fact["value"])
    return repr(fact["value"]) if kind == "str" else ("None" if kind == "none" else f"<{fact['type']}>")


def _names_in(text):
    return list(dict.fromkeys(re.findall(r"[A-Za-z_]\w*", text)))


def _facts(frame, arrays=6, values=8):
    """'arrays here: ...' and 'values here: ...', the names on the failing line first."""
    local = dict(frame["locals"])
    order = [n for n in _names_in(_text(frame)) if n in local] + [n for n in local]
    order = list(dict.fromkeys(order))
    shown_arrays = [f"{n} {_show(local[n])}" for n in order if local[n]["kind"] == "array"][:arrays]
    shown_values = [f"{n} = {_show(local[n])}" for n in order
                    if local[n]["kind"] in ("int", "slice", "tuple", "dict", "str", "bool", "float")][:values]
    out = [f"arrays here: {', '.join(shown_arrays)}"] if shown_arrays else []
    return out + ([f"values here: {', '.join(shown_values)}"] if shown_values else [])


def _arrays(frame):
    return {n: f for n, f in frame["locals"] if f["kind"] == "array"}


def _ints(frame):
    return {n: f["value"] for n, f in frame["locals"] if f["kind"] == "int"}


def _parse(text):
    """The statement on one source line as an ast, or None (a partial line, a header, a continuation)."""
    text = text.strip()
    for attempt in (text, text + "\n    pass"):
        try:
            return ast.parse(attempt)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def _assigned(frame, name):
    """(line number, text) of the last line before the failing one that assigns `name`, or None."""
    lines = frame["source"][:-1]
    first = frame["line"] - len(frame["source"]) + 1
    for k in range(len(lines) - 1, -1, -1):
        tree = _parse(lines[k])
        for node in ast.walk(tree) if tree else ():
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return first + k, lines[k].strip()
    return None


def _value(node, ints):
    """The integer an index expression has, from the recorded integers only; None when unknown."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return ints.get(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _value(node.operand, ints)
        return None if v is None else -v
    if isinstance(node, ast.BinOp) and type(node.op) in (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv):
        a, b = _value(node.left, ints), _value(node.right, ints)
        if a is None or b is None or abs(a) > 10**9 or abs(b) > 10**9:
            return None
        if isinstance(node.op, ast.FloorDiv):
            return a // b if b else None
        return a + b if isinstance(node.op, ast.Add) else a - b if isinstance(node.op, ast.Sub) else a * b
    return None


# ------------------------------------------------------------------------------ the rules

def _scalar_conversion(kind, message, frames, context):
    """float(b) on a (1, 1, 1) array: NumPy 2 refuses what NumPy 1.25+ only warned about."""
    if kind != "TypeError" or not any(m in message for m in _SCALAR_MESSAGES):
        return None
    frame = frames[-1]
    arrays, text = _arrays(frame), _text(frame)
    called = [n for n in re.findall(r"\b(?:float|int)\(\s*([A-Za-z_]\w*)\s*\)", text) if n in arrays]
    ones = called or [n for n in _names_in(text) if n in arrays and all(d == 1 for d in arrays[n]["shape"])]
    if not ones or not arrays[ones[0]]["shape"]:
        return ["float() or int() was given an array with more than 0 dimensions: NumPy 2, which grades "
                "this, refuses it (NumPy 1.25 and later only warned)."]
    name, shape = ones[0], tuple(arrays[ones[0]]["shape"])
    if any(d != 1 for d in shape):  # converted by name, and it holds more than one value
        return [f"{name} has shape {shape}: it holds more than one value, and float() and int() take one number."]
    index = ", ".join("0" for _ in shape)
    out = [f"{name} has shape {shape}: float() and int() take only a number or a 0-dimensional array "
           f"under NumPy 2, which grades this (NumPy 1.25 and later only warned). Take its one value: "
           f"{name}.item(), or {name}[{index}], or np.squeeze({name})."]
    made = _assigned(frame, name) if name != "b" else None
    if made and "b" in _names_in(made[1].split("=", 1)[-1]) and arrays.get("b", {}).get("shape") == list(shape):
        out.append(f"{name} became an array at line {made[0]} ({made[1]}): b has shape {shape}, so adding b "
                   "gives an array of that shape; add b.item() instead.")
    return out


def _zeros_shape(kind, message, frames, context):
    """np.zeros(m, n_H, n_W, n_C): the shape must be one tuple (NumPy's message names that very call)."""
    tree = _parse(_text(frames[-1])) if kind == "TypeError" else None
    for node in ast.walk(tree) if tree else ():
        func = getattr(node, "func", None)
        func = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if func in ("zeros", "ones", "empty") and len(node.args) >= 2 and not node.keywords and (
                f"{func}() takes from 1 to 3 positional arguments but {len(node.args)} were" in message
                or f"Cannot interpret '{_value(node.args[1], _ints(frames[-1]))}' as a data type" in message):
            call = ast.unparse(node.func)
            return [f"{call} takes the shape as one tuple: {call}(({', '.join(map(ast.unparse, node.args))})), "
                    f"not {ast.unparse(node)} (its second argument is read as a dtype)."]
    return None


def _undefined_name(kind, message, frames, context):
    """A name read from the notebook's globals (NameError), or a local used before it is assigned."""
    frame = frames[-1]
    unbound = re.search(r"local variable '(\w+)'", message)
    if kind == "UnboundLocalError" and unbound:
        return [f"{unbound.group(1)} is assigned in {frame['function']}, but not before line {frame['line']} "
                "runs (or only in a branch that did not run)."]
    m = re.search(r"name '(\w+)' is not defined", message)
    if kind != "NameError" or not m:
        return None
    name, function = m.group(1), frame["function"]
    out = [f"{name} is not defined where line {frame['line']} runs: it is neither an argument of {function} "
           f"nor assigned in it before that line, and no cell run before this test defines it. A function "
           "takes what it uses from its arguments (a global left over from another cell hides this "
           "while you work; the grader runs the notebook from the top)."]
    if name == "hparameters" and function in _CACHES:
        out.append(f"In {function} it comes with the cache, which holds {_CACHES[function]}, in this order.")
    return out


def _subscripts(frame, depth=3, most=12):
    """(line number, subscript node, array name, [index nodes]) on the failing line, then on the lines
    that made its names, and the lines that made theirs (up to `depth` steps back, `most` lines)."""
    sources, names, seen = [(frame["line"], _text(frame))], _names_in(_text(frame)), set()
    for _ in range(depth):
        made = [m for m in (_assigned(frame, n) for n in names if n not in seen) if m and m not in sources]
        seen.update(names)
        sources += made[:most - len(sources)]
        names = [n for _, text in made for n in _names_in(text.split("=", 1)[-1])]
    for line, text in sources:
        tree = _parse(text)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                yield line, node, node.value.id, items


_AXES = {4: {1: "rows", 2: "columns"}, 3: {0: "rows", 1: "columns"}, 2: {0: "rows", 1: "columns"}}


def _bad_slice(kind, message, frames, context):
    """A window that is empty, runs past its array, or lands on the wrong axis."""
    if kind not in ("ValueError", "IndexError") or not re.search(
            r"zero-size array|broadcast|out of bounds|too many indices", message):
        return None
    # an index past the end raises IndexError; a window past the end makes a broadcast or an empty reduction
    wanted = (True, False) if "out of bounds" in message else (False, True)
    for index in wanted:
        for frame in reversed(frames):
            arrays, ints = _arrays(frame), _ints(frame)
            for line, node, name, items in _subscripts(frame):
                if name not in arrays or any(isinstance(i, ast.Constant) and i.value is Ellipsis for i in items):
                    continue
                shape, at = arrays[name]["shape"], f"{_evaluated(name, items, ints)} (line {line})"
                if len(items) > len(shape):
                    return [f"{at} indexes {name}, of shape {tuple(shape)} ({len(shape)} axes), with {len(items)} indices."]
                if len(shape) == 4 and len(items) == 3 and _window_on_images(items, ints, frame, context):
                    return [f"{at} indexes the 4-axis {name} {tuple(shape)}, (m, n_H, n_W, n_C), with 3 indices: "
                            f"{ast.unparse(items[0])} lands on the images axis, not on the rows. Put the image "
                            f"index first: {name}[i, {', '.join(map(ast.unparse, items))}]."]
                for axis, item in enumerate(items):
                    if isinstance(item, ast.Slice) != index:
                        said = _past_the_end(name, shape, axis, item, ints, at, frame, context)
                        if said:
                            return said
    return None


def _evaluated(name, items, ints):
    """name[items] with every bound the recorded integers give replaced by its value: A_prev_pad[1, 6:8, 0:2, :]."""
    def show(node):
        if node is None:
            return ""
        value = _value(node, ints)
        return ast.unparse(node) if value is None else str(value)
    shown = [f"{show(i.lower)}:{show(i.upper)}" + (f":{show(i.step)}" if i.step else "") if isinstance(i, ast.Slice)
             else show(i) for i in items]
    return f"{name}[{', '.join(shown)}]"


def _window_on_images(items, ints, frame, context):
    """Whether [rows, columns, c] indexes a 4-axis (m, n_H, n_W, n_C) array: two f-wide windows first."""
    if not context or frame["function"] not in context.get("functions", ()) or context["f"] < 2:
        return False
    widths = []
    for item in items[:2]:
        if not isinstance(item, ast.Slice) or item.lower is None or item.upper is None:
            return False
        low, high = _value(item.lower, ints), _value(item.upper, ints)
        widths.append(None if low is None or high is None else high - low)
    return widths == [context["f"], context["f"]]


def _past_the_end(name, shape, axis, item, ints, at, frame, context):
    size, where = shape[axis], _AXES.get(len(shape), {}).get(axis, f"entries along axis {axis}")
    if not isinstance(item, ast.Slice):
        k = _value(item, ints)
        if k is not None and not -size <= k < size:
            return [f"{at}: index {k} is past the end of {name}, which has {size} {where} (axis {axis})."]
        return None
    start = 0 if item.lower is None else _value(item.lower, ints)
    stop = size if item.upper is None else _value(item.upper, ints)
    if start is None or stop is None or item.step is not None or start < 0 or stop < 0:
        return None
    if start < stop <= size:
        return None
    held, window = max(0, min(stop, size) - start), bool(context) and stop - start == context["f"]
    what = "window" if window else "slice"
    out = [f"the {what} {at} " + ("is empty" if held == 0 else f"holds only {held} of its {stop - start} {where}")
           + f": {name} has {size} {where} (axis {axis}), and the {what} takes {where} {start}:{stop}."]
    if isinstance(item.upper, ast.UnaryOp) and stop == 0:
        out.append(f"An end of {ast.unparse(item.upper)} is 0 when {ast.unparse(item.upper.operand)} is 0: "
                   "the slice stops at 0 instead of running to the end.")
    return out + (_why_past(name, size, axis, len(shape), item, ints, frame, context) if window else [])


def _why_past(name, size, axis, ndim, item, ints, frame, context):
    """Why a window runs past, from the recorded integers and the case's geometry (never a guess)."""
    spatial = axis - (1 if ndim == 4 else 0)
    if spatial not in (0, 1) or not context or frame["function"] not in context.get("functions", ()):
        return []
    n_prev = context["n_H_prev" if spatial == 0 else "n_W_prev"]
    f, stride, pad = context["f"], context["stride"], context.get("pad", 0)
    n_out = (n_prev + 2 * pad - f) // stride + 1
    out_name, index, words = ("n_H", "h", "rows") if spatial == 0 else ("n_W", "w", "columns")
    if pad > 0 and size == n_prev:
        return [f"{name} is not padded: the windows index the padded arrays, which have {n_prev + 2 * pad} {words} "
                f"(n_prev + 2 * pad); cut them from the padded version of {name} (zero_pad)."]
    if ints.get(out_name) is not None and ints[out_name] != n_out:
        return [f"{out_name} = {ints[out_name]}, but the output has {n_out} {words}: {out_name} = "
                f"(n_prev + 2 * pad - f) // stride + 1 = ({n_prev} + 2 * {pad} - {f}) // {stride} + 1."]
    if ints.get(index) is not None and ints[index] >= n_out:
        return [f"{index} = {ints[index]}, but there are only {n_out} windows along the {words}: {index} runs "
                f"over range({out_name}) with {out_name} = {n_out}."]
    start = item.lower.id if isinstance(item.lower, ast.Name) else None  # (item is a slice here)
    if start and index in ints and start in ints and ints[start] != ints[index] * stride:
        return [f"{start} = {ints[start]}, but window {index} = {ints[index]} starts at {index} * stride = "
                f"{ints[index] * stride}."]
    last = (n_out - 1) * stride
    return [f"The last window starts at ({out_name} - 1) * stride = {last} and ends at {last} + f = {last + f}, "
            f"inside the {n_prev + 2 * pad} {words} of the {'padded ' if pad else ''}input."]


def _object_array(kind, message, frames, context):
    """Arrays of Python objects, and numbers expected where an array was given."""
    frame = frames[-1]
    if "inhomogeneous shape" in message:
        return ["np.array(...) was given pieces of different shapes, which cannot make one numeric array: "
                "create the result with np.zeros(shape) and fill it by index."]
    objects = [n for n, f in _arrays(frame).items() if f["dtype"] == "object" and n in _names_in(_text(frame))]
    if objects:
        return [f"{objects[0]} has dtype object: it holds Python objects (NumPy makes such an array from a "
                "list of pieces of unequal shapes or of non-numbers), and arithmetic on it fails. Create it "
                "with np.zeros(shape) and fill it by index."]
    tree = _parse(_text(frame))
    node = tree.body[0] if tree and tree.body else None
    if message.startswith("setting an array element with a sequence") and isinstance(node, ast.Assign) \
            and isinstance(node.targets[0], ast.Subscript) and isinstance(node.targets[0].value, ast.Name):
        target = node.targets[0]
        items = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
        shape = _arrays(frame).get(target.value.id, {}).get("shape")
        if shape is not None and len(items) == len(shape) and not any(isinstance(i, ast.Slice) for i in items):
            out = [f"{ast.unparse(target)} is one number, and {ast.unparse(node.value)} gave an array: "
                   "the right-hand side must be a single number."]
            return out + _added_ones(node.value, _arrays(frame))
    return None


def _added_ones(expression, arrays):
    """A sentence for each array of shape (1, 1, 1) (any all-ones shape) added in `expression` itself
    (not passed to a call): the sum it joins becomes an array of that shape."""
    out, todo = [], [expression]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Call):  # what a call does with its arguments is not shown here
            continue
        todo += list(ast.iter_child_nodes(node))
        for side in (node.left, node.right) if isinstance(node, ast.BinOp) else ():
            shape = arrays.get(getattr(side, "id", None), {}).get("shape")
            if shape and all(d == 1 for d in shape):
                out.append(f"{side.id} has shape {tuple(shape)}: {ast.unparse(node)} is an array of that shape; "
                           f"add {side.id}.item() instead.")
    return out[:1]
# ---- END SHIPPED ----


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
    return [f for f in traceback.extract_tb(error.__traceback__) if not _library(f.filename)][-limit:]


def _geometry(functions, params):
    """What explain_lines knows of a layer check's case: its functions and hyper-parameters."""
    if "shape" not in params or "stride" not in params or len(params["shape"]) != 4:
        return None
    return {"functions": tuple(getattr(f, "__name__", "") for f in functions), "n_H_prev": params["shape"][1],
            "n_W_prev": params["shape"][2], "f": params["f"], "stride": params["stride"], "pad": params.get("pad", 0)}


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
                try:
                    return check(*functions, case=case, equation=equation, **params)
                except _FailsWhenGraded as e:
                    _fail(*e.args[:1], case, equation, e.args[1])
            except CheckFailed as e:
                e = with_lines(e, _helper_lines(functions))
                hint = _rerun_hint(run, functions, params)
                raise (CheckFailed(f"{e}\n{hint}") if hint else e) from None
            except Exception as e:  # raised by the student's code
                frames = _student_frames(e)
                # no frame of the student's: the call itself failed (a signature without mode, ...)
                called = [f.__name__ for f in functions if _is_call_of(f, str(e))]
                where = frames[-1].name if frames else (called[0] if called else check.__name__)
                message = str(e).strip().splitlines()[0] if str(e).strip() else ""
                lines = [f"{where} raised {type(e).__name__}" + (f": {message}" if message else "")]
                if len(lines[0]) > WIDTH - 20:  # keep the first line whole: the message goes below
                    lines = [f"{where} raised {type(e).__name__}:", f"  {message}"]
                lines += [f"  case: {case}"] + (["  your code, last lines:"] if frames else [])
                for f in frames:
                    lines += [f"    {f.name}, line {f.lineno}: {(f.line or '').strip()}"]
                try:  # the same explanation the grader gives (explain_lines, below)
                    recorded = _frames(e.__traceback__)
                    named = _named_raise(type(e).__name__, str(e), recorded, functions)
                    said = explain_lines(type(e).__name__, str(e), recorded, _geometry(functions, params),
                                         causes=not named)[1:] + named
                except Exception:
                    said = []
                lines += [f"  {line}" for line in said + _helper_lines(functions)]
                words, url = _cite(equation)
                lines += [f"  re-read {words} in the book:", f"  {url}"]
                hint = _rerun_hint(run, functions, params)
                lines += [hint] if hint else []
                raise CheckFailed("\n".join(lines)) from None
        run.__name__, run.__doc__, run.describe = check.__name__, check.__doc__, describe
        return run
    return wrap


def likely(what, fix):
    """A named mistake in the grader's words (autograder/grading/diagnosis/diagnose.py writes its verdicts so):
    said only when the evidence the check has is conclusive."""
    return [f"likely mistake: {what}.", f"fix: {fix}"]


def _is_call_of(func, message):
    """Whether an exception's message is Python's about calling `func` (its arguments did not fit)."""
    names = {getattr(func, "__name__", None), getattr(func, "__qualname__", None)} - {None}
    return any(message.startswith(f"{name}() ") for name in names)


def _no_mode(kind, message, frames, functions):
    """A signature without mode: every call that passes mode raises TypeError before the body runs
    (and a body that still reads mode raises NameError when none is passed)."""
    for func in functions:
        name = getattr(func, "__name__", "")
        try:
            parameters = inspect.signature(func).parameters
        except (TypeError, ValueError):
            continue
        if "mode" in parameters or not any(p.kind == p.POSITIONAL_OR_KEYWORD for p in parameters.values()):
            continue
        if (kind == "TypeError" and _is_call_of(func, message) and "unexpected keyword argument 'mode'" in message) or (
                kind == "NameError" and "name 'mode' is not defined" in message and frames
                and frames[-1]["function"] == name):
            first = ", ".join(n for n, p in parameters.items() if p.default is p.empty)  # the ones mode follows
            return likely("your signature has no parameter mode, so every call that passes mode (mode='max' or "
                          "mode='average') raises TypeError before your code runs",
                          f'keep the signature: def {name}({first}, mode="max")')
    return []


def _columns_from_rows_raise(kind, message, frames, functions):
    """A window that runs past the input because its columns start at h * stride: the recorded
    horiz_start is h * stride and not w * stride (the frame's own integers show it)."""
    if kind not in ("ValueError", "IndexError") or not re.search(r"broadcast|zero-size", message):
        return []
    for frame in reversed(frames):
        ints = _ints(frame)
        if all(k in ints for k in ("horiz_start", "h", "w", "stride")) and \
                ints["horiz_start"] == ints["h"] * ints["stride"] != ints["w"] * ints["stride"]:
            return likely(*COLUMNS_FROM_ROWS)
    return []


def _named_raise(kind, message, frames, functions):
    """The grader's words for an exception whose cause the evidence shows conclusively, or [].
    Rules: _no_mode and _columns_from_rows_raise here, then the assignment's own (RAISE_RULES, set by its module),
    then _raised_cause (the causes an exception's frames settle, as the grader names them after its registry's)."""
    for rule in (_no_mode, _columns_from_rows_raise) + tuple(globals().get("RAISE_RULES", ())) + (_raised_cause,):
        try:
            said = rule(kind, message, frames, functions)
        except Exception:  # a rule that cannot read this evidence says nothing
            said = []
        if said:
            return said
    return []


def _raised_cause(kind, message, frames, functions):
    """The cause an exception's own frames settle (`cause`, shipped above from the grader's causes.py: its rules
    and its words), when it raised in the lines of a function under test and no graded helper that function
    calls fails its own check (the grader names nothing then either: the helper's verdict comes first)."""
    names = {getattr(f, "__name__", None) for f in functions}
    found = cause(kind, message, frames) if frames and frames[-1]["function"] in names else None
    if found is None or _helper_lines(functions):
        return []
    return likely(found.what, found.fix)


def _quiet_failure(check, functions, params):
    """The message of the visible `check` run quietly (no hints inside), or None when it passes."""
    _RERUNNING.append(True)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            check(*functions, **params)
    except Exception as e:
        return str(e)
    finally:
        _RERUNNING.pop()
    return None


def _helper_lines(functions):
    """For each graded helper your functions call (HELPER_CHECKS, set by the assignment's module) that fails
    its own visible check: which, and its likely mistake when its check names one (the grader's cascade)."""
    try:
        return _helper_failures(functions, globals().get("HELPER_CHECKS", {}))
    except Exception:  # a function this cannot read: the check's own message stands
        return []


def _helper_failures(functions, table):
    """_helper_lines' work: table is {helper name: [(its check, parameters), ...]}."""
    if _RERUNNING or not table:
        return []
    out, seen = [], set()
    for func in reversed(functions):  # the function under test first (a backward's check calls the forward too)
        names = getattr(getattr(func, "__code__", None), "co_names", ())
        for name in [n for n in names if n in table and n not in seen and n != getattr(func, "__name__", "")]:
            helper = getattr(func, "__globals__", {}).get(name)
            if not callable(helper):
                continue
            seen.add(name)
            for check, params in table[name]:
                failure = _quiet_failure(check, [helper], params)
                if failure is None:
                    continue
                said = dict(line.strip().split(": ", 1) for line in failure.splitlines()
                            if line.strip().startswith(("likely mistake: ", "fix: ")))
                if "likely mistake" in said:
                    out += [f"{func.__name__} calls {name}, which is wrong: {said['likely mistake']}",
                            f"fix {name} first: {said.get('fix', 'its test cells say how')}"]
                else:
                    out += [f"{func.__name__} calls {name}, which fails its own check: "
                            f"{failure.splitlines()[0]}", f"fix {name} first (its test cells say more)"]
                break
    return out


# Warnings of older NumPy versions that announce an error in the grader's NumPy: (text, error, fix).
GRADER_ERRORS = (
    ("Conversion of an array with ndim > 0 to a scalar", "TypeError",
     "take an array's one value with .item() (b.item()), or index it (b[0, 0, 0]), or np.squeeze it"),
    ("`product` is deprecated", "AttributeError", "use np.prod"),
    ("`alltrue` is deprecated", "AttributeError", "use np.all"),
    ("`sometrue` is deprecated", "AttributeError", "use np.any"),
    ("`cumproduct` is deprecated", "AttributeError", "use np.cumprod"),
    ("`round_` is deprecated", "AttributeError", "use np.round"),
    ("`in1d` is deprecated", "AttributeError", "use np.isin"),
    ("`trapz` is deprecated", "AttributeError", "use np.trapezoid"),
    # np.float, np.int, np.bool, np.object, np.complex, np.str: NumPy 1.20 warned, 1.24 removed them
    ("is a deprecated alias for the builtin", "AttributeError",
     "write the built-in type itself (float, int, bool, object, complex, str) where you wrote np.float, np.int, ..."),
)


class _FailsWhenGraded(Exception):
    """A warning here that is an error in the grader's NumPy: (first line, detail lines)."""


def check_numpy():
    """Say which NumPy grades this notebook, and warn when yours differs (the first code cell calls this)."""
    if os.environ.get(_EXCHANGE_VAR):
        return
    if np.__version__ == GRADER_NUMPY:
        print(f"NumPy {np.__version__}, the same as the grader's.")
    else:
        print(f"warning: the grader runs NumPy {GRADER_NUMPY} and you have NumPy {np.__version__}. "
              "The checks fail where they know the grader's NumPy raises, but only the same version "
              f"is sure to agree: pip install numpy=={GRADER_NUMPY}")


def _alias_cause(message):
    """The grader's words (causes.py's numpy_alias_removed) for np.float and the other aliases NumPy 1.24
    removed, from the warning NumPy 1.20-1.23 give where the grader's NumPy raises AttributeError; else []."""
    m = re.search(r"`np\.(\w+)` is a deprecated alias for the builtin", message)
    found = _numpy_name("AttributeError", f"module 'numpy' has no attribute '{m.group(1)}'", None) if m else None
    return likely(found.what, found.fix) if found and found.key == "numpy_alias_removed" else []


def _call(func, *args, **kwargs):
    """Call the student's function; report its warnings on stdout (they cost nothing by themselves),
    except those that are errors in the grader's NumPy (GRADER_ERRORS): the check fails with the fix."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    for w in caught:
        for text, error, fix in GRADER_ERRORS:
            if text in str(w.message):
                line = linecache.getline(w.filename, w.lineno).strip()
                raise _FailsWhenGraded(
                    f"{func.__name__} would raise {error} when graded (NumPy {GRADER_NUMPY}); "
                    f"your NumPy {np.__version__} only warns",
                    [f"{w.category.__name__}: {str(w.message)[:200]}",
                     f"at line {w.lineno}" + (f": {line}" if line else "")]
                    + (_alias_cause(str(w.message)) or [f"fix: {fix}"]))
    for w in caught[:3]:
        print(f"note: {func.__name__} warned {w.category.__name__}: {w.message}")
    return result


def returns_inside_loop(func):
    """Whether your function's source (when Python can read it) has a return statement whose innermost loop
    is an outermost for loop of the function (the loop over the examples), not a loop nested in it."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, ValueError):
        return False

    def found(node, depth):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue  # another function's return
            if isinstance(child, ast.Return) and depth == 1:
                return True
            if found(child, depth + isinstance(child, (ast.For, ast.While))):
                return True
        return False

    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    return bool(functions) and found(functions[0], 0)


def first_example_only(full, alone):
    """Whether a backward's results `full` (a tuple of arrays) hold example 0's results `alone` (the same
    function given example 0 only) and nothing else. full[0] is the input gradient (m, ...), zero for the
    other examples; the others (dW, db: summed over the examples) equal example 0's."""
    if not all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in tuple(full) + tuple(alone)):
        return False
    grad, rest = full[0], full[1:]
    if grad.shape[0] < 2 or grad.shape[1:] != alone[0].shape[1:] or not np.any(alone[0]):
        return False
    return bool(np.array_equal(grad[:1], alone[0]) and not np.any(grad[1:])
                and all(a.shape == b.shape and np.array_equal(a, b) for a, b in zip(rest, alone[1:])))


LOOP_RETURN = ("your return statement is indented inside the loop over the examples i, so the function returns "
               "after example 0 and every other example's gradient stays zero",
               "dedent the return so that it runs after the loop over i has finished")


def first_example_lines(func, names):
    """What the evidence shows when only example 0 reaches a backward's results (first_example_only)."""
    if returns_inside_loop(func):
        return likely(*LOOP_RETURN)
    rest = f", and {' and '.join(names[1:])} are what example 0 alone gives" if len(names) > 1 else ""
    return [f"only example 0 reaches your result: {names[0]} of every other example is zero{rest} (look for "
            "a return, a break or a range that ends the loop over the examples after i = 0)"]


def with_lines(error, lines):
    """The CheckFailed `error` with `lines` added above its "re-read" line (as _fail places details)."""
    if not lines:
        return error
    text = str(error).splitlines()
    at = next((k for k, line in enumerate(text) if line.startswith("  re-read ")), len(text))
    return CheckFailed("\n".join(text[:at] + [f"  {line}" for line in lines] + text[at:]))


def gradient_of(forward_of, x, upstream):
    """The gradient of sum(forward_of(x) * upstream) with respect to x, by central differences."""
    return numerical_gradient(lambda v: float(np.sum(forward_of(v) * upstream)), x.copy())


COLUMNS_FROM_ROWS = ("your window's columns start at h * stride, the row index: horiz_start must come from the "
                     "column index w, so every window of row h is cut from the same columns",
                     "take horiz_start from the column index w, times the stride, as vert_start comes from h")


def _tolerance(got):
    """Relative tolerance: float32 results are accepted with float32 precision."""
    return 1e-4 if np.asarray(got).dtype == np.float32 else 1e-7


def _shape_of(value):
    return getattr(value, "shape", type(value).__name__)


def assert_type_shape_dtype(name, got, shape, case, equation, expected=None):
    """got must be a floating-point NumPy array (float64, or float32) of `shape` (as the grader requires).
    expected: the book's array, when known: a result of the wrong kind is then told what it holds (the
    grader's words, diagnosis/structure.py)."""
    def facts():
        return (kind_facts(name, got, expected) or ("", []))[1] if expected is not None else []
    if not isinstance(got, np.ndarray):
        _fail(f"{name} should be a NumPy array of shape {shape}, got {type(got).__name__}", case, equation, facts())
    if got.shape != tuple(shape):
        _fail(f"{name} has shape {got.shape}, expected {tuple(shape)}", case, equation)
    if got.dtype not in (np.float64, np.float32):
        _fail(f"{name} has dtype {got.dtype}; expected float64 (or float32)", case, equation,
              ["integer or boolean arrays lose the fractional part: np.zeros(shape) is float64"] + facts())


def assert_array(name, got, expected, case, equation):
    """got must be a float array shaped like `expected` (float64) and equal to it within tolerance."""
    assert_type_shape_dtype(name, got, expected.shape, case, equation, expected)
    got64 = got.astype(np.float64)
    err = np.abs(got64 - expected)
    rtol = _tolerance(got)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    if not np.all(err <= rtol * (np.abs(expected) + 1e-2 * scale)):
        where = np.unravel_index(int(np.nanargmax(np.where(np.isnan(err), np.inf, err))), err.shape)
        rel = float(np.max(err / np.maximum(np.abs(expected), 1e-12)))
        _fail(f"{name} has wrong values", case, equation, [
            f"largest abs error {float(np.max(err)):.3g} at index {tuple(int(i) for i in where)}: "
            f"got {got64[where] + 0.0:.6g}, expected {expected[where] + 0.0:.6g}",
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
        _fail(f"{name} should return the tuple ({', '.join(names)}), got {what}", case, equation,
              (returns_facts(name, names, got, None) or ("", []))[1])
    return got


def _same_input(item, given):
    """Whether a cache's item is the input `given`, unchanged (a dict equal to it, or an equal array)."""
    if isinstance(given, dict):
        try:  # a dict of arrays compares to a dict of numbers by arrays (no truth value): not the input
            return isinstance(item, dict) and bool(item == given)
        except Exception:
            return False
    return isinstance(item, np.ndarray) and item.shape == given.shape and np.array_equal(item, given)


def _held(cache, inputs, names):
    """What a cache of the wrong length holds, item by item (the grader's words): an input as given, or an
    array's shape, a dict's keys, a type (at most 6 items)."""
    def one(item):
        for n, x in zip(names, inputs):
            if _same_input(item, x):
                return f"{n} as given"
        if isinstance(item, np.ndarray):
            return f"an array of shape {item.shape}"
        return f"a dict with keys {list(item)[:6]}" if isinstance(item, dict) else type(item).__name__
    items = [one(item) for item in cache[:6]] + (["..."] if len(cache) > 6 else [])
    return f"your cache holds: ({', '.join(items)})"


def assert_cache(cache, inputs, names, case, equation):
    """A forward's cache must be the tuple of its inputs, as given (the backward pass reads it)."""
    want = f"the tuple ({', '.join(names)}), the inputs as given"
    if not isinstance(cache, tuple) or len(cache) != len(inputs):
        _fail(f"cache should be {want}", case, equation,
              [f"got {type(cache).__name__}" + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else "")]
              + ([_held(cache, inputs, names)] if isinstance(cache, (tuple, list)) else [])
              + (cache_facts(list(names), list(inputs), cache) or ("", []))[1])
    for n, got, given in zip(names, cache, inputs):
        if not _same_input(got, given):  # what the whole cache holds, in the grader's words
            facts = (cache_facts(list(names), list(inputs), cache) or ("", []))[1]
            _fail(f"cache should hold {n} = {given} as given, got {got!r}" if isinstance(given, dict) else
                  f"cache's {n} is not the {n} given (cache should be {want})", case, equation, facts)


def window_counts(n_prev, f, stride, pad=0):
    """How many windows cover each input position along one axis (a window covers rows s*h-p .. s*h-p+f-1)."""
    n = (n_prev + 2 * pad - f) // stride + 1
    return np.array([sum(0 <= u + pad - stride * h < f for h in range(n)) for u in range(n_prev)])


def coverage(shape, f, stride, pad=0):
    """Windows covering each entry of an input of `shape` (m, n_H, n_W, n_C)."""
    rows, cols = window_counts(shape[1], f, stride, pad), window_counts(shape[2], f, stride, pad)
    return np.broadcast_to((rows[:, None] * cols[None, :])[None, :, :, None], shape)


def _last_window(n_prev, f, stride, pad, u):
    """The last window (along one axis) that covers input position u, or None (as window_counts counts them)."""
    covering = [h for h in range((n_prev + 2 * pad - f) // stride + 1) if 0 <= u + pad - stride * h < f]
    return covering[-1] if covering else None


def _delta(forward_of, x, u, eps=1e-6):
    """d forward_of(x) / d x[u] (an array shaped like the output), by central differences."""
    up, down = x.copy(), x.copy()
    up[u] += eps
    down[u] -= eps
    return (forward_of(up) - forward_of(down)) / (2 * eps)


def assigned_input_gradients(forward_of, x, upstream, f, stride, pad=0):
    """What a backward returns for the input x when each window's share is assigned (=), not added (+=).

    Each entry then keeps the share of the last window covering it: of its last channel, or of
    all channels (when they are summed before the write). The shares come from central differences
    of your own forward (forward_of(x) -> Z (m, n_H, n_W, n_C); upstream: dZ shaped like Z), never
    from a backward pass. Returns [last channel only, all channels], each shaped like x.
    """
    last_c, all_c = np.zeros(x.shape), np.zeros(x.shape)
    for u in np.ndindex(*x.shape):
        h, w = _last_window(x.shape[1], f, stride, pad, u[1]), _last_window(x.shape[2], f, stride, pad, u[2])
        if h is not None and w is not None:
            share = _delta(forward_of, x, u)[u[0], h, w, :] * upstream[u[0], h, w, :]
            last_c[u], all_c[u] = share[-1], share.sum()
    return [last_c, all_c]


def assigned_weight_gradient(forward_of, W, upstream):
    """dW when each window's share is assigned (=): only the last window's (the last output's), per filter c,
    from central differences of your forward (forward_of(W) -> Z; upstream: dZ shaped like Z)."""
    out = np.zeros(W.shape)
    for u in np.ndindex(*W.shape):
        out[u] = _delta(forward_of, W, u)[-1, -1, -1, u[-1]] * upstream[-1, -1, -1, u[-1]]
    return out


def same_as_any(got, variants):
    """Whether the float array `got` equals one of `variants` (within central differences' precision)."""
    return isinstance(got, np.ndarray) and got.dtype.kind == "f" and any(
        got.shape == v.shape and np.allclose(got, v, rtol=1e-5, atol=1e-7) for v in variants)


def _hint(analytic, numeric, covered=None, padded=True):
    """A structural hint when a gradient differs from central differences, or None.

    covered: for an input gradient, how many windows cover each entry (see coverage()).
    """
    bad = np.abs(analytic - numeric) > 1e-5 * (1 + np.abs(numeric))
    if covered is not None and bad.any():
        # telling only when some input lies in at most one window (else "only shared ones" says nothing)
        if not (bad & (covered <= 1)).any() and (covered > 1).any() and (covered <= 1).any():
            return "only inputs that several windows share are wrong: each collects the shares of all its windows"
        if not (bad & (covered > 0)).any():
            return "only inputs no window reads are wrong: their gradient is 0"
    if analytic.ndim == 4 and analytic.shape[1] > 2 and analytic.shape[2] > 2:
        inner = np.zeros(bad.shape, dtype=bool)
        inner[:, 1:-1, 1:-1, :] = True
        if bad.any() and not (bad & inner).any():
            return "only the border rows/columns are wrong" + (": look at padding and cropping" if padded else "")
    if np.any(numeric != 0) and np.all(analytic[numeric == 0] == 0):
        nonzero = np.abs(numeric) > 1e-6
        ratio = analytic[nonzero] / numeric[nonzero]
        # (a factor of 0 is no factor: an all-zero gradient is said where the check knows more)
        if ratio.size and np.allclose(ratio, ratio.flat[0], rtol=1e-4) and abs(ratio.flat[0] - 1) > 1e-3 \
                and abs(ratio.flat[0]) > 1e-3:
            return f"every entry is {ratio.flat[0]:.4g} times the right one: a missing or extra factor"
    return None


def _passes(check, functions, params):
    """Whether the visible `check` passes with these parameters (run quietly)."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            check(*functions, **params)
    except Exception:
        return False
    return True


_RERUNNING = []  # set while a check reruns quietly for a hint (no hints inside hints)


def _rerun_hint(run, functions, params):
    """A hint for a failing layer check, from quiet reruns of the same check, or None.

    Rerun with the hyper-parameters' keys in the usual order (HPARAMETERS_ORDER, set by the
    assignment's module): when that passes, the functions read them by position. Else, for
    stride > 1, rerun at stride 1: when that passes, the stride enters wrongly (the judge's
    diagnosis says the same).
    """
    usual = tuple(globals().get("HPARAMETERS_ORDER", ()))
    if _RERUNNING or "stride" not in params or not usual:
        return None
    order = tuple(params.get("order", usual))
    _RERUNNING.append(True)
    try:
        if order != usual and _passes(run, functions, dict(params, order=usual)):
            return (f"hint: right when hparameters lists {usual[0]!r} first, wrong when {order[0]!r} comes first: "
                    f"read each value by its key (hparameters[{usual[0]!r}]), not by position "
                    "(hparameters.values())")
        if params["stride"] > 1 and _passes(run, functions, dict(params, stride=1)):
            return (f"hint: right at stride 1, wrong at stride {params['stride']}: look where the stride enters "
                    "(output (h, w) reads the window from row h * stride, column w * stride)")
    finally:
        _RERUNNING.pop()
    return None


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of a scalar function.

    f: callable taking an array shaped like x and returning a scalar;
    x: float64 array of any shape (perturbed in place, then restored).
    Returns grad, shaped like x: (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) per entry k.
    The error is O(eps^2) plus rounding of order 1e-16 / eps.
    """
    if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
        # An integer array would round x + eps back to x: every estimate 0.
        # (float32 runs, and chapter 6 shows why its answers are poor.)
        raise ValueError(
            f"numerical_gradient needs a floating-point NumPy array (float64 for a trustworthy check), "
            f"got {getattr(x, 'dtype', type(x).__name__)}"
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + eps
        f_plus = f(x)
        x[k] = old - eps
        f_minus = f(x)
        x[k] = old
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||) over all entries, 0 when both are zero.

    a, b: arrays of one shape. Around 1e-9 or below for a correct float64
    gradient checked by central differences; 1e-2 or above means a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / scale)


def format_citation(labels, entries, link="text"):
    """Cite equations as the book shows them, grouped by chapter, in the order given.

    labels: equation labels, e.g. ("eq-conv-dx", "eq-conv-dx-full");
    entries: {label: (chapter, number shown, url)};
    link: "text" adds the address of the first equation (plain-text messages),
    "markdown" links every number, "" gives the words only.
    E.g. "chapter 4, eq. (4.4) and (4.5): https://.../04_conv_backward.html#equation-eq-conv-dx".
    """
    groups = []  # [(chapter, [label, ...])], chapters in order of first appearance
    for label in labels:
        chapter = entries[label][0]
        for group in groups:
            if group[0] == chapter:
                group[1].append(label)
                break
        else:
            groups.append((chapter, [label]))
    parts = []
    for chapter, group in groups:
        numbers = [f"[({entries[label][1]})]({entries[label][2]})" if link == "markdown"
                   else f"({entries[label][1]})" for label in group]
        listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
        parts.append(f"chapter {chapter}, eq. {listed}")
    text = "; ".join(parts)
    if link == "text":
        text += ": " + entries[labels[0]][2]
    return text


def assert_gradient(name, analytic, forward_of, x, case, equation, covered=None, padded=True):
    """Compare your backward's `analytic` gradient with central differences of the scalar forward_of(x).

    covered: for an input gradient, the windows covering each entry (for a hint when it fails);
    padded: whether the layer pads (else a wrong border is not blamed on padding).
    """
    assert_type_shape_dtype(name, analytic, x.shape, case, equation)
    single = analytic.dtype == np.float32
    eps, bound = (1e-3, 1e-3) if single else (1e-6, 1e-6)
    numeric = numerical_gradient(forward_of, x.copy(), eps)
    err = relative_error(analytic, numeric)
    if not err <= bound:
        where = np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), x.shape)
        hint = _hint(analytic.astype(np.float64), numeric, covered, padded)
        _fail(f"{name} disagrees with central differences (relative error {err:.2e})", case, equation, [
            f"largest difference at index {tuple(int(i) for i in where)}: your backward gives "
            f"{float(analytic[where]) + 0.0:.6g}, central differences give {numeric[where] + 0.0:.6g}",
            f"(central differences of your own forward; tolerance {bound:.0e})"]
            + ([f"hint: {hint}"] if hint else []))
# ---- END SHARED ----
# ---- BEGIN EQUATIONS (generated from the book's chapters by tools/make_notebooks.py) ----
# label: (chapter, the number the book shows, the equation's address in the book)
EQUATIONS = {
    'eq-maxpool': (5, '5.2', 'https://backprop-through-cnns.github.io/backprop-through-cnns/chapters/05_pooling.html#equation-eq-maxpool'),
    'eq-avgpool': (5, '5.3', 'https://backprop-through-cnns.github.io/backprop-through-cnns/chapters/05_pooling.html#equation-eq-avgpool'),
    'eq-maxpool-backward': (5, '5.4', 'https://backprop-through-cnns.github.io/backprop-through-cnns/chapters/05_pooling.html#equation-eq-maxpool-backward'),
    'eq-avgpool-backward': (5, '5.5', 'https://backprop-through-cnns.github.io/backprop-through-cnns/chapters/05_pooling.html#equation-eq-avgpool-backward'),
    'eq-output-size': (3, '3.8', 'https://backprop-through-cnns.github.io/backprop-through-cnns/chapters/03_conv_forward.html#equation-eq-output-size'),
}
# ---- END EQUATIONS ----


def output_size(n_prev, f, stride, pad=0):
    """Number of window positions along one spatial axis.

    A window of size f, moved in steps of `stride` over an axis of length
    n_prev padded by `pad` on both sides, fits this many times:

        n = floor((n_prev + 2 * pad - f) / stride) + 1
    """
    return (n_prev + 2 * pad - f) // stride + 1


EQ = {
    "max": ("eq-maxpool",),
    "average": ("eq-avgpool",),
    "max_backward": ("eq-maxpool-backward",),
    "average_backward": ("eq-avgpool-backward",),
    "size": ("eq-output-size",),
}


def distinct_values(shape, seed):
    """Random values, all different, so no pooling window has a tie for its maximum."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / 7.0 - 3.0


HPARAMETERS_ORDER = ("f", "stride")  # the usual key order; a failing case in another is rerun in this one


def _hparameters(f, stride, order):
    values = {"f": f, "stride": stride}
    return {k: values[k] for k in order}


# Chapter 5's worked example: its 4x4 input x pooled with f = 2, stride = 2 (no window ties).
KNOWN_INPUT = np.array([[1.0, 4.0, 2.0, 0.0],
                        [3.0, 2.0, 1.0, 5.0],
                        [0.0, 6.0, 3.0, 1.0],
                        [2.0, 1.0, 7.0, 2.0]])
KNOWN_POOLS = {
    "max": np.array([[4.0, 5.0], [6.0, 7.0]]),
    "average": np.array([[2.5, 2.0], [2.25, 3.25]]),
}


def _known_words(mode=None):
    return ("chapter 5's worked example: its 4x4 input x = [[1, 4, 2, 0], [3, 2, 1, 5], [0, 6, 3, 1], "
            "[2, 1, 7, 2]], hparameters={'f': 2, 'stride': 2}, "
            + (f"mode={mode!r}" if mode else "mode not given"))


@visible(lambda mode: (_known_words(mode), EQ[mode]))
def check_pool_forward_known(pool_forward, *, mode, case, equation):
    """Chapter 5's 4x4 input pooled with f = 2, stride = 2."""
    A_prev = KNOWN_INPUT.reshape(1, 4, 4, 1)
    A, cache = assert_tuple("pool_forward", _call(pool_forward, A_prev.copy(), {"f": 2, "stride": 2}, mode=mode),
                            ["A", "cache"], case, equation)
    try:
        assert_array("A", A, KNOWN_POOLS[mode][None, :, :, None], case, equation)
    except CheckFailed as e:
        raise with_lines(e, _forward_lines(pool_forward, A, A_prev, {"f": 2, "stride": 2}, mode)) from None
    assert_cache(cache, (A_prev, {"f": 2, "stride": 2}), ["A_prev", "hparameters"], case, equation)
    print(f"pool_forward: worked example OK ({mode})")


@visible(lambda: (_known_words(), EQ["max"]))
def check_pool_forward_default(pool_forward, *, case, equation):
    """Called without `mode`, pool_forward takes the maximum."""
    A_prev = KNOWN_INPUT.reshape(1, 4, 4, 1)
    A, cache = assert_tuple("pool_forward", _call(pool_forward, A_prev.copy(), {"f": 2, "stride": 2}),
                            ["A", "cache"], case, equation)
    try:
        assert_array("A", A, KNOWN_POOLS["max"][None, :, :, None], case, equation)
    except CheckFailed as e:
        raise with_lines(e, _forward_lines(pool_forward, A, A_prev, {"f": 2, "stride": 2}, "max")) from None
    assert_cache(cache, (A_prev, {"f": 2, "stride": 2}), ["A_prev", "hparameters"], case, equation)
    print("pool_forward: default mode OK (max)")


def _pool_words(shape, f, stride, mode, order=("f", "stride"), seed=0):
    return f"A_prev {shape}, hparameters={_hparameters(f, stride, order)}, mode={mode!r}"


def _spots(n_H, n_W):
    """Output positions the forward checks: the four corners and the middle."""
    return sorted({(0, 0), (0, n_W - 1), (n_H - 1, 0), (n_H - 1, n_W - 1), (n_H // 2, n_W // 2)})


def _expect_pool_forward(pool_forward, A_prev, hparameters, mode, case, equation):
    """Run your pool_forward and check A's type, shape, dtype, some values and the cache."""
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H, n_W = output_size(n_H_prev, f, stride), output_size(n_W_prev, f, stride)
    A, cache = assert_tuple("pool_forward", _call(pool_forward, A_prev.copy(), dict(hparameters), mode=mode),
                            ["A", "cache"], case, equation)
    try:
        assert_type_shape_dtype("A", A, (m, n_H, n_W, n_C), case, EQ["size"])
        assert_cache(cache, (A_prev, hparameters), ["A_prev", "hparameters"], case, equation)
        for h, w in _spots(n_H, n_W):
            window = A_prev[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
            expected = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
            assert_array(f"A[:, {h}, {w}, :]", A[:, h, w, :], expected, case, equation)
    except CheckFailed as e:
        raise with_lines(e, _forward_lines(pool_forward, A, A_prev, hparameters, mode)) from None


def _columns_from_rows(A_prev, f, stride, mode):
    """What pool_forward gives when every window's columns start at h * stride (a mistake): A of shape
    (m, n_H, n_W, n_C), windows cut short where they run past the input's columns (as slicing does), or None
    when one would be empty."""
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H, n_W = output_size(n_H_prev, f, stride), output_size(n_W_prev, f, stride)
    if (n_H - 1) * stride >= n_W_prev:
        return None
    out = np.zeros((m, n_H, n_W, n_C))
    for h, w in np.ndindex(n_H, n_W):
        window = A_prev[:, h * stride:h * stride + f, h * stride:h * stride + f, :]  # columns from h, not w
        out[:, h, w, :] = window.max(axis=(1, 2)) if mode == "max" else window.mean(axis=(1, 2))
    return out


SIZE_PROBE = ((1, 5, 4, 1), 3, 2)  # rows: 1 + (5 - 3) // 2 = 2, int((1 + 5 - 3) / 2) = 1; columns: 1 and 1, 0 without 1


def _one_inside(n_prev, f, stride):
    return int((1 + n_prev - f) / stride)


def _size_lines(pool_forward, A, A_prev, f, stride, mode):
    """The grader's words when your output sizes are int((1 + n_prev - f) / stride), told apart from the
    right size and from a size without the 1 by your pool_forward on this case and on SIZE_PROBE."""
    seen = [(A_prev.shape, f, stride, A)]
    probe, pf, ps = SIZE_PROBE
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seen.append((probe, pf, ps, pool_forward(distinct_values(probe, 0), {"f": pf, "stride": ps}, mode=mode)[0]))
    except Exception:  # your function cannot run the probe: this case alone decides nothing
        return []
    axes = []  # (n_prev, f, stride, your size) along every axis
    for given, f_, s_, got in seen:
        if not isinstance(got, np.ndarray) or got.ndim != 4:
            return []
        axes += [(given[1], f_, s_, got.shape[1]), (given[2], f_, s_, got.shape[2])]
    if all(n == _one_inside(p, f_, s_) for p, f_, s_, n in axes) and \
            any(n != output_size(p, f_, s_) for p, f_, s_, n in axes) and any(n != (p - f_) // s_ for p, f_, s_, n in axes):
        return likely("your output size divides 1 + n_H_prev - f by the stride; the 1 is added after the division: "
                      "n_H = 1 + (n_H_prev - f) // stride windows fit (the first at 0, then one every stride rows)",
                      "n_H = int(1 + (n_H_prev - f) / stride), and likewise n_W")
    return []


def _forward_lines(pool_forward, A, A_prev, hparameters, mode):
    """The grader's words for a failing pool_forward, where the evidence is conclusive, or []."""
    f, stride = hparameters["f"], hparameters["stride"]
    if not isinstance(A, np.ndarray) or A.ndim != 4:
        return []
    if A.shape[1:3] != (output_size(A_prev.shape[1], f, stride), output_size(A_prev.shape[2], f, stride)):
        return _size_lines(pool_forward, A, A_prev, f, stride, mode)
    wrong = _columns_from_rows(A_prev, f, stride, mode)
    if wrong is not None and same_as_any(A, [wrong]):
        return likely(*COLUMNS_FROM_ROWS)
    # said only where this case tells the slip from the right windows and from the windows that keep only the
    # channels, or only the examples (one example, or one channel, makes some of them the same)
    pooled = {over: _pooled_over(A_prev, f, stride, mode, over) for over in OVER}
    for over, words in (("image", WHOLE_IMAGE), ("batch", ALL_EXAMPLES_CHANNELS)):
        others = [pooled[o] for o in OVER if o != over]
        if same_as_any(A, [pooled[over]]) and not same_as_any(pooled[over], others):
            return likely(*words)
    return []


WHOLE_IMAGE = ("your window is A_prev[i, :, :, c], the whole image of example i in channel c, so every output "
               "position (h, w) gets the same number; each position pools its own f x f window",
               "cut each window from its own rows vert_start:vert_end and columns horiz_start:horiz_end")
ALL_EXAMPLES_CHANNELS = ("your window A_prev[:, vert_start:vert_end, horiz_start:horiz_end, :] keeps every example "
                         "and every channel, so A[i, h, w, c] is the same for every i and c; pooling takes example i "
                         "and channel c alone", "index the window with the example i and the channel c too")


OVER = ("window", "image", "batch", "channels", "examples")


def _pooled_over(A_prev, f, stride, mode, over):
    """pool_forward's A, (m, n_H, n_W, n_C), with every window cut as `over` says: "window" (the book's f x f
    window of example i and channel c), "image" (the whole image of example i in channel c), "batch" (the f x f
    window across every example and channel), "channels" (across every channel), "examples" (every example)."""
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H, n_W = output_size(n_H_prev, f, stride), output_size(n_W_prev, f, stride)
    pool = np.max if mode == "max" else np.mean
    out = np.zeros((m, n_H, n_W, n_C))
    for h, w in np.ndindex(n_H, n_W):
        window = A_prev if over == "image" else A_prev[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
        if over in ("window", "image"):
            out[:, h, w, :] = pool(window, axis=(1, 2))
        elif over == "batch":
            out[:, h, w, :] = pool(window)
        elif over == "channels":
            out[:, h, w, :] = pool(window, axis=(1, 2, 3))[:, None]
        else:  # "examples"
            out[:, h, w, :] = pool(window, axis=(0, 1, 2))[None, :]
    return out


@visible(lambda **p: (_pool_words(**p), EQ[p["mode"]]))
def check_pool_forward_case(pool_forward, *, shape, f, stride, mode, order=("f", "stride"), seed=0,
                            case, equation):
    """A's type, shape and dtype, its values at the corners and the middle, and the cache."""
    _expect_pool_forward(pool_forward, distinct_values(shape, seed), _hparameters(f, stride, order), mode,
                         case, equation)
    print(f"pool_forward: OK for {case}")


KNOWN_MASKS = {
    "2x2": [[1.0, 3.0], [4.0, 2.0]],
    "3x3_negative": [[-1.0, -3.0, -2.5], [-4.0, -2.0, -0.5], [-7.0, -0.75, -6.0]],
    "4x4": [[0.1, 0.2, 0.3, 0.4], [1.5, 1.2, 1.1, 1.0], [0.0, -1.0, 2.5, 0.5], [0.9, 2.4, 0.7, 0.8]],
}


MASK_IS_THE_MAX = ("your mask is the window's maximum, one number: the mask is an array of x's shape, True where x "
                   "equals that maximum (x == np.max(x))",
                   "compare x with its maximum entry by entry, which gives a boolean array of x's shape")


def _mask_words(example):
    x = KNOWN_MASKS[example]
    return f"a {len(x)}x{len(x[0])} window x = {x}"


@visible(lambda example: (_mask_words(example), EQ["max_backward"]))
def check_mask(create_mask_from_window, *, example, case, equation):
    """The mask is True exactly where the window's (single) maximum sits."""
    x = np.array(KNOWN_MASKS[example])
    expected = np.zeros(x.shape, dtype=bool)
    expected[np.unravel_index(int(np.argmax(x)), x.shape)] = True
    mask = _call(create_mask_from_window, x.copy())
    if isinstance(mask, (float, int, np.number)) and not isinstance(mask, bool) and mask == np.max(x):
        _fail(f"mask should be a NumPy array of shape {x.shape}, got one number, {float(mask):g}", case, equation,
              likely(*MASK_IS_THE_MAX))
    if not isinstance(mask, np.ndarray) or mask.shape != x.shape:
        _fail(f"mask should be a NumPy array of shape {x.shape}, got {_shape_of(mask)}", case, equation)
    if mask.dtype.kind not in "biuf" or not np.all((mask == 0) | (mask == 1)):
        _fail(f"mask should hold True/False (or 1/0), got values {np.unique(mask)[:5].tolist()}", case, equation)
    if not np.array_equal(mask.astype(bool), expected):
        _fail("mask marks the wrong entries", case, equation,
              [f"got {mask.astype(int).tolist()}", f"expected {expected.astype(int).tolist()}",
               "the mask marks the single maximum of the window it is given"])
    print(f"create_mask_from_window: OK ({example})")


@visible(lambda dz, shape: (f"distribute_value(dz={dz}, shape={shape})", EQ["average_backward"]))
def check_distribute_value(distribute_value, *, dz, shape, case, equation):
    """Every entry is dz / (f_H * f_W): average pooling spreads its gradient evenly over the window."""
    a = _call(distribute_value, dz, shape)
    share = dz / (shape[0] * shape[1])
    if isinstance(a, list) and np.asarray(a, dtype=object).shape == tuple(shape):
        _fail(f"a should be a NumPy array of shape {shape}, got list", case, equation, likely(
            "you return a Python list of lists; the function must return a NumPy array of shape (n_H, n_W)",
            "build a NumPy array of shape `shape` (np.ones(shape) times the value, or np.full)"))
    if isinstance(a, np.ndarray) and shape[0] != shape[1] and a.shape == tuple(shape[::-1]) and \
            np.allclose(a, share, rtol=1e-7, atol=0):
        _fail(f"a has shape {a.shape}, expected {tuple(shape)}", case, equation, likely(
            "your array has n_W rows and n_H columns: shape is (n_H, n_W), rows first",
            "build the array with the shape given, (n_H, n_W) = shape"))
    assert_array("a", a, np.full(shape, share), case, equation)
    print(f"distribute_value: OK for dz={dz}, shape={shape}")


@visible(lambda **p: (_pool_words(**p) + ", dA random", EQ[p["mode"] + "_backward"]))
def check_pool_backward_case(pool_forward, pool_backward, *, shape, f, stride, mode, order=("f", "stride"), seed=1,
                             case, equation):
    """dA_prev against central differences of your pool_forward (inputs without ties).

    With a fixed random dA, L = sum(pool_forward(A_prev)[0] * dA) has gradient
    pool_backward(dA, cache). Your pool_forward is checked on this case first (the
    grader's hidden cases build their own cache and do not use it).
    """
    A_prev = distinct_values(shape, seed)
    hparameters = _hparameters(f, stride, order)
    n_H, n_W = output_size(shape[1], f, stride), output_size(shape[2], f, stride)
    dA = np.random.default_rng(seed).uniform(-2, 2, size=(shape[0], n_H, n_W, shape[3]))
    try:
        _expect_pool_forward(pool_forward, A_prev, hparameters, mode, case, EQ[mode])
    except CheckFailed as e:
        raise CheckFailed("this check uses your pool_forward, which fails on this case: fix it first\n"
                          + str(e)) from None
    dA_prev = _call(pool_backward, dA.copy(), (A_prev.copy(), dict(hparameters)), mode=mode)
    def A_of(A):
        return pool_forward(A, dict(hparameters), mode=mode)[0]

    try:
        assert_gradient("dA_prev", dA_prev, lambda A: float(np.sum(A_of(A) * dA)), A_prev, case, equation,
                        covered=coverage(shape, f, stride), padded=False)
    except CheckFailed as e:  # = instead of +=: dA_prev equals the last window's share at each input
        named = _backward_lines(pool_backward, pool_forward, dA_prev, dA, A_prev, hparameters, mode)
        if named:
            raise with_lines(e, named) from None
        if same_as_any(dA_prev, assigned_input_gradients(A_of, A_prev.copy(), dA, f, stride)):
            raise CheckFailed(f"{e}\nhint: dA_prev keeps, at each input, only the share of the last window that "
                              "reached it: add each share with +=, since = overwrites the others") from None
        raise
    print(f"pool_backward: gradient check OK for {case}")


def _backward_lines(pool_backward, pool_forward, dA_prev, dA, A_prev, hparameters, mode):
    """The grader's words for a failing pool_backward, where the evidence is conclusive, or []."""
    f, stride = hparameters["f"], hparameters["stride"]
    if dA.shape[0] > 1:
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                alone = pool_backward(dA[:1].copy(), (A_prev[:1].copy(), dict(hparameters)), mode=mode)
            if first_example_only((dA_prev,), (alone,)):
                return first_example_lines(pool_backward, ["dA_prev"])
        except Exception:  # your function given one example cannot run: nothing to compare
            pass
    if _columns_from_rows(A_prev, f, stride, mode) is not None and same_as_any(
            dA_prev, [gradient_of(lambda A: _columns_from_rows(A, f, stride, mode), A_prev, dA)]):
        return likely(*COLUMNS_FROM_ROWS)

    def A_of(A):
        return pool_forward(A, dict(hparameters), mode=mode)[0]

    # the mask times the window (max pooling): what flows back is each window's maximum, not dA
    if mode != "average" and same_as_any(dA_prev, [gradient_of(A_of, A_prev, A_of(A_prev.copy()))]):
        return likely("you multiply the mask by the window of the input (a_prev_slice); what flows back to the "
                      "window's maximum is the upstream gradient dA[i, h, w, c]", "dA_prev[...] += mask * dA[i, h, w, c]")
    return []


# The graded helpers' own checks, run quietly when a check of a function that calls them fails.
HELPER_CHECKS = {
    "create_mask_from_window": [(check_mask, {"example": example}) for example in ("2x2", "3x3_negative", "4x4")],
    "distribute_value": [(check_distribute_value, {"dz": 2.0, "shape": (2, 2)}),
                         (check_distribute_value, {"dz": -0.9, "shape": (3, 3)}),
                         (check_distribute_value, {"dz": 1.2, "shape": (2, 3)})],
}
