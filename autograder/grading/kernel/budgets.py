"""Per-notebook budgets: what the watchdog measures, and what a restart clears.

All of it reads folders and processes a kernel controls, so none of it
follows a link: sizes come from lstat, removals from a descriptor opened with
O_NOFOLLOW, memory from /proc.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import stat
import sys
import threading
import time

from traitlets import Bool, Float, HasTraits, Integer, Unicode

from .. import limits
from ..limits import GiB, MiB


def tree_bytes(top, max_entries):
    """(bytes allocated, entries) under top, never following a link; stops counting at max_entries."""
    total, entries, stack = 0, 0, [top]
    while stack and entries <= max_entries:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    entries += 1
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += max(st.st_blocks * 512, 0) if hasattr(st, "st_blocks") else st.st_size
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            pass
    return total, entries


def _pss(proc):
    """Proportional set size of a process (bytes): shared pages split between their sharers,
    so a fork bomb of copies is not counted as many full copies. RSS where smaps is missing."""
    try:
        with open(f"/proc/{proc.pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return proc.memory_info().rss


def tree_memory(pid):
    """Memory (bytes, PSS) of process pid and all its descendants."""
    import psutil
    try:
        root = psutil.Process(pid)
        procs = [root] + root.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += _pss(p)
        except psutil.Error:
            pass
    return total


def prune_outputs(outputs):
    """Remove from the kernel's outputs folder everything the judge would refuse as a record.

    Kept: regular files named *.json / *.npz within the exchange's size limits
    (earlier cells' records). Everything else (other names, links, folders,
    oversized files) goes, so a kernel that filled its disk does not leave it
    full for the next one. Never follows a link: entries are removed relative
    to the folder's own descriptor, opened with O_NOFOLLOW.
    """
    try:
        fd = os.open(outputs, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        keep = {name for name, _ in _records(fd)}
        for entry in os.scandir(fd):
            if entry.name in keep:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.name, dir_fd=fd, ignore_errors=True)
            else:
                os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)


def _records(folder_fd):
    """(name, size) of the entries of an outputs folder that can be records: regular *.json / *.npz within limits."""
    from ..exchange import MAX_JSON_BYTES, MAX_NPZ_BYTES
    limits = {".json": MAX_JSON_BYTES, ".npz": MAX_NPZ_BYTES}
    for entry in os.scandir(folder_fd):
        st = entry.stat(follow_symlinks=False)
        limit = limits.get(os.path.splitext(entry.name)[1])
        if stat.S_ISREG(st.st_mode) and limit is not None and st.st_size <= limit:
            yield entry.name, st.st_size


def allocated(st):
    """Bytes a file costs wherever it is copied: its apparent size, or its blocks if more.

    A sparse file costs nothing where the kernel wrote it and its full
    apparent size once copied (30 sparse 64 MB records filled the host's /tmp).
    """
    return max(st.st_size, getattr(st, "st_blocks", 0) * 512)


def copy_records(src, dst, grade_ids, total=None):
    """Copy this notebook's records from the kernel's outputs folder src to the judge's dst.

    Only `<grade_id>.json` and `<grade_id>.npz` for the notebook's grade_ids,
    by exact name, each a regular file within its limit, never following a
    link; the records together at most `total` bytes (allocated). A record
    that is refused is replaced by a small one saying why (read as a bad
    record by the judge: exchange.read_output). Returns {name: why} refused.
    """
    from ..exchange import MAX_JSON_BYTES, MAX_NPZ_BYTES, MAX_RECORD_TOTAL
    total = MAX_RECORD_TOTAL if total is None else total
    flags = os.O_RDONLY | os.O_NOFOLLOW
    refused = {}
    try:
        fd = os.open(src, flags | os.O_DIRECTORY)
    except OSError:
        return refused
    try:
        for grade_id in sorted(grade_ids):
            for ext, limit in ((".json", MAX_JSON_BYTES), (".npz", MAX_NPZ_BYTES)):
                name = grade_id + ext
                try:
                    f = os.open(name, flags | os.O_NONBLOCK, dir_fd=fd)
                except FileNotFoundError:
                    continue
                except OSError:
                    refused[name] = f"{name} is not a regular file"
                    continue
                with os.fdopen(f, "rb") as fin:
                    st = os.fstat(fin.fileno())
                    cost = allocated(st)
                    if not stat.S_ISREG(st.st_mode) or cost > limit:
                        refused[name] = f"{name} is not a regular file of at most {limit} bytes"
                    elif cost > total:
                        refused[name] = (f"the records of this notebook hold more than "
                                         f"{MAX_RECORD_TOTAL // 2**20} MiB together; {name} was not kept")
                    else:
                        total -= cost
                        try:
                            with open(os.path.join(dst, name), "wb") as fout:
                                fout.write(fin.read(st.st_size + 1)[:st.st_size])
                        except OSError as e:
                            refused[name] = f"{name} could not be kept ({e.strerror})"
        for name in refused:  # the judge reads why instead of a record ("no result" would mislead)
            base = os.path.join(dst, os.path.splitext(name)[0])
            for ext in (".json", ".npz"):
                with contextlib.suppress(OSError):
                    os.unlink(base + ext)
            with contextlib.suppress(OSError), open(base + ".json", "w") as out:
                json.dump({"refused": refused[name]}, out)
    finally:
        os.close(fd)
    return refused


def record_ids(exchange):
    """The grade_ids the judge wrote inputs for (its own folder, which the kernel cannot write)."""
    try:
        return {n[:-5] for n in os.listdir(os.path.join(exchange, "inputs")) if n.endswith(".json")}
    except OSError:
        return set()


def run_all(*steps, log=None):
    """Run every cleanup step, whatever an earlier one raised; returns the errors (and logs them)."""
    errors = []
    for step in steps:
        try:
            step()
        except Exception as e:
            errors.append(e)
            if log is not None:
                log.warning("cleanup step %s failed: %s", getattr(step, "__name__", step), e)
    return errors


MOUNT_NAMES = ("btc-notebook", "btc-exchange")  # the tmpfs sources grading mounts (mountinfo shows them)


def mount_disk(path, size, files, name="btc-notebook"):
    """Mount a tmpfs of `size` bytes and `files` inodes at path (root only); True if it is mounted.

    Everything a kernel can write then lives on it, so the disk budget is
    exact (ENOSPC), not watched: a burst between two looks cannot overshoot.
    """
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    options = f"size={size},nr_inodes={files},mode=0700"
    return _libc().mount(name.encode(), os.fsencode(path), b"tmpfs", 0, options.encode()) == 0


def unmount_disk(path):
    """Unmount path; lazily (MNT_DETACH) when it is busy."""
    if _libc().umount2(os.fsencode(path), 0) != 0:
        _libc().umount2(os.fsencode(path), 2)


@functools.lru_cache(maxsize=None)
def _libc():
    """The C library, for mount(2) and umount2(2): the system calls cost microseconds where running
    mount(8) and umount(8) cost ~9 ms per notebook's pair (two pairs per notebook)."""
    import ctypes
    return ctypes.CDLL(None, use_errno=True)


def grading_mounts(under):
    """Mount points of grading's tmpfs (MOUNT_NAMES) at or below the folder `under`, deepest first."""
    under = os.path.realpath(under).rstrip("/") + "/"
    found = []
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                sep = fields.index("-")
                point = fields[4].encode().decode("unicode_escape")  # \040 for a space ...
                if fields[sep + 2] in MOUNT_NAMES and (point + "/").startswith(under):
                    found.append(point)
    except (OSError, ValueError, IndexError):
        return []
    return sorted(found, key=len, reverse=True)


def remove_tree(top, log=None):
    """Unmount every grading tmpfs below top, then remove it (what a killed worker left); errors logged."""
    steps = [functools.partial(unmount_disk, point) for point in grading_mounts(top)]
    steps.append(functools.partial(shutil.rmtree, top, ignore_errors=True))
    return run_all(*steps, log=log)


# Folders grading makes in a temporary folder, named <prefix>-<pid of the process that owns them>-...
OWNED_PREFIXES = ("sbx", "btcx")  # short: the kernel's IPC socket path below it must fit in 107 bytes
_OWNED = re.compile(r"^(%s)-(\d+)-" % "|".join(OWNED_PREFIXES))


def owned_name(prefix):
    """The mkdtemp prefix of a folder this process owns (sweep_stale removes it once the process is gone)."""
    return f"{prefix}-{os.getpid()}-"


def sweep_stale(top, log=None):
    """Remove what grading processes that no longer exist left in top: their folders and tmpfs mounts.

    Only folders named for their owner (OWNED_PREFIXES) whose owner process is
    gone, and only this user's: a run beside this one keeps everything.
    """
    removed = []
    try:
        entries = list(os.scandir(top))
    except OSError:
        return removed
    for entry in entries:
        match = _OWNED.match(entry.name)
        try:
            mine = entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.geteuid()
        except OSError:
            continue
        if match and mine and not os.path.exists(f"/proc/{match.group(2)}"):
            remove_tree(entry.path, log=log)
            removed.append(entry.path)
    return removed


class BudgetWatch(HasTraits):
    """Mixed into the kernel manager: a watchdog thread and a wall clock for one notebook.

    The manager sets `_writable` (the folders the kernel can write) before each
    start and calls `_start_watchdog()` and `_arm_timer()` after it.
    """

    memory_budget = Integer(limits.MEMORY_BUDGET, config=True,
                            help="Memory (PSS) of all the kernel's processes together; over it, the kernel is killed.")
    disk_budget = Integer(limits.DISK_BUDGET, config=True,
                          help="Bytes in the folders the kernel can write (its copy of the notebook's folder, "
                               "IPC, exchange outputs); over it, the kernel is killed.")
    max_files = Integer(limits.MAX_FILES, config=True, help="Entries in those folders; over it, the kernel is killed.")
    watch_interval = Float(0.25, config=True, help="Seconds between two looks of the watchdog.")
    notebook_timeout = Float(
        limits.NOTEBOOK_TIMEOUT, allow_none=True, config=True,
        help="Wall-clock seconds for a whole notebook (all kernel restarts together); "
             "the kernel is killed when they are used up. None: no limit.",
    )
    notebook_time_exceeded = Bool(False)
    budget_exceeded = Unicode("")  # "" or what the watchdog found over budget

    # -- per-notebook budgets: a watchdog thread --------------------------------
    def _start_watchdog(self):
        proc = getattr(self.provisioner, "process", None)
        if proc is None:
            return
        stop = threading.Event()
        if self._watch is not None:
            self._watch[1].set()
        thread = threading.Thread(target=self._watchdog, args=(proc, stop), daemon=True,
                                  name=f"sandbox-watchdog-{proc.pid}")
        self._watch = (thread, stop)
        thread.start()

    def over_budget(self, pid):
        """What is over the notebook's budget now ("" if nothing): memory of the process tree, disk, files."""
        rss = tree_memory(pid)
        if rss > self.memory_budget:
            return (f"memory: its processes together held {rss / GiB:.1f} GiB, more than the "
                    f"{self.memory_budget / GiB:.1f} GiB a notebook may use")
        used = files = 0
        for top in self._writable:
            b, n = tree_bytes(top, self.max_files)
            used, files = used + b, files + n
        if files > self.max_files:
            return f"files: it created more than {self.max_files} files"
        if used > self.disk_budget:
            return (f"disk: it wrote {used / MiB:.0f} MiB, more than the "
                    f"{self.disk_budget / MiB:.0f} MiB a notebook may write")
        return ""

    def _watchdog(self, proc, stop):
        while not stop.wait(self.watch_interval):
            if proc.poll() is not None:
                return
            try:
                found = self.over_budget(proc.pid)
            except Exception as e:  # never let the watchdog die silently
                found = ""
                self.log.debug("watchdog: %s", e)
            if found:
                self.budget_exceeded = found
                self.log.warning("notebook over budget (%s): killing its kernel", found)
                self._kill_group(proc)
                return

    @staticmethod
    def _kill_group(proc):
        try:
            os.killpg(os.getpgid(proc.pid), signal.SIGKILL)
        except (OSError, AttributeError):
            try:
                proc.kill()
            except OSError:
                pass

    # -- per-notebook wall clock ----------------------------------------------
    def remaining_seconds(self):
        """Seconds left of the notebook's wall-clock budget (None: unlimited)."""
        if self.notebook_timeout is None:
            return None
        if self._t0 is None:
            return self.notebook_timeout
        return self.notebook_timeout - (time.monotonic() - self._t0)

    def _arm_timer(self):
        self._cancel_timer()
        left = self.remaining_seconds()
        if left is None:
            return
        self._timer = threading.Timer(max(left, 0.0), self._time_up)
        self._timer.daemon = True
        self._timer.start()

    def _cancel_timer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _time_up(self):
        self.notebook_time_exceeded = True
        self.log.warning("notebook wall-clock limit (%ss) reached: killing its kernel",
                         self.notebook_timeout)
        prov = self.provisioner
        proc = getattr(prov, "process", None) if prov is not None else None
        if proc is not None:
            self._kill_group(proc)
