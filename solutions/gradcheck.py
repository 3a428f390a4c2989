"""Gradient checking: central differences and a relative-error measure (chapter 6)."""
import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of a scalar function.

    f: callable taking an array shaped like x and returning a scalar;
    x: float64 array of any shape (perturbed in place, then restored).
    Returns grad, shaped like x: (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) per entry k.
    The error is O(eps^2) plus rounding of order 1e-16 / eps.
    """
    if not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
        # An integer array would round x + eps back to x: every estimate 0.
        # (float32 runs, and chapter 6 shows why its answers are poor.)
        raise ValueError(
            f"numerical_gradient needs a floating-point NumPy array (float64 for a trustworthy check), "
            f"got {getattr(x, 'dtype', type(x).__name__)}"
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + eps
        f_plus = f(x)
        x[k] = old - eps
        f_minus = f(x)
        x[k] = old
        grad[k] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||) over all entries, 0 when both are zero.

    a, b: arrays of one shape. Around 1e-9 or below for a correct float64
    gradient checked by central differences; 1e-2 or above means a bug.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / scale)
