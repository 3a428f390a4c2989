"""What the sandbox costs per notebook: the same honest submissions graded with and without it.

    .venv/bin/python -m bench.sandbox_cost [--students N]

Builds two copies of the course in a temporary folder with N students each
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.grading import grade  # noqa: E402
from autograder.grading.release import ASSIGNMENTS  # noqa: E402


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3)
    args = parser.parse_args(argv)
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
