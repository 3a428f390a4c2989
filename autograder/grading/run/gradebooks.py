"""Scratch gradebooks for the workers, and the one writer to the main gradebook.

- `seed_gradebook`: the assignment structure of the main gradebook (never a
  submission) copied into a new SQLite file, which every worker copies.
- `submission_data`: what autograde wrote for one submission in a scratch
  gradebook, as plain data (a worker sends it to the parent).
- `merge`: the parent alone writes those grades into the main gradebook
  (SQLite or PostgreSQL), in one transaction per batch, and returns the
  scores it wrote.
"""
from __future__ import annotations

import warnings

# Tables that describe the assignments (copied into every scratch gradebook),
# parents before children. Submissions and students are never copied.
STRUCTURE_TABLES = ("course", "assignment", "notebook", "base_cell", "source_cell",
                    "grade_cells", "solution_cells", "task_cells")


def seed_gradebook(main_url, seed_path):
    """Copy the assignment structure (not one submission) of the main gradebook into a new SQLite file."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, text
    src = create_engine(main_url, future=True)
    dst = create_engine(f"sqlite:///{seed_path}", future=True)
    try:
        Base.metadata.create_all(dst)
        tables = Base.metadata.tables
        with src.connect() as s, dst.begin() as d:
            version = s.execute(text("SELECT version_num FROM alembic_version")).scalar()
            d.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            d.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
            for name in STRUCTURE_TABLES:
                rows = [dict(r) for r in s.execute(tables[name].select()).mappings()]
                if rows:
                    d.execute(tables[name].insert(), rows)
    finally:
        src.dispose()
        dst.dispose()


def submission_data(gb, assignment, student):
    """What autograde wrote for one submission, as plain data."""
    sub = gb.find_submission(assignment, student)
    data = {"timestamp": sub.timestamp.isoformat() if sub.timestamp else None, "notebooks": {}}
    for nb in sub.notebooks:
        data["notebooks"][nb.name] = {
            "late_submission_penalty": nb.late_submission_penalty,
            "grades": {g.name: [g.auto_score, bool(g.needs_manual_grade)] for g in nb.grades},
            "comments": {c.name: c.auto_comment for c in nb.comments},
        }
    return data


def merge(gb, results):
    """Write graded results into the main gradebook `gb` (one transaction). Parent only.

    Returns {(student, assignment): (score, max_score)} for every result merged,
    as the gradebook computes them from the rows just written.
    """
    from sqlalchemy.exc import SAWarning
    with warnings.catch_warnings():
        # nbgrader's add_submission builds rows under autoflush; SQLAlchemy 2 warns, the rows are right
        warnings.simplefilter("ignore", SAWarning)
        written = [_merge_one(gb, res.student, res.assignment, res.data) for res in results if res.data]
    gb.db.commit()  # and expires the session, so the scores below are read fresh
    return {(sub.student.id, sub.assignment.name): (sub.score, sub.max_score) for sub in written}


def _merge_one(gb, student, assignment, data):
    from nbgrader.api import MissingEntry
    try:
        gb.find_student(student)
    except MissingEntry:
        gb.update_or_create_student(student)
    if data["timestamp"]:
        sub = gb.update_or_create_submission(assignment, student, timestamp=data["timestamp"])
    else:
        sub = gb.update_or_create_submission(assignment, student)
    for nb in sub.notebooks:
        nbdata = data["notebooks"].get(nb.name)
        if nbdata is None:
            continue
        nb.late_submission_penalty = nbdata["late_submission_penalty"]
        for g in nb.grades:
            if g.name in nbdata["grades"]:
                auto, needs = nbdata["grades"][g.name]
                g.auto_score = auto
                # as SaveAutoGrades would decide it in the main gradebook
                g.needs_manual_grade = bool(needs or g.manual_score is not None)
        for c in nb.comments:
            if c.name in nbdata["comments"]:
                c.auto_comment = nbdata["comments"][c.name]
    return sub
