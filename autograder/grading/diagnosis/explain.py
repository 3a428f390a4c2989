"""Form (c) of a failing verdict: an exception explained at the student's own line.

When a student's function raises, the kernel side (`grader_record` in the
shipped helper modules) records the last frames of the student's code as
plain data (exchange.py validates it):

    frame = {"function": name, "line": n, "source": [the function's lines up to line n],
             "locals": [[name, fact], ...]}
    fact  = {"kind": "array", "shape": [...], "dtype": "float64"} | {"kind": "int", "value": 3}
          | {"kind": "slice", "start": .., "stop": .., "step": ..} | {"kind": "tuple"|"list", "len": n,
            "items": [fact, ...]} | {"kind": "dict", "len": n, "items": [[key, fact], ...]}
          | {"kind": "float"|"str"|"bool", "value": v} | {"kind": "none"} | {"kind": "other", "type": name}

`explain_lines` says where (the line, the function), what the frame held (shapes,
dtypes, integers) and, only when that evidence shows it, the cause (the rules
below). Student code is never run: source lines are parsed with `ast`, the
only values are the recorded ones. The SHIPPED part is copied into every helper
module (tools/make_notebooks.py): the visible checks say the same words.
"""
import ast
import re

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


def geometry(function, args):
    """The case's geometry for the rules ({"functions", "n_H_prev", "n_W_prev", "f", "stride", "pad"}), or None.

    args: the case's inputs as the judge built them (A_prev (m, n_H_prev, n_W_prev, n_C_prev),
    W (f, f, n_C_prev, n_C) for a convolution, hparameters a dict); backward passes read them from the cache.
    """
    if function not in ("conv_forward", "conv_backward", "pool_forward", "pool_backward"):
        return None
    given = args[1] if function.endswith("backward") else args
    arrays = [a for a in given if hasattr(a, "shape") and len(a.shape) == 4]
    hparameters = next(a for a in given if isinstance(a, dict))
    f = hparameters["f"] if "f" in hparameters else arrays[1].shape[0]
    return {"functions": (function,), "n_H_prev": arrays[0].shape[1], "n_W_prev": arrays[0].shape[2], "f": f,
            "stride": hparameters["stride"], "pad": hparameters.get("pad", 0)}


def for_verdict(case, raised, causes=True):
    """The verdict's lines for a raised record (exchange.Record.raised), the case's geometry included;
    causes: False when the diagnosis (diagnose.py) already names the mistake or a failing callee."""
    try:
        context = geometry(case.function, case.inputs()[0])
    except Exception:  # a case without a layer's inputs: the rules go without geometry
        context = None
    try:
        return explain_lines(raised["type"], raised["message"], raised.get("frames") or [], context, causes)
    except Exception:  # validated data cannot make this fail; if it did, the verdict stands without it
        return []
