"""Vectorised convolution: im2col by strided views and matrix products.

Forward: im2col (every window as one row) times the filters reshaped to a matrix.
Backward: for stride 1, shifted matrix products on the flattened padded grid
(see _backward_shifted); for larger strides, im2col for dW and col2im for dA_prev.

Same contract and results as the loops in conv.py (tests prove it), for the
benchmarks, the book's timing chapter and the digits CNN.
"""
from functools import partial

import numpy as np

from .checks import check_conv_backward, check_conv_forward, validate
from .shapes import output_size
from .windows import add_windows, pad_spatial, windows

# The layers work on a few images at a time, sized so that one batch's im2col
# matrix (or shifted rows) stays in the CPU cache across the matrix products
# that reuse it. Purely a speed-up: every sum is the same.
BATCH_BYTES = 2**20


def _batches(m, bytes_per_image):
    """Slices of range(m), each covering about BATCH_BYTES of work (at least one image)."""
    step = max(1, BATCH_BYTES // bytes_per_image)
    return [slice(i, min(i + step, m)) for i in range(0, m, step)]


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
    dtype = np.result_type(A_prev, W, b, np.float32)  # float32 stays float32; integers become float64
    W2 = W.astype(dtype, copy=False).reshape(f * f * n_C_prev, n_C)

    Z = np.empty((m, n_H, n_W, n_C), dtype=dtype)
    for batch in _batches(m, n_H * n_W * f * f * n_C_prev * dtype.itemsize):
        # im2col: one row of f*f*n_C_prev inputs per output position.
        A_pad = pad_spatial(A_prev[batch].astype(dtype, copy=False), pad)
        cols = windows(A_pad, f, stride, n_H, n_W).reshape(-1, f * f * n_C_prev)
        np.matmul(cols, W2, out=Z[batch].reshape(-1, n_C))
    Z += b.reshape(n_C)
    return Z, (A_prev, W, b, hparameters)


@validate(partial(check_conv_backward, func="conv_backward_fast"))
def conv_backward_fast(dZ, cache):
    """As conv_backward. dZ: (m, n_H, n_W, n_C); returns dA_prev, dW, db shaped like A_prev, W, b."""
    A_prev, W, b, hparameters = cache
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    _, n_H, n_W, _ = dZ.shape
    dtype = np.result_type(dZ, A_prev, W, np.float32)
    dZ = dZ.astype(dtype, copy=False)
    W = W.astype(dtype, copy=False)

    # Stride 1 (the common case) has a copy-free formulation; larger strides
    # leave gaps that make it wasteful, so they go through im2col / col2im.
    backward = _backward_shifted if stride == 1 else _backward_im2col
    dA_prev = np.empty(A_prev.shape, dtype=dtype)
    dW = np.zeros(W.shape, dtype=dtype)
    for batch in _batches(m, n_H * n_W * f * f * n_C_prev * dtype.itemsize):
        A_pad = pad_spatial(A_prev[batch].astype(dtype, copy=False), pad)
        dA_pad, dW_batch = backward(dZ[batch], A_pad, W, stride)
        # Padding only added zeros in the forward pass: crop their gradient away.
        dA_prev[batch] = dA_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
        dW += dW_batch  # dW sums over every image of the batch
    # db[c] = sum of dZ[..., c] over every position: ones^T dZ as one matrix
    # product, many times faster than NumPy's sum over the leading axes.
    dZ_rows = dZ.reshape(-1, n_C)
    db = (np.ones(len(dZ_rows), dtype=dtype) @ dZ_rows).reshape(1, 1, 1, n_C)
    return dA_prev, dW, db


def _backward_im2col(dZ, A_pad, W, stride):
    """dZ: (m, n_H, n_W, n_C); A_pad: (m, H, W_, n_C_prev) padded input; W: (f, f, n_C_prev, n_C).
    Returns dA_pad shaped like A_pad and dW shaped like W.
    """
    m, n_H, n_W, n_C = dZ.shape
    f, _, n_C_prev, _ = W.shape
    dZ2 = dZ.reshape(m * n_H * n_W, n_C)
    cols = windows(A_pad, f, stride, n_H, n_W).reshape(m * n_H * n_W, f * f * n_C_prev)
    # dW[k, c] = sum over positions of input(k) * dZ(c): a correlation of the
    # padded input with dZ, written as one matrix product.
    dW = (cols.T @ dZ2).reshape(W.shape)
    # Each window's inputs receive W * dZ; overlapping windows add (col2im).
    dcols = (dZ2 @ W.reshape(f * f * n_C_prev, n_C).T).reshape(m, n_H, n_W, f, f, n_C_prev)
    dA_pad = np.zeros(A_pad.shape, dtype=dZ.dtype)
    add_windows(dA_pad, dcols, stride)
    return dA_pad, dW


def _backward_shifted(dZ, A_pad, W, stride=1):
    """Stride-1 backward as 2 f^2 matrix products on contiguous row blocks, no im2col.

    dZ: (m, n_H, n_W, n_C); A_pad: (m, H, W_, n_C_prev) padded input; W: (f, f, n_C_prev, n_C).
    Returns dA_pad shaped like A_pad and dW shaped like W.

    Flatten A_pad to rows, one per pixel: pixel (i, y, x) is row r = (i H + y) W_ + x.
    The window of output (i, h, w) starts at the row r of pixel (i, h, w), and
    its entry (kh, kw) is row r + o with o = kh W_ + kw: a fixed shift. Put dZ
    on the same grid (E: dZ[i, h, w] at row r, zeros elsewhere); then, as sums
    over all rows r,
        dW[kh, kw]      = sum_r A[r + o]^T E[r]     (one GEMM per offset)
        dA[r + o]      += E[r] W[kh, kw]^T          (one GEMM and one add per offset)
    Rows of E where no window starts are zero and add nothing, so both are exact.
    """
    m, H, W_, n_C_prev = A_pad.shape
    f, _, _, n_C = W.shape
    _, n_H, n_W, _ = dZ.shape
    A_rows = A_pad.reshape(m * H * W_, n_C_prev)
    E = np.zeros((m, H, W_, n_C), dtype=dZ.dtype)
    E[:, :n_H, :n_W, :] = dZ
    # The last window starts at row n - 1: past it E is zero, and every r + o stays in range.
    n = m * H * W_ - (f - 1) * W_ - (f - 1)
    E_rows = E.reshape(m * H * W_, n_C)[:n]

    dW = np.empty(W.shape, dtype=dZ.dtype)
    dA_rows = np.zeros(A_rows.shape, dtype=dZ.dtype)
    product = np.empty((n, n_C_prev), dtype=dZ.dtype)
    for kh in range(f):
        for kw in range(f):
            o = kh * W_ + kw
            np.matmul(A_rows[o:o + n].T, E_rows, out=dW[kh, kw])
            np.matmul(E_rows, W[kh, kw].T, out=product)
            dA_rows[o:o + n] += product
    return dA_rows.reshape(A_pad.shape), dW
