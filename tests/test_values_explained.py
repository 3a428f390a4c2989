"""Wrong values explained (autograder/grading/diagnosis/values.py): where the wrong entries of a result of the
right shape are, as facts computed from the returned and expected arrays of every case.

In-process, as tests/test_diagnose.py: each variant below is our own one-change edit of the reference
(tests/submissions' Mistake), run here on every graded case, its results passed through the exchange's
encoding and judged by execute.judge_notebook, with no registry entry (a class the registry learns to name is
named first; the catalogue test checks the whole registry). Properties:
- it fires on wrong-value variants with a structure (a window missing an axis, only one input channel or one
  example written, the border windows wrong, zeros where values belong, rows and columns exchanged, the
  kernel turned round, another output left at 0), saying what the arrays show;
- it says a position only when one map alone fits, and stays with the facts where two readings fit;
- it is silent for correct variants, where no fact holds, and where another form (a named mistake, a cascade,
  an exception, a wrong shape, a structural signature) applies: the whole catalogue keeps its verdicts;
- it adds at most three lines after the judge's own lines, changes no grade, and is deterministic.
"""
import numpy as np
import pytest

from autograder.grading import cases as registry
from autograder.grading.diagnosis import diagnose, mistakes, values
from autograder.grading.judge.execute import MAX_VERDICT_CHARS, judge_notebook

from tests import submissions as S
from tests.submissions import E, Mistake, REAL_MISTAKES, VARIANTS
from tests.submissions import MISTAKES as IMAGINED
from tests.submissions import course as C

CATALOGUE = IMAGINED + REAL_MISTAKES
# the registry grows (a class this form explains today may be named tomorrow, which comes first): the variants
# below are judged with no registry entry, so they test this form whatever the registry holds
NO_REGISTRY = frozenset(k.key for k in mistakes.REGISTRY)


def _variant(name, assignment, function, *edits):
    return Mistake(name, assignment, function, tuple(E(old, new) for old, new in edits), known="")


# our own wrong-value slips; each changes one thing in the reference
WINDOW_WITHOUT_ROWS_AND_COLUMNS = _variant(  # the window slice written without its row and column ranges
    "pool_forward_window_missing_axes", "pooling", "pool_forward",
    ("A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]", "A_prev[i, :, c]"))
DW_FIRST_INPUT_CHANNEL = _variant(  # dW accumulated for input channel 0 only
    "conv_backward_dW_first_input_channel", "convolution", "conv_backward",
    ("dW[:, :, :, c] += a_slice * dZ[i, h, w, c]", "dW[:, :, 0, c] += a_slice[:, :, 0] * dZ[i, h, w, c]"))
DW_KERNEL_TURNED = _variant(  # the window turned round (a convolution where the book correlates)
    "conv_backward_dW_kernel_turned", "convolution", "conv_backward",
    ("dW[:, :, :, c] += a_slice * dZ[i, h, w, c]", "dW[:, :, :, c] += a_slice[::-1, ::-1] * dZ[i, h, w, c]"))
ROWS_SHIFTED = _variant(  # every window after the first row starts one row early
    "pool_forward_rows_shifted", "pooling", "pool_forward",
    ("vert_start = h * stride", "vert_start = max(0, h * stride - 1)"))
FIRST_ROW_ONLY = _variant(  # distribute_value writes its first row only: zeros where values belong
    "distribute_value_first_row_only", "pooling", "distribute_value",
    ("a = np.ones(shape) * average", "a = np.zeros(shape)\n    a[0] = average"))
MASK_ROWS_REVERSED = _variant(  # the mask of the window read upside down
    "mask_rows_reversed", "pooling", "create_mask_from_window",
    ("mask = x == np.max(x)", "mask = x[::-1] == np.max(x)"))
BORDER_WINDOWS = _variant(  # contrived: 1 added to every window on the border, whatever the mode
    "pool_forward_border_windows_off", "pooling", "pool_forward",
    ("                        A[i, h, w, c] = np.mean(a_prev_slice)\n",
     "                        A[i, h, w, c] = np.mean(a_prev_slice)\n"
     "                    if h in (0, n_H - 1) or w in (0, n_W - 1):\n"
     "                        A[i, h, w, c] += 1\n"))
DA_INTO_THE_INPUT = _variant(  # W * dZ added into the padded input: dA_prev stays 0, dW reads a changing input
    "conv_backward_dA_into_the_input", "convolution", "conv_backward",
    ("da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W",
     "a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W"))
WINDOWS_SHIFTED = _variant(  # contrived: every window one column to the right, wrapping round at the edge
    "pool_backward_windows_shifted", "pooling", "pool_backward",
    ("horiz_start = w * stride", "horiz_start = (w * stride + 1) % (A_prev.shape[2] - f + 1)"))
# slips a structural signature already explains in the verdict: the values form must say the same facts when
# called on its own, and stay silent in the verdict
FIRST_EXAMPLE_ONLY = _variant("pool_forward_first_example_only", "pooling", "pool_forward",
                              ("for i in range(m):", "for i in range(1):"))
FIRST_CHANNEL_ONLY = _variant("pool_forward_first_channel_only", "pooling", "pool_forward",
                              ("for c in range(n_C):", "for c in range(1):"))
LAST_EXAMPLE_EVERYWHERE = _variant("conv_forward_last_example_everywhere", "convolution", "conv_forward",
                                   ("a_prev_pad = A_prev_pad[i]", "a_prev_pad = A_prev_pad[-1]"))
MASK_TRANSPOSED = _variant("mask_transposed", "pooling", "create_mask_from_window",
                           ("mask = x == np.max(x)", "mask = x.T == np.max(x)"))


def judge(nb, assignment, leave_out=()):
    """[(grade_id, passed, text, finding)] of a notebook graded in-process."""
    recs = S.records(assignment, S.functions(nb, assignment))
    return [(gid, passed, text, finding) for (gid, _), (passed, text, _, finding) in
            zip(recs, judge_notebook(recs, leave_out=leave_out))]


def graded(m, leave_out=NO_REGISTRY):
    return judge(S.with_mistakes(C.source_notebook(m.assignment), [m]), m.assignment, leave_out)


def judged_cells(m, drop=()):
    """[diagnose.Judged] of the variant's own function, cases whose suffix is in `drop` left out."""
    recs = S.records(m.assignment, S.functions(S.with_mistakes(C.source_notebook(m.assignment), [m]), m.assignment))
    return [diagnose.Judged(gid, r) for gid, r in recs
            if gid.startswith(m.function + "__") and gid.split("__")[1] not in drop]


def own_failing(verdicts, function):
    return [(gid, text, finding) for gid, passed, text, finding in verdicts
            if not passed and gid.startswith(function + "__")]


# ----------------------------------------------------------------------------- it fires, and says what holds

# variant -> (key, the lines every failing verdict of its function must hold, in this order)
FIRES = {
    WINDOW_WITHOUT_ROWS_AND_COLUMNS: (
        "values:A:constant:hw",
        ["in every failing case, your A is the same for every h and w (for each example and channel), "
         "where the book's is not."]),
    DW_FIRST_INPUT_CHANNEL: (
        "values:dW:k:not_first",
        ["right in all 7 cases: input channel 0 (k = 0); wrong in every failing case: every entry of every input "
         "channel but the first.",
         "in every failing case, every wrong entry of your dW is 0 where the book's is not"]),
    DW_KERNEL_TURNED: (
        "values:dW:position:reversed_i+reversed_j",
        ["your values are the book's at another position, in all 7 cases: dW[i, j, k, c] = "
         "expected[-1-i, -1-j, k, c] (the kernel rows in reverse order; the kernel columns in reverse order)."]),
    ROWS_SHIFTED: (
        "values:A:h:not_first",
        ["right in all 8 cases: row 0 (h = 0); wrong in every failing case: entries in every row but the first."]),
    FIRST_ROW_ONLY: (
        "values:a:h:not_first",
        ["right in all 3 cases: row 0 (h = 0); wrong in every failing case: every entry of every row but the first.",
         "in every failing case, every wrong entry of your a is 0 where the book's is not (11 wrong entries in all)."]),
    MASK_ROWS_REVERSED: (
        "values:mask:position:reversed_h",
        ["your values are the book's at another position, in all 3 cases: mask[h, w] = expected[-1-h, w] "
         "(the rows in reverse order)."]),
    DA_INTO_THE_INPUT: (  # the verdict is about dW, whose errors have no structure; dA_prev's have one
        "values:dA_prev:all_zeros",
        ["dA_prev is wrong too: in every failing case, your dA_prev is all 0, where the book's is not."]),
    WINDOWS_SHIFTED: (  # no position, region or axis describes it; the gradient's total is kept (study8's q018)
        "values:dA_prev:total",
        ["in every failing case, the entries of your dA_prev add up to the book's total: the amount that reaches "
         "dA_prev is right, the entries it lands in are not."]),
    BORDER_WINDOWS: (
        "values:A:plane:border",
        ["right in all 8 cases: the inner windows; wrong in every failing case: every entry of every window on "
         "the border (the first or last row or column)."]),
}


@pytest.mark.parametrize("variant", list(FIRES), ids=lambda m: m.name)
def test_wrong_values_are_explained_where_they_are(variant, monkeypatch):
    """Every failing cell of the variant's function gets the values form with the facts its arrays show; the
    judge's own lines come first and unchanged, at most three lines are added, and no grade changes."""
    key, said = FIRES[variant]
    verdicts = graded(variant)
    failing = own_failing(verdicts, variant.function)
    assert failing and all(f is not None and f.kind == "values" and f.key == key for _, _, f in failing), \
        [(gid, f and f.key) for gid, _, f in failing]
    monkeypatch.setattr(values, "explained", lambda function, judged: None)
    without = graded(variant)
    assert [(gid, passed) for gid, passed, _, _ in verdicts] == [(gid, passed) for gid, passed, _, _ in without]
    plain = {gid: text for gid, _, text, _ in without}
    for gid, text, finding in failing:
        added = [line for line in text.splitlines() if line not in plain[gid].splitlines()]
        assert added == [f"  {line}" for line in finding.lines] and 1 <= len(added) <= values.MAX_LINES
        before = plain[gid].splitlines()
        assert text.splitlines()[:len(before) - 1] == before[:-1]  # the judge's lines, then ours, then "re-read"
        assert text.splitlines()[-1] == before[-1] and before[-1].startswith("  re-read ")
        at = [next((k for k, x in enumerate(finding.lines) if x.startswith(line)), None) for line in said]
        assert None not in at and at == sorted(at), (finding.lines, said)  # each fact is there, in this order
        assert len(text) < MAX_VERDICT_CHARS and all(len(x) <= 240 for x in finding.lines)
        assert finding.label.startswith(key.split(":")[1] + ": ") and len(finding.label) <= 60  # the class view
        assert "likely mistake" not in text and "that usually means" not in text


# variant -> (the cases it is judged on (None: all), the fact its values form says on its own)
SIGNATURE_ALREADY = {
    FIRST_EXAMPLE_ONLY: (None, "samples", "right in all 8 cases: example i = 0; wrong in every failing case: every "
                                          "entry of example i = 1."),
    FIRST_CHANNEL_ONLY: (None, "channels", "right in all 8 cases: channel 0 (c = 0); wrong in every failing case: "
                                           "every entry of every channel but the first."),
    LAST_EXAMPLE_EVERYWHERE: (None, "samples", "your values are the book's at another position, in all 7 cases: "
                                               "Z[i, h, w, c] = expected[-1, h, w, c] (every example gets the last "
                                               "example's values)."),
    MASK_TRANSPOSED: (None, "axes", "your values are the book's at another position, in all 3 cases: mask[h, w] = "
                                    "expected[w, h] (rows and columns exchanged)."),
}


@pytest.mark.parametrize("variant", list(SIGNATURE_ALREADY), ids=lambda m: m.name)
def test_the_facts_hold_where_a_signature_already_says_them(variant):
    """Only example 0 written, one channel only, the last example read for every example, a transposed mask:
    the values form finds the fact on its own, and the verdict keeps the structural signature (which says the
    same place and what it usually means): the values form adds nothing there."""
    _, signature, fact = SIGNATURE_ALREADY[variant]
    found = values.explained(variant.function, judged_cells(variant))
    assert found is not None and found[0] == "values"
    assert all(fact in lines for lines in found[3].values()), found[3]
    failing = own_failing(graded(variant), variant.function)
    assert failing and all(f.kind == "signature" and signature in f.signatures for _, _, f in failing)
    assert not any("another position" in t or "right in all" in t for _, t, _ in failing)


# ----------------------------------------------------------------------------- facts only where two readings fit

def test_a_position_two_maps_give_is_not_said():
    """A mask read upside down, seen on the 2x2 case alone: reversing the rows and exchanging rows and columns
    then reversing give the same mask, moving its entries differently; neither is said. The full set of cases
    settles it (the test above)."""
    m = MASK_ROWS_REVERSED
    cells = judged_cells(m, drop=("3x3_negative", "4x4"))
    what, rows = "mask", values._rows(m.function, cells)
    assert values.position(what, rows, *values.AXES[m.function, what][::2]) is None
    moves = {values._index(maps, swap, (0, 1), ref.shape).tobytes() for maps, swap in values._candidates(2, (0, 1))
             for got, ref, _ in rows
             if np.array_equal(got, ref.reshape(-1)[values._index(maps, swap, (0, 1), ref.shape)])}
    assert len(moves) >= 2  # two maps that move the entries differently both fit
    found = values.explained(m.function, cells)
    assert found is None or not any("another position" in x for lines in found[3].values() for x in lines)
    full = values.explained(m.function, judged_cells(m))
    assert full[1] == "values:mask:position:reversed_h"


def test_a_symmetric_expected_array_leaves_the_position_open():
    """Synthetic: with the book's array symmetric, the array turned round equals it transposed and turned:
    two maps fit, so no position is said; with a generic array the one map is said."""
    axes, _, plane = values.AXES["create_mask_from_window", "mask"]
    symmetric = np.array([[1.0, 2.0], [2.0, 3.0]])
    got = symmetric[::-1, ::-1]
    assert values.position("a", [(got, symmetric, False)], axes, plane) is None
    generic = np.array([[1.0, 2.0], [5.0, 3.0]])
    found = values.position("a", [(generic[::-1, ::-1], generic, False)], axes, plane)
    assert found is not None and "a[h, w] = expected[-1-h, -1-w]" in found[1]


def test_nothing_holds_nothing_is_said():
    """Wrong values with no structure (noise on every entry): no line, as before this form."""
    case = registry.CASES["pool_forward__max_f2_s2"]
    A, cache = case.reference()
    noisy = S.exchange_record((A + np.random.default_rng(1).standard_normal(A.shape), cache))
    assert values.explained("pool_forward", [diagnose.Judged(case.grade_id, noisy)]) is None
    (passed, text, _, finding), = judge_notebook([(case.grade_id, noisy)])
    assert not passed and (finding is None or finding.kind != "values")


def test_a_fact_some_failing_case_contradicts_is_not_said():
    """Row 0 right in one failing case and wrong in another: no line about rows."""
    cells = judged_cells(ROWS_SHIFTED)
    what, rows = "A", values._rows("pool_forward", cells)
    got, ref, _ = next(r for r in rows if not r[2])
    k = next(k for k, r in enumerate(rows) if not r[2])
    spoiled = got.copy()
    spoiled[:, 0] += 1.0  # now row 0 is wrong in this failing case
    rows[k] = (spoiled, ref, False)
    axes, unit, plane = values.AXES["pool_forward", what]
    assert not any(fact_id.startswith("h:") for fact_id, _ in values.where_right(rows, axes, unit, plane))


# ----------------------------------------------------------------------------- silent where it must be

@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_correct_variants_get_no_values_line(variant):
    nb = C.source_notebook(variant.assignment)
    for function, body in variant.bodies.items():
        S.replace_body(nb, function, body)
    verdicts = judge(nb, variant.assignment)
    assert all(passed and finding is None for _, passed, _, finding in verdicts)
    for function in variant.bodies:
        cells = [diagnose.Judged(gid, r) for gid, r in S.records(variant.assignment, S.functions(
            nb, variant.assignment)) if gid.startswith(function + "__")]
        assert values.explained(function, cells) is None


@pytest.mark.parametrize("mistake", CATALOGUE, ids=lambda m: m.name)
def test_the_catalogue_keeps_its_verdicts(mistake):
    """Every catalogue mistake is named, a cascade, an exception, a wrong shape or a signature (with the whole
    registry): no values line anywhere in its notebook."""
    for gid, passed, text, finding in graded(mistake, leave_out=()):
        assert finding is None or finding.kind != "values", (gid, finding.key)
        assert "another position" not in text and "right in all " not in text


def test_no_values_line_for_a_raise_or_a_wrong_shape():
    """A function with a failing case that raised, or returned the wrong shape, is not this form's."""
    raising = _variant("pool_forward_slice_raises", "pooling", "pool_forward",
                       ("A[i, h, w, c] = np.max(a_prev_slice)", "A[i, h, w, c] = np.max(a_prev_slice[f:f])"))
    shaped = next(m for m in CATALOGUE if m.name == "pool_forward_stride_fixed_2")
    for m in (raising, shaped):
        assert values.explained(m.function, judged_cells(m)) is None


def test_deterministic():
    first = [(gid, text) for gid, _, text, _ in graded(DW_KERNEL_TURNED)]
    assert first == [(gid, text) for gid, _, text, _ in graded(DW_KERNEL_TURNED)]


@pytest.mark.parametrize("region", [r[0] for r in values._PLANE_REGIONS])
def test_each_region_of_the_image_is_told_as_itself(region):
    """Synthetic: entries off by 1 exactly in one region of the plane, on two cases of other sizes; that region
    is said, with what is right, and the axes get no line of their own."""
    name, inside, wrong, right = next(r for r in values._PLANE_REGIONS if r[0] == region)
    rng = np.random.default_rng(3)
    rows = []
    for shape in ((2, 4, 5, 3), (1, 5, 5, 2)):
        ref = rng.standard_normal(shape)
        h, w = np.indices(shape[1:3])
        rows.append((ref + inside(h, w, *shape[1:3])[None, :, :, None], ref, False))
    axes, unit, plane = values.AXES["pool_forward", "A"]
    facts = values.where_right(rows, axes, unit, plane)
    assert [f[0] for f in facts] == [f"plane:{name}"], facts
    assert facts[0][1] == (f"right in all 2 cases: {right.format(units='windows')}; wrong in every failing case: "
                           f"every entry of every {wrong.format(unit='window')}.")


def test_a_total_that_differs_is_not_said_to_be_the_books():
    """The windows shifted as above, and each window's gradient doubled: the total is twice the book's, so the
    total fact is not said (and nothing else holds: no line is added)."""
    m = Mistake("pool_backward_shifted_doubled", "pooling", "pool_backward",
                (E("horiz_start = w * stride", "horiz_start = (w * stride + 1) % (A_prev.shape[2] - f + 1)"),
                 E("da = dA[i, h, w, c]", "da = 2 * dA[i, h, w, c]")), known="")
    failing = own_failing(graded(m), "pool_backward")
    assert failing and not any("add up to the book's total" in text for _, text, _ in failing)
