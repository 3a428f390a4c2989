"""Equation citations as the book shows them: "chapter 4, eq. (4.4)", linked to the equation.

Jupyter Book numbers a chapter's labelled displays in order of appearance,
`(<chapter>.<k>)`, with the chapter's number from the numbered parts of
_toc.yml (numbering runs on across parts), and gives each the HTML id
`equation-<label>` on its page. `scan()` computes the same numbers from the
chapter sources; tests/test_citations.py checks them against a built book.

Where the citations are read:

- the judge (cases.py) and the notebook generator read `table()`: the numbers
  saved in citations.json by `python -m tools.make_notebooks` (so the judge
  and the released notebooks cite the same numbers, and grading needs no
  chapters); `make_notebooks --check` fails when that file no longer matches
  the chapters;
- the shipped helper modules get a copy of the entries they use and of
  `format_citation` (verbatim, so the wording is defined once, here).

The published book's address is `html: baseurl:` in _config.yml.

API (labels are the chapters' `(eq-...)` names):

    scan(root)                  {label: Equation} computed from root's chapters
    table()                     {label: Equation} as saved in citations.json
    cite(labels, link=True)     "chapter 4, eq. (4.4) and (4.5): <url of the first>"
    cite_markdown(labels)       "chapter 4, eq. [(4.4)](<url>) and [(4.5)](<url>)"
    url(label) / page_url(page) the published addresses
    book_markdown(text)         markdown with published links turned into links
                                inside the built book ({eq} roles, relative pages)
    book_notebook(nb)           the same for every markdown cell of a released notebook
    format_citation(labels, entries, link)  the formatter itself (shipped copy)
"""
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SAVED = Path(__file__).with_suffix(".json")

_LABELLED = re.compile(r"\$\$\s*\((?P<label>[^()\s]+)\)\s*$")  # a display's closing `$$ (label)`
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>.*)$")  # ``` or ~~~ code blocks and directives


@dataclass(frozen=True)
class Equation:
    label: str
    chapter: int     # the chapter's number in the book
    number: str      # as displayed, without parentheses: "4.4"
    page: str        # the page, relative to the book's root: "chapters/04_conv_backward.html"


def _numbered_pages(root):
    """[(chapter number, page without suffix)] of the numbered parts of _toc.yml, in order."""
    import yaml

    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text())
    pages = [ch["file"] for part in toc.get("parts", []) if part.get("numbered")
             for ch in part.get("chapters", [])]
    return list(enumerate(pages, start=1))


def _displayed_lines(text):
    """The stripped lines of a MyST page outside code blocks and code cells.

    Directives (```{note}, :::{solution}) are kept: the math inside them is displayed and numbered too.
    """
    code, directives = None, []
    for line in text.splitlines():
        stripped = line.strip()
        fence = _FENCE.match(stripped)
        if code:
            if fence and fence.group("fence") == code and not fence.group("info"):
                code = None
            continue
        if fence:
            mark, info = fence.group("fence"), fence.group("info").strip()
            if not info and directives and directives[-1] == mark:
                directives.pop()
            elif info.startswith("{") and not info.startswith("{code-cell"):
                directives.append(mark)
            else:
                code = mark
            continue
        yield stripped


def labels_in_order(text):
    """The equation labels of one MyST page, in the order the page displays them."""
    return [m.group("label") for m in map(_LABELLED.search, _displayed_lines(text)) if m]


def displays(text):
    """{label: LaTeX of the display} of one MyST page (between the `$$` and the `$$ (label)`)."""
    out, body = {}, None
    for stripped in _displayed_lines(text):
        match = _LABELLED.search(stripped)
        if body is None:
            if not stripped.startswith("$$"):
                continue
            rest = stripped[2:match.start()] if match else stripped[2:]
            if match:
                out[match.group("label")] = rest.strip()
            elif not rest.rstrip().endswith("$$"):  # (a one-line display without label ends here)
                body = [rest]
        elif match:
            body.append(stripped[:match.start()])
            out[match.group("label")] = "\n".join(x for x in body if x.strip()).strip()
            body = None
        elif stripped.endswith("$$"):  # an unlabelled display ends
            body = None
        else:
            body.append(stripped)
    return out


def latex(label, root=ROOT):
    """The LaTeX of the display labelled `label`, as the chapter writes it."""
    for _, page in _numbered_pages(root):
        found = displays((Path(root) / f"{page}.md").read_text())
        if label in found:
            return found[label]
    raise KeyError(label)


def scan(root=ROOT):
    """{label: Equation} from the chapter sources under `root` (numbers as the book shows them)."""
    table = {}
    for chapter, page in _numbered_pages(root):
        source = Path(root) / f"{page}.md"
        for k, label in enumerate(labels_in_order(source.read_text()), start=1):
            if label in table:
                raise ValueError(f"equation label {label} is defined twice ({table[label].page}, {page})")
            table[label] = Equation(label, chapter, f"{chapter}.{k}", f"{page}.html")
    return table


def base_url(root=ROOT):
    """The published book's address (`html: baseurl:` in _config.yml), ending in '/'."""
    import yaml

    config = yaml.safe_load((Path(root) / "_config.yml").read_text())
    url = (config.get("html") or {}).get("baseurl") or ""
    if not url:
        raise ValueError("_config.yml sets no html: baseurl: (the published book's address)")
    return url.rstrip("/") + "/"


def snapshot(root=ROOT):
    """The text of citations.json for the book under `root` (written by tools/make_notebooks.py)."""
    doc = {"book": base_url(root),
           "equations": {label: asdict(eq) for label, eq in scan(root).items()}}
    return json.dumps(doc, indent=1) + "\n"


_saved = None


def use(snapshot_text):
    """Cite from `snapshot_text` (what snapshot() returns) instead of citations.json (make_notebooks does)."""
    global _saved
    _saved = json.loads(snapshot_text)


def _load():
    global _saved
    if _saved is None:
        _saved = json.loads(SAVED.read_text())
    return _saved


def table():
    """{label: Equation} as saved (what the judge and the notebooks cite)."""
    return {label: Equation(**eq) for label, eq in _load()["equations"].items()}


def book():
    """The published book's address, as saved."""
    return _load()["book"]


def entries(labels):
    """{label: (chapter, number, url)}: what format_citation needs (and the helper modules ship)."""
    eqs = table()
    missing = [label for label in labels if label not in eqs]
    if missing:
        raise KeyError(f"no equation labelled {missing} in the chapters")
    return {label: (eqs[label].chapter, eqs[label].number, book() + eqs[label].page + "#equation-" + label)
            for label in labels}


def format_citation(labels, entries, link="text"):
    """Cite equations as the book shows them, grouped by chapter, in the order given.

    labels: equation labels, e.g. ("eq-conv-dx", "eq-conv-dx-full");
    entries: {label: (chapter, number shown, url)};
    link: "text" adds the address of the first equation (plain-text messages),
    "markdown" links every number, "" gives the words only.
    E.g. "chapter 4, eq. (4.4) and (4.5): https://.../04_conv_backward.html#equation-eq-conv-dx".
    """
    groups = []  # [(chapter, [label, ...])], chapters in order of first appearance
    for label in labels:
        chapter = entries[label][0]
        for group in groups:
            if group[0] == chapter:
                group[1].append(label)
                break
        else:
            groups.append((chapter, [label]))
    parts = []
    for chapter, group in groups:
        numbers = [f"[({entries[label][1]})]({entries[label][2]})" if link == "markdown"
                   else f"({entries[label][1]})" for label in group]
        listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
        parts.append(f"chapter {chapter}, eq. {listed}")
    text = "; ".join(parts)
    if link == "text":
        text += ": " + entries[labels[0]][2]
    return text


def cite(labels, link=True):
    """"chapter 4, eq. (4.4) and (4.5)" and, with link, ": <url of the first>"."""
    labels = (labels,) if isinstance(labels, str) else tuple(labels)
    return format_citation(labels, entries(labels), "text" if link else "")


def cite_markdown(labels):
    """"chapter 4, eq. [(4.4)](<url>) and [(4.5)](<url>)": every number links to its equation."""
    labels = (labels,) if isinstance(labels, str) else tuple(labels)
    return format_citation(labels, entries(labels), "markdown")


def url(label):
    """The published address of one equation."""
    return entries([label])[label][2]


def page_url(page):
    """The published address of a page given by its source, e.g. "chapters/04_conv_backward"."""
    return book() + page + ".html"


def book_markdown(text, page_dir="chapters/exercises"):
    """Markdown for a page of the built book (under `page_dir`): links to the published book become
    links inside it. An equation number `[(4.4)](<book>...#equation-<label>)` becomes the
    `{eq}` role (Sphinx checks it and shows the same number); a page link becomes a relative
    link to the page's source."""
    base = re.escape(book())

    def equation(m):
        return "{eq}" + f"`{m.group('label')}`"

    def page(m):
        return "](" + Path(os.path.relpath(m.group("page") + ".md", page_dir)).as_posix() + ")"

    text = re.sub(r"\[\([0-9.]+\)\]\(" + base + r"[^)#\s]+\.html#equation-(?P<label>[^)\s]+)\)", equation, text)
    return re.sub(r"\]\(" + base + r"(?P<page>[^)#\s]+)\.html\)", page, text)


def book_notebook(nb, page_dir="chapters/exercises"):
    """A released notebook (nbformat dict) made into a page of the built book under `page_dir`:
    book_markdown() applied to every markdown cell. tools/build_book.py's exercise pages need it."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = book_markdown(source, page_dir)
    return nb
