"""Sphinx extension: a book that works with no network and a clean console.

Loaded by _config.yml (`sphinx.local_extensions`). It

- adds the MathJax 3 copy that tools/build_book.py fetched (under
  _build/.mathjax/) to the static path, so `mathjax_path: mathjax/tex-chtml.js`
  resolves to _static/mathjax/ in the HTML and MathJax loads its fonts from
  there too. It is kept out of _static/ on purpose: Jupyter Book adds every
  *.js under _static/ to every page.
- drops sphinx-thebe's scripts. Thebe is switched off (launch_buttons.thebe),
  yet sphinx-thebe 0.3.1 still adds its inline `const THEBE_JS_URL = ...`
  script twice, which is a SyntaxError in the console ("Identifier has already
  been declared"), and a loader that points at a CDN.
- keeps launch buttons to links that can work: none on the generated exercise
  pages (those notebooks are not in the repository; readers download them),
  and no Colab button on MyST-markdown pages (Colab opens only .ipynb).
"""
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

MATHJAX_STATIC = Path("_build") / ".mathjax"  # holds mathjax/tex-chtml.js etc.


def _add_mathjax(app, config):
    static = Path(app.srcdir) / MATHJAX_STATIC
    if not (static / "mathjax" / "tex-chtml.js").is_file():
        logger.warning(
            "offline: no local MathJax at %s; run `python -m tools.build_book` "
            "(it fetches MathJax 3 from the npm registry)", static,
        )
        return
    config.html_static_path.append(str(static))


def _is_thebe(script):
    filename = getattr(script, "filename", None) or str(script)
    body = getattr(script, "attributes", {}).get("body", "")
    return "thebe" in str(filename) or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def _trim_launch_buttons(app, pagename, templatename, context, doctree):
    buttons = context.get("header_buttons")
    if not buttons:
        return
    if pagename.startswith("chapters/exercises/"):
        buttons[:] = [b for b in buttons if b.get("label") != "launch-buttons"]
        return
    if str(context.get("sourcename", "")).endswith((".md", ".md.txt")):
        for group in buttons:
            if group.get("label") == "launch-buttons":
                group["buttons"] = [b for b in group["buttons"] if b.get("text") != "Colab"]


def setup(app):
    app.connect("config-inited", _add_mathjax)
    app.connect("html-page-context", _drop_thebe, priority=900)
    # After sphinx-book-theme builds the header buttons (priority 501).
    app.connect("html-page-context", _trim_launch_buttons, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
