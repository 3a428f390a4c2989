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
        "open(os.path.join(os.environ['BTC_GRADER_EXCHANGE'], 'outputs', 'probe.json'), 'w').write('{{}}')\n"
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
