"""Sliding windows as strided views (no copies): the basis of the fast layers."""
import numpy as np
from numpy.lib.stride_tricks import as_strided


def pad_spatial(X, pad):
    """Zero-pad the spatial axes of X: (m, n_H, n_W, n_C) -> (m, n_H + 2p, n_W + 2p, n_C).

    Allocating and assigning is several times cheaper than np.pad on small arrays.
    """
    if pad == 0:
        return X
    m, n_H, n_W, n_C = X.shape
    X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C), dtype=X.dtype)
    X_pad[:, pad:pad + n_H, pad:pad + n_W, :] = X
    return X_pad


def windows(X, f, stride, n_H, n_W):
    """Read-only view of every f x f window of X.

    X: (m, H, W, n_C). Returns (m, n_H, n_W, f, f, n_C) where
    [i, h, w] is X[i, h*stride : h*stride + f, w*stride : w*stride + f, :].
    """
    s_m, s_h, s_w, s_c = X.strides
    m, _, _, n_C = X.shape
    return as_strided(
        X,
        shape=(m, n_H, n_W, f, f, n_C),
        strides=(s_m, s_h * stride, s_w * stride, s_h, s_w, s_c),
        writeable=False,
    )


def add_windows(dX, dwin, stride):
    """Adjoint of `windows`: add each window's gradient back where it came from.

    dX: (m, H, W, n_C), accumulated in place; dwin: (m, n_H, n_W, f, f, n_C).
    One strided add per kernel offset (kh, kw) instead of one per window.
    """
    _, n_H, n_W, f, _, _ = dwin.shape
    for kh in range(f):
        for kw in range(f):
            dX[:, kh:kh + stride * n_H:stride, kw:kw + stride * n_W:stride, :] += dwin[:, :, :, kh, kw, :]
