"""`make release`: write the student versions of every assignment into autograder/release/.

    python -m autograder.grading.release [--course autograder] [assignment ...]

Runs nbgrader's generate_assignment (with the course's nbgrader_config.py),
creating each assignment in the gradebook as needed; --force semantics, so it
is safe to rerun. Equivalent to `nbgrader generate_assignment NAME --force`
run in autograder/.
"""
import argparse
import logging
import os
import sys
from pathlib import Path

from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

COURSE = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("activations", "convolution", "pooling")


def load_config(course):
    """The course's nbgrader_config.py, as `nbgrader` itself would load it."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(Path(course).resolve())
    return config


def venv_on_path():
    """Use this virtualenv's tools and kernel.

    nbgrader creates the gradebook by running `alembic`, which lives beside this
    Python; and the kernel spec `python3` must be this virtualenv's (whose
    `python` jupyter_client replaces by sys.executable), not one a user installed
    in ~/.local/share/jupyter: JUPYTER_PATH comes first in the search.
    """
    for var, folder in (("PATH", Path(sys.executable).parent), ("JUPYTER_PATH", Path(sys.prefix) / "share" / "jupyter")):
        if str(folder) not in os.environ.get(var, "").split(os.pathsep):
            os.environ[var] = os.pathsep.join(filter(None, [str(folder), os.environ.get(var, "")]))


def quiet():
    """nbgrader logs every step at INFO; keep warnings and errors only."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    for name in ("traitlets", "nbgrader", "NbGraderAPI"):
        logging.getLogger(name).setLevel(logging.WARNING)


def run(app_class, config, assignment, student=".", **traits):
    """Run one nbgrader converter for one assignment (and student) in this process."""
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    coursedir.student_id = student
    app = app_class(coursedir=coursedir, config=config)
    for name, value in traits.items():
        setattr(app, name, value)
    app.log.setLevel(logging.WARNING)
    app.start()


def release(course=COURSE, assignments=ASSIGNMENTS):
    config = load_config(course)
    for assignment in assignments:
        run(GenerateAssignment, config, assignment, force=True, create_assignment=True)
        print(f"released {Path(course) / 'release' / assignment / (assignment + '.ipynb')}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS))
    args = parser.parse_args(argv)
    quiet()
    venv_on_path()
    release(args.course.resolve(), args.assignments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
