"""nbconvert's last pass over a page (BeautifulSoup's), made once per distinct cell instead of once per page.

nbconvert's HTMLExporter ends every page by parsing it with BeautifulSoup
(html.parser), giving an `alt` text to each image without one, marking
JupyterLab's cells focusable, and writing the tree out again. For a feedback
page (~230 KB, ~2000 tags) that is ~0.08 s CPU, a sixth of a grading worker's
CPU per notebook. Most of a page's cells (the task text, the given code, the
test cells and their verdicts) recur from student to student, so
`soup_pass(page)` cuts the page's cells out, passes each distinct cell once per
process (cached by its text), passes the rest of the page with a marker element
where the cells stood, and puts the cells back. The result is the string
nbconvert's pass gives, byte for byte, or that pass itself is run:

BeautifulSoup's html.parser tree builder is a stack: a start tag pushes, an end
tag pops to the nearest open element of its name, and a run of text between
two tags becomes "\\n" or " " when it is all ASCII whitespace (outside <pre>
and <textarea>). A piece parsed alone gives the subtree it gives in the page when

- it starts with a start tag and, alone, every end tag that reaches the tree
  closes the element on top of the stack (no stray end tag, none that closes
  others on its way), nothing is left open, and at its top level there are only
  elements and whitespace (an unterminated comment, tag or declaration at its
  end would be text there: refused);
- where the marker stands, the page is outside <pre>, <textarea> and the
  string containers (<style>, <script>, <template>), the marker was parsed as an
  element (not inside a comment or raw text), and after it every end tag closes
  the top of the stack (so a `</br>` is read the same with or without the
  cells' own void elements before it).

The serialisation of a subtree does not depend on where it stands (no
indentation). The selectors for JupyterLab's cells look at ancestors, so a page
in which any part names `jp-Notebook` gets the whole pass (feedback pages use
the classic template: none does). Whatever does not meet these conditions is
passed whole, as nbconvert does.
"""
from __future__ import annotations

import functools
import re
import secrets

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

MISSING_ALT = "No description has been provided for this image"
# Where the classic template starts a cell: the split points (each piece is then checked, see above).
CELL_START = re.compile(r'(?=<div (?:id="[^"<>]*" )?class="cell border-box-sizing )')
CACHED_CHARS = 16_000  # pieces up to this size are kept (a median piece: 1.3 K), at most CACHED_PIECES of them
CACHED_PIECES = 1024
_MARKER = "btcpiece" + secrets.token_hex(8)


class _Checked(BeautifulSoup):
    """html.parser's tree, noting whether an end tag (once `strict`) closed anything but the element on top,
    how many elements were opened and closed by end tags, and in what state the parser met `marker`'s element.

    (BeautifulSoup closes whatever is left open at the end of its input without an end tag: `open_left`.)
    """

    def __init__(self, markup, marker=None, strict=True):
        self.loose, self.marker, self.marker_state, self.strict = False, marker, [], strict
        self.opened = self.closed = 0
        super().__init__(markup, features="html.parser")

    @property
    def open_left(self):
        return self.opened != self.closed

    def handle_starttag(self, name, namespace, nsprefix, attrs, *args, **kwargs):
        if name == self.marker:
            self.marker_state.append(bool(self.preserve_whitespace_tag_stack or self.string_container_stack))
            self.strict = True
        tag = super().handle_starttag(name, namespace, nsprefix, attrs, *args, **kwargs)
        self.opened += tag is not None
        return tag

    def handle_endtag(self, name, nsprefix=None):
        if len(self.tagStack) < 2 or self.currentTag.name != name:
            self.loose = self.loose or self.strict
        else:
            self.closed += 1
        return super().handle_endtag(name, nsprefix)


def _finish(soup, jupyterlab=True):
    """nbconvert 7.17.2's changes to the tree (HTMLExporter.from_notebook_node); returns images given an alt."""
    missing_alt = 0
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = MISSING_ALT
        missing_alt += 1
    if jupyterlab:
        for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
            elem.attrs["tabindex"] = "0"
        for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
            elem.attrs["tabindex"] = "0"
    return missing_alt


def whole_pass(page):
    """(html, images given an alt): nbconvert's pass over the whole page."""
    soup = BeautifulSoup(page, features="html.parser")
    missing = _finish(soup)
    return str(soup), missing


def _piece(text):
    """(html, images given an alt) for one cell piece, or None when it cannot be passed alone."""
    soup = _Checked(text)
    if soup.loose or soup.open_left:
        return None
    kids = soup.contents
    if not kids or not isinstance(kids[0], Tag) or any(
            not isinstance(k, Tag) and not (type(k) is NavigableString and not k.strip()) for k in kids):
        return None
    missing = _finish(soup, jupyterlab=False)
    return str(soup), missing


_cached_piece = functools.lru_cache(maxsize=CACHED_PIECES)(_piece)


def soup_pass(page):
    """(html, images given an alt): what nbconvert's BeautifulSoup pass makes of `page` (a str), cell by cell."""
    parts = CELL_START.split(page)
    if len(parts) < 3 or _MARKER in page:
        return whole_pass(page)
    pieces = [(_cached_piece if len(p) <= CACHED_CHARS else _piece)(p) for p in parts[1:-1]]
    if None in pieces:
        return whole_pass(page)
    tag = f"<{_MARKER}></{_MARKER}>"
    outer = _Checked(parts[0] + tag + parts[-1], marker=_MARKER, strict=False)
    if outer.loose or outer.marker_state != [False]:
        return whole_pass(page)
    missing = _finish(outer)
    html = str(outer)
    if html.count(tag) != 1 or "jp-Notebook" in html or any("jp-Notebook" in h for h, _ in pieces):
        return whole_pass(page)
    return html.replace(tag, "".join(h for h, _ in pieces)), missing + sum(m for _, m in pieces)
