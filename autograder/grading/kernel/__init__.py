"""The student's kernel and what stands around it: it runs hostile code, so nothing here knows the cases.

launcher.py   the script bubblewrap starts, its fixed environment and the exchange folder's name
sandbox.py    the sandboxed kernel manager (bubblewrap, a minimal environment, a private disk)
client.py     the grader's end of its channels: bounded queues, handshakes without idle waits
budgets.py    memory, disk and record budgets watched from outside the kernel
recovering.py surviving dead, stuck and flooding kernels; kernel events recorded as data
"""
