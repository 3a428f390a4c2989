"""Fixtures and session hooks (the plain helpers live in tests/support.py)."""
import os
import shutil
import subprocess
import sys

import pytest

from tests.support import ROOT, require


# `make grade` refuses to grade without a working bubblewrap. On a developer's
# machine without it, the grading tests (which are about grades, not isolation)
# opt out explicitly, as an instructor would; the isolation tests require
# bubblewrap and skip. CI installs bubblewrap, so there nothing is opted out.
if not os.environ.get("CI_REQUIRE_ALL"):
    from autograder.grading.kernel.sandbox import bwrap_path

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


