"""Adversarial attacks on an image classifier: FGSM, PGD, targeted attacks, one-pixel and k-pixel attacks, EOT.

Notebook 11 fools notebook 04's MNIST CNN with these. Every attack takes a Keras classifier whose last layer is a
softmax ``Dense`` (its *logits*, the scores before the softmax, are read off that layer, so a confident network's
saturated softmax cannot hide the gradient) and images as float32 arrays ``(N, H, W, C)`` in ``[0, 1]``:

- :func:`fgsm`: the fast gradient sign method (Goodfellow et al. 2014), ``x + eps * sign(grad_x loss)``;
- :func:`pgd`: many small signed steps, each projected back into the ``eps`` box around ``x`` (from the clean
  image, the basic iterative method of Kurakin et al. 2016; with ``random_start``, the PGD of Madry et al. 2017);
  with ``target`` it walks *towards* a chosen class instead of away from the true one. :func:`fgsm` and
  :func:`pgd` are lesson code: written in notebook 11 and generated at the end of this file by ``make export``;
- :func:`pgd_restarts`: the strongest of several random-start PGD runs, the evaluation a defence needs;
- :func:`one_pixel_search`: every position set to every value in ``values`` (for 28x28 and the five default
  values, 3,920 candidates in one batch); an image is fooled if any candidate flips it: exact for those values;
- :func:`pixel_attack_de`: the k-pixel attack of Su et al. with ``scipy.optimize.differential_evolution``
  (vectorised: each generation is one call of the model on the whole population);
- :func:`random_transforms`, :func:`eot_attack`, :func:`fooled_under_transforms`: an attack averaged over random
  rotations, shifts and zooms (expectation over transformation, Athalye et al. 2018), and how often an
  adversarial image still fools the model once moved;
- :func:`adversarial_training`: a model trained on clean images mixed with FGSM images made on the fly.

Gradients are taken in float32: a model computing in 16 bits (mixed precision) is refused with a message that
points to :func:`utils.models.as_float32`. Bad shapes, ranges or labels get a :class:`~utils.errors.CourseError`
saying what was expected (:func:`check_images`, :func:`check_labels`, :func:`check_eps`; the lesson code calls
them too). TensorFlow is imported inside the functions, so ``import utils.attacks`` stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from utils.errors import CourseError

if TYPE_CHECKING:  # pragma: no cover
    import keras


# ----------------------------------------------------------------------------------------------
# Checks


def check_images(x, model: "keras.Model | None" = None, what: str = "images") -> np.ndarray:
    """``x`` as a float32 array (N, H, W, C) in [0, 1]; a single image gets a batch axis, a gray one a channel axis.

    With ``model``, the image shape must be what the model takes.
    """
    try:
        arr = np.asarray(x, dtype="float32")
    except (TypeError, ValueError):
        raise CourseError(f"The {what} must be a numeric array, got {type(x).__name__}.") from None
    want = tuple(model.inputs[0].shape[1:]) if model is not None and getattr(model, "inputs", None) else None
    if want is not None:
        if arr.shape == want[:-1] and want[-1] == 1 or arr.shape == want:
            arr = arr.reshape((1, *want))
        elif arr.ndim == len(want) and want[-1] == 1 and arr.shape[1:] == want[:-1]:
            arr = arr[..., None]
        if arr.shape[1:] != want:
            raise CourseError(f"This model takes images of shape {want} (a batch: (N, {', '.join(map(str, want))})), "
                              f"got {tuple(np.shape(x))}.")
    elif arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise CourseError(f"The {what} must be a batch (N, height, width, channels), got shape {tuple(arr.shape)}.")
    if len(arr) == 0:
        raise CourseError(f"No {what} given (an empty batch).")
    if not np.all(np.isfinite(arr)):
        raise CourseError(f"The {what} contain NaN or infinity.")
    low, high = float(arr.min()), float(arr.max())
    if low < -1e-6 or high > 1 + 1e-6:
        hint = " (uint8 pixels? divide by 255, or use utils.models.to_model_input)" if high > 1.5 else ""
        raise CourseError(f"The {what} must have pixel values in [0, 1], got {low:g} to {high:g}{hint}.")
    return np.clip(arr, 0.0, 1.0)


def check_labels(y, n: int, num_classes: int, what: str = "labels") -> np.ndarray:
    """``y`` as int32 (n,) with values 0..num_classes-1 (a single label is repeated n times)."""
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError):
        raise CourseError(f"The {what} must be whole numbers, got {type(y).__name__}.") from None
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.ndim != 1 or len(arr) != n:
        raise CourseError(f"Expected {n} {what} (one per image), got shape {tuple(arr.shape)}.")
    if not np.issubdtype(arr.dtype, np.number) or not np.all(np.mod(arr, 1) == 0):
        raise CourseError(f"The {what} must be whole class numbers 0 to {num_classes - 1}.")
    if arr.min() < 0 or arr.max() >= num_classes:
        raise CourseError(f"The {what} must be class numbers 0 to {num_classes - 1}, got {arr.min()} to {arr.max()}.")
    return arr.astype("int32")


def check_eps(eps: float, what: str = "eps") -> float:
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise CourseError(f"{what} must be a number between 0 and 1, got {eps!r}.") from None
    if not 0 <= value <= 1 or math.isnan(value):
        raise CourseError(f"{what} is a change in pixel value, so between 0 and 1 (pixels are in [0, 1]), got {eps!r}.")
    return value


def _check_float32(model: "keras.Model") -> None:
    mixed = [layer.name for layer in model.layers if layer.dtype_policy.name != "float32"]
    if mixed:
        raise CourseError(f"This model computes in {model.layers[0].dtype_policy.name} (layer {mixed[0]!r}); input "
                          "gradients need float32: pass utils.models.as_float32(model) instead.")


def _softmax_dense(model: "keras.Model"):
    from utils.explain import is_softmax_dense

    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    if not is_softmax_dense(last):
        raise CourseError("The attacks need a classifier whose last layer is Dense(..., activation='softmax'), "
                          f"got a last layer {type(last).__name__} ({getattr(activation, '__name__', 'no')} "
                          "activation).")
    return last


# ----------------------------------------------------------------------------------------------
# Logits, probabilities, gradients


class _Functions:
    """The compiled logit and gradient functions of one model (made once, kept on the model)."""

    def __init__(self, model: "keras.Model") -> None:
        import keras
        import tensorflow as tf

        _check_float32(model)
        last = _softmax_dense(model)
        body = keras.Model(model.inputs, last.input) if len(model.layers) > 1 else None
        self.num_classes = int(last.units)
        self.shape = tuple(model.inputs[0].shape[1:])
        spec = tf.TensorSpec((None, *self.shape), tf.float32)

        def logits(x):
            features = body(x, training=False) if body is not None else tf.reshape(x, (tf.shape(x)[0], -1))
            out = tf.matmul(features, last.kernel)
            return out + last.bias if last.use_bias else out

        @tf.function(input_signature=[spec])
        def logits_fn(x):
            return logits(x)

        @tf.function(input_signature=[spec, tf.TensorSpec((None,), tf.int32)])
        def grad_fn(x, labels):
            with tf.GradientTape() as tape:
                tape.watch(x)
                z = logits(x)
                loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=z))
            return tape.gradient(loss, x), z

        self.logits = logits
        self.logits_fn = logits_fn
        self.grad_fn = grad_fn


def model_functions(model: "keras.Model") -> _Functions:
    """The model's compiled functions, made once and kept on it: ``logits_fn(x)`` the scores before the softmax,
    ``grad_fn(x, labels)`` the gradient of the summed cross-entropy with respect to ``x`` (and the logits),
    ``num_classes``."""
    fns = getattr(model, "_course_attack_functions", None)
    if fns is None:
        fns = _Functions(model)
        object.__setattr__(model, "_course_attack_functions", fns)   # bypass Keras' attribute tracking
    return fns


def logits(model: "keras.Model", x, batch_size: int = 1024) -> np.ndarray:
    """The class scores before the softmax, (N, classes), computed in float32 (the model called directly)."""
    fns = model_functions(model)
    x = check_images(x, model)
    return np.concatenate([np.asarray(fns.logits_fn(x[i:i + batch_size])) for i in range(0, len(x), batch_size)])


def probabilities(model: "keras.Model", x, batch_size: int = 1024) -> np.ndarray:
    """Softmax probabilities (N, classes) in float64, from :func:`logits`."""
    z = logits(model, x, batch_size).astype("float64")
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def accuracy(model: "keras.Model", x, y) -> float:
    """Share of images whose top class is ``y``."""
    x = check_images(x, model)
    labels = check_labels(y, len(x), model_functions(model).num_classes)
    return float(np.mean(logits(model, x).argmax(axis=1) == labels))


def loss_gradient(model: "keras.Model", x, y) -> np.ndarray:
    """d(cross-entropy of label ``y``)/d(input), same shape as the batch; float32."""
    fns = model_functions(model)
    x = check_images(x, model)
    y = check_labels(y, len(x), fns.num_classes)
    return np.asarray(fns.grad_fn(x, y)[0])


# ----------------------------------------------------------------------------------------------
# Accuracy under attack; PGD with restarts (fgsm and pgd themselves are generated at the end of this file)


def accuracy_under_attack(model: "keras.Model", x, y, epsilons: Sequence[float], attack="fgsm",
                          steps: int | None = None, source: "keras.Model | None" = None, **options) -> np.ndarray:
    """Accuracy of ``model`` on ``x`` attacked at each epsilon.

    ``attack``: ``"fgsm"``, ``"pgd"`` (``steps`` steps, default 10; ``options`` such as ``random_start=True`` go
    to :func:`pgd`), or any function ``attack(model, x, y, eps, **options)`` returning the attacked images (the
    notebook passes its own cells' ``fgsm`` and ``pgd``; ``steps``, when given, is passed on too).
    ``source``: make the attack on that model instead (a transfer attack); default ``model`` itself.
    """
    if callable(attack):
        make = attack
        if steps is not None:
            options["steps"] = steps
    elif attack == "fgsm":
        make = fgsm
    elif attack == "pgd":
        def make(m, xs, ys, eps, **kw):
            return pgd(m, xs, ys, eps, steps=10 if steps is None else steps, **kw)
    else:
        raise CourseError(f"attack must be 'fgsm', 'pgd' or a function, got {attack!r}.")
    maker = model if source is None else source
    return np.array([accuracy(model, make(maker, x, y, eps, **options), y) for eps in epsilons])


def pgd_restarts(model: "keras.Model", x, y, eps: float, steps: int = 40, restarts: int = 5,
                 step_size: float | None = None, seed: int = 0, attack=None) -> np.ndarray:
    """The strongest of ``restarts`` PGD runs, each from its own random start in the ``eps`` box: per image, the
    first run's result that fools the model (else the last run's). An image counts as robust only if every
    restart fails, the evaluation Madry et al. (2017) recommend. ``attack``: the PGD function to use (default
    :func:`pgd`)."""
    run = pgd if attack is None else attack
    fns = model_functions(model)
    x = check_images(x, model)
    y = check_labels(y, len(x), fns.num_classes)
    if int(restarts) < 1:
        raise CourseError(f"restarts must be at least 1, got {restarts}.")
    best = None
    fooled = np.zeros(len(x), bool)
    for r in range(int(restarts)):
        adv = run(model, x, y, eps, steps=steps, step_size=step_size, random_start=True, seed=seed + r)
        now = np.asarray(fns.logits_fn(adv)).argmax(axis=1) != y
        best = adv if best is None else np.where((now & ~fooled)[:, None, None, None], adv, best)
        fooled |= now
    return best


# ----------------------------------------------------------------------------------------------
# One pixel: the exhaustive search


@dataclass
class PixelResult:
    """Per image: whether it was fooled, where (row, col) and to what value the changed pixel(s) were set, the new
    top label and its probability, and the true class's probability after the change. For k pixels, ``rows``,
    ``cols`` and ``values`` are (N, k); ``evaluations`` counts model evaluations (images classified)."""

    fooled: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    true_probability: np.ndarray
    evaluations: np.ndarray
    fooling: np.ndarray | None = None   # one-pixel search: how many candidates fool the model

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.fooled))


def set_pixels(image, rows, cols, values) -> np.ndarray:
    """A copy of one image (H, W, C) with pixels (rows[i], cols[i]) set to values[i] (in every channel)."""
    out = np.array(image, dtype="float32", copy=True)
    out[np.asarray(rows, int), np.asarray(cols, int)] = np.asarray(values, "float32")[:, None]
    return out


ONE_PIXEL_VALUES = (0.0, 0.25, 0.5, 0.75, 1.0)


def one_pixel_search(model: "keras.Model", images, labels, values: Sequence[float] = ONE_PIXEL_VALUES) -> PixelResult:
    """Try every position with every value in ``values`` (one batch per image: H * W * len(values) candidates;
    for 28x28 and the five default values, 3,920).

    An image is fooled when *any* candidate changes the model's answer; the candidate reported is then, among the
    fooling ones, the one that leaves the true class the least probability (for an image not fooled: that
    candidate among all). ``evaluations`` counts candidates, ``fooling`` how many of them fool the model.
    Deterministic, and exact for this set of values (a value between two of them is not tried).
    """
    fns = model_functions(model)
    x = check_images(images, model)
    y = check_labels(labels, len(x), fns.num_classes)
    try:
        vals = np.asarray(values, dtype="float32").ravel()
    except (TypeError, ValueError):
        raise CourseError(f"values must be pixel values in [0, 1], got {values!r}.") from None
    if vals.size == 0 or not np.all(np.isfinite(vals)) or vals.min() < 0 or vals.max() > 1:
        raise CourseError(f"values must be pixel values in [0, 1], got {list(np.ravel(values))}.")
    height, width = x.shape[1:3]
    rr, cc, vv = (a.ravel() for a in np.meshgrid(np.arange(height), np.arange(width), vals, indexing="ij"))
    n = len(x)
    out = {k: np.zeros(n, dt) for k, dt in (("fooled", bool), ("rows", int), ("cols", int), ("values", "float32"),
                                            ("label", int), ("confidence", float), ("true_probability", float),
                                            ("fooling", int))}
    for i in range(n):
        batch = np.repeat(x[i:i + 1], len(rr), axis=0)
        batch[np.arange(len(rr)), rr, cc] = vv[:, None]
        z = np.asarray(fns.logits_fn(batch), "float64")
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        flips = p.argmax(axis=1) != y[i]
        true = np.where(flips, p[:, y[i]], np.inf) if flips.any() else p[:, y[i]]
        best = int(np.argmin(true))
        out["fooled"][i] = bool(flips.any())
        out["fooling"][i] = int(flips.sum())
        out["rows"][i], out["cols"][i], out["values"][i] = rr[best], cc[best], vv[best]
        out["label"][i] = p[best].argmax()
        out["confidence"][i] = p[best].max()
        out["true_probability"][i] = p[best, y[i]]
    return PixelResult(out["fooled"], out["rows"][:, None], out["cols"][:, None], out["values"][:, None],
                       out["label"], out["confidence"], out["true_probability"], np.full(n, len(rr)),
                       out["fooling"])


# ----------------------------------------------------------------------------------------------
# k pixels: differential evolution (Su et al. 2017)


def pixel_attack_de(model: "keras.Model", images, labels, pixels: int = 1, population: int = 100,
                    maxiter: int = 30, seed: int = 0) -> PixelResult:
    """Su et al.'s attack: ``scipy.optimize.differential_evolution`` over (row, col, value) for ``pixels`` pixels.

    The objective is the true class's probability minus the best other class's: below 0 the image is fooled,
    and the search stops there. About ``population`` candidates per generation (scipy's ``popsize`` is per
    parameter), at most ``maxiter`` generations; every generation is one call of the model on all candidates.
    """
    from scipy.optimize import differential_evolution

    fns = model_functions(model)
    x = check_images(images, model)
    y = check_labels(labels, len(x), fns.num_classes)
    k = int(pixels)
    if not 1 <= k <= 100:
        raise CourseError(f"pixels must be 1 to 100, got {pixels}.")
    if int(population) < 5 or int(maxiter) < 1:
        raise CourseError("population must be at least 5 and maxiter at least 1.")
    height, width = x.shape[1:3]
    bounds = [(0, height - 1e-6), (0, width - 1e-6), (0.0, 1.0)] * k
    popsize = max(1, math.ceil(int(population) / (3 * k)))
    n = len(x)
    result = {"fooled": np.zeros(n, bool), "rows": np.zeros((n, k), int), "cols": np.zeros((n, k), int),
              "values": np.zeros((n, k), "float32"), "label": np.zeros(n, int), "confidence": np.zeros(n),
              "true_probability": np.zeros(n), "evaluations": np.zeros(n, int)}
    for i in range(n):
        count = [0]

        def margin(params: np.ndarray, i: int = i) -> np.ndarray:
            params = np.atleast_2d(params.T).T                  # (3k, S)
            s = params.shape[1]
            batch = np.repeat(x[i:i + 1], s, axis=0)
            for j in range(k):
                r = params[3 * j].astype(int)
                c = params[3 * j + 1].astype(int)
                batch[np.arange(s), r, c] = params[3 * j + 2, :, None].astype("float32")
            z = np.asarray(fns.logits_fn(batch), "float64")
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            true = p[:, y[i]].copy()
            p[:, y[i]] = -1.0
            count[0] += s
            return true - p.max(axis=1)

        found = differential_evolution(margin, bounds, popsize=popsize, maxiter=int(maxiter), seed=seed + i,
                                       vectorized=True, updating="deferred", polish=False, tol=0, atol=0,
                                       mutation=0.5, recombination=1.0,
                                       callback=lambda intermediate_result: bool(intermediate_result.fun < 0))
        best = found.x.reshape(k, 3)
        rows, cols, vals = best[:, 0].astype(int), best[:, 1].astype(int), best[:, 2].astype("float32")
        p = probabilities(model, set_pixels(x[i], rows, cols, vals)[None])[0]
        result["fooled"][i] = p.argmax() != y[i]
        result["rows"][i], result["cols"][i], result["values"][i] = rows, cols, vals
        result["label"][i], result["confidence"][i] = p.argmax(), p.max()
        result["true_probability"][i] = p[y[i]]
        result["evaluations"][i] = count[0]
    return PixelResult(**result)


# ----------------------------------------------------------------------------------------------
# Expectation over transformation (robust to being moved)


def random_transforms(n: int, seed: int = 0, max_degrees: float = 15.0, max_shift: float = 2.0,
                      zoom: tuple[float, float] = (0.9, 1.1), size: tuple[int, int] = (28, 28)) -> np.ndarray:
    """``n`` random rotation + shift + zoom transforms as (n, 8) rows for TensorFlow's projective transform.

    Each maps an output pixel to the input pixel it is read from: a rotation by up to ``max_degrees`` and a zoom
    in ``zoom`` about the centre, then a shift of up to ``max_shift`` pixels each way.
    """
    rng = np.random.default_rng(seed)
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, n))
    scale = rng.uniform(zoom[0], zoom[1], n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2))
    cy, cx = (size[0] - 1) / 2, (size[1] - 1) / 2
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale      # inverse map: output -> input
    a0, a1, b0, b1 = cos, -sin, sin, cos
    a2 = cx - a0 * cx - a1 * cy - shift[:, 0]
    b2 = cy - b0 * cx - b1 * cy - shift[:, 1]
    zeros = np.zeros(n)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1).astype("float32")


def apply_transforms(images, transforms):
    """Images (N, H, W, C) moved by transforms (N, 8) (bilinear, black outside); differentiable (a tf tensor)."""
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=tf.convert_to_tensor(transforms, tf.float32),
        output_shape=tf.shape(images)[1:3], interpolation="BILINEAR", fill_mode="CONSTANT",
        fill_value=tf.constant(0.0))


def fooled_under_transforms(model: "keras.Model", x, y, n_transforms: int = 100, seed: int = 1) -> np.ndarray:
    """Per image, the share of ``n_transforms`` random transforms (:func:`random_transforms`) after which the
    model does *not* say ``y``: 1.0 means the attack survives every move."""
    fns = model_functions(model)
    x = check_images(x, model)
    y = check_labels(y, len(x), fns.num_classes)
    out = np.zeros(len(x))
    for i in range(len(x)):
        moved = apply_transforms(np.repeat(x[i:i + 1], n_transforms, axis=0),
                                 random_transforms(n_transforms, seed + i, size=x.shape[1:3]))
        out[i] = np.mean(np.asarray(fns.logits_fn(moved)).argmax(axis=1) != y[i])
    return out


def eot_attack(model: "keras.Model", x, y, eps: float, steps: int = 20, samples: int = 16,
               step_size: float | None = None, seed: int = 0) -> np.ndarray:
    """PGD whose every step follows the loss gradient averaged over ``samples`` random transforms of the image:
    a perturbation that fools the model wherever the image lands, not only where it was made."""
    import tensorflow as tf

    fns = model_functions(model)
    x = check_images(x, model)
    y = check_labels(y, len(x), fns.num_classes)
    eps = check_eps(eps)
    size = 2.5 * eps / int(steps) if step_size is None else check_eps(step_size, "step_size")
    samples = int(samples)
    if samples < 1:
        raise CourseError(f"samples must be at least 1, got {samples}.")
    low, high = np.clip(x - eps, 0, 1), np.clip(x + eps, 0, 1)
    adv = x.copy()
    labels = tf.constant(np.repeat(y, samples))
    for k in range(int(steps)):
        t = random_transforms(len(x) * samples, seed=seed * 100_003 + k, size=x.shape[1:3])
        a = tf.constant(adv)
        with tf.GradientTape() as tape:
            tape.watch(a)
            moved = apply_transforms(tf.repeat(a, samples, axis=0), t)
            loss = tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels,
                                                                                logits=fns.logits(moved)))
        grad = np.asarray(tape.gradient(loss, a))
        adv = np.clip(adv + size * np.sign(grad), low, high).astype("float32")
    return adv


# ----------------------------------------------------------------------------------------------
# A defence: adversarial training


def adversarial_training(model: "keras.Model", x, y, eps: float, epochs: int = 2, batch_size: int = 128,
                         adversarial_share: float = 0.5, learning_rate: float = 1e-3, seed: int = 0,
                         verbose: bool = True) -> dict[str, list[float]]:
    """Train ``model`` (float32) on batches in which ``adversarial_share`` of the images are replaced by FGSM images
    made on the fly against the current weights, from a random start in the ``eps`` box (Wong et al. 2020: a random
    start keeps one-step training from fooling itself). A compiled model trains with its own optimizer (so it is
    saved and loaded with it); an uncompiled one with Adam at ``learning_rate``.

    Returns the history: per epoch, the loss and the accuracy on the mixed batches.
    """
    import keras
    import tensorflow as tf

    _check_float32(model)
    x = check_images(x, model)
    y = check_labels(y, len(x), int(_softmax_dense(model).units))
    eps = check_eps(eps)
    if not 0 <= adversarial_share <= 1:
        raise CourseError(f"adversarial_share is a fraction 0 to 1, got {adversarial_share}.")
    optimizer = getattr(model, "optimizer", None) or keras.optimizers.Adam(learning_rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    alpha = 1.25 * eps

    @tf.function(autograph=False)     # no Python control flow inside; AutoGraph only adds a warning here
    def step(xb, yb, noise, mask):
        with tf.GradientTape() as tape:
            start = tf.clip_by_value(xb + noise, 0.0, 1.0)
            tape.watch(start)
            attack_loss = loss_fn(yb, model(start, training=False))
        grad = tape.gradient(attack_loss, start)
        adv = tf.clip_by_value(start + alpha * tf.sign(grad), xb - eps, xb + eps)
        adv = tf.clip_by_value(adv, 0.0, 1.0)
        mixed = tf.where(mask, adv, xb)
        with tf.GradientTape() as tape:
            probs = model(mixed, training=True)
            loss = loss_fn(yb, probs)
            scaled = optimizer.scale_loss(loss)  # as Keras' train_step: a LossScaleOptimizer scales, others don't
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        hits = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(probs, axis=1, output_type=tf.int32), yb), tf.float32))
        return loss, hits

    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    for epoch in range(int(epochs)):
        order = rng.permutation(len(x))
        losses, hits = [], []
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            noise = rng.uniform(-eps, eps, (len(idx), *x.shape[1:])).astype("float32")
            mask = (rng.random(len(idx)) < adversarial_share)[:, None, None, None]
            loss, hit = step(tf.constant(x[idx]), tf.constant(y[idx]), tf.constant(noise),
                             tf.constant(np.broadcast_to(mask, (len(idx), *x.shape[1:]))))
            losses.append(float(loss))
            hits.append(float(hit))
        history["loss"].append(float(np.mean(losses)))
        history["accuracy"].append(float(np.mean(hits)))
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: loss {history['loss'][-1]:.3f}, "
                  f"accuracy on the mixed batches {history['accuracy'][-1]:.3f}")
    return history


# >>> generated from notebooks/11_adversarial_examples.ipynb by `make export`: edit the notebook, not this block
def fgsm(model, x, y, eps, target=None):
    """One step of size eps along the sign of the loss gradient, clipped to [0, 1] (Goodfellow et al. 2014).

    Untargeted (target=None): away from label y, so the loss of y goes up. Targeted: towards class target, so the
    loss of the target goes down (y is then only checked).
    """
    fns = model_functions(model)
    x = check_images(x, model)
    y = check_labels(y, len(x), fns.num_classes)
    eps = check_eps(eps)
    if target is None:
        grad, _ = fns.grad_fn(x, y)                       # d loss(y) / d x, one gradient for the whole batch
        step = np.sign(np.asarray(grad))                  # up the loss of the true label
    else:
        grad, _ = fns.grad_fn(x, check_labels(target, len(x), fns.num_classes, "targets"))
        step = -np.sign(np.asarray(grad))                 # down the loss of the target
    return np.clip(x + eps * step, 0.0, 1.0).astype("float32")


def pgd(model, x, y, eps, steps=10, step_size=None, target=None, random_start=False, stop_when_fooled=False,
        seed=0, return_steps=False):
    """steps signed gradient steps of step_size (default 2.5 * eps / steps), each clipped back into the
    L-infinity box of radius eps around x and into [0, 1].

    target: walk towards that class. random_start: begin at a random point of the box (Madry et al.'s PGD;
    without it, Kurakin et al.'s BIM). stop_when_fooled: an image stops moving once it is misclassified (or
    reaches its target), which keeps the change as small as this step size allows. return_steps: also return,
    per image, the number of steps after which it first was fooled (-1: never).
    """
    fns = model_functions(model)
    x = check_images(x, model)
    y = check_labels(y, len(x), fns.num_classes)
    eps = check_eps(eps)
    steps = int(steps)
    if steps < 1:
        raise CourseError(f"steps must be at least 1, got {steps}.")
    size = 2.5 * eps / steps if step_size is None else check_eps(step_size, "step_size")
    goal = None if target is None else check_labels(target, len(x), fns.num_classes, "targets")
    labels, direction = (y, 1.0) if goal is None else (goal, -1.0)    # up the loss of y, or down the target's
    low, high = np.clip(x - eps, 0, 1), np.clip(x + eps, 0, 1)         # the eps box, inside [0, 1]
    adv = x.copy()
    if random_start:
        adv = np.clip(x + np.random.default_rng(seed).uniform(-eps, eps, x.shape).astype("float32"), low, high)
    first = np.full(len(x), -1)
    for k in range(steps):
        grad, z = fns.grad_fn(adv, labels)
        predicted = np.asarray(z).argmax(axis=1)
        done = predicted != y if goal is None else predicted == goal
        first[(first < 0) & done] = k
        move = direction * np.sign(np.asarray(grad))
        if stop_when_fooled:
            move[done] = 0.0
        adv = np.clip(adv + size * move, low, high).astype("float32")   # the projection: back into the box
    predicted = np.asarray(fns.logits_fn(adv)).argmax(axis=1)
    done = predicted != y if goal is None else predicted == goal
    first[(first < 0) & done] = steps
    return (adv, first) if return_steps else adv
# <<< generated from notebooks/11_adversarial_examples.ipynb
