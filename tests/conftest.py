"""Shared test helpers.

`require(...)` skips a test whose system package is missing, with the reason
spelled out; under CI (.ci/run sets CI_REQUIRE_ALL=1, after installing every
such package) a missing package fails the test instead, so CI never skips.
"""
import os
import subprocess
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def require(executable, package):
    """Skip (or, in CI, fail) unless `executable` is on PATH or is an existing path."""
    found = Path(executable).exists() if os.sep in executable else shutil.which(executable)
    if found:
        return
    reason = f"needs {executable} (Debian package '{package}': apt-get install {package})"
    if os.environ.get("CI_REQUIRE_ALL"):
        pytest.fail(f"CI must not skip: {reason}")
    pytest.skip(reason)


def require_module(name, install_hint):
    """Like require(), for an optional Python module."""
    try:
        return __import__(name)
    except ImportError:
        reason = f"needs the Python module {name} ({install_hint})"
        if os.environ.get("CI_REQUIRE_ALL"):
            pytest.fail(f"CI must not skip: {reason}")
        pytest.skip(reason)


# `make grade` refuses to grade without a working bubblewrap. On a developer's
# machine without it, the grading tests (which are about grades, not isolation)
# opt out explicitly, as an instructor would; the isolation tests require
# bubblewrap and skip. CI installs bubblewrap, so there nothing is opted out.
if not os.environ.get("CI_REQUIRE_ALL"):
    from autograder.grading.sandbox import bwrap_path

    if bwrap_path() is None:
        os.environ.setdefault("BTC_ALLOW_UNSANDBOXED", "1")


# ---------------------------------------------------------------------------
# The book, built once per session from a clean copy of the work tree
# (test_book.py and test_citations.py both read it; both run in the "book" xdist group).


def _work_tree_files():
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, capture_output=True).stdout.decode()
    return [f for f in out.split("\0") if f and (ROOT / f).is_file()]


@pytest.fixture(scope="session")
def book(tmp_path_factory):
    """Copy the work tree to a temporary folder and build it from clean."""
    sys.path.insert(0, str(ROOT))
    from tools import build_book

    tarball = build_book._cache_dir(ROOT) / f"mathjax-{build_book.MATHJAX_VERSION}.tgz"
    if not tarball.is_file():
        require("npm", "npm")  # fetches MathJax from the npm registry
    root = tmp_path_factory.mktemp("book") / "repo"
    for rel in _work_tree_files():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    proc = subprocess.run([sys.executable, "-m", "tools.build_book", "--clean"], cwd=root,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=""))
    log = proc.stdout + proc.stderr
    sphinx_log = root / "_build" / "build.log"
    html = root / "_build" / "html"
    for report in sorted(html.glob("reports/**/*.err.log")):  # failed chapter executions
        log += f"\n--- {report.relative_to(html)} ---\n" + report.read_text()[-3000:]
    return {"root": root, "html": html, "status": proc.returncode, "log": log,
            "sphinx_log": sphinx_log.read_text() if sphinx_log.is_file() else ""}


@pytest.fixture(scope="session")
def html(book):
    if not (book["html"] / "index.html").is_file():
        pytest.fail("the book build wrote no _build/html/index.html:\n" + book["log"][-4000:])
    return book["html"]


