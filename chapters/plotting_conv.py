"""Small matplotlib helpers for the figures of chapters 1-4.

Every figure in those chapters is drawn in a hidden cell; these helpers keep
the hidden cells short. Nothing here computes a gradient: the chapters do the
maths and pass the numbers in.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

# One palette for the whole book part: colour-blind friendly (Tableau 10).
BLUE, ORANGE, GREEN, RED, PURPLE, GREY = "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#bab0ac"
LIGHT = {"input": "#dbe7f3", "pad": "#ececec", "kernel": "#dcefd8", "out": "#fde3c8", "grad": "#f9d3d4", "zero": "#f7f7f7"}


def grid(ax, n_rows, n_cols, text=None, fill=LIGHT["input"], pad=0, title=None,
         boxes=(), fills=(), fontsize=9, index_labels=True, shade=None, cmap="RdBu_r", vmax=None, vmin=None):
    """Draw an n_rows x n_cols array of cells, row 0 at the top.

    text: array-like of strings or numbers (None for empty cells);
    pad: width of an outer ring drawn grey (zero padding);
    boxes: iterable of (row, col, height, width, colour) rectangles to outline;
    fills: the same, drawn as translucent filled rectangles;
    shade: optional numeric array coloured with cmap (overrides fill), on the range
    [vmin, vmax]; by default symmetric about 0, for diverging maps.
    """
    if shade is not None:
        shade = np.asarray(shade, dtype=float)
        vmax = vmax or (np.abs(shade).max() or 1.0)
        vmin = -vmax if vmin is None else vmin
        colours = plt.get_cmap(cmap)((shade - vmin) / (vmax - vmin))
    for r in range(n_rows):
        for c in range(n_cols):
            in_pad = pad and (r < pad or c < pad or r >= n_rows - pad or c >= n_cols - pad)
            face = LIGHT["pad"] if in_pad else (colours[r, c] if shade is not None else fill)
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=face, edgecolor="#666666", lw=0.8))
            if text is not None:
                t = text[r][c]
                if t is not None and t != "":
                    s = t if isinstance(t, str) else f"{t:g}"
                    # white text on dark cells (perceived luminance below one half)
                    dark = not in_pad and shade is not None and np.dot(face[:3], [0.299, 0.587, 0.114]) < 0.5
                    ax.text(c + 0.5, r + 0.5, s, ha="center", va="center", fontsize=fontsize,
                            color="#888888" if in_pad else ("white" if dark else "black"))
    for (r, c, h, w, colour) in fills:
        ax.add_patch(Rectangle((c, r), w, h, facecolor=colour, edgecolor="none", alpha=0.45, zorder=4))
    for (r, c, h, w, colour) in boxes:
        ax.add_patch(Rectangle((c, r), w, h, fill=False, edgecolor=colour, lw=3, zorder=5))
    ax.set_xlim(-0.05, n_cols + 0.05)
    ax.set_ylim(n_rows + 0.05, -0.05)
    ax.set_aspect("equal")
    if index_labels:
        ax.set_xticks(np.arange(n_cols) + 0.5, [str(c - pad) for c in range(n_cols)], fontsize=7)
        ax.set_yticks(np.arange(n_rows) + 0.5, [str(r - pad) for r in range(n_rows)], fontsize=7)
        ax.xaxis.tick_top()
        ax.tick_params(length=0, pad=2)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10, pad=14 if index_labels else 4)


def symbols(name, n_rows, n_cols, offset=0):
    """Cell labels like x00, x01, ... as mathtext strings (offset shifts the indices)."""
    return [[f"${name}_{{{r + offset}{c + offset}}}$" for c in range(n_cols)] for r in range(n_rows)]


def node(ax, xy, label, colour=BLUE, width=0.9, height=0.5, fontsize=11):
    """A rounded box holding a variable or an operation of a computational graph."""
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.02,rounding_size=0.15",
                                facecolor="white", edgecolor=colour, lw=2, zorder=3))
    ax.text(x, y, label, ha="center", va="center", fontsize=fontsize, zorder=4)


def edge(ax, start, end, forward=None, backward=None, shrink=0.5, t=0.5, offset=0.16):
    """An arrow start -> end; the forward value is written on its upper side (green),
    the gradient on its lower side (red), at fraction t of the way along it."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=1.5,
                                 color="#444444", shrinkA=shrink * 60, shrinkB=shrink * 60, zorder=2))
    (x0, y0), (x1, y1) = start, end
    length = np.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length      # unit normal, on the upper side
    mx, my = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    style = dict(ha="center", va="center", fontsize=10, fontweight="bold",
                 bbox=dict(facecolor="white", edgecolor="none", pad=0.5), zorder=6)
    if forward is not None:
        ax.text(mx + offset * nx, my + offset * ny, forward, color=GREEN, **style)
    if backward is not None:
        ax.text(mx - offset * nx, my - offset * ny, backward, color=RED, **style)


def blank(ax):
    """Hide the frame and ticks of an axes used as a drawing canvas."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def operator(ax, text, fontsize=18):
    """Fill an axes with one big symbol (=, +, a star) between two grids."""
    blank(ax)
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=fontsize, transform=ax.transAxes)
