"""Chapter 8's tiny CNN (chapters/tinycnn.py): its whole-network gradient at
the parameters the chapter trains, the max-pool tie rule that makes that
gradient right, and a cross-entropy that stays finite for huge logits.

Max-pool ties: in blank image regions every convolution window gives
z = b1 exactly, so after training a positive b1 makes all entries of a
pooling window equal, and they move together with b1. Their max is then
differentiable in b1 (derivative 1). Routing the window's gradient to every
tied entry (the teaching mask) passes it on k times; the fast pooling routes
it to one entry, the first in row-major order, as PyTorch does.
"""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import solutions as S
from solutions.gradcheck import numerical_gradient, relative_error
from tests.support import chapter_module, require_module

tinycnn = chapter_module("tinycnn")  # chapters/ holds the chapter's helper module (not a package)

EPS = 1e-6  # numerical_gradient's step


@pytest.fixture(scope="module")
def chapter8():
    """The data, split and trained exactly as chapter 8 does (about a second)."""
    digits = load_digits()
    X = (digits.images / 16.0)[..., np.newaxis]
    X_train, X_test, y_train, y_test = train_test_split(
        X, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    params = tinycnn.init_params(np.random.default_rng(0), n_filters=16)
    tinycnn.train(params, X_train, y_train, X_test, y_test, epochs=20, batch=32, lr=5e-3, seed=0)
    return params, X_train, y_train


def errors(params, X, y, pool_backward=S.pool_backward_fast):
    """Relative error of backprop against central differences, per parameter array."""
    _, grads = tinycnn.loss_and_grads(params, X, y, pool_backward=pool_backward)
    out = {}
    for name in params:
        numeric = numerical_gradient(lambda value: tinycnn.loss({**params, name: value}, X, y), params[name].copy())
        out[name] = relative_error(grads[name], numeric)
    return out


def test_whole_network_gradient_is_right_at_the_trained_parameters(chapter8):
    params, X_train, y_train = chapter8
    X, y = X_train[:5], y_train[:5]  # chapter 8's tiny batch
    # Preconditions that make the check meaningful: no pre-activation sits on
    # ReLU's kink, and pooling windows do hold maxima tied at a positive b1.
    Z1, _ = S.conv_forward_fast(X, params["W1"], params["b1"], tinycnn.CONV)
    assert np.abs(Z1).min() > 10 * EPS  # a step of EPS in b1 or W1 moves z by at most EPS
    A1 = np.maximum(Z1, 0)
    windows = A1.reshape(5, 4, 2, 4, 2, 16).transpose(0, 1, 3, 5, 2, 4).reshape(5, 4, 4, 16, 4)
    tied = np.sum(windows == windows.max(axis=-1, keepdims=True), axis=-1) > 1
    assert np.any(tied & (windows.max(axis=-1) > 0)), "expected tied positive maxima in blank regions"

    for name, error in errors(params, X, y).items():
        assert error < 1e-6, f"{name}: relative error {error:.1e}"


def test_the_all_ties_mask_gets_b1_wrong_at_the_trained_parameters(chapter8):
    """The failure the fast routing fixes, so the test above can fail: with the
    teaching pool_backward (every tied maximum gets the gradient) b1 is off."""
    params, X_train, y_train = chapter8
    errs = errors(params, X_train[:5], y_train[:5], pool_backward=S.pool_backward)
    assert errs["b1"] > 1e-2
    assert errs["W1"] < 1e-6  # blank windows read zeros: W1 does not move them


def test_tied_entries_that_move_together_get_the_gradient_once():
    """max(b, b, b, b) = b has derivative 1: one window, four equal entries."""
    A = np.full((1, 2, 2, 1), 0.3)
    _, cache = S.pool_forward_fast(A, {"f": 2, "stride": 2})
    dA_prev = S.pool_backward_fast(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dA_prev[0, :, :, 0], [[1.0, 0.0], [0.0, 0.0]])
    # The teaching convention (graded, tie-free cases only) marks all four.
    assert S.pool_backward(np.ones((1, 1, 1, 1)), cache).sum() == 4.0


@pytest.mark.parametrize("f, stride", [(2, 2), (3, 1), (2, 1), (3, 2)])
def test_pool_fast_routes_ties_like_pytorch(f, stride):
    """On inputs full of ties (small integers), overlapping windows included,
    dA_prev equals PyTorch's max_pool2d backward, which picks the first maximum."""
    torch = require_module("torch", "pip install -r requirements-dev.txt")
    rng = np.random.default_rng(10 * f + stride)
    A = rng.integers(0, 3, size=(2, 7, 6, 3)).astype(float)
    hp = {"f": f, "stride": stride}
    out, cache = S.pool_forward_fast(A, hp)
    dA = rng.standard_normal(out.shape)
    x = torch.tensor(A.transpose(0, 3, 1, 2), requires_grad=True)       # NHWC -> NCHW
    y = torch.nn.functional.max_pool2d(x, kernel_size=f, stride=stride)
    y.backward(torch.tensor(dA.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(out, y.detach().numpy().transpose(0, 2, 3, 1))
    np.testing.assert_allclose(S.pool_backward_fast(dA, cache), x.grad.numpy().transpose(0, 2, 3, 1),
                               rtol=1e-12, atol=1e-12)


def test_cross_entropy_is_finite_for_huge_logits():
    """log(softmax) would give log(0) = -inf here; log-sum-exp gives the exact 800."""
    loss, dlogits = tinycnn.cross_entropy(np.array([[0.0, 800.0]]), np.array([0]))
    assert loss == 800.0
    np.testing.assert_array_equal(dlogits, [[-1.0, 1.0]])
    # Adding a constant to every logit changes nothing, even a constant that overflows e^z.
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((6, 10)), rng.integers(0, 10, 6)
    base = tinycnn.cross_entropy(logits, labels)
    shifted = tinycnn.cross_entropy(logits + 1000.0, labels)
    assert shifted[0] == pytest.approx(base[0], rel=1e-12)
    np.testing.assert_allclose(shifted[1], base[1], rtol=1e-12, atol=1e-15)


def test_cross_entropy_matches_its_definition_and_gradient():
    rng = np.random.default_rng(1)
    logits, labels = 3 * rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    loss, dlogits = tinycnn.cross_entropy(logits, labels)
    S_ = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)   # safe at this scale
    assert loss == pytest.approx(-np.mean(np.log(S_[np.arange(5), labels])), rel=1e-12)
    numeric = numerical_gradient(lambda z: tinycnn.cross_entropy(z, labels)[0], logits.copy())
    assert relative_error(dlogits, numeric) < 1e-8
