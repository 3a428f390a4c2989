"""The block every shipped <assignment>_tests.py starts with (tools/make_notebooks.py puts it in).

Everything between the BEGIN and END lines below is copied into each helper
module, with the functions named in make_notebooks.REFERENCE_COPIES replaced
by the package's own source (numerical_gradient, relative_error,
format_citation), and followed by the module's generated EQUATIONS table.
Edit here, then run `python -m tools.make_notebooks`.
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
GRADER_NUMPY = "set by tools/make_notebooks.py"


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


# ---- EXPLAIN: the SHIPPED parts of diagnosis/explain.py, causes.py, structure.py go here (make_notebooks) ----


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
    """Copied from the solution package by tools/make_notebooks.py."""


def relative_error(a, b):
    """Copied from the solution package by tools/make_notebooks.py."""


def format_citation(labels, entries, link="text"):
    """Copied from autograder/grading/cases/citations.py by tools/make_notebooks.py."""


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
