"""The grading run: the parent process and its workers (no kernel code, no judging of its own).

grade.py      `make grade`; release.py `make release`; collect.py `make collect` (nofollow copies)
pool.py       `make grade JOBS=N`: long-lived workers (worker.py), one writer (gradebooks.py)
cluster.py    the same in three repeatable steps (prepare, shard, finish) and `make slurm-grade`
results.py    the typed result of one notebook; progress.py the live table and the end-of-run summary
export.py     grades for a spreadsheet and Canvas; roster.py the class list in
patches.py    every patch of nbgrader's internals, behind a version check
"""
