"""Nothing a student wrote reaches the instructor's terminal raw.

Log messages of a grading run quote text a student chose: a `grade_id` in
nbgrader's "Cell '...' does not exist in the database" warning, the last
words of a kernel (its `kernel.log`), file names, exception messages. A
terminal obeys the control characters in them: ESC sequences set the window
title, write the clipboard (OSC 52), move the cursor and recolour lines.

`EscapeControls` is a logging filter that rewrites a record's message, with
its arguments already substituted, and its traceback text, so that every
control character is shown as an escape (`\\x1b`, `\\x9b`, `\\r`): C0 except
newline and tab, DEL, and C1 (U+0080 to U+009F, which include the 8-bit
CSI and OSC). An ESC sequence then prints as harmless text.
`install()` (called from nbgrader_config.py) applies it to every record made
in the process, whatever logger or handler it goes through: it wraps the
logging module's record factory, so loggers and handlers made later
(traitlets makes nbgrader's when the app starts) are covered too.
"""
from __future__ import annotations

import logging
import re

# C0 controls except \t (0x09) and \n (0x0a), DEL, and C1 controls.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape(text):
    """text with every control character but newline and tab written as a visible escape."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class EscapeControls(logging.Filter):
    """Rewrites a record so that its message and traceback carry no control character (keeps every record)."""

    def filter(self, record):
        if getattr(record, "_btc_escaped", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: show the pieces instead of losing the record
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = escape(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = escape(record.exc_text)
        if record.stack_info:
            record.stack_info = escape(record.stack_info)
        record._btc_escaped = True
        return True


_FILTER = EscapeControls()


def install():
    """Escape control characters in every log record this process makes from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_btc_escapes", False):
        return

    def make_record(*args, **kwargs):
        record = factory(*args, **kwargs)
        _FILTER.filter(record)
        return record

    make_record._btc_escapes = True
    make_record.__wrapped__ = factory
    logging.setLogRecordFactory(make_record)
    for handler in logging.getLogger().handlers:  # records made before, still queued somewhere
        handler.addFilter(_FILTER)
