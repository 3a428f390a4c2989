"""Trusted grading code: never shipped to students, never imported by their kernels.

The pipeline (autograder/GRADING.md has the picture and the threat model):
course.py     the course every step receives: folders, config, gradebook, discovery
collect.py    `make collect`: nbgrader's inbound folders, treated as hostile (nofollow.py copies)
permissions.py course data no student can read; terminal.py: no control byte reaches a terminal
precheck.py   folders that cannot be graded, found before nbgrader copies them
pool.py       `make grade JOBS=N`: long-lived workers (worker.py), one writer (gradebooks.py)
cluster.py    the same in three repeatable steps (prepare, shard, finish) and `make slurm-grade`
results.py    the typed result of one notebook, worker -> parent -> summary -> report
execute.py    JudgedExecute: nbgrader's Execute, with a judge outside the kernel (limits.py bounds it)
functions.py  one GradedFunction declaration per graded name (outputs, hyper-parameters, calls,
              equations, its cases; inputs.py builds their inputs); cases.py the registry derived from
              it (grade_id -> inputs, reference, comparison, points, equation); compare.py its
              comparisons, draws.py the per-course and per-student inputs
exchange.py   the file format between the student's kernel and the judge
diagnose.py   naming a failing function's mistake (mistakes.py, mistakes_seen.py, signatures.py,
              picture.py); explain.py: an exception explained at the student's line
recovering.py surviving dead, stuck and flooding kernels; time budgets
sandbox.py    the sandboxed kernel (launcher.py before it, budgets.py around it)
feedback.py   safe feedback pages that stand alone (feedback_assets.py: MathML, sanitising)
report.py     the instructor's class report; status.py each submission's standing (late.py: penalties)
export.py     grades for a spreadsheet and Canvas; roster.py the class list in
patches.py    every patch of nbgrader's internals, behind a version check
grade.py      `make grade`;  release.py  `make release`
"""
