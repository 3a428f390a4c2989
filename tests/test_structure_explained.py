"""Results of the wrong kind explained by what they hold (autograder/grading/diagnosis/structure.py).

In-process, as tests/test_values_explained.py: each variant is our own one-change edit of the reference, run on
every graded case, its results passed through the exchange's encoding and judged by execute.judge_notebook with
no registry entry (so a class the registry names today still tests this form). Properties:
- it fires on results of the wrong kind (a list for an array, an integer array, one value for a tuple, a cache
  of the wrong length or with an item that is not its input) and says what the result holds;
- each fact is true of its case (the list's values, the padded input, the dict's values are checked here);
- it adds lines after the judge's own, changes no grade, and stays silent where another form applies.
"""
import pytest

from autograder.grading.diagnosis import mistakes, structure
from autograder.grading.judge.execute import MAX_VERDICT_CHARS

from tests import submissions as S
from tests.submissions import E, Mistake, REAL_MISTAKES
from tests.submissions import MISTAKES as IMAGINED
from tests.submissions import course as C
from tests.test_values_explained import judge

NO_REGISTRY = frozenset(k.key for k in mistakes.REGISTRY)


def _variant(name, assignment, function, old, new):
    return Mistake(name, assignment, function, (E(old, new),), known="")


A_LIST = _variant("distribute_value_as_list", "pooling", "distribute_value",
                  "a = np.ones(shape) * average", "a = (np.ones(shape) * average).tolist()")
A_LIST_TRANSPOSED = _variant("distribute_value_list_transposed", "pooling", "distribute_value",
                             "a = np.ones(shape) * average", "a = (np.ones(shape[::-1]) * average).tolist()")
CACHE_DICT_VALUES = _variant("pool_forward_cache_dict_values", "pooling", "pool_forward",
                             "cache = (A_prev, hparameters)",
                             "cache = (A_prev, hparameters['f'], hparameters['stride'])")
CACHE_WITH_MODE = _variant("pool_forward_cache_with_mode", "pooling", "pool_forward",
                           "cache = (A_prev, hparameters)", "cache = (A_prev, hparameters, mode)")
CACHE_PADDED = _variant("conv_forward_cache_padded", "convolution", "conv_forward",
                        "cache = (A_prev, W, b, hparameters)", "cache = (A_prev_pad, W, b, hparameters)")
CACHE_ORDER = _variant("conv_forward_cache_order", "convolution", "conv_forward",
                       "cache = (A_prev, W, b, hparameters)", "cache = (W, A_prev, b, hparameters)")
Z_INTEGERS = _variant("conv_forward_integer_Z", "convolution", "conv_forward",
                      "Z = np.zeros((m, n_H, n_W, n_C))", "Z = np.zeros((m, n_H, n_W, n_C), dtype=int)")
Z_ALONE = _variant("conv_forward_returns_Z_alone", "convolution", "conv_forward", "return Z, cache", "return Z")

# variant -> (key, {case suffix or "*": lines that every such failing verdict holds, each a prefix})
FIRES = {
    A_LIST: ("structure:list", {"*": [
        "your a is a Python list of ", "read as an array it has the book's shape ",
        ]}),
    A_LIST_TRANSPOSED: ("structure:list", {
        "nonsquare": ["your a is a Python list of 3 lists of 2 numbers, not a NumPy array",
                      "read as an array it has shape (3, 2); the book's a has shape (2, 3)"],
        "2x2": ["read as an array it has the book's shape (2, 2) and values"]}),
    CACHE_DICT_VALUES: ("structure:cache_dict_unpacked", {"*": [
        "your cache has 3 items where the book's has 2, (A_prev, hparameters), which the backward pass unpacks",
        "it holds A_prev as given and the values of hparameters ("]}),
    CACHE_WITH_MODE: ("structure:cache_length", {"*": [
        "your cache has 3 items where the book's has 2", "it holds A_prev, hparameters as given"]}),
    CACHE_PADDED: ("structure:cache_item", {"*": ["your cache's A_prev is the input zero-padded by pad = "]}),
    CACHE_ORDER: ("structure:cache_item", {"*": [
        "your cache's item for A_prev is W as given: the cache holds the inputs in another order"]}),
    Z_INTEGERS: ("structure:dtype", {"*": [
        "your Z holds integers (dtype int64); its entries are the book's with the fractional part cut off"]}),
    Z_ALONE: ("structure:returns", {"*": [
        "your conv_forward returns one array of shape ", "; it is the book's Z"]}),
}


def _graded(m, leave_out=NO_REGISTRY):
    return judge(S.with_mistakes(C.source_notebook(m.assignment), [m]), m.assignment, leave_out)


@pytest.mark.parametrize("variant", list(FIRES), ids=lambda m: m.name)
def test_a_result_of_the_wrong_kind_is_explained_by_what_it_holds(variant, monkeypatch):
    key, said = FIRES[variant]
    verdicts = _graded(variant)
    failing = [(gid, text, f) for gid, passed, text, f in verdicts
               if not passed and gid.startswith(variant.function + "__")]
    assert failing and all(f is not None and f.kind == "structure" and f.key == key for _, _, f in failing), \
        [(gid, f and (f.kind, f.key)) for gid, _, f in failing]
    monkeypatch.setattr(structure, "explained", lambda function, judged: None)
    without = _graded(variant)
    assert [(g, p) for g, p, _, _ in verdicts] == [(g, p) for g, p, _, _ in without]  # no grade changes
    plain = {gid: text for gid, _, text, _ in without}
    for gid, text, finding in failing:
        suffix = gid.split("__")[1]
        for prefix in said.get(suffix, said.get("*", [])):
            assert any(prefix in line for line in finding.lines), (gid, prefix, finding.lines)
        added = [line for line in text.splitlines() if line not in plain[gid].splitlines()]
        assert added == [f"  {line}" for line in finding.lines]
        assert text.splitlines()[-1].startswith("  re-read ") and len(text) < MAX_VERDICT_CHARS
        assert len(finding.label) <= 60 and "likely mistake" not in text


def test_the_values_a_list_holds_are_checked_not_assumed():
    """A list of the right shape and wrong values is not said to hold the book's values."""
    wrong = _variant("distribute_value_list_doubled", "pooling", "distribute_value",
                     "a = np.ones(shape) * average", "a = (np.ones(shape) * average * 2).tolist()")
    failing = [(t, f) for gid, passed, t, f in _graded(wrong) if not passed and gid.startswith("distribute_value")]
    assert failing and all(f.kind == "structure" for _, f in failing)
    assert all(any(line.endswith("but not its values") for line in f.lines) for _, f in failing)
    assert not any("and values" in line for _, f in failing for line in f.lines)


def test_a_list_is_described_alike_only_where_its_items_are_alike():
    """[x, None, {...}, [x]] is a list of 4 items of different kinds, not 'a list of 4 lists' (its first item)."""
    assert structure._nested([[1.0, 2.0], [3.0, 4.0]]) == "a Python list of 2 lists of 2 numbers"
    assert structure._nested(["x", None, {"k": 0}, ["x"]]) == "a Python list of 4 items of different kinds or lengths"
    assert structure._nested([[1.0, 2.0], [3.0]]) == "a Python list of 2 items of different kinds or lengths"


def test_a_cache_of_other_numbers_is_not_called_the_dicts_values():
    """(A_prev, f + 1, stride): numbers that are not hparameters' values: only the length and what is held."""
    m = _variant("pool_forward_cache_other_numbers", "pooling", "pool_forward", "cache = (A_prev, hparameters)",
                 "cache = (A_prev, hparameters['f'] + 1, hparameters['stride'])")
    failing = [f for gid, passed, _, f in _graded(m) if not passed and gid.startswith("pool_forward")]
    assert failing and all(f.key == "structure:cache_length" for f in failing)
    assert all("it holds A_prev as given; hparameters is missing" in f.lines for f in failing), failing[0].lines


@pytest.mark.parametrize("m", [m for m in IMAGINED + REAL_MISTAKES if m.known], ids=lambda m: m.name)
def test_the_catalogue_keeps_its_names(m):
    """Every catalogue mistake the registry names is still named: this form only comes after every other."""
    verdicts = judge(S.with_mistakes(C.source_notebook(m.assignment), [m]), m.assignment)
    own = [f for gid, passed, _, f in verdicts if not passed and gid.startswith(m.function + "__")]
    assert own and not any(f is not None and f.kind == "structure" for f in own), m.name


# variant -> a fact the grader's verdict says, which the visible checks must say in the same words
# (A_LIST is named in both places, as the registry's returns_list: the facts are for what no name covers)
VISIBLE = {
    A_LIST_TRANSPOSED: "read as an array it has shape (3, 2); the book's a has shape (2, 3)",
    CACHE_DICT_VALUES: "it holds A_prev as given and the values of hparameters (",
    CACHE_PADDED: "your cache's A_prev is the input zero-padded by pad = ",
    CACHE_ORDER: "your cache's item for A_prev is W as given",
    Z_INTEGERS: "its entries are the book's with the fractional part cut off",
    Z_ALONE: "your conv_forward returns one array of shape ",
}


@pytest.mark.parametrize("variant", list(VISIBLE), ids=lambda m: m.name)
def test_the_visible_checks_say_what_the_grader_says(variant):
    """The facts come from structure.py's SHIPPED part, copied into the helper modules: the visible checks a
    student runs tell the same fact, in the same words, as the grader's verdict on the hidden cases."""
    import contextlib
    import io
    from tests.submissions import apply_edits
    from tests.test_notebooks import notebook, run_cells

    fact = VISIBLE[variant]
    graded = [f for gid, passed, _, f in _graded(variant) if not passed and gid.startswith(variant.function)]
    assert any(fact in line for f in graded for line in f.lines), fact
    nb = apply_edits(notebook(variant.assignment), variant.function, variant.edits)
    with contextlib.redirect_stdout(io.StringIO()):
        results = run_cells(nb, variant.assignment, only=variant.function)
    texts = [str(e) for e in results.values() if e is not None]
    assert texts and any(fact in " ".join(t.split()) for t in texts), texts


def test_every_helper_ships_the_structure_facts_verbatim():
    from tools import make_notebooks as gen
    part = gen.shipped_part(gen.DIAGNOSIS / "structure.py")
    for assignment in ("activations", "convolution", "pooling"):
        text = (gen.ROOT / "autograder" / "source" / assignment / f"{assignment}_tests.py").read_text()
        assert part in text, assignment


# ----------------------------------------------------------------------------- a shape that is an input's shape

DB_LIKE_W = _variant("conv_backward_db_like_W", "convolution", "conv_backward",
                     "db = np.zeros(b.shape)", "db = np.zeros(W.shape)")
DB_ONE_TOO_MANY = _variant("conv_backward_db_one_too_many", "convolution", "conv_backward",
                           "db = np.zeros(b.shape)", "db = np.zeros((1, 1, 1, b.shape[3] + 1))")


def test_an_output_of_an_inputs_shape_says_whose():
    """db built as np.zeros(W.shape): every failing case says db has W's shape and the book's has b's; the
    catalogue of shapes.py's axis equations does not cover db, so this is the only shape fact there is."""
    failing = [(t, f) for gid, p, t, f in _graded(DB_LIKE_W, leave_out=()) if not p and gid.startswith("conv_backward")]
    assert failing and all(f.kind == "shape" and f.key == "shape:db:like_W" for _, f in failing)
    assert all("your db has the shape of W in every failing case: here (" in t and "the book's db has the shape of b, ("
               in t for t, _ in failing)


def test_a_shape_no_input_has_is_not_given_a_name():
    """db of shape (1, 1, 1, n_C + 1): no input has it, so nothing is said of whose shape it is."""
    failing = [(t, f) for gid, p, t, f in _graded(DB_ONE_TOO_MANY, leave_out=()) if not p and gid.startswith("conv_b")]
    assert failing and all("db has shape (1, 1, 1, " in t for t, _ in failing)
    assert not any(f is not None and ":like_" in f.key for _, f in failing)
    assert not any("has the shape of" in t for t, _ in failing)


# ----------------------------------------------------------------------------- a cause no helper can bring about

def test_a_cause_of_the_functions_own_lines_is_named_while_its_helper_is_wrong(tmp_path, monkeypatch):
    """conv_forward with np.int (removed from NumPy) in its size line, and a conv_single_step that returns the
    (1, 1, 1) bias array: conv_forward raises before it calls its helper, with a cause no helper's result can
    bring about; it is named (study8's q016), where before the wrong helper left every exception unnamed.
    Recorded by the shipped grader_record with its frames, as a kernel records them."""
    from autograder.grading import cases as registry
    from autograder.grading.diagnosis import diagnose, raised
    from tests.test_explain import recorded
    from tests.test_visible_causes import load, source

    text = source("conv_forward", [("n_H = ", "n_H = np.int((n_H_prev + 2 * pad - f) / stride) + 1\n    n_H_ = ")],
                  helpers={"conv_single_step": "\ndef conv_single_step(a_slice_prev, W, b):\n"
                                               "    return np.sum(a_slice_prev * W) + b\n"})
    module = load(tmp_path, text, "student_np_int")

    def findings():
        judged = [diagnose.Judged(c.grade_id, recorded(tmp_path, monkeypatch, c.grade_id, getattr(module, c.function)))
                  for c in registry.for_assignment("convolution")
                  if c.function in ("conv_single_step", "conv_forward")]
        found = diagnose.notebook(judged, pictures=False)
        return {j.grade_id: found.get(j.grade_id) for j in judged if not j.passed}
    first = findings()
    helper = [f for g, f in first.items() if g.startswith("conv_single_step__")]
    own = [f for g, f in first.items() if g.startswith("conv_forward__")]
    assert helper and own and all(f is not None and f.kind == "mistake" and f.key == "numpy_alias_removed" for f in own)
    monkeypatch.setattr(raised, "WHATEVER_THE_HELPERS", frozenset())
    assert not any(f is not None and f.kind == "mistake" for g, f in findings().items() if g.startswith("conv_forward"))
