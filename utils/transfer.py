"""Transfer learning on Fashion-MNIST (notebook 08): a source/target split, a small CNN with BatchNormalization,
the cached source network, the four regimes of the lecture notes' table, and a feature extractor.

The source task is five Fashion-MNIST classes, the target task the other five (:data:`SOURCE_CLASSES`,
:data:`TARGET_CLASSES`). The network is a *base* (three convolution blocks and global average pooling: the
features) and a *head* (one Dense softmax layer), so the base can be frozen, partly unfrozen or re-trained:

- ``scratch``: a fresh base and head, trained on the target images only (to convergence: a step budget with
  early stopping on validation);
- ``random``: an untrained base (random filters) frozen, a new head on top: what a head gets without transfer;
- ``frozen``: the source base frozen (its BatchNormalization layers then run in inference mode), a new head;
- ``last_block``: then the last convolution block unfrozen and fine-tuned with a small learning rate;
- ``all``: then every layer fine-tuned with a small learning rate.

The two fine-tuning regimes start from the ``frozen`` regime's trained head, as Keras' transfer-learning guide
recommends: a random head's large gradients would otherwise wreck the pre-trained features in the first steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from utils import cache, env
from utils.errors import CourseError
from utils.training import fit_in_memory, in_memory_dataset, validation_callback

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: Fashion-MNIST labels of the source task and of the target task.
SOURCE_CLASSES: tuple[int, ...] = (0, 1, 3, 5, 8)
TARGET_CLASSES: tuple[int, ...] = (2, 4, 6, 7, 9)
#: The regimes, in the order of the lecture notes' table (little data -> lots of data).
REGIMES: tuple[str, ...] = ("scratch", "random", "frozen", "last_block", "all")
#: Rows of the tables: the regimes, then a frozen ImageNet network with a new head (notebook 08, section 8).
ROWS: tuple[str, ...] = REGIMES + ("imagenet",)
REGIME_NAMES: dict[str, str] = {
    "imagenet": "ImageNet EfficientNet-Lite0 frozen + new head",
    "scratch": "from scratch",
    "random": "random features + new head",
    "frozen": "freeze all + new head",
    "last_block": "fine-tune last block",
    "all": "fine-tune all",
}
FILTERS: tuple[int, ...] = (16, 32, 64)
#: BatchNormalization momentum: 0.9 (not Keras' 0.99) so the running statistics settle within a few dozen
#: steps, which is all a 100-image training set gives.
BN_MOMENTUM = 0.9
#: Most optimizer steps each training phase may take: a fresh network from scratch; a new head on frozen
#: features (the head alone: cheap); fine-tuning after the head. Early stopping usually ends a phase sooner.
STEP_BUDGETS: dict[str, int] = {"scratch": 1000, "head": 1500, "fine_tune": 300}
#: A validation look every epoch, but at least every this many steps apart (an epoch of 80 images is 2 steps).
MIN_ROUND_STEPS = 20
#: Early stopping waits this many rounds without a better validation loss, then restores the best weights.
PATIENCE = 3
#: Five target classes: guessing scores 20 %.
CHANCE = 1 / len(TARGET_CLASSES)
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
    """``base`` plus a new softmax head (dropout, then Dense softmax).

    ``training=False`` is Keras' guide's way to keep the base in inference mode, but in Keras 3.0-3.15 it does not
    hold once the base's BatchNormalization layers are unfrozen: ``fit()``'s ``training=True`` reaches them anyway
    (keras-team/keras#20285; notebook 08 measures it). What works in every Keras 3 version is to keep the
    BatchNormalization layers ``trainable=False`` (a frozen BatchNormalization layer always runs in inference
    mode), which :func:`set_trainable` does."""
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

    if regime == "random":
        regime = "frozen"
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
    """One trained regime on one labelled sample.

    Accuracies: ``train_accuracy`` on its own training images and ``val_accuracy`` / ``val_per_class`` on the
    shared validation set (both in inference mode, with the weights early stopping kept); ``accuracy`` /
    ``per_class`` on the test set (kept for the end). ``steps``: optimizer steps taken in all phases; ``budget``:
    the most the phases allowed. ``fine_tune_from`` is the round where fine-tuning started in ``history``
    (0: no separate head phase); one round is :func:`round_steps` steps.
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
    train_accuracy: float = float("nan")
    val_accuracy: float = float("nan")
    val_per_class: list[float] = field(default_factory=list)
    steps: int = 0
    budget: int = 0


def round_steps(n_train: int, batch_size: int = BATCH_SIZE) -> int:
    """Optimizer steps between two looks at the validation split: one epoch, but at least :data:`MIN_ROUND_STEPS`
    (so that a tiny training set is not judged after every two steps)."""
    return max(MIN_ROUND_STEPS, int(np.ceil(n_train / batch_size)))


def budget(phase: str, n_train: int) -> tuple[int, int]:
    """(rounds, steps per round) that ``phase`` ("scratch", "head" or "fine_tune") may take at most for
    ``n_train`` training images: its step budget (:data:`STEP_BUDGETS`) in whole rounds."""
    per_round = round_steps(n_train)
    return max(1, STEP_BUDGETS[phase] // per_round), per_round


def _fit(model, x, y, xv, yv, phase: str, patience: int = PATIENCE) -> dict[str, list[float]]:
    """Train for at most ``phase``'s step budget, one validation look per round, early stopping on validation
    loss (best weights kept). The batches come from one endless shuffled pipeline
    (:func:`utils.training.in_memory_dataset`), so a round can be longer or shorter than an epoch."""
    import keras

    rounds, per_round = budget(phase, len(y))
    dataset = in_memory_dataset(x, y, BATCH_SIZE, shuffle=True, repeat=True)
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    history = model.fit(dataset, epochs=rounds, steps_per_epoch=per_round, verbose=0, shuffle=False,
                        callbacks=[validation_callback(xv, yv, 512), stop])
    out = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    out["step"] = [float(per_round * (i + 1)) for i in range(len(out["loss"]))]
    return out


def _scores(model, x: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    predicted = np.argmax(model.predict(x, batch_size=512, verbose=0), axis=1)
    per_class = [float(np.mean(predicted[y == c] == c)) for c in range(int(y.max()) + 1)]
    return float(np.mean(predicted == y)), per_class


def train_regimes(base: "keras.Model", train: tuple[np.ndarray, ...], x_val: np.ndarray, y_val: np.ndarray,
                  x_test: np.ndarray, y_test: np.ndarray, seed: int, regimes: Sequence[str] = REGIMES,
                  n: int | None = None, patience: int = PATIENCE) -> list[RegimeResult]:
    """Train every regime in ``regimes`` on ``train`` = (x, y, x_es, y_es) (uint8 images; early stopping watches
    x_es), then score it on the shared validation set (``x_val``: what the notebook chooses with) and on the test
    set (``x_test``: read once, at the end). See the module docs for the regimes and :data:`STEP_BUDGETS`.

    ``base`` is the source network's base; it is copied, never changed.
    """
    import keras

    unknown = [r for r in regimes if r not in REGIMES]
    if unknown:
        raise CourseError(f"Unknown regimes {unknown}; choose from {list(REGIMES)}.")
    xs, ys, xe, ye = train
    n = len(ys) + len(ye) if n is None else n
    xs, xe, xv, xt = to_input(xs), to_input(xe), to_input(x_val), to_input(x_test)
    num_classes = int(max(ys.max(), y_test.max(), y_val.max())) + 1
    results = []

    def record(regime, model, history, start, phases, fine_tune_from=0, x_train=xs, xv_=xv, xt_=xt):
        results.append(score_run(regime, n, seed, model, history, time.perf_counter() - start,
                                 (x_train, ys), (xv_, y_val), (xt_, y_test), phases, fine_tune_from))

    if "scratch" in regimes:
        start = time.perf_counter()
        keras.utils.set_random_seed(seed)
        model = compile_for(with_head(build_base(), num_classes), HEAD_LR)
        record("scratch", model, _fit(model, xs, ys, xe, ye, "scratch", patience), start, ["scratch"])
    if "random" in regimes:  # an untrained base (random filters), frozen, with a new head: no transfer at all
        keras.utils.set_random_seed(seed)
        random_base = build_base()
        results.append(head_on_features("random", n, seed, *[features(random_base, a) for a in (xs, xe, xv, xt)],
                                        ys, ye, y_val, y_test, patience))
    if not [r for r in regimes if r not in ("scratch", "random")]:
        return results
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    tuned_base = copy_base(base)
    set_trainable(tuned_base, "frozen")
    model = compile_for(with_head(tuned_base, num_classes, training=False), HEAD_LR)
    # A frozen base runs in inference mode and computes the same features every epoch: compute them once and
    # train the head on them (same result, a fraction of the time). The trained head then goes on the full model.
    head = compile_for(head_only(tuned_base.output_shape[-1], num_classes), FEATURE_HEAD_LR)
    head_history = _fit(head, features(tuned_base, xs), ys, features(tuned_base, xe), ye, "head", patience)
    model.get_layer("head").set_weights(head.get_layer("head").get_weights())
    head_seconds = time.perf_counter() - start
    if "frozen" in regimes:
        record("frozen", model, head_history, start, ["head"])
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
        history = _fit(model, xs, ys, xe, ye, "fine_tune", patience)
        merged = {k: head_history[k] + history[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        merged["step"] = head_history["step"] + [head_history["step"][-1] + s for s in history["step"]]
        record(regime, model, merged, start - head_seconds, ["head", "fine_tune"],
               fine_tune_from=len(head_history["loss"]))
    return results


def score_run(regime: str, n: int, seed: int, model: "keras.Model", history: dict[str, list[float]],
              seconds: float, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
              test: tuple[np.ndarray, np.ndarray], phases: Sequence[str], fine_tune_from: int = 0) -> RegimeResult:
    """A :class:`RegimeResult` for a trained ``model``: its accuracy on its training images, the validation set and
    the test set (each an (inputs, labels) pair), its steps (from ``history["step"]``) and its phases' budget."""
    accuracy, per_class = _scores(model, *test)
    val_accuracy, val_per_class = _scores(model, *val)
    train_accuracy, _ = _scores(model, *train)
    limit = sum(int(np.prod(budget(p, len(train[1])))) for p in phases)
    return RegimeResult(regime, n, seed, accuracy, per_class, len(history["loss"]), seconds, history,
                        fine_tune_from, train_accuracy, val_accuracy, val_per_class, int(history["step"][-1]), limit)


def head_on_features(regime: str, n: int, seed: int, f_train: np.ndarray, f_es: np.ndarray, f_val: np.ndarray,
                     f_test: np.ndarray, y_train: np.ndarray, y_es: np.ndarray, y_val: np.ndarray,
                     y_test: np.ndarray, patience: int = PATIENCE) -> RegimeResult:
    """A new head (:func:`head_only`) trained on frozen features (the "head" budget, early stopping on ``f_es``),
    scored like every regime: the ``random`` row and any other frozen feature extractor (an ImageNet network).

    The features are standardised first (mean 0, standard deviation 1 per feature, from ``f_train``): features
    of an untrained or foreign network are not scaled for a new Dense layer, and a head that cannot fit its
    training images would make a dead baseline."""
    import keras

    mean, std = f_train.mean(axis=0), f_train.std(axis=0) + 1e-6
    f_train, f_es, f_val, f_test = [(f - mean) / std for f in (f_train, f_es, f_val, f_test)]
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    num_classes = int(max(y_train.max(), y_val.max(), y_test.max())) + 1
    head = compile_for(head_only(f_train.shape[-1], num_classes), FEATURE_HEAD_LR)
    history = _fit(head, f_train, y_train, f_es, y_es, "head", patience)
    return score_run(regime, n, seed, head, history, time.perf_counter() - start, (f_train, y_train),
                     (f_val, y_val), (f_test, y_test), ["head"])


def run_regimes(base: "keras.Model", x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                x_test: np.ndarray, y_test: np.ndarray, n: int, seed: int, regimes: Sequence[str] = REGIMES,
                patience: int = PATIENCE) -> list[RegimeResult]:
    """:func:`train_regimes` on ``n`` labelled target images drawn (stratified) from ``x, y`` with ``seed``."""
    return train_regimes(base, labelled_sample(x, y, n, seed), x_val, y_val, x_test, y_test, seed, regimes,
                         n=n, patience=patience)


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


def summarize(results: Sequence[RegimeResult], metric: str = "val_accuracy"
              ) -> dict[tuple[str, int], tuple[float, float, int]]:
    """(regime, n) -> (mean of ``metric`` over seeds, its sample standard deviation (ddof=1; 0 for one seed),
    number of seeds). ``metric``: "val_accuracy" (what the notebook chooses with), "accuracy" (test),
    "train_accuracy", "steps"."""
    table: dict[tuple[str, int], list[float]] = {}
    for r in results:
        table.setdefault((r.regime, r.n), []).append(float(getattr(r, metric)))
    return {k: (float(np.mean(v)), float(np.std(v, ddof=1)) if len(v) > 1 else 0.0, len(v))
            for k, v in table.items()}


def differs(a: tuple[float, float, int], b: tuple[float, float, int]) -> bool:
    """Whether two (mean, sd, seeds) entries differ by more than their spreads added (one seed never differs)."""
    if min(a[2], b[2]) < 2:
        return False
    return abs(a[0] - b[0]) > a[1] + b[1]


def compare(a: tuple[float, float, int], b: tuple[float, float, int]) -> str:
    """Words for :func:`differs`: "outside the spread", "within the spread" or, for one seed, "one seed: no spread"."""
    if min(a[2], b[2]) < 2:
        return "one seed: no spread"
    return "outside the spread" if differs(a, b) else "within the spread"


def best_regimes(summary: dict[tuple[str, int], tuple[float, float, int]], n: int,
                 regimes: Sequence[str] | None = None) -> tuple[str, list[str]]:
    """The regime with the highest mean at size ``n``, and every regime that does not differ from it
    (:func:`differs`), itself included: the ones the measurement cannot tell apart from the best."""
    regimes = [r for r in (regimes or ROWS) if (r, n) in summary]
    best = max(regimes, key=lambda r: summary[r, n][0])
    return best, [r for r in regimes if not differs(summary[r, n], summary[best, n])]


def format_table(summary: dict[tuple[str, int], tuple[float, float, int]],
                 marks: dict[tuple[str, int], tuple[float, float, int]] | None = None, percent: bool = True) -> str:
    """The regimes table as text: one row per regime, one column per size, mean ± sd (in % with ``percent``).
    ``*`` marks the best regime per size by ``marks`` (default: ``summary`` itself): pass the validation
    summary to print test accuracies with the marks the validation set chose."""
    marks = summary if marks is None else marks
    sizes = sorted({n for _, n in summary})
    regimes = [r for r in ROWS if any((r, n) in summary for n in sizes)]
    width = max(len(REGIME_NAMES[r]) for r in regimes)
    lines = [f"{'regime':{width}s} | " + " | ".join(f"n = {n:>6,}" for n in sizes)]
    lines.append("-" * len(lines[0]))
    scale = 100 if percent else 1
    for r in regimes:
        cells = []
        for n in sizes:
            mean, sd, _ = summary.get((r, n), (np.nan, np.nan, 0))
            best = best_regimes(marks, n, regimes)[0] if any((q, n) in marks for q in regimes) else None
            text = f"{scale * mean:5.1f} ± {scale * sd:3.1f}" if percent else f"{mean:5.0f} ± {sd:4.0f}"
            text = f"{'-':^{len(text)}s}" if (r, n) not in summary else text
            cells.append(text + ("*" if best == r else " "))
        lines.append(f"{REGIME_NAMES[r]:{width}s} | " + " | ".join(cells))
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
