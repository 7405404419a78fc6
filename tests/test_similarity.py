"""utils.similarity: balanced pairs, the contrastive loss by hand, the siamese network shares one embedding,
N-way one-shot accuracy with known answers (perfect, chance, ties), ROC/AUC and the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from utils import similarity as sim
from utils.errors import CourseError


def test_pairs_are_balanced_and_correct():
    y = np.repeat(np.arange(4), 25)
    first, second, same = sim.make_pairs(y, 400, seed=0)
    assert same.mean() == 0.5
    assert np.array_equal(y[first] == y[second], same.astype(bool))
    assert np.all(first[same == 1] != second[same == 1])  # never an image paired with itself
    again = sim.make_pairs(y, 400, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((first, second, same), again))


def test_pairs_need_two_classes():
    with pytest.raises(CourseError):
        sim.make_pairs(np.zeros(10, int), 4)


def test_contrastive_loss_by_hand():
    import keras

    same = np.array([1.0, 0.0, 0.0])
    d = np.array([0.5, 0.25, 2.0])
    # same pair: 0.5**2; different pair inside the margin: (1 - 0.25)**2; outside the margin: 0
    want = (0.25 + 0.5625 + 0.0) / 3
    got = float(keras.ops.convert_to_numpy(sim.contrastive_loss(same, d)))
    assert got == pytest.approx(want)
    assert float(keras.ops.convert_to_numpy(sim.contrastive_loss(same, d, margin=3.0))) == pytest.approx(
        (0.25 + 2.75 ** 2 + 1.0) / 3)


def test_siamese_shares_the_embedding_and_measures_distance():
    emb = sim.build_embedding(dim=4)
    net = sim.build_siamese(emb)
    assert net.count_params() == emb.count_params()  # one set of weights for both images
    rng = np.random.default_rng(0)
    a, b = rng.random((3, 28, 28, 1), np.float32), rng.random((3, 28, 28, 1), np.float32)
    d = net.predict([a, b], verbose=0)[:, 0]
    want = sim.distances(emb.predict(a, verbose=0), emb.predict(b, verbose=0))
    assert np.allclose(d, want, atol=1e-3)
    assert np.allclose(net.predict([a, a], verbose=0), 0, atol=1e-3)


def test_one_shot_perfect_embedding_scores_one():
    y = np.repeat(np.arange(5), 10)
    codes = np.eye(5)[y] * 10 + np.random.default_rng(0).normal(0, 0.01, (50, 5))
    for n in (2, 5):
        assert sim.one_shot_accuracy(codes, y, n, trials=200) == 1.0


def test_one_shot_constant_embedding_scores_chance_exactly():
    y = np.repeat(np.arange(5), 10)
    codes = np.zeros((50, 3))
    assert sim.one_shot_accuracy(codes, y, 2, trials=100) == pytest.approx(0.5)
    assert sim.one_shot_accuracy(codes, y, 5, trials=100) == pytest.approx(0.2)


def test_one_shot_random_embedding_is_near_chance():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(5), 40)
    codes = rng.normal(size=(200, 8))
    assert abs(sim.one_shot_accuracy(codes, y, 5, trials=2000, seed=2) - 0.2) < 0.04


def test_one_shot_errors():
    y = np.repeat(np.arange(3), 5)
    with pytest.raises(CourseError):
        sim.one_shot_accuracy(np.zeros((15, 2)), y, 4)
    with pytest.raises(CourseError):
        sim.one_shot_accuracy(np.zeros((3, 2)), np.arange(3), 2)


def test_roc_auc_and_threshold_known_answers():
    distance = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    same = np.array([1, 1, 0, 1, 0, 0])
    fpr, tpr, thresholds = sim.roc_curve(distance, same)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    # ranks: one different pair (0.3) is nearer than one same pair (0.4): AUC = 1 - 1/9
    assert sim.auc(fpr, tpr) == pytest.approx(8 / 9)
    t, acc = sim.best_threshold(distance, same)
    assert t in (0.2, 0.4) and acc == pytest.approx(5 / 6)
    assert sim.verification_accuracy(distance, same, 0.2) == pytest.approx(5 / 6)
    assert sim.verification_accuracy(distance, same, 10.0) == pytest.approx(0.5)


def test_perfectly_separated_distances_give_auc_one():
    fpr, tpr, _ = sim.roc_curve(np.array([0.1, 0.2, 0.8, 0.9]), np.array([1, 1, 0, 0]))
    assert sim.auc(fpr, tpr) == 1.0
    assert sim.best_threshold(np.array([0.1, 0.2, 0.8, 0.9]), np.array([1, 1, 0, 0])) == (0.2, 1.0)


def test_roc_needs_both_kinds_of_pair():
    with pytest.raises(CourseError):
        sim.roc_curve(np.array([0.1, 0.2]), np.array([1, 1]))
