"""The feedback pages' own MathJax 3, served from feedback/_static/ (no CDN), installed once per course.

tools/build_book.py fetches the npm tarball into the virtualenv's cache and
checks its sha512; this module unpacks the part the pages need, under a lock
and renamed into place, so parallel workers are safe.
"""
import base64
import fcntl
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]
REPO = COURSE.parent

# The book's MathJax (tools/build_book.py fetches it with npm into the
# virtualenv's cache); a test checks the two pins agree.
MATHJAX_VERSION = "3.2.2"
MATHJAX_SHA512 = (
    "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
)
# The SVG output needs no web fonts (a page opened from file:// cannot always
# load fonts); TeX extensions are loaded on demand from input/tex/extensions/.
MATHJAX_KEEP = ("tex-svg.js", "input/tex/extensions/")
STATIC = "_static"  # feedback/_static/, shared by every page: ../../_static from a page



def _sha512(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def mathjax_tarball():
    """The MathJax tarball the book build fetched (checked against the pin), or None.

    Looked for where tools/build_book.py keeps it (the virtualenv's cache, or
    _build/.cache outside a virtualenv); when missing and the repository's
    tools/ is importable, the book's own fetch (npm) is run once.
    """
    name = f"mathjax-{MATHJAX_VERSION}.tgz"
    places = [Path(sys.prefix) / "cache" / "book" / name, REPO / "_build" / ".cache" / name]
    for path in places:
        if path.is_file() and _sha512(path.read_bytes()) == MATHJAX_SHA512:
            return path
    try:
        from tools import build_book
    except ImportError:
        return None
    try:
        return build_book.fetch_mathjax_tarball(REPO)
    except (Exception, SystemExit):  # no npm, no network: pages keep their TeX
        return None


def _feedback_root(pre):
    """feedback/ of the course being processed (the converter runs from the course root)."""
    from nbgrader.coursedir import CourseDirectory

    cd = CourseDirectory(config=pre.config) if pre.config else CourseDirectory()
    return Path(cd.root) / cd.feedback_directory


MATHJAX_CONFIG_JS = """\
/* MathJax 3 for feedback pages (autograder/grading/feedback.py). A file, not an
   inline script: the pages' Content-Security-Policy allows no inline script. */
window.MathJax = {
  tex: {
    inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
    displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']],
    processEscapes: true
  },
  svg: {fontCache: 'global'},
  options: {enableMenu: false}
};
"""


def ensure_static(feedback_root):
    """feedback/_static/ with MathJax (tex-svg and its TeX extensions) and its config, once.

    Written into a temporary folder and renamed, under a lock, so workers
    grading in parallel never see half a copy. Returns the folder, or raises
    FileNotFoundError when no MathJax tarball can be found.
    """
    root = Path(feedback_root)
    static = root / STATIC
    stamp = static / "mathjax" / ".version"
    if stamp.is_file() and stamp.read_text() == MATHJAX_VERSION:
        return static
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".static.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == MATHJAX_VERSION:
            return static
        tarball = mathjax_tarball()
        if tarball is None:
            raise FileNotFoundError(f"mathjax-{MATHJAX_VERSION}.tgz (run `make book` once to fetch it)")
        tmp = Path(tempfile.mkdtemp(prefix=".static-", dir=root))
        try:
            target = tmp / "mathjax"
            with tarfile.open(tarball) as tar:
                for member in tar.getmembers():
                    name = member.name
                    if not member.isfile() or not name.startswith("package/es5/"):
                        continue
                    rel = name[len("package/es5/"):]
                    if not rel.startswith(MATHJAX_KEEP) or ".." in rel.split("/"):
                        continue
                    dest = target / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(tar.extractfile(member).read())
                (target / "LICENSE").write_bytes(tar.extractfile("package/LICENSE").read())
            (tmp / "mathjax-config.js").write_text(MATHJAX_CONFIG_JS)
            (target / ".version").write_text(MATHJAX_VERSION)
            for path in [tmp, *tmp.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            if static.exists():
                shutil.rmtree(static)
            os.rename(tmp, static)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return static


