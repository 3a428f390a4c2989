"""What the sandbox costs per notebook: the same notebooks run with and without it.

    .venv/bin/python -m bench.sandbox_cost [--reps N]               kernel level (default)
    .venv/bin/python -m bench.sandbox_cost --pipeline [--students N] whole `make grade`

Kernel level: every source notebook is executed by nbclient (kernel start,
all cells, kernel stop), alternately in a SandboxKernelManager and in
jupyter_client's plain AsyncKernelManager, N rounds; prints the median
seconds per notebook for each and the difference.

Pipeline: builds two copies of the course in a temporary folder with N students each
submitting every assignment (the source notebooks, i.e. correct code), grades
both with `make grade`'s own code in this process, alternating sandboxed and
unsandboxed course per round so drift hits both alike, and prints seconds per
notebook (median and mean) for each, the difference, and whether the grades
are identical.
"""
import argparse
import shutil
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

from autograder.grading.run import grade
from autograder.grading.run.release import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]


def make_course(where, students, sandbox):
    course = Path(where) / "autograder"
    course.mkdir(parents=True)
    shutil.copy(ROOT / "autograder" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "autograder" / "source", course / "source")
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.SandboxKernelManager.sandbox = {sandbox!r}\n")
    for s in range(students):
        for a in ASSIGNMENTS:
            shutil.copytree(course / "source" / a, course / "submitted" / f"s{s:02d}" / a)
    return course


def kernel_level(reps):
    import time

    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    from autograder.grading.kernel.sandbox import SandboxKernelManager
    times = {"sandbox": [], "plain": []}
    for rnd in range(reps):
        order = (("sandbox", SandboxKernelManager), ("plain", AsyncKernelManager))
        for label, km_class in (order if rnd % 2 == 0 else order[::-1]):
            for a in ASSIGNMENTS:
                folder = ROOT / "autograder" / "source" / a
                nb = nbformat.read(str(folder / f"{a}.ipynb"), as_version=4)
                start = time.perf_counter()
                NotebookClient(nb, timeout=60, kernel_manager_class=km_class,
                               resources={"metadata": {"path": str(folder)}}).execute()
                times[label].append(time.perf_counter() - start)
    print(f"{'kernel':<10} {'notebooks':>9} {'median s':>9} {'mean s':>8}")
    for label, secs in times.items():
        print(f"{label:<10} {len(secs):>9} {statistics.median(secs):9.2f} {statistics.mean(secs):8.2f}")
    on, off = statistics.median(times["sandbox"]), statistics.median(times["plain"])
    print(f"sandbox cost per notebook (median, kernel start + cells + stop): {on - off:+.2f} s "
          f"({(on / off - 1) * 100:+.0f}%)")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", action="store_true", help="time the whole make-grade pipeline")
    parser.add_argument("--students", type=int, default=3)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    if not args.pipeline:
        return kernel_level(args.reps)
    grade.quiet()
    grade.venv_on_path()
    from sqlalchemy.exc import SAWarning
    warnings.filterwarnings("ignore", category=SAWarning)
    tmp = Path(tempfile.mkdtemp(prefix="sandbox-cost-"))
    try:
        courses = {mode: make_course(tmp / mode, args.students, mode) for mode in ("auto", "off")}
        results = {"auto": [], "off": []}
        for mode in ("off", "auto"):  # one warm-up each: gradebook, imports, page cache
            grade.grade(courses[mode])
        for rnd in range(2):
            for mode in (("auto", "off") if rnd % 2 == 0 else ("off", "auto")):
                results[mode] += grade.grade(courses[mode])
        print()
        print(f"{'mode':<10} {'notebooks':>9} {'median s':>9} {'mean s':>8}")
        for mode, label in (("auto", "sandbox"), ("off", "no sandbox")):
            secs = [r.seconds for r in results[mode]]
            print(f"{label:<10} {len(secs):>9} {statistics.median(secs):9.2f} {statistics.mean(secs):8.2f}")
        on = statistics.median(r.seconds for r in results["auto"])
        off = statistics.median(r.seconds for r in results["off"])
        print(f"sandbox cost per notebook (median): {on - off:+.2f} s ({(on / off - 1) * 100:+.0f}%)")
        same = ({(r.student, r.assignment, r.score) for r in results["auto"]}
                == {(r.student, r.assignment, r.score) for r in results["off"]})
        print(f"grades identical with and without the sandbox: {same}")
        return 0 if same else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
