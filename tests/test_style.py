"""utils.style: the Gram matrix by hand (NumPy and tensors agree), the relative losses, the random VGG-style
network, the feature extractor, a few optimisation steps that lower the loss, and the offline VGG19 path."""

from __future__ import annotations

import numpy as np
import pytest

from utils import style
from utils.errors import CourseError


def test_gram_matrix_by_hand():
    f = np.zeros((2, 2, 2))
    f[..., 0] = [[1, 2], [3, 4]]
    f[..., 1] = [[1, 0], [0, 1]]
    # channel 0 with itself: 1+4+9+16 = 30; with channel 1: 1+4 = 5; channel 1 with itself: 2
    assert np.array_equal(style.gram_matrix(f, normalize=False), [[30, 5], [5, 2]])
    assert np.allclose(style.gram_matrix(f), np.array([[30, 5], [5, 2]]) / 4)


def test_gram_matrix_batch_and_tensor_agree():
    import keras

    rng = np.random.default_rng(0)
    f = rng.random((3, 5, 4, 6)).astype(np.float32)
    numpy_gram = style.gram_matrix(f)
    tensor_gram = keras.ops.convert_to_numpy(style.gram_matrix(keras.ops.convert_to_tensor(f)))
    assert numpy_gram.shape == (3, 6, 6)
    assert np.allclose(numpy_gram, tensor_gram, atol=1e-5)
    assert np.allclose(numpy_gram[1], numpy_gram[1].T)


def test_gram_ignores_where_features_are():
    rng = np.random.default_rng(1)
    f = rng.random((6, 6, 3))
    shuffled = rng.permutation(f.reshape(36, 3)).reshape(6, 6, 3)  # same features, other places
    assert np.allclose(style.gram_matrix(f), style.gram_matrix(shuffled))


def test_gram_rejects_wrong_rank():
    with pytest.raises(CourseError):
        style.gram_matrix(np.zeros((4, 4)))


def test_relative_losses():
    import keras

    a = np.ones((1, 4, 4, 2), np.float32)
    assert float(keras.ops.convert_to_numpy(style.content_loss(a, a))) == 0
    assert float(keras.ops.convert_to_numpy(style.content_loss(0 * a, a))) == pytest.approx(1.0)
    grams = [style.gram_matrix(a)]
    assert float(keras.ops.convert_to_numpy(style.style_loss([a], grams))) == pytest.approx(0.0)
    assert float(keras.ops.convert_to_numpy(style.style_loss([0 * a], grams))) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(CourseError):
        style.style_loss([a, a], grams)


def test_random_vgg_names_shapes_and_seed():
    net = style.random_vgg(blocks=((4, 2), (8, 1)), seed=3)
    assert [layer.name for layer in net.layers if "conv" in layer.name] == [
        "block1_conv1", "block1_conv2", "block2_conv1"]
    assert net.predict(np.zeros((1, 16, 24, 3), np.float32), verbose=0).shape == (1, 8, 12, 8)
    same = style.random_vgg(blocks=((4, 2), (8, 1)), seed=3)
    other = style.random_vgg(blocks=((4, 2), (8, 1)), seed=4)
    assert np.array_equal(net.get_weights()[0], same.get_weights()[0])
    assert not np.array_equal(net.get_weights()[0], other.get_weights()[0])


def test_feature_extractor_and_errors():
    net = style.random_vgg(blocks=((4, 1), (8, 1)))
    extract = style.feature_extractor(net, ["block1_conv1", "block2_conv1"])
    maps = extract(np.zeros((1, 8, 8, 3), np.float32))
    assert [tuple(m.shape) for m in maps] == [(1, 8, 8, 4), (1, 4, 4, 8)]
    with pytest.raises(CourseError):
        style.feature_extractor(net, ["block9_conv1"])
    with pytest.raises(CourseError):
        style.feature_extractor(net, ["block1_conv1"], preprocess="torch")


def test_synthesis_lowers_the_loss_and_stays_in_range():
    rng = np.random.default_rng(0)
    texture = rng.random((16, 16, 3)).astype(np.float32)
    content = np.linspace(0, 1, 16 * 16 * 3, dtype=np.float32).reshape(16, 16, 3)
    net = style.random_vgg(blocks=((8, 1), (8, 1)))
    extract = style.feature_extractor(net, ["block1_conv1", "block2_conv1", "block2_conv1"])
    image, history = style.synthesize(extract, texture, content=content, steps=25, content_weight=0.1,
                                      learning_rate=0.05)
    assert image.shape == (16, 16, 3) and image.min() >= 0 and image.max() <= 1
    assert history["style"][-1] < 0.5 * history["style"][0]
    assert len(history["seconds"]) == 25
    with pytest.raises(CourseError):
        style.synthesize(extract, texture, content=content, steps=1)  # content without a weight


def test_to_unit_squares_and_scales():
    gray = np.tile(np.arange(40, dtype=np.uint8), (20, 1))
    out = style.to_unit(gray, size=8)
    assert out.shape == (8, 8, 3) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1


def test_vgg19_offline_prints_one_line(capsys):
    assert style.imagenet_vgg19(is_online=lambda: False) is None
    assert capsys.readouterr().out.count("\n") == 1
