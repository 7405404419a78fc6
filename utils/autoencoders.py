"""Autoencoders for notebook 09 (and the VAE that notebook 10 compares its GAN with).

The lesson code is written in notebook 09 and copied here by ``make export`` (the generated block at the end of
this file: edit the notebook, not the block):

- ``Sampling``: the reparameterisation trick, ``z = mean + exp(log_var / 2) * eps``, with ``eps`` drawn by
  ``keras.random.normal`` from a ``SeedGenerator`` made in ``__init__``.
- ``reconstruction_loss`` (binary cross-entropy summed over the pixels: minus the log-likelihood of a Bernoulli
  decoder) and ``kl_loss`` (the KL divergence to a standard normal, in closed form), per image.
- ``VAE``: an encoder (image -> ``z_mean, z_log_var, z``) and a decoder (``z`` -> image), trained on
  reconstruction + ``beta`` * KL (minus the ELBO when ``beta`` is 1) in its own ``train_step`` / ``test_step``
  (TensorFlow backend: the gradient comes from ``tf.GradientTape``). Calling the model reconstructs from ``z_mean``.

Written by hand around it (plumbing that calls it):

- :func:`build_vae` (dense, sized for a 2-core CPU), :func:`train_vae` and :func:`load_or_train_vae`: notebook
  09's MNIST VAE with a 2-D latent space, from the course's model cache (trained there on first use); notebook
  10 loads it. :func:`load_or_train_beta_vae`: the smaller runs of notebook 09's beta comparison, cached apart.
- :func:`kl_divergence` (NumPy, per example) and :func:`nmse` (normalised mean squared error).
- :func:`latent_grid` / :func:`plot_latent_grid`: decoded images on a grid over two latent coordinates
  (Goodfellow et al., *Deep Learning*, figure 20.6); :func:`show_rows`: rows of images with a label per row.

Importing this module imports Keras (the classes are defined at module level).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from utils import env
from utils.errors import CourseError
from utils.training import fit_in_memory

env.quiet_tensorflow()
import keras  # noqa: E402  (after quiet_tensorflow: no start-up chatter)
import tensorflow as tf  # noqa: E402  (the generated train_step records its gradient with tf.GradientTape)
from keras import ops  # noqa: E402

#: The cache name and training recipe of notebook 09's VAE (full mode; fast mode trains on fewer images).
VAE_NAME = "mnist_vae"
VAE_RECIPE: dict[str, Any] = {"latent_dim": 2, "hidden": 512, "batch_size": 128, "epochs": 25, "fast_epochs": 4,
                              "learning_rate": 1e-3, "seed": 9}

#: Notebook 09's beta comparison: the same VAE on fewer images and epochs, one run per beta (cached apart).
BETA_RUNS: dict[str, Any] = {"images": 20000, "epochs": 8, "fast_images": 2000, "fast_epochs": 3}


def _as_array(values: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise CourseError(f"{what} must be an array of numbers, got {type(values).__name__}.") from None
    return arr


def nmse(original: Any, reconstruction: Any) -> float:
    """Normalised mean squared error: sum((original - reconstruction)**2) / sum(original**2), as a fraction.

    Multiply by 100 for per cent (Cottrell et al. 1987 report 0.413%). Both arrays must have the same shape.
    """
    x = _as_array(original, "original")
    y = _as_array(reconstruction, "reconstruction")
    if x.shape != y.shape:
        raise CourseError(f"nmse needs two arrays of the same shape: original is {x.shape}, "
                          f"reconstruction is {y.shape}.")
    energy = float(np.sum(x ** 2))
    if x.size == 0 or energy == 0.0:
        raise CourseError("nmse divides by the original's energy sum(original**2): it must not be empty or all zero.")
    return float(np.sum((x - y) ** 2) / energy)


def kl_divergence(z_mean: Any, z_log_var: Any) -> np.ndarray:
    """KL(N(mean, exp(log_var)) || N(0, I)) per example: 0.5 * sum(mean**2 + var - 1 - log_var) over the last axis.

    The NumPy twin of the generated ``kl_loss`` (a test checks that they agree)."""
    mean = _as_array(z_mean, "z_mean")
    log_var = _as_array(z_log_var, "z_log_var")
    if mean.shape != log_var.shape:
        raise CourseError(f"z_mean and z_log_var must have the same shape, got {mean.shape} and {log_var.shape}.")
    return 0.5 * np.sum(mean ** 2 + np.exp(log_var) - 1.0 - log_var, axis=-1)


def build_vae(latent_dim: int = 2, hidden: int = 512, seed: int = 0, image_shape: tuple[int, ...] = (28, 28, 1),
              beta: float = 1.0) -> "keras.Model":
    """A dense VAE: image -> Dense(hidden) -> (z_mean, z_log_var) -> z -> Dense(hidden) -> sigmoid image."""
    from keras import layers

    size = int(np.prod(image_shape))
    inputs = keras.Input(image_shape)
    h = layers.Dense(hidden, activation="relu")(layers.Flatten()(inputs))
    z_mean = layers.Dense(latent_dim, name="z_mean", dtype="float32")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var", dtype="float32")(h)
    z = Sampling(seed=seed, name="z")([z_mean, z_log_var])
    encoder = keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")
    latent = keras.Input((latent_dim,))
    h = layers.Dense(hidden, activation="relu")(latent)
    out = layers.Reshape(image_shape)(layers.Dense(size, activation="sigmoid", dtype="float32")(h))
    decoder = keras.Model(latent, out, name="decoder")
    return VAE(encoder, decoder, beta=beta, name="vae")


def to_unit(images: Any) -> np.ndarray:
    """uint8 images (N, 28, 28) or (N, 28, 28, 1) -> float32 (N, 28, 28, 1) in [0, 1]."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise CourseError(f"expected images of shape (N, height, width) or (N, height, width, 1), got {x.shape}.")
    x = x.astype("float32")
    return x / 255.0 if x.max(initial=0) > 1.0 else x


def train_vae(x_train: Any, x_val: Any | None = None, recipe: dict[str, Any] | None = None,
              fast: bool | None = None, verbose: int = 0) -> tuple["keras.Model", dict[str, Any]]:
    """Train :func:`build_vae` on images with ``recipe`` (default :data:`VAE_RECIPE`); returns (model, info).

    ``recipe`` may also hold ``beta`` (default 1). It trains through :func:`utils.training.fit_in_memory`
    (``model.fit``'s training, one data pipeline for the run); with ``x_val``, the history also holds
    ``val_loss``, ``val_reconstruction`` and ``val_kl``."""
    recipe = dict(VAE_RECIPE if recipe is None else recipe)
    fast = env.is_fast() if fast is None else fast
    beta = float(recipe.get("beta", 1.0))
    keras.utils.set_random_seed(recipe["seed"])
    model = build_vae(recipe["latent_dim"], recipe["hidden"], seed=recipe["seed"], beta=beta)
    model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"]))
    x = to_unit(x_train)
    val = None if x_val is None else (to_unit(x_val),)
    epochs = recipe["fast_epochs"] if fast else recipe["epochs"]
    history = fit_in_memory(model, x, None, epochs=epochs, batch_size=recipe["batch_size"], validation_data=val,
                            validation_batch_size=512, verbose=verbose)
    trained = model
    model = build_vae(recipe["latent_dim"], recipe["hidden"], seed=recipe["seed"], beta=beta)  # uncompiled: saved
    model.set_weights(trained.get_weights())  # without an optimizer, so loading it later warns about nothing
    info = {"epochs": epochs, "history": {k: [round(float(v), 3) for v in vals]
                                          for k, vals in history.history.items()}}
    return model, info


def _mnist_split(fast: bool) -> tuple[np.ndarray, np.ndarray]:
    from utils.data import load_mnist
    from utils.models import split_validation

    (x_train, y_train), _ = load_mnist(fast=fast, verbose=False)
    (x_fit, _), (x_val, _) = split_validation(x_train, y_train)
    return x_fit, x_val


def load_or_train_vae(fast: bool | None = None, verbose: bool = True, retrain: bool = False) -> "keras.Model":
    """Notebook 09's MNIST VAE (2-D latent space), loaded from the course cache or trained (and cached) first.

    It trains on the training images minus the last 5,000 (kept for validation, as ``models.split_validation``
    does); its ``.encoder`` maps images to ``(z_mean, z_log_var, z)`` and its ``.decoder`` maps ``z`` to images.
    The training history (loss, reconstruction and KL per epoch, on training and validation images) is in
    ``model.course_cache.info["history"]``.
    """
    from utils import cache

    fast = env.is_fast() if fast is None else fast
    x_fit, x_val = _mnist_split(fast)
    recipe = {"vae": VAE_RECIPE, "data": cache.fingerprint(x_fit), "version": 1, "feed": "in_memory"}
    return cache.load_or_train(VAE_NAME, recipe, lambda: train_vae(x_fit, x_val, fast=fast), fast=fast,
                               what="the MNIST VAE (2-D latent space)", retrain=retrain, verbose=verbose)


def load_or_train_beta_vae(beta: float, fast: bool | None = None, verbose: bool = True) -> "keras.Model":
    """The VAE of :data:`VAE_RECIPE` trained with loss reconstruction + ``beta`` * KL on :data:`BETA_RUNS`' budget.

    Every beta gets the same images (the first ``BETA_RUNS["images"]`` training images), epochs and seed, so the
    runs differ in beta only; each is cached under its own name (``mnist_vae_beta<beta>``), apart from
    :func:`load_or_train_vae`'s. The history is in ``model.course_cache.info["history"]``.
    """
    from utils import cache

    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise CourseError(f"beta must be a number (0 or more), got {beta!r}.") from None
    if not np.isfinite(beta) or beta < 0:
        raise CourseError(f"beta must be a number of 0 or more, got {beta}.")
    fast = env.is_fast() if fast is None else fast
    x_fit, x_val = _mnist_split(fast)
    n = BETA_RUNS["fast_images"] if fast else BETA_RUNS["images"]
    epochs = BETA_RUNS["fast_epochs"] if fast else BETA_RUNS["epochs"]
    recipe = dict(VAE_RECIPE, beta=beta, epochs=epochs, fast_epochs=epochs)
    key = {"vae": recipe, "data": cache.fingerprint(x_fit[:n]), "val": cache.fingerprint(x_val), "version": 1}
    return cache.load_or_train(f"mnist_vae_beta{beta:g}", key, lambda: train_vae(x_fit[:n], x_val, recipe, fast),
                               fast=fast, what=f"the beta = {beta:g} VAE ({n:,} images, {epochs} epochs)",
                               verbose=verbose)


def _decoder_function(decode: Any) -> Callable[[np.ndarray], np.ndarray]:
    if hasattr(decode, "predict"):
        return lambda z: decode.predict(z, verbose=0, batch_size=256)
    if not callable(decode):
        raise CourseError(f"decode must be a decoder model or a function from latent points to images, "
                          f"got {type(decode).__name__}.")
    return decode


def latent_grid(decode: Any, n: int = 15, span: float = 2.5, dims: tuple[int, int] = (0, 1),
                latent_dim: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Decode an ``n`` x ``n`` grid over latent coordinates ``dims`` from -span to span (other coordinates 0).

    ``decode`` is a decoder model or a function (N, latent_dim) -> images (N, H, W) or (N, H, W, 1).
    Returns ``(images, values)``: images (n, n, H, W), row 0 at the top (largest second coordinate), and the
    ``n`` coordinate values along each axis.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise CourseError(f"n is the number of images per side of the grid: a whole number of at least 2, got {n!r}.")
    if len(dims) != 2 or not all(0 <= d < latent_dim for d in dims) or dims[0] == dims[1]:
        raise CourseError(f"dims must be two different latent coordinates between 0 and {latent_dim - 1}, got {dims}.")
    values = np.linspace(-span, span, n)
    z = np.zeros((n, n, latent_dim), dtype="float32")
    z[..., dims[0]] = values[None, :]
    z[..., dims[1]] = values[::-1, None]
    images = np.asarray(_decoder_function(decode)(z.reshape(-1, latent_dim)))
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3 or len(images) != n * n:
        raise CourseError(f"the decoder should turn {n * n} latent points into {n * n} grayscale images "
                          f"(N, height, width), but it returned an array of shape {images.shape}.")
    return images.reshape(n, n, *images.shape[1:]), values


def plot_latent_grid(decode: Any, n: int = 15, span: float = 2.5, dims: tuple[int, int] = (0, 1),
                     latent_dim: int = 2, title: str | None = None, size: float = 8.0) -> np.ndarray:
    """Show :func:`latent_grid` as one picture (white ink on black, as every digit in the course), latent
    coordinates on the axes; return the decoded images."""
    import matplotlib.pyplot as plt

    images, values = latent_grid(decode, n, span, dims, latent_dim)
    h, w = images.shape[2:4]
    tiled = images.transpose(0, 2, 1, 3).reshape(n * h, n * w)
    half = (values[1] - values[0]) / 2
    fig, ax = plt.subplots(figsize=(size, size), layout="constrained")
    ax.imshow(tiled, cmap="gray", vmin=0, vmax=1, extent=(-span - half, span + half, -span - half, span + half))
    ax.set_xlabel(f"latent coordinate z{dims[0] + 1}")
    ax.set_ylabel(f"latent coordinate z{dims[1] + 1}")
    ax.set_title(title or f"Decoded images on a {n} x {n} grid of latent points")
    plt.show()
    plt.close(fig)
    return images


def show_rows(rows: Sequence[Sequence[Any]], labels: Sequence[str], titles: Sequence[Sequence[str]] | None = None,
              size: float = 1.25, suptitle: str | None = None) -> None:
    """Rows of grayscale images in [0, 1] (white ink on black), each row named once by its label on the left.

    ``titles`` (optional) gives one short title per image, row by row (for instance what a judge reads)."""
    import matplotlib.pyplot as plt

    rows = [[np.asarray(image, dtype="float32").squeeze() for image in row] for row in rows]
    if not rows or len(labels) != len(rows):
        raise CourseError(f"show_rows needs one label per row: got {len(rows)} rows and {len(labels)} labels.")
    if titles is not None and [len(t) for t in titles] != [len(r) for r in rows]:
        raise CourseError("show_rows: give one title per image, row by row (or no titles).")
    ncols = max(len(row) for row in rows)
    size = min(size, 8.5 / ncols)
    fig, axes = plt.subplots(len(rows), ncols, squeeze=False, layout="constrained",
                             figsize=(1.5 + size * ncols, (size + (0.3 if titles else 0)) * len(rows)
                                      + (0.5 if suptitle else 0)))
    for r, row in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([]), ax.set_yticks([])
            if c >= len(row):
                ax.axis("off")
                continue
            ax.imshow(row[c], cmap="gray", vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(titles[r][c], fontsize=11)
        axes[r][0].set_ylabel(labels[r], rotation=0, ha="right", va="center", fontsize=13)
    if suptitle:
        fig.suptitle(suptitle)
    plt.show()
    plt.close(fig)


# >>> generated from notebooks/09_autoencoders.ipynb by `make export`: edit the notebook, not this block
@keras.saving.register_keras_serializable(package="course_autoencoders")
class Sampling(keras.layers.Layer):
    """[z_mean, z_log_var] -> z = z_mean + exp(z_log_var / 2) * eps, with eps drawn from a standard normal."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)   # Keras 3: a layer's random draws need their own

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps   # exp(log_var / 2) is the standard deviation

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def reconstruction_loss(images, decoded):
    """-log p(x | z) per image for a Bernoulli decoder: the binary cross-entropy SUMMED over the pixels."""
    decoded = ops.clip(decoded, 1e-7, 1 - 1e-7)   # log(0) would be -infinity
    bce = -(images * ops.log(decoded) + (1 - images) * ops.log(1 - decoded))
    return ops.sum(ops.reshape(bce, (ops.shape(bce)[0], -1)), axis=1)


def kl_loss(z_mean, z_log_var):
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) per image, in closed form, summed over the latent coordinates."""
    return 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var, axis=1)


@keras.saving.register_keras_serializable(package="course_autoencoders")
class VAE(keras.Model):
    """Encoder (image -> z_mean, z_log_var, z) and decoder (z -> image), trained on reconstruction + beta * KL."""

    def __init__(self, encoder, decoder, beta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.beta = encoder, decoder, float(beta)
        self.built = True   # the encoder and decoder are built models
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl")}

    @property
    def metrics(self):   # what fit() prints and resets every epoch
        return list(self.trackers.values())

    def call(self, inputs, training=False):   # reconstruct from z_mean: no noise
        z_mean, _, _ = self.encoder(inputs, training=training)
        return self.decoder(z_mean, training=training)

    def losses_for(self, images, training=False):
        """(loss, reconstruction, KL), each a mean over the batch: loss = reconstruction + beta * KL."""
        z_mean, z_log_var, z = self.encoder(images, training=training)
        decoded = ops.cast(self.decoder(z, training=training), "float32")
        images = ops.cast(ops.reshape(images, ops.shape(decoded)), "float32")
        reconstruction = ops.mean(reconstruction_loss(images, decoded))
        kl = ops.mean(kl_loss(ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")))
        return reconstruction + self.beta * kl, reconstruction, kl

    def train_step(self, data):   # TensorFlow backend: tf.GradientTape records the forward pass
        images = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            values = self.losses_for(images, training=True)
            scaled = self.optimizer.scale_loss(values[0])   # float16 training scales the loss; float32: unchanged
        grads = tape.gradient(scaled, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._record(values)

    def test_step(self, data):   # evaluate() and the validation in fit(): the same three numbers, no update
        images = data[0] if isinstance(data, (tuple, list)) else data
        return self._record(self.losses_for(images))

    def _record(self, values):
        for tracker, value in zip(self.trackers.values(), values):
            tracker.update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def get_config(self):   # saving: the two sub-models go in the config
        return {**super().get_config(), "beta": self.beta,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)
# <<< generated from notebooks/09_autoencoders.ipynb
