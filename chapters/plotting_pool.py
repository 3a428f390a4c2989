"""Drawing helpers for chapter 5's figures: small matrices with their numbers."""
from matplotlib.patches import Rectangle

WINDOW_COLOURS = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C8", "C9"]


def show_grid(ax, M, title, fmt="{:g}", cmap="Greys", vmin=None, vmax=None,
              windows=(), circled=(), fontsize=11):
    """Draw matrix M as coloured cells with their values written in.

    windows: (row, col, size, colour) squares outlined on top;
    circled: (row, col) cells whose value is drawn bold inside a circle.
    """
    n_rows, n_cols = M.shape
    ax.imshow(M, cmap=cmap, vmin=vmin, vmax=vmax, alpha=0.35)
    for r in range(n_rows):
        for c in range(n_cols):
            bold = (r, c) in circled
            ax.text(c, r, fmt.format(M[r, c]), ha="center", va="center", fontsize=fontsize,
                    fontweight="bold" if bold else "normal",
                    bbox=dict(boxstyle="circle,pad=0.25", fc="none", ec="black") if bold else None)
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


def window_squares(f, stride, n_H, n_W):
    """One (row, col, size, colour) outline per pooling window, coloured in turn."""
    return [(h * stride, w * stride, f, WINDOW_COLOURS[(h * n_W + w) % len(WINDOW_COLOURS)])
            for h in range(n_H) for w in range(n_W)]

