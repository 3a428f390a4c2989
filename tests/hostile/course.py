"""A temporary course holding the corpus's submissions, laid out as this repository's course is."""
from tests.submissions import course as C

from . import corpus

# short per-cell timeout: the infinite loops cost seconds, not minutes;
# a smaller memory budget, so the memory attacks meet it within a cell's 8 s
SETTINGS = ("\nc.JudgedExecute.timeout = 8\nc.SandboxKernelManager.notebook_timeout = 150\n"
            "c.SandboxKernelManager.memory_budget = 2 * 2**30\n"
            "c.SandboxKernelManager.sandbox = 'require'\n")


def make_course(where, cases):
    """where/autograder: the course's config (short timeouts, a smaller memory budget), sources and submissions."""
    course = C.make_course(where, SETTINGS)
    for case in cases:
        corpus.build(case, course / "submitted", course / "source")
    return course
