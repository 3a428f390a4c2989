"""nbgrader's own exchange works out of the box (issue 11), outside the course so that no student
needs to pass through the course folder (issue 18)."""
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.submissions import course as C


@pytest.mark.slow
def test_nbgrader_list_and_release_use_the_course_exchange(tmp_path):
    repo = C.copy_course(tmp_path)
    course = repo / "autograder"
    # Never the host's default (/srv/nbgrader/exchange as root): a course folder there would
    # tell every later `make grade` that students submit on this host (grading/permissions.py).
    exchange = tmp_path / "exchange"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               BTC_EXCHANGE_ROOT=str(exchange))
    nbgrader = [sys.executable, "-m", "nbgrader"]
    listed = subprocess.run(nbgrader + ["list"], cwd=course, capture_output=True, text=True, timeout=120, env=env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert exchange.is_dir() and stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    for step in (["generate_assignment", "pooling", "--force"], ["release_assignment", "pooling", "--force"]):
        done = subprocess.run(nbgrader + step, cwd=course, capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    listed = subprocess.run(nbgrader + ["list"], cwd=course, capture_output=True, text=True, timeout=120, env=env)
    assert "pooling" in listed.stdout + listed.stderr


def test_the_default_exchange_is_outside_the_course_and_loading_the_config_makes_nothing(tmp_path):
    repo = C.copy_course(tmp_path)
    course = repo / "autograder"
    env = {k: v for k, v in os.environ.items() if k != "BTC_EXCHANGE_ROOT"}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME="", PYTHONPATH=str(repo))
    code = "from autograder.grading.course import load_config; import sys; print(load_config(sys.argv[1]).Exchange.root)"
    existed = os.path.lexists("/srv/nbgrader/exchange")
    done = subprocess.run([sys.executable, "-c", code, str(course)], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    root = Path(done.stdout.strip().splitlines()[-1])
    assert course not in root.parents and root != course, root
    expected = Path("/srv/nbgrader/exchange") if os.geteuid() == 0 else tmp_path / "home/.local/share/nbgrader/exchange"
    assert root == expected
    # made by an exchange command, never as a side effect of loading the config
    assert os.path.lexists(root) == (existed and os.geteuid() == 0)
