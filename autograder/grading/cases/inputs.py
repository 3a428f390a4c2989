"""How a graded case's inputs are built: each builder returns `build(rng) -> (args tuple, kwargs dict)`.

Trusted and never shipped; functions.py declares every case with one of these.
Graded inputs follow the DESIGN rules: max-pool windows hold distinct values
(no ties), ReLU inputs stay at least 0.1 away from 0, upstream gradients are
random (never all ones), and backward cases build their own cache.
"""
import numpy as np

import solutions


def upstream(rng, shape):
    """An upstream gradient that is not all ones: forgetting to multiply by it shows."""
    return rng.uniform(-2, 2, size=shape)


def distinct(rng, shape):
    """All values different, so no pooling window has a tied maximum."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 5.0 - 4.0


def activation(name, shape):
    """(dA, Z) of `shape` for <name>_backward."""
    def build(rng):
        Z = rng.uniform(-4, 4, size=shape)
        if name == "relu":  # away from the kink at 0
            Z = np.sign(Z) * rng.uniform(0.1, 4, size=shape)
        return (upstream(rng, shape), Z), {}
    return build


def _hparams(order, **values):
    return {k: values[k] for k in order}


def _conv_layer(rng, shape, f, n_C):
    """A_prev `shape` (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C)."""
    return (rng.standard_normal(shape), rng.standard_normal((f, f, shape[3], n_C)),
            rng.standard_normal((1, 1, 1, n_C)))


def padded(shape, pad):
    """(X, pad) for zero_pad, X of `shape`."""
    return lambda rng: ((rng.standard_normal(shape), pad), {})


def window_step(n_C_prev, f, bias):
    """(a_slice_prev, W, b) for conv_single_step: two (f, f, n_C_prev) windows and b (1, 1, 1) = bias."""
    return lambda rng: ((rng.standard_normal((f, f, n_C_prev)), rng.standard_normal((f, f, n_C_prev)),
                         np.full((1, 1, 1), bias)), {})


def conv_forward(shape, f, n_C, stride, pad, order=("stride", "pad")):
    def build(rng):
        A_prev, W, b = _conv_layer(rng, shape, f, n_C)
        return (A_prev, W, b, _hparams(order, stride=stride, pad=pad)), {}
    return build


def conv_backward(shape, f, n_C, stride, pad, order=("stride", "pad")):
    def build(rng):
        A_prev, W, b = _conv_layer(rng, shape, f, n_C)
        n_H = solutions.output_size(shape[1], f, stride, pad)
        n_W = solutions.output_size(shape[2], f, stride, pad)
        dZ = upstream(rng, (shape[0], n_H, n_W, n_C))
        return (dZ, (A_prev, W, b, _hparams(order, stride=stride, pad=pad))), {}
    return build


def pool_forward(shape, f, stride, mode, order=("f", "stride")):
    def build(rng):
        kwargs = {} if mode is None else {"mode": mode}
        return (distinct(rng, shape), _hparams(order, f=f, stride=stride)), kwargs
    return build


def pool_backward(shape, f, stride, mode, order=("f", "stride")):
    def build(rng):
        A_prev = distinct(rng, shape)
        n_H, n_W = solutions.output_size(shape[1], f, stride), solutions.output_size(shape[2], f, stride)
        dA = upstream(rng, (shape[0], n_H, n_W, shape[3]))
        return (dA, (A_prev, _hparams(order, f=f, stride=stride))), {"mode": mode}
    return build


def window(shape):
    return lambda rng: ((distinct(rng, shape),), {})


def negative_window(shape):
    return lambda rng: ((-np.abs(distinct(rng, shape)) - 0.5,), {})


def spread(dz, shape):
    """(dz, shape) for distribute_value: no randomness."""
    return lambda rng: ((dz, shape), {})
