"""Feedback pages a student can read anywhere and an instructor can open safely.

nbgrader's `GenerateFeedback` (run by `make grade` in its workers, by plain
`nbgrader generate_feedback` and by the formgrader's button) turns every
autograded notebook into feedback/<student>/<assignment>/<assignment>.html.
The course config (nbgrader_config.py, its "feedback pages" block) plugs in
what this module provides, for the feedback converter only (the formgrader's
own views keep nbgrader's templates), so every way gives the same page:

- `FeedbackPreprocessor` (after nbgrader's GetGrades): removes the hidden-test
  regions (`### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`) and the
  `grader_record(...)` calls from the test cells, keeps the visible checks;
  drops outputs that would run code in a browser (JavaScript, widgets),
  anything but inert metadata, and image sizes that are not plain numbers.
- `FeedbackExporter`: nbconvert's HTML exporter, always with the template
  autograder/templates/btc_feedback/: nbgrader's feedback page with a
  Content-Security-Policy (no script at all, nothing fetched, images only
  from data: URLs, styles only the page's own <style> elements, by hash: see
  seal below), output lines that wrap instead of scrolling, and a
  summary that names every test by its grade_id with its points.
- the Jinja filters `markdown_html` (markdown with its TeX as MathML, see
  feedback_assets.py, through `clean_html`), `clean_html` (bleach with a small
  allow-list: no script, no event handler, no style, no javascript: link,
  images only from data: URLs, classes only the code highlighter's, no id the
  page itself uses) and `ansi2html_links` (text outputs as nbconvert renders
  them, without inline colours, with web addresses made links and a citation
  such as "chapter 4, eq. (4.4)" followed by its address made a link to that
  equation).

Each page is one self-contained file: it runs no script, requests nothing,
and shows the same (equations included) opened from anywhere with no
network, so `nbgrader release_feedback` can hand it out alone.
"""
from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path

import nbformat
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import Preprocessor
from traitlets import default, validate

from ..course import COURSE
from .feedback_assets import (
    SAFE_TOKEN, clean_html, end_formula_budget, formula_budget, markdown_html, sanitized_markdown2html,
)
from .highlight import CachedHighlight
from .soup_pass import soup_pass

# ----------------------------------------------------------------------------
# the page's own styles, allowed by hash

HEAD_END = "</head>"
_STYLE = re.compile(r"<style(?:\s+type=\"text/css\")?\s*>(.*?)</style>", re.S)
STYLE_HASHES = "'btc-style-hashes'"  # written by the template into its CSP, replaced by `seal`


_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")


def without_fonts(css):
    """CSS without its @font-face rules (bootstrap's icon font: a file the page could not load, never used)."""
    from markupsafe import Markup

    return Markup(_FONT_FACE.sub("", str(css)))


def style_hashes(head):
    """CSP sources ('sha256-...') for every <style> element of the page's <head>."""
    return sorted({"'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
                   for body in _STYLE.findall(head)})


def seal(page):
    """The page with its CSP's style-src naming exactly its head's <style> elements.

    Only the head is hashed: whatever reaches the body (the student's content)
    can never add a style the policy allows.
    """
    end = page.find(HEAD_END)
    if end < 0 or STYLE_HASHES not in page[:end]:
        raise ValueError("feedback page without the template's CSP placeholder")
    head = page[:end]
    return head.replace(STYLE_HASHES, " ".join(style_hashes(head)) or "'none'", 1) + page[end:]


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
    metadata = {k: _safe_metadata(v) for k, v in output.get("metadata", {}).items() if k in kept}
    return nbformat.from_dict(dict(output, data=kept, metadata=metadata))


def _safe_metadata(meta):
    """An output's metadata for one mimetype: never an "isolated" iframe, a size only as a plain number.

    (nbconvert writes `width={{ width }}` unquoted: "100 style=..." would add attributes.)
    """
    if not isinstance(meta, dict):
        return {}
    return {k: v for k, v in meta.items()
            if k != "isolated" and (k not in ("width", "height") or _pixels(v) is not None)}


def _pixels(value):
    """A width or height as a positive integer number of pixels, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= 100000 else None
    if isinstance(value, str) and re.fullmatch(r"[1-9][0-9]{0,5}", value):
        return int(value)
    return None


class FeedbackPreprocessor(Preprocessor):
    """Hidden tests out, inert outputs only (see the module docstring)."""

    @default("enabled")
    def _enabled_default(self):  # nbconvert's preprocessors are off unless enabled
        return True

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)
        for cell in nb.cells:
            self._clean_cell(cell)
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


# nbconvert's ansi2html writes 256-colour and true-colour text as style="color: rgb(...)";
# the page allows no style attribute (its CSP would refuse it, noisily): such text keeps its words.
_ANSI_STYLE = re.compile(r' style="[^"<>]*"')


def ansi2html_links(text):
    """nbconvert's ansi2html (escapes HTML), without inline styles, then `link_text`."""
    from nbconvert.filters.ansi import ansi2html

    return link_text(_ANSI_STYLE.sub("", ansi2html(text)))


# ----------------------------------------------------------------------------
# the exporter and the configuration (nbgrader_config.py calls `configure`)


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter that always renders with this course's feedback template and filters.

    nbgrader's API (the formgrader's "generate feedback" button) sets
    `HTMLExporter.template_name = "feedback"`, nbgrader's stock template (raw
    HTML of markdown cells runs, MathJax 2 from a CDN); here any name given
    becomes ours. Every page leaves with its CSP sealed (`seal`).
    """

    @default("template_name")
    def _template_name_default(self):
        return TEMPLATE_NAME

    @validate("template_name")
    def _template_name_validate(self, proposal):  # (replaces nbconvert's validator of the same name)
        return TEMPLATE_NAME

    @default("extra_template_basedirs")
    def _extra_template_basedirs_default(self):
        return _template_dirs()

    @default("extra_template_paths")
    def _extra_template_paths_default(self):  # (GenerateFeedback sets the same: nbgrader's bootstrap.min.css)
        return [str(_NBGRADER / "server_extensions" / "formgrader" / "static" / "node_modules" / "bootstrap" / "dist"
                    / "css")]

    def default_filters(self):
        yield from super().default_filters()
        yield from FILTERS.items()

    def from_notebook_node(self, nb, resources=None, **kw):
        budget = formula_budget()
        try:
            output, resources = self._html_page(nb, resources, **kw)
        finally:
            end_formula_budget(budget)
        return seal(output), resources

    def _html_page(self, nb, resources, **kw):
        """HTMLExporter.from_notebook_node of nbconvert 7.17.2 (patches.PINNED), its closing BeautifulSoup
        pass made cell by cell (soup_pass.py: the same bytes, each recurring cell parsed once per process)
        and each code cell's highlighting kept (highlight.py)."""
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code",
                                          CachedHighlight(Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                 resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        page, missing_alt = soup_pass(page)
        if missing_alt:
            self.log.warning("Alternative text is missing on %s image(s).", missing_alt)
        return page, resources


# The template's policy; `seal` puts the hashes of the page's own <style> elements in place of STYLE_HASHES.
CSP = (f"default-src 'none'; script-src 'none'; style-src {STYLE_HASHES}; img-src data:; "
       "base-uri 'none'; form-action 'none'")


_NBGRADER = Path(__import__("nbgrader").__file__).parent


def _template_dirs():
    """Ours first, then nbgrader's (whose feedback template ours replaces block by block)."""
    return [str(TEMPLATES), str(_NBGRADER / "server_extensions" / "formgrader" / "templates")]


FILTERS = {"clean_html": clean_html, "ansi2html": ansi2html_links, "markdown_html": markdown_html,
           "pixels": _pixels, "without_fonts": without_fonts}


def configure(c):
    """Set the feedback-page options on the traitlets config `c` of the course.

    Only the feedback converter gets the template, its filters and its
    preprocessor: every other HTML exporter (the formgrader's submission view,
    `nbgrader` commands that render HTML) keeps nbgrader's own template.
    """
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, FeedbackPreprocessor]
    c.GenerateFeedback.exporter_class = FeedbackExporter
    # (GenerateFeedback sets HTMLExporter.extra_template_basedirs to nbgrader's; ours are more specific)
    c.FeedbackExporter.extra_template_basedirs = _template_dirs()
    # Every other HTML view of a submission (the formgrader's) sanitises its outputs and its
    # markdown cells too: nbgrader's formgrade template shows markdown unsanitised.
    c.HTMLExporter.sanitize_html = True
    c.HTMLExporter.filters = {"markdown2html": sanitized_markdown2html(), "clean_html": clean_html}
    return c


__all__ = ["FeedbackExporter", "FeedbackPreprocessor", "clean_html", "ansi2html_links", "link_text", "strip_hidden_tests",
           "markdown_html", "configure"]
