"""Training speed: what an epoch costs in arithmetic, what this machine can do, and feeding that keeps up.

Used by ``make bench`` (:mod:`utils.bench`), by the training helpers in :mod:`utils.models`,
:mod:`utils.transfer` and :mod:`utils.autoencoders`, and by the notebooks' longer training runs
(:func:`fit_in_memory`, introduced in notebook 04).

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


def _inputs(x: Any) -> tuple[tuple[np.ndarray, ...], bool]:
    """The input arrays of ``x`` (one array, or a list/tuple of arrays for a model with several inputs)."""
    if isinstance(x, (list, tuple)):
        return tuple(np.asarray(a) for a in x), True
    return (np.asarray(x),), False


def _slice(x: Any, start: int, stop: int) -> Any:
    """Images ``start:stop`` of ``x`` (one array, or each of a list/tuple of arrays)."""
    if isinstance(x, (list, tuple)):
        return [np.asarray(a)[start:stop] for a in x]
    return x[start:stop]


def in_memory_dataset(x: Any, y: np.ndarray | None, batch_size: int, shuffle: bool = True, repeat: bool = True,
                      seed: int | None = None) -> "Any":
    """A ``tf.data.Dataset`` of ``(inputs, targets)`` batches (``inputs`` alone if ``y`` is None) from arrays in memory.

    ``x`` is one array, or a list/tuple of arrays for a model with several inputs (a Siamese pair); ``y`` the
    targets, or None for a model whose ``train_step`` needs no targets (the VAE); ``y`` may be ``x`` itself
    (an autoencoder), which is then kept once. The arrays enter the pipeline once, whole (as Keras does for NumPy
    input); each epoch shuffles the *indices* (``reshuffle_each_iteration``) and gathers a batch at a time.
    ``repeat=True`` makes it endless: :func:`fit_in_memory` then runs all epochs through ONE iterator, which is the
    point. Epochs stay aligned: every pass is ``ceil(n / batch_size)`` batches, the last one partial.
    ``seed=None`` uses TensorFlow's global seed (set by ``env.setup``), so runs repeat.
    """
    import tensorflow as tf

    from utils.errors import CourseError

    xs, several = _inputs(x)
    n = len(xs[0])
    same_target = y is x
    if n == 0 or any(len(a) != n for a in xs) or (y is not None and len(y) != n):
        sizes = [len(a) for a in xs] + ([] if y is None else [len(y)])
        raise CourseError(f"in_memory_dataset needs inputs and targets of one length, at least one image "
                          f"(got {sizes}).")
    if batch_size < 1:
        raise CourseError(f"batch_size must be at least 1, not {batch_size}.")
    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    indices = indices.batch(batch_size)
    if repeat:
        indices = indices.repeat()
    kept = xs if (y is None or same_target) else xs + (np.asarray(y),)
    arrays = tf.data.Dataset.from_tensors(kept).repeat()

    def gather(i, tensors):
        picked = tuple(tf.gather(t, i) for t in tensors)
        inputs = picked[:len(xs)] if several else picked[0]
        if y is None:
            return inputs
        return inputs, (inputs if same_target else picked[-1])

    return tf.data.Dataset.zip((indices, arrays)).map(gather).prefetch(tf.data.AUTOTUNE)


def validation_callback(x: Any, y: np.ndarray | None = None, batch_size: int = 1000) -> "keras.callbacks.Callback":
    """A callback that adds ``val_`` + each of the model's metrics (``val_loss``, ...) at each epoch's end, no tf.data.

    It runs the model's own ``test_on_batch`` (its compiled loss and metrics, or its own ``test_step``) on
    ``batch_size`` images at a time and averages the batch results weighted by batch size: exactly what
    ``model.evaluate`` gives for losses and mean metrics such as accuracy (not for metrics that are not means,
    such as AUC). Keras' own ``validation_data`` makes a new tf.data iterator every epoch, and the epoch after a
    new iterator often runs at two thirds of the speed on a 2-core CPU (see :mod:`utils.bench`). Put it after
    ``SwapEMAWeights(swap_on_epoch=True)`` so it sees the averaged weights.
    """
    import keras

    n = len(_inputs(x)[0][0])

    class ValidationEvaluator(keras.callbacks.Callback):
        def evaluate(self) -> dict[str, float]:
            """The model's loss and metrics on the validation arrays, with its current weights."""
            totals: dict[str, float] = {}
            for start in range(0, n, batch_size):
                stop = min(n, start + batch_size)
                targets = None if y is None else y[start:stop]
                logs = self.model.test_on_batch(_slice(x, start, stop), targets, return_dict=True)
                for key, value in logs.items():
                    totals[key] = totals.get(key, 0.0) + float(value) * (stop - start)
            return {key: total / n for key, total in totals.items()}

        def on_epoch_end(self, epoch, logs=None):
            results = self.evaluate()
            if logs is not None:
                logs.update({f"val_{key}": value for key, value in results.items()})

    return ValidationEvaluator()


def fit_in_memory(model: "keras.Model", x: Any, y: np.ndarray | None = None, epochs: int = 1, batch_size: int = 32,
                  validation_data: tuple | None = None, callbacks: list | None = None, verbose: int = 2,
                  seed: int | None = None, validation_batch_size: int | None = None) -> "keras.callbacks.History":
    """``model.fit`` on in-memory arrays, the same training, without the slow epochs (see :func:`validation_callback`).

    Takes what ``model.fit(x, y, batch_size=..., epochs=..., validation_data=...)`` takes for arrays: ``x`` one
    array or a list of arrays (several inputs), ``y`` the targets or None (a model whose ``train_step`` needs
    none), ``validation_data`` as ``(x_val, y_val)`` or ``(x_val,)``. Same epochs, steps (``ceil(n /
    batch_size)``, the last batch partial) and per-epoch reshuffling; the batches come from one endless
    :func:`in_memory_dataset` iterator for the whole run, and the validation split, if any, is measured by
    :func:`validation_callback` (``validation_batch_size`` images at a time, default ``batch_size``, as Keras),
    placed right after the last ``SwapEMAWeights`` in ``callbacks`` (so on the averaged weights), else first. The
    callbacks after it see the ``val_`` numbers (``EarlyStopping``, ``History``) and an epoch timer among them counts
    the validation in its ``seconds``; one listed before a ``SwapEMAWeights`` does not.
    """
    import keras

    from utils.errors import CourseError

    if epochs < 1:
        raise CourseError(f"epochs must be at least 1, not {epochs}.")
    callbacks = list(callbacks or [])
    if validation_data is not None:
        if not isinstance(validation_data, tuple) or len(validation_data) not in (1, 2):
            raise CourseError("validation_data must be (x_val, y_val) or (x_val,), as for model.fit.")
        swaps = [i for i, cb in enumerate(callbacks) if isinstance(cb, keras.callbacks.SwapEMAWeights)]
        at = swaps[-1] + 1 if swaps else 0
        x_val, y_val = validation_data if len(validation_data) == 2 else (validation_data[0], None)
        callbacks.insert(at, validation_callback(x_val, y_val, validation_batch_size or batch_size))
    steps = math.ceil(len(_inputs(x)[0][0]) / batch_size)
    dataset = in_memory_dataset(x, y, batch_size, shuffle=True, repeat=True, seed=seed)
    return model.fit(dataset, epochs=epochs, steps_per_epoch=steps, shuffle=False, verbose=verbose,
                     callbacks=callbacks)


# ----------------------------------------------------------------------------------------------
# Learning-rate schedules (notebook 07)


def tabulated_schedule(rates: Any) -> "keras.optimizers.schedules.LearningRateSchedule":
    """A Keras learning-rate schedule that reads the rate of step ``k`` from ``rates[k]`` (the last one after it).

    It lets a plain Python function of the step (``[f(k) for k in range(total_steps + 1)]``) drive any Keras
    optimizer: notebook 07 trains with the learner's own warm-up + cosine function this way. ``rates`` must be a
    non-empty sequence of finite numbers that are not negative.
    """
    import keras

    from utils.errors import CourseError

    try:
        table = np.asarray(rates, dtype="float32").ravel()
    except (TypeError, ValueError):
        raise CourseError("Expected a list of learning rates, one number per step.") from None
    if table.size == 0 or not np.all(np.isfinite(table)) or np.any(table < 0):
        raise CourseError("Expected a non-empty list of learning rates, each a finite number >= 0 "
                          f"(got {table.size} values, smallest {table.min() if table.size else 'none'}).")

    class TabulatedSchedule(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, values):
            self.values = [float(v) for v in values]
            self._table = keras.ops.convert_to_tensor(np.asarray(self.values, dtype="float32"))

        def __call__(self, step):
            index = keras.ops.minimum(keras.ops.cast(step, "int32"), len(self.values) - 1)
            return keras.ops.take(self._table, index)

        def get_config(self):
            return {"values": self.values}

    return TabulatedSchedule(table)
