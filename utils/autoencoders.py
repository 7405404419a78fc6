"""Autoencoders for notebook 09 (and the VAE that notebook 10 compares its GAN with).

- :class:`Sampling`: the reparameterisation trick, ``z = mean + exp(log_var / 2) * eps``, with ``eps`` drawn by
  ``keras.random.normal`` from a ``SeedGenerator`` made in ``__init__``.
- :class:`VAE`: an encoder (image -> ``z_mean, z_log_var, z``) and a decoder (``z`` -> image) with the VAE loss
  (reconstruction + KL) in a custom ``train_step`` / ``test_step``; Keras 3's functional models take no
  ``add_loss``. Calling the model reconstructs from ``z_mean`` (no noise).
- :func:`build_vae` (dense, sized for a 2-core CPU) and :func:`load_or_train_vae`: notebook 09's MNIST VAE with a
  2-D latent space, from the course's model cache (trained there on first use).
- :func:`kl_divergence` (to a standard normal, per example) and :func:`nmse` (normalised mean squared error).
- :func:`latent_grid` / :func:`plot_latent_grid`: decoded images on a grid over two latent coordinates
  (Goodfellow et al., *Deep Learning*, figure 20.6), for a decoder model or any function of latent points.

TensorFlow/Keras is imported inside functions, so ``import utils.autoencoders`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from utils import env
from utils.errors import CourseError
from utils.training import fit_in_memory

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: The cache name and training recipe of notebook 09's VAE (full mode; fast mode trains on fewer images).
VAE_NAME = "mnist_vae"
VAE_RECIPE: dict[str, Any] = {"latent_dim": 2, "hidden": 512, "batch_size": 128, "epochs": 25, "fast_epochs": 4,
                              "learning_rate": 1e-3, "seed": 9}


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
    """KL(N(mean, exp(log_var)) || N(0, I)) per example: 0.5 * sum(mean**2 + var - 1 - log_var) over the last axis."""
    mean = _as_array(z_mean, "z_mean")
    log_var = _as_array(z_log_var, "z_log_var")
    if mean.shape != log_var.shape:
        raise CourseError(f"z_mean and z_log_var must have the same shape, got {mean.shape} and {log_var.shape}.")
    return 0.5 * np.sum(mean ** 2 + np.exp(log_var) - 1.0 - log_var, axis=-1)


def _keras():
    env.quiet_tensorflow()
    import keras

    return keras


def _layer_classes():
    """Define (once) and return the Keras classes; kept in a function so the module imports without TensorFlow."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    keras = _keras()
    import tensorflow as tf
    from keras import ops

    @keras.saving.register_keras_serializable(package="course_autoencoders")
    class Sampling(keras.layers.Layer):
        """``[z_mean, z_log_var]`` -> ``z_mean + exp(z_log_var / 2) * eps``, ``eps`` from a standard normal."""

        def __init__(self, seed: int | None = None, **kwargs):
            super().__init__(**kwargs)
            self.seed = seed
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * eps

        def compute_output_shape(self, input_shape):
            return input_shape[0]

        def get_config(self):
            return {**super().get_config(), "seed": self.seed}

    @keras.saving.register_keras_serializable(package="course_autoencoders")
    class VAE(keras.Model):
        """Encoder + decoder trained on reconstruction (binary cross-entropy summed over pixels) + beta * KL."""

        def __init__(self, encoder, decoder, beta: float = 1.0, **kwargs):
            super().__init__(**kwargs)
            self.encoder, self.decoder, self.beta = encoder, decoder, float(beta)
            self.built = True  # the encoder and decoder are built models
            self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl")}

        @property
        def metrics(self):
            return list(self.trackers.values())

        def call(self, inputs, training=False):
            z_mean, _, _ = self.encoder(inputs, training=training)
            return self.decoder(z_mean, training=training)

        def losses_for(self, images, training=False):
            """The three losses (batch means) for a batch of images in [0, 1]."""
            z_mean, z_log_var, z = self.encoder(images, training=training)
            recon = ops.cast(self.decoder(z, training=training), "float32")
            images = ops.cast(ops.reshape(images, ops.shape(recon)), "float32")
            recon = ops.clip(recon, 1e-7, 1 - 1e-7)
            bce = -(images * ops.log(recon) + (1 - images) * ops.log(1 - recon))
            reconstruction = ops.mean(ops.sum(ops.reshape(bce, (ops.shape(bce)[0], -1)), axis=1))
            z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
            kl = ops.mean(0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var, axis=1))
            return reconstruction + self.beta * kl, reconstruction, kl

        def _record(self, values):
            for tracker, value in zip(self.trackers.values(), values):
                tracker.update_state(value)
            return {name: tracker.result() for name, tracker in self.trackers.items()}

        def train_step(self, data):
            images = data[0] if isinstance(data, (tuple, list)) else data
            with tf.GradientTape() as tape:
                values = self.losses_for(images, training=True)
                scaled = self.optimizer.scale_loss(values[0])  # as Keras' train_step: loss scaling under float16
            grads = tape.gradient(scaled, self.trainable_weights)  # apply_gradients unscales them
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            return self._record(values)

        def test_step(self, data):
            images = data[0] if isinstance(data, (tuple, list)) else data
            return self._record(self.losses_for(images))

        def get_config(self):
            return {**super().get_config(), "beta": self.beta,
                    "encoder": keras.saving.serialize_keras_object(self.encoder),
                    "decoder": keras.saving.serialize_keras_object(self.decoder)}

        @classmethod
        def from_config(cls, config):
            config = dict(config)
            encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
            decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
            return cls(encoder, decoder, **config)

    for cls in (Sampling, VAE):
        cls.__qualname__, cls.__module__ = cls.__name__, __name__
    _CLASSES = {"Sampling": Sampling, "VAE": VAE}
    return _CLASSES


_CLASSES: dict[str, type] | None = None


def __getattr__(name: str) -> Any:
    """``Sampling`` and ``VAE`` are made on first use, so that this module imports without Keras."""
    if name in ("Sampling", "VAE"):
        return _layer_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_vae(latent_dim: int = 2, hidden: int = 512, seed: int = 0, image_shape: tuple[int, ...] = (28, 28, 1),
              beta: float = 1.0) -> "keras.Model":
    """A dense VAE: image -> Dense(hidden) -> (z_mean, z_log_var) -> z -> Dense(hidden) -> sigmoid image."""
    keras = _keras()
    from keras import layers

    size = int(np.prod(image_shape))
    inputs = keras.Input(image_shape)
    h = layers.Dense(hidden, activation="relu")(layers.Flatten()(inputs))
    z_mean = layers.Dense(latent_dim, name="z_mean", dtype="float32")(h)
    z_log_var = layers.Dense(latent_dim, name="z_log_var", dtype="float32")(h)
    classes = _layer_classes()
    z = classes["Sampling"](seed=seed, name="z")([z_mean, z_log_var])
    encoder = keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")
    latent = keras.Input((latent_dim,))
    h = layers.Dense(hidden, activation="relu")(latent)
    out = layers.Reshape(image_shape)(layers.Dense(size, activation="sigmoid", dtype="float32")(h))
    decoder = keras.Model(latent, out, name="decoder")
    return classes["VAE"](encoder, decoder, beta=beta, name="vae")


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

    It trains through :func:`utils.training.fit_in_memory` (``model.fit``'s training, one data pipeline for the
    run); with ``x_val``, the history also holds ``val_loss``, ``val_reconstruction`` and ``val_kl``."""
    keras = _keras()
    recipe = dict(VAE_RECIPE if recipe is None else recipe)
    fast = env.is_fast() if fast is None else fast
    keras.utils.set_random_seed(recipe["seed"])
    model = build_vae(recipe["latent_dim"], recipe["hidden"], seed=recipe["seed"])
    model.compile(optimizer=keras.optimizers.Adam(recipe["learning_rate"]))
    x = to_unit(x_train)
    val = None if x_val is None else (to_unit(x_val),)
    epochs = recipe["fast_epochs"] if fast else recipe["epochs"]
    history = fit_in_memory(model, x, None, epochs=epochs, batch_size=recipe["batch_size"], validation_data=val,
                            validation_batch_size=512, verbose=verbose)
    trained = model
    model = build_vae(recipe["latent_dim"], recipe["hidden"], seed=recipe["seed"])  # uncompiled: saved without
    model.set_weights(trained.get_weights())  # an optimizer, so loading it later warns about nothing
    info = {"epochs": epochs, "history": {k: [round(float(v), 3) for v in vals]
                                          for k, vals in history.history.items()}}
    return model, info


def load_or_train_vae(fast: bool | None = None, verbose: bool = True, retrain: bool = False) -> "keras.Model":
    """Notebook 09's MNIST VAE (2-D latent space), loaded from the course cache or trained (and cached) first.

    It trains on the training images minus the last 5,000 (kept for validation, as ``models.split_validation``
    does); its ``.encoder`` maps images to ``(z_mean, z_log_var, z)`` and its ``.decoder`` maps ``z`` to images.
    """
    from utils import cache
    from utils.data import load_mnist
    from utils.models import split_validation

    fast = env.is_fast() if fast is None else fast
    (x_train, y_train), _ = load_mnist(fast=fast, verbose=False)
    (x_fit, _), (x_val, _) = split_validation(x_train, y_train)
    _layer_classes()  # registers the classes that loading needs
    recipe = {"vae": VAE_RECIPE, "data": cache.fingerprint(x_fit), "version": 1, "feed": "in_memory"}
    return cache.load_or_train(VAE_NAME, recipe, lambda: train_vae(x_fit, x_val, fast=fast), fast=fast,
                               what="the MNIST VAE (2-D latent space)", retrain=retrain, verbose=verbose)


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
    """Show :func:`latent_grid` as one picture, latent coordinates on the axes; return the decoded images."""
    import matplotlib.pyplot as plt

    images, values = latent_grid(decode, n, span, dims, latent_dim)
    h, w = images.shape[2:4]
    tiled = images.transpose(0, 2, 1, 3).reshape(n * h, n * w)
    half = (values[1] - values[0]) / 2
    fig, ax = plt.subplots(figsize=(size, size), layout="constrained")
    ax.imshow(tiled, cmap="gray_r", vmin=0, vmax=1, extent=(-span - half, span + half, -span - half, span + half))
    ax.set_xlabel(f"latent coordinate z{dims[0] + 1}")
    ax.set_ylabel(f"latent coordinate z{dims[1] + 1}")
    ax.set_title(title or f"Decoded images on a {n} x {n} grid of latent points")
    plt.show()
    plt.close(fig)
    return images
