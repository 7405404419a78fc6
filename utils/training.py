"""Training speed: what an epoch costs in arithmetic, what this machine can do, and feeding that keeps up.

Used by ``make bench`` (:mod:`utils.bench`) and by the training helpers in :mod:`utils.models`.

- The arithmetic. :func:`layer_macs` counts the multiply-adds of a model's convolution and dense layers for one
  image, from their shapes; :func:`training_flops` turns them into floating-point operations per *training*
  image: the forward pass, the gradient with respect to the weights (as many multiply-adds again) and the
  gradient with respect to each layer's input (again as many, except for the first weighted layer, whose input
  is the data). The seed CNN: 12.0 M multiply-adds forward, 71.6 MFLOP per training image. Activations,
  pooling, dropout and the optimizer's update are left out: they are a few percent at most.
- The machine. :func:`matmul_gflops` times a large float32 matrix multiply, with NumPy's BLAS and with
  TensorFlow's kernels; :func:`practical_peak` keeps the faster, a rate this very machine reaches, so the
  share of it (:func:`share_of_peak`) is honest on any CPU or GPU.
- The feeding. :func:`in_memory_dataset` and :class:`ValidationEvaluator` (see their docstrings).

TensorFlow/Keras is imported inside the functions, so ``import utils.training`` stays cheap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: The size of the square matrices :func:`practical_peak` multiplies: big enough that the kernels run at their
#: best (about 0.3 s per multiply on 2 cores at 400 GFLOP/s), small enough to keep the measurement to seconds.
PEAK_MATRIX_SIZE = 4096


# ----------------------------------------------------------------------------------------------
# The arithmetic


@dataclass(frozen=True)
class LayerCost:
    """One weighted layer's forward multiply-adds per image, and whether training needs its input gradient."""

    name: str
    kind: str
    macs: int
    input_gradient: bool


def layer_macs(model: "keras.Model") -> list[LayerCost]:
    """The multiply-adds per image of every convolution and dense layer of a built model, in layer order.

    A convolution: output positions x output channels x kernel size x input channels per group. A dense
    layer: inputs x units, for every position it is applied at (one, after a Flatten). The first weighted
    layer needs no gradient with respect to its input (that input is the data); every later one does. That
    is exact for a plain stack of layers (``Sequential``) and an upper bound otherwise.
    """
    import keras

    from utils.arch import layer_macs as macs_of

    costs: list[LayerCost] = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)):
            kind = "conv"
        elif isinstance(layer, keras.layers.Dense):
            kind = "dense"
        else:
            continue
        shapes = (tuple(int(d) for d in tuple(layer.input.shape)[1:]),
                  tuple(int(d) for d in tuple(layer.output.shape)[1:]))
        costs.append(LayerCost(layer.name, kind, int(macs_of(layer, *shapes)), input_gradient=bool(costs)))
    return costs


def forward_flops(model: "keras.Model") -> int:
    """Floating-point operations of one image's forward pass (2 per multiply-add)."""
    return 2 * sum(cost.macs for cost in layer_macs(model))


def training_flops(model: "keras.Model") -> int:
    """Floating-point operations per training image: forward, weight gradients, input gradients (see module)."""
    return 2 * sum(cost.macs * (3 if cost.input_gradient else 2) for cost in layer_macs(model))


# ----------------------------------------------------------------------------------------------
# The machine


def matmul_gflops(n: int = PEAK_MATRIX_SIZE, backend: str = "numpy", repeats: int = 3,
                  dtype: str = "float32") -> float:
    """GFLOP/s of the best of ``repeats`` ``n x n`` matrix multiplies (``2 n**3`` operations), after one warm-up.

    ``backend`` is ``"numpy"`` (its BLAS: OpenBLAS or MKL) or ``"tensorflow"`` (oneDNN/Eigen on a CPU, cuBLAS
    on a GPU; the result is copied back to NumPy, so the time includes waiting for it). ``dtype`` ``"bfloat16"``
    needs ``"tensorflow"`` (NumPy has no bfloat16).
    """
    from utils.errors import CourseError

    if n < 1 or repeats < 1:
        raise CourseError(f"matmul_gflops needs n >= 1 and repeats >= 1 (got n={n}, repeats={repeats}).")
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    if backend == "numpy":
        if dtype != "float32":
            raise CourseError(f"NumPy multiplies float32 here, not {dtype}: use backend='tensorflow'.")

        def multiply() -> Any:
            return a @ b
    elif backend == "tensorflow":
        import tensorflow as tf

        ta, tb = tf.cast(tf.constant(a), dtype), tf.cast(tf.constant(b), dtype)

        def multiply() -> Any:
            return tf.linalg.matmul(ta, tb).numpy()
    else:
        raise CourseError(f"backend must be 'numpy' or 'tensorflow', not {backend!r}.")
    multiply()  # warm-up: thread pools, kernel selection
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        multiply()
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / max(best, 1e-9) / 1e9


def practical_peak(n: int = PEAK_MATRIX_SIZE, repeats: int = 3) -> dict[str, float]:
    """This machine's float32 matrix-multiply rate in GFLOP/s: ``{"numpy": ..., "tensorflow": ..., "peak": max}``."""
    rates = {backend: round(matmul_gflops(n, backend, repeats), 1) for backend in ("numpy", "tensorflow")}
    return {**rates, "peak": max(rates.values())}


def share_of_peak(flops_per_image: float, images_per_second: float, peak_gflops: float) -> float:
    """The achieved training rate (``flops_per_image x images_per_second``) as a fraction of ``peak_gflops``."""
    if peak_gflops <= 0:
        raise ValueError(f"peak_gflops must be positive, not {peak_gflops}")
    return flops_per_image * images_per_second / (peak_gflops * 1e9)


def floor_seconds_per_epoch(flops_per_image: float, n_images: int, peak_gflops: float) -> float:
    """Seconds per epoch if training ran at ``peak_gflops``: the arithmetic floor of :func:`share_of_peak`."""
    if peak_gflops <= 0:
        raise ValueError(f"peak_gflops must be positive, not {peak_gflops}")
    return flops_per_image * n_images / (peak_gflops * 1e9)


# ----------------------------------------------------------------------------------------------
# The feeding


def in_memory_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = True, repeat: bool = True,
                      seed: int | None = None) -> "Any":
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches from arrays already in memory.

    The arrays enter the pipeline once, whole (as Keras does for NumPy input); each epoch shuffles the
    *indices* (``reshuffle_each_iteration``) and gathers a batch at a time, so no image is copied twice.
    ``repeat=True`` makes it endless: :func:`fit_in_memory` then runs all epochs through ONE iterator, which
    is the point. Epochs stay aligned: every pass is ``ceil(n / batch_size)`` batches, the last one partial.
    ``seed=None`` uses TensorFlow's global seed (set by ``env.setup``), so runs repeat.
    """
    import tensorflow as tf

    from utils.errors import CourseError

    if len(x) != len(y) or len(y) == 0:
        raise CourseError(f"in_memory_dataset needs as many labels as images, at least one ({len(x)} vs {len(y)}).")
    if batch_size < 1:
        raise CourseError(f"batch_size must be at least 1, not {batch_size}.")
    indices = tf.data.Dataset.range(len(y))
    if shuffle:
        indices = indices.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    indices = indices.batch(batch_size)
    if repeat:
        indices = indices.repeat()
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()
    batches = tf.data.Dataset.zip((indices, arrays)).map(
        lambda i, xy: (tf.gather(xy[0], i), tf.gather(xy[1], i)))
    return batches.prefetch(tf.data.AUTOTUNE)


def validation_callback(x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> "keras.callbacks.Callback":
    """A callback that adds ``val_loss`` and ``val_accuracy`` at each epoch's end, without tf.data.

    For a softmax classifier trained on integer labels (the seed CNN): it predicts batch by batch with
    ``predict_on_batch`` and computes cross-entropy (probabilities clipped at 1e-7, as Keras does) and accuracy
    in NumPy. Keras' own ``validation_data`` makes a new tf.data iterator every epoch, and the epoch after a new
    iterator often runs at two thirds of the speed on a 2-core CPU (see ``make bench`` notes in
    :mod:`utils.bench`). Put it after ``SwapEMAWeights(swap_on_epoch=True)`` so it sees the averaged weights.
    """
    import keras

    class ValidationEvaluator(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.x, self.y, self.batch_size = x, np.asarray(y).astype(np.int64), int(batch_size)

        def evaluate(self) -> tuple[float, float]:
            """Cross-entropy and accuracy of the model's current weights on the validation arrays."""
            probabilities = np.concatenate([
                np.asarray(self.model.predict_on_batch(self.x[i:i + self.batch_size]), dtype=np.float64)
                for i in range(0, len(self.y), self.batch_size)])
            picked = np.clip(probabilities[np.arange(len(self.y)), self.y], 1e-7, 1.0)
            return float(-np.mean(np.log(picked))), float(np.mean(probabilities.argmax(axis=1) == self.y))

        def on_epoch_end(self, epoch, logs=None):
            loss, accuracy = self.evaluate()
            if logs is not None:
                logs["val_loss"], logs["val_accuracy"] = loss, accuracy

    return ValidationEvaluator()


def fit_in_memory(model: "keras.Model", x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
                  validation_data: tuple[np.ndarray, np.ndarray] | None = None, callbacks: list | None = None,
                  verbose: int = 2, seed: int | None = None) -> "keras.callbacks.History":
    """``model.fit`` on in-memory arrays, the same training, without the slow epochs (see :func:`validation_callback`).

    Same epochs, steps (``ceil(n / batch_size)``, the last batch partial) and per-epoch reshuffling as
    ``model.fit(x, y, batch_size=..., epochs=..., validation_data=...)``; the batches come from one endless
    :func:`in_memory_dataset` iterator for the whole run, and the validation split, if any, is measured by
    :func:`validation_callback`, placed after any ``SwapEMAWeights`` in ``callbacks`` (so on the averaged weights)
    and before the others (so an epoch timer's ``seconds`` include it).
    """
    import keras

    from utils.errors import CourseError

    if epochs < 1:
        raise CourseError(f"epochs must be at least 1, not {epochs}.")
    callbacks = list(callbacks or [])
    if validation_data is not None:
        swaps = [i for i, cb in enumerate(callbacks) if isinstance(cb, keras.callbacks.SwapEMAWeights)]
        at = swaps[-1] + 1 if swaps else 0
        callbacks.insert(at, validation_callback(*validation_data))
    steps = math.ceil(len(y) / batch_size)
    dataset = in_memory_dataset(x, y, batch_size, shuffle=True, repeat=True, seed=seed)
    return model.fit(dataset, epochs=epochs, steps_per_epoch=steps, shuffle=False, verbose=verbose,
                     callbacks=callbacks)
