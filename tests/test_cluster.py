"""The cluster steps' rules that need no cluster: which shard, how many workers, what reaches Slurm."""
import json

import pytest

from autograder.grading.run import cluster, grade
from autograder.grading.pages import report


@pytest.mark.parametrize("env, want", [
    ({"SLURM_ARRAY_TASK_ID": "2"}, (2, 3)),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "1"}, (3, 3)),  # a re-submitted task: n stays 3
    ({"JOB_COMPLETION_INDEX": "0"}, (1, 3)),                                 # Kubernetes counts from 0
])
def test_shard_auto_takes_k_from_the_engine_and_n_from_shards(env, want):
    assert cluster.resolve_shard("auto", 3, env) == want


@pytest.mark.parametrize("shard, shards, env, says", [
    ("auto", None, {"SLURM_ARRAY_TASK_ID": "1"}, "SHARDS=n"),
    ("auto", 3, {}, "neither SLURM_ARRAY_TASK_ID"),
    ("auto", 3, {"SLURM_ARRAY_TASK_ID": "0"}, "--array=1-3"),   # an --array=0-2 submission
    ("auto", 3, {"SLURM_ARRAY_TASK_ID": "4"}, "--array=1-3"),
    ("2/3", 4, {}, "not one of SHARDS=4"),
    ("4/3", None, {}, "1 <= k <= n"),
])
def test_a_shard_that_would_grade_the_wrong_students_is_refused(shard, shards, env, says):
    with pytest.raises(SystemExit, match=says.replace("(", r"\(")):
        cluster.resolve_shard(shard, shards, env)


def test_workers_follow_the_task_not_the_node():
    assert grade.default_jobs({"SLURM_CPUS_PER_TASK": "3"}) == 3
    assert grade.default_jobs({}) >= 1


def test_only_the_listed_variables_and_no_password_reach_slurm():
    env = {"BTC_GRADEBOOK_URL": "postgresql+psycopg2://grader@db:5432/gb", "PGPASSFILE": "/p", "PATH": "/bin",
           "AWS_SECRET_ACCESS_KEY": "x", "BTC_SECRET": "y"}
    assert cluster.job_env(env, ["SHARDS=3"]).split(",") == ["BTC_GRADEBOOK_URL", "PGPASSFILE", "PATH", "SHARDS=3"]
    assert cluster.job_env({}) == "NONE"
    for leaky in ("postgresql+psycopg2://grader:pw@db/gb", "postgresql://grader:@db/gb", "not a url at all"):
        with pytest.raises(SystemExit, match="PGPASSFILE"):
            cluster.job_env({"BTC_GRADEBOOK_URL": leaky})


def test_each_shard_keeps_its_own_files():
    assert grade.shard_files((1, 1)) == ("precheck.json", "report/logs")
    files = {grade.shard_files((k, 3)) for k in (1, 2, 3)}
    assert len(files) == 3 and all("of3" in p and "of3" in log for p, log in files)


def test_finish_reads_every_shard_of_its_n_and_nothing_stale(tmp_path):
    (tmp_path / "report").mkdir()

    def problem(student):
        return {"student": student, "assignment": "pooling", "notebook": "pooling.ipynb", "kind": "not_json",
                "message": "not JSON"}
    for k in (1, 2):
        (tmp_path / f"precheck-{k}of2.json").write_text(json.dumps([problem(f"s{k}")]))
    (tmp_path / "precheck-1of3.json").write_text(json.dumps([problem("stale")]))  # an older run with n = 3
    (tmp_path / "report" / "run-2of2.json").write_text(json.dumps(
        {"results": [{"student": "s9", "assignment": "pooling", "ok": False, "error": "worker died"}]}))
    rows = report.problems_from_disk(tmp_path, shards=2)
    assert {r[0] for r in rows} == {"s1", "s2", "s9"}
    assert {r[0] for r in report.problems_from_disk(tmp_path)} == {"s1", "s2", "s9", "stale"}
