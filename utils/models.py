"""The course's MNIST models: the seed CNN and its training recipe, a dense baseline, and a model cache.

Notebook 04 builds and trains the lecture notes' CNN in plain sight. Honest evaluation: every choice and every
learning curve uses a *validation split* held out from the training images (:func:`split_validation`, the last
:data:`VALIDATION_SIZE` of them); the test set is used once, at the end, on the final model. The final model is the
chosen recipe trained again on all training images. Later notebooks (what a CNN sees, transfer learning,
adversarial examples) need that final model without training it again, so :func:`load_or_train_mnist_cnn` keeps it
as a ``.keras`` file in ``env.cache_dir("models")``:

- the cache is keyed by what changes the model: the architecture and compile settings (Keras config), the data
  (source, sizes and a fingerprint of the arrays), the epochs and the batch size. The precision it trained in
  is recorded in the note next to the file but is not part of the key: bfloat16 and float32 training reach the
  same accuracy (``make bench``), and a cached model computes in float32 either way;
- a missing or stale file (different key) is trained again; a matching one is loaded;
- it prints which of the two it did.

The training precision per device lives in :func:`utils.env.choose_precision` (re-exported here); a model
trained in 16-bit precision comes back from the cache computing in float32 (:func:`as_float32`).

TensorFlow/Keras is imported inside the functions, so ``import utils.models`` stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from utils import env
from utils.env import choose_precision, set_precision  # noqa: F401  (kept here for older imports)

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from utils.data import MnistData

#: Epochs for the seed CNN: full mode aims at the notes' "99.24% after 10 epochs"; fast mode is a smoke run.
FULL_EPOCHS = 10
FAST_EPOCHS = 2
#: The batch size of the Keras example the notes quote.
BATCH_SIZE = 128
#: Adadelta's learning rate in the notes' recipe (Keras 3's default is 0.001, far too slow here).
ADADELTA_LR = 1.0
#: Adadelta's epsilon: 1e-6 as in the Adadelta paper (Zeiler, 2012) and early Keras; Keras 3's default is 1e-7,
#: which makes Adadelta's first steps about 3x smaller.
ADADELTA_EPSILON = 1e-6
KERAS3_ADADELTA_EPSILON = 1e-7
#: Keep an exponential moving average of the weights (Polyak averaging, Keras' ``use_ema``) over roughly the last
#: 1/(1-momentum) steps, and end training with those averaged, less noisy weights. Full mode: about 1,000 steps,
#: some 2 of its 10 epochs. Fast mode trains fewer than 100 steps, so its average must forget faster (about 20).
EMA_MOMENTUM = 0.999
FAST_EMA_MOMENTUM = 0.95
CACHE_NAME = "mnist_cnn"
#: Training images held out for validation (learning curves and every choice), the last ones of the training set:
#: 5,000 in full mode (as Keras' own MNIST examples and LeCun's 50,000/10,000 split do), 1,000 in fast mode.
VALIDATION_SIZE = 5000
FAST_VALIDATION_SIZE = 1000


# ----------------------------------------------------------------------------------------------
# Models


def seed_cnn(input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 10,
             name: str = "seed_cnn") -> "keras.Model":
    """The lecture notes' CNN, layer for layer (not compiled): 2 convolutions, pooling, dropout, dense."""
    env.quiet_tensorflow()
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=input_shape, name="image"),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu", name="conv1"),
        layers.Conv2D(64, (3, 3), activation="relu", name="conv2"),
        layers.MaxPooling2D(pool_size=(2, 2), name="pool"),
        layers.Dropout(0.25, name="dropout1"),
        layers.Flatten(name="flatten"),
        layers.Dense(128, activation="relu", name="dense"),
        layers.Dropout(0.5, name="dropout2"),
        # float32 output: under a mixed precision policy the softmax still sums to 1 accurately
        layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities"),
    ], name=name)


def dense_baseline(input_shape: tuple[int, int] = (28, 28), num_classes: int = 10, hidden: int = 128,
                   name: str = "dense_baseline") -> "keras.Model":
    """A plain dense network on the flattened pixels (not compiled): the baseline the CNN must beat."""
    env.quiet_tensorflow()
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input(shape=input_shape, name="image"),
        layers.Flatten(name="flatten"),
        layers.Dense(hidden, activation="relu", name="hidden"),
        layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities"),
    ], name=name)


def ema_momentum(fast: bool | None = None) -> float:
    """The weight-averaging momentum for this mode (default: ``COURSE_FAST``): see :data:`EMA_MOMENTUM`."""
    fast = env.is_fast() if fast is None else fast
    return FAST_EMA_MOMENTUM if fast else EMA_MOMENTUM


def seed_optimizer(learning_rate: float = ADADELTA_LR, epsilon: float = ADADELTA_EPSILON, average: bool = True,
                   fast: bool | None = None) -> "keras.optimizers.Optimizer":
    """The course's Adadelta: the notes' learning rate 1.0, epsilon 1e-6, and weight averaging unless told not to."""
    import keras

    if not average:
        return keras.optimizers.Adadelta(learning_rate=learning_rate, epsilon=epsilon)
    return keras.optimizers.Adadelta(learning_rate=learning_rate, epsilon=epsilon, use_ema=True,
                                     ema_momentum=ema_momentum(fast))


def compile_seed(model: "keras.Model", learning_rate: float = ADADELTA_LR, epsilon: float = ADADELTA_EPSILON,
                 average: bool = True, fast: bool | None = None) -> "keras.Model":
    """Compile with the course's recipe: :func:`seed_optimizer`, cross-entropy on integer labels, accuracy."""
    model.compile(optimizer=seed_optimizer(learning_rate, epsilon, average, fast),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def training_callbacks(model: "keras.Model") -> list:
    """What fit needs besides a timer: with weight averaging on, validate each epoch on the averaged weights."""
    import keras

    return [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if getattr(model.optimizer, "use_ema", False) else []


def validation_size(fast: bool | None = None) -> int:
    """How many training images :func:`split_validation` holds out in this mode (default: ``COURSE_FAST``)."""
    fast = env.is_fast() if fast is None else fast
    return FAST_VALIDATION_SIZE if fast else VALIDATION_SIZE


def split_validation(x: np.ndarray, y: np.ndarray, n_validation: int | None = None
                     ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split training images into ``(x_fit, y_fit), (x_val, y_val)``: the last ``n_validation`` are held out.

    ``n_validation`` defaults to :func:`validation_size`. The test set never enters: choices made on the
    validation split leave the test set as an unbiased, once-only final measurement.
    """
    from utils.errors import CourseError

    n = validation_size() if n_validation is None else int(n_validation)
    if len(x) != len(y):
        raise CourseError(f"{len(x):,} images but {len(y):,} labels: they must match.")
    if not 0 < n < len(y):
        raise CourseError(f"Cannot hold out {n:,} of {len(y):,} training images: choose 1 to {len(y) - 1:,}.")
    return (x[:-n], y[:-n]), (x[-n:], y[-n:])


def to_model_input(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images -> float32 (N, 28, 28, 1) in [0, 1], what the seed CNN takes."""
    x = np.asarray(x)
    scaled = x.astype("float32") / 255.0 if x.dtype == np.uint8 else x.astype("float32")
    return scaled[..., None] if scaled.ndim == 3 else scaled


def _float32_policies(config: Any) -> Any:
    """A Keras config with every mixed-precision dtype policy replaced by float32."""
    if isinstance(config, dict):
        name = str(config.get("config", {}).get("name", "")) if config.get("class_name") == "DTypePolicy" else ""
        if name.startswith("mixed_"):
            return {**config, "config": {**config["config"], "name": "float32"}}
        return {k: _float32_policies(v) for k, v in config.items()}
    if isinstance(config, list):
        return [_float32_policies(v) for v in config]
    return config


def training_precision(model: "keras.Model") -> str:
    """The dtype policy ``model``'s layers compute in (a mixed one if any layer uses one, else ``float32``)."""
    return next((layer.dtype_policy.name for layer in model.layers if layer.dtype_policy.name != "float32"), "float32")


def as_float32(model: "keras.Model") -> "keras.Model":
    """The same network and weights computing in float32 (the model itself if it already does).

    A model trained under ``mixed_bfloat16`` or ``mixed_float16`` keeps float32 weights but computes in 16 bits;
    later notebooks take gradients with respect to the input and look at activations, which want float32.
    """
    if all(layer.dtype_policy.name == "float32" for layer in model.layers):
        return model
    clone = model.__class__.from_config(_float32_policies(model.get_config()))
    clone.set_weights(model.get_weights())
    clone.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return clone


# ----------------------------------------------------------------------------------------------
# The cache


@dataclass
class CacheInfo:
    """What :func:`load_or_train_mnist_cnn` did, kept next to the model as JSON."""

    key: str
    status: str  # "loaded" or "trained"
    path: str
    epochs: int
    data_source: str
    n_train: int
    n_test: int
    precision: str
    test_accuracy: float | None = None
    seconds_per_epoch: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)


def data_fingerprint(data: "MnistData") -> dict[str, Any]:
    """Source, sizes and a SHA-256 of the arrays: what the cache key needs to know about the data."""
    digest = hashlib.sha256()
    for arr in (data.x_train, data.y_train, data.x_test, data.y_test):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return {"source": data.source, "n_train": int(len(data.y_train)), "n_test": int(len(data.y_test)),
            "sha256": digest.hexdigest()}


def _without_names(config: Any) -> Any:
    """A Keras config without its ``name`` entries: Keras numbers unnamed layers per session."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list):
        return [_without_names(v) for v in config]
    return config


def same_recipe(a: "keras.Model", b: "keras.Model") -> bool:
    """True when two models have the same layers, settings and optimizer (names aside): the same cache key."""
    def recipe(model):
        optimizer = getattr(model, "optimizer", None)
        return json.dumps([_without_names(model.get_config()),
                           _without_names(optimizer.get_config()) if optimizer else None], sort_keys=True, default=str)

    return recipe(a) == recipe(b)


def cache_key(model: "keras.Model", data: "MnistData", epochs: int, batch_size: int = BATCH_SIZE) -> str:
    """A short hash of the architecture + compile settings, the data and the training length."""
    recipe = {
        "model": _without_names(model.get_config()),
        "optimizer": _without_names(model.optimizer.get_config()) if getattr(model, "optimizer", None) else None,
        "loss": str(getattr(model, "loss", None)),
        "data": data_fingerprint(data),
        "epochs": int(epochs),
        "batch_size": int(batch_size),
    }
    text = json.dumps(recipe, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_paths(name: str = CACHE_NAME, fast: bool = False) -> tuple[Path, Path]:
    """The ``.keras`` model file and its JSON note for ``name`` in this mode (fast and full live side by side)."""
    folder = env.cache_dir("models")
    stem = f"{name}-{'fast' if fast else 'full'}"
    return folder / f"{stem}.keras", folder / f"{stem}.json"


def read_cache_info(name: str = CACHE_NAME, fast: bool = False) -> CacheInfo | None:
    """The JSON note of a cached model, or None when there is none (or it is unreadable)."""
    _, note = cache_paths(name, fast)
    try:
        return CacheInfo(**json.loads(note.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save_to_cache(model: "keras.Model", data: "MnistData", epochs: int, history: dict | None = None,
                  seconds_per_epoch: float | None = None, name: str = CACHE_NAME, fast: bool | None = None,
                  batch_size: int = BATCH_SIZE, verbose: bool = True) -> CacheInfo:
    """Save a trained model where :func:`load_or_train_mnist_cnn` (and later notebooks) will find it."""
    fast = env.is_fast() if fast is None else fast
    path, note = cache_paths(name, fast)
    x_test = to_model_input(data.x_test)
    _, accuracy = as_float32(model).evaluate(x_test, data.y_test, verbose=0)   # as later notebooks compute
    info = CacheInfo(key=cache_key(model, data, epochs, batch_size), status="trained", path=path.name,
                     epochs=int(epochs), data_source=data.source, n_train=int(len(data.y_train)),
                     n_test=int(len(data.y_test)), precision=training_precision(model),
                     test_accuracy=round(float(accuracy), 4),
                     seconds_per_epoch=None if seconds_per_epoch is None else round(float(seconds_per_epoch), 2),
                     history={k: [round(float(v), 4) for v in vals] for k, vals in (history or {}).items()})
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(tmp)
    tmp.replace(path)  # never leave a half-written model where a later notebook would load it
    note.write_text(json.dumps(asdict(info), indent=1))
    if verbose:
        print("Saved the trained model in the course's cache folder (outside git): later notebooks load it "
              "with load_or_train_mnist_cnn().")
    return info


def epoch_timer() -> "keras.callbacks.Callback":
    """A Keras callback that times each epoch's training part (``.train_seconds``) and whole epoch (``.seconds``).

    The training part ends at the last batch, before the validation pass, so images per second is
    ``n_train / train_seconds``. The first epoch also pays for tracing the model into a graph.
    """
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self.train_seconds: list[float] = []
            self._start = self._last_batch = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = self._last_batch = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self._last_batch = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.train_seconds.append(self._last_batch - self._start)
            self.seconds.append(time.perf_counter() - self._start)

        def typical_train_seconds(self) -> float:
            """Median training time per epoch, leaving out the first epoch when there are 3 or more."""
            kept = self.train_seconds[1:] if len(self.train_seconds) >= 3 else self.train_seconds
            return float(np.median(kept))

    return EpochTimer()


def train_mnist_cnn(model: "keras.Model", data: "MnistData", epochs: int, batch_size: int = BATCH_SIZE,
                    verbose: int = 2, timer: "keras.callbacks.Callback | None" = None, holdout: int = 0,
                    in_memory: bool = True) -> tuple[dict[str, list[float]], float]:
    """Fit on the training images; the test set is never looked at here.

    ``holdout=0`` (the final model): fit on all training images, with no validation. ``holdout=n``: fit on all
    but the last ``n`` and measure those ``n`` after each epoch (``val_loss``, ``val_accuracy``; on the averaged
    weights, if any). Returns the history and the typical training seconds per epoch (see :func:`epoch_timer`;
    pass your own ``timer`` to read its per-epoch times afterwards).

    ``in_memory=True`` (the default) trains through :func:`utils.training.fit_in_memory` (one tf.data iterator
    for all epochs, validation without tf.data), which avoids the epochs that run at two thirds of the speed on a
    2-core CPU. ``False`` is plain ``model.fit`` on the arrays (``make bench --keras-input`` measures it).
    """
    timer = epoch_timer() if timer is None else timer
    if holdout:
        (x_fit, y_fit), (x_val, y_val) = split_validation(data.x_train, data.y_train, holdout)
        validation = (to_model_input(x_val), y_val)
    else:
        x_fit, y_fit, validation = data.x_train, data.y_train, None
    if in_memory:
        from utils.training import fit_in_memory

        history = fit_in_memory(model, to_model_input(x_fit), y_fit, epochs, batch_size, validation_data=validation,
                                callbacks=[*training_callbacks(model), timer], verbose=verbose,
                                validation_batch_size=1000)
    else:
        history = model.fit(to_model_input(x_fit), y_fit, batch_size=batch_size, epochs=epochs,
                            validation_data=validation, verbose=verbose,
                            callbacks=[timer, *training_callbacks(model)])
    return history.history, timer.typical_train_seconds()


def optimizer_summary(model: "keras.Model") -> str:
    """The compiled optimizer and its settings in one line, e.g. ``Adadelta(learning_rate=1.0, epsilon=1e-06)``."""
    config = model.optimizer.get_config()
    keys = [k for k in ("learning_rate", "rho", "epsilon") if k in config]
    return f"{model.optimizer.__class__.__name__}(" + ", ".join(f"{k}={config[k]:g}" if isinstance(config[k], float)
                                                             else f"{k}={config[k]}" for k in keys) + ")"


def load_or_train_mnist_cnn(fast: bool | None = None, epochs: int | None = None, verbose: bool = True, *,
                            data: "MnistData | None" = None, builder: Callable[[], "keras.Model"] = seed_cnn,
                            name: str = CACHE_NAME, batch_size: int = BATCH_SIZE,
                            precision: str | None = None, retrain: bool = False) -> "keras.Model":
    """The final seed CNN: loaded from the course cache when it matches, else trained (and cached).

    ``fast`` (default: ``COURSE_FAST``) picks the small data set and :data:`FAST_EPOCHS`; full mode trains
    :data:`FULL_EPOCHS` epochs. Either way it trains on *all* training images with the recipe notebook 04 chose on
    its validation split, and measures the test set once, when it saves the model. ``data``/``builder`` replace
    MNIST and the seed CNN (the tests use tiny ones). Prints whether it loaded or trained; the returned model
    computes in float32 (:func:`as_float32`, whatever precision trained it) and carries the details as
    ``model.course_cache`` (a :class:`CacheInfo`).
    """
    import keras

    from utils.data import load_mnist

    fast = env.is_fast() if fast is None else fast
    epochs = (FAST_EPOCHS if fast else FULL_EPOCHS) if epochs is None else int(epochs)
    data = load_mnist(fast=fast, verbose=False) if data is None else data
    policy = precision or choose_precision()
    previous = keras.mixed_precision.global_policy().name
    set_precision(policy)
    try:
        model = compile_seed(builder(), fast=fast)
    finally:
        set_precision(previous)
    key = cache_key(model, data, epochs, batch_size)
    path, _ = cache_paths(name, fast)
    info = read_cache_info(name, fast)
    why = "retrain=True was asked for"
    if not retrain and info is not None and path.is_file():
        if info.key == key:
            try:
                loaded = keras.models.load_model(path)
            except Exception as err:  # a broken file: train again rather than fail
                why = f"the cached file could not be read ({type(err).__name__})"
            else:
                info.status = "loaded"
                if verbose:
                    acc = "" if info.test_accuracy is None else f", test accuracy {info.test_accuracy:.2%}"
                    print(f"Loaded the trained CNN from the course cache (models/{path.name}: {info.epochs} epochs "
                          f"on {info.n_train:,} images{acc}).")
                loaded = as_float32(loaded)
                loaded.course_cache = info
                return loaded
        else:
            why = "the cached one is stale (architecture, data or epochs changed)"
    elif not retrain:
        why = "none is cached yet"
    if verbose:
        print(f"Training the CNN ({epochs} epochs on {len(data.y_train):,} images) because {why}.")
    set_precision(policy)
    try:
        history, seconds = train_mnist_cnn(model, data, epochs, batch_size, verbose=2 if verbose else 0)
    finally:
        set_precision(previous)
    info = save_to_cache(model, data, epochs, history, seconds, name=name, fast=fast, batch_size=batch_size,
                         verbose=verbose)
    model = as_float32(model)
    model.course_cache = info
    return model
