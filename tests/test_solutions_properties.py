"""Properties over random shapes and hyper-parameters (Hypothesis), adjoint
identities, and dtype behaviour of the vectorised layers.

The adjoint identities: with zero bias, x -> conv(x, W) is linear, so its
backward is its transpose: <conv(x, W), g> = <x, dA_prev(g)> for every x, g.
Likewise W -> conv(x, W) with dW, b -> conv(0, W, b) with db, and average
pooling with its backward. Max pooling is linear on each region where the
winners do not change, so the same identity holds with tie-free inputs.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import solutions as S
from solutions.shapes import output_size

# Teaching loops are slow: small shapes, a modest number of examples, no per-example deadline.
FEW = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_cases(draw):
    f = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    pad = draw(st.integers(0, 2))
    n_H = draw(st.integers(max(1, f - 2 * pad), 7))
    n_W = draw(st.integers(max(1, f - 2 * pad), 7))
    m, n_C_prev, n_C = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    # Key order must not matter: draw it too.
    hp = {"stride": stride, "pad": pad} if draw(st.booleans()) else {"pad": pad, "stride": stride}
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n_H, n_W, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    return A, W, b, hp, rng


@st.composite
def pool_cases(draw):
    f = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    n_H, n_W = draw(st.integers(f, 8)), draw(st.integers(f, 8))
    m, n_C = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = m * n_H * n_W * n_C
    # Tie-free: a shuffled arithmetic sequence, so every window has one maximum.
    A = (rng.permutation(n).reshape(m, n_H, n_W, n_C) - n / 2) * 0.01
    hp = {"f": f, "stride": stride} if draw(st.booleans()) else {"stride": stride, "f": f}
    return A, hp, rng


@FEW
@given(conv_cases())
def test_conv_teaching_and_fast_agree_and_shapes_follow_the_formula(case):
    A, W, b, hp, rng = case
    Z, cache = S.conv_forward(A, W, b, hp)
    Z_fast, cache_fast = S.conv_forward_fast(A, W, b, hp)
    f, s, p = W.shape[0], hp["stride"], hp["pad"]
    expected = (A.shape[0], (A.shape[1] + 2 * p - f) // s + 1, (A.shape[2] + 2 * p - f) // s + 1, W.shape[3])
    assert Z.shape == Z_fast.shape == expected
    np.testing.assert_allclose(Z_fast, Z, rtol=1e-12, atol=1e-12)
    assert cache[0] is A and cache[1] is W and cache[2] is b and cache[3] is hp

    dZ = rng.standard_normal(Z.shape)
    for slow, fast, name in zip(S.conv_backward(dZ, cache), S.conv_backward_fast(dZ, cache_fast), ("dA", "dW", "db")):
        assert slow.shape == fast.shape, name
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12, err_msg=name)


@FEW
@given(pool_cases(), st.sampled_from(["max", "average"]))
def test_pool_teaching_and_fast_agree_and_shapes_follow_the_formula(case, mode):
    A, hp, rng = case
    out, cache = S.pool_forward(A, hp, mode=mode)
    out_fast, cache_fast = S.pool_forward_fast(A, hp, mode=mode)
    f, s = hp["f"], hp["stride"]
    expected = (A.shape[0], (A.shape[1] - f) // s + 1, (A.shape[2] - f) // s + 1, A.shape[3])
    assert out.shape == out_fast.shape == expected
    np.testing.assert_allclose(out_fast, out, rtol=1e-12, atol=1e-12)

    dA = rng.standard_normal(out.shape)
    np.testing.assert_allclose(
        S.pool_backward_fast(dA, cache_fast, mode=mode), S.pool_backward(dA, cache, mode=mode), rtol=1e-12, atol=1e-12
    )


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 50), st.integers(1, 9), st.integers(1, 5), st.integers(0, 4))
def test_output_size_counts_window_positions(n_prev, f, stride, pad):
    """The formula against a direct count of the start positions that fit."""
    assume(f <= n_prev + 2 * pad)
    starts = [t for t in range(0, n_prev + 2 * pad) if t % stride == 0 and t + f <= n_prev + 2 * pad]
    assert output_size(n_prev, f, stride, pad) == len(starts)


@FEW
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(1, 3), st.integers(0, 3))
def test_zero_pad_shape_and_border(m, n_H, n_W, n_C, pad):
    X = np.random.default_rng(m * n_H).standard_normal((m, n_H, n_W, n_C))
    X_pad = S.zero_pad(X, pad)
    assert X_pad.shape == (m, n_H + 2 * pad, n_W + 2 * pad, n_C)
    np.testing.assert_array_equal(X_pad[:, pad:pad + n_H, pad:pad + n_W, :], X)
    assert np.abs(X_pad).sum() == pytest.approx(np.abs(X).sum())


# Adjoint identities.

def inner(x, y):
    return float(np.sum(x * y))


CONV_IMPLS = pytest.mark.parametrize(
    "forward, backward",
    [(S.conv_forward, S.conv_backward), (S.conv_forward_fast, S.conv_backward_fast)],
    ids=["teaching", "fast"],
)


@CONV_IMPLS
@FEW
@given(conv_cases())
def test_conv_adjoint_identities(forward, backward, case):
    A, W, b, hp, rng = case
    zero_b = np.zeros_like(b)
    Z, cache = forward(A, W, zero_b, hp)
    g = rng.standard_normal(Z.shape)
    dA, dW, _ = backward(g, cache)
    scale = np.linalg.norm(Z) * np.linalg.norm(g)
    # <conv(x, W), g> = <x, dA_prev(g)> and = <W, dW(g)>.
    assert inner(Z, g) == pytest.approx(inner(A, dA), abs=1e-12 * scale)
    assert inner(Z, g) == pytest.approx(inner(W, dW), abs=1e-12 * scale)
    # The bias alone: <conv(0, W, b), g> = <b, db(g)>.
    Zb, cache_b = forward(np.zeros_like(A), W, b, hp)
    _, _, db = backward(g, cache_b)
    assert inner(Zb, g) == pytest.approx(inner(b, db), abs=1e-12 * np.linalg.norm(Zb) * np.linalg.norm(g))


@pytest.mark.parametrize(
    "forward, backward",
    [(S.pool_forward, S.pool_backward), (S.pool_forward_fast, S.pool_backward_fast)],
    ids=["teaching", "fast"],
)
@pytest.mark.parametrize("mode", ["max", "average"])
@FEW
@given(pool_cases())
def test_pool_adjoint_identity(forward, backward, mode, case):
    A, hp, rng = case
    out, cache = forward(A, hp, mode=mode)
    g = rng.standard_normal(out.shape)
    dA = backward(g, cache, mode=mode)
    # Each side's rounding error scales with the sizes of its own terms: a window whose values cancel
    # makes `out` exactly 0 while <A, dA> still sums nonzero products, so both scales bound the error.
    scale = max(np.linalg.norm(out) * np.linalg.norm(g), np.linalg.norm(A) * np.linalg.norm(dA))
    assert inner(out, g) == pytest.approx(inner(A, dA), abs=1e-12 * scale)


# float32 in, float32 out: the vectorised layers must not silently upcast
# (that would double memory and halve BLAS speed) and must stay accurate.

F32_CONV = [dict(stride=1, pad=1, f=3), dict(stride=2, pad=0, f=2), dict(stride=3, pad=2, f=4)]


@pytest.mark.parametrize("p", F32_CONV, ids=lambda p: "s{stride}-p{pad}-f{f}".format(**p))
def test_conv_fast_keeps_float32_and_matches_float64(p):
    rng = np.random.default_rng(p["f"])
    A = rng.standard_normal((3, 9, 8, 4))
    W = rng.standard_normal((p["f"], p["f"], 4, 5))
    b = rng.standard_normal((1, 1, 1, 5))
    hp = {"stride": p["stride"], "pad": p["pad"]}
    Z64, cache64 = S.conv_forward_fast(A, W, b, hp)
    Z32, cache32 = S.conv_forward_fast(A.astype(np.float32), W.astype(np.float32), b.astype(np.float32), hp)
    assert Z32.dtype == np.float32
    np.testing.assert_allclose(Z32, Z64, rtol=1e-4, atol=1e-4 * np.abs(Z64).max())
    dZ = rng.standard_normal(Z64.shape)
    grads64 = S.conv_backward_fast(dZ, cache64)
    grads32 = S.conv_backward_fast(dZ.astype(np.float32), cache32)
    for g32, g64, name in zip(grads32, grads64, ("dA", "dW", "db")):
        assert g32.dtype == np.float32, name
        np.testing.assert_allclose(g32, g64, rtol=1e-4, atol=1e-4 * np.abs(g64).max(), err_msg=name)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("f, stride", [(2, 2), (3, 1), (2, 3)])
def test_pool_fast_keeps_float32_and_matches_float64(mode, f, stride):
    rng = np.random.default_rng(f * stride)
    n = 2 * 9 * 8 * 3
    A = ((rng.permutation(n) - n / 2) * 0.01).reshape(2, 9, 8, 3)  # exact in float32, tie-free
    hp = {"f": f, "stride": stride}
    out64, cache64 = S.pool_forward_fast(A, hp, mode=mode)
    out32, cache32 = S.pool_forward_fast(A.astype(np.float32), hp, mode=mode)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-6)
    dA = rng.standard_normal(out64.shape)
    d64 = S.pool_backward_fast(dA, cache64, mode=mode)
    d32 = S.pool_backward_fast(dA.astype(np.float32), cache32, mode=mode)
    assert d32.dtype == np.float32
    np.testing.assert_allclose(d32, d64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "softmax"])
def test_activations_keep_float32(name):
    Z = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    forward, backward = getattr(S, name), getattr(S, name + "_backward")
    A, cache = forward(Z)
    assert A.dtype == np.float32
    dZ = backward(np.ones_like(Z), cache)
    assert dZ.shape == Z.shape
    if name != "softmax":  # the teaching softmax_backward builds float64 rows on purpose (np.zeros)
        assert dZ.dtype == np.float32
    assert S.softmax_backward_fast(np.ones_like(Z), Z).dtype == np.float32


def test_backward_passes_do_not_modify_their_inputs():
    rng = np.random.default_rng(3)
    A, W, b = rng.standard_normal((2, 5, 6, 2)), rng.standard_normal((3, 3, 2, 3)), rng.standard_normal((1, 1, 1, 3))
    hp = {"stride": 2, "pad": 1}
    saved = [x.copy() for x in (A, W, b)]
    for forward, backward in [(S.conv_forward, S.conv_backward), (S.conv_forward_fast, S.conv_backward_fast)]:
        Z, cache = forward(A, W, b, hp)
        dZ = rng.standard_normal(Z.shape)
        dZ_saved = dZ.copy()
        backward(dZ, cache)
        np.testing.assert_array_equal(dZ, dZ_saved)
    for x, x0 in zip((A, W, b), saved):
        np.testing.assert_array_equal(x, x0)
    assert hp == {"stride": 2, "pad": 1}


@pytest.mark.parametrize("stride", [1, 2])
def test_conv_fast_gives_the_same_result_when_split_into_batches(monkeypatch, stride):
    """The fast layers process a few images at a time (to stay in cache); with a
    tiny budget every image is its own batch, and nothing may change: dW must
    still sum over all images, dA_prev must land on the right image."""
    import solutions.conv_fast as conv_fast

    rng = np.random.default_rng(stride)
    A, W, b = rng.standard_normal((5, 6, 7, 2)), rng.standard_normal((3, 3, 2, 3)), rng.standard_normal((1, 1, 1, 3))
    hp = {"stride": stride, "pad": 1}
    Z, cache = S.conv_forward(A, W, b, hp)
    dZ = rng.standard_normal(Z.shape)
    expected = S.conv_backward(dZ, cache)
    monkeypatch.setattr(conv_fast, "BATCH_BYTES", 1)
    assert len(conv_fast._batches(5, 1000)) == 5
    Z_fast, cache_fast = S.conv_forward_fast(A, W, b, hp)
    np.testing.assert_allclose(Z_fast, Z, rtol=1e-12, atol=1e-12)
    for got, want, name in zip(S.conv_backward_fast(dZ, cache_fast), expected, ("dA", "dW", "db")):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


def test_fast_layers_promote_integer_input_like_the_loops():
    """The loops always compute in float64; the fast layers must not do integer arithmetic."""
    A = np.arange(2 * 5 * 6 * 2).reshape(2, 5, 6, 2) % 7
    W = (np.arange(3 * 3 * 2 * 3).reshape(3, 3, 2, 3) % 5) - 2
    b = np.ones((1, 1, 1, 3), dtype=int)
    hp = {"stride": 1, "pad": 1}
    Z, cache = S.conv_forward(A, W, b, hp)
    Z_fast, cache_fast = S.conv_forward_fast(A, W, b, hp)
    assert Z_fast.dtype == np.float64
    np.testing.assert_array_equal(Z_fast, Z)
    dZ = np.ones(Z.shape, dtype=int)
    for got, want in zip(S.conv_backward_fast(dZ, cache_fast), S.conv_backward(dZ, cache)):
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    for mode in ("max", "average"):
        out, pcache = S.pool_forward_fast(A, {"f": 3, "stride": 2}, mode=mode)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, S.pool_forward(A, {"f": 3, "stride": 2}, mode=mode)[0], rtol=1e-15)
