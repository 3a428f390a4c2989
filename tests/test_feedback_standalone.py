"""A feedback page is one file that stands alone, reaches students through nbgrader's exchange,
cannot be covered by what a student wrote, and the formgrader still works (issue 22 items 1, 10;
issue 18 finding 6).

The fast tests check the pieces (TeX to MathML, the allow-lists, the CSP seal,
the exporters each exporter gets). The slow ones walk one assignment on a copy
of the course with a temporary nbgrader exchange:

- `ada` fetches and submits through the exchange (`nbgrader fetch_assignment`,
  `nbgrader submit`, as herself in her own folder); her inbound folder is
  copied into submitted/ as collect does (collect itself, which takes the
  student from the folder's owner uid, is tests/test_collect.py's);
- `bea` is placed in submitted/ by hand, as the README allows;
- both add a markdown cell with maths and, for the overlay attack (issue 18
  finding 6), a fake "Score: 35 / 35" that tries to cover the page by every
  route: a fixed-position div (style and bootstrap classes), an image whose
  width carries a style, a MathML style, an HTML output and a markdown output;
- `make grade`'s module grades; `nbgrader release_feedback` releases ada's
  page and names bea's (which no `fetch_feedback` could find) instead of
  stopping; `nbgrader fetch_feedback` gives ada her page.

Each page is then copied ALONE into an empty folder and opened in headless
Chromium (Debian's, through Playwright) with every request but the page
itself refused and recorded. The same attack rendered by nbconvert's stock
template is opened as the control: there the fake score covers the page.
Finally the course's formgrader (nbgrader's Jupyter server extension, on
127.0.0.1 with a token) shows ada's submission and takes a manual grade typed
into its page.
"""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from tests.support import ROOT, require

from tests.submissions import course as C

from autograder.grading.pages import feedback, feedback_assets

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
COURSE_ID = "backprop-through-cnns"
ASSIGNMENT = "pooling"
FAKE = "Score: 35 / 35 — All 21 tests passed"
COVER = "position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:99999;background:#fff"
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082")).decode()

MATH_MARKDOWN = r"""## My derivation

Inline $\frac{\partial L}{\partial A_{hw}} = \sum_{i,j} dZ_{ij}$ and $x^2$, then displayed:

$$
dA = \sum_{c} W_{:,:,c} \star dZ_{c} \tag{5.1}
$$

\begin{equation}
\sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr)
\end{equation}

$$\begin{cases} 1 & \text{if } x > 0 \\ 0 & \text{otherwise} \end{cases}$$
"""
OVERLAY_MARKDOWN = f"""<div class="navbar-fixed-top modal-backdrop" id="top" style="{COVER}">{FAKE}</div>

<img src="data:image/png;base64,{PNG}" width="100" style="{COVER}">

$\\style{{{COVER}}}{{\\text{{{FAKE}}}}}$ and $\\href{{javascript:alert(1)}}{{x}}$ and $\\text{{<b>bold</b>}}$

<script>window.__pwned = 1</script>

<img src="x" onerror="window.__pwned = 2"> ![a picture](attachment:dot.png)
"""
OVERLAY_CODE = f"""from IPython.display import HTML, Markdown, display
display({{"image/png": {PNG!r}, "text/plain": "a picture"}}, raw=True,
        metadata={{"image/png": {{"width": "100 style={COVER}"}}}})
display(HTML('<div class="navbar-fixed-top" style="{COVER}">{FAKE}</div>'))
display(Markdown('<div class="modal-backdrop" style="{COVER}">{FAKE}</div>'))
"""


def _cell(kind, source):
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def with_student_cells(nb):
    """The notebook (a dict) with the student's maths and the overlay attack after its first cell."""
    overlay = dict(_cell("markdown", OVERLAY_MARKDOWN), attachments={"dot.png": {"image/png": PNG}})
    nb["cells"][1:1] = [_cell("markdown", MATH_MARKDOWN), overlay, _cell("code", OVERLAY_CODE)]
    return nb


# ----------------------------------------------------------------------------
# no browser


def _notebook_markdown():
    for path in sorted((ROOT / "autograder" / "source").glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                yield path.stem, cell.source


def test_every_formula_of_the_notebooks_becomes_mathml():
    formulas = 0
    for name, source in _notebook_markdown():
        out = feedback_assets.markdown_html(source)
        assert 'class="tex"' not in out, (name, source[:200], out[:500])
        text = re.sub(r"<math.*?</math>", "", out, flags=re.S)
        assert not re.search(r"\$[^$\n]+\$|\\\(|\\\[|\\(?:frac|sum|tag|begin)\b", text), (name, text[:500])
        formulas += out.count("<math ")
    assert formulas >= 50, formulas  # the three notebooks quote the book's equations


def test_student_tex_cannot_add_markup_links_or_styles():
    out = feedback_assets.tex_to_mathml(r"\text{<script>x</script>} \href{javascript:alert(1)}{y} "
                                        r"\style{position:fixed}{z} \color{red}{w}")
    assert "<script" not in out and "&lt;script&gt;" in out
    assert " href=" not in out and " style=" not in out and "javascript" not in out
    assert 'mathcolor="red"' in out  # what is safe stays
    # a space may not pull the formula over its neighbours, nor push the page out of shape
    assert 'width="' not in feedback_assets.tex_to_mathml(r"a \hspace{-30em} b \hspace{900em} c")
    assert 'width="-0.1667em"' in feedback_assets.tex_to_mathml(r"a \! b")
    # what cannot be converted faithfully is shown as its TeX, escaped
    assert feedback_assets.math_html(r"\notacommand{<i>}") == '<code class="tex">$\\notacommand{&lt;i&gt;}$</code>'


def test_an_equation_number_stands_at_the_right_as_in_the_book():
    out = feedback_assets.math_html(r"x = 1 \tag{3.5}", display=True)
    assert out.startswith('<span class="equation"><math display="block">') and "3.5" not in out.split("</math>")[0]
    assert out.endswith('<span class="equation-number">(3.5)</span></span>'), out
    assert "&lt;b&gt;" in feedback_assets.math_html(r"x \tag{<b>}", display=True)
    numbered = sum(feedback_assets.markdown_html(src).count('class="equation-number"')
                   for _, src in _notebook_markdown())
    assert numbered >= 10, numbered


def test_maths_in_an_attribute_stays_tex_and_tokens_cannot_be_forged():
    out = feedback_assets.markdown_html('<a title="$x$" href="https://a.example/">t</a> and $y$')
    assert 'title="$x$"' in out and out.count("<math") == 1, out
    # the tokens standing for formulas are random: a student who writes one gets text
    forged = feedback_assets.markdown_html("btcmath0123456789abcdefx0x and $z$")
    assert "btcmath0123456789abcdefx0x" in forged and forged.count("<math") == 1, forged


def test_markdown_naming_a_missing_attachment_renders_without_the_image():
    """nbconvert raises for it (a feedback page, or the formgrader's whole view, would fail)."""
    page = feedback_assets.markdown_html("![x](attachment:gone.png) and $x$")
    assert "<img" not in page and "<math" in page, page
    view = feedback_assets._sanitized_markdown2html({"cell": {"attachments": {}}}, "![x](attachment:gone.png) $x$")
    assert "<img" not in view and "$x$" in view, view  # the formgrader's maths stays TeX for its own MathJax
    kept = feedback_assets._sanitized_markdown2html({"cell": {"attachments": {"a.png": {"image/png": PNG}}}},
                                                    "![x](attachment:a.png)<script>x()</script>")
    assert f'src="data:image/png;base64,{PNG}"' in kept and "<script" not in kept, kept


def test_student_classes_and_ids_cannot_reach_the_page_css():
    out = feedback.clean_html('<div class="navbar-fixed-top modal-backdrop" id="top">a</div>'
                              '<span class="k nf">def</span><p id="toc">b</p><p id="conv_forward__pad0">c</p>'
                              '<h2 id="my-heading">d</h2><div class="highlight hl-ipython3">e</div>')
    assert "navbar" not in out and "modal" not in out and 'id="top"' not in out and 'id="toc"' not in out
    assert '<span class="k nf">' in out and 'id="my-heading"' in out and 'class="highlight hl-ipython3"' in out
    assert "conv_forward__pad0" not in out


def _render(nb):
    c = Config()
    feedback.configure(c)
    exporter = feedback.FeedbackExporter(config=c)
    exporter.register_preprocessor(feedback.FeedbackPreprocessor(), enabled=True)
    html, _ = exporter.from_notebook_node(
        nb, resources={"nbgrader": {"notebook": "n", "score": 1, "max_score": 2, "late_penalty": 0}})
    return html


def test_a_page_converts_a_bounded_number_of_formulas(monkeypatch):
    """Each formula costs the grader time: past the page's budget, formulas show as their TeX."""
    monkeypatch.setattr(feedback_assets, "MAX_FORMULAS", 3)
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("$a$ $b$ $c$ $d$ $e$"))
    for _ in range(2):  # every page starts with its own budget
        page = _render(nb)
        assert page.count("<math ") == 3 and page.count('<code class="tex">') == 2, page[-2000:]
    assert feedback_assets.markdown_html("$a$ $b$ $c$ $d$ $e$").count("<math ") == 5  # no page, no budget


def test_image_sizes_are_quoted_numbers_or_dropped():
    nb = nbformat.v4.new_notebook()
    outputs = [nbformat.v4.new_output("display_data", data={"image/png": PNG}, metadata={"image/png": meta})
               for meta in ({"width": "100 style=position:fixed;top:0"}, {"width": 120, "height": "80"},
                            {"width": "50%"})]
    nb.cells.append(nbformat.v4.new_code_cell("x", outputs=outputs))
    imgs = re.findall(r"<img [^>]*>", _render(nb))
    assert len(imgs) == 3, imgs
    assert "width" not in imgs[0] and "style" not in imgs[0] and "position" not in imgs[0], imgs[0]
    assert 'width="120"' in imgs[1] and 'height="80"' in imgs[1], imgs[1]
    assert "width" not in imgs[2], imgs[2]


def test_the_csp_allows_only_the_heads_own_styles():
    head_css = "p { color: red; }"
    page = (f'<html><head><meta content="{feedback.CSP}"><style type="text/css">{head_css}</style></head>'
            "<body><style>body { display: none }</style></body></html>")
    sealed = feedback.seal(page)
    hashes = re.findall(r"'sha256-([^']+)'", sealed)
    assert hashes == [base64.b64encode(__import__("hashlib").sha256(head_css.encode()).digest()).decode()]
    assert "script-src 'none'" in sealed and "unsafe-inline" not in sealed
    with pytest.raises(ValueError):
        feedback.seal("<html><head></head><body></body></html>")


def test_a_rendered_page_has_no_script_and_no_style_attribute():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(MATH_MARKDOWN + OVERLAY_MARKDOWN))
    html = _render(nb)
    assert "<script" not in html and " style=" not in html and FAKE in html
    assert html.count("<math ") == 8 and 'class="tex"' not in html


def test_only_the_feedback_converter_gets_the_feedback_template():
    """The formgrader's HTMLExporter keeps nbgrader's template (it was forced to ours: HTTP 500)."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.converters import GenerateFeedback

    from nbgrader.server_extensions.formgrader import handlers

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT / "autograder")).load_config()
    assert "template_name" not in config.HTMLExporter and "extra_template_basedirs" not in config.HTMLExporter
    formgrader = Config(config)  # what nbgrader's formgrader adds to the course's config
    formgrader.HTMLExporter.template_name = "formgrade"
    formgrader.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    view = HTMLExporter(config=formgrader)
    assert view.template_name == "formgrade" and view.sanitize_html  # its outputs are sanitised too
    assert config.GenerateFeedback.exporter_class is feedback.FeedbackExporter
    assert feedback.FeedbackExporter(config=formgrader).template_name == feedback.TEMPLATE_NAME
    # the feedback converter as nbgrader builds it (which sets HTMLExporter.template_name = "feedback")
    converter = GenerateFeedback(config=config)
    assert type(converter.exporter_class(config=converter.config)) is feedback.FeedbackExporter
    assert converter.exporter_class(config=converter.config).template_name == feedback.TEMPLATE_NAME


def test_release_feedback_names_a_page_without_a_secret_and_releases_the_rest(tmp_path, caplog):
    """nbgrader's own release stopped for everyone at the first folder without its two files."""
    import logging

    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
    from nbgrader.utils import notebook_hash

    from autograder.grading.run import patches

    patches.install_release_feedback()
    patches.install_release_feedback()
    assert ExchangeReleaseFeedback.copy_files.__wrapped__.__module__ == "nbgrader.exchange.default.release_feedback"
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    exchange.mkdir()
    files = {"ada": {"timestamp.txt": "2026-01-01 00:00:00.000000 UTC", "submission_secret.txt": "s3cret"},
             "bea": {},  # placed by hand
             "cy": {"submission_secret.txt": ""},  # (nbgrader's hash asserts on an empty secret)
             "dee": {"submission_secret.txt": "other"}}  # no timestamp: released all the same
    for student, extra in files.items():
        folder = course / "feedback" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / f"{ASSIGNMENT}.html").write_text(f"<p>{student}</p>")
        for name, text in extra.items():
            (folder / name).write_text(text)
    coursedir = CourseDirectory(root=str(course), course_id=COURSE_ID, assignment_id=ASSIGNMENT)
    release = ExchangeReleaseFeedback(coursedir=coursedir, authenticator=Authenticator(), root=str(exchange))
    # at its own logger: an earlier in-process grading run sets nbgrader's loggers to WARNING
    with caplog.at_level(logging.INFO, logger=release.log.name):
        release.start()
    outbound = exchange / COURSE_ID / "feedback"
    assert sorted(p.name for p in outbound.iterdir()) == sorted(
        f"{notebook_hash(secret=s, notebook_id=ASSIGNMENT)}.html" for s in ("s3cret", "other"))
    assert (outbound / f"{notebook_hash(secret='s3cret', notebook_id=ASSIGNMENT)}.html").read_text() == "<p>ada</p>"
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Not released")]
    assert len(skipped) == 2 and any("of bea on" in m for m in skipped) and any("of cy on" in m for m in skipped)


# ----------------------------------------------------------------------------
# one assignment through the exchange


def _run(cmd, cwd, env, ok=True):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if ok:
        assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    base = tmp_path_factory.mktemp("standalone")
    repo = C.copy_course(base)
    course = repo / "autograder"
    exchange = base / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o1777)
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, BTC_EXCHANGE_ROOT=str(exchange), PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    C.release(repo)
    _run(nbgrader + ["release_assignment", ASSIGNMENT, "--force"], course, env)

    # ada, in her own folder, with her own nbgrader cache (where `submit` keeps her submission's secret)
    ada = base / "ada"
    ada.mkdir()
    ada_env = {k: v for k, v in env.items() if k != "BTC_EXCHANGE_ROOT"}
    ada_env["JUPYTER_DATA_DIR"] = str(ada / ".jupyter-data")
    as_ada = ["--course", COURSE_ID, f"--Exchange.root={exchange}", "--student", "ada"]
    _run(nbgrader + ["fetch_assignment", ASSIGNMENT, *as_ada], ada, ada_env)
    mine = ada / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    mine.write_text(json.dumps(with_student_cells(json.loads(mine.read_text()))))
    _run(nbgrader + ["submit", ASSIGNMENT, *as_ada], ada, ada_env)
    inbound = list((exchange / COURSE_ID / "inbound").glob(f"ada+{ASSIGNMENT}+*"))
    assert len(inbound) == 1, inbound
    assert (inbound[0] / "submission_secret.txt").is_file()
    shutil.copytree(inbound[0], course / "submitted" / "ada" / ASSIGNMENT)  # as collect copies it

    # bea, placed by hand
    C.submit(repo, "bea", ASSIGNMENT, with_student_cells(C.release_notebook(repo, ASSIGNMENT)))

    graded = C.run(repo, "autograder.grading.run.grade", "--jobs", "1")
    released = _run(nbgrader + ["release_feedback", ASSIGNMENT], course, env)
    fetched = _run(nbgrader + ["fetch_feedback", ASSIGNMENT, *as_ada], ada, ada_env)
    pages = list((ada / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))

    # the control: the same autograded notebook through nbconvert's stock template
    stock = base / "stock"
    _run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--template", "classic", "--output-dir",
          str(stock), "--output", "attack", str(course / "autograded" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")],
         base, env)
    return {"base": base, "repo": repo, "course": course, "env": env, "graded": graded, "released": released,
            "fetched": fetched, "fetched_pages": pages, "exchange": exchange, "stock": stock / "attack.html"}


def _alone(page, folder):
    """A copy of `page` as the only file of a new, empty folder."""
    folder.mkdir()
    dest = folder / page.name
    shutil.copyfile(page, dest)
    return dest


@pytest.mark.slow
def test_release_feedback_releases_the_exchange_page_and_names_the_hand_placed_one(semester):
    log = semester["released"].stdout + semester["released"].stderr
    assert "Releasing feedback for student 'ada'" in log, log
    assert re.search(r"Not released: the feedback of bea on pooling/pooling: .*did not come through the exchange",
                     log), log
    outbound = list((semester["exchange"] / COURSE_ID / "feedback").glob("*.html"))
    assert len(outbound) == 1, outbound
    assert len(semester["fetched_pages"]) == 1, semester["fetched"].stdout + semester["fetched"].stderr
    own = semester["course"] / "feedback" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert semester["fetched_pages"][0].read_bytes() == own.read_bytes() == outbound[0].read_bytes()


def _gate(record, allowed):
    def gate(route):
        url = route.request.url
        if url == allowed or url.startswith("data:"):
            route.continue_()
        else:
            record["outside"].append(url)
            route.abort()
    return gate


INSPECT = """() => {
    const heading = document.querySelector('.panel-heading h4');
    const box = heading ? heading.getBoundingClientRect() : null;
    const hit = box ? document.elementFromPoint(box.left + 5, box.top + box.height / 2) : null;
    const positioned = Array.from(document.querySelectorAll('body *')).filter(e =>
        ['fixed', 'absolute', 'sticky'].includes(getComputedStyle(e).position) && e.offsetWidth > 0);
    const maths = Array.from(document.querySelectorAll('math'));
    return {
        headingOnTop: !!(heading && hit && heading.contains(hit)),
        heading: heading ? heading.innerText : null,
        fakeShown: document.body.innerText.includes('Score: 35 / 35'),
        pwned: window.__pwned === undefined ? null : window.__pwned,
        positioned: positioned.map(e => e.tagName + '.' + e.className).slice(0, 5),
        math: maths.length,
        drawn: maths.filter(m => getComputedStyle(m).display.includes('math')
                                 && m.getBoundingClientRect().width > 0).length,
        rawTex: Array.from(document.querySelectorAll('.text_cell_render, .output_markdown, .output_latex'))
            .map(e => e.innerText).filter(t => /\\$[^$\\n]+\\$|\\\\\\(|\\\\\\[|\\\\(frac|sum|tag|begin)\\b/.test(t)),
        fallbacks: document.querySelectorAll('code.tex').length,
        scripts: document.querySelectorAll('script').length,
        styleAttributes: document.querySelectorAll('[style]').length,
        images: Array.from(document.images).map(i => [i.complete && i.naturalWidth > 0, i.getAttribute('width')]),
    };
}"""


@pytest.fixture(scope="module")
def browsed(semester):
    require(CHROMIUM, "chromium")
    from playwright.sync_api import sync_playwright

    base = semester["base"]
    targets = {
        "ada, fetched": _alone(semester["fetched_pages"][0], base / "alone-ada"),
        "bea, by hand": _alone(semester["course"] / "feedback" / "bea" / ASSIGNMENT / f"{ASSIGNMENT}.html",
                               base / "alone-bea"),
        "stock template": semester["stock"],
    }
    results = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for label, path in targets.items():
            context = browser.new_context(viewport={"width": 1000, "height": 800})
            record = {"outside": [], "console": [], "failed": []}
            context.route("**/*", _gate(record, path.as_uri()))
            page = context.new_page()
            page.on("console", lambda m, r=record: r["console"].append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, r=record: r["console"].append(f"pageerror: {e}"))
            page.on("requestfailed", lambda q, r=record: r["failed"].append(q.url))
            page.goto(path.as_uri(), wait_until="load" if label != "stock template" else "commit")
            page.wait_for_timeout(300 if label != "stock template" else 2000)
            record.update(page.evaluate(INSPECT))
            results[label] = record
            context.close()
        browser.close()
    return results


def _ours(browsed):
    return {k: v for k, v in browsed.items() if k != "stock template"}


@pytest.mark.slow
def test_a_page_alone_requests_nothing_and_logs_no_error(browsed):
    for label, r in _ours(browsed).items():
        assert not r["outside"] and not r["failed"], (label, r["outside"], r["failed"])
        assert not r["console"], (label, r["console"])
        assert r["scripts"] == 0 and r["styleAttributes"] == 0, label


@pytest.mark.slow
def test_a_page_alone_draws_its_maths(browsed):
    for label, r in _ours(browsed).items():
        assert r["math"] >= 20 and r["drawn"] == r["math"], (label, r["math"], r["drawn"])
        assert not r["rawTex"] and r["fallbacks"] == 0, (label, r["rawTex"][:3], r["fallbacks"])


@pytest.mark.slow
def test_a_fake_score_cannot_cover_the_page(browsed):
    stock = browsed["stock template"]
    assert stock["fakeShown"] and not stock["headingOnTop"] and stock["positioned"], stock  # the attack is live
    assert stock["pwned"], stock
    for label, r in _ours(browsed).items():
        assert r["fakeShown"], label  # the student's text is there, as text in its own cell
        assert r["headingOnTop"] and re.match(r"pooling \(Score: [\d.]+ / 35\)", r["heading"]), (label, r["heading"])
        assert not r["positioned"] and r["pwned"] is None, (label, r["positioned"], r["pwned"])
        assert all(ok for ok, _ in r["images"]) and all(w in (None, "100") for _, w in r["images"]), r["images"]


# ----------------------------------------------------------------------------
# the formgrader


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def formgrader(semester):
    course, base = semester["course"], semester["base"]
    port, token = _free_port(), "btc-test-token-" + os.urandom(8).hex()
    env = dict(semester["env"], JUPYTER_RUNTIME_DIR=str(base / "runtime"), JUPYTER_CONFIG_DIR=str(base / "jcfg"))
    log = open(base / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={course}", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=course, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.5)
        else:
            pytest.fail("the Jupyter server did not start: " + (base / "server.log").read_text()[-3000:])
        assert server.poll() is None, (base / "server.log").read_text()[-3000:]
        yield {"url": url, "token": token, "log": base / "server.log"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _submission_id(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "ada").id


def _manual_score(course, grade_id):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return gb.find_grade(grade_id, ASSIGNMENT, ASSIGNMENT, "ada").manual_score


@pytest.mark.slow
def test_the_formgrader_shows_a_submission_and_takes_a_manual_grade(semester, formgrader):
    require(CHROMIUM, "chromium")
    from playwright.sync_api import sync_playwright

    submission = _submission_id(semester["course"])
    url = f"{formgrader['url']}/formgrader/submissions/{submission}/?token={formgrader['token']}"
    with urllib.request.urlopen(url, timeout=60) as response:  # nbgrader's view, through the real server
        assert response.status == 200
        body = response.read().decode()
    assert "pool_forward" in body and "TemplateNotFound" not in body
    assert "<script>window.__pwned" not in body and "onerror" not in body
    grade_id = "pool_forward__max_f2_s2"
    assert grade_id in body, "the view names the test cells"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        # an instructor logged in with the token (the page's own API calls carry it too)
        page = browser.new_page(extra_http_headers={"Authorization": f"token {formgrader['token']}"})
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(formgrader["url"])
                   else route.abort())  # the formgrader's own MathJax comes from a CDN: no network here
        page.goto(url, wait_until="load")
        # the formgrader's own script (formgrade.js) sets grades.loaded once its score inputs are bound
        page.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded === true",
                               timeout=30000)
        score = page.locator(f"input.score[id='{grade_id}']")
        score.wait_for(timeout=30000)
        with page.expect_response(lambda r: r.request.method == "PUT" and "/formgrader/api/grade/" in r.url) as put:
            score.fill("0.5")
            score.press("Tab")  # the formgrader saves a score when its input changes
        assert put.value.ok, put.value.status
        # the student's markdown ran nothing in the instructor's browser (nbgrader's own view would run it)
        assert page.evaluate("() => window.__pwned === undefined"), page.evaluate("() => window.__pwned")
        browser.close()
    assert _manual_score(semester["course"], grade_id) == 0.5, formgrader["log"].read_text()[-3000:]


def test_texts_seen_before_render_as_the_first_time_and_pay_their_formulas():
    """A worker renders recurring texts once (feedback_assets' caches): the page is the same byte for
    byte, and a cached text's formulas still count against the page's budget."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("A $\\bar Z$ and <b>bold</b> $$x^2 \\tag{4.1}$$"))
    nb.cells.append(nbformat.v4.new_code_cell("x = 1  # <script>"))
    feedback_assets._clean_html_cached.cache_clear()
    feedback_assets._markdown_html_cached.cache_clear()
    first = _render(nb)
    assert feedback_assets._markdown_html_cached.cache_info().currsize == 1
    assert _render(nb) == first and feedback_assets._markdown_html_cached.cache_info().hits >= 1
    nb.cells.append(nbformat.v4.new_markdown_cell("$a$ $b$ $c$ $d$ $e$"))
    feedback_assets.markdown_html("$a$ $b$ $c$ $d$ $e$")  # cached, all five converted
    budget = feedback_assets.formula_budget()
    try:
        feedback_assets._formulas_left.get()[0] = 3
        assert feedback_assets.markdown_html("$a$ $b$ $c$ $d$ $e$").count("<math ") == 3
        assert feedback_assets._formulas_left.get()[0] == 0
        assert feedback_assets.markdown_html("$a$").count("<math ") == 0  # the page's budget is spent
    finally:
        feedback_assets.end_formula_budget(budget)
