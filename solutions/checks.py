"""Input validation for the graded API.

Every check raises ValueError with a message that names the shapes involved,
so a student who passes the wrong array learns what was expected. The
teaching functions stay free of this bookkeeping: `validate` attaches a check
to a function as a decorator.
"""
import functools
import numbers
import threading

import numpy as np

from .shapes import output_size


_inside = threading.local()


def validate(check):
    """Decorator: run check(*args, **kwargs) before the decorated function.

    Only the outermost call is checked: conv_forward's inner calls to
    conv_single_step were built from inputs it has already validated, and
    checking them again would only slow the loops down.
    """

    def decorate(func):
        @functools.wraps(func)
        def checked(*args, **kwargs):
            if getattr(_inside, "active", False):
                return func(*args, **kwargs)
            check(*args, **kwargs)
            _inside.active = True
            try:
                return func(*args, **kwargs)
            finally:
                _inside.active = False

        return checked

    return decorate


def _shape(x):
    return getattr(x, "shape", type(x).__name__)


def _array(name, x, ndim, layout):
    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array {layout}, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions {layout}, got shape {x.shape}")


def _hparam(hparameters, key, minimum, func):
    if not isinstance(hparameters, dict):
        raise ValueError(f"{func}: hparameters must be a dict, got {type(hparameters).__name__}")
    if key not in hparameters:
        raise ValueError(
            f"{func}: hparameters is missing the key {key!r} (it has {sorted(hparameters)})"
        )
    value = hparameters[key]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{func}: hparameters[{key!r}] must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _fits(func, n_H_prev, n_W_prev, f, stride, pad):
    n_H = output_size(n_H_prev, f, stride, pad)
    n_W = output_size(n_W_prev, f, stride, pad)
    if n_H < 1 or n_W < 1:
        raise ValueError(
            f"{func}: a {f}x{f} window does not fit a {n_H_prev}x{n_W_prev} input "
            f"with pad={pad}, stride={stride} (output would be {n_H}x{n_W})"
        )
    return n_H, n_W


def check_zero_pad(X, pad):
    _array("zero_pad: X", X, 4, "(m, n_H, n_W, n_C)")
    if not isinstance(pad, numbers.Integral) or isinstance(pad, bool) or pad < 0:
        raise ValueError(f"zero_pad: pad must be an integer >= 0, got {pad!r}")


def check_conv_single_step(a_slice_prev, W, b):
    _array("conv_single_step: a_slice_prev", a_slice_prev, 3, "(f, f, n_C_prev)")
    _array("conv_single_step: W", W, 3, "(f, f, n_C_prev)")
    if a_slice_prev.shape != W.shape:
        raise ValueError(
            f"conv_single_step: a_slice_prev {a_slice_prev.shape} and W {W.shape} must have the same shape"
        )
    if np.size(b) != 1:
        raise ValueError(f"conv_single_step: b must hold one number, shape (1, 1, 1), got {_shape(b)}")


def check_conv_forward(A_prev, W, b, hparameters, func="conv_forward"):
    """Validate conv_forward's arguments; return the output shape (m, n_H, n_W, n_C)."""
    _array(f"{func}: A_prev", A_prev, 4, "(m, n_H_prev, n_W_prev, n_C_prev)")
    _array(f"{func}: W", W, 4, "(f, f, n_C_prev, n_C)")
    _array(f"{func}: b", b, 4, "(1, 1, 1, n_C)")
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f2, w_C_prev, n_C = W.shape
    if f != f2 or f < 1:
        raise ValueError(f"{func}: W must hold square f x f filters, got shape {W.shape}")
    if w_C_prev != n_C_prev:
        raise ValueError(
            f"{func}: channel mismatch: A_prev {A_prev.shape} has {n_C_prev} channels "
            f"but W {W.shape} expects {w_C_prev}"
        )
    if b.shape != (1, 1, 1, n_C):
        raise ValueError(f"{func}: b must have shape (1, 1, 1, {n_C}) to match W {W.shape}, got {b.shape}")
    stride = _hparam(hparameters, "stride", 1, func)
    pad = _hparam(hparameters, "pad", 0, func)
    n_H, n_W = _fits(func, n_H_prev, n_W_prev, f, stride, pad)
    return (m, n_H, n_W, n_C)


def check_conv_backward(dZ, cache, func="conv_backward"):
    if not isinstance(cache, tuple) or len(cache) != 4:
        raise ValueError(f"{func}: cache must be the tuple (A_prev, W, b, hparameters) from conv_forward")
    expected = check_conv_forward(*cache, func=func)
    _array(f"{func}: dZ", dZ, 4, "(m, n_H, n_W, n_C)")
    if dZ.shape != expected:
        raise ValueError(f"{func}: dZ has shape {dZ.shape} but the cached forward pass produced Z of shape {expected}")


def check_pool_forward(A_prev, hparameters, mode="max", func="pool_forward"):
    """Validate pool_forward's arguments; return the output shape (m, n_H, n_W, n_C)."""
    _array(f"{func}: A_prev", A_prev, 4, "(m, n_H_prev, n_W_prev, n_C)")
    if mode not in ("max", "average"):
        raise ValueError(f"{func}: mode must be 'max' or 'average', got {mode!r}")
    f = _hparam(hparameters, "f", 1, func)
    stride = _hparam(hparameters, "stride", 1, func)
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H, n_W = _fits(func, n_H_prev, n_W_prev, f, stride, 0)
    return (m, n_H, n_W, n_C)


def check_pool_backward(dA, cache, mode="max", func="pool_backward"):
    if not isinstance(cache, tuple) or len(cache) != 2:
        raise ValueError(f"{func}: cache must be the tuple (A_prev, hparameters) from pool_forward")
    expected = check_pool_forward(*cache, mode=mode, func=func)
    _array(f"{func}: dA", dA, 4, "(m, n_H, n_W, n_C)")
    if dA.shape != expected:
        raise ValueError(f"{func}: dA has shape {dA.shape} but the cached forward pass produced A of shape {expected}")


def check_window(x):
    _array("create_mask_from_window: x", x, 2, "(f, f)")
    if x.size == 0:
        raise ValueError(f"create_mask_from_window: x is empty, shape {x.shape}")


def check_distribute_value(dz, shape):
    if np.size(dz) != 1:
        raise ValueError(f"distribute_value: dz must be a single number, got shape {_shape(dz)}")
    if (
        not isinstance(shape, tuple)
        or len(shape) != 2
        or not all(isinstance(n, numbers.Integral) and n >= 1 for n in shape)
    ):
        raise ValueError(f"distribute_value: shape must be a tuple (n_H, n_W) of positive ints, got {shape!r}")


def check_activation(Z):
    if not isinstance(Z, np.ndarray):
        raise ValueError(f"Z must be a NumPy array, got {type(Z).__name__}")


def check_activation_backward(dA, cache):
    if not isinstance(dA, np.ndarray) or not isinstance(cache, np.ndarray):
        raise ValueError(
            f"dA and cache (= Z) must be NumPy arrays, got {type(dA).__name__} and {type(cache).__name__}"
        )
    if dA.shape != cache.shape:
        raise ValueError(f"dA has shape {dA.shape} but the cached Z has shape {cache.shape}; they must match")


def check_softmax(Z):
    check_activation(Z)
    if Z.ndim < 1 or Z.shape[-1] < 1:
        raise ValueError(f"softmax works along the last axis, which must be non-empty; got shape {Z.shape}")


def check_softmax_backward(dA, cache):
    check_activation_backward(dA, cache)
    check_softmax(cache)
