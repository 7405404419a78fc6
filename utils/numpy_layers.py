"""Batch normalisation and dropout written in NumPy, line by line, to check against Keras' own layers.

Notebook 07 builds both by hand to show what they do, then checks them against ``keras.layers.BatchNormalization``
and ``keras.layers.Dropout`` (``tests/test_numpy_layers.py`` does the same, so a Keras change that breaks the
match is caught).

**Batch normalisation** (Ioffe and Szegedy, 2015), per feature (the last axis; every other axis is "the batch"):

- in training: ``y = gamma * (x - mean_batch) / sqrt(var_batch + eps) + beta`` with the batch's own mean and
  (biased) variance, and running averages updated as
  ``moving = moving * momentum + batch_value * (1 - momentum)``;
- at inference: the same formula with the running averages instead of the batch's statistics, so one image's
  prediction does not depend on which other images share its batch.

Keras' defaults are ``momentum=0.99`` and ``epsilon=1e-3``; :class:`BatchNorm` uses the same.

**Dropout** (Srivastava et al., 2014), *inverted*: in training each unit is zeroed with probability ``rate`` and the
survivors are multiplied by ``1 / (1 - rate)``, so every unit's expected value is unchanged and inference is the
identity (nothing to rescale at test time). The original paper scaled the weights at test time instead.
"""

from __future__ import annotations

import numpy as np

from utils.errors import CourseError

#: Keras' defaults for BatchNormalization.
MOMENTUM = 0.99
EPSILON = 1e-3


def _as_batch(x: np.ndarray) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < 2:
        raise CourseError(f"Batch normalisation needs a batch: an array of shape (N, ..., features), got {arr.shape}.")
    return arr


def batch_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance of each feature (last axis) over every other axis (batch, height, width)."""
    arr = _as_batch(x)
    axes = tuple(range(arr.ndim - 1))
    return arr.mean(axis=axes), arr.var(axis=axes)


def normalize(x: np.ndarray, mean: np.ndarray, var: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
              epsilon: float = EPSILON) -> np.ndarray:
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta``, feature by feature (last axis)."""
    return gamma * (np.asarray(x, dtype=np.float64) - mean) / np.sqrt(var + epsilon) + beta


class BatchNorm:
    """Batch normalisation over the last axis, with Keras' conventions (gamma 1, beta 0, running mean 0, var 1)."""

    def __init__(self, features: int, momentum: float = MOMENTUM, epsilon: float = EPSILON) -> None:
        if not 0.0 <= momentum < 1.0:
            raise CourseError(f"momentum must be in [0, 1), got {momentum}.")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.gamma = np.ones(features)
        self.beta = np.zeros(features)
        self.moving_mean = np.zeros(features)
        self.moving_var = np.ones(features)

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        arr = _as_batch(x)
        if arr.shape[-1] != len(self.gamma):
            raise CourseError(f"This layer normalises {len(self.gamma)} features, got {arr.shape[-1]}.")
        if not training:
            return normalize(arr, self.moving_mean, self.moving_var, self.gamma, self.beta, self.epsilon)
        mean, var = batch_moments(arr)
        self.moving_mean = self.moving_mean * self.momentum + mean * (1.0 - self.momentum)
        self.moving_var = self.moving_var * self.momentum + var * (1.0 - self.momentum)
        return normalize(arr, mean, var, self.gamma, self.beta, self.epsilon)


def dropout_mask(shape: tuple[int, ...], rate: float, rng: np.random.Generator) -> np.ndarray:
    """1 where a unit is kept (probability ``1 - rate``), 0 where it is dropped."""
    if not 0.0 <= rate < 1.0:
        raise CourseError(f"The dropout rate is the share of units dropped: a number in [0, 1), got {rate}.")
    return (rng.random(shape) >= rate).astype(np.float64)


def dropout(x: np.ndarray, rate: float, training: bool, rng: np.random.Generator | None = None) -> np.ndarray:
    """Inverted dropout: in training, zero each unit with probability ``rate`` and scale the rest by 1/(1-rate)."""
    arr = np.asarray(x, dtype=np.float64)
    if not training or rate == 0.0:
        if not 0.0 <= rate < 1.0:
            raise CourseError(f"The dropout rate is the share of units dropped: a number in [0, 1), got {rate}.")
        return arr
    rng = np.random.default_rng() if rng is None else rng
    return arr * dropout_mask(arr.shape, rate, rng) / (1.0 - rate)
