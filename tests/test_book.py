"""The HTML book: a clean build with no warnings, no solution code anywhere in
it, and every page clean in a real browser (headless Debian Chromium driven by
Playwright's Python package; no request may leave the machine).

The book is built once per session, from a clean copy of the work tree (the
files git tracks or would track), with `python -m tools.build_book --clean`,
so the test proves a fresh checkout builds and never races a developer's own
_build/.
"""
import ast
import functools
import http.server
import inspect
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.support import ROOT, require

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("book")]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
MIN_LINE = 25  # any solution line this long counts as distinctive
MIN_SHORT_LINE = 15  # shorter computing lines count too (loop headers etc. do not)


# ---------------------------------------------------------------------------
# Building


# The build fixtures `book` and `html` live in conftest.py (test_citations.py uses the same build).


def test_clean_build_succeeds_with_no_warnings(book):
    """-W makes every warning (including an `{eq}` whose label does not exist) an error."""
    assert book["sphinx_log"], "no _build/build.log:\n" + book["log"][-3000:]
    warnings = [line for line in book["sphinx_log"].splitlines()
                if re.search(r"\b(WARNING|ERROR|CRITICAL):|Error\b|Traceback", line)]
    assert book["status"] == 0 and "build succeeded" in book["sphinx_log"] and not warnings, (
        f"build exit status {book['status']}; warnings:\n" + "\n".join(warnings)
        + "\n--- end of log ---\n" + book["log"][-3000:])


def test_every_chapter_and_exercise_page_is_built(html):
    for n, name in enumerate(["computational_graphs", "activations", "conv_forward",
                              "conv_backward", "pooling", "gradient_checking",
                              "vectorisation", "digits_cnn"], start=1):
        assert (html / "chapters" / f"{n:02d}_{name}.html").is_file(), f"chapter {n} missing"
    assert (html / "chapters" / "bibliography.html").is_file()
    bib = (html / "chapters" / "bibliography.html").read_text()
    for author in ["Goodfellow", "Dumoulin", "LeCun", "Karpathy"]:
        assert author in bib, f"bibliography lacks {author}"


def test_mathjax_is_served_from_the_book(html):
    """MathJax 3 is in _static/ (fonts included) and no page points at a CDN for it."""
    mathjax = html / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file()
    assert list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff")), "no fonts"
    assert not (mathjax / "latest.js").exists(), "latest.js redirects to a CDN; leave it out"
    for page in html.rglob("*.html"):
        for src in re.findall(r'<script[^>]*src="([^"]+)"', page.read_text()):
            assert not re.match(r"(https?:)?//", src), f"{page}: external script {src}"


def test_launch_buttons_and_repository_link_come_from_config(html):
    """_config.yml sets the repository and launch providers once; chapters link to
    them, and the generated exercise pages (not in the repository) offer no launch."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].rstrip("/")
    org_repo = "/".join(repo.split("/")[-2:])
    binder = config["launch_buttons"]["binderhub_url"].rstrip("/")
    chapter = (html / "chapters" / "04_conv_backward.html").read_text()
    assert f'href="{repo}"' in chapter, "no repository button"
    assert f"{binder}/v2/gh/{org_repo}/{config['repository']['branch']}" in chapter
    assert config["launch_buttons"]["jupyterhub_url"].rstrip("/") in chapter
    exercise = (html / "chapters" / "exercises" / "convolution.html").read_text()
    assert binder not in exercise, "exercise pages are generated: nothing to launch"


# ---------------------------------------------------------------------------
# Exercise pages and solution leaks


def _solution_lines(func):
    """Distinctive lines of a function's body: no decorator, def line or docstring."""
    func = inspect.unwrap(func)
    source = inspect.getsource(func)
    lines = source.splitlines()
    tree = ast.parse(inspect.cleandoc("\n" + source) if source[0].isspace() else source)
    node = tree.body[0]
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                              ast.Constant):
        body = body[1:]
    first = body[0].lineno - 1
    out = []
    for line in lines[first:node.end_lineno]:
        text = " ".join(line.split())
        if len(text) >= MIN_LINE and not text.startswith("#"):
            out.append(text)
        elif len(text) >= MIN_SHORT_LINE and re.search(r"[-+*/@(\[]", text) \
                and not re.match(r"(#|for |if |elif |else|return |assert )", text):
            out.append(text)  # short functions: their computing lines still count
    return out


def _given_lines(root, assignment):
    """Lines the source notebook hands to students: everything nbgrader's release
    keeps (outside BEGIN/END SOLUTION and BEGIN/END HIDDEN TESTS regions, and not
    in a solution cell without markers, which the release replaces whole)."""
    path = root / "autograder" / "source" / assignment / f"{assignment}.ipynb"
    given = set()
    if not path.is_file():
        return given
    for cell in json.loads(path.read_text())["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = "".join(cell["source"]).splitlines()
        marked = any("BEGIN SOLUTION" in line for line in source)
        if meta.get("solution") and cell["cell_type"] == "code" and not marked:
            continue
        inside = False
        for line in source:
            if re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)", line):
                inside = True
            elif re.search(r"END (SOLUTION|HIDDEN TESTS)", line):
                inside = False
            elif not inside:
                given.add(" ".join(line.split()))
    return given


@functools.lru_cache(maxsize=None)
def _graded_lines(root):
    import solutions

    lines = {}
    for assignment, names in solutions.GRADED.items():
        # A line students are given anyway (scaffolding, a forward pass they call,
        # the contract quoted in a docstring) is not a leak.
        given = "\n".join(_given_lines(Path(root), assignment))
        for name in names:
            for text in _solution_lines(getattr(solutions, name)):
                if text not in given:
                    lines.setdefault(text, f"{assignment}.{name}")
    return lines


def _texts(path):
    """(label, text) pairs to search: visible text of HTML, cell sources of notebooks."""
    suffix = path.suffix
    if suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                if name.endswith(".ipynb"):
                    yield f"{path}!{name}", _notebook_text(data.decode())
                else:
                    yield f"{path}!{name}", data.decode(errors="replace")
    elif suffix == ".ipynb":
        yield str(path), _notebook_text(path.read_text())
    elif suffix in {".html", ".htm"}:
        from bs4 import BeautifulSoup

        raw = path.read_text(errors="replace")
        yield str(path), raw
        yield f"{path} (text)", BeautifulSoup(raw, "html.parser").get_text("")
    elif suffix in {".txt", ".md", ".py", ".js", ".json", ".css", ".svg", ".ipynb"}:
        yield str(path), path.read_text(errors="replace")


def _notebook_text(raw):
    try:
        nb = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    return "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []))


def find_leaks(folder, lines):
    """Every (file, solution line, function) where a solution line appears in folder."""
    leaks = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or "mathjax" in path.parts:
            continue
        for label, text in _texts(path):
            flat = "\n".join(" ".join(line.split()) for line in text.splitlines())
            for line, where in lines.items():
                if line in flat:
                    leaks.append(f"{label}: `{line}` (from solutions.{where})")
    return leaks


def test_leak_scanner_catches_a_planted_solution_line(tmp_path):
    """The scanner itself works: a solution line hidden in highlighted HTML and in a
    notebook is found; the student stub is not flagged."""
    import solutions

    lines = _graded_lines(str(ROOT))
    name = solutions.GRADED["convolution"][-1]
    planted = _solution_lines(getattr(solutions, name))[0]
    words = planted.split(" ")
    (tmp_path / "page.html").write_text(
        "<pre>" + " ".join(f'<span class="n">{w}</span>' for w in words) + "</pre>")
    nb = {"cells": [{"cell_type": "code", "source": ["    " + planted + "\n"]}]}
    (tmp_path / "ex.ipynb").write_text(json.dumps(nb))
    (tmp_path / "stub.ipynb").write_text(json.dumps(
        {"cells": [{"cell_type": "code", "source": ["# YOUR CODE HERE\n",
                                                     "raise NotImplementedError()\n"]}]}))
    leaks = find_leaks(tmp_path, lines)
    assert any("page.html" in leak for leak in leaks), leaks
    assert any("ex.ipynb" in leak for leak in leaks), leaks
    assert not any("stub.ipynb" in leak for leak in leaks), leaks


def test_leak_scanner_sees_every_graded_function_in_the_source_notebooks():
    """Against real data: the instructor's source notebooks hold the solutions, so
    the scanner must find lines of every graded function there."""
    import solutions

    lines = _graded_lines(str(ROOT))
    leaks = find_leaks(ROOT / "autograder" / "source", lines)
    for assignment, names in solutions.GRADED.items():
        if not (ROOT / "autograder" / "source" / assignment / f"{assignment}.ipynb").is_file():
            pytest.fail(f"no source notebook for {assignment}")
        for name in names:
            assert any(f"solutions.{assignment}.{name})" in leak for leak in leaks), (
                f"no distinctive line of {name} found in its source notebook")


def test_no_solution_code_in_the_built_book(book, html):
    lines = _graded_lines(str(book["root"]))
    assert len(lines) > 20, "too few distinctive solution lines to make the check meaningful"
    leaks = find_leaks(html, lines)
    assert not leaks, "solution code in _build/html:\n" + "\n".join(leaks[:50])


def test_exercise_pages_are_the_student_versions_with_a_download(html):
    import solutions

    for assignment, names in solutions.GRADED.items():
        page = html / "chapters" / "exercises" / f"{assignment}.html"
        assert page.is_file(), f"no exercise page for {assignment} (is the release there?)"
        from bs4 import BeautifulSoup

        text = page.read_text()
        visible = BeautifulSoup(text, "html.parser").get_text("")
        for name in names:
            assert f"def {name}(" in visible, f"{page.name} does not show the stub of {name}"
        zips = list((html / "_downloads").rglob(f"{assignment}.zip"))
        assert zips, f"no {assignment}.zip in _build/html/_downloads"
        href = re.search(rf'href="([^"]*_downloads/[^"]*{assignment}\.zip)"', text)
        assert href, f"{page.name} has no download link to {assignment}.zip"
        with zipfile.ZipFile(zips[0]) as zf:
            names_in_zip = zf.namelist()
            assert f"{assignment}/{assignment}.ipynb" in names_in_zip, names_in_zip
            nb = json.loads(zf.read(f"{assignment}/{assignment}.ipynb"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert code and all(not c.get("outputs") for c in code), "student notebook has outputs"
        assert sum("NotImplementedError" in "".join(c["source"]) for c in code) >= len(names)


# ---------------------------------------------------------------------------
# In the browser


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(html):
    handler = functools.partial(_Quiet, directory=str(html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


WAIT_FOR_PAGE_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  await document.fonts.ready;
}
"""

PAGE_FACTS_JS = """
() => {
  const math = Array.from(document.querySelectorAll('.math'));
  return {
    math: math.length,
    untypeset: math.filter(m => !m.querySelector('mjx-container')).length,
    mjx: document.querySelectorAll('mjx-container').length,
    text: document.body.innerText,
    badImages: Array.from(document.images)
        .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    images: document.images.length,
    figures: Array.from(document.images).filter(i => i.src.includes('/_images/')).length,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    icon: (document.querySelector('link[rel~="icon"]') || {}).href || null,
  };
}
"""


# What a reader must never see on a page, found after MathJax has run:
# - MathJax's own error nodes (mjx-merror, data-mjx-error), e.g. "\tag not allowed in split environment";
# - TeX left as text: $...$, \( \), \[ \], or a TeX command, outside code, maths and the search box;
# - a list item that begins inside a formula: Markdown turned a wrapped line of maths that starts
#   with "+ " or "- " into a bullet (the item starts with an operator or a closing bracket, or the
#   paragraph before it has an unpaired $).
RENDERING_JS = r"""
() => {
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, mjx-assistive-mml, '
             + '.MathJax, #search-results, .bd-search, .search-button__wrapper, #pst-search-dialog';
  const textNodes = root => {
    const out = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (el && !el.closest(skip)) out.push(n.nodeValue);
    }
    return out;
  };
  const texts = textNodes(document.body);
  const raw = /\$[^$\s]|\\\(|\\\)|\\\[|\\\]|\\(?:frac|sum|bar|tilde|mathbb|operatorname|text|begin|end|tag|left|right|big)\b|\\[a-zA-Z]+\{/;
  const teX = [];
  for (const text of texts) {
    const m = text.match(raw);
    if (m) teX.push(text.slice(Math.max(0, m.index - 40), m.index + 60));
  }
  const dollars = s => (s.match(/(^|[^\\])\$/g) || []).length;
  const badItems = [];
  for (const li of document.querySelectorAll('article li, main li, .bd-article li')) {
    const first = (li.textContent || '').trim();
    const before = li.parentElement && li.parentElement.previousElementSibling;
    const opens = before && dollars(textNodes(before).join('')) % 2 === 1;
    if (/^[+\-=)\]}^_\\]/.test(first) || opens) badItems.push(first.slice(0, 80));
  }
  return {
    theme: document.documentElement.dataset.theme || '',
    mathErrors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
      .map(e => (e.getAttribute('data-mjx-error') || e.textContent || '').slice(0, 200)),
    rawTeX: teX.slice(0, 20),
    listItemsInFormulas: badItems.slice(0, 20),
  };
}
"""


SEARCHES = ("convolution", "dilated")  # the second query's hits quote maths-heavy paragraphs
# TeX source a search snippet must not show: maths delimiters or a TeX command (snippets may
# quote a code cell, so a lone $ or backslash alone is not evidence)
RAW_TEX = re.compile(r"\\[()\[\]]|\\(?:bar|tilde|hat|frac|tfrac|sum|text|mathbb|mathrm|operatorname|partial"
                     r"|star|ast|times|begin|end|cdot|odot|le|ge|lfloor|varepsilon|alpha|beta|delta|lambda)(?![A-Za-z])")


@pytest.fixture(scope="session")
def crawl(html, server):
    require(CHROMIUM, "chromium")
    return crawl_site(html, server)


def crawl_site(html, server):
    """Visit every page once; record console errors, requests and page facts."""
    from playwright.sync_api import sync_playwright

    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                   if "_static" not in p.parts and "_sources" not in p.parts)
    urls = [server + p for p in pages] + [server + f"search.html?q={q}" for q in SEARCHES]
    results = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        context = browser.new_context()
        outside = []

        def gate(route):
            if route.request.url.startswith(server) or route.request.url.startswith("data:"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", gate)
        for url in urls:
            page = context.new_page()
            record = {"console": [], "failed": [], "outside": [], "fonts": []}
            page.on("console", lambda m, r=record: r["console"].append(m.text)
                    if m.type == "error" else None)
            page.on("pageerror", lambda e, r=record: r["console"].append(f"pageerror: {e}"))
            page.on("requestfailed", lambda q, r=record: r["failed"].append(
                f"{q.url} ({q.failure})"))
            page.on("response", lambda s, r=record: r["failed"].append(
                f"{s.url} (HTTP {s.status})") if s.status >= 400 else None)
            page.on("response", lambda s, r=record: r["fonts"].append(s.url)
                    if s.ok and "/_static/mathjax/output/chtml/fonts/" in s.url else None)
            del outside[:]
            page.goto(url, wait_until="load")
            if url == server + "index.html":  # Jupyter Book's redirect to the root page
                page.wait_for_url("**/intro.html")
                page.wait_for_load_state("load")
            page.evaluate(WAIT_FOR_PAGE_JS)
            if "?q=" in url:
                # Sphinx adds the hits one by one and says when it has shown them all
                page.wait_for_function(
                    "() => /Search finished|did not match/i.test(document.body.innerText)",
                    timeout=30000)
                record["search_hits"] = page.eval_on_selector_all(
                    "#search-results li a", "els => els.map(a => a.href)")
                # the snippets are filled in as each hit's page is fetched
                page.wait_for_function(
                    "() => Array.from(document.querySelectorAll('#search-results li'))"
                    ".every(li => li.querySelector('p.context'))", timeout=30000)
                record["snippets"] = page.eval_on_selector_all(
                    "#search-results li p.context", "els => els.map(p => p.textContent)")
            page.wait_for_load_state("networkidle")
            record.update(page.evaluate(PAGE_FACTS_JS))
            record["outside"] = list(outside)
            results[url] = record
            page.close()
        browser.close()
    return results


THEMES = ("light", "dark")
# Planted into a real page by the self-test: the three faults RENDERING_JS must find.
PLANTED_FAULTS = r"""
<div class="math notranslate nohighlight">\[\begin{split}a &= b \\ c &= d \tag{9.9}\end{split}\]</div>
<p>the correlation then has $n_H^{\text{prev}} + 2p - s(n_H - 1) = f + \big((n_H^{\text{prev}}</p>
<ul><li><p>2p - f) \bmod s\big)$ rows</p></li></ul>
"""


def _local_only(context, server):
    outside = []

    def gate(route):
        if route.request.url.startswith((server, "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", gate)
    return outside


def _themed_context(browser, server, theme):
    """A browser context whose pages open in `theme` (pydata-sphinx-theme reads localStorage)."""
    context = browser.new_context()
    context.add_init_script(f"localStorage.setItem('mode', '{theme}'); localStorage.setItem('theme', '{theme}');")
    return context, _local_only(context, server)


@pytest.fixture(scope="session")
def rendering(html, server):
    require(CHROMIUM, "chromium")
    return render_pages(html, server)


def render_pages(html, server):
    """{(theme, page): what RENDERING_JS finds}, for every chapter and exercise page in both themes,
    plus ("self-test", page) for a chapter with PLANTED_FAULTS added."""
    from playwright.sync_api import sync_playwright

    pages = sorted(p.relative_to(html).as_posix() for p in (html / "chapters").rglob("*.html"))
    results = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for theme in THEMES:
            context, outside = _themed_context(browser, server, theme)
            for rel in pages:
                page = context.new_page()
                page.goto(server + rel, wait_until="load")
                page.evaluate(WAIT_FOR_PAGE_JS)
                results[theme, rel] = page.evaluate(RENDERING_JS)
                page.close()
            assert not outside, outside
            context.close()
        context, _ = _themed_context(browser, server, "light")
        page = context.new_page()
        page.goto(server + "chapters/04_conv_backward.html", wait_until="load")
        page.evaluate(WAIT_FOR_PAGE_JS)
        page.evaluate("""async html => {
            const planted = document.createElement('section');
            planted.innerHTML = html;
            document.querySelector('main, article').appendChild(planted);
            await MathJax.typesetPromise([planted]);
        }""", PLANTED_FAULTS)
        results["self-test", "chapters/04_conv_backward.html"] = page.evaluate(RENDERING_JS)
        context.close()
        browser.close()
    return results


def test_rendering_checks_see_the_planted_faults(rendering):
    """The checks below can fail: a \\tag inside split, an unpaired $ and the list item it makes."""
    found = rendering["self-test", "chapters/04_conv_backward.html"]
    assert any("tag" in e.lower() for e in found["mathErrors"]), found
    assert any("n_H" in s for s in found["rawTeX"]), found
    assert any(s.startswith("2p - f)") for s in found["listItemsInFormulas"]), found


def test_every_chapter_and_exercise_page_is_seen_in_both_themes(rendering):
    seen = {(theme, rel) for theme, rel in rendering if theme in THEMES}
    rels = {rel for _, rel in seen}
    assert {f"chapters/exercises/{a}.html" for a in ("activations", "convolution", "pooling")} <= rels
    assert sum(re.match(r"chapters/0\d_", rel) is not None for rel in rels) == 8 and "chapters/notation.html" in rels
    assert seen == {(theme, rel) for theme in THEMES for rel in rels}
    wrong = {k: r["theme"] for k, r in rendering.items() if k[0] in THEMES and r["theme"] != k[0]}
    assert not wrong, wrong


@pytest.mark.parametrize("fault", ["mathErrors", "rawTeX", "listItemsInFormulas"])
def test_pages_show_no_maths_errors_raw_tex_or_list_items_inside_formulas(rendering, fault):
    """MathJax error nodes (e.g. "\\tag not allowed in split environment"), TeX left as text, and
    list items that begin inside a formula, on every chapter and exercise page in both themes."""
    bad = {f"{theme} {rel}": r[fault] for (theme, rel), r in rendering.items()
           if theme in THEMES and r[fault]}
    assert not bad, json.dumps(bad, indent=1)


def _report(crawl, key):
    return {url: r[key] for url, r in crawl.items() if r[key]}


def test_every_page_has_no_console_errors(crawl):
    assert len(crawl) >= 12
    assert not _report(crawl, "console"), json.dumps(_report(crawl, "console"), indent=1)


def test_no_failed_requests(crawl):
    assert not _report(crawl, "failed"), json.dumps(_report(crawl, "failed"), indent=1)


def test_no_request_leaves_the_machine(crawl):
    assert not _report(crawl, "outside"), json.dumps(_report(crawl, "outside"), indent=1)


def test_maths_is_typeset(crawl):
    with_maths = {u: r for u, r in crawl.items() if r["math"]}
    assert len(with_maths) >= 6, "expected maths on the chapters: " + ", ".join(with_maths)
    fonts = {f for r in with_maths.values() for f in r["fonts"]}
    assert any(f.endswith(".woff") for f in fonts), "MathJax loaded no font from the book"
    for url, r in with_maths.items():
        assert r["untypeset"] == 0 and r["mjx"] >= r["math"], (
            f"{url}: {r['untypeset']} of {r['math']} maths elements not typeset by MathJax")
    for url, r in crawl.items():
        if "search.html" in url:
            continue  # search results quote the source text of a page, TeX included
        for raw in (r"\frac", r"\sum", r"\partial", "$$"):
            assert raw not in r["text"], f"{url}: raw TeX {raw!r} left in the visible text"


def test_every_image_loaded(crawl):
    figures = {u: r["figures"] for u, r in crawl.items() if r["figures"]}
    assert sum(figures.values()) >= 15, f"expected at least 15 figures, found {figures}"
    assert not _report(crawl, "badImages"), json.dumps(_report(crawl, "badImages"), indent=1)


@functools.lru_cache(maxsize=None)
def _ids(path):
    text = Path(path).read_text(errors="replace")
    return set(re.findall(r'\b(?:id|name)="([^"]+)"', text))


def test_every_internal_link_resolves(crawl, html, server):
    broken = []
    for url, r in crawl.items():
        for link in r["links"]:
            if not link.startswith(server):
                continue
            parts = urlsplit(link)
            rel = unquote(parts.path)[1:] or "index.html"
            target = html / rel
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{url} -> {link} (no file)")
            elif parts.fragment and target.suffix == ".html" \
                    and unquote(parts.fragment) not in _ids(target):
                broken.append(f"{url} -> {link} (no anchor)")
    assert not broken, "\n".join(broken)


def test_every_page_has_the_favicon(crawl, html):
    for url, r in crawl.items():
        assert r["icon"] and r["icon"].endswith("favicon.svg"), f"{url}: no favicon link"
    assert (html / "_static" / "favicon.svg").is_file()


def test_search_finds_convolution(crawl):
    hits = crawl[next(u for u in crawl if u.endswith("?q=convolution"))]["search_hits"]
    assert hits, "search for 'convolution' found nothing"
    assert any("conv" in h for h in hits), hits


def test_search_snippets_show_no_raw_tex(crawl):
    """Snippets quote the pages' text; their maths is read out in plain text
    (_static/search_plain_maths.js), never as TeX source such as \\(\\bar Z\\)."""
    searched = {u: r for u, r in crawl.items() if "?q=" in u}
    assert len(searched) == len(SEARCHES)
    for url, r in searched.items():
        assert r["snippets"] and len(r["snippets"]) == len(r["search_hits"]), url
        raw = [s for s in r["snippets"] if RAW_TEX.search(s)]
        assert not raw, f"{url}: raw TeX in search snippets:\n" + "\n".join(raw[:5])
    dilated = searched[next(u for u in searched if u.endswith("?q=dilated"))]["snippets"]
    assert any("\u0304" in s for s in dilated), "no snippet reads out a barred symbol: " + repr(dilated[:3])


def test_rebuild_with_nothing_changed_executes_nothing(book, html):
    """The second build reuses the execution cache and Sphinx's environment."""
    proc = subprocess.run([sys.executable, "-m", "tools.build_book"], cwd=book["root"],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=""))
    log = (book["root"] / "_build" / "build.log").read_text()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Executing notebook" not in log, "a chapter ran again although nothing changed"
    assert "0 added, 0 changed, 0 removed" in log, log[-3000:]
    assert "releasing the student notebooks" not in proc.stdout
    assert "chapters in parallel" not in proc.stdout, "pre-execution ran although cached"


# ---------------------------------------------------------------------------
# Exercise pages: the download that works


def _download_menu(page_text):
    menu = re.search(r'<div class="dropdown dropdown-download-buttons">.*?</ul>', page_text, re.S)
    assert menu, "no download menu in the page header"
    return menu.group(0)


def test_exercise_download_menu_offers_only_the_zip(html):
    """The header's download menu of an exercise page: the zip, no .ipynb (it would lack
    its helper module and start with the book's note cell), no page source."""
    import solutions

    for assignment in solutions.GRADED:
        menu = _download_menu((html / "chapters" / "exercises" / f"{assignment}.html").read_text())
        hrefs = re.findall(r'href="([^"]+)"', menu)
        assert len(hrefs) == 1 and re.search(rf"_downloads/[0-9a-f]+/{assignment}\.zip$", hrefs[0]), hrefs
        assert ".ipynb" not in menu and "_sources" not in menu and "window.print" not in menu, menu
    # The chapters keep the theme's menu.
    assert "_sources/chapters/04_conv_backward" in _download_menu(
        (html / "chapters" / "04_conv_backward.html").read_text())


def test_exercise_download_button_gives_a_notebook_that_runs(html, server, tmp_path):
    """In the browser: the header's download button gives the zip; unzipped, the notebook
    starts with its own title (no {note} cell) and its import cell runs beside its helper."""
    import solutions

    require(CHROMIUM, "chromium")
    from playwright.sync_api import sync_playwright

    outside = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True)

        def gate(route):
            if route.request.url.startswith((server, "data:")):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", gate)
        for assignment in solutions.GRADED:
            page = context.new_page()
            page.goto(f"{server}chapters/exercises/{assignment}.html", wait_until="load")
            page.click(".dropdown-download-buttons > button")
            with page.expect_download() as info:
                page.click(".dropdown-download-buttons .btn-download-zip-button")
            download = info.value
            assert download.suggested_filename == f"{assignment}.zip"
            target = tmp_path / f"{assignment}.zip"
            download.save_as(target)
            page.close()
            with zipfile.ZipFile(target) as zf:
                zf.extractall(tmp_path / "unzipped")
            folder = tmp_path / "unzipped" / assignment
            nb = json.loads((folder / f"{assignment}.ipynb").read_text())
            first = "".join(nb["cells"][0]["source"])
            assert nb["cells"][0]["cell_type"] == "markdown" and ":::" not in first, first[:200]
            imports = next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
            assert f"{assignment}_tests" in imports, imports
            proc = subprocess.run([sys.executable, "-c", imports], cwd=folder, capture_output=True, text=True,
                                  env=dict(os.environ, PYTHONPATH=""), timeout=120)
            assert proc.returncode == 0, f"{assignment}: the notebook's import cell fails:\n{proc.stderr[-2000:]}"
        browser.close()
    assert not outside, outside
