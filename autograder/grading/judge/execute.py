"""JudgedExecute: nbgrader's Execute, with the verdicts decided outside the kernel.

For one notebook:
1. write every graded case's inputs into a fresh exchange folder (outside the
   course) and pass its absolute path to the kernel in the kernel's environment;
2. execute the notebook as nbgrader would (the kernel only computes: each test
   cell's hidden `grader_record(...)` saves the student's outputs);
3. for every autograded test cell, judge the recorded outputs against the
   `solutions` package on inputs rebuilt here, and replace the cell's outputs
   with the verdict: a stdout stream on pass, an `error` output carrying the
   teaching message on fail. nbgrader's SaveAutoGrades then scores the verdict,
   whatever the kernel printed or patched.
4. before writing the verdicts, the failing cells of each function are read
   together (diagnose.py): a known mistake or a structural signature adds lines
   to the message, a picture (PNG) shows where the first wrong array differs,
   and the diagnosis goes into the cell's metadata for the instructor's report.
"""
import base64
import functools
import logging
import os
import re
import shutil
import tempfile
import time

from jupyter_core.utils import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute

from .. import exchange, limits
from .. import cases as registry
from ..diagnosis import diagnose
from ..diagnosis import explain
from ..kernel import budgets
from ..kernel.recovering import RecoveringExecute  # sandboxed kernel, restarted after a crash

DIAGNOSIS_KEY = diagnose.METADATA_KEY  # cell metadata: the diagnosed mistake of a failing test cell
# The judge's own limits (limits.py): per record, for the diagnosis, and its memory while it judges.
RECORD_SECONDS = limits.RECORD_SECONDS
DIAGNOSIS_SECONDS = limits.DIAGNOSIS_SECONDS
JUDGE_MEMORY = limits.JUDGE_MEMORY
MAX_VERDICT_CHARS = limits.VERDICT_CHARS
EXCHANGE_SLACK = 16 * 2**20  # the exchange's tmpfs: inputs and refusal notes besides the records
log = logging.getLogger(__name__)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _clip(text, limit):
    text = ANSI.sub("", text)
    return text if len(text) <= limit else text[:limit // 2] + "\n[... cut ...]\n" + text[-limit // 2:]


def graded_test_cells(nb):
    """(cell, grade_id) for every autograded test cell: code, grade, not a solution."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            yield cell, meta.get("grade_id", "")


def verdict(grade_id, record_or_error, kernel_outputs=(), extra=(), judged=None):
    """(passed, text) for one test cell. record_or_error: an exchange.Record, None, or an Exception.

    extra: lines of diagnosis (diagnose.py) put before the "re-read" line of a failure;
    judged: the diagnose.Judged of this cell when already judged (the judge then runs once).
    """
    case = registry.CASES.get(grade_id)
    if case is None:
        return False, f"{grade_id}: this test cell has no graded case (ask your instructor)."
    head = f"{grade_id} ({case.about})"
    inputs = f"  inputs: {registry.describe_inputs(case)}"
    if isinstance(record_or_error, exchange.MalformedRecord):
        return False, f"✗ {head}: the recorded result could not be read ({record_or_error}).\n{inputs}"
    record = record_or_error
    if record is None:
        seen = [f"{o.get('ename', '')}: {o.get('evalue', '')}" for o in kernel_outputs if o.get("output_type") == "error"]
        why = f"\n  the cell stopped with {_clip(seen[0], 600)}" if seen else ""
        return False, (f"✗ {head}: no result was recorded for this case: the cell did not reach its hidden "
                       f"check (is `{case.function}` defined, and did the cells above it run?){why}")
    warned = [f"  (your function warned: {w})" for w in record.warnings[:2]]
    extra = [f"  {line}" for line in extra]
    if record.raised is not None:
        r = record.raised
        return False, "\n".join([
            f"✗ {head}: {case.function} raised {r['type']}: {_clip(r['message'], 600)}", inputs,
            # form (c): the student's line and its arrays; the cause only when no diagnosis names one
            *[f"  {line}" for line in explain.for_verdict(case, r, causes=not extra)], *extra,
            f"  re-read {registry.citation(case, '*')}",
            "  your traceback (last lines):", _clip(r["traceback"], 1500), *warned])
    if judged is None:
        judged = diagnose.Judged(grade_id, record)
    m = judged.mismatch
    if m is not None:
        cited = registry.citation(case, m.what)
        reread = [] if any(cited in line for line in extra) else [f"  re-read {cited}"]  # cited once is enough
        return False, "\n".join([f"✗ {head}: {m.problem}", inputs, *[f"  {d}" for d in m.details], *extra,
                                 *reread, *warned])
    return True, f"✓ {head}: correct ({case.points} point{'s' if case.points != 1 else ''})"


def verdict_outputs(passed, text, picture=None):
    """The outputs that replace a test cell's: nbgrader gives full points to the first, 0 to the second.

    picture: PNG bytes shown under a failure (expected, got, where they differ), embedded in the notebook.
    """
    if passed:
        return [NotebookNode(output_type="stream", name="stdout", text=text + "\n")]
    ename = "GradingFailure"
    outputs = [NotebookNode(output_type="error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"])]
    if picture:
        outputs.append(NotebookNode(output_type="display_data", metadata={}, data={
            "image/png": base64.b64encode(picture).decode("ascii"),
            "text/plain": "expected, got, and where they differ"}))
    return outputs


def judge_notebook(pairs, kernel_outputs=None, leave_out=()):
    """[(passed, text, picture, finding)] for [(grade_id, record)] of one notebook, in order.

    Every cell is judged once; the failing cells of each function are then diagnosed together.
    kernel_outputs: the cells' outputs from the kernel (for "no result was recorded"), in the same order.
    """
    judged = [_judged(grade_id, record) for grade_id, record in pairs]
    try:
        with limits.deadline(DIAGNOSIS_SECONDS):
            findings = diagnose.notebook(judged, leave_out)
    except (Exception, limits.JudgeTimeout) as e:  # the verdicts stand without a diagnosis
        log.warning("diagnosis skipped: %s: %s", type(e).__name__, e)
        findings = {}
    out = []
    for k, j in enumerate(judged):
        finding = findings.get(j.grade_id)
        passed, text = verdict(j.grade_id, j.record, kernel_outputs[k] if kernel_outputs else (),
                               finding.lines if finding else (), judged=j)
        out.append((passed, _clip(text, MAX_VERDICT_CHARS), finding.picture if finding and not passed else None,
                    finding))
    return out


def _judged(grade_id, record):
    """The judged cell; a record that takes the judge too long or errs is a bad record for its case."""
    try:
        with limits.deadline(RECORD_SECONDS):
            return diagnose.Judged(grade_id, record)
    except (Exception, limits.JudgeTimeout) as e:
        return diagnose.Judged(grade_id, exchange.MalformedRecord(
            f"the judge could not compare it within its limits ({type(e).__name__}: {str(e)[:200]})"))


def read_records(folder, grade_ids):
    """[(grade_id, Record | None | MalformedRecord)]: each read within the judge's time per record."""
    pairs = []
    for grade_id in grade_ids:
        try:
            with limits.deadline(RECORD_SECONDS):
                record = exchange.read_output(folder, grade_id)
        except (exchange.MalformedRecord, limits.JudgeTimeout) as e:
            record = e if isinstance(e, exchange.MalformedRecord) else exchange.MalformedRecord(
                f"reading it took the judge {e}")
        pairs.append((grade_id, record))
    return pairs


@functools.lru_cache(maxsize=None)
def reference_seconds(grade_id):
    """Seconds the reference solution needs on this graded case (None for an unknown case)."""
    case = registry.CASES.get(grade_id)
    if case is None:
        return None
    start = time.perf_counter()
    try:
        case.reference()
    except Exception:  # a case whose reference raises is judged elsewhere; give it the floor
        pass
    return time.perf_counter() - start


class JudgedExecute(RecoveringExecute, Execute):
    """Execute whose test-cell verdicts come from the trusted judge, not from the kernel."""

    def reference_seconds(self, grade_id):  # a test cell's time budget follows its case's reference
        return reference_seconds(grade_id)

    exchange_root = None  # where exchange folders are created (None: the system's temporary folder)
    exchange_folder = None  # this notebook's folder while it runs (absolute; also in the kernel's env)

    def preprocess(self, nb, resources=None, km=None):
        folder = tempfile.mkdtemp(prefix=budgets.owned_name("btcx"), dir=self.exchange_root)
        cells = list(graded_test_cells(nb))
        # the exchange on a tmpfs of its own when root: the records copied out of the kernel's disk
        # are bounded there, not by the host's /tmp (and the kernel's statvfs shows only it)
        mounted = budgets.mount_disk(folder, exchange.MAX_RECORD_TOTAL + EXCHANGE_SLACK, 4 * len(cells) + 64,
                                     name="btc-exchange")
        try:
            with registry.drawing(*self._draw(resources)):
                return self._judged_run(nb, resources, km, folder, cells)
        finally:
            budgets.run_all(lambda: mounted and budgets.unmount_disk(folder),
                            lambda: shutil.rmtree(folder, ignore_errors=True), log=self.log)

    def _draw(self, resources):
        """(course seed, student) of this notebook's inputs; (None, None): the cases' fixed seeds."""
        student = ((resources or {}).get("nbgrader") or {}).get("student")
        if not student:
            return None, None
        root = self.config.CourseDirectory.get("root") or os.getcwd()
        return registry.course_seed(root), student

    def _judged_run(self, nb, resources, km, folder, cells):
        self.exchange_folder = exchange.prepare(folder)
        for _, grade_id in cells:
            case = registry.CASES.get(grade_id)
            if case is not None:
                args, kwargs = case.inputs()
                exchange.write_inputs(self.exchange_folder, grade_id, args, kwargs)
        nb, resources = super().preprocess(nb, resources, km)
        with limits.memory_limit(JUDGE_MEMORY):
            pairs = read_records(self.exchange_folder, [grade_id for _, grade_id in cells])
            verdicts = judge_notebook(pairs, [cell.get("outputs", []) for cell, _ in cells])
        for (cell, grade_id), (passed, text, picture, finding) in zip(cells, verdicts):
            cell.outputs = verdict_outputs(passed, text, picture)
            cell.metadata.pop(DIAGNOSIS_KEY, None)
            if finding is not None and finding.kind and not passed:
                # read by the instructor's report (report.py) to group students by mistake
                cell.metadata[DIAGNOSIS_KEY] = finding.metadata(registry.CASES[grade_id].function)
        return nb, resources

    async def async_start_new_kernel(self, **kwargs):
        # The kernel learns where to find its inputs (and write its outputs) from its environment.
        env = dict(kwargs.pop("env", None) or os.environ)
        env[exchange.ENV_VAR] = str(self.exchange_folder)
        await super().async_start_new_kernel(env=env, **kwargs)

    # nbclient binds the synchronous twin to its own coroutine; rebind it to ours.
    start_new_kernel = run_sync(async_start_new_kernel)
