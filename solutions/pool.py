"""Pooling layer, forward and backward, written as plain loops.

Teaching versions mirroring chapter 5; the source notebook
`autograder/source/pooling/pooling.ipynb` holds these exact function bodies.
Arrays are channels-last: (m, n_H, n_W, n_C).
"""
import numpy as np

from .checks import check_distribute_value, check_pool_backward, check_pool_forward, check_window, validate
from .shapes import output_size


@validate(check_pool_forward)
def pool_forward(A_prev, hparameters, mode="max"):
    """Max or average pooling over f x f windows moved by `stride`.

    A_prev: (m, n_H_prev, n_W_prev, n_C); hparameters: {"f": f, "stride": s};
    mode: "max" or "average".
    Returns A: (m, n_H, n_W, n_C) and cache = (A_prev, hparameters).
    """
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    f = hparameters["f"]
    stride = hparameters["stride"]

    n_H = output_size(n_H_prev, f, stride)
    n_W = output_size(n_W_prev, f, stride)
    n_C = n_C_prev
    A = np.zeros((m, n_H, n_W, n_C))

    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
                    if mode == "max":
                        A[i, h, w, c] = np.max(a_prev_slice)
                    elif mode == "average":
                        A[i, h, w, c] = np.mean(a_prev_slice)

    cache = (A_prev, hparameters)
    return A, cache


@validate(check_window)
def create_mask_from_window(x):
    """Mark where the maximum of a window sits.

    x: (f, f). Returns mask: (f, f) booleans, True at the maximum. With ties
    every maximal entry is marked (chapter 5 discusses why graded cases avoid ties).
    """
    mask = x == np.max(x)
    return mask


@validate(check_distribute_value)
def distribute_value(dz, shape):
    """Spread a gradient evenly over a window, as average pooling's backward does.

    dz: a scalar; shape: (f_H, f_W), the window's size ((f, f) in pool_backward).
    Returns a: (f_H, f_W), every entry dz / (f_H * f_W), so the entries sum to dz.
    """
    (f_H, f_W) = shape
    average = dz / (f_H * f_W)
    a = np.ones(shape) * average
    return a


@validate(check_pool_backward)
def pool_backward(dA, cache, mode="max"):
    """Gradient of the loss with respect to the pooling layer's input.

    dA: (m, n_H, n_W, n_C), the upstream gradient dL/dA;
    cache: (A_prev, hparameters) from pool_forward; mode: "max" or "average".
    Returns dA_prev: (m, n_H_prev, n_W_prev, n_C).
    """
    (A_prev, hparameters) = cache
    stride = hparameters["stride"]
    f = hparameters["f"]
    (m, n_H, n_W, n_C) = dA.shape

    dA_prev = np.zeros(A_prev.shape)

    for i in range(m):
        a_prev = A_prev[i]
        for h in range(n_H):
            vert_start = h * stride
            vert_end = vert_start + f
            for w in range(n_W):
                horiz_start = w * stride
                horiz_end = horiz_start + f
                for c in range(n_C):
                    # "+=" not "=": when f > stride the windows overlap and an
                    # input collects gradient from every window that contains it.
                    if mode == "max":
                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                        mask = create_mask_from_window(a_prev_slice)
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask * dA[i, h, w, c]
                    elif mode == "average":
                        da = dA[i, h, w, c]
                        dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += distribute_value(da, (f, f))

    return dA_prev
