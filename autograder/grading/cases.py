"""Every graded case: grade_id -> inputs, reference, comparison, points, equation.

Trusted and never shipped. The judge (execute.py) builds a case's inputs from
the case's seed, the course's secret seed and the student's id (`drawing`),
hands them to the kernel through the exchange folder, rebuilds
them itself, computes the reference with the `solutions` package and compares
it with what the kernel recorded. `CASES` is ordered as the notebooks are;
tools/make_notebooks.py writes one test cell per case, with these points.

Graded inputs follow the DESIGN rules: max-pool windows hold distinct values
(no ties), ReLU inputs stay at least 0.1 away from 0, upstream gradients are
random (never all ones), and backward cases build their own cache.
"""
import inspect
from dataclasses import dataclass, field

import numpy as np

import solutions

from . import citations
from .compare import (RTOL, Mismatch, compare_array, compare_cache, compare_mask,  # noqa: F401 (the registry's names)
                      compare_scalar, compare_sequence, short)
from .draws import SEED_FILE, course_seed, drawing, per_draw, rng  # noqa: F401


@dataclass(frozen=True)
class Case:
    grade_id: str
    assignment: str
    build: callable          # rng -> (args tuple, kwargs dict)
    about: str               # what the case exercises, in words
    points: int = 2
    seed: int = 0
    equations: dict = field(default_factory=dict)  # output name (or "*") -> equation labels to cite

    @property
    def function(self):
        return self.grade_id.split("__")[0]

    def inputs(self):
        """(args, kwargs), rebuilt every time (fresh arrays nobody else has touched): from the case's
        seed, and within `drawing(...)` from the course seed and the student's id too."""
        return self.build(rng(self.seed))

    def reference(self):
        args, kwargs = self.inputs()
        return getattr(solutions, self.function)(*args, **kwargs)


# ---------------------------------------------------------------- judging one function's result

def _judge_activation(got, ref, args, kwargs):
    compare_array("dZ", got, ref)


def _judge_conv_forward(got, ref, args, kwargs):
    Z, cache = compare_sequence("conv_forward", got, 2, ["Z", "cache"])
    compare_array("Z", Z, ref[0])
    compare_cache(cache, args, ["A_prev", "W", "b", "hparameters"])


def _judge_conv_backward(got, ref, args, kwargs):
    grads = compare_sequence("conv_backward", got, 3, ["dA_prev", "dW", "db"])
    for name, g, r in zip(["db", "dW", "dA_prev"], grads[::-1], ref[::-1]):
        compare_array(name, g, r)


def _judge_pool_forward(got, ref, args, kwargs):
    A, cache = compare_sequence("pool_forward", got, 2, ["A", "cache"])
    compare_array("A", A, ref[0])
    compare_cache(cache, args, ["A_prev", "hparameters"])


JUDGES = {
    "sigmoid_backward": _judge_activation,
    "relu_backward": _judge_activation,
    "tanh_backward": _judge_activation,
    "softmax_backward": _judge_activation,
    "zero_pad": lambda got, ref, a, k: compare_array("X_pad", got, ref),
    "conv_single_step": lambda got, ref, a, k: compare_scalar("Z", got, ref),
    "conv_forward": _judge_conv_forward,
    "conv_backward": _judge_conv_backward,
    "pool_forward": _judge_pool_forward,
    "create_mask_from_window": lambda got, ref, a, k: compare_mask("mask", got, ref),
    "distribute_value": lambda got, ref, a, k: compare_array("a", got, ref),
    "pool_backward": lambda got, ref, a, k: compare_array("dA_prev", got, ref),
}


def judge(case, result):
    """Raise Mismatch when `result` (decoded from the kernel) is not the reference's answer.

    The reference is ours: an error there is raised as it is. Any error while
    comparing the kernel's result with it is the result's: a Mismatch.
    """
    args, kwargs = case.inputs()
    ref = case.reference()
    try:
        JUDGES[case.function](result, ref, args, kwargs)
    except Mismatch:
        raise
    except Exception as e:
        raise Mismatch("*", f"the result {short(result, 120)} cannot be compared with the expected one "
                       f"({type(e).__name__}: {str(e)[:200]})") from None


def describe_inputs(case):
    """The inputs in words: argument names with shapes, hyper-parameters and small values."""
    args, kwargs = case.inputs()
    params = list(inspect.signature(getattr(solutions, case.function)).parameters)
    bound = dict(zip(params, args), **kwargs)

    def show(value, top=True):
        if isinstance(value, np.ndarray):
            if top and value.size <= 9:
                return np.array2string(value, precision=3, separator=", ").replace("\n", "")
            return f"of shape {value.shape}"
        if isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value):
            return "(" + ", ".join(show(v, False) for v in value) + ")"
        return repr(value)

    return "; ".join(f"{k} {show(v)}" for k, v in bound.items())


def citation(case, what):
    """What to re-read when output `what` is wrong: "chapter 4, eq. (4.3): <link to it in the book>"."""
    labels = case.equations.get(what) or case.equations.get("*")
    return citations.cite(labels) if labels else ""


# ---------------------------------------------------------------- input builders

def _upstream(rng, shape):
    """An upstream gradient that is not all ones: forgetting to multiply by it shows."""
    return rng.uniform(-2, 2, size=shape)


def _distinct(rng, shape):
    """All values different, so no pooling window has a tied maximum."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 5.0 - 4.0


def _activation(name, shape):
    def build(rng):
        Z = rng.uniform(-4, 4, size=shape)
        if name == "relu":  # away from the kink at 0
            Z = np.sign(Z) * rng.uniform(0.1, 4, size=shape)
        return (_upstream(rng, shape), Z), {}
    return build


def _hparams(order, **values):
    return {k: values[k] for k in order}


def _conv_layer(rng, shape, f, n_C):
    return (rng.standard_normal(shape), rng.standard_normal((f, f, shape[3], n_C)),
            rng.standard_normal((1, 1, 1, n_C)))


def _conv_forward(shape, f, n_C, stride, pad, order=("stride", "pad")):
    def build(rng):
        A_prev, W, b = _conv_layer(rng, shape, f, n_C)
        return (A_prev, W, b, _hparams(order, stride=stride, pad=pad)), {}
    return build


def _conv_backward(shape, f, n_C, stride, pad, order=("stride", "pad")):
    def build(rng):
        A_prev, W, b = _conv_layer(rng, shape, f, n_C)
        n_H = solutions.output_size(shape[1], f, stride, pad)
        n_W = solutions.output_size(shape[2], f, stride, pad)
        dZ = _upstream(rng, (shape[0], n_H, n_W, n_C))
        return (dZ, (A_prev, W, b, _hparams(order, stride=stride, pad=pad))), {}
    return build


def _pool_forward(shape, f, stride, mode, order=("f", "stride")):
    def build(rng):
        kwargs = {} if mode is None else {"mode": mode}
        return (_distinct(rng, shape), _hparams(order, f=f, stride=stride)), kwargs
    return build


def _pool_backward(shape, f, stride, mode, order=("f", "stride")):
    def build(rng):
        A_prev = _distinct(rng, shape)
        n_H, n_W = solutions.output_size(shape[1], f, stride), solutions.output_size(shape[2], f, stride)
        dA = _upstream(rng, (shape[0], n_H, n_W, shape[3]))
        return (dA, (A_prev, _hparams(order, f=f, stride=stride))), {"mode": mode}
    return build


def _window(shape):
    return lambda rng: ((_distinct(rng, shape),), {})


def _negative_window(shape):
    return lambda rng: ((-np.abs(_distinct(rng, shape)) - 0.5,), {})


# ---------------------------------------------------------------- the registry

def _cases():
    ch2 = {
        "sigmoid": ("eq-sigmoid-grad",),
        "relu": ("eq-relu-grad",),
        "tanh": ("eq-tanh-grad",),
        "softmax": ("eq-softmax-jacobian", "eq-softmax-backward"),
    }
    out = []
    for name in ["sigmoid", "relu", "tanh"]:
        eq = {"*": ch2[name]}
        out += [
            Case(f"{name}_backward__vector", "activations", _activation(name, (7,)), "a vector of 7 values", 2, 11, eq),
            Case(f"{name}_backward__matrix", "activations", _activation(name, (4, 5)), "a (4, 5) matrix", 2, 12, eq),
            Case(f"{name}_backward__nhwc", "activations", _activation(name, (2, 3, 4, 5)), "an NHWC batch", 2, 13, eq),
        ]
    eq = {"*": ch2["softmax"]}
    out += [
        Case("softmax_backward__one_row", "activations", _activation("softmax", (1, 6)), "one row of 6 scores", 2, 21, eq),
        Case("softmax_backward__matrix", "activations", _activation("softmax", (5, 4)), "5 rows of 4 scores", 2, 22, eq),
        Case("softmax_backward__nhwc", "activations", _activation("softmax", (2, 3, 3, 4)),
             "an NHWC batch, softmax over the channels", 2, 23, eq),
    ]

    eq_pad = {"*": ("eq-zero-pad",)}
    out += [
        Case("zero_pad__pad2", "convolution", lambda r: ((r.standard_normal((2, 3, 4, 2)), 2), {}),
             "pad = 2", 1, 31, eq_pad),
        Case("zero_pad__pad0", "convolution", lambda r: ((r.standard_normal((2, 4, 4, 3)), 0), {}),
             "pad = 0 (nothing to add)", 1, 32, eq_pad),
        Case("zero_pad__nonsquare_m1", "convolution", lambda r: ((r.standard_normal((1, 2, 5, 1)), 1), {}),
             "a non-square single image with one channel", 1, 33, eq_pad),
    ]
    eq_step = {"*": ("eq-conv-forward",)}

    def step(n_C_prev, f, bias):
        return lambda r: ((r.standard_normal((f, f, n_C_prev)), r.standard_normal((f, f, n_C_prev)),
                           np.full((1, 1, 1), bias)), {})

    out += [
        Case("conv_single_step__random", "convolution", step(3, 3, 0.4), "a 3x3x3 window", 1, 41, eq_step),
        Case("conv_single_step__single_channel", "convolution", step(1, 2, 1.5), "a 2x2x1 window", 1, 42, eq_step),
        Case("conv_single_step__negative_bias", "convolution", step(4, 4, -2.25), "a 4x4x4 window, b < 0", 1, 43, eq_step),
    ]
    # (suffix, shape, f, n_C, stride, pad, key order, about); "(the slice p:-p ...)" is said of the backward only
    layers = [
        ("stride1_pad1", (2, 5, 5, 3), 3, 4, 1, 1, ("stride", "pad"), "stride 1, pad 1 ('same' size)"),
        ("pad0", (2, 5, 6, 2), 3, 3, 1, 0, ("stride", "pad"), "pad 0"),
        ("stride2_overlap", (2, 7, 7, 3), 3, 2, 2, 1, ("stride", "pad"), "stride 2 < f = 3: windows overlap"),
        ("stride3_gaps", (2, 8, 8, 2), 2, 3, 3, 1, ("stride", "pad"), "stride 3 > f = 2: gaps between windows"),
        ("nonsquare_m1", (1, 4, 7, 2), 3, 2, 1, 2, ("stride", "pad"), "one non-square image, pad 2"),
        ("single_channel", (3, 5, 5, 1), 2, 1, 1, 0, ("stride", "pad"), "one input and one output channel"),
        ("hparams_pad_first", (2, 6, 5, 2), 3, 2, 2, 1, ("pad", "stride"),
         "hparameters given as {'pad': .., 'stride': ..}: read them by key"),
    ]
    eq_fwd = {"Z": ("eq-conv-forward", "eq-output-size"), "*": ("eq-conv-forward",)}
    for k, (suffix, shape, f, n_C, s, p, order, about) in enumerate(layers):
        out.append(Case(f"conv_forward__{suffix}", "convolution", _conv_forward(shape, f, n_C, s, p, order),
                        about, 2, 50 + k, eq_fwd))
    for k, (suffix, shape, f, n_C, s, p, order, about) in enumerate(layers):
        dx = ("eq-conv-dx", "eq-conv-dx-full") + (("eq-conv-dilate",) if s > 1 else ())
        eq_bwd = {"db": ("eq-conv-db",), "dW": ("eq-conv-dw",), "dA_prev": dx,
                  "*": ("eq-conv-db", "eq-conv-dw", "eq-conv-dx")}
        if p == 0:
            about += " (a crop written p:-p is empty there)"
        out.append(Case(f"conv_backward__{suffix}", "convolution", _conv_backward(shape, f, n_C, s, p, order),
                        about + "; dZ random", 2, 60 + k, eq_bwd))

    pools = [
        ("max_f2_s2", (2, 4, 4, 3), 2, 2, "max", ("f", "stride"), "max, f = stride = 2"),
        ("average_f2_s2", (2, 4, 4, 3), 2, 2, "average", ("f", "stride"), "average, f = stride = 2"),
        ("max_f3_s2_overlap", (2, 7, 7, 2), 3, 2, "max", ("f", "stride"), "max, f = 3 > stride = 2: windows overlap"),
        ("average_f3_s1_overlap", (1, 5, 5, 2), 3, 1, "average", ("f", "stride"), "average, f = 3 > stride = 1"),
        ("max_f2_s3_gaps", (2, 8, 8, 1), 2, 3, "max", ("f", "stride"), "max, stride 3 > f = 2: gaps"),
        ("average_nonsquare_m1", (1, 4, 6, 1), 2, 2, "average", ("f", "stride"), "average, one non-square image"),
        ("max_hparams_stride_first", (2, 6, 5, 2), 3, 2, "max", ("stride", "f"),
         "hparameters given as {'stride': .., 'f': ..}: read them by key"),
    ]
    for k, (suffix, shape, f, s, mode, order, about) in enumerate(pools):
        pool = "eq-maxpool" if mode == "max" else "eq-avgpool"
        eq = {"*": (pool,), "A": (pool, "eq-output-size")}
        out.append(Case(f"pool_forward__{suffix}", "pooling", _pool_forward(shape, f, s, mode, order), about, 2, 70 + k, eq))
    out.append(Case("pool_forward__default_mode", "pooling", _pool_forward((1, 4, 4, 2), 2, 2, None),
                    "mode not given: the default is 'max'", 1, 77, {"*": ("eq-maxpool",)}))
    eq_mask = {"*": ("eq-maxpool-backward",)}
    out += [
        Case("create_mask_from_window__2x2", "pooling", _window((2, 2)), "a 2x2 window", 1, 81, eq_mask),
        Case("create_mask_from_window__3x3_negative", "pooling", _negative_window((3, 3)),
             "a 3x3 window of negative values", 1, 82, eq_mask),
        Case("create_mask_from_window__4x4", "pooling", _window((4, 4)), "a 4x4 window", 1, 83, eq_mask),
    ]
    eq_dist = {"*": ("eq-avgpool-backward",)}
    out += [
        Case("distribute_value__2x2", "pooling", lambda r: ((1.6, (2, 2)), {}), "dz = 1.6 over 2x2", 1, 91, eq_dist),
        Case("distribute_value__3x3_negative", "pooling", lambda r: ((-2.7, (3, 3)), {}), "dz = -2.7 over 3x3", 1, 92, eq_dist),
        Case("distribute_value__nonsquare", "pooling", lambda r: ((3.0, (2, 3)), {}), "dz = 3 over 2x3", 1, 93, eq_dist),
    ]
    for k, (suffix, shape, f, s, mode, order, about) in enumerate(pools):
        eq = {"*": (f"eq-{'maxpool' if mode == 'max' else 'avgpool'}-backward",)}
        out.append(Case(f"pool_backward__{suffix}", "pooling", _pool_backward(shape, f, s, mode, order),
                        about + "; dA random", 2, 100 + k, eq))
    return out


CASES = {case.grade_id: case for case in _cases()}


def for_assignment(assignment):
    """The assignment's cases in notebook order."""
    return [case for case in CASES.values() if case.assignment == assignment]
