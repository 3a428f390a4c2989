"""The trusted judge's own limits: time per record and address space, after the kernel has stopped.

Reading and comparing records is bounded by construction (exchange.py caps
entries, nodes and bytes; compare.py clips text). These limits hold even
where a bound was missed: a record that takes the judge longer than its
deadline, or more memory than its allowance, is a bad record for its case.
"""
from __future__ import annotations

import contextlib
import signal
import threading


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
