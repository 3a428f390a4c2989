"""Collecting from nbgrader's exchange treats every inbound folder as hostile (issue 18, findings 1, 3, 8).

Students act as unprivileged uids made for the session (root only; skipped
with the reason otherwise, failed under CI_REQUIRE_ALL). Each corpus attack
(tests/hostile/exchange_attacks.py) is collected by `make collect`'s module
beside an honest student, and the host is checked afterwards.
"""
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile import exchange_attacks as X
from tests.submissions import course as C

from autograder.grading.run import collect
from autograder.grading import nofollow, permissions

SECRET = "root-only-secret-6f1c"


def need_root():
    if os.geteuid() == 0:
        return
    reason = "needs root (to make unprivileged student uids with useradd)"
    if os.environ.get("CI_REQUIRE_ALL"):
        pytest.fail(f"CI must not skip: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def students():
    need_root()
    s = X.Students()
    yield s
    s.remove()


@pytest.fixture
def setup(tmp_path, students):
    """A course copy (private, in pytest's 0700 folder), a fresh exchange in /tmp, a root-only secret."""
    repo = C.copy_course(tmp_path)
    course = repo / "autograder"
    exchange = X.make_exchange()
    secret = Path(exchange).parent / f"{exchange.name}-secret"
    secret.write_text(SECRET)
    os.chmod(secret, 0o600)
    yield repo, course, exchange, secret
    subprocess.run(["rm", "-rf", "--one-file-system", str(exchange), str(secret)])


def ctx_for(user, course, exchange, secret, victim=""):
    nb = (C.ROOT / "autograder" / "source" / X.ASSIGNMENT / f"{X.ASSIGNMENT}.ipynb").read_bytes()
    honest = nb.replace(b"BEGIN SOLUTION", b"BEGIN MY ANSWER")  # stands for a student's own notebook
    return X.Ctx(exchange / X.COURSE_ID / "inbound", user, course, secret, honest + f"\n{user}".encode(), victim)


def run_collect(repo, course, exchange, *extra):
    """`make collect`'s module on the course copy (its own package first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(repo))
    return subprocess.run([sys.executable, "-m", "autograder.grading.run.collect", "--course", str(course),
                           "--exchange", str(exchange), *extra, X.ASSIGNMENT],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def files_under(path):
    return [p for p in Path(path).rglob("*") if p.is_file() or p.is_symlink()]


def check_nothing_gained(course, attacker):
    """No reference code and no root-only secret anywhere in submitted/; no link, no staging folder left."""
    submitted = course / "submitted"
    for p in files_under(submitted):
        assert not p.is_symlink(), p
        data = p.read_bytes()
        assert b"BEGIN SOLUTION" not in data, f"reference code collected into {p}"
        assert SECRET.encode() not in data, f"the root-only secret collected into {p}"
        assert stat.S_ISREG(p.lstat().st_mode)
    leftovers = [p for p in submitted.rglob(".*")]
    assert leftovers == [], leftovers


@pytest.mark.parametrize("attack", sorted(X.ATTACKS))
def test_attack_costs_only_its_author(setup, students, attack):
    repo, course, exchange, secret = setup
    alice = ctx_for(students.alice, course, exchange, secret)
    X.run_as(students.alice, X.honest, alice)
    X.wait_a_tick()
    before = time.time()
    mallory = ctx_for(students.attacker, course, exchange, secret, victim=students.bob)
    if attack == "plant_in_victims_folder":  # the victim here is bob, who submitted honestly too
        bob = ctx_for(students.bob, course, exchange, secret)
        X.run_as(students.bob, X.honest, bob)
        mallory.victim_folder = next(p for p in bob.inbound.iterdir() if p.name.startswith(students.bob + "+"))
    X.run_as(students.attacker, X.ATTACKS[attack], mallory)
    if attack == "hard_link_planted":  # as root: what a student could do with fs.protected_hardlinks=0
        mine = next(p for p in mallory.inbound.iterdir() if p.name.startswith(students.attacker + "+"))
        os.link(secret, mine / "notes.txt")
    if attack == "link_to_another_submission":  # bob's notebook, collected before
        (course / "submitted" / students.bob / X.ASSIGNMENT).mkdir(parents=True)
        (course / "submitted" / students.bob / X.ASSIGNMENT / f"{X.ASSIGNMENT}.ipynb").write_text("bob's own work")

    done = run_collect(repo, course, exchange)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out

    # The honest student beside it: collected, byte for byte, with the filesystem's time.
    got = course / "submitted" / students.alice / X.ASSIGNMENT
    assert (got / f"{X.ASSIGNMENT}.ipynb").read_bytes() == alice.notebook
    check_nothing_gained(course, students.attacker)

    status, words = X.EXPECT[attack]
    who = students.bob if attack in ("plant_in_victims_folder",) else students.attacker
    lines = [line for line in done.stdout.splitlines() if students.attacker in line or students.bob in line
             or "named for" in line]
    assert any(line.startswith(status) and words in line for line in lines), out
    assert "\x1b" not in out and "\x07" not in out  # a name's escape sequence is shown escaped
    mine = course / "submitted" / students.attacker / X.ASSIGNMENT
    if status == "refused" and who == students.attacker and attack != "replace_the_victim":
        assert not mine.exists()
    if attack == "replace_the_victim":
        assert not (course / "submitted" / students.bob).exists()  # nothing merged into the victim's
        assert not mine.exists()
    if attack == "plant_in_victims_folder":
        assert not (course / "submitted" / students.bob).exists()  # a foreign file is never collected
    if status == "collected":
        stamp = (mine / "timestamp.txt").read_text()
        when = collect.existing_time(mine)
        assert when is not None and when.timestamp() >= before - 1, stamp  # not the student's 2000-01-01
        assert (mine / f"{X.ASSIGNMENT}.ipynb").read_bytes() == mallory.notebook


def test_a_victims_submission_is_never_replaced(setup, students):
    """mallory's folder named `<bob>+pooling+<later ts>` leaves bob's collected submission as it was."""
    repo, course, exchange, secret = setup
    bob = ctx_for(students.bob, course, exchange, secret)
    X.run_as(students.bob, X.honest, bob)
    assert run_collect(repo, course, exchange).returncode == 0
    collected = course / "submitted" / students.bob / X.ASSIGNMENT / f"{X.ASSIGNMENT}.ipynb"
    assert collected.read_bytes() == bob.notebook
    X.wait_a_tick()
    X.run_as(students.attacker, X.replace_the_victim, ctx_for(students.attacker, course, exchange, secret,
                                                               victim=students.bob))
    done = run_collect(repo, course, exchange)
    assert done.returncode == 0
    assert collected.read_bytes() == bob.notebook
    assert f"named for '{students.bob}'" in done.stdout


def test_a_newer_submission_replaces_the_older_and_keeps_its_own_time(setup, students):
    repo, course, exchange, secret = setup
    alice = ctx_for(students.alice, course, exchange, secret)
    X.run_as(students.alice, X.honest, alice)
    assert run_collect(repo, course, exchange).returncode == 0
    dest = course / "submitted" / students.alice / X.ASSIGNMENT
    first = collect.existing_time(dest)
    done = run_collect(repo, course, exchange)  # nothing new: kept
    assert done.stdout.startswith("kept"), done.stdout
    X.wait_a_tick()
    alice.notebook += b"\nsecond"
    X.run_as(students.alice, X.honest, alice, f"{students.alice}+{X.ASSIGNMENT}+{X.TS}+second")
    done = run_collect(repo, course, exchange)
    assert "collected" in done.stdout and "superseded" in done.stdout, done.stdout
    assert (dest / f"{X.ASSIGNMENT}.ipynb").read_bytes() == alice.notebook
    assert collect.existing_time(dest) > first


def test_plain_nbgrader_collect_is_patched_the_same_way(setup, students):
    """`nbgrader collect` in the course folder: the symlink attack refused, the honest student collected."""
    repo, course, exchange, secret = setup
    alice = ctx_for(students.alice, course, exchange, secret)
    X.run_as(students.alice, X.honest, alice)
    X.run_as(students.attacker, X.absolute_link_to_source, ctx_for(students.attacker, course, exchange, secret))
    X.run_as(students.attacker, X.symlink_loop, ctx_for(students.attacker, course, exchange, secret))
    env = dict(os.environ, PYTHONPATH=str(repo), BTC_EXCHANGE_ROOT=str(exchange),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([sys.executable, "-m", "nbgrader", "collect", X.ASSIGNMENT, "--update"], cwd=course,
                          env=env, capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert (course / "submitted" / students.alice / X.ASSIGNMENT / f"{X.ASSIGNMENT}.ipynb").read_bytes() \
        == alice.notebook
    assert not (course / "submitted" / students.attacker).exists() or not any(
        (course / "submitted" / students.attacker).iterdir())
    assert "refused" in out and "symbolic link" in out, out
    check_nothing_gained(course, students.attacker)


# ---- pieces that need no root ----

@pytest.mark.parametrize("name", ["a+pooling+not a date+x", "a+pooling+9999999999999999999+x", "a+pooling+",
                                  "a+pooling+\x00\x1b[2J+x", "a+pooling+" + "9" * 5000])
def test_a_name_that_is_not_a_date_is_none(name):
    assert collect.claimed_time(name, "a", "pooling") is None


def test_a_name_that_is_a_date_is_read():
    when = collect.claimed_time("a+pooling+2026-12-06 10:00:00.000000 UTC+x", "a", "pooling")
    assert (when.year, when.hour) == (2026, 10)


def test_readable_by_others_follows_every_folder_on_the_way(tmp_path):
    top = tmp_path / "open"
    (top / "course" / "source").mkdir(parents=True)
    f = top / "course" / "source" / "x.ipynb"
    f.write_text("{}")
    assert not permissions.readable_by_others(f)  # pytest's own folder is 0700
    shared = Path(os.environ.get("TMPDIR", "/tmp"))
    import tempfile
    d = Path(tempfile.mkdtemp(dir=shared))
    try:
        os.chmod(d, 0o755)
        (d / "source").mkdir(mode=0o755)
        (d / "source" / "x.ipynb").write_text("{}")
        os.chmod(d / "source" / "x.ipynb", 0o644)
        if not all(os.stat(p).st_mode & stat.S_IXOTH for p in d.parents):
            pytest.skip(f"{shared} is not reachable by others here")
        assert permissions.readable_by_others(d / "source")
        assert permissions.readable_by_others(d / "source" / "x.ipynb")
        os.chmod(d / "source" / "x.ipynb", 0o600)
        assert not permissions.readable_by_others(d / "source" / "x.ipynb")
        os.chmod(d / "source", 0o750)
        assert not permissions.readable_by_others(d / "source")
    finally:
        subprocess.run(["rm", "-rf", str(d)])


def test_an_entry_swapped_for_a_link_after_its_lstat_is_refused(tmp_path):
    """The race: a file looked at with lstat, then replaced by a link before it is opened."""
    top = tmp_path / "in"
    top.mkdir()
    (top / "nb.ipynb").write_text("{}")
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        st = os.stat("nb.ipynb", dir_fd=fd, follow_symlinks=False)
        (top / "nb.ipynb").unlink()
        (top / "nb.ipynb").symlink_to(C.ROOT / "autograder" / "source" / "pooling" / "pooling.ipynb")
        with pytest.raises(nofollow.Refused, match="changed while"):
            nofollow._open_checked("nb.ipynb", fd, nofollow.O_FILE, st, os.getuid(), "nb.ipynb")
        (top / "nb.ipynb").unlink()
        os.mkfifo(top / "nb.ipynb")  # a FIFO swapped in: opened without blocking, then refused
        with pytest.raises(nofollow.Refused, match="changed while"):
            nofollow._open_checked("nb.ipynb", fd, nofollow.O_FILE, st, os.getuid(), "nb.ipynb")
    finally:
        os.close(fd)


@pytest.mark.slow
def test_collected_then_graded_the_link_attacker_gains_nothing(setup, students):
    """The finding's whole path: a link to the reference notebook, collect, `make grade`.

    Before: the attacker scored 35/35 and their feedback showed the reference code. Now the
    attacker is not collected at all; the honest student beside them scores full marks."""
    repo, course, exchange, secret = setup
    alice = ctx_for(students.alice, course, exchange, secret)
    alice.notebook = (course / "source" / "pooling" / "pooling.ipynb").read_bytes().replace(
        b"### BEGIN SOLUTION", b"### my answer").replace(b"### END SOLUTION", b"### end of my answer")
    X.run_as(students.alice, X.honest, alice)
    X.run_as(students.attacker, X.relative_link_to_source, ctx_for(students.attacker, course, exchange, secret))
    assert run_collect(repo, course, exchange).returncode == 0
    env = dict(os.environ, PYTHONPATH=str(repo), BTC_EXCHANGE_ROOT=str(exchange))
    done = subprocess.run([sys.executable, "-m", "autograder.grading.run.grade", "--jobs", "1"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    grades = C.grades(repo)
    assert set(grades) == {(students.alice, "pooling")}, grades
    assert all(score == top for score, top in grades[(students.alice, "pooling")].values())
    for top in ("submitted", "autograded", "feedback"):
        assert not (course / top / students.attacker).exists()


def test_the_nbgrader_collect_patch_installs_once_and_collects_by_owner(tmp_path):
    """patches.install_safe_collect in a fresh Python, on nbgrader's own ExchangeCollect (no root needed):
    the current user's folder is collected, a folder named for someone else is refused, nothing stops."""
    code = r"""
import logging, os, pwd, sys
logging.basicConfig(level=logging.INFO)
from pathlib import Path
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default.collect import ExchangeCollect
from traitlets.config import Config
from autograder.grading.run import patches
original = ExchangeCollect.copy_files
patches.install_safe_collect(); patches.install_safe_collect()
assert ExchangeCollect.copy_files.__wrapped__ is original  # installed once
tmp = Path(sys.argv[1]); me = pwd.getpwuid(os.getuid()).pw_name
inbound = tmp / "exchange" / "cid" / "inbound"
for name in (f"{me}+pooling+2026-01-01 00:00:00.000000 UTC+a", "someone+pooling+2099-01-01 00:00:00.000000 UTC+b"):
    (inbound / name).mkdir(parents=True)
    (inbound / name / "pooling.ipynb").write_text(name)
c = Config()
c.CourseDirectory.root = str(tmp / "course"); c.CourseDirectory.course_id = "cid"
c.CourseDirectory.assignment_id = "pooling"; c.Exchange.root = str(tmp / "exchange")
ExchangeCollect(coursedir=CourseDirectory(config=c), config=c).start()
got = tmp / "course" / "submitted" / me / "pooling"
print((got / "pooling.ipynb").read_text().split("+")[0] == me, sorted(p.name for p in (tmp / "course" / "submitted").iterdir()) == [me])
"""
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "True"], done.stdout + done.stderr
    assert "named for 'someone'" in done.stderr and "refused" in done.stderr, done.stderr


def test_control_stock_nbgrader_collect_falls_for_the_link(setup, students):
    """The corpus is real: nbgrader 0.9.6's own collect (unpatched) copies the reference notebook through
    the attacker's relative link."""
    repo, course, exchange, secret = setup
    X.run_as(students.attacker, X.relative_link_to_source, ctx_for(students.attacker, course, exchange, secret))
    code = r"""
import sys
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default.collect import ExchangeCollect
from traitlets.config import Config
c = Config()
c.CourseDirectory.root, c.Exchange.root = sys.argv[1], sys.argv[2]
c.CourseDirectory.course_id, c.CourseDirectory.assignment_id = sys.argv[3], "pooling"
c.CourseDirectory.db_url = "sqlite:///" + sys.argv[1] + "/gradebook.db"
ExchangeCollect(coursedir=CourseDirectory(config=c), config=c).start()
"""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")  # alembic
    done = subprocess.run([sys.executable, "-c", code, str(course), str(exchange), X.COURSE_ID],
                          capture_output=True, text=True, timeout=300, cwd=course, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    got = course / "submitted" / students.attacker / X.ASSIGNMENT / f"{X.ASSIGNMENT}.ipynb"
    assert b"BEGIN SOLUTION" in got.read_bytes()  # what collect.py refuses


def test_a_failed_move_puts_the_earlier_submission_back(tmp_path, monkeypatch):
    """The disk fills or a rename fails while a newer copy replaces an older one: the older stays."""
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "pooling.ipynb").write_text("older")
    (tmp_path / "stage").mkdir()
    (tmp_path / "stage" / "pooling.ipynb").write_text("newer")
    rename = os.rename

    def failing(src, dst):
        if str(src).endswith("stage"):
            raise OSError(28, "No space left on device")
        return rename(src, dst)
    monkeypatch.setattr(os, "rename", failing)
    with pytest.raises(OSError):
        collect._place(str(tmp_path / "stage"), str(tmp_path / "dest"))
    monkeypatch.setattr(os, "rename", rename)
    assert (tmp_path / "dest" / "pooling.ipynb").read_text() == "older"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "stage"]  # no .replaced- folder left
