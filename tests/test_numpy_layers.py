"""utils.numpy_layers: the hand-written batch normalisation and dropout agree with Keras' layers."""

from __future__ import annotations

import numpy as np
import pytest

from utils import numpy_layers as nl
from utils.errors import CourseError

keras = pytest.importorskip("keras")


def _batches(shape=(32, 5, 5, 3), n=4, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(2.0, 3.0, size=shape).astype("float32") for _ in range(n)]


@pytest.mark.parametrize("shape", [(16, 4), (8, 5, 5, 3)])
def test_batchnorm_matches_keras_in_training_and_inference(shape):
    ours = nl.BatchNorm(shape[-1])
    theirs = keras.layers.BatchNormalization()
    theirs.build(shape)
    for batch in _batches(shape):
        expected = np.asarray(theirs(batch, training=True))
        got = ours(batch, training=True)
        np.testing.assert_allclose(got, expected, atol=1e-4)
    np.testing.assert_allclose(ours.moving_mean, np.asarray(theirs.moving_mean), atol=1e-5)
    np.testing.assert_allclose(ours.moving_var, np.asarray(theirs.moving_variance), atol=1e-4)
    test = _batches(shape, n=1, seed=9)[0]
    np.testing.assert_allclose(ours(test, training=False), np.asarray(theirs(test, training=False)), atol=1e-4)


def test_batchnorm_training_output_is_standardised_and_inference_is_not():
    bn = nl.BatchNorm(3)
    x = _batches((64, 3), n=1)[0]
    y = bn(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-3)
    # after one step the running averages have hardly moved from (0, 1): inference barely changes the input
    assert abs(bn(x, training=False).mean() - x.mean()) < 0.2


def test_batchnorm_wrong_momentum_or_width_or_no_batch():
    with pytest.raises(CourseError):
        nl.BatchNorm(3, momentum=1.5)
    with pytest.raises(CourseError):
        nl.BatchNorm(3)(np.zeros((4, 2)), training=True)
    with pytest.raises(CourseError):
        nl.BatchNorm(3)(np.zeros(3))


def test_a_wrong_batchnorm_would_fail_the_keras_check():
    """Unbiased variance (ddof=1) is a plausible slip; the comparison above must catch it."""
    x = _batches((8, 3), n=1)[0]
    layer = keras.layers.BatchNormalization()
    layer.build(x.shape)
    wrong = (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + nl.EPSILON)
    assert not np.allclose(wrong, np.asarray(layer(x, training=True)), atol=1e-4)


def test_dropout_like_keras():
    rate = 0.25
    x = np.ones((200, 500), dtype="float32") * 3.0
    ours = nl.dropout(x, rate, training=True, rng=np.random.default_rng(0))
    theirs = np.asarray(keras.layers.Dropout(rate, seed=1)(x, training=True))
    for out in (ours, theirs):
        assert set(np.unique(np.round(out, 4))) == {0.0, 4.0}   # dropped, or kept and scaled by 1/(1-rate)
        assert abs((out == 0).mean() - rate) < 0.01
        assert abs(out.mean() - 3.0) < 0.05                    # the expected value is unchanged
    np.testing.assert_array_equal(nl.dropout(x, rate, training=False), x)
    np.testing.assert_array_equal(np.asarray(keras.layers.Dropout(rate)(x, training=False)), x)


def test_dropout_bad_rate():
    for rate in (1.0, -0.1):
        with pytest.raises(CourseError):
            nl.dropout(np.ones(3), rate, training=True)
    with pytest.raises(CourseError):
        nl.dropout(np.ones(3), 1.2, training=False)
