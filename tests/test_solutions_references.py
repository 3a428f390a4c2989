"""Independent references: SciPy's correlate/convolve and PyTorch.

SciPy gives the chapter-3 and chapter-4 formulas written a second, unrelated
way: the forward pass is a "valid" cross-correlation subsampled by the
stride; dW is the correlation of the padded input with the dilated dZ; dA_prev
is the "full" convolution of the dilated dZ with the kernel (convolve flips
it, i.e. rotates it by 180 degrees), then cropped by the padding.
PyTorch (NCHW) runs the same layers through its own kernels and autograd.
"""
import numpy as np
import pytest
from scipy import signal

import solutions as S
from tests.support import require_module

CONV = {
    "teaching": (S.conv_forward, S.conv_backward),
    "fast": (S.conv_forward_fast, S.conv_backward_fast),
}
POOL = {
    "teaching": (S.pool_forward, S.pool_backward),
    "fast": (S.pool_forward_fast, S.pool_backward_fast),
}

# (m, n_H, n_W, n_C_prev, n_C, f, stride, pad): the grading size, both
# chapter-3 worked examples, gaps (f < stride), and f = 1.
CASES = [
    (2, 5, 7, 3, 4, 3, 2, 1),
    (1, 3, 3, 1, 1, 2, 1, 0),
    (1, 5, 5, 1, 1, 3, 2, 0),
    (2, 6, 9, 2, 3, 2, 3, 2),
    (1, 7, 4, 3, 2, 4, 1, 2),
    (3, 5, 6, 2, 2, 1, 2, 1),
    (1, 8, 8, 2, 3, 3, 3, 1),
]
IDS = ["m{}-{}x{}-c{}to{}-f{}-s{}-p{}".format(*c) for c in CASES]


def make(case, seed=0):
    m, n_H, n_W, n_C_prev, n_C, f, s, p = case
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n_H, n_W, n_C_prev))
    W = rng.standard_normal((f, f, n_C_prev, n_C))
    b = rng.standard_normal((1, 1, 1, n_C))
    return A, W, b, {"stride": s, "pad": p}, rng


def scipy_conv_forward(A, W, b, s, p):
    m, _, _, n_C_prev = A.shape
    n_C = W.shape[3]
    A_pad = np.pad(A, ((0, 0), (p, p), (p, p), (0, 0)))
    out = []
    for i in range(m):
        maps = [
            sum(signal.correlate(A_pad[i, :, :, k], W[:, :, k, c], mode="valid") for k in range(n_C_prev))[::s, ::s]
            + b[0, 0, 0, c]
            for c in range(n_C)
        ]
        out.append(np.stack(maps, axis=-1))
    return np.stack(out)


def dilate(dz, s):
    """(n_H, n_W) -> ((n_H-1)s+1, (n_W-1)s+1) with s-1 zeros between entries."""
    out = np.zeros(((dz.shape[0] - 1) * s + 1, (dz.shape[1] - 1) * s + 1))
    out[::s, ::s] = dz
    return out


def scipy_conv_backward(dZ, A, W, s, p):
    m, n_H_prev, n_W_prev, n_C_prev = A.shape
    f, _, _, n_C = W.shape
    A_pad = np.pad(A, ((0, 0), (p, p), (p, p), (0, 0)))
    dA_pad = np.zeros(A_pad.shape)
    dW = np.zeros(W.shape)
    for i in range(m):
        for c in range(n_C):
            d = dilate(dZ[i, :, :, c], s)
            for k in range(n_C_prev):
                # Full convolution with the (flipped) kernel; rows/columns the
                # stride never reached stay zero at the bottom/right.
                full = signal.convolve(d, W[:, :, k, c], mode="full")
                dA_pad[i, : full.shape[0], : full.shape[1], k] += full
                dW[:, :, k, c] += signal.correlate(A_pad[i, :, :, k], d, mode="valid")[:f, :f]
    db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
    return dA_pad[:, p:p + n_H_prev, p:p + n_W_prev, :], dW, db


@pytest.mark.parametrize("impl", sorted(CONV))
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_matches_scipy(impl, case):
    forward, backward = CONV[impl]
    A, W, b, hp, rng = make(case)
    Z, cache = forward(A, W, b, hp)
    np.testing.assert_allclose(Z, scipy_conv_forward(A, W, b, hp["stride"], hp["pad"]), rtol=1e-10, atol=1e-12)
    dZ = rng.standard_normal(Z.shape)
    ours = backward(dZ, cache)
    ref = scipy_conv_backward(dZ, A, W, hp["stride"], hp["pad"])
    for got, want, name in zip(ours, ref, ("dA_prev", "dW", "db")):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"{impl} {name}")


def test_chapter3_worked_example_by_hand():
    """3x3 input, 2x2 kernel, stride 1, no pad: four dot products written out."""
    A = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    W = np.array([[1.0, 0.0], [-1.0, 2.0]]).reshape(2, 2, 1, 1)
    b = np.full((1, 1, 1, 1), 0.5)
    # [1 2; 4 5] . [1 0; -1 2] = 1 - 4 + 10 = 7, then +0.5; and so on.
    expected = np.array([[7.5, 9.5], [13.5, 15.5]]).reshape(1, 2, 2, 1)
    for forward, _ in CONV.values():
        np.testing.assert_allclose(forward(A, W, b, {"stride": 1, "pad": 0})[0], expected)


# PyTorch: NHWC <-> NCHW with permutes; W (f, f, C_in, C_out) <-> (C_out, C_in, f, f).

def torch_conv(A, W, b, s, p, dZ):
    torch = require_module("torch", "pip install torch==2.13.0")
    x = torch.tensor(A).permute(0, 3, 1, 2).requires_grad_()
    w = torch.tensor(W).permute(3, 2, 0, 1).requires_grad_()
    bias = torch.tensor(b.reshape(-1)).requires_grad_()
    z = torch.nn.functional.conv2d(x, w, bias, stride=s, padding=p)
    z.backward(torch.tensor(dZ).permute(0, 3, 1, 2))
    return (
        z.detach().permute(0, 2, 3, 1).numpy(),
        x.grad.permute(0, 2, 3, 1).numpy(),
        w.grad.permute(2, 3, 1, 0).numpy(),
        bias.grad.numpy().reshape(b.shape),
    )


@pytest.mark.parametrize("impl", sorted(CONV))
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_matches_pytorch(impl, case):
    forward, backward = CONV[impl]
    A, W, b, hp, rng = make(case, seed=1)
    Z, cache = forward(A, W, b, hp)
    dZ = rng.standard_normal(Z.shape)
    ref = torch_conv(A, W, b, hp["stride"], hp["pad"], dZ)
    ours = (Z,) + tuple(backward(dZ, cache))
    for got, want, name in zip(ours, ref, ("Z", "dA_prev", "dW", "db")):
        assert got.shape == want.shape, name
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"{impl} {name}")


POOL_CASES = [(2, 2), (3, 1), (2, 3), (3, 2), (1, 1), (4, 4)]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("impl", sorted(POOL))
@pytest.mark.parametrize("f, stride", POOL_CASES)
def test_pool_matches_pytorch(impl, mode, f, stride):
    torch = require_module("torch", "pip install torch==2.13.0")
    forward, backward = POOL[impl]
    rng = np.random.default_rng(f + 10 * stride)
    n = 2 * 8 * 9 * 3
    A = ((rng.permutation(n) - n / 2) * 0.01).reshape(2, 8, 9, 3)
    out, cache = forward(A, {"f": f, "stride": stride}, mode=mode)
    dA = rng.standard_normal(out.shape)

    x = torch.tensor(A).permute(0, 3, 1, 2).requires_grad_()
    pool = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d
    y = pool(x, kernel_size=f, stride=stride)
    y.backward(torch.tensor(dA).permute(0, 3, 1, 2))
    np.testing.assert_allclose(out, y.detach().permute(0, 2, 3, 1).numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(backward(dA, cache, mode=mode), x.grad.permute(0, 2, 3, 1).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "softmax"])
def test_activations_match_pytorch(name):
    torch = require_module("torch", "pip install torch==2.13.0")
    rng = np.random.default_rng(7)
    Z = rng.standard_normal((3, 4, 5))
    Z += 0.1 * np.sign(Z)  # keep ReLU off its kink
    dA = rng.standard_normal(Z.shape)
    z = torch.tensor(Z, requires_grad=True)
    torch_fn = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh,
                "softmax": lambda t: torch.softmax(t, dim=-1)}[name]
    a = torch_fn(z)
    a.backward(torch.tensor(dA))
    A, cache = getattr(S, name)(Z)
    np.testing.assert_allclose(A, a.detach().numpy(), rtol=1e-12, atol=1e-14)
    backwards = [getattr(S, name + "_backward")] + ([S.softmax_backward_fast] if name == "softmax" else [])
    for backward in backwards:
        np.testing.assert_allclose(backward(dA, cache), z.grad.numpy(), rtol=1e-10, atol=1e-13, err_msg=backward.__name__)
