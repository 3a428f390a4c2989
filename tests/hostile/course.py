"""A temporary course holding the corpus's submissions, laid out as this repository's course is."""
import shutil
from pathlib import Path

from . import corpus

ROOT = Path(__file__).resolve().parents[2]


def make_course(where, cases):
    """where/autograder: the course's config (short timeouts, a smaller memory budget), sources and submissions."""
    course = Path(where) / "autograder"
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        (ROOT / "autograder" / "nbgrader_config.py").read_text()
        # short per-cell timeout: the infinite loops cost seconds, not minutes
        + "\nc.JudgedExecute.timeout = 8\nc.SandboxKernelManager.notebook_timeout = 150\n"
        # a smaller memory budget, so the memory attacks meet it within a cell's 8 s
        + "c.SandboxKernelManager.memory_budget = 2 * 2**30\n"
        + "c.SandboxKernelManager.sandbox = 'require'\n")
    shutil.copytree(ROOT / "autograder" / "source", course / "source")
    # the repository layout nbgrader_config.py imports from (plain `nbgrader` in this folder)
    shutil.copy(ROOT / "autograder" / "__init__.py", course / "__init__.py")
    (course / "grading").symlink_to(ROOT / "autograder" / "grading")
    (course.parent / "solutions").symlink_to(ROOT / "solutions")
    for case in cases:
        corpus.build(case, course / "submitted", course / "source")
    return course
