"""Trusted grading code: never shipped to students, never imported by their kernels.

The pipeline (autograder/GRADING.md has the picture and the threat model):
course.py     the course every step receives: folders, config, gradebook, discovery
precheck.py   folders that cannot be graded, found before nbgrader copies them
pool.py       `make grade JOBS=N`: long-lived workers (worker.py), one writer (gradebooks.py)
results.py    the typed result of one notebook, worker -> parent -> summary -> report
execute.py    JudgedExecute: nbgrader's Execute, with a judge outside the kernel
cases.py      every graded case (grade_id -> inputs, reference, comparison, points, equation)
exchange.py   the file format between the student's kernel and the judge
diagnose.py   naming a failing function's mistake (mistakes.py, signatures.py, picture.py)
recovering.py surviving dead, stuck and flooding kernels; time budgets
sandbox.py    the sandboxed kernel (launcher.py before it, budgets.py around it)
feedback.py   safe feedback pages (feedback_assets.py: their MathJax)
report.py     the instructor's class report
patches.py    every patch of nbgrader's internals, behind a version check
grade.py      `make grade`;  release.py  `make release`
"""
