"""Drawing helpers for the figures of chapters 1, 2 and 5: small matrices with their numbers.

Every number is written in black or white, whichever reads better on the colour
of its cell in both of the book's themes (the dark theme shows images through
the CSS filter that plotting_conv.contrast models); the helpers return the
smallest contrast ratio they drew, so a chapter can assert it.
"""
import numpy as np
from matplotlib.patches import Rectangle

from plotting_conv import contrast

WINDOW_COLOURS = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C8", "C9"]
LEGIBLE = 4.5   # WCAG AA contrast for small text
BLACK, WHITE = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)


def text_colour_on(face):
    """(colour, contrast ratio) of black or white text, whichever reads better on `face`."""
    return max([(BLACK, contrast(BLACK, face)), (WHITE, contrast(WHITE, face))], key=lambda o: o[1])


def cell_face(im, value):
    """The RGB colour an imshow image `im` paints `value` with, seen over the white figure."""
    alpha = im.get_alpha()
    alpha = 1.0 if alpha is None else alpha
    rgb = np.asarray(im.to_rgba(value)[:3])
    return (1 - alpha) * np.ones(3) + alpha * rgb


def annotate_image(ax, M, im, fmt="{:g}", skip_zero=False, fontsize=8, circled=()):
    """Write every entry of M on its cell of the imshow image `im`; return the smallest contrast.

    circled: (row, col) cells whose value is drawn bold inside a circle.
    """
    worst = np.inf
    for (r, c), value in np.ndenumerate(M):
        if skip_zero and value == 0:
            continue
        colour, ratio = text_colour_on(cell_face(im, value))
        bold = (r, c) in circled
        ax.text(c, r, fmt.format(value), ha="center", va="center", fontsize=fontsize, color=colour,
                fontweight="bold" if bold else "normal",
                bbox=dict(boxstyle="circle,pad=0.25", fc="none", ec=colour) if bold else None)
        worst = min(worst, ratio)
    ax.min_text_contrast = min(getattr(ax, "min_text_contrast", np.inf), worst)
    return worst


def legible(fig):
    """Smallest contrast of the numbers drawn on cells by these helpers in `fig` (inf if none)."""
    return min([getattr(ax, "min_text_contrast", np.inf) for ax in fig.axes] + [np.inf])


def show_grid(ax, M, title, fmt="{:g}", cmap="Greys", vmin=None, vmax=None,
              windows=(), circled=(), fontsize=11):
    """Draw matrix M as coloured cells with their values written in; return the smallest contrast.

    windows: (row, col, size, colour) squares outlined on top;
    circled: (row, col) cells whose value is drawn bold inside a circle.
    """
    n_rows, n_cols = M.shape
    im = ax.imshow(M, cmap=cmap, vmin=vmin, vmax=vmax, alpha=0.35)
    worst = annotate_image(ax, M, im, fmt=fmt, fontsize=fontsize, circled=circled)
    for r0, c0, size, colour in windows:
        ax.add_patch(Rectangle((c0 - 0.5 + 0.06, r0 - 0.5 + 0.06), size - 0.12, size - 0.12,
                               fill=False, ec=colour, lw=2.5))
    ax.set_xticks(range(n_cols))
    ax.set_yticks(range(n_rows))
    ax.set_xticks([x - 0.5 for x in range(1, n_cols)], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, n_rows)], minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="both", length=0, labelsize=8)
    ax.set_title(title, fontsize=11)
    return worst


def window_squares(f, stride, n_H, n_W):
    """One (row, col, size, colour) outline per pooling window, coloured in turn."""
    return [(h * stride, w * stride, f, WINDOW_COLOURS[(h * n_W + w) % len(WINDOW_COLOURS)])
            for h in range(n_H) for w in range(n_W)]
