"""Convolution layer, forward and backward, written as plain loops.

These are the teaching versions: each line mirrors a step of the derivation
in chapters 3 and 4, as a careful student would write them. The source
notebook `autograder/source/convolution/convolution.ipynb` holds these exact
function bodies in its solution regions (a test keeps the two identical).
Arrays are channels-last: (m, n_H, n_W, n_C).
"""
import numpy as np

from .checks import (
    check_conv_backward,
    check_conv_forward,
    check_conv_single_step,
    check_zero_pad,
    validate,
)
from .shapes import output_size


@validate(check_zero_pad)
def zero_pad(X, pad):
    """Pad the two spatial axes of a batch with zeros.

    X: (m, n_H, n_W, n_C); pad: int >= 0.
    Returns X_pad: (m, n_H + 2 * pad, n_W + 2 * pad, n_C).
    """
    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)
    return X_pad


@validate(check_conv_single_step)
def conv_single_step(a_slice_prev, W, b):
    """Apply one filter to one window: sum of the elementwise product, plus bias.

    a_slice_prev: (f, f, n_C_prev); W: (f, f, n_C_prev); b: (1, 1, 1).
    Returns Z, a Python float.
    """
    s = a_slice_prev * W
    Z = np.sum(s)
    Z = Z + b.item()
    return float(Z)


@validate(check_conv_forward)
def conv_forward(A_prev, W, b, hparameters):
    """Cross-correlate a batch with n_C filters (eq. conv-forward, chapter 3).

    A_prev: (m, n_H_prev, n_W_prev, n_C_prev); W: (f, f, n_C_prev, n_C);
    b: (1, 1, 1, n_C); hparameters: {"stride": s, "pad": p}.
    Returns Z: (m, n_H, n_W, n_C) and cache = (A_prev, W, b, hparameters).
    """
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]

    n_H = output_size(n_H_prev, f, stride, pad)
    n_W = output_size(n_W_prev, f, stride, pad)
    Z = np.zeros((m, n_H, n_W, n_C))

    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])

    cache = (A_prev, W, b, hparameters)
    return Z, cache


@validate(check_conv_backward)
def conv_backward(dZ, cache):
    """Gradients of the loss with respect to the layer's input, weights and bias.

    dZ: (m, n_H, n_W, n_C), the upstream gradient dL/dZ;
    cache: (A_prev, W, b, hparameters) from conv_forward.
    Returns dA_prev: (m, n_H_prev, n_W_prev, n_C_prev), dW: (f, f, n_C_prev, n_C),
    db: (1, 1, 1, n_C).
    """
    (A_prev, W, b, hparameters) = cache
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    (m, n_H, n_W, n_C) = dZ.shape

    dA_prev = np.zeros(A_prev.shape)
    dW = np.zeros(W.shape)
    db = np.zeros(b.shape)

    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
                for c in range(n_C):
                    # Z[i,h,w,c] = sum(a_slice * W[..., c]) + b[c]: each input in the
                    # window receives W * dZ, each weight receives a_slice * dZ, and
                    # windows that overlap add their contributions (fan-out).
                    da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
        # Crop the padding away; [pad:pad + n] stays correct when pad == 0.
        dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]

    return dA_prev, dW, db
