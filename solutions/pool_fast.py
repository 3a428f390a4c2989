"""Vectorised pooling; same results as the loops in pool.py.

Instead of visiting windows one by one, visit the f*f offsets (kh, kw): the
entry at offset (kh, kw) of every window at once is one strided slice of the
input, shaped like the output. f*f whole-array operations replace
m * n_H * n_W * n_C small ones.
"""
from functools import partial

import numpy as np

from .checks import check_pool_backward, check_pool_forward, validate
from .shapes import output_size


def _offsets(X, f, stride, n_H, n_W):
    """Yield X[:, kh + stride*h, kw + stride*w, :] over (h, w) for every offset (kh, kw).

    X: (m, n_H_prev, n_W_prev, n_C). Each yielded view is (m, n_H, n_W, n_C):
    entry (kh, kw) of every window.
    """
    for kh in range(f):
        for kw in range(f):
            yield X[:, kh:kh + stride * (n_H - 1) + 1:stride, kw:kw + stride * (n_W - 1) + 1:stride, :]


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
    else:
        share = (dA / (f * f)).astype(dtype, copy=False)
    # Overlapping windows (f > stride) reach one input from several windows:
    # "+=" adds their contributions, as the loops do.
    for d_entry, entry in zip(_offsets(dA_prev, f, stride, n_H, n_W), _offsets(A_prev, f, stride, n_H, n_W)):
        if mode == "max":
            # Route dA to every input equal to its window's maximum
            # (the same tie rule as create_mask_from_window).
            d_entry += (entry == A) * dA
        else:
            d_entry += share
    return dA_prev
