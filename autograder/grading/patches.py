"""Changes to nbgrader's own pipeline that its configuration cannot express.

Each patch says why it exists, and all of them refuse to install against a
version of nbgrader other than the one they were written for (a silent
mismatch could grade without the protection).

- `install_precheck`: plain `nbgrader autograde` checks every submitted
  folder with `precheck.check_submission` *before* nbgrader copies a single
  file of it (nbgrader's copy follows symbolic links and would read a FIFO or
  a device forever). A folder that cannot be graded scores 0 with a feedback
  page saying why, exactly as `make grade` does, and the other students are
  graded as usual. nbgrader has no hook at that point: its `pre_convert_hook`
  runs later, is not told which student it is, and its errors are swallowed.
"""
from __future__ import annotations

from pathlib import Path

from . import precheck

PINNED = {"nbgrader": "0.9.6"}


def check_versions():
    """Raise with a clear message when an installed package differs from the version the patches expect."""
    from importlib.metadata import version
    wrong = {name: version(name) for name, want in PINNED.items() if version(name) != want}
    if wrong:
        raise RuntimeError(
            "autograder/grading/patches.py was written for "
            + ", ".join(f"{n} {PINNED[n]}" for n in wrong) + " but found "
            + ", ".join(f"{n} {v}" for n, v in wrong.items())
            + ": install the pinned requirements (make setup) before grading")


def install_precheck():
    """Make nbgrader's Autograde precheck each submission before it copies it (idempotent)."""
    check_versions()
    from nbgrader.converters import Autograde
    if getattr(Autograde, "_btc_precheck", None) is not None:
        return
    original = Autograde.init_destination

    def init_destination(self, assignment_id, student_id):
        if Autograde._btc_precheck:
            folder = Path(self._format_source(assignment_id, student_id))
            problems = precheck.check_submission(folder, student_id, assignment_id)
            if problems:
                p = problems[0]
                self.log.warning("not graded (%s): %s/%s: %s", p.kind, precheck.shown(student_id),
                                 precheck.shown(assignment_id), p.message)
                if p.kind != "bad_id":  # a bad id never reaches the gradebook
                    precheck.record_zero(self.coursedir.db_url, student_id, assignment_id)
                    precheck.write_feedback(self.coursedir.root, p)
                return False
        return original(self, assignment_id, student_id)

    init_destination.__wrapped__ = original
    Autograde.init_destination = init_destination
    Autograde._btc_precheck = True


def skip_precheck_in_this_process():
    """`make grade` workers: the parent already prechecked every folder they are given."""
    from nbgrader.converters import Autograde
    if getattr(Autograde, "_btc_precheck", None) is not None:
        Autograde._btc_precheck = False
