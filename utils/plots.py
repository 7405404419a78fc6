"""Pictures in one projector style: the matrix view, grids of images, before/after pairs, and bar charts.

The style (``STYLE``, applied when this module is imported) is made for a classroom projector: figures about
9 inches wide at 100 dpi (about the width of a notebook's output area, so the browser does not shrink them),
13-14 pt text and tick labels, 15 pt bold titles. It changes matplotlib's defaults, so a notebook's own
``plt.subplots(figsize=(9, 4))`` chart gets the same fonts. Figures drawn here use constrained layout, so
titles, colour bars and panels never overlap.

In a notebook, figures are sent as JPEG (quality 85) rather than PNG: a photo is 5-10x smaller, which keeps the
committed notebooks small enough for git and for slow classroom networks.

Every function draws, shows the figure and closes it, so notebooks do not pile up open figures and
nbval sees one stable output per picture. Images may be 2-D (grayscale) or (H, W, 3) colour, as
uint8 (0-255), float or bool. Grayscale uses the ``gray`` colour map with black = lowest value unless told
otherwise; how the gray levels are scaled:

- ``uint8``: the fixed 0-255 scale (0 black, 255 white), so a dark image looks dark;
- ``bool`` (a mask): the 0-1 scale, False black and True white;
- anything else: its own minimum (black) to maximum (white), unless ``vmin``/``vmax`` are given or panels
  share one scale (``shared_scale=True``, or a ``colorbar``, on the functions that draw several panels).
"""

from __future__ import annotations

import textwrap
from typing import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors

from utils.errors import CourseError

#: matplotlib settings for a projector (applied on import; see ``use_projector_style``).
STYLE = {
    "figure.dpi": 100,
    "figure.figsize": (9.0, 5.0),
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.labelsize": 14,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 13,
    "figure.titlesize": 16,
    "figure.titleweight": "bold",
    "lines.linewidth": 2.0,
    "image.interpolation": "nearest",
}

#: The widest figure drawn here, in inches: wider ones are shrunk by the browser, and their text with them.
MAX_WIDTH = 10.0

#: Panel titles in grids (slightly smaller than a single chart's title, so that they fit their panel).
PANEL_TITLE_SIZE = 13


def use_projector_style() -> None:
    """(Re)apply ``STYLE`` to matplotlib's defaults (done on import; call again after changing them)."""
    matplotlib.rcParams.update(STYLE)


use_projector_style()


def use_compact_figures(quality: int = 85) -> bool:
    """Send inline figures as JPEG; returns False (and changes nothing) outside a Jupyter kernel."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None or "IPKernelApp" not in shell.config:
            return False
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("jpeg", pil_kwargs={"quality": quality})
        return True
    except Exception:  # an unusual front end: keep its defaults
        return False


use_compact_figures()


def _as_image(image) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise CourseError(f"Expected an image of shape (H, W) or (H, W, 3), got shape {arr.shape}.")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise CourseError(f"Expected an image of numbers, got an array of {arr.dtype}.")
    if np.iscomplexobj(arr):
        raise CourseError("Expected an image of real numbers, got complex numbers; show np.abs(...) instead.")
    return arr


def _default_scale(arr: np.ndarray, vmin, vmax) -> tuple:
    """The gray scale of a 2-D image: bool 0-1, uint8 0-255, otherwise its own range (None, None)."""
    if vmin is None and vmax is None and arr.ndim == 2:
        if arr.dtype == bool:
            return 0, 1
        if arr.dtype == np.uint8:
            return 0, 255
    return vmin, vmax


def _shared_range(images: Sequence[np.ndarray]) -> tuple:
    """One (vmin, vmax) for all 2-D images: the fixed scale if they all share one, else the overall min-max."""
    gray = [arr for arr in images if arr.ndim == 2]
    if not gray:
        return None, None
    scales = {_default_scale(arr, None, None) for arr in gray}
    if len(scales) == 1 and None not in next(iter(scales)):
        return next(iter(scales))
    finite = [arr[np.isfinite(arr)].astype(float) for arr in gray]
    finite = [v for v in finite if v.size]
    if not finite:
        return None, None
    return float(min(v.min() for v in finite)), float(max(v.max() for v in finite))


def _draw(ax, image, title: str | None = None, cmap: str = "gray", vmin=None, vmax=None,
          colorbar: bool = False, title_size: float | None = None):
    arr = _as_image(image)
    vmin, vmax = _default_scale(arr, vmin, vmax)
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if arr.ndim == 3 and arr.dtype != np.uint8:
        arr = np.nan_to_num(arr.astype(float))
        top = 1 if arr.max() <= 1 else 255
        arr = np.clip(arr, 0, top)
        if top == 255:
            arr = arr.astype(np.uint8)
    shown = ax.imshow(arr, cmap=cmap if arr.ndim == 2 else None, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=title_size)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, shrink=0.85)
    return shown


def _finish(fig) -> None:
    plt.show()
    plt.close(fig)


def _wrap(title: str | None, width_inches: float, fontsize: float) -> str | None:
    """Break a panel title into lines that fit ``width_inches`` (bold text is about 0.6 em per character)."""
    if not title:
        return title
    chars = max(8, int(width_inches * 72 / (0.62 * fontsize)))
    return "\n".join(textwrap.fill(line, chars) for line in str(title).split("\n"))


def show_image(image, title: str | None = None, cmap: str = "gray", size: float = 5,
               colorbar: bool = False, vmin=None, vmax=None) -> None:
    """One image, with an optional colour bar (a bool mask is drawn False = black, True = white)."""
    _as_image(image)  # check before a figure exists, so a bad input leaves nothing open
    size = min(size, MAX_WIDTH)
    fig, ax = plt.subplots(figsize=(size + (1.2 if colorbar else 0), size), layout="constrained")
    _draw(ax, image, title, cmap, vmin, vmax, colorbar)
    _finish(fig)


def _matrix_text_size(cell_inches: float, longest: int) -> float:
    """A font size (pt) that fits ``longest`` characters in a cell ``cell_inches`` wide, 7 to 20 pt."""
    cell = cell_inches * 72
    return float(np.clip(min(0.5 * cell, 0.75 * cell / (0.64 * max(longest, 1))), 7, 20))


def show_matrix(matrix, title: str | None = None, fmt: str | None = None, cmap: str = "gray",
                size: float | None = None, vmin=None, vmax=None, log: bool = False, colorbar: bool = False,
                xlabel: str | None = None, ylabel: str | None = None, row_labels: Sequence | None = None,
                col_labels: Sequence | None = None) -> None:
    """A small 2-D array drawn as an image with every value written on its pixel (the matrix view).

    The numbers' font grows with the cells, and each is black or white, whichever contrasts with its cell.
    ``log=True`` colours on a logarithmic scale (zero allowed), so that small counts beside big ones (the
    off-diagonal cells of a confusion matrix) are visible. ``row_labels`` / ``col_labels`` label the rows and
    columns (say, the classes), ``xlabel`` / ``ylabel`` the axes.
    """
    arr = np.asarray(matrix)
    if arr.ndim != 2:
        raise CourseError(f"The matrix view needs a 2-D array, got shape {arr.shape}; pick one channel first.")
    if arr.size > 900:
        raise CourseError(f"A {arr.shape[0]}x{arr.shape[1]} matrix is too big to write out; crop it to 30x30 or less.")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise CourseError(f"The matrix view needs numbers, got an array of {arr.dtype}.")
    if np.iscomplexobj(arr):
        raise CourseError("The matrix view needs real numbers, got complex numbers; show np.abs(...) instead.")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
        vmin = 0 if vmin is None else vmin
        vmax = 1 if vmax is None else vmax
    if fmt is None:
        fmt = "d" if np.issubdtype(arr.dtype, np.integer) else ".2g"
    for labels, count, what in ((row_labels, arr.shape[0], "rows"), (col_labels, arr.shape[1], "columns")):
        if labels is not None and len(labels) != count:
            raise CourseError(f"The matrix has {count} {what} but got {len(labels)} labels for them.")
    texts = [format(value, fmt) for value in arr.ravel()]
    floor = max(2.5, 0.35 * max(arr.shape))  # smaller, and the numbers cannot be read from the back
    size = min(max(size or float(np.clip(0.6 * max(arr.shape), 3.5, 9)), floor), MAX_WIDTH)
    width = size * arr.shape[1] / max(arr.shape)
    height = size * arr.shape[0] / max(arr.shape)
    fig, ax = plt.subplots(figsize=(width + (1.3 if colorbar else 0), height + (0.5 if xlabel else 0)),
                           layout="constrained")
    finite = arr[np.isfinite(arr)] if arr.size else arr
    lo = float(finite.min()) if vmin is None and finite.size else vmin
    hi = float(finite.max()) if vmax is None and finite.size else vmax
    if log:
        norm = mcolors.SymLogNorm(linthresh=1.0, vmin=lo, vmax=hi, base=10)
    else:
        norm = mcolors.Normalize(vmin=lo, vmax=hi)
    shown = ax.imshow(arr, cmap=cmap, norm=norm)
    colourmap = shown.get_cmap()
    fontsize = _matrix_text_size(0.92 * width / arr.shape[1], max((len(t) for t in texts), default=1))
    for (i, j), text in zip(np.ndindex(arr.shape), texts):
        value = arr[i, j]
        if np.isfinite(value):
            red, green, blue, _ = colourmap(norm(value))
            colour = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"
        else:
            colour = "red"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=fontsize)
    ax.set_xticks(range(arr.shape[1]) if col_labels is not None else [])
    ax.set_yticks(range(arr.shape[0]) if row_labels is not None else [])
    if col_labels is not None:
        ax.set_xticklabels([str(v) for v in col_labels])
    if row_labels is not None:
        ax.set_yticklabels([str(v) for v in row_labels])
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        fig.colorbar(shown, ax=ax, shrink=0.85)
    _finish(fig)


def show_grid(images: Sequence, titles: Sequence[str] | None = None, ncols: int = 5, size: float = 2.2,
              cmap: str = "gray", vmin=None, vmax=None, suptitle: str | None = None,
              shared_scale: bool = False, colorbar: bool = False) -> None:
    """Several images in a grid, each with its title.

    Panels are at most ``MAX_WIDTH`` inches wide together (``size`` shrinks if needed); long titles wrap.
    ``shared_scale=True`` draws every grayscale panel on one scale (the same gray means the same value in
    every panel, which is what comparing panels needs); ``colorbar=True`` adds one colour bar for all panels
    and implies a shared scale.
    """
    images = list(images)
    if not images:
        raise CourseError("show_grid got no images to show.")
    if titles is not None and len(titles) != len(images):
        raise CourseError(f"show_grid got {len(images)} images but {len(titles)} titles; give one title per image.")
    arrays = [_as_image(image) for image in images]
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    extra = 1.0 if colorbar else 0.0
    size = min(size, (MAX_WIDTH - extra) / ncols)
    if (shared_scale or colorbar) and vmin is None and vmax is None:
        vmin, vmax = _shared_range(arrays)
    longest = max((len(t) for t in titles or [""]), default=0)
    title_lines = max((len(_wrap(t, size, PANEL_TITLE_SIZE).split("\n")) for t in titles or [] if t), default=0)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(size * ncols + extra,
                                      (size + 0.3 * title_lines) * nrows + (0.5 if suptitle else 0)))
    shown = None
    for k, ax in enumerate(axes.flat):
        if k < len(images):
            title = _wrap(titles[k], size, PANEL_TITLE_SIZE) if titles and longest else None
            drawn = _draw(ax, arrays[k], title, cmap, vmin, vmax, title_size=PANEL_TITLE_SIZE)
            if arrays[k].ndim == 2:
                shown = drawn
        else:
            ax.axis("off")
    if colorbar and shown is not None:
        fig.colorbar(shown, ax=axes, shrink=0.85)
    if suptitle:
        fig.suptitle(suptitle)
    _finish(fig)


def show_before_after(before, after, titles: tuple[str, str] = ("before", "after"), size: float = 4.5,
                      cmap: str = "gray", same_scale: bool = False, colorbar: bool = False) -> None:
    """Two images side by side: an input and what an operation made of it.

    ``same_scale=True`` draws both grayscale images on one scale; ``colorbar=True`` adds one colour bar for
    both (and implies ``same_scale``).
    """
    arrays = [_as_image(before), _as_image(after)]
    extra = 1.0 if colorbar else 0.0
    size = min(size, (MAX_WIDTH - extra) / 2)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size + extra, size), layout="constrained")
    vmin = vmax = None
    if same_scale or colorbar:
        vmin, vmax = _shared_range(arrays)
    drawn = [_draw(ax, arr, title, cmap, vmin, vmax) for ax, arr, title in zip(axes, arrays, titles)]
    gray = [d for d, arr in zip(drawn, arrays) if arr.ndim == 2]
    if colorbar and gray:
        fig.colorbar(gray[-1], ax=axes, shrink=0.85)
    _finish(fig)


def show_bars(labels: Sequence, values: Sequence[float], title: str | None = None, highlight: int | None = None,
              xlabel: str | None = None, ylabel: str | None = None, size: tuple[float, float] | None = None,
              ylim: tuple[float, float] | None = None, value_fmt: str | None = None) -> None:
    """A bar chart (class probabilities, parameter counts); ``highlight`` colours one bar.

    ``ylim`` zooms the value axis (say, ``(0.95, 1.0)`` when every accuracy is above 95%); ``value_fmt``
    (say ``".1%"``) writes each value above its bar. Long or many labels are slanted so that they never merge.
    """
    labels = [str(label) for label in labels]
    values = np.asarray(values, dtype=float).ravel()
    if len(labels) != len(values):
        raise CourseError(f"show_bars got {len(labels)} labels but {len(values)} values; give one label per bar.")
    if highlight is not None and not -len(values) <= highlight < len(values):
        raise CourseError(f"highlight={highlight} is not a bar: there are {len(values)} bars.")
    width, height = size or (9.0, 4.5)
    fig, ax = plt.subplots(figsize=(min(width, MAX_WIDTH), height), layout="constrained")
    colours = ["tab:blue"] * len(values)
    if highlight is not None:
        colours[highlight] = "tab:orange"
    bars = ax.bar(range(len(values)), values, color=colours, tick_label=labels)
    tick_size = matplotlib.rcParams["xtick.labelsize"]
    tick_size = tick_size if isinstance(tick_size, (int, float)) else matplotlib.rcParams["font.size"]
    room = 0.8 * min(width, MAX_WIDTH) * 72 / max(len(labels), 1)  # points per bar
    if max((len(label) for label in labels), default=0) * 0.6 * tick_size > 0.9 * room:
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right", rotation_mode="anchor")
    if ylim is not None:
        ax.set_ylim(*ylim)
    if value_fmt:
        texts = [format(v, value_fmt) for v in values]
        longest = max(len(t) for t in texts) if texts else 1
        ax.bar_label(bars, labels=texts, padding=2, fontsize=float(np.clip(room / (0.6 * longest), 8, tick_size)))
        ax.margins(y=0.12)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    _finish(fig)


def draw_boxes(ax, boxes, labels: Sequence | None = None, scores: Sequence[float] | None = None,
               color: str = "lime", linestyle: str = "-", fontsize: float = 11) -> None:
    """Draw boxes ``[x0, y0, x1, y1]`` (pixels; x1, y1 one past the last pixel) on an ``imshow`` axis.

    ``labels`` (a digit each) and ``scores`` (0-1), when given, are written above each box's top-left corner.
    Detection's plotting chrome (notebook 14); an empty list of boxes draws nothing.
    """
    from matplotlib.patches import Rectangle

    boxes = np.asarray(boxes, float).reshape(-1, 4)
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        # imshow puts pixel j's centre at j, so a pixel's left edge is at j - 0.5
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=color,
                               linewidth=2, linestyle=linestyle))
        text = [] if labels is None else [f"{labels[k]}"]
        if scores is not None:
            text.append(f"{scores[k]:.2f}")
        if text:
            ax.text(x0 - 0.5, y0 - 1.5, " ".join(text), color=color, fontsize=fontsize, fontweight="bold",
                    va="bottom", ha="left", clip_on=True)
