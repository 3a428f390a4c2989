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


# --- Legibility in both themes -------------------------------------------------
# The book's dark theme (pydata-sphinx-theme) shows every image on white with the
# CSS filter brightness(0.8) contrast(1.2); a number must stay readable both ways.

def _luminance(rgb):
    """WCAG relative luminance of an sRGB colour (components in [0, 1])."""
    rgb = np.clip(np.asarray(rgb[:3], dtype=float), 0, 1)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(np.dot(linear, [0.2126, 0.7152, 0.0722]))


def _dark_theme(rgb):
    """The colour as the dark theme shows it: brightness(0.8), then contrast(1.2)."""
    return np.clip((0.8 * np.asarray(rgb[:3], dtype=float) - 0.5) * 1.2 + 0.5, 0, 1)


def contrast(text_rgb, background_rgb):
    """Smallest WCAG contrast ratio of text on background, over the light and dark themes."""
    ratios = []
    for theme in (lambda c: np.asarray(c[:3], dtype=float), _dark_theme):
        l1, l2 = sorted((_luminance(theme(text_rgb)), _luminance(theme(background_rgb))))
        ratios.append((l2 + 0.05) / (l1 + 0.05))
    return min(ratios)


def _background(ax, x, y, below):
    """Colour under data point (x, y): the filled patches of ax drawn below zorder `below`,
    composited in drawing order over the white figure."""
    from matplotlib.colors import to_rgba
    colour = np.ones(3)
    patches = sorted(ax.patches, key=lambda patch: patch.get_zorder())   # stable: drawing order
    for patch in patches:
        if not patch.get_fill() or patch.get_zorder() >= below:
            continue
        if patch.get_path().contains_point((x, y), transform=patch.get_patch_transform()):
            r, g, b, a = to_rgba(patch.get_facecolor())
            colour = (1 - a) * colour + a * np.array([r, g, b])
    return colour


def legible(fig, ratio=4.5):
    """Make every number drawn on a cell readable in the light and the dark theme.

    Opt-in, called just before plt.show(): the cell texts of every axes are lifted
    above the translucent `fills` of grid() (which would otherwise tint them), and a
    text whose contrast with the colour under it is below `ratio` (WCAG AA for small
    text) is darkened, or lightened, just enough. Returns the smallest contrast left.
    """
    from matplotlib.colors import to_rgb
    worst = np.inf
    for ax in fig.axes:
        for text in ax.texts:
            if text.get_transform() != ax.transData:
                continue                                   # operators, labels: on white
            text.set_zorder(6)
            x, y = text.get_position()
            back = _background(ax, x, y, below=6)
            box = text.get_bbox_patch()
            if box is not None and box.get_fill():            # a text with its own background
                r, g, b, a = box.get_facecolor()
                back = (1 - a) * back + a * np.array([r, g, b])
            original = np.array(to_rgb(text.get_color()))
            best = original
            if contrast(original, back) < ratio:
                options = [(1 - t) * original + t * target
                           for t in np.linspace(0.1, 1, 10) for target in (np.zeros(3), np.ones(3))]
                passing = [c for c in options if contrast(c, back) >= ratio]
                best = passing[0] if passing else max(options, key=lambda c: contrast(c, back))
                text.set_color(tuple(best))
            worst = min(worst, contrast(best, back))
    return worst
