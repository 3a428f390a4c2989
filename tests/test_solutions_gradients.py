"""Every backward pass against central-difference gradients (float64).

For a layer y = F(x) and a fixed random upstream gradient G, the scalar
L(x) = <F(x), G> has dL/dx = (backward of F)(G). numerical_gradient estimates
dL/dx by central differences; a correct backward agrees to ~1e-9 relative
error, a wrong one (a missed overlap, a stride slip, a transposed kernel) to
no better than ~1e-2. The bound used here, 1e-7, separates the two cleanly.
"""
import itertools

import numpy as np
import pytest

import solutions as S
from solutions.gradcheck import numerical_gradient, relative_error

TOL = 1e-7

CONV = {
    "teaching": (S.conv_forward, S.conv_backward),
    "fast": (S.conv_forward_fast, S.conv_backward_fast),
}
POOL = {
    "teaching": (S.pool_forward, S.pool_backward),
    "fast": (S.pool_forward_fast, S.pool_backward_fast),
}


def hparams(order, **values):
    """The same hyper-parameters in the given key order (backwards must read by key)."""
    keys = sorted(values) if order == "sorted" else sorted(values, reverse=True)
    return {k: values[k] for k in keys}


# Every (pad, stride, f) in {0,1,2} x {1,2,3} x {1..4} on a non-square input.
# The batch size, the channel counts and the dict key order rotate through
# the grid so that m = 1, one input channel, one filter, and both key orders
# each meet every pad and every stride.
CONV_GRID = [
    pytest.param(
        dict(m=1 + k % 2, n_H=5, n_W=7 - k % 3, n_C_prev=1 + (k // 2) % 2, n_C=1 + k % 3,
             f=f, stride=s, pad=p, order=("sorted", "reversed")[(k // 3) % 2]),
        id=f"p{p}-s{s}-f{f}",
    )
    for k, (p, s, f) in enumerate(itertools.product((0, 1, 2), (1, 2, 3), (1, 2, 3, 4)))
]


def test_conv_grid_covers_the_issue_cases():
    cases = [c.values[0] for c in CONV_GRID]
    assert {c["m"] for c in cases} >= {1, 2}
    assert {c["n_C_prev"] for c in cases} >= {1, 2}
    assert any(c["n_H"] != c["n_W"] for c in cases)
    for p, s in itertools.product((0, 1, 2), (1, 2, 3)):
        orders = {c["order"] for c in cases if c["pad"] == p and c["stride"] == s}
        assert orders == {"sorted", "reversed"}, (p, s)


@pytest.mark.parametrize("impl", sorted(CONV))
@pytest.mark.parametrize("case", CONV_GRID)
def test_conv_backward_matches_numerical_gradient(impl, case):
    forward, backward = CONV[impl]
    rng = np.random.default_rng(100 * case["pad"] + 10 * case["stride"] + case["f"])
    A = rng.standard_normal((case["m"], case["n_H"], case["n_W"], case["n_C_prev"]))
    W = rng.standard_normal((case["f"], case["f"], case["n_C_prev"], case["n_C"]))
    b = rng.standard_normal((1, 1, 1, case["n_C"]))
    hp = hparams(case["order"], stride=case["stride"], pad=case["pad"])
    Z, cache = forward(A, W, b, hp)
    G = rng.standard_normal(Z.shape)
    dA, dW, db = backward(G, cache)
    assert (dA.shape, dW.shape, db.shape) == (A.shape, W.shape, b.shape)

    def loss(A_, W_, b_):
        return float(np.sum(forward(A_, W_, b_, hp)[0] * G))

    errors = {
        "dA_prev": relative_error(dA, numerical_gradient(lambda x: loss(x, W, b), A)),
        "dW": relative_error(dW, numerical_gradient(lambda x: loss(A, x, b), W)),
        "db": relative_error(db, numerical_gradient(lambda x: loss(A, W, x), b)),
    }
    assert max(errors.values()) < TOL, f"{impl} {case}: relative errors {errors}"


def tie_free(rng, shape):
    """Distinct values 0.01 apart in random order: every window has one clear
    maximum, so max-pooling is differentiable there and eps = 1e-6 never
    changes which entry wins."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2) * 0.01


# f > stride (overlapping windows), f == stride (tiling) and f < stride (gaps),
# on a non-square input; one channel and m = 1 rotate through the grid.
POOL_GRID = [
    pytest.param(
        dict(m=1 + k % 2, n_H=6, n_W=7 + k % 2, n_C=1 + (k + 1) % 2, f=f, stride=s,
             order=("sorted", "reversed")[k % 2]),
        id=f"f{f}-s{s}",
    )
    for k, (f, s) in enumerate(itertools.product((1, 2, 3, 4), (1, 2, 3)))
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("impl", sorted(POOL))
@pytest.mark.parametrize("case", POOL_GRID)
def test_pool_backward_matches_numerical_gradient(impl, mode, case):
    forward, backward = POOL[impl]
    rng = np.random.default_rng(case["f"] * 10 + case["stride"])
    A = tie_free(rng, (case["m"], case["n_H"], case["n_W"], case["n_C"]))
    hp = hparams(case["order"], f=case["f"], stride=case["stride"])
    out, cache = forward(A, hp, mode=mode)
    G = rng.standard_normal(out.shape)
    dA = backward(G, cache, mode=mode)
    numeric = numerical_gradient(lambda x: float(np.sum(forward(x, hp, mode=mode)[0] * G)), A)
    err = relative_error(dA, numeric)
    assert err < TOL, f"{impl} {mode} {case}: relative error {err:.2e}"


def test_pool_grid_has_overlaps_and_gaps():
    cases = [c.values[0] for c in POOL_GRID]
    assert any(c["f"] > c["stride"] for c in cases)
    assert any(c["f"] < c["stride"] for c in cases)
    assert {c["m"] for c in cases} >= {1} and {c["n_C"] for c in cases} >= {1}


def away_from_zero(rng, shape):
    """Standard normals pushed at least 0.1 from 0, so ReLU's kink is never inside +-eps."""
    Z = rng.standard_normal(shape)
    return Z + 0.1 * np.sign(Z)


ACTIVATIONS = [
    (S.sigmoid, S.sigmoid_backward),
    (S.relu, S.relu_backward),
    (S.tanh, S.tanh_backward),
    (S.softmax, S.softmax_backward),
    (S.softmax, S.softmax_backward_fast),
]


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4, 5)], ids=str)
@pytest.mark.parametrize("forward, backward", ACTIVATIONS, ids=lambda f: f.__name__)
def test_activation_backward_matches_numerical_gradient(forward, backward, shape):
    rng = np.random.default_rng(len(shape))
    Z = away_from_zero(rng, shape)
    G = rng.standard_normal(shape)
    A, cache = forward(Z)
    assert cache is Z
    dZ = backward(G, cache)
    numeric = numerical_gradient(lambda x: float(np.sum(forward(x)[0] * G)), Z)
    err = relative_error(dZ, numeric)
    assert err < TOL, f"{backward.__name__} on {shape}: relative error {err:.2e}"


def test_softmax_with_cross_entropy_gives_s_minus_y():
    """Chapter 2: for L = -sum(y log s), dL/dZ = s - y (softmax_backward of dA = -y/s)."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((4, 6))
    Y = np.eye(6)[rng.integers(0, 6, size=4)]
    s, cache = S.softmax(Z)
    for backward in (S.softmax_backward, S.softmax_backward_fast):
        assert relative_error(backward(-Y / s, cache), s - Y) < 1e-12


# The checker itself: it must find a known gradient, and relative_error must
# separate right from wrong.

def test_numerical_gradient_recovers_a_known_gradient_and_restores_x():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    before = x.copy()
    grad = numerical_gradient(lambda v: float(np.sum(np.sin(v) * v**2)), x)
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert relative_error(grad, exact) < 1e-8
    np.testing.assert_array_equal(x, before)


def test_relative_error_scale_free_and_shape_checked():
    a = np.array([1.0, 2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(1e6 * a, 1e6 * (a + 1e-3)) == pytest.approx(relative_error(a, a + 1e-3))
    assert relative_error(a, -a) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"\(3,\) vs \(1, 3\)"):
        relative_error(a, a[None])


@pytest.mark.parametrize("x", [np.arange(3), np.array([True, False]), [1.0, 2.0]], ids=["int", "bool", "list"])
def test_numerical_gradient_refuses_inputs_it_cannot_perturb(x):
    """eps = 1e-6 vanishes in an integer array (and a list cannot be perturbed in place): refuse, don't mislead."""
    with pytest.raises(ValueError, match="needs a floating-point NumPy array"):
        numerical_gradient(lambda v: float(np.sum(v)), x)


def test_numerical_gradient_still_runs_in_float32():
    """Chapter 6 demonstrates float32's poor estimates, so float32 must run (not raise)."""
    x = np.ones(3, dtype=np.float32)
    assert numerical_gradient(lambda v: float(np.sum(v.astype(np.float64) ** 2)), x).shape == (3,)
