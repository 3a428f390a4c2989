"""Feedback pages a student can read offline and an instructor can open safely.

nbgrader's `GenerateFeedback` (run by `make grade` in its workers, by plain
`nbgrader generate_feedback` and by the formgrader's button) turns every
autograded notebook into feedback/<student>/<assignment>/<assignment>.html.
The course config (nbgrader_config.py, its "feedback pages" block) plugs in
what this module provides, so every way gives the same page:

- `FeedbackPreprocessor` (after nbgrader's GetGrades): removes the hidden-test
  regions (`### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`) and the
  `grader_record(...)` calls from the test cells, keeps the visible checks;
  drops outputs that would run code in a browser (JavaScript, widgets) and
  anything but inert metadata; and puts the book's MathJax 3 next to the
  pages once (feedback/_static/, see `ensure_static`).
- `FeedbackExporter`: nbconvert's HTML exporter, always with the template
  autograder/templates/btc_feedback/: nbgrader's feedback page
  with a Content-Security-Policy (no inline script, nothing remote: only the
  local MathJax and data: images), MathJax 3 loaded by a relative path instead
  of MathJax 2 from a CDN, output lines that wrap instead of scrolling, and a
  summary that names every test by its grade_id with its points.
- the Jinja filters `clean_html` (markdown cells and HTML outputs through
  bleach with a small allow-list: no script, no event handler, no style, no
  javascript: link, images only from data: URLs) and `ansi2html_links`
  (text outputs as nbconvert renders them, with web addresses made links and a
  citation such as "chapter 4, eq. (4.4)" followed by its address made a link
  to that equation).

The page then runs no JavaScript but MathJax's, requests nothing but files
beside it, and renders the same with no network.

Released feedback: `nbgrader release_feedback` copies only the .html file into
the exchange; a page opened outside feedback/ has no _static/ beside it, so
its equations stay TeX as written and the browser's console notes the missing
MathJax file (everything else works). Pages served from or opened in the
course's feedback/ folder (the report links there) have it.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import default, validate

# (MATHJAX_VERSION, MATHJAX_SHA512 and mathjax_tarball are read from here by tests and tools)
from .feedback_assets import (MATHJAX_SHA512, MATHJAX_VERSION, STATIC, _feedback_root,  # noqa: F401
                              ensure_static, mathjax_tarball)

COURSE = Path(__file__).resolve().parents[1]
REPO = COURSE.parent
TEMPLATES = COURSE / "templates"
TEMPLATE_NAME = "btc_feedback"


HIDDEN_BEGIN = re.compile(r"^\s*#+\s*BEGIN HIDDEN TESTS\b")
HIDDEN_END = re.compile(r"^\s*#+\s*END HIDDEN TESTS\b")
# The grading hook of a test cell (visible or hidden): one call per line.
RECORD_LINE = re.compile(r"^\s*grader_record\(.*\)\s*(#.*)?$")

# Output types a feedback page shows; anything else (application/javascript,
# widget views and states, PDFs, ...) is replaced by a one-line note.
SHOWN_MIMETYPES = ("text/plain", "text/html", "text/markdown", "text/latex",
                   "image/png", "image/jpeg", "image/svg+xml")
SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# ----------------------------------------------------------------------------
# the notebook, before the template sees it


def strip_hidden_tests(source):
    """A test cell's `source` as its feedback shows it: the visible checks only.

    Removed: hidden-test regions (marker lines included; an unterminated
    region runs to the end of the cell, as nbgrader's own ClearHiddenTests
    treats it) and the `grader_record(...)` lines, grading's plumbing, not a
    check a student reads.
    """
    out, hidden = [], False
    for line in source.splitlines(keepends=True):
        if HIDDEN_BEGIN.match(line):
            hidden = True
        elif HIDDEN_END.match(line) and hidden:
            hidden = False
        elif not hidden and not RECORD_LINE.match(line):
            out.append(line)
    return "".join(out)


def _is_test_cell(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _safe_output(output):
    """The output as a feedback page may show it (a new dict; the input is not changed)."""
    kind = output.get("output_type")
    if kind not in ("display_data", "execute_result"):
        return output
    data = output.get("data", {})
    kept = {k: v for k, v in data.items() if k in SHOWN_MIMETYPES}
    dropped = sorted(k for k in data if k not in SHOWN_MIMETYPES)
    if dropped and "text/plain" not in kept:
        kept["text/plain"] = f"(output of type {', '.join(dropped)}: not shown in feedback pages)"
    metadata = {k: ({n: x for n, x in v.items() if n != "isolated"} if isinstance(v, dict) else v)
                for k, v in output.get("metadata", {}).items() if k in kept}  # never an "isolated" iframe
    return nbformat.from_dict(dict(output, data=kept, metadata=metadata))


class FeedbackPreprocessor(Preprocessor):
    """Hidden tests out, inert outputs only, MathJax beside the pages (see the module docstring)."""

    @default("enabled")
    def _enabled_default(self):  # nbconvert's preprocessors are off unless enabled
        return True

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        for cell in nb.cells:
            self._clean_cell(cell)
        try:
            ensure_static(_feedback_root(self))
        except Exception as exc:  # the page still works, its equations stay TeX
            self.log.warning("feedback pages: no local MathJax (%s); equations show as TeX", exc)
        return nb, resources

    def _clean_cell(self, cell):
        if cell.get("cell_type") == "code" and _is_test_cell(cell):
            cell.source = strip_hidden_tests(cell.source)
        # Student-controlled names end up in attributes: keep only plain tokens.
        tags = cell.get("metadata", {}).get("tags")
        if tags is not None:
            cell.metadata["tags"] = [t for t in tags if isinstance(t, str) and SAFE_TOKEN.match(t)]
        if "id" in cell and not (isinstance(cell.id, str) and SAFE_TOKEN.match(cell.id)):
            del cell["id"]
        cell.pop("attachments", None)
        if cell.get("cell_type") == "code":
            if not isinstance(cell.get("execution_count"), int):
                cell.execution_count = None
            cell.outputs = [_safe_output(o) for o in cell.get("outputs", [])]


# ----------------------------------------------------------------------------
# Jinja filters (registered through HTMLExporter.filters in the course config)


def _allowed_attribute(tag, name, value):
    if name in ("class", "id", "title"):
        return True
    if tag == "a":
        return name in ("href", "name")
    if tag == "img":
        if name == "src":  # data: images only: a feedback page requests nothing from anywhere
            return value.startswith("data:image/") and not value.startswith("data:image/svg")
        return name in ("alt", "width", "height")
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan", "align")
    if tag == "ol":
        return name == "start"
    return False


ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"})


_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def clean_html(text):
    """HTML with every active part removed (bleach, an allow-list): safe to put in a page.

    Tags outside ALLOWED_TAGS are shown as text (escaped), so a student sees
    what they wrote; attributes outside the list (event handlers, style,
    javascript: or remote URLs) are dropped.
    """
    import bleach

    text = text.decode() if isinstance(text, bytes) else str(text)
    clean = bleach.clean(text, tags=ALLOWED_TAGS, attributes=_allowed_attribute,
                         protocols=("http", "https", "mailto", "data"), strip_comments=True)
    return _IMG_WITHOUT_SRC.sub("", clean)  # an image whose source was refused: nothing, not a broken icon


# In HTML-escaped text: an address ends at a space, a quote or an escaped < or >.
_URL = re.compile(r"https?://(?:(?!&(?:lt|gt|quot|#x27|#39);)[^\s<>\"'`])+")
# "chapter 4, eq. (4.4)" and the like, as citations.py writes them for students.
_CITATION = re.compile(r"(chapters?\s+\d+(?:,\s*|\s+)(?:eqs?\.|equations?)\s*\([^()\n]{1,40}\)"
                       r"(?:(?:,\s*|\s+and\s+)(?:eq\.\s*)?\([^()\n]{1,40}\))*)")


def _trim_url(url):
    """A URL found in running text, without the punctuation that ends its sentence."""
    while url and url[-1] in ".,;:!?)]}":
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _first_of_chain(text):
    """The citation an address at the end of `text` belongs to, or None.

    citations.py writes "chapter 3, eq. (3.1); chapter 5, eq. (5.2): <address
    of the first>": of the citations that run up to the address (separated by
    nothing but ";", "," and spaces, then ":"), the first.
    """
    cites = list(_CITATION.finditer(text))
    if not cites or not re.fullmatch(r"[\s:]*", text[cites[-1].end():]):
        return None
    k = len(cites) - 1
    while k > 0 and re.fullmatch(r"[\s;,]*", text[cites[k - 1].end():cites[k].start()]):
        k -= 1
    return cites[k]


def link_text(escaped):
    """HTML-escaped text with its web addresses made links, and each citation
    "chapter N, eq. (X)" that a web address follows on the same line made a
    link to that address."""
    out = []
    for line in escaped.split("\n"):
        pieces, last = [], 0
        for m in _URL.finditer(line):
            url = _trim_url(m.group(0))
            if not url:
                continue
            start, end = m.start(), m.start() + len(url)
            href = html.escape(html.unescape(url), quote=True)
            before = line[last:start]
            c = _first_of_chain(before)
            if c is not None:
                before = (before[:c.start()] + f'<a class="citation" href="{href}" rel="noopener noreferrer">'
                          + c.group(0) + "</a>" + before[c.end():])
            pieces.append(before)
            pieces.append(f'<a href="{href}" rel="noopener noreferrer">{url}</a>')
            last = end
        pieces.append(line[last:])
        out.append("".join(pieces))
    return "\n".join(out)


def ansi2html_links(text):
    """nbconvert's ansi2html (escapes HTML), then `link_text`."""
    from nbconvert.filters.ansi import ansi2html

    return link_text(ansi2html(text))


# ----------------------------------------------------------------------------
# the exporter and the configuration (nbgrader_config.py calls `configure`)


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter that always renders with this course's feedback template.

    nbgrader's API (the formgrader's "generate feedback" button) sets
    `HTMLExporter.template_name = "feedback"`, nbgrader's stock template (raw
    HTML of markdown cells runs, MathJax 2 from a CDN); here any name given
    becomes ours.
    """

    @validate("template_name")
    def _template_name_validate(self, proposal):  # (replaces nbconvert's validator of the same name)
        return TEMPLATE_NAME


CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; base-uri 'none'; form-action 'none'")  # the template's (a test checks)


def configure(c):
    """Set the feedback-page options on the traitlets config `c` of the course."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    nbgrader_templates = Path(__import__("nbgrader").__file__).parent / "server_extensions" / "formgrader" / "templates"
    c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, FeedbackPreprocessor]
    c.GenerateFeedback.exporter_class = FeedbackExporter
    c.HTMLExporter.template_name = TEMPLATE_NAME
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates)]
    c.HTMLExporter.sanitize_html = True
    c.HTMLExporter.filters = {"clean_html": f"{__name__}.clean_html", "ansi2html": f"{__name__}.ansi2html_links"}
    return c


__all__ = ["FeedbackExporter", "FeedbackPreprocessor", "clean_html", "ansi2html_links", "link_text", "strip_hidden_tests",
           "ensure_static", "configure", "mathjax_tarball"]
