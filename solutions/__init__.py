"""Reference solutions for Backprop Through CNNs.

The graded API (teaching versions, plain loops): zero_pad, conv_single_step,
conv_forward, conv_backward; pool_forward, create_mask_from_window,
distribute_value, pool_backward; sigmoid, relu, tanh, softmax and their
*_backward. Vectorised versions carry a `_fast` suffix. Arrays are NHWC.
"""
from .activations import (
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    softmax_backward_fast,
    tanh,
    tanh_backward,
)
from .conv import conv_backward, conv_forward, conv_single_step, zero_pad
from .conv_fast import conv_backward_fast, conv_forward_fast
from .gradcheck import numerical_gradient, relative_error
from .pool import create_mask_from_window, distribute_value, pool_backward, pool_forward
from .pool_fast import pool_backward_fast, pool_forward_fast
from .shapes import output_size

GRADED = {
    "activations": [
        "sigmoid_backward",
        "relu_backward",
        "tanh_backward",
        "softmax_backward",
    ],
    "convolution": ["zero_pad", "conv_single_step", "conv_forward", "conv_backward"],
    "pooling": ["pool_forward", "create_mask_from_window", "distribute_value", "pool_backward"],
}

__all__ = [name for name in dir() if not name.startswith("_") and name != "GRADED"] + ["GRADED"]
