"""cs231n's naive convolution backward pass in NCHW, for chapter 7's layout check.

Kept out of the chapter's source on purpose: the built book ships each
chapter's source (`_sources/`), and in NHWC this loop would be the
homework's answer. The chapter states the three update lines in prose and
runs this module against its own `conv_backward`.
"""
import numpy as np


def conv_backward_naive(dout, cache):
    """dout (N, F, H', W'), cache (x, w, b, conv_param) with x (N, C, H, W), w (F, C, HH, WW), b (F,);
    returns dx, dw, db shaped like x, w, b."""
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dx_pad, dw, db = np.zeros_like(x_pad), np.zeros_like(w), np.zeros_like(b)
    for n, c, h, w_out in np.ndindex(dout.shape):
        sl = (slice(h * s, h * s + HH), slice(w_out * s, w_out * s + WW))
        db[c] += dout[n, c, h, w_out]
        dw[c] += dout[n, c, h, w_out] * x_pad[n, :, sl[0], sl[1]]
        dx_pad[n, :, sl[0], sl[1]] += dout[n, c, h, w_out] * w[c]
    return dx_pad[:, :, p:dx_pad.shape[2] - p, p:dx_pad.shape[3] - p], dw, db
