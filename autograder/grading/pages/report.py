"""The instructor's report: where the class struggled, in one offline page.

    python -m autograder.grading.pages.report [--course autograder] [--db-url URL]

writes `autograder/report/index.html` with its PNGs (matplotlib, no CDN, no
script): the score distribution per assignment; the pass rate of every test
case (`grade_id`), hardest first, grouped by function (the part of the
grade_id before `__`); the class view of diagnosed mistakes ("14 students: `=`
instead of `+=` in conv_backward", each student linked to the failing cell of
their feedback), read from the diagnosis the judge leaves in the autograded
notebooks' cell metadata; the students whose grading hit an error, a timeout
or an ungradable file (from the grading run's `report/run.json` and the
precheck's `precheck.json`); and a link to every student's feedback page.
An assignment nobody submitted says "no submissions" (no mean of 0, no empty
histogram, no 0/0 pass rates).

A case counts as passed when its autograded score equals its maximum; a case
that was never scored (its notebook could not be graded) counts as failed.
"""
from __future__ import annotations

import argparse
import html
import json
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .. import precheck
from ..course import COURSE, Course, as_course, safe_url
from .status import render_students, standings


@dataclass
class AssignmentStats:
    name: str
    max_score: float
    scores: dict = field(default_factory=dict)        # student -> total auto score
    cases: dict = field(default_factory=dict)         # grade_id -> [passed, attempted, max_score]

    def pass_rate(self, grade_id):
        passed, attempted, _ = self.cases[grade_id]
        return passed / attempted if attempted else 0.0

    def functions(self):
        """[(function, mean pass rate, [grade_ids hardest first])], hardest function first."""
        groups = defaultdict(list)
        for gid in self.cases:
            groups[gid.split("__", 1)[0]].append(gid)
        out = []
        for fn, gids in groups.items():
            gids.sort(key=lambda g: (self.pass_rate(g), g))
            out.append((fn, statistics.mean(self.pass_rate(g) for g in gids), gids))
        out.sort(key=lambda t: (t[1], t[0]))
        return out


def class_stats(db_url, course_id=None):
    """Scores and per-case pass counts from the gradebook, per assignment (sorted by name)."""
    from nbgrader.api import Gradebook
    kwargs = {"course_id": course_id} if course_id else {}
    stats = []
    with Gradebook(db_url, **kwargs) as gb:
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            st = AssignmentStats(assignment.name, float(assignment.max_score or 0))
            for nb in assignment.notebooks:
                for cell in nb.grade_cells:
                    st.cases.setdefault(cell.name, [0, 0, float(cell.max_score)])
            for sub in assignment.submissions:
                student = sub.student.id
                total = 0.0
                for snb in sub.notebooks:
                    for g in snb.grades:
                        if g.cell_type != "code" or g.name not in st.cases:
                            continue
                        score = g.auto_score if g.manual_score is None else g.manual_score
                        entry = st.cases[g.name]
                        entry[1] += 1
                        if score is not None and score >= g.max_score - 1e-9:
                            entry[0] += 1
                        total += score or 0.0
                st.scores[student] = total
            stats.append(st)
    return stats


def problems_from_disk(course, shards=None):
    """Rows (student, assignment, kind, reason) from the last grading run and the precheck.

    shards: n to read exactly the run logs and precheck records of n shards (run-<k>of<n>.json,
    precheck-<k>of<n>.json; n = 1: run.json, precheck.json); None reads every one there is.
    """
    course = as_course(course)
    rows = []
    if shards:
        names = [("run.json", "precheck.json")] if shards == 1 else [
            (f"run-{k}of{shards}.json", f"precheck-{k}of{shards}.json") for k in range(1, shards + 1)]
        runs = [course.report_dir / r for r, _ in names if (course.report_dir / r).exists()]
        prechecks = [p for _, p in names]
    else:
        runs = sorted(course.report_dir.glob("run*.json"))  # run.json, or run-<k>of<n>.json per shard
        prechecks = [p.name for p in sorted(course.root.glob("precheck*.json"))]
    for run in runs:
        for r in json.loads(run.read_text()).get("results", []):
            if not r.get("ok", True):
                rows.append((r["student"], r["assignment"], "error", r.get("error") or "grading failed"))
            for e in r.get("trouble", []):  # kernel events, as data (recovering.take_events)
                kind = "timeout" if e["kind"] == "timeout" else "kernel"
                rows.append((r["student"], r["assignment"], kind, f"{e['kind']}: {e['cell']} ({e['why']})"))
    for name in prechecks:
        try:
            rows += [(p.student, p.assignment, p.kind, p.message) for p in precheck.read_report(course.root, name)]
        except (ValueError, TypeError):  # a record that cannot be read is left out of the report, never stops it
            pass
    return sorted(set(rows))


# ----------------------------------------------------------------------------
# figures


UNRECOGNISED = ("none", "", "failing, not recognised (read their feedback)")


def diagnoses_from_disk(course):
    """{assignment: {(function, kind, key, label): {student: first grade_id}}} from the autograded notebooks.

    The judge (diagnose.py, via JudgedExecute) writes a failing test cell's diagnosis into its metadata.
    A function with failing cells but no diagnosis is grouped as UNRECOGNISED (kind "none"), so the
    instructor sees how many failures the grader could not explain.
    """
    from ..diagnosis.diagnose import METADATA_KEY
    out = defaultdict(lambda: defaultdict(dict))
    for path in as_course(course).graded_notebooks():
        student, assignment = path.parent.parent.name, path.parent.name
        try:
            cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        diagnosed, failing = {}, {}  # function -> (group, grade_id) / first failing grade_id
        for cell in cells:
            meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
            nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
            if not (isinstance(nbg, dict) and nbg.get("grade") and not nbg.get("solution")):
                continue
            gid = str(nbg.get("grade_id", ""))
            function = gid.split("__", 1)[0]
            found = meta.get(METADATA_KEY)
            if isinstance(found, dict) and found.get("kind"):
                group = (str(found.get("function", function)), str(found["kind"]), str(found.get("key", "")),
                         str(found.get("label", "")))
                diagnosed.setdefault(group[0], (group, gid))
            elif any(isinstance(o, dict) and o.get("output_type") == "error" for o in cell.get("outputs", [])):
                failing.setdefault(function, gid)
        for group, gid in diagnosed.values():
            out[assignment][group].setdefault(student, gid)
        for function, gid in failing.items():
            if function not in diagnosed:
                out[assignment][(function,) + UNRECOGNISED].setdefault(student, gid)
    return out


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_scores(st, path):
    """The histogram of total scores; returns its y-axis tick values (whole students)."""
    plt = _plt()
    from matplotlib.ticker import MaxNLocator
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    scores = list(st.scores.values())
    top = st.max_score or max(scores + [1])
    bins = min(20, max(5, int(top) + 1))
    ax.hist(scores, bins=bins, range=(0, top), color="#3b6ea5", edgecolor="white")
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole students
    ax.set_title(f"{st.name}: {len(scores)} submissions, median {statistics.median(scores) if scores else 0:g}")
    fig.tight_layout()
    fig.savefig(path)
    ticks = [float(t) for t in ax.get_yticks()]
    plt.close(fig)
    return ticks


def plot_pass_rates(st, path):
    plt = _plt()
    order = [g for _, _, gids in st.functions() for g in gids]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(order) + 1.2), dpi=100)
    rates = [100 * st.pass_rate(g) for g in order]
    fns = [g.split("__", 1)[0] for g in order]
    palette = plt.get_cmap("tab10")
    colour = {fn: palette(i % 10) for i, fn in enumerate(dict.fromkeys(fns))}
    ax.barh(range(len(order)), rates, color=[colour[f] for f in fns])
    ax.set_yticks(range(len(order)), order, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students passing (%)")
    ax.set_title(f"{st.name}: pass rate per test case, hardest first")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ----------------------------------------------------------------------------
# the page

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
td.num { text-align: right; }
tr.fn th { background: #eef; }
.low { color: #a00; font-weight: bold; }
.none { color: #666; font-style: italic; }
.note { color: #8a4b00; font-size: 0.9em; }
code { background: #f3f3f3; padding: 0 0.2em; }
img { max-width: 100%; }
"""


def _e(x):
    return html.escape(str(x), quote=True)


NO_SUBMISSIONS = "<p class='none no-submissions' data-assignment='{name}'>no submissions</p>"


def _label_html(label):
    """A diagnosis label; `code` spans become <code>."""
    parts = _e(label).split("`")
    return "".join(f"<code>{p}</code>" if k % 2 else p for k, p in enumerate(parts))


def render_diagnoses(stats, diagnoses, feedback_links):
    """The class view: per assignment, the students grouped by diagnosed mistake, most students first."""
    out = ["<h2 id='mistakes'>Diagnosed mistakes (what to re-teach)</h2>",
           "<p>Per function, the students whose failing cases the grader recognised: a known mistake by name, "
           "where the result is wrong (a signature), or a cascade (the function fails because a graded function it "
           "calls does: grouped by that function's own mistake); then those it could "
           "not explain. Each name links to the failing cell in the student's feedback.</p>"]
    any_rows = False
    for st in stats:
        groups = diagnoses.get(st.name, {})
        if not groups:
            continue
        any_rows = True
        out.append(f"<h3>{_e(st.name)}</h3>")
        out.append(f"<table class='mistakes' data-assignment='{_e(st.name)}'><tr><th>students</th>"
                   "<th>mistake</th><th>function</th><th>who (feedback)</th></tr>")
        order = sorted(groups.items(), key=lambda kv: (kv[0][1] == "none", -len(kv[1]), kv[0][0], kv[0][3]))
        for (function, kind, key, label), who in order:
            links = []
            for student in sorted(who):
                href = feedback_links.get((student, st.name))
                links.append(f"<a href='{_e(href)}#{_e(who[student])}'>{_e(student)}</a>" if href else _e(student))
            n = len(who)
            kind_note = "" if kind in ("mistake", "none") else f" <span class='none'>({_e(kind)})</span>"
            out.append(f"<tr class='mistake' data-function='{_e(function)}' data-kind='{_e(kind)}' "
                       f"data-key='{_e(key)}' data-count='{n}'><td class='num'>{n} student{'s' if n != 1 else ''}"
                       f"</td><td>{_label_html(label)}{kind_note}</td><td><code>{_e(function)}</code></td>"
                       f"<td>{', '.join(links)}</td></tr>")
        out.append("</table>")
    if not any_rows:
        out.append("<p id='no-mistakes'>None recognised.</p>")
    return out


def render(stats, problems, feedback_links, run_summary=None, diagnoses=None, standing=None):
    """The HTML text. feedback_links: {(student, assignment): relative href};
    diagnoses: as diagnoses_from_disk returns."""
    out = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
           "<title>Grading report</title>", "<link rel='icon' href='data:,'>",
           f"<style>{CSS}</style></head><body>",
           "<h1>Grading report</h1>"]
    if run_summary:
        out.append(f"<p>{_e(run_summary)}</p>")
    out.append("<h2 id='scores'>Scores per assignment</h2>")
    out.append("<table id='score-summary'><tr><th>assignment</th><th>submissions</th><th>mean</th>"
               "<th>median</th><th>max possible</th></tr>")
    for st in stats:
        sc = list(st.scores.values())
        if not sc:
            out.append(f"<tr data-assignment='{_e(st.name)}' data-count='0'><td>{_e(st.name)}</td>"
                       f"<td class='num'>0</td><td colspan='2' class='none'>no submissions</td>"
                       f"<td class='num'>{st.max_score:g}</td></tr>")
            continue
        mean, med = statistics.mean(sc), statistics.median(sc)
        out.append(f"<tr data-assignment='{_e(st.name)}' data-mean='{mean:.4f}' data-count='{len(sc)}'>"
                   f"<td>{_e(st.name)}</td><td class='num'>{len(sc)}</td><td class='num'>{mean:.2f}</td>"
                   f"<td class='num'>{med:g}</td><td class='num'>{st.max_score:g}</td></tr>")
    out.append("</table>")
    for st in stats:
        out.append(f"<h3>{_e(st.name)}</h3>")
        out.append(f"<img src='scores_{_e(st.name)}.png' alt='score distribution for {_e(st.name)}'>" if st.scores
                   else NO_SUBMISSIONS.format(name=_e(st.name)))
    out += render_diagnoses(stats, diagnoses or {}, feedback_links)
    out.append("<h2 id='cases'>Pass rate per test case (hardest first, by function)</h2>")
    for st in stats:
        out.append(f"<h3>{_e(st.name)}</h3>")
        if not st.scores:
            out.append(NO_SUBMISSIONS.format(name=_e(st.name)))
            continue
        out.append(f"<img src='passrate_{_e(st.name)}.png' alt='pass rate per test case for {_e(st.name)}'>")
        out.append(f"<table class='cases' data-assignment='{_e(st.name)}'>"
                   "<tr><th>test case (grade_id)</th><th>points</th><th>passed</th><th>pass rate</th></tr>")
        for fn, mean_rate, gids in st.functions():
            out.append(f"<tr class='fn' data-function='{_e(fn)}' data-mean-rate='{mean_rate:.4f}'>"
                       f"<th colspan='4'>{_e(fn)} (mean pass rate {100 * mean_rate:.0f}%)</th></tr>")
            for g in gids:
                passed, attempted, pts = st.cases[g]
                rate = st.pass_rate(g)
                cls = " class='low'" if rate < 0.5 else ""
                out.append(f"<tr class='case' data-grade-id='{_e(g)}' data-passed='{passed}' "
                           f"data-attempted='{attempted}'><td>{_e(g)}</td><td class='num'>{pts:g}</td>"
                           f"<td class='num'>{passed}/{attempted}</td><td class='num'><span{cls}>"
                           f"{100 * rate:.0f}%</span></td></tr>")
        out.append("</table>")
    out.append("<h2 id='problems'>Submissions whose grading hit an error or a timeout</h2>")
    if problems:
        out.append("<table id='problems-table'><tr><th>student</th><th>assignment</th><th>kind</th>"
                   "<th>reason</th><th>feedback</th></tr>")
        for student, assignment, kind, reason in problems:
            href = feedback_links.get((student, assignment))
            link = f"<a href='{_e(href)}'>feedback</a>" if href else "none"
            out.append(f"<tr class='problem' data-student='{_e(student)}' data-assignment='{_e(assignment)}' "
                       f"data-kind='{_e(kind)}'><td>{_e(student)}</td><td>{_e(assignment)}</td>"
                       f"<td>{_e(kind)}</td><td>{_e(reason)}</td><td>{link}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p id='no-problems'>None.</p>")
    out += render_students(stats, feedback_links, standing or {})  # scores after late penalties, with notes
    out.append("</body></html>")
    return "\n".join(out)


def feedback_links(course, out_dir, pairs):
    """Relative links from the report folder to feedback pages that exist."""
    import os
    course, out_dir = as_course(course), Path(out_dir)
    links = {}
    for student, assignment in pairs:
        page = course.feedback(student, assignment) / f"{assignment}.html"
        if page.exists():
            links[(student, assignment)] = Path(os.path.relpath(page, out_dir)).as_posix()
    return links


def write_report(course=COURSE, db_url=None, out_dir=None, problems=None, run_summary=None, course_id=None):
    """Write index.html and its PNGs; returns the path of index.html."""
    from ..course import course_id as config_course_id
    from ..course import gradebook_url
    course = as_course(course)
    out_dir = Path(out_dir) if out_dir else course.report_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if db_url is None or course_id is None:
        try:
            config = course.config
        except Exception:
            config = None
        db_url = db_url or gradebook_url(course.root, None, config)
        course_id = course_id or (config_course_id(config) if config is not None else None)
    stats = class_stats(db_url, course_id)
    if problems is None:
        problems = problems_from_disk(course)
    for st in stats:
        for stale in (out_dir / f"scores_{st.name}.png", out_dir / f"passrate_{st.name}.png"):
            stale.unlink(missing_ok=True)
        if st.scores:  # nobody submitted: the page says so, and draws nothing
            plot_scores(st, out_dir / f"scores_{st.name}.png")
            plot_pass_rates(st, out_dir / f"passrate_{st.name}.png")
    pairs = {(s, st.name) for st in stats for s in st.scores} | {(p[0], p[1]) for p in problems}
    links = feedback_links(course, out_dir, pairs)
    page = out_dir / "index.html"
    page.write_text(render(stats, problems, links, run_summary, diagnoses_from_disk(course),
                           standings(course, db_url, course_id)), encoding="utf-8")
    return page


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("--db-url", default=None)
    args = parser.parse_args(argv)
    url = args.db_url or Course(args.course).db_url  # and say which gradebook (password hidden)
    print(f"gradebook: {safe_url(url)}\n{write_report(args.course, url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
