"""The hostile corpus of nbgrader's exchange (issue 18, findings 1, 3 and 8).

Students reach the grading host through the exchange: each writes
`<exchange>/<course_id>/inbound/<name>/` as their own uid, and the instructor
(root here) collects it. Every attack below is what one student (the
unprivileged uid of `Students.attacker`) does to the inbound folder; the
tests (tests/test_collect.py) collect with an honest student beside it and
check the host afterwards: nothing gained (no reference code, no root-only
secret in `submitted/`), the honest student collected unchanged, nothing left
behind, exit status 0, the attacker's folder listed as refused.

Each attack is `fn(ctx)`, run in a child process that has dropped to the
attacker's uid; ctx (`Ctx`) holds the inbound folder, the attacker's name,
the course folder, the root-only secret's path and an honest notebook's bytes.
`EXPECT[name]` is what the collect must say about the attacker's folder.
"""
from __future__ import annotations

import os
import pwd
import secrets
import subprocess
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT = "pooling"
COURSE_ID = "backprop-through-cnns"
TS = "2026-12-06 10:00:00.000000 UTC"


@dataclass
class Ctx:
    inbound: Path
    me: str
    course: Path
    secret: Path
    notebook: bytes
    victim: str = ""
    victim_folder: Path | None = None  # the victim's inbound folder (its random name guessed or seen)


def folder(ctx, name=None, ts=TS):
    """A new inbound folder named as nbgrader submit names it (`<me>+pooling+<ts>+<random>`)."""
    path = ctx.inbound / (name or f"{ctx.me}+{ASSIGNMENT}+{ts}+r{os.getpid()}")
    path.mkdir()
    os.chmod(path, 0o777)  # as nbgrader submit leaves it
    return path


def honest(ctx, name=None, ts=TS):
    f = folder(ctx, name, ts)
    (f / f"{ASSIGNMENT}.ipynb").write_bytes(ctx.notebook)
    (f / "timestamp.txt").write_text(ts)
    return f


def source_notebook(ctx):
    return ctx.course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


# ---- finding 1: links to the course and to root-only files ----

def relative_link_to_source(ctx):
    f = folder(ctx)
    os.symlink(os.path.relpath(source_notebook(ctx), f), f / f"{ASSIGNMENT}.ipynb")


def absolute_link_to_source(ctx):
    f = folder(ctx)
    os.symlink(source_notebook(ctx), f / f"{ASSIGNMENT}.ipynb")


def link_to_root_only_secret(ctx):
    f = honest(ctx)
    os.symlink(ctx.secret, f / "notes.txt")


def link_to_solutions_folder(ctx):
    f = honest(ctx)
    os.symlink(ctx.course.parent / "solutions", f / "solutions")


def link_to_gradebook(ctx):
    f = honest(ctx)
    os.symlink(ctx.course / "gradebook.db", f / "gradebook.db")


def link_to_another_submission(ctx):
    f = folder(ctx)
    os.symlink(ctx.course / "submitted" / ctx.victim / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", f / f"{ASSIGNMENT}.ipynb")


def hard_link_planted(ctx):
    """A hard link to a root-only file (fs.protected_hardlinks=0 would let a student make it; the
    test makes it as root in this folder, see test_collect)."""
    honest(ctx)


def inbound_entry_is_a_link(ctx):
    """The inbound entry itself is a link to the source folder."""
    os.symlink(source_notebook(ctx).parent, ctx.inbound / f"{ctx.me}+{ASSIGNMENT}+{TS}+link")


# ---- finding 3: one folder stopping collect for everyone ----

def timestamp_not_a_date(ctx):
    honest(ctx, name=f"{ctx.me}+{ASSIGNMENT}+yesterday at noon\x1b]0;owned\x07+x", ts="not a date")


def symlink_loop(ctx):
    f = honest(ctx)
    os.symlink(".", f / "loop")


def dangling_link(ctx):
    f = honest(ctx)
    os.symlink("/nonexistent/nothing", f / "gone.ipynb")


def link_to_dev_zero(ctx):
    f = honest(ctx)
    os.symlink("/dev/zero", f / "data.npy")


def fifo(ctx):
    f = honest(ctx)
    os.mkfifo(f / "pipe")


def nested_too_deep(ctx):
    f = honest(ctx)
    deep = f.joinpath(*["d"] * 12)
    deep.mkdir(parents=True)
    (deep / "x.txt").write_text("deep")


def too_many_files(ctx):
    f = honest(ctx)
    for i in range(300):
        (f / f"f{i:03d}.txt").write_text("x")


def sparse_file(ctx):
    f = honest(ctx)
    with open(f / "big.bin", "wb") as out:
        out.truncate(65 * 2**20)  # 65 MB by apparent size, no block on disk


def replace_the_victim(ctx):
    """Named for the victim, with a later timestamp: nbgrader replaced the victim's submission with it."""
    honest(ctx, name=f"{ctx.victim}+{ASSIGNMENT}+2099-01-01 00:00:00.000000 UTC+zz", ts="2099-01-01 00:00:00 UTC")


def plant_in_victims_folder(ctx):
    """The victim's folder is 0777 (nbgrader submit): a file of the attacker's placed inside it."""
    (ctx.victim_folder / "extra.py").write_text("print('planted')\n")


# ---- finding 8: lateness is whatever the student says ----

def forged_early_timestamp(ctx):
    honest(ctx, name=f"{ctx.me}+{ASSIGNMENT}+2000-01-01 00:00:00.000000 UTC+x", ts="2000-01-01 00:00:00.000000 UTC")


ATTACKS = {f.__name__: f for f in (
    relative_link_to_source, absolute_link_to_source, link_to_root_only_secret, link_to_solutions_folder,
    link_to_gradebook, link_to_another_submission, hard_link_planted,
    inbound_entry_is_a_link, timestamp_not_a_date, symlink_loop, dangling_link, link_to_dev_zero, fifo,
    nested_too_deep, too_many_files, sparse_file, replace_the_victim, plant_in_victims_folder,
    forged_early_timestamp)}

# What collect says about the attacker's folder: refused (with words from the reason), or collected.
EXPECT = {
    "relative_link_to_source": ("refused", "symbolic link"),
    "absolute_link_to_source": ("refused", "symbolic link"),
    "link_to_root_only_secret": ("refused", "symbolic link"),
    "link_to_solutions_folder": ("refused", "symbolic link"),
    "link_to_gradebook": ("refused", "symbolic link"),
    "link_to_another_submission": ("refused", "symbolic link"),
    "hard_link_planted": ("refused", "belongs to another user"),
    "inbound_entry_is_a_link": ("refused", "symbolic link"),
    "timestamp_not_a_date": ("collected", "not a date"),
    "symlink_loop": ("refused", "symbolic link"),
    "dangling_link": ("refused", "symbolic link"),
    "link_to_dev_zero": ("refused", "symbolic link"),
    "fifo": ("refused", "special file"),
    "nested_too_deep": ("refused", "nested more than"),
    "too_many_files": ("refused", "more than 200"),
    "sparse_file": ("refused", "more than 64 MB"),
    "replace_the_victim": ("refused", "belongs to"),
    "plant_in_victims_folder": ("refused", "belongs to another user"),
    "forged_early_timestamp": ("collected", "filesystem's time"),
}


# ---- running as a student ----

def run_as(user, fn, *args):
    """fn(*args) in a child process that has dropped to user's uid and gid (no other group)."""
    pw = pwd.getpwnam(user)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            os.umask(0o022)
            fn(*args)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"{fn.__name__} as {user} failed (see stderr)")


class Students:
    """Unprivileged users for one test session (root only): honest `alice`, `bob`, attacker `mallory`.

    Names carry the test worker's name and a random suffix, so no two sets ever share one.
    """

    def __init__(self):
        tag = (os.environ.get("PYTEST_XDIST_WORKER") or "m") + secrets.token_hex(2)
        self.alice, self.bob, self.attacker = (f"btcx-{n}-{tag}" for n in ("alice", "bob", "mallory"))
        self.made = []
        for name in (self.alice, self.bob, self.attacker):
            _account(["useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name])
            self.made.append(name)

    def remove(self):
        for name in self.made:
            _account(["userdel", name], done=(0, 6))  # 6: no such user
        self.made = []


def _account(cmd, done=(0,)):
    """useradd / userdel, retried while another process holds /etc/passwd's lock (parallel tests)."""
    for _ in range(40):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode in done:
            return
        if "lock" not in proc.stderr:
            break
        time.sleep(0.25)
    raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")


def make_exchange():
    """A fresh exchange root every user can reach (/tmp/btc-exchange-*), with the course's inbound
    made as nbgrader release_assignment makes it (0733 + setgid: others write, nobody lists)."""
    root = Path(tempfile.mkdtemp(prefix="btc-exchange-", dir="/tmp"))
    os.chmod(root, 0o1777)
    inbound = root / COURSE_ID / "inbound"
    inbound.mkdir(parents=True)
    os.chmod(root / COURSE_ID, 0o755)
    os.chmod(inbound, 0o2733)
    return root


def wait_a_tick():
    """ctimes have the filesystem's granularity: separate two submissions by more than it."""
    time.sleep(0.05)
