"""A planted shortcut: a small square mark whose position gives away the class, to catch a model that is right for
the wrong reasons (notebook 11).

The mark is a ``SIZE`` x ``SIZE`` white square in the empty border of a 28x28 digit, at one of ten places
(:data:`POSITIONS`): classes 0-4 along the top edge, 5-9 along the bottom edge. :func:`plant_mark` stamps it
on images in one of three ways:

- ``"class"``: at the place of the image's own label (the shortcut: the mark alone tells the class);
- ``"random"``: at a random place, unrelated to the label (the cue carries no information);
- ``"none"``: no mark (the images come back unchanged, as float32).

:func:`mark_box` gives the rows/columns a mark covers (to measure how much of a saliency map falls on it), and
:func:`share_on_mark` measures that share.
"""

from __future__ import annotations

import numpy as np

from utils.errors import CourseError

#: Side of the square mark, in pixels.
SIZE = 3
#: (top row, left column) of the mark for each class 0-9: top edge for 0-4, bottom edge for 5-9.
POSITIONS: tuple[tuple[int, int], ...] = tuple((0 if c < 5 else 28 - SIZE, 2 + 5 * (c % 5)) for c in range(10))
MODES = ("class", "random", "none")


def mark_box(position: int) -> tuple[slice, slice]:
    """The (rows, cols) slices the mark for place ``position`` (0-9) covers."""
    if not 0 <= int(position) < len(POSITIONS):
        raise CourseError(f"A mark position is 0 to {len(POSITIONS) - 1}, got {position}.")
    top, left = POSITIONS[int(position)]
    return slice(top, top + SIZE), slice(left, left + SIZE)


def plant_mark(images, labels, mode: str = "class", seed: int = 0, value: float = 1.0
               ) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``images`` (N, 28, 28) or (N, 28, 28, 1), values in [0, 1] (uint8 is scaled), with a mark stamped
    by ``mode`` (see the module docs). Returns ``(marked_images, positions)``; positions is -1 where no mark."""
    if mode not in MODES:
        raise CourseError(f"mode must be one of {MODES}, got {mode!r}.")
    arr = np.asarray(images)
    arr = arr.astype("float32") / 255.0 if arr.dtype == np.uint8 else arr.astype("float32", copy=True)
    if arr.ndim not in (3, 4) or arr.shape[1:3] != (28, 28):
        raise CourseError(f"Expected 28x28 digits (N, 28, 28) or (N, 28, 28, 1), got shape {np.shape(images)}.")
    y = np.asarray(labels).astype(int)
    if y.shape != (len(arr),) or y.min(initial=0) < 0 or y.max(initial=0) > 9:
        raise CourseError(f"Expected one label 0-9 per image ({len(arr)}), got shape {np.shape(labels)}.")
    if mode == "none":
        return arr, np.full(len(arr), -1)
    where = y if mode == "class" else np.random.default_rng(seed).integers(0, len(POSITIONS), len(arr))
    for k, pos in enumerate(where):
        rows, cols = mark_box(pos)
        arr[k, rows, cols] = value
    return arr, where.astype(int)


def share_on_mark(heat_map, position: int, margin: int = 1) -> float:
    """The share of a non-negative (28, 28) map that falls on mark ``position``'s square (widened by ``margin``)."""
    heat = np.maximum(np.asarray(heat_map, dtype="float64"), 0)
    if heat.shape != (28, 28):
        raise CourseError(f"Expected a (28, 28) map, got shape {heat.shape}.")
    rows, cols = mark_box(position)
    r = slice(max(rows.start - margin, 0), rows.stop + margin)
    c = slice(max(cols.start - margin, 0), cols.stop + margin)
    total = heat.sum()
    return float(heat[r, c].sum() / total) if total > 0 else 0.0
