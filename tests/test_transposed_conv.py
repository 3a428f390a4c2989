"""Chapter 4's transposed convolution (eq-conv-transpose), checked two ways.

The book writes the input gradient of a convolution with stride s and padding p
as one operation on the upstream gradient dZ: dilate it (s - 1 zeros between
entries), pad it by f - 1 - p rings of zeros plus a_H rows at the bottom and
a_W columns at the right (the rows and columns no window read), correlate with
the kernel rotated by 180 degrees, and sum over output channels. That is the
transposed convolution of PyTorch's `conv_transpose2d` with the same stride,
padding and `output_padding = (a_H, a_W)`, and it is `dA_prev` of
`solutions.conv_backward`.
"""
import numpy as np
import pytest
from scipy.signal import correlate2d

from tests.support import require_module
from solutions import conv_backward, conv_forward, output_size

# (f, s, p) with p <= f - 1 (where eq-conv-transpose applies): f = 1, gaps
# between windows (f < s), overlaps (f > s), and every padding up to f - 1.
KERNELS = [(f, s, p) for f in (1, 2, 3, 4, 5) for s in (1, 2, 3) for p in range(f)]
# (n_H_prev, n_W_prev): square, rectangular, and sizes that leave rows unread.
SIZES = [(5, 5), (6, 7), (8, 5), (9, 10)]
# (m, n_C_prev, n_C): one channel, and a batch with several channels each way.
CHANNELS = [(1, 1, 1), (2, 3, 2)]


def dilate(dZ2d, s):
    """Put s - 1 zeros between neighbouring entries (eq-conv-dilate)."""
    rows, cols = dZ2d.shape
    D = np.zeros((s * (rows - 1) + 1, s * (cols - 1) + 1))
    D[::s, ::s] = dZ2d
    return D


def book_conv_transpose(dZ, W, s, p, n_H_prev, n_W_prev):
    """eq-conv-transpose written as the book writes it.

    dZ: (m, n_H, n_W, n_C); W: (f, f, n_C_prev, n_C), the forward weights.
    Returns (m, n_H_prev, n_W_prev, n_C_prev).
    """
    m, _, _, n_C = dZ.shape
    f, _, n_C_prev, _ = W.shape
    a_H = (n_H_prev + 2 * p - f) % s
    a_W = (n_W_prev + 2 * p - f) % s
    q = f - 1 - p
    out = np.zeros((m, n_H_prev, n_W_prev, n_C_prev))
    for n in range(m):
        for k in range(n_C_prev):
            for c in range(n_C):
                D_pad = np.pad(dilate(dZ[n, :, :, c], s), ((q, q + a_H), (q, q + a_W)))
                out[n, :, :, k] += correlate2d(D_pad, W[::-1, ::-1, k, c], mode="valid")
    return out


def cases(f, s, p):
    """Every size and channel layout for one kernel, as (name, dZ, W, n_H_prev, n_W_prev)."""
    rng = np.random.default_rng(1000 * f + 100 * s + p)
    for n_H_prev, n_W_prev in SIZES:
        if n_H_prev + 2 * p < f or n_W_prev + 2 * p < f:
            continue
        n_H, n_W = output_size(n_H_prev, f, s, p), output_size(n_W_prev, f, s, p)
        for m, n_C_prev, n_C in CHANNELS:
            name = (f"f={f} s={s} p={p} input {n_H_prev}x{n_W_prev} m={m} "
                    f"n_C_prev={n_C_prev} n_C={n_C}")
            yield (name, rng.normal(size=(m, n_H, n_W, n_C)),
                   rng.normal(size=(f, f, n_C_prev, n_C)), n_H_prev, n_W_prev)


@pytest.mark.parametrize("f, s, p", KERNELS, ids=[f"f{f}-s{s}-p{p}" for f, s, p in KERNELS])
def test_book_formula_is_pytorchs_conv_transpose2d(f, s, p):
    """Same stride and padding, output_padding = (a_H, a_W), the weight tensor
    permuted to (n_C, n_C_prev, f, f), exactly the one the forward conv2d takes."""
    torch = require_module("torch", "pip install torch==2.13.0 (requirements-dev.txt)")
    for name, dZ, W, n_H_prev, n_W_prev in cases(f, s, p):
        a = ((n_H_prev + 2 * p - f) % s, (n_W_prev + 2 * p - f) % s)
        theirs = torch.nn.functional.conv_transpose2d(
            torch.tensor(dZ).permute(0, 3, 1, 2), torch.tensor(W).permute(3, 2, 0, 1),
            stride=s, padding=p, output_padding=a).permute(0, 2, 3, 1).numpy()
        ours = book_conv_transpose(dZ, W, s, p, n_H_prev, n_W_prev)
        assert theirs.shape == ours.shape, name
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("f, s, p", KERNELS, ids=[f"f{f}-s{s}-p{p}" for f, s, p in KERNELS])
def test_book_formula_is_the_input_gradient_of_conv_backward(f, s, p):
    for name, dZ, W, n_H_prev, n_W_prev in cases(f, s, p):
        m, n_C_prev = dZ.shape[0], W.shape[2]
        A_prev = np.random.default_rng(7).normal(size=(m, n_H_prev, n_W_prev, n_C_prev))
        _, cache = conv_forward(A_prev, W, np.zeros((1, 1, 1, W.shape[3])), {"stride": s, "pad": p})
        dA_prev, _, _ = conv_backward(dZ, cache)
        np.testing.assert_allclose(book_conv_transpose(dZ, W, s, p, n_H_prev, n_W_prev), dA_prev,
                                   rtol=1e-10, atol=1e-12, err_msg=name)


def test_output_padding_is_needed_when_rows_are_unread():
    """Without the extra a_H rows (symmetric padding only) the formula misses input
    rows whenever the windows leave some unread: the a_H, a_W of the book matter."""
    f, s, p, n_H_prev = 3, 2, 1, 6                       # a_H = (6 + 2 - 3) % 2 = 1
    rng = np.random.default_rng(0)
    n_H = output_size(n_H_prev, f, s, p)
    dZ = rng.normal(size=(n_H, n_H))
    W = rng.normal(size=(f, f))
    symmetric = correlate2d(np.pad(dilate(dZ, s), f - 1 - p), W[::-1, ::-1], mode="valid")
    assert symmetric.shape == (n_H_prev - 1, n_H_prev - 1)
    full = book_conv_transpose(dZ.reshape(1, n_H, n_H, 1), W.reshape(f, f, 1, 1), s, p,
                               n_H_prev, n_H_prev)[0, :, :, 0]
    assert full.shape == (n_H_prev, n_H_prev)
    np.testing.assert_allclose(full[:-1, :-1], symmetric)
    assert np.abs(full[-1, :]).max() > 0.1, "the last row is read by the padding ring: not zero"


def test_upsampling_layer_doubles_the_size():
    """Chapter 4: f = 4, s = 2, p = 1 maps n_H to exactly 2 n_H (and back, forwards)."""
    for n_H in (1, 3, 7):
        n_up = 2 * (n_H - 1) + 4 - 2
        assert n_up == 2 * n_H
        assert output_size(n_up, 4, 2, 1) == n_H
