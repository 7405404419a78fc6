"""What a model costs to run (notebook 13's pros and cons): parameters, multiply-adds per image, and measured
CPU time per image.

Multiply-adds are :func:`utils.arch.layer_macs` summed over a model's layers, nested models included (a
transposed convolution counts ``in_h * in_w * kh * kw * in_channels * filters``). Models must have a fixed input
size to be counted.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from utils.errors import CourseError

if TYPE_CHECKING:  # pragma: no cover
    import keras


@dataclass(frozen=True)
class Cost:
    """One model's cost for one input: parameters, multiply-adds, milliseconds per image (CPU, measured)."""

    name: str
    input_shape: tuple
    params: int
    macs: int
    ms_per_image: float


def _dims(tensor) -> tuple:
    return tuple(tensor.shape[1:])


def multiply_adds(model: "keras.Model") -> int:
    """Multiply-adds per input of a model with a fixed input size (nested models are counted inside)."""
    import keras
    from keras import layers

    from utils.arch import layer_macs

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            total += multiply_adds(layer)
            continue
        if isinstance(layer.input, (list, tuple)):
            continue
        in_shape, out_shape = _dims(layer.input), _dims(layer.output)
        if None in in_shape or None in out_shape:
            raise CourseError(f"{model.name} has no fixed input size; build it with one to count its cost.")
        total += layer_macs(layer, in_shape, out_shape)
    return int(total)


def ms_per_image(model: "keras.Model", inputs: np.ndarray, repeats: int = 3, batch_size: int = 64) -> float:
    """Milliseconds per image of ``model`` on ``inputs`` (best of ``repeats`` timed passes after a warm-up)."""
    inputs = np.asarray(inputs, np.float32)
    call = model.predict_on_batch if len(inputs) <= batch_size else (
        lambda x: model.predict(x, batch_size=batch_size, verbose=0))
    call(inputs)  # warm-up: traces the graph
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        call(inputs)
        best = min(best, time.perf_counter() - start)
    return 1000 * best / len(inputs)


def measure(name: str, model: "keras.Model", inputs: np.ndarray, repeats: int = 3) -> Cost:
    """The :class:`Cost` of ``model`` (fixed input size) on ``inputs``."""
    return Cost(name, _dims(model.inputs[0]), int(model.count_params()), multiply_adds(model),
                ms_per_image(model, inputs, repeats))


def format_table(costs: Sequence[Cost]) -> str:
    """The costs as a plain-text table, one row per model."""
    head = f"{'model':30s} {'input':>10s} {'parameters':>11s} {'multiply-adds':>14s} {'ms / image':>11s}"
    lines = [head, "-" * len(head)]
    for c in costs:
        shape = "x".join(str(d) for d in c.input_shape)
        lines.append(f"{c.name:30s} {shape:>10s} {c.params:>11,} {c.macs:>14,} {c.ms_per_image:>11.2f}")
    return "\n".join(lines)
