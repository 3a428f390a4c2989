"""`make collect`: copy submissions out of nbgrader's exchange, treating every inbound folder as hostile.

    python -m autograder.grading.run.collect [--course autograder] [--exchange ROOT] [--student ID]
                                         [--no-update] [--before-duedate] [assignment ...]

Students write `<exchange>/<course_id>/inbound/<student>+<assignment>+<timestamp>+<random>/`
themselves, as their own uid, and the instructor copies it to
`submitted/<student>/<assignment>/`. nbgrader's own collect trusts that folder:
it follows symbolic links (a link to `source/` put the reference answers into a
student's submission), reads FIFOs and devices, recurses into link loops, takes
the student id from the folder's *name* (so another uid could replace a
victim's submission) and the lateness from the student's own text. Here:

- the student is the folder's OWNER (its uid's user name); a folder whose name
  claims anyone else is refused and never merged with, or replaces, anything;
- every entry is looked at with lstat and opened relative to its parent's
  descriptor with O_NOFOLLOW (`nofollow.py`), checked again with fstat (same inode, still a
  regular file or folder), and must belong to the owner too: no link (relative
  or absolute), FIFO, socket or device, no hard link to anyone else's file,
  is ever followed or read;
- the precheck's limits (`precheck.FOLDER_LIMITS`: entries, depth, bytes,
  counted as the bytes are read) bound what is copied; deeper nesting, loops
  (a folder seen twice) or more bytes refuse the folder;
- the time of submission is the filesystem's: the newest ctime of the folder
  and everything copied from it (a student can make it later, by touching a
  file, never earlier), written as nbgrader's `timestamp.txt`; the folder
  name's timestamp is parsed defensively and only reported when it disagrees;
- a refused folder costs only its author: it is listed with the reason, the
  student's earlier submission stays as it was, everyone else is collected,
  and the command exits 0. A copy is made in a hidden staging folder beside
  the destination and renamed into place only when complete.

`patches.install_safe_collect` makes plain `nbgrader collect` run this code too.
"""
from __future__ import annotations

import argparse
import datetime
import os
import pwd
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..nofollow import IGNORE, O_DIR, Refused, copy_inbound
from ..precheck import shown, valid_id

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's Exchange.timestamp_format


@dataclass
class Outcome:
    """What happened to one inbound folder.

    status: "collected" (copied to submitted/), "kept" (an existing submission is as new or newer),
    "superseded" (the student has a newer folder), or "refused".
    """
    folder: str        # the inbound folder's name, escaped for printing
    student: str       # the owner's user name ("" when it has none)
    assignment: str
    status: str
    message: str = ""
    submitted_at: str = ""  # the filesystem's time of submission, nbgrader's format

    def line(self):
        who = shown(self.student) if self.student else "?"
        return f"{self.status:<10} {who:<20} {self.assignment:<12} {self.folder}" + (
            f": {self.message}" if self.message else "")


def utc(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)


def owner_name(uid):
    """The user name of uid, or None when the uid has no entry in the password database."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def claimed_time(name, student, assignment):
    """The timestamp the folder's name claims (a UTC datetime), or None when it is not a date."""
    rest = name[len(f"{student}+{assignment}+"):]
    text = rest.rsplit("+", 1)[0] if "+" in rest else rest  # nbgrader adds "+<random>"
    try:
        from nbgrader.utils import parse_utc
        return parse_utc(text[:64]).replace(tzinfo=datetime.timezone.utc)
    except Exception:  # dateutil raises ValueError, OverflowError, ParserError ... on a student's text
        return None


def existing_time(dest):
    """The submission time recorded in dest/timestamp.txt (the instructor's own file), or None."""
    try:
        from nbgrader.utils import parse_utc
        text = (Path(dest) / "timestamp.txt").read_text(encoding="utf-8", errors="replace").strip()
        return parse_utc(text).replace(tzinfo=datetime.timezone.utc)
    except Exception:
        return None


# ---- choosing what to collect ----

@dataclass
class Candidate:
    name: str
    student: str
    uid: int
    ctime: float


def scan(inbound_fd, assignment, student=None):
    """([Candidate] of this assignment, [Outcome] refused) from the inbound folder open as inbound_fd.

    A folder is this assignment's when its name holds `+<assignment>+` (nbgrader's rule).
    Its student is its owner; the name must start with `<owner>+<assignment>+`.
    """
    marker = f"+{assignment}+"
    found, refused = [], []
    for name in sorted(os.listdir(inbound_fd)):
        if marker not in name:
            continue
        try:
            st = os.stat(name, dir_fd=inbound_fd, follow_symlinks=False)
        except OSError:
            continue  # removed since the listing
        owner = owner_name(st.st_uid)
        if student is not None and owner != student and not name.startswith(f"{student}{marker}"):
            continue
        if not stat.S_ISDIR(st.st_mode):
            what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a folder"
            refused.append(Outcome(shown(name), owner or "", assignment, "refused", f"it is {what}"))
            continue
        if owner is None:
            refused.append(Outcome(shown(name), "", assignment, "refused",
                                   f"it belongs to uid {st.st_uid}, which has no user name"))
        elif not valid_id(owner):
            refused.append(Outcome(shown(name), owner, assignment, "refused",
                                   f"its owner's name {shown(owner)!r} is not a plain student id"))
        elif not name.startswith(f"{owner}{marker}"):
            claimed = name.split(marker, 1)[0]
            refused.append(Outcome(shown(name), owner, assignment, "refused",
                                   f"it is named for {shown(claimed)!r} but belongs to {shown(owner)!r}: "
                                   "not collected, and nobody's submission was changed"))
        else:
            found.append(Candidate(name, owner, st.st_uid, st.st_ctime))
    return found, refused


def choose(candidates, duedate=None):
    """{student: (chosen Candidate, [superseded Candidates])}: the newest by the filesystem's clock,
    or with a duedate the newest at or before it (else the newest)."""
    by_student = {}
    for c in candidates:
        by_student.setdefault(c.student, []).append(c)
    chosen = {}
    for student, cs in by_student.items():
        cs.sort(key=lambda c: (c.ctime, c.name), reverse=True)
        pick = cs[0]
        if duedate is not None:
            due = duedate.replace(tzinfo=datetime.timezone.utc) if duedate.tzinfo is None else duedate
            early = [c for c in cs if utc(c.ctime) <= due]
            pick = early[0] if early else cs[0]
        chosen[student] = (pick, [c for c in cs if c is not pick])
    return chosen


def _place(staging, dest):
    """Put the complete copy staging at dest, replacing what was there (put back if the move fails)."""
    old = None
    if os.path.lexists(dest):
        old = tempfile.mkdtemp(prefix=".replaced-", dir=os.path.dirname(dest))
        os.rename(dest, os.path.join(old, "x"))
    try:
        os.rename(staging, dest)
    except OSError:
        if old:  # if even this fails, the earlier copy stays in the .replaced- folder for the instructor
            os.rename(os.path.join(old, "x"), dest)
            os.rmdir(old)
        raise
    if old:
        shutil.rmtree(old, ignore_errors=True)


def collect_one(inbound_fd, cand, assignment, submitted, update=True, ignore=IGNORE):
    """Collect one chosen Candidate into submitted/<student>/<assignment>/; returns its Outcome."""
    out = Outcome(shown(cand.name), cand.student, assignment, "collected")
    student_dir = os.path.join(submitted, cand.student)
    if os.path.islink(student_dir):
        out.status, out.message = "refused", f"{shown(student_dir)} is a symbolic link (fix it by hand)"
        return out
    os.makedirs(student_dir, 0o755, exist_ok=True)
    dest = os.path.join(student_dir, assignment)
    staging = tempfile.mkdtemp(prefix=f".{assignment}.collecting-", dir=student_dir)
    try:
        newest = copy_inbound(inbound_fd, cand.name, cand.uid, os.path.join(staging, "copy"), ignore)
        when = utc(newest)
        out.submitted_at = when.strftime(TIMESTAMP_FORMAT)
        before = existing_time(dest) if os.path.isdir(dest) else None
        if os.path.lexists(dest) and not (update and (before is None or when > before)):
            out.status = "kept"
            out.message = ("the submission already collected is as new" if update
                           else "already collected (collect with --update to replace it)")
            return out
        with open(os.path.join(staging, "copy", "timestamp.txt"), "x", encoding="utf-8") as f:
            f.write(out.submitted_at)
        _place(os.path.join(staging, "copy"), dest)
        claimed = claimed_time(cand.name, cand.student, assignment)
        if claimed is None:
            out.message = "its name's timestamp is not a date (the filesystem's time is used)"
        elif abs((claimed - when).total_seconds()) > 600:
            out.message = f"its name claims {claimed:%Y-%m-%d %H:%M:%S} UTC; the filesystem's time is used"
        return out
    except Refused as e:
        out.status, out.message = "refused", f"{e} (the student's earlier submission, if any, is unchanged)"
        return out
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if out.status != "collected":
            try:
                os.rmdir(student_dir)  # only when empty: made for this copy, nothing collected into it
            except OSError:
                pass


def collect(inbound, submitted, assignment, student=None, update=True, duedate=None, ignore=IGNORE):
    """Collect every student's submission of assignment from the inbound folder; returns [Outcome].

    Never raises for what a student put in inbound/; raises OSError only when
    inbound itself cannot be opened.
    """
    inbound_fd = os.open(inbound, O_DIR)
    try:
        candidates, outcomes = scan(inbound_fd, assignment, student)
        os.makedirs(submitted, 0o755, exist_ok=True)
        for who, (pick, older) in sorted(choose(candidates, duedate).items()):
            try:
                outcomes.append(collect_one(inbound_fd, pick, assignment, submitted, update, ignore))
            except OSError as e:  # e.g. the disk is full: this student's copy fails, the others go on
                outcomes.append(Outcome(shown(pick.name), who, assignment, "refused",
                                        f"it could not be copied ({e.strerror or e})"))
            outcomes += [Outcome(shown(c.name), who, assignment, "superseded", "a newer folder was chosen")
                         for c in older]
        return outcomes
    finally:
        os.close(inbound_fd)


def main(argv=None):
    from ..course import ASSIGNMENTS, COURSE, Course, quiet
    from ..permissions import refuse_if_exposed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("--exchange", help="the exchange root (default: the course config's Exchange.root)")
    parser.add_argument("--student", help="collect only this student's folders")
    parser.add_argument("--no-update", dest="update", action="store_false",
                        help="never replace a submission collected before")
    parser.add_argument("--before-duedate", action="store_true",
                        help="the newest folder at or before the assignment's due date (from the gradebook)")
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS), help="names (or a,b lists)")
    args = parser.parse_args(argv)
    args.assignments = [a for arg in args.assignments for a in arg.split(",") if a]
    quiet()
    course = Course(args.course)
    root = args.exchange or (course.config.Exchange.root if "root" in course.config.Exchange else "")
    refuse_if_exposed(course, "make collect", exchange=root)
    inbound = Path(root) / course.course_id / "inbound"
    if not root or not inbound.is_dir():
        print(f"make collect: no inbound folder at {shown(inbound)}: run `nbgrader release_assignment` "
              "first, or set BTC_EXCHANGE_ROOT to the exchange students submit to", file=sys.stderr)
        return 1
    counts = {}
    for assignment in args.assignments:
        due = None
        if args.before_duedate:
            from nbgrader.api import MissingEntry
            with course.gradebook() as gb:
                try:
                    due = gb.find_assignment(assignment).duedate
                except MissingEntry:
                    due = None
        for o in collect(inbound, course.submitted, assignment, args.student, args.update, due):
            counts[o.status] = counts.get(o.status, 0) + 1
            print(o.line())
    print("collect: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing to collect")
          + f" (into {shown(course.root / 'submitted')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
