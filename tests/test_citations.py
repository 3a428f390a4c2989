"""Every equation citation a student reads names the number the book shows and links to that equation.

Fast tests check the citations against the chapter sources (autograder/grading/cases/citations.py);
the slow ones against a clean build of the book (test_book.py's fixture): every number cited in
the released notebooks, the visible checks' messages and the judge's verdicts exists on the page
it names, and the link beside it lands on the equation that shows that number.
"""
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from autograder.grading import cases as registry
from autograder.grading.cases import citations

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "autograder" / "source"
ASSIGNMENTS = ("activations", "convolution", "pooling")
# "chapter 4, eq. (4.4), (4.5) and (4.2)" or "chapter 4, eq. [(4.4)](url) and [(4.5)](url)"
NUMBER = r"(?:\[\((\d+\.\d+)\)\]\(([^)\s]+)\)|\((\d+\.\d+)\))"
CITATION = re.compile(r"chapter (\d+), eq\. (" + NUMBER + r"(?:(?:, | and )" + NUMBER + r")*)")


def citations_in(text):
    """[(chapter, [(number, url or None), ...])] of every citation in `text`."""
    out = []
    for m in CITATION.finditer(text):
        numbers = [(a or c, b or None) for a, b, c in re.findall(NUMBER, m.group(2))]
        out.append((int(m.group(1)), numbers))
    return out


def markdown_of(nb):
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def source_notebook(assignment):
    return json.loads((SOURCE / assignment / f"{assignment}.ipynb").read_text())


def judge_messages():
    """Every citation the judge can print: each case's, for each output it names, and the default."""
    texts = []
    for case in registry.CASES.values():
        for what in list(case.equations) + ["*", "no such output"]:
            texts.append(registry.citation(case, what))
    return texts


# ---------------------------------------------------------------- against the chapter sources

def test_every_labelled_display_is_numbered_in_order():
    table = citations.scan()
    for chapter, page in citations._numbered_pages(ROOT):
        text = (ROOT / f"{page}.md").read_text()
        labels = re.findall(r"^\$\$[^\n]*?\((eq-[^)\s]+)\)\s*$", text, flags=re.M)
        numbered = [eq for eq in table.values() if eq.page == f"{page}.html"]
        assert [eq.label for eq in numbered] == labels, page
        assert [eq.number for eq in numbered] == [f"{chapter}.{k}" for k in range(1, len(labels) + 1)]


def test_the_saved_numbers_are_the_chapters_numbers():
    """citations.json (what the judge cites) is what the chapters number today."""
    assert json.loads((ROOT / "autograder" / "grading" / "cases" / "citations.json").read_text()) == \
        json.loads(citations.snapshot())


def test_labels_inside_code_cells_are_not_counted():
    text = "\n".join(["$$ a $$ (eq-one)", "```{code-cell} ipython3", "s = '$$ (eq-no)'", "```",
                      ":::{solution}", "$$", "b", "$$ (eq-two)", ":::", "```{note}", "$$ c $$ (eq-three)", "```",
                      "````python", "```", "$$ (eq-no-either)", "````"])
    assert citations.labels_in_order(text) == ["eq-one", "eq-two", "eq-three"]
    assert citations.displays(text) == {"eq-one": "a", "eq-two": "b", "eq-three": "c"}


def test_citation_wording():
    eqs = citations.table()
    dx, full, db = eqs["eq-conv-dx"], eqs["eq-conv-dx-full"], eqs["eq-conv-db"]
    assert citations.cite("eq-conv-dx", link=False) == f"chapter 4, eq. ({dx.number})"
    assert citations.cite(["eq-conv-db", "eq-conv-dx", "eq-conv-dx-full"], link=False) == \
        f"chapter 4, eq. ({db.number}), ({dx.number}) and ({full.number})"
    size = eqs["eq-output-size"]
    assert citations.cite(["eq-maxpool", "eq-output-size"], link=False).endswith(f"; chapter 3, eq. ({size.number})")
    assert citations.cite("eq-conv-dx") == (f"chapter 4, eq. ({dx.number}): {citations.book()}"
                                            f"chapters/04_conv_backward.html#equation-eq-conv-dx")
    with pytest.raises(KeyError):
        citations.cite("eq-no-such-label")


def test_book_markdown_links_inside_the_book():
    text = citations.cite_markdown(["eq-conv-dx"]) + " and [chapter 4](" + citations.page_url(
        "chapters/04_conv_backward") + ")"
    assert citations.book_markdown(text) == "chapter 4, eq. {eq}`eq-conv-dx` and [chapter 4](../04_conv_backward.md)"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_cite_numbers_and_link_the_published_book(assignment):
    nb = source_notebook(assignment)
    text = markdown_of(nb)
    table = citations.table()
    assert "../../chapters" not in json.dumps(nb)  # nothing beside a released notebook
    assert not re.search(r"\((eq-[a-z0-9-]+)\)", text), "a raw label where the book shows a number"
    found = citations_in(text)
    assert found
    for chapter, numbers in found:
        for number, url in numbers:
            assert url, f"chapter {chapter}, eq. ({number}) has no link"
            label = url.split("#equation-")[1]
            assert url == citations.url(label) and table[label].number == number and table[label].chapter == chapter
    # equations shown in the task text are the chapters' own, tagged with the book's number: a
    # `$$` display, or (when it holds a line break, which Sphinx would wrap in split, where \tag
    # is an error) an equation* environment, with an aligned wrapper unless it is an environment
    tags = re.findall(r"\$\$\n(.*?)\n\\tag\{([0-9.]+)\}\n\$\$", text, flags=re.S)
    environments = re.findall(r"\\begin\{equation\*\}\n(.*?)\n\\tag\{([0-9.]+)\}\n\\end\{equation\*\}", text, flags=re.S)
    assert tags
    for latex, number in tags + environments:
        label = next(eq.label for eq in table.values() if eq.number == number)
        chapter = citations.latex(label)
        if (latex, number) in environments:
            assert "\\\\" in chapter, number
            if not chapter.startswith("\\begin{"):
                chapter = "\\begin{aligned}\n" + chapter + "\n\\end{aligned}"
        else:
            assert "\\\\" not in chapter, f"({number}) holds a line break but is shown as a $$ display"
        assert latex == chapter, number
    if assignment != "pooling":
        assert environments, "the displays with line breaks are shown as equation* environments"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_helper_modules_carry_the_numbers_they_cite(assignment):
    from tests.test_notebooks import helper

    module = helper(assignment)
    assert module.EQUATIONS == citations.entries(list(module.EQUATIONS))
    text = (SOURCE / assignment / f"{assignment}_tests.py").read_text()
    tail = text[text.index("# ---- END EQUATIONS ----"):]
    assert set(re.findall(r"""["'](eq-[a-z0-9-]+)["']""", tail)) == set(module.EQUATIONS)


def test_judge_citations_resolve():
    for text in judge_messages():
        found = citations_in(text)
        assert found, text
        url = text.rsplit(": ", 1)[1]
        label = url.split("#equation-")[1]
        assert url == citations.url(label)
        first_chapter, first_numbers = found[0]
        assert (first_chapter, first_numbers[0][0]) == (citations.table()[label].chapter,
                                                        citations.table()[label].number)


# ---------------------------------------------------------------- against the built book

def equation_numbers(page_html):
    """{label: number shown} of one built page."""
    return dict((label, number) for number, label in re.findall(
        r'<span class="eqno">\(([0-9.]+)\)<a class="headerlink" href="#equation-([^"]+)"', page_html))


@pytest.fixture(scope="module")
def built(html):
    pages = {}
    for eq in citations.scan().values():
        if eq.page not in pages:
            pages[eq.page] = equation_numbers((html / eq.page).read_text())
    return pages


def resolve(built, chapter, number, url):
    """The page and the equation a citation names exist in the built book and agree."""
    table = citations.table()
    pages = [eq.page for eq in table.values() if eq.chapter == chapter]
    assert pages, f"no chapter {chapter}"
    assert number in built[pages[0]].values(), f"chapter {chapter} shows no eq. ({number})"
    if url:
        path, anchor = urlsplit(url).path, urlsplit(url).fragment
        page = url[len(citations.book()):].split("#")[0]
        assert url.startswith(citations.book()) and page == pages[0], url
        assert anchor.startswith("equation-") and built[page].get(anchor[len("equation-"):]) is not None, url
        return built[page][anchor[len("equation-"):]]
    return None


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_every_equation_number_is_the_built_books(built):
    for label, eq in citations.scan().items():
        assert built[eq.page].get(label) == eq.number, (label, eq.number, built[eq.page].get(label))


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_release_notebooks_citations_resolve_in_the_built_book(book, built):
    for assignment in ASSIGNMENTS:
        nb = json.loads((book["root"] / "autograder" / "release" / assignment / f"{assignment}.ipynb").read_text())
        for chapter, numbers in citations_in(markdown_of(nb)):
            for number, url in numbers:
                assert resolve(built, chapter, number, url) == number, (assignment, number, url)


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_visible_and_judge_citations_resolve_in_the_built_book(built):
    from tests.test_notebooks import helper

    for assignment in ASSIGNMENTS:
        for label, (chapter, number, url) in helper(assignment).EQUATIONS.items():
            assert resolve(built, chapter, number, url) == number, (assignment, label)
    for text in judge_messages():
        url = text.rsplit(": ", 1)[1]
        for k, (chapter, numbers) in enumerate(citations_in(text)):
            for j, (number, _) in enumerate(numbers):
                shown = resolve(built, chapter, number, url if k == j == 0 else None)
                assert shown in (None, number), text


@pytest.mark.slow
@pytest.mark.xdist_group("book")
def test_exercise_pages_link_equations_inside_the_book(html):
    """On the book's exercise pages the citations link to the equation in this book, not online."""
    for assignment in ASSIGNMENTS:
        page = (html / "chapters" / "exercises" / f"{assignment}.html").read_text()
        leaving = [href for href in re.findall(r'<a [^>]*href="([^"]+)"', page) if href.startswith(citations.book())]
        assert leaving == [], f"{assignment}: links leave the book"
        links = re.findall(r'href="(\.\./[0-9][^"#]*\.html)#equation-([^"]+)"[^>]*>(?:<span[^>]*>)?\(([0-9.]+)\)', page)
        assert links, f"{assignment}: no equation links"
        for target, label, number in links:
            shown = equation_numbers((html / "chapters" / "exercises" / target).resolve().read_text())
            assert shown.get(label) == number, (assignment, target, label, number)


