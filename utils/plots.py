"""Pictures in one style: the matrix view, grids of images, before/after pairs, and bar charts.

In a notebook, figures are sent as JPEG (quality 85) rather than PNG: a photo is 5-10x smaller, which keeps the
committed notebooks small enough for git and for slow classroom networks.

Every function draws, shows the figure and closes it, so notebooks do not pile up open figures and
nbval sees one stable output per picture. Images may be 2-D (grayscale) or (H, W, 3) colour, as
uint8 (0-255) or float. Grayscale uses the ``gray`` colour map with black = lowest value unless told
otherwise.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib

import matplotlib.pyplot as plt
import numpy as np

from utils.errors import CourseError

STYLE = {
    "figure.dpi": 80,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "font.size": 10,
    "image.interpolation": "nearest",
}
matplotlib.rcParams.update(STYLE)


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
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    return arr


def _draw(ax, image, title: str | None = None, cmap: str = "gray", vmin=None, vmax=None,
          colorbar: bool = False) -> None:
    arr = _as_image(image)
    if arr.ndim == 2 and vmin is None and vmax is None and arr.dtype == np.uint8:
        vmin, vmax = 0, 255
    if arr.ndim == 3 and arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 1 if arr.max() <= 1 else 255)
        if arr.max() > 1:
            arr = arr.astype(np.uint8)
    shown = ax.imshow(arr, cmap=cmap if arr.ndim == 2 else None, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)


def _finish(fig) -> None:
    fig.tight_layout()
    plt.show()
    plt.close(fig)


def show_image(image, title: str | None = None, cmap: str = "gray", size: float = 4,
               colorbar: bool = False, vmin=None, vmax=None) -> None:
    """One image, with an optional colour bar."""
    _as_image(image)  # check before a figure exists, so a bad input leaves nothing open
    fig, ax = plt.subplots(figsize=(size, size))
    _draw(ax, image, title, cmap, vmin, vmax, colorbar)
    _finish(fig)


def show_matrix(matrix, title: str | None = None, fmt: str | None = None, cmap: str = "gray",
                size: float | None = None, vmin=None, vmax=None) -> None:
    """A small 2-D array drawn as an image with every value written on its pixel (the matrix view)."""
    arr = np.asarray(matrix)
    if arr.ndim != 2:
        raise CourseError(f"The matrix view needs a 2-D array, got shape {arr.shape}; pick one channel first.")
    if arr.size > 900:
        raise CourseError(f"A {arr.shape[0]}x{arr.shape[1]} matrix is too big to write out; crop it to 30x30 or less.")
    if fmt is None:
        fmt = "d" if np.issubdtype(arr.dtype, np.integer) else ".2g"
    size = size or max(2.5, 0.45 * max(arr.shape))
    fig, ax = plt.subplots(figsize=(size * arr.shape[1] / max(arr.shape), size * arr.shape[0] / max(arr.shape)))
    lo = arr.min() if vmin is None else vmin
    hi = arr.max() if vmax is None else vmax
    ax.imshow(arr, cmap=cmap, vmin=lo, vmax=hi)
    middle = (float(lo) + float(hi)) / 2
    for (i, j), value in np.ndenumerate(arr):
        colour = "black" if value > middle else "white"
        ax.text(j, i, format(value, fmt), ha="center", va="center", color=colour, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    _finish(fig)


def show_grid(images: Sequence, titles: Sequence[str] | None = None, ncols: int = 5, size: float = 2.2,
              cmap: str = "gray", vmin=None, vmax=None, suptitle: str | None = None) -> None:
    """Several images in a grid, each with its title."""
    images = list(images)
    if not images:
        raise CourseError("show_grid got no images to show.")
    if titles is not None and len(titles) != len(images):
        raise CourseError(f"show_grid got {len(images)} images but {len(titles)} titles; give one title per image.")
    for image in images:
        _as_image(image)
    ncols = max(1, min(ncols, len(images)))
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < len(images):
            _draw(ax, images[k], titles[k] if titles else None, cmap, vmin, vmax)
        else:
            ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontweight="bold")
    _finish(fig)


def show_before_after(before, after, titles: tuple[str, str] = ("before", "after"), size: float = 4,
                      cmap: str = "gray", same_scale: bool = False) -> None:
    """Two images side by side: an input and what an operation made of it."""
    _as_image(before), _as_image(after)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size, size))
    vmin = vmax = None
    if same_scale:
        both = np.concatenate([np.ravel(before), np.ravel(after)])
        vmin, vmax = both.min(), both.max()
    _draw(axes[0], before, titles[0], cmap, vmin, vmax)
    _draw(axes[1], after, titles[1], cmap, vmin, vmax)
    _finish(fig)


def show_bars(labels: Sequence, values: Sequence[float], title: str | None = None, highlight: int | None = None,
              xlabel: str | None = None, ylabel: str | None = None, size: tuple[float, float] = (5, 2.6)) -> None:
    """A bar chart (class probabilities, parameter counts); ``highlight`` colours one bar."""
    fig, ax = plt.subplots(figsize=size)
    colours = ["tab:blue"] * len(values)
    if highlight is not None:
        colours[highlight] = "tab:orange"
    ax.bar([str(label) for label in labels], values, color=colours)
    if title:
        ax.set_title(title)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    _finish(fig)
