"""`make export`: the class's grades in files a spreadsheet or an LMS imports.

    python -m autograder.grading.run.export [--course autograder] [--out autograder/export]

writes two files into autograder/export/:

- `grades-wide.csv`: one row per student: `student_id, last_name, first_name,
  email` (from the roster, `make roster`; blank when unknown), one column per
  assignment (the score after any late penalty), then `total`.
- `canvas.csv`: Canvas's gradebook import layout (Canvas guide "How do I
  import grades in the Gradebook?"): the columns `Student` (sortable name
  "Last, First"), `ID` (Canvas's user id, the roster's `ID` column),
  `SIS User ID`, `SIS Login ID` (the student id used here), `Section`, then
  one column per assignment; the second row is `Points Possible`. Canvas
  matches students by `ID` or `SIS User ID` and ignores blank cells.

A student with no submission of an assignment is blank in that column, never
0 (nbgrader's own `grades.csv` writes 0 for every pair). Assignments are the
columns in the order of the gradebook's names; students are sorted by id.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from ..course import COURSE, Course, quiet, safe_url, venv_on_path
from ..pages.status import standings

WIDE_NAME, CANVAS_NAME = "grades-wide.csv", "canvas.csv"
WIDE_ID_COLUMNS = ["student_id", "last_name", "first_name", "email"]
CANVAS_ID_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "    Points Possible"  # Canvas writes (and reads) this row label indented


def number(x):
    """A score as a spreadsheet reads it: 7, 7.5, 7.25 (no float noise such as 7.499999999)."""
    return f"{round(x, 4):g}"


def _safe_cell(text):
    """A roster value as a CSV cell a spreadsheet will not run as a formula (=, +, -, @ first)."""
    text = "" if text is None else str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def class_table(course, db_url=None):
    """(students, assignments, standings) read from the gradebook.

    students: [{"id", "first_name", "last_name", "email", "lms_user_id"}] sorted by id;
    assignments: [(name, max_score)] sorted by name; standings: {(student, assignment): Standing}.
    """
    from nbgrader.api import Gradebook
    course = course if isinstance(course, Course) else Course(course)
    url = db_url or course.db_url
    with Gradebook(url, course.course_id) as gb:
        students = sorted(({"id": s.id, "first_name": s.first_name or "", "last_name": s.last_name or "",
                            "email": s.email or "", "lms_user_id": s.lms_user_id or ""} for s in gb.students),
                          key=lambda s: s["id"])
        assignments = sorted((a.name, float(a.max_score or 0.0)) for a in gb.assignments)
    return students, assignments, standings(course.root, url, course.course_id)


def wide_rows(students, assignments, table):
    """The rows of grades-wide.csv, header first."""
    rows = [WIDE_ID_COLUMNS + [a for a, _ in assignments] + ["total"]]
    for s in students:
        got = [table.get((s["id"], a)) for a, _ in assignments]
        total = sum(g.score for g in got if g is not None)
        rows.append([_safe_cell(s[k]) for k in ("id", "last_name", "first_name", "email")]
                    + ["" if g is None else number(g.score) for g in got]
                    + [number(total) if any(g is not None for g in got) else ""])
    return rows


def canvas_rows(students, assignments, table, sis_ids=None, sections=None):
    """The rows of canvas.csv, header and Points Possible first.

    sis_ids, sections: {student_id: value} from a roster, when it had them.
    """
    sis_ids, sections = sis_ids or {}, sections or {}
    rows = [CANVAS_ID_COLUMNS + [a for a, _ in assignments],
            [POINTS_POSSIBLE, "", "", "", ""] + [number(m) for _, m in assignments]]
    for s in students:
        name = ", ".join(p for p in (s["last_name"], s["first_name"]) if p) or s["id"]
        got = [table.get((s["id"], a)) for a, _ in assignments]
        rows.append([_safe_cell(name), _safe_cell(s["lms_user_id"]), _safe_cell(sis_ids.get(s["id"], "")),
                     _safe_cell(s["id"]), _safe_cell(sections.get(s["id"], ""))]
                    + ["" if g is None else number(g.score) for g in got])
    return rows


def write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def export(course=COURSE, out=None, db_url=None):
    """Write grades-wide.csv and canvas.csv; returns their paths."""
    from .roster import lms_fields
    course = course if isinstance(course, Course) else Course(course)
    out = Path(out) if out else course.root / "export"
    students, assignments, table = class_table(course, db_url)
    sis_ids, sections = lms_fields(course.root)
    return (write_csv(out / WIDE_NAME, wide_rows(students, assignments, table)),
            write_csv(out / CANVAS_NAME, canvas_rows(students, assignments, table, sis_ids, sections)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("--out", type=Path, default=None, help="folder (default: <course>/export)")
    args = parser.parse_args(argv)
    quiet()
    venv_on_path()
    course = Course(args.course)
    print(f"gradebook: {safe_url(course.db_url)}")
    for path in export(course, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
