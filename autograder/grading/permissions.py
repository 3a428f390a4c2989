"""Course data no student can read: `make release`, `make grade` and `make collect` refuse otherwise.

Students who submit through nbgrader's exchange have accounts on the grading
host. Then the reference answers (`source/`, `solutions/`), the gradebook and
every student's `submitted/`, `autograded/` and `feedback/` must not be
readable by other users: a world-readable checkout hands them all out.

When the check applies: only while this host's exchange is in use for the
course, i.e. `<exchange root>/<course_id>/` exists (made by `nbgrader
release_assignment`), or the old in-course exchange's
`autograder/exchange/<course_id>/` does. Without an exchange on this host nobody else submits from here, and a
clone on a laptop (umask 022) is not refused; the test suite's course copies
live in pytest's 0700 folder and pass the check whenever it applies.

"Readable by other users" is decided from the mode bits of every folder on the
way (a path is private when some folder from `/` down to it denies others the
execute bit, or when it is a file that denies them read). Group bits are not
looked at: give the course a group of its own if its group has other members.
"""
from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path

from .precheck import shown

COURSE_PARTS = ("source", "submitted", "autograded", "feedback")


def exchange_in_use(course, exchange=None):
    """Why students can reach this host through the exchange (a sentence), or "" when they cannot.

    exchange: the exchange root (default: the course config's Exchange.root).
    """
    if exchange is None:
        cfg = course.config.Exchange
        exchange = cfg.root if "root" in cfg else ""
    inside = course.root / "exchange" / course.course_id  # the old default; an empty leftover is harmless
    if inside.is_dir():
        return f"the exchange inside the course ({inside}) makes students traverse the course folder"
    if exchange and (Path(exchange) / course.course_id).is_dir():
        return f"students submit through the exchange {Path(exchange) / course.course_id} on this host"
    return ""


def readable_by_others(path):
    """True when a user other than the owner (and outside the group) can read path.

    Every folder from / down must let others through (o+x); a file must let them read (o+r);
    a folder they can pass through is readable for every name they can guess.
    """
    path = Path(os.path.realpath(path))
    for folder in [*reversed(path.parents), path]:
        try:
            st = os.stat(folder)
        except OSError:
            return False
        if stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IXOTH:
            return False
    return stat.S_ISDIR(st.st_mode) or bool(st.st_mode & stat.S_IROTH)


def sensitive_paths(course):
    """The course data no student may read that exist here: source/, solutions/, the gradebook,
    submitted/, autograded/, feedback/."""
    paths = [course.root / part for part in COURSE_PARTS]
    spec = importlib.util.find_spec("solutions")  # the package the judge imports (not imported here)
    if spec is not None and spec.submodule_search_locations:
        paths += [Path(p) for p in spec.submodule_search_locations]
    paths.append(course.root.parent / "solutions")
    url = course.db_url
    if url.startswith("sqlite:///"):
        paths.append(Path(url[len("sqlite:///"):]))
    seen, out = set(), []
    for p in paths:
        real = os.path.realpath(p)
        if real not in seen and os.path.exists(real):
            seen.add(real)
            out.append(Path(p))
    return out


def exposed(course, exchange=None):
    """(why the check applies or "", [sensitive paths other users can read])."""
    why = exchange_in_use(course, exchange)
    if not why:
        return "", []
    return why, [p for p in sensitive_paths(course) if readable_by_others(p)]


def refuse_if_exposed(course, command, exchange=None):
    """Stop `command` with a message saying how to fix it while course data is readable by other users."""
    why, paths = exposed(course, exchange)
    if not paths:
        return
    listed = "\n".join(f"  {shown(p)}" for p in paths)
    fix = " ".join(shown(p) for p in paths)
    raise SystemExit(
        f"{command}: refusing to run: {why}, and other users can read\n{listed}\n"
        f"Fix: chmod -R o-rwx {fix}\n"
        f"(or remove others' access to a folder above them all, e.g. chmod o-rwx {shown(course.root.parent)};"
        " the sandboxed kernels do not need it)")
