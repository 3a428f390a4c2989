"""Real-style mistakes: the classes of mistakes.py's `mistakes_seen` entries, found in real students' code
(public Coursera C4W1 solutions studied outside the repository) and written here as our own edits of the
teaching bodies, one catalogue entry per class (or per way of writing it).

Kept apart from MISTAKES so the tests and benchmarks that grade the older catalogue end to end keep their
size; the diagnosis tests (tests/test_diagnose.py) run both.
"""
from . import E, Mistake

STEP = (E("for h in range(n_H):", "for h in range(0, n_H, stride):"),
        E("for w in range(n_W):", "for w in range(0, n_W, stride):"),
        E("vert_start = h * stride", "vert_start = h"), E("horiz_start = w * stride", "horiz_start = w"))
BODY_ALIAS_LOOP = """mask = x
    for r in range(x.shape[0]):
        for s in range(x.shape[1]):
            mask[r, s] = 1 if x[r, s] == np.max(x) else 0"""
BODY_ALIAS_VECTOR = """mask = x
    mask[mask != np.max(x)] = 0
    mask[mask == np.max(x)] = 1"""

REAL_MISTAKES = [
    # ---- conv_single_step's bias, and what it breaks in conv_forward (a cascade)
    Mistake("conv_single_step_float_of_b", "convolution", "conv_single_step",
            (E("Z = Z + b.item()", "Z = Z + float(b)"),), frozenset({"conv_forward"}),
            why="float(b) of the (1, 1, 1) bias, as the Coursera template asks: NumPy 2 raises", known="float_of_b"),
    Mistake("conv_single_step_bias_in_sum", "convolution", "conv_single_step",
            (E("s = a_slice_prev * W", "s = a_slice_prev * W + b"), E("Z = Z + b.item()", "Z = Z")),
            frozenset({"conv_forward"}), why="the bias added to every product before the sum", known="bias_in_sum"),
    Mistake("conv_forward_bias_in_sum", "convolution", "conv_forward",
            (E("Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])",
               "Z[i, h, w, c] = np.sum(a_slice_prev * W[:, :, :, c] + b[0, 0, 0, c])"),),
            why="conv_single_step written inline, the bias inside the sum", known="bias_in_sum"),
    # ---- the cache unpacked after its hyper-parameters are read
    Mistake("conv_backward_hparameters_before_cache", "convolution", "conv_backward",
            (E("(A_prev, W, b, hparameters) = cache",
               'stride = hparameters["stride"]\n    (A_prev, W, b, hparameters) = cache'),),
            why="stride read from hparameters above the line that unpacks the cache", known="hparameters_before_cache"),
    # ---- windows
    Mistake("conv_forward_loop_step_stride", "convolution", "conv_forward", STEP,
            why="loops stepping by the stride, windows starting at h", known="loop_step_stride", signature="stride > 1"),
    Mistake("pool_forward_loop_step_stride", "pooling", "pool_forward", STEP,
            why="loops stepping by the stride, windows starting at h", known="loop_step_stride", signature="stride > 1"),
    Mistake("conv_forward_slice_without_example", "convolution", "conv_forward",
            (E("a_slice_prev = a_prev_pad[vert_start", "a_slice_prev = A_prev_pad[vert_start"),),
            why="the window cut from the whole padded batch, without i", known="slice_without_example"),
    Mistake("pool_forward_slice_without_example", "pooling", "pool_forward",
            (E("A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]",
               "A_prev[vert_start:vert_end, horiz_start:horiz_end, c]"),),
            why="the window cut without the example index", known="slice_without_example"),
    Mistake("pool_backward_slice_without_example", "pooling", "pool_backward",
            (E("a_prev_slice = a_prev[vert_start", "a_prev_slice = A_prev[vert_start"),),
            why="the max window cut from A_prev without the example index", known="slice_without_example"),
    Mistake("pool_backward_stride_ignored", "pooling", "pool_backward",
            (E("vert_start = h * stride", "vert_start = h"), E("horiz_start = w * stride", "horiz_start = w")),
            why="windows moved by 1 whatever the stride", known="stride_ignored", signature="stride > 1"),
    Mistake("pool_backward_dA_at_window_corner", "pooling", "pool_backward",
            (E("mask * dA[i, h, w, c]", "mask * dA[i, vert_start, horiz_start, c]"),
             E("da = dA[i, h, w, c]", "da = dA[i, vert_start, horiz_start, c]")),
            why="the upstream gradient read at the window's corner", known="dA_at_window_corner"),
    Mistake("pool_backward_average_mode_missing", "pooling", "pool_backward",
            (E("dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += distribute_value(da, (f, f))", "pass"),),
            why="only mode 'max' handled", known="average_mode_missing", signature="zeros"),
    Mistake("pool_forward_average_mode_missing", "pooling", "pool_forward",
            (E("A[i, h, w, c] = np.mean(a_prev_slice)", "pass"),),
            why="only mode 'max' handled", known="average_mode_missing", signature="zeros"),
    Mistake("pool_forward_mode_without_default", "pooling", "pool_forward",
            (E('def pool_forward(A_prev, hparameters, mode="max"):', "def pool_forward(A_prev, hparameters, mode):"),),
            why="mode without its default: a call that leaves it out raises", known="mode_without_default"),
    # ---- max pooling's mask
    Mistake("pool_backward_mask_wrong_example", "pooling", "pool_backward",
            (E("a_prev = A_prev[i]", "a_prev = A_prev[0]"),), why="every mask from example 0",
            known="mask_wrong_example"),
    Mistake("pool_backward_mask_wrong_channel", "pooling", "pool_backward",
            (E("a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]",
               "a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, 0]"),),
            why="every mask from channel 0", known="mask_wrong_channel"),
    Mistake("pool_backward_mask_whole_map_max", "pooling", "pool_backward",
            (E("mask = create_mask_from_window(a_prev_slice)", "mask = a_prev_slice == np.max(a_prev[:, :, c])"),),
            why="the window compared with the whole map's maximum", known="mask_whole_feature_map"),
    Mistake("mask_aliases_input_loop", "pooling", "create_mask_from_window",
            (E("mask = x == np.max(x)", BODY_ALIAS_LOOP),), frozenset({"pool_backward"}),
            why="mask = x, then 0/1 written into it in a loop that reads np.max(x)", known="mask_aliases_input"),
    Mistake("mask_aliases_input_vectorised", "pooling", "create_mask_from_window",
            (E("mask = x == np.max(x)", BODY_ALIAS_VECTOR),), frozenset({"pool_backward"}),
            why="mask = x, then 0s and 1s written through boolean indexing", known="mask_aliases_input"),
    # ---- average pooling's spread
    Mistake("distribute_value_average_by_sum", "pooling", "distribute_value",
            (E("average = dz / (f_H * f_W)", "average = dz / (f_H + f_W)"),), frozenset({"pool_backward"}),
            why="divided by n_H + n_W", known="average_by_sum", signature="factor"),
    Mistake("distribute_value_average_square_window", "pooling", "distribute_value",
            (E("average = dz / (f_H * f_W)", "average = dz / f_H ** 2"),),
            why="divided by shape[0] ** 2, as if the window were square", known="average_square_window",
            signature="factor"),
    Mistake("distribute_value_average_square_window_product", "pooling", "distribute_value",
            (E("average = dz / (f_H * f_W)", "average = dz / (f_H * f_H)"),),
            why="divided by n_H * n_H", known="average_square_window", signature="factor"),
    Mistake("distribute_value_average_inverted", "pooling", "distribute_value",
            (E("average = dz / (f_H * f_W)", "average = (f_H * f_W) / dz"),), frozenset({"pool_backward"}),
            why="the window's size divided by dz", known="average_inverted"),
]
