"""`make grade`: grade every submission under autograder/submitted/.

    python -m autograder.grading.run.grade [--jobs N] [--shard k/n] [--course autograder]

For every autograder/submitted/<student>/<assignment>/ (unknown students are
registered): nbgrader autograde (with the course config, so JudgedExecute
decides every test cell), generate_feedback, then autograder/grades.csv in
`nbgrader export` format, a short summary and autograder/report/index.html.
--jobs N grades with N worker processes (grading/run/pool.py);
--shard k/n grades only every n-th student starting at the k-th (students
sorted by id), so n machines can split a class.
"""
import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from nbgrader.converters import GenerateAssignment
from nbgrader.plugins import CsvExportPlugin
from sqlalchemy.exc import SAWarning

from .. import precheck
from .. import course as course_mod
from ..course import COURSE, Course, quiet, safe_url, venv_on_path
from ..kernel.launcher import sandbox_status
from ..pages import late, report, status
from . import pool, progress
from .export import export as export_lms
from .results import Result

__all__ = ["grade", "main", "quiet", "venv_on_path", "parse_shard", "submissions", "summary"]


def parse_shard(text):
    """'k/n' -> (k, n) with 1 <= k <= n (course.parse_shard, as an argparse type)."""
    try:
        return course_mod.parse_shard(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def submissions(course, shard=(1, 1), students=None, assignments=None):
    """([(student, assignment)] to grade, [Problem] for folders whose student id is not a plain name).

    One rule for the whole run (Course.discover): this shard's students,
    dot-folders skipped, known assignments only (the course config's list);
    students / assignments: only these (`make grade STUDENTS=a,b ASSIGNMENTS=x`).
    """
    pairs = course.discover(assignments, shard)
    if students is not None:
        pairs = [(s, a) for s, a in pairs if s in set(students)]
    bad = [precheck.check_submission(course.submission(s, a), s, a)[0]
           for s, a in pairs if not precheck.valid_id(s)]
    return [(s, a) for s, a in pairs if precheck.valid_id(s)], bad


def names(text):
    """'a,b' -> ['a', 'b'] (an argparse type)."""
    return [n.strip() for n in str(text).split(",") if n.strip()]


def ensure_released(course, assignments):
    """Autograde needs the source notebooks' cells in the gradebook: generate them if missing."""
    with course.gradebook() as gb:
        missing = [a for a in assignments
                   if not any(x.name == a and x.notebooks for x in gb.assignments)]
    for assignment in missing:
        course.run(GenerateAssignment, assignment, force=True, create_assignment=True)


def export(course):
    """grades.csv in nbgrader's export format (one row per student and assignment)."""
    path = course.grades_csv
    plugin = CsvExportPlugin(config=course.config)
    plugin.to = str(path)
    with course.gradebook() as gb:
        plugin.export(gb)
    return path


def problem(r):
    """Why a result has no score to show ("" when it has one)."""
    if not r.ok:
        return r.error or "grading failed"
    return "no grades recorded" if r.score is None else ""


def summary(results, standing=None):
    """The per-notebook table; standing: {(student, assignment): status.Standing} (score after any
    late penalty, and "late (by ...)", "needs manual grading (N cells)", "not attempted" beside it)."""
    shown, standing = precheck.shown, standing or {}
    lines = [f"{'student':<24} {'assignment':<12} {'score':>11} {'seconds':>8}"]
    for r in results:
        error, st = problem(r), standing.get((r.student, r.assignment))
        score = "ERROR" if error else f"{r.score:g}/{r.max_score:g}" if st is None else f"{st.score:g}/{st.max_score:g}"
        notes = [error] if error else (st.notes() if st else [])
        lines.append(f"{shown(r.student):<24} {r.assignment:<12} {score:>11} {r.seconds:8.1f}"
                     + (f"  {shown('; '.join(notes))}" if notes else ""))
    return "\n".join(lines)  # the counts follow in progress.summary_table: one end-of-run summary


def default_jobs(env=None):
    """Workers for this run: Slurm's CPUs per task when inside a Slurm task (the node's CPU count
    is not the task's), else the CPUs this process may run on."""
    env = os.environ if env is None else env
    if env.get("SLURM_CPUS_PER_TASK", "").isdigit():
        return max(1, int(env["SLURM_CPUS_PER_TASK"]))
    return max(1, len(os.sched_getaffinity(0)))


def sandbox_check(config):
    """(ok, text) for the sandbox this run's kernels get (grading/kernel/sandbox.py)."""
    mode = config.SandboxKernelManager.sandbox if "sandbox" in config.SandboxKernelManager else "require"
    return sandbox_status(mode)


def shard_files(shard):
    """(precheck file, worker-log folder) of a shard: one set per shard, so shards never overwrite each other."""
    k, n = shard
    if (k, n) == (1, 1):
        return "precheck.json", "report/logs"
    return f"precheck-{k}of{n}.json", f"report/logs/shard-{k}of{n}"


def grade_shard(course, shard=(1, 1), jobs=1, students=None, assignments=None):
    """Grade this shard's notebooks only (precheck, workers, merge): no whole-class export or report.

    Returns (results, run, problems, sandbox_text). The gradebook must hold the
    assignments already (`ensure_released`, or cluster.prepare).
    """
    course = course if isinstance(course, Course) else Course(course)
    ok, sandbox_text = sandbox_check(course.config)
    if not ok:
        raise SystemExit(f"make grade: {sandbox_text}")
    if sandbox_text.startswith("UNSANDBOXED"):
        print(f"WARNING: {sandbox_text}", file=sys.stderr)
    todo, bad_ids = submissions(course, shard, students, assignments)
    precheck_name, log_dir = shard_files(shard)
    # A browser's "convolution (1).ipynb", alone in its folder, is graded under the released name (and says so).
    renamed = {(s, a): old for s, a in todo if (old := precheck.accept_renamed(course.submission(s, a), a))}
    status.record_renamed(course.root, todo, renamed)
    start = time.perf_counter()
    # Notebooks nbgrader cannot read score 0, with feedback saying why; folders
    # whose name is not a student id are reported and never reach nbgrader.
    problems = bad_ids + [p for s, a in todo
                          for p in precheck.check_submission(course.submission(s, a), s, a)]
    broken = {(p.student, p.assignment): p for p in problems if p.kind != "bad_id"}
    precheck.write_report(course.root, problems, name=precheck_name)
    results = [Result.failed(p.student, p.assignment, f"not graded ({p.kind}): {p.message}") for p in bad_ids]
    for student, assignment in [t for t in todo if t in broken]:
        p = broken[(student, assignment)]
        precheck.record_zero(course.db_url, student, assignment)
        precheck.write_feedback(course.root, p)
        results.append(Result.failed(student, assignment, f"not graded ({p.kind}): {p.message}"))
    # The rest: `jobs` long-lived workers (grading/run/pool.py) each autograde and write feedback
    # into their own scratch gradebook; this process alone merges into the gradebook.
    run = pool.grade(course, jobs=jobs, shard=shard, pairs=[t for t in todo if t not in broken],
                     lines=sys.stdout, log_dir=log_dir)
    results += run.results
    run.wall = time.perf_counter() - start
    return results, run, problems, sandbox_text


def finish(course, problems, run, sandbox_text, results):
    """The whole class's grades.csv and report, and the end-of-run summary."""
    unsandboxed = sandbox_text.startswith("UNSANDBOXED")
    path = export(course)
    print(summary(results, status.standings(course.root, course.db_url, course.course_id)))
    # The summary table (failures with reasons, time per notebook) and the instructor report.
    table = progress.summary_table(run, [line.strip() for line in precheck.summary_lines(problems)[1:]])
    print(table)
    headline = table.splitlines()[0]
    if unsandboxed:
        headline = f"{sandbox_text}. {headline}"
        print(f"WARNING: {sandbox_text}")
    page = report.write_report(course.root, course.db_url, run_summary=headline, course_id=course.course_id)
    lms = export_lms(course)
    print(f"wrote {path}, {', '.join(str(p) for p in lms)}, feedback in {course.root / 'feedback'} and the report {page}"
          + (" (graded UNSANDBOXED, as asked)" if unsandboxed else ""))


def grade(course=COURSE, shard=(1, 1), jobs=1, students=None, assignments=None):
    """Grade this shard of the class; returns a Result per notebook (score and max_score where merged).

    The whole class (shard 1/1) also gets grades.csv and the report; a shard k/n
    of several writes only its own files (`shard_files`): the class's export and
    report come from `python -m autograder.grading.run.cluster finish --shards n`
    once every shard is done, so shards never overwrite each other's.
    """
    course = course if isinstance(course, Course) else Course(course)
    print(f"gradebook: {safe_url(course.db_url)}")
    todo = submissions(course, shard, students, assignments)[0]
    for name in sorted(set(students or ()) - {s for s, _ in todo}):
        print(f"WARNING: no submission of {precheck.shown(name)} to grade (among {', '.join(assignments or course.assignments)})")
    ensure_released(course, sorted({a for _, a in todo}))
    for line in late.apply_due_dates(course):
        print(line)
    results, run, problems, sandbox_text = grade_shard(course, shard, jobs, students, assignments)
    if tuple(shard) == (1, 1):
        finish(course, problems, run, sandbox_text, results)
    else:
        print(summary(results))
        print(progress.summary_table(run, [line.strip() for line in precheck.summary_lines(problems)[1:]]))
        print(f"shard {shard[0]}/{shard[1]} done; when every shard is: "
              f"`make grade-finish SHARDS={shard[1]}` writes the class's grades.csv and report")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes (grading/run/pool.py); default: the CPUs this task may use")
    parser.add_argument("--shard", type=parse_shard, default=(1, 1), help="k/n: grade every n-th student from the k-th")
    parser.add_argument("--students", type=names, default=None, help="a,b: regrade only these students")
    parser.add_argument("--assignments", type=names, default=None, help="x,y: regrade only these assignments")
    args = parser.parse_args(argv)
    quiet()
    venv_on_path()
    from ..permissions import refuse_if_exposed  # course data no student can read (permissions.py)
    refuse_if_exposed(Course(args.course), "make grade")
    # nbgrader 0.9 trips SQLAlchemy 2's autoflush warnings; they say nothing about the grades.
    warnings.filterwarnings("ignore", category=SAWarning)
    grade(args.course, args.shard, args.jobs or default_jobs(), args.students, args.assignments)
    # A submission that could not be graded scored 0 and is listed in the summary and
    # the report; it is the student's failure, not the run's, so the run still succeeds.
    return 0


if __name__ == "__main__":
    sys.exit(main())
