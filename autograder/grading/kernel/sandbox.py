"""Launch every grading kernel in a sandbox.

`SandboxKernelManager` is a jupyter_client `AsyncKernelManager` whose kernel
process is wrapped, on Linux with bubblewrap installed, in

    bwrap  <read-only system + Python + venv>  <private /tmp, /var/tmp, /dev/shm>
           <writable private copy of the notebook's folder>
           <a fresh IPC folder per start>  <the exchange folder>
           --unshare-all-but-user  --cap-drop ALL (+ SETUID/SETGID until the drop)
      python -I -S -c <limits launcher>   (cwd "/": nothing of the student's is importable)
        <rlimits, drop to an unprivileged uid, no new privileges, chdir>
        python -c <kernel boot: debugpy unimportable, then ipykernel_launcher as -m runs it> -f <connection file>

so the student's code sees nothing of the course (no `solutions/`, no
gradebook, no other submission, no source notebooks), cannot reach the
network, never runs with privileges (the launcher is isolated from the
student's folder and from PYTHON* variables, and the kernel starts only after
the uid drop), sees none of the grader's environment except a short
allow-list (`DEFAULT_PASS_ENV`; a name that looks like a secret never passes),
and is bounded per process (CPU time, address space, processes, file size,
open files) and per notebook (a watchdog kills the kernel when all its
processes together use more than `memory_budget` of RAM, or its writable
folders more than `disk_budget`; a wall clock ends a notebook that ran too
long). `budget_exceeded` / `notebook_time_exceeded` say which limit ended it.

The trusted side never follows a link or trusts a path inside a folder the
kernel can write: every start gets a new IPC folder made by the grader (the
connection file is written into it before the kernel exists), old IPC folders
are removed without following links, and folders are handed to the kernel's
uid with lchown, once, before the kernel first runs.

Without bubblewrap grading is refused (`sandbox = "require"`, the course's
default) unless the instructor opts out (`sandbox = "off"`, e.g. with
BTC_ALLOW_UNSANDBOXED=1); `sandbox_status()` says which.

Only the kernel is untrusted: this module runs in the grader's process.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from fnmatch import fnmatch
from pathlib import Path

from jupyter_client.connect import port_names
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, CaselessStrEnum, Integer, List, Unicode

from .. import limits
from .budgets import ( # noqa: E501
    BudgetWatch, copy_records, mount_disk, owned_name, prune_outputs, record_ids, run_all, unmount_disk,
)
from .client import Handshakes
from .launcher import (
    _LAUNCHER, DEFAULT_PASS_ENV, EXCHANGE_ENV, FIXED_ENV, NEVER_PASS_ENV, _tasks_of_uid, _warn_once,
    boot_kernel, bwrap_path, missing_protections, neutral_workdir, sandbox_status,
)

_counter = itertools.count()

# Every sandbox folder made in this process -> how to release it, so the
# notebook's executor can make sure none outlives its notebook, whatever
# happened to its kernel.
RUNDIRS = {}


class SandboxKernelManager(Handshakes, BudgetWatch, AsyncKernelManager):
    """An AsyncKernelManager that starts the kernel sandboxed and resource-limited (budgets: BudgetWatch;
    its client and its waits on a start and a stop: Handshakes)."""

    sandbox = CaselessStrEnum(
        ["auto", "require", "off"], default_value="require", config=True,
        help="require: refuse to start a kernel without a working bubblewrap; "
             "off: no sandbox, limits only (an explicit opt-out); auto: bubblewrap where available.",
    )
    cpu_seconds = Integer(limits.CPU_SECONDS, config=True, help="RLIMIT_CPU of the kernel process (s).")
    address_space = Integer(limits.ADDRESS_SPACE, config=True, help="RLIMIT_AS of the kernel (bytes).")
    max_processes = Integer(
        limits.MAX_PROCESSES, config=True,
        help="RLIMIT_NPROC for the kernel's uid (threads count too); "
             "enforced when the kernel runs as its own unprivileged uid.",
    )
    file_size = Integer(limits.FILE_SIZE, config=True, help="RLIMIT_FSIZE: largest file the kernel may write.")
    open_files = Integer(limits.OPEN_FILES, config=True, help="RLIMIT_NOFILE.")
    tmp_size = Integer(limits.TMP_SIZE, config=True, help="Size of the private /tmp (tmpfs; /var/tmp is the same).")
    shm_size = Integer(limits.SHM_SIZE, config=True, help="Size of the private /dev/shm (tmpfs).")
    uid_base = Integer(
        200000, config=True,
        help="When the grader runs as root, each kernel runs as its own uid "
             "uid_base + k (not in /etc/passwd), so RLIMIT_NPROC bounds it alone.",
    )
    pass_env = List(Unicode(), DEFAULT_PASS_ENV, config=True,
                    help="fnmatch patterns of environment variables the kernel keeps "
                         "(names matching NEVER_PASS_ENV are dropped regardless).")
    extra_ro_paths = List(Unicode(), [], config=True,
                          help="More host paths to show read-only inside the sandbox.")
    copy_workdir = Bool(True, config=True,
                        help="Run in a private copy of the notebook's folder.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rundir = None
        self._disk = None        # where the kernel's writable folders live (a tmpfs when root)
        self._mounted = False
        self._outputs = None     # (the kernel's outputs folder, the judge's) when they differ
        self._record_ids = ()    # the grade_ids whose records are copied from the one to the other
        self._written = None     # where the kernel writes its records
        self._ipc = None
        self._uid = None
        self._timer = None
        self._t0 = None
        self._watch = None
        self._writable = []      # host folders the kernel can write (watched for the disk budget)
        self._handed_over = set()  # folders already given to the kernel's uid
        self.sandboxed = False

    # -- launching -------------------------------------------------------------
    def _use_bwrap(self):
        if self.sandbox == "off":
            return False
        found = bwrap_path()
        if found is None and self.sandbox == "require":
            raise RuntimeError(sandbox_status("require")[1])
        return found is not None

    def _new_ipc_folder(self):
        """A fresh folder for this start's sockets and connection file, made by the grader.

        The kernel owns the previous one and may have filled it with links: it
        is removed (shutil.rmtree never follows a link) and never reused.
        """
        old = self._ipc
        self._ipc = tempfile.mkdtemp(prefix="ipc-", dir=self._disk)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        self.transport = "ipc"
        self.cache_ports = False
        self.ip = os.path.join(self._ipc, "k")
        self.connection_file = os.path.join(self._ipc, "kernel.json")
        self._connection_file_written = False
        for name in port_names:
            setattr(self, name, 0)

    async def _async_pre_start_kernel(self, **kw):
        use_bwrap = self._use_bwrap()
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        self.budget_exceeded = ""
        if self._rundir is None:
            self._rundir = tempfile.mkdtemp(prefix=owned_name("sbx"))  # 0700, the grader's alone
            RUNDIRS[self._rundir] = self._release
            self._disk = os.path.join(self._rundir, "disk")
            os.mkdir(self._disk, 0o700)
            if as_root and use_bwrap:
                self._uid = self.uid_base + (os.getpid() % 65536) * 16 + next(_counter) % 16
                self._mounted = mount_disk(self._disk, self.disk_budget, self.max_files)
        if use_bwrap:
            self._new_ipc_folder()  # IPC sockets in a folder bound into the sandbox: no TCP needed
        missing = missing_protections(use_bwrap, as_root)
        if missing:
            _warn_once(("missing",) + tuple(missing),
                       "grading kernels run WITHOUT: " + "; ".join(missing), self.log)

        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)  # writes the connection file

        env = self._kernel_env(kw.get("env") or os.environ)
        cwd, inside = neutral_workdir(kw.get("cwd") or os.getcwd(), use_bwrap)  # never the course's path
        limits = self._limits(as_root)
        uid = "" if self._uid is None else str(self._uid)
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, json.dumps(limits), uid, uid,
                    "1" if use_bwrap else "0", inside]
        kernel_cmd = launcher + boot_kernel([self._resolve_exe(kernel_cmd[0])] + kernel_cmd[1:])
        self._writable = []
        if use_bwrap:
            self._hand_over(self._ipc, self.connection_file)
            # Interrupts are SIGINT to the launched process group: bwrap itself
            # must ignore it (or it dies and takes the kernel with it); the
            # launcher restores the default before the kernel starts.
            kernel_cmd = ["/bin/sh", "-c", 'trap "" INT; exec "$@"', "sh"] \
                + self._bwrap_argv(cwd, env, inside) + kernel_cmd
            self.sandboxed = True
        kw["env"] = env
        kw["cwd"] = "/"  # the launcher moves into the notebook's folder after the drop
        # The kernel's own stdout/stderr (os.write(1, ...), C-level prints)
        # go to a log file, never to the grader's terminal; RLIMIT_FSIZE bounds it.
        kw["stdin"] = subprocess.DEVNULL
        log = open(os.path.join(self._rundir, "kernel.log"), "ab")
        kw["stdout"] = log
        kw["stderr"] = log
        return kernel_cmd, kw

    def _hand_over(self, *paths):
        """Give the kernel's uid paths the grader has just made (never a path the kernel could have touched)."""
        if self._uid is None:
            return
        for path in paths:
            os.chown(path, self._uid, self._uid, follow_symlinks=False)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            for key in ("stdout", "stderr"):
                f = kw.get(key)
                if hasattr(f, "close"):
                    f.close()
        if self._t0 is None:
            self._t0 = time.monotonic()
        self._arm_timer()
        self._start_watchdog()

    def _limits(self, as_root):
        limits = {
            "RLIMIT_CPU": self.cpu_seconds,
            "RLIMIT_FSIZE": self.file_size,
            "RLIMIT_NOFILE": self.open_files,
            "RLIMIT_CORE": 0,
        }
        if sys.platform != "darwin":
            limits["RLIMIT_AS"] = self.address_space
        if self._uid is not None:  # the kernel's own uid: the limit bounds it alone
            limits["RLIMIT_NPROC"] = self.max_processes
        elif not as_root:  # the grader's uid: its processes count too, so add them
            running = _tasks_of_uid(os.getuid())
            if running is not None:
                limits["RLIMIT_NPROC"] = running + self.max_processes
        return limits

    @staticmethod
    def _resolve_exe(exe):
        return shutil.which(exe) or exe

    def _kernel_env(self, source):
        """The kernel's environment: the allow-list, minus anything named like a secret, plus fixed values."""
        env = {k: v for k, v in source.items()
               if any(fnmatch(k, pat) for pat in self.pass_env)
               and not (k != EXCHANGE_ENV and any(fnmatch(k.upper(), pat) for pat in NEVER_PASS_ENV))}
        home = "/tmp" if self._use_bwrap() else os.path.join(self._rundir, "home")
        if home != "/tmp":
            os.makedirs(home, exist_ok=True)
        env.update(FIXED_ENV)
        env.update(HOME=home, IPYTHONDIR=os.path.join(home, ".ipython"),
                   MPLCONFIGDIR=os.path.join(home, ".matplotlib"),
                   JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"),
                   PATH=os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]))
        return env

    def _python_paths(self):
        """Host folders the kernel's interpreter needs, read-only."""
        paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        exe = Path(sys.executable)
        paths.add(str(exe.parent))
        paths.add(str(exe.resolve().parent.parent))
        for p in sys.path:
            if p and os.path.isdir(p) and ("site-packages" in p or p.endswith("lib-dynload")):
                paths.add(p)
        return sorted({os.path.realpath(p) for p in paths if p and os.path.exists(p)} | set(paths))

    def _bwrap_argv(self, cwd, env, inside=None):
        argv = [bwrap_path(), "--die-with-parent",
                "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--hostname", "sandbox"]
        if os.geteuid() == 0:
            # No capability survives into the sandbox but the two the launcher needs
            # for its uid drop, which clears them (no mount, mknod, chown, ptrace...).
            argv += ["--cap-drop", "ALL"]
            if self._uid is not None:
                argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        # The system, read-only. Merged-/usr links stay links.
        for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"):
            if os.path.islink(top):
                argv += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                argv += ["--ro-bind", top, top]
        # Scratch space in RAM, each bounded: /tmp (and /var/tmp, the same), /dev/shm.
        argv += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(self.shm_size), "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--size", str(self.tmp_size), "--tmpfs", "/tmp",
                 "--dir", "/var", "--symlink", "../tmp", "/var/tmp"]
        # bwrap makes missing parents of a mount point mode 0700 (as root):
        # make them 0755 first so the unprivileged kernel can traverse them.
        made = {"/", "/tmp", "/usr", "/etc", "/opt", "/proc", "/dev", "/var", "/var/tmp"}

        def parents(path):
            out = []
            for parent in reversed(Path(path).parents):
                parent = str(parent)
                if parent not in made:
                    made.add(parent)
                    out += ["--perms", "0755", "--dir", parent]
            return out

        bound = []
        for p in self._python_paths() + list(self.extra_ro_paths):
            if not os.path.exists(p) or p == "/" or any(
                    p == b or p.startswith(b.rstrip("/") + "/")
                    for b in bound + ["/usr", "/etc", "/opt"]):
                continue
            bound.append(p)
            argv += parents(p) + ["--ro-bind", p, p]
        # The notebook's folder: a private, writable copy at the same path, made
        # afresh at every start (the kernel may have left anything in the last one).
        work = cwd
        if self.copy_workdir:
            work = os.path.join(self._disk, "work")
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(cwd, work, symlinks=True)
            self._hand_over(*[os.path.join(root, d) for root, dirs, _ in os.walk(work) for d in dirs], work)
        argv += parents(inside or cwd) + ["--bind", work, inside or cwd]
        self._writable = [work, self._ipc]
        argv += parents(self._ipc) + ["--bind", self._ipc, self._ipc]
        exchange = env.get(EXCHANGE_ENV)
        if exchange and os.path.isabs(exchange) and os.path.isdir(exchange) and not os.path.islink(exchange):
            outputs = os.path.join(exchange, "outputs")
            if exchange not in self._handed_over:  # made by the judge; the kernel has not run yet
                self._handed_over.add(exchange)
                os.chmod(exchange, 0o755)  # the grader's, readable: the kernel reads its inputs ...
                if self._mounted:  # ... and writes its records on its own bounded disk,
                    self._record_ids = record_ids(exchange)  # listed before the kernel runs
                    self._outputs = (os.path.join(self._disk, "outputs"), outputs)
                    os.mkdir(self._outputs[0], 0o755)
                    self._hand_over(self._outputs[0])
                else:              # ... or in the judge's folder, watched
                    self._hand_over(outputs)
            else:  # a restart: what the last kernel left there that no record can be goes
                prune_outputs(self._outputs[0] if self._outputs else outputs)
            written = self._written = self._outputs[0] if self._outputs else outputs
            self._writable.append(written)
            argv += parents(exchange) + ["--bind", exchange, exchange, "--bind", written, outputs]
        argv += ["--chdir", "/", "--"]
        return argv

    # -- cleanup ---------------------------------------------------------------
    async def _async_cleanup_resources(self, restart=False):
        try:
            await super()._async_cleanup_resources(restart=restart)
        finally:
            if self._watch is not None:
                self._watch[1].set()
            if not restart:
                self._cancel_timer()
                self._release()

    # jupyter_client binds the public names to its own coroutines; nbclient calls
    # cleanup_resources() directly for a kernel that is already dead.
    cleanup_resources = _async_cleanup_resources

    def has_record(self, name):
        """Whether the kernel has written an entry `name` among its records (a link counts; nothing is followed)."""
        return bool(self._written) and os.path.lexists(os.path.join(self._written, name))

    async def _async_shutdown_kernel(self, now=False, restart=False):
        # jupyter_client interrupts a kernel before it stops it, which can raise for
        # one that is already gone: the sandbox is released whatever happens on the way.
        try:
            await super()._async_shutdown_kernel(now=now, restart=restart)
        finally:
            if not restart:
                self._cancel_timer()
                self._release()

    shutdown_kernel = _async_shutdown_kernel

    def _release(self):
        """The notebook is over: hand its records to the judge, then remove every trace of the sandbox
        (each step runs whatever an earlier one raised)."""
        if not self._rundir:
            return
        rundir, disk, outputs, mounted = self._rundir, self._disk, self._outputs, self._mounted
        self._rundir = self._disk = self._ipc = self._outputs = None
        self._mounted = False
        RUNDIRS.pop(rundir, None)
        run_all(lambda: outputs and copy_records(*outputs, self._record_ids),
                lambda: mounted and unmount_disk(disk),
                lambda: shutil.rmtree(rundir, ignore_errors=True), log=self.log)

    def kernel_log_tail(self, nbytes=2000):
        """The end of what the kernel wrote to its own stdout/stderr (for diagnosing a crash)."""
        if not self._rundir:
            return ""
        try:
            with open(os.path.join(self._rundir, "kernel.log"), "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - nbytes))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

