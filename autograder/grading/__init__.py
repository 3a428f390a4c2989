"""Trusted grading code: never shipped to students, never imported by their kernels.

Folders by where code runs; the arrows run one way, down this list (tests/test_structure.py):
run/        the parent and its workers: grade, release, collect, pool, worker, cluster, results, patches
pages/      what people read: feedback pages and the class report
judge/      JudgedExecute: nbgrader's Execute with the verdict taken outside the kernel
diagnosis/  naming a failing function's mistake; explaining an exception at the student's line
cases/      one GradedFunction declaration per graded name, and the registry of cases derived from it
kernel/     the sandboxed kernel (launcher, sandbox, budgets, recovering): nothing here knows the cases
(top)       what every side shares: course.py (the course every step receives), limits.py (every
            limit), exchange.py (the protocol between kernel and judge), precheck.py (folders that
            cannot be graded), nofollow.py, permissions.py, terminal.py

autograder/GRADING.md has the picture, the file table and the threat model.
"""
