"""A page's code cells highlighted once per distinct source and process (the template's `highlight_code`).

nbconvert's Highlight2HTML runs pygments on every code cell of every page
(~0.05 s CPU per feedback page); most cells (the given code, the test cells)
are the same on every student's page. `CachedHighlight` returns what
Highlight2HTML returns, kept per (lexer, language, the cell's magics_language,
source): the only inputs nbconvert 7.17.2's highlighting reads besides formatter
options, which the course does not set (with any, every cell is highlighted anew).
"""
from __future__ import annotations

import functools

CACHED_CHARS = 4_000  # sources up to this size are kept (95% of cells are under 1200), at most CACHED_SOURCES
CACHED_SOURCES = 1024  # of them: ~50 MB at most for ASCII code (its HTML is ~10x the source)


@functools.lru_cache(maxsize=CACHED_SOURCES)
def _highlighted(pygments_lexer, language, magics, source):
    from nbconvert.filters.highlight import Highlight2HTML

    highlighter = Highlight2HTML(pygments_lexer=pygments_lexer)
    return highlighter(source, language, None if magics is None else {"magics_language": magics})


class CachedHighlight:
    """Highlight2HTML's `__call__(source, language=None, metadata=None)`, each result kept.

    `highlighter` is the page's own Highlight2HTML (its lexer from the notebook's language_info);
    a source too long to keep, a lexer, language or magics_language that is not a string, or
    configured formatter options: highlighted by it directly.
    """

    def __init__(self, highlighter):
        self.highlighter = highlighter

    def __call__(self, source, language=None, metadata=None):
        h = self.highlighter
        magics = None
        if metadata and "magics_language" in metadata:
            magics = metadata["magics_language"]
        keyable = all(isinstance(v, (str, type(None))) for v in (h.pygments_lexer, language, magics))
        if h.extra_formatter_options or not keyable or not isinstance(source, str) or len(source) > CACHED_CHARS:
            return h(source, language, metadata)  # (the course configures no formatter options)
        return _highlighted(h.pygments_lexer, language, magics, source)
