"""Launch every grading kernel in a sandbox.

`SandboxKernelManager` is a jupyter_client `AsyncKernelManager` whose kernel
process is wrapped, on Linux with bubblewrap installed, in

    bwrap  <read-only system + Python + venv>  <private /tmp>
           <writable private copy of the notebook's folder>
           <writable exchange folder(s)>  --unshare-net --unshare-pid ...
      python -c <limits launcher>  <rlimits, drop to an unprivileged uid>
        python -m ipykernel_launcher -f <connection file>

so the student's code sees nothing of the course (no `solutions/`, no
`gradebook.db`, no other submission, no source notebooks), cannot reach the
network (the kernel talks to the grader over IPC sockets in a folder bound
into the sandbox, since TCP loopback is unreachable across a network
namespace), and is bounded in CPU time, address space, processes, file size
and open files. A per-notebook wall clock kills the kernel when the whole
notebook has run too long (`notebook_time_exceeded` then says so).

Without bubblewrap (macOS, or the package is not installed) the kernel still
gets the resource limits the platform allows, and one warning says which
protections are missing. Set `SandboxKernelManager.sandbox = "off"` to turn
isolation off on purpose (benchmarks), or `"require"` to refuse to grade
without it.

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
import sys
import tempfile
import threading
from fnmatch import fnmatch
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, CaselessStrEnum, Float, Integer, List, Unicode

GiB = 1024 ** 3
MiB = 1024 ** 2

# The launcher runs inside the sandbox, before the kernel: it applies the
# resource limits, forgets the parent pid (ipykernel would otherwise poll a
# pid that does not exist in its pid namespace and exit), drops to the
# unprivileged uid, forbids regaining privileges, then becomes the kernel.
# argv: [json limits, uid or "", gid or "", forget-parent "1"/"0", kernel argv...]
_LAUNCHER = r"""
import json, os, sys
limits, uid, gid, forget = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
try:
    import resource
except ImportError:
    resource = None
for name, value in limits.items():
    lim = getattr(resource, name, None) if resource else None
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
    if os.getuid() != int(uid) or os.geteuid() != int(uid):
        sys.exit("sandbox: could not drop privileges")
if sys.platform.startswith("linux"):
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except Exception:
        pass
os.execv(sys.argv[5], sys.argv[5:])
"""

# Environment variables the kernel may see (fnmatch patterns); everything
# else of the grader's environment (database URLs, tokens, ...) is dropped.
DEFAULT_PASS_ENV = [
    "PATH", "LANG", "LANGUAGE", "LC_*", "TZ", "TERM",
    "PYTHONHASHSEED", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
    "JPY_SESSION_NAME", "JPY_PARENT_PID",
    "BTC_*", "GRADER_*", "AUTOGRADER_*", "NBGRADER_*",
]
# Passed variables whose value is a folder the kernel must be able to write
# (the exchange folder the judge reads the recorded outputs from).
DEFAULT_WRITABLE_ENV = ["*EXCHANGE*"]

_warned = set()
_counter = itertools.count()
_log = logging.getLogger(__name__)


def _warn_once(key, message, log=None):
    if key in _warned:
        return
    _warned.add(key)
    (log or _log).warning(message)


def bwrap_path():
    """The bubblewrap executable, or None where it is not installed or cannot run."""
    if not sys.platform.startswith("linux"):
        return None
    return shutil.which("bwrap")


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
        missing.append("process-count limit (RLIMIT_NPROC does not apply to root)")
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


class SandboxKernelManager(AsyncKernelManager):
    """An AsyncKernelManager that starts the kernel sandboxed and resource-limited."""

    sandbox = CaselessStrEnum(
        ["auto", "require", "off"], default_value="auto", config=True,
        help="auto: bubblewrap where available, else limits only (warned once); "
             "require: refuse to start a kernel without bubblewrap; off: limits only.",
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
    tmp_size = Integer(256 * MiB, config=True, help="Size of the private /tmp (tmpfs).")
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
                    help="fnmatch patterns of environment variables the kernel keeps.")
    writable_env = List(Unicode(), DEFAULT_WRITABLE_ENV, config=True,
                        help="Kept variables naming folders the kernel may write.")
    extra_ro_paths = List(Unicode(), [], config=True,
                          help="More host paths to show read-only inside the sandbox.")
    copy_workdir = Bool(True, config=True,
                        help="Run in a private copy of the notebook's folder.")

    notebook_time_exceeded = Bool(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._rundir = None
        self._uid = None
        self._timer = None
        self._t0 = None
        self.sandboxed = False

    # -- launching -------------------------------------------------------------
    def _use_bwrap(self):
        if self.sandbox == "off":
            return False
        found = bwrap_path()
        if found is None and self.sandbox == "require":
            raise RuntimeError(
                "SandboxKernelManager.sandbox='require' but bubblewrap is missing "
                "(Debian package 'bubblewrap': apt-get install bubblewrap)")
        return found is not None

    async def _async_pre_start_kernel(self, **kw):
        use_bwrap = self._use_bwrap()
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        if self._rundir is None:
            self._rundir = tempfile.mkdtemp(prefix="nbsandbox-")
            os.chmod(self._rundir, 0o700)
            if as_root and use_bwrap:
                self._uid = self.uid_base + (os.getpid() % 65536) * 16 + next(_counter) % 16
        if use_bwrap:
            # IPC sockets in a folder bound into the sandbox: no TCP needed.
            self.transport = "ipc"
            self.cache_ports = False
            self.ip = os.path.join(self._rundir, "ipc", "k")
            os.makedirs(os.path.dirname(self.ip), exist_ok=True)
            self.connection_file = os.path.join(self._rundir, "ipc", "kernel.json")
        if self._uid is not None:
            os.chown(self._rundir, self._uid, self._uid)
            os.chown(os.path.join(self._rundir, "ipc"), self._uid, self._uid)
        missing = missing_protections(use_bwrap, as_root)
        if missing:
            _warn_once(("missing",) + tuple(missing),
                       "grading kernels run WITHOUT: " + "; ".join(missing), self.log)

        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)

        env = self._kernel_env(kw.get("env") or os.environ)
        cwd = os.path.realpath(kw.get("cwd") or os.getcwd())
        limits = self._limits(as_root)
        uid = "" if self._uid is None else str(self._uid)
        launcher = [sys.executable, "-c", _LAUNCHER, json.dumps(limits), uid, uid,
                    "1" if use_bwrap else "0"]
        kernel_cmd = launcher + [self._resolve_exe(kernel_cmd[0])] + kernel_cmd[1:]
        if use_bwrap:
            if self._uid is not None:
                os.chown(self.connection_file, self._uid, self._uid)
            # Interrupts are SIGINT to the launched process group: bwrap itself
            # must ignore it (or it dies and takes the kernel with it); the
            # launcher restores the default before the kernel starts.
            kernel_cmd = ["/bin/sh", "-c", 'trap "" INT; exec "$@"', "sh"] \
                + self._bwrap_argv(cwd, env) + kernel_cmd
            self.sandboxed = True
        kw["env"] = env
        kw["cwd"] = cwd
        # The kernel's own stdout/stderr (os.write(1, ...), C-level prints)
        # go to a log file, never to the grader's terminal; RLIMIT_FSIZE bounds it.
        log_path = os.path.join(self._rundir, "kernel.log")
        kw["stdin"] = __import__("subprocess").DEVNULL
        log = open(log_path, "ab")
        kw["stdout"] = log
        kw["stderr"] = log
        return kernel_cmd, kw

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            for key in ("stdout", "stderr"):
                f = kw.get(key)
                if hasattr(f, "close"):
                    f.close()
        if self._t0 is None:
            self._t0 = __import__("time").monotonic()
        self._arm_timer()

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
        env = {k: v for k, v in source.items()
               if any(fnmatch(k, pat) for pat in self.pass_env)}
        home = "/tmp" if self._use_bwrap() else os.path.join(self._rundir, "home")
        os.makedirs(home, exist_ok=True) if home != "/tmp" else None
        env.update(HOME=home, IPYTHONDIR=os.path.join(home, ".ipython"),
                   MPLCONFIGDIR=os.path.join(home, ".matplotlib"),
                   JUPYTER_CONFIG_DIR=os.path.join(home, ".jupyter"),
                   PYTHONNOUSERSITE="1")
        env.setdefault("PATH", os.path.dirname(sys.executable) + ":/usr/bin:/bin")
        if not env["PATH"].startswith(os.path.dirname(sys.executable)):
            env["PATH"] = os.path.dirname(sys.executable) + ":" + env["PATH"]
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
            argv += ["--cap-drop", "ALL"] if self._uid is None else []
        # The system, read-only. Merged-/usr links stay links.
        for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"):
            if os.path.islink(top):
                argv += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                argv += ["--ro-bind", top, top]
        argv += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(self.tmp_size), "--tmpfs", "/tmp",
                 "--perms", "1777", "--dir", "/var/tmp"]
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
        # The notebook's folder: a private, writable copy at the same path.
        work = cwd
        if self.copy_workdir:
            work = os.path.join(self._rundir, "work")
            if os.path.exists(work):
                shutil.rmtree(work)
            shutil.copytree(cwd, work, symlinks=True)
            self._chown_tree(work)
        argv += parents(cwd) + ["--bind", work, cwd]
        # IPC sockets and connection file.
        ipc = os.path.join(self._rundir, "ipc")
        argv += parents(ipc) + ["--bind", ipc, ipc]
        for key, value in env.items():
            if any(fnmatch(key, pat) for pat in self.writable_env) and os.path.isabs(value) \
                    and os.path.isdir(value):
                self._chown_tree(value)
                argv += parents(value) + ["--bind", value, value]
        argv += ["--chdir", cwd, "--"]
        return argv

    def _chown_tree(self, top):
        """Give the kernel's uid the folders (so it can create and replace files).

        Files keep their owner and mode: a world-readable file stays readable,
        and a root-only file that reached the folder (say through a symbolic
        link nbgrader followed while copying) stays unreadable to the kernel.
        """
        if self._uid is None:
            return
        for root, dirs, files in os.walk(top):
            for name in [root] + [os.path.join(root, n) for n in dirs]:
                try:
                    os.lchown(name, self._uid, self._uid)
                except OSError:
                    pass

    # -- per-notebook wall clock ----------------------------------------------
    def remaining_seconds(self):
        """Seconds left of the notebook's wall-clock budget (None: unlimited)."""
        if self.notebook_timeout is None:
            return None
        if self._t0 is None:
            return self.notebook_timeout
        return self.notebook_timeout - (__import__("time").monotonic() - self._t0)

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
        if proc is None:
            return
        try:
            os.killpg(os.getpgid(proc.pid), signal.SIGKILL)
        except (OSError, AttributeError):
            try:
                proc.kill()
            except OSError:
                pass

    # -- cleanup ---------------------------------------------------------------
    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._cancel_timer()
            if self._rundir and os.path.isdir(self._rundir):
                shutil.rmtree(self._rundir, ignore_errors=True)
            self._rundir = None

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


# ---------------------------------------------------------------------------
# Surviving dead and stuck kernels (mixed into the grading Execute preprocessor)
# ---------------------------------------------------------------------------

from jupyter_core.utils import ensure_async, run_sync  # noqa: E402
from nbformat.notebooknode import NotebookNode  # noqa: E402
from traitlets import HasTraits  # noqa: E402


def _error(ename, text):
    return NotebookNode(output_type="error", ename=ename, evalue=text, traceback=[f"{ename}: {text}"])


def _is_test_cell(cell):
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _function_of(cell):
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
    return grade_id.split("__", 1)[0] if "__" in grade_id else None


class RecoveringExecute(HasTraits):
    """Mix into nbgrader's Execute (before it in the bases) so a notebook survives its kernel.

    - The kernel runs in a `SandboxKernelManager` (unless configured otherwise).
    - A cell that kills the kernel (os._exit, a segfault, a signal, a resource
      limit) gets an error output saying so; the kernel is restarted, the code
      cells that ran before it (minus test cells and cells that timed out) are
      replayed silently to rebuild the student's definitions, and execution
      carries on with the next cell. When a graded test cell killed the kernel,
      the remaining test cells of the same function are not run (they would
      kill it again); they score 0 with a note.
    - After a cell times out, the kernel must answer a trivial request within
      `responsive_timeout` seconds, or it is treated as dead (a loop that
      ignores the interrupt).
    - Cells are given at most the notebook's remaining wall-clock budget; once
      it is used up the remaining cells are not run.
    - Every cell keeps at most `max_output_chars` of output text; the rest is
      cut with a note (a kernel printing 100 MB cannot bloat the gradebook,
      the feedback or the grader's memory downstream).
    """

    max_restarts = Integer(8, config=True, help="Kernel restarts allowed per notebook.")
    responsive_timeout = Integer(5, config=True,
                                 help="Seconds a kernel has to answer after an interrupted cell.")
    max_output_chars = Integer(20000, config=True, help="Output text kept per cell.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)

    # -- bookkeeping around nbconvert's per-cell loop --------------------------
    def preprocess(self, nb, resources=None, km=None):
        self._sbx_replay = []
        self._sbx_restarts = 0
        self._sbx_broken_functions = {}
        self._sbx_stop = None
        self.kernel_events = []  # (cell index, what happened), for summaries and tests
        return super().preprocess(nb, resources, km)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        left = getattr(self.km, "remaining_seconds", lambda: None)()
        if left is not None:
            left = max(1, int(left))
            timeout = left if timeout is None else min(timeout, left)
        return timeout

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        reason = self._not_run_reason(cell)
        if reason:
            cell.outputs = [_error("NotRun", reason)]
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._clip(cell)
            self._after_death(cell, index)
            return cell, resources
        except CellTimeoutError:  # interrupted, but the kernel never finished the cell
            self._clip(cell)
            cell.outputs.append(_error("CellTimeoutError", "this cell ran out of time"))
        self._clip(cell)
        timed_out = any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError"
                        for o in cell.outputs)
        if timed_out:
            self.kernel_events.append((index, "timeout"))
            if not self._responsive():
                cell.outputs.append(_error(
                    "KernelUnresponsive",
                    "the kernel did not stop after this cell timed out; it was restarted"))
                self._after_death(cell, index, announce=False)
                return cell, resources
        elif not _is_test_cell(cell):
            self._sbx_replay.append(index)
        return cell, resources

    def _not_run_reason(self, cell):
        if self._sbx_stop:
            return self._sbx_stop
        left = getattr(self.km, "remaining_seconds", lambda: None)()
        if getattr(self.km, "notebook_time_exceeded", False) or (left is not None and left <= 0):
            self._sbx_stop = "not run: the notebook used up its time limit"
            return self._sbx_stop
        func = _function_of(cell)
        if _is_test_cell(cell) and func in self._sbx_broken_functions:
            return (f"not run: an earlier test of {func} killed the kernel "
                    f"({self._sbx_broken_functions[func]})")
        return None

    # -- dead kernels ----------------------------------------------------------
    def _why_dead(self):
        if getattr(self.km, "notebook_time_exceeded", False):
            return "the notebook used up its time limit"
        proc = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = proc.poll() if proc is not None else None
        if code is None:
            return "the kernel stopped responding"
        signum = -code if code < 0 else (code - 128 if getattr(self.km, "sandboxed", False) and code > 128 else 0)
        if signum:  # bwrap reports a child killed by signal n as status 128 + n
            try:
                return f"the kernel was killed by {signal.Signals(signum).name}"
            except ValueError:
                return f"the kernel was killed by signal {signum}"
        return f"the kernel exited with status {code}"

    def _after_death(self, cell, index, announce=True):
        why = self._why_dead()
        self.kernel_events.append((index, why))
        tail = getattr(self.km, "kernel_log_tail", lambda: "")()
        self.log.warning("cell %s: %s%s", index, why, f"; the kernel's last words:\n{tail}" if tail.strip() else "")
        if announce:
            cell.outputs.append(_error(
                "KernelDied",
                f"{why} while running this cell (the code ended or crashed the Python process: "
                "os._exit, a segfault, a signal or a resource limit). Grading restarted Python, "
                "re-ran the cells above, and went on with the next cell."))
        if _is_test_cell(cell) and _function_of(cell):
            self._sbx_broken_functions.setdefault(_function_of(cell), why)
        if getattr(self.km, "notebook_time_exceeded", False):
            self._sbx_stop = "not run: the notebook used up its time limit"
            return
        if self._sbx_restarts >= self.max_restarts:
            self._sbx_stop = f"not run: the kernel died {self._sbx_restarts + 1} times"
            return
        self._sbx_restarts += 1
        try:
            run_sync(self._async_restart)()
            ok = run_sync(self._async_replay)()
        except Exception as e:  # a kernel that cannot even restart ends the notebook, not the run
            self.log.warning("could not restart the kernel: %s", e)
            ok = False
        if not ok:
            self._sbx_stop = "not run: the kernel could not be restarted with the cells above"

    async def _async_restart(self):
        if self.kc is not None:
            await ensure_async(self.kc.stop_channels())
            self.kc = None
        await ensure_async(self.km.restart_kernel(now=True))
        await self.async_start_new_kernel_client()

    async def _async_run_quietly(self, code, timeout):
        """Run code in the kernel; True when it replied in time (outputs are discarded)."""
        import asyncio
        from queue import Empty
        msg_id = self.kc.execute(code, silent=True, store_history=False, stop_on_error=False)
        msg_id = await ensure_async(msg_id)
        loop = asyncio.get_event_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return False
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(left, 1.0)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    return False
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return True

    async def _async_replay(self):
        for i in self._sbx_replay:
            src = self.nb.cells[i].source
            if not await self._async_run_quietly(src, self._get_timeout(self.nb.cells[i]) or 60):
                return False
        return True

    def _responsive(self):
        try:
            return run_sync(self._async_run_quietly)("", self.responsive_timeout)
        except Exception:
            return False

    # -- bounded outputs --------------------------------------------------------
    def _clip(self, cell):
        budget = self.max_output_chars
        total = sum(_output_size(o) for o in cell.get("outputs", []))
        if total <= budget:
            return
        kept = []
        for out in cell.get("outputs", []):
            size = _output_size(out)
            if size <= budget:
                kept.append(out)
                budget -= size
                continue
            if out.get("output_type") == "stream" and budget > 0:
                out["text"] = out["text"][:budget]
                kept.append(out)
            elif out.get("output_type") == "error":  # an error is kept (shortened): it is a verdict
                out["evalue"] = out.get("evalue", "")[:2000]
                out["traceback"] = [t[:2000] for t in out.get("traceback", [])[-5:]]
                kept.append(out)
            cut = total - sum(_output_size(o) for o in kept)
            kept.append(NotebookNode(output_type="stream", name="stdout",
                                     text=f"\n[... output cut: about {cut} more characters not kept ...]\n"))
            break
        cell.outputs = kept


def _output_size(out):
    if out.get("output_type") == "stream":
        return len(out.get("text", ""))
    if out.get("output_type") == "error":
        return len(out.get("evalue", "")) + sum(len(t) for t in out.get("traceback", []))
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in out.get("data", {}).values())


from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402
