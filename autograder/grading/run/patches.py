"""Every change to nbgrader's, nbclient's, nbconvert's and jupyter_client's internals.

The ones made in place live in this module; the list at the end names every
override of a library method anywhere in autograder/, these and the hooks our
subclasses override (tests/test_structure.py fails on one it does not name).

Each patch says why it exists; each checks first that the installed
packages are the versions it was written for (`check_versions`), since a
silent mismatch could grade without the protection or with wrong timings.
Every one is idempotent and has a test in tests/test_patches.py.

- `install_precheck` (nbgrader_config.py: plain `nbgrader autograde`): every
  submitted folder is checked by `precheck.check_submission` *before*
  nbgrader copies a file of it (nbgrader's copy follows symbolic links and
  would read a FIFO or a device forever). A folder that cannot be graded
  scores 0 with a feedback page saying why, as in `make grade`. nbgrader has
  no hook there: its `pre_convert_hook` runs later, is not told which
  student it is, and its errors are swallowed.
- `install_safe_collect` (nbgrader_config.py: plain `nbgrader collect`): the
  inbound folders students write are collected by `collect.collect`, which
  never follows a link, takes the student from the folder's owner and the
  time from the filesystem, and refuses one bad folder without stopping
  (its tests: tests/test_collect.py).
- `install_release_feedback` (nbgrader_config.py: `nbgrader release_feedback`):
  a feedback folder without nbgrader's timestamp.txt or submission_secret.txt
  (a submission placed by hand) is named and left out instead of stopping
  the release for everyone.
- `reuse_gradebook_engines` (grading workers): nbgrader opens a new Gradebook
  (engine, table inspection, create_all) in every preprocessor of every
  notebook; a worker's scratch gradebook is private and its schema known, so
  one engine is kept per URL and SQLite skips its fsyncs.
- `reusable_feedback_class` (grading workers): GenerateFeedback builds its
  HTML exporter (compiling every Jinja template, ~70% of its time per
  notebook) in `start`; this subclass reuses the exporter it built first.
- `install_timers` (grading workers): the seconds per phase of a notebook
  (`results.PHASES`) are measured by wrapping the library methods that
  start kernels, run cells, stop kernels and talk to the gradebook.

Every override, by file (under autograder/grading/), class and method. Replaced in place (the library's
own class changed for the whole process):

    run/patches.py            Autograde.init_destination                install_precheck: the precheck before the copy
    run/patches.py            ExchangeCollect.init_src                  install_safe_collect: find the inbound folder only
    run/patches.py            ExchangeCollect.copy_files                install_safe_collect: collect.collect copies
    run/patches.py            ExchangeReleaseFeedback.copy_files        install_release_feedback: name, skip, go on
    run/patches.py            Gradebook.__init__                        reuse_gradebook_engines: one engine per URL
    run/patches.py            Gradebook.close                           reuse_gradebook_engines: keep the engine
    run/patches.py            NotebookClient.start_new_kernel           install_timers (kernel_start)
    run/patches.py            NotebookClient.start_new_kernel_client    install_timers (kernel_start)
    run/patches.py            NotebookClient._cleanup_kernel            install_timers (kernel_stop)
    run/patches.py            ExecutePreprocessor.preprocess_cell       install_timers (cells)
    run/speedups.py           BaseMetadataValidator.validate_cell       the metadata schema checked once per process
    run/patches.py            Gradebook.find_grade                      install_timers (database), as every name
                                                                        of GRADEBOOK_CALLS
    ../nbgrader_config.py     BaseConverter.start                       without the grading package, every converter
    ../nbgrader_config.py     BaseConverter.convert_notebooks           refuses instead of grading unprotected

Overridden in a subclass of ours (the library calls the hook):

    judge/execute.py          JudgedExecute.preprocess                  inputs in, notebook run, verdicts from the judge
    judge/execute.py          JudgedExecute.async_start_new_kernel      the exchange folder in the kernel's environment
    judge/execute.py          JudgedExecute.start_new_kernel            nbclient's synchronous twin, rebound to ours
    kernel/recovering.py      RecoveringExecute.__init__                the sandboxed kernel manager by default
    kernel/recovering.py      RecoveringExecute.preprocess              per-notebook state; no sandbox outlives it
    kernel/recovering.py      RecoveringExecute.preprocess_cell         skip, restart, replay, cut: survive the kernel
    kernel/recovering.py      RecoveringExecute._get_timeout            time budgets that follow the reference
    kernel/recovering.py      RecoveringExecute.output                  output cut as it arrives (max_output_chars)
    kernel/sandbox.py         SandboxKernelManager.__init__             the sandbox's per-kernel state
    kernel/sandbox.py         SandboxKernelManager._async_pre_start_kernel  bubblewrap, IPC folder, private copy, disk
    kernel/sandbox.py         SandboxKernelManager._async_launch_kernel  the launcher: limits, uid drop, then the kernel
    kernel/sandbox.py         SandboxKernelManager._async_cleanup_resources  the watchdog stopped, the sandbox released
    kernel/sandbox.py         SandboxKernelManager.cleanup_resources    nbclient calls it directly for a dead kernel
    kernel/sandbox.py         SandboxKernelManager._async_shutdown_kernel  released even when the interrupt raises
    kernel/sandbox.py         SandboxKernelManager.shutdown_kernel      the public name, bound to ours
    kernel/client.py          Handshakes.client                         a bounded receive queue per channel; quick_ready
    kernel/client.py          Handshakes._async_wait                    a stopping kernel looked at after ms, not 0.1 s
    kernel/client.py          GradingKernelClient.wait_for_ready        ready at the kernel's idle status, not 0.2 s of silence
    pages/feedback.py         FeedbackPreprocessor.preprocess           hidden tests out, inert outputs only
    pages/feedback.py         FeedbackExporter._template_name_default   always this course's feedback template ...
    pages/feedback.py         FeedbackExporter._template_name_validate  ... whatever name nbgrader gives
    pages/feedback.py         FeedbackExporter.default_filters          the sanitising filters
    pages/feedback.py         FeedbackExporter.from_notebook_node       the formula budget; soup pass per cell; CSP sealed
    pages/feedback_assets.py  Renderer._embed_image_or_attachment       a missing attachment drops its image
    pages/feedback_assets.py  MathTokens.block_math                     maths become tokens, then MathML
    pages/feedback_assets.py  MathTokens.inline_math                    (the same)
    pages/feedback_assets.py  MathTokens.latex_environment              (the same)
    pages/late.py             LatePenalty.late_submission_penalty       the course's late penalty
    precheck.py               SafeDeduplicateIds.preprocess_cell        a duplicate stops being an nbgrader cell
    run/patches.py            ReusableFeedback.start                    reuse the exporter built the first time
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import stat
import time
from pathlib import Path

from .. import precheck

PINNED = {"nbgrader": "0.9.6", "nbclient": "0.11.0", "nbconvert": "7.17.2", "jupyter_client": "8.10.0",
          "traitlets": "5.16.1"}


def check_versions():
    """Raise with a clear message when an installed package differs from the version the patches expect."""
    from importlib.metadata import version
    wrong = {name: version(name) for name, want in PINNED.items() if version(name) != want}
    if wrong:
        raise RuntimeError(
            "autograder/grading/run/patches.py was written for "
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


def install_safe_collect():
    """Make plain `nbgrader collect` collect as `make collect` does (collect.py; idempotent).

    nbgrader's ExchangeCollect follows links in a student's inbound folder, reads
    FIFOs and devices, takes the student from the folder's name and the lateness
    from the student's text, and stops for everyone on one bad folder. Its
    init_src now only finds the inbound folder and the due date; copy_files runs
    collect.collect, which takes the student from the folder's owner, copies
    without following anything and logs every refused folder.
    """
    check_versions()
    from nbgrader.exchange.default.collect import ExchangeCollect

    from . import collect
    if getattr(ExchangeCollect, "_btc_safe", None) is not None:
        return
    original_src, original_copy = ExchangeCollect.init_src, ExchangeCollect.copy_files

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail("Course not found: {}".format(self.inbound_path))
        self.duedate = None
        if self.before_duedate:
            from nbgrader.api import Gradebook, MissingEntry
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
                try:
                    self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
                except MissingEntry:
                    pass

    def copy_files(self):
        student = self.coursedir.student_id if self.coursedir.student_id not in ("", "*") else None
        submitted = os.path.join(self.coursedir.root, self.coursedir.submitted_directory)
        try:
            outcomes = collect.collect(self.inbound_path, submitted, self.coursedir.assignment_id, student,
                                       update=self.update or self.before_duedate, duedate=self.duedate,
                                       ignore=list(self.coursedir.ignore))
        except OSError as e:
            self.fail("Cannot read {}: {}".format(self.inbound_path, e.strerror))
        if not outcomes:
            self.log.warning("No submissions of %r for course %r to collect",
                             self.coursedir.assignment_id, self.coursedir.course_id)
        for o in outcomes:
            (self.log.warning if o.status == "refused" else self.log.info)("%s", o.line())

    init_src.__wrapped__, copy_files.__wrapped__ = original_src, original_copy
    ExchangeCollect.init_src, ExchangeCollect.copy_files = init_src, copy_files
    ExchangeCollect._btc_safe = True


def _small_text(path, limit=4096):
    """The text of a small regular file, or "" when it is missing, empty, larger or not a plain file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
    return "" if len(data) > limit else data.decode("utf-8", "replace").strip()


def install_release_feedback():
    """Make `nbgrader release_feedback` release every page it can and name the ones it cannot (idempotent).

    nbgrader reads feedback/<student>/<assignment>/timestamp.txt and
    submission_secret.txt for every page and stops for everyone at the first
    folder without them, which is every submission placed in submitted/ by hand.
    The secret names the released file (a hash only the submitting student's
    `fetch_feedback` finds), so a page without one cannot be fetched: it is left
    out with a warning saying to hand the page over directly; the timestamp is
    only shown in the log. Every other page is released as nbgrader releases it.
    """
    check_versions()
    from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
    from nbgrader.utils import notebook_hash
    if getattr(ExchangeReleaseFeedback, "_btc_every_page", None) is not None:
        return
    original = ExchangeReleaseFeedback.copy_files

    def copy_files(self):  # nbgrader 0.9.6's, with the two files read defensively
        cd = self.coursedir
        excluded = set(cd.student_id_exclude.split(",")) if cd.student_id_exclude else set()
        page = re.compile(re.escape(os.path.sep).join([
            cd.format_path(cd.feedback_directory, "(?P<student_id>.*)", cd.assignment_id, escape=True),
            "(?P<notebook_id>.*).html"]))
        for html_file in sorted(glob.glob(os.path.join(self.src_path, "*.html"))):
            m = page.match(html_file)
            if m is None:
                self.log.error("Could not match '%s' with regexp '%s'", html_file, page.pattern)
                continue
            student_id, notebook_id = m.group("student_id"), m.group("notebook_id")
            if student_id in excluded:
                continue
            folder = os.path.dirname(html_file)
            secret = _small_text(os.path.join(folder, "submission_secret.txt"))
            if not secret:
                self.log.warning(
                    "Not released: the feedback of %s on %s/%s: this submission did not come through the "
                    "exchange (no submission_secret.txt), so `nbgrader fetch_feedback` cannot find it; "
                    "give the student %s directly", precheck.shown(student_id), precheck.shown(cd.assignment_id),
                    precheck.shown(notebook_id), precheck.shown(html_file))
                continue
            timestamp = _small_text(os.path.join(folder, "timestamp.txt")) or "no timestamp"
            checksum = notebook_hash(secret=secret, notebook_id=notebook_id)
            dest = os.path.join(self.dest_path, f"{checksum}-tmp.html")
            self.log.info("Releasing feedback for student '%s' on assignment '%s/%s/%s' (%s)",
                          precheck.shown(student_id), cd.course_id, precheck.shown(cd.assignment_id),
                          precheck.shown(notebook_id), precheck.shown(timestamp))
            shutil.copy(html_file, dest)
            shutil.move(dest, os.path.join(self.dest_path, f"{checksum}.html"))  # atomic, as nbgrader does
            self.log.info("Feedback released to: %s", dest)

    copy_files.__wrapped__ = original
    ExchangeReleaseFeedback.copy_files = copy_files
    ExchangeReleaseFeedback._btc_every_page = True


def skip_precheck_in_this_process():
    """`make grade` workers: the parent already prechecked every folder they are given."""
    from nbgrader.converters import Autograde
    if getattr(Autograde, "_btc_precheck", None) is not None:
        Autograde._btc_precheck = False


def reuse_gradebook_engines():
    """One SQLAlchemy engine per gradebook URL in this process, no schema check after the first,
    and no fsync per commit for SQLite (SaveAutoGrades commits once per cell).

    For a grading worker only: it opens nothing but its own scratch gradebook,
    which is thrown away after the run.
    """
    check_versions()
    from nbgrader import api
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import scoped_session, sessionmaker
    if getattr(api.Gradebook, "_btc_engines", None) is not None:
        return
    original = api.Gradebook.__init__
    engines = api.Gradebook._btc_engines = {}

    def __init__(self, db_url, course_id="default_course", authenticator=None):
        engine = engines.get(db_url)
        if engine is None:
            original(self, db_url, course_id, authenticator)
            engines[db_url] = self.engine
            return
        # the rest of nbgrader 0.9.6's constructor, without create_engine and the schema check
        self.engine = engine
        self.db = scoped_session(sessionmaker(autoflush=True, bind=engine, future=True))
        self.check_course(course_id=course_id)
        self.course_id = course_id
        self.authenticator = authenticator

    def close(self):
        self.db.remove()  # keep the engine (and its connection pool) for the next notebook

    __init__.__wrapped__ = original
    close.__wrapped__ = api.Gradebook.close
    api.Gradebook.__init__ = __init__
    api.Gradebook.close = close

    @event.listens_for(Engine, "connect")
    def _scratch_pragmas(dbapi_connection, record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA journal_mode=MEMORY")
            cur.close()


_FEEDBACK = []


def reusable_feedback_class():
    """nbgrader's GenerateFeedback, able to run again with the exporter it built the first time."""
    check_versions()
    if _FEEDBACK:
        return _FEEDBACK[0]
    from nbgrader.converters import GenerateFeedback

    class ReusableFeedback(GenerateFeedback):
        def start(self):
            # traitlets keeps a trait's value in _trait_values; reading it does not build a default exporter
            if self._trait_values.get("exporter") is None:
                return super().start()
            self.init_notebooks()
            here = os.getcwd()
            os.chdir(self.coursedir.root)
            try:
                self.convert_notebooks()
            finally:
                os.chdir(here)

    _FEEDBACK.append(ReusableFeedback)
    return ReusableFeedback


def _wrap(owner, name, add):
    """Replace owner.name by a function that adds its running time with add(seconds)."""
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            add(time.perf_counter() - start)
    timed.__wrapped__ = original
    setattr(owner, name, timed)


GRADEBOOK_CALLS = ("__init__", "close", "find_grade", "find_comment", "update_or_create_submission",
                   "update_or_create_student", "find_submission", "find_submission_notebook", "find_notebook",
                   "find_assignment")


def install_timers(seconds):
    """Add the time of every phase of grading to seconds[phase] (a dict over results.PHASES), once per process.

    Only `seconds`'s values change afterwards: the caller resets them per notebook.
    """
    check_versions()
    from nbclient import NotebookClient
    from nbconvert.preprocessors import ExecutePreprocessor
    from nbgrader import api

    from ..judge.execute import JudgedExecute
    if getattr(NotebookClient, "_btc_timed", None) is not None:
        return NotebookClient._btc_timed

    def adder(phase):
        def add(dt):
            seconds[phase] += dt
        return add
    _wrap(NotebookClient, "start_new_kernel", adder("kernel_start"))
    _wrap(NotebookClient, "start_new_kernel_client", adder("kernel_start"))
    _wrap(NotebookClient, "_cleanup_kernel", adder("kernel_stop"))
    _wrap(ExecutePreprocessor, "preprocess_cell", adder("cells"))
    for name in GRADEBOOK_CALLS:
        _wrap(api.Gradebook, name, adder("database"))
    if "start_new_kernel" in JudgedExecute.__dict__:  # a subclass that rebinds the synchronous twin
        _wrap(JudgedExecute, "start_new_kernel", adder("kernel_start"))
    NotebookClient._btc_timed = seconds
    return seconds
