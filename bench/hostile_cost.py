"""What a hostile notebook costs the grading host: peak memory and disk, per attack, beside an honest one.

    .venv/bin/python -m bench.hostile_cost [--cases h_print_chunks,h_fork_memory,...]

Each case of the red-team corpus (tests/hostile/corpus.py) is graded alone by
`python -m autograder.grading.run.grade --jobs 1` in a fresh course, with its own
TMPDIR, while a sampler (every 0.1 s) records the memory of the whole grading
process tree (PSS: shared pages split between sharers, kernels included) and
the bytes in that TMPDIR (sandbox copies, the kernel's own disk, exchanges);
the grading worker's own peak comes from run.json; "kept" is what the course
grew by, "left" what stayed in TMPDIR after the run. The honest reference notebook is
graded the same way first, so every row reads against it. Needs bubblewrap.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.grading.kernel.budgets import tree_bytes, tree_memory
from tests.hostile import corpus
from tests.hostile.course import make_course

ROOT = Path(__file__).resolve().parents[1]

DEFAULT = ["h_print_100mb", "h_print_chunks", "h_fill_exchange", "h_fork_memory", "h_alloc_10gb",
           "h_fork_bomb", "h_sparse", "h_many_cells", "h_nested",
           "h_sparse_records", "h_many_refs", "h_many_entries", "h_list_key", "h_fork_flood"]  # issue 18


def measure(case, where):
    course = make_course(where, [case])
    tmp = Path(where) / "tmp"
    tmp.mkdir()
    before = tree_bytes(str(course), 10**6)[0]
    proc = subprocess.Popen([sys.executable, "-m", "autograder.grading.run.grade", "--jobs", "1", "--course", str(course)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, TMPDIR=str(tmp)))
    peak = {"memory": 0, "tmp": 0}
    done = threading.Event()

    def sample():
        while not done.wait(0.1):
            peak["memory"] = max(peak["memory"], tree_memory(proc.pid))
            peak["tmp"] = max(peak["tmp"], tree_bytes(str(tmp), 10**6)[0])

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    sampler.start()
    proc.wait()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    kept = tree_bytes(str(course), 10**6)[0] - before
    left = tree_bytes(str(tmp), 10**6)[0]
    if case.student == "h_nested":
        corpus.remove_nested(course / "submitted" / "h_nested" / "pooling")
    import json
    log = course / "report" / "run.json"  # none when the precheck refused every notebook
    run = json.loads(log.read_text()) if log.is_file() else {"results": []}
    worker = max([r.get("peak_rss_mb", 0) for r in run["results"]] or [0])
    return seconds, peak["memory"], worker, peak["tmp"], kept, left, proc.returncode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(DEFAULT))
    args = parser.parse_args(argv)
    by_name = {c.student: c for c in corpus.CASES + corpus.HONEST}
    names = ["honest_act"] + [n for n in args.cases.split(",") if n]
    print(f"{'case':<18} {'s':>6} {'tree peak MiB':>14} {'worker MiB':>11} {'peak tmp MiB':>13} "
          f"{'kept MiB':>9} {'left MiB':>9} exit")
    for name in names:
        with tempfile.TemporaryDirectory() as where:
            s, mem, worker, tmp, kept, left, code = measure(by_name[name], where)
        print(f"{name:<18} {s:6.1f} {mem / 2**20:14.0f} {worker:11.0f} {tmp / 2**20:13.1f} "
              f"{kept / 2**20:9.1f} {left / 2**20:9.1f} {code}")


if __name__ == "__main__":
    main()
