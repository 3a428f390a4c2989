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
               *(ROOT / "autograder" / "grading").glob("*.py"), *(ROOT / "tools").glob("*.py")]
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
