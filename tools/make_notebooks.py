"""Write the nbgrader source notebooks and their helper modules from the book, the solution package and the case registry.

    python -m tools.make_notebooks          # (re)write autograder/source/*/* and citations.json
    python -m tools.make_notebooks --check  # exit 1 if a committed file differs

Drift is impossible by construction:
- every solution region is the body of the teaching function in `solutions`
  (decorator dropped);
- every test cell is one case of autograder/grading/cases/__init__.py with its points; its
  visible checks are listed below as data (check, functions, parameters) and the
  cell's header is written from the same data, by the check's own `describe`;
- every equation the notebooks show or cite is copied from the chapters with the
  number the book displays (autograder/grading/cases/citations.py), and each citation
  links to the published book; the numbers are saved in citations.json for the judge;
- the helper modules start with tools/helpers_template.py, into which the SHIPPED
  parts of autograder/grading/diagnosis/explain.py, causes.py and structure.py are
  copied (the visible checks explain an exception, name its cause and say what a result
  of the wrong kind holds, in the grader's words),
  then the table of the equations they cite; the helpers students get from the solution package's
  non-graded code (`numerical_gradient`, `relative_error`, `output_size`) and
  citations.format_citation are copied from it verbatim.
"""
import ast
import inspect
import re
import sys
import types
from pathlib import Path

import nbformat

import solutions
from autograder.grading import cases as registry
from autograder.grading.cases import citations

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "autograder" / "source"
TEMPLATE = ROOT / "tools" / "helpers_template.py"
DIAGNOSIS = ROOT / "autograder" / "grading" / "diagnosis"
# Their SHIPPED parts go into every helper module, in this order (causes.py's rules use explain.py's readers):
# the visible checks explain an exception, and name the cause its frames settle, in the grader's own words.
SHIPPED = (DIAGNOSIS / "explain.py", DIAGNOSIS / "causes.py", DIAGNOSIS / "structure.py")
EXPLAIN_BEGIN, EXPLAIN_END = "# ---- BEGIN SHIPPED", "# ---- END SHIPPED ----"
SHARED_BEGIN = "# ---- BEGIN SHARED"
SHARED_END = "# ---- END SHARED ----"
EQUATIONS_BEGIN = "# ---- BEGIN EQUATIONS"
EQUATIONS_END = "# ---- END EQUATIONS ----"


# ------------------------------------------------------------- function text

def split_function(func):
    """(header, body) of a solutions function: header = def line(s) + docstring, body = the rest.

    Both keep their indentation; decorator lines are dropped.
    """
    func = inspect.unwrap(func)
    lines = inspect.getsource(func).splitlines()
    node = ast.parse("\n".join(lines)).body[0]
    start = node.lineno - 1  # the `def` line, after any decorators
    doc_end = node.body[0].end_lineno  # the docstring is the first statement
    header = lines[start:doc_end]
    body = lines[doc_end:]
    while body and not body[0].strip():
        body.pop(0)
    return "\n".join(header), "\n".join(body)


def solution_cell_source(func, hint=""):
    header, body = split_function(func)
    hint = "".join(f"    # {line}\n" if line else "    #\n" for line in hint.splitlines()) if hint else ""
    return f"{header}\n{hint}    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION"


def given_source(*funcs):
    """Source of non-graded functions the notebook gives (decorators dropped)."""
    out = []
    for func in funcs:
        header, body = split_function(func)
        out.append(f"{header}\n{body}")
    return "\n\n\n".join(out)


# ------------------------------------------------------------- the book's equations in the task text

def with_equations(text):
    """Task text with `<<eq-label>>` replaced by the chapter's display, tagged with the book's number,
    and `[[eq-a eq-b]]` by the citation "chapter N, eq. (N.a) and (N.b)", each number linked."""
    table = citations.table()

    def display(m):
        label = m.group(1)
        latex, number = citations.latex(label), table[label].number
        if "\\\\" in latex:
            # Sphinx's MathJax output wraps a `$$` display holding a line break (\\) in a
            # split environment, where \tag is an error; a top-level equation* environment is
            # passed through unwrapped and unnumbered (MyST's amsmath extension); Jupyter renders it too.
            body = latex if latex.startswith("\\begin{") else f"\\begin{{aligned}}\n{latex}\n\\end{{aligned}}"
            return f"\\begin{{equation*}}\n{body}\n\\tag{{{number}}}\n\\end{{equation*}}"
        return f"$$\n{latex}\n\\tag{{{number}}}\n$$"

    text = re.sub(r"<<(eq-[a-z0-9-]+)>>", display, text)
    return re.sub(r"\[\[((?:eq-[a-z0-9-]+ ?)+)\]\]", lambda m: citations.cite_markdown(m.group(1).split()), text)


# ------------------------------------------------------------- cells

def markdown(text):
    return nbformat.v4.new_markdown_cell(with_equations(text.strip("\n")))


def code(text, grade_id=None, solution=False, points=None, locked=False):
    cell = nbformat.v4.new_code_cell(text.strip("\n"))
    if grade_id is not None:
        meta = {"grade": points is not None, "grade_id": grade_id, "locked": locked,
                "schema_version": 3, "solution": solution}
        if points is not None:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
    return cell


RECORD_NOTE = "# for grading only: does nothing here"


def call_source(check, functions, params):
    args = list(functions) + [f"{k}={v!r}" for k, v in params.items()]
    return f"{check}({', '.join(args)})"


def test_cell(case, checks):
    """The record of the graded case (it alone decides the score), then the visible checks that teach.

    Nothing in a test cell is hidden: the released cell is the source cell, so nbgrader's
    autograde finds every locked cell unchanged (hidden tests would make it warn
    "checksum has changed" for every test cell of every untouched submission).
    """
    source = (f'grader_record("{case.grade_id}", {case.function})  {RECORD_NOTE}\n'
              + "\n".join(call_source(*c) for c in checks))
    return code(source, grade_id=case.grade_id, points=case.points, locked=True)


def test_header(case, checks, helper):
    """What the visible checks below run (in the checks' own words), and what grading adds."""
    runs = "; ".join(getattr(helper, check).describe(**params)[0] for check, _, params in checks)
    points = f"{case.points} point{'s' if case.points > 1 else ''}"
    return (f"**Test `{case.grade_id}`** ({points}). Checks here: {runs}. "
            f"Grading runs a hidden case of the same kind: {case.about}.")


def intro(assignment, title, builds, chapters, example):
    links = ", ".join(f"[chapter {n}: {name}]({citations.page_url(page)})" for n, name, page in chapters)
    return markdown(f"""
# {title}

In this notebook you implement {builds}

The maths is derived in the book: {links}. Each task below shows the equations it needs with the
numbers the book gives them, and cites them as the book does, e.g. [[{example}]]: each cited number
links to its equation in the online book.

**How to work.** Write your code between `# YOUR CODE HERE` and the end of each answer cell
(replace `raise NotImplementedError()`). Keep every function's name and signature. After each
answer cell come its test cells: run them. Each test cell's header says what its visible check
runs; when a check fails, it says what is wrong, on which case (shapes and hyper-parameters), the
largest error, and which equation to re-read. When your work is graded, each test cell instead runs
a hidden case of the same kind (its first line, `grader_record`, records your function's result for
the grader, and does nothing while you work) and is worth the points in its header: passing the
visible checks is necessary, not sufficient. Arrays are channels-last, `(m, n_H, n_W, n_C)`, in
float64 (float32 results are accepted with float32 precision). Before you submit:
*Kernel > Restart & Run All*, or `nbgrader validate {assignment}.ipynb`.

**Grading runs NumPy {grader_numpy()}.** The first code cell says whether yours differs
(`pip install numpy=={grader_numpy()}` makes them agree): NumPy 2 refuses some things NumPy 1 only
warned about, such as Python's `float` of an array of shape `(1, 1, 1)`.
""")


def imports_cell(assignment, names):
    return code(f"import numpy as np\n\nfrom {assignment}_tests import (\n"
                + "".join(f"    {n},\n" for n in names) + ")\n\n"
                + f"check_numpy()  # the grader runs NumPy {grader_numpy()}: this warns when yours differs")


def imported(visible):
    """The helper names the test cells call (plus grader_record)."""
    return sorted({check for checks in visible.values() for check, _, _ in checks} | {"grader_record", "check_numpy"})


# ------------------------------------------------------------- the three notebooks
# Each notebook's visible checks: grade_id -> [(check, student functions, parameters), ...].
# The header above each test cell is written from these same values.

def activations_visible():
    v = {}
    for name in ["sigmoid", "relu", "tanh"]:
        back = f"{name}_backward"
        v[f"{back}__vector"] = [("check_known_values", [back], {"name": name})]
        v[f"{back}__matrix"] = [("check_gradient", [name, back], {"name": name, "shape": (4, 5)})]
        v[f"{back}__nhwc"] = [("check_gradient", [name, back], {"name": name, "shape": (2, 3, 4, 5)})]
    v["softmax_backward__one_row"] = [("check_known_values", ["softmax_backward"], {"name": "softmax"})]
    v["softmax_backward__matrix"] = [("check_gradient", ["softmax", "softmax_backward"],
                                      {"name": "softmax", "shape": (4, 5)})]
    v["softmax_backward__nhwc"] = [("check_gradient", ["softmax", "softmax_backward"],
                                    {"name": "softmax", "shape": (2, 3, 3, 4)})]
    return v


def activations():
    A = "activations"
    tasks = {
        "sigmoid_backward": ("Hint: start from Z = cache and recompute s = sigmoid of Z.", r"""
## 1. `sigmoid_backward`

With $\sigma(z) = 1 / (1 + e^{-z})$ applied element-wise, $A = \sigma(Z)$, chapter 2 derives

<<eq-sigmoid-grad>>

In code, $\bar A$ is `dA` and $\bar Z$ is `dZ`. The cache holds $Z$, the input of the forward pass,
not its output $A$.
"""),
        "relu_backward": ("Hint: start from Z = cache; copy dA before you change it.", r"""
## 2. `relu_backward`

$\operatorname{relu}(z) = \max(0, z)$ has slope 1 where $z > 0$ and 0 where $z < 0$; at the kink
$z = 0$ we use 0 (chapter 2 discusses the choice; graded inputs stay away from 0):

<<eq-relu-grad>>
"""),
        "tanh_backward": ("Hint: start from Z = cache.", r"""
## 3. `tanh_backward`

<<eq-tanh-grad>>
"""),
        "softmax_backward": ("Hint: work row by row along the last axis; names used by the book:\n"
                             "Z, S (the softmax of Z), K (the length of a row).", r"""
## 4. `softmax_backward`

Softmax is **not** element-wise: every output of a row depends on every input of that row.
For one row $z$ with $s = \operatorname{softmax}(z)$, the Jacobian is

<<eq-softmax-jacobian>>

and the backward pass is the vector-Jacobian product, row by row along the last axis ($\bar a$ is
a row of `dA`, $\bar z$ the same row of `dZ`):

<<eq-softmax-backward>>

`dA` and `cache` may have any number of leading axes, e.g. `(m, K)` or `(m, n_H, n_W, K)`.
"""),
    }
    visible = activations_visible()
    cells = [
        intro(A, "Activations: backward passes", "the backward passes of four activation functions: "
              "`sigmoid_backward`, `relu_backward`, `tanh_backward` and `softmax_backward`. "
              "The forward passes are given.", [(2, "Activations", "chapters/02_activations")], "eq-sigmoid-grad"),
        imports_cell(A, imported(visible)),
        markdown("""
## Given: the forward passes

Each returns `(A, cache)` with `cache = Z`, the input; your backward functions receive that cache.
Run this cell."""),
        code(given_source(solutions.sigmoid, solutions.relu, solutions.tanh, solutions.softmax)),
    ]
    return cells + graded_sections(A, tasks, visible)


# the visible twin of each hidden layer case: same hyper-parameters and key order, smaller arrays
CONV_LAYERS = {
    "stride1_pad1": {"shape": (2, 4, 4, 2), "f": 3, "n_C": 2, "stride": 1, "pad": 1},
    "pad0": {"shape": (2, 4, 5, 2), "f": 3, "n_C": 2, "stride": 1, "pad": 0},
    "stride2_overlap": {"shape": (1, 5, 5, 2), "f": 3, "n_C": 2, "stride": 2, "pad": 1},
    "stride3_gaps": {"shape": (1, 7, 7, 1), "f": 2, "n_C": 2, "stride": 3, "pad": 1},
    "nonsquare_m1": {"shape": (1, 3, 5, 2), "f": 3, "n_C": 2, "stride": 1, "pad": 2},
    "single_channel": {"shape": (2, 4, 4, 1), "f": 2, "n_C": 1, "stride": 1, "pad": 0},
    "hparams_pad_first": {"shape": (1, 5, 4, 2), "f": 3, "n_C": 2, "stride": 2, "pad": 1,
                          "order": ("pad", "stride")},
}


def convolution_visible():
    v = {
        "zero_pad__pad2": [("check_zero_pad", ["zero_pad"], {"shape": (2, 3, 4, 2), "pad": 2})],
        "zero_pad__pad0": [("check_zero_pad", ["zero_pad"], {"shape": (1, 3, 3, 1), "pad": 0})],
        "zero_pad__nonsquare_m1": [("check_zero_pad", ["zero_pad"], {"shape": (1, 2, 5, 1), "pad": 1})],
        "conv_single_step__random": [("check_conv_single_step", ["conv_single_step"], {"example": "two_channels"})],
        "conv_single_step__single_channel": [("check_conv_single_step", ["conv_single_step"],
                                              {"example": "one_channel"})],
        "conv_single_step__negative_bias": [("check_conv_single_step_bias", ["conv_single_step"],
                                             {"shape": (3, 3, 2), "biases": (-0.7, 0.3)})],
    }
    for suffix, params in CONV_LAYERS.items():
        v[f"conv_forward__{suffix}"] = [("check_conv_forward_case", ["conv_forward"], params)]
        v[f"conv_backward__{suffix}"] = [("check_conv_backward_case", ["conv_forward", "conv_backward"], params)]
    v["conv_forward__stride1_pad1"].insert(0, ("check_conv_forward_known", ["conv_forward"],
                                               {"example": "3x3_kernel2"}))
    v["conv_forward__stride2_overlap"].insert(0, ("check_conv_forward_known", ["conv_forward"],
                                                  {"example": "5x5_kernel3_stride2"}))
    return v


def convolution():
    A = "convolution"
    tasks = {
        "zero_pad": ("", r"""
## 1. `zero_pad`

Padding by $p$ (`pad`) adds $p$ rows and columns of zeros on each side of the two spatial axes
only, for every image and channel; chapter 3 writes it for one channel of one image:

<<eq-zero-pad>>

`np.pad` does this; give it one `(before, after)` pair per axis.
"""),
        "conv_single_step": ("", r"""
## 2. `conv_single_step`

One filter on one window: multiply element-wise, sum everything, add the bias. This is one term of
[[eq-conv-forward]] below (one $n, h, w, c$). Return a single Python number: `b` has shape
`(1, 1, 1)`, so add its one value, `b.item()` (or `b[0, 0, 0]`), not the array. Do not convert
`b` with Python's `float`: NumPy 2, which grades this, refuses to turn an array with dimensions
into a number (NumPy 1.25 and later only warned).
"""),
        "conv_forward": ("Names used by the book: A_prev_pad, vert_start, vert_end, horiz_start,\n"
                         "horiz_end, a_slice_prev. Read hparameters by key.", r"""
## 3. `conv_forward`

A convolution layer cross-correlates every image $n$ with each of its $n_C$ filters (chapter 3).
With $\tilde X$ the input `A_prev` padded by $p$, stride $s$, offsets $i, j$ inside the window,
input channel $k$ and output channel $c$:

<<eq-conv-forward>>

The output has

<<eq-output-size>>

rows (and likewise $n_W$ columns): `output_size(n_prev, f, stride, pad)` computes it. Use your
`zero_pad` and `conv_single_step`. Return `Z` and `cache = (A_prev, W, b, hparameters)`, the
inputs as given: `conv_backward` needs them.
"""),
        "conv_backward": ("Names used by the book: A_prev_pad, dA_prev_pad, vert_start, vert_end,\n"
                          "horiz_start, horiz_end, a_slice.", r"""
## 4. `conv_backward`

Every output $Z_{nhwc}$ used one window of the padded input and filter $c$; its upstream gradient
$\bar Z_{nhwc}$ (`dZ`) flows back along the same connections (chapter 4; $\bar b$, $\bar W$ and
$\bar{\tilde X}$ are `db`, `dW` and the gradient of the padded input, `dA_prev_pad`):

<<eq-conv-db>>

<<eq-conv-dw>>

(the second line writes it with $D$, the upstream gradient dilated by the stride, [[eq-conv-dilate]]),

<<eq-conv-dx>>

In loop form: every window adds $\bar Z_{nhwc}\, W_{:,:,:,c}$ into its slice of $\bar{\tilde X}$
and $\bar Z_{nhwc}$ times the window into $\bar W_{:,:,:,c}$, always with `+=`: an input collects
gradient from every output channel $c$ (whenever $n_C > 1$, even where no windows overlap) and,
where windows overlap (stride < f), from every window that contains it; with `=` the last
channel or window would overwrite the others. The book also writes
[[eq-conv-dx]] as the full correlation of the (dilated) upstream gradient with
$\operatorname{rot180}(W)$, equivalently the full convolution with $W$, [[eq-conv-dx-full]];
the loop form is the one to code. At the end, crop the padding from $\bar{\tilde X}$ to get
`dA_prev` (check that your crop still works when `pad = 0`). `db` has the shape of `b`,
`(1, 1, 1, n_C)`.
"""),
    }
    visible = convolution_visible()
    cells = [
        intro(A, "Convolution: forward and backward", "a convolution layer, forward and backward, with plain "
              "loops: `zero_pad`, `conv_single_step`, `conv_forward` and `conv_backward`.",
              [(3, "Convolution forward", "chapters/03_conv_forward"),
               (4, "Convolution backward", "chapters/04_conv_backward")], "eq-conv-dx"),
        imports_cell(A, imported(visible) + ["output_size"]),
    ]
    return cells + graded_sections(A, tasks, visible)


POOLS = {
    "max_f2_s2": {"shape": (2, 4, 4, 2), "f": 2, "stride": 2, "mode": "max"},
    "average_f2_s2": {"shape": (2, 4, 4, 2), "f": 2, "stride": 2, "mode": "average"},
    "max_f3_s2_overlap": {"shape": (1, 5, 5, 2), "f": 3, "stride": 2, "mode": "max"},
    "average_f3_s1_overlap": {"shape": (1, 4, 4, 2), "f": 3, "stride": 1, "mode": "average"},
    "max_f2_s3_gaps": {"shape": (1, 5, 5, 1), "f": 2, "stride": 3, "mode": "max"},
    "average_nonsquare_m1": {"shape": (1, 4, 6, 1), "f": 2, "stride": 2, "mode": "average"},
    "max_hparams_stride_first": {"shape": (1, 5, 4, 2), "f": 3, "stride": 2, "mode": "max",
                                 "order": ("stride", "f")},
}


def pooling_visible():
    v = {
        "pool_forward__default_mode": [("check_pool_forward_default", ["pool_forward"], {})],
        "create_mask_from_window__2x2": [("check_mask", ["create_mask_from_window"], {"example": "2x2"})],
        "create_mask_from_window__3x3_negative": [("check_mask", ["create_mask_from_window"],
                                                   {"example": "3x3_negative"})],
        "create_mask_from_window__4x4": [("check_mask", ["create_mask_from_window"], {"example": "4x4"})],
        "distribute_value__2x2": [("check_distribute_value", ["distribute_value"], {"dz": 2.0, "shape": (2, 2)})],
        "distribute_value__3x3_negative": [("check_distribute_value", ["distribute_value"],
                                            {"dz": -0.9, "shape": (3, 3)})],
        "distribute_value__nonsquare": [("check_distribute_value", ["distribute_value"],
                                         {"dz": 1.2, "shape": (2, 3)})],
    }
    for suffix, params in POOLS.items():
        v[f"pool_forward__{suffix}"] = [("check_pool_forward_case", ["pool_forward"], params)]
        v[f"pool_backward__{suffix}"] = [("check_pool_backward_case", ["pool_forward", "pool_backward"], params)]
    for mode in ("max", "average"):
        v[f"pool_forward__{mode}_f2_s2"].insert(0, ("check_pool_forward_known", ["pool_forward"], {"mode": mode}))
    return v


def pooling():
    A = "pooling"
    tasks = {
        "pool_forward": ("Names used by the book: vert_start, vert_end, horiz_start, horiz_end,\n"
                         "a_prev_slice. Read hparameters by key.", r"""
## 1. `pool_forward`

Pooling slides an $f \times f$ window with stride $s$ over each image and each channel separately
(no padding), and keeps its maximum or its mean. Chapter 5 writes it for one channel of one image:
$x$ is the input (`A_prev[n, :, :, c]`), $a$ the output (`A[n, :, :, c]`), and output $(h, w)$
looks at the window $R_{hw}$ of [[eq-pool-window]]:

<<eq-maxpool>>

<<eq-avgpool>>

The output size is [[eq-output-size]] with $p = 0$: `output_size(n_prev, f, stride)`.
Return `A` and `cache = (A_prev, hparameters)`, the inputs as given.
"""),
        "create_mask_from_window": ("", r"""
## 2. `create_mask_from_window`

Max pooling passes each window's upstream gradient only to the input that was the window's
maximum: in [[eq-maxpool-backward]] below, $M_{hw}$ is the mask of the window $R_{hw}$, 1 where its
maximum sits and 0 elsewhere. Return a boolean mask of the window's shape, True where the maximum
sits. Graded windows never tie, by design, so the tests do not decide what the mask does
at a tie: marking every tied maximum and marking only the first both pass. That is not a verdict
on the all-ties mask: when a network trains, the gradient should go to the first maximum only, as
the frameworks (PyTorch's `max_pool2d`) do; chapter 5 explains why.
"""),
        "distribute_value": ("", r"""
## 3. `distribute_value`

Average pooling gives every input of a window the same weight, so the window's upstream gradient
$\bar a_{hw}$ (here `dz`) is shared out evenly ([[eq-avgpool-backward]] below). `shape` is the
window's size, $f \times f$ when `pool_backward` calls it (`distribute_value(dz, (f, f))`); in
general $(f_H, f_W)$. Return an array of that shape whose entries all equal
$\bar a_{hw} / (f_H f_W)$, so that they sum to `dz`.
"""),
        "pool_backward": ("Names used by the book: a_prev, vert_start, vert_end, horiz_start,\n"
                          "horiz_end, a_prev_slice, mask, da.", r"""
## 4. `pool_backward`

For every output position, route $\bar a_{hw}$ (`dA[n, h, w, c]`) back to its window (chapter 5):

<<eq-maxpool-backward>>

<<eq-avgpool-backward>>

Use your `create_mask_from_window` (max) and `distribute_value` (average). When the stride is
smaller than $f$ the windows overlap, and an input collects gradient from every window it is in
(`+=`).
"""),
    }
    visible = pooling_visible()
    cells = [
        intro(A, "Pooling: forward and backward", "a pooling layer, max and average, forward and backward: "
              "`pool_forward`, `create_mask_from_window`, `distribute_value` and `pool_backward`.",
              [(5, "Pooling", "chapters/05_pooling"), (3, "Convolution forward", "chapters/03_conv_forward")],
              "eq-maxpool-backward"),
        imports_cell(A, imported(visible) + ["output_size"]),
    ]
    return cells + graded_sections(A, tasks, visible)


def graded_sections(assignment, tasks, visible):
    """Task text, answer cell, then one test cell per case, for every graded function in order."""
    cells = []
    cases = registry.for_assignment(assignment)
    assert sorted(visible) == sorted(c.grade_id for c in cases), "every case needs its visible checks"
    helper = load_helper(assignment)
    for name in solutions.GRADED[assignment]:
        hint, text = tasks[name]
        cells.append(markdown(text))
        cells.append(code(solution_cell_source(getattr(solutions, name), hint), grade_id=name, solution=True))
        for case in (c for c in cases if c.function == name):
            cells.append(markdown(test_header(case, visible[case.grade_id], helper)))
            cells.append(test_cell(case, visible[case.grade_id]))
    return cells


BUILDERS = {"activations": activations, "convolution": convolution, "pooling": pooling}
VISIBLE = {"activations": activations_visible, "convolution": convolution_visible, "pooling": pooling_visible}


# Cells an instructor adds (a written question, a manually graded answer): one notebook per
# assignment, autograder/extra/<assignment>.ipynb, whose cells are appended as they are, so
# regenerating the sources keeps them (README, "For instructors").
EXTRA = ROOT / "autograder" / "extra"


def extra_cells(assignment):
    """The instructor's own cells for `assignment` (none when there is no extra notebook)."""
    path = EXTRA / f"{assignment}.ipynb"
    return list(nbformat.read(path, as_version=4).cells) if path.is_file() else []


def notebook(assignment):
    nb = nbformat.v4.new_notebook()
    nb.cells = BUILDERS[assignment]() + extra_cells(assignment)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    # Stable cell ids, so regenerating changes nothing.
    for k, cell in enumerate(nb.cells):
        cell.id = f"{assignment[:4]}-{k:03d}"
    return nbformat.writes(nb) + "\n"


# ------------------------------------------------------------- the helper modules

def shared_block():
    """The template's shared block, with the grader's NumPy version and the SHIPPED parts filled in."""
    text = TEMPLATE.read_text()
    block = text[text.index(SHARED_BEGIN):text.index(SHARED_END) + len(SHARED_END)]
    block = re.sub(r'^GRADER_NUMPY = .*$', f"GRADER_NUMPY = {grader_numpy()!r}  # requirements.txt", block,
                   count=1, flags=re.M)
    shipped = "\n\n\n".join(shipped_part(path) for path in SHIPPED)
    return re.sub(r"^# ---- EXPLAIN: .*$", lambda m: shipped, block, count=1, flags=re.M)


def shipped_part(path):
    """The text between a trusted module's BEGIN SHIPPED and END SHIPPED lines, both included."""
    text = path.read_text()
    return text[text.index(EXPLAIN_BEGIN):text.index(EXPLAIN_END) + len(EXPLAIN_END)]


def grader_numpy():
    """The NumPy version the grader's kernels run: its pin in requirements.txt."""
    return re.search(r"^numpy==(\S+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)


# Non-graded helpers the shipped modules hold as exact copies of the trusted code.
REFERENCE_COPIES = (solutions.gradcheck.numerical_gradient, solutions.gradcheck.relative_error,
                    solutions.shapes.output_size, citations.format_citation)


def with_reference_copies(text):
    """Replace every module-level def of a REFERENCE_COPIES name in `text` by the trusted source."""
    sources = {f.__name__: inspect.getsource(f) for f in REFERENCE_COPIES}
    lines = text.splitlines(keepends=True)
    nodes = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name in sources]
    for node in sorted(nodes, key=lambda n: n.lineno, reverse=True):
        lines[node.lineno - 1:node.end_lineno] = [sources[node.name]]
    return "".join(lines)


def equations_block(labels):
    """The table of the equations a helper module cites: label -> (chapter, number shown, address)."""
    entries = citations.entries(labels)
    rows = "".join(f"    {label!r}: {entries[label]!r},\n" for label in labels)
    return (f"{EQUATIONS_BEGIN} (generated from the book's chapters by tools/make_notebooks.py) ----\n"
            f"# label: (chapter, the number the book shows, the equation's address in the book)\n"
            f"EQUATIONS = {{\n{rows}}}\n{EQUATIONS_END}")


def helper_module(assignment):
    """The assignment's helper module: its docstring, the shared block, its equations, its checks."""
    text = (SOURCE / assignment / f"{assignment}_tests.py").read_text()
    head = text[:text.index(SHARED_BEGIN)]
    tail_from = text.index(EQUATIONS_END) + len(EQUATIONS_END) if EQUATIONS_END in text \
        else text.index(SHARED_END) + len(SHARED_END)
    tail = text[tail_from:]
    labels = list(dict.fromkeys(re.findall(r"""["'](eq-[a-z0-9-]+)["']""", tail)))
    return with_reference_copies(head + shared_block() + "\n" + equations_block(labels) + tail)


def load_helper(assignment, text=None):
    """The helper module as the notebook imports it (from its generated text)."""
    path = SOURCE / assignment / f"{assignment}_tests.py"
    module = types.ModuleType(f"{assignment}_tests")
    module.__file__ = str(path)
    exec(compile(text or helper_module(assignment), str(path), "exec"), module.__dict__)
    return module


def expected_files():
    """{path: text} of every generated file."""
    citations.use(citations.snapshot())  # cite what the chapters number now
    files = {citations.SAVED: citations.snapshot()}
    for assignment in BUILDERS:
        files[SOURCE / assignment / f"{assignment}_tests.py"] = helper_module(assignment)
        files[SOURCE / assignment / f"{assignment}.ipynb"] = notebook(assignment)
    return files


def main(argv):
    stale = []
    for path, text in expected_files().items():
        if not path.exists() or path.read_text() != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(text)
    if "--check" in argv and stale:
        print("out of date (run python -m tools.make_notebooks):", *map(str, stale), sep="\n  ")
        return 1
    print(("would write" if "--check" in argv else "wrote"), len(stale), "file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
