"""Corpus: notebooks that try to drive the instructor's terminal (issue 18, finding 5).

- `last_words`: writes a window title, an OSC 52 clipboard write (a base64 shell command), a
  clear-screen, a colour and an 8-bit CSI to the kernel's own stderr, then kills the kernel, so
  the grader logs "the kernel's last words" (its kernel.log); it also prints its working folder.
- `bad_grade_id`: a read-only cell whose grade_id carries escapes, so nbgrader warns that the
  cell "does not exist in the database", quoting the id.

tests/test_terminal_escapes.py grades both with plain `nbgrader autograde` and checks that no
control byte reaches stdout or stderr.
"""
import nbformat
from nbformat.v4 import new_code_cell

from . import corpus

ESCAPES = "\x1b]0;owned-title\x07\x1b]52;c;ZWNobyBvd25lZA==\x07\x1b[2J\x1b[1;31mRED\x9b0m"
# ipykernel moves fd 2 onto a pipe that a thread copies to the real stderr (kernel.log): a
# write there and an immediate os._exit may die in the pipe. The attacker writes to the real
# stderr, which ipykernel keeps as _original_stdstream_copy, so the words are always there.
LAST_WORDS = ("import os, sys\n"
              "fd = getattr(sys.stderr, '_original_stdstream_copy', None) or 2\n"
              f"os.write(fd, {('last words ' + ESCAPES).encode()!r})\nos._exit(3)")
BAD_ID = "sigmoid__x\x1b]0;grade-id-title\x07"


def last_words(folder, nb, assignment):
    corpus.after(nb, "sigmoid_backward", "import os\nprint('PROBE cwd:', os.getcwd())")
    corpus.after(nb, "relu_backward", LAST_WORDS)
    nbformat.write(nb, str(folder / f"{assignment}.ipynb"))


def bad_grade_id(folder, nb, assignment):
    cell = new_code_cell("print('a read-only cell nbgrader never saw')")
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True,
                                 "grade_id": BAD_ID, "schema_version": 3}
    nb.cells.append(cell)
    nbformat.write(nb, str(folder / f"{assignment}.ipynb"))


CASES = [corpus.Case("esc", "activations", last_words, about="terminal escapes in the kernel's last words"),
         corpus.Case("esc_id", "activations", bad_grade_id, about="terminal escapes in a grade_id")]
