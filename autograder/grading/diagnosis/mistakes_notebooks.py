"""Known mistakes first seen in real students' notebooks (issue 17, eighth pass: study8).

Trusted and never shipped. The same form as mistakes_seen.py, which is full: each class found by grading the
study8 share of public Coursera C4W1 notebooks (the held-out share measured by bench/real_mistakes.py, never
studied), written as our own one-change edit of the `solutions` teaching code: (key, function, label, what, fix,
equation labels, (function, old, new), ...). mistakes.py appends them to its REGISTRY; the catalogue
(tests/submissions/real_style.py) holds one entry per class.
"""

from ..cases.functions import EQ

PAD = EQ["pad"]
MAXPOOL, AVGPOOL = EQ["maxpool"], EQ["avgpool"]
WINDOW = "A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]"
_fixed_what = ("your zero_pad adds the same border whatever pad it is given: a number is written where pad "
               "belongs in np.pad's widths, so only the cases with that pad come out right")

SEEN = [
    # the window cut from the whole channel: every position pools example i's whole image
    ("window_whole_image", "pool_forward", "window over the whole image, not f x f",
     "your window is A_prev[i, :, :, c], the whole image of example i in channel c, so every output position "
     "(h, w) gets the same number; each position pools its own f x f window",
     f"cut the window from the ranges: {WINDOW}", MAXPOOL + AVGPOOL,
     ("pool_forward", WINDOW, "A_prev[i, :, :, c]")),
    # the window cut across the batch and the channels: one number per position for every example and channel
    ("window_all_examples_channels", "pool_forward", "window over every example and channel",
     "your window A_prev[:, vert_start:vert_end, horiz_start:horiz_end, :] keeps every example and every channel, "
     "so A[i, h, w, c] is the same for every i and c; pooling takes example i and channel c alone",
     f"cut the window from example i and channel c: {WINDOW}", MAXPOOL + AVGPOOL,
     ("pool_forward", WINDOW, "A_prev[:, vert_start:vert_end, horiz_start:horiz_end, :]")),
    # a literal where pad belongs (the value of the notebook's own example, usually)
    *[("zero_pad_fixed_pad", "zero_pad", "a fixed padding, not pad", _fixed_what,
       "write pad in the widths: ((0, 0), (pad, pad), (pad, pad), (0, 0))", PAD,
       ("zero_pad", "((0, 0), (pad, pad), (pad, pad), (0, 0))", f"((0, 0), ({k}, {k}), ({k}, {k}), (0, 0))"))
      for k in (1, 2, 3)],
    # (a mask all False in every case is not named: created and never set, or a comparison that never holds,
    # x > np.max(x), give the same masks; the "zeros" signature says what the evidence shows)
    # (shape.shape in distribute_value is named from the exception's frames: causes.py's shape_of_shape)
]
