"""Why did the network say that? Saliency maps, Grad-CAM, occlusion sensitivity, and receptive fields.

Notebook 05 uses all of these on the MNIST CNN; notebook 06 uses the receptive-field calculation for the
"three 3x3 convolutions see 7x7" argument, and later notebooks can point Grad-CAM at any Keras CNN. Each
explanation takes one image (H, W) or (H, W, C) as the model expects it, without the batch dimension, and
returns a map of shape (H, W) (non-negative, largest value 1 unless the map is all zeros):

- :func:`saliency_map`: |d score / d pixel|, the largest over the colour channels (Simonyan et al. 2014);
- :func:`grad_cam`: the chosen conv layer's feature maps weighted by their mean gradient, ReLU, resized to
  the input (Selvaraju et al. 2017);
- :func:`occlusion_sensitivity`: how much the class score drops when a patch covers each place (Zeiler and
  Fergus 2014). The score is the logit by default, as for the other two; not the probability, because a
  confident network's softmax sits at 1.000 and hides every change that leaves the class on top (the
  log-probability, computed from the logits, is offered too).

The class *score* is the logit (the last dense layer before its softmax) when the model ends in a softmax
dense layer, as Grad-CAM prescribes; otherwise the model's output.

Receptive fields: :func:`receptive_fields` walks a list of (kernel, stride[, dilation]) steps or the layers of
a Keras model and returns, per layer, how many input pixels one unit sees (``size``), how far apart
neighbouring units are in input pixels (``jump``) and where the first unit's window starts (``start``);
:func:`input_window` gives the input rows/columns one unit sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from utils.errors import CourseError


# ----------------------------------------------------------------------------------------------
# Receptive fields (pure arithmetic, no TensorFlow)


@dataclass(frozen=True)
class ReceptiveField:
    """One layer's receptive field, in input pixels."""

    name: str
    size: int      # one unit sees size x size input pixels
    jump: int      # neighbouring units are this many input pixels apart
    start: float   # input coordinate of the first unit's window (negative: it hangs over the padding)


def _step(rf: ReceptiveField, name: str, kernel: int, stride: int, dilation: int = 1,
          padding: str = "valid") -> ReceptiveField:
    if kernel < 1 or stride < 1 or dilation < 1:
        raise CourseError(f"Layer {name}: kernel, stride and dilation must be at least 1.")
    span = dilation * (kernel - 1) + 1
    pad = (span - 1) // 2 if padding == "same" else 0
    return ReceptiveField(name, rf.size + (span - 1) * rf.jump, rf.jump * stride, rf.start - pad * rf.jump)


def receptive_fields(stack, names: Sequence[str] | None = None) -> list[ReceptiveField]:
    """Receptive field after every layer of ``stack``, the input first (size 1, jump 1, start 0).

    ``stack`` is a list of ``(kernel, stride)`` or ``(kernel, stride, dilation)`` tuples (valid padding),
    or a Keras model, whose Conv2D and pooling layers are read (padding included) up to the first layer
    that mixes all positions (Flatten, Dense, global pooling).
    """
    rows = [ReceptiveField("input", 1, 1, 0.0)]
    if hasattr(stack, "layers"):
        for layer in stack.layers:
            kind = type(layer).__name__
            if kind in ("Flatten", "Dense") or kind.startswith("Global"):
                break
            if hasattr(layer, "kernel_size") or hasattr(layer, "pool_size"):
                kernel = (getattr(layer, "kernel_size", None) or layer.pool_size)[0]
                stride = layer.strides[0] if layer.strides else kernel
                dilation = getattr(layer, "dilation_rate", (1,))[0]
                rows.append(_step(rows[-1], layer.name, kernel, stride, dilation, layer.padding))
        return rows
    for k, spec in enumerate(stack):
        spec = tuple(int(v) for v in spec)
        if len(spec) not in (2, 3):
            raise CourseError(f"Each layer must be (kernel, stride) or (kernel, stride, dilation), got {spec}.")
        name = names[k] if names else f"layer {k + 1}"
        rows.append(_step(rows[-1], name, *spec))
    return rows


def receptive_field_size(stack) -> int:
    """How many input pixels (per side) one unit of the last layer of ``stack`` sees."""
    return receptive_fields(stack)[-1].size


def input_window(rf: ReceptiveField, row: int, col: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), inclusive, of the input pixels unit (row, col) of that layer sees."""
    top = int(np.floor(rf.start + row * rf.jump))
    left = int(np.floor(rf.start + col * rf.jump))
    return top, left, top + rf.size - 1, left + rf.size - 1


# ----------------------------------------------------------------------------------------------
# Explanations (need TensorFlow; imported lazily so `import utils.explain` stays cheap)


def _batch(model, image) -> np.ndarray:
    arr = np.asarray(image, dtype="float32")
    want = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if want and arr.ndim == len(want) - 1 and want[-1] == 1:
        arr = arr[..., None]
    if want and tuple(arr.shape) != tuple(want):
        raise CourseError(f"This model takes images of shape {want}, got {tuple(np.shape(image))}.")
    return arr[None]


def is_softmax_dense(layer) -> bool:
    """Whether ``layer`` is a Dense layer with a softmax: the one whose kernel gives the logits."""
    activation = getattr(layer, "activation", None)
    return hasattr(layer, "kernel") and getattr(activation, "__name__", "") == "softmax"


def _forward(model, x, watch_layer: str | None = None, tape=None):
    """Run a Sequential-style model layer by layer; return (class scores, the watched layer's output)."""
    from keras import ops

    watched = None
    last = len(model.layers) - 1
    for k, layer in enumerate(model.layers):
        if k == last and is_softmax_dense(layer):
            x = ops.matmul(x, layer.kernel) + (layer.bias if layer.use_bias else 0.0)   # the logits
        else:
            x = layer(x, training=False)
        if layer.name == watch_layer:
            watched = x
            if tape is not None:
                tape.watch(watched)
    if watch_layer is not None and watched is None:
        names = [layer.name for layer in model.layers]
        raise CourseError(f"No layer called {watch_layer!r}; this model has {names}.")
    return x, watched


def _sequential(model) -> bool:
    return type(model).__name__ == "Sequential"


def class_scores(model, image) -> np.ndarray:
    """The class scores (logits when the model ends in a softmax dense layer) for one image."""
    import tensorflow as tf

    x = tf.constant(_batch(model, image))
    scores, _ = _forward(model, x) if _sequential(model) else (model(x, training=False), None)
    return np.asarray(scores)[0]


def _normalise(heat: np.ndarray) -> np.ndarray:
    heat = np.maximum(np.asarray(heat, dtype="float64"), 0)
    top = heat.max()
    return heat / top if top > 0 else heat


def saliency_map(model, image, class_index: int | None = None) -> np.ndarray:
    """|d score / d input| for one image, (H, W), scaled so its largest value is 1.

    ``class_index`` defaults to the predicted class.
    """
    import tensorflow as tf

    x = tf.constant(_batch(model, image))
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = _forward(model, x)[0] if _sequential(model) else model(x, training=False)
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        score = scores[0, class_index]
    grad = np.abs(np.asarray(tape.gradient(score, x))[0])
    return _normalise(grad.max(axis=-1))


def grad_cam(model, image, layer_name: str, class_index: int | None = None, upsample: bool = True) -> np.ndarray:
    """Grad-CAM heat map of ``class_index`` (default: predicted) at conv layer ``layer_name``.

    Returns the map resized to the input's (H, W) with bilinear interpolation, or at the layer's own
    resolution with ``upsample=False``; scaled to a largest value of 1 (all zeros when no place speaks
    for the class).
    """
    import tensorflow as tf

    x = tf.constant(_batch(model, image))
    with tf.GradientTape() as tape:
        if _sequential(model):
            scores, feature_maps = _forward(model, x, watch_layer=layer_name, tape=tape)
        else:
            import keras

            inner = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.outputs[0]])
            feature_maps, scores = inner(x, training=False)
        if class_index is None:
            class_index = int(tf.argmax(scores[0]))
        score = scores[0, class_index]
    grads = tape.gradient(score, feature_maps)[0]                     # (h, w, channels)
    weights = tf.reduce_mean(grads, axis=(0, 1))                      # one weight per channel
    cam = tf.nn.relu(tf.reduce_sum(feature_maps[0] * weights, axis=-1))
    if upsample:
        height, width = x.shape[1], x.shape[2]
        cam = tf.image.resize(cam[..., None], (height, width), method="bilinear")[..., 0]
    return _normalise(np.asarray(cam))


def class_scores_batch(model, images, measure: str = "log_prob", batch_size: int = 256) -> np.ndarray:
    """Per-class scores for a batch (N, H, W[, C]) -> (N, classes).

    ``measure``: ``"log_prob"`` (log-softmax of the logits: never saturates), ``"logit"`` or ``"prob"``.
    Logits come from :func:`class_scores`' rule (the last softmax dense layer's input to its softmax); for other
    models the output is taken as probabilities.
    """
    import tensorflow as tf

    if measure not in ("log_prob", "logit", "prob"):
        raise CourseError(f"measure must be 'log_prob', 'logit' or 'prob', got {measure!r}.")
    x = np.asarray(images, dtype="float32")
    if x.ndim == len(model.inputs[0].shape) - 1:
        x = x[..., None]
    chunks = []
    logits_known = _sequential(model) and is_softmax_dense(model.layers[-1])
    for start in range(0, len(x), batch_size):
        batch = tf.constant(x[start:start + batch_size])
        out = np.asarray(_forward(model, batch)[0] if logits_known else model(batch, training=False), "float64")
        chunks.append(out)
    out = np.concatenate(chunks)
    if logits_known:
        rows, top = np.arange(len(out)), out.argmax(axis=1)
        shifted = out - out[rows, top][:, None]            # the top class at 0, the others negative
        others = np.exp(shifted)
        others[rows, top] = 0.0
        log_p = shifted - np.log1p(others.sum(axis=1, keepdims=True))   # log1p: exact even when p rounds to 1
        return {"log_prob": log_p, "logit": out, "prob": np.exp(log_p)}[measure]
    if measure == "logit":
        raise CourseError("This model does not end in a softmax dense layer, so its logits are unknown: "
                          "use measure='log_prob' or 'prob'.")
    return np.log(np.maximum(out, 1e-300)) if measure == "log_prob" else out


def occlusion_sensitivity(model, image, class_index: int | None = None, patch: int = 6, stride: int = 2,
                          fill: float = 0.0, batch_size: int = 256, measure: str = "logit") -> np.ndarray:
    """How much the score of ``class_index`` (default: predicted) drops when a ``patch`` x ``patch`` square of
    value ``fill`` covers each place; each input pixel gets the mean drop of the patches that covered it.

    ``measure`` picks the score (:func:`class_scores_batch`): ``"logit"`` (default, the class score that saliency
    and Grad-CAM explain), ``"log_prob"`` (a drop of 1: the probability fell by a factor e) or ``"prob"``
    (probability points: saturates for a confident model). Returns (H, W), not rescaled; negative values
    (covering helped) are kept.
    """
    x = _batch(model, image)[0]
    height, width = x.shape[:2]
    if not 1 <= patch <= min(height, width) or stride < 1:
        raise CourseError(f"patch must be 1..{min(height, width)} and stride at least 1.")
    base = class_scores_batch(model, x[None], measure)[0]
    if class_index is None:
        class_index = int(np.argmax(base))
    corners = [(r, c) for r in range(0, height - patch + 1, stride) for c in range(0, width - patch + 1, stride)]
    covered = np.repeat(x[None], len(corners), axis=0)
    for k, (r, c) in enumerate(corners):
        covered[k, r:r + patch, c:c + patch] = fill
    scores = class_scores_batch(model, covered, measure, batch_size)[:, class_index]
    total = np.zeros((height, width))
    count = np.zeros((height, width))
    for (r, c), score in zip(corners, scores):
        total[r:r + patch, c:c + patch] += base[class_index] - score
        count[r:r + patch, c:c + patch] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def overlay(image, heat, alpha: float = 0.5, cmap: str = "jet") -> np.ndarray:
    """An RGB picture (H, W, 3) in [0, 1]: the grey image with a heat map laid over it."""
    import matplotlib

    grey = np.asarray(image, dtype="float64").squeeze()
    grey = (grey - grey.min()) / (np.ptp(grey) or 1.0)
    heat = np.asarray(heat, dtype="float64")
    coloured = matplotlib.colormaps[cmap](_normalise(heat))[..., :3]
    return np.clip((1 - alpha) * grey[..., None] + alpha * coloured, 0, 1)
