"""`make release`: write the student versions of every assignment into autograder/release/.

    python -m autograder.grading.release [--course autograder] [assignment ...]

Runs nbgrader's generate_assignment (with the course's nbgrader_config.py),
creating each assignment in the gradebook as needed; --force semantics, so it
is safe to rerun. Equivalent to `nbgrader generate_assignment NAME --force`
run in autograder/.
"""
import argparse
import sys
from pathlib import Path

from nbgrader.converters import GenerateAssignment

from .course import ASSIGNMENTS, COURSE, Course, load_config, quiet, venv_on_path

__all__ = ["ASSIGNMENTS", "COURSE", "load_config", "quiet", "venv_on_path", "release", "main"]


def release(course=COURSE, assignments=ASSIGNMENTS):
    course = course if isinstance(course, Course) else Course(course)
    for assignment in assignments:
        course.run(GenerateAssignment, assignment, force=True, create_assignment=True)
        print(f"released {course.root / 'release' / assignment / (assignment + '.ipynb')}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS))
    args = parser.parse_args(argv)
    quiet()
    venv_on_path()
    from .permissions import refuse_if_exposed  # course data no student can read (permissions.py)
    refuse_if_exposed(Course(args.course), "make release")
    release(Course(args.course), args.assignments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
