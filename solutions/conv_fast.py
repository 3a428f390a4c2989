"""Vectorised convolution: im2col by strided views, then one matrix product.

Same contract and results as the loops in conv.py (tests prove it), for the
benchmarks, the book's timing chapter and the digits CNN.
"""
from functools import partial

import numpy as np

from .checks import check_conv_backward, check_conv_forward, validate
from .shapes import output_size
from .windows import add_windows, pad_spatial, windows


@validate(partial(check_conv_forward, func="conv_forward_fast"))
def conv_forward_fast(A_prev, W, b, hparameters):
    """As conv_forward. A_prev: (m, n_H_prev, n_W_prev, n_C_prev), W: (f, f, n_C_prev, n_C),
    b: (1, 1, 1, n_C). Returns Z: (m, n_H, n_W, n_C), cache = (A_prev, W, b, hparameters).
    """
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    n_H = output_size(n_H_prev, f, stride, pad)
    n_W = output_size(n_W_prev, f, stride, pad)
    dtype = np.result_type(A_prev, W, b)

    # im2col: one row of f*f*n_C_prev inputs per output position.
    cols = windows(pad_spatial(A_prev.astype(dtype, copy=False), pad), f, stride, n_H, n_W)
    cols = cols.reshape(m * n_H * n_W, f * f * n_C_prev)
    Z = cols @ W.astype(dtype, copy=False).reshape(f * f * n_C_prev, n_C)
    Z += b.reshape(1, n_C)
    return Z.reshape(m, n_H, n_W, n_C), (A_prev, W, b, hparameters)


@validate(partial(check_conv_backward, func="conv_backward_fast"))
def conv_backward_fast(dZ, cache):
    """As conv_backward. dZ: (m, n_H, n_W, n_C); returns dA_prev, dW, db shaped like A_prev, W, b."""
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    _, n_H, n_W, _ = dZ.shape
    dtype = np.result_type(dZ, A_prev, W)

    dZ2 = dZ.astype(dtype, copy=False).reshape(m * n_H * n_W, n_C)
    W2 = W.astype(dtype, copy=False).reshape(f * f * n_C_prev, n_C)
    A_pad = pad_spatial(A_prev.astype(dtype, copy=False), pad)
    cols = windows(A_pad, f, stride, n_H, n_W).reshape(m * n_H * n_W, f * f * n_C_prev)

    db = dZ2.sum(axis=0).reshape(1, 1, 1, n_C)
    # dW[k, c] = sum over positions of input(k) * dZ(c): a correlation of the
    # padded input with dZ, written as one matrix product.
    dW = (cols.T @ dZ2).reshape(f, f, n_C_prev, n_C)
    # Each window's inputs receive W * dZ; overlapping windows add (col2im).
    dcols = (dZ2 @ W2.T).reshape(m, n_H, n_W, f, f, n_C_prev)
    dA_pad = np.zeros(A_pad.shape, dtype=dtype)
    add_windows(dA_pad, dcols, stride)
    dA_prev = dA_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db
