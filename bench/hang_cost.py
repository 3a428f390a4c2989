"""What a function that never returns costs: seconds to grade a notebook whose conv_forward hangs,
against the same notebook answered correctly, measured side by side in one run.

    .venv/bin/python -m bench.hang_cost [--reps N]

Before time budgets followed the work, the hung notebook took 322-381 s (every test cell waited its
60 s timeout until RLIMIT_CPU killed the kernel); the target is under 30 s.
"""
import argparse
import tempfile
import time

import nbformat

from tests.hostile import corpus  # run from the repository root
from tests.submissions import course as C


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1)
    args = parser.parse_args(argv)
    times = {"hung conv_forward": [], "correct": []}
    for _ in range(args.reps):
        for name in times:  # alternate, so load changes hit both alike
            with tempfile.TemporaryDirectory() as d:
                repo = C.copy_course(d)
                C.release(repo)
                nb = nbformat.read(str(C.ROOT / "autograder" / "source" / "convolution" / "convolution.ipynb"), as_version=4)
                if name != "correct":
                    corpus.replace_body(nb, "conv_forward", "while True:\n    pass")
                C.submit(repo, "s", "convolution", nb)
                start = time.perf_counter()
                C.run(repo, "autograder.grading.run.grade", "--jobs", "1")
                times[name].append(time.perf_counter() - start)
    for name, ts in times.items():
        print(f"{name:<20} {min(ts):6.1f} s (best of {len(ts)}; whole make grade run of one notebook)")
    print(f"ratio hung/correct: {min(times['hung conv_forward']) / min(times['correct']):.2f}")


if __name__ == "__main__":
    main()
