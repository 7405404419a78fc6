"""Generative adversarial networks for notebook 10: the models, their ``train_step``, the judge and a benchmark.

- The lesson code, written in notebook 10 and generated at the end of this file by ``make export``: the three
  losses (:func:`discriminator_loss`, :func:`saturating_generator_loss`, :func:`nonsaturating_generator_loss`)
  and :class:`GAN`, a ``keras.Model`` whose ``train_step`` plays one round of the game (one discriminator step,
  one generator step) on a batch; conditional (the digit's label goes into both players) or not, for images or
  for the 1-D toy problem. Random draws go through a ``keras.random.SeedGenerator``.
- :func:`build_generator` / :func:`build_discriminator`: small DCGAN-style players sized for a 2-core CPU
  (see :data:`RECIPES` for what was measured).
- The judge (notebook 04's trained CNN, :func:`utils.models.load_or_train_mnist_cnn`):
  :func:`judge_outputs` (class probabilities and the 128 features of its ``dense`` layer),
  :func:`confidence_share`, :func:`class_shares`, :func:`asked_for_share` (does a conditional generator draw
  the digit it was asked for), :func:`frechet_distance` (a Frechet distance in the judge's features),
  :func:`nearest_training_distances` (memorisation) and :func:`judge_report`, which puts them together with the
  real-vs-real floors (:func:`real_reference`).
- :func:`time_steps`: milliseconds per training step of a recipe, measured where the notebook runs.
- :func:`draw_digits`: the plain function behind the notebook's "draw a 7" widget; :func:`complete_image`:
  image completion by gradient descent on the latent vector.
- ``python -m utils.gan`` trains the full-mode recipe and appends one JSON line to
  ``env.cache_dir("bench")/gan_results.jsonl`` (``make bench-gan``).

The generated :class:`GAN` subclasses ``keras.Model``, so ``import utils.gan`` imports Keras and TensorFlow.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from utils import env
from utils.errors import CourseError

env.quiet_tensorflow()
import keras  # noqa: E402  (the generated GAN subclasses keras.Model)
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

#: The judge's confidence threshold, and the smallest share of samples each class must get.
CONFIDENCE = 0.9
MIN_CLASS_SHARE = 0.05
#: The quality target for full mode: share of confident samples, and how far above the real-vs-real floor the
#: Frechet distance may be.
TARGET_CONFIDENT = 0.85
TARGET_FRECHET_RATIO = 10.0
#: The judge's penultimate layer (notebook 04's Dense(128)).
FEATURE_LAYER = "dense"
NUM_CLASSES = 10

#: Training recipes. ``full``: what notebook 10 and ``python -m utils.gan`` train on a CPU; ``fast``: a smoke run that
#: still shows the shape of training; ``gpu``: the fuller default where a GPU is found. Notebook 10 measures the
#: milliseconds per step where it runs (:func:`time_steps`); ``make bench-gan`` records them with the quality.
#: ``full`` (3,000 steps; 4,000 before) is what ``make bench-gan`` trains on a CPU: on the course's 2-core float32
#: CPU it took 447 s and met the target (93.5% confident, 3.8x the floor). ``cpu``, the same with 2,000 steps, is
#: what notebook 10 trains in full mode on a CPU, so that the notebook, which also trains an unconditional run,
#: stays under 10 minutes there.
RECIPES: dict[str, dict[str, Any]] = {
    "full": {"latent_dim": 64, "width": 64, "upsample": "transpose", "batch_size": 64, "steps": 3000,
             "snapshot_every": 250, "g_lr": 2e-4, "d_lr": 2e-4, "beta_1": 0.5, "loss": "nonsaturating",
             "conditional": True},
    "fast": {"latent_dim": 64, "width": 64, "upsample": "transpose", "batch_size": 64, "steps": 100,
             "snapshot_every": 25, "g_lr": 2e-4, "d_lr": 2e-4, "beta_1": 0.5, "loss": "nonsaturating",
             "conditional": True},
    "cpu": {"latent_dim": 64, "width": 64, "upsample": "transpose", "batch_size": 64, "steps": 2000,
            "snapshot_every": 250, "g_lr": 2e-4, "d_lr": 2e-4, "beta_1": 0.5, "loss": "nonsaturating",
            "conditional": True},
    "gpu": {"latent_dim": 64, "width": 128, "upsample": "transpose", "batch_size": 128, "steps": 10000,
            "snapshot_every": 500, "g_lr": 2e-4, "d_lr": 2e-4, "beta_1": 0.5, "loss": "nonsaturating",
            "conditional": True},
}


def recipe_name(device: str, fast: bool, notebook: bool = True) -> str:
    """Which of :data:`RECIPES` to train: ``fast`` in fast mode, else ``gpu`` on a GPU; on a CPU ``cpu`` for
    notebook 10 and ``full`` for the benchmark (``notebook=False``)."""
    if fast:
        return "fast"
    if device.upper().startswith("GPU"):
        return "gpu"
    return "cpu" if notebook else "full"


# ----------------------------------------------------------------------------------------------
# The players


def build_generator(latent_dim: int = 64, width: int = 64, conditional: bool = True, upsample: str = "nearest",
                    num_classes: int = NUM_CLASSES, name: str = "generator") -> "keras.Model":
    """z (and a label) -> a 28x28x1 image in [-1, 1].

    Dense to 7x7x``width``, then twice: double the size and convolve (``upsample="nearest"`` or
    ``"bilinear"``: UpSampling2D + Conv2D; ``"transpose"``: Conv2DTranspose with stride 2), batch norm and
    ReLU between, tanh at the end (Radford et al.'s guidelines).
    """
    from keras import layers

    z = keras.Input(shape=(latent_dim,), name="z")
    inputs = [z]
    h = z
    if conditional:
        label = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(label)
        h = layers.Concatenate(name="z_and_label")([z, layers.Embedding(num_classes, 16, name="label_code")(label)])
    h = layers.Dense(7 * 7 * width, use_bias=False, name="project")(h)
    h = layers.BatchNormalization(name="bn0")(h)
    h = layers.ReLU(name="relu0")(h)
    h = layers.Reshape((7, 7, width), name="to_7x7")(h)
    for k, channels in enumerate((width, width // 2), start=1):
        if upsample == "transpose":
            h = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=False, name=f"up{k}")(h)
        elif upsample in ("nearest", "bilinear"):
            h = layers.UpSampling2D(2, interpolation=upsample, name=f"grow{k}")(h)
            h = layers.Conv2D(channels, 3, padding="same", use_bias=False, name=f"up{k}")(h)
        else:
            raise CourseError(f"upsample must be 'nearest', 'bilinear' or 'transpose', got {upsample!r}.")
        h = layers.BatchNormalization(name=f"bn{k}")(h)
        h = layers.ReLU(name=f"relu{k}")(h)
    image = layers.Conv2D(1, 3, padding="same", activation="tanh", dtype="float32", name="image")(h)
    return keras.Model(inputs if conditional else z, image, name=name)


def build_discriminator(width: int = 64, conditional: bool = True, num_classes: int = NUM_CLASSES,
                        name: str = "discriminator") -> "keras.Model":
    """A 28x28x1 image (and a label) -> one logit: high = "real".

    Two strided convolutions with LeakyReLU (no pooling, Radford et al.), then a linear score. The label enters
    by projection (Miyato and Koyama, 2018): the score adds the dot product of the image's features with a
    learned vector per class, so "a real 7" and "a real 3" are judged apart.
    """
    from keras import layers

    image = keras.Input(shape=(28, 28, 1), name="image")
    h = layers.Conv2D(width // 2, 4, strides=2, padding="same", name="down1")(image)
    h = layers.LeakyReLU(negative_slope=0.2, name="lrelu1")(h)
    h = layers.Conv2D(width, 4, strides=2, padding="same", name="down2")(h)
    h = layers.LeakyReLU(negative_slope=0.2, name="lrelu2")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dropout(0.3, name="dropout")(h)
    features = layers.Dense(128, name="features")(h)
    features = layers.LeakyReLU(negative_slope=0.2, name="lrelu3")(features)
    score = layers.Dense(1, dtype="float32", name="score")(features)
    inputs = [image]
    if conditional:
        label = keras.Input(shape=(), dtype="int32", name="label")
        inputs.append(label)
        code = layers.Embedding(num_classes, 128, name="label_code")(label)
        match = layers.Dot(axes=1, dtype="float32", name="label_match")([features, code])
        score = layers.Add(dtype="float32", name="logit")([score, match])
    return keras.Model(inputs, score, name=name)


def build_toy_generator(latent_dim: int = 4, hidden: int = 32, name: str = "toy_generator") -> "keras.Model":
    """For the 1-D game: noise -> one number."""
    from keras import layers

    return keras.Sequential([keras.Input(shape=(latent_dim,)), layers.Dense(hidden, activation="relu"),
                             layers.Dense(hidden, activation="relu"), layers.Dense(1)], name=name)


def build_toy_discriminator(hidden: int = 32, name: str = "toy_discriminator") -> "keras.Model":
    """For the 1-D game: one number -> a logit (sigmoid of it: the probability of "real")."""
    from keras import layers

    return keras.Sequential([keras.Input(shape=(1,)), layers.Dense(hidden), layers.LeakyReLU(negative_slope=0.2),
                             layers.Dense(hidden), layers.LeakyReLU(negative_slope=0.2), layers.Dense(1)], name=name)


# ----------------------------------------------------------------------------------------------
# The game


# ----------------------------------------------------------------------------------------------
# Data


def to_gan_range(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images -> float32 (N, 28, 28, 1) in [-1, 1] (what the tanh generator makes)."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise CourseError(f"expected images of shape (N, 28, 28), got {x.shape}.")
    scaled = x.astype("float32") / 127.5 - 1.0 if x.dtype == np.uint8 else x.astype("float32")
    return scaled[..., None]


def to_judge_range(images: Any) -> np.ndarray:
    """Generator output in [-1, 1] (N, 28, 28[, 1]) -> the judge's input, float32 (N, 28, 28, 1) in [0, 1]."""
    x = np.asarray(images, dtype="float32")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise CourseError(f"expected images of shape (N, 28, 28) or (N, 28, 28, 1), got {x.shape}.")
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0)


# ----------------------------------------------------------------------------------------------
# The judge


def feature_model(judge: "keras.Model", layer: str = FEATURE_LAYER) -> "keras.Model":
    """A model giving the judge's class probabilities and the activations of its layer ``layer``."""

    try:
        features = judge.get_layer(layer).output
    except ValueError as err:
        raise CourseError(f"the judge has no layer named {layer!r}: {err}") from None
    inputs = judge.inputs[0] if len(judge.inputs) == 1 else judge.inputs
    return keras.Model(inputs, [judge.outputs[0], features])


def judge_outputs(judge: "keras.Model", images01: np.ndarray, batch_size: int = 500
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (N, 10) and penultimate features (N, 128) of images in [0, 1], shape (N, 28, 28, 1)."""
    x = np.asarray(images01, dtype="float32")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise CourseError(f"the judge takes images of shape (N, 28, 28, 1) in [0, 1], got {x.shape}.")
    if len(x) == 0:
        raise CourseError("the judge got no images.")
    model = getattr(judge, "_course_feature_model", None)
    if model is None:
        model = feature_model(judge)
        judge._course_feature_model = model
    probs, feats = [], []
    for start in range(0, len(x), batch_size):
        p, f = model(x[start:start + batch_size], training=False)
        probs.append(np.asarray(p, dtype="float64"))
        feats.append(np.asarray(f, dtype="float64"))
    return np.concatenate(probs), np.concatenate(feats)


def _probabilities(probs: Any) -> np.ndarray:
    p = np.asarray(probs, dtype="float64")
    if p.ndim != 2 or p.shape[0] == 0:
        raise CourseError(f"expected class probabilities of shape (N, classes), got {p.shape}.")
    return p


def confidence_share(probs: Any, threshold: float = CONFIDENCE) -> float:
    """The share of samples whose most likely class has probability above ``threshold``."""
    return float(np.mean(_probabilities(probs).max(axis=1) > threshold))


def class_shares(probs: Any, num_classes: int | None = None) -> np.ndarray:
    """The share of samples the judge puts in each class (its most likely one): sums to 1."""
    p = _probabilities(probs)
    counts = np.bincount(p.argmax(axis=1), minlength=num_classes or p.shape[1])
    return counts / counts.sum()


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """The Frechet distance between Gaussians fitted to two sets of feature vectors (rows).

    ``|mu_a - mu_b|^2 + trace(S_a + S_b - 2 (S_a S_b)^(1/2))``: the FID formula (Heusel et al., 2017), here on
    any features. The trace of the matrix square root is computed as the sum of the square roots of the
    eigenvalues of ``S_a^(1/2) S_b S_a^(1/2)`` (symmetric, so exact and never complex).
    """
    a, b = np.asarray(features_a, dtype="float64"), np.asarray(features_b, dtype="float64")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise CourseError(f"expected two feature arrays (N, D) with the same D, got {a.shape} and {b.shape}.")
    if len(a) < 2 or len(b) < 2:
        raise CourseError("the Frechet distance needs at least 2 samples in each set.")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _sqrt_psd(np.atleast_2d(cov_a))
    middle = root_a @ np.atleast_2d(cov_b) @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(np.atleast_2d(cov_a)) + np.trace(np.atleast_2d(cov_b))
                  - 2 * trace_root)
    return max(value, 0.0)


def asked_for_share(probs: Any, labels: Any) -> np.ndarray:
    """Per asked-for digit, the share of samples the judge reads as that digit (a conditional generator's test).

    ``labels``: the digit each sample was asked for. Returns an array of 10 shares (NaN for a digit never asked).
    """
    p = _probabilities(probs)
    asked = np.asarray(labels).astype(int).ravel()
    if asked.shape != (len(p),):
        raise CourseError(f"need one asked-for label per sample: {len(p)} samples, labels of shape {np.shape(labels)}.")
    hit = p.argmax(axis=1) == asked
    return np.array([hit[asked == d].mean() if np.any(asked == d) else np.nan for d in range(p.shape[1])])


def nearest_training_distances(images01: Any, train01: Any, batch_size: int = 250) -> np.ndarray:
    """For each image, the pixel (Euclidean) distance to its nearest training image; both in [0, 1].

    A generator that replays training digits sits at 0; real test digits, never seen in training, give the scale
    of an honest distance (the memorisation check of :func:`judge_report`).
    """
    a = np.asarray(images01, dtype="float32").reshape(len(images01), -1)
    b = np.asarray(train01, dtype="float32").reshape(len(train01), -1)
    if a.shape[1] != b.shape[1] or not len(a) or not len(b):
        raise CourseError(f"need images and training images of the same size, got {a.shape} and {b.shape}.")
    b_norms = np.einsum("ij,ij->i", b, b)
    out = np.empty(len(a))
    for start in range(0, len(a), batch_size):
        chunk = a[start:start + batch_size]
        squared = np.einsum("ij,ij->i", chunk, chunk)[:, None] + b_norms[None] - 2 * chunk @ b.T
        nearest = squared.argmin(axis=1)  # float32 finds the neighbour; its distance is then computed exactly
        out[start:start + batch_size] = np.linalg.norm(chunk.astype("float64") - b[nearest].astype("float64"), axis=1)
    return out


@dataclass
class JudgeReport:
    """The judge's verdict on a set of samples (see :func:`judge_report`)."""

    n: int
    confident_share: float
    class_shares: list[float]
    smallest_class_share: float
    frechet: float
    frechet_floor: float | None = None
    mean_confidence: float = 0.0
    #: Conditional generators: per asked-for digit, the share drawn as that digit (see :func:`asked_for_share`).
    asked_for: list[float] | None = None
    #: Memorisation: median distance to the nearest training image, the same for real test digits, and the share
    #: of samples closer to a training image than ``copy_threshold`` (closer than 99% of real test digits are).
    nearest_median: float | None = None
    nearest_floor: float | None = None
    near_copies: float | None = None
    copy_threshold: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def frechet_ratio(self) -> float | None:
        """The Frechet distance in units of the real-vs-real floor."""
        return None if not self.frechet_floor else self.frechet / self.frechet_floor

    @property
    def asked_for_mean(self) -> float | None:
        """The share of samples drawn as the digit they were asked for (all digits together)."""
        return None if self.asked_for is None else float(np.nanmean(self.asked_for))

    @property
    def meets_target(self) -> bool:
        """True when all three parts of the course's quality target hold."""
        ratio = self.frechet_ratio
        return bool(self.confident_share >= TARGET_CONFIDENT and self.smallest_class_share >= MIN_CLASS_SHARE
                    and ratio is not None and ratio <= TARGET_FRECHET_RATIO)

    def summary(self) -> str:
        """A few readable lines."""
        ratio = "" if self.frechet_ratio is None else f" ({self.frechet_ratio:.1f}x the real-vs-real floor " \
                                                      f"{self.frechet_floor:.2f})"
        lines = [
            f"{self.n:,} samples: {self.confident_share:.1%} judged with confidence > {CONFIDENCE} "
            f"(mean top probability {self.mean_confidence:.3f})",
            "class shares: " + " ".join(f"{k}:{s:.0%}" for k, s in enumerate(self.class_shares))
            + f" (smallest {self.smallest_class_share:.1%})",
        ]
        if self.asked_for is not None:
            worst = int(np.nanargmin(self.asked_for))
            lines.append(f"drawn as the digit asked for: {self.asked_for_mean:.1%} "
                         f"(worst digit {worst}: {self.asked_for[worst]:.0%})")
        lines.append(f"Frechet distance in the judge's features: {self.frechet:.2f}{ratio}")
        if self.nearest_median is not None:
            lines.append(f"nearest training image: median distance {self.nearest_median:.2f} (real test digits "
                         f"{self.nearest_floor:.2f}); {self.near_copies:.1%} of samples closer than "
                         f"{self.copy_threshold:.2f} (1% of real test digits are)")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["frechet_ratio"] = self.frechet_ratio
        out["asked_for_mean"] = self.asked_for_mean
        out["meets_target"] = self.meets_target
        return out


def judge_report(judge: "keras.Model", images01: np.ndarray, reference_features: np.ndarray,
                 floor: float | None = None, labels: Any = None, reference: "Reference | None" = None
                 ) -> JudgeReport:
    """Judge images in [0, 1]: confidence share, class shares and Frechet distance to ``reference_features``.

    ``labels`` (the digit each sample was asked for) adds :func:`asked_for_share`; a ``reference`` made with
    training images (:func:`real_reference`) adds the memorisation check.
    """
    probs, feats = judge_outputs(judge, images01)
    shares = class_shares(probs, NUM_CLASSES)
    report = JudgeReport(n=len(probs), confident_share=confidence_share(probs),
                         class_shares=[round(float(s), 4) for s in shares], smallest_class_share=float(shares.min()),
                         frechet=frechet_distance(feats, reference_features), frechet_floor=floor,
                         mean_confidence=float(probs.max(axis=1).mean()))
    if labels is not None:
        report.asked_for = [round(float(s), 4) for s in asked_for_share(probs, labels)]
    if reference is not None and reference.train01 is not None:
        distances = nearest_training_distances(images01, reference.train01)
        report.nearest_median, report.nearest_floor = float(np.median(distances)), reference.nearest_floor
        report.copy_threshold = reference.copy_threshold
        report.near_copies = float(np.mean(distances < reference.copy_threshold))
    return report


def fooling_noise(judge: "keras.Model", n: int = 1000, steps: int = 10, step_size: float = 0.02, seed: int = 0
                  ) -> np.ndarray:
    """Uniform noise nudged until the judge reads it as a digit: ``n`` images (n, 28, 28, 1) in [0, 1].

    Image ``k`` is pushed towards class ``k % 10`` by ``steps`` signed-gradient steps on the judge's
    log-probability of that class (as in adversarial examples): it still looks like noise to a person, yet a
    judge that only counts confident, evenly spread answers would score it perfectly.
    """

    from utils.models import as_float32

    if not isinstance(n, (int, np.integer)) or n < 1:
        raise CourseError(f"n must be a whole number >= 1, got {n!r}.")
    judge = as_float32(judge)  # input gradients in float32: in float16 small ones would become 0
    x = tf.Variable(np.random.default_rng(seed).uniform(0, 1, (n, 28, 28, 1)).astype("float32"))
    targets = tf.one_hot(np.arange(n) % NUM_CLASSES, NUM_CLASSES)
    for _ in range(int(steps)):
        with tf.GradientTape() as tape:
            probs = judge(x, training=False)
            loss = tf.reduce_sum(targets * tf.math.log(probs + 1e-12))
        x.assign(tf.clip_by_value(x + step_size * tf.sign(tape.gradient(loss, x)), 0.0, 1.0))
    return x.numpy()


@dataclass
class Reference:
    """Real test digits for the judge: features of the reference set, the real-vs-real floors, the training images."""

    features: np.ndarray
    floor: float
    real_images01: np.ndarray
    n_reference: int
    n_sample: int
    judge: Any = field(default=None, repr=False)
    train01: np.ndarray | None = field(default=None, repr=False)
    nearest_floor: float | None = None
    copy_threshold: float | None = None

    def report(self, images01: np.ndarray, labels: Any = None) -> JudgeReport:
        """:func:`judge_report` of ``images01`` against this reference (with the memorisation check if it has one)."""
        return judge_report(self.judge, images01, self.features, self.floor, labels=labels, reference=self)


def real_reference(judge: "keras.Model", x_test: np.ndarray, n_sample: int = 1000, seed: int = 0,
                   x_train: np.ndarray | None = None) -> Reference:
    """Split the test digits at random (``seed``): ``n_sample`` of them are a real sample, the rest the reference.

    The floor is the Frechet distance of that real sample to the reference: what a perfect generator would
    score with ``n_sample`` samples (the distance shrinks, but never to 0, as samples grow). The split is random
    because MNIST's test set is ordered (its two halves come from different groups of writers). With ``x_train``
    (the generator's training digits) the reference also holds the memorisation floor: the real sample's median
    distance to its nearest training image, and the distance only 1% of real test digits come closer than.
    """
    x = np.asarray(x_test)
    if len(x) < 2 * n_sample:
        raise CourseError(f"need at least {2 * n_sample} test images for a reference and a sample, got {len(x)}.")
    images = to_judge_range(to_gan_range(x)) if x.dtype == np.uint8 else to_judge_range(x)
    order = np.random.default_rng(seed).permutation(len(images))
    reference, sample = images[order[n_sample:]], images[order[:n_sample]]
    _, ref_feats = judge_outputs(judge, reference)
    _, sample_feats = judge_outputs(judge, sample)
    out = Reference(features=ref_feats, floor=frechet_distance(sample_feats, ref_feats), real_images01=sample,
                    n_reference=len(reference), n_sample=n_sample, judge=judge)
    if x_train is not None:
        train = np.asarray(x_train)
        out.train01 = (train.astype("float32") / 255.0 if train.dtype == np.uint8 else
                       np.asarray(train, "float32")).reshape(len(train), -1)
        distances = nearest_training_distances(sample, out.train01)
        out.nearest_floor, out.copy_threshold = float(np.median(distances)), float(np.quantile(distances, 0.01))
    return out


# ----------------------------------------------------------------------------------------------
# Sampling, the widget's function, completion


def generate(generator: "keras.Model", n: int, labels: Sequence[int] | np.ndarray | None = None,
             seed: int = 0, latent: np.ndarray | None = None) -> np.ndarray:
    """``n`` images from ``generator`` in [-1, 1], shape (n, 28, 28, 1); same seed, same images."""
    latent_dim = int(generator.inputs[0].shape[-1])
    z = np.random.default_rng(seed).standard_normal((n, latent_dim)).astype("float32") if latent is None \
        else np.asarray(latent, dtype="float32")
    if len(generator.inputs) > 1:
        if labels is None:
            labels = np.arange(len(z)) % NUM_CLASSES
        out = generator([z, np.asarray(labels, dtype="int32")], training=False)
    else:
        out = generator(z, training=False)
    return np.asarray(out, dtype="float32")


def balanced_labels(n: int) -> np.ndarray:
    """``n`` labels, 0, 1, ..., 9, 0, 1, ...: every class equally often (up to one)."""
    return np.arange(n) % NUM_CLASSES


def draw_digits(generator: "keras.Model", digit: Any, seed: Any = 0, n: int = 8) -> np.ndarray:
    """What the "draw a digit" widget shows: ``n`` samples of ``digit`` (0-9) for ``seed``, in [0, 1] (n, 28, 28).

    Raises :class:`CourseError` for a digit outside 0-9, a negative or non-whole seed, or an unconditional
    generator.
    """
    if len(generator.inputs) < 2:
        raise CourseError("this generator takes no label: train a conditional GAN to ask for a digit.")
    if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= int(digit) <= 9:
        raise CourseError(f"digit must be a whole number from 0 to 9, got {digit!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise CourseError(f"seed must be a whole number >= 0, got {seed!r}.")
    if not isinstance(n, (int, np.integer)) or not 1 <= int(n) <= 64:
        raise CourseError(f"n must be a whole number from 1 to 64, got {n!r}.")
    images = generate(generator, int(n), labels=np.full(int(n), int(digit)), seed=int(seed))
    return to_judge_range(images)[..., 0]


def digits_png(images01: np.ndarray, scale: int = 3) -> bytes:
    """Images (N, 28, 28) in [0, 1] as one PNG strip (what the widget's ``Image`` shows), each pixel ``scale`` wide."""
    import io

    from PIL import Image

    x = np.asarray(images01)
    if x.ndim != 3 or len(x) == 0:
        raise CourseError(f"expected images of shape (N, height, width), got {x.shape}.")
    strip = tile(x, ncols=len(x))
    picture = Image.fromarray(strip).resize((strip.shape[1] * scale, strip.shape[0] * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def interpolate(z_from: np.ndarray, z_to: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` latent vectors on the straight line from ``z_from`` to ``z_to`` (both ends included)."""
    a, b = np.asarray(z_from, dtype="float32"), np.asarray(z_to, dtype="float32")
    if a.shape != b.shape:
        raise CourseError(f"the two ends must have the same shape, got {a.shape} and {b.shape}.")
    t = np.linspace(0.0, 1.0, int(steps), dtype="float32").reshape((-1,) + (1,) * a.ndim)
    return (1 - t) * a + t * b


def complete_image(generator: "keras.Model", image01: np.ndarray, mask: np.ndarray, label: int | None = None,
                   n_starts: int = 8, steps: int = 200, learning_rate: float = 0.05, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill in the hidden part of a digit (Yeh et al. 2017, Amos 2016): search z so G(z) matches the visible part.

    ``image01``: (28, 28) in [0, 1]; ``mask``: (28, 28), 1 where the pixel is known. Gradient descent (Adam) on
    ``n_starts`` latent vectors at once minimises the squared error on the known pixels (plus a small pull of z
    towards the prior). A conditional generator is given ``label``, or, when it is None, searched with every
    label (``n_starts`` each), so the visible part also decides which digit it is. Returns the completions
    (known pixels pasted back, in [0, 1]), their losses and labels, sorted best first. A generator computing
    in 16 bits is searched through its float32 copy (:func:`float32_generator`): its gradients stay nonzero.
    """
    generator = float32_generator(generator)
    image = np.asarray(image01, dtype="float32")
    known = np.asarray(mask, dtype="float32")
    if image.shape != (28, 28) or known.shape != (28, 28):
        raise CourseError(f"image and mask must both be 28x28, got {image.shape} and {known.shape}.")
    if not 0 < known.sum() < known.size:
        raise CourseError("the mask must keep some pixels and hide some (1 = known, 0 = to fill in).")
    conditional = len(generator.inputs) > 1
    if label is not None and (isinstance(label, bool) or not isinstance(label, (int, np.integer))
                              or not 0 <= int(label) < NUM_CLASSES):
        raise CourseError(f"label must be a digit 0-9 (or None to try them all), got {label!r}.")
    if conditional:
        labels_np = np.full(n_starts, int(label)) if label is not None else np.repeat(np.arange(NUM_CLASSES), n_starts)
    else:
        labels_np = np.full(n_starts, -1)
    out = _fit_latents(generator, np.repeat(image[None], len(labels_np), axis=0), known, labels_np, steps,
                       learning_rate, seed)
    losses = np.sum(known[None] * (out - (image[None] * 2 - 1)) ** 2, axis=(1, 2)) / known.sum()
    filled = known * image + (1 - known) * to_judge_range(out)[..., 0]
    order = np.argsort(losses, kind="stable")
    return filled[order], losses[order], labels_np[order]


def complete_images(generator: "keras.Model", images01: np.ndarray, mask: np.ndarray, labels: Sequence[int],
                    n_starts: int = 8, steps: int = 200, learning_rate: float = 0.05, seed: int = 0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`complete_image` for several digits at once (one search, ``n_starts`` latent vectors per digit).

    ``images01``: (N, 28, 28) in [0, 1]; ``labels``: each digit's label (a conditional generator) or None.
    Returns the completions (N, n_starts, 28, 28), known pixels pasted back, and their losses on the known pixels
    (N, n_starts), each digit's fits sorted best first. Like :func:`complete_image`, it searches through the
    generator's float32 copy.
    """
    generator = float32_generator(generator)
    images = np.asarray(images01, dtype="float32")
    known = np.asarray(mask, dtype="float32")
    if images.ndim != 3 or images.shape[1:] != (28, 28) or known.shape != (28, 28):
        raise CourseError(f"need images (N, 28, 28) and a 28x28 mask, got {images.shape} and {known.shape}.")
    if not 0 < known.sum() < known.size:
        raise CourseError("the mask must keep some pixels and hide some (1 = known, 0 = to fill in).")
    conditional = len(generator.inputs) > 1
    if conditional and (labels is None or len(labels) != len(images)):
        raise CourseError("a conditional generator needs one label per image.")
    labels_np = np.repeat(np.asarray(labels if conditional else np.full(len(images), -1), dtype=int), n_starts)
    targets = np.repeat(images, n_starts, axis=0)
    out = _fit_latents(generator, targets, known, labels_np, steps, learning_rate, seed)
    losses = (np.sum(known[None] * (out - (targets * 2 - 1)) ** 2, axis=(1, 2)) / known.sum()).reshape(-1, n_starts)
    filled = (known * targets + (1 - known) * to_judge_range(out)[..., 0]).reshape(len(images), n_starts, 28, 28)
    order = np.argsort(losses, axis=1, kind="stable")
    return np.take_along_axis(filled, order[..., None, None], axis=1), np.take_along_axis(losses, order, axis=1)


def _fit_latents(generator: "keras.Model", targets01: np.ndarray, known: np.ndarray, labels_np: np.ndarray,
                 steps: int, learning_rate: float, seed: int) -> np.ndarray:
    """Adam on one latent vector per target: squared error on the known pixels plus a small pull towards the prior.

    Returns the generator's images for the final vectors, (M, 28, 28) in [-1, 1].
    """
    conditional = len(generator.inputs) > 1
    latent_dim = int(generator.inputs[0].shape[-1])
    z = tf.Variable(np.random.default_rng(seed).standard_normal((len(targets01), latent_dim)).astype("float32"))
    labels = tf.constant(labels_np.astype("int32"))
    target = tf.constant(np.asarray(targets01, dtype="float32")[..., None] * 2 - 1)
    weight = tf.constant(np.asarray(known, dtype="float32")[None, ..., None])
    optimizer = keras.optimizers.Adam(learning_rate)

    def draw():
        return generator([z, labels] if conditional else z, training=False)

    @tf.function(autograph=False)  # no Python control flow to convert; one search per call
    def step():
        with tf.GradientTape() as tape:
            per_image = tf.reduce_sum(weight * (draw() - target) ** 2, axis=[1, 2, 3]) / tf.reduce_sum(weight)
            loss = tf.reduce_sum(per_image) + 1e-3 * tf.reduce_sum(z ** 2) / latent_dim
        optimizer.apply_gradients([(tape.gradient(loss, z), z)])

    for _ in range(int(steps)):
        step()
    return np.asarray(draw())[..., 0]


# ----------------------------------------------------------------------------------------------
# Training: players, data pipeline, snapshots of a fixed-noise grid, the whole recipe


def build_gan(recipe: dict[str, Any], precision: str = "float32", seed: int = env.DEFAULT_SEED,
              model_class: type | None = None) -> "keras.Model":
    """Both players and the compiled GAN for ``recipe`` (one of :data:`RECIPES`), layers in ``precision``.

    ``model_class``: the class that plays the game (default :class:`GAN`; notebook 10 passes the one its cell
    defines, so a learner's edit is what trains).
    """
    previous = keras.mixed_precision.global_policy().name
    env.set_precision(precision)
    try:
        generator = build_generator(recipe["latent_dim"], recipe["width"], recipe["conditional"], recipe["upsample"])
        discriminator = build_discriminator(recipe["width"], recipe["conditional"])
    finally:
        env.set_precision(previous)
    model = (model_class or GAN)(generator, discriminator, recipe["latent_dim"], conditional=recipe["conditional"],
                                 loss=recipe["loss"], seed=seed)
    model.compile(d_optimizer=keras.optimizers.Adam(recipe["d_lr"], beta_1=recipe["beta_1"]),
                  g_optimizer=keras.optimizers.Adam(recipe["g_lr"], beta_1=recipe["beta_1"]))
    return model


def time_steps(recipe: dict[str, Any], x: np.ndarray, y: np.ndarray | None, precision: str = "float32",
               steps: int = 20, warmup: int = 5, model_class: type | None = None) -> float:
    """Milliseconds per training step (one D and one G update) of a fresh GAN for ``recipe``, on this machine.

    ``warmup`` steps first (they trace the graph), then ``steps`` timed ones; the players are thrown away.
    """
    if int(steps) < 1 or int(warmup) < 1:
        raise CourseError(f"steps and warmup must be >= 1, got {steps!r} and {warmup!r}.")
    model = build_gan(recipe, precision, model_class=model_class)
    stream = dataset(x, y if recipe["conditional"] else None, recipe["batch_size"])
    model.fit(stream, steps_per_epoch=int(warmup), epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(stream, steps_per_epoch=int(steps), epochs=1, verbose=0, shuffle=False)
    return 1000 * (time.perf_counter() - start) / int(steps)


def dataset(x: np.ndarray, y: np.ndarray | None, batch_size: int, seed: int = env.DEFAULT_SEED):
    """An endless, shuffled ``tf.data`` stream of (images in [-1, 1], labels) batches (or images alone)."""

    images = to_gan_range(x) if np.asarray(x).dtype == np.uint8 else np.asarray(x, dtype="float32")
    parts = images if y is None else (images, np.asarray(y, dtype="int32"))
    return (tf.data.Dataset.from_tensor_slices(parts).shuffle(len(images), seed=seed).repeat()
            .batch(batch_size, drop_remainder=True).prefetch(2))


def grid_inputs(latent_dim: int, per_class: int = 2, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Fixed noise and labels for the progress grid: ``per_class`` rows of the digits 0-9."""
    labels = np.tile(np.arange(NUM_CLASSES), per_class)
    z = np.random.default_rng(seed).standard_normal((len(labels), latent_dim)).astype("float32")
    return z, labels


def snapshot_callback(generator: "keras.Model", every: int, per_class: int = 2, log: bool = True,
                      keep_weights_at: int | None = None):
    """A Keras callback: every ``every`` steps (one "epoch" of ``fit``), draw the same noise through the generator.

    It keeps ``.frames`` (uint8, (snapshots, rows*28, 10*28)), ``.steps``, ``.seconds`` (training time so far)
    and ``.logs`` (the players' mean losses over each stretch), and prints one line per snapshot if ``log``.
    With ``keep_weights_at`` (a step count), ``.kept_weights`` holds a copy of the generator's weights at that step
    (to judge the generator part-way, against another run of that many steps).
    """

    z, labels = grid_inputs(int(generator.inputs[0].shape[-1]), per_class)
    conditional = len(generator.inputs) > 1

    class Snapshots(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.frames, self.steps, self.seconds, self.logs = [], [], [], []
            self.kept_weights: list[np.ndarray] | None = None
            self._elapsed = 0.0
            self._start = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self._elapsed += time.perf_counter() - self._start
            images = generate(generator, len(labels), labels if conditional else None, latent=z)
            self.frames.append(tile(to_judge_range(images)[..., 0], ncols=NUM_CLASSES))
            self.steps.append((epoch + 1) * every)
            if keep_weights_at is not None and self.steps[-1] == int(keep_weights_at):
                self.kept_weights = [np.array(w) for w in generator.get_weights()]
            self.seconds.append(round(self._elapsed, 1))
            self.logs.append({k: round(float(v), 4) for k, v in (logs or {}).items()})
            if log:
                losses = ", ".join(f"{k} {float(v):.3f}" for k, v in (logs or {}).items())
                print(f"step {self.steps[-1]:>5}  {self._elapsed:6.1f} s  {losses}", flush=True)

    return Snapshots()


def tile(images01: np.ndarray, ncols: int) -> np.ndarray:
    """Images (N, H, W) in [0, 1] -> one uint8 picture with ``ncols`` images per row."""
    x = np.asarray(images01)
    n, h, w = x.shape
    rows = -(-n // ncols)
    canvas = np.zeros((rows * h, ncols * w), dtype=np.uint8)
    for k in range(n):
        r, c = divmod(k, ncols)
        canvas[r * h:(r + 1) * h, c * w:(c + 1) * w] = np.round(np.clip(x[k], 0, 1) * 255).astype(np.uint8)
    return canvas


def save_gif(frames: Sequence[np.ndarray], path, scale: int = 2, ms_per_frame: int = 200) -> int:
    """Save uint8 frames as an animated GIF (Pillow), each pixel ``scale`` x ``scale``; returns the file size."""
    from PIL import Image

    if not len(frames):
        raise CourseError("no frames to save.")
    pictures = [Image.fromarray(np.asarray(f, dtype=np.uint8)).resize(
        (f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST) for f in frames]
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=ms_per_frame,
                     loop=0, optimize=True)
    return int(path.stat().st_size) if hasattr(path, "stat") else 0


def train_gan(recipe: dict[str, Any], x: np.ndarray, y: np.ndarray | None, precision: str = "float32",
              callbacks: Sequence[Any] = (), seed: int = env.DEFAULT_SEED, log: bool = True,
              model_class: type | None = None) -> tuple["keras.Model", Any, float]:
    """Train ``recipe`` on images ``x`` (uint8) and labels ``y``: returns the GAN, the snapshot callback and seconds.

    ``fit`` runs ``steps / snapshot_every`` "epochs" of ``snapshot_every`` steps each on an endless stream.
    """
    steps, every = int(recipe["steps"]), int(recipe["snapshot_every"])
    if steps < every or steps % every:
        raise CourseError(f"steps ({steps}) must be a multiple of snapshot_every ({every}).")
    model = build_gan(recipe, precision, seed, model_class=model_class)
    snaps = snapshot_callback(model.generator, every, log=log)
    start = time.perf_counter()
    model.fit(dataset(x, y if recipe["conditional"] else None, recipe["batch_size"], seed),
              steps_per_epoch=every, epochs=steps // every, verbose=0, shuffle=False,
              callbacks=[snaps, *callbacks])
    return model, snaps, time.perf_counter() - start


def cache_recipe(recipe: dict[str, Any], precision: str, x: np.ndarray, y: np.ndarray | None) -> dict[str, Any]:
    """What the trained generator's cache key depends on: the recipe, the precision and the data."""
    from utils import cache

    return {"recipe": recipe, "precision": precision, "data": cache.fingerprint(x, y if y is not None else []),
            "version": 2}


def float32_generator(generator: "keras.Model") -> "keras.Model":
    """The generator computing in float32 (sampling, latent walks and completion want full precision)."""
    from utils.models import as_float32

    return as_float32(generator)


# ----------------------------------------------------------------------------------------------
# Benchmark: python -m utils.gan


def results_file():
    """Where the GAN benchmark lines go (outside git)."""
    return env.cache_dir("bench") / "gan_results.jsonl"


def run_benchmark(recipe_key: str | None = None, steps: int | None = None, n_samples: int = 1000,
                  precision: str | None = None, verbose: bool = True) -> dict[str, Any]:
    """Train a recipe on full-mode MNIST, judge 1,000 samples with notebook 04's CNN, append one JSON line."""
    course = env.setup(verbose=False)

    from utils.data import load_mnist
    from utils.models import load_or_train_mnist_cnn

    key = recipe_key or recipe_name(course.device, fast=False, notebook=False)
    recipe = dict(RECIPES[key])
    if steps is not None:
        recipe["steps"] = int(steps) - int(steps) % recipe["snapshot_every"] or recipe["snapshot_every"]
    policy = precision or env.choose_precision(course.device)
    data = load_mnist(fast=False, verbose=False)
    judge = load_or_train_mnist_cnn(fast=False, verbose=verbose)
    model, snaps, seconds = train_gan(recipe, data.x_train, data.y_train, policy, log=verbose)
    generator = float32_generator(model.generator)
    reference = real_reference(judge, data.x_test, n_samples)
    images = generate(generator, n_samples, balanced_labels(n_samples) if recipe["conditional"] else None, seed=1)
    labels = balanced_labels(n_samples) if recipe["conditional"] else None
    report = judge_report(judge, to_judge_range(images), reference.features, reference.floor, labels=labels)
    record = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "recipe": key, "steps": recipe["steps"], "batch_size": recipe["batch_size"],
        "seconds": round(seconds, 1), "ms_per_step": round(1000 * seconds / recipe["steps"], 1),
        "images_per_second": round(recipe["steps"] * recipe["batch_size"] / seconds, 1),
        "generator_parameters": int(model.generator.count_params()),
        "discriminator_parameters": int(model.discriminator.count_params()),
        "n_samples": n_samples,
        "confident_share": round(report.confident_share, 4),
        "smallest_class_share": round(report.smallest_class_share, 4),
        "asked_for_share": None if report.asked_for_mean is None else round(report.asked_for_mean, 4),
        "class_shares": report.class_shares,
        "frechet": round(report.frechet, 3), "frechet_floor": round(report.frechet_floor, 3),
        "frechet_ratio": round(report.frechet_ratio, 2),
        "target": {"confident_share": TARGET_CONFIDENT, "smallest_class_share": MIN_CLASS_SHARE,
                   "frechet_ratio": TARGET_FRECHET_RATIO, "seconds": 600},
        "meets_target": bool(report.meets_target and seconds < 600),
        "precision": policy, "device": course.device, "cpu": platform.processor() or platform.machine(),
        "data_source": data.source, "n_train": int(len(data.y_train)),
        "tensorflow": tf.__version__, "keras": keras.__version__,
        "final_losses": snaps.logs[-1] if snaps.logs else {},
    }
    with open(results_file(), "a") as out:
        out.write(json.dumps(record) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.gan",
                                     description="Train the GAN recipe in full mode and record one benchmark line.")
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=None, help="default: full (CPU) or gpu")
    parser.add_argument("--steps", type=int, default=None, help="override the recipe's number of steps")
    parser.add_argument("--precision", default=None, help="float32, mixed_bfloat16 or mixed_float16")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    record = run_benchmark(args.recipe, args.steps, precision=args.precision)
    print(json.dumps(record))
    return 0



# >>> generated from notebooks/10_gans.ipynb by `make export`: edit the notebook, not this block
def discriminator_loss(real_logits, fake_logits):
    """D's loss: -log D(x) on real images plus -log(1 - D(G(z))) on fakes, with D = sigmoid(logit)."""
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(ops.softplus(fake_logits))


def saturating_generator_loss(fake_logits):
    """G's term of the minimax game as written: G minimises log(1 - D(G(z)))."""
    return -ops.mean(ops.softplus(fake_logits))


def nonsaturating_generator_loss(fake_logits):
    """Goodfellow et al.'s fix: G minimises -log D(G(z)) (the same goal, but steep where G is losing)."""
    return ops.mean(ops.softplus(-fake_logits))


GENERATOR_LOSSES = {"nonsaturating": nonsaturating_generator_loss, "saturating": saturating_generator_loss}


class GAN(keras.Model):
    """A generator and a discriminator; ``fit(x)`` or ``fit(x, labels)`` plays one round of the game per batch.

    ``loss``: the generator's loss, "nonsaturating" or "saturating" (see GENERATOR_LOSSES). ``conditional``: both
    players also take the digit's label. The tapes make this TensorFlow-backend code.
    """

    def __init__(self, generator, discriminator, latent_dim, conditional=True, loss="nonsaturating",
                 num_classes=10, seed=env.DEFAULT_SEED, **kwargs):
        super().__init__(**kwargs)
        if loss not in GENERATOR_LOSSES:
            raise CourseError(f"loss must be one of {sorted(GENERATOR_LOSSES)}, got {loss!r}.")
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.conditional, self.num_classes = int(latent_dim), bool(conditional), int(num_classes)
        self.loss_name, self.generator_loss = loss, GENERATOR_LOSSES[loss]
        self.seed_generator = keras.random.SeedGenerator(seed)  # every random draw below comes from it
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss", "d_real", "d_fake")}

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(**kwargs)
        if "mixed_float16" in (self.generator.dtype_policy.name, self.discriminator.dtype_policy.name):
            # float16 gradients underflow to 0: scale each loss up, as Keras' compile does for its one optimizer
            d_optimizer, g_optimizer = (opt if isinstance(opt, keras.optimizers.LossScaleOptimizer)
                                        else keras.optimizers.LossScaleOptimizer(opt)
                                        for opt in (d_optimizer, g_optimizer))
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def with_labels(self, x, labels):
        """What a player takes: images (or z) alone, or with their labels when the game is conditional."""
        return [x, labels] if self.conditional else x

    def train_step(self, data):
        if self.conditional:
            real, labels = data[0], ops.cast(data[1], "int32")
        else:
            real, labels = (data[0] if isinstance(data, (tuple, list)) else data), None
        batch = tf.shape(real)[0]

        # 1. D learns to tell this batch of real images from fresh fakes (G only draws here).
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(self.with_labels(z, labels), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(self.with_labels(real, labels), training=True)
            fake_logits = self.discriminator(self.with_labels(fake, labels), training=True)
            d_loss = discriminator_loss(real_logits, fake_logits)
            scaled = self.d_optimizer.scale_loss(d_loss)  # times the loss scale under float16, else unchanged
        grads = tape.gradient(scaled, self.discriminator.trainable_weights)  # apply_gradients unscales them
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        # 2. G learns to make the updated D say "real": new noise and, if conditional, random labels.
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        if self.conditional:
            labels = keras.random.randint((batch,), 0, self.num_classes, seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake = self.generator(self.with_labels(z, labels), training=True)
            fake_logits = self.discriminator(self.with_labels(fake, labels), training=True)
            g_loss = self.generator_loss(fake_logits)
            scaled = self.g_optimizer.scale_loss(g_loss)
        grads = tape.gradient(scaled, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        for name, value in (("d_loss", d_loss), ("g_loss", g_loss), ("d_real", ops.mean(ops.sigmoid(real_logits))),
                            ("d_fake", ops.mean(ops.sigmoid(fake_logits)))):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
# <<< generated from notebooks/10_gans.ipynb


# The benchmark runs after the generated block, so GAN is defined.
if __name__ == "__main__":
    raise SystemExit(main())
