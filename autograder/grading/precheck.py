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
    too_big_folder the folder holds more files, deeper folders or more bytes than
                   any honest submission (FOLDER_LIMITS; checked first, without recursion)
    too_many_cells more cells than any honest notebook (MAX_CELLS)
    bad_id         the student id is not a plain name (ID_PATTERN): never graded,
                   never put in the gradebook, reported to the instructor

Everything a student chose (ids, file names, messages that quote them) is
shown through `shown()`, which escapes control characters and undecodable
bytes, so no summary line can drive the instructor's terminal and no page
write can fail on a file name.

Problems nbgrader itself repairs (deleted, duplicated, reordered or retyped
cells, edited or deleted test cells, another kernel name) are not errors here:
its sanitizing preprocessors restore them from the source notebook.
"""
from __future__ import annotations

import html
import json
import os
import re
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from . import limits
from .course import as_course

MAX_BYTES = limits.NOTEBOOK_BYTES
MAX_CELLS = limits.MAX_CELLS
# A submitted folder: at most this many entries, this deep, this many bytes in all
# (apparent size: a sparse file is as big as it claims, since copies make it real).
FOLDER_LIMITS = {"entries": limits.FOLDER_ENTRIES, "depth": limits.FOLDER_DEPTH, "bytes": limits.FOLDER_BYTES}
# Student ids nbgrader can use safely: no glob characters, separators, spaces or control characters.
# (never starting with "_" or ".": no id names a hidden or private-looking folder)
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}")

FIX = {
    "missing": "Submit your notebook, named exactly as released, in the assignment folder.",
    "misnamed": "Save your notebook under the released name (in Jupyter: File > Rename) and submit again.",
    "too_large": "Clear all outputs (Kernel > Restart & Clear Output), save, and submit again.",
    "empty": "The file is empty: save the notebook in Jupyter before submitting it.",
    "not_utf8": "The file is not UTF-8 text: save it from Jupyter rather than editing it elsewhere.",
    "invalid_json": "The file is not a valid notebook (broken JSON): save it from Jupyter, "
                    "or download the release again and copy your code into it.",
    "not_notebook": "The file is not a Jupyter notebook in nbformat 4: download the release "
                    "again and copy your code into it.",
    "unsafe_file": "Submit plain files only: remove symbolic links and special files from the "
                   "assignment folder and submit again.",
    "too_big_folder": "Submit only the notebook and the files released with it, and submit again.",
    "too_many_cells": "Submit the released notebook with your answers, without thousands of extra cells.",
    "bad_id": "Your instructor must rename the submission folder to a plain student id "
              "(a letter or digit, then letters, digits, _ . @ + -).",
}


def shown(text, limit=300):
    """Text a student chose, safe to print or write: control characters and undecodable bytes escaped."""
    text = str(text).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    text = "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)
    return text if len(text) <= limit else text[:limit] + "..."


def valid_id(student):
    """True for a student id that is a plain name (see ID_PATTERN)."""
    return bool(ID_PATTERN.fullmatch(student))


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
        return "not_notebook", f"{shown(path.name)} is not an nbformat-4 notebook: {problem}"
    if len(data["cells"]) > MAX_CELLS:
        return "too_many_cells", (f"{shown(path.name)} has {len(data['cells'])} cells, more than the "
                                  f"{MAX_CELLS} a notebook may have; it was not run")
    return None


def _notebook_problem(data):
    if not isinstance(data, dict):
        return f"the top level is a JSON {type(data).__name__}, not an object"
    if data.get("nbformat") != 4:
        return f"nbformat is {data.get('nbformat')!r}, not 4"
    cells = data.get("cells")
    if isinstance(cells, list) and len(cells) > MAX_CELLS:
        return None  # counted by check_file; the schema check would take minutes
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


# A browser saves a second download as "convolution (1).ipynb", Jupyter a copy as "convolution-Copy1.ipynb".
RENAMED = r"{stem}(?: ?\(\d+\)|-Copy\d*)\.ipynb"


def accept_renamed(folder, assignment):
    """Give a browser-renamed notebook its released name, when it is the folder's only notebook.

    Returns the name it was submitted as, or None (nothing renamed). Only a regular file
    (never a link) is renamed, within its folder, and only when the released name is free.
    """
    folder, expected = Path(folder), f"{assignment}.ipynb"
    if folder.is_symlink() or folder.parent.is_symlink() or not folder.is_dir() or os.path.lexists(folder / expected):
        return None
    found = []
    for k, entry in enumerate(os.scandir(folder)):
        if k > FOLDER_LIMITS["entries"]:
            return None  # too big a folder: check_submission says so
        if entry.name.endswith(".ipynb"):
            found.append(entry)
    if len(found) != 1 or not re.fullmatch(RENAMED.format(stem=re.escape(assignment)), found[0].name) \
            or not stat.S_ISREG(found[0].stat(follow_symlinks=False).st_mode):
        return None
    os.rename(found[0].path, folder / expected)
    return found[0].name


def check_submission(folder, student, assignment, notebooks=None, max_bytes=MAX_BYTES):
    """Problems of one submitted folder `submitted/<student>/<assignment>/`.

    notebooks: the file names the assignment expects (default `<assignment>.ipynb`).
    """
    folder = Path(folder)
    expected = list(notebooks or [f"{assignment}.ipynb"])
    if not valid_id(student):
        return [Problem(shown(student), assignment, expected[0], "bad_id",
                        f"the student id {shown(student)!r} is not a plain name: nbgrader would read it "
                        "as a pattern and grade other students' notebooks under it")]
    if folder.is_symlink() or folder.parent.is_symlink():
        return [Problem(student, assignment, expected[0], "unsafe_file",
                        "the student's or the assignment's folder is a symbolic link")]
    # nbgrader copies a submission's files as root, following symbolic links:
    # a link to solutions/ or the gradebook would land inside the sandbox, and
    # a FIFO would hang the copy. Such a folder is not graded; nor is one too
    # big to copy (a sparse file becomes real bytes in every copy).
    odd, too_big = _unsafe_entries(folder)
    if odd:
        return [Problem(student, assignment, expected[0], "unsafe_file",
                        f"the folder holds {', '.join(odd[:5])}" + (" ..." if len(odd) > 5 else ""))]
    if too_big:
        return [Problem(student, assignment, expected[0], "too_big_folder", too_big)]
    present = sorted(p.name for p in folder.glob("*.ipynb")) if folder.is_dir() else []
    for name in expected:
        path = folder / name
        if not path.exists() and not path.is_symlink():
            others = [p for p in present if p not in expected]
            if others:
                return [Problem(student, assignment, name, "misnamed",
                                f"expected {name}, found {', '.join(shown(o) for o in others[:5])} instead")]
            return [Problem(student, assignment, name, "missing", f"no {name} in the submission")]
        found = check_file(path, max_bytes)
        if found:
            return [Problem(student, assignment, name, *found)]
    return []


def _unsafe_entries(folder):
    """(links and special files under folder, described; why the folder is too big or "").

    Iterative (no recursion limit), never follows a link, and stops looking as
    soon as the folder is over FOLDER_LIMITS.
    """
    found = []
    if not folder.is_dir():
        return found, ""
    entries, total, stack = 0, 0, [(folder, 0)]
    while stack:
        top, depth = stack.pop()
        if depth > FOLDER_LIMITS["depth"]:
            return found, f"its folders are nested more than {FOLDER_LIMITS['depth']} deep"
        try:
            listing = sorted(os.scandir(top), key=lambda e: e.name)
        except OSError as e:
            return found, f"a folder could not be read ({e.strerror})"
        for entry in listing:
            entries += 1
            if entries > FOLDER_LIMITS["entries"]:
                return found, f"it holds more than {FOLDER_LIMITS['entries']} files and folders"
            mode = entry.stat(follow_symlinks=False).st_mode
            rel = shown(os.path.relpath(entry.path, folder))
            if stat.S_ISLNK(mode):
                found.append(f"a symbolic link {rel}")
            elif stat.S_ISDIR(mode):
                stack.append((entry.path, depth + 1))
            elif stat.S_ISREG(mode):
                total += entry.stat(follow_symlinks=False).st_size
                if total > FOLDER_LIMITS["bytes"]:
                    return found, f"its files add up to more than {FOLDER_LIMITS['bytes'] // 2**20} MB"
            else:
                found.append(f"a special file {rel}")
    return sorted(found), ""


def check_course(course, assignments=None, shard=(1, 1), max_bytes=MAX_BYTES):
    """Problems of every submission `Course.discover` finds (the one rule for which folders are submissions).

    course: a Course or its folder; assignments, shard: as for `Course.discover`.
    """
    course = as_course(course)
    return [problem for student, assignment in course.discover(assignments, shard)
            for problem in check_submission(course.submission(student, assignment), student, assignment,
                                            max_bytes=max_bytes)]


# ---- how a problem reaches the student, the gradebook and the summary ----

def feedback_html(problem):
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
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
    if problem.kind == "bad_id":  # no folder is made from a name that is not an id
        return None
    out = as_course(course).feedback(problem.student, problem.assignment)
    out.mkdir(parents=True, exist_ok=True)
    path = out / (Path(problem.notebook).stem + ".html")
    path.write_text(feedback_html(problem), encoding="utf-8", errors="backslashreplace")
    return path


def write_report(course, problems, name="precheck.json"):
    """The machine-readable record of this run's problems (read by summaries and reports)."""
    path = Path(course) / name
    path.write_text(json.dumps([asdict(p) for p in problems], indent=1) + "\n", encoding="utf-8")
    return path


def read_report(course, name="precheck.json"):
    """The problems `write_report` recorded ([] when there is no record): the one reader of precheck*.json
    (the cluster's merge, report.py). A record that is not that list raises ValueError or TypeError."""
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
        lines.append(f"  {shown(p.student)}/{shown(p.assignment)}/{shown(p.notebook)}: {p.kind}: {shown(p.message)}")
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
        # New, or graded before (what was graded then is not what is submitted now): the same
        # rows either way, so a regrade of the same broken folder changes nothing.
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
