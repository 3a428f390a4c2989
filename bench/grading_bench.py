"""`make bench-grading`: plain serial nbgrader against `make grade JOBS=2`, on one synthetic class, in one run.

    python -m bench.grading_bench [--students 60] [--jobs 2] [--keep DIR] [--breakdown 4] [--seed HEX]
    python -m bench.grading_bench --breakdown-of DIR [--breakdown 4]   (only 3., on the class kept in DIR)

1. Builds a class of --students students, each submitting all three
   assignments: the reference, correct variants (vectorised, einsum, float32,
   ...), the catalogue of realistic mistakes (tests/submissions), and
   unmodified release notebooks, in rotation. Two identical copies of the
   course get the class, and `make release` is run in each (not timed).
2. Times (a) plain serial nbgrader with the course's own config, run from
   autograder/: `nbgrader autograde A --force` and `nbgrader generate_feedback
   A --force` for each assignment, then `nbgrader export`; and (b) `make grade
   JOBS=N` in the other copy. Prints both times, seconds per notebook and the
   ratio, and checks that every grade (student, assignment, grade_id) and the
   exported grades.csv are identical.
3. Breaks down one notebook's grading time, phase by phase, the way plain
   nbgrader does it (a new converter per notebook, polite kernel shutdown, a
   new gradebook engine per preprocessor, templates compiled per feedback
   page) and the way a grading worker does it, on the same notebooks, the two
   ways alternating in two rounds; and the CPU seconds per notebook of the
   grading process and of its kernels (two workers on two cores are bound by CPU).

The machine may be shared: (a) and (b) run one after the other, so read the
ratio with the load average printed next to it.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.grading.cases import draws
from tests.submissions import MISTAKES, VARIANTS, replace_body, with_mistakes  # run from the repository root
from tests.submissions import course as C

ROOT = Path(__file__).resolve().parents[1]

ASSIGNMENTS = C.ASSIGNMENTS
PY = Path(sys.executable)


def env():
    e = dict(os.environ)
    e["PATH"] = str(PY.parent) + os.pathsep + e.get("PATH", "")
    e.pop("BTC_GRADEBOOK_URL", None)
    e["PYTHONWARNINGS"] = "ignore"
    return e


def make_repo(dest):
    """A copy of the course (sources and code), with the Makefile and the work tree's .venv, ready for make."""
    repo = C.copy_course(dest)
    shutil.copy2(ROOT / "Makefile", repo / "Makefile")
    for req in ("requirements.txt", "requirements-dev.txt"):
        shutil.copy2(ROOT / req, repo / req)  # copy2 keeps mtimes, so make sees the venv as up to date
    (repo / ".venv").symlink_to(ROOT / ".venv")
    return repo


def submissions_for(i, assignment, release_nb):
    """The i-th student's notebook for `assignment`: reference, variant, mistake or blank, in rotation."""
    kind = i % 4
    if kind == 0:
        return C.source_notebook(assignment), "reference"
    if kind == 1:
        variants = [v for v in VARIANTS if v.assignment == assignment]
        if variants:
            v = variants[(i // 4) % len(variants)]
            nb = C.source_notebook(assignment)
            for function, body in v.bodies.items():
                replace_body(nb, function, body)
            return nb, f"variant {v.name}"
        return C.source_notebook(assignment), "reference"
    if kind == 2:
        mistakes = [m for m in MISTAKES if m.assignment == assignment]
        m = mistakes[(i // 4) % len(mistakes)]
        return with_mistakes(C.source_notebook(assignment), [m]), f"mistake {m.name}"
    return json.loads(json.dumps(release_nb)), "blank"


def build_class(repo, students):
    rel = {a: C.release_notebook(repo, a) for a in ASSIGNMENTS}
    kinds = {}
    for i in range(students):
        for a in ASSIGNMENTS:
            nb, kind = submissions_for(i, a, rel[a])
            C.submit(repo, f"student{i:03d}", a, nb)
            kinds[kind.split()[0]] = kinds.get(kind.split()[0], 0) + 1
    return kinds


def timed(cmd, cwd, log):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - start
    log.write(f"$ {' '.join(map(str, cmd))}  (exit {proc.returncode}, {seconds:.1f} s)\n{proc.stdout}\n")
    return seconds, proc.returncode


def plain_serial(repo, log):
    course = repo / "autograder"
    nbgrader = str(PY.parent / "nbgrader")
    steps = []
    for a in ASSIGNMENTS:
        steps.append((f"autograde {a}", timed([nbgrader, "autograde", a, "--force"], course, log)))
    for a in ASSIGNMENTS:
        steps.append((f"generate_feedback {a}", timed([nbgrader, "generate_feedback", a, "--force"], course, log)))
    steps.append(("export", timed([nbgrader, "export", "--to=grades.csv"], course, log)))
    return sum(s for _, (s, _) in steps), steps


def make_grade(repo, jobs, log):
    return timed(["make", "grade", f"JOBS={jobs}"], repo, log)


def grade_rows(repo):
    from nbgrader.api import Gradebook
    rows = {}
    with Gradebook(f"sqlite:///{repo / 'autograder' / 'gradebook.db'}") as gb:
        for a in gb.assignments:
            for sub in a.submissions:
                for nb in sub.notebooks:
                    for g in nb.grades:
                        rows[(sub.student.id, a.name, g.name)] = g.auto_score
    return rows


def csv_rows(path):
    with open(path) as f:
        return sorted(tuple(r) for r in csv.reader(f))


def breakdown(repo, n, rounds=2):
    """Mean seconds per phase, the plain way and the worker's way, on the same notebooks.

    Each way runs in its own process (a worker patches nbgrader where it lives),
    after one warm-up notebook; the two alternate for `rounds` rounds so that a
    change in the machine's load hits both alike.
    """
    from autograder.grading.run.gradebooks import seed_gradebook
    from autograder.grading.run.pool import scratch_root
    from autograder.grading.run.results import PHASES
    course = repo / "autograder"
    seed = scratch_root(course) / "seed.db"  # on tmpfs where there is one, as in a real run
    seed_gradebook(f"sqlite:///{course / 'gradebook.db'}", seed)
    pairs = [(f"student{i:03d}", a) for i in range(n) for a in ASSIGNMENTS]
    samples = {"plain nbgrader": [], "grading worker": []}
    for r in range(rounds):
        for label, fast in (("plain nbgrader", False), ("grading worker", True)):
            code = "import json\nfrom bench.grading_bench import phases_child\nprint(json.dumps(phases_child(%r)))\n" % (
                [str(course), str(seed), str(seed.parent / f"{label.replace(' ', '_')}{r}"), fast, pairs[-1], pairs[:-1]],)
            proc = subprocess.run([str(PY), "-c", code], env=env(), capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                raise RuntimeError(proc.stderr[-3000:])
            samples[label] += json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(seed.parent, ignore_errors=True)
    return {label: {p: statistics.mean(ph[p] for ph in phs) for p in PHASES + CPU}
            for label, phs in samples.items()}


CPU = ("cpu_grader", "cpu_kernel")  # CPU seconds per notebook: the grading process's, its kernels'


def phases_child(args):
    """In a process of its own: [{phase: s, cpu_grader: s, cpu_kernel: s}] per notebook of `pairs`.

    args: (course, seed gradebook, scratch folder, fast, warm-up pair, pairs). With two
    workers on two cores CPU is the budget, so the kernels' CPU counts too: each kernel's
    processes are read (psutil) just before the kernel is stopped.
    """
    import psutil

    from autograder.grading.kernel import sandbox
    from autograder.grading.run.worker import Worker
    course, seed, scratch, fast, warmup, pairs = args
    kernels = [0.0]
    shutdown = sandbox.SandboxKernelManager._async_shutdown_kernel

    async def measured(self, now=False, restart=False):
        try:
            top = psutil.Process(self.provisioner.process.pid)
            kernels[0] += sum(sum(p.cpu_times()[:2]) for p in [top] + top.children(recursive=True))
        except (AttributeError, psutil.Error):  # no process left to read
            pass
        return await shutdown(self, now=now, restart=restart)
    sandbox.SandboxKernelManager._async_shutdown_kernel = sandbox.SandboxKernelManager.shutdown_kernel = measured

    w = Worker(course, seed, scratch, fast=fast)
    w.grade(*warmup)  # first-use costs are paid once per process
    out = []
    for student, assignment in pairs:
        kernels[0], cpu = 0.0, time.process_time()
        phases = w.grade(student, assignment).phases
        out.append(dict(phases, cpu_grader=time.process_time() - cpu, cpu_kernel=kernels[0]))
    return out


def print_breakdown(repo, students):
    """Print `breakdown`'s table for the first `students` students of the graded class in `repo`."""
    from autograder.grading.run.results import PHASES
    bd = breakdown(repo, students)
    print()
    print(f"one notebook's grading time (s), mean of 2 x {3 * students - 1} notebooks per way, "
          f"the two ways alternating (plain: as nbgrader does it, minus its per-command start-up):")
    print(f"{'phase':16}" + "".join(f"{k:>16}" for k in bd))
    for p in PHASES:
        print(f"{p:16}" + "".join(f"{bd[k][p]:16.3f}" for k in bd))
    print(f"{'total':16}" + "".join(f"{sum(bd[k][p] for p in PHASES):16.3f}" for k in bd))
    print("CPU seconds per notebook (two workers share two cores: this is what bounds them):")
    for p in CPU:
        print(f"{p:16}" + "".join(f"{bd[k][p]:16.3f}" for k in bd))
    print(f"{'cpu total':16}" + "".join(f"{sum(bd[k][p] for p in CPU):16.3f}" for k in bd))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="build the class here and keep it")
    parser.add_argument("--breakdown", type=int, default=4, help="students for the per-phase breakdown (0: skip)")
    parser.add_argument("--seed", default=None, help="the course's grading seed (32 hex digits), e.g. an earlier "
                        "run's autograder/" + draws.SEED_FILE + ", so that two runs' grades and pages can be compared")
    parser.add_argument("--breakdown-of", type=Path, default=None, metavar="DIR",
                        help="only the breakdown, with this tree's code, of the class an earlier run kept in DIR "
                        "(--keep DIR): run it from two checkouts to compare their CPU per notebook on one class")
    args = parser.parse_args(argv)
    if args.breakdown_of is not None:
        print_breakdown(args.breakdown_of / "serial" / "repo", args.breakdown or 4)
        return 0

    base = args.keep or Path(tempfile.mkdtemp(prefix="btc-grading-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    log_path = base / "bench.log"
    with open(log_path, "w") as log:
        repos = {}
        for name in ("serial", "parallel"):
            repo = make_repo(base / name)
            subprocess.run([str(PY), "-m", "autograder.grading.run.release"], cwd=repo, env=env(), check=True,
                           capture_output=True)
            repos[name] = repo
        # one course seed for both copies: the same hidden inputs, so grades and pages can be compared
        if args.seed is not None:
            seed = int(args.seed, 16)
            (repos["serial"] / "autograder" / draws.SEED_FILE).write_text(f"{seed:032x}\n")
        seed = draws.course_seed(repos["serial"] / "autograder")
        (repos["parallel"] / "autograder" / draws.SEED_FILE).write_text(f"{seed:032x}\n")
        kinds = {}
        for name, repo in repos.items():
            kinds = build_class(repo, args.students)
        notebooks = args.students * len(ASSIGNMENTS)
        print(f"class: {args.students} students x {len(ASSIGNMENTS)} assignments = {notebooks} notebooks "
              f"({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}); load average before: "
              f"{os.getloadavg()[0]:.1f}", flush=True)

        t_serial, steps = plain_serial(repos["serial"], log)
        load_a = os.getloadavg()[0]
        t_par, code = make_grade(repos["parallel"], args.jobs, log)
        load_b = os.getloadavg()[0]

    a, b = grade_rows(repos["serial"]), grade_rows(repos["parallel"])
    same_rows = a == b and len(a) > 0
    same_csv = csv_rows(repos["serial"] / "autograder" / "grades.csv") == \
        csv_rows(repos["parallel"] / "autograder" / "grades.csv")
    print()
    print(f"{'':44} {'seconds':>8} {'s/notebook':>11} {'load':>5}")
    print(f"{'(a) plain serial nbgrader (autograde+feedback+export)':44.44} {t_serial:8.1f} "
          f"{t_serial / notebooks:11.2f} {load_a:5.1f}")
    for label, (s, rc) in steps:
        print(f"      {label:38} {s:8.1f}")
    print(f"{f'(b) make grade JOBS={args.jobs}':44} {t_par:8.1f} {t_par / notebooks:11.2f} {load_b:5.1f}"
          + ("" if code == 0 else f"   (exit {code})"))
    print(f"ratio (a)/(b): {t_serial / t_par:.2f}x")
    pages = sorted(p.relative_to(repos["serial"]) for p in (repos["serial"] / "autograder" / "feedback").rglob("*.html"))
    same_pages = sum((repos["serial"] / p).read_bytes() == (repos["parallel"] / p).read_bytes()
                     for p in pages if (repos["parallel"] / p).exists())
    print(f"grades identical: {'yes' if same_rows else 'NO'} ({len(a)} grade cells); "
          f"grades.csv identical: {'yes' if same_csv else 'NO'}; "
          f"feedback pages byte-identical: {same_pages} of {len(pages)}")
    if not same_rows:
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        for k in diff[:20]:
            print(f"  {k}: serial {a.get(k)} parallel {b.get(k)}")

    if args.breakdown:
        print_breakdown(repos["serial"], args.breakdown)
    print(f"\nlog: {log_path}")
    if not args.keep:
        shutil.rmtree(base / "serial", ignore_errors=True)
        shutil.rmtree(base / "parallel", ignore_errors=True)
    return 0 if same_rows and same_csv else 1


if __name__ == "__main__":
    sys.exit(main())
