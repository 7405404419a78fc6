"""Semantic segmentation on MNIST canvases (notebook 13): a canvas generator, IoU, and a small U-Net.

A *canvas* is a larger gray image with one to three MNIST digits pasted on it at random places; its *mask*
gives every pixel a class: 0 for background, ``d + 1`` for a pixel of digit ``d`` (so 11 classes). Where two
digits overlap, the pixel goes to the one with more ink there. :func:`make_canvases` builds thousands in a
second, from whatever digits it is given (training digits for training canvases, test digits for test ones).

:func:`iou_per_class` and :func:`mean_iou` score a predicted mask against the truth: for each class, the
pixels both call that class (intersection) over the pixels either calls that class (union).

:func:`build_unet` is a fully convolutional encoder-decoder with skip connections (Ronneberger et al. 2015,
much smaller): no Dense layer, so it runs on a canvas of any size whose sides divide by ``2**len(filters) / 2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from utils import env
from utils.errors import CourseError

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: Number of classes in a mask: background plus ten digits.
N_CLASSES = 11
#: Class names by mask value.
CLASS_NAMES: tuple[str, ...] = ("background",) + tuple(f"digit {d}" for d in range(10))
#: A pixel belongs to a digit where that digit's ink is at least this (of 255).
INK_THRESHOLD = 128
#: Two digits' 28x28 boxes may share at most this share of a box (so every digit stays readable).
MAX_OVERLAP = 0.25


@dataclass
class CanvasObjects:
    """What :func:`make_canvases` placed on each canvas (with ``objects=True``), one array per canvas.

    ``boxes[i]``: float (k, 4) as ``[x0, y0, x1, y1]`` in pixels, the tight box around a digit's mask pixels
    (ink >= :data:`INK_THRESHOLD`; x1 and y1 one past the last pixel, so ``x1 - x0`` is the width).
    ``labels[i]``: int (k,) the digits. ``keypoints[i]``: float (k, 3, 2) as ``(x, y)`` pixel centres of
    three landmarks per digit: the top end of its stroke (the middle of its topmost mask row), the centre of
    its ink mass, and the bottom end (the middle of its lowest mask row). ``scales[i]``: (k,) the zoom each
    digit was drawn at (1 = 28 pixels).
    """

    boxes: list[np.ndarray]
    labels: list[np.ndarray]
    keypoints: list[np.ndarray]
    scales: list[np.ndarray]


def _zoom(digit: np.ndarray, side: int) -> np.ndarray:
    """A uint8 digit resized to ``side`` x ``side`` pixels (bilinear)."""
    from PIL import Image

    if digit.shape == (side, side):
        return digit
    return np.asarray(Image.fromarray(digit).resize((side, side), Image.BILINEAR))


def _landmarks(wins: np.ndarray, digit: np.ndarray, top: int, left: int) -> tuple[np.ndarray, np.ndarray]:
    """The tight box and three keypoints (see :class:`CanvasObjects`) of a digit's mask pixels ``wins``."""
    rows, cols = np.nonzero(wins)
    if len(rows) == 0:  # a digit with no pixel above the threshold: a box of its whole square
        h, w = wins.shape
        return (np.array([left, top, left + w, top + h], float),
                np.tile([left + w / 2, top + h / 2], (3, 1)).astype(float))
    box = np.array([left + cols.min(), top + rows.min(), left + cols.max() + 1, top + rows.max() + 1], float)
    weight = digit[rows, cols].astype(float)
    centre = (left + np.sum(cols * weight) / weight.sum() + 0.5, top + np.sum(rows * weight) / weight.sum() + 0.5)
    first, last = rows.min(), rows.max()
    top_end = (left + cols[rows == first].mean() + 0.5, top + first + 0.5)
    bottom_end = (left + cols[rows == last].mean() + 0.5, top + last + 0.5)
    return box, np.array([top_end, centre, bottom_end], float)


def make_canvases(x: np.ndarray, y: np.ndarray, n: int, size: int = 64, max_digits: int = 3,
                  min_digits: int = 1, seed: int = 0, scale: tuple[float, float] | None = None,
                  max_overlap: float = MAX_OVERLAP, objects: bool = False):
    """``n`` canvases of ``size`` x ``size`` pixels with ``min_digits`` to ``max_digits`` digits each.

    ``x``: uint8 digits (N, h, w), ``y``: their labels 0-9. Returns the images as float32 in [0, 1], shape
    (n, size, size), and the masks as uint8 (n, size, size) with 0 = background and ``d + 1`` = digit ``d``.
    Digits are drawn with replacement; positions are redrawn (up to 50 times) while a digit's box would cover
    more than ``max_overlap`` (default :data:`MAX_OVERLAP`) of an earlier one or of itself (the smaller box
    counts). The same ``seed`` gives the same canvases.

    Notebook 14 (detection) adds: ``scale=(low, high)`` draws each digit's zoom uniformly in that range (a
    28-pixel digit becomes ``round(28 * zoom)`` pixels, bilinear), and ``objects=True`` also returns a
    :class:`CanvasObjects` with every digit's box, label and keypoints. Without ``scale`` the random draws, and
    so the canvases, are exactly notebook 13's.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 3 or len(x) != len(y) or len(x) == 0:
        raise CourseError(f"x must be a stack of 2-D digits (N, h, w) with one label each; got x {x.shape}, "
                          f"y {y.shape}.")
    h0, w0 = x.shape[1:]
    if scale is not None:
        low, high = (float(v) for v in scale)
        if not 0 < low <= high or round(max(h0, w0) * high) > size:
            raise CourseError(f"scale must be (low, high) with 0 < low <= high and digits of "
                              f"{max(h0, w0)} x high pixels fitting the {size}-pixel canvas; got {scale}.")
        if h0 != w0:
            raise CourseError(f"scale needs square digits; got {h0}x{w0}.")
    if size < max(h0, w0):
        raise CourseError(f"a canvas of {size} pixels cannot hold a {h0}x{w0} digit; use size >= {max(h0, w0)}.")
    if not 1 <= min_digits <= max_digits:
        raise CourseError(f"need 1 <= min_digits <= max_digits, got {min_digits} and {max_digits}.")
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size), np.uint8)
    masks = np.zeros((n, size, size), np.uint8)
    found = CanvasObjects([], [], [], [])
    for i in range(n):
        ink = np.zeros((size, size), np.uint8)  # the most ink any digit put on each pixel so far
        boxes: list[tuple[int, int, int, int]] = []
        placed: list[tuple[np.ndarray, int, int, int, float]] = []
        for _ in range(rng.integers(min_digits, max_digits + 1)):
            zoom = 1.0 if scale is None else float(rng.uniform(low, high))
            h = w = round(h0 * zoom) if scale is not None else None
            if h is None:
                h, w = h0, w0
            for _attempt in range(50):
                top, left = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
                overlaps = [max(0, min(top + h, t + bh) - max(top, t)) * max(0, min(left + w, u + bw) - max(left, u))
                            / min(h * w, bh * bw) for t, u, bh, bw in boxes]
                if not overlaps or max(overlaps) <= max_overlap:
                    break
            boxes.append((top, left, h, w))
            k = rng.integers(len(x))
            digit = x[k] if scale is None else _zoom(x[k], h)
            region = (slice(top, top + h), slice(left, left + w))
            wins = (digit >= INK_THRESHOLD) & (digit > ink[region])
            masks[i][region][wins] = y[k] + 1
            ink[region] = np.maximum(ink[region], digit)
            placed.append((digit, int(y[k]), int(top), int(left), zoom))
        images[i] = ink
        if objects:
            marks = [_landmarks(d >= INK_THRESHOLD, d, t, u) for d, _, t, u, _ in placed]
            found.boxes.append(np.array([b for b, _ in marks], float).reshape(-1, 4))
            found.keypoints.append(np.array([p for _, p in marks], float).reshape(-1, 3, 2))
            found.labels.append(np.array([label for _, label, _, _, _ in placed], np.int64))
            found.scales.append(np.array([z for *_, z in placed], float))
    if objects:
        return images.astype(np.float32) / 255.0, masks, found
    return images.astype(np.float32) / 255.0, masks


def confusion(true: np.ndarray, pred: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Pixel counts: row = true class, column = predicted class."""
    true, pred = np.asarray(true).ravel().astype(np.int64), np.asarray(pred).ravel().astype(np.int64)
    if true.shape != pred.shape:
        raise CourseError(f"the masks differ in size: {np.asarray(true).shape} vs {np.asarray(pred).shape}.")
    if true.size and (min(true.min(), pred.min()) < 0 or max(true.max(), pred.max()) >= n_classes):
        raise CourseError(f"mask values must be class numbers 0 to {n_classes - 1}.")
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(true, pred, labels=np.arange(n_classes))


def iou_per_class(true: np.ndarray, pred: np.ndarray, n_classes: int = N_CLASSES) -> np.ndarray:
    """Intersection over union of each class (float array of ``n_classes``); NaN for a class that neither
    mask contains (it cannot be scored)."""
    counts = confusion(true, pred, n_classes)
    intersection = np.diag(counts).astype(float)
    union = counts.sum(0) + counts.sum(1) - np.diag(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.maximum(union, 1), np.nan)


def mean_iou(true: np.ndarray, pred: np.ndarray, n_classes: int = N_CLASSES) -> float:
    """The mean of :func:`iou_per_class` over the classes that occur (background included)."""
    return float(np.nanmean(iou_per_class(true, pred, n_classes)))


def build_unet(n_classes: int = N_CLASSES, filters: Sequence[int] = (16, 32, 64),
               input_shape: tuple[int | None, int | None, int] = (None, None, 1),
               name: str = "unet") -> "keras.Model":
    """A small U-Net: two 3x3 convolutions per level, max pooling down, 2x2 transposed convolutions
    (stride 2) up, the encoder's maps concatenated in at each level, and a 1x1 convolution to ``n_classes``
    softmax scores per pixel. The default input has no fixed size: any canvas whose sides divide by
    ``2 ** (len(filters) - 1)``."""
    env.quiet_tensorflow()
    import keras
    from keras import layers

    def double_conv(h, f, label):
        h = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{label}_conv1")(h)
        return layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{label}_conv2")(h)

    inputs = keras.Input(shape=input_shape, name="canvas")
    h, skips = inputs, []
    for level, f in enumerate(filters[:-1], 1):
        h = double_conv(h, f, f"down{level}")
        skips.append(h)
        h = layers.MaxPooling2D(2, name=f"down{level}_pool")(h)
    h = double_conv(h, filters[-1], "bottom")
    for level, (f, skip) in reversed(list(enumerate(zip(filters[:-1], skips), 1))):
        h = layers.Conv2DTranspose(f, 2, strides=2, name=f"up{level}_transpose")(h)
        h = layers.Concatenate(name=f"up{level}_skip")([h, skip])
        h = double_conv(h, f, f"up{level}")
    outputs = layers.Conv2D(n_classes, 1, activation="softmax", dtype="float32", name="classes")(h)
    return keras.Model(inputs, outputs, name=name)


def predict_masks(model: "keras.Model", images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """The most probable class per pixel, uint8 (n, H, W), for float images (n, H, W) in [0, 1]."""
    scores = model.predict(np.asarray(images, np.float32)[..., None], batch_size=batch_size, verbose=0)
    return np.argmax(scores, axis=-1).astype(np.uint8)


def colour_masks(masks: np.ndarray) -> np.ndarray:
    """Masks as RGB float images: background black, each digit class its own colour (tab10)."""
    import matplotlib

    palette = np.vstack([[0.0, 0.0, 0.0], matplotlib.colormaps["tab10"](np.arange(10))[:, :3]])
    return palette[np.asarray(masks, np.int64)]
