"""Launch every grading kernel in a sandbox.

`SandboxKernelManager` is a jupyter_client `AsyncKernelManager` whose kernel
process is wrapped, on Linux with bubblewrap installed, in

    bwrap  <read-only system + Python + venv>  <private /tmp, /var/tmp, /dev/shm>
           <writable private copy of the notebook's folder>
           <a fresh IPC folder per start>  <the exchange folder>
           --unshare-all-but-user  --cap-drop ALL (+ SETUID/SETGID until the drop)
      python -I -S -c <limits launcher>   (cwd "/": nothing of the student's is importable)
        <rlimits, drop to an unprivileged uid, no new privileges, chdir>
        python -m ipykernel_launcher -f <connection file>

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
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from fnmatch import fnmatch
from pathlib import Path

from jupyter_client.connect import port_names
from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, CaselessStrEnum, Float, Integer, List, Unicode

GiB = 1024 ** 3
MiB = 1024 ** 2

# The launcher runs inside the sandbox, before the kernel, under `python -I -S`
# with "/" as its working folder (so no file of the student's can shadow a
# module it imports): it applies the resource limits, forgets the parent pid
# (ipykernel would otherwise poll a pid that does not exist in its pid
# namespace and exit), drops to the unprivileged uid, forbids regaining
# privileges, moves into the notebook's folder, then becomes the kernel.
# argv: [json limits, uid or "", gid or "", forget-parent "1"/"0", workdir, kernel argv...]
_LAUNCHER = r"""
import json, os, sys
limits, uid, gid, forget, workdir = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
import resource
for name, value in limits.items():
    lim = getattr(resource, name, None)
    if lim is None:
        continue
    try:
        resource.setrlimit(lim, (value, value))
    except (ValueError, OSError):
        try:
            hard = resource.getrlimit(lim)[1]
            soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(lim, (soft, hard))
        except (ValueError, OSError):
            pass
import signal
signal.signal(signal.SIGINT, signal.SIG_DFL)
if forget == "1":
    os.environ.pop("JPY_PARENT_PID", None)
if uid:
    os.setgroups([])
    os.setgid(int(gid))
    os.setuid(int(uid))
    if os.getuid() != int(uid) or os.geteuid() != int(uid) or os.getgid() != int(gid):
        sys.exit("sandbox: could not drop privileges")
    try:
        os.setuid(0)
    except OSError:
        pass
    else:
        sys.exit("sandbox: privileges could be regained")
if sys.platform.startswith("linux"):
    import ctypes
    if ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        sys.exit("sandbox: could not set no_new_privs")
os.chdir(workdir)
os.execv(sys.argv[6], sys.argv[6:])
"""

# Environment variables the kernel may see (fnmatch patterns); everything else
# of the grader's environment is dropped. The exchange folder's variable is the
# only grading variable a kernel needs.
EXCHANGE_ENV = "BTC_GRADER_EXCHANGE"
DEFAULT_PASS_ENV = [
    "LANG", "LANGUAGE", "LC_*", "TZ", "PYTHONHASHSEED",
    "JPY_SESSION_NAME", "JPY_PARENT_PID", EXCHANGE_ENV,
]
# Names that never pass, whatever pass_env says (a configuration mistake must
# not hand a password to a student).
NEVER_PASS_ENV = ["*URL*", "*PASS*", "*SECRET*", "*TOKEN*", "*KEY*", "*CRED*", "*AUTH*",
                  "*GRADEBOOK*", "*DB*", "PG*", "AWS_*", "GIT*", "SSH_*", "PYTHONPATH", "PYTHONSTARTUP"]
# Set for every kernel: one BLAS thread (deterministic sums, few threads against RLIMIT_NPROC).
FIXED_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}

_warned = set()
_counter = itertools.count()
_log = logging.getLogger(__name__)
_usable = {}


def _warn_once(key, message, log=None):
    if key in _warned:
        return
    _warned.add(key)
    (log or _log).warning(message)


def bwrap_path():
    """The bubblewrap executable, or None where it is not installed or cannot make a sandbox here."""
    if not sys.platform.startswith("linux"):
        return None
    found = shutil.which("bwrap", path=os.environ.get("PATH", os.defpath))
    if found is None:
        return None
    if found not in _usable:  # installed is not enough: namespaces may be forbidden (some containers)
        try:
            probe = subprocess.run([found, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                    "--unshare-pid", "--unshare-net", "--", "/bin/true"],
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
            _usable[found] = probe.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            _usable[found] = False
    return found if _usable[found] else None


def sandbox_status(mode):
    """(ok, text): whether kernels can be graded under `mode` ("auto"/"require"/"off"), and what to say."""
    if mode == "off":
        return True, ("UNSANDBOXED: grading kernels run WITHOUT bubblewrap (opted out): a submission "
                      "can read solutions/, the gradebook and other submissions, and reach the network")
    if bwrap_path():
        return True, "sandboxed (bubblewrap)"
    why = ("bubblewrap is not installed" if not shutil.which("bwrap")
           else "bubblewrap is installed but cannot create a sandbox on this machine")
    if mode == "require":
        return False, (f"refusing to grade: {why} (Debian package 'bubblewrap': apt-get install bubblewrap). "
                       "To grade without a sandbox anyway, knowing that every submission can then read "
                       "solutions/, the gradebook and other submissions, run `make grade ALLOW_UNSANDBOXED=1` "
                       "(or set BTC_ALLOW_UNSANDBOXED=1).")
    return True, f"UNSANDBOXED: {why}; grading kernels get resource limits only"


def missing_protections(use_bwrap, as_root):
    """What a kernel launched this way is not protected by (for the one warning)."""
    missing = []
    if not use_bwrap:
        missing += [
            "filesystem isolation (the kernel can read solutions/, the gradebook and other submissions)",
            "network isolation",
            "private /tmp and process namespace",
        ]
    if as_root and not use_bwrap:
        missing.append("privilege drop (the kernel runs as root)")
    elif not as_root and not os.path.isdir("/proc/self/task"):
        missing.append("process-count limit (cannot count the grader's own processes)")
    if sys.platform == "darwin":
        missing.append("address-space limit (not enforced by macOS)")
    return missing


def _tasks_of_uid(uid):
    """Processes and threads (RLIMIT_NPROC counts both) owned by uid, or None without /proc."""
    if not os.path.isdir("/proc/self/task"):
        return None
    total = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat(f"/proc/{pid}").st_uid == uid:
                    total += len(os.listdir(f"/proc/{pid}/task"))
            except OSError:
                pass
    return total


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
    oversized files) goes, so a kernel killed for filling the disk does not
    fill it again for the next one. Never follows a link: entries are removed
    relative to the folder's own descriptor, opened with O_NOFOLLOW.
    """
    from .exchange import MAX_JSON_BYTES, MAX_NPZ_BYTES
    limits = {".json": MAX_JSON_BYTES, ".npz": MAX_NPZ_BYTES}
    try:
        fd = os.open(outputs, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        for entry in os.scandir(fd):
            st = entry.stat(follow_symlinks=False)
            limit = limits.get(os.path.splitext(entry.name)[1])
            if stat.S_ISREG(st.st_mode) and limit is not None and st.st_size <= limit:
                continue
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(entry.name, dir_fd=fd, ignore_errors=True)
            else:
                os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)


# Every sandbox folder made in this process, so the notebook's executor can make
# sure none outlives its notebook, whatever happened to its kernel.
RUNDIRS = set()


class SandboxKernelManager(AsyncKernelManager):
    """An AsyncKernelManager that starts the kernel sandboxed and resource-limited."""

    sandbox = CaselessStrEnum(
        ["auto", "require", "off"], default_value="require", config=True,
        help="require: refuse to start a kernel without a working bubblewrap; "
             "off: no sandbox, limits only (an explicit opt-out); auto: bubblewrap where available.",
    )
    cpu_seconds = Integer(300, config=True, help="RLIMIT_CPU of the kernel process (s).")
    address_space = Integer(4 * GiB, config=True, help="RLIMIT_AS of the kernel (bytes).")
    max_processes = Integer(
        128, config=True,
        help="RLIMIT_NPROC for the kernel's uid (threads count too); "
             "enforced when the kernel runs as its own unprivileged uid.",
    )
    file_size = Integer(64 * MiB, config=True, help="RLIMIT_FSIZE: largest file the kernel may write.")
    open_files = Integer(256, config=True, help="RLIMIT_NOFILE.")
    tmp_size = Integer(256 * MiB, config=True, help="Size of the private /tmp (tmpfs; /var/tmp is the same).")
    shm_size = Integer(64 * MiB, config=True, help="Size of the private /dev/shm (tmpfs).")
    memory_budget = Integer(4 * GiB, config=True,
                            help="Resident memory of all the kernel's processes together; over it, the kernel is killed.")
    disk_budget = Integer(256 * MiB, config=True,
                          help="Bytes in the folders the kernel can write (its copy of the notebook's folder, "
                               "IPC, exchange); over it, the kernel is killed.")
    max_files = Integer(5000, config=True, help="Entries in those folders; over it, the kernel is killed.")
    watch_interval = Float(0.25, config=True, help="Seconds between two looks of the watchdog.")
    notebook_timeout = Float(
        900.0, allow_none=True, config=True,
        help="Wall-clock seconds for a whole notebook (all kernel restarts together); "
             "the kernel is killed when they are used up. None: no limit.",
    )
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

    notebook_time_exceeded = Bool(False)
    budget_exceeded = Unicode("")  # "" or what the watchdog found over budget

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rundir = None
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
        self._ipc = tempfile.mkdtemp(prefix="ipc-", dir=self._rundir)
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
            self._rundir = tempfile.mkdtemp(prefix="nbsandbox-")  # 0700, the grader's alone
            RUNDIRS.add(self._rundir)
            if as_root and use_bwrap:
                self._uid = self.uid_base + (os.getpid() % 65536) * 16 + next(_counter) % 16
        if use_bwrap:
            self._new_ipc_folder()  # IPC sockets in a folder bound into the sandbox: no TCP needed
        missing = missing_protections(use_bwrap, as_root)
        if missing:
            _warn_once(("missing",) + tuple(missing),
                       "grading kernels run WITHOUT: " + "; ".join(missing), self.log)

        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)  # writes the connection file

        env = self._kernel_env(kw.get("env") or os.environ)
        cwd = os.path.realpath(kw.get("cwd") or os.getcwd())
        limits = self._limits(as_root)
        uid = "" if self._uid is None else str(self._uid)
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, json.dumps(limits), uid, uid,
                    "1" if use_bwrap else "0", cwd]
        kernel_cmd = launcher + [self._resolve_exe(kernel_cmd[0])] + kernel_cmd[1:]
        self._writable = []
        if use_bwrap:
            self._hand_over(self._ipc, self.connection_file)
            # Interrupts are SIGINT to the launched process group: bwrap itself
            # must ignore it (or it dies and takes the kernel with it); the
            # launcher restores the default before the kernel starts.
            kernel_cmd = ["/bin/sh", "-c", 'trap "" INT; exec "$@"', "sh"] \
                + self._bwrap_argv(cwd, env) + kernel_cmd
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

    def _bwrap_argv(self, cwd, env):
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
            work = os.path.join(self._rundir, "work")
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(cwd, work, symlinks=True)
            self._hand_over(*[os.path.join(root, d) for root, dirs, _ in os.walk(work) for d in dirs], work)
        argv += parents(cwd) + ["--bind", work, cwd]
        self._writable = [work, self._ipc]
        argv += parents(self._ipc) + ["--bind", self._ipc, self._ipc]
        exchange = env.get(EXCHANGE_ENV)
        if exchange and os.path.isabs(exchange) and os.path.isdir(exchange) and not os.path.islink(exchange):
            outputs = os.path.join(exchange, "outputs")
            if exchange not in self._handed_over:  # made by the judge; the kernel has not run yet
                self._handed_over.add(exchange)
                os.chmod(exchange, 0o755)  # the grader's, readable: the kernel reads its inputs ...
                self._hand_over(outputs)   # ... and writes its records here, and nowhere else
            else:  # a restart: what the last kernel left there that no record can be goes
                prune_outputs(outputs)
            self._writable.append(exchange)
            argv += parents(exchange) + ["--bind", exchange, exchange]
        argv += ["--chdir", "/", "--"]
        return argv

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

    # -- cleanup ---------------------------------------------------------------
    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self._watch is not None:
            self._watch[1].set()
        if not restart:
            self._cancel_timer()
            if self._rundir:
                shutil.rmtree(self._rundir, ignore_errors=True)
                RUNDIRS.discard(self._rundir)
            self._rundir = None
            self._ipc = None

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


def __getattr__(name):
    # RecoveringExecute moved to recovering.py; old imports keep working meanwhile.
    if name == "RecoveringExecute":
        from .recovering import RecoveringExecute
        return RecoveringExecute
    raise AttributeError(name)
