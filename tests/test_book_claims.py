"""Regression tests of the book's text: statements that were once wrong stay right.

Fast: reads the sources (chapters, source notebooks, helper modules); needs no
build. Each detector is first shown to flag the old, wrong wording (quoted here
and, where the repository's history is available, read from the commit before
the fix) and then run over today's sources.

1. The double flip. Under the book's definition (eq-convolution-2d), a
   convolution already reads the kernel backwards, so "the input gradient is the
   full convolution with the rotated kernel" rotates twice and is wrong; it is
   right only in the deep-learning habit of calling correlation "convolution".
   A sentence that puts "full convolution" next to a flipped/rotated kernel must
   say, in the same sentence, which convention it uses (correlation, convention
   or framework).
2. dW with stride. When the stride leaves rows unread, the correlation of the
   padded input with the dilated gradient is larger than f x f: chapter 4 must
   say that only the first f x f offsets are kept wherever it states the result.
"""
import ast
import io
import json
import re
import subprocess
import tokenize
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
# The last commit before the second edition's wording fixes (issue 10).
BEFORE_FIX = "2edb68276cbc9e6a946c83a37d938f780e6f9d85"

FULL_CONVOLUTION = re.compile(r"\bfull\W+convolution", re.I)
FLIPPED = re.compile(r"flip|rotat|rot180|180\s*(?:°|deg)|\\mathrm\{rot\}", re.I)
CONVENTION_NAMED = re.compile(r"correlat|convention|framework", re.I)

DW = re.compile(r"\\bar\s*w(?![a-z])|`dw`|\bdw\b|eq-conv-dw", re.I)
DILATED = re.compile(r"dilat", re.I)
CORRELATION = re.compile(r"correlat|\\star", re.I)
CROPPED = re.compile(r"first\s*\$?f\s*(?:\\times|x|×)\s*f|\[:f,\s*:f\]|offsets\s*0\s*\.\.\s*f\s*-\s*1", re.I)


# ---------------------------------------------------------------------------
# Reading sources into sentences


def python_prose(code):
    """The words a reader sees in Python code: comments and string literals.

    Consecutive comments and strings stay together (a sentence may run over
    several lines); any code between them starts a new paragraph.
    """
    pieces, gap = [], False
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return "\n".join(line.split("#", 1)[1] for line in code.splitlines() if "#" in line)
    for token in tokens:
        if token.type in (tokenize.COMMENT, tokenize.STRING):
            if gap and pieces:
                pieces.append("\n")
            gap = False
            if token.type == tokenize.COMMENT:
                pieces.append(token.string.lstrip("#"))
            else:
                try:
                    pieces.append(str(ast.literal_eval(token.string)))
                except (ValueError, SyntaxError):              # f-strings: keep the raw text
                    pieces.append(token.string)
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            gap = True
    return "\n".join(pieces)


def markdown_prose(text):
    """A MyST page with its code cells reduced to their comments and strings."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)           # front matter
    return re.sub(r"```\{code-cell\}[^\n]*\n(?::[^\n]*\n)*(.*?)```",
                  lambda cell: "\n\n" + python_prose(cell.group(1)) + "\n\n", text, flags=re.S)


def units(text):
    """Split prose (markdown) into sentences, table rows and headings.

    Display maths is replaced by a marker (its symbols are not prose), and
    emphasis and code marks are dropped so that "full *convolution*" reads as
    words.
    """
    text = re.sub(r"\$\$.*?\$\$", " <display> ", text, flags=re.S)
    text = text.replace("*", " ").replace("`", "")
    out = []
    for block in re.split(r"\n\s*\n", text):
        rows = block.splitlines()
        table = [row for row in rows if row.lstrip().startswith("|")]
        out += table
        prose = " ".join(row.strip() for row in rows if not row.lstrip().startswith("|"))
        out += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(\\$])", prose) if s.strip()]
    return [" ".join(u.split()) for u in out]


def double_flips(text):
    """Sentences saying "full convolution" with a flipped kernel, convention unnamed."""
    return [u for u in units(text)
            if FULL_CONVOLUTION.search(u) and FLIPPED.search(u) and not CONVENTION_NAMED.search(u)]


def uncropped_dw(text):
    """Sentences stating dW as a correlation with the dilated gradient, without the crop."""
    return [u for u in units(text)
            if DW.search(u) and DILATED.search(u) and CORRELATION.search(u) and not CROPPED.search(u)]


def notebook_markdown(path_or_text):
    """The markdown cells of a notebook, as one text."""
    text = path_or_text.read_text() if isinstance(path_or_text, Path) else path_or_text
    cells = json.loads(text)["cells"]
    return "\n\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                       for c in cells if c["cell_type"] == "markdown")


def sources():
    """Every reader-facing text: chapters, source notebooks (markdown cells) and the
    helper modules whose strings reach readers and students."""
    for path in sorted((ROOT / "chapters").glob("*.md")):
        yield path, markdown_prose(path.read_text())
    for path in sorted((ROOT / "autograder" / "source").glob("*/*.ipynb")):
        yield path, notebook_markdown(path)
    helpers = [*(ROOT / "chapters").glob("*.py"), *(ROOT / "solutions").glob("*.py"),
               *(ROOT / "autograder" / "source").glob("*/*.py"),
               *(ROOT / "autograder" / "grading").rglob("*.py"), *(ROOT / "tools").glob("*.py")]
    for path in sorted(helpers):
        yield path, python_prose(path.read_text())


def before_fix(path):
    """A file as it was before the fixes, or skip when the history is not there."""
    try:
        return subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE_FIX}:{path}"],
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"needs the git history (commit {BEFORE_FIX[:7]}) to read the old {path}")


# ---------------------------------------------------------------------------
# 1. The double flip

WRONG = [
    # chapter 7 before the fix (~L203 and ~L447)
    "the full convolution with the kernel rotated by 180 degrees of chapter 4\n"
    "({eq}`eq-conv-dx`), now falling out of the bookkeeping.",
    "equivalently, $dx$ is the full convolution of the dilated gradient\n"
    "$(dz_1, 0, dz_2)$ with the flipped kernel, as in chapter 4 ({eq}`eq-conv-dilate`).",
    # chapter 4's heading and the convolution notebook's task text
    "## The input: `dA_prev` is a full convolution with the rotated kernel",
    "Chapter 4 also writes the last one as a full convolution of $dZ$ with the kernel rotated by 180\n"
    "degrees.",
    "$\\bar X$ is the **full convolution** of $\\bar Z$ with $\\operatorname{rot180}(W)$.",
]
RIGHT = [
    "$\\bar X$ is the full correlation of $D$ with $\\operatorname{rot180}(W)$, equivalently "
    "the full convolution with $W$ itself.",
    "In the frameworks' convention, where \"convolution\" means $\\star$, the input gradient "
    "is the full convolution with the rotated kernel.",
    "$\\bar X$ is the **full convolution** of $\\bar Z$ with $W$.",
    "The kernel is rotated by 180 degrees.\n\nThe result is the full convolution with $W$.",
]


@pytest.mark.parametrize("sentence", WRONG)
def test_double_flip_detector_flags_the_old_wording(sentence):
    assert double_flips(sentence), sentence


@pytest.mark.parametrize("sentence", RIGHT)
def test_double_flip_detector_passes_correct_wording(sentence):
    assert not double_flips(sentence), sentence


@pytest.mark.parametrize("path", ["chapters/04_conv_backward.md", "chapters/07_vectorisation.md"])
def test_double_flip_detector_flags_the_chapters_before_the_fix(path):
    assert double_flips(markdown_prose(before_fix(path))), f"{path} before the fix was wrong"


def test_double_flip_detector_flags_the_notebook_before_the_fix():
    old = notebook_markdown(before_fix("autograder/source/convolution/convolution.ipynb"))
    assert double_flips(old)


def test_no_source_states_the_double_flip():
    """Say "full correlation with rot180(W)" or "full convolution with W"; if a sentence
    keeps the folk rule, it must name the convention (correlation/framework) it uses."""
    found = [f"{path.relative_to(ROOT)}: {sentence}"
             for path, text in sources() for sentence in double_flips(text)]
    assert not found, "full convolution with a flipped kernel, convention unnamed:\n" + "\n".join(found)


# ---------------------------------------------------------------------------
# 2. dW with stride: keep the first f x f offsets


def test_dw_detector_flags_chapter_4_before_the_fix():
    old = markdown_prose(before_fix("chapters/04_conv_backward.md"))
    flagged = uncropped_dw(old)
    assert any(u.startswith("| dW |") for u in flagged), "the old summary-table row"
    assert any("In words" in u for u in flagged), "the old 'In words' sentence after eq-conv-dw"


def test_dw_detector_on_examples():
    assert uncropped_dw("| `dW` | {eq}`eq-conv-dw` | padded input $\\star$ dilated `dZ`, summed over the batch |")
    assert not uncropped_dw("| `dW` | {eq}`eq-conv-dw` | padded input $\\star$ dilated `dZ`, "
                            "summed over the batch; keep the first $f \\times f$ offsets |")


def test_chapter_4_states_the_dw_crop_wherever_it_states_dw_for_stride():
    text = markdown_prose((ROOT / "chapters" / "04_conv_backward.md").read_text())
    assert not uncropped_dw(text), "dW stated without the crop:\n" + "\n".join(uncropped_dw(text))
    stated = [u for u in units(text) if DW.search(u) and DILATED.search(u) and CROPPED.search(u)]
    assert any(u.startswith("| dW |") for u in stated), "the summary table's dW row must state the crop"
    assert any("In words" in u for u in stated), "the text after eq-conv-dw must state the crop"


# ---------------------------------------------------------------------------
# 3. Notation (chapters/notation.md): a gradient in the maths is a bar, and one
#    meaning per symbol for the letters the second edition had to separate.

# The book before the notation work of its last review (chapter 7's softmax VJP in `da`,
# chapter 8's small changes and chapter 5's product of strides both Delta, depth L).
BEFORE_NOTATION = "0829384"

MATHS = re.compile(r"\$\$.*?\$\$|\$(?:[^$\n]|\n(?!\s*\n))+\$", re.S)   # inline maths may wrap a line
# Words and Leibniz fractions inside maths are not symbols: \text{dense}, \frac{dE}{dz}.
NOT_SYMBOLS = re.compile(r"\\(?:text|operatorname|mathrm|mathbb|mathsf)\s*\{[^{}]*\}|\\frac\{d[^{}]*\}\{d[^{}]*\}")
# `dA`, `da_j`, `dx`: a d glued to a letter, not inside a command (\delta), a word or a
# subscript (W_{dq}), and not a Leibniz derivative (dE/dz).
D_GRADIENT = re.compile(r"(?<![\\A-Za-z/{_])d[A-Za-z](?![A-Za-z]*\s*/)")
DEPTH_L = re.compile(r"[r\\]\w*_L\b|_\{L\}|\\dots,\s*L\b")


def maths(markdown):
    """The maths of a chapter's prose (code cells dropped), words removed."""
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    prose = re.sub(r"`[^`\n]*`", " ", prose)                   # inline code may hold a $
    return [NOT_SYMBOLS.sub(" ", m.group(0)) for m in MATHS.finditer(prose)]


def d_gradients(markdown):
    return [m for m in maths(markdown) if D_GRADIENT.search(m)]


def before_notation(path):
    try:
        return subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE_NOTATION}:{path}"],
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"needs the git history (commit {BEFORE_NOTATION}) to read the old {path}")


def test_d_gradient_detector_on_examples():
    assert d_gradients("$$\n(J\\, da)_k = \\sum_j s_k\\, da_j\n$$")
    assert d_gradients("then $dx$ is the full correlation")
    for right in ["$\\bar Z = \\bar A \\odot \\phi'(Z)$", "$\\sigma = E^{-1}$ and $dE/dz = -e^{-z}$",
                  "$\\sum_d A_{nd} W_{dq}$", "$\\delta Z = \\delta A\\, W$", "$d_{(\\tau)}$",
                  "$\\text{dense}$", "$\\operatorname{pad}_{f-1}(D)$", "$x_0, \\dots, x_4$"]:
        assert not d_gradients(right), right


def test_d_gradient_detector_flags_chapter_7_before_the_fix():
    assert d_gradients(before_notation("chapters/07_vectorisation.md"))


def test_no_chapter_writes_a_gradient_as_d_something_in_maths():
    found = [f"{path.name}: {m}" for path in sorted((ROOT / "chapters").glob("*.md"))
             for m in d_gradients(path.read_text())]
    assert not found, "write the gradient of X as \\bar X in maths (`dX` is its code name):\n" + "\n".join(found)


def test_delta_is_only_the_product_of_strides():
    """A small change is delta; Delta_l is chapter 5's distance between neighbouring units."""
    uses = {path.name for path in (ROOT / "chapters").glob("*.md")
            if any("\\Delta" in m for m in maths(path.read_text()))}
    assert uses <= {"05_pooling.md", "notation.md"}, uses
    old = {path: before_notation(f"chapters/{path}") for path in ("07_vectorisation.md", "08_digits_cnn.md")}
    assert all(any("\\Delta" in m for m in maths(text)) for text in old.values()), "the detector saw the old clash"


def test_l_is_the_loss_not_a_depth():
    assert DEPTH_L.search(" ".join(maths(before_notation("chapters/05_pooling.md"))))
    found = [f"{path.name}: {m}" for path in sorted((ROOT / "chapters").glob("*.md"))
             for m in maths(path.read_text()) if DEPTH_L.search(m)]
    assert not found, "L is the loss; a layer is l and the depth needs no letter:\n" + "\n".join(found)


# ---------------------------------------------------------------------------
# 4. The third edition (issue 21): one detector per item of the review, each shown to
#    flag the second edition (read from git at THIRD, the last commit before the fixes)
#    and then run over today's sources. A detector reads {path: text} and returns what
#    it objects to (an empty list when the text is right).

THIRD = "5671621becd5b32fddff94b36bf5899f719b6844"
CH = {n: f"chapters/{name}.md" for n, name in enumerate(
    ["notation", "01_computational_graphs", "02_activations", "03_conv_forward", "04_conv_backward",
     "05_pooling", "06_gradient_checking", "07_vectorisation", "08_digits_cnn"])}
NB_CONV = "autograder/source/convolution/convolution.ipynb"
NB_POOL = "autograder/source/pooling/pooling.ipynb"
NB_ACT = "autograder/source/activations/activations.ipynb"
HELP_CONV = "autograder/source/convolution/convolution_tests.py"
HELP_POOL = "autograder/source/pooling/pooling_tests.py"
POOL_FAST = "solutions/pool_fast.py"
SEARCH_JS = "_static/search_plain_maths.js"
BOOK_TEST = "tests/test_book.py"


def at_third(path):
    """A file as it was before the third edition, or skip without the history."""
    try:
        return subprocess.run(["git", "-C", str(ROOT), "show", f"{THIRD}:{path}"],
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"needs the git history (commit {THIRD[:7]}) to read the old {path}")


def today(path):
    file = ROOT / path
    return file.read_text() if file.is_file() else ""


def prose(path, text):
    """What a reader reads: a chapter's prose (code cells reduced to comments and strings),
    a notebook's markdown cells, a Python file's comments and strings."""
    if path.endswith(".md"):
        return markdown_prose(text)
    if path.endswith(".ipynb"):
        return notebook_markdown(text) if text else ""
    return python_prose(text)


def code_cells(markdown):
    return re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", markdown, flags=re.S)


def paragraphs(text):
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]


def find(units_, pattern, unless=None, flags=re.I):
    return [u for u in units_ if re.search(pattern, u, flags) and not (unless and re.search(unless, u, flags))]


def exec_module(text):
    namespace = {"__name__": "helper_under_test"}
    exec(compile(text, "<helper>", "exec"), namespace)
    return namespace


# --- Errors

def item_1(files):
    """cs231n states the flipped-filter folk rule; the transposed convolution is PyTorch's and Dumoulin & Visin's."""
    text = files[CH[4]]
    found = find(units(markdown_prose(text)), r"cs231n.*(describe|transpos)|(describe|transpos).*cs231n", r"folk")
    if "pytorch_convtranspose2d" not in text or "§4" not in text:
        found.append("chapter 4 must cite PyTorch's ConvTranspose2d and Dumoulin & Visin's §4")
    return found


def item_2(files):
    """exp underflows to 0 below about -745.1; -744.44 is the log of the smallest subnormal."""
    text = files[CH[2]]
    found = find(units(markdown_prose(text)), r"744\.4", r"logarithm|log of")
    found += [line for line in text.splitlines()
              if re.search(r"np\.log\(np\.nextafter\(0\.0,\s*1\.0\)\)\s*#.*(gives 0|underflow|below)", line)]
    if "745.1" not in text:
        found.append("chapter 2 must give -745.1 as the point where exp underflows to 0")
    return found


# --- Misleading for a student

def item_3(files):
    """`+=` is needed for every output channel, not only where windows overlap."""
    return find(units(prose(NB_CONV, files[NB_CONV])), r"\+=.*overlap|overlap.*\+=", r"channel")


def item_4(files):
    """A test header or helper that names a chapter's worked example uses the chapter's numbers."""
    found = []
    ch3 = files[CH[3]]
    X3 = np.array([[1., 2, 0], [0, 1, 3], [2, 1, 1]])
    W3 = np.array([[1., -1], [0, 2]])
    assert "X = np.array([[1., 2, 0], [0, 1, 3], [2, 1, 1]])" in ch3 and "W = np.array([[1., -1], [0, 2]])" in ch3
    conv = exec_module(files[HELP_CONV])
    for example, (A2, W2, b, stride, pad, Z2) in conv["KNOWN_CONVS"].items():
        words = conv["_conv_words"](example)
        if re.search(r"chapter", words, re.I) and not (
                re.search(r"chapter 3", words) and A2.shape == X3.shape and np.array_equal(A2, X3)
                and np.array_equal(W2, W3) and b == 0 and np.array_equal(Z2, [[1, 8], [1, 0]])):
            found.append(f"{HELP_CONV}: {words}")
    pool_text = files[HELP_POOL]
    pool = exec_module(pool_text)
    x5 = np.array([[1., 4., 2., 0.], [3., 2., 1., 5.], [0., 6., 3., 1.], [2., 1., 7., 2.]])
    assert "x = np.array([[1., 4., 2., 0.]," in files[CH[5]]
    names_chapter = re.search(r"chapter 5", python_prose(pool_text) + pool["_known_words"]("max"), re.I)
    if names_chapter and not np.array_equal(pool.get("KNOWN_INPUT"), x5):
        found.append(f"{HELP_POOL}: attributes an example to chapter 5 that is not chapter 5's")
    if names_chapter:
        windows = x5.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(2, 2, 4)
        if not (np.array_equal(pool["KNOWN_POOLS"]["max"], windows.max(-1))
                and np.allclose(pool["KNOWN_POOLS"]["average"], windows.mean(-1))):
            found.append(f"{HELP_POOL}: the expected pooled values are not chapter 5's")
    return found


SUBGRADIENT_ABOUT_LOSS = r"subgradient.*(loss|\\bar [qa]\b)|(loss|\\bar [qa]\b).*subgradient|valid subgradient|one of the subgradients"
SUBGRADIENT_QUALIFIED = r"of the max|of \\max|Clarke|concave|sign"


def item_5(files):
    """(lambda, 1 - lambda) is a subgradient of the max; for the loss that needs a non-negative upstream gradient."""
    found = []
    for path in (CH[1], CH[5], CH[8], POOL_FAST):
        found += find(units(prose(path, files[path])), SUBGRADIENT_ABOUT_LOSS, SUBGRADIENT_QUALIFIED)
    return found


def item_6(files):
    """At 0 < |z| < eps ReLU is differentiable: backprop is exact and only the check is wrong."""
    return [p for p in paragraphs(markdown_prose(files[CH[6]]))
            if "0.3\\varepsilon" in p and re.search(r"not differentiable", p) and not re.search(r"\bexact\b", p)]


def item_7(files):
    """float32 central differences: about 0.65 between 5e-8 and 2e-7, 1 only below about 2e-8;
    the relative error is at most 1."""
    text = markdown_prose(files[CH[6]])
    found = find(units(text), r"10\^\{-7\}.*(relative error\s+of \$1\$|rounds back)", r"2 \\times 10\^\{-8\}")
    found += find(units(text), r"ratio\s+below \$1\$")
    if not re.search(r"0\.65.*2 \\times 10\^\{-8\}", " ".join(text.split())):
        found.append("chapter 6 must give the float32 plateau (0.65) and where the error reaches 1 (2e-8)")
    return found


def item_8(files):
    """It is the structure diag(s) - s s^T that avoids forming J, not its symmetry."""
    return find(units(markdown_prose(files[CH[2]])), r"(J\^\\top\s*=\s*J|symmetric).*avoids? forming",
                r"diag|structure|outer product|rank")


def item_9(files):
    """exp overflows only above about 709.8: a few hundred does not break the formulas."""
    return find(units(markdown_prose(files[CH[2]])), r"hundred.*fail", r"709")


def item_10(files):
    """cs231n's thresholds are per entry; the book's ratio is over whole arrays, so the scale is adapted."""
    return [p for p in paragraphs(markdown_prose(files[CH[6]]))
            if "cs231n" in p and "10^{-7}" in p and not (re.search(r"adapt", p) and re.search(r"entr", p))]


# --- Inconsistent with the book's own page

def item_11(files):
    """a_H, a_W are rows and columns of the padded input that no window reads."""
    return [row for row in files[CH[0]].splitlines()
            if "a_H" in row and row.startswith("|") and not re.search(r"padded input", row)]


def item_12(files):
    """The notation page states dW with its crop to the first f x f offsets."""
    return find(units(markdown_prose(files[CH[0]])), r"\\bar W.*correlation.*\$D\$", CROPPED.pattern)


def item_13(files):
    """Not every size carries a subscript; a dense width is n_x / n_y, not n_W."""
    found = find(units(markdown_prose(files[CH[0]])), r"sizes always carry a subscript")
    found += [m for m in maths(files[CH[2]]) if "n_W" in m]
    found += [line for block in code_cells(files[CH[2]]) for line in block.splitlines() if re.search(r"\bn_W\b", line)]
    return found


W_ENTRY = r"(?<![A-Za-z\\])w_\{?(?:\d\d|ij)"
W_INDEX = r"_\{?hw\}?|\(h,\s*w\)|\\sum_\{h,\s*w|h,\s*w\s*[=\\]"


def item_14(files):
    """One meaning per symbol: w, b_q, y_q/y_n, k."""
    found = []
    for n in range(1, 9):
        found += [u for u in units(markdown_prose(files[CH[n]]))
                  if re.search(W_ENTRY, u) and re.search(W_INDEX, u)]
    found += [m for m in maths(files[CH[8]]) if re.search(r"\bb_0\b|\\bar b_q\b|\+\s*b_1\s*[,.]", m)]
    for n in range(0, 9):
        found += [m for m in maths(files[CH[n]]) if re.search(r"\by_n\b|\by_\{n\}|, y_n\}", m)]
    found += find(units(python_prose(files[POOL_FAST])), r"\bk (tied|times)")
    return found


def item_15(files):
    """Chapter 3's receptive-field figure is the 5x5/3x3 case, not the 3x3/2x2 example."""
    return find(units(markdown_prose(files[CH[4]])), r"coverage count of chapter 3")


def item_16(files):
    """The 'wrong' reading is the folk rule read in this book's convention, and is labelled so."""
    text = files[CH[3]]
    found = [line for line in text.splitlines() if "this book, literally" in line]
    if "folk rule, read in this book's convention" not in text:
        found.append("chapter 3's printed label must name the folk rule")
    return found


def item_17(files):
    """Chapter 7's 3x3 example and its col2im caption use chapter 3's X and W."""
    text = files[CH[7]]
    found = [line for line in text.splitlines()
             if "np.arange(1.0, 10.0).reshape(3, 3)" in line or "[[1.0, -1.0], [2.0, 0.5]]" in line
             or "kernel of the example" in line]
    if "x = np.array([[1., 2, 0], [0, 1, 3], [2, 1, 1]])" not in text:
        found.append("chapter 7's 3x3 example must be chapter 3's X")
    return found


def item_18(files):
    """The dense-layer rule is chapter 1's (eq. 1.6, exercise 1-3), not chapter 8's."""
    return find(units(markdown_prose(files[CH[7]])), r"dense.*chapter 8|chapter 8.*dense")


def item_19(files):
    """Check code takes the log of softmax in the stable form, not -sum Y log(softmax(Z))."""
    return [line for n in range(1, 9) for block in code_cells(files[CH[n]]) for line in block.splitlines()
            if re.search(r"np\.log\(softmax\(", line) and "naive" not in line]


# --- Teaching

def item_20(files):
    """Exercise 5-3 proves both directions: every subgradient of the max is such a weighting."""
    solution = re.search(r":::\{solution\} ex-ch5-3(.*?)\n:::", files[CH[5]], re.S)
    text = solution.group(1) if solution else ""
    return [] if "(d)" in text and re.search(r"g_j = 0", text) and re.search(r"\\sum g = 1", text) \
        else ["ex-ch5-3's solution lacks the converse (d)"]


TIE = re.compile(r"\bti(?:e|es|ed)\b", re.I)


def item_21(files):
    """Ties and kinks are discussed in one place (chapter 5, sec-ties); the notation page leads with a dozen symbols."""
    found = []
    for n in (1, 2, 6, 7, 8):
        text = markdown_prose(files[CH[n]])
        if "n_{\\text{tie}}" in text:
            found.append(f"{CH[n]} re-derives the tie shares (n_tie) instead of pointing to chapter 5")
        if TIE.search(text) and "sec-ties" not in text:
            found.append(f"{CH[n]} discusses ties without pointing to chapter 5's sec-ties")
    if "(sec-ties)=" not in files[CH[5]]:
        found.append("chapter 5 has no sec-ties section")
    notation = files[CH[0]]
    fold = notation.find(":class: dropdown")
    rows = [line for line in (notation[:fold] if fold >= 0 else notation).splitlines()
            if line.startswith("| ") and not line.startswith("| object")]
    if fold < 0 or len(rows) > 14:
        found.append(f"notation page: {len(rows)} symbols before the fold (at most a dozen or so)")
    return found


def item_22(files):
    """The graded mask's ties are excluded by design; first-max routing is what frameworks do."""
    found = []
    for path in (NB_POOL, CH[5]):
        text = " ".join(prose(path, files[path]).split())
        if not (re.search(r"by design", text) and re.search(r"first max", text) and re.search(r"framework", text)):
            found.append(f"{path} must say ties are excluded by design and frameworks route to the first maximum")
    return found


def item_23(files):
    """conv_backward_naive (NCHW) in chapter 7; 'unpooling' in chapter 5; db of the 5x5 stride-2 example."""
    found = []
    # written out in chapters/cs231n_naive.py (the chapter's own source ships in _build/html/_sources,
    # and in NHWC the loop would be the homework's answer); the chapter states its lines and runs it
    naive = Path(__file__).resolve().parents[1] / "chapters" / "cs231n_naive.py"
    if not (naive.is_file() and "def conv_backward_naive" in naive.read_text()
            and "from cs231n_naive import conv_backward_naive" in files[CH[7]]):
        found.append("chapter 7 does not write out and run cs231n's conv_backward_naive")
    if "def conv_backward_naive" in files[CH[7]]:
        found.append("chapter 7's source holds the naive backward loop: it ships in _sources/")
    if "unpooling" not in files[CH[5]]:
        found.append("chapter 5 never names average-pool backward 'unpooling'")
    stride = re.search(r"\*\*With stride\.\*\* In the \$5 \\times 5\$, \$3 \\times 3\$.*?\*\*General formula", files[CH[4]], re.S)
    if not stride or "\\bar b" not in stride.group(0):
        found.append("chapter 4's 5x5, stride-2 example does not write db")
    return found


# --- Rendering

LIST_MARKER = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s")


def item_24(files):
    """No source line of a paragraph starts with a list marker while an inline formula is open."""
    found = []
    for n in range(0, 9):
        text = re.sub(r"```.*?```", "", files[CH[n]], flags=re.S)
        text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
        for paragraph in re.split(r"\n\s*\n", text):
            open_dollars = 0
            for k, line in enumerate(paragraph.splitlines()):
                if k and open_dollars % 2 and LIST_MARKER.match(line):
                    found.append(f"{CH[n]}: {line.strip()[:60]}")
                open_dollars += len(re.findall(r"(?<!\\)\$", re.sub(r"`[^`]*`", "", line)))
    return found


def item_25(files):
    """No notebook display holds both a line break \\\\ (Sphinx wraps it in split) and a \\tag."""
    found = []
    for path in (NB_ACT, NB_CONV, NB_POOL):
        for display in re.findall(r"\$\$(.*?)\$\$", prose(path, files[path]), flags=re.S):
            if "\\\\" in display and "\\tag" in display:
                found.append(f"{path}: {display.strip()[:60]}")
    return found


def item_26(files):
    """Search snippets read maths as plain text: the book patches Sphinx's htmlToText."""
    js = files[SEARCH_JS]
    return [] if "Search.htmlToText" in js and ".math" in js else [f"{SEARCH_JS} missing or not patching htmlToText"]


def item_27(files):
    """The Chromium tests check every page, in both themes, for MathJax errors, raw TeX and list items in formulas."""
    text = files[BOOK_TEST]
    needed = ["mjx-merror", "data-mjx-error", '("light", "dark")', "listItemsInFormulas", "rawTeX",
              "chapters/exercises/", "test_search_snippets_show_no_raw_tex"]
    return [f"{BOOK_TEST} lacks {word}" for word in needed if word not in text]


ITEMS = {n: globals()[f"item_{n}"] for n in range(1, 28)}
PATHS = sorted({*CH.values(), NB_CONV, NB_POOL, NB_ACT, HELP_CONV, HELP_POOL, POOL_FAST, SEARCH_JS, BOOK_TEST})


@pytest.mark.parametrize("item", sorted(ITEMS))
def test_third_edition_detector_flags_the_second_edition(item):
    old = {path: at_third(path) if path != SEARCH_JS else "" for path in PATHS}
    assert ITEMS[item](old), f"item {item}: the detector finds nothing in the second edition"


@pytest.mark.parametrize("item", sorted(ITEMS))
def test_third_edition_item_stays_fixed(item):
    found = ITEMS[item]({path: today(path) for path in PATHS})
    assert not found, f"item {item} ({ITEMS[item].__doc__.strip()}):\n" + "\n".join(map(str, found))
