"""`make release`: write the student versions of every assignment into autograder/release/.

    python -m autograder.grading.run.release [--course autograder] [assignment ...]

Runs nbgrader's generate_assignment (with the course's nbgrader_config.py),
creating each assignment in the gradebook as needed, for the assignments of the
course config (c.Semester.assignments), then writes their due dates into the
gradebook (grading/pages/late.py). Safe to rerun: a released folder is replaced only
by a complete new one. Once submissions exist, nbgrader refuses to add or
remove graded cells ("Cannot add or remove cells"): then nothing changes, and
the message says what to do instead. Equivalent to `nbgrader
generate_assignment NAME --force` run in autograder/.
"""
import argparse
import shutil
import sys
from pathlib import Path

from nbgrader.converters import GenerateAssignment

from ..course import ASSIGNMENTS, COURSE, Course, load_config, quiet, safe_url, venv_on_path
from ..pages import late

__all__ = ["ASSIGNMENTS", "COURSE", "load_config", "quiet", "venv_on_path", "release", "main"]


def cell_ids(path):
    """The grade_ids nbgrader records for a source notebook (every cell with nbgrader metadata)."""
    import json
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"] for c in cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")}


def refused(course, assignment):
    """Why nbgrader would refuse to regenerate `assignment` ("" if it would not): the source adds or
    removes graded cells while submissions are recorded against the old ones."""
    from nbgrader.api import MissingEntry
    source = course.source_notebook(assignment)
    with course.gradebook() as gb:
        try:
            nb = gb.find_notebook(assignment, assignment)
        except MissingEntry:
            return ""
        if not nb.submissions:
            return ""
        old, count = {c.name for c in nb.source_cells}, len(nb.submissions)
    new = cell_ids(source)
    if new == old:
        return ""
    added, removed = sorted(new - old), sorted(old - new)
    return (f"{assignment}: not released again. {count} submission(s) are recorded against its current cells, and "
            f"the source {'adds ' + ', '.join(added) if added else ''}{' and ' if added and removed else ''}"
            f"{'removes ' + ', '.join(removed) if removed else ''} (nbgrader: \"Cannot add or remove cells\"). "
            f"release/{assignment}/ is unchanged. To go on: change only the text inside existing cells; or put the "
            f"new cells into an assignment nobody has submitted yet (a new folder source/<name>/ listed in "
            f"c.Semester.assignments); or, if the recorded grades of {assignment} may go, remove them first "
            f"(`nbgrader db assignment remove {assignment} --force` in autograder/), release, then regrade.")


def release(course=COURSE, assignments=None):
    """Release each assignment (default: the course config's); returns the names nbgrader refused."""
    course = course if isinstance(course, Course) else Course(course)
    print(f"gradebook: {safe_url(course.db_url)}")
    refusals = []
    for assignment in assignments or course.assignments:
        why = refused(course, assignment)
        if why:
            print(f"release: {why}", file=sys.stderr)
            refusals.append(assignment)
            continue
        folder = course.released(assignment)
        kept = folder.parent / f".{assignment}.previous"  # nbgrader --force deletes the folder first
        shutil.rmtree(kept, ignore_errors=True)
        if folder.is_dir():
            folder.rename(kept)
        try:
            course.run(GenerateAssignment, assignment, force=True, create_assignment=True)
        except BaseException:
            if kept.is_dir():  # put the previous release back
                shutil.rmtree(folder, ignore_errors=True)
                kept.rename(folder)
            raise
        shutil.rmtree(kept, ignore_errors=True)
        print(f"released {folder / (assignment + '.ipynb')}")
    for line in late.apply_due_dates(course, assignments or course.assignments):
        print(line)
    return refusals


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("assignments", nargs="*", help="default: the course config's c.Semester.assignments")
    args = parser.parse_args(argv)
    quiet()
    venv_on_path()
    from ..permissions import refuse_if_exposed  # course data no student can read (permissions.py)
    refuse_if_exposed(Course(args.course), "make release")
    return 1 if release(Course(args.course), args.assignments or None) else 0


if __name__ == "__main__":
    sys.exit(main())
