"""The one place the output-size formula lives."""


def output_size(n_prev, f, stride, pad=0):
    """Number of window positions along one spatial axis.

    A window of size f, moved in steps of `stride` over an axis of length
    n_prev padded by `pad` on both sides, fits this many times:

        n = floor((n_prev + 2 * pad - f) / stride) + 1
    """
    return (n_prev + 2 * pad - f) // stride + 1
