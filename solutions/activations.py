"""Activation functions and their backward passes (chapter 2).

Every forward returns (A, cache) with cache = Z, the pre-activation input;
every backward takes (dA, cache) and returns dZ shaped like Z. softmax works
along the last axis. The source notebook
`autograder/source/activations/activations.ipynb` holds these exact bodies.
"""
import numpy as np

from .checks import check_activation, check_activation_backward, check_softmax, check_softmax_backward, validate


@validate(check_activation)
def sigmoid(Z):
    """Z: any shape. Returns A = 1 / (1 + exp(-Z)) shaped like Z, and cache = Z.

    Computed without overflow (chapter 2): exp is only ever taken of -|Z| <= 0.
    """
    # For Z >= 0: 1 / (1 + e^{-Z}). For Z < 0 the same number, multiplied top and
    # bottom by e^{Z}: e^{Z} / (1 + e^{Z}). In both, e = exp(-|Z|) lies in (0, 1].
    e = np.exp(-np.abs(Z))
    A = np.where(Z >= 0, 1 / (1 + e), e / (1 + e))
    cache = Z
    return A, cache


@validate(check_activation)
def relu(Z):
    """Z: any shape. Returns A = max(0, Z) shaped like Z, and cache = Z."""
    A = np.maximum(0, Z)
    cache = Z
    return A, cache


@validate(check_activation)
def tanh(Z):
    """Z: any shape. Returns A = tanh(Z) shaped like Z, and cache = Z."""
    A = np.tanh(Z)
    cache = Z
    return A, cache


@validate(check_softmax)
def softmax(Z):
    """Z: (..., K). Returns A: (..., K), each row along the last axis summing to 1, and cache = Z."""
    # Subtracting the row maximum changes nothing mathematically (it cancels
    # in the ratio) but keeps exp from overflowing.
    e = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
    A = e / np.sum(e, axis=-1, keepdims=True)
    cache = Z
    return A, cache


@validate(check_activation_backward)
def sigmoid_backward(dA, cache):
    """dA, cache = Z: same shape. Returns dZ = dA * s * (1 - s) with s = sigmoid(Z)."""
    Z = cache
    s, _ = sigmoid(Z)  # the overflow-free forward pass
    dZ = dA * s * (1 - s)
    return dZ


@validate(check_activation_backward)
def relu_backward(dA, cache):
    """dA, cache = Z: same shape. Returns dZ = dA where Z > 0, else 0 (the kink at 0 gets 0)."""
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


@validate(check_activation_backward)
def tanh_backward(dA, cache):
    """dA, cache = Z: same shape. Returns dZ = dA * (1 - tanh(Z)^2)."""
    Z = cache
    t = np.tanh(Z)
    dZ = dA * (1 - t**2)
    return dZ


@validate(check_softmax_backward)
def softmax_backward(dA, cache):
    """dA, cache = Z: (..., K). Returns dZ: (..., K).

    Row by row, dz = J^T da with the softmax Jacobian J = diag(s) - s s^T
    (J is symmetric, so J^T = J).
    """
    Z = cache
    e = np.exp(Z - np.max(Z, axis=-1, keepdims=True))
    S = e / np.sum(e, axis=-1, keepdims=True)
    K = Z.shape[-1]
    S_rows = S.reshape(-1, K)
    dA_rows = dA.reshape(-1, K)
    dZ_rows = np.zeros(S_rows.shape)
    for r in range(S_rows.shape[0]):
        s = S_rows[r]
        J = np.diag(s) - np.outer(s, s)
        dZ_rows[r] = J @ dA_rows[r]
    dZ = dZ_rows.reshape(Z.shape)
    return dZ


@validate(check_softmax_backward)
def softmax_backward_fast(dA, cache):
    """Vectorised softmax_backward: J^T da = s * (da - <s, da>) for every row at once."""
    A, _ = softmax(cache)
    return A * (dA - np.sum(dA * A, axis=-1, keepdims=True))
