"""Learning a similarity function (notebook 13): pairs, a siamese network with a contrastive loss, N-way
one-shot evaluation, and verification with a distance threshold (ROC curve).

The lecture notes' face-verification problem: with one photo per person you cannot train a softmax over
people, and a new person would mean retraining. Instead learn ``d(img1, img2)``, small for the same person
and large for different ones. Here the "people" are digit classes: the embedding CNN is trained on some
classes and tested on classes it never saw.

- :func:`make_pairs` draws balanced same/different pairs; :func:`build_siamese` puts one embedding CNN on both
  images.
- :func:`contrastive_loss` (Hadsell, Chopra and LeCun 2006) on the distance of a pair, with :data:`MARGIN`, is
  lesson code: written in notebook 13 and copied here by ``make export`` (the generated block at the end of this
  file: edit the notebook, not the block).
- :func:`one_shot_accuracy` runs N-way one-shot trials on embeddings: one example ("support") of each of
  N classes, one query from one of them, and the answer is the nearest support.
- :func:`roc_curve`, :func:`auc` and :func:`best_threshold` turn pair distances into a verification rule.

Importing this module imports Keras.
"""

from __future__ import annotations

import numpy as np

from utils import env
from utils.errors import CourseError

env.quiet_tensorflow()
import keras  # noqa: E402  (after quiet_tensorflow: no start-up chatter)
from keras import ops  # noqa: E402  (the generated contrastive_loss is written with keras.ops)

def make_pairs(y: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` pairs of indices into ``y`` (``first``, ``second``) and ``same`` (1.0 for a pair of one class,
    0.0 otherwise): half the pairs same-class (two different images), half different-class."""
    y = np.asarray(y)
    classes = np.unique(y)
    if len(classes) < 2:
        raise CourseError("pairs need at least two classes.")
    rng = np.random.default_rng(seed)
    by_class = {c: np.flatnonzero(y == c) for c in classes}
    first = rng.integers(len(y), size=n)
    same = (np.arange(n) % 2 == 0).astype(np.float32)
    rng.shuffle(same)
    second = np.empty(n, np.int64)
    for i, (a, s) in enumerate(zip(first, same)):
        if s:
            pool = by_class[y[a]]
            b = a
            while b == a and len(pool) > 1:
                b = pool[rng.integers(len(pool))]
        else:
            other = classes[classes != y[a]][rng.integers(len(classes) - 1)]
            pool = by_class[other]
            b = pool[rng.integers(len(pool))]
        second[i] = b
    return first, second, same


def build_embedding(dim: int = 16, name: str = "embedding") -> "keras.Model":
    """A small CNN from a 28x28 image to ``dim`` numbers: two convolution + pooling blocks and a Dense layer."""
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1), name="image")
    h = layers.Conv2D(16, 3, activation="relu", name="conv1")(inputs)
    h = layers.MaxPooling2D(2, name="pool1")(h)
    h = layers.Conv2D(32, 3, activation="relu", name="conv2")(h)
    h = layers.MaxPooling2D(2, name="pool2")(h)
    h = layers.Flatten(name="flatten")(h)
    h = layers.Dense(64, activation="relu", name="dense")(h)
    outputs = layers.Dense(dim, dtype="float32", name="code")(h)
    return keras.Model(inputs, outputs, name=name)


def build_siamese(embedding: "keras.Model", name: str = "siamese") -> "keras.Model":
    """Two images in, one distance out: the *same* ``embedding`` (shared weights) on both, then the
    Euclidean distance of the two codes."""
    from keras import layers

    a = keras.Input(shape=(28, 28, 1), name="first")
    b = keras.Input(shape=(28, 28, 1), name="second")
    ea, eb = embedding(a), embedding(b)
    # float32 under any policy: in float16 the floor 1e-9 would round to 0, and sqrt's gradient at 0 is infinite
    squared = layers.Lambda(lambda t: keras.ops.sum((t[0] - t[1]) ** 2, axis=-1, keepdims=True),
                            dtype="float32", name="squared_distance")([ea, eb])
    distance = layers.Lambda(lambda s: keras.ops.sqrt(keras.ops.maximum(s, 1e-9)), dtype="float32",
                             name="distance")(squared)
    return keras.Model([a, b], distance, name=name)


def distances(codes_a: np.ndarray, codes_b: np.ndarray) -> np.ndarray:
    """Euclidean distance between matching rows of two code arrays."""
    return np.sqrt(np.sum((np.asarray(codes_a, float) - np.asarray(codes_b, float)) ** 2, axis=-1))


def one_shot_accuracy(codes: np.ndarray, y: np.ndarray, n_way: int, trials: int = 1000,
                      seed: int = 0) -> float:
    """Share of ``trials`` N-way one-shot trials answered right, on precomputed ``codes`` (one row per image).

    A trial draws ``n_way`` distinct classes, one support image of each, and a query image of the first of
    them (never the support image itself); it is right when the query's nearest support (Euclidean) is its own
    class. Chance is 1 / ``n_way``. A tie between k nearest supports, the right one among them, counts 1/k (so
    an embedding that maps everything to one point scores chance, not 100%).
    """
    codes, y = np.asarray(codes, float), np.asarray(y)
    classes = np.unique(y)
    if not 2 <= n_way <= len(classes):
        raise CourseError(f"n_way must be between 2 and the number of classes ({len(classes)}), got {n_way}.")
    by_class = {c: np.flatnonzero(y == c) for c in classes}
    if min(len(v) for v in by_class.values()) < 2:
        raise CourseError("every class needs at least two images (a support and a query).")
    rng = np.random.default_rng(seed)
    right = 0.0
    for _ in range(trials):
        picked = rng.choice(classes, size=n_way, replace=False)
        support = [by_class[c][rng.integers(len(by_class[c]))] for c in picked]
        own = by_class[picked[0]]
        query = support[0]
        while query == support[0]:
            query = own[rng.integers(len(own))]
        d = distances(codes[support], codes[query][None])
        nearest = np.flatnonzero(d == d.min())
        right += 1.0 / len(nearest) if nearest[0] == 0 else 0.0
    return right / trials


def roc_curve(distance: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The verification ROC: for every threshold t ("same if distance <= t"), the false positive rate (share of
    different pairs accepted) and the true positive rate (share of same pairs accepted). Returns
    ``(fpr, tpr, thresholds)`` from the strictest threshold (nothing accepted) to the loosest (all accepted)."""
    distance, same = np.asarray(distance, float).ravel(), np.asarray(same).ravel().astype(bool)
    if distance.shape != same.shape or same.all() or not same.any():
        raise CourseError("need one same/different flag per distance, and both kinds of pair.")
    from sklearn import metrics

    # scikit-learn ranks by a score where higher means "same": the negative distance
    fpr, tpr, scores = metrics.roc_curve(same, -distance, drop_intermediate=False)
    return fpr, tpr, -scores


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under an ROC curve (trapezoids, scikit-learn's ``metrics.auc``): 1.0 separates perfectly, 0.5 is chance."""
    from sklearn import metrics

    return float(metrics.auc(np.asarray(fpr, float), np.asarray(tpr, float)))


def best_threshold(distance: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The threshold that gets the most pairs right ("same if distance <= t") and that accuracy. Choose it
    on validation pairs, then report its accuracy on test pairs."""
    distance, same = np.asarray(distance, float).ravel(), np.asarray(same).ravel().astype(bool)
    fpr, tpr, thresholds = roc_curve(distance, same)
    correct = tpr * same.sum() + (1 - fpr) * (~same).sum()
    k = int(np.argmax(correct))
    return float(thresholds[k]), float(correct[k] / len(same))


def verification_accuracy(distance: np.ndarray, same: np.ndarray, threshold: float) -> float:
    """Share of pairs a threshold gets right: same pairs at or below it, different pairs above."""
    distance, same = np.asarray(distance, float).ravel(), np.asarray(same).ravel().astype(bool)
    return float(np.mean((distance <= threshold) == same))


# >>> generated from notebooks/13_cnns_at_work.ipynb by `make export`: edit the notebook, not this block
MARGIN = 1.0   # different-class pairs closer than this are pushed apart


def contrastive_loss(same, distance, margin=MARGIN):
    """Hadsell, Chopra and LeCun (2006), averaged over the pairs: same * d**2 + (1 - same) * max(margin - d, 0)**2."""
    same = ops.cast(same, "float32")                                  # 1 for a same-class pair, 0 otherwise
    distance = ops.cast(ops.reshape(distance, ops.shape(same)), "float32")
    pull = same * distance ** 2                                       # same class: pull the two codes together
    push = (1.0 - same) * ops.maximum(margin - distance, 0.0) ** 2    # different: push to `margin` apart, no further
    return ops.mean(pull + push)
# <<< generated from notebooks/13_cnns_at_work.ipynb
