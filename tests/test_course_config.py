"""The course config finds the protected grading package wherever the course folder is, or refuses.

`make setup` installs the repository editable into .venv/ (pyproject.toml), so
plain `nbgrader` run from a copy of autograder/ outside the checkout still
grades with the judge; where `autograder.grading` cannot be imported, every
nbgrader converter stops with a message saying so instead of quietly falling
back to stock, unprotected nbgrader.

    flock /tmp/grade.lock .venv/bin/python -m pytest -n 0 tests/test_course_config.py
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT

NBGRADER = Path(sys.executable).parent / "nbgrader"
GENERATED = ("release", "submitted", "autograded", "feedback", "gradebook.db", "grades.csv", "report", ".scratch",
             "exchange", "precheck.json", "__pycache__", "grading")

# nbgrader's own command line, in a Python where no module of the `autograder` package can be imported
BLOCKED_NBGRADER = """
import sys
class NoAutograder:
    def find_spec(self, name, path=None, target=None):
        if name == "autograder" or name.startswith("autograder."):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
sys.meta_path.insert(0, NoAutograder())
from nbgrader.apps.nbgraderapp import main
sys.argv = ["nbgrader", *sys.argv[1:]]
main()
"""


def copy_course(dest):
    """autograder/ without its code and generated folders, alone in `dest` (no repository around it)."""
    course = Path(dest) / "course"
    shutil.copytree(ROOT / "autograder", course, ignore=shutil.ignore_patterns(*GENERATED))
    return course


def nbgrader(course, *args, blocked=False):
    cmd = [sys.executable, "-c", BLOCKED_NBGRADER, *args] if blocked else [str(NBGRADER), *args]
    return subprocess.run(cmd, cwd=course, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_a_course_copied_out_of_the_checkout_grades_protected(tmp_path):
    course = copy_course(tmp_path)
    assert not (course / "grading").exists() and not (tmp_path / "solutions").exists()
    proc = nbgrader(course, "generate_assignment", "activations", "--force")
    assert proc.returncode == 0, proc.stderr[-3000:]
    student = course / "submitted" / "alice" / "activations"
    student.mkdir(parents=True)
    shutil.copy(course / "release" / "activations" / "activations.ipynb", student)
    proc = nbgrader(course, "autograde", "activations", "--force")
    assert "Exception while loading config file" not in proc.stderr, proc.stderr[-3000:]
    graded = json.loads((course / "autograded" / "alice" / "activations" / "activations.ipynb").read_text())
    tests = [c for c in graded["cells"] if c["metadata"].get("nbgrader", {}).get("grade")
             and not c["metadata"]["nbgrader"].get("solution")]
    assert tests
    # every test cell of the unanswered notebook carries the judge's verdict, not the kernel's NotImplementedError
    for cell in tests:
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        assert [o["ename"] for o in errors] == ["GradingFailure"], cell["outputs"]


def test_a_config_that_cannot_import_the_grading_package_refuses(tmp_path):
    course = copy_course(tmp_path)
    student = course / "submitted" / "alice" / "activations"
    student.mkdir(parents=True)
    shutil.copy(course / "source" / "activations" / "activations.ipynb", student)
    for args in (["generate_assignment", "activations", "--force"], ["autograde", "activations", "--force"],
                 ["generate_feedback", "activations", "--force"]):
        proc = nbgrader(course, *args, blocked=True)
        assert proc.returncode != 0, (args, proc.stderr[-3000:])
        assert "protected grading package cannot be imported" in proc.stderr
        assert "make setup" in proc.stderr
    for generated in ("release", "autograded", "feedback", "gradebook.db"):
        assert not (course / generated).exists(), generated
    # the same config, with the package importable, loads (the block above is the only difference)
    proc = subprocess.run([sys.executable, "-c", "from traitlets.config.loader import PyFileConfigLoader as L; "
                           "c = L('nbgrader_config.py', path='.').load_config(); "
                           "print(c.Autograde.autograde_preprocessors[0].__module__)"],
                          cwd=course, capture_output=True, text=True)
    assert proc.stdout.split() == ["autograder.grading.judge.execute"], proc.stderr[-3000:]
