"""The judge's diagnosis (autograder/grading/diagnosis/diagnose.py, mistakes.py), measured on the catalogue.

In-process: each catalogue entry's functions are executed here (no kernel), called
on every graded case's inputs, their results passed through the exchange's
encoding, and the notebook judged by execute.judge_notebook, as JudgedExecute
does after a real kernel. One slow test runs real nbgrader.

The three measured properties of issue 12:
- every catalogue mistake is diagnosed as itself (its registry key) on every
  function it breaks, and nothing else is named anywhere in its notebook;
- every correct variant gets full marks and no diagnosis at all;
- zero wrong diagnoses: with a mistake's own key left out of the registry, no
  other mistake is ever named; it gets its structural signature (when the
  catalogue says which) or a helper note or today's message.
"""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from autograder.grading import cases as registry
from autograder.grading.diagnosis import diagnose, mistakes, raised, shapes, signatures
from autograder.grading.judge.execute import DIAGNOSIS_KEY, judge_notebook, verdict_outputs

from tests import submissions as S
from tests.submissions import E, Mistake, REAL_MISTAKES, VARIANTS
from tests.submissions import MISTAKES as IMAGINED
from tests.submissions import course as C

ROOT = Path(__file__).resolve().parents[1]
MISTAKES = IMAGINED + REAL_MISTAKES  # the imagined catalogue and the classes seen in real students' code
BOOK = "\n".join(page.read_text() for page in (ROOT / "chapters").glob("*.md"))
PNG = b"\x89PNG\r\n\x1a\n"


def judge(nb, assignment, leave_out=()):
    """{grade_id: (passed, text, picture, finding)} of a notebook graded in-process."""
    recs = S.records(assignment, S.functions(nb, assignment))
    return {gid: v for (gid, _), v in zip(recs, judge_notebook(recs, leave_out=leave_out))}


def mistake_notebook(m):
    return S.with_mistakes(C.source_notebook(m.assignment), [m])


def variant_notebook(v):
    nb = C.source_notebook(v.assignment)
    for function, body in v.bodies.items():
        S.replace_body(nb, function, body)
    return nb


def failing(verdicts):
    """{function: [finding or None, ...]} over the failing cells."""
    out = {}
    for gid, (passed, _, _, finding) in verdicts.items():
        if not passed:
            out.setdefault(gid.split("__")[0], []).append(finding)
    return out


# ----------------------------------------------------------------------------- the registry itself

@pytest.mark.parametrize("known", mistakes.REGISTRY, ids=lambda k: f"{k.function}-{k.key}")
def test_every_registered_mistake_builds_and_fails_some_case_of_its_function(known):
    """A variant that equals the reference everywhere could never be diagnosed (nor be a mistake)."""
    fails = [c.grade_id for c in registry.CASES.values()
             if c.function == known.function and diagnose.variant_outcome(known, c.grade_id)[1]]
    assert fails, f"{known.key} never differs from the reference on {known.function}'s cases"


def test_registry_text_is_short_and_cites_real_labels():
    for k in mistakes.REGISTRY:
        assert k.label and len(k.label) <= 60, k
        assert k.what and k.fix and not k.what.endswith(".") and not k.fix.endswith("."), k
        for label in k.equation:  # a label the book defines: "$$ (eq-...)" closing its equation
            assert re.search(rf"\$\$ *\({re.escape(label)}\)", BOOK), (k, label)


# ----------------------------------------------------------------------------- the three measured properties

@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.name)
def test_each_catalogue_mistake_is_diagnosed_as_itself(mistake):
    verdicts = judge(mistake_notebook(mistake), mistake.assignment)
    broken = failing(verdicts)
    assert mistake.function in broken
    assert set(broken) <= mistake.allowed
    for fn, findings in broken.items():
        for finding in findings:
            if mistake.diagnosis:  # named in its own function; named or a cascade from it in its callers
                assert finding is not None and (
                    (finding.kind == "mistake" and finding.key == mistake.diagnosis) or
                    (fn != mistake.function and finding.kind == "cascade"
                     and finding.key == f"{mistake.function}:{mistake.diagnosis}")), (fn, finding)
            else:  # not in the registry: never a name
                assert finding is None or finding.kind != "mistake", (fn, finding)
    if mistake.diagnosis:
        known = next(k for k in mistakes.registry(mistake.function) if k.key == mistake.diagnosis)
        text = next(t for gid, (p, t, _, _) in verdicts.items() if not p and gid.startswith(mistake.function + "__"))
        assert f"likely mistake: {known.what}." in text and f"fix: {known.fix}" in text
        assert diagnose.cite(known.equation) in text
    elif mistake.signature:
        finding = broken[mistake.function][0]
        assert finding.kind == "signature" and mistake.signature in finding.signatures, finding


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_correct_variants_get_full_marks_and_no_diagnosis(variant):
    verdicts = judge(variant_notebook(variant), variant.assignment)
    assert all(passed for passed, _, _, _ in verdicts.values())
    assert all(finding is None and picture is None for _, _, picture, finding in verdicts.values())
    assert not any("likely mistake" in text or "where it is wrong" in text for _, text, _, _ in verdicts.values())


@pytest.mark.parametrize("mistake", [m for m in MISTAKES if m.diagnosis], ids=lambda m: m.name)
def test_zero_wrong_diagnoses_when_the_registry_lacks_the_mistake(mistake):
    """Leave the mistake's own key out: no other mistake may be named, on any function it breaks."""
    verdicts = judge(mistake_notebook(mistake), mistake.assignment, leave_out={mistake.diagnosis})
    broken = failing(verdicts)
    for fn, findings in broken.items():
        for finding in findings:
            assert finding is None or finding.kind != "mistake", (fn, finding.key)
    if mistake.signature:
        finding = broken[mistake.function][0]
        assert finding is not None and finding.kind == "signature" and mistake.signature in finding.signatures, \
            finding


def test_zero_wrong_diagnoses_with_an_empty_registry():
    """With no registry at all, the whole catalogue gets signatures, helper notes or today's message."""
    everything = {k.key for k in mistakes.REGISTRY}
    seen = {}
    for m in MISTAKES:
        for fn, findings in failing(judge(mistake_notebook(m), m.assignment, leave_out=everything)).items():
            assert all(f is None or f.kind in ("signature", "cascade", "shape", "values", "structure", "")
                       for f in findings), (m.name, fn)
            seen[m.name, fn] = findings[0].kind if findings[0] else None
    # those the catalogue gives a signature still get it
    for m in MISTAKES:
        if m.signature:
            assert seen[m.name, m.function] == "signature", m.name


def _float32(value):
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if isinstance(value, (tuple, list)):
        return type(value)(_float32(v) for v in value)
    return value


@pytest.mark.parametrize("name", ["conv_backward_assign_not_accumulate", "conv_forward_stride_ignored",
                                  "pool_backward_mask_whole_feature_map", "tanh_without_square"])
def test_a_float32_student_is_diagnosed_within_float32_tolerance(name):
    """The same mistake computed in float32 (as the float32 variants do) is still named."""
    from autograder.grading import exchange
    m = next(m for m in MISTAKES if m.name == name)
    recs = S.records(m.assignment, S.functions(mistake_notebook(m), m.assignment))
    recs = [(gid, exchange.Record(result=_float32(r.result), raised=r.raised)) for gid, r in recs]
    findings = [f for (gid, _), (p, _, _, f) in zip(recs, judge_notebook(recs)) if not p and gid.startswith(m.function)]
    assert findings and all(f is not None and f.key == m.diagnosis for f in findings)


@pytest.mark.parametrize("pair", [("conv_backward_crop_p_minus_p", "conv_backward_dW_unpadded"),
                                  ("conv_backward_db_wrong_shape", "conv_backward_stride_ignored"),
                                  ("pool_backward_assign_not_accumulate", "pool_backward_average_by_stride"),
                                  ("conv_forward_bias_in_sum", "conv_forward_stride_ignored")])
def test_two_mistakes_in_one_function_are_named_together_or_not_at_all(pair):
    """Each known mistake explains only some failing cases: only the two made together explain them all, so
    the verdict names both (real students often make two, e.g. the stride ignored and the p:-p crop); with
    either left out of the registry, nothing is named (the other alone would mislead)."""
    ms = [next(m for m in MISTAKES if m.name == name) for name in pair]
    nb = S.with_mistakes(C.source_notebook(ms[0].assignment), ms)
    verdicts = judge(nb, ms[0].assignment)
    findings = failing(verdicts)[ms[0].function]
    keys = {m.diagnosis for m in ms}
    assert findings and all(f is not None and f.kind == "mistake" and set(f.key.split("+")) == keys for f in findings)
    text = next(t for gid, (p, t, _, _) in verdicts.items() if not p and gid.startswith(ms[0].function + "__"))
    assert "likely mistakes (two):" in text
    for m in ms:
        known = next(k for k in mistakes.registry(m.function) if k.key == m.diagnosis)
        assert known.what in text and known.fix in text
    for left in keys:
        findings = failing(judge(S.with_mistakes(C.source_notebook(ms[0].assignment), ms), ms[0].assignment,
                                 leave_out={left}))[ms[0].function]
        assert all(f is None or f.kind != "mistake" for f in findings), [f.key for f in findings if f]


def test_a_helper_mistake_the_caller_could_also_make_is_told_as_a_cascade():
    """bias_in_sum is registered for conv_forward too (written inline), and a conv_forward that calls a
    conv_single_step with that slip gives the same numbers: the verdict must send the student to the helper
    (a cascade), never claim the caller's own lines add the bias; written inline, it is named in conv_forward."""
    helper = next(m for m in MISTAKES if m.name == "conv_single_step_bias_in_sum")
    findings = failing(judge(mistake_notebook(helper), "convolution"))["conv_forward"]
    assert findings and all(f.kind == "cascade" and f.key == "conv_single_step:bias_in_sum" for f in findings)
    inline = next(m for m in MISTAKES if m.name == "conv_forward_bias_in_sum")
    broken = failing(judge(mistake_notebook(inline), "convolution"))
    assert set(broken) == {"conv_forward"}
    assert all(f.kind == "mistake" and f.key == "bias_in_sum" for f in broken["conv_forward"])


def _named_in(names, assignment, function, leave_out=()):
    ms = [next(m for m in MISTAKES if m.name == name) for name in names]
    nb = S.with_mistakes(C.source_notebook(assignment), ms)
    verdicts = judge(nb, assignment, leave_out=leave_out)
    text = next((t for gid, (p, t, _, _) in verdicts.items() if not p and gid.startswith(function + "__")), "")
    return failing(verdicts).get(function, []), text


@pytest.mark.parametrize("mistake", [m for m in MISTAKES if m.function in mistakes.CALLS["conv_forward"]
                                     + mistakes.CALLS["pool_backward"] and m.breaks], ids=lambda m: m.name)
def test_a_helpers_mistake_is_never_named_in_its_callers(mistake):
    """A caller's outcome cannot tell whose lines hold a helper's slip (a channels-first zero_pad breaks
    conv_forward as one padding every axis does): the callers get the cascade or nothing, never a name."""
    for fn, findings in failing(judge(mistake_notebook(mistake), mistake.assignment)).items():
        if fn != mistake.function:
            assert all(f is None or f.kind != "mistake" for f in findings), (fn, [f.key for f in findings if f])


def test_a_slip_the_caller_could_make_in_its_own_lines_is_told_in_both_places():
    """conv_forward's numbers are those of conv_single_step adding the bias inside the sum, and conv_forward may
    compute the window itself (the same slip inline): the cascade says both places, never only "which it calls"."""
    for names in (["conv_single_step_bias_in_sum"], ["conv_single_step_bias_in_sum", "conv_forward_bias_in_sum"]):
        findings, text = _named_in(names, "convolution", "conv_forward")
        assert findings and all(f.kind == "cascade" and f.key == "conv_single_step:bias_in_sum" for f in findings)
        assert "conv_forward gives exactly what this mistake of conv_single_step gives" in text
        assert "which it calls, is wrong" not in text


def test_a_pair_named_in_a_helper_cascades_into_its_caller():
    findings, text = _named_in(["distribute_value_average_by_sum", "distribute_value_shape_rows_columns_swapped"],
                               "pooling", "pool_backward")
    assert findings and all(f.kind == "cascade" and f.key == "distribute_value:average_by_sum+"
                            "shape_rows_columns_swapped" for f in findings)
    assert "pool_backward fails because distribute_value, which it calls, is wrong" in text


def test_a_callers_own_mistake_is_named_beside_the_helper_it_calls_being_wrong():
    """conv_single_step adds the bias inside the sum and conv_forward ignores the stride: neither the cascade
    nor the stride alone explains conv_forward; both together do, and the verdict says both. With the stride's
    key left out, nothing is named in conv_forward."""
    names = ["conv_single_step_bias_in_sum", "conv_forward_stride_ignored"]
    findings, text = _named_in(names, "convolution", "conv_forward")
    assert findings and all(f.kind == "mistake" and f.key == "stride_ignored" for f in findings)
    assert "and conv_single_step, which it calls, is wrong too" in text
    findings, _ = _named_in(names, "convolution", "conv_forward", leave_out={"stride_ignored"})
    assert all(f is None or f.kind != "mistake" for f in findings)


def test_the_output_stored_at_w_h_is_named_beside_a_wrong_helper():
    """Seen in real code (issue 17, fourth pass): conv_single_step adds the bias inside the sum and conv_forward
    stores each result at Z[i, w, h, c]. The swap is named with the note on the helper; without its key, nothing."""
    names = ["conv_single_step_bias_in_sum", "conv_forward_output_h_w_swapped"]
    findings, text = _named_in(names, "convolution", "conv_forward")
    assert findings and all(f.kind == "mistake" and f.key == "output_h_w_swapped" for f in findings)
    assert "and conv_single_step, which it calls, is wrong too" in text
    findings, _ = _named_in(names, "convolution", "conv_forward", leave_out={"output_h_w_swapped"})
    assert all(f is None or f.kind != "mistake" for f in findings)


def test_the_width_from_the_height_fails_only_non_square_cases():
    """n_W computed from n_H_prev is right on square inputs: only the non-square cases fail, and they name it."""
    for name in ("conv_forward_width_from_height", "pool_forward_width_from_height"):
        m = next(m for m in MISTAKES if m.name == name)
        verdicts = judge(mistake_notebook(m), m.assignment)
        failed = [gid for gid, (p, _, _, _) in verdicts.items() if not p]
        assert failed and all(registry.CASES[gid].inputs()[0][0].shape[1] != registry.CASES[gid].inputs()[0][0]
                              .shape[2] for gid in failed), failed
        assert all(f.key == "width_from_height" for f in failing(verdicts)[m.function])


def test_the_bias_array_added_inline_is_named_only_when_no_helper_returns_wrong():
    """conv_forward adding the (1, 1, 1) bias array in its own lines raises what a conv_single_step returning
    that array raises. Named when conv_single_step is right or raises (float(b)); a cascade when conv_single_step
    returns the array (then either could be the cause of the error)."""
    alone, _ = _named_in(["conv_forward_bias_array_into_Z"], "convolution", "conv_forward")
    assert alone and all(f.kind == "mistake" and f.key == "bias_array_into_Z" for f in alone)
    raising, _ = _named_in(["conv_single_step_float_of_b", "conv_forward_bias_array_into_Z"], "convolution",
                           "conv_forward")
    assert raising and all(f.kind == "mistake" and f.key == "bias_array_into_Z" for f in raising)
    returning, _ = _named_in(["conv_single_step_returns_array", "conv_forward_bias_array_into_Z"], "convolution",
                             "conv_forward")
    assert returning and all(f is None or f.kind != "mistake" for f in returning)


# ----------------------------------------------------------------------------- a result of the wrong shape

# catalogue entry (leave_out) -> (key, the conclusion's words or None for the facts alone, a fact line of its
# first failing cell): the shape form (diagnosis/shapes.py) on outputs of the wrong shape
SHAPES = {
    ("pool_forward_width_from_channels", ()): (
        "shape:A:channels", "your n_W equals the equation with n_C_prev (the channels) in place of n_W_prev",
        "axis 2 (n_W): n_W = floor((n_W_prev - f) / stride) + 1 = floor((4 - 2) / 2) + 1 = 2; yours is 1."),
    ("pool_forward_stride_fixed_2", ()): (
        "shape:A:stride_2", "your n_H and n_W equal the equation with stride 2, whatever stride the case gives",
        "axis 1 (n_H): n_H = floor((n_H_prev - f) / stride) + 1 = floor((5 - 3) / 1) + 1 = 3; yours is 2."),
    ("conv_forward_size_without_pad", ()): (
        "shape:Z:no_pad", "your n_H and n_W equal the equation without the padding (pad = 0)",
        "axis 1 (n_H): n_H = floor((n_H_prev + 2 pad - f) / stride) + 1 = floor((5 + 2*1 - 3) / 1) + 1 = 5; "
        "yours is 3."),
    ("conv_forward_f_for_stride", ()): ("shape:Z:f_for_stride", "equal the equation with f in place of the stride",
                                        "yours is 2."),
    ("conv_forward_size_without_one", ()): ("shape:Z:no_plus_one", "equal the equation without its + 1",
                                            "= floor((5 + 2*1 - 3) / 1) + 1 = 5; yours is 4."),
    ("conv_forward_size_plus_two", ()): ("shape:Z:plus_two", "equal the equation with + 2 in place of + 1",
                                         "yours is 6."),
    ("conv_forward_channels_of_the_input", ()): (
        "shape:Z:n_C_prev", "your n_C equals n_C_prev, the input's channels",
        "axis 3 (n_C): n_C = W.shape[3] (the number of filters) = 4; yours is 3."),
    ("conv_backward_returns_padded", ()): (
        "shape:dA_prev:padded", "your n_H_prev and n_W_prev equal the padded input's size (A_prev's + 2 pad",
        "axis 1 (n_H_prev): n_H_prev = A_prev.shape[1] = 5; yours is 7."),
    ("pool_forward_width_from_channels_int", ()): (
        "shape:A:channels_int", "your n_W equals the equation with n_C_prev (the channels) in place of n_W_prev, "
        "with int() truncating toward zero", "axis 2 (n_W): n_W = floor((n_W_prev - f) / stride) + 1"),
    ("conv_forward_width_from_height", ("width_from_height",)): (
        "shape:Z:other_axis", "your n_W equals the equation with n_H_prev's numbers in place of n_W_prev's",
        "axis 2 (n_W): n_W = floor((n_W_prev + 2 pad - f) / stride) + 1 = floor((6 + 2*0 - 3) / 1) + 1 = 4; "
        "yours is 3."),
}


@pytest.mark.parametrize("name, leave_out", list(SHAPES), ids=[k[0] for k in SHAPES])
def test_a_result_of_the_wrong_shape_is_explained_axis_by_axis(name, leave_out):
    """Each failing cell of the wrong shape gets the wrong axes, the book's size with the case's numbers and the
    size returned; the one hypothesis that gives every case's size (passing cases included) is said, and it is
    the slip the entry made. The first line (the judge's own) is unchanged, and at most three lines are added."""
    key, conclusion, fact = SHAPES[name, leave_out]
    m = next(m for m in MISTAKES if m.name == name)
    verdicts = judge(mistake_notebook(m), m.assignment, leave_out=set(leave_out))
    texts = [t for gid, (p, t, _, _) in verdicts.items() if not p and gid.startswith(m.function + "__")]
    findings = failing(verdicts)[m.function]
    assert findings and all(f.kind == "shape" and f.key == key for f in findings), [f and f.key for f in findings]
    assert all(conclusion in t for t in texts) and fact in texts[0], texts[0]
    for t in texts:
        lines = t.splitlines()
        assert re.match(r"✗ \S+ \(.*\): \w+ has shape \(.*\), expected \(.*\)$", lines[0])
        assert len([x for x in lines if x.startswith("  axis ") or x.startswith("  in all ")]) <= 3
        assert "likely mistake" not in t and "where it is wrong" not in t


def _shape_rows(name, drop=()):
    """[Judged] of a catalogue entry's function, its cases in `drop` left out (as if they had not run)."""
    m = next(m for m in MISTAKES if m.name == name)
    recs = S.records(m.assignment, S.functions(mistake_notebook(m), m.assignment))
    return m.function, [diagnose.Judged(gid, r) for gid, r in recs
                        if gid.startswith(m.function + "__") and gid.split("__")[1] not in drop]


def test_a_wrong_shape_gives_the_facts_alone_when_the_cases_leave_two_readings():
    """Two hypotheses that give the same size on every case are two readings the cases cannot tell apart:
    neither is said. Stride 2 written for the stride, seen only on cases where f = 2, is also f used as the
    stride; the stride-1 and f = 3 cases are what settle it (test above)."""
    q = {"m": 2, "n_H_prev": 5, "n_W_prev": 5, "n_C_prev": 3, "f": 3, "n_C": 4, "stride": 2, "pad": 1}
    both = [h for h in shapes._hypotheses("n_H", True) if h[2](q) == 5]
    assert len(both) >= 2 and shapes._settled(both, [(q, 5)]) is None
    assert shapes._settled(both[:1], [(q, 5)]) == both[0]
    kept = ("max_f2_s2", "max_f2_s3_gaps", "average_f2_s2")  # f = 2 in each: stride 2 and f for the stride agree
    function, judged = _shape_rows("pool_forward_stride_fixed_2",
                                   drop=[c.grade_id.split("__")[1] for c in registry.CASES.values()
                                         if c.function == "pool_forward" and c.grade_id.split("__")[1] not in kept])
    key, _, lines = shapes.explained(function, judged)
    assert key == "shape:A" and lines and all(v and not any("in all" in x for x in v) for v in lines.values())
    assert all(x.startswith("axis ") for v in lines.values() for x in v)


def test_int_readings_are_consulted_only_where_no_floor_reading_fits():
    """int() truncates toward zero: (1 - 2) / 2 gives size 1 where floor gives 0. Where a floor reading fits
    every case its int() twin is never said (the floor entry above keeps "channels"); where none fits, the one
    int() reading that fits every case is."""
    q = {"m": 1, "n_H_prev": 4, "n_W_prev": 4, "n_C_prev": 1, "f": 2, "stride": 2, "pad": 0}
    floor_channels = next(h for h in shapes._hypotheses("n_W", False) if h[0] == "channels")
    int_channels = next(h for h in shapes._truncated("n_W", False) if h[0] == "channels_int")
    assert floor_channels[2](q) == 0 and int_channels[2](q) == 1
    q2 = dict(q, n_C_prev=6)  # a positive quotient: floor and int() agree
    assert floor_channels[2](q2) == int_channels[2](q2) == 3
    seen = [(q, 1), (q2, 3)]
    assert "channels" not in [h[0] for h in shapes._fitting(shapes._hypotheses("n_W", False), seen)]
    assert "channels_int" in [h[0] for h in shapes._fitting(shapes._truncated("n_W", False), seen)]
    function, judged = _shape_rows("pool_forward_width_from_channels")
    assert shapes.explained(function, judged)[0] == "shape:A:channels"


def test_a_wrong_shape_fitted_only_by_some_cases_gives_the_facts_alone():
    """n_H = n_H_prev // stride matches no hypothesis on every case: the facts, and no conclusion."""
    m = Mistake("conv_forward_size_by_division", "convolution", "conv_forward",
                (E("n_H = output_size(n_H_prev, f, stride, pad)", "n_H = max(1, n_H_prev // (stride + 1))"),
                 E("n_W = output_size(n_W_prev, f, stride, pad)", "n_W = max(1, n_W_prev // (stride + 1))")), known="")
    verdicts = judge(mistake_notebook(m), m.assignment)
    findings = failing(verdicts)["conv_forward"]
    assert findings and all(f.kind == "shape" and f.key == "shape:Z" for f in findings)
    texts = [t for gid, (p, t, _, _) in verdicts.items() if not p]
    assert all("  axis 1 (n_H): n_H = floor(" in t and "in all " not in t for t in texts)


@pytest.mark.parametrize("mistake", [m for m in MISTAKES if m.function in ("conv_forward", "pool_forward", "zero_pad",
                                                                            "conv_backward", "pool_backward")],
                         ids=lambda m: m.name)
def test_the_shape_form_speaks_only_of_results_of_the_wrong_shape(mistake):
    """A mistake whose results all have the right shape (or raise) gets no shape line; one that gets a line
    returned the wrong shape there (so no catalogue mistake's own name or signature is displaced by it)."""
    verdicts = judge(mistake_notebook(mistake), mistake.assignment)
    for gid, (passed, text, _, finding) in verdicts.items():
        if passed:
            continue
        shaped = "has shape (" in text.splitlines()[0] and "expected (" in text.splitlines()[0]
        assert shaped or not any(x.startswith("  axis ") for x in text.splitlines()), (gid, text)
        if finding is not None and finding.kind == "shape":
            assert (mistake.name, ()) in SHAPES or not mistake.diagnosis, (gid, finding.key)


# ----------------------------------------------------------------------------- causes the recorded frames settle

def framed(tmp_path, monkeypatch, nb, assignment, function):
    """[diagnose.Judged] of `function`'s cases as a kernel records them, frames included: the notebook's code
    cells (not its test cells) are written to a real file, so the shipped grader_record reads the lines."""
    from tests.test_explain import recorded, student
    code = "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code" and not (
        c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"].get("nbgrader", {}).get("solution")))
    monkeypatch.syspath_prepend(str(C.ROOT / "autograder" / "source" / assignment))
    module = student(tmp_path, code, name=f"framed_{function}")
    return [diagnose.Judged(c.grade_id, recorded(tmp_path, monkeypatch, c.grade_id, getattr(module, c.function)))
            for c in registry.for_assignment(assignment) if c.function == function]


def _framed_finding(tmp_path, monkeypatch, assignment, function, edits, others=()):
    nb = S.apply_edits(C.source_notebook(assignment), function, edits)
    for other, more in others:
        S.apply_edits(nb, other, more)
    judged = framed(tmp_path, monkeypatch, nb, assignment, function)
    assert any(not j.passed for j in judged), "the edit should break the function"
    findings = diagnose.notebook(judged, pictures=False)
    return [findings.get(j.grade_id) for j in judged if not j.passed]


# (name, assignment, function, edits, key, words the verdict must say): our own slips of the kinds real students
# make, each raising in the function's own lines
RAISED = [
    ("np_float", "convolution", "conv_single_step", [("Z = np.sum(s)", "Z = np.sum(s, dtype=np.float)")],
     "numpy_alias_removed", "removed it in 1.24"),
    ("parameter_renamed_w", "convolution", "conv_forward",
     [("def conv_forward(A_prev, W, b, hparameters):", "def conv_forward(A_prev, w, b, hparameters):")],
     "name_misspelt", "the name conv_forward defines is w (Python names are case-sensitive)"),
    ("hyperparameter_key", "pooling", "pool_forward", [('f = hparameters["f"]', 'f = hparameters["filter_size"]')],
     "key_not_in_dict", "hparameters['f']"),
    ("zeros_sizes", "pooling", "pool_forward", [("A = np.zeros((m, n_H, n_W, n_C))", "A = np.zeros(m, n_H, n_W, n_C)")],
     "zeros_sizes_not_a_tuple", "np.zeros((m, n_H, n_W, n_C))"),
    ("one_image_shape", "convolution", "conv_forward",
     [("(m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape", "(n_H_prev, n_W_prev, n_C_prev) = A_prev.shape")],
     "shape_unpacked_short", "whose first axis counts the examples m"),
    ("cache_of_three", "convolution", "conv_backward", [("(A_prev, W, b, hparameters) = cache", "(A_prev, W, b) = cache")],
     "cache_unpacked_short", "(A_prev, W, b, hparameters) = cache"),
    ("parameter_reused", "convolution", "conv_forward",
     [("(m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape", "(m, n_H_prev, W, n_C_prev) = A_prev.shape")],
     "parameter_reused", "W is a parameter of conv_forward"),
    ("replaced_by_its_slice", "convolution", "conv_backward",
     [("da_prev_pad = dA_prev_pad[i]", "dA_prev_pad = dA_prev_pad[i]"),
      ("da_prev_pad[vert_start:vert_end", "dA_prev_pad[vert_start:vert_end"),
      ("= da_prev_pad[pad:pad + n_H_prev", "= dA_prev_pad[pad:pad + n_H_prev")],
     "array_replaced_by_its_slice", "puts a slice of dA_prev_pad back into the name dA_prev_pad"),
    ("comma_for_colon", "pooling", "pool_backward",
     [("dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask",
       "dA_prev[i, vert_start:vert_end, horiz_start, horiz_end, c] += mask")],
     "comma_for_colon", "the window's slice horiz_start:horiz_end"),
    ("hparameters_not_from_cache", "pooling", "pool_backward", [("(A_prev, hparameters) = cache", "A_prev = cache[0]")],
     "hparameters_not_from_cache", "(A_prev, hparameters) = cache"),
    ("window_end_from_itself", "pooling", "pool_forward", [("horiz_end = horiz_start + f", "horiz_end = horiz_end + f")],
     "read_before_assigned", "(a window's end is its start plus f: horiz_start + f)"),
    ("hparameters_under_another_name", "pooling", "pool_backward",
     [("(A_prev, hparameters) = cache", "(A_prev, hparams) = cache")], "name_misspelt", "use one name for them: hparams"),
]


@pytest.mark.parametrize("name, assignment, function, edits, key, words", RAISED, ids=[r[0] for r in RAISED])
def test_an_exception_whose_frames_settle_the_cause_is_named(tmp_path, monkeypatch, name, assignment, function,
                                                             edits, key, words):
    findings = _framed_finding(tmp_path, monkeypatch, assignment, function, edits)
    assert findings and all(f is not None and f.kind == "mistake" and f.key == key for f in findings), findings
    text = "\n".join(findings[0].lines)
    assert words in text and "likely mistake: " in text and "fix: " in text and "see chapter" in text, text


# slips whose exceptions leave the cause open, or put it elsewhere: no rule may name them
UNSETTLED = [
    ("a name nothing resembles", "pooling", "pool_forward", [('f = hparameters["f"]', 'f = hyper["f"]')], ()),
    ("a NumPy name far from any", "convolution", "conv_single_step", [("Z = np.sum(s)", "Z = np.num(s)")], ()),
    ("a parameter given a helper's wrong result", "convolution", "conv_forward",
     [("A_prev_pad = zero_pad(A_prev, pad)", "A_prev = zero_pad(A_prev, pad)"),
      ("a_prev_pad = A_prev_pad[i]", "a_prev_pad = A_prev[i]")], [("zero_pad", [("return X_pad", "return")])]),
    ("the window past the edge", "convolution", "conv_forward", [("vert_end = vert_start + f", "vert_end = vert_start + f + 1")],
     ()),
]


@pytest.mark.parametrize("name, assignment, function, edits, others", UNSETTLED, ids=[u[0] for u in UNSETTLED])
def test_no_cause_is_named_where_the_frames_leave_it_open(tmp_path, monkeypatch, name, assignment, function, edits,
                                                          others):
    for f in _framed_finding(tmp_path, monkeypatch, assignment, function, edits, others):
        assert f is None or f.kind != "mistake" or f.key not in {r[4] for r in RAISED}, f


@pytest.mark.parametrize("mistake", [m for m in MISTAKES if m.function != "softmax_backward"], ids=lambda m: m.name)
def test_the_frame_rules_never_name_another_catalogue_mistake(tmp_path, monkeypatch, mistake):
    """Every catalogue mistake, recorded with its frames: a cause the frames settle is never named for it."""
    judged = framed(tmp_path, monkeypatch, mistake_notebook(mistake), mistake.assignment, mistake.function)
    fails = [j for j in judged if not j.passed]
    assert raised.named(mistake.function, fails) is None


def test_nothing_recognised_leaves_todays_message():
    """A wrong result with no known cause and no signature: the message is exactly today's."""
    from autograder.grading.judge.execute import verdict
    case = registry.CASES["conv_backward__stride1_pad1"]
    dA, dW, db = case.reference()
    noise = np.random.default_rng(0).standard_normal(dA.shape)
    rec = S.exchange_record((dA + noise, dW, db))
    (passed, text, picture, finding), = judge_notebook([(case.grade_id, rec)])
    assert not passed and text == verdict(case.grade_id, rec)[1]
    assert "likely mistake" not in text and "where it is wrong" not in text
    assert picture is not None and finding.kind == ""  # the picture is still drawn


def test_diagnosis_runs_only_for_failing_functions(monkeypatch):
    calls = []
    real = diagnose.variant_outcome.__wrapped__

    def spy(known, grade_id):
        calls.append(known.function)
        return real(known, grade_id)

    monkeypatch.setattr(diagnose, "variant_outcome", spy)
    verdicts = judge(C.source_notebook("convolution"), "convolution")
    assert all(p for p, _, _, _ in verdicts.values()) and calls == []
    m = next(m for m in MISTAKES if m.name == "conv_backward_assign_not_accumulate")
    judge(mistake_notebook(m), m.assignment)
    assert calls and set(calls) == {"conv_backward"}


def test_odd_results_never_break_the_judge(caplog):
    """Whatever a kernel recorded, the notebook is judged and diagnosed without raising (nor logging an error:
    the diagnosis's own safety net is not what catches them)."""
    from autograder.grading import exchange
    odd = [None, "text", 3, 2.5, True, [], (), {"a": 1}, [1, 2, 3], (np.zeros(3),), np.array(["x"]),
           np.full((2, 2), np.nan), np.zeros((0, 3)), np.zeros((2, 3, 4, 5), dtype=np.int64),
           exchange.Unencodable("object", "<object>"), ((np.ones((1, 1, 1, 1)),) * 3, {"stride": 1}),
           np.inf * np.ones((2, 5, 5, 3))]
    for gid, case in registry.CASES.items():
        ref = case.reference()
        zeroed = tuple(x * 0 if isinstance(x, np.ndarray) else x for x in ref) if isinstance(ref, tuple) else ref * 0
        pairs = [(gid, S.exchange_record(v)) for v in odd + [ref, zeroed]]
        pairs.append((gid, exchange.Record(raised={"type": "ValueError", "message": "x" * 5000, "traceback": ""})))
        for passed, text, picture, finding in judge_notebook(pairs):
            assert isinstance(text, str) and (picture is None or picture.startswith(PNG))
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


def test_nothing_of_the_diagnosis_is_shipped():
    """The diagnosis modules appear nowhere in what students get: the helper modules, and the notebooks
    without their solution regions and hidden tests (what the release keeps). The registry's words may: the
    visible checks say the grader's (issue 17 item 3), and a fix that quotes a line of the reference is kept
    out of the helpers by test_visible_checks.test_the_helpers_hold_no_line_of_the_solutions."""
    shipped = [p.read_text() for p in (ROOT / "autograder" / "source").glob("*/*_tests.py")]
    for nb_path in (ROOT / "autograder" / "source").glob("*/*.ipynb"):
        for cell in json.loads(nb_path.read_text())["cells"]:
            text = "".join(cell["source"])
            text = re.sub(r"### BEGIN SOLUTION.*?### END SOLUTION", "", text, flags=re.S)
            shipped.append(re.sub(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", "", text, flags=re.S))
    text = "\n".join(shipped)
    assert len(shipped) > 20 and "def grader_record" in text
    assert "grading.diagnose" not in text and "grading.mistakes" not in text and "btc_diagnosis" not in text
    assert "REGISTRY" not in text and "mistakes_seen" not in text


# ----------------------------------------------------------------------------- signatures on hand-made errors

@pytest.fixture
def dA_case():
    case = registry.CASES["conv_backward__stride2_overlap"]  # f = 3, stride 2, pad 1; dA_prev (2, 7, 7, 3)
    return case, case.reference()[0]


def sigs(case, got, ref):
    return signatures.array_signatures(case.function, case, got, ref, "dA_prev")


def test_signature_sign_factor_and_zeros(dA_case):
    case, ref = dA_case
    assert set(sigs(case, -ref, ref)) == {"sign"}
    found = sigs(case, 9 * ref, ref)
    assert set(found) == {"factor"} and "f*f = 9" in found["factor"][1]
    assert "0.5 times" in sigs(case, 0.5 * ref, ref)["factor"][1]
    assert "zeros" in sigs(case, np.zeros_like(ref), ref)


def test_signature_border_channels_samples_axes(dA_case):
    case, ref = dA_case
    got = ref.copy()
    got[:, 0, :, :] += 1.0
    got[:, :, -1, :] -= 1.0
    assert "border" in sigs(case, got, ref)
    got = ref.copy()
    got[:, 3, 3, :] += 1.0  # the centre: not the border
    assert "border" not in sigs(case, got, ref)
    got = ref.copy()
    got[..., 1] *= 3
    found = sigs(case, got, ref)
    assert "channels" in found and "c = 1 (of c = 0..2)" in found["channels"][1] and "samples" not in found
    got = ref.copy()
    got[1] += 0.5
    assert "samples" in sigs(case, got, ref) and "channels" not in sigs(case, got, ref)
    found = sigs(case, ref.transpose(0, 2, 1, 3).copy(), ref)
    assert set(found) == {"axes"} and "rows and columns are swapped" in found["axes"][1]


def test_signature_overlap(dA_case):
    case, ref = dA_case
    # stride 2, f = 3, pad 1: padded rows 2, 4 (input rows 1, 3, 5) lie in two windows
    got = ref.copy()
    got[:, 3, :, :] *= 0.5
    assert "overlap" in sigs(case, got, ref)
    got = ref.copy()
    got[:, 2, 2, :] += 1.0  # input row 2 lies in one window only
    assert "overlap" not in sigs(case, got, ref)


def test_float32_tolerance_is_the_judges():
    case = registry.CASES["conv_backward__stride2_overlap"]
    ref = case.reference()[0]
    assert diagnose.agree(ref.astype(np.float32), ref)
    assert not diagnose.agree(ref.astype(np.float32) * (1 + 1e-3), ref)
    assert not diagnose.agree(ref * (1 + 1e-6), ref)  # float64: rtol 1e-7
    assert diagnose.agree((ref, {"stride": 2}), (ref, {"stride": 2}))
    assert not diagnose.agree((ref, {"pad": 1, "stride": 2}), (ref, {"stride": 2, "pad": 1}))


# ----------------------------------------------------------------------------- the picture

def test_picture_is_a_small_deterministic_png_in_the_failing_cell():
    from nbformat.v4 import new_code_cell
    from nbgrader.utils import determine_grade
    m = next(m for m in MISTAKES if m.name == "conv_backward_assign_not_accumulate")
    verdicts = judge(mistake_notebook(m), m.assignment)
    drawn = {gid: pic for gid, (p, _, pic, _) in verdicts.items() if pic}
    wrong = [gid for gid, (p, _, _, _) in verdicts.items() if not p]
    assert list(drawn) == wrong[:1] == ["conv_backward__stride1_pad1"]  # one picture per function, first case
    png = drawn["conv_backward__stride1_pad1"]
    assert png.startswith(PNG) and len(png) < 40_000
    again = judge(mistake_notebook(m), m.assignment)["conv_backward__stride1_pad1"][2]
    assert again == png
    passed, text = verdicts["conv_backward__stride1_pad1"][:2]
    cell = new_code_cell("x")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 2, "grade_id": "t__x"}
    cell.outputs = verdict_outputs(passed, text, png)
    assert [o.output_type for o in cell.outputs] == ["error", "display_data"]
    assert cell.outputs[1].data["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
    assert determine_grade(cell) == (0, 2)
    # not drawn for a scalar case, a shape mismatch or an exception
    m = next(m for m in MISTAKES if m.name == "conv_backward_db_wrong_shape")
    assert not any(pic for _, _, pic, _ in judge(mistake_notebook(m), m.assignment).values())


def test_picture_handles_vectors_masks_and_nan():
    for got, ref, what in ((np.arange(7.0), np.arange(7.0) + (np.arange(7) == 3), "dZ"),
                           (np.eye(3, dtype=bool), np.eye(3, dtype=bool)[::-1], "mask"),
                           (np.full((1, 4, 4, 2), np.nan), np.ones((1, 4, 4, 2)), "A")):
        png = diagnose.picture(got, ref, what)
        assert png.startswith(PNG) and len(png) < 40_000


# ----------------------------------------------------------------------------- end to end, real nbgrader

@pytest.mark.slow
def test_real_grading_names_the_mistake_draws_it_and_the_report_groups_students(tmp_path):
    """One real `make grade` run (serialise it: flock /tmp/grade.lock): two students with `=` for `+=`."""
    from autograder.grading.pages import report
    repo = C.copy_course(tmp_path)
    C.release(repo)
    m = next(m for m in MISTAKES if m.name == "conv_backward_assign_not_accumulate")
    for student in ("ann", "bob"):
        C.submit(repo, student, "convolution", S.with_mistakes(C.source_notebook("convolution"), [m]))
    C.submit(repo, "cat", "convolution", C.source_notebook("convolution"))
    C.run(repo, "autograder.grading.run.grade")
    assert C.lost(C.grades(repo)[("ann", "convolution")]) == {"conv_backward"}
    nb = json.loads((repo / "autograder" / "autograded" / "ann" / "convolution" / "convolution.ipynb").read_text())
    cells = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
             if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"].get("solution")}
    wrong = [gid for gid in cells if gid.startswith("conv_backward__")]
    for gid in wrong:  # every conv_backward case fails (= also overwrites across output channels)
        assert cells[gid]["metadata"][DIAGNOSIS_KEY]["key"] == "assign_not_accumulate"
        assert "likely mistake" in C._text(cells[gid]["outputs"][0]["evalue"])
    pictured = [gid for gid in wrong if any("image/png" in o.get("data", {}) for o in cells[gid]["outputs"])]
    assert pictured == wrong[:1]
    feedback = (repo / "autograder" / "feedback" / "ann" / "convolution" / "convolution.html").read_text()
    assert feedback.count("data:image/png;base64,") == 1 and "likely mistake" in feedback
    assert all(DIAGNOSIS_KEY not in c["metadata"] for gid, c in cells.items() if not gid.startswith("conv_backward"))
    page = report.write_report(repo / "autograder").read_text()
    assert re.search(r"data-function='conv_backward' data-kind='mistake' data-key='assign_not_accumulate' "
                     r"data-count='2'>", page)
    assert "2 students</td><td><code>=</code> instead of <code>+=</code>" in page


# ----------------------------------------------------------------------------- the class view groups by these names

def test_the_class_report_groups_students_by_named_mistake_and_by_cascade(tmp_path):
    """Two students with float(b) in conv_single_step and one with the bias added to every product: the report
    groups them by the helper's mistake, and their conv_forward by the cascade from it (judge -> cell metadata
    -> report.diagnoses_from_disk, no kernels)."""
    from autograder.grading.pages import report
    by_name = {m.name: m for m in MISTAKES}
    who = {"ann": "conv_single_step_float_of_b", "bob": "conv_single_step_float_of_b",
           "cat": "conv_single_step_bias_in_sum"}
    for student, name in who.items():
        nb = S.with_mistakes(C.source_notebook("convolution"), [by_name[name]])
        verdicts = judge(nb, "convolution")
        for cell in nb["cells"]:
            gid = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
            if gid in verdicts and not verdicts[gid][0]:
                _, text, _, finding = verdicts[gid]
                cell["outputs"] = [{"output_type": "error", "ename": "GradingFailure", "evalue": text, "traceback": []}]
                if finding is not None and finding.kind:
                    cell["metadata"][DIAGNOSIS_KEY] = finding.metadata(gid.split("__")[0])
        folder = tmp_path / "autograded" / student / "convolution"
        folder.mkdir(parents=True)
        (folder / "convolution.ipynb").write_text(json.dumps(nb))
    groups = {(fn, kind, key): sorted(students)
              for (fn, kind, key, _), students in report.diagnoses_from_disk(tmp_path)["convolution"].items()}
    assert groups == {
        ("conv_single_step", "mistake", "float_of_b"): ["ann", "bob"],
        ("conv_forward", "cascade", "conv_single_step:float_of_b"): ["ann", "bob"],
        ("conv_single_step", "mistake", "bias_in_sum"): ["cat"],
        ("conv_forward", "cascade", "conv_single_step:bias_in_sum"): ["cat"]}
