"""A picture of where a result is wrong: expected, got and their difference, as PNG bytes (used by diagnose.py)."""
import io

import numpy as np

from .signatures import _close

def _panel(array, what, where):
    """A 2-D view of `array` (rows, columns) at the sample/channel `where` picks, and its title."""
    if array.ndim == 1:
        return array[None, :], ""
    if array.ndim == 2:
        return array, ""
    if array.ndim == 4 and what == "dW":
        return array[:, :, where[2], where[3]], f"k = {where[2]}, c = {where[3]}"
    if array.ndim == 4:
        return array[where[0], :, :, where[3]], f"n = {where[0]}, c = {where[3]}"
    lead = tuple(where[:-2])
    return array[lead], ", ".join(f"axis {a} = {i}" for a, i in enumerate(lead))


def _rgba(data, cmap, vmin, vmax):
    from matplotlib import colormaps
    return colormaps[cmap](np.clip((data - vmin) / (vmax - vmin), 0, 1))


def picture(got, ref, what):
    """PNG bytes: expected, got and |got - expected| on one 2-D slice where the error is largest.

    Drawn as one image with matplotlib's colour maps and PNG writer (no axes: a few ms each); a black
    square marks each wrong entry in the third panel.
    """
    from matplotlib.figure import Figure
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    err = np.abs(np.nan_to_num(got - ref, nan=np.inf))
    where = np.unravel_index(int(np.argmax(err)), ref.shape)
    e2, sub = _panel(ref, what, where)
    g2, _ = _panel(got, what, where)
    bad = ~_close(g2, e2)
    g2 = np.nan_to_num(g2, nan=0.0, posinf=0.0, neginf=0.0)  # NaN and inf are drawn as 0, and marked wrong
    d2 = np.abs(g2 - e2)
    lim = max(float(np.max(np.abs(e2), initial=0)), float(np.max(np.abs(g2), initial=0)), 1e-12)
    rows, cols = e2.shape
    cell = int(max(6, min(28, 150 // max(rows, cols))))   # pixels per entry: a panel is at most ~150 px
    panels = [_rgba(e2, "RdBu_r", -lim, lim), _rgba(g2, "RdBu_r", -lim, lim),
              _rgba(d2, "Reds", 0.0, max(float(d2.max()), 1e-12))]
    centre = np.zeros((cell, cell), dtype=bool)      # a black square in the middle of each wrong entry
    dot = max(2, cell // 3)
    centre[(cell - dot) // 2:(cell + dot) // 2, (cell - dot) // 2:(cell + dot) // 2] = True
    marks = np.kron(bad, centre).astype(bool)
    gap, top, bottom = 14, 34, 6
    panels_width = 3 * cols * cell + 2 * gap
    left = max(gap, (440 - panels_width) // 2)  # centred; at least 440 px wide, so the caption fits
    image = np.ones((rows * cell + top + bottom, panels_width + 2 * left, 4))
    for k, panel in enumerate(panels):
        up = np.repeat(np.repeat(panel, cell, axis=0), cell, axis=1)
        if k == 2:
            up[marks] = (0, 0, 0, 1)
        up[::cell, :, :3] *= 0.85   # faint grid lines between entries
        up[:, ::cell, :3] *= 0.85
        x0 = left + k * (cols * cell + gap)
        image[top:top + rows * cell, x0:x0 + cols * cell] = up
    dpi = 72
    fig = Figure(figsize=(image.shape[1] / dpi, image.shape[0] / dpi), dpi=dpi)
    fig.figimage(image, xo=0, yo=0, origin="upper")
    height = image.shape[0]
    for k, title in enumerate(("expected", "got", "|got - expected|")):
        x = (left + k * (cols * cell + gap) + cols * cell / 2) / image.shape[1]
        fig.text(x, 1 - (top - 4) / height, title, ha="center", va="bottom", fontsize=9)
    axes_words = {4: "rows i, columns j" if what == "dW" else "rows h, columns w"}.get(ref.ndim, "")
    caption = ", ".join(x for x in (f"{what}{' at ' + sub if sub else ''}", axes_words) if x)
    fig.text(0.5, 1 - 2 / height, caption + "; a black square marks a wrong entry", ha="center", va="top", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()
