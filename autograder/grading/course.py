"""The course being graded: its folders, its config (loaded once), its gradebook, who submitted what.

    from autograder.grading.course import Course
    course = Course(Path("autograder"))
    course.config, course.db_url, course.course_id, course.discover(shard=(1, 2))

Every step of a run (`release.py`, `grade.py`, the worker pool) receives one
`Course`, so paths, the gradebook URL and the rule that decides which
folders are submissions exist once.
"""
from __future__ import annotations

import logging
import os
import sys
from functools import cached_property
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "autograder"
ASSIGNMENTS = ("activations", "convolution", "pooling")
URL_ENV = "BTC_GRADEBOOK_URL"


def parse_shard(text):
    """'k/n' -> (k, n), 1 <= k <= n."""
    try:
        k, n = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise ValueError(f"shard must look like k/n (e.g. 2/3), got {text!r}") from None
    if not 1 <= k <= n:
        raise ValueError(f"shard {text!r}: need 1 <= k <= n")
    return k, n


def shard_of(students, shard):
    """The students of shard (k, n): every n-th of the sorted ids, starting at the k-th.

    Round-robin over the sorted ids gives every shard the same number of
    students (within one), and n machines that list the same submissions
    folder split it exactly once between them.
    """
    k, n = shard
    return sorted(students)[k - 1::n]


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


def load_config(course=COURSE):
    """The course's nbgrader_config.py, loaded as `nbgrader` loads it."""
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(Path(course).resolve())
    return config


def gradebook_url(course=COURSE, url=None, config=None):
    """Where grades go: `url`, else $BTC_GRADEBOOK_URL, else the course config's, else gradebook.db."""
    if url:
        return url
    if os.environ.get(URL_ENV):
        return os.environ[URL_ENV]
    if config is not None and "db_url" in config.CourseDirectory:
        return config.CourseDirectory.db_url
    return f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"


def course_id(config):
    return config.CourseDirectory.course_id if "course_id" in config.CourseDirectory else "default_course"


def safe_url(url):
    """A gradebook URL without its password, for logs and reports."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        return f"{scheme}://{cred.split(':')[0]}:***@{host}"
    return url


_ANNOUNCED = set()


def announce_gradebook(url, stream=None):
    """Print `gradebook: <url>` (password hidden), once per process and URL."""
    if url not in _ANNOUNCED:
        _ANNOUNCED.add(url)
        print(f"gradebook: {safe_url(url)}", file=stream or sys.stdout, flush=True)


class Course:
    """One nbgrader course folder (source/, submitted/, nbgrader_config.py, the gradebook).

    db_url: the gradebook to use instead of the usual rule (`gradebook_url`).
    """

    def __init__(self, root=COURSE, db_url=None):
        self.root = Path(root).resolve()
        self._db_url = db_url

    def __repr__(self):
        return f"Course({str(self.root)!r})"

    @cached_property
    def config(self):
        """nbgrader_config.py, loaded once per Course."""
        return load_config(self.root)

    @property
    def db_url(self):
        return gradebook_url(self.root, self._db_url, self.config)

    @property
    def course_id(self):
        return course_id(self.config)

    @property
    def assignments(self):
        """The assignments: the course config's list (c.Semester.assignments), else every folder in source/."""
        if (self.root / "nbgrader_config.py").is_file() and "assignments" in self.config.Semester:
            return [str(a) for a in self.config.Semester.assignments]
        source = self.sources
        return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []

    def discover(self, assignments=None, shard=(1, 1)):
        """Sorted (student, assignment) pairs with a folder submitted/<student>/<assignment>/.

        The one rule for every step: this shard's students (`shard_of`), dot-folders
        skipped, known assignments only. A student folder that is a symbolic link is
        kept, so that the precheck reports it instead of it silently scoring nothing.
        assignments: the names to consider (default: `self.assignments`).
        """
        known = set(self.assignments if assignments is None else assignments)
        submitted = self.submitted
        if not submitted.is_dir():
            return []
        students = [p.name for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return [(student, a_dir.name) for student in shard_of(students, shard)
                for a_dir in sorted((submitted / student).iterdir()) if a_dir.is_dir() and a_dir.name in known]

    # Every folder and file of the course is named here and only here (nbgrader's layout plus ours);
    # the other modules ask the Course instead of joining strings onto its root.
    @property
    def sources(self):
        """source/: the instructor's notebooks, one folder per assignment."""
        return self.root / "source"

    def source_notebook(self, assignment):
        return self.sources / assignment / f"{assignment}.ipynb"

    def released(self, assignment):
        """release/<assignment>/: what students get."""
        return self.root / "release" / assignment

    @property
    def submitted(self):
        return self.root / "submitted"

    def submission(self, student, assignment):
        """submitted/<student>/<assignment>/: a student's notebook folder, as collected."""
        return self.submitted / student / assignment

    def autograded(self, student, assignment):
        return self.root / "autograded" / student / assignment

    def graded_notebooks(self):
        """autograded/<student>/<assignment>/*.ipynb, sorted."""
        return sorted((self.root / "autograded").glob("*/*/*.ipynb"))

    def feedback(self, student, assignment):
        """feedback/<student>/<assignment>/: the student's feedback page."""
        return self.root / "feedback" / student / assignment

    @property
    def report_dir(self):
        """report/: the class report, run*.json and the run logs."""
        return self.root / "report"

    @property
    def grades_csv(self):
        return self.root / "grades.csv"

    def gradebook(self):
        """The main gradebook (a context manager)."""
        from nbgrader.api import Gradebook
        return Gradebook(self.db_url, self.course_id)

    def run(self, app_class, assignment, student=".", **traits):
        """Run one nbgrader converter for one assignment (and student) in this process."""
        from nbgrader.coursedir import CourseDirectory
        coursedir = CourseDirectory(config=self.config)
        coursedir.assignment_id = assignment
        coursedir.student_id = student
        app = app_class(coursedir=coursedir, config=self.config)
        for name, value in traits.items():
            setattr(app, name, value)
        app.log.setLevel(logging.WARNING)
        app.start()


def as_course(course):
    """A Course from a Course or a path."""
    return course if isinstance(course, Course) else Course(course)
