"""Judge time per notebook, without and with diagnosis (run from the repo root, one mode per process).

"before" judges each cell alone (execute.verdict, no diagnosis); "after" judges the notebook as
JudgedExecute does (execute.judge_notebook: verdicts, diagnosis, pictures).

    .venv/bin/python -m tests.submissions.bench_judge before   # then: ... after

The class: the reference notebook, every correct variant and every catalogue mistake, per assignment
(records made in-process once; only the judging is timed)."""
import statistics
import sys
import time

from autograder.grading.judge import execute
from tests import submissions as S
from tests.submissions import course as C

mode = sys.argv[1]
books = []
for a in C.ASSIGNMENTS:
    books.append(C.source_notebook(a) | {"_a": a})
for v in S.VARIANTS:
    nb = C.source_notebook(v.assignment)
    for fn, body in v.bodies.items():
        S.replace_body(nb, fn, body)
    books.append(nb | {"_a": v.assignment})
for m in S.MISTAKES:
    books.append(S.with_mistakes(C.source_notebook(m.assignment), [m]) | {"_a": m.assignment})
pairs = [S.records(nb["_a"], S.functions(nb, nb["_a"])) for nb in books]


def one(p):
    if mode == "before":
        return [execute.verdict(gid, rec) for gid, rec in p]
    return execute.judge_notebook(p)


passes = []
for k in range(4):  # pass 0: cold (imports, variant compilation, caches); passes 1-3: a long-lived worker
    times = []
    for p in pairs:
        t = time.perf_counter()
        one(p)
        times.append(time.perf_counter() - t)
    passes.append(times)
cold = passes[0]
warm = [min(ts) for ts in zip(*passes[1:])]
print(f"{mode}: {len(cold)} notebooks; cold pass total {sum(cold):.2f} s (max {max(cold)*1000:.0f} ms); "
      f"warm per notebook: mean {statistics.mean(warm)*1000:.1f} ms, median {statistics.median(warm)*1000:.1f} ms, "
      f"max {max(warm)*1000:.0f} ms")
