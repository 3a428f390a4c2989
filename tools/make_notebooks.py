"""Write the nbgrader source notebooks from the solution package and the case registry.

    python -m tools.make_notebooks          # (re)write autograder/source/*/*.ipynb
    python -m tools.make_notebooks --check  # exit 1 if a committed file differs

Drift is impossible by construction: every solution region is the body of the
teaching function in `solutions` (decorator dropped), every test cell is one
case of autograder/grading/cases.py with its points, and the block of shared
helpers in each <assignment>_tests.py is copied from activations_tests.py, and
the helpers students get from the solution package's non-graded code
(`numerical_gradient`, `relative_error`, `output_size`) are copied from it verbatim.
"""
import ast
import inspect
import json
import sys
from pathlib import Path

import nbformat

import solutions
from autograder.grading import cases as registry

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "autograder" / "source"
SHARED_BEGIN = "# ---- BEGIN SHARED"
SHARED_END = "# ---- END SHARED ----"


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


# ------------------------------------------------------------- cells

def markdown(text):
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text, grade_id=None, solution=False, points=None, locked=False):
    cell = nbformat.v4.new_code_cell(text.strip("\n"))
    if grade_id is not None:
        meta = {"grade": points is not None, "grade_id": grade_id, "locked": locked,
                "schema_version": 3, "solution": solution}
        if points is not None:
            meta["points"] = points
        cell.metadata["nbgrader"] = meta
    return cell


def test_cell(case, visible):
    """Hidden record first (it alone decides the score), then the visible checks that teach."""
    source = (f'### BEGIN HIDDEN TESTS\ngrader_record("{case.grade_id}", {case.function})\n'
              f"### END HIDDEN TESTS\n{visible}")
    return code(source, grade_id=case.grade_id, points=case.points, locked=True)


def intro(assignment, title, builds, chapter_links):
    links = ", ".join(f"[{name}](../../chapters/{page})" for name, page in chapter_links)
    return markdown(f"""
# {title}

In this notebook you implement {builds}

The maths is derived in the book: {links}. Each task below quotes the equations it needs,
with the book's labels, e.g. "chapter 4, eq. (eq-conv-dw)".

**How to work.** Write your code between `# YOUR CODE HERE` and the end of each answer cell
(replace `raise NotImplementedError()`). Keep every function's name and signature. After each
answer cell come its test cells: run them. Each checks one case and, when it fails, says which
case, the shapes and hyper-parameters, the largest error, and which equation to re-read.
When your work is graded, the instructor's grader runs further cases of the same kind (every test cell
is worth the points shown in its header), so passing the visible checks is necessary, not
sufficient. Arrays are channels-last, `(m, n_H, n_W, n_C)`, in float64 (float32 results are
accepted with float32 precision). Before you submit: *Kernel > Restart & Run All*, or
`nbgrader validate {assignment}.ipynb`.
""")


def imports_cell(assignment, names):
    return code(f"import numpy as np\n\nfrom {assignment}_tests import (\n"
                + "".join(f"    {n},\n" for n in names) + ")")


# ------------------------------------------------------------- the three notebooks

def activations():
    A = "activations"
    v = {}
    for name in ["sigmoid", "relu", "tanh"]:
        v[f"{name}_backward__vector"] = f'check_known_values("{name}", {name}_backward)'
        v[f"{name}_backward__matrix"] = f'check_gradient("{name}", {name}, {name}_backward, (4, 5))'
        v[f"{name}_backward__nhwc"] = f'check_gradient("{name}", {name}, {name}_backward, (2, 3, 4, 5))'
    v["softmax_backward__one_row"] = 'check_known_values("softmax", softmax_backward)'
    v["softmax_backward__matrix"] = 'check_gradient("softmax", softmax, softmax_backward, (4, 5))'
    v["softmax_backward__nhwc"] = 'check_gradient("softmax", softmax, softmax_backward, (2, 3, 3, 4))'
    tasks = {
        "sigmoid_backward": ("Hint: start from Z = cache and recompute s = sigmoid of Z.", r"""
## 1. `sigmoid_backward`

With $\sigma(z) = 1 / (1 + e^{-z})$ applied element-wise, $A = \sigma(Z)$, the chain rule gives
(chapter 2)

$$\frac{\partial L}{\partial Z} = \frac{\partial L}{\partial A} \odot \sigma(Z) \odot \bigl(1 - \sigma(Z)\bigr) \tag{eq-sigmoid-grad}$$

The cache holds $Z$, the input of the forward pass, not its output $A$.
"""),
        "relu_backward": ("Hint: start from Z = cache; copy dA before you change it.", r"""
## 2. `relu_backward`

$\mathrm{relu}(z) = \max(0, z)$ has slope 1 where $z > 0$ and 0 where $z < 0$ (at the kink $z = 0$
we use 0, see chapter 2):

$$\frac{\partial L}{\partial Z} = \frac{\partial L}{\partial A} \odot \mathbb{1}[Z > 0] \tag{eq-relu-grad}$$
"""),
        "tanh_backward": ("Hint: start from Z = cache.", r"""
## 3. `tanh_backward`

$$\frac{\partial L}{\partial Z} = \frac{\partial L}{\partial A} \odot \bigl(1 - \tanh^2(Z)\bigr) \tag{eq-tanh-grad}$$
"""),
        "softmax_backward": ("Hint: work row by row along the last axis; names used by the book:\nZ, S (the softmax of Z), K (the length of a row).", r"""
## 4. `softmax_backward`

Softmax is **not** element-wise: every output of a row depends on every input of that row.
For one row $z \in \mathbb{R}^K$ with $s = \mathrm{softmax}(z)$, the Jacobian is

$$J = \frac{\partial s}{\partial z} = \mathrm{diag}(s) - s\,s^\top \tag{eq-softmax-jacobian}$$

and the backward pass is the vector-Jacobian product, row by row along the last axis:

$$\frac{\partial L}{\partial z} = J^\top \frac{\partial L}{\partial s} \tag{eq-softmax-backward}$$

`dA` and `cache` may have any number of leading axes, e.g. `(m, K)` or `(m, n_H, n_W, K)`.
"""),
    }
    cells = [
        intro(A, "Activations: backward passes", "the backward passes of four activation functions: "
              "`sigmoid_backward`, `relu_backward`, `tanh_backward` and `softmax_backward`. "
              "The forward passes are given.", [("Chapter 2: Activations", "02_activations.md")]),
        imports_cell(A, ["check_gradient", "check_known_values", "grader_record"]),
        markdown("""
## Given: the forward passes

Each returns `(A, cache)` with `cache = Z`, the input; your backward functions receive that cache.
Run this cell."""),
        code(given_source(solutions.sigmoid, solutions.relu, solutions.tanh, solutions.softmax)),
    ]
    return cells + graded_sections(A, tasks, v)


def convolution():
    A = "convolution"
    v = {
        "zero_pad__pad2": "check_zero_pad(zero_pad, (2, 3, 4, 2), pad=2)",
        "zero_pad__pad0": "check_zero_pad(zero_pad, (1, 3, 3, 1), pad=0)",
        "zero_pad__nonsquare_m1": "check_zero_pad(zero_pad, (1, 2, 5, 1), pad=1)",
        "conv_single_step__random": 'check_conv_single_step(conv_single_step, "two_channels")',
        "conv_single_step__single_channel": 'check_conv_single_step(conv_single_step, "one_channel")',
        "conv_single_step__negative_bias": "check_conv_single_step_bias(conv_single_step)",
    }
    # the visible twin of each hidden layer case: same hyper-parameters, smaller arrays
    layer = {
        "stride1_pad1": "shape=(2, 4, 4, 2), f=3, n_C=2, stride=1, pad=1",
        "pad0": "shape=(2, 4, 5, 2), f=3, n_C=2, stride=1, pad=0",
        "stride2_overlap": "shape=(1, 5, 5, 2), f=3, n_C=2, stride=2, pad=1",
        "stride3_gaps": "shape=(1, 7, 7, 1), f=2, n_C=2, stride=3, pad=1",
        "nonsquare_m1": "shape=(1, 3, 5, 2), f=3, n_C=2, stride=1, pad=2",
        "single_channel": "shape=(2, 4, 4, 1), f=2, n_C=1, stride=1, pad=0",
        "hparams_pad_first": "shape=(1, 5, 4, 2), f=3, n_C=2, stride=2, pad=1, pad_first=True",
    }
    for suffix, params in layer.items():
        v[f"conv_forward__{suffix}"] = f"check_conv_forward_case(conv_forward, {params})"
        v[f"conv_backward__{suffix}"] = f"check_conv_backward_case(conv_forward, conv_backward, {params})"
    v["conv_forward__stride1_pad1"] = ('check_conv_forward_known(conv_forward, "3x3_kernel2")\n'
                                       + v["conv_forward__stride1_pad1"])
    v["conv_forward__pad0"] = ('check_conv_forward_known(conv_forward, "5x5_kernel3_stride2")\n'
                               + v["conv_forward__pad0"])
    tasks = {
        "zero_pad": ("", r"""
## 1. `zero_pad`

Padding adds `pad` rows and columns of zeros on each side of the two spatial axes only
(chapter 3):

$$X^{\text{pad}}_{i,\,h+p,\,w+p,\,c} = X_{i,h,w,c}, \quad \text{and } 0 \text{ everywhere else} \tag{eq-zero-pad}$$

`np.pad` does this; give it one `(before, after)` pair per axis.
"""),
        "conv_single_step": ("", r"""
## 2. `conv_single_step`

One filter on one window: multiply element-wise, sum everything, add the bias. This is one term
of eq. (eq-conv-forward) below. Return a single Python number: `b` has shape `(1, 1, 1)`, so add
its one value (`b.item()`), not the array.
"""),
        "conv_forward": ("Names used by the book: A_prev_pad, vert_start, vert_end, horiz_start,\n"
                         "horiz_end, a_slice_prev. Read hparameters by key.", r"""
## 3. `conv_forward`

A convolution layer cross-correlates every example with each of its $n_C$ filters (chapter 3):

$$Z_{i,h,w,c} = \sum_{k_h=0}^{f-1} \sum_{k_w=0}^{f-1} \sum_{c'} A^{\text{pad}}_{i,\; h s + k_h,\; w s + k_w,\; c'}\, W_{k_h,k_w,c',c} + b_c \tag{eq-conv-forward}$$

with stride $s$ and the input padded by $p$; the output has

$$n_H = \left\lfloor \frac{n_{H,\text{prev}} + 2p - f}{s} \right\rfloor + 1 \tag{eq-output-size}$$

rows (and likewise $n_W$ columns): `output_size(n_prev, f, stride, pad)` computes it. Use your
`zero_pad` and `conv_single_step`. Return `Z` and `cache = (A_prev, W, b, hparameters)`, the
inputs as given: `conv_backward` needs them.
"""),
        "conv_backward": ("Names used by the book: A_prev_pad, dA_prev_pad, vert_start, vert_end,\n"
                          "horiz_start, horiz_end, a_slice.", r"""
## 4. `conv_backward`

Every output $Z_{i,h,w,c}$ used one window of the padded input and filter $c$; its upstream
gradient $dZ_{i,h,w,c}$ flows back along the same connections (chapter 4):

$$db_c = \sum_{i,h,w} dZ_{i,h,w,c} \tag{eq-conv-db}$$

$$dW_{k_h,k_w,c',c} = \sum_{i,h,w} A^{\text{pad}}_{i,\; h s + k_h,\; w s + k_w,\; c'}\; dZ_{i,h,w,c} \tag{eq-conv-dw}$$

$$dA^{\text{pad}}_{i,\; h s + k_h,\; w s + k_w,\; c'} \mathrel{+}= \sum_c W_{k_h,k_w,c',c}\; dZ_{i,h,w,c} \tag{eq-conv-dx}$$

Chapter 4 also writes the last one as a full convolution of $dZ$ with the kernel rotated by 180
degrees, eq. (eq-conv-dx-full), after dilating $dZ$ by the stride, eq. (eq-conv-dilate); the loop
form above is the one to code. Windows that overlap (stride < f) both send gradient to the inputs
they share. At the end, crop the padding from $dA^{\text{pad}}$ to get `dA_prev`
(careful: check that your crop still works when `pad = 0`). `db` has the shape of `b`, `(1, 1, 1, n_C)`.
"""),
    }
    cells = [
        intro(A, "Convolution: forward and backward", "a convolution layer, forward and backward, with plain "
              "loops: `zero_pad`, `conv_single_step`, `conv_forward` and `conv_backward`.",
              [("Chapter 3: Convolution forward", "03_conv_forward.md"),
               ("Chapter 4: Convolution backward", "04_conv_backward.md")]),
        imports_cell(A, ["check_conv_backward_case", "check_conv_forward_case", "check_conv_forward_known",
                         "check_conv_single_step", "check_conv_single_step_bias", "check_zero_pad",
                         "grader_record", "output_size"]),
    ]
    return cells + graded_sections(A, tasks, v)


def pooling():
    A = "pooling"
    v = {
        "pool_forward__max_f2_s2": 'check_pool_forward_known(pool_forward, "max")',
        "pool_forward__average_f2_s2": 'check_pool_forward_known(pool_forward, "average")',
        "pool_forward__default_mode": "check_pool_forward_default(pool_forward)",
        "create_mask_from_window__2x2": 'check_mask(create_mask_from_window, "2x2")',
        "create_mask_from_window__3x3_negative": 'check_mask(create_mask_from_window, "3x3_negative")',
        "create_mask_from_window__4x4": 'check_mask(create_mask_from_window, "4x4")',
        "distribute_value__2x2": "check_distribute_value(distribute_value, 2.0, (2, 2))",
        "distribute_value__3x3_negative": "check_distribute_value(distribute_value, -0.9, (3, 3))",
        "distribute_value__nonsquare": "check_distribute_value(distribute_value, 1.2, (2, 3))",
    }
    pools = {
        "max_f2_s2": 'shape=(2, 4, 4, 2), f=2, stride=2, mode="max"',
        "average_f2_s2": 'shape=(2, 4, 4, 2), f=2, stride=2, mode="average"',
        "max_f3_s2_overlap": 'shape=(1, 5, 5, 2), f=3, stride=2, mode="max"',
        "average_f3_s1_overlap": 'shape=(1, 4, 4, 2), f=3, stride=1, mode="average"',
        "max_f2_s3_gaps": 'shape=(1, 5, 5, 1), f=2, stride=3, mode="max"',
        "average_nonsquare_m1": 'shape=(1, 4, 6, 1), f=2, stride=2, mode="average"',
        "max_hparams_stride_first": 'shape=(1, 5, 4, 2), f=3, stride=2, mode="max", stride_first=True',
    }
    for suffix, params in pools.items():
        case = f"check_pool_forward_case(pool_forward, {params})"
        v[f"pool_forward__{suffix}"] = (v[f"pool_forward__{suffix}"] + "\n" + case
                                        if f"pool_forward__{suffix}" in v else case)
        v[f"pool_backward__{suffix}"] = f"check_pool_backward_case(pool_forward, pool_backward, {params})"
    tasks = {
        "pool_forward": ("Names used by the book: vert_start, vert_end, horiz_start, horiz_end,\n"
                         "a_prev_slice. Read hparameters by key.", r"""
## 1. `pool_forward`

Pooling slides an $f \times f$ window with stride $s$ over each channel separately (no padding),
and keeps its maximum or its mean (chapter 5):

$$A_{i,h,w,c} = \max_{0 \le k_h, k_w < f} A^{\text{prev}}_{i,\; h s + k_h,\; w s + k_w,\; c} \tag{eq-maxpool}$$

$$A_{i,h,w,c} = \frac{1}{f^2} \sum_{0 \le k_h, k_w < f} A^{\text{prev}}_{i,\; h s + k_h,\; w s + k_w,\; c} \tag{eq-avgpool}$$

The output size is chapter 3's eq. (eq-output-size) with $p = 0$: `output_size(n_prev, f, stride)`.
Return `A` and `cache = (A_prev, hparameters)`, the inputs as given.
"""),
        "create_mask_from_window": ("", r"""
## 2. `create_mask_from_window`

Max pooling passes its upstream gradient only to the input that was the maximum of the window
(chapter 5, eq. (eq-maxpool-backward) below). Return a boolean mask of the window's shape, True
where the maximum sits. (Graded windows have a single maximum; chapter 5 discusses ties.)
"""),
        "distribute_value": ("", r"""
## 3. `distribute_value`

Average pooling gave every input of the window the same weight $1/(n_H n_W)$, so its gradient
$dz$ is shared out evenly (eq. (eq-avgpool-backward) below): return an array of `shape` whose
entries all equal $dz / (n_H\, n_W)$.
"""),
        "pool_backward": ("Names used by the book: a_prev, vert_start, vert_end, horiz_start,\n"
                          "horiz_end, a_prev_slice, mask, da.", r"""
## 4. `pool_backward`

For every output position, route $dA_{i,h,w,c}$ back to its window (chapter 5):

$$dA^{\text{prev}}_{i,\; h s + k_h,\; w s + k_w,\; c} \mathrel{+}= \mathbb{1}\Bigl[A^{\text{prev}}_{i,\,hs+k_h,\,ws+k_w,\,c} = A_{i,h,w,c}\Bigr]\; dA_{i,h,w,c} \tag{eq-maxpool-backward}$$

$$dA^{\text{prev}}_{i,\; h s + k_h,\; w s + k_w,\; c} \mathrel{+}= \frac{dA_{i,h,w,c}}{f^2} \tag{eq-avgpool-backward}$$

Use your `create_mask_from_window` (max) and `distribute_value` (average). When the stride is
smaller than $f$ the windows overlap, and an input collects gradient from every window it is in.
"""),
    }
    cells = [
        intro(A, "Pooling: forward and backward", "a pooling layer, max and average, forward and backward: "
              "`pool_forward`, `create_mask_from_window`, `distribute_value` and `pool_backward`.",
              [("Chapter 5: Pooling", "05_pooling.md"), ("Chapter 3: Convolution forward", "03_conv_forward.md")]),
        imports_cell(A, ["check_distribute_value", "check_mask", "check_pool_backward_case",
                         "check_pool_forward_case", "check_pool_forward_default", "check_pool_forward_known",
                         "grader_record", "output_size"]),
    ]
    return cells + graded_sections(A, tasks, v)


def graded_sections(assignment, tasks, visible):
    """Task text, answer cell, then one test cell per case, for every graded function in order."""
    cells = []
    cases = registry.for_assignment(assignment)
    assert [c.grade_id for c in cases if c.grade_id not in visible] == [], "every case needs a visible twin"
    for name in solutions.GRADED[assignment]:
        hint, text = tasks[name]
        cells.append(markdown(text))
        cells.append(code(solution_cell_source(getattr(solutions, name), hint), grade_id=name, solution=True))
        for case in (c for c in cases if c.function == name):
            cells.append(markdown(f"**Test `{case.grade_id}`** ({case.points} point{'s' if case.points > 1 else ''}): {case.about}."))
            cells.append(test_cell(case, visible[case.grade_id]))
    return cells


BUILDERS = {"activations": activations, "convolution": convolution, "pooling": pooling}


def notebook(assignment):
    nb = nbformat.v4.new_notebook()
    nb.cells = BUILDERS[assignment]()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    # Stable cell ids, so regenerating changes nothing.
    for k, cell in enumerate(nb.cells):
        cell.id = f"{assignment[:4]}-{k:03d}"
    return nbformat.writes(nb) + "\n"


def shared_block():
    text = (SOURCE / "activations" / "activations_tests.py").read_text()
    return text[text.index(SHARED_BEGIN):text.index(SHARED_END) + len(SHARED_END)]


# Non-graded helpers the shipped modules hold as exact copies of the solution package's.
REFERENCE_COPIES = (solutions.gradcheck.numerical_gradient, solutions.gradcheck.relative_error,
                    solutions.shapes.output_size)


def with_reference_copies(text):
    """Replace every module-level def of a REFERENCE_COPIES name in `text` by the package's source."""
    sources = {f.__name__: inspect.getsource(f) for f in REFERENCE_COPIES}
    lines = text.splitlines(keepends=True)
    nodes = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef) and n.name in sources]
    for node in sorted(nodes, key=lambda n: n.lineno, reverse=True):
        lines[node.lineno - 1:node.end_lineno] = [sources[node.name]]
    return "".join(lines)


def helper_module(assignment):
    """The assignment's helper module with the shared block and the reference copies put in."""
    text = (SOURCE / assignment / f"{assignment}_tests.py").read_text()
    begin, end = text.index(SHARED_BEGIN), text.index(SHARED_END) + len(SHARED_END)
    return with_reference_copies(text[:begin] + shared_block() + text[end:])


def expected_files():
    """{path: text} of every generated file."""
    files = {}
    for assignment in BUILDERS:
        files[SOURCE / assignment / f"{assignment}.ipynb"] = notebook(assignment)
        files[SOURCE / assignment / f"{assignment}_tests.py"] = helper_module(assignment)
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
