"""Hostile probe cells for the standalone sandbox tests (tests/test_hostile.py).

Each probe is one code cell that tries something a grading kernel must not
be able to do, and prints one line `PROBE <name>: <result>` saying what
happened. The test runs them all in one sandboxed kernel and asserts each
line. `{placeholders}` are filled in by the test (paths, ports).
"""

PROBES = {
    # who the kernel runs as
    "uid": "import os; print('PROBE uid:', os.getuid())",
    # the course must be invisible: the solution package, the gradebook, other students
    "solutions": (
        "import os\n"
        "print('PROBE solutions:', os.path.exists({solutions!r}))"),
    "import_solutions": (
        "try:\n"
        "    import solutions\n"
        "    print('PROBE import_solutions: imported', solutions.__file__)\n"
        "except ImportError as e:\n"
        "    print('PROBE import_solutions: ImportError')"),
    "other_student": (
        "try:\n"
        "    print('PROBE other_student: read', open({other!r}).read())\n"
        "except OSError as e:\n"
        "    print('PROBE other_student: OSError', e.errno)"),
    # network: the internet and the grader's own loopback
    "net_internet": (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 80), timeout=3)\n"
        "    print('PROBE net_internet: connected')\n"
        "except OSError as e:\n"
        "    print('PROBE net_internet: OSError')"),
    "net_loopback": (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
        "    print('PROBE net_loopback: connected')\n"
        "except OSError as e:\n"
        "    print('PROBE net_loopback: OSError')"),
    # writes: outside the folder fail, inside go to a private copy, /tmp is private
    "write_outside": (
        "try:\n"
        "    open({outside!r}, 'w').write('pwned')\n"
        "    print('PROBE write_outside: wrote')\n"
        "except OSError as e:\n"
        "    print('PROBE write_outside: OSError')"),
    "write_inside": (
        "open('scribble.txt', 'w').write('mine')\n"
        "print('PROBE write_inside:', open('scribble.txt').read())"),
    "write_tmp": (
        "open({tmpfile!r}, 'w').write('x')\n"
        "print('PROBE write_tmp: wrote')"),
    "exchange": (
        "import os\n"
        "_out = os.path.join(os.environ['BTC_GRADER_EXCHANGE'], 'outputs')\n"
        "open(os.path.join(_out, 'probe.json'), 'w').write('{{}}')\n"
        "open(os.path.join(_out, 'stray.json'), 'w').write('{{}}')  # no case of the judge's: never copied\n"
        "with open(os.path.join(_out, 'probe.npz'), 'wb') as f:\n"
        "    f.truncate(60_000_000)  # sparse: nothing on the kernel's disk, 60 MB once copied\n"
        "print('PROBE exchange: wrote')"),
    # secrets in the grader's environment stay there
    "env": "import os; print('PROBE env:', os.environ.get('PROBE_SECRET_TOKEN', 'absent'))",
    # resources
    "alloc_10gb": (
        "import numpy as np\n"
        "try:\n"
        "    a = np.ones(10 * 1024**3 // 8)\n"
        "    print('PROBE alloc_10gb: allocated')\n"
        "except MemoryError:\n"
        "    print('PROBE alloc_10gb: MemoryError')"),
    "big_file": (
        "try:\n"
        "    with open('big.bin', 'wb') as f:\n"
        "        for _ in range(200):\n"
        "            f.write(b'0' * 2**20)\n"
        "    print('PROBE big_file: wrote 200 MB')\n"
        "except OSError as e:\n"
        "    print('PROBE big_file: OSError', e.errno)"),
    "fork_bomb": (
        "import os, time\n"
        "n = 0\n"
        "try:\n"
        "    for _ in range(5000):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(600); os._exit(0)\n"
        "        n += 1\n"
        "    print('PROBE fork_bomb: unbounded', n)\n"
        "except OSError as e:\n"
        "    print('PROBE fork_bomb: stopped after', n)"),
    "infinite_loop": "while True:\n    pass",
    "still_alive": "print('PROBE still_alive: yes')",
}

PROBES["root_only_file"] = (
    "try:\n"
    "    open('secret.txt').read()\n"
    "    print('PROBE root_only_file: read')\n"
    "except OSError as e:\n"
    "    print('PROBE root_only_file: OSError')")
PROBES["replace_file"] = (
    "import os\n"
    "os.replace('data.txt', 'old.txt'); open('data.txt', 'w').write('new')\n"
    "print('PROBE replace_file:', open('data.txt').read())")

# privileges: no capability survives, so nothing can be mounted or made
PROBES["caps"] = (
    "caps = dict(l.split(':\\t') for l in open('/proc/self/status').read().splitlines() if l.startswith('Cap'))\n"
    "print('PROBE caps:', int(caps['CapEff'], 16), int(caps['CapPrm'], 16))")
PROBES["mknod"] = (
    "import os, stat\n"
    "try:\n"
    "    os.mknod('/tmp/disk', stat.S_IFBLK | 0o600, os.makedev(8, 0))\n"
    "    print('PROBE mknod: made')\n"
    "except OSError as e:\n"
    "    print('PROBE mknod: OSError')")
PROBES["remount"] = (
    "import ctypes, os\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "MS_REMOUNT, MS_BIND = 32, 4096\n"
    "r = libc.mount(b'none', b'/usr', None, MS_REMOUNT | MS_BIND, None)\n"
    "print('PROBE remount:', 'mounted' if r == 0 else 'refused')")
# module names the launcher imports, dropped beside the notebook (see SHADOW below):
# the kernel may import them (as the student), the privileged launcher never
PROBES["shadow"] = (
    "import os, subprocess, sys\n"
    "# the old launcher's situation: `python -c` started in this folder imports json from it\n"
    "subprocess.run([sys.executable, '-c', 'import json'], check=False)\n"
    "log = open('imported.log').read().split() if os.path.exists('imported.log') else []\n"
    "uids = sorted(set(log[1::2]))\n"
    "print('PROBE shadow:', 'root' if '0' in uids else ('imported as ' + ','.join(uids) if uids else 'never'))")
# every environment variable the kernel sees: the test compares them with the allow-list
PROBES["env_names"] = "import os; print('PROBE env_names:', ' '.join(sorted(os.environ)))"
PROBES["env_values"] = (
    "import os; print('PROBE env_values:', 'hunter2' if any('hunter2' in v for v in os.environ.values()) else 'clean')")
# scratch space is bounded: /var/tmp is the private /tmp, /dev/shm its own small tmpfs
PROBES["var_tmp"] = (
    "import os\n"
    "st = os.statvfs('/var/tmp')\n"
    "same = os.stat('/var/tmp').st_dev == os.stat('/tmp').st_dev\n"
    "open('/var/tmp/probe', 'w').write('x')\n"
    "print('PROBE var_tmp:', st.f_blocks * st.f_frsize // 2**20, 'same' if same else 'other')")
PROBES["dev_shm"] = (
    "import os\n"
    "st = os.statvfs('/dev/shm')\n"
    "print('PROBE dev_shm:', st.f_blocks * st.f_frsize // 2**20)")

# A module that logs "<name> <uid>" to imported.log beside itself when imported,
# then hands over to the real module, so the kernel keeps working.
SHADOW = '''
import importlib, os, sys
_here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(_here, "imported.log"), "a") as _f:
    _f.write(f"{__name__} {os.getuid()}\\n")
_saved = sys.path[:]
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
del sys.modules[__name__]
try:
    _real = importlib.import_module(__name__)
finally:
    sys.path[:] = _saved
sys.modules[__name__] = _real
globals().update(_real.__dict__)
'''
SHADOWED = ("json", "resource", "signal", "ctypes", "fnmatch")
