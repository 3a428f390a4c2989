"""What the instructor sees while a class is graded: a bar, then a summary table.

The bar (tqdm, on stderr, only when stderr is a terminal) counts notebooks
graded, failures so far and the ETA; in a log file each notebook gets one
plain line instead. The summary lists students graded, every failure with its reason, and
the seconds per notebook (wall clock of the run divided by notebooks, and the
mean time one worker spent on one notebook, phase by phase).
"""
from __future__ import annotations

import statistics
import sys

from .results import PHASES


def is_terminal(stream):
    """True when `stream` is an interactive terminal (a bar redraws with carriage returns)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False


class Progress:
    """A bar on a terminal; plain lines otherwise.

    stream: where the bar goes (default stderr). lines: where one line per
    notebook graded goes (e.g. sys.stdout), or None. When `stream` is not a
    terminal (a log file, a pipe, CI) there is no bar: its carriage returns
    would interleave with the per-notebook lines. The per-notebook lines are
    then written to `lines`, or to `stream` when `lines` is None, so a log
    still shows the progress.
    """

    def __init__(self, total, enabled=True, stream=None, lines=None):
        self.total = total
        self.failed = 0
        self.done = 0
        stream = stream or sys.stderr
        self.lines = lines  # where to write one line per notebook graded, or None
        self.bar = None
        if enabled and not is_terminal(stream):
            if self.lines is None:
                self.lines = stream
            enabled = False
        if enabled:
            from tqdm import tqdm
            tqdm.monitor_interval = 0  # no monitor thread in the grading parent
            self.bar = tqdm(total=total, unit="nb", desc="grading", file=stream,
                            dynamic_ncols=True, smoothing=0.1)

    def update(self, result):
        self.done += 1
        if not result.ok or result.trouble:
            self.failed += 1
        if self.lines is not None:
            line = f"[{self.done}/{self.total}] {result.student}/{result.assignment} ({result.seconds:.1f} s)"
            if not result.ok:
                line += f" ERROR: {result.error}"
            if self.bar is not None:
                self.bar.write(line, file=self.lines)
            else:
                print(line, file=self.lines, flush=True)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{result.student}/{result.assignment}, {self.failed} with problems",
                                     refresh=False)
            self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def trouble_text(events):
    """One line for a notebook's kernel events (recovering.take_events): "timeout: conv_forward__a
    (+1 more cells); kernel died: pool_backward__b (the notebook went over its memory ...)"."""
    parts = []
    for kind in dict.fromkeys(e["kind"] for e in events):
        cells = [e for e in events if e["kind"] == kind]
        why = f" ({cells[0]['why']})" if kind != "timeout" else ""
        more = f" (+{len(cells) - 1} more cells)" if len(cells) > 1 else ""
        parts.append(f"{kind}: {cells[0]['cell']}{why}{more}")
    return "; ".join(parts)


def summary_table(summary, extra_problems=()):
    """The end-of-run text: counts, failures with reasons, seconds per notebook.

    extra_problems: lines from other checks (e.g. the precheck) to list with the failures.
    """
    res = summary.results
    students = sorted({r.student for r in res})
    lines = [f"graded {len(res)} notebook(s) of {len(students)} student(s) with {summary.jobs} worker(s)"
             f" (shard {summary.shard[0]}/{summary.shard[1]}) in {summary.wall:.1f} s"]
    if res:
        per = [r.seconds for r in res]
        lines.append(f"seconds per notebook: {summary.wall / len(res):.2f} wall-clock for the class, "
                     f"{statistics.mean(per):.2f} mean per worker (median {statistics.median(per):.2f}, "
                     f"max {max(per):.2f})")
        timed = [r.phases for r in res if r.phases]
        if timed:
            lines.append("  where one notebook's time goes (mean s): " + ", ".join(
                f"{p} {statistics.mean(t.get(p, 0.0) for t in timed):.3f}" for p in PHASES))
    bad = summary.failures
    # Not the students' failed tests (those are scores): notebooks grading could not finish.
    lines.append(f"grading errors: {len(bad) + len(extra_problems)}")
    if bad or extra_problems:
        width = max([len(r.student) for r in bad] + [7])
        lines.append(f"  {'student':<{width}}  {'assignment':<12} reason")
        for r in bad:
            reason = r.error or trouble_text(r.trouble)
            lines.append(f"  {r.student:<{width}}  {r.assignment:<12} {reason}")
        for line in extra_problems:
            lines.append(f"  {line}")
    return "\n".join(lines)
