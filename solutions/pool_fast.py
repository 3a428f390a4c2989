"""Vectorised pooling with strided window views; same results as pool.py."""
from functools import partial

import numpy as np

from .checks import check_pool_backward, check_pool_forward, validate
from .shapes import output_size
from .windows import windows


@validate(partial(check_pool_forward, func="pool_forward_fast"))
def pool_forward_fast(A_prev, hparameters, mode="max"):
    """As pool_forward. A_prev: (m, n_H_prev, n_W_prev, n_C); returns A: (m, n_H, n_W, n_C), cache."""
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H = output_size(n_H_prev, f, stride)
    n_W = output_size(n_W_prev, f, stride)
    if stride == f:
        # Non-overlapping windows tile the input: a reshape exposes them.
        tiles = A_prev[:, : n_H * f, : n_W * f, :].reshape(m, n_H, f, n_W, f, n_C)
        axes = (2, 4)
    else:
        tiles = windows(A_prev, f, stride, n_H, n_W)
        axes = (3, 4)
    A = tiles.max(axis=axes) if mode == "max" else tiles.mean(axis=axes)
    return A, (A_prev, hparameters)


@validate(partial(check_pool_backward, func="pool_backward_fast"))
def pool_backward_fast(dA, cache, mode="max"):
    """As pool_backward. dA: (m, n_H, n_W, n_C); returns dA_prev shaped like A_prev."""
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dtype = np.result_type(dA, A_prev)
    dA_prev = np.zeros(A_prev.shape, dtype=dtype)
    if stride == f:
        # Non-overlapping windows: the same reshape as the forward pass gives
        # every window as a (f, f) block, and one broadcast fills them all.
        tiles = A_prev[:, : n_H * f, : n_W * f, :].reshape(m, n_H, f, n_W, f, n_C)
        d_tiles = dA_prev[:, : n_H * f, : n_W * f, :].reshape(m, n_H, f, n_W, f, n_C)
        d_out = dA[:, :, None, :, None, :]
        if mode == "max":
            # Route dA to every input equal to its window's maximum
            # (the same tie rule as create_mask_from_window).
            A = tiles.max(axis=(2, 4), keepdims=True)
            np.multiply(tiles == A, d_out, out=d_tiles)
        else:
            d_tiles[...] = d_out / (f * f)
        return dA_prev
    if mode == "max":
        A = windows(A_prev, f, stride, n_H, n_W).max(axis=(3, 4))
    else:
        share = (dA / (f * f)).astype(dtype, copy=False)
    for kh in range(f):
        for kw in range(f):
            # Inputs at offset (kh, kw) of every window: one strided slice.
            rows = slice(kh, kh + stride * n_H, stride)
            cols = slice(kw, kw + stride * n_W, stride)
            if mode == "max":
                dA_prev[:, rows, cols, :] += (A_prev[:, rows, cols, :] == A) * dA
            else:
                # Overlapping windows (f > stride) add their shares.
                dA_prev[:, rows, cols, :] += share
    return dA_prev
