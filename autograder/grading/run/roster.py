"""`make roster FILE=students.csv`: put the class list into the gradebook (names, ids, emails).

    python -m autograder.grading.run.roster students.csv [--course autograder]

Reads a CSV with a header row, in either of two layouts:

- nbgrader's (`nbgrader db student import`): `id`, `first_name`, `last_name`,
  `email`, optionally `lms_user_id`;
- a Canvas gradebook export: `Student` ("Last, First"), `ID` (Canvas's user
  id), `SIS User ID`, `SIS Login ID` (the login, used as the student id
  here), `Section`; its `Points Possible` row is skipped.

Headers are matched without regard to case, spaces or underscores; `name`
("Last, First" or "First Last"), `username`, `login` and `student_id` are
understood too. Every student is created or updated in the gradebook
(first_name, last_name, email, lms_user_id); a row whose id is not a plain
name (see precheck.valid_id) is reported and skipped. The SIS user ids and
sections, which nbgrader's gradebook has no place for, are kept in
`autograder/roster.json` for `make export`'s canvas.csv.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from ..course import COURSE, Course, quiet, safe_url, venv_on_path
from ..precheck import shown, valid_id

LMS_FILE = "roster.json"   # {student_id: {"sis_user_id": ..., "section": ...}}

# normalised header -> field; the first header found for a field wins
ALIASES = {
    "id": ("sisloginid", "studentid", "id", "username", "login", "userid"),
    "first_name": ("firstname", "givenname"),
    "last_name": ("lastname", "surname", "familyname"),
    "name": ("student", "name", "fullname"),
    "email": ("email", "emailaddress", "mail"),
    "lms_user_id": ("lmsuserid", "canvasid", "canvasuserid"),
    "sis_user_id": ("sisuserid",),
    "section": ("section", "sections"),
}


def _norm(header):
    return "".join(ch for ch in str(header).lower() if ch.isalnum())


def columns(header):
    """{field: column index} for a header row (a Canvas export's `ID` is Canvas's user id)."""
    normed = [_norm(h) for h in header]
    canvas = "sisloginid" in normed
    found = {}
    for field, names in ALIASES.items():
        for name in names:
            if canvas and field == "id" and name == "id":
                continue  # in a Canvas export, ID is Canvas's own user id
            if name in normed:
                found[field] = normed.index(name)
                break
    if canvas and "lms_user_id" not in found and "id" in normed:
        found["lms_user_id"] = normed.index("id")
    return found


def split_name(name):
    """'Curie, Marie' or 'Marie Curie' -> ('Marie', 'Curie')."""
    name = " ".join(str(name).split())
    if "," in name:
        last, first = (p.strip() for p in name.split(",", 1))
        return first, last
    first, _, last = name.rpartition(" ")
    return (first, last) if first else ("", last)


def read_roster(path):
    """([{id, first_name, last_name, email, lms_user_id, sis_user_id, section}], [problem lines])."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows:
        return [], [f"{path}: empty file"]
    cols = columns(rows[0])
    if "id" not in cols:
        return [], [f"{path}: no student id column (expected one of id, student_id, username, SIS Login ID)"]
    students, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        get = {f: (row[i].strip() if i < len(row) else "") for f, i in cols.items()}
        if not any(row) or get.get("name", "").strip().lower() == "points possible":
            continue
        sid = get["id"]
        if not valid_id(sid):
            problems.append(f"line {line}: student id {shown(sid)!r} is not a plain name; skipped")
            continue
        first, last = get.get("first_name", ""), get.get("last_name", "")
        if not (first or last) and get.get("name"):
            first, last = split_name(get["name"])
        students.append({"id": sid, "first_name": first, "last_name": last, "email": get.get("email", ""),
                         "lms_user_id": get.get("lms_user_id", ""), "sis_user_id": get.get("sis_user_id", ""),
                         "section": get.get("section", "")})
    return students, problems


def import_roster(course, students):
    """Create or update every student in the gradebook; returns (added, updated)."""
    from nbgrader.api import MissingEntry
    course = course if isinstance(course, Course) else Course(course)
    added = updated = 0
    with course.gradebook() as gb:
        for s in students:
            try:
                gb.find_student(s["id"])
                updated += 1
            except MissingEntry:
                added += 1
            # only what the roster has: a column it lacks leaves the gradebook's value alone
            fields = {k: s[k] for k in ("first_name", "last_name", "email", "lms_user_id") if s[k]}
            gb.update_or_create_student(s["id"], **fields)
    lms = read_lms(course.root)
    for s in students:
        lms[s["id"]] = {"sis_user_id": s["sis_user_id"], "section": s["section"]}
    (course.root / LMS_FILE).write_text(json.dumps(lms, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return added, updated


def read_lms(course_root):
    try:
        data = json.loads((Path(course_root) / LMS_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def lms_fields(course_root):
    """({student: SIS user id}, {student: section}) kept from the last roster imports."""
    lms = read_lms(course_root)
    return ({s: str(v.get("sis_user_id", "")) for s, v in lms.items() if isinstance(v, dict)},
            {s: str(v.get("section", "")) for s, v in lms.items() if isinstance(v, dict)})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="the roster CSV")
    parser.add_argument("--course", type=Path, default=COURSE)
    args = parser.parse_args(argv)
    quiet()
    venv_on_path()  # nbgrader runs alembic to create a new gradebook
    course = Course(args.course)
    print(f"gradebook: {safe_url(course.db_url)}")
    students, problems = read_roster(args.file)
    for p in problems:
        print(f"roster: {p}", file=sys.stderr)
    if not students:
        print("roster: no student imported", file=sys.stderr)
        return 1
    added, updated = import_roster(course, students)
    print(f"roster: {added} student(s) added, {updated} updated, {len(problems)} row(s) skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
