"""Where each student stands on each assignment, in words an instructor reads.

    standings(course) -> {(student, assignment): Standing}

One `Standing` per submission in the gradebook: the score after the late
penalty, the penalty, how late, how many cells still need a manual grade,
whether the notebook is the released one untouched ("not attempted"), and
the name it was submitted under when a browser renamed it. The summary of
`make grade`, the report and the exports all read these, so they never
disagree. A pair with no submission has no Standing: it is blank everywhere,
never 0.

"Not attempted" is only claimed when it can be checked: every answer cell the
graded notebook (`autograded/`) shares with the release holds exactly what the
release holds (cells nbgrader added back do not count). Without the release,
the graded notebook or a shared answer cell, nothing is claimed.
"""
from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .. import limits
from ..course import as_course

RENAMED = "renamed.json"   # in the course root: {"student/assignment": "name it was submitted as"}
MAX_NOTEBOOK_BYTES = limits.NOTEBOOK_BYTES  # an autograded notebook bigger than a submission may be is not read


@dataclass
class Standing:
    student: str
    assignment: str
    raw_score: float            # the cells' scores (auto or manual), before the late penalty
    max_score: float
    penalty: float = 0.0        # points taken for lateness (nbgrader's late_submission_penalty)
    seconds_late: float = 0.0
    manual_cells: int = 0       # cells whose grade still needs an instructor
    not_attempted: bool = False
    renamed_from: str = ""

    @property
    def score(self):
        """What the student gets: the cells' scores minus the late penalty."""
        return max(self.raw_score - self.penalty, 0.0)

    def notes(self):
        """The words shown beside the score, e.g. ["late (by 2 h 5 min, -3 points)", "needs manual grading (1 cell)"]."""
        out = []
        if self.not_attempted:
            out.append("not attempted")
        if self.seconds_late > 0:
            cost = f", -{self.penalty:g} points" if self.penalty else ", no penalty"
            out.append(f"late (by {duration(self.seconds_late)}{cost})")
        if self.manual_cells:
            out.append(f"needs manual grading ({self.manual_cells} cell{'s' if self.manual_cells != 1 else ''})")
        if self.renamed_from:
            out.append(f"submitted as {self.renamed_from!r}, graded as {self.assignment}.ipynb")
        return out


def duration(seconds):
    """'2 d 3 h', '1 h 5 min', '4 min 10 s', '12 s': the two largest units."""
    seconds = int(round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts[:2])


# nbgrader's OverwriteCells.missing_cell_notification starts a cell it added back to a submission
ADDED_BACK = "This cell (id:"


def _answer_sources(path):
    """{grade_id: source} of a notebook's answer (solution) cells, or None if it cannot be read.

    Cells nbgrader added back (missing from the submission, e.g. a question added after it) are left out.
    """
    try:
        if Path(path).is_symlink() or Path(path).stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
        out = {}
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if isinstance(meta, dict) and meta.get("solution"):
                src = cell.get("source", "")
                text = ("".join(src) if isinstance(src, list) else str(src)).strip()
                if not text.startswith(ADDED_BACK):
                    out[str(meta.get("grade_id", ""))] = text
        return out
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def not_attempted(course, student, assignment):
    """True when every answer cell the student had is exactly as released (nothing written)."""
    course = as_course(course)
    released = _answer_sources(course.released(assignment) / f"{assignment}.ipynb")
    graded = _answer_sources(course.autograded(student, assignment) / f"{assignment}.ipynb")
    common = set(released or ()) & set(graded or ())
    return bool(common) and all(graded[gid] == released[gid] for gid in common)


def read_renamed(course):
    path = as_course(course).root / RENAMED
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record_renamed(course, graded_pairs, renamed):
    """Remember which notebooks were graded under another name.

    graded_pairs: the (student, assignment) pairs of this run (their old entries are replaced);
    renamed: {(student, assignment): original file name}.
    """
    # Shards grading at once (grade.py, cluster.py) each rewrite their own students' entries:
    # one at a time, and the file is replaced whole, so no shard loses another's.
    path = as_course(course).root / RENAMED
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = read_renamed(course)
        for student, assignment in graded_pairs:
            data.pop(f"{student}/{assignment}", None)
        for (student, assignment), name in renamed.items():
            data[f"{student}/{assignment}"] = name
        tmp = path.with_name(f"{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def standings(course, db_url, course_id=None):
    """{(student, assignment): Standing} for every submission in the gradebook."""
    from nbgrader.api import Gradebook
    course = as_course(course)
    renamed = read_renamed(course)
    out = {}
    kwargs = {"course_id": course_id} if course_id else {}
    with Gradebook(db_url, **kwargs) as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                student = sub.student.id
                manual = sum(1 for nb in sub.notebooks for g in nb.grades if g.needs_manual_grade)
                out[(student, assignment.name)] = Standing(
                    student, assignment.name, float(sub.score or 0.0), float(sub.max_score or 0.0),
                    penalty=float(sub.late_submission_penalty or 0.0),
                    seconds_late=float(sub.total_seconds_late or 0.0), manual_cells=manual,
                    not_attempted=not_attempted(course, student, assignment.name),
                    renamed_from=renamed.get(f"{student}/{assignment.name}", ""))
    return out


def render_students(stats, feedback_links, standing):
    """The report's students table (HTML lines): per assignment the score after any late penalty,
    a link to the feedback, and the notes ("late (by ...)", "needs manual grading (N cells)" ...).

    stats: report.AssignmentStats (name, max_score, scores); standing: {(student, assignment): Standing}.
    """
    from html import escape

    def e(x):
        return escape(str(x), quote=True)

    out = ["<h2 id='students'>Students</h2>",
           "<table id='students-table'><tr><th>student</th>" + "".join(f"<th>{e(st.name)}</th>" for st in stats)
           + "</tr>"]
    for s in sorted({s for st in stats for s in st.scores} | {s for s, _ in standing}):
        cells = []
        for st in stats:
            got = standing.get((s, st.name))
            if got is None and s not in st.scores:
                cells.append("<td>-</td>")
                continue
            score = f"{got.score:g}/{got.max_score:g}" if got else f"{st.scores[s]:g}/{st.max_score:g}"
            href = feedback_links.get((s, st.name))
            link = f" <a href='{e(href)}'>feedback</a>" if href else ""
            notes = "".join(f"<br><span class='note'>{e(n)}</span>" for n in (got.notes() if got else []))
            cells.append(f"<td class='num' data-assignment='{e(st.name)}'>{score}{link}{notes}</td>")
        out.append(f"<tr data-student='{e(s)}'><td>{e(s)}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return out
