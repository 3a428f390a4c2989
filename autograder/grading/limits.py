"""Every grading limit, defined once; and the judge's own deadline and memory allowance.

The numbers below are the only place each limit is written. The kernel's and
the notebook's are the defaults of the traits that apply them (sandbox.py's
SandboxKernelManager, budgets.py's BudgetWatch, recovering.py's
RecoveringExecute), so `nbgrader_config.py` can still change any of them;
the others are read from here by the module that applies them.
README.md and GRADING.md state these values; tests/test_structure.py checks
that they state the configured ones.

The judge's own limits (the last part of this file) bound it after the kernel
has stopped. Reading and comparing records is bounded by construction
(exchange.py caps entries, nodes and bytes; compare.py clips text). These
limits hold even where a bound was missed: a record that takes the judge
longer than its deadline, or more memory than its allowance, is a bad record
for its case.
"""
from __future__ import annotations

import contextlib
import signal
import threading

MiB = 2**20
GiB = 2**30

# ---- each process of a kernel (SandboxKernelManager traits; launcher.py applies them)
CPU_SECONDS = 300            # RLIMIT_CPU
ADDRESS_SPACE = 4 * GiB      # RLIMIT_AS
MAX_PROCESSES = 128          # RLIMIT_NPROC of the kernel's uid (threads count too)
FILE_SIZE = 64 * MiB         # RLIMIT_FSIZE
OPEN_FILES = 256             # RLIMIT_NOFILE
TMP_SIZE = 256 * MiB         # the private /tmp (= /var/tmp)
SHM_SIZE = 64 * MiB          # the private /dev/shm
RECEIVE_QUEUE = 64           # messages queued per channel from a kernel (ZMQ high-water mark)

# ---- one notebook, whatever it forks or writes (BudgetWatch traits: the watchdog and the wall clock)
MEMORY_BUDGET = 4 * GiB      # PSS of all the kernel's processes together
DISK_BUDGET = 256 * MiB      # bytes in the folders the kernel can write
MAX_FILES = 5000             # entries in those folders
NOTEBOOK_TIMEOUT = 900.0     # wall-clock seconds, all kernel restarts together

# ---- cells (RecoveringExecute traits; the cell timeout is nbgrader's Execute.timeout, set by the config)
CELL_TIMEOUT = 60            # seconds a cell may run at most
CASE_FLOOR = 8.0             # seconds every graded test cell gets at least ...
CASE_FACTOR = 200.0          # ... or this many times the reference's time on its case
SOLUTION_TIMEOUT = 15.0      # seconds a solution cell (a def) gets
MAX_OUTPUT_CHARS = 20000     # output text kept per cell, cut as it arrives
MAX_RESTARTS = 8             # kernel restarts per notebook

# ---- the records a kernel writes for the judge (exchange.py, budgets.copy_records)
RECORD_JSON_BYTES = 1_000_000  # a record's .json
RECORD_NPZ_BYTES = 64_000_000  # a record's .npz
RECORD_VALUES = 2000         # encodings decoded per record, all levels together
RECORD_ARRAYS = 64           # arrays in a record's .npz (and items in a list, tuple or dict)
RECORD_TOTAL = 96 * MiB      # bytes of all one notebook's records together

# ---- the judge, after the kernel stopped (execute.py)
RECORD_SECONDS = 20.0        # reading and comparing one record
DIAGNOSIS_SECONDS = 60.0     # a notebook's diagnosis
JUDGE_MEMORY = 2 * GiB       # more address space while it judges
VERDICT_CHARS = 6000         # characters of one verdict's text

# ---- a submitted folder, before nbgrader copies it (precheck.py; nofollow.py for collect)
NOTEBOOK_BYTES = 50 * MiB    # a notebook file
MAX_CELLS = 2000             # cells of a notebook
FOLDER_ENTRIES = 200         # files and folders of a submitted folder
FOLDER_DEPTH = 8             # levels of folders
FOLDER_BYTES = 64 * MiB      # bytes of all its files (apparent size)

# ---- the grading processes (worker.py, pool.py)
WORKER_ADDRESS_SPACE = 8 * GiB  # a worker's own RLIMIT_AS
JOB_TIMEOUT = 3600.0         # seconds one notebook may keep its worker before the worker is replaced


class JudgeTimeout(BaseException):
    """The judge's time for one record ran out (a BaseException: no `except Exception` of the judge hides it)."""


@contextlib.contextmanager
def deadline(seconds):
    """Raise JudgeTimeout in this (main) thread after `seconds`; elsewhere the judge's bounds alone hold."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise JudgeTimeout(f"more than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _address_space():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


@contextlib.contextmanager
def memory_limit(extra):
    """Let this process grow by at most `extra` bytes of address space within the block (RLIMIT_AS).

    The judge decodes what a kernel wrote; past this, an allocation raises
    MemoryError (that record's fault) instead of taking the host's memory.
    """
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        now = _address_space()
    except ImportError:
        now = None
    if now is None:
        yield
        return
    limit = now + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    lowered = soft == resource.RLIM_INFINITY or limit < soft
    if lowered:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        if lowered:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
