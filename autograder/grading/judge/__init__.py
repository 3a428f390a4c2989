"""The trusted judge: nbgrader's Execute with the verdict taken outside the kernel.

execute.py    JudgedExecute: runs a notebook's cells in the sandboxed kernel (kernel/), reads each test
              cell's records through the exchange protocol, judges them against the cases (cases/) and
              writes the verdict and its diagnosis (diagnosis/) into the graded notebook
"""
