"""What a feedback page is made of: student HTML made safe, and maths as MathML.

`clean_html` and `markdown_html` are the template's filters for anything a
student wrote (feedback.py registers them, and seals the page's
Content-Security-Policy once the page is rendered).

A page must stand alone (released through nbgrader's exchange it is one
.html file, opened from anywhere, with no network): so the TeX of markdown
cells is turned into MathML when the page is written (latex2mathml, pinned in
requirements.txt), which the browser draws with no script, and the
Content-Security-Policy allows exactly the page's own <style> elements, by
hash: no script, no style attribute, nothing fetched.

The TeX is the student's, so latex2mathml's tree is treated as hostile: only
MathML presentation elements and attributes on an allow-list are written out,
lengths are bounded (a space may push a formula's neighbours aside but never
moves anything over the rest of the page), and text is escaped here (latex2mathml
would pass `\\text{<b>}` through as markup). A formula that cannot be
converted faithfully (an unknown command, a parse error) is shown as its TeX,
in a <code class="tex"> element: never as a wrong formula.
"""
from __future__ import annotations

import contextvars
import functools
import html
import re

# MathML Core presentation elements latex2mathml writes (no maction, no semantics/annotation-xml:
# those can switch or embed other content).
MATHML_TAGS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "munder",
    "mover", "munderover", "mfrac", "msqrt", "mroot", "mstyle", "merror", "mpadded", "mphantom",
    "menclose", "mtable", "mtr", "mtd", "mmultiscripts", "mprescripts", "none"})
_BOOLEAN = ("true", "false")
_WORDS = re.compile(r"^[a-z]+(?: [a-z]+){0,31}$")
_COLOR = re.compile(r"^(?:#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-zA-Z]{1,20})$")
_LENGTH = re.compile(r"^([+-]?(?:\d{1,4}(?:\.\d{0,4})?|\.\d{1,4}))(em|ex|px|pt|pc|mu|in|cm|mm|%)?$")
# a length's size in em, to bound it (mu: 1/18 em; a unitless length scales the default, as % does)
_EM = {"em": 1.0, "ex": 0.5, "px": 1 / 16, "pt": 1 / 12, "pc": 1.0, "mu": 1 / 18, "in": 6.0, "cm": 2.4,
       "mm": 0.24, "%": 0.01, None: 1.0}
MIN_EM, MAX_EM = -1.0, 40.0  # \! is -0.167em; nothing pulls a formula over its neighbours further
# MathML 3's named spaces (latex2mathml writes some; MathML Core drops them), as lengths.
NAMED_SPACES = {f"{sign}{name}mathspace": f"{'-' if sign else ''}{k / 18:.4f}em"
                for sign in ("", "negative")
                for k, name in enumerate(("veryverythin", "verythin", "thin", "medium", "thick",
                                          "verythick", "veryverythick"), start=1)}
_ENUMS = {
    "display": ("block", "inline"),
    "form": ("prefix", "infix", "postfix"),
    "linebreak": ("auto", "newline", "nobreak", "goodbreak", "badbreak"),
    "mathvariant": ("normal", "bold", "italic", "bold-italic", "double-struck", "bold-fraktur", "script",
                    "bold-script", "fraktur", "sans-serif", "bold-sans-serif", "sans-serif-italic",
                    "sans-serif-bold-italic", "monospace", "initial", "tailed", "looped", "stretched"),
}
_BOOLEANS = ("stretchy", "fence", "separator", "symmetric", "largeop", "movablelimits", "accent",
             "accentunder", "displaystyle")
_WORD_LISTS = ("columnalign", "rowalign", "columnlines", "rowlines", "frame", "notation")
_LENGTHS = ("width", "height", "depth", "lspace", "rspace", "minsize", "maxsize", "voffset", "linethickness",
            "columnspacing", "rowspacing", "framespacing")
_ENTITY = re.compile(r"&#x([0-9a-fA-F]{1,6});")
_UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]+")
MAX_TEX = 4000  # characters of one formula; longer ones are shown as TeX
MAX_NODES = 2000


class Unfaithful(ValueError):
    """latex2mathml's result would not show what the TeX says."""


def _length(value):
    value = NAMED_SPACES.get(value, value)
    parts = value.split()
    if not 1 <= len(parts) <= 16:
        return None
    for part in parts:
        m = _LENGTH.match(part)
        if not m or not MIN_EM <= float(m.group(1)) * _EM[m.group(2)] <= MAX_EM:
            return None
    return " ".join(parts)


def _attribute(name, value):
    """The attribute's value as written out, or None to drop it."""
    if name in _BOOLEANS:
        return value if value in _BOOLEAN else None
    if name in _ENUMS:
        return value if value in _ENUMS[name] else None
    if name in _WORD_LISTS:
        return value if _WORDS.match(value) else None
    if name in _LENGTHS:
        return _length(value)
    if name in ("mathcolor", "mathbackground"):
        return value if _COLOR.match(value) else None
    if name == "scriptlevel":
        return value if re.fullmatch(r"[+-]?[0-3]", value) else None
    return None  # style, class, id, href, xmlns, on*, anything else


def _text(raw):
    """latex2mathml's text (literal, with "&#x...;" for symbols) as escaped HTML text."""
    text = _ENTITY.sub(lambda m: chr(int(m.group(1), 16)) if int(m.group(1), 16) <= 0x10FFFF else "\ufffd",
                       raw or "")
    return html.escape(text, quote=False)


def _write(element, out, count):
    count[0] += 1
    if count[0] > MAX_NODES:
        raise Unfaithful("formula too large")
    tag = element.tag
    if tag not in MATHML_TAGS:
        raise Unfaithful(f"element {tag!r}")
    if tag in ("mi", "mo", "mtext") and element.text and _UNKNOWN_COMMAND.search(element.text):
        raise Unfaithful(f"unknown command {element.text!r}")
    attrs = ""
    for name, value in element.attrib.items():
        kept = _attribute(name, value)
        if kept is not None:
            attrs += f' {name}="{html.escape(kept, quote=True)}"'
    out.append(f"<{tag}{attrs}>{_text(element.text)}")
    for child in element:
        _write(child, out, count)
        out.append(_text(child.tail))
    out.append(f"</{tag}>")


def tex_to_mathml(tex, display=False):
    """MathML (a <math> element, as HTML) for the TeX `tex`; raises Unfaithful when it cannot be trusted."""
    from latex2mathml.converter import convert_to_element

    if len(tex) > MAX_TEX:
        raise Unfaithful("formula too long")
    try:
        root = convert_to_element(tex, display="block" if display else "inline")
    except Exception as exc:  # latex2mathml's own errors: a brace missing, an unknown environment, ...
        raise Unfaithful(f"{type(exc).__name__}: {exc}") from None
    out = []
    try:
        _write(root, out, [0])
    except RecursionError:
        raise Unfaithful("formula nested too deeply") from None
    return "".join(out)


# A displayed equation's number, as the book and the notebooks write it: \tag{4.3}.
_TAG = re.compile(r"\\tag\{([^{}\\]{1,40})\}")


def math_html(tex, display=False):
    """The HTML a page shows for one formula: MathML, or its TeX as code when that is not possible.

    A displayed equation with one \\tag{...} shows its number at the right, as the book does
    (latex2mathml would write it as text right after the formula).
    """
    tags = _TAG.findall(tex) if display else []
    body = _TAG.sub("", tex) if len(tags) == 1 else tex
    try:
        mathml = tex_to_mathml(body, display)
    except Unfaithful:
        delimiter = "$$" if display else "$"
        return f'<code class="tex">{html.escape(delimiter + tex + delimiter, quote=False)}</code>'
    if len(tags) != 1:
        return mathml
    return f'<span class="equation">{mathml}<span class="equation-number">({html.escape(tags[0])})</span></span>'


# A page converts at most this many formulas (about 0.5 ms each); the rest show as TeX, so a
# notebook of a million formulas costs the grader seconds, not hours.
MAX_FORMULAS = 5000
_formulas_left = contextvars.ContextVar("formulas_left", default=None)


def formula_budget():
    """Start a page's budget of formulas (FeedbackExporter does, per page); returns the token to reset."""
    return _formulas_left.set([MAX_FORMULAS])


def end_formula_budget(token):
    _formulas_left.reset(token)


def _budgeted_math_html(tex, display):
    left = _formulas_left.get()
    if left is not None:
        if left[0] <= 0:
            delimiter = "$$" if display else "$"
            return f'<code class="tex">{html.escape(delimiter + tex + delimiter, quote=False)}</code>'
        left[0] -= 1
    return math_html(tex, display)


# ----------------------------------------------------------------------------
# student HTML, cleaned

SAFE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _highlighter_classes():
    from pygments.token import STANDARD_TYPES

    return frozenset(c for c in STANDARD_TYPES.values() if c) | {"highlight", "anchor-link"}


# Classes a student's content may carry: the code highlighter's (pygments' token classes,
# "highlight hl-<lexer>") and nbconvert's heading anchors. The page's CSS (bootstrap's
# "navbar-fixed-top", "modal-backdrop", ...) would let any other class cover the page.
HIGHLIGHTER_CLASSES = _highlighter_classes()
# ids the page itself uses (its summary's anchors are grade_ids, which hold "__", and "comment-<grade_id>")
PAGE_IDS = frozenset({"top", "toc", "notebook", "notebook-container"})


def _allowed_class(value):
    return all(c in HIGHLIGHTER_CLASSES or re.fullmatch(r"hl-[a-z0-9+-]{1,32}", c) for c in value.split())


def _allowed_id(value):
    return bool(SAFE_TOKEN.match(value)) and value not in PAGE_IDS and "__" not in value \
        and not value.startswith("comment-")


def _allowed_attribute(tag, name, value):
    if name == "class":
        return _allowed_class(value)
    if name == "id":
        return _allowed_id(value)
    if name == "title":
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
    text = text.decode() if isinstance(text, bytes) else str(text)
    return _clean_html_cached(text) if len(text) <= CACHED_CHARS else _clean_html(text)


# The task text and the test cells recur on every student's page: a worker cleans and renders
# each such text once. Only texts up to CACHED_CHARS are kept (at most 2 x 2048 of them).
CACHED_CHARS = 20_000


def _clean_html(text):
    import bleach

    clean = bleach.clean(text, tags=ALLOWED_TAGS, attributes=_allowed_attribute,
                         protocols=("http", "https", "mailto", "data"), strip_comments=True)
    return _IMG_WITHOUT_SRC.sub("", clean)  # an image whose source was refused: nothing, not a broken icon


_clean_html_cached = functools.lru_cache(maxsize=2048)(_clean_html)


# ----------------------------------------------------------------------------
# markdown with its maths as MathML


def _renderer_class():
    """nbconvert's markdown renderer, except that an image naming an attachment the cell lacks is
    dropped (nbconvert raises, which would fail the whole page)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer

    class Renderer(IPythonRenderer):
        def _embed_image_or_attachment(self, src):
            if src.startswith("attachment:") and src[len("attachment:"):] not in self.attachments:
                return ""  # no source: clean_html drops the image
            return super()._embed_image_or_attachment(src)

    return Renderer


def _math_renderer(found):
    """The markdown renderer, each formula replaced by a token (its TeX kept in `found`)."""
    import secrets

    prefix = "btcmath" + secrets.token_hex(8)

    class MathTokens(_renderer_class()):
        def _token(self, tex, display):
            found.append((tex, display))
            return f"{prefix}x{len(found) - 1}x"

        def block_math(self, body):
            return self._token(body, True)

        def inline_math(self, body):
            return self._token(body, False)

        def latex_environment(self, name, body):
            # an equation is its body; other environments (aligned, cases, matrix...) are TeX of their own
            if name in ("equation", "equation*", "displaymath"):
                return self._token(body, True)
            return self._token(f"\\begin{{{name}}}{body}\\end{{{name}}}", True)

    return MathTokens(escape=False), re.compile(prefix + r"x(\d+)x")


def _sanitized_markdown2html(context, source):
    """Every other HTML view's `markdown2html` (nbgrader's formgrader shows markdown cells through it
    unsanitised): nbconvert's, the cell's attachments embedded and its maths left as TeX for the
    view's own MathJax, then `clean_html`. A student's markdown runs nothing in the instructor's browser."""
    from nbconvert.filters.markdown_mistune import MarkdownWithMath

    attachments = context.get("cell", {}).get("attachments", {})
    renderer = _renderer_class()(escape=False, attachments=attachments if isinstance(attachments, dict) else {})
    return clean_html(MarkdownWithMath(renderer=renderer).render(str(source)))


def sanitized_markdown2html():
    """`_sanitized_markdown2html` as a Jinja filter that is given the template's context."""
    from jinja2 import pass_context

    return pass_context(_sanitized_markdown2html)


def markdown_html(source):
    """Markdown as safe HTML with its formulas as MathML (`clean_html`, then the maths).

    The formulas are cut out before the markdown is rendered and cleaned (as
    random tokens, which no student text can forge), and put back only where
    they stand as text: a formula inside an attribute value stays its TeX.
    A text seen before on this worker costs its formulas from the page's budget
    all the same; when the budget cannot pay them all, it is rendered anew.
    """
    source = str(source)
    if len(source) > CACHED_CHARS:
        return _markdown_html(source)
    page, formulas = _formulas_left.get(), _markdown_html_cached(source)
    html_text, count = formulas
    if page is not None and page[0] < count:
        return _markdown_html(source)
    if page is not None:
        page[0] -= count
    return html_text


@functools.lru_cache(maxsize=2048)
def _markdown_html_cached(source):
    """(HTML, formulas converted) of markdown_html with no budget: every formula converted."""
    unlimited = 2**62
    token = _formulas_left.set([unlimited])
    try:
        return _markdown_html(source), unlimited - _formulas_left.get()[0]
    finally:
        _formulas_left.reset(token)


def _markdown_html(source):
    from bs4 import BeautifulSoup
    from nbconvert.filters.markdown_mistune import MarkdownWithMath

    found = []
    renderer, token = _math_renderer(found)
    cleaned = clean_html(MarkdownWithMath(renderer=renderer).render(str(source)))
    if not found:
        return cleaned
    soup = BeautifulSoup(cleaned, "html.parser")
    for tag in soup.find_all(True):
        for name, value in list(tag.attrs.items()):
            values = value if isinstance(value, list) else [value]
            values = [token.sub(lambda m: found[int(m.group(1))][0], v) for v in values]
            tag[name] = values if isinstance(value, list) else values[0]
    return token.sub(lambda m: _budgeted_math_html(*found[int(m.group(1))]), str(soup))

