"""Time budgets follow the work (issue 12 point 5): a function that never returns costs its own points only,
and costs time once. Measured by bench/hang_cost.py (seconds), asserted here by grades and messages."""

import pytest

from tests.hostile import corpus
from tests.submissions import course as C
from tests.support import require

HANG = "while True:\n    pass"


@pytest.mark.slow
@pytest.mark.xdist_group("sandbox_probes")
def test_a_hung_conv_forward_costs_its_own_points_and_one_timeout(tmp_path):
    require("bwrap", "bubblewrap")
    repo = C.copy_course(tmp_path)
    C.release(repo)
    import nbformat
    nb = nbformat.read(str(C.ROOT / "autograder" / "source" / "convolution" / "convolution.ipynb"), as_version=4)
    corpus.replace_body(nb, "conv_forward", HANG)
    C.submit(repo, "hangs", "convolution", nb)
    # a student's own exceptions worded like kernel events: lost points, never a grading error
    nb = nbformat.read(str(C.ROOT / "autograder" / "source" / "convolution" / "convolution.ipynb"), as_version=4)
    corpus.replace_body(nb, "conv_forward", 'raise RuntimeError("the solver timed out")')
    corpus.replace_body(nb, "conv_backward", 'raise RuntimeError("Kernel died: the kernel crashed (time limit)")')
    C.submit(repo, "solver_raises", "convolution", nb)
    proc = C.run(repo, "autograder.grading.run.grade")
    assert C.lost(C.grades(repo)[("solver_raises", "convolution")]) == {"conv_forward", "conv_backward"}
    cells = C.grades(repo)[("hangs", "convolution")]
    lost = C.lost(cells)
    assert lost == {"conv_forward"}, lost                           # conv_backward keeps its points
    assert all(score == 0 for gid, (score, _) in cells.items() if gid.startswith("conv_forward__"))
    out = C.autograded_outputs(repo, "hangs", "convolution")
    first, *rest = sorted(gid for gid in out if gid.startswith("conv_forward__"))
    named = [gid for gid in out if gid.startswith("conv_forward__") and "did not return" in out[gid]]
    # the later cases are not run; their verdict names the case that hung and what a hang usually is
    assert len(named) >= len(rest), {g: out[g][:300] for g in out if g.startswith("conv_forward__")}
    assert all("loop" in out[g] for g in named)
    # one end-of-run summary: the hang is listed as a timeout of its first case, the exceptions are not
    problems = proc.stdout.split("grading errors:")[1]
    assert proc.stdout.count("grading errors:") == 1 and problems.startswith(" 1\n"), proc.stdout[-2000:]
    assert "hangs" in problems and "timeout: conv_forward__" in problems and "solver_raises" not in problems
    from autograder.grading.pages import report
    rows = report.problems_from_disk(repo / "autograder")
    assert [(s, kind) for s, _, kind, _ in rows] == [("hangs", "timeout")], rows
