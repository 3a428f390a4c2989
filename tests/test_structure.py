"""The grading package's structure: import direction, the list of library overrides, limits, the file table.

Each test reads the tree as it is, so a new module, override, limit or
document sentence that disagrees with the rest fails here, with what to fix.
"""
import ast
import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = ROOT / "autograder"
GRADING = AUTOGRADER / "grading"
# the libraries whose methods count as internals when we override them
LIBRARIES = ("nbgrader", "nbclient", "nbconvert", "jupyter_client", "mistune", "traitlets")


def _sources():
    """Every Python file of the grading side (the generated, shipped helpers of source/ and release/ aside)."""
    return sorted(GRADING.rglob("*.py")) + [AUTOGRADER / "nbgrader_config.py", AUTOGRADER / "__init__.py"]


def _module(path):
    return "autograder." + ".".join(path.relative_to(AUTOGRADER).with_suffix("").parts).removesuffix(".__init__")


def _file(path):
    """How patches.py's list names a file: its path under autograder/grading/."""
    return Path(os.path.relpath(path, GRADING)).as_posix()


# ---------------------------------------------------------------------------- import direction

def _imported_modules(tree):
    """Top-level names of every module an AST imports (absolute imports; relative ones are the package's)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_no_module_of_autograder_imports_tools():
    """tools/ (the book build, the notebook generator) imports grading, never the reverse:
    grading must run where the book is not built."""
    files = sorted(AUTOGRADER.rglob("*.py"))
    assert len(files) > 20
    offenders = [str(f.relative_to(ROOT)) for f in files if "tools" in set(_imported_modules(ast.parse(f.read_text())))]
    assert offenders == []


def test_mathjax_is_pinned_once_and_the_readme_states_that_pin():
    """The book's MathJax: one version, in tools/build_book.py (feedback pages draw MathML and need none)."""
    from tools import build_book
    stated = re.findall(r"fetches MathJax (\d+\.\d+\.\d+)", (ROOT / "README.md").read_text())
    assert stated == [build_book.MATHJAX_VERSION]
    pins = [f for f in sorted(ROOT.glob("*/*.py")) + sorted(ROOT.glob("*/*/*.py"))
            if ".venv" not in f.parts and re.search(r"^MATHJAX_VERSION = ", f.read_text(), flags=re.M)]
    assert [str(f.relative_to(ROOT)) for f in pins] == ["tools/build_book.py"]


def test_the_import_check_sees_a_tools_import():
    """The check above would see each form of importing tools (an import it cannot see proves nothing)."""
    for line in ("import tools.build_book", "from tools import build_book", "def f():\n    from tools.x import y"):
        assert "tools" in set(_imported_modules(ast.parse(line)))
    assert "tools" not in set(_imported_modules(ast.parse("from .tools import x\nimport itertools")))


# ---------------------------------------------------------------------------- library overrides

def _listed_overrides():
    """{(file, class, method)} from the list at the end of patches.py's docstring."""
    from autograder.grading.run import patches
    rows = re.findall(r"^    ((?:\.\./)?[\w/]+\.py) +(\w+)\.(\w+) ", patches.__doc__, flags=re.M)
    assert len(rows) > 30, "patches.py's docstring lost its list of overrides"
    return set(rows)


def _factories():
    """Classes made inside a function, by (module, qualified name): how to get each one to check it."""
    from autograder.grading.pages import feedback_assets
    from autograder.grading.run import patches
    return {
        ("autograder.grading.pages.feedback_assets", "_renderer_class.<locals>.Renderer"): feedback_assets._renderer_class,
        ("autograder.grading.pages.feedback_assets", "_math_renderer.<locals>.MathTokens"):
            lambda: type(feedback_assets._math_renderer([])[0]),
        ("autograder.grading.run.patches", "reusable_feedback_class.<locals>.ReusableFeedback"):
            patches.reusable_feedback_class,
    }


def _nested_classes(path):
    """Qualified names of the classes an AST defines inside a function."""
    found = []

    def visit(node, prefix, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                if in_function:
                    found.append(prefix + child.name)
                visit(child, prefix + child.name + ".", in_function)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, prefix + child.name + ".<locals>.", True)
            else:
                visit(child, prefix, in_function)
    visit(ast.parse(path.read_text()), "", False)
    return found


def _our_classes():
    classes = []
    factories = _factories()
    for path in sorted(GRADING.rglob("*.py")):
        name = _module(path)
        module = importlib.import_module(name)
        classes += [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == name]
        for qualname in _nested_classes(path):
            assert (name, qualname) in factories, (
                f"{name}.{qualname} is made inside a function: add how to get it to _factories() "
                "so that its overrides are checked")
            classes.append(factories[(name, qualname)]())
    return classes


def _subclass_overrides(classes):
    """{(file, class, method)}: a method one of our classes defines over a method of a library class
    after it in the method resolution order (a mixin counts where it is mixed in)."""
    found = set()
    for cls in classes:
        mro = cls.__mro__
        for i, ours in enumerate(mro):
            if not ours.__module__.startswith("autograder."):
                continue
            for name, value in vars(ours).items():
                if name.startswith("__") and name != "__init__":
                    continue
                if not (callable(value) or isinstance(value, (staticmethod, classmethod, property))):
                    continue
                if any(base.__module__.split(".")[0] in LIBRARIES and name in vars(base) for base in mro[i + 1:]):
                    found.add((_file(AUTOGRADER.parent.joinpath(*ours.__module__.split(".")).with_suffix(".py")),
                               ours.__name__, name))
    return found


def _library_names(tree):
    """Names an AST binds to a library's module or class by import, at any depth."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] in LIBRARIES:
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names
                      if alias.name.split(".")[0] in LIBRARIES}
    return names


def _replacements(path):
    """{(file, class, attribute)}: `Lib.attr = ...`, `setattr(Lib, "attr", ...)` or `_wrap(Lib, "attr", ...)`
    on a name bound to a library (our flags `_btc_*` aside); the class is the last name before the attribute."""
    tree = ast.parse(path.read_text())
    library = _library_names(tree)

    def owner(node):
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        return chain[0] if chain else node.id if isinstance(node, ast.Name) else None, \
            (node.id if isinstance(node, ast.Name) else None)

    found = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            for t in node.targets:
                targets += t.elts if isinstance(t, ast.Tuple) else [t]
            targets = [(t.value, t.attr) for t in targets if isinstance(t, ast.Attribute)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "_wrap") \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            targets = [(node.args[0], node.args[1].value)]
        for obj, attr in targets:
            cls, root = owner(obj)
            if root in library and not attr.startswith("_btc"):
                found.add((_file(path), cls, attr))
    return found


def test_every_override_of_a_library_method_is_listed_in_patches():
    listed = _listed_overrides()
    overrides = _subclass_overrides(_our_classes())
    replaced = set().union(*(_replacements(p) for p in _sources()))
    assert len(overrides) > 20 and len(replaced) > 10  # the scans find what is there
    missing = sorted((overrides | replaced) - listed)
    assert missing == [], "add these to the list at the end of patches.py's docstring (file, class.method, why)"
    # and the list names nothing that is not there (the timers' loop over GRADEBOOK_CALLS: its first name)
    stale = sorted(listed - overrides - replaced - {("run/patches.py", "Gradebook", "find_grade")})
    assert stale == [], "patches.py's docstring lists overrides that no longer exist"


def test_the_override_scans_see_each_kind_of_override(tmp_path):
    """Each way of overriding a library method is seen by the scans (else the test above proves nothing)."""
    from nbconvert.preprocessors import Preprocessor

    class Mixin:
        def preprocess_cell(self, cell, resources, index):
            return cell, resources

    class Ours(Mixin, Preprocessor):
        def helper(self):
            return None
    Mixin.__module__ = Ours.__module__ = "autograder.grading.fake"
    found = _subclass_overrides([Ours])
    assert found == {("fake.py", "Mixin", "preprocess_cell")}
    source = tmp_path / "fake.py"
    source.write_text("from nbclient import NotebookClient\nfrom nbgrader import api\nimport x\n"
                      "def f():\n    NotebookClient.execute_cell = None\n    api.Gradebook.close, x.y = 1, 2\n"
                      "    setattr(NotebookClient, 'kc', 1)\n    NotebookClient._btc_flag = True\n")
    f = _file(source)
    assert _replacements(source) == {(f, "NotebookClient", "execute_cell"), (f, "Gradebook", "close"),
                                     (f, "NotebookClient", "kc")}


# ---------------------------------------------------------------------------- limits

def _configured():
    """The limits in force for this course: the traits' defaults, as nbgrader_config.py leaves them."""
    from autograder.grading import limits
    from autograder.grading.course import load_config
    from autograder.grading.judge.execute import JudgedExecute
    from autograder.grading.kernel.sandbox import SandboxKernelManager
    cfg = load_config(AUTOGRADER)
    km, ex = SandboxKernelManager(config=cfg), JudgedExecute(config=cfg)
    return {
        "cpu seconds": km.cpu_seconds, "address space GiB": km.address_space / 2**30,
        "processes": km.max_processes, "file MiB": km.file_size / 2**20, "open files": km.open_files,
        "memory GiB": km.memory_budget / 2**30, "disk MiB": km.disk_budget / 2**20, "files": km.max_files,
        "notebook seconds": km.notebook_timeout, "output characters": ex.max_output_chars,
        "cell seconds": ex.timeout, "case floor": ex.case_floor, "case factor": ex.case_factor,
        "solution seconds": ex.solution_timeout,
        "precheck MiB": limits.FOLDER_BYTES / 2**20, "precheck entries": limits.FOLDER_ENTRIES,
        "precheck levels": limits.FOLDER_DEPTH, "notebook cells": limits.MAX_CELLS,
        "notebook MiB": limits.NOTEBOOK_BYTES / 2**20,
        "record values": limits.RECORD_VALUES, "record arrays": limits.RECORD_ARRAYS,
        "records MiB": limits.RECORD_TOTAL / 2**20, "record seconds": limits.RECORD_SECONDS,
        "diagnosis seconds": limits.DIAGNOSIS_SECONDS, "judge GiB": limits.JUDGE_MEMORY / 2**30,
        "worker GiB": limits.WORKER_ADDRESS_SPACE / 2**30,
    }


N = r"(\d[\d,]*)"
# limit -> {document: the pattern that states it, its number captured}; each must occur in that document
STATED = {
    "cpu seconds": {"README.md": rf"per process {N} s CPU", "GRADING.md": rf"CPU {N} s"},
    "address space GiB": {"README.md": rf"{N} GiB\s+address space", "GRADING.md": rf"address space {N} GiB"},
    "processes": {"README.md": rf"{N} processes", "GRADING.md": rf"{N} processes\s+and threads"},
    "file MiB": {"README.md": rf"{N} MiB per file", "GRADING.md": rf"files of {N} MiB"},
    "open files": {"README.md": rf"{N} open files", "GRADING.md": rf"{N} open files"},
    "memory GiB": {"README.md": rf"{N} GiB of memory", "GRADING.md": rf"over {N} GiB of memory"},
    "disk MiB": {"README.md": rf"{N} MiB and [\d,]+ files on disk", "GRADING.md": rf"or {N} MiB / [\d,]+ files"},
    "files": {"README.md": rf"MiB and {N} files on disk", "GRADING.md": rf"MiB / {N} files"},
    "notebook seconds": {"README.md": rf"{N} s, [\d,]+ characters of output", "GRADING.md": rf"{N} s of wall clock"},
    "output characters": {"README.md": rf"{N} characters of output per cell",
                          "GRADING.md": rf"{N} characters of output per cell"},
    "cell seconds": {"README.md": rf"A cell runs\s+{N} s at most", "GRADING.md": rf"no cell runs over {N} s"},
    "case floor": {"README.md": rf"max\({N} s, \d+ times", "GRADING.md": rf"max\({N} s, \d+ x"},
    "case factor": {"README.md": rf"max\(\d+ s, {N} times", "GRADING.md": rf"max\(\d+ s, {N} x"},
    "solution seconds": {"README.md": rf"a solution cell {N} s", "GRADING.md": rf"a solution cell {N} s"},
    "precheck MiB": {"README.md": rf"8 levels or {N} MB", "GRADING.md": rf"\({N} MiB, \d+ entries"},
    "precheck entries": {"README.md": rf"more than {N} files,", "GRADING.md": rf"MiB, {N} entries, \d+ levels"},
    "precheck levels": {"README.md": rf"files, {N} levels", "GRADING.md": rf"entries, {N} levels;"},
    "notebook cells": {"README.md": rf"more\s+than {N} cells", "GRADING.md": rf"MiB and {N} cells per notebook"},
    "notebook MiB": {"README.md": rf"over {N} MB, more", "GRADING.md": rf"levels; {N} MiB and"},
    "record values": {"GRADING.md": rf"at most {N} values"},
    "record arrays": {"GRADING.md": rf"values, {N} arrays"},
    "records MiB": {"GRADING.md": rf"{N} MiB of records per notebook"},
    "record seconds": {"GRADING.md": rf"{N} s per record"},
    "diagnosis seconds": {"GRADING.md": rf"{N} s for a notebook's diagnosis"},
    "judge GiB": {"GRADING.md": rf"{N} GiB more address space"},
    "worker GiB": {"GRADING.md": rf"its own address space bounded \({N} GiB\)"},
}
DOCS = {"README.md": ROOT / "README.md", "GRADING.md": AUTOGRADER / "GRADING.md"}


def test_every_limit_is_stated_in_the_documents():
    assert set(STATED) == set(_configured())


@pytest.mark.parametrize("limit", sorted(STATED))
def test_readme_and_grading_state_the_configured_limit(limit):
    value = _configured()[limit]
    for doc, pattern in STATED[limit].items():
        text = DOCS[doc].read_text()
        stated = [float(m.replace(",", "")) for m in re.findall(pattern, text)]
        assert stated, f"{doc} no longer states the {limit} limit ({pattern!r}); it is {value:g}"
        assert set(stated) == {value}, f"{doc} states the {limit} limit as {stated}; it is {value:g}"


def test_limits_are_the_traits_defaults_and_not_written_again_in_the_config():
    """The config leaves the limits to limits.py (one home); a value it set again would be a second copy."""
    from autograder.grading import limits
    from autograder.grading.judge.execute import JudgedExecute
    from autograder.grading.kernel.sandbox import SandboxKernelManager
    for cls, trait, name in [
            (SandboxKernelManager, "cpu_seconds", "CPU_SECONDS"), (SandboxKernelManager, "address_space", "ADDRESS_SPACE"),
            (SandboxKernelManager, "max_processes", "MAX_PROCESSES"), (SandboxKernelManager, "file_size", "FILE_SIZE"),
            (SandboxKernelManager, "open_files", "OPEN_FILES"), (SandboxKernelManager, "memory_budget", "MEMORY_BUDGET"),
            (SandboxKernelManager, "disk_budget", "DISK_BUDGET"), (SandboxKernelManager, "max_files", "MAX_FILES"),
            (SandboxKernelManager, "notebook_timeout", "NOTEBOOK_TIMEOUT"),
            (JudgedExecute, "max_output_chars", "MAX_OUTPUT_CHARS"), (JudgedExecute, "max_restarts", "MAX_RESTARTS"),
            (JudgedExecute, "case_floor", "CASE_FLOOR"), (JudgedExecute, "case_factor", "CASE_FACTOR"),
            (JudgedExecute, "solution_timeout", "SOLUTION_TIMEOUT")]:
        assert cls.class_traits()[trait].default_value == getattr(limits, name), (cls.__name__, trait)
    config = (AUTOGRADER / "nbgrader_config.py").read_text()
    set_again = re.findall(r"^c\.(?:SandboxKernelManager|JudgedExecute|Execute)\.(\w+) = (.+)$", config, flags=re.M)
    assert [(t, v) for t, v in set_again if "limits." not in v and t not in ("sandbox", "kernel_name",
            "kernel_manager_class", "extra_arguments")] == []


# ---------------------------------------------------------------------------- GRADING.md's file table

def _table_files():
    """Files named in the first column of GRADING.md's table (`a/b.py`, `c.py`: c.py in a/)."""
    named = []
    for line in (AUTOGRADER / "GRADING.md").read_text().splitlines():
        if not line.startswith("| `"):
            continue
        names = re.findall(r"`([^`]+)`", line.split("|")[1])
        folder = names[0].rsplit("/", 1)[0]
        named += [n if "/" in n else f"{folder}/{n}" for n in names]
    return named


def test_grading_md_file_table_names_every_grading_module_and_only_existing_files():
    named = _table_files()
    assert len(named) > 30
    modules = {p.relative_to(ROOT).as_posix() for p in GRADING.rglob("*.py")}
    assert sorted(modules - set(named)) == [], "give these modules a row in GRADING.md's table"
    missing = [n for n in named if not list(ROOT.glob(re.sub(r"<\w+>", "*", n)))]
    assert missing == [], "GRADING.md's table names files that do not exist"


def test_grading_md_names_no_missing_module():
    """Every `name.py` GRADING.md mentions (its picture of a submission's path too) is a file of the tree."""
    text = (AUTOGRADER / "GRADING.md").read_text()
    names = set(re.findall(r"(?<![\w>])([a-z][a-z_]*\.py)\b", text))  # not the `<a>_tests.py` pattern
    assert "pool.py" in names and "course.py" in names
    tree = {p.name for folder in ("autograder", "tools", "tests", "bench", "solutions") for p in (ROOT / folder).rglob("*.py")}
    assert sorted(names - tree) == []


# ---------------------------------------------------------------------------- tests as a package

# The two sys.path edits that are about the code under test, not about finding test helpers:
# tests/submissions/__init__.py puts an assignment's source folder first while it runs a
# notebook's cells in-process (the first cell imports the generated helper module, as in
# Jupyter); tests/hostile/probes.py's SHADOW hides its own folder, but only inside a string
# that a hostile submission carries into the kernel, so the AST below never sees it.
SYS_PATH_ALLOWED = {"tests/submissions/__init__.py"}
# top-level names that import only when tests/ itself is on sys.path
TESTS_ONLY_NAMES = {"conftest", "support", "hostile", "submissions"}


def _test_import_faults(source):
    """(line, what) for each sys.path use and each import of a test helper by a name outside `tests.`."""
    faults = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and node.attr == "path"
                and isinstance(node.value, ast.Name) and node.value.id == "sys"):
            faults.append((node.lineno, "uses sys.path"))
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        for name in names:
            top = name.split(".")[0]
            if top in TESTS_ONLY_NAMES or top.startswith("test_"):
                faults.append((node.lineno, f"imports {name} (write tests.{name})"))
    return sorted(faults)


def test_tests_import_their_helpers_as_a_package_without_sys_path_edits():
    """tests/ is a package: helpers come from tests.support, tests.hostile, tests.submissions, never conftest."""
    bad = "import sys\nsys.path.insert(0, 'tests')\nfrom conftest import ROOT\nimport submissions as S\n" \
          "from test_notebooks import helper\nx = __import__('submissions').VARIANTS\n"
    assert [line for line, _ in _test_import_faults(bad)] == [2, 3, 4, 5, 6]
    assert _test_import_faults("from tests.support import ROOT\nfrom tests import submissions as S\n") == []
    faults = []
    for path in sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        faults += [f"{rel}:{line}: {what}" for line, what in _test_import_faults(path.read_text())
                   if not (rel in SYS_PATH_ALLOWED and what == "uses sys.path")]
    assert faults == [], "import test helpers as tests.<name>; no sys.path edits in tests/ or bench/"


# ---------------------------------------------------------------------------- folders by where code runs

# The grading package's layers, lowest first: a module imports only from its own layer or a lower one.
# The kernel's world is low, so it knows no case, judge or diagnosis; a case's time budget reaches it
# through JudgedExecute.reference_seconds.
LAYERS = ("top", "kernel", "cases", "diagnosis", "judge", "pages", "run")


def _layer(path):
    parts = path.relative_to(GRADING).parts
    return "top" if len(parts) == 1 else parts[0]


def _grading_imports(path):
    """(module, dotted target) for every import of a grading module in `path`, relative ones resolved."""
    package = ["autograder", "grading", *path.relative_to(GRADING).parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            yield from [base + [alias.name] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autograder.grading"):
            yield from [node.module.split(".") + [alias.name] for alias in node.names]
        elif isinstance(node, ast.Import):
            yield from [alias.name.split(".") for alias in node.names if alias.name.startswith("autograder.grading.")]


def _target_layer(target):
    first = target[2] if len(target) > 2 else None
    return first if first in LAYERS else "top"


def _upward_arrows(paths):
    return sorted(f"{path.relative_to(GRADING)} ({_layer(path)}) imports {'.'.join(target)} ({_target_layer(target)})"
                  for path in paths for target in _grading_imports(path)
                  if LAYERS.index(_target_layer(target)) > LAYERS.index(_layer(path)))


def test_every_grading_module_lives_in_a_layer():
    folders = {p.relative_to(GRADING).parts[0] for p in GRADING.rglob("*.py") if len(p.relative_to(GRADING).parts) > 1}
    assert folders == set(LAYERS) - {"top"}


def test_the_arrows_between_the_grading_folders_run_one_way():
    """Nothing imports from a folder above its own: run > pages > judge > diagnosis > cases > kernel > top."""
    assert _upward_arrows(sorted(GRADING.rglob("*.py"))) == []


def test_the_layer_check_sees_an_upward_arrow(tmp_path, monkeypatch):
    """A kernel module importing the cases, a top module importing the run: both are caught."""
    fake = tmp_path / "grading"
    (fake / "kernel").mkdir(parents=True)
    (fake / "kernel" / "sandbox.py").write_text("from ..cases import functions\nfrom .budgets import x\n")
    (fake / "course.py").write_text("from autograder.grading.run import grade\nfrom . import limits\n")
    monkeypatch.setattr(sys.modules[__name__], "GRADING", fake)
    assert _upward_arrows(sorted(fake.rglob("*.py"))) == [
        "course.py (top) imports autograder.grading.run.grade (run)",
        "kernel/sandbox.py (kernel) imports autograder.grading.cases.functions (cases)",
    ]


def test_no_import_circle_between_grading_modules():
    """Module by module (not only folder by folder), the imports form no circle."""
    def name(target):
        dotted = ".".join(target)
        while dotted:
            try:
                if importlib.util.find_spec(dotted) is not None:
                    return dotted
            except ModuleNotFoundError:  # a name inside a module, not a module
                pass
            dotted = dotted.rsplit(".", 1)[0]
        return dotted
    modules = {".".join(["autograder", "grading", *p.relative_to(GRADING).with_suffix("").parts]).removesuffix(".__init__"): p
               for p in GRADING.rglob("*.py")}
    edges = {m: {t for t in (name(tg) for tg in _grading_imports(p)) if t in modules and t != m}
             for m, p in modules.items()}
    # the scan resolves relative imports to modules: the judge reads the registry, the registry its declarations
    assert "autograder.grading.cases" in edges["autograder.grading.judge.execute"]
    assert "autograder.grading.cases.functions" in edges["autograder.grading.cases"]
    state, circles = {}, []

    def visit(m, stack):
        state[m] = "open"
        for t in sorted(edges[m]):
            if state.get(t) == "open":
                circles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t, stack + [t])
        state[m] = "done"
    for m in sorted(modules):
        if m not in state:
            visit(m, [m])
    assert circles == []


def test_no_grading_file_is_over_400_lines():
    """Small modules (DESIGN.md's style; issue 19): the generated helper modules of source/ and release/ aside."""
    long = [f"{p.relative_to(ROOT)}: {n} lines" for p in _sources() if (n := len(p.read_text().splitlines())) > 400]
    assert long == []
