"""Every graded function, declared once: everything the grader knows about it, in one place.

Trusted and never shipped. A `GradedFunction` holds a graded name's
assignment, its reference's module in `solutions`, what it returns (the
outputs the judge compares, by name, with their comparator, and the cache a
forward pass returns), how to read its hyper-parameters from a case's inputs,
the graded functions it calls, the equations each output cites, and its cases.
The registries the rest of the grader reads are derived here:

    FUNCTIONS     {name: GradedFunction}, in solutions.GRADED's order
    CASES         [Case], ordered as the notebooks are (cases.py keys them by grade_id)
    JUDGES        {name: judge(got, ref, args, kwargs)}          (cases.JUDGES)
    OUTPUT_NAMES  {name: {output: index in the returned tuple}}   (signatures.OUTPUT_NAMES)
    HYPER         {name: hyper(args, kwargs) -> dict}             (signatures.hyper)
    MODULES       {name: module name in solutions}                (mistakes.MODULES)
    CALLS         {name: (graded helper, ...)}                    (mistakes.CALLS)
    EQ            {topic: equation labels}: the one table of labels (mistakes' CH2, PAD, FWD, ...)

Adding a graded function: autograder/GRADING.md, "Adding a graded function";
tests/test_functions.py fails when FUNCTIONS and solutions.GRADED disagree.
This module imports no diagnosis (diagnose.py, mistakes.py and signatures.py import it).
"""
from dataclasses import dataclass, field

import solutions

from . import inputs
from .compare import compare_array, compare_cache, compare_mask, compare_scalar, compare_sequence
from .draws import rng

# ---------------------------------------------------------------- the chapters' equations, by topic

EQ = {
    "sigmoid": ("eq-sigmoid-grad",),
    "relu": ("eq-relu-grad",),
    "tanh": ("eq-tanh-grad",),
    "softmax": ("eq-softmax-jacobian", "eq-softmax-backward"),
    "pad": ("eq-zero-pad",),
    "forward": ("eq-conv-forward",),
    "size": ("eq-output-size",),
    "db": ("eq-conv-db",),
    "dw": ("eq-conv-dw",),
    "dx": ("eq-conv-dx", "eq-conv-dx-full"),
    "dilate": ("eq-conv-dilate",),
    "maxpool": ("eq-maxpool",),
    "avgpool": ("eq-avgpool",),
    "maxback": ("eq-maxpool-backward",),
    "avgback": ("eq-avgpool-backward",),
}


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


@dataclass(frozen=True)
class Output:
    """One output the judge compares: its name (the Mismatch's `what`) and its comparator."""
    name: str
    compare: callable = compare_array   # compare(name, got, ref) raises Mismatch


@dataclass(frozen=True)
class GradedFunction:
    name: str
    assignment: str
    module: str              # the reference's module, e.g. "solutions.conv" (known mistakes edit its source)
    outputs: tuple           # (Output, ...) in the order the judge compares them
    returns: tuple = ()      # the names of a returned tuple's items, ("Z", "cache"); () for a single value
    cache: tuple = ()        # the inputs a returned "cache" must hold, compared with the case's args
    hyper: callable = None   # (args, kwargs) -> {"f", "stride", "pad", "order", "size"}: whatever applies
    calls: tuple = ()        # the graded functions it calls: a failing helper explains its callers' failures
    equations: dict = field(default_factory=dict)  # output (or "*") -> every label its cases may cite
    cases: tuple = ()        # (Case, ...) in notebook order

    def judge(self, got, ref, args, kwargs):
        """Raise Mismatch when `got` is not `ref` (the reference's result on args, kwargs)."""
        if not self.returns:
            self.outputs[0].compare(self.outputs[0].name, got, ref)
            return
        parts = compare_sequence(self.name, got, len(self.returns), list(self.returns))
        for out in self.outputs:
            k = self.returns.index(out.name)
            out.compare(out.name, parts[k], ref[k])
        if self.cache:
            compare_cache(parts[self.returns.index("cache")], args, list(self.cache))


def _declare(name, assignment, module, outputs, cases, equations, **facts):
    """A GradedFunction whose cases are (suffix, build, about, points, seed[, equations]); a case's
    equations default to the function's."""
    built = tuple(Case(f"{name}__{suffix}", assignment, build, about, points, seed,
                       dict(rest[0] if rest else equations))
                  for suffix, build, about, points, seed, *rest in cases)
    return GradedFunction(name, assignment, module, tuple(outputs), equations=equations, cases=built, **facts)


# ---------------------------------------------------------------- activations

def _activation(topic, seeds, shapes):
    return _declare(f"{topic}_backward", "activations", "solutions.activations", [Output("dZ")],
                    [(suffix, inputs.activation(topic, shape), about, 2, seed)
                     for seed, (suffix, shape, about) in zip(seeds, shapes)],
                    {"*": EQ[topic]})


_BATCHES = [("vector", (7,), "a vector of 7 values"), ("matrix", (4, 5), "a (4, 5) matrix"),
            ("nhwc", (2, 3, 4, 5), "an NHWC batch")]
_ROWS = [("one_row", (1, 6), "one row of 6 scores"), ("matrix", (5, 4), "5 rows of 4 scores"),
         ("nhwc", (2, 3, 3, 4), "an NHWC batch, softmax over the channels")]

SIGMOID_BACKWARD = _activation("sigmoid", (11, 12, 13), _BATCHES)
RELU_BACKWARD = _activation("relu", (11, 12, 13), _BATCHES)
TANH_BACKWARD = _activation("tanh", (11, 12, 13), _BATCHES)
SOFTMAX_BACKWARD = _activation("softmax", (21, 22, 23), _ROWS)

# ---------------------------------------------------------------- convolution

ZERO_PAD = _declare(
    "zero_pad", "convolution", "solutions.conv", [Output("X_pad")], [
        ("pad2", inputs.padded((2, 3, 4, 2), 2), "pad = 2", 1, 31),
        ("pad0", inputs.padded((2, 4, 4, 3), 0), "pad = 0 (nothing to add)", 1, 32),
        ("nonsquare_m1", inputs.padded((1, 2, 5, 1), 1), "a non-square single image with one channel", 1, 33),
    ], {"*": EQ["pad"]},
    hyper=lambda args, kwargs: {"pad": args[1]})

CONV_SINGLE_STEP = _declare(
    "conv_single_step", "convolution", "solutions.conv", [Output("Z", compare_scalar)], [
        ("random", inputs.window_step(3, 3, 0.4), "a 3x3x3 window", 1, 41),
        ("single_channel", inputs.window_step(1, 2, 1.5), "a 2x2x1 window", 1, 42),
        ("negative_bias", inputs.window_step(4, 4, -2.25), "a 4x4x4 window, b < 0", 1, 43),
    ], {"*": EQ["forward"]})

# (suffix, shape, f, n_C, stride, pad, key order, about): conv_forward's and conv_backward's cases
_LAYERS = [
    ("stride1_pad1", (2, 5, 5, 3), 3, 4, 1, 1, ("stride", "pad"), "stride 1, pad 1 ('same' size)"),
    ("pad0", (2, 5, 6, 2), 3, 3, 1, 0, ("stride", "pad"), "pad 0"),
    ("stride2_overlap", (2, 7, 7, 3), 3, 2, 2, 1, ("stride", "pad"), "stride 2 < f = 3: windows overlap"),
    ("stride3_gaps", (2, 8, 8, 2), 2, 3, 3, 1, ("stride", "pad"), "stride 3 > f = 2: gaps between windows"),
    ("nonsquare_m1", (1, 4, 7, 2), 3, 2, 1, 2, ("stride", "pad"), "one non-square image, pad 2"),
    ("single_channel", (3, 5, 5, 1), 2, 1, 1, 0, ("stride", "pad"), "one input and one output channel"),
    ("hparams_pad_first", (2, 6, 5, 2), 3, 2, 2, 1, ("pad", "stride"),
     "hparameters given as {'pad': .., 'stride': ..}: read them by key"),
]

CONV_FORWARD = _declare(
    "conv_forward", "convolution", "solutions.conv", [Output("Z")], [
        (suffix, inputs.conv_forward(shape, f, n_C, s, p, order), about, 2, 50 + k)
        for k, (suffix, shape, f, n_C, s, p, order, about) in enumerate(_LAYERS)
    ], {"Z": EQ["forward"] + EQ["size"], "*": EQ["forward"]},
    returns=("Z", "cache"), cache=("A_prev", "W", "b", "hparameters"),
    hyper=lambda args, kwargs: {"f": args[1].shape[0], **args[3], "order": tuple(args[3])},
    calls=("zero_pad", "conv_single_step"))


def _conv_backward_equations(stride):
    """dA_prev cites the dilation of dZ only where the stride dilates it."""
    return {"db": EQ["db"], "dW": EQ["dw"], "dA_prev": EQ["dx"] + (EQ["dilate"] if stride > 1 else ()),
            "*": EQ["db"] + EQ["dw"] + EQ["dx"][:1]}


CONV_BACKWARD = _declare(
    "conv_backward", "convolution", "solutions.conv", [Output("db"), Output("dW"), Output("dA_prev")], [
        (suffix, inputs.conv_backward(shape, f, n_C, s, p, order),
         about + (" (a crop written p:-p is empty there)" if p == 0 else "") + "; dZ random", 2, 60 + k,
         _conv_backward_equations(s))
        for k, (suffix, shape, f, n_C, s, p, order, about) in enumerate(_LAYERS)
    ], _conv_backward_equations(2),
    returns=("dA_prev", "dW", "db"),
    hyper=lambda args, kwargs: {"f": args[1][1].shape[0], **args[1][3], "order": tuple(args[1][3])},
    calls=("zero_pad",))

# ---------------------------------------------------------------- pooling

# (suffix, shape, f, stride, mode, key order, about): pool_forward's and pool_backward's cases
_POOLS = [
    ("max_f2_s2", (2, 4, 4, 3), 2, 2, "max", ("f", "stride"), "max, f = stride = 2"),
    ("average_f2_s2", (2, 4, 4, 3), 2, 2, "average", ("f", "stride"), "average, f = stride = 2"),
    ("max_f3_s2_overlap", (2, 7, 7, 2), 3, 2, "max", ("f", "stride"), "max, f = 3 > stride = 2: windows overlap"),
    ("average_f3_s1_overlap", (1, 5, 5, 2), 3, 1, "average", ("f", "stride"), "average, f = 3 > stride = 1"),
    ("max_f2_s3_gaps", (2, 8, 8, 1), 2, 3, "max", ("f", "stride"), "max, stride 3 > f = 2: gaps"),
    ("average_nonsquare_m1", (1, 4, 6, 1), 2, 2, "average", ("f", "stride"), "average, one non-square image"),
    ("max_hparams_stride_first", (2, 6, 5, 2), 3, 2, "max", ("stride", "f"),
     "hparameters given as {'stride': .., 'f': ..}: read them by key"),
]
_POOL = {"max": EQ["maxpool"], "average": EQ["avgpool"]}
_POOL_BACK = {"max": EQ["maxback"], "average": EQ["avgback"]}

POOL_FORWARD = _declare(
    "pool_forward", "pooling", "solutions.pool", [Output("A")], [
        (suffix, inputs.pool_forward(shape, f, s, mode, order), about, 2, 70 + k,
         {"*": _POOL[mode], "A": _POOL[mode] + EQ["size"]})
        for k, (suffix, shape, f, s, mode, order, about) in enumerate(_POOLS)
    ] + [("default_mode", inputs.pool_forward((1, 4, 4, 2), 2, 2, None), "mode not given: the default is 'max'",
          1, 77, {"*": EQ["maxpool"]})],
    {"*": EQ["maxpool"] + EQ["avgpool"], "A": EQ["maxpool"] + EQ["avgpool"] + EQ["size"]},
    returns=("A", "cache"), cache=("A_prev", "hparameters"),
    hyper=lambda args, kwargs: {**args[1], "order": tuple(args[1])})

CREATE_MASK_FROM_WINDOW = _declare(
    "create_mask_from_window", "pooling", "solutions.pool", [Output("mask", compare_mask)], [
        ("2x2", inputs.window((2, 2)), "a 2x2 window", 1, 81),
        ("3x3_negative", inputs.negative_window((3, 3)), "a 3x3 window of negative values", 1, 82),
        ("4x4", inputs.window((4, 4)), "a 4x4 window", 1, 83),
    ], {"*": EQ["maxback"]})

DISTRIBUTE_VALUE = _declare(
    "distribute_value", "pooling", "solutions.pool", [Output("a")], [
        ("2x2", inputs.spread(1.6, (2, 2)), "dz = 1.6 over 2x2", 1, 91),
        ("3x3_negative", inputs.spread(-2.7, (3, 3)), "dz = -2.7 over 3x3", 1, 92),
        ("nonsquare", inputs.spread(3.0, (2, 3)), "dz = 3 over 2x3", 1, 93),
    ], {"*": EQ["avgback"]},
    hyper=lambda args, kwargs: {"size": args[1][0] * args[1][1]})

POOL_BACKWARD = _declare(
    "pool_backward", "pooling", "solutions.pool", [Output("dA_prev")], [
        (suffix, inputs.pool_backward(shape, f, s, mode, order), about + "; dA random", 2, 100 + k,
         {"*": _POOL_BACK[mode]})
        for k, (suffix, shape, f, s, mode, order, about) in enumerate(_POOLS)
    ], {"*": EQ["maxback"] + EQ["avgback"]},
    hyper=lambda args, kwargs: {**args[1][1], "order": tuple(args[1][1])},
    calls=("create_mask_from_window", "distribute_value"))

# ---------------------------------------------------------------- the derived registries

FUNCTIONS = {f.name: f for f in (
    SIGMOID_BACKWARD, RELU_BACKWARD, TANH_BACKWARD, SOFTMAX_BACKWARD,
    ZERO_PAD, CONV_SINGLE_STEP, CONV_FORWARD, CONV_BACKWARD,
    POOL_FORWARD, CREATE_MASK_FROM_WINDOW, DISTRIBUTE_VALUE, POOL_BACKWARD)}

CASES = [case for f in FUNCTIONS.values() for case in f.cases]
JUDGES = {name: f.judge for name, f in FUNCTIONS.items()}
OUTPUT_NAMES = {name: {out.name: f.returns.index(out.name) for out in f.outputs}
                for name, f in FUNCTIONS.items() if f.returns}
HYPER = {name: f.hyper for name, f in FUNCTIONS.items() if f.hyper is not None}
MODULES = {name: f.module for name, f in FUNCTIONS.items()}
CALLS = {name: f.calls for name, f in FUNCTIONS.items() if f.calls}


def disagreements(declared=None, graded=None):
    """Where the declarations (FUNCTIONS) and the graded API (solutions.GRADED) disagree, in sentences:
    a name one side lacks, an assignment or an order that differs, a declaration without cases."""
    declared = FUNCTIONS if declared is None else declared
    graded = solutions.GRADED if graded is None else graded
    assignment_of = {name: a for a, names in graded.items() for name in names}
    out = [f"{name} is graded ({assignment_of[name]}) but has no declaration"
           for name in assignment_of if name not in declared]
    out += [f"{name} is declared but not in solutions.GRADED" for name in declared if name not in assignment_of]
    out += [f"{name} is declared in {f.assignment} but graded in {assignment_of[name]}"
            for name, f in declared.items() if name in assignment_of and f.assignment != assignment_of[name]]
    for a, names in graded.items():
        order = [name for name in declared if assignment_of.get(name) == a]
        if set(order) == set(names) and order != list(names):
            out.append(f"{a}: declared in the order {order}, graded in the order {list(names)}")
    out += [f"{name} declares no cases" for name, f in declared.items() if not f.cases]
    return out
