"""Classify submitted notebooks before nbgrader reads them.

nbgrader stops on a notebook it cannot parse (and a huge one is read whole
into memory first), so every submitted folder is checked here, cheaply and in
a fixed order, and a notebook that cannot be graded gets:

- a `Problem` (student, assignment, notebook, kind, message);
- a score of 0: the grading run skips that (student, assignment) for nbgrader
  and `record_zero` adds the submission to the gradebook, so every grade row
  exists and the export shows the 0;
- a feedback page `feedback/<student>/<assignment>/<notebook>.html` that says
  what is wrong and how to fix it (`write_feedback`);
- a line in the grading summary (`summary_lines`) and a JSON record
  `precheck.json` in the course folder (`write_report`) that reports can read.

Kinds, in the order they are tested:
    missing        no `<assignment>.ipynb` (and no other notebook) in the folder
    misnamed       no `<assignment>.ipynb`, but other `*.ipynb` files are there
    too_large      larger than MAX_BYTES (checked with stat, before reading)
    empty          0 bytes, or only whitespace
    not_utf8       bytes that are not UTF-8 text
    invalid_json   not parseable as JSON
    not_notebook   JSON, but not an nbformat-4 notebook (or fails its schema)
    unsafe_file    the folder holds a symbolic link or a special file (checked first)

Problems nbgrader itself repairs (deleted, duplicated, reordered or retyped
cells, edited or deleted test cells, another kernel name) are not errors here:
its sanitizing preprocessors restore them from the source notebook.
"""
from __future__ import annotations

import html
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

MAX_BYTES = 50 * 1024 * 1024

FIX = {
    "missing": "Submit your notebook, named exactly as released, in the assignment folder.",
    "misnamed": "Rename your notebook to the released name (do not rename the file) and submit again.",
    "too_large": "Clear all outputs (Kernel > Restart & Clear Output), save, and submit again.",
    "empty": "The file is empty: save the notebook in Jupyter before submitting it.",
    "not_utf8": "The file is not UTF-8 text: save it from Jupyter rather than editing it elsewhere.",
    "invalid_json": "The file is not a valid notebook (broken JSON): save it from Jupyter, "
                    "or download the release again and copy your code into it.",
    "not_notebook": "The file is not a Jupyter notebook in nbformat 4: download the release "
                    "again and copy your code into it.",
    "unsafe_file": "Submit plain files only: remove symbolic links and special files from the "
                   "assignment folder and submit again.",
}


@dataclass
class Problem:
    student: str
    assignment: str
    notebook: str          # the notebook's expected file name, e.g. "pooling.ipynb"
    kind: str
    message: str

    @property
    def fix(self):
        return FIX.get(self.kind, "")


def _size(n):
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n} bytes"


def check_file(path, max_bytes=MAX_BYTES):
    """(kind, message) for a notebook file that cannot be graded, or None if it can be read."""
    path = Path(path)
    try:
        size = os.stat(path).st_size
    except OSError as e:
        return "missing", f"{path.name} cannot be opened ({e.strerror})"
    if not path.is_file():
        return "not_notebook", f"{path.name} is not a regular file"
    if size > max_bytes:
        return "too_large", (f"{path.name} is {_size(size)}, more than the "
                             f"{_size(max_bytes)} a notebook may have; it was not read")
    raw = path.read_bytes()
    if not raw.strip():
        return "empty", f"{path.name} is empty ({size} bytes)"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return "not_utf8", f"{path.name} is not UTF-8 text (byte {e.start}: {raw[e.start:e.start + 1]!r})"
    try:
        data = json.loads(text)
    except ValueError as e:
        return "invalid_json", f"{path.name} is not valid JSON: {e}"
    problem = _notebook_problem(data)
    if problem:
        return "not_notebook", f"{path.name} is not an nbformat-4 notebook: {problem}"
    return None


def _notebook_problem(data):
    if not isinstance(data, dict):
        return f"the top level is a JSON {type(data).__name__}, not an object"
    if data.get("nbformat") != 4:
        return f"nbformat is {data.get('nbformat')!r}, not 4"
    cells = data.get("cells")
    if not isinstance(cells, list):
        return "it has no list of cells"
    if not isinstance(data.get("metadata", {}), dict):
        return "its metadata is not an object"
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict):
            return f"cell {i} is not an object"
        if cell.get("cell_type") not in ("code", "markdown", "raw"):
            return f"cell {i} has cell_type {cell.get('cell_type')!r}"
        src = cell.get("source", "")
        if not (isinstance(src, str) or (isinstance(src, list) and all(isinstance(s, str) for s in src))):
            return f"cell {i} has a source that is not text"
        if not isinstance(cell.get("metadata", {}), dict):
            return f"cell {i} has metadata that is not an object"
    try:
        import warnings
        import nbformat
        from nbformat.validator import normalize
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, repaired = normalize(data, version=4, version_minor=data.get("nbformat_minor", 4))
            nb = nbformat.from_dict(repaired)
            nbformat.validate(nb)
    except Exception as e:  # nbformat's ValidationError, or anything the repair trips on
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return f"it fails the notebook schema ({first[:300]})"
    return None


def check_submission(folder, student, assignment, notebooks=None, max_bytes=MAX_BYTES):
    """Problems of one submitted folder `submitted/<student>/<assignment>/`.

    notebooks: the file names the assignment expects (default `<assignment>.ipynb`).
    """
    folder = Path(folder)
    expected = list(notebooks or [f"{assignment}.ipynb"])
    problems = []
    # nbgrader copies a submission's files as root, following symbolic links:
    # a link to solutions/ or the gradebook would land inside the sandbox, and
    # a FIFO would hang the copy. Such a folder is not graded.
    odd = _unsafe_entries(folder)
    if odd:
        return [Problem(student, assignment, expected[0], "unsafe_file",
                        f"the folder holds {', '.join(odd[:5])}" + (" ..." if len(odd) > 5 else ""))]
    present = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    for name in expected:
        path = folder / name
        if not path.exists() and not path.is_symlink():
            others = [p for p in present if p not in expected]
            if others:
                problems.append(Problem(student, assignment, name, "misnamed",
                                        f"expected {name}, found {', '.join(others)} instead"))
            else:
                problems.append(Problem(student, assignment, name, "missing",
                                        f"no {name} in the submission"))
            continue
        if path.is_symlink():
            problems.append(Problem(student, assignment, name, "not_notebook",
                                    f"{name} is a symbolic link, not a file"))
            continue
        found = check_file(path, max_bytes)
        if found:
            problems.append(Problem(student, assignment, name, *found))
    return problems


def _unsafe_entries(folder):
    """Symbolic links and special files (FIFOs, sockets, devices) under folder, described."""
    import stat
    found = []
    if not folder.is_dir():
        return found
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            mode = os.lstat(path).st_mode
            rel = path.relative_to(folder)
            if stat.S_ISLNK(mode):
                found.append(f"a symbolic link {rel}")
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                found.append(f"a special file {rel}")
    return sorted(found)


def check_course(course, assignments=None, max_bytes=MAX_BYTES):
    """Problems of every folder under `<course>/submitted/<student>/<assignment>/`."""
    course = Path(course)
    problems = []
    root = course / "submitted"
    if not root.is_dir():
        return problems
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for assign_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            if assignments is not None and assign_dir.name not in assignments:
                continue
            problems += check_submission(assign_dir, student_dir.name, assign_dir.name,
                                         max_bytes=max_bytes)
    return problems


# ---- how a problem reaches the student, the gradebook and the summary ----

def feedback_html(problem):
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(problem.assignment)}: not graded</title>
<style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}}
.box{{border:2px solid #b00;border-radius:6px;padding:1em 1.5em;background:#fff5f5}}</style>
</head><body>
<h1>{e(problem.assignment)}: your notebook could not be graded</h1>
<div class="box">
<p><strong>Student:</strong> {e(problem.student)}<br>
<strong>Notebook:</strong> {e(problem.notebook)}<br>
<strong>Problem ({e(problem.kind)}):</strong> {e(problem.message)}</p>
<p><strong>Score:</strong> 0 for this notebook.</p>
<p><strong>How to fix it:</strong> {e(problem.fix)}</p>
</div></body></html>
"""


def write_feedback(course, problem):
    """Write the student's feedback page for a notebook that could not be graded."""
    out = Path(course) / "feedback" / problem.student / problem.assignment
    out.mkdir(parents=True, exist_ok=True)
    path = out / (Path(problem.notebook).stem + ".html")
    path.write_text(feedback_html(problem), encoding="utf-8")
    return path


def write_report(course, problems, name="precheck.json"):
    """The machine-readable record of this run's problems (read by summaries and reports)."""
    path = Path(course) / name
    path.write_text(json.dumps([asdict(p) for p in problems], indent=1) + "\n", encoding="utf-8")
    return path


def read_report(course, name="precheck.json"):
    path = Path(course) / name
    if not path.exists():
        return []
    return [Problem(**d) for d in json.loads(path.read_text(encoding="utf-8"))]


def summary_lines(problems):
    """Lines for the grading summary: one per notebook that scored 0 without being run."""
    if not problems:
        return []
    lines = [f"{len(problems)} notebook(s) could not be graded (score 0, feedback explains why):"]
    for p in problems:
        lines.append(f"  {p.student}/{p.assignment}/{p.notebook}: {p.kind}: {p.message}")
    return lines


def record_zero(gradebook_url, student, assignment):
    """Make sure the gradebook has this submission (every grade row present, scores 0).

    Call it from the single process that writes the gradebook. Returns the
    nbgrader Submission's total score (0 unless it had been graded before;
    a regrade after a fix overwrites it through nbgrader as usual).
    """
    from nbgrader.api import Gradebook, MissingEntry
    with Gradebook(gradebook_url) as gb:
        try:
            gb.find_student(student)
        except MissingEntry:
            gb.add_student(student)
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            sub = gb.add_submission(assignment, student)
        else:  # graded before: what was graded then is not what is submitted now
            for nb in sub.notebooks:
                for grade in nb.grades:
                    grade.auto_score = 0 if grade.auto_score is not None or grade.cell.cell_type == "code" else None
                    grade.manual_score = None
            gb.db.commit()
        return sub.score


# ---- closing gaps in nbgrader's own sanitizing (used from nbgrader_config.py) ----

from nbgrader.preprocessors import DeduplicateIds as _DeduplicateIds  # noqa: E402


class SafeDeduplicateIds(_DeduplicateIds):
    """nbgrader's DeduplicateIds, minus its crash.

    nbgrader empties the duplicate's `nbgrader` metadata (`{}`), which its own
    schema check then rejects as "an old version of the nbgrader metadata
    format", failing the whole submission. Here the duplicate simply stops
    being an nbgrader cell: the first copy is graded as usual.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if "nbgrader" in cell.metadata and not cell.metadata["nbgrader"]:
            del cell.metadata["nbgrader"]
        return cell, resources
