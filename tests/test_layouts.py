"""Chapter 7's layout table: the book's NHWC arrays against the NCHW layout of
PyTorch and cs231n, through exactly the permutes the chapter prints.

    input   (m, n_H_prev, n_W_prev, n_C_prev) -> (N, C, H, W)    axes (0, 3, 1, 2), back (0, 2, 3, 1)
    weights (f, f, n_C_prev, n_C)             -> (F, C, HH, WW)  axes (3, 2, 0, 1), back (2, 3, 1, 0)
    bias    (1, 1, 1, n_C)                    -> (F,)            reshape(-1),       back reshape(1, 1, 1, -1)
    output  (m, n_H, n_W, n_C)                -> (N, F, H', W')  axes (0, 3, 1, 2), back (0, 2, 3, 1)

Gradients move with their arrays. Both layouts compute the cross-correlation,
so no kernel flip appears anywhere.
"""
import itertools

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import solutions as S
from tests.support import require_module

TO_NCHW, FROM_NCHW = (0, 3, 1, 2), (0, 2, 3, 1)
TO_FCHW, FROM_FCHW = (3, 2, 0, 1), (2, 3, 1, 0)

# (m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad): non-square, f = 1, gaps (f < stride), pads.
CASES = [dict(m=1 + k % 2, n_H=6, n_W=5 + k % 3, n_C_prev=1 + k % 3, n_C=2 + k % 2, f=f, stride=s, pad=p)
         for k, (f, s, p) in enumerate(itertools.product((1, 2, 3), (1, 2, 3), (0, 1, 2)))]
IDS = ["f{f}-s{stride}-p{pad}".format(**c) for c in CASES]


def make(case, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((case["m"], case["n_H"], case["n_W"], case["n_C_prev"]))
    W = rng.standard_normal((case["f"], case["f"], case["n_C_prev"], case["n_C"]))
    b = rng.standard_normal((1, 1, 1, case["n_C"]))
    return X, W, b, rng


def test_permutes_give_the_nchw_shapes_and_invert_each_other():
    X = np.arange(2 * 7 * 6 * 3.0).reshape(2, 7, 6, 3)      # (m, n_H_prev, n_W_prev, n_C_prev)
    W = np.arange(3 * 3 * 3 * 4.0).reshape(3, 3, 3, 4)      # (f, f, n_C_prev, n_C)
    assert X.transpose(TO_NCHW).shape == (2, 3, 7, 6)       # (N, C, H, W)
    assert W.transpose(TO_FCHW).shape == (4, 3, 3, 3)       # (F, C, HH, WW)
    np.testing.assert_array_equal(X.transpose(TO_NCHW).transpose(FROM_NCHW), X)
    np.testing.assert_array_equal(W.transpose(TO_FCHW).transpose(FROM_FCHW), W)
    # Entry by entry: pixel (n, u, v) of channel k; weight (i, j) from channel k to filter c.
    assert X.transpose(TO_NCHW)[1, 2, 5, 4] == X[1, 5, 4, 2]
    assert W.transpose(TO_FCHW)[3, 1, 0, 2] == W[0, 2, 1, 3]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_nchw_formula_is_conv_forward_under_the_permutes(case):
    """cs231n's out[n, c, h, w] = sum_{k,i,j} x_pad[n, k, h*s+i, w*s+j] w[c, k, i, j] + b[c]."""
    X, W, b, _ = make(case, seed=case["f"] * 100 + case["stride"] * 10 + case["pad"])
    s, p, f = case["stride"], case["pad"], case["f"]
    Z, _ = S.conv_forward(X, W, b, {"stride": s, "pad": p})
    x_pad = np.pad(X.transpose(TO_NCHW), ((0, 0), (0, 0), (p, p), (p, p)))
    windows = sliding_window_view(x_pad, (f, f), axis=(2, 3))[:, :, ::s, ::s]
    out = np.einsum("nkhwij,ckij->nchw", windows, W.transpose(TO_FCHW)) + b.reshape(-1)[None, :, None, None]
    assert out.shape == (case["m"], case["n_C"], Z.shape[1], Z.shape[2])
    np.testing.assert_allclose(out.transpose(FROM_NCHW), Z, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("impl", ["teaching", "fast"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_torch_conv2d_and_its_gradients_are_the_book_under_the_permutes(case, impl):
    torch = require_module("torch", "pip install -r requirements-dev.txt")
    forward, backward = {"teaching": (S.conv_forward, S.conv_backward),
                         "fast": (S.conv_forward_fast, S.conv_backward_fast)}[impl]
    X, W, b, rng = make(case, seed=case["f"] * 100 + case["stride"] * 10 + case["pad"] + 1)
    s, p = case["stride"], case["pad"]
    Z, cache = forward(X, W, b, {"stride": s, "pad": p})
    dZ = rng.standard_normal(Z.shape)
    dX, dW, db = backward(dZ, cache)

    x = torch.tensor(X.transpose(TO_NCHW), requires_grad=True)
    w = torch.tensor(W.transpose(TO_FCHW), requires_grad=True)
    bias = torch.tensor(b.reshape(-1), requires_grad=True)
    z = torch.nn.functional.conv2d(x, w, bias, stride=s, padding=p)
    z.backward(torch.tensor(dZ.transpose(TO_NCHW)))
    np.testing.assert_allclose(z.detach().numpy().transpose(FROM_NCHW), Z, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy().transpose(FROM_NCHW), dX, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy().transpose(FROM_FCHW), dW, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bias.grad.numpy().reshape(1, 1, 1, -1), db, rtol=1e-10, atol=1e-12)
