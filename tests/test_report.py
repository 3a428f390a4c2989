"""The instructor report, on a small class built by hand directly in a gradebook.

Class (scores are what autograding would have stored):

    conv (grade cells conv_forward__a 2 pts, conv_forward__b 1 pt, zero_pad__a 1 pt; max 4)
        ann  2 1 1  -> 4
        bob  1 1 1  -> 3   (1 of 2 on conv_forward__a: partial credit is not a pass)
        cat  2 0 1  -> 3
      pass rates: conv_forward__a 2/3, conv_forward__b 2/3, zero_pad__a 3/3
      functions hardest first: conv_forward (2/3), zero_pad (1)
      mean 10/3, median 3

    pool (pool_forward__max 3 pts, pool_backward__avg 2 pts; max 5)
        ann  3 0    -> 3
        bob  never scored (None, None) -> 0, and counts as failing both cases
      pass rates: pool_forward__max 1/2, pool_backward__avg 0/2
      functions hardest first: pool_backward (0), pool_forward (1/2)
      mean 1.5

    empty (one grade cell, empty__x 1 pt): nobody submitted -> "no submissions", nothing drawn

Diagnoses the judge left in the autograded notebooks (cell metadata):
    conv: bob (conv_forward__a) and cat (conv_forward__b): stride_ignored in conv_forward -> 2 students
    pool: ann (pool_backward__avg): assign_not_accumulate in pool_backward -> 1 student
    pool: bob's notebook fails both cases with no diagnosis (as an older judge wrote it; scores None) ->
          1 student "not recognised" in pool_backward, 1 in pool_forward, listed after the recognised
"""
import functools
import http.server
import json
import re
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support import require
from autograder.grading.pages import report

SCORES = {
    "conv": {"ann": {"conv_forward__a": 2, "conv_forward__b": 1, "zero_pad__a": 1},
             "bob": {"conv_forward__a": 1, "conv_forward__b": 1, "zero_pad__a": 1},
             "cat": {"conv_forward__a": 2, "conv_forward__b": 0, "zero_pad__a": 1}},
    "pool": {"ann": {"pool_forward__max": 3, "pool_backward__avg": 0},
             "bob": {"pool_forward__max": None, "pool_backward__avg": None}},
}
CELLS = {"conv": {"conv_forward__a": 2, "conv_forward__b": 1, "zero_pad__a": 1},
         "pool": {"pool_forward__max": 3, "pool_backward__avg": 2},
         "empty": {"empty__x": 1}}
STRIDE = {"function": "conv_forward", "kind": "mistake", "key": "stride_ignored",
          "label": "stride ignored (windows move by 1)"}
ASSIGN = {"function": "pool_backward", "kind": "mistake", "key": "assign_not_accumulate",
          "label": "`=` instead of `+=` where windows overlap"}
DIAGNOSED = {("bob", "conv"): {"conv_forward__a": STRIDE}, ("cat", "conv"): {"conv_forward__b": STRIDE},
             ("ann", "pool"): {"pool_backward__avg": ASSIGN}, ("ann", "conv"): {}, ("bob", "pool"): {}}


def autograded(course, student, assignment, diagnosed):
    """An autograded notebook whose test cells carry the judge's diagnosis metadata."""
    from autograder.grading.diagnosis.diagnose import METADATA_KEY
    cells = []
    for gid in CELLS[assignment]:
        meta = {"nbgrader": {"grade": True, "solution": False, "grade_id": gid}}
        outputs = [{"output_type": "stream", "name": "stdout", "text": "✓"}]
        if gid in diagnosed or SCORES.get(assignment, {}).get(student, {}).get(gid) != CELLS[assignment][gid]:
            outputs = [{"output_type": "error", "ename": "GradingFailure", "evalue": "✗", "traceback": []}]
        if gid in diagnosed:
            meta[METADATA_KEY] = diagnosed[gid]
        cells.append({"cell_type": "code", "metadata": meta, "source": "", "outputs": outputs,
                      "execution_count": 1})
    path = course / "autograded" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def build_class(course):
    """The hand-made class above in course/gradebook.db, plus a run log, a precheck record and feedback pages."""
    from nbgrader.api import Gradebook
    from autograder.grading.course import venv_on_path
    venv_on_path()
    course.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url) as gb:
        for a, cells in CELLS.items():
            gb.add_assignment(a)
            gb.add_notebook(a, a)
            for name, pts in cells.items():
                gb.update_or_create_grade_cell(name, a, a, max_score=pts, cell_type="code")
        for s in ("ann", "bob", "cat"):
            gb.add_student(s)
        for a, per_student in SCORES.items():
            for s, grades in per_student.items():
                gb.add_submission(a, s)
                for name, score in grades.items():
                    gb.find_grade(name, a, a, s).auto_score = score
                gb.db.commit()
    for a, per_student in SCORES.items():
        for s in per_student:
            if (s, a) == ("bob", "conv"):
                continue  # no feedback page: the report must not link one
            page = course / "feedback" / s / a / f"{a}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{s}</title></head>"
                            f"<body>feedback for {s} on {a}</body></html>")
    for (s, a), diagnosed in DIAGNOSED.items():
        autograded(course, s, a, diagnosed)
    (course / "autograded" / "cat" / "pool").mkdir(parents=True)
    (course / "autograded" / "cat" / "pool" / "pool.ipynb").write_text("{not json")  # read past, not fatal
    (course / "report").mkdir(exist_ok=True)
    (course / "report" / "run.json").write_text(json.dumps({"results": [
        {"student": "bob", "assignment": "pool", "ok": False, "error": "grading process died (exit code -9)",
         "trouble": []},
        {"student": "ann", "assignment": "pool", "ok": True, "error": None,
         "trouble": [{"kind": "timeout", "cell": "pool_backward__avg", "why": "the cell ran out of time"}]},
        {"student": "ann", "assignment": "conv", "ok": True, "error": None, "trouble": []},
    ]}))
    (course / "precheck.json").write_text(json.dumps([
        {"student": "dan", "assignment": "conv", "notebook": "conv.ipynb", "kind": "invalid_json",
         "message": "not valid JSON"}]))
    return url


class Rows(HTMLParser):
    """Every <tr> with its data-* attributes, and every img src / a href."""

    def __init__(self):
        super().__init__()
        self.rows, self.imgs, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.rows.append(attrs)
        elif tag == "img":
            self.imgs.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    course = tmp_path_factory.mktemp("report") / "course"
    url = build_class(course)
    page = report.write_report(course, db_url=url, course_id="default_course")
    parsed = Rows()
    parsed.feed(page.read_text())
    return course, page, parsed


def test_stats_match_the_hand_computed_class(built):
    course, _, _ = built
    stats = {s.name: s for s in report.class_stats(f"sqlite:///{course / 'gradebook.db'}")}
    conv, pool = stats["conv"], stats["pool"]
    assert conv.scores == {"ann": 4, "bob": 3, "cat": 3}
    assert conv.max_score == 4
    assert conv.cases["conv_forward__a"][:2] == [2, 3]
    assert conv.cases["conv_forward__b"][:2] == [2, 3]
    assert conv.cases["zero_pad__a"][:2] == [3, 3]
    assert [fn for fn, _, _ in conv.functions()] == ["conv_forward", "zero_pad"]
    assert pool.scores == {"ann": 3, "bob": 0}
    assert pool.cases["pool_forward__max"][:2] == [1, 2]
    assert pool.cases["pool_backward__avg"][:2] == [0, 2]
    fns = pool.functions()
    assert [fn for fn, _, _ in fns] == ["pool_backward", "pool_forward"]
    assert fns[1][1] == pytest.approx(0.5)


def test_page_numbers_order_problems_and_links(built):
    course, page, parsed = built
    summary = {r["data-assignment"]: r for r in parsed.rows if "data-mean" in r}
    assert float(summary["conv"]["data-mean"]) == pytest.approx(10 / 3, abs=1e-4)
    assert summary["conv"]["data-count"] == "3"
    assert float(summary["pool"]["data-mean"]) == pytest.approx(1.5)
    cases = [r for r in parsed.rows if r.get("class") == "case"]
    # grouped by function, hardest function first, then by assignment order (conv, pool)
    assert [r["data-grade-id"] for r in cases] == [
        "conv_forward__a", "conv_forward__b", "zero_pad__a", "pool_backward__avg", "pool_forward__max"]
    by_id = {r["data-grade-id"]: (r["data-passed"], r["data-attempted"]) for r in cases}
    assert by_id == {"conv_forward__a": ("2", "3"), "conv_forward__b": ("2", "3"), "zero_pad__a": ("3", "3"),
                     "pool_backward__avg": ("0", "2"), "pool_forward__max": ("1", "2")}
    problems = {(r["data-student"], r["data-assignment"], r["data-kind"])
                for r in parsed.rows if r.get("class") == "problem"}
    assert problems == {("bob", "pool", "error"), ("ann", "pool", "timeout"), ("dan", "conv", "invalid_json")}
    # a link for every feedback page that exists, none for the one that does not
    targets = {str((page.parent / href.split("#")[0]).resolve().relative_to(course)) for href in parsed.links}
    expected = {f"feedback/{s}/{a}/{a}.html" for a, ps in SCORES.items() for s in ps} - {"feedback/bob/conv/conv.html"}
    assert targets == expected
    assert set(parsed.imgs) == {"scores_conv.png", "scores_pool.png", "passrate_conv.png", "passrate_pool.png"}
    for img in parsed.imgs:
        assert (page.parent / img).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # offline: nothing is fetched from anywhere else
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page.read_text())


def test_class_view_groups_students_by_diagnosed_mistake(built):
    course, page, parsed = built
    rows = [r for r in parsed.rows if r.get("class") == "mistake"]
    assert [(r["data-function"], r["data-kind"], r["data-key"], r["data-count"]) for r in rows] == [
        ("conv_forward", "mistake", "stride_ignored", "2"), ("pool_backward", "mistake", "assign_not_accumulate", "1"),
        ("pool_backward", "none", "", "1"), ("pool_forward", "none", "", "1")]
    text = page.read_text()
    assert "2 students" in text and "1 student<" in text
    assert "<code>=</code> instead of <code>+=</code> where windows overlap" in text
    # each student links to the failing cell of their feedback (nbgrader's feedback anchors cells by grade_id);
    # bob has no feedback page for conv: named, not linked
    assert "../feedback/cat/conv/conv.html#conv_forward__b" in parsed.links
    assert "../feedback/ann/pool/pool.html#pool_backward__avg" in parsed.links
    assert "../feedback/bob/pool/pool.html#pool_forward__max" in parsed.links
    assert text.count("failing, not recognised (read their feedback)") == 2
    assert not any(h.startswith("../feedback/bob/conv/") for h in parsed.links)
    assert re.search(r"<a href='[^']*#conv_forward__b'>cat</a>, bob|bob, <a href='[^']*#conv_forward__b'>cat</a>",
                     text)


def test_an_assignment_nobody_submitted_says_so(built):
    course, page, parsed = built
    row = next(r for r in parsed.rows if r.get("data-assignment") == "empty")
    assert row["data-count"] == "0" and "data-mean" not in row
    text = page.read_text()
    assert text.count("no submissions") == 3  # the summary, the histogram's place and the pass rates' place
    assert not any("empty" in img for img in parsed.imgs)
    assert not (page.parent / "scores_empty.png").exists() and not (page.parent / "passrate_empty.png").exists()
    assert not any(r.get("data-grade-id") == "empty__x" for r in parsed.rows)  # no 0/0 in red
    assert "0/0" not in text


def test_histogram_counts_whole_students(tmp_path):
    st = report.AssignmentStats("x", 4, scores={"a": 4, "b": 3, "c": 3})
    ticks = report.plot_scores(st, tmp_path / "x.png")
    assert len(ticks) >= 2 and all(t == int(t) for t in ticks), ticks


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_report_in_headless_chromium(built):
    require("/usr/bin/chromium", "chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    course, page_path, parsed = built
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(course)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            try:
                page = browser.new_page()
                errors, failed, outside = [], [], []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("requestfailed", lambda r: failed.append(r.url))
                page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
                resp = page.goto(base + "report/index.html")
                assert resp.status == 200
                page.wait_for_load_state("load")
                assert page.title() == "Grading report"
                widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth)")
                assert len(widths) == 4 and all(w and w > 100 for w in widths), widths
                hrefs = page.eval_on_selector_all("a", "as => as.map(a => a.href)")
                assert len(hrefs) == len(parsed.links) > 0
                for href in hrefs:
                    r = page.request.get(href)
                    assert r.status == 200, href
                    assert "feedback for" in r.text()
                assert errors == [] and failed == [] and outside == []
            finally:
                browser.close()
    finally:
        server.shutdown()
