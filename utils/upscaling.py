"""Up-scaling (super-resolution) of small digits (notebook 13): shrinking, bicubic interpolation, PSNR, and a
small CNN that learns what bicubic interpolation misses.

The lecture notes show 8x8 face photos turned back into faces by a network. Here: 28x28 MNIST digits shrunk
4x to 7x7 (each output pixel the mean of a 4x4 block), then brought back to 28x28 by bicubic interpolation and
by :func:`build_upscaler`, a bicubic up-sampling followed by three convolutions that predict a correction
(the residual idea of Kim et al.'s VDSR, 2016, on an SRCNN-sized network, Dong et al. 2014).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from utils import env
from utils.errors import CourseError

if TYPE_CHECKING:  # pragma: no cover
    import keras


def shrink(images: np.ndarray, factor: int = 4) -> np.ndarray:
    """Down-sample (n, H, W) or (H, W) images by averaging ``factor`` x ``factor`` blocks (float32 out)."""
    images = np.asarray(images, np.float32)
    h, w = images.shape[-2:]
    if h % factor or w % factor:
        raise CourseError(f"{h}x{w} images do not split into {factor}x{factor} blocks.")
    blocks = images.reshape(images.shape[:-2] + (h // factor, factor, w // factor, factor))
    return blocks.mean(axis=(-3, -1))


def bicubic(images: np.ndarray, factor: int = 4) -> np.ndarray:
    """Up-sample (n, h, w) images by ``factor`` with bicubic interpolation (Keras' UpSampling2D), clipped
    to [0, 1]."""
    import keras

    env.quiet_tensorflow()
    images = np.asarray(images, np.float32)
    up = keras.layers.UpSampling2D(factor, interpolation="bicubic", dtype="float32")
    return np.clip(keras.ops.convert_to_numpy(up(images[..., None]))[..., 0], 0.0, 1.0)


def psnr(reference: np.ndarray, estimate: np.ndarray, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(peak**2 / MSE)``, over all pixels of all images (scikit-image's
    ``peak_signal_noise_ratio``); higher is better, +inf for identical images. Images in [0, ``peak``]."""
    from skimage.metrics import peak_signal_noise_ratio

    reference, estimate = np.asarray(reference, np.float64), np.asarray(estimate, np.float64)
    if reference.shape != estimate.shape:
        raise CourseError(f"shapes differ: {reference.shape} vs {estimate.shape}.")
    with np.errstate(divide="ignore"):
        return float(peak_signal_noise_ratio(reference, estimate, data_range=peak))


def psnr_per_image(reference: np.ndarray, estimate: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """:func:`psnr` of each image of a stack (n, H, W)."""
    return np.array([psnr(r, e, peak) for r, e in zip(reference, estimate)])


def build_upscaler(factor: int = 4, filters: tuple[int, int] = (32, 16),
                   input_shape: tuple[int, int, int] = (7, 7, 1), name: str = "upscaler") -> "keras.Model":
    """Small images ``input_shape`` in, ``factor`` times larger out: bicubic up-sampling, then Conv 5x5
    (``filters[0]``, ReLU), Conv 3x3 (``filters[1]``, ReLU), Conv 3x3 (1) adding a correction to the bicubic
    image, clipped to [0, 1]. No Dense layer, so the same weights work at any size (build a model of another
    ``input_shape`` and copy the weights over: Keras' bicubic up-sampling needs a fixed size)."""
    env.quiet_tensorflow()
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="small")
    up = layers.UpSampling2D(factor, interpolation="bicubic", name="bicubic")(inputs)
    h = layers.Conv2D(filters[0], 5, padding="same", activation="relu", name="conv1")(up)
    h = layers.Conv2D(filters[1], 3, padding="same", activation="relu", name="conv2")(h)
    correction = layers.Conv2D(1, 3, padding="same", dtype="float32", name="correction")(h)
    added = layers.Add(dtype="float32", name="bicubic_plus_correction")([layers.Activation(
        "linear", dtype="float32", name="bicubic_float32")(up), correction])
    outputs = layers.ReLU(max_value=1.0, dtype="float32", name="clip")(added)  # clips to [0, 1]
    return keras.Model(inputs, outputs, name=name)
