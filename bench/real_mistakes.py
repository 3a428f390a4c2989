"""How often the feedback names what is wrong, measured on real students' code kept outside the repository.

    python -m bench.real_mistakes FOLDER [--jobs 2] [--keep DIR] [--verdicts FILE] [--in-process]

FOLDER holds one `*.py` file per student (a "solution set"): any of the graded
functions of the convolution and pooling assignments (zero_pad ... pool_backward),
written as the student wrote them (the Coursera DLS C4W1 signatures this course
keeps). Nothing of a student's lives in this repository: the folder is given on
the command line.

1. Each set becomes up to two submissions: the release notebook of each
   assignment with each of the student's functions put into its answer cell
   (the whole `def`, as the student wrote it). A graded function the set lacks
   gets the reference body, so a student is measured only on what they wrote
   (and a missing helper never looks like a cascade).
2. They are graded with the real pipeline: a copy of the course
   (tests/submissions/course.py), `make release`, then `python -m
   autograder.grading.run.grade --jobs N` (sandboxed kernels, the trusted judge).
   --in-process instead runs the students' functions in this process, with no
   sandbox (tests/submissions.records, as the diagnosis tests do): quicker, for
   code you have read and trust only.
3. Per graded function the set wrote: wrong (it lost points) and which form
   its failing verdicts take:
     named     (a) a known mistake (registry key in the cell's btc_diagnosis)
     cascade   (b) it fails because a graded function it calls fails (kind "cascade")
     explained (c) an exception explained at the student's line (explain.py's "at line N of f", which only
                   the kernel's recorded frames give: never with --in-process)
     shape     (c-shape) a result of the wrong shape explained axis by axis (diagnosis kind "shape":
                   the size equation with the case's numbers, the size returned, and what it is consistent
                   with only when every case settles it); counted apart from (c), which points at a line
     values    (c-values) a result of the right shape with wrong values explained by where its wrong
                   entries are (diagnosis kind "values", diagnosis/values.py: facts from the returned and
                   expected arrays of every case)
     structure (c-structure) a result of the wrong kind explained by what it holds (kind "structure",
                   diagnosis/structure.py: a list where an array is expected, a cache of the wrong length, ...)
     signature (c-signature) a structural signature of the wrong result (kind "signature",
                   diagnosis/signatures.py: where or how it differs from the book's on a case or across
                   the failing cases), the older facts-only form for wrong values
     other     a helper note only, or nothing
   A function counts under the first form any of its failing cells has, in
   that order.

--verdicts FILE writes every failing function's verdict text (first failing
cell) as JSON lines, for reading what students would be told.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from tests.submissions import course as C  # run from the repository root

ASSIGNMENT_OF = {
    "zero_pad": "convolution", "conv_single_step": "convolution", "conv_forward": "convolution",
    "conv_backward": "convolution", "pool_forward": "pooling", "create_mask_from_window": "pooling",
    "distribute_value": "pooling", "pool_backward": "pooling",
}
FORMS = ("named", "cascade", "explained", "shape", "values", "structure", "signature", "other")
DIAGNOSIS_KEY = "btc_diagnosis"


def load_sets(folder):
    """{set name: {function: its `def` source}} for every *.py file of folder (unparsable files are skipped)."""
    sets = {}
    for path in sorted(Path(folder).glob("*.py")):
        text = path.read_text(errors="replace")
        try:
            tree = ast.parse(text)
        except SyntaxError as e:
            print(f"skipped {path.name}: {e}", file=sys.stderr)
            continue
        found = {node.name: ast.get_source_segment(text, node) for node in tree.body
                 if isinstance(node, ast.FunctionDef) and node.name in ASSIGNMENT_OF}
        if found:
            sets[path.stem] = found
    return sets


def answer_cell(nb, function):
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == function:
            return cell
    raise KeyError(function)


def build(release_nb, source_nb, functions):
    """The release notebook with each student function in its answer cell, the reference where the set has none."""
    nb = json.loads(json.dumps(release_nb))
    for cell in nb["cells"]:
        function = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if cell["metadata"].get("nbgrader", {}).get("solution") and function in ASSIGNMENT_OF:
            if function in functions:
                cell["source"] = functions[function] + "\n"
            else:
                cell["source"] = answer_cell(source_nb, function)["source"]
    return nb


def _text(value):
    return "".join(value) if isinstance(value, list) else (value or "")


def cell_results(nb):
    """[(grade_id, passed, diagnosis metadata or {}, verdict text)] of a graded notebook's test cells."""
    out = []
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        outputs = cell.get("outputs", [])
        passed = bool(outputs) and not any(o.get("output_type") == "error" for o in outputs)
        text = "\n".join(_text(o.get("text")) + _text(o.get("evalue")) for o in outputs)
        out.append((meta["grade_id"], passed, cell["metadata"].get(DIAGNOSIS_KEY) or {}, text))
    return out


EXPLAINED = re.compile(r"^  at line \d+ of \w+", re.M)  # explain.py's first line for a raised record


def form(diagnoses, texts=()):
    """The verdict form of a failing function, from its failing cells' diagnosis metadata and verdict texts."""
    kinds = {d.get("kind") for d in diagnoses}
    if "mistake" in kinds:
        return "named"
    if "cascade" in kinds:
        return "cascade"
    if "exception" in kinds or any(EXPLAINED.search(t) for t in texts):
        return "explained"
    if "shape" in kinds:
        return "shape"
    if "values" in kinds:
        return "values"
    if "structure" in kinds:
        return "structure"
    if "signature" in kinds:
        return "signature"
    return "other"


def grade_pipeline(sets, jobs, keep=None):
    """{(set, assignment): [cell results]} graded by the real `make grade` path in a copy of the course."""
    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="btc-real-"))
    repo = C.copy_course(base)
    C.release(repo)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    env.pop("BTC_GRADEBOOK_URL", None)
    for name, functions in sets.items():
        for assignment in sorted({ASSIGNMENT_OF[f] for f in functions}):
            nb = build(C.release_notebook(repo, assignment), C.source_notebook(assignment), functions)
            C.submit(repo, _student(name), assignment, nb)
    cmd = [sys.executable, "-m", "autograder.grading.run.grade"] + (["--jobs", str(jobs)] if jobs else [])
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=7200)
    if proc.returncode not in (0, 1):  # 1: some notebooks lost points or could not be graded, which is expected
        raise SystemExit(f"grading failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    out = {}
    for name, functions in sets.items():
        for assignment in sorted({ASSIGNMENT_OF[f] for f in functions}):
            path = repo / "autograder" / "autograded" / _student(name) / assignment / f"{assignment}.ipynb"
            out[name, assignment] = cell_results(json.loads(path.read_text())) if path.exists() else None
    return out


def _student(name):
    """A plain student id for a set's file name (nbgrader ids must be plain names)."""
    return "s_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def grade_in_process(sets):
    """The same, with the functions run here (no sandbox: trusted code only) and the judge called directly."""
    from tests import submissions as S
    from autograder.grading.judge.execute import judge_notebook
    out = {}
    for name, functions in sets.items():
        for assignment in sorted({ASSIGNMENT_OF[f] for f in functions}):
            source = C.source_notebook(assignment)
            nb = build(source, source, functions)
            try:
                recs = S.records(assignment, S.functions(nb, assignment))
            except Exception as e:  # a cell that fails to run defines nothing after it: a kernel would go on
                print(f"{name} {assignment}: the notebook's cells raised {type(e).__name__}: {e}", file=sys.stderr)
                out[name, assignment] = None
                continue
            verdicts = judge_notebook(recs)
            out[name, assignment] = [
                (gid, passed, finding.metadata(gid.split("__")[0]) if finding is not None and finding.kind else {},
                 text) for (gid, _), (passed, text, _, finding) in zip(recs, verdicts)]
    return out


def measure(sets, graded):
    """(table {function: Counter}, verdicts [dict]) over every function a set wrote."""
    table = defaultdict(Counter)
    verdicts = []
    for (name, assignment), cells in graded.items():
        if cells is None:
            continue
        by_function = defaultdict(list)
        for gid, passed, diagnosis, text in cells:
            by_function[gid.split("__")[0]].append((gid, passed, diagnosis, text))
        for function, rows in by_function.items():
            if function not in sets[name]:
                continue
            table[function]["sets"] += 1
            failing = [r for r in rows if not r[1]]
            if not failing:
                continue
            table[function]["wrong"] += 1
            found = form([r[2] for r in failing], [r[3] for r in failing])
            table[function][found] += 1
            verdicts.append({"set": name, "function": function, "form": found,
                             "key": next((r[2].get("key") for r in failing if r[2]), ""),
                             "failing": [r[0] for r in failing], "verdict": failing[0][3]})
    return table, verdicts


def report(table):
    lines = [f"{'function':26}{'sets':>6}{'wrong':>7}{'named':>7}{'cascade':>9}{'explained':>11}{'shape':>7}"
             f"{'values':>8}{'structure':>11}{'signature':>11}{'other':>7}{'(a)+(b)':>9}"]
    total = Counter()
    for function in ASSIGNMENT_OF:
        row = table.get(function, Counter())
        total.update(row)
        lines.append(_row(function, row))
    lines.append(_row("all", total))
    return "\n".join(lines)


def _row(label, row):
    share = f"{100 * (row['named'] + row['cascade']) / row['wrong']:.0f}%" if row["wrong"] else "-"
    return (f"{label:26}{row['sets']:>6}{row['wrong']:>7}{row['named']:>7}{row['cascade']:>9}"
            f"{row['explained']:>11}{row['shape']:>7}{row['values']:>8}{row['structure']:>11}{row['signature']:>11}"
            f"{row['other']:>7}{share:>9}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of real solution sets, one *.py per student")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="grade in this folder and keep it (default: a temporary one)")
    parser.add_argument("--verdicts", type=Path, help="write each failing function's verdict here (JSON lines)")
    parser.add_argument("--in-process", action="store_true",
                        help="run the functions here, unsandboxed (only for code you have read and trust)")
    args = parser.parse_args(argv)
    sets = load_sets(args.folder)
    if not sets:
        raise SystemExit(f"no solution sets in {args.folder}")
    graded = grade_in_process(sets) if args.in_process else grade_pipeline(sets, args.jobs, args.keep)
    table, verdicts = measure(sets, graded)
    print(f"{len(sets)} solution sets from {args.folder} ({'in-process' if args.in_process else 'make grade'})")
    print(report(table))
    if args.verdicts:
        args.verdicts.write_text("".join(json.dumps(v) + "\n" for v in verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
