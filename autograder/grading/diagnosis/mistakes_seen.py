"""Known mistakes seen in real students' code (the Coursera DLS C4W1 functions this course keeps).

Trusted and never shipped. Each class below was found by grading a study set of
public solutions of that assignment (kept outside the repository, with a
held-out set measured by bench/real_mistakes.py) and is written here as our own
one-change edit of the `solutions` teaching code, exactly as mistakes.py's
entries are: (key, function, label, what, fix, equation labels, (function, old,
new), ...). mistakes.py appends them to its REGISTRY.

A mistake made in a helper (zero_pad, conv_single_step, create_mask_from_window,
distribute_value) is registered for the helper only: diagnose.py derives the
cascade into the functions that call it (the caller's verdict says it fails
because of the helper), from the same edit. A slip a caller can also make in
its own lines (the bias inside the sum, float(b), the bias array stored into Z)
is registered for the caller too, with the caller's own edit.

Each class is a study occurrence (or a general pattern, stated where it is
one); the catalogue (tests/submissions/real_style.py) holds one entry per class.
"""

from ..cases.functions import EQ  # the one table of equation labels

PAD, FWD = EQ["pad"], EQ["forward"]
MAXPOOL, AVGPOOL = EQ["maxpool"], EQ["avgpool"]
MAXBACK, AVGBACK = EQ["maxback"], EQ["avgback"]
DB, DW, DX = EQ["db"], EQ["dw"], EQ["dx"]

_step_what = ("your loops step by the stride (range(0, n_H, stride)) and each window starts at h: every "
              "output position h = 0 .. n_H - 1 must be computed, and its window starts at h * stride")
_step_fix = "loop for h in range(n_H) and start the window at vert_start = h * stride (and likewise w)"
_no_i_what = ("your window is cut from A_prev without the example index i, so its first two indices "
              "select examples and rows instead of rows and columns")
_alias_what = ("mask = x makes mask another name for the window x, so writing 0s and 1s into mask changes x, "
               "and np.max(x) read afterwards is no longer the window's maximum")
_alias_fix = "build a new array without touching x: mask = (x == np.max(x))"
_col_what = ("your window's columns start at h * stride, the row index: horiz_start must come from the column "
             "index w, so every window of row h is cut from the same columns")
_col_fix = "horiz_start = w * stride (and vert_start = h * stride)"
_loop_return_what = ("your return statement is indented inside the loop over the examples i, so the function "
                     "returns after example 0 and every other example's gradient stays zero")
_loop_return_fix = "dedent the return so that it runs after the loop over i has finished"
_width_what = ("your output width is computed from n_H_prev, the input's height: it is right only for square "
               "inputs; the width comes from the input's width n_W_prev")
_no_mode_what = ("your signature has no parameter mode, so every call that passes mode (mode='max' or "
                 "mode='average') raises TypeError before your code runs")

SEEN = [
    # ---- conv_single_step: the bias
    ("float_of_b", "conv_single_step", "float(b) on the (1, 1, 1) bias (NumPy 2)",
     "float() is taken of an array of shape (1, 1, 1) (the bias b, or Z + b, which has b's shape), and NumPy 2 "
     "refuses to turn an array with dimensions into a number (only 0-dimensional arrays convert)",
     "add its one value: Z = Z + b.item() (b[0, 0, 0] works too)", FWD,
     ("conv_single_step", "Z = Z + b.item()", "Z = Z + float(b)")),
    ("bias_in_sum", "conv_single_step", "bias added to every product, then summed",
     "you add b to every entry of a_slice_prev * W before summing, so the bias is counted "
     "f * f * n_C_prev times instead of once",
     "sum the products first, then add b once: np.sum(a_slice_prev * W) + b.item()", FWD,
     ("conv_single_step", "s = a_slice_prev * W", "s = a_slice_prev * W + b"),
     ("conv_single_step", "Z = Z + b.item()", "Z = Z")),
    ("bias_in_sum", "conv_forward", "bias added to every product, then summed",
     "the bias b[c] is added to every entry of the window's product a_slice_prev * W[..., c] before the sum, so "
     "it is counted f * f * n_C_prev times instead of once",
     "sum the products first, then add the bias once: np.sum(a_slice_prev * W[:, :, :, c]) + b[0, 0, 0, c] "
     "(what conv_single_step computes)", FWD,
     ("conv_forward", "Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])",
      "Z[i, h, w, c] = np.sum(a_slice_prev * W[:, :, :, c] + b[0, 0, 0, c])")),
    # ---- the cache unpacked too late
    ("hparameters_before_cache", "conv_backward", "hparameters read before the cache is unpacked",
     "your function reads hparameters before the line that unpacks it from the cache, and since that later "
     "line assigns hparameters, Python treats the name as local to the function for its whole body: the "
     "early read finds it unset",
     "unpack first: (A_prev, W, b, hparameters) = cache, then stride = hparameters[\"stride\"]", DX,
     ("conv_backward", "(A_prev, W, b, hparameters) = cache",
      "stride = hparameters[\"stride\"]\n    (A_prev, W, b, hparameters) = cache")),
    # ---- windows: where they start, what they are cut from
    ("loop_step_stride", "conv_forward", "loops step by the stride, windows start at h", _step_what, _step_fix,
     FWD + ("eq-output-size",),
     ("conv_forward", "for h in range(n_H):", "for h in range(0, n_H, stride):"),
     ("conv_forward", "for w in range(n_W):", "for w in range(0, n_W, stride):"),
     ("conv_forward", "vert_start = h * stride", "vert_start = h"),
     ("conv_forward", "horiz_start = w * stride", "horiz_start = w")),
    ("loop_step_stride", "pool_forward", "loops step by the stride, windows start at h", _step_what, _step_fix,
     MAXPOOL + AVGPOOL,
     ("pool_forward", "for h in range(n_H):", "for h in range(0, n_H, stride):"),
     ("pool_forward", "for w in range(n_W):", "for w in range(0, n_W, stride):"),
     ("pool_forward", "vert_start = h * stride", "vert_start = h"),
     ("pool_forward", "horiz_start = w * stride", "horiz_start = w")),
    ("slice_without_example", "conv_forward", "window cut without the example index i", _no_i_what,
     "cut the window from example i: A_prev_pad[i, vert_start:vert_end, horiz_start:horiz_end, :]", FWD,
     ("conv_forward", "a_slice_prev = a_prev_pad[vert_start", "a_slice_prev = A_prev_pad[vert_start")),
    ("slice_without_example", "pool_forward", "window cut without the example index i", _no_i_what,
     "cut the window from example i and channel c: A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]",
     MAXPOOL + AVGPOOL,
     ("pool_forward", "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]",
      "A_prev[vert_start:vert_end, horiz_start:horiz_end, c]")),
    ("slice_without_example", "pool_backward", "window cut without the example index i", _no_i_what,
     "cut the window from example i and channel c: A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]",
     MAXBACK,
     ("pool_backward", "a_prev_slice = a_prev[vert_start", "a_prev_slice = A_prev[vert_start")),
    ("stride_ignored", "pool_backward", "stride ignored (windows move by 1)",
     "your windows start at h and w instead of h * stride and w * stride",
     "vert_start = h * stride and horiz_start = w * stride, as in pool_forward", MAXBACK + AVGBACK,
     ("pool_backward", "vert_start = h * stride", "vert_start = h"),
     ("pool_backward", "horiz_start = w * stride", "horiz_start = w")),
    ("dA_at_window_corner", "pool_backward", "dA read at the window's corner, not at (h, w)",
     "you read the upstream gradient at dA[i, vert_start, horiz_start, c], the window's corner in the input; "
     "dA has the output's shape and window (h, w)'s gradient is dA[i, h, w, c]",
     "use dA[i, h, w, c]", MAXBACK + AVGBACK,
     ("pool_backward", "mask * dA[i, h, w, c]", "mask * dA[i, vert_start, horiz_start, c]"),
     ("pool_backward", "da = dA[i, h, w, c]", "da = dA[i, vert_start, horiz_start, c]")),
    ("mode_without_default", "pool_forward", "mode has no default value",
     "your signature has mode without a default, so a call that leaves mode out (pool_forward(A_prev, "
     "hparameters)) fails; the default is 'max'",
     'keep the signature: def pool_forward(A_prev, hparameters, mode="max")', MAXPOOL,
     ("pool_forward", 'def pool_forward(A_prev, hparameters, mode="max"):',
      "def pool_forward(A_prev, hparameters, mode):")),
    ("average_mode_missing", "pool_forward", "mode 'average' never computed",
     "your loop computes only mode 'max': in mode 'average' nothing is written, so A stays all zeros",
     "add the branch: elif mode == 'average': A[i, h, w, c] = np.mean(a_prev_slice)", AVGPOOL,
     ("pool_forward", "A[i, h, w, c] = np.mean(a_prev_slice)", "pass")),
    ("average_mode_missing", "pool_backward", "mode 'average' never computed",
     "your loop handles only mode 'max': in mode 'average' nothing is added, so dA_prev stays all zeros",
     "add the branch: elif mode == 'average': spread dA[i, h, w, c] with distribute_value(da, (f, f))", AVGBACK,
     ("pool_backward", "dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += distribute_value(da, (f, f))",
      "pass")),
    # ---- max pooling's mask
    ("mask_wrong_example", "pool_backward", "mask taken from example 0",
     "every example's mask is taken from the windows of example 0 (a_prev = A_prev[0]), so the gradient goes "
     "to where example 0 had its maxima",
     "take the window from example i: a_prev = A_prev[i]", MAXBACK,
     ("pool_backward", "a_prev = A_prev[i]", "a_prev = A_prev[0]")),
    ("mask_wrong_channel", "pool_backward", "mask taken from channel 0",
     "every channel's mask is taken from channel 0 of the window, so the gradient goes to where channel 0 "
     "had its maxima",
     "take the window of channel c: a_prev[vert_start:vert_end, horiz_start:horiz_end, c]", MAXBACK,
     ("pool_backward", "a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]",
      "a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, 0]")),
    ("mask_whole_feature_map", "pool_backward", "mask of the whole feature map, not the window",
     "you compare the window with the maximum of the whole feature map, so a window whose maximum is not "
     "the map's maximum passes no gradient",
     "mask = create_mask_from_window(a_prev_slice), with a_prev_slice the window itself", MAXBACK,
     ("pool_backward", "mask = create_mask_from_window(a_prev_slice)",
      "mask = a_prev_slice == np.max(a_prev[:, :, c])")),
    ("mask_aliases_input", "create_mask_from_window", "mask = x, then 0/1 written into it", _alias_what,
     _alias_fix, MAXBACK,
     ("create_mask_from_window", "mask = x == np.max(x)", "mask = x\n"
      "    for r in range(x.shape[0]):\n"
      "        for s in range(x.shape[1]):\n"
      "            mask[r, s] = 1 if x[r, s] == np.max(x) else 0")),
    ("mask_aliases_input", "create_mask_from_window", "mask = x, then 0/1 written into it", _alias_what,
     _alias_fix, MAXBACK,
     ("create_mask_from_window", "mask = x == np.max(x)", "mask = x\n"
      "    mask[mask != np.max(x)] = 0\n"
      "    mask[mask == np.max(x)] = 1")),
    # ---- zero_pad: which axes, what is returned (third pass; the cascade into the callers is derived)
    ("zero_pad_channels_first", "zero_pad", "pads the last two axes (channels-first)",
     "you pad the last two axes, as for images stored channels-first (m, n_C, n_H, n_W); here X is "
     "(m, n_H, n_W, n_C), so the rows and columns to pad are axes 1 and 2 and the channels are left alone",
     "np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode='constant')", PAD,
     ("zero_pad", "((0, 0), (pad, pad), (pad, pad), (0, 0))", "((0, 0), (0, 0), (pad, pad), (pad, pad))")),
    ("zero_pad_returns_none", "zero_pad", "returns None",
     "your zero_pad returns None: the padded array is never returned", "end with return X_pad", PAD,
     ("zero_pad", "return X_pad", "return")),
    # ---- the bias added inline, as an array or through float()
    ("float_of_b", "conv_forward", "float(b) on the (1, 1, 1) bias (NumPy 2)",
     "float() is taken of b[:, :, :, c], an array of shape (1, 1, 1), and NumPy 2 refuses to turn an array with "
     "dimensions into a number (only 0-dimensional arrays convert)",
     "add its one value: b[0, 0, 0, c] (or b[:, :, :, c].item())", FWD,
     ("conv_forward", "Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])",
      "Z[i, h, w, c] = np.sum(a_slice_prev * W[:, :, :, c]) + float(b[:, :, :, c])")),
    ("bias_array_into_Z", "conv_forward", "the (1, 1, 1) bias array stored into one entry of Z",
     "you add b[:, :, :, c], an array of shape (1, 1, 1), to the window's sum, so the result is an array too, and "
     "NumPy 2 cannot store an array with dimensions into the single entry Z[i, h, w, c]",
     "add the bias as a number: np.sum(a_slice_prev * W[:, :, :, c]) + b[0, 0, 0, c]", FWD,
     ("conv_forward", "Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])",
      "Z[i, h, w, c] = np.sum(a_slice_prev * W[:, :, :, c]) + b[:, :, :, c]")),
    # ---- the window's columns from the row index
    ("window_columns_from_h", "conv_forward", "horiz_start from h, not w", _col_what, _col_fix, FWD,
     ("conv_forward", "horiz_start = w * stride", "horiz_start = h * stride")),
    ("window_columns_from_h", "pool_forward", "horiz_start from h, not w", _col_what, _col_fix, MAXPOOL + AVGPOOL,
     ("pool_forward", "horiz_start = w * stride", "horiz_start = h * stride")),
    ("window_columns_from_h", "conv_backward", "horiz_start from h, not w", _col_what, _col_fix, DX,
     ("conv_backward", "horiz_start = w * stride", "horiz_start = h * stride")),
    ("window_columns_from_h", "pool_backward", "horiz_start from h, not w", _col_what, _col_fix, MAXBACK + AVGBACK,
     ("pool_backward", "horiz_start = w * stride", "horiz_start = h * stride")),
    # ---- where the gradient is written, and when the function returns
    ("return_inside_example_loop", "conv_backward", "returns inside the loop over examples", _loop_return_what,
     _loop_return_fix, DX, ("conv_backward", "\n\n    return dA_prev, dW, db", "\n        return dA_prev, dW, db")),
    ("return_inside_example_loop", "pool_backward", "returns inside the loop over examples", _loop_return_what,
     _loop_return_fix, MAXBACK + AVGBACK, ("pool_backward", "\n\n    return dA_prev", "\n        return dA_prev")),
    ("dA_prev_never_written", "conv_backward", "dA_prev returned as allocated (all zeros)",
     "the dA_prev you return is the array of zeros you allocated: the gradient you accumulate in da_prev_pad "
     "never reaches it (it must be copied back into dA_prev[i], with the padding cropped away)",
     "after the loops over h, w, c: dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]",
     DX, ("conv_backward", "dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]", "pass")),
    ("returns_dZ_for_db", "conv_backward", "returns dZ where db belongs",
     "your function returns dZ, its input, as its third result; the bias gradient is db, the sum of dZ over the "
     "examples and positions, of shape (1, 1, 1, n_C)", "return dA_prev, dW, db", ("eq-conv-db",),
     ("conv_backward", "return dA_prev, dW, db", "return dA_prev, dW, dZ")),
    ("mask_times_input", "pool_backward", "the mask multiplied by the input, not by dA",
     "you multiply the mask by the window of the input (a_prev_slice); what flows back to the window's maximum "
     "is the upstream gradient dA[i, h, w, c]", "dA_prev[...] += mask * dA[i, h, w, c]", MAXBACK,
     ("pool_backward", "mask * dA[i, h, w, c]", "mask * a_prev_slice")),
    # ---- the output size
    ("output_size_one_inside", "pool_forward", "output size int((1 + n_H_prev - f) / stride)",
     "your output size divides 1 + n_H_prev - f by the stride; the 1 is added after the division: "
     "n_H = 1 + (n_H_prev - f) // stride windows fit (the first at 0, then one every stride rows)",
     "n_H = int(1 + (n_H_prev - f) / stride), and likewise n_W", MAXPOOL + AVGPOOL + ("eq-output-size",),
     ("pool_forward", "n_H = output_size(n_H_prev, f, stride)", "n_H = int((1 + n_H_prev - f) / stride)"),
     ("pool_forward", "n_W = output_size(n_W_prev, f, stride)", "n_W = int((1 + n_W_prev - f) / stride)")),
    # ---- mode missing from the signature
    ("mode_not_a_parameter", "pool_forward", "mode missing from the signature", _no_mode_what,
     'keep the signature: def pool_forward(A_prev, hparameters, mode="max")', MAXPOOL + AVGPOOL,
     ("pool_forward", 'def pool_forward(A_prev, hparameters, mode="max"):',
      'def pool_forward(A_prev, hparameters):\n    mode = "max"')),  # a body that pools by the maximum
    ("mode_not_a_parameter", "pool_forward", "mode missing from the signature", _no_mode_what,
     'keep the signature: def pool_forward(A_prev, hparameters, mode="max")', MAXPOOL + AVGPOOL,
     ("pool_forward", 'def pool_forward(A_prev, hparameters, mode="max"):',
      "def pool_forward(A_prev, hparameters):")),  # a body that still reads mode (NameError when none is passed)
    ("mode_not_a_parameter", "pool_backward", "mode missing from the signature", _no_mode_what,
     'keep the signature: def pool_backward(dA, cache, mode="max")', MAXBACK + AVGBACK,
     ("pool_backward", 'def pool_backward(dA, cache, mode="max"):', "def pool_backward(dA, cache):")),
    # ---- average pooling's spread
    ("average_by_sum", "distribute_value", "divided by n_H + n_W, not n_H * n_W",
     "you divide dz by n_H + n_W; a window of n_H rows and n_W columns has n_H * n_W entries",
     "average = dz / (n_H * n_W)", AVGBACK,
     ("distribute_value", "average = dz / (f_H * f_W)", "average = dz / (f_H + f_W)")),
    ("average_square_window", "distribute_value", "divided by n_H ** 2, as if the window were square",
     "you divide dz by n_H squared (shape[0] ** 2), which is the window's size only when it is square; "
     "a window of n_H rows and n_W columns has n_H * n_W entries",
     "average = dz / (n_H * n_W), with (n_H, n_W) = shape", AVGBACK,
     ("distribute_value", "average = dz / (f_H * f_W)", "average = dz / f_H ** 2")),
    ("average_inverted", "distribute_value", "the window size divided by dz (inverted)",
     "you divide the window's size by dz; each entry gets dz divided by the window's size",
     "average = dz / (n_H * n_W)", AVGBACK,
     ("distribute_value", "average = dz / (f_H * f_W)", "average = (f_H * f_W) / dz")),
    ("shape_rows_columns_swapped", "distribute_value", "the array built with shape (n_W, n_H)",
     "your array has n_W rows and n_H columns: shape is (n_H, n_W), rows first", "np.ones(shape) * average", AVGBACK,
     ("distribute_value", "a = np.ones(shape) * average", "a = np.ones((f_W, f_H)) * average")),
    ("returns_list", "distribute_value", "returns a list, not a NumPy array",
     "you return a Python list of lists; the function must return a NumPy array of shape (n_H, n_W)",
     "a = np.ones(shape) * average", AVGBACK,
     ("distribute_value", "a = np.ones(shape) * average", "a = [[average] * f_W for _ in range(f_H)]")),
    # ---- fourth pass (issue 17): the width from the height, the output's h and w exchanged, no sum
    ("width_from_height", "conv_forward", "output width computed from the input's height",
     _width_what, "n_W = int((n_W_prev - f + 2 * pad) / stride) + 1, from n_W_prev", FWD + ("eq-output-size",),
     ("conv_forward", "n_W = output_size(n_W_prev, f, stride, pad)", "n_W = output_size(n_H_prev, f, stride, pad)")),
    ("width_from_height", "pool_forward", "output width computed from the input's height",
     _width_what, "n_W = int(1 + (n_W_prev - f) / stride), from n_W_prev", MAXPOOL + AVGPOOL + ("eq-output-size",),
     ("pool_forward", "n_W = output_size(n_W_prev, f, stride)", "n_W = output_size(n_H_prev, f, stride)")),
    ("output_h_w_swapped", "conv_forward", "result stored at Z[i, w, h, c]",
     "you store the window's result at Z[i, w, h, c]: axis 1 of Z is the row h and axis 2 the column w, so "
     "your output is the transpose of each feature map (and an index error when n_H and n_W differ)",
     "Z[i, h, w, c] = conv_single_step(...)", FWD,
     ("conv_forward", "Z[i, h, w, c] = conv_single_step(", "Z[i, w, h, c] = conv_single_step(")),
    ("products_never_summed", "conv_single_step", "the products returned without their sum",
     "you return the array of elementwise products a_slice_prev * W (plus b), of shape (f, f, n_C_prev); Z is "
     "one number: the sum of those products, plus the bias once",
     "Z = np.sum(a_slice_prev * W) + b.item()", FWD,
     ("conv_single_step", "Z = np.sum(s)\n    Z = Z + b.item()\n    return float(Z)", "Z = s + b\n    return Z")),
    ("window_all_channels", "pool_forward", "window taken over all channels",
     "your window keeps every channel (A_prev[i, ..., :]), as conv_forward's does, so A[i, h, w, c] is the "
     "maximum (or mean) over all channels at once and every channel of the output gets the same number; "
     "pooling works on each channel alone",
     "take channel c only: A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]", MAXPOOL + AVGPOOL,
     ("pool_forward", "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]",
      "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, :]")),
    # ---- fifth pass (issue 17): zero_pad for one image, nothing or only Z returned, the crop after the loop
    ("zero_pad_three_pairs", "zero_pad", "pad widths for three axes (one image)",
     "your np.pad gets three pairs of widths, as for one image (n_H, n_W, n_C); X is a batch of four axes "
     "(m, n_H, n_W, n_C), and np.pad needs one pair per axis (NumPy says so: (3,2) and requested shape (4,2))",
     "four pairs, (0, 0) for the examples and the channels: ((0, 0), (pad, pad), (pad, pad), (0, 0))", PAD,
     ("zero_pad", "((0, 0), (pad, pad), (pad, pad), (0, 0))", "((0, 0), (pad, pad), (pad, pad))")),
    *[("returns_none", function, "returns None", f"your {function} returns None: no return statement gives back "
       "its result (a return is missing, or it has no value)", f"end with {ret}", equation,
       (function, ret, "return")) for function, ret, equation in (
        ("conv_single_step", "return float(Z)", FWD), ("conv_forward", "return Z, cache", FWD),
        ("conv_backward", "return dA_prev, dW, db", DX), ("pool_forward", "return A, cache", MAXPOOL + AVGPOOL),
        ("create_mask_from_window", "return mask", MAXBACK), ("distribute_value", "return a", AVGBACK),
        ("pool_backward", "return dA_prev", MAXBACK + AVGBACK))],
    *[("returns_without_cache", function, "returns its output without the cache",
       f"your {function} returns {out} alone; it returns the pair ({out}, cache), and the backward pass reads the "
       f"cache {cache}", f"return {out}, cache with cache = {cache}", equation,
       (function, f"return {out}, cache", f"return {out}")) for function, out, cache, equation in (
        ("conv_forward", "Z", "(A_prev, W, b, hparameters)", FWD),
        ("pool_forward", "A", "(A_prev, hparameters)", MAXPOOL + AVGPOOL))],
    ("crop_after_example_loop", "conv_backward", "dA_prev copied after the loop over examples",
     "the line that copies da_prev_pad into dA_prev[i] runs after the loop over the examples i has ended, so "
     "only the last example's gradient is copied and every other example's dA_prev stays zero",
     "indent it into the loop over i, after the loops over h, w and c", DX,
     ("conv_backward", "\n        dA_prev[i, :, :, :] = da_prev_pad", "\n    dA_prev[i, :, :, :] = da_prev_pad")),
    # ---- seventh pass (issue 17): the remaining wrong-value classes of the read sets (heldout..heldout6, study)
    ("window_without_ranges", "pool_forward", "window cut without its row and column ranges",
     "your window is A_prev[i, :, c]: one ':' takes every row, and c, in the second place after it, indexes the "
     "columns (axis 2), not the channels, so every output position (h, w) of channel c pools the same slab "
     "A_prev[i, :, c, :] (all rows, column c, all channels) instead of its own f x f window",
     "cut the window from the ranges: A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]", MAXPOOL + AVGPOOL,
     ("pool_forward", "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]", "A_prev[i, :, c]")),
    ("cache_last_example", "pool_forward", "the cache holds the last example only",
     "your cache holds a_prev, the input of the last example i = m - 1 left over from the loop (shape (n_H_prev, "
     "n_W_prev, n_C_prev)), not the batch A_prev (m, n_H_prev, n_W_prev, n_C_prev) that pool_backward reads",
     "cache = (A_prev, hparameters), the whole input", MAXPOOL + AVGPOOL,
     ("pool_forward", "cache = (A_prev, hparameters)", "cache = (A_prev[m - 1], hparameters)")),
    ("dA_W_plus_dZ", "conv_backward", "W + dZ added into dA, not W * dZ",
     "you add W[:, :, :, c] + dZ[i, h, w, c] into the window of da_prev_pad: each input's gradient is the "
     "weight times the upstream gradient (the chain rule multiplies), W[:, :, :, c] * dZ[i, h, w, c]",
     "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]", DX,
     ("conv_backward", "+= W[:, :, :, c] * dZ[i, h, w, c]", "+= W[:, :, :, c] + dZ[i, h, w, c]")),
    ("dA_window_transposed", "conv_backward", "dA's window with rows and columns exchanged",
     "the window that receives W * dZ in da_prev_pad has its rows at w * stride and its columns at h * stride "
     "(the two ranges exchanged), while dZ[i, h, w, c] belongs to output row h and column w: each gradient "
     "lands in the transposed window",
     "da_prev_pad[h * stride:h * stride + f, w * stride:w * stride + f, :] += W[:, :, :, c] * dZ[i, h, w, c]", DX,
     ("conv_backward", "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] +=",
      "da_prev_pad[horiz_start:horiz_end, vert_start:vert_end, :] +=")),
    ("dA_into_input_window", "conv_backward", "W * dZ added into the input a_prev_pad",
     "you add W * dZ into a_prev_pad, the padded input, instead of da_prev_pad: the gradient never reaches "
     "dA_prev (it stays zeros), and the input windows that dW reads change under it",
     "accumulate into the gradient: da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += "
     "W[:, :, :, c] * dZ[i, h, w, c]", DX + DW,
     ("conv_backward", "da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] +=",
      "a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] +=")),
    ("db_never_accumulated", "conv_backward", "db returned as allocated (all zeros)",
     "the db you return is the array of zeros you allocated: nothing adds dZ into it (db[:, :, :, c] is the "
     "sum of dZ[..., c] over the examples and positions)",
     "in the loops: db[:, :, :, c] += dZ[i, h, w, c] (or db = np.sum(dZ, axis=(0, 1, 2), keepdims=True))", DB,
     ("conv_backward", "db[:, :, :, c] += dZ[i, h, w, c]", "pass")),
    ("dA_prev_unwritten_pad0", "conv_backward", "dA_prev left at zeros when pad = 0",
     "when pad = 0 your function never writes dA_prev, which stays the zeros you allocated (for pad > 0 it is "
     "right): the branch that handles pad = 0 skips the copy of da_prev_pad into dA_prev[i], or writes it "
     "elsewhere",
     "copy in every case: dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :] is "
     "right for pad = 0 too", DX,
     ("conv_backward", "dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]",
      "if pad > 0:\n            dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]")),
    # the whole W against one window (heldout6's y004: with the whole b inside the sum); the bias written either
    # way, so that a single-channel case, where the shapes broadcast, tells which one the student computed
    *[("filters_whole", "conv_forward", "the whole W, not filter c's W[:, :, :, c]",
       "you multiply the window a_slice_prev (f, f, n_C_prev) by the whole W (f, f, n_C_prev, n_C): output "
       "channel c is made by filter c alone, W[:, :, :, c] (f, f, n_C_prev), with its own bias b[0, 0, 0, c]",
       "Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])", FWD,
       ("conv_forward", "Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])",
        f"Z[i, h, w, c] = {line}"))
      for line in ("np.sum(np.multiply(a_slice_prev, W) + b)", "np.sum(np.multiply(a_slice_prev, W)) + b[0, 0, 0, c]")],
    # an output size left a float: / (heldout6's y013 pool_forward) or np.floor (its conv_forward), which NumPy
    # names in its message ('float' or 'numpy.float64' object cannot be interpreted as an integer)
    *[("size_float", function, "an output size left a float (2.0, not 2)",
       "an output size (n_H or n_W) is a float (2.0, not 2): / always gives one in Python 3, and so does "
       "np.floor; np.zeros and range need whole numbers, so the allocation or the loop raises TypeError",
       f"make it an int: n_H = int({inner.format('n_H')} / stride) + 1, or {inner.format('n_H')} // stride + 1 "
       "(and likewise n_W)", equation + ("eq-output-size",),
       (function, f"n_H = {call.format('n_H')}", "n_H = " + form.format(inner.format('n_H'))),
       (function, f"n_W = {call.format('n_W')}", "n_W = " + form.format(inner.format('n_W'))))
      for function, call, inner, equation in (
          ("conv_forward", "output_size({}_prev, f, stride, pad)", "({}_prev + 2 * pad - f)", FWD),
          ("pool_forward", "output_size({}_prev, f, stride)", "({}_prev - f)", MAXPOOL + AVGPOOL))
      for form in ("{} / stride + 1", "np.floor(1 + {} / stride)")],
    ("crop_missing", "conv_backward", "da_prev_pad copied into dA_prev[i] uncropped",
     "you copy the whole da_prev_pad, padding included ((n_H_prev + 2 pad, n_W_prev + 2 pad, n_C_prev)), into "
     "dA_prev[i] (n_H_prev, n_W_prev, n_C_prev): for pad > 0 NumPy cannot fit it there and raises; the padding "
     "must be cropped away first",
     "dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]", DX,
     ("conv_backward", "dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]",
      "dA_prev[i, :, :, :] = da_prev_pad")),
    ("pad_for_stride", "conv_backward", "windows start at h * pad, not h * stride",
     "your windows start at h * pad and w * pad: the step between windows is the stride, so they start at "
     "h * stride and w * stride (the two agree only when pad = stride)",
     "vert_start = h * stride and horiz_start = w * stride, as in conv_forward", DX + DW,
     ("conv_backward", "vert_start = h * stride", "vert_start = h * pad"),
     ("conv_backward", "horiz_start = w * stride", "horiz_start = w * pad")),
    ("window_end_stride", "conv_forward", "window ends at start + stride, not start + f",
     "your window ends at vert_start + stride (and horiz_start + stride): a window spans f rows and f columns "
     "whatever the step between windows, so it ends at vert_start + f (the two agree only when stride = f)",
     "vert_end = vert_start + f and horiz_end = horiz_start + f", FWD,
     ("conv_forward", "vert_end = vert_start + f", "vert_end = vert_start + stride"),
     ("conv_forward", "horiz_end = horiz_start + f", "horiz_end = horiz_start + stride")),
    ("zero_pad_none_when_pad0", "zero_pad", "returns None when pad = 0",
     "your zero_pad returns nothing (None) when pad = 0, as if there were nothing to do: the callers still need "
     "the array, unpadded, and index it",
     "return the array for every pad: np.pad with widths (0, 0) returns X's values unchanged", PAD,
     ("zero_pad", "X_pad = np.pad(", "if pad < 1:\n        return\n    X_pad = np.pad(")),
    # the border filled with ones (study7 and heldout7's v003: the constant given as 1)
    ("zero_pad_ones", "zero_pad", "pads with ones, not zeros",
     "your zero_pad fills the added border with 1: the padding is zeros, so that the positions outside the input "
     "add nothing to a window's sum",
     "pad with the constant 0 (np.pad's constant_values, whose default is 0)", PAD,
     ("zero_pad", "constant_values=0", "constant_values=1")),
    # the comparison left out: the window's maximum returned as the mask (eighth pass, study8)
    ("mask_is_the_max", "create_mask_from_window", "the window's maximum, not the mask",
     "your mask is the window's maximum, one number: the mask is an array of x's shape, True where x equals "
     "that maximum (x == np.max(x))", "compare x with its maximum entry by entry, which gives a boolean array of "
     "x's shape", MAXBACK,
     ("create_mask_from_window", "mask = x == np.max(x)", "mask = np.max(x)")),
]
