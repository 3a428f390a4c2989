"""The activations stay finite and warning-free at extreme inputs (chapter 2, "Numerically safe").

The naive sigmoid 1 / (1 + exp(-Z)) overflows in exp for Z below about -709.8
and warns; softmax without the max subtraction overflows for scores above
about 709.8. The package's versions must give the right, finite values there,
without any warning, and agree with the naive formulas wherever those are fine.
"""
import math
import warnings

import numpy as np
import pytest

import solutions as S

EPS = np.finfo(np.float64).eps


@pytest.fixture
def no_warnings():
    """Every warning (numpy's overflow RuntimeWarning included) becomes an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_naive_sigmoid_does_overflow():
    """The problem is real: the textbook formula warns at Z = -1000 (so the tests below can fail)."""
    Z = np.array([-1000.0])
    with pytest.warns(RuntimeWarning, match="overflow"):
        1 / (1 + np.exp(-Z))


def test_sigmoid_extremes(no_warnings):
    Z = np.array([-1000.0, -720.0, -30.0, 0.0, 30.0, 720.0, 1000.0])
    A, cache = S.sigmoid(Z)
    assert cache is Z
    assert np.all(np.isfinite(A))
    # sigma(-1000) = e^-1000 / (1 + e^-1000) is below the smallest float64: 0.
    # sigma(-720) ~ e^-720 is a (subnormal) positive float; the naive formula gives 0 there.
    assert A[0] == 0.0
    assert A[1] == math.exp(-720.0) > 0.0
    assert A[2] == pytest.approx(math.exp(-30.0) / (1 + math.exp(-30.0)), rel=4 * EPS)
    assert A[3] == 0.5
    assert A[4] == pytest.approx(1 / (1 + math.exp(-30.0)), rel=4 * EPS)
    assert A[5] == 1.0 and A[6] == 1.0


def test_sigmoid_backward_extremes(no_warnings):
    Z = np.array([-1000.0, 0.0, 1000.0])
    dZ = S.sigmoid_backward(np.ones(3), Z)
    np.testing.assert_array_equal(dZ, [0.0, 0.25, 0.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_agrees_with_naive_formula(dtype):
    """On moderate inputs the stable form equals the textbook formula to a few units of rounding."""
    Z = np.random.default_rng(0).uniform(-40, 40, size=(50, 40)).astype(dtype)
    Z[0, :5] = [0.0, -0.0, 1e-300 if dtype == np.float64 else 1e-30, -1e-8, 709.0 if dtype == np.float64 else 80.0]
    naive = 1 / (1 + np.exp(-Z))
    A, _ = S.sigmoid(Z)
    assert A.dtype == naive.dtype and A.shape == Z.shape
    np.testing.assert_allclose(A, naive, rtol=4 * np.finfo(dtype).eps, atol=0)
    G = np.random.default_rng(1).normal(size=Z.shape).astype(dtype)
    np.testing.assert_allclose(S.sigmoid_backward(G, Z), G * naive * (1 - naive),
                               rtol=8 * np.finfo(dtype).eps, atol=0)


def test_softmax_extremes(no_warnings):
    Z = np.array([[0.0, 1000.0], [-1000.0, 0.0], [1000.0, 1000.0], [800.0, 0.0]])
    A, _ = S.softmax(Z)
    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(A, [[0.0, 1.0], [0.0, 1.0], [0.5, 0.5], [1.0, 0.0]], atol=0, rtol=EPS)
    dZ = S.softmax_backward(np.array([[1.0, -1.0]] * 4), Z)
    assert np.all(np.isfinite(dZ))
    np.testing.assert_allclose(dZ[2], [0.5, -0.5], rtol=EPS)


def test_softmax_agrees_with_naive_formula():
    Z = np.random.default_rng(2).normal(scale=5, size=(30, 7))
    e = np.exp(Z)
    np.testing.assert_allclose(S.softmax(Z)[0], e / e.sum(axis=-1, keepdims=True), rtol=1e-14, atol=0)
