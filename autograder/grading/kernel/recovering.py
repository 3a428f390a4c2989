"""Surviving dead, stuck and flooding kernels: mixed into the grading Execute preprocessor.

- The kernel runs in a `SandboxKernelManager` (unless configured otherwise).
- A cell that kills the kernel (os._exit, a segfault, a signal, a resource
  limit, the notebook's memory or disk budget) gets an error output saying so;
  the kernel is restarted, the code cells that ran before it (minus test cells
  and cells that timed out) are replayed silently to rebuild the student's
  definitions, and execution carries on with the next cell. When a graded test
  cell killed the kernel, the remaining test cells of the same function are
  not run (they would kill it again); they score 0 with a note.
- Time budgets follow the work: a graded test cell gets a few seconds or a
  generous multiple of what the reference needs on its case, whichever is
  larger, never more than the configured timeout. When a function's graded
  call (the record line) did not return in time, its remaining cases are not
  run (0, with a message naming the case that hung); when only the visible
  check after it hung, the later cells of that function run their record line
  alone, so the grade is unchanged and no more time is lost.
- After a cell times out, the kernel must answer a trivial request within
  `responsive_timeout` seconds, or it is treated as dead (a loop that
  ignores the interrupt).
- Cells are given at most the notebook's remaining wall-clock budget; once
  it is used up the remaining cells are not run.
- Every cell keeps at most `max_output_chars` of output text, cut as the
  output arrives (a kernel printing gigabytes cannot grow the grader's memory),
  with a note saying how much was dropped.
- What happened to the kernel (a cell timed out, the kernel died and why) is
  kept as data, `kernel_events`, and handed to the worker by `take_events()`:
  the notebook's error text is the student's to write, never read as an event.
"""
from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from queue import Empty

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import from_dict
from nbformat.notebooknode import NotebookNode
from traitlets import Float, HasTraits, Integer

from .. import limits
from . import sandbox
from .sandbox import SandboxKernelManager

# The graded call of a test cell: the record line(s) `grader_record(...)` the cell starts with.
RECORD = re.compile(r"^grader_record\(.*$", re.M)

# The kernel events of the notebooks executed in this process, until the worker takes them.
_EVENTS = []


def take_events():
    """[{"kind": "timeout" | "kernel died", "cell": grade id or "cell <n>", "why": text}, ...]
    of the notebooks executed in this process since the last call; forgets them."""
    events = list(_EVENTS)
    _EVENTS.clear()
    return events


def _error(ename, text):
    return NotebookNode(output_type="error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"])


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _is_test_cell(cell):
    return bool(_meta(cell).get("grade")) and not _meta(cell).get("solution")


def _function_of(cell):
    grade_id = _meta(cell).get("grade_id", "")
    return grade_id.split("__", 1)[0] if "__" in grade_id else None


class RecoveringExecute(HasTraits):
    """Mix into nbgrader's Execute (before it in the bases) so a notebook survives its kernel."""

    max_restarts = Integer(limits.MAX_RESTARTS, config=True, help="Kernel restarts allowed per notebook.")
    responsive_timeout = Integer(5, config=True,
                                 help="Seconds a kernel has to answer after an interrupted cell.")
    max_output_chars = Integer(limits.MAX_OUTPUT_CHARS, config=True, help="Output text kept per cell.")
    case_floor = Float(limits.CASE_FLOOR, config=True, help="Seconds every graded test cell gets at least.")
    case_factor = Float(limits.CASE_FACTOR, config=True,
                        help="A graded test cell also gets this many times what the reference needs on its case.")
    solution_timeout = Float(limits.SOLUTION_TIMEOUT, config=True,
                             help="Seconds for a solution cell (it defines functions; the reference needs none).")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)

    # -- bookkeeping around nbconvert's per-cell loop --------------------------
    def preprocess(self, nb, resources=None, km=None):
        self._sbx_replay = []
        self._sbx_restarts = 0
        self._sbx_broken_functions = {}   # function -> why its remaining tests are not run
        self._sbx_record_only = set()     # functions whose visible checks hung: run their records only
        self._sbx_stop = None
        self._sbx_seen = {}               # cell index -> output characters seen / dropped
        self.kernel_events = []  # what happened to the kernel, as data (see take_events)
        before = set(sandbox.RUNDIRS)
        try:
            return super().preprocess(nb, resources, km)
        finally:  # a kernel that could not be restarted or stopped still leaves nothing behind
            for rundir in set(sandbox.RUNDIRS) - before:
                sandbox.RUNDIRS[rundir]()
            _EVENTS.extend(self.kernel_events)

    def _event(self, cell, index, kind, why):
        name = _meta(cell).get("grade_id")
        self.kernel_events.append({"kind": kind, "cell": name or f"cell {index + 1}", "why": why})

    def reference_seconds(self, grade_id):
        """Seconds the reference needs on this graded case (None: unknown; the configured timeout holds).
        The judge knows the cases (execute.JudgedExecute); the kernel's side does not."""
        return None

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        budget = self._cell_budget(cell)
        if budget is not None:
            timeout = budget if timeout is None else min(timeout, budget)
        left = getattr(self.km, "remaining_seconds", lambda: None)()
        if left is not None:
            left = max(1, int(left))
            timeout = left if timeout is None else min(timeout, left)
        return timeout

    def _cell_budget(self, cell):
        """Seconds this cell may take by what it is (None: the configured timeout)."""
        if cell is None:  # a request that is not a cell (kernel_info)
            return None
        if _is_test_cell(cell):
            ref = self.reference_seconds(_meta(cell).get("grade_id", ""))
            return None if ref is None else max(self.case_floor, self.case_factor * ref)
        if _meta(cell).get("solution"):
            return self.solution_timeout
        return None

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        reason = self._not_run_reason(cell)
        if reason:
            cell.outputs = [_error("NotRun", reason)]
            return cell, resources
        func = _function_of(cell) if _is_test_cell(cell) else None
        run_cell = cell
        if func in self._sbx_record_only and RECORD.search(cell.source):
            run_cell = from_dict(json.loads(json.dumps(cell)))  # a copy holding the graded call only
            run_cell.source = "\n".join(RECORD.findall(cell.source))
        started = time.monotonic()
        try:
            run_cell, resources = super().preprocess_cell(run_cell, resources, index)
        except DeadKernelError:
            self._clip(run_cell, index)
            cell.outputs = run_cell.outputs
            self._after_death(cell, index)
            return cell, resources
        except CellTimeoutError:  # interrupted, but the kernel never finished the cell
            run_cell.outputs.append(_error("CellTimeoutError", "this cell ran out of time"))
        self._clip(run_cell, index)
        cell.outputs = run_cell.outputs
        if "execution_count" in run_cell:
            cell.execution_count = run_cell.execution_count
        timed_out = any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
                        for o in cell.outputs)
        if timed_out:
            self._event(cell, index, "timeout", "the cell ran out of time")
            if func:
                self._after_timeout(cell, func, time.monotonic() - started)
            if not self._responsive():
                if self._killed_for_a_reason():  # the watchdog or the clock killed it as the cell timed out
                    self._after_death(cell, index)
                    return cell, resources
                cell.outputs.append(_error(
                    "KernelUnresponsive",
                    "the kernel did not stop after this cell timed out; it was restarted"))
                self._after_death(cell, index, announce=False)
                return cell, resources
        elif not _is_test_cell(cell):
            self._sbx_replay.append(index)
        return cell, resources

    def _after_timeout(self, cell, func, seconds):
        """A test cell of func ran out of time: decide what its later cells run."""
        grade_id = _meta(cell).get("grade_id", "")
        recorded = getattr(self.km, "has_record", lambda name: False)(f"{grade_id}.json")
        if recorded:  # the graded call returned; the visible check after it hung
            self._sbx_record_only.add(func)
            return
        self._sbx_broken_functions.setdefault(func, (
            f"did not return within {seconds:.0f} s on case {grade_id} (the reference needs "
            f"{(self.reference_seconds(grade_id) or 0) * 1000:.0f} ms there). A function that never returns "
            "usually has a loop whose bound or counter never moves (a while loop without its "
            "increment, or a loop over a range you change inside it)"))

    def _not_run_reason(self, cell):
        if self._sbx_stop:
            return self._sbx_stop
        left = getattr(self.km, "remaining_seconds", lambda: None)()
        if getattr(self.km, "notebook_time_exceeded", False) or (left is not None and left <= 0):
            self._sbx_stop = "not run: the notebook used up its time limit"
            return self._sbx_stop
        func = _function_of(cell)
        if _is_test_cell(cell) and func in self._sbx_broken_functions:
            return f"not run: an earlier test of {func} {self._sbx_broken_functions[func]}"
        return None

    # -- dead kernels ----------------------------------------------------------
    def _killed_for_a_reason(self):
        """True when the kernel was killed over a budget or the notebook's clock (a reason to announce)."""
        return bool(getattr(self.km, "budget_exceeded", "") or getattr(self.km, "notebook_time_exceeded", False))

    def _why_dead(self):
        if getattr(self.km, "notebook_time_exceeded", False):
            return "the notebook used up its time limit"
        over = getattr(self.km, "budget_exceeded", "")
        if over:
            return f"the notebook went over its {over}"
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = proc.poll() if proc is not None else None
        if code is None:
            return "the kernel stopped responding"
        signum = -code if code < 0 else (code - 128 if getattr(self.km, "sandboxed", False) and code > 128 else 0)
        if signum:  # bwrap reports a child killed by signal n as status 128 + n
            try:
                return f"the kernel was killed by {signal.Signals(signum).name}"
            except ValueError:
                return f"the kernel was killed by signal {signum}"
        return f"the kernel exited with status {code}"

    def _after_death(self, cell, index, announce=True):
        why = self._why_dead()
        self._event(cell, index, "kernel died", why)
        tail = getattr(self.km, "kernel_log_tail", lambda: "")()
        self.log.warning("cell %s: %s%s", index, why, f"; the kernel's last words:\n{tail}" if tail.strip() else "")
        if announce:
            cell.outputs.append(_error(
                "KernelDied",
                f"{why} while running this cell (the code ended or crashed the Python process: "
                "os._exit, a segfault, a signal or a resource limit). Grading restarted Python, "
                "re-ran the cells above, and went on with the next cell."))
        if _is_test_cell(cell) and _function_of(cell):
            self._sbx_broken_functions.setdefault(_function_of(cell), f"killed the kernel ({why})")
        if getattr(self.km, "notebook_time_exceeded", False):
            self._sbx_stop = "not run: the notebook used up its time limit"
            return
        if self._sbx_restarts >= self.max_restarts:
            self._sbx_stop = f"not run: the kernel died {self._sbx_restarts + 1} times"
            return
        self._sbx_restarts += 1
        try:
            run_sync(self._async_restart)()
            ok = run_sync(self._async_replay)()
        except Exception as e:  # a kernel that cannot even restart ends the notebook, not the run
            self.log.warning("could not restart the kernel: %s", e)
            ok = False
        if not ok:
            self._sbx_stop = "not run: the kernel could not be restarted with the cells above"

    async def _async_restart(self):
        if self.kc is not None:
            await ensure_async(self.kc.stop_channels())
            self.kc = None
        await ensure_async(self.km.restart_kernel(now=True))
        await self.async_start_new_kernel_client()

    async def _async_run_quietly(self, code, timeout):
        """Run code in the kernel; True when it replied in time (outputs are discarded)."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, stop_on_error=False)
        msg_id = await ensure_async(msg_id)
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return False
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(left, 1.0)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    return False
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return True

    async def _async_replay(self):
        for i in self._sbx_replay:
            cell = self.nb.cells[i]
            if not await self._async_run_quietly(cell.source, self._get_timeout(cell) or 60):
                return False
        return True

    def _responsive(self):
        try:
            return run_sync(self._async_run_quietly)("", self.responsive_timeout)
        except Exception:
            return False

    # -- bounded outputs --------------------------------------------------------
    def output(self, outs, msg, display_id, cell_index):
        """nbclient's per-message hook: keep a cell's outputs within budget as they arrive."""
        out = super().output(outs, msg, display_id, cell_index)
        if out is None:
            return out
        seen = self._sbx_seen.setdefault(cell_index, [0, 0])
        size = _output_size(out)
        seen[0] += size
        if seen[0] > 2 * self.max_output_chars and out.get("output_type") != "error":
            if outs and outs[-1] is out:
                outs.pop()  # dropped now, counted for the note _clip adds
            seen[1] += size
        return out

    def _clip(self, cell, index=None):
        budget = self.max_output_chars
        dropped = self._sbx_seen.pop(index, [0, 0])[1] if index is not None else 0
        total = sum(_output_size(o) for o in cell.get("outputs", []))
        if total <= budget and not dropped:
            return
        kept = []
        for out in cell.get("outputs", []):
            size = _output_size(out)
            if size <= budget:
                kept.append(out)
                budget -= size
                continue
            if out.get("output_type") == "stream" and budget > 0:
                out["text"] = out["text"][:budget]
                kept.append(out)
            elif out.get("output_type") == "error":  # an error is kept (shortened): it is a verdict
                out["evalue"] = out.get("evalue", "")[:2000]
                out["traceback"] = [t[:2000] for t in out.get("traceback", [])[-5:]]
                kept.append(out)
            budget = 0
        cut = total + dropped - sum(_output_size(o) for o in kept)
        kept.append(NotebookNode(output_type="stream", name="stdout",
                                 text=f"\n[... output cut: about {cut} more characters not kept ...]\n"))
        cell.outputs = kept


def _output_size(out):
    if out.get("output_type") == "stream":
        return len(out.get("text", ""))
    if out.get("output_type") == "error":
        return len(out.get("evalue", "")) + sum(len(t) for t in out.get("traceback", []))
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in out.get("data", {}).values())
