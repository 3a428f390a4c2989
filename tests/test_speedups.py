"""The grading worker's CPU savings keep every output the same (issue 20 item 6).

- pages/soup_pass.py: nbconvert's closing BeautifulSoup pass made per cell gives the bytes the
  pass over the whole page gives, on real pages (without falling back) and on pages built to break it;
  two students' pages differ exactly where their notebooks do.
"""
from __future__ import annotations

import json

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autograder.grading.pages import feedback, soup_pass
from tests.submissions import course as C

RESOURCES = {"nbgrader": {"notebook": "convolution", "score": 3, "max_score": 10, "late_penalty": 0}}


def _notebook(assignment="convolution"):
    return nbformat.reads(json.dumps(C.source_notebook(assignment)), as_version=4)


def _render(nb, monkeypatch):
    """(the page, the HTML before the soup pass, whole passes run) for one notebook."""
    raw, wholes = [], []
    real_pass, real_whole = soup_pass.soup_pass, soup_pass.whole_pass

    def recording(page):
        raw.append(page)
        return real_pass(page)

    def counting(page):
        wholes.append(page)
        return real_whole(page)
    monkeypatch.setattr(feedback, "soup_pass", recording)
    monkeypatch.setattr(soup_pass, "whole_pass", counting)
    page, _ = feedback.FeedbackExporter().from_notebook_node(nb, resources=json.loads(json.dumps(RESOURCES)))
    monkeypatch.setattr(soup_pass, "whole_pass", real_whole)
    (before,) = raw
    return page, before, len(wholes)


def test_a_real_page_is_passed_cell_by_cell_to_the_same_bytes(monkeypatch):
    nb = _notebook()
    nb.cells[0].source += '\n\n<img src="data:image/png;base64,iVBORw0KGgo=">'  # an image without alt
    page, before, wholes = _render(nb, monkeypatch)
    assert wholes == 0, "a feedback page of the course's template fell back to the whole pass"
    assert len(soup_pass.CELL_START.split(before)) > 20
    assert soup_pass.soup_pass(before) == soup_pass.whole_pass(before)
    assert soup_pass.whole_pass(before)[1] == 1 and f'alt="{soup_pass.MISSING_ALT}"' in page
    again, _, _ = _render(nb, monkeypatch)  # every piece from the cache this time
    assert again == page


def test_two_students_pages_differ_where_their_notebooks_do(monkeypatch):
    a, b = _notebook(), _notebook()
    solution = next(i for i, c in enumerate(a.cells) if c.cell_type == "code"
                    and c.metadata.get("nbgrader", {}).get("solution"))
    a.cells[solution].source += "\nstudent_a_wrote_this = 1\n"
    b.cells[solution].source += "\nstudent_b_wrote_this = 2\n"
    b.cells[solution].outputs = [nbformat.v4.new_output("stream", name="stdout", text="only_b_printed\n")]
    page_a, before_a, _ = _render(a, monkeypatch)
    page_b, before_b, _ = _render(b, monkeypatch)
    page_a2, _, _ = _render(a, monkeypatch)
    assert "student_a_wrote_this" in page_a and "student_a_wrote_this" not in page_b
    assert "student_b_wrote_this" in page_b and "only_b_printed" in page_b
    assert "student_b_wrote_this" not in page_a2 and "only_b_printed" not in page_a2
    assert page_a2 == page_a == feedback.seal(soup_pass.whole_pass(before_a)[0])
    assert page_b == feedback.seal(soup_pass.whole_pass(before_b)[0])


# ----------------------------------------------------------------------------
# pages built to break the cut: whatever they hold, the bytes are the whole pass's

HEAD = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n<title>t</title>\n'
        '<style type="text/css">\nbody { color: black; }\n</style>\n</head>\n<body>\n'
        '<div class="container" id="notebook-container">\n\n')
TAIL = "\n</div>\n</body>\n</html>\n"
CELL = '<div class="cell border-box-sizing code_cell rendered">'
CELL_WITH_ID = '<div id="cell-id=x-1" class="cell border-box-sizing text_cell rendered">'
FRAGMENTS = [
    CELL, CELL_WITH_ID, "</div>", "</div>\n\n", "\n", " ", "  \n  ", "text", "&amp;", "&", "&#182;", "<",
    "<br>", "</br>", "<br/>", "<p>", "</p>", "<b>", "</b>", "</span>", "<pre>", "</pre>", "<textarea>",
    "</textarea>", "<style>", "</style>", "<script>", "</script>", "<!-- ", " -->", "<!DOCTYPE x>",
    "<![CDATA[", "]]>", '<img src="data:image/png;base64,AA">', '<img alt="a" src="b">',
    '<span class="jp-Notebook">', '<div class="jp-Cell-inputWrapper">', "<a title='", "'>",
    "<a title='" + CELL + "'>", "<!-- " + CELL + " -->", "<template>", "</template>", "<td>", "<table>",
]


def _cell_piece(body):
    return CELL + "\n" + body + "\n</div>\n\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=8), min_size=2, max_size=6),
       st.sampled_from(["", "<pre>\n", "<!-- ", "<style>", "<textarea>", "<p>", "<br>", "<a title='"]),
       st.sampled_from(["", "</pre>", " -->", "</style>", "</br>", "</p>", "</span>", "'>"]))
def test_any_page_is_passed_to_the_bytes_of_the_whole_pass(cells, before, after):
    page = HEAD + before + "".join(_cell_piece("".join(c)) for c in cells) + after + TAIL
    assert soup_pass.soup_pass(page) == soup_pass.whole_pass(page)


@pytest.mark.parametrize("page", [
    HEAD + _cell_piece("<p>a</p>") * 3 + TAIL,  # the plain case (cut)
    HEAD + "<pre>\n" + _cell_piece("  ") + _cell_piece("\n\n") + "</pre>" + TAIL,  # whitespace kept in <pre>
    HEAD + "<!-- " + _cell_piece("x") + _cell_piece("y") + " -->" + TAIL,  # cells inside a comment
    HEAD + _cell_piece("<br>") + _cell_piece(" </br> ") + TAIL,  # a </br> read against an earlier <br>
    HEAD + _cell_piece("x") + _cell_piece("</span>") + "<span>" + TAIL,  # a stray end tag
    HEAD + '<div class="jp-Notebook">' + _cell_piece('<div class="jp-Cell-inputWrapper">i</div>') * 2 + "</div>"
    + TAIL,  # JupyterLab's selectors look at ancestors
    HEAD + _cell_piece("<p>open") + _cell_piece("</p>") + TAIL,  # a piece that leaves an element open
    HEAD + _cell_piece("x") + "<a title='" + _cell_piece("inside an attribute") + "'>" + TAIL,
])
def test_pages_that_break_a_condition_get_the_whole_pass(page):
    assert soup_pass.soup_pass(page) == soup_pass.whole_pass(page)


def test_a_piece_is_refused_for_each_condition():
    """Each check of a piece does refuse: a stray end tag, one closing others, an element left open,
    text or a comment at the top level."""
    ok = soup_pass._piece(_cell_piece("<p>a<br>b</p>"))
    assert ok is not None and ok[0].startswith(CELL)
    for body in ("</span>", "<b><i></b></i>", "<p>open"):
        assert soup_pass._piece(_cell_piece(body)) is None, body
    assert soup_pass._piece(_cell_piece("x") + "text") is None
    assert soup_pass._piece(_cell_piece("x") + "<!-- c -->") is None
    assert soup_pass._piece(_cell_piece("x") + "<!-- unterminated") is None
