"""What students and instructors read after grading: the feedback pages and the run's log.

A course copy is graded once per session by `make grade`'s module
(`python -m autograder.grading.run.grade`), then its feedback is generated again by
plain `nbgrader generate_feedback` and by nbgrader's API as the formgrader's
button calls it; all three sets of pages are opened from file://
in headless Debian Chromium (Playwright, no `playwright install`), with every
request that is not file:// or data: refused and recorded. Students:

- `blank`: the released convolution notebook, unchanged (every test fails);
- `attacker`: the released pooling notebook plus markdown, raw and code cells
  that try to run script in whoever opens the page (stored XSS, issue 9
  point 8); the same notebook exported with nbconvert's stock HTML template
  is opened too, to prove the attacks are live.

Run the slow tests under the grade lock:
    flock /tmp/grade.lock .venv/bin/python -m pytest -n 0 tests/test_feedback_pages.py
"""
import fcntl
import io
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.support import ROOT, require

from tests.submissions import course as C

from autograder.grading.pages import feedback
from autograder.grading.run import progress

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]

# Each attack, if it ran, would set window.__pwned (and change document.title).
# (`void 0`: a javascript: link whose value is a string would replace the whole document)
PWN = "window.__pwned = (window.__pwned || []).concat(['{}']); document.title = 'pwned'; void 0;"
ATTACK_MARKDOWN = "\n\n".join([
    "## Attacks in markdown",
    "<script>" + PWN.format("md-script") + "</script>",
    '<img src="x" onerror="' + PWN.format("md-img-onerror").replace('"', "&quot;") + '">',
    '<svg onload="' + PWN.format("md-svg-onload") + '"><circle r="5"/></svg>',
    "[a javascript: link](javascript:" + PWN.format("md-js-link").replace(" ", "") + ")",
    '<a href="javascript:void(0)" onclick="' + PWN.format("md-onclick") + '" id="clickme">click me</a>',
    '<iframe src="data:text/html,<script>parent.__pwned=1</script>"></iframe>',
    '<style>body { background: url(http://attacker.example/bg.png); }</style>',
    '<img src="http://attacker.example/beacon.png">',
    '<form action="http://attacker.example/"><input name="q"></form>',
    '<base href="http://attacker.example/">',
])
ATTACK_CODE = '''\
from IPython.display import HTML, SVG, Javascript, Markdown, display
PWN = {pwn!r}
display(HTML("<script>" + PWN.format("html-script") + "</script><b>bold html</b>"))
display(HTML('<img src="x" onerror="' + PWN.format("html-img-onerror") + '">'))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="' + PWN.format("svg-onload") + '">'
            '<script>' + PWN.format("svg-script") + '</script><circle r="4"/></svg>'))
display(Javascript(PWN.format("application-javascript")))
display({{"text/html": "<script>" + PWN.format("isolated") + "</script>", "text/plain": "isolated"}},
        raw=True, metadata={{"text/html": {{"isolated": True}}}})
display(Markdown("<img src=x onerror='" + PWN.format("markdown-output") + "'>"))
display({{"application/vnd.jupyter.widget-view+json": {{"model_id": "x", "version_major": 2, "version_minor": 0}},
         "text/plain": "a widget"}}, raw=True)
print("re-read chapter 4, eq. (4.4) https://book.example.org/chapters/04_conv_backward.html#equation-eq-conv-dx.")
print("a long line that must wrap: " + "0123456789 " * 40)
'''


def _cell(kind, source, **extra):
    cell = {"cell_type": kind, "metadata": extra.pop("metadata", {}), "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    cell.update(extra)
    return cell


def attacker_notebook(repo):
    nb = C.release_notebook(repo, "pooling")
    nb["cells"][1:1] = [
        _cell("markdown", ATTACK_MARKDOWN, metadata={"tags": ['x" onmouseover="alert(1)']}),
        _cell("raw", "<script>" + PWN.format("raw-cell") + "</script>",
              metadata={"raw_mimetype": "text/html"}),
        _cell("code", ATTACK_CODE.format(pwn=PWN)),
    ]
    return nb


# ----------------------------------------------------------------------------
# no browser


def test_hidden_test_regions_are_stripped_and_the_visible_part_kept():
    source = ('### BEGIN HIDDEN TESTS\ngrader_record("conv_forward__pad0", conv_forward)\n'
              "### END HIDDEN TESTS\ncheck_conv_forward_case(conv_forward, shape=(1, 5, 5, 2))\n")
    assert feedback.strip_hidden_tests(source) == "check_conv_forward_case(conv_forward, shape=(1, 5, 5, 2))\n"
    assert feedback.strip_hidden_tests("a = 1\n### BEGIN HIDDEN TESTS\nsecret()\n") == "a = 1\n"
    visible_record = ('grader_record("zero_pad__pad2", zero_pad)  # for grading only: does nothing here\n'
                      "check_zero_pad(zero_pad, shape=(2, 3, 4, 2), pad=2)\n")
    assert feedback.strip_hidden_tests(visible_record) == "check_zero_pad(zero_pad, shape=(2, 3, 4, 2), pad=2)\n"


def test_clean_html_removes_every_active_part():
    dirty = ('<script>x()</script><img src="x" onerror="x()"><svg onload="x()"></svg>'
             '<a href="javascript:x()">j</a><a href="https://ok.example/">ok</a>'
             '<img src="http://far.example/a.png"><img src="data:image/png;base64,AAAA" alt="dot">'
             '<p style="background:url(http://far.example/)">styled</p><iframe src="x"></iframe>')
    from bs4 import BeautifulSoup

    clean = feedback.clean_html(dirty)
    tags = BeautifulSoup(clean, "html.parser").find_all(True)
    assert {t.name for t in tags} == {"img", "a", "p"}, clean
    attributes = {(t.name, k, str(v)) for t in tags for k, v in t.attrs.items()}
    assert attributes == {("a", "href", "https://ok.example/"), ("img", "alt", "dot"),
                          ("img", "src", "data:image/png;base64,AAAA")}, attributes
    assert '<a href="https://ok.example/">ok</a>' in clean
    assert "&lt;script&gt;" in clean  # shown as text: the student sees what they wrote


def test_citations_followed_by_an_address_become_links():
    text = ("  re-read chapter 4, eq. (4.4) and eq. (4.6) https://b.example/ch/04.html#equation-eq-conv-dx.\n"
            "see https://b.example/a?x=1&amp;y=2, then stop")
    out = feedback.link_text(text)
    href = "https://b.example/ch/04.html#equation-eq-conv-dx"
    assert f'<a class="citation" href="{href}" rel="noopener noreferrer">chapter 4, eq. (4.4) and eq. (4.6)</a>' in out
    assert f'<a href="{href}" rel="noopener noreferrer">{href}</a>.' in out
    assert '<a href="https://b.example/a?x=1&amp;y=2" rel="noopener noreferrer">' in out
    assert feedback.link_text("javascript:alert(1) and chapter 4, eq. (4.4)") == \
        "javascript:alert(1) and chapter 4, eq. (4.4)"
    # as citations.py writes them: the address is the first equation's
    two = feedback.link_text("re-read chapter 3, eq. (3.1); chapter 5, eq. (5.2) and (5.3): https://b.example/3#e1")
    assert two.startswith('re-read <a class="citation" href="https://b.example/3#e1" rel="noopener noreferrer">'
                          "chapter 3, eq. (3.1)</a>; chapter 5, eq. (5.2) and (5.3): <a "), two
    # an address in escaped angle brackets stops before them; a citation far from it is not linked
    far = feedback.link_text("chapter 2, eq. (2.1) is nice. See &lt;https://b.example/x&gt;")
    assert far == 'chapter 2, eq. (2.1) is nice. See &lt;<a href="https://b.example/x" ' \
                  'rel="noopener noreferrer">https://b.example/x</a>&gt;', far


def _result(student, ok=True):
    from autograder.grading.run.results import Result
    return Result(student, "pooling", ok=ok, error=None if ok else "boom", seconds=1.0)


def test_progress_in_a_log_file_is_plain_lines():
    """Not a terminal: no bar (no carriage return), one line per notebook."""
    err, out = io.StringIO(), io.StringIO()
    bar = progress.Progress(3, stream=err, lines=out)
    for k in range(3):
        bar.update(_result(f"s{k}", ok=k != 1))
    bar.close()
    assert "\r" not in err.getvalue() + out.getvalue()
    assert out.getvalue().splitlines() == ["[1/3] s0/pooling (1.0 s)", "[2/3] s1/pooling (1.0 s) ERROR: boom",
                                           "[3/3] s2/pooling (1.0 s)"]
    only = io.StringIO()  # no `lines` stream: the plain lines go where the bar would have gone
    bar = progress.Progress(2, stream=only)
    bar.update(_result("a"))
    bar.update(_result("b"))
    bar.close()
    assert "\r" not in only.getvalue() and only.getvalue().count("\n") == 2


def test_progress_on_a_terminal_draws_a_bar():
    """The other side of the same switch: on a terminal the bar redraws in place."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    try:
        with open(follower, "w", closefd=False) as tty:
            assert tty.isatty()
            bar = progress.Progress(2, stream=tty)
            bar.update(_result("a"))
            bar.update(_result("b"))
            bar.close()
            tty.flush()
        chunks = []
        while select.select([leader], [], [], 0.5)[0]:  # the terminal delivers in pieces
            chunks.append(os.read(leader, 65536))
        drawn = b"".join(chunks).decode(errors="replace")
    finally:
        os.close(leader)
        os.close(follower)
    assert "\r" in drawn and "grading" in drawn and "2/2" in drawn


# ----------------------------------------------------------------------------
# a graded course


FORMGRADER = """
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader
config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
api = NbGraderAPI(CourseDirectory(config=config), config=config)
for student, assignment in (("blank", "convolution"), ("attacker", "pooling")):
    result = api.generate_feedback(assignment, student, force=True)
    assert result["success"], result
"""


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade blank + attacker with `make grade`'s module, then regenerate with plain nbgrader."""
    repo = C.copy_course(tmp_path_factory.mktemp("feedback"))
    C.release(repo)
    C.submit(repo, "blank", "convolution", C.release_notebook(repo, "convolution"))
    C.submit(repo, "attacker", "pooling", attacker_notebook(repo))
    run = C.run(repo, "autograder.grading.run.grade", "--jobs", "2")
    course = repo / "autograder"
    shutil.move(course / "feedback", course / "feedback_make")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    for assignment in ("convolution", "pooling"):
        proc = subprocess.run([str(nbgrader), "generate_feedback", assignment, "--force"], cwd=course,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.move(course / "feedback", course / "feedback_nbgrader")
    # The formgrader's "generate feedback" button: nbgrader's API, which forces template_name "feedback".
    proc = subprocess.run([sys.executable, "-c", FORMGRADER], cwd=course, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The stock page, for the control: nbconvert's own HTML template, nothing sanitised.
    stock = course / "stock" / "attacker.html"
    stock.parent.mkdir()
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--template", "classic",
                    "--output-dir", str(stock.parent), "--output", "attacker",
                    str(course / "autograded" / "attacker" / "pooling" / "pooling.ipynb")],
                   check=True, capture_output=True, timeout=300)
    return {"course": course, "run": run, "stock": stock,
            "roots": {"make grade": course / "feedback_make", "nbgrader generate_feedback": course / "feedback_nbgrader",
                      "formgrader": course / "feedback"}}


def _pages(graded):
    for how, root in graded["roots"].items():
        yield how, "blank", root / "blank" / "convolution" / "convolution.html"
        yield how, "attacker", root / "attacker" / "pooling" / "pooling.html"


@pytest.mark.slow
@pytest.mark.xdist_group("feedback-pages")
def test_make_grade_log_has_no_carriage_returns(graded):
    run = graded["run"]
    assert "\r" not in run.stdout + run.stderr
    assert re.search(r"^\[1/2\] \S+ \(", run.stdout, re.M) and re.search(r"^\[2/2\] ", run.stdout, re.M), run.stdout


@pytest.mark.slow
@pytest.mark.xdist_group("feedback-pages")
def test_pages_show_no_hidden_tests_and_name_every_test(graded):
    from bs4 import BeautifulSoup

    from autograder.grading import cases as registry

    for how, student, page in _pages(graded):
        text = page.read_text()
        soup = BeautifulSoup(text, "html.parser")
        assert "HIDDEN TESTS" not in text and "grader_record(\"" not in soup.get_text(), f"{how}: {page}"
        assignment = page.stem
        cases = registry.for_assignment(assignment)
        toc = soup.find(id="toc")
        items = toc.find_all("li")
        named = {li.find("code").get_text(): li.get_text(" ", strip=True) for li in items if li.find("code")}
        for case in cases:
            assert case.grade_id in named, f"{how}: {case.grade_id} missing from the summary of {page}"
            plural = "point" if case.points == 1 else "points"
            assert re.search(rf"\d+ / {case.points:g} {plural}\b", named[case.grade_id]), named[case.grade_id]
        assert "Test cell" not in toc.get_text()
        if student == "blank":  # the visible checks stay, one per test cell at least
            assert soup.get_text().count("check_conv_forward_case(") >= 5


def _gate(record):
    """A route handler: files and data: URLs load, anything else is refused and recorded."""
    def gate(route):
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            record["outside"].append(url)
            route.abort()
    return gate


def _listen(page, record):
    """Console errors, failed requests and dialogs of `page` into `record`."""
    def console(message):
        if message.type == "error":
            record["console"].append(message.text)

    def dialog(d):
        record["dialogs"].append(d.message)
        d.dismiss()

    page.on("console", console)
    page.on("pageerror", lambda error: record["console"].append(f"pageerror: {error}"))
    page.on("requestfailed", lambda request: record["failed"].append(f"{request.url} ({request.failure})"))
    page.on("dialog", dialog)


@pytest.fixture(scope="session")
def browsed(graded):
    """Open every page from file:// in Chromium; record what happened."""
    require(CHROMIUM, "chromium")
    from playwright.sync_api import sync_playwright

    targets = {f"{how}: {student}": page for how, student, page in _pages(graded)}
    targets["stock template: attacker"] = graded["stock"]
    results = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for label, path in targets.items():
            context = browser.new_context(viewport={"width": 900, "height": 900})
            record = {"console": [], "outside": [], "failed": [], "dialogs": []}

            context.route("**/*", _gate(record))
            page = context.new_page()
            _listen(page, record)
            # (the stock page never reaches "load": its CDN scripts are refused)
            ours = not label.startswith("stock")
            page.goto(path.as_uri(), wait_until="load" if ours else "commit")
            # a curious reader clicks the student's links
            page.evaluate("() => document.querySelectorAll('#clickme, a[href^=\"javascript\"]')"
                          ".forEach(a => a.click())")
            page.wait_for_timeout(300 if ours else 3000)
            record.update(page.evaluate("""() => ({
                pwned: window.__pwned || null,
                title: document.title,
                math: document.querySelectorAll('math').length,
                mathDrawn: Array.from(document.querySelectorAll('math'))
                    .filter(m => getComputedStyle(m).display.includes('math')).length,
                scripts: document.querySelectorAll('script').length,
                rawTex: Array.from(document.querySelectorAll('.text_cell_render'))
                    .map(e => e.innerText).filter(t => /\\$\\$|\\\\frac|\\\\sum|\\\\tag/.test(t)).length,
                wide: Array.from(document.querySelectorAll('#notebook pre'))
                    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText.slice(0, 80)),
                pageWide: document.documentElement.scrollWidth > document.documentElement.clientWidth,
                csp: (document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || null,
                links: Array.from(document.querySelectorAll('.output_area a[href]'))
                    .map(a => [a.textContent, a.getAttribute('href')]),
                citations: document.querySelectorAll('.output_area a.citation[href*="#equation-"]').length,
                unlinked: Array.from(document.querySelectorAll('.output_area pre'))
                    .filter(e => (e.innerText.match(/https?:\\/\\//g) || []).length
                                 > e.querySelectorAll('a[href^="http"]:not(.citation)').length)
                    .map(e => e.innerText.slice(0, 200)),
            })"""))
            results[label] = record
            context.close()
        browser.close()
    return results


# The template's policy, its style-src filled in with the hashes of the page's own <style> elements.
SEALED_CSP = re.compile(re.escape(feedback.CSP).replace(re.escape(feedback.STYLE_HASHES),
                                                        r"(?:'sha256-[A-Za-z0-9+/]{43}=' ?)+"))


def _ours(browsed):
    return {k: v for k, v in browsed.items() if not k.startswith("stock")}


@pytest.mark.slow
@pytest.mark.xdist_group("feedback-pages")
def test_the_attacks_are_live_on_a_stock_page(browsed):
    """Control: nbconvert's stock template runs the attacker's script (so the corpus is real)."""
    assert browsed["stock template: attacker"]["pwned"], browsed["stock template: attacker"]


@pytest.mark.slow
@pytest.mark.xdist_group("feedback-pages")
def test_no_attack_runs_in_a_feedback_page(browsed):
    for label, r in _ours(browsed).items():
        assert r["pwned"] is None and r["title"] != "pwned" and not r["dialogs"], (label, r["pwned"], r["title"])
        assert SEALED_CSP.fullmatch(r["csp"] or ""), (label, r["csp"])
        assert r["scripts"] == 0, label


@pytest.mark.slow
@pytest.mark.xdist_group("feedback-pages")
def test_pages_are_offline_with_a_clean_console(browsed):
    for label, r in _ours(browsed).items():
        assert not r["outside"], f"{label}: requests left the machine: {r['outside']}"
        assert not r["console"], f"{label}: console errors: {r['console']}"
        assert not r["failed"], f"{label}: failed requests: {r['failed']}"


@pytest.mark.slow
@pytest.mark.xdist_group("feedback-pages")
def test_equations_render_offline(browsed):
    for label, r in _ours(browsed).items():
        assert r["math"] > 0 and r["mathDrawn"] == r["math"], f"{label}: {r['mathDrawn']} of {r['math']} formulas drawn"
        assert r["rawTex"] == 0, f"{label}: {r['rawTex']} markdown cells still show raw TeX"


@pytest.mark.slow
@pytest.mark.xdist_group("feedback-pages")
def test_long_lines_wrap(browsed):
    for label, r in _ours(browsed).items():
        assert not r["wide"] and not r["pageWide"], f"{label}: lines scroll sideways: {r['wide'][:3]}"


@pytest.mark.slow
@pytest.mark.xdist_group("feedback-pages")
def test_citations_and_book_addresses_are_links(browsed):
    """A citation followed by the book's address (as the judge's messages and the
    student's own print give it) is a link to that address, in text outputs."""
    for label, r in _ours(browsed).items():
        if not label.endswith("attacker"):
            continue
        href = "https://book.example.org/chapters/04_conv_backward.html#equation-eq-conv-dx"
        assert ["chapter 4, eq. (4.4)", href] in r["links"] and [href, href] in r["links"], (label, r["links"])
        assert not any(h.startswith("javascript") for _, h in r["links"])
    for label, r in _ours(browsed).items():  # the judge's verdicts on a blank notebook cite the book
        if label.endswith("blank"):
            assert r["citations"] >= 10, (label, r["citations"])
    for label, r in _ours(browsed).items():  # every address in an output is a link, the judge's verdicts included
        assert not r["unlinked"], (label, r["unlinked"][:3])
        for text, href in r["links"]:
            assert href.startswith("https://") or href.startswith("http://"), (label, text, href)
