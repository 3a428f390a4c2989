"""Trusted grading code: never shipped to students, never imported by their kernels.

cases.py     every graded case (grade_id -> inputs, reference, comparison, points)
exchange.py  the file format between the student's kernel and the judge
execute.py   JudgedExecute: nbgrader's Execute, with a judge outside the kernel
release.py   `make release`
grade.py     `make grade`
"""
