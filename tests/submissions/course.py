"""A temporary copy of the course, graded by the real commands (as subprocesses).

Only what grading needs is copied (the nbgrader course without its generated
folders, and the solutions package), so the tests never touch the work tree's
gradebook or submissions.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ("activations", "convolution", "pooling")
GENERATED = ("release", "submitted", "autograded", "feedback", "gradebook.db", "grades.csv", "report", ".scratch")


def copy_course(dest):
    """dest/repo with autograder/ (sources and code only) and solutions/; returns dest/repo."""
    repo = Path(dest) / "repo"
    ignore = shutil.ignore_patterns("__pycache__", *GENERATED)
    shutil.copytree(ROOT / "autograder", repo / "autograder", ignore=ignore)
    shutil.copytree(ROOT / "solutions", repo / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    return repo


def make_course(where, settings=""):
    """where/autograder laid out as this repository's course; returns it.

    Its nbgrader_config.py is the course's own with `settings` (config lines) appended,
    source/ is a copy, and the code the config imports is linked, not copied: the
    package's __init__.py beside grading/ -> autograder/grading and ../solutions ->
    solutions, so plain `nbgrader` run in the folder grades with the work tree's code.
    """
    course = Path(where) / "autograder"
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text((ROOT / "autograder" / "nbgrader_config.py").read_text() + settings)
    shutil.copytree(ROOT / "autograder" / "source", course / "source")
    shutil.copy(ROOT / "autograder" / "__init__.py", course / "__init__.py")
    (course / "grading").symlink_to(ROOT / "autograder" / "grading")
    (course.parent / "solutions").symlink_to(ROOT / "solutions")
    return course


def run(repo, module, *args, check=True):
    """python -m <module> args, from the copy's root; returns the CompletedProcess."""
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=repo, capture_output=True, text=True,
                          timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"{module} {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def release(repo):
    return run(repo, "autograder.grading.run.release")


def submit(repo, student, assignment, nb):
    """Place a notebook (dict) where nbgrader expects a collected submission."""
    folder = repo / "autograder" / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{assignment}.ipynb").write_text(json.dumps(nb))


def source_notebook(assignment):
    return json.loads((ROOT / "autograder" / "source" / assignment / f"{assignment}.ipynb").read_text())


def release_notebook(repo, assignment):
    return json.loads((repo / "autograder" / "release" / assignment / f"{assignment}.ipynb").read_text())


def grades(repo):
    """{(student, assignment): {grade_id: (score, max_score)}} from the copy's gradebook."""
    out = {}
    with Gradebook(f"sqlite:///{repo / 'autograder' / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                cells = {}
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        cells[grade.name] = (grade.score, grade.max_score)
                out[(submission.student.id, assignment.name)] = cells
    return out


def lost(cells):
    """The graded functions that lost points: {function} from {grade_id: (score, max)}."""
    return {gid.split("__")[0] for gid, (score, top) in cells.items() if score < top}


def _text(value):
    """nbformat may store multi-line text as a list of lines."""
    return "".join(value) if isinstance(value, list) else value


def autograded_outputs(repo, student, assignment):
    """{grade_id: text of the cell's outputs} of an autograded notebook."""
    nb = json.loads((repo / "autograder" / "autograded" / student / assignment / f"{assignment}.ipynb").read_text())
    out = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            out[meta["grade_id"]] = "\n".join(_text(o.get("text", "")) + _text(o.get("evalue", ""))
                                              for o in cell.get("outputs", []))
    return out
