"""The grading worker's CPU savings keep every output the same (issue 20 item 6).

- pages/soup_pass.py: nbconvert's closing BeautifulSoup pass made per cell gives the bytes the
  pass over the whole page gives, on real pages (without falling back) and on pages built to break it;
  two students' pages differ exactly where their notebooks do.
- pages/highlight.py: a kept highlight is nbconvert's, for every lexer, language and magics_language.
- run/speedups.py: nbgrader's metadata schema checked once gives jsonschema's verdict and error.
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


def test_the_page_is_nbconverts_own_html_exporter_page():
    """FeedbackExporter._html_page is HTMLExporter.from_notebook_node with its last pass cut per cell:
    on a page with code, markdown, outputs and an image without alt text, the two give the same page."""
    from nbconvert.exporters import HTMLExporter
    nb = _notebook("pooling")
    nb.cells[0].source += '\n\n<img src="data:image/png;base64,iVBORw0KGgo=">'
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="printed <b>&</b>\n")]
    ours, _ = feedback.FeedbackExporter().from_notebook_node(nb, resources=json.loads(json.dumps(RESOURCES)))
    exporter = feedback.FeedbackExporter()
    budget = feedback.formula_budget()
    try:
        theirs, _ = HTMLExporter.from_notebook_node(exporter, nb, resources=json.loads(json.dumps(RESOURCES)))
    finally:
        feedback.end_formula_budget(budget)
    assert ours == feedback.seal(theirs)


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


# ----------------------------------------------------------------------------
# pages/highlight.py: each code cell highlighted once, the same HTML

SOURCES = ["import numpy as np\nx = np.zeros((2, 3))\n", "def f(x):\n    return x  # <b>&amp;</b>\n", "",
           "%%bash\necho hi\n", "x = '\u00e9\u2713'\n", "def f(x):\n    return x  # <b>&amp;</b>\n\n"]
METADATAS = [None, {}, {"magics_language": "bash"}, {"magics_language": ""}, {"magics_language": ["x"]},
             {"tags": ["a"]}]


def _called(f, *args, **kwargs):
    """f's result, or the type and text of what it raised."""
    try:
        return f(*args, **kwargs)
    except Exception as exc:
        return (type(exc), str(exc))


@pytest.mark.parametrize("lexer", [None, "ipython3", "python", "no-such-lexer", ["not", "a", "string"]])
def test_a_kept_highlight_is_nbconverts(lexer):
    import warnings

    from nbconvert.filters.highlight import Highlight2HTML

    from autograder.grading.pages.highlight import CachedHighlight
    theirs = Highlight2HTML(pygments_lexer=lexer)
    ours = CachedHighlight(Highlight2HTML(pygments_lexer=lexer))
    seen = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):  # the second time from the cache
            for source in SOURCES:
                for language in (None, "python", "bash"):
                    for metadata in METADATAS:
                        want = _called(theirs, source, language, metadata)
                        assert _called(ours, source, language=language, metadata=metadata) == want
                        seen.add(want)
    assert len(seen) > len(SOURCES)  # the sources, languages and magics give different pages


def test_configured_formatter_options_are_highlighted_anew():
    from nbconvert.filters.highlight import Highlight2HTML

    from autograder.grading.pages.highlight import CachedHighlight
    plain = CachedHighlight(Highlight2HTML())
    numbered = CachedHighlight(Highlight2HTML(extra_formatter_options={"linenos": "inline"}))
    source = "a = 1\nb = 2\n"
    assert plain(source) != numbered(source) == Highlight2HTML(extra_formatter_options={"linenos": "inline"})(source)
    assert plain(source) == Highlight2HTML()(source)


# ----------------------------------------------------------------------------
# run/speedups.py: nbgrader's metadata schema checked once, the same verdicts

METADATA = [
    {"grade": False, "grade_id": "a", "locked": True, "solution": False, "schema_version": 3},
    {"grade": True, "grade_id": "t", "locked": True, "solution": False, "points": 2, "schema_version": 3},
    {"grade": False, "grade_id": "a", "locked": "yes", "solution": False, "schema_version": 3},
    {"grade": False, "grade_id": "a", "locked": True, "solution": False, "task": "no", "schema_version": 3},
    {"grade": True, "grade_id": "t", "locked": True, "solution": False, "points": "lots", "schema_version": 3},
    {"grade": True, "grade_id": "t", "locked": True, "solution": False, "points": -1, "schema_version": 3},
    {"grade": False, "grade_id": 7, "locked": True, "solution": False, "schema_version": 3},
    {"grade_id": "a", "locked": True, "schema_version": 3},
    {"grade": False, "grade_id": "a", "locked": True, "solution": False, "schema_version": 1},
    {"grade": False, "grade_id": "a", "locked": True, "solution": False, "schema_version": 4},
    {"grade": 1, "grade_id": ["x"], "locked": None, "solution": {}, "points": [], "schema_version": 3},
    {"grade": False, "grade_id": "", "locked": True, "solution": False, "schema_version": 3},
    {"grade": True, "grade_id": "m", "locked": False, "solution": False, "points": 1, "schema_version": 3},
]


def _outcome(validate, meta, cell_type="code"):
    """What validating one cell gives: None, or the error's type, text, message, path and failing keyword."""
    cell = nbformat.v4.new_code_cell("x = 1") if cell_type == "code" else nbformat.v4.new_markdown_cell("x")
    cell.metadata["nbgrader"] = json.loads(json.dumps(meta))
    try:
        validate(cell)
    except Exception as exc:
        return (type(exc), str(exc), getattr(exc, "message", None), list(getattr(exc, "path", [])),
                getattr(exc, "validator", None))
    return None


@pytest.fixture
def kept_schema(monkeypatch):
    """The speedup installed for one test, nbgrader's own validate_cell put back after it."""
    from nbgrader.nbgraderformat import common

    from autograder.grading.run import speedups
    original = common.BaseMetadataValidator.validate_cell
    monkeypatch.setattr(common.BaseMetadataValidator, "validate_cell", original)
    monkeypatch.setattr(common.BaseMetadataValidator, "_btc_kept_schema", None, raising=False)
    speedups.cache_metadata_schema()
    assert common.BaseMetadataValidator.validate_cell is not original
    return original


@pytest.mark.parametrize("cell_type", ["code", "markdown"])
def test_the_kept_schema_gives_jsonschemas_verdict_on_every_cell(kept_schema, monkeypatch, cell_type):
    from nbgrader.nbgraderformat import MetadataValidator, common
    ours = [_outcome(MetadataValidator().validate_cell, meta, cell_type) for meta in METADATA]
    monkeypatch.setattr(common.BaseMetadataValidator, "validate_cell", kept_schema)  # nbgrader's own
    theirs = [_outcome(MetadataValidator().validate_cell, meta, cell_type) for meta in METADATA]
    assert ours == theirs
    assert sum(o is not None for o in theirs) >= 8  # the list does test rejections


def test_checkcellmetadata_logs_and_raises_as_before(kept_schema, monkeypatch, caplog):
    """An invalid-metadata submission: CheckCellMetadata's error and the last line of its logged
    traceback (what a worker reports as the notebook's grading error) are the same with the speedup."""
    import logging

    from nbgrader.nbgraderformat import common
    from nbgrader.preprocessors import CheckCellMetadata
    nb = _notebook("activations")
    extra = nbformat.v4.new_code_cell("x = 1")
    extra.metadata["nbgrader"] = {"grade": False, "grade_id": "extra", "locked": True, "solution": False,
                                  "task": "no", "schema_version": 3}
    nb.cells.append(extra)

    def run():
        caplog.clear()
        with caplog.at_level(logging.ERROR), pytest.raises(Exception) as raised:
            CheckCellMetadata().preprocess(json.loads(json.dumps(nb), object_hook=nbformat.from_dict), {})
        (logged,) = [r.getMessage() for r in caplog.records if "Traceback" in r.getMessage()]
        return str(raised.value), logged[logged.index("\njsonschema.exceptions.ValidationError"):]
    ours = run()
    monkeypatch.setattr(common.BaseMetadataValidator, "validate_cell", kept_schema)
    theirs = run()
    assert ours == theirs
    assert "'no' is not of type 'boolean'" in ours[1]


def test_a_changed_schema_gets_its_own_verdict(kept_schema):
    from nbgrader.nbgraderformat import MetadataValidator
    meta = {"grade": True, "grade_id": "t", "locked": True, "solution": False, "points": "lots", "schema_version": 3}
    plain = MetadataValidator()
    assert _outcome(plain.validate_cell, meta) is not None  # kept: points must be a number
    changed = MetadataValidator()
    changed.schema["properties"]["points"] = {"type": "string"}
    assert _outcome(changed.validate_cell, meta) is None
    assert _outcome(plain.validate_cell, meta) is not None  # and the course's schema is kept as it was
