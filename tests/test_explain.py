"""utils.explain: receptive-field arithmetic, and Grad-CAM, saliency and occlusion on models with a known answer.

The known-answer model looks only at the top-left quadrant of a 12x12 image (a fixed mask, then a
convolution and global average pooling), so whatever it decides can only come from there. The test image
has the same bright square in the top-left and in the bottom-right: a correct explanation must light up
the first and leave the second dark.
"""

from __future__ import annotations

import numpy as np
import pytest

from utils.errors import CourseError
from utils.explain import (ReceptiveField, input_window, receptive_field_size, receptive_fields)

# ---------------------------------------------------------------------------------------------- receptive fields


def test_three_3x3_convs_see_7x7():
    assert [rf.size for rf in receptive_fields([(3, 1)] * 3)] == [1, 3, 5, 7]
    assert receptive_field_size([(7, 1)]) == 7


def test_pooling_and_stride_multiply_the_jump():
    rows = receptive_fields([(3, 1), (3, 1), (2, 2), (3, 1)])
    assert [r.size for r in rows] == [1, 3, 5, 6, 10]
    assert [r.jump for r in rows] == [1, 1, 1, 2, 2]


def test_alexnet_conv1_and_pool1():
    rows = receptive_fields([(11, 4), (3, 2)], names=["conv1", "pool1"])
    assert (rows[1].size, rows[1].jump) == (11, 4)
    assert (rows[2].name, rows[2].size, rows[2].jump) == ("pool1", 19, 8)


def test_dilation_widens_the_kernel():
    assert receptive_field_size([(3, 1, 2)]) == 5
    assert receptive_field_size([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == 15


def test_input_window_of_valid_and_same_layers():
    rf = receptive_fields([(3, 1), (3, 1), (2, 2)])[-1]
    assert input_window(rf, 0, 0) == (0, 0, 5, 5)
    assert input_window(rf, 2, 1) == (4, 2, 9, 7)
    same = ReceptiveField("same", 3, 1, -1.0)
    assert input_window(same, 0, 0) == (-1, -1, 1, 1)


def test_bad_layer_spec_is_a_course_error():
    with pytest.raises(CourseError):
        receptive_fields([(3,)])
    with pytest.raises(CourseError):
        receptive_fields([(3, 0)])


# ---------------------------------------------------------------------------------------------- Keras models

keras = pytest.importorskip("keras")


def test_receptive_fields_read_from_a_keras_model():
    from keras import layers

    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3), layers.Conv2D(4, 3),
                              layers.MaxPooling2D(2), layers.Dropout(0.1), layers.Flatten(), layers.Dense(3)])
    rows = receptive_fields(model)
    assert [(r.size, r.jump) for r in rows] == [(1, 1), (3, 1), (5, 1), (6, 2)]
    padded = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 5, padding="same", dilation_rate=2)])
    assert receptive_fields(padded)[-1] == ReceptiveField(padded.layers[0].name, 9, 1, -4.0)


MASK = np.zeros((12, 12, 1), "float32")
MASK[:6, :6] = 1.0                       # the model sees the top-left quadrant only


def _known_answer_layers():
    from keras import layers

    conv = layers.Conv2D(3, 3, padding="same", activation="relu", name="conv")
    head = layers.Dense(2, activation="softmax", name="head")
    return [layers.Lambda(lambda t: t * MASK, name="mask"), conv, layers.GlobalAveragePooling2D(name="gap"), head]


def _set_weights(model):
    conv, head = model.get_layer("conv"), model.get_layer("head")
    conv.set_weights([np.full((3, 3, 1, 3), 1 / 9, "float32"), np.zeros(3, "float32")])
    head.set_weights([np.array([[5.0, -5.0]] * 3, "float32"), np.zeros(2, "float32")])   # class 0 = brightness
    return model


def known_answer_model(functional: bool = False):
    if functional:
        inputs = keras.Input((12, 12, 1))
        x = inputs
        for layer in _known_answer_layers():
            x = layer(x)
        return _set_weights(keras.Model(inputs, x))
    return _set_weights(keras.Sequential([keras.Input((12, 12, 1)), *_known_answer_layers()]))


def two_squares() -> np.ndarray:
    image = np.zeros((12, 12), "float32")
    image[1:4, 1:4] = 1.0     # top-left: the model can see it
    image[8:11, 8:11] = 1.0   # bottom-right: hidden from the model
    return image


def _share_top_left(heat) -> float:
    return float(heat[:6, :6].sum() / heat.sum())


@pytest.mark.parametrize("functional", [False, True])
def test_grad_cam_lights_up_the_only_region_the_class_depends_on(functional):
    from utils.explain import grad_cam

    model = known_answer_model(functional)
    heat = grad_cam(model, two_squares(), "conv", class_index=0)
    assert heat.shape == (12, 12) and heat.max() == pytest.approx(1.0)
    assert _share_top_left(heat) > 0.95
    assert heat[8:11, 8:11].max() < 0.05                 # the hidden square stays dark
    assert heat[2, 2] == heat.max() or heat[2, 2] > 0.9  # the brightest spot is the visible square
    small = grad_cam(model, two_squares(), "conv", class_index=0, upsample=False)
    assert small.shape == (12, 12)


def test_grad_cam_of_a_class_the_region_argues_against_is_empty():
    from utils.explain import grad_cam

    heat = grad_cam(known_answer_model(), two_squares(), "conv", class_index=1)
    assert np.all(heat == 0)


def test_grad_cam_on_a_tiny_conv_map_is_resized_to_the_input():
    from keras import layers

    from utils.explain import grad_cam

    model = keras.Sequential([keras.Input((12, 12, 1)), layers.Conv2D(2, 3, strides=3, activation="relu", name="c"),
                              layers.Flatten(), layers.Dense(2, activation="softmax")])
    heat = grad_cam(model, np.random.default_rng(0).random((12, 12)), "c")
    assert heat.shape == (12, 12) and np.all(heat >= 0) and heat.max() <= 1.0


def test_grad_cam_unknown_layer_names_the_layers():
    from utils.explain import grad_cam

    with pytest.raises(CourseError, match="conv"):
        grad_cam(known_answer_model(), two_squares(), "nope")


def test_scores_are_logits_for_a_softmax_head():
    from utils.explain import class_scores

    scores = class_scores(known_answer_model(), two_squares())
    mean_map = 9 / 144  # a 3x3 box filter keeps the square's total (9); the average pooling spreads it on 144
    assert scores == pytest.approx([5 * 3 * mean_map, -5 * 3 * mean_map], rel=1e-4)   # 3 channels, weights +-5


def test_saliency_is_zero_where_the_model_cannot_see():
    from utils.explain import saliency_map

    sal = saliency_map(known_answer_model(), two_squares(), class_index=0)
    assert sal.shape == (12, 12) and sal.max() == pytest.approx(1.0)
    assert np.all(sal[6:, :] == 0) and np.all(sal[:, 6:] == 0)
    assert sal[1:4, 1:4].min() > 0


def test_occlusion_hurts_only_in_the_visible_region():
    from utils.explain import occlusion_sensitivity

    for measure in ("logit", "log_prob", "prob"):
        occ = occlusion_sensitivity(known_answer_model(), two_squares(), class_index=0, patch=3, stride=1,
                                    measure=measure)
        assert occ.shape == (12, 12)
        assert occ[1:4, 1:4].min() > 0.01
        assert np.abs(occ[8:, 8:]).max() < 1e-6


def test_wrong_image_shape_is_a_course_error():
    from utils.explain import saliency_map

    with pytest.raises(CourseError, match="12, 12"):
        saliency_map(known_answer_model(), np.zeros((10, 10)))


def test_overlay_is_rgb_in_unit_range():
    from utils.explain import overlay

    pic = overlay(two_squares(), np.random.default_rng(1).random((12, 12)))
    assert pic.shape == (12, 12, 3) and pic.min() >= 0 and pic.max() <= 1


def saturated_model():
    """Class 0's logit minus class 1's is 80 x the mean brightness of the image's top-left quadrant."""
    from keras import layers

    model = keras.Sequential([keras.Input((12, 12, 1)), layers.Lambda(lambda t: t * MASK, name="mask"),
                              layers.GlobalAveragePooling2D(name="gap"),
                              layers.Dense(2, activation="softmax", name="head")])
    model.get_layer("head").set_weights([np.array([[80.0, -80.0]], "float32"), np.zeros(2, "float32")])
    return model


def test_occlusion_in_log_probability_sees_what_a_saturated_probability_hides():
    from utils.explain import class_scores_batch, occlusion_sensitivity

    model, image = saturated_model(), np.ones((12, 12), "float32")
    assert class_scores_batch(model, image[None], "prob")[0, 0] == 1.0          # exactly 1, even in float64
    by_prob = occlusion_sensitivity(model, image, 0, patch=3, stride=3, measure="prob")
    by_log = occlusion_sensitivity(model, image, 0, patch=3, stride=3, measure="log_prob")
    by_logit = occlusion_sensitivity(model, image, 0, patch=3, stride=3)          # the logit, the default
    assert np.abs(by_prob).max() < 1e-6                    # covering a patch barely moves a probability of 1.000
    assert by_logit[:6, :6].min() > 1 and np.abs(by_logit[6:, :]).max() < 1e-6    # the logit drops by units
    assert by_log[:6, :6].min() > 0 and np.abs(by_log[6:, 6:]).max() == 0         # log-probability: small, not 0
    logp = class_scores_batch(model, image[None], "log_prob")[0]
    assert logp[0] < 0 and logp[1] == pytest.approx(-40.0)                       # log1p: no log(0), no rounding
    assert np.exp(logp).sum() == pytest.approx(1.0)
    with pytest.raises(CourseError, match="measure"):
        class_scores_batch(model, image[None], "probability")
