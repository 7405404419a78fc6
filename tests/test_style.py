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
    # channel 0 with itself: 1+4+9+16 = 30; with channel 1: 1+4 = 5; channel 1 with itself: 2; 4 positions
    assert np.allclose(np.asarray(style.gram_matrix(f)), np.array([[30, 5], [5, 2]]) / 4)


def test_gram_matrix_batch_and_tensor_agree():
    import keras

    rng = np.random.default_rng(0)
    f = rng.random((3, 5, 4, 6)).astype(np.float32)
    numpy_gram = np.asarray(style.gram_matrix(f))
    tensor_gram = keras.ops.convert_to_numpy(style.gram_matrix(keras.ops.convert_to_tensor(f)))
    assert numpy_gram.shape == (3, 6, 6)
    assert np.allclose(numpy_gram, tensor_gram, atol=1e-5)
    assert np.allclose(numpy_gram[1], numpy_gram[1].T)


def test_gram_ignores_where_features_are():
    rng = np.random.default_rng(1)
    f = rng.random((6, 6, 3))
    shuffled = rng.permutation(f.reshape(36, 3)).reshape(6, 6, 3)  # same features, other places
    assert np.allclose(style.gram_matrix(f), style.gram_matrix(shuffled))


def test_gram_rejects_a_map_without_channels():
    with pytest.raises(Exception):
        style.gram_matrix(np.zeros((4, 4)))


def test_relative_losses():
    import keras

    a = np.ones((1, 4, 4, 2), np.float32)
    assert float(keras.ops.convert_to_numpy(style.content_loss(a, a))) == 0
    assert float(keras.ops.convert_to_numpy(style.content_loss(0 * a, a))) == pytest.approx(1.0)
    grams = [style.gram_matrix(a)]
    assert float(keras.ops.convert_to_numpy(style.style_loss([a], grams, [1.0]))) == pytest.approx(0.0)
    assert float(keras.ops.convert_to_numpy(style.style_loss([0 * a], grams, [1.0]))) == pytest.approx(1.0, abs=1e-6)
    # two layers, weights 0.25 and 0.75: only the second is wrong
    two = style.style_loss([a, 0 * a], grams * 2, [0.25, 0.75])
    assert float(keras.ops.convert_to_numpy(two)) == pytest.approx(0.75, abs=1e-6)


def test_total_variation_is_zero_when_flat_and_counts_both_directions():
    import keras

    flat = np.full((1, 4, 5, 3), 0.3, np.float32)
    assert float(keras.ops.convert_to_numpy(style.total_variation(flat))) == pytest.approx(0.0)
    stripes = np.zeros((1, 4, 4, 1), np.float32)
    stripes[:, :, 1::2] = 1.0   # columns alternate 0, 1: every step across changes by 1, no step down changes
    assert float(keras.ops.convert_to_numpy(style.total_variation(stripes))) == pytest.approx(1.0)
    assert float(keras.ops.convert_to_numpy(style.total_variation(np.swapaxes(stripes, 1, 2)))) == pytest.approx(1.0)


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
    assert len(history["seconds"]) == 25 and len(history["tv"]) == 25
    smooth, smooth_history = style.synthesize(extract, texture, content=content, steps=25, content_weight=0.1,
                                              learning_rate=0.05, tv_weight=5.0)
    tv = lambda x: float(np.asarray(style.total_variation(x[None])))  # noqa: E731
    assert tv(smooth) < tv(image), "a total-variation cost gives a smoother image"
    with pytest.raises(CourseError):
        style.synthesize(extract, texture, content=content, steps=1)  # content without a weight


def test_to_unit_squares_and_scales():
    gray = np.tile(np.arange(40, dtype=np.uint8), (20, 1))
    out = style.to_unit(gray, size=8)
    assert out.shape == (8, 8, 3) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1


def test_vgg19_offline_prints_one_line(capsys):
    assert style.imagenet_vgg19(is_online=lambda: False) is None
    assert capsys.readouterr().out.count("\n") == 1


def test_the_notebooks_style_step_is_the_exported_one():
    from pathlib import Path

    import nbformat

    root = Path(__file__).resolve().parent.parent
    nb = nbformat.read(root / "notebooks" / "13_cnns_at_work.ipynb", as_version=4)
    module = (root / "utils" / "style.py").read_text()
    exported = [c.source.partition("\n")[2] for c in nb.cells
                if c.cell_type == "code" and c.source.startswith("#@save utils.style")]
    assert len(exported) == 2, "notebook 13 exports the Gram matrix with the two costs, and the style step"
    for code in exported:
        assert code in module, f"utils/style.py lacks the notebook's cell starting {code[:60]!r}: make export"
    assert "def style_step" in module and "def gram_matrix" in module


def test_exercise_q7_takes_an_ops_gram_and_rejects_plausible_mistakes():
    from keras import ops

    from utils.exercises import nb13 as ex

    def with_ops(features):
        b, h, w, c = ops.shape(features)
        a = ops.reshape(ops.cast(features, "float32"), (b, h * w, c))
        return ops.matmul(ops.transpose(a, (0, 2, 1)), a) / (h * w)

    assert ex.q7.evaluate(with_ops).ok is True
    assert ex.q7.evaluate(lambda f: ops.einsum("bijk,bijl->bkl", f, f) / (f.shape[1] * f.shape[2])).ok is True
    assert ex.q7.evaluate(style.gram_matrix).ok is True   # the course's own passes
    for wrong in ex.q7.wrong_examples:
        verdict = ex.q7.evaluate(wrong)
        assert verdict.ok is False and "test case" in verdict.message, wrong.__name__

    def stub(features):
        ...

    assert ex.q7.evaluate(stub).ok is None


def test_exercise_q2_answer_is_what_a_three_pooling_unet_accepts():
    from utils import segmentation as seg
    from utils.exercises import nb13 as ex

    net = seg.build_unet(filters=(4, 4, 4, 4))
    side = ex.q2.solution_value
    assert net.predict(np.zeros((1, side, side, 1), np.float32), verbose=0).shape[1:3] == (side, side)
    for smaller in range(101, side):
        with pytest.raises(Exception):
            net.predict(np.zeros((1, smaller, smaller, 1), np.float32), verbose=0)
