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


def make_canvases(x: np.ndarray, y: np.ndarray, n: int, size: int = 64, max_digits: int = 3,
                  min_digits: int = 1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` canvases of ``size`` x ``size`` pixels with ``min_digits`` to ``max_digits`` digits each.

    ``x``: uint8 digits (N, h, w), ``y``: their labels 0-9. Returns the images as float32 in [0, 1], shape
    (n, size, size), and the masks as uint8 (n, size, size) with 0 = background and ``d + 1`` = digit ``d``.
    Digits are drawn with replacement; positions are redrawn (up to 50 times) while a digit's box would cover
    more than :data:`MAX_OVERLAP` of an earlier one. The same ``seed`` gives the same canvases.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 3 or len(x) != len(y) or len(x) == 0:
        raise CourseError(f"x must be a stack of 2-D digits (N, h, w) with one label each; got x {x.shape}, "
                          f"y {y.shape}.")
    h, w = x.shape[1:]
    if size < max(h, w):
        raise CourseError(f"a canvas of {size} pixels cannot hold a {h}x{w} digit; use size >= {max(h, w)}.")
    if not 1 <= min_digits <= max_digits:
        raise CourseError(f"need 1 <= min_digits <= max_digits, got {min_digits} and {max_digits}.")
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size), np.uint8)
    masks = np.zeros((n, size, size), np.uint8)
    for i in range(n):
        ink = np.zeros((size, size), np.uint8)  # the most ink any digit put on each pixel so far
        boxes: list[tuple[int, int]] = []
        for _ in range(rng.integers(min_digits, max_digits + 1)):
            for _attempt in range(50):
                top, left = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
                overlaps = [max(0, h - abs(top - t)) * max(0, w - abs(left - u)) / (h * w) for t, u in boxes]
                if not overlaps or max(overlaps) <= MAX_OVERLAP:
                    break
            boxes.append((top, left))
            k = rng.integers(len(x))
            digit = x[k]
            region = (slice(top, top + h), slice(left, left + w))
            wins = (digit >= INK_THRESHOLD) & (digit > ink[region])
            masks[i][region][wins] = y[k] + 1
            ink[region] = np.maximum(ink[region], digit)
        images[i] = ink
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
