"""Vectorised pooling; same results as the loops in pool.py, except at ties.

Instead of visiting windows one by one, visit the f*f offsets (i, j): the
entry at offset (i, j) of every window at once is one strided slice of the
input, shaped like the output. f*f whole-array operations replace
m * n_H * n_W * n_C small ones.

Ties in max pooling: the teaching loops (create_mask_from_window) send a
window's gradient to *every* maximal entry, so a window with n_tie tied maxima
passes on n_tie times its gradient. Where the tied entries move together (blank
image regions, where every entry equals the conv bias) the max is
differentiable and that is n_tie times too much. pool_backward_fast routes each
window's gradient to ONE maximal entry, the first in row-major order, as
PyTorch's max_pool2d does: a correct gradient where the tied entries move
together; where they do not, a subgradient of the window's max, times the
upstream gradient (for the loss: a Clarke generalised gradient, and a
subgradient only where that upstream gradient is >= 0; book chapter 5).
Without ties the two rules are the same.
"""
from functools import partial

import numpy as np

from .checks import check_pool_backward, check_pool_forward, validate
from .shapes import output_size


def _offsets(X, f, stride, n_H, n_W):
    """Yield X[:, i + stride*h, j + stride*w, :] over (h, w) for every offset (i, j).

    X: (m, n_H_prev, n_W_prev, n_C). Each yielded view is (m, n_H, n_W, n_C):
    entry (i, j) of every window. Offsets come in row-major order.
    """
    for i in range(f):
        for j in range(f):
            yield X[:, i:i + stride * (n_H - 1) + 1:stride, j:j + stride * (n_W - 1) + 1:stride, :]


@validate(partial(check_pool_forward, func="pool_forward_fast"))
def pool_forward_fast(A_prev, hparameters, mode="max"):
    """As pool_forward. A_prev: (m, n_H_prev, n_W_prev, n_C); returns A: (m, n_H, n_W, n_C), cache."""
    f, stride = hparameters["f"], hparameters["stride"]
    _, n_H_prev, n_W_prev, _ = A_prev.shape
    n_H = output_size(n_H_prev, f, stride)
    n_W = output_size(n_W_prev, f, stride)
    entries = _offsets(A_prev, f, stride, n_H, n_W)
    # A copy of the first entry holds the running max / sum (float32 stays
    # float32; integers become float64, as in the loops).
    A = np.array(next(entries), dtype=np.result_type(A_prev, np.float32))
    combine = np.maximum if mode == "max" else np.add
    for entry in entries:
        combine(A, entry, out=A)
    if mode == "average":
        A /= f * f
    return A, (A_prev, hparameters)


@validate(partial(check_pool_backward, func="pool_backward_fast"))
def pool_backward_fast(dA, cache, mode="max"):
    """As pool_backward. dA: (m, n_H, n_W, n_C); returns dA_prev shaped like A_prev."""
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    _, n_H, n_W, _ = dA.shape
    dtype = np.result_type(dA, A_prev, np.float32)
    dA_prev = np.zeros(A_prev.shape, dtype=dtype)
    if mode == "max":
        A, _ = pool_forward_fast(A_prev, hparameters, mode="max")
        routed = np.zeros(A.shape, dtype=bool)  # has this window's gradient gone somewhere yet?
    else:
        share = (dA / (f * f)).astype(dtype, copy=False)
    # Overlapping windows (f > stride) reach one input from several windows:
    # "+=" adds their contributions, as the loops do.
    for d_entry, entry in zip(_offsets(dA_prev, f, stride, n_H, n_W), _offsets(A_prev, f, stride, n_H, n_W)):
        if mode == "max":
            # Route dA to the first input (row-major) equal to its window's maximum.
            first = (entry == A) & ~routed
            routed |= first
            d_entry += first * dA
        else:
            d_entry += share
    return dA_prev
