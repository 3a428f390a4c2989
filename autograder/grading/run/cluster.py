"""Grading a class on a cluster, in three steps that are each safe to repeat.

    python -m autograder.grading.run.cluster prepare             release into the gradebook, under a lock
    python -m autograder.grading.run.cluster shard --shard auto --shards 3 [--jobs N]
                                                              grade one shard only: no pip, no class export
    python -m autograder.grading.run.cluster finish --shards 3   the class's grades.csv and report
    python -m autograder.grading.run.cluster slurm --shards 3 [--wait] [--sbatch "options"]
                                                              submit the three as Slurm jobs, chained

A shard writes only its own files (`grade.shard_files`: its precheck record,
run log and worker logs), so re-running one shard replaces exactly what that
shard wrote, and `finish` reads every shard's files of the same n.

`--shard auto` takes k from the engine that runs the task: Slurm's
SLURM_ARRAY_TASK_ID (the array must be --array=1-n) or a Kubernetes Indexed
Job's JOB_COMPLETION_INDEX + 1. n is always given explicitly (--shards): an
array's own count changes when one failed task is re-submitted alone.
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

from .. import precheck
from ..cases import draws
from ..course import COURSE, REPO, Course, parse_shard, quiet, safe_url, venv_on_path
from ..pages import late, report
from . import grade as grade_mod
from . import progress
from .export import export as export_lms
from .results import Result, Summary

SLURM_DIR = REPO / "slurm"
LOCK_KEY = 0x62746367  # "btcg": the PostgreSQL advisory lock that serialises `prepare`


class ClusterError(SystemExit):
    """A step refuses to run; the message says why and what to do."""


# ---------------------------------------------------------------- which shard, how many workers

def resolve_shard(shard, shards, env=None):
    """(k, n) from --shard ('k/n' or 'auto') and --shards n; never reads n from the array."""
    env = os.environ if env is None else env
    if shard != "auto":
        try:
            k, n = parse_shard(shard)
        except ValueError as e:
            raise ClusterError(str(e)) from None
        if shards and int(shards) != n:
            raise ClusterError(f"shard {shard} is not one of SHARDS={shards}")
        return k, n
    if not shards:
        raise ClusterError("SHARD=auto needs SHARDS=n, the number of shards (it is never read from the array)")
    n = int(shards)
    if env.get("SLURM_ARRAY_TASK_ID", "").strip():
        where, k = "SLURM_ARRAY_TASK_ID", env["SLURM_ARRAY_TASK_ID"]
    elif env.get("JOB_COMPLETION_INDEX", "").strip():
        where, k = "JOB_COMPLETION_INDEX + 1", str(int(env["JOB_COMPLETION_INDEX"]) + 1)
    else:
        raise ClusterError("SHARD=auto: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set "
                           "(run it as a Slurm array task or a Kubernetes Indexed Job, or give SHARD=k/n)")
    if not k.isdigit() or not 1 <= int(k) <= n:
        raise ClusterError(f"SHARD=auto: {where} is {k}, not in 1..{n}: submit the array as --array=1-{n}")
    return int(k), n


# ---------------------------------------------------------------- prepare

@contextlib.contextmanager
def prepare_lock(course):
    """Held while the gradebook's schema and assignments are written: one preparer at a time.

    PostgreSQL: an advisory lock (works across machines). SQLite: a lock file beside the course.
    """
    url = course.db_url
    if url.startswith("postgresql"):
        import sqlalchemy
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
        engine.dispose()
    else:
        with open(course.root / ".prepare.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            yield


def released(course):
    """The assignments the gradebook holds with their notebooks (none if it has no schema yet).

    Looks before it opens the gradebook: nbgrader's Gradebook() creates the schema, and
    shards creating it at once is the race `prepare` exists to avoid.
    """
    import sqlalchemy
    engine = sqlalchemy.create_engine(course.db_url)
    try:
        if not sqlalchemy.inspect(engine).has_table("assignment"):
            return set()
    finally:
        engine.dispose()
    with course.gradebook() as gb:
        return {a.name for a in gb.assignments if a.notebooks}


def prepare(course):
    """Write every assignment into the gradebook (once; repeating it changes nothing)."""
    with prepare_lock(course):
        grade_mod.ensure_released(course, list(course.assignments))
        for line in late.apply_due_dates(course):
            print(line)
        draws.course_seed(course.root)  # the course's secret seed, made once before any shard reads it
    print(f"prepared {', '.join(sorted(released(course)))} in the gradebook {safe_url(course.db_url)}")


# ---------------------------------------------------------------- shard

def shard(course, k, n, jobs):
    """Grade shard k of n into the gradebook; writes only this shard's files."""
    missing = sorted({a for _, a in grade_mod.submissions(course, (k, n))[0]} - released(course))
    if missing:
        raise ClusterError(f"shard {k}/{n}: the gradebook {safe_url(course.db_url)} holds no released "
                           f"{', '.join(missing)}: run the prepare step first (`make grade-prepare`)")
    results, run, problems, _ = grade_mod.grade_shard(course, (k, n), jobs)
    print(grade_mod.summary(results))
    print(progress.summary_table(run, [line.strip() for line in precheck.summary_lines(problems)[1:]]))
    print(f"shard {k}/{n} graded {len(results)} notebook(s) into {safe_url(course.db_url)}")
    return results


# ---------------------------------------------------------------- finish

def shard_logs(course, n):
    """(Summary of every shard's run log, [Problem] of every shard's precheck) for n shards."""
    import json
    run = Summary(shard=(1, n), db_url=course.db_url)
    problems = []
    for k in range(1, n + 1):
        precheck_name, _ = grade_mod.shard_files((k, n))
        problems += precheck.read_report(course.root, precheck_name)
        name = "run.json" if n == 1 else f"run-{k}of{n}.json"
        path = course.report_dir / name
        if path.exists():
            data = json.loads(path.read_text())
            run.results += [Result.from_json(r) for r in data.get("results", [])]
            run.wall = max(run.wall, float(data.get("wall", 0.0)))
            run.jobs += int(data.get("jobs", 1)) - (1 if k == 1 else 0)
    return run, problems


def finish(course, n):
    """The class's grades.csv and report from the gradebook and every shard's files; returns the report's path."""
    run, problems = shard_logs(course, n)
    path = grade_mod.export(course)
    table = progress.summary_table(run, [line.strip() for line in precheck.summary_lines(problems)[1:]])
    print(table)
    rows = report.problems_from_disk(course.root, shards=n)
    page = report.write_report(course.root, course.db_url, problems=rows, run_summary=table.splitlines()[0],
                               course_id=course.course_id)
    lms = export_lms(course)
    print(f"wrote {path}, {', '.join(str(p) for p in lms)} and the report {page}")
    return page


# ---------------------------------------------------------------- slurm

SECRET_HINT = ("put the password in ~/.pgpass or a file named by PGPASSFILE (mode 0600) and drop it from "
               "the URL: Slurm stores every job's environment on disk")

# What a job may see of the submitting shell: the gradebook URL (checked to hold no password),
# where the PostgreSQL password file is, and the course's own switches. Nothing else goes to Slurm.
PASSED_ENV = ("BTC_GRADEBOOK_URL", "PGPASSFILE", "BTC_EXCHANGE_ROOT", "BTC_ALLOW_UNSANDBOXED", "PATH", "HOME",
              "LANG", "LC_ALL")


def has_password(url):
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).password is not None
    except Exception:  # not a URL SQLAlchemy reads: say nothing of it to Slurm
        return True


def job_env(env=None, extra=()):
    """sbatch's --export value: only PASSED_ENV's variables (plus `extra` "NAME=value"s); refuses a URL
    with a password."""
    env = os.environ if env is None else env
    url = env.get("BTC_GRADEBOOK_URL", "")
    if url and has_password(url):
        raise ClusterError(f"BTC_GRADEBOOK_URL holds a password: {SECRET_HINT}")
    names = [v for v in PASSED_ENV if env.get(v)] + list(extra)
    return ",".join(names) or "NONE"


def sbatch(script, args, extra, env, export=()):
    """Submit one script from the checkout; returns its job id."""
    cmd = ["sbatch", "--parsable", f"--export={job_env(env, export)}", *args, *extra, str(SLURM_DIR / script)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise ClusterError(f"sbatch {script} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip().split(";")[0]


def submit(n, extra=(), jobs=None, env=None):
    """prepare -> array of n shards -> finish, chained with afterok; returns the three job ids."""
    env = dict(os.environ if env is None else env)
    job_env(env)  # refuse a password before anything is submitted
    extra = list(extra)
    chain = ["--kill-on-invalid-dep=yes"]
    cpus = [f"--cpus-per-task={jobs}"] if jobs else []
    prep = sbatch("prepare.sbatch", [], extra, env)
    array = sbatch("shard.sbatch", [f"--array=1-{n}", f"--dependency=afterok:{prep}", *chain, *cpus],
                   extra, env, export=[f"SHARDS={n}"])
    fin = sbatch("finish.sbatch", [f"--dependency=afterok:{array}", *chain], extra, env, export=[f"SHARDS={n}"])
    return prep, array, fin


def job_states(ids):
    """{job id (array tasks as id_k): state} from sacct, else scontrol."""
    states = {}
    for jid in ids:
        out = subprocess.run(["scontrol", "show", "job", "-o", jid], capture_output=True, text=True).stdout
        for line in out.splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            key = fields.get("JobId", jid)
            if fields.get("ArrayTaskId"):
                key = f"{fields.get('ArrayJobId', jid)}_{fields['ArrayTaskId']}"
            states[key] = fields.get("JobState", "UNKNOWN")
    return states


DONE = {"COMPLETED"}
FAILED = {"FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"}


def wait(ids, poll=2.0, timeout=6 * 3600):
    """Wait until every job has ended; True when all completed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = job_states(ids)
        pending = [s for s in states.values() if s not in DONE | FAILED]
        if states and not pending and len(states) >= len(ids):
            print("jobs: " + ", ".join(f"{j} {s}" for j, s in sorted(states.items())))
            return all(s in DONE for s in states.values())
        time.sleep(poll)
    return False


# ---------------------------------------------------------------- command line

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("prepare", "shard", "finish", "slurm"))
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("--shard", default="auto", help="k/n, or auto (from the array task)")
    parser.add_argument("--shards", type=int, default=None, help="n, the number of shards")
    parser.add_argument("--jobs", type=int, default=None, help="workers (default: the task's CPUs)")
    parser.add_argument("--wait", action="store_true", help="slurm: wait, exit 1 unless every job completed")
    parser.add_argument("--sbatch", default="", help='slurm: extra sbatch options, e.g. "--partition=x --time=1:00:00"')
    args = parser.parse_args(argv)
    quiet()
    venv_on_path()
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)
    course = Course(args.course)
    if args.step != "slurm":
        from ..permissions import refuse_if_exposed  # course data no student can read (permissions.py)
        refuse_if_exposed(course, f"cluster {args.step}")
    if args.step == "prepare":
        prepare(course)
    elif args.step == "shard":
        k, n = resolve_shard(args.shard, args.shards)
        shard(course, k, n, args.jobs or grade_mod.default_jobs())
    elif args.step == "finish":
        if not args.shards:
            raise ClusterError("finish needs --shards n (SHARDS=n): the number of shards graded")
        finish(course, args.shards)
    else:
        if not args.shards:
            raise ClusterError("slurm-grade needs SHARDS=n")
        ids = submit(args.shards, shlex.split(args.sbatch), args.jobs)
        print(f"submitted prepare {ids[0]}, shards {ids[1]} (array 1-{args.shards}), finish {ids[2]}")
        if args.wait and not wait(list(ids)):
            print("not every job completed: see slurm-*.out in the checkout", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
