"""nbgrader configuration for the course in this folder (see GRADING.md).

Plain `nbgrader ...` commands run from autograder/ read this file, so they
grade exactly as `make grade` does: nbgrader's Execute is replaced by
JudgedExecute, which decides every test cell's verdict outside the kernel.
"""
import os
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

COURSE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

try:  # the protected grading package: `make setup` installs the repository into .venv/ (pip install -e .)
    from autograder.grading import limits
    from autograder.grading.judge.execute import JudgedExecute
    from autograder.grading.course import venv_on_path
except ImportError as _missing:
    # Without it, nbgrader would grade with its stock, unprotected pipeline. traitlets only
    # logs a config file that raises and carries on without it, so the refusal goes on
    # nbgrader's converters themselves: autograde, feedback, release all stop with this message.
    from nbgrader.converters.base import BaseConverter

    _WHY = (f"this course's protected grading package cannot be imported ({_missing}): run `make setup` "
            "in the repository (it installs the package into .venv/) and use that virtualenv's nbgrader")

    def _refuse(self, *args, **kwargs):
        raise RuntimeError(_WHY)

    BaseConverter.start = BaseConverter.convert_notebooks = _refuse
    raise ImportError(_WHY) from _missing

venv_on_path()  # nbgrader runs `alembic` to create the gradebook

c.CourseDirectory.course_id = "backprop-through-cnns"
c.CourseDirectory.root = str(COURSE)

# --- the semester, in one place (grading/pages/late.py; README, "For instructors") ---
# The assignments (each a folder source/<name>/), their due dates (`make release` and
# `make grade` write them into the gradebook; any timezone nbgrader reads, UTC when none)
# and the late penalty: a percent of the notebook's score per started day late, after a
# grace period, capped. A notebook with no timestamp.txt (placed by hand) is never late.
c.Semester.assignments = ["activations", "convolution", "pooling"]
c.Semester.due_dates = {}  # e.g. {"convolution": "2027-03-01 23:59:00 Europe/Berlin"}
c.AssignLatePenalties.plugin_class = "autograder.grading.pages.late.LatePenalty"
c.LatePenalty.percent_per_day = 10.0
c.LatePenalty.max_percent = 100.0
c.LatePenalty.grace_minutes = 0.0
# --- end of the semester ---

# nbgrader's own list, with Execute swapped for the judged version.
c.Autograde.autograde_preprocessors = [
    JudgedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.Autograde.create_student = True
# nbgrader's exchange (release_assignment / fetch / submit / collect) lives OUTSIDE the
# course, so that no student needs to traverse it (the course stays 0700, GRADING.md):
# /srv/nbgrader/exchange when root (shared, 1777), else a folder of this user's own
# (~/.local/share/nbgrader/exchange, for trying the commands alone). BTC_EXCHANGE_ROOT
# chooses another (e.g. a JupyterHub's shared folder). It is made only by the exchange
# commands themselves, never as a side effect of loading this config.
import sys  # noqa: E402

_SHARED_EXCHANGE = hasattr(os, "geteuid") and os.geteuid() == 0
c.Exchange.root = os.environ.get("BTC_EXCHANGE_ROOT") or (
    "/srv/nbgrader/exchange" if _SHARED_EXCHANGE
    else os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "nbgrader", "exchange"))
if sys.argv[1:2] and sys.argv[1] in {"list", "release_assignment", "release", "fetch_assignment", "fetch", "submit",
                                     "collect", "fetch_feedback", "release_feedback"} \
        and not os.path.isdir(c.Exchange.root):  # nbgrader needs it to exist (students: writable, sticky)
    try:
        os.makedirs(c.Exchange.root)
        os.chmod(c.Exchange.root, 0o1777 if _SHARED_EXCHANGE or os.environ.get("BTC_EXCHANGE_ROOT") else 0o700)
    except OSError:
        pass  # nbgrader then names the folder it cannot use

# The kernel every notebook names; jupyter_client runs it with this Python.
c.Execute.kernel_name = "python3"
c.JudgedExecute.kernel_name = "python3"
# Kernel start-up chatter (e.g. the TCP notice) is not the student's output.
c.JudgedExecute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
# Seconds a cell may run at most (nbgrader's own default is 30).
c.Execute.timeout = c.JudgedExecute.timeout = limits.CELL_TIMEOUT

# Stubs: NotImplementedError plus a comment, nothing else.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Hostile and broken submissions (grading/kernel/sandbox.py, grading/precheck.py).
from nbgrader.preprocessors import ClearOutput, OverwriteCells, OverwriteKernelspec  # noqa: E402

from autograder.grading.precheck import SafeDeduplicateIds  # noqa: E402

# nbgrader's sanitizing list, with DeduplicateIds fixed (a duplicated test cell
# no longer fails the whole submission); deleted test cells are put back.
c.Autograde.sanitize_preprocessors = [
    ClearOutput, SafeDeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
c.OverwriteCells.add_missing_cells = True
# Every kernel runs sandboxed in bubblewrap, and grading refuses to start
# without a working bubblewrap, unless the instructor opts out explicitly with
# BTC_ALLOW_UNSANDBOXED=1 (`make grade ALLOW_UNSANDBOXED=1`), which every
# summary and report then announces. A dead kernel is restarted
# and grading carries on (JudgedExecute.max_restarts per notebook).
c.JudgedExecute.kernel_manager_class = "autograder.grading.kernel.sandbox.SandboxKernelManager"
c.SandboxKernelManager.sandbox = "off" if os.environ.get("BTC_ALLOW_UNSANDBOXED") == "1" else "require"
# The limits (each process of a kernel: CPU, address space, processes, file
# size; each notebook, whatever it forks or writes: memory, disk, files, wall
# clock, output per cell; the time budgets of test and solution cells) are the
# defaults of SandboxKernelManager's and JudgedExecute's traits, written once in
# grading/limits.py. Change one here, e.g.
#   c.SandboxKernelManager.memory_budget = 8 * 2**30
# Plain `nbgrader autograde` prechecks each submitted folder before copying it,
# as `make grade` does (grading/run/patches.py).
from autograder.grading.run import patches  # noqa: E402

patches.install_precheck()
# Plain `nbgrader collect` collects as `make collect` does (grading/run/collect.py): the
# student is the inbound folder's owner, nothing is followed, one bad folder is refused alone.
patches.install_safe_collect()
# Every log line of every nbgrader command is shown with control characters escaped
# (a student's grade_id or kernel output cannot drive the instructor's terminal).
from autograder.grading import terminal as _terminal  # noqa: E402

_terminal.install()

# Where grades go: SQLite gradebook.db by default; several grading machines
# share one PostgreSQL gradebook by exporting e.g.
#   BTC_GRADEBOOK_URL=postgresql+psycopg2://grader:secret@db.example.org/gradebook
# (read here so plain `nbgrader` commands use it too; `make grade` reads it as well).
if os.environ.get("BTC_GRADEBOOK_URL"):
    c.CourseDirectory.db_url = os.environ["BTC_GRADEBOOK_URL"]
# Every nbgrader command that reads or writes grades names its gradebook (password hidden), on
# stderr: a machine that forgot BTC_GRADEBOOK_URL must not grade into its own SQLite file unseen.
if sys.argv[1:2] and sys.argv[1] in ("autograde", "generate_assignment", "assign", "generate_feedback", "export",
                                     "db", "release_feedback", "collect", "formgrader"):
    from autograder.grading.course import announce_gradebook, gradebook_url  # noqa: E402

    announce_gradebook(gradebook_url(COURSE), sys.stderr)

# --- feedback pages (grading/pages/feedback.py; `make grade` and `nbgrader generate_feedback`) ---
# Hidden tests stripped, markdown and outputs sanitised, maths as MathML, a Content-Security-Policy
# (no script, nothing fetched): each page is one file that stands alone. Wrapped lines, tests named
# in the summary. Only the feedback converter uses this template (the formgrader keeps nbgrader's).
from autograder.grading.pages import feedback as _feedback  # noqa: E402

_feedback.configure(c)
# `nbgrader release_feedback` releases every page that came through the exchange and names the
# ones placed in submitted/ by hand (no submission_secret.txt), instead of stopping for everyone.
patches.install_release_feedback()
# --- end of feedback pages ---
