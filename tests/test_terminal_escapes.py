"""Nothing a student wrote reaches the instructor's terminal raw (issue 18, finding 5), and the kernel
never sees the course's absolute path (issue 18, finding 1).

A real, sandboxed, plain `nbgrader autograde` of a notebook that
- writes a window title, an OSC 52 clipboard write, a clear-screen and an 8-bit CSI to its own
  stderr (kernel.log) and then kills its kernel, so the grader logs "the kernel's last words";
- holds a read-only cell whose grade_id carries escapes, so nbgrader warns that it "does not exist in
  the database";
- prints its working folder.
No control byte (C0 but newline and tab, DEL, C1) may reach nbgrader's stdout or stderr; the
escaped words must (the lines are shown, not dropped).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import require
from tests.hostile.course import make_course
from tests.hostile.terminal_attacks import BAD_ID, CASES, ESCAPES

from autograder.grading import terminal

def control_bytes(data):
    text = data.decode("utf-8", "replace")
    return sorted({hex(ord(ch)) for ch in text if (ord(ch) < 32 and ch not in "\n\t") or 0x7f <= ord(ch) <= 0x9f})


def test_escape_keeps_newlines_and_tabs_and_shows_the_rest():
    assert terminal.escape("a\tb\nc") == "a\tb\nc"
    assert terminal.escape(ESCAPES) == ESCAPES.replace("\x1b", "\\x1b").replace("\x07", "\\x07").replace(
        "\x9b", "\\x9b")
    assert terminal.escape("\r\x00\x7f\x85") == "\\x0d\\x00\\x7f\\x85"


def test_the_filter_escapes_message_args_and_traceback():
    import logging
    record = logging.LogRecord("t", logging.WARNING, __file__, 1, "cell %s: %s", (BAD_ID, b"\x1b[2J"), None)
    try:
        raise ValueError("boom \x1b]0;x\x07")
    except ValueError:
        record.exc_info = sys.exc_info()
    terminal.EscapeControls().filter(record)
    shown = logging.Formatter().format(record)
    assert control_bytes(shown.encode()) == [] and "\\x1b]0;grade-id-title" in shown and "boom \\x1b]0;x" in shown


@pytest.mark.slow
def test_plain_nbgrader_autograde_prints_no_control_byte(tmp_path):
    require("bwrap", "bubblewrap")
    course = make_course(tmp_path, CASES)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("BTC_ALLOW_UNSANDBOXED", None)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    out = b""
    for step in (["generate_assignment", "activations", "--force"], ["autograde", "activations", "--force"]):
        done = subprocess.run(nbgrader + step, cwd=course, env=env, capture_output=True, timeout=600)
        out += done.stdout + done.stderr
    # (nbgrader 0.9.6 itself then fails esc_id's notebook: OverwriteCells deletes the unknown id and
    # add_missing_cells reads it back, KeyError; its log lines are checked all the same)
    text = out.decode("utf-8", "replace")
    assert control_bytes(out) == [], text[-3000:]
    assert "last words \\x1b]0;owned-title\\x07" in text, text[-3000:]   # the kernel's last words, escaped
    assert "does not exist in the database" in text and "\\x1b]0;grade-id-title" in text, text[-3000:]
    # the kernel saw a neutral folder, not where the course lives
    graded = (course / "autograded" / "esc" / "activations" / "activations.ipynb").read_text()  # esc was graded
    assert "PROBE cwd: /home/student/activations" in graded
    assert str(course) not in graded and str(tmp_path) not in graded
