"""Every patch of nbgrader/nbclient/nbconvert internals (grading/run/patches.py) installs and does what it says.

Each test runs in a fresh Python: a patch changes a library class for the
whole process it is installed in, as in a grading worker.
"""
import os
import subprocess
import sys
import textwrap

import pytest

from autograder.grading.run import patches


def run(code, tmp_path):
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=env)  # nbgrader runs `alembic` to create a gradebook
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split()


def test_the_installed_versions_are_the_pinned_ones_and_a_difference_is_refused(monkeypatch):
    patches.check_versions()
    monkeypatch.setitem(patches.PINNED, "nbclient", "0.0.1")
    with pytest.raises(RuntimeError, match=r"written for nbclient 0\.0\.1 but found nbclient .*make setup"):
        patches.check_versions()


def test_precheck_refuses_a_folder_before_nbgrader_copies_it(tmp_path):
    out = run("""
        import logging, types
        from nbgrader.converters import Autograde
        from autograder.grading.run import patches
        original = Autograde.init_destination
        patches.install_precheck(); patches.install_precheck()
        assert Autograde.init_destination.__wrapped__ is original  # installed once
        fake = types.SimpleNamespace(_format_source=lambda a, s: "submitted/a*/alpha", log=logging.getLogger("t"))
        print(Autograde.init_destination(fake, "alpha", "a*"))  # not a plain id: never reaches nbgrader
        patches.skip_precheck_in_this_process()
        try:
            Autograde.init_destination(fake, "alpha", "a*")
        except AttributeError:
            print("nbgrader's own")  # the worker's way: straight to nbgrader's method (fake lacks its attributes)
    """, tmp_path)
    assert out == ["False", "nbgrader's", "own"]


def test_gradebooks_share_one_engine_per_url_and_sqlite_skips_fsync(tmp_path):
    out = run("""
        from nbgrader.api import Gradebook
        from autograder.grading.run import patches
        patches.reuse_gradebook_engines(); patches.reuse_gradebook_engines()
        url = "sqlite:///gb.db"
        with Gradebook(url) as a:
            a.add_student("s1")
        with Gradebook(url) as b:
            print(a.engine is b.engine, [s.id for s in b.students])
            print(b.db.connection().exec_driver_sql("PRAGMA synchronous").scalar())
    """, tmp_path)
    assert out == ["True", "['s1']", "0"]


def test_feedback_reuses_the_exporter_it_built(tmp_path):
    out = run("""
        import os
        from nbgrader.converters import GenerateFeedback
        from nbgrader.coursedir import CourseDirectory
        from autograder.grading.run import patches
        Feedback = patches.reusable_feedback_class()
        print(issubclass(Feedback, GenerateFeedback), patches.reusable_feedback_class() is Feedback)
        conv = Feedback(coursedir=CourseDirectory(root=os.path.abspath("..")))
        exporter = conv._trait_values["exporter"] = object()
        calls = []
        conv.init_notebooks = lambda: calls.append("init")
        conv.convert_notebooks = lambda: calls.append(os.getcwd() == conv.coursedir.root)
        here = os.getcwd()
        conv.start()
        print(calls, conv.exporter is exporter, os.getcwd() == here)
    """, tmp_path)
    assert out == ["True", "True", "['init',", "True]", "True", "True"]


def test_timers_add_each_phase_once(tmp_path):
    out = run("""
        from nbgrader.api import Gradebook
        from autograder.grading.run import patches
        from autograder.grading.run.results import PHASES
        seconds = patches.install_timers(dict.fromkeys(PHASES, 0.0))
        print(patches.install_timers({}) is seconds)  # installed once: the first dict stays
        with Gradebook("sqlite:///gb.db"):
            pass
        print(seconds["database"] > 0, seconds["cells"] == 0, Gradebook.__init__.__wrapped__.__name__)
    """, tmp_path)
    assert out == ["True", "True", "True", "__init__"]
