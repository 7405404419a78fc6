"""Transfer learning on Fashion-MNIST (notebook 08): a source/target split, a small CNN with BatchNormalization,
the cached source network, the four regimes of the lecture notes' table, and a feature extractor.

The source task is five Fashion-MNIST classes, the target task the other five (:data:`SOURCE_CLASSES`,
:data:`TARGET_CLASSES`). The network is a *base* (three convolution blocks and global average pooling: the
features) and a *head* (one Dense softmax layer), so the base can be frozen, partly unfrozen or re-trained:

- ``scratch``: a fresh base and head, trained on the target images only;
- ``frozen``: the source base frozen (and run in inference mode), a new head trained on top;
- ``last_block``: then the last convolution block unfrozen and fine-tuned with a small learning rate;
- ``all``: then every layer fine-tuned with a small learning rate.

The two fine-tuning regimes start from the ``frozen`` regime's trained head, as Keras' transfer-learning guide
recommends: a random head's large gradients would otherwise wreck the pre-trained features in the first steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from utils import cache, env
from utils.errors import CourseError
from utils.training import fit_in_memory

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: Fashion-MNIST labels of the source task and of the target task.
SOURCE_CLASSES: tuple[int, ...] = (0, 1, 3, 5, 8)
TARGET_CLASSES: tuple[int, ...] = (2, 4, 6, 7, 9)
#: The regimes, in the order of the lecture notes' table (little data -> lots of data).
REGIMES: tuple[str, ...] = ("scratch", "frozen", "last_block", "all")
REGIME_NAMES: dict[str, str] = {
    "scratch": "from scratch",
    "frozen": "freeze all + new head",
    "last_block": "fine-tune last block",
    "all": "fine-tune all",
}
FILTERS: tuple[int, ...] = (16, 32, 64)
#: BatchNormalization momentum: 0.9 (not Keras' 0.99) so the running statistics settle within a few dozen
#: steps, which is all a 100-image training set gives.
BN_MOMENTUM = 0.9
#: Most optimizer steps one training run may take (large training sets stop after fewer epochs).
MAX_STEPS = 400
#: At most this many of a run's labelled images are kept for validation.
MAX_VAL = 2000
HEAD_LR = 1e-3
#: The new head alone, on precomputed features, learns fast with a larger rate.
FEATURE_HEAD_LR = 1e-2
FINE_TUNE_LR = 1e-4
BATCH_SIZE = 64
SOURCE_CACHE_NAME = "fashion_source"


# ----------------------------------------------------------------------------------------------------------- data


def to_input(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) images -> float32 (N, 28, 28, 1) in [0, 1]."""
    x = np.asarray(x)
    scaled = x.astype("float32") / 255.0 if x.dtype == np.uint8 else x.astype("float32")
    return scaled[..., None] if scaled.ndim == 3 else scaled


def class_subset(x: np.ndarray, y: np.ndarray, classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The images of ``classes`` only, with labels renumbered 0, 1, ... in the order of ``classes``."""
    classes = [int(c) for c in classes]
    if len(set(classes)) != len(classes):
        raise CourseError(f"classes must not repeat, got {classes}.")
    keep = np.isin(y, classes)
    lookup = np.full(max(int(np.max(y, initial=0)), max(classes)) + 1, -1, dtype=np.int64)
    lookup[classes] = np.arange(len(classes))
    return x[keep], lookup[y[keep]].astype(np.uint8)


def labelled_sample(x: np.ndarray, y: np.ndarray, n: int, seed: int, val_share: float = 0.2,
                    max_val: int = MAX_VAL) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` labelled images drawn with ``seed``, stratified by class, split into train and validation.

    The validation part (``val_share`` of ``n``, at least one image per class, at most ``max_val`` in all) is
    what early stopping watches: someone with only ``n`` labelled images has no other.
    """
    classes = np.unique(y)
    if n < 2 * len(classes) or n > len(y):
        raise CourseError(f"n must be between {2 * len(classes)} and {len(y):,}, got {n:,}.")
    rng = np.random.default_rng(seed)
    per_class = np.bincount(y, minlength=classes.max() + 1)[classes]
    take = np.floor(n * per_class / per_class.sum()).astype(int)
    take[: n - take.sum()] += 1  # rounding leftovers
    train_idx, val_idx = [], []
    for c, k in zip(classes, take):
        idx = rng.permutation(np.flatnonzero(y == c))[:k]
        n_val = max(1, min(int(round(k * val_share)), max_val // len(classes)))
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    train_idx, val_idx = rng.permutation(np.concatenate(train_idx)), rng.permutation(np.concatenate(val_idx))
    return x[train_idx], y[train_idx], x[val_idx], y[val_idx]


# --------------------------------------------------------------------------------------------------------- models


def build_base(filters: Sequence[int] = FILTERS, name: str = "base") -> "keras.Model":
    """The feature extractor: three blocks of Conv2D (3x3) + BatchNormalization + ReLU, pooling, then global
    average pooling. Block ``k``'s layers are named ``block{k}_conv``, ``block{k}_bn``, ``block{k}_relu``."""
    env.quiet_tensorflow()
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1), name="image")
    h = inputs
    for k, f in enumerate(filters, 1):
        h = layers.Conv2D(f, 3, padding="same", use_bias=False, name=f"block{k}_conv")(h)
        h = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{k}_bn")(h)
        h = layers.Activation("relu", name=f"block{k}_relu")(h)
        if k < len(filters):
            h = layers.MaxPooling2D(2, name=f"block{k}_pool")(h)
    features = layers.GlobalAveragePooling2D(name="features")(h)
    return keras.Model(inputs, features, name=name)


def with_head(base: "keras.Model", num_classes: int, training: bool | None = None,
              dropout: float = 0.2, name: str = "classifier") -> "keras.Model":
    """``base`` plus a new softmax head. ``training=False`` keeps the base in inference mode for good (its
    BatchNormalization layers use their stored statistics even when the base is unfrozen later)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1), name="image")
    h = base(inputs, training=training)
    h = layers.Dropout(dropout, name="head_dropout")(h)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="head")(h)
    return keras.Model(inputs, outputs, name=name)


def head_only(n_features: int, num_classes: int, dropout: float = 0.2) -> "keras.Model":
    """The head of :func:`with_head` alone, on precomputed features (layer names match, so weights carry over)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(n_features,), name="features")
    h = layers.Dropout(dropout, name="head_dropout")(inputs)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="head")(h)
    return keras.Model(inputs, outputs, name="head_only")


def compile_for(model: "keras.Model", learning_rate: float) -> "keras.Model":
    """Adam at ``learning_rate``, cross-entropy on integer labels, accuracy. Call it again after any change
    to ``trainable``: Keras reads which weights to train when the model is compiled."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def set_trainable(base: "keras.Model", regime: str, freeze_batchnorm: bool = True) -> None:
    """Freeze or unfreeze ``base`` for ``regime``: nothing trains for ``frozen``, the last block for ``last_block``,
    everything for ``all`` and ``scratch``.

    With ``freeze_batchnorm`` (the default) the BatchNormalization layers of a fine-tuned base stay frozen, which
    in Keras 3 also keeps them in inference mode. (Calling the base with ``training=False`` is not enough in every
    Keras 3 version: notebook 08 measures it.) ``scratch`` trains every layer, BatchNormalization included.
    """
    from keras import layers

    if regime not in REGIMES:
        raise CourseError(f"Unknown regime {regime!r}; choose one of {list(REGIMES)}.")
    last = f"block{len([layer for layer in base.layers if layer.name.endswith('_conv')])}_"
    base.trainable = regime != "frozen"
    for layer in base.layers:
        layer.trainable = regime in ("all", "scratch") or (regime == "last_block" and layer.name.startswith(last))
        if regime != "scratch" and freeze_batchnorm and isinstance(layer, layers.BatchNormalization):
            layer.trainable = False


def count_trainable(model: "keras.Model") -> int:
    """How many numbers training would change: the sizes of the model's trainable weights."""
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def early_stopping(patience: int = 5, start_from_epoch: int = 3) -> "keras.callbacks.Callback":
    """Stop when validation loss has not improved for ``patience`` epochs (not before ``start_from_epoch``:
    BatchNormalization's running statistics need a few epochs on tiny sets); keep the best weights."""
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True,
                                         start_from_epoch=start_from_epoch)


def train_source(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, epochs: int,
                 seed: int = env.DEFAULT_SEED) -> tuple["keras.Model", dict[str, Any]]:
    """Train base + head on the source task; returns the model and its history (for the cache's note).

    It trains through :func:`utils.training.fit_in_memory`: ``model.fit``'s training (128 images a step,
    reshuffled every epoch, validation loss and accuracy after each epoch) with one data pipeline for the run."""
    import keras

    keras.utils.set_random_seed(seed)
    model = compile_for(with_head(build_base(), len(np.unique(y)), name="source"), HEAD_LR)
    history = fit_in_memory(model, to_input(x), y, validation_data=(to_input(x_val), y_val), epochs=epochs,
                            batch_size=128, validation_batch_size=512, verbose=0)
    return model, {"history": {k: [round(float(v), 4) for v in vals] for k, vals in history.history.items()}}


def load_or_train_source(x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, epochs: int,
                         name: str = SOURCE_CACHE_NAME, what: str = "the source network", fast: bool | None = None,
                         verbose: bool = True, retrain: bool = False) -> "keras.Model":
    """The source network cached under ``name`` when its recipe (architecture, data, epochs, precision) matches,
    else trained with :func:`train_source` and cached. Prints which it did."""
    import keras

    recipe = {"model": cache.model_recipe(with_head(build_base(), len(np.unique(y)), name="source")),
              "data": cache.fingerprint(x, y, x_val, y_val), "epochs": int(epochs), "lr": HEAD_LR,
              "batch": 128, "seed": env.DEFAULT_SEED, "policy": keras.mixed_precision.global_policy().name,
              "feed": "in_memory"}
    return cache.load_or_train(name, recipe, lambda: train_source(x, y, x_val, y_val, epochs),
                               fast=fast, what=what, verbose=verbose, retrain=retrain)


def source_base(source_model: "keras.Model") -> "keras.Model":
    """The base (feature extractor) inside a model made by :func:`with_head`."""
    return source_model.get_layer("base")


def copy_base(base: "keras.Model") -> "keras.Model":
    """A fresh base with the same weights (so every regime starts from the same source network)."""
    fresh = build_base(filters=[layer.filters for layer in base.layers if layer.name.endswith("_conv")])
    fresh.set_weights(base.get_weights())
    return fresh


# ------------------------------------------------------------------------------------------------ the regimes


@dataclass
class RegimeResult:
    """One trained regime on one labelled sample: test accuracy (overall and per class), epochs, seconds, history.

    ``fine_tune_from`` is the epoch where fine-tuning started in ``history`` (0: no separate head phase).
    """

    regime: str
    n: int
    seed: int
    accuracy: float
    per_class: list[float]
    epochs: int
    seconds: float
    history: dict[str, list[float]]
    fine_tune_from: int = 0


def epochs_for(n_train: int, max_epochs: int = 20, max_steps: int = MAX_STEPS) -> int:
    """Epoch cap for ``n_train`` training images: ``max_epochs``, fewer when that would exceed ``max_steps``."""
    steps_per_epoch = max(1, int(np.ceil(n_train / BATCH_SIZE)))
    return int(max(1, min(max_epochs, max_steps // steps_per_epoch)))


def _fit(model, x, y, xv, yv, epochs: int, patience: int) -> dict[str, list[float]]:
    """``model.fit`` with early stopping on the validation split, through :func:`utils.training.fit_in_memory`
    (same training, one data pipeline for the run; its validation runs before EarlyStopping reads val_loss)."""
    history = fit_in_memory(model, x, y, validation_data=(xv, yv), epochs=epochs, batch_size=BATCH_SIZE,
                            validation_batch_size=512, verbose=0, callbacks=[early_stopping(patience)])
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


def _test(model, x_test: np.ndarray, y_test: np.ndarray) -> tuple[float, list[float]]:
    predicted = np.argmax(model.predict(x_test, batch_size=512, verbose=0), axis=1)
    per_class = [float(np.mean(predicted[y_test == c] == c)) for c in range(int(y_test.max()) + 1)]
    return float(np.mean(predicted == y_test)), per_class


def train_regimes(base: "keras.Model", train: tuple[np.ndarray, ...], x_test: np.ndarray, y_test: np.ndarray,
                  seed: int, regimes: Sequence[str] = REGIMES, max_epochs: int = 20, patience: int = 5,
                  n: int | None = None) -> list[RegimeResult]:
    """Train every regime in ``regimes`` on ``train`` = (x, y, x_val, y_val) (uint8 images) and test it.

    ``base`` is the source network's base; it is copied, never changed. See the module docs for the regimes.
    """
    import keras

    unknown = [r for r in regimes if r not in REGIMES]
    if unknown:
        raise CourseError(f"Unknown regimes {unknown}; choose from {list(REGIMES)}.")
    xs, ys, xv, yv = train
    n = len(ys) + len(yv) if n is None else n
    xs, xv, xt = to_input(xs), to_input(xv), to_input(x_test)
    num_classes = int(max(ys.max(), y_test.max())) + 1
    epochs = epochs_for(len(ys), max_epochs)
    results = []

    def record(regime, model, history, start, fine_tune_from=0):
        accuracy, per_class = _test(model, xt, y_test)
        results.append(RegimeResult(regime, n, seed, accuracy, per_class, len(history["loss"]),
                                    time.perf_counter() - start, history, fine_tune_from))

    if "scratch" in regimes:
        start = time.perf_counter()
        keras.utils.set_random_seed(seed)
        model = compile_for(with_head(build_base(), num_classes), HEAD_LR)
        record("scratch", model, _fit(model, xs, ys, xv, yv, epochs, patience), start)
    if not [r for r in regimes if r != "scratch"]:
        return results
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    tuned_base = copy_base(base)
    set_trainable(tuned_base, "frozen")
    model = compile_for(with_head(tuned_base, num_classes, training=False), HEAD_LR)
    # A frozen base in inference mode computes the same features every epoch: compute them once and train
    # the head on them (same result, a fraction of the time). The trained head then goes on the full model.
    head = compile_for(head_only(tuned_base.output_shape[-1], num_classes), FEATURE_HEAD_LR)
    head_history = _fit(head, features(tuned_base, xs), ys, features(tuned_base, xv), yv,
                        epochs_for(len(ys), 10 * max_epochs, max_steps=5 * MAX_STEPS), max(patience, 10))
    model.get_layer("head").set_weights(head.get_layer("head").get_weights())
    head_seconds = time.perf_counter() - start
    if "frozen" in regimes:
        record("frozen", model, head_history, start)
    after_head = model.get_weights()
    for regime in ("last_block", "all"):
        if regime not in regimes:
            continue
        start = time.perf_counter()
        keras.utils.set_random_seed(seed)
        set_trainable(tuned_base, "frozen")  # the trainable flags of the snapshot, then its weights
        model.set_weights(after_head)
        set_trainable(tuned_base, regime)
        compile_for(model, FINE_TUNE_LR)
        history = _fit(model, xs, ys, xv, yv, epochs, patience)
        merged = {k: head_history[k] + history[k] for k in history}
        record(regime, model, merged, start - head_seconds, fine_tune_from=len(head_history["loss"]))
    return results


def run_regimes(base: "keras.Model", x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                n: int, seed: int, regimes: Sequence[str] = REGIMES, max_epochs: int = 20,
                patience: int = 5) -> list[RegimeResult]:
    """:func:`train_regimes` on ``n`` labelled target images drawn (stratified) from ``x, y`` with ``seed``."""
    return train_regimes(base, labelled_sample(x, y, n, seed), x_test, y_test, seed, regimes, max_epochs,
                         patience, n=n)


def make_scarce(train: tuple[np.ndarray, ...], label: int, keep: int, seed: int) -> tuple[np.ndarray, ...]:
    """``train`` = (x, y, x_val, y_val) with class ``label`` cut down to ``keep`` training and ``max(1, keep // 4)``
    validation images: one under-represented group, the rest untouched."""
    rng = np.random.default_rng(seed)
    out = []
    for x, y, k in ((train[0], train[1], keep), (train[2], train[3], max(1, keep // 4))):
        idx = np.flatnonzero(y == label)
        drop = rng.permutation(idx)[k:]
        mask = np.ones(len(y), bool)
        mask[drop] = False
        out += [x[mask], y[mask]]
    return tuple(out)


def features(base: "keras.Model", x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The base's output (the penultimate features) for uint8 or float images, in inference mode."""
    return np.asarray(base.predict(to_input(x), batch_size=batch_size, verbose=0), dtype=np.float32)


def summarize(results: Sequence[RegimeResult]) -> dict[tuple[str, int], tuple[float, float, int]]:
    """(regime, n) -> (mean test accuracy, standard deviation over seeds, number of seeds)."""
    table: dict[tuple[str, int], list[float]] = {}
    for r in results:
        table.setdefault((r.regime, r.n), []).append(r.accuracy)
    return {k: (float(np.mean(v)), float(np.std(v)), len(v)) for k, v in table.items()}


def format_table(summary: dict[tuple[str, int], tuple[float, float, int]]) -> str:
    """The regimes table as text: one row per regime, one column per training-set size, mean ± sd in %."""
    sizes = sorted({n for _, n in summary})
    regimes = [r for r in REGIMES if any((r, n) in summary for n in sizes)]
    width = max(len(REGIME_NAMES[r]) for r in regimes)
    lines = [f"{'regime':{width}s} | " + " | ".join(f"n = {n:>6,}" for n in sizes)]
    lines.append("-" * len(lines[0]))
    for r in regimes:
        cells = []
        for n in sizes:
            mean, sd, _ = summary.get((r, n), (np.nan, np.nan, 0))
            cells.append(f"{100 * mean:5.1f} ± {100 * sd:3.1f}")
        best = [max(regimes, key=lambda q: summary.get((q, n), (-1,))[0]) for n in sizes]
        lines.append(f"{REGIME_NAMES[r]:{width}s} | " + " | ".join(
            c + ("*" if best[i] == r else " ") for i, c in enumerate(cells)))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- an ImageNet CNN

#: Where keras.applications downloads ImageNet weights from.
WEIGHTS_HOST = "storage.googleapis.com"


def imagenet_mobilenet(timeout: float = 3.0, is_online=None) -> "keras.Model | None":
    """Keras' MobileNetV2 with ImageNet weights, or None (after one printed line) when they cannot be had.

    Checks the weights' host with a ``timeout``-second connection first, so an offline machine answers at once
    instead of waiting on Keras' download.
    """
    from utils import data

    is_online = is_online or (lambda: data.online(WEIGHTS_HOST, timeout=timeout))
    if not is_online():
        print("Skipped: the ImageNet weights need the internet (Colab or a laptop online); "
              f"{WEIGHTS_HOST} could not be reached.")
        return None
    import keras

    try:
        return keras.applications.MobileNetV2(weights="imagenet")
    except Exception as err:  # a download that breaks midway: one line, not a traceback
        print(f"Skipped: the ImageNet weights could not be downloaded ({type(err).__name__}).")
        return None


def imagenet_top5(model: "keras.Model", photos: dict[str, np.ndarray]) -> dict[str, list[tuple[str, float]]]:
    """MobileNetV2's five most probable ImageNet classes (name, probability) for each RGB uint8 photo."""
    import keras

    size = model.input_shape[1]
    batch = np.stack([keras.ops.convert_to_numpy(keras.ops.image.resize(p.astype("float32"), (size, size)))
                      for p in photos.values()])
    probabilities = model.predict(keras.applications.mobilenet_v2.preprocess_input(batch), verbose=0)
    decoded = keras.applications.mobilenet_v2.decode_predictions(probabilities, top=5)
    return {name: [(label, float(p)) for _, label, p in rows] for name, rows in zip(photos, decoded)}
