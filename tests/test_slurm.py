"""A class graded on a real one-node Slurm cluster, as `make slurm-grade SHARDS=3 WAIT=1` does it.

The cluster is Debian's slurmctld, slurmd and munge, started here as root with
a private configuration (no systemd, no cgroups: proctrack/linuxproc,
task/none), beside a private PostgreSQL server that asks for a password. The
password reaches the jobs only through PGPASSFILE; the test then looks for it
in Slurm's state and spool folders, where Slurm keeps every job's environment.
The same class is graded by plain `make grade` into SQLite in another copy,
and the two gradebooks must agree cell for cell.
"""
import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support import require
from autograder.grading.cases import draws
from bench import grading_bench as B
from tests.submissions import course as C

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("slurm")]

SECRET = "s3cret-for-slurm-test"
STUDENTS = 10
BROKEN = {"broken_json": "{ this is not a notebook", "broken_empty": ""}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _need_root():
    if os.geteuid() != 0:
        reason = "starts slurmctld, slurmd and munged, which needs root"
        if os.environ.get("CI_REQUIRE_ALL"):
            pytest.fail(f"CI must not skip: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A one-node cluster; yields (environment for its clients, its state folders)."""
    _need_root()
    for exe, pkg in (("slurmctld", "slurmctld"), ("slurmd", "slurmd"), ("sbatch", "slurm-client"),
                     ("munged", "munge")):
        require(exe, pkg)
    home = tmp_path_factory.mktemp("slurm")
    host = socket.gethostname().split(".")[0]
    state, spool, logs = home / "state", home / "spool", home / "log"
    for d in (state, spool, logs):
        d.mkdir()
    conf = home / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=btc", f"SlurmctldHost={host}", "SlurmUser=root", "AuthType=auth/munge",
        "CredType=cred/munge", f"StateSaveLocation={state}", f"SlurmdSpoolDir={spool}",
        f"SlurmctldPidFile={home}/slurmctld.pid", f"SlurmdPidFile={home}/slurmd.pid",
        f"SlurmctldLogFile={logs}/slurmctld.log", f"SlurmdLogFile={logs}/slurmd.log",
        f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core", "MpiDefault=none",
        "ReturnToService=2", "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none", "MinJobAge=3600",
        f"NodeName={host} CPUs={os.cpu_count()} RealMemory=4000 State=UNKNOWN",
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP", ""]))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    if subprocess.run(["munge", "-n"], capture_output=True).returncode != 0:  # no munged running yet
        Path("/run/munge").mkdir(exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], check=True)
    subprocess.run(["slurmctld", "-c"], env=env, check=True)
    subprocess.run(["slurmd", "-c"], env=env, check=True)
    try:
        deadline = time.monotonic() + 60
        while "idle" not in subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True,
                                           text=True).stdout:
            assert time.monotonic() < deadline, (logs / "slurmctld.log").read_text()[-3000:]
            time.sleep(1)
        yield env, (state, spool)
    finally:
        subprocess.run(["scontrol", "shutdown"], env=env, capture_output=True)
        for pid_file in (home / "slurmd.pid", home / "slurmctld.pid"):
            try:
                os.kill(int(pid_file.read_text()), 9)
            except (OSError, ValueError):
                pass


@pytest.fixture(scope="module")
def postgres_with_password(tmp_path_factory):
    """A private PostgreSQL that wants a password; yields (URL without it, PGPASSFILE)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    require(found[-1] if found else "/usr/lib/postgresql/N/bin/initdb", "postgresql")
    bindir = Path(found[-1]).parent
    home = Path(tempfile.mkdtemp(prefix="btc-pg-slurm-"))
    os.chmod(home, 0o755)
    pw = home / "pw"
    pw.write_text(SECRET + "\n")
    shutil.chown(home, "postgres", "postgres")
    shutil.chown(pw, "postgres", "postgres")
    run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    data = home / "data"
    subprocess.run(run_as + [str(bindir / "initdb"), "-D", str(data), "-U", "grader", "--auth=scram-sha-256",
                             f"--pwfile={pw}", "--no-sync", "-E", "UTF8"], check=True, capture_output=True, cwd=home)
    pw.unlink()
    subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-o", f"-h 127.0.0.1 -p {port} -k {home} -F",
                             "-l", str(home / "log"), "-w", "-t", "60", "start"], check=True, capture_output=True)
    passfile = tmp_path_factory.mktemp("pgpass") / "pgpass"
    passfile.write_text(f"127.0.0.1:{port}:*:grader:{SECRET}\n")
    passfile.chmod(0o600)
    try:
        import psycopg2
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="grader", password=SECRET, dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql+psycopg2://grader@127.0.0.1:{port}/gradebook", passfile
    finally:
        subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def make_class(repo):
    """The class: the bench's rotation of reference, variants, mistakes and blanks, and two broken notebooks."""
    shutil.copytree(C.ROOT / "slurm", repo / "slurm")
    B.build_class(repo, STUDENTS)
    for student, text in BROKEN.items():
        folder = repo / "autograder" / "submitted" / student / "pooling"
        folder.mkdir(parents=True)
        (folder / "pooling.ipynb").write_text(text)


def rows(url):
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(url, "backprop-through-cnns") as gb:
        for a in gb.assignments:
            for sub in a.submissions:
                for nb in sub.notebooks:
                    for g in nb.grades:
                        out[(sub.student.id, a.name, g.name)] = (g.auto_score, g.max_score)
    return out


def make(repo, env, *args, check=True):
    proc = subprocess.run(["make", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=1800)
    if check:
        assert proc.returncode == 0, f"make {args} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def sbatch_wait(repo, env, args):
    """Submit one script from the checkout, as an instructor re-submitting a task would, and wait for it."""
    done = subprocess.run(["sbatch", "--parsable", "--wait", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr + "".join(p.read_text() for p in repo.glob("slurm-*.out"))


def test_a_class_graded_as_a_slurm_job_array_equals_plain_make_grade(slurm, postgres_with_password, tmp_path,
                                                                     monkeypatch):
    client_env, state_dirs = slurm
    url, passfile = postgres_with_password
    monkeypatch.setenv("PGPASSFILE", str(passfile))  # this process reads the gradebook too
    plain = B.make_repo(tmp_path / "plain")
    cluster = B.make_repo(tmp_path / "cluster")
    for repo in (plain, cluster):
        C.release(repo)
        make_class(repo)
    # one course seed for both copies: the same hidden inputs for every student, so cells compare
    seed = draws.course_seed(plain / "autograder")
    (cluster / "autograder" / draws.SEED_FILE).write_text(f"{seed:032x}\n")

    base = {**B.env(), "SLURM_CONF": client_env["SLURM_CONF"]}
    make(plain, base, "grade", "JOBS=2")
    want = rows(f"sqlite:///{plain / 'autograder' / 'gradebook.db'}")

    # A URL with the password in it never goes to Slurm: refused before anything is submitted.
    leaky = {**base, "BTC_GRADEBOOK_URL": url.replace("grader@", f"grader:{SECRET}@")}
    refused = make(cluster, leaky, "slurm-grade", "SHARDS=3", "WAIT=1", check=False)
    assert refused.returncode != 0 and "PGPASSFILE" in refused.stderr + refused.stdout
    assert subprocess.run(["squeue", "-h"], env=base, capture_output=True, text=True).stdout.strip() == ""

    env = {**base, "BTC_GRADEBOOK_URL": url, "PGPASSFILE": str(passfile)}
    done = make(cluster, env, "slurm-grade", "SHARDS=3", "WAIT=1")
    out = done.stdout
    assert "submitted prepare" in out
    states = out.split("jobs: ", 1)[1].splitlines()[0]
    assert states.count("COMPLETED") == 5 and "FAILED" not in states, out  # prepare, 3 shards, finish
    got = rows(url)
    assert got == want  # every cell of every submission, scored alike
    course = cluster / "autograder"

    # every submission graded exactly once, by exactly one shard
    seen = []
    for k in (1, 2, 3):
        seen += [(r["student"], r["assignment"]) for r in json.loads((course / "report" / f"run-{k}of3.json")
                                                                      .read_text())["results"]]
        seen += [(p["student"], p["assignment"]) for p in json.loads((course / f"precheck-{k}of3.json").read_text())]
    submitted = sorted((p.parent.name, p.name) for p in course.glob("submitted/*/*"))
    assert sorted(seen) == submitted and len(set(seen)) == len(seen)

    # the class's report (written once, by finish) lists the broken notebooks
    page = (course / "report" / "index.html").read_text()
    for student in BROKEN:
        assert student in page
    with open(course / "grades.csv") as f:
        exported = sorted(tuple(r) for r in csv.reader(f))
    assert {r[3] for r in exported[1:] if r[0] == "pooling"} >= set(BROKEN)  # nbgrader export: assignment, .., student_id

    # Re-running one shard (a failed task re-submitted alone: the array's count is then 1) changes nothing.
    before = (rows(url), exported, page.count("broken_"))
    sbatch_wait(cluster, {**env}, ["--array=2", "--export=BTC_GRADEBOOK_URL,PGPASSFILE,PATH,HOME,SHARDS=3",
                                   "slurm/shard.sbatch"])
    sbatch_wait(cluster, {**env}, ["--export=BTC_GRADEBOOK_URL,PGPASSFILE,PATH,HOME,SHARDS=3",
                                   "slurm/finish.sbatch"])
    with open(course / "grades.csv") as f:
        again = sorted(tuple(r) for r in csv.reader(f))
    after = rows(url)
    assert {k: (before[0].get(k), v) for k, v in after.items() if before[0].get(k) != v} == {}
    assert (after, again, (course / "report" / "index.html").read_text().count("broken_")) == before

    # Slurm kept each job's environment on disk: the gradebook URL is there, the password is not.
    stored = [p for d in state_dirs for p in Path(d).rglob("*") if p.is_file()]
    blob = b"".join(p.read_bytes() for p in stored)
    assert b"BTC_GRADEBOOK_URL" in blob, "no job environment found in Slurm's folders: the check would prove nothing"
    assert SECRET.encode() not in blob
    assert not any(SECRET in p.read_text(errors="replace") for p in cluster.glob("slurm-*.out"))
