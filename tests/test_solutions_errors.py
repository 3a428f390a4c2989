"""Bad input raises ValueError with a message that says what was expected.

Each case asserts the message names the offending shapes, keys or values, so
a student reading it learns which argument to fix. Teaching and vectorised
versions share one check, and both are exercised.
"""
import re

import numpy as np
import pytest

import solutions as S

A = np.zeros((2, 5, 7, 3))
W = np.zeros((3, 3, 3, 4))
b = np.zeros((1, 1, 1, 4))
HP = {"stride": 2, "pad": 1}

CONV_FORWARDS = pytest.mark.parametrize("forward", [S.conv_forward, S.conv_forward_fast], ids=["teaching", "fast"])
CONV_BACKWARDS = pytest.mark.parametrize("backward", [S.conv_backward, S.conv_backward_fast], ids=["teaching", "fast"])
POOL_FORWARDS = pytest.mark.parametrize("forward", [S.pool_forward, S.pool_forward_fast], ids=["teaching", "fast"])
POOL_BACKWARDS = pytest.mark.parametrize("backward", [S.pool_backward, S.pool_backward_fast], ids=["teaching", "fast"])


def raises(*fragments):
    """pytest.raises(ValueError) whose message must contain every fragment, literally."""
    return pytest.raises(ValueError, match="(?s)" + "".join(f"(?=.*{re.escape(x)})" for x in fragments))


@CONV_FORWARDS
@pytest.mark.parametrize(
    "args, fragments",
    [
        ((A[0], W, b, HP), ["A_prev", "4 dimensions", "(m, n_H_prev, n_W_prev, n_C_prev)", "(5, 7, 3)"]),
        ((A.tolist(), W, b, HP), ["A_prev", "NumPy array", "list"]),
        ((A, W[..., 0], b, HP), ["W", "(f, f, n_C_prev, n_C)", "(3, 3, 3)"]),
        ((A, np.zeros((3, 2, 3, 4)), b, HP), ["square f x f filters", "(3, 2, 3, 4)"]),
        ((A, np.zeros((3, 3, 2, 4)), b, HP), ["channel mismatch", "(2, 5, 7, 3)", "(3, 3, 2, 4)", "3 channels"]),
        ((A, W, np.zeros((1, 1, 1, 5)), HP), ["b must have shape (1, 1, 1, 4)", "(1, 1, 1, 5)"]),
        ((A, W, np.zeros((4,)), HP), ["b", "(1, 1, 1, n_C)", "(4,)"]),
        ((A, W, b, {"stride": 2}), ["missing the key 'pad'", "['stride']"]),
        ((A, W, b, {"pad": 1}), ["missing the key 'stride'", "['pad']"]),
        ((A, W, b, [("stride", 2), ("pad", 1)]), ["hparameters must be a dict", "list"]),
        ((A, W, b, {"stride": 0, "pad": 1}), ["hparameters['stride']", ">= 1", "0"]),
        ((A, W, b, {"stride": 2, "pad": -1}), ["hparameters['pad']", ">= 0", "-1"]),
        ((A, W, b, {"stride": 1.5, "pad": 1}), ["hparameters['stride']", "integer", "1.5"]),
        ((A, W, b, {"stride": True, "pad": 1}), ["hparameters['stride']", "True"]),
        ((A, np.zeros((8, 8, 3, 4)), b, HP), ["8x8 window does not fit a 5x7 input", "pad=1", "stride=2"]),
    ],
    ids=lambda v: None,
)
def test_conv_forward_rejects_bad_input(forward, args, fragments):
    with raises(forward.__name__, *fragments):
        forward(*args)


@CONV_BACKWARDS
def test_conv_backward_rejects_a_bad_cache_or_dZ(backward):
    _, cache = S.conv_forward_fast(A, W, b, HP)  # Z: (2, 3, 4, 4)
    with raises(backward.__name__, "cache must be the tuple (A_prev, W, b, hparameters)"):
        backward(np.zeros((2, 3, 4, 4)), cache[:3])
    with raises(backward.__name__, "dZ has shape (2, 3, 3, 4)", "Z of shape (2, 3, 4, 4)"):
        backward(np.zeros((2, 3, 3, 4)), cache)
    with raises(backward.__name__, "dZ", "4 dimensions", "(3, 4, 4)"):
        backward(np.zeros((3, 4, 4)), cache)
    with raises(backward.__name__, "channel mismatch"):
        backward(np.zeros((2, 3, 4, 4)), (A, np.zeros((3, 3, 2, 4)), b, HP))
    with raises(backward.__name__, "missing the key 'pad'"):
        backward(np.zeros((2, 3, 4, 4)), (A, W, b, {"stride": 2}))


def test_zero_pad_and_conv_single_step_reject_bad_input():
    with raises("zero_pad", "X", "4 dimensions", "(5, 7, 3)"):
        S.zero_pad(A[0], 1)
    with raises("zero_pad", "pad must be an integer >= 0", "-2"):
        S.zero_pad(A, -2)
    with raises("conv_single_step", "(3, 3, 2)", "(3, 3, 3)", "same shape"):
        S.conv_single_step(np.zeros((3, 3, 2)), np.zeros((3, 3, 3)), np.zeros((1, 1, 1)))
    with raises("conv_single_step", "a_slice_prev", "(f, f, n_C_prev)", "(3, 3)"):
        S.conv_single_step(np.zeros((3, 3)), np.zeros((3, 3, 3)), np.zeros((1, 1, 1)))
    with raises("conv_single_step", "b must hold one number", "(1, 1, 2)"):
        S.conv_single_step(np.zeros((3, 3, 3)), np.zeros((3, 3, 3)), np.zeros((1, 1, 2)))


POOL_HP = {"f": 2, "stride": 2}


@POOL_FORWARDS
@pytest.mark.parametrize(
    "args, kwargs, fragments",
    [
        ((A[0], POOL_HP), {}, ["A_prev", "4 dimensions", "(m, n_H_prev, n_W_prev, n_C)", "(5, 7, 3)"]),
        ((A, POOL_HP), {"mode": "min"}, ["mode must be 'max' or 'average'", "'min'"]),
        ((A, POOL_HP), {"mode": "avg"}, ["'avg'"]),
        ((A, {"stride": 2}), {}, ["missing the key 'f'", "['stride']"]),
        ((A, {"f": 2}), {}, ["missing the key 'stride'", "['f']"]),
        ((A, {"f": 0, "stride": 1}), {}, ["hparameters['f']", ">= 1", "0"]),
        ((A, {"f": 6, "stride": 1}), {}, ["6x6 window does not fit a 5x7 input", "output would be 0x2"]),
    ],
    ids=lambda v: None,
)
def test_pool_forward_rejects_bad_input(forward, args, kwargs, fragments):
    with raises(forward.__name__, *fragments):
        forward(*args, **kwargs)


@POOL_BACKWARDS
def test_pool_backward_rejects_a_bad_cache_or_dA(backward):
    _, cache = S.pool_forward_fast(A, POOL_HP)  # A: (2, 2, 3, 3)
    with raises(backward.__name__, "cache must be the tuple (A_prev, hparameters)"):
        backward(np.zeros((2, 2, 3, 3)), (A,))
    with raises(backward.__name__, "dA has shape (2, 3, 3, 3)", "A of shape (2, 2, 3, 3)"):
        backward(np.zeros((2, 3, 3, 3)), cache)
    with raises(backward.__name__, "mode must be 'max' or 'average'", "'mean'"):
        backward(np.zeros((2, 2, 3, 3)), cache, mode="mean")
    with raises(backward.__name__, "missing the key 'f'"):
        backward(np.zeros((2, 2, 3, 3)), (A, {"stride": 2}))


def test_pool_helpers_reject_bad_input():
    with raises("create_mask_from_window", "(f, f)", "(2, 2, 1)"):
        S.create_mask_from_window(np.zeros((2, 2, 1)))
    with raises("create_mask_from_window", "empty", "(0, 3)"):
        S.create_mask_from_window(np.zeros((0, 3)))
    with raises("distribute_value", "dz must be a single number", "(2,)"):
        S.distribute_value(np.zeros(2), (2, 2))
    with raises("distribute_value", "shape must be a tuple (n_H, n_W) of positive ints", "[2, 2]"):
        S.distribute_value(1.0, [2, 2])
    with raises("distribute_value", "(2, 0)"):
        S.distribute_value(1.0, (2, 0))


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "softmax"])
def test_activations_reject_bad_input(name):
    forward, backward = getattr(S, name), getattr(S, name + "_backward")
    with raises("Z must be a NumPy array", "list"):
        forward([1.0, 2.0])
    with raises("dA has shape (2, 3)", "cached Z has shape (3, 2)"):
        backward(np.zeros((2, 3)), np.zeros((3, 2)))
    with raises("dA and cache (= Z) must be NumPy arrays", "float", "ndarray"):
        backward(1.0, np.zeros(3))


def test_softmax_needs_a_nonempty_last_axis():
    for call in (lambda: S.softmax(np.zeros((2, 0))), lambda: S.softmax_backward_fast(np.zeros(()), np.zeros(()))):
        with raises("softmax works along the last axis", "non-empty"):
            call()


def test_a_failed_check_leaves_later_calls_checked():
    """After a ValueError the next call must still be validated (the re-entrancy guard is reset)."""
    with pytest.raises(ValueError):
        S.conv_forward(A, W, b, {"stride": 2})
    with raises("channel mismatch"):
        S.conv_forward(A, np.zeros((3, 3, 2, 4)), b, HP)
    # An error raised inside the body (not by a check) must reset it too.
    with pytest.raises(TypeError):
        S.conv_forward(A.astype(str), W, b, HP)
    with raises("conv_single_step", "same shape"):
        S.conv_single_step(np.zeros((3, 3, 2)), np.zeros((3, 3, 3)), np.zeros((1, 1, 1)))
