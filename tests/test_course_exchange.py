"""nbgrader's own exchange works out of the box: it lives in the course, not in /usr/local/share (issue 11)."""
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from submissions import course as C  # noqa: E402


@pytest.mark.slow
def test_nbgrader_list_and_release_use_the_course_exchange(tmp_path):
    repo = C.copy_course(tmp_path)
    course = repo / "autograder"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("BTC_EXCHANGE_ROOT", None)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    listed = subprocess.run(nbgrader + ["list"], cwd=course, capture_output=True, text=True, timeout=120, env=env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    exchange = course / "exchange"
    assert exchange.is_dir() and stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    for step in (["generate_assignment", "pooling", "--force"], ["release_assignment", "pooling", "--force"]):
        done = subprocess.run(nbgrader + step, cwd=course, capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    listed = subprocess.run(nbgrader + ["list"], cwd=course, capture_output=True, text=True, timeout=120, env=env)
    assert "pooling" in listed.stdout + listed.stderr
