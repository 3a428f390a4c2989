"""Legibility checks for the figures of chapters 7 and 8.

The chapters draw their figures in hidden cells and assert, just before
plt.show(), that a reader can read them: every number drawn on a coloured
cell contrasts with it in the light and the dark theme (the dark theme shows
images on white through the CSS filter brightness(0.8) contrast(1.2);
plotting_conv.contrast measures a pair of colours both ways), and no legend
hides a data point. Nothing here computes a gradient.
"""
import numpy as np
from matplotlib.colors import to_rgb

import plotting_conv as pc


def ink_on(background):
    """"black" or "white", whichever reads better on `background` in both themes."""
    back = to_rgb(background if isinstance(background, str) else tuple(background))
    return max(("black", "white"), key=lambda ink: pc.contrast(to_rgb(ink), back))


def image_text_contrast(ax):
    """Smallest contrast (both themes) of the texts drawn on the cells of ax's image.

    Each text sits at the data position (column, row) of one pixel of the first
    image of ax (as ax.text(col, row, ...) places it on an imshow); its
    background is that pixel's colour.
    """
    image = ax.images[0]
    data = np.asarray(image.get_array())
    worst = np.inf
    for text in ax.texts:
        col, row = (int(round(v)) for v in text.get_position())
        back = image.cmap(image.norm(data[row, col]))[:3]
        worst = min(worst, pc.contrast(to_rgb(text.get_color()), back))
    return worst


def covered_points(fig):
    """How many plotted points (line vertices, with their marker size) a legend hides."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    boxes = [legend.get_window_extent(renderer) for legend in legends]
    covered = 0
    for ax in fig.axes:
        for line in ax.lines:
            points = line.get_transform().transform(line.get_xydata())
            reach = line.get_markersize() * fig.dpi / 72 / 2
            for box in boxes:
                covered += int(np.sum((points[:, 0] > box.x0 - reach) & (points[:, 0] < box.x1 + reach)
                                      & (points[:, 1] > box.y0 - reach) & (points[:, 1] < box.y1 + reach)))
    return covered
