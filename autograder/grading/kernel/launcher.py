"""What runs inside the sandbox before the kernel, and what the kernel may see.

- `_LAUNCHER`: the script bubblewrap starts (under `python -I -S`, from "/"):
  resource limits, the uid drop, no_new_privs, then the kernel.
- `KERNEL_BOOT`: what the kernel's Python runs first (debugpy unimportable),
  then ipykernel_launcher as `-m` runs it (`boot_kernel`).
- The kernel's environment: an allow-list (`DEFAULT_PASS_ENV`), names that are
  never passed whatever the configuration says (`NEVER_PASS_ENV`), and fixed
  values (`FIXED_ENV`).
- Whether bubblewrap can sandbox here (`bwrap_path`), and what to tell the
  instructor (`sandbox_status`, `missing_protections`).
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

_log = logging.getLogger(__name__)
_usable = {}
_warned = set()


def _warn_once(key, message, log=None):
    if key in _warned:
        return
    _warned.add(key)
    (log or _log).warning(message)


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

# The kernel's Python runs KERNEL_BOOT instead of `-m ipykernel_launcher`: it makes the modules of
# KERNEL_UNIMPORTABLE unimportable, then runs ipykernel_launcher exactly as -m does (runpy's own entry
# point for -m; sys.path[0] is '' where -m puts the folder's path, and ipykernel_launcher removes either).
# ipykernel imports debugpy at every start for a debugger no grading kernel serves: about a quarter of
# the kernel's start-up CPU. This saves time only; it protects nothing (the student's code can undo it).
KERNEL_UNIMPORTABLE = ("debugpy",)
KERNEL_BOOT = r"""
import sys
class _NotInGradingKernels:
    names = %r
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} in a grading kernel", name=name)
        return None
sys.meta_path.insert(0, _NotInGradingKernels())
del _NotInGradingKernels
import runpy
runpy._run_module_as_main("ipykernel_launcher")
""" % (KERNEL_UNIMPORTABLE,)


def boot_kernel(argv):
    """A kernel's argv with `-m ipykernel_launcher` run through KERNEL_BOOT (any other kernel as it is)."""
    if argv[1:3] == ["-m", "ipykernel_launcher"]:
        return [argv[0], "-c", KERNEL_BOOT] + argv[3:]
    return list(argv)


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
# Where the kernel sees its notebook's folder inside the sandbox: NOTEBOOK_PARENT/<the folder's name>.
NOTEBOOK_PARENT = "/home/student"


def neutral_workdir(folder, sandboxed):
    """(the notebook folder's real path, the path the kernel sees it at).

    Sandboxed, the folder is bound at a neutral path, so the kernel never learns
    where the course lives (a link to it in a later submission would need that).
    """
    real = os.path.realpath(folder)
    return real, (os.path.join(NOTEBOOK_PARENT, os.path.basename(real) or "notebook") if sandboxed else real)


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
