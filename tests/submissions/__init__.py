"""Submissions written as code: the source notebook with solution regions replaced.

MISTAKES is a catalogue of realistic bugs, each an edit of one function's
teaching body (what a student would plausibly type) plus the set of graded
functions it may cost points on: the function itself and the ones that call it.
`known` is the key the judge's registry (autograder/grading/diagnosis/mistakes.py) names
it by ("" when the registry does not hold it), `signature` the structural
signature the judge finds when the registry does not name it (diagnose.py).
VARIANTS are correct implementations that differ from the reference (vectorised,
einsum, other loop orders, float32, first-argmax routing); they must get full marks.
"""
import json
import re
import textwrap
from dataclasses import dataclass, field

BEGIN, END = "    ### BEGIN SOLUTION\n", "\n    ### END SOLUTION"


@dataclass(frozen=True)
class Mistake:
    name: str
    assignment: str
    function: str
    edits: tuple            # ((old, new), ...) applied to the function's solution region, each old found once
    breaks: frozenset = field(default_factory=frozenset)  # functions allowed to lose points (besides `function`)
    why: str = ""
    known: str = None       # the registry key it is diagnosed as (None: the mistake's own name; "": none)
    signature: str = ""     # the structural signature of `function` when the registry leaves it out ("": none)

    @property
    def diagnosis(self):
        return self.name if self.known is None else self.known

    @property
    def allowed(self):
        return self.breaks | {self.function}


@dataclass(frozen=True)
class Variant:
    name: str
    assignment: str
    bodies: dict            # function -> new body (indented code, any common indentation)
    why: str = ""


def solution_cell(nb, function):
    """The answer cell whose grade_id is `function`."""
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == function:
            return cell
    raise KeyError(function)


def region(source, function=""):
    """(start, end) of the text between the BEGIN and END SOLUTION markers."""
    start = source.index(BEGIN) + len(BEGIN)
    return start, source.index(END, start)


def replace_body(nb, function, body):
    """Put `body` (any indentation) into `function`'s solution region; returns nb."""
    cell = solution_cell(nb, function)
    source = "".join(cell["source"])
    start, end = region(source)
    body = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
    cell["source"] = source[:start] + body + source[end:]
    return nb


def apply_edits(nb, function, edits):
    """Each (old, new) inside the solution region; one whose old starts with "def " edits the signature line."""
    cell = solution_cell(nb, function)
    source = "".join(cell["source"])
    for old, new in [e for e in edits if e[0].startswith("def ")]:
        if source.count(old) != 1:
            raise ValueError(f"{function}: {old!r} occurs {source.count(old)} times in the answer cell")
        source = source.replace(old, new)
    edits = [e for e in edits if not e[0].startswith("def ")]
    start, end = region(source)
    body = source[start:end]
    for old, new in edits:
        if body.count(old) != 1:
            raise ValueError(f"{function}: {old!r} occurs {body.count(old)} times in the solution region")
        body = body.replace(old, new)
    cell["source"] = source[:start] + body + source[end:]
    return nb


def load(path):
    return json.loads(path.read_text())


def with_mistakes(nb, mistakes):
    for m in mistakes:
        apply_edits(nb, m.function, m.edits)
    return nb


def pack(mistakes):
    """Group mistakes of one assignment into submissions whose allowed sets are disjoint.

    Each group can be graded as one notebook and each mistake still judged on its
    own: a function outside every allowed set of the group must keep full marks.
    """
    groups = []
    for m in mistakes:
        for g in groups:
            if g[0].assignment == m.assignment and all(not (x.allowed & m.allowed) for x in g):
                g.append(m)
                break
        else:
            groups.append([m])
    return groups


def E(old, new):
    return (old, new)


MISTAKES = [
    # ---- activations
    Mistake("sigmoid_derivative_of_A", "activations", "sigmoid_backward",
            (E("s, _ = sigmoid(Z)", "s = Z  # treats the cache as if it held A = sigmoid(Z)"),),
            why="sigmoid derivative applied to A instead of Z"),
    Mistake("sigmoid_forgets_dA", "activations", "sigmoid_backward",
            (E("dZ = dA * s * (1 - s)", "dZ = s * (1 - s)"),), why="local derivative without the upstream gradient"),
    Mistake("tanh_minus_sign", "activations", "tanh_backward",
            (E("dZ = dA * (1 - t**2)", "dZ = dA * (t**2 - 1)"),), why="the derivative's sign flipped",
            known="", signature="sign"),
    Mistake("relu_gates_on_dA", "activations", "relu_backward",
            (E("dZ[Z <= 0] = 0", "dZ[dA <= 0] = 0"),), why="the ReLU gate read from dA instead of Z"),
    Mistake("relu_mask_only", "activations", "relu_backward",
            (E("dZ = np.array(dA, copy=True)", "dZ = np.ones(dA.shape)"),), why="returns the mask, not dA times it"),
    Mistake("tanh_without_square", "activations", "tanh_backward",
            (E("dZ = dA * (1 - t**2)", "dZ = dA * (1 - t)"),), why="1 - tanh instead of 1 - tanh^2"),
    Mistake("tanh_forgets_dA", "activations", "tanh_backward",
            (E("dZ = dA * (1 - t**2)", "dZ = 1 - t**2"),), why="local derivative without the upstream gradient"),
    Mistake("softmax_elementwise", "activations", "softmax_backward",
            (E("""    for r in range(S_rows.shape[0]):
        s = S_rows[r]
        J = np.diag(s) - np.outer(s, s)
        dZ_rows[r] = J @ dA_rows[r]""", """    dZ_rows = dA_rows * S_rows * (1 - S_rows)  # as if softmax acted element-wise"""),),
            why="softmax treated element-wise (only the Jacobian's diagonal)"),
    # ---- convolution
    Mistake("zero_pad_all_axes", "convolution", "zero_pad",
            (E("((0, 0), (pad, pad), (pad, pad), (0, 0))", "pad"),), frozenset({"conv_forward", "conv_backward"}),
            why="pads the batch and channel axes too"),
    Mistake("zero_pad_with_ones", "convolution", "zero_pad",
            (E("constant_values=0", "constant_values=1"),), frozenset({"conv_forward", "conv_backward"}),
            why="pads with ones", known="zero_pad_ones"),
    Mistake("conv_single_step_no_bias", "convolution", "conv_single_step",
            (E("Z = Z + b.item()", "Z = Z"),), frozenset({"conv_forward"}), why="forgets the bias"),
    Mistake("conv_single_step_returns_array", "convolution", "conv_single_step",
            (E("Z = Z + b.item()\n    return float(Z)", "Z = Z + b\n    return Z"),), frozenset({"conv_forward"}),
            why="adds the (1, 1, 1) bias array and returns an array"),
    Mistake("conv_forward_hparams_by_order", "convolution", "conv_forward",
            (E('stride = hparameters["stride"]\n    pad = hparameters["pad"]', "stride, pad = hparameters.values()"),),
            why="hyper-parameters read by dict order", known="hparams_by_order",
            signature="hyper-parameters in another key order"),
    Mistake("conv_forward_stride_ignored", "convolution", "conv_forward",
            (E("vert_start = h * stride", "vert_start = h"), E("horiz_start = w * stride", "horiz_start = w")),
            why="windows moved by 1 whatever the stride", known="stride_ignored", signature="stride > 1"),
    Mistake("conv_forward_flipped_kernel", "convolution", "conv_forward",
            (E("conv_single_step(a_slice_prev, W[:, :, :, c]", "conv_single_step(a_slice_prev, W[::-1, ::-1, :, c]"),),
            why="the kernel flipped (a convolution, not the layer's cross-correlation)", known="flipped_kernel"),
    Mistake("conv_forward_first_sample_only", "convolution", "conv_forward",
            (E("a_prev_pad = A_prev_pad[i]", "a_prev_pad = A_prev_pad[0]"),),
            why="every sample's windows read from the first image", known="", signature="samples"),
    Mistake("conv_backward_crop_p_minus_p", "convolution", "conv_backward",
            (E("da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]", "da_prev_pad[pad:-pad, pad:-pad, :]"),),
            why="the p:-p crop, empty when pad = 0", known="crop_p_minus_p", signature="pad = 0"),
    Mistake("conv_backward_assign_not_accumulate", "convolution", "conv_backward",
            (E("da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += ",
               "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] = "),),
            why="= instead of += (inside the loop over c it also overwrites the other output channels' share)",
            known="assign_not_accumulate"),
    Mistake("conv_backward_stride_ignored", "convolution", "conv_backward",
            (E("vert_start = h * stride", "vert_start = h"), E("horiz_start = w * stride", "horiz_start = w")),
            why="stride ignored in the backward pass", known="stride_ignored", signature="stride > 1"),
    Mistake("conv_backward_dA_no_dilation", "convolution", "conv_backward",
            (E("da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += ",
               "da_prev_pad[h:h + f, w:w + f, :] += "),),
            why="dA_prev spread as if the stride were 1 (the dilation missing)", known="dA_no_dilation",
            signature="stride > 1"),
    Mistake("conv_backward_flipped_kernel_dA", "convolution", "conv_backward",
            (E("+= W[:, :, :, c] * dZ[i, h, w, c]", "+= W[::-1, ::-1, :, c] * dZ[i, h, w, c]"),),
            why="rot180(W) used inside the window loop", known="flipped_kernel_dA"),
    Mistake("conv_backward_dW_minus", "convolution", "conv_backward",
            (E("dW[:, :, :, c] += a_slice", "dW[:, :, :, c] -= a_slice"),), why="dW with the wrong sign",
            known="", signature="sign"),
    Mistake("conv_backward_dW_forgets_dZ", "convolution", "conv_backward",
            (E("dW[:, :, :, c] += a_slice * dZ[i, h, w, c]", "dW[:, :, :, c] += a_slice"),),
            why="dW sums the windows without their upstream gradient", known="dW_forgets_dZ"),
    Mistake("conv_backward_dW_unpadded", "convolution", "conv_backward",
            (E("a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]",
               "a_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, :]"),),
            why="dW from the unpadded input", known="dW_unpadded"),
    Mistake("conv_backward_db_wrong_shape", "convolution", "conv_backward",
            (E("db = np.zeros(b.shape)", "db = np.zeros(n_C)"), E("db[:, :, :, c] += dZ[i, h, w, c]", "db[c] += dZ[i, h, w, c]")),
            why="db of shape (n_C,) instead of (1, 1, 1, n_C)", known="db_wrong_shape"),
    Mistake("conv_backward_hparams_by_order", "convolution", "conv_backward",
            (E('stride = hparameters["stride"]\n    pad = hparameters["pad"]', "stride, pad = hparameters.values()"),),
            why="hyper-parameters read by dict order", known="hparams_by_order",
            signature="hyper-parameters in another key order"),
    # ---- pooling
    Mistake("pool_forward_hparams_by_order", "pooling", "pool_forward",
            (E('f = hparameters["f"]\n    stride = hparameters["stride"]', "f, stride = hparameters.values()"),),
            why="hyper-parameters read by dict order", known="hparams_by_order",
            signature="hyper-parameters in another key order"),
    Mistake("pool_forward_rows_cols_swapped", "pooling", "pool_forward",
            (E("A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]",
               "A_prev[i, horiz_start:horiz_end, vert_start:vert_end, c]"),),
            why="the window's rows taken from the column range", known="rows_cols_swapped"),
    Mistake("pool_forward_mode_ignored", "pooling", "pool_forward",
            (E("A[i, h, w, c] = np.mean(a_prev_slice)", "A[i, h, w, c] = np.max(a_prev_slice)"),),
            why="average mode computes the maximum", known="pool_mode_ignored"),
    Mistake("mask_max_over_one_axis", "pooling", "create_mask_from_window",
            (E("mask = x == np.max(x)", "mask = x == np.max(x, axis=0)"),), frozenset({"pool_backward"}),
            why="maximum taken along one axis only (column maxima)"),
    Mistake("average_not_divided", "pooling", "distribute_value",
            (E("average = dz / (f_H * f_W)", "average = dz"),), frozenset({"pool_backward"}),
            why="average pooling's gradient not divided by f*f", signature="factor"),
    Mistake("pool_backward_assign_not_accumulate", "pooling", "pool_backward",
            (E("horiz_start:horiz_end, c] += mask", "horiz_start:horiz_end, c] = mask"),
             E("horiz_start:horiz_end, c] += distribute_value", "horiz_start:horiz_end, c] = distribute_value")),
            why="= instead of += where windows overlap", known="assign_not_accumulate", signature="overlap"),
    Mistake("pool_backward_first_channel_gradient", "pooling", "pool_backward",
            (E("+= mask * dA[i, h, w, c]", "+= mask * dA[i, h, w, 0]"),),
            why="max pooling routes channel 0's upstream gradient in every channel", known="",
            signature="channels"),
    Mistake("pool_backward_mask_forgets_dA", "pooling", "pool_backward",
            (E("+= mask * dA[i, h, w, c]", "+= mask"),),
            why="max pooling routes 1, not the upstream gradient", known="mask_forgets_dA"),
    Mistake("pool_backward_mask_whole_feature_map", "pooling", "pool_backward",
            (E("mask = create_mask_from_window(a_prev_slice)",
               "mask = create_mask_from_window(a_prev[:, :, c])[vert_start:vert_end, horiz_start:horiz_end]"),),
            why="the mask of the whole feature map instead of the window", known="mask_whole_feature_map"),
    Mistake("pool_backward_mask_whole_volume", "pooling", "pool_backward",
            (E("mask = create_mask_from_window(a_prev_slice)",
               "mask = create_mask_from_window(a_prev[vert_start:vert_end, horiz_start:horiz_end, :])[:, :, c]"),),
            why="the mask taken over every channel of the window at once", known="mask_whole_volume"),
    Mistake("pool_backward_average_by_stride", "pooling", "pool_backward",
            (E("distribute_value(da, (f, f))", "distribute_value(da, (stride, stride))"),),
            why="average spread over stride x stride instead of f x f", known="average_by_stride"),
]


VARIANTS = [
    Variant("einsum_activations", "activations", {
        "sigmoid_backward": """
            Z = cache
            s = np.exp(-np.logaddexp(0, -Z))  # sigmoid, computed without overflow
            dZ = dA * s * (1 - s)
            return dZ
        """,
        "relu_backward": """
            Z = cache
            return np.where(Z > 0, dA, 0.0)
        """,
        "tanh_backward": """
            return dA / np.cosh(cache) ** 2  # 1 - tanh^2 = sech^2
        """,
        "softmax_backward": """
            Z = cache
            S = np.exp(Z - Z.max(axis=-1, keepdims=True))
            S /= S.sum(axis=-1, keepdims=True)
            J = np.einsum("...i,ij->...ij", S, np.eye(Z.shape[-1])) - np.einsum("...i,...j->...ij", S, S)
            return np.einsum("...ji,...j->...i", J, dA)
        """,
    }, why="vectorised activations, softmax through an einsum Jacobian"),
    Variant("float32_activations", "activations", {
        "sigmoid_backward": """
            Z = cache.astype(np.float32)
            s = 1 / (1 + np.exp(-Z))
            return (dA.astype(np.float32) * s * (1 - s)).astype(np.float32)
        """,
        "relu_backward": """
            dZ = dA.astype(np.float32)
            dZ[cache < 0] = 0
            return dZ
        """,
        "tanh_backward": """
            t = np.tanh(cache.astype(np.float32))
            return dA.astype(np.float32) * (1 - t * t)
        """,
        "softmax_backward": """
            Z = cache.astype(np.float32)
            S = np.exp(Z - Z.max(axis=-1, keepdims=True))
            S = S / S.sum(axis=-1, keepdims=True)
            dA = dA.astype(np.float32)
            return S * (dA - np.sum(dA * S, axis=-1, keepdims=True))
        """,
    }, why="everything in float32, softmax by s * (da - <s, da>)"),
    Variant("noisy_activations", "activations", {
        "sigmoid_backward": """
            import sys, warnings
            print("debugging sigmoid_backward", dA.shape, file=sys.stderr)
            warnings.warn("a warning of the student's own")
            Z = cache
            s = 1 / (1 + np.exp(-Z))
            return dA * s * (1 - s)
        """,
        "relu_backward": """
            import sys
            print("relu_backward called", file=sys.stderr)
            return dA * (cache > 0)
        """,
        "tanh_backward": """
            import warnings
            warnings.warn("deprecated in my head", DeprecationWarning)
            return dA * (1 - np.tanh(cache) ** 2)
        """,
        "softmax_backward": """
            import sys
            S = np.exp(cache) / np.exp(cache).sum(axis=-1, keepdims=True)
            print(S.sum(axis=-1).round(3), file=sys.stderr)
            return S * (dA - (dA * S).sum(axis=-1, keepdims=True))
        """,
    }, why="correct, but prints to stderr and warns: nbgrader alone would score such cells 0"),
    Variant("vectorised_conv", "convolution", {
        "zero_pad": """
            m, n_H, n_W, n_C = X.shape
            X_pad = np.zeros((m, n_H + 2 * pad, n_W + 2 * pad, n_C))
            X_pad[:, pad:pad + n_H, pad:pad + n_W, :] = X
            return X_pad
        """,
        "conv_single_step": """
            return np.einsum("ijk,ijk->", a_slice_prev, W) + b.item()
        """,
        "conv_forward": """
            s, p = hparameters["stride"], hparameters["pad"]
            f = W.shape[0]
            win = np.lib.stride_tricks.sliding_window_view(zero_pad(A_prev, p), (f, f), axis=(1, 2))
            win = win[:, ::s, ::s]                       # (m, n_H, n_W, n_C_prev, f, f)
            Z = np.einsum("mhwcij,ijcd->mhwd", win, W) + b.reshape(1, 1, 1, -1)
            return Z, (A_prev, W, b, hparameters)
        """,
        "conv_backward": """
            A_prev, W, b, hparameters = cache
            s, p = hparameters["stride"], hparameters["pad"]
            f = W.shape[0]
            m, n_H, n_W, n_C = dZ.shape
            A_pad = zero_pad(A_prev, p)
            win = np.lib.stride_tricks.sliding_window_view(A_pad, (f, f), axis=(1, 2))[:, ::s, ::s][:, :n_H, :n_W]
            dW = np.einsum("mhwcij,mhwd->ijcd", win, dZ)
            db = dZ.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
            dA_pad = np.zeros(A_pad.shape)
            for i in range(f):
                for j in range(f):
                    dA_pad[:, i:i + s * n_H:s, j:j + s * n_W:s, :] += np.einsum("mhwd,cd->mhwc", dZ, W[i, j])
            dA_prev = dA_pad[:, p:p + A_prev.shape[1], p:p + A_prev.shape[2], :]
            return dA_prev, dW, db
        """,
    }, why="sliding windows and einsum; col2im by kernel offset"),
    Variant("loop_orders_conv", "convolution", {
        "conv_single_step": """
            total = 0.0
            for idx in np.ndindex(W.shape):
                total += a_slice_prev[idx] * W[idx]
            return total + b.reshape(-1)[0]
        """,
        "conv_forward": """
            stride, pad = hparameters["stride"], hparameters["pad"]
            m = A_prev.shape[0]
            f, _, _, n_C = W.shape
            n_H = output_size(A_prev.shape[1], f, stride, pad)
            n_W = output_size(A_prev.shape[2], f, stride, pad)
            A_pad = zero_pad(A_prev, pad)
            Z = np.empty((m, n_H, n_W, n_C))
            for c in range(n_C):
                for w in range(n_W):
                    for h in range(n_H):
                        for i in range(m):
                            window = A_pad[i, h * stride:h * stride + f, w * stride:w * stride + f]
                            Z[i, h, w, c] = conv_single_step(window, W[..., c], b[..., c])
            return Z, (A_prev, W, b, hparameters)
        """,
        "conv_backward": """
            A_prev, W, b, hparameters = cache
            stride, pad = hparameters["stride"], hparameters["pad"]
            f = W.shape[0]
            m, n_H, n_W, n_C = dZ.shape
            A_pad = zero_pad(A_prev, pad)
            dA_pad = np.zeros_like(A_pad)
            dW = np.zeros_like(W)
            db = np.sum(dZ, axis=(0, 1, 2), keepdims=True)
            for c in range(n_C):
                for kh in range(f):
                    for kw in range(f):
                        rows = slice(kh, kh + stride * n_H, stride)
                        cols = slice(kw, kw + stride * n_W, stride)
                        for i in range(m):
                            dW[kh, kw, :, c] += np.tensordot(dZ[i, :, :, c], A_pad[i, rows, cols, :], axes=([0, 1], [0, 1]))
                            dA_pad[i, rows, cols, :] += dZ[i, :, :, c, None] * W[kh, kw, :, c]
            H, Wd = A_prev.shape[1:3]
            return dA_pad[:, pad:pad + H, pad:pad + Wd, :], dW, db
        """,
    }, why="other loop orders: channels outer, kernel offsets instead of windows"),
    Variant("float32_conv", "convolution", {
        "conv_forward": """
            stride, pad = hparameters["stride"], hparameters["pad"]
            f, _, n_C_prev, n_C = W.shape
            A32, W32 = zero_pad(A_prev, pad).astype(np.float32), W.astype(np.float32)
            n_H = output_size(A_prev.shape[1], f, stride, pad)
            n_W = output_size(A_prev.shape[2], f, stride, pad)
            Z = np.zeros((A_prev.shape[0], n_H, n_W, n_C), dtype=np.float32)
            for h in range(n_H):
                for w in range(n_W):
                    window = A32[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
                    Z[:, h, w, :] = np.tensordot(window, W32, axes=3) + b.reshape(n_C).astype(np.float32)
            return Z, (A_prev, W, b, hparameters)
        """,
        "conv_backward": """
            A_prev, W, b, hparameters = cache
            stride, pad = hparameters["stride"], hparameters["pad"]
            f = W.shape[0]
            m, n_H, n_W, n_C = dZ.shape
            A32, W32, dZ32 = zero_pad(A_prev, pad).astype(np.float32), W.astype(np.float32), dZ.astype(np.float32)
            dA32 = np.zeros(A32.shape, dtype=np.float32)
            dW = np.zeros(W.shape, dtype=np.float32)
            for h in range(n_H):
                for w in range(n_W):
                    rows, cols = slice(h * stride, h * stride + f), slice(w * stride, w * stride + f)
                    dA32[:, rows, cols, :] += np.einsum("mc,ijkc->mijk", dZ32[:, h, w, :], W32)
                    dW += np.einsum("mijk,mc->ijkc", A32[:, rows, cols, :], dZ32[:, h, w, :])
            db = dZ32.sum(axis=(0, 1, 2)).reshape(1, 1, 1, n_C)
            return dA32[:, pad:pad + A_prev.shape[1], pad:pad + A_prev.shape[2], :], dW, db
        """,
    }, why="float32 arithmetic, one batched product per output position"),
    Variant("first_argmax_pooling", "pooling", {
        "create_mask_from_window": """
            mask = np.zeros(x.shape, dtype=bool)
            mask[np.unravel_index(np.argmax(x), x.shape)] = True  # the first maximum only
            return mask
        """,
        "distribute_value": """
            f_H, f_W = shape
            return np.full(shape, dz / (f_H * f_W))
        """,
        "pool_backward": """
            A_prev, hparameters = cache
            f, stride = hparameters["f"], hparameters["stride"]
            dA_prev = np.zeros(A_prev.shape)
            m, n_H, n_W, n_C = dA.shape
            for i, h, w, c in np.ndindex(m, n_H, n_W, n_C):
                r, s = h * stride, w * stride
                if mode == "max":
                    window = A_prev[i, r:r + f, s:s + f, c]
                    kh, kw = np.unravel_index(np.argmax(window), window.shape)
                    dA_prev[i, r + kh, s + kw, c] += dA[i, h, w, c]
                else:
                    dA_prev[i, r:r + f, s:s + f, c] += dA[i, h, w, c] / (f * f)
            return dA_prev
        """,
    }, why="routes each gradient to the first argmax, no mask array"),
    Variant("vectorised_pooling", "pooling", {
        "pool_forward": """
            f, stride = hparameters["f"], hparameters["stride"]
            win = np.lib.stride_tricks.sliding_window_view(A_prev, (f, f), axis=(1, 2))[:, ::stride, ::stride]
            A = win.max(axis=(4, 5)) if mode == "max" else win.mean(axis=(4, 5))
            return A, (A_prev, hparameters)
        """,
        "pool_backward": """
            A_prev, hparameters = cache
            f, stride = hparameters["f"], hparameters["stride"]
            m, n_H, n_W, n_C = dA.shape
            dA_prev = np.zeros(A_prev.shape, dtype=np.float32)
            A = pool_forward(A_prev, hparameters, mode)[0]
            for kh in range(f):
                for kw in range(f):
                    rows = slice(kh, kh + stride * n_H, stride)
                    cols = slice(kw, kw + stride * n_W, stride)
                    if mode == "max":
                        dA_prev[:, rows, cols, :] += (A_prev[:, rows, cols, :] == A) * dA
                    else:
                        dA_prev[:, rows, cols, :] += dA / (f * f)
            return dA_prev
        """,
    }, why="sliding windows; the backward by kernel offset, accumulated in float32"),
]


# ---------------------------------------------------------------- in-process grading (no kernel)

def functions(nb, assignment):
    """Run the notebook's code cells (not its test cells) in one namespace, in-process; returns it.

    The first cell imports the assignment's helper module from the source folder, as in Jupyter.
    """
    import sys
    from .course import ROOT
    folder = str(ROOT / "autograder" / "source" / assignment)
    namespace = {"__name__": "student"}
    sys.path.insert(0, folder)
    try:
        for cell in nb["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if cell["cell_type"] != "code" or (meta.get("grade") and not meta.get("solution")):
                continue
            exec(compile("".join(cell["source"]), f"<{meta.get('grade_id', 'cell')}>", "exec"), namespace)
    finally:
        sys.path.remove(folder)
    return namespace


def records(assignment, namespace):
    """[(grade_id, exchange.Record)] for every graded case, as grader_record would have recorded them:
    the student's function called on the judge's inputs, its result encoded and decoded as the exchange does."""
    import contextlib
    import io
    import traceback
    import warnings
    from autograder.grading import cases, exchange
    out = []
    for case in cases.for_assignment(assignment):
        args, kwargs = case.inputs()
        func = namespace[case.function]
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("always")
            try:
                result = func(*args, **kwargs)
            except Exception as e:  # recorded as grader_record does (the shipped helper module)
                lines = traceback.format_exception(type(e), e, e.__traceback__.tb_next)
                out.append((case.grade_id, exchange.Record(raised={"type": type(e).__name__,
                                                                   "message": str(e)[:2000],
                                                                   "traceback": "".join(lines)[-4000:]})))
                continue
        out.append((case.grade_id, exchange_record(result, [f"{w.category.__name__}: {w.message}" for w in caught])))
    return out


def exchange_record(result, warnings=()):
    """The exchange.Record the judge would read back after a kernel recorded `result`."""
    import numpy as np
    from autograder.grading import exchange
    arrays = {}
    encoded = exchange.encode(result, arrays)
    decoded = exchange._decode(encoded, {k: np.array(v, copy=True) for k, v in arrays.items()})
    return exchange.Record(result=decoded, warnings=warnings)


from .real_style import REAL_MISTAKES  # noqa: E402  (real-style classes: tests/test_diagnose.py runs both lists)
