"""Where each student stands on each assignment, in words an instructor reads.

    standings(course) -> {(student, assignment): Standing}

One `Standing` per submission in the gradebook: the score after the late
penalty, the penalty, how late, how many cells still need a manual grade,
whether the notebook is the released one untouched ("not attempted"), and
the name it was submitted under when a browser renamed it. The summary of
`make grade`, the report and the exports all read these, so they never
disagree. A pair with no submission has no Standing: it is blank everywhere,
never 0.

"Not attempted" is only claimed when it can be checked: every answer cell of
the graded notebook (`autograded/`) holds exactly what the release holds.
Without the release or the graded notebook nothing is claimed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RENAMED = "renamed.json"   # in the course root: {"student/assignment": "name it was submitted as"}
MAX_NOTEBOOK_BYTES = 50 * 2**20


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


def _answer_sources(path):
    """{grade_id: source} of a notebook's answer (solution) cells, or None if it cannot be read."""
    try:
        if Path(path).is_symlink() or Path(path).stat().st_size > MAX_NOTEBOOK_BYTES:
            return None
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
        out = {}
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if isinstance(meta, dict) and meta.get("solution"):
                src = cell.get("source", "")
                out[str(meta.get("grade_id", ""))] = ("".join(src) if isinstance(src, list) else str(src)).strip()
        return out
    except (OSError, ValueError, AttributeError, TypeError):
        return None


def not_attempted(course, student, assignment):
    """True when the graded notebook's answer cells are exactly the released ones (nothing written)."""
    course = Path(course)
    released = _answer_sources(course / "release" / assignment / f"{assignment}.ipynb")
    graded = _answer_sources(course / "autograded" / student / assignment / f"{assignment}.ipynb")
    if not released or graded is None:
        return False
    return all(graded.get(gid) == src for gid, src in released.items())


def read_renamed(course):
    path = Path(course) / RENAMED
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
    data = read_renamed(course)
    for student, assignment in graded_pairs:
        data.pop(f"{student}/{assignment}", None)
    for (student, assignment), name in renamed.items():
        data[f"{student}/{assignment}"] = name
    (Path(course) / RENAMED).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def standings(course, db_url, course_id=None):
    """{(student, assignment): Standing} for every submission in the gradebook."""
    from nbgrader.api import Gradebook
    course = Path(course)
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
