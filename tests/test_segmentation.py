"""utils.segmentation: canvases (shapes, labels where the ink is, overlap rule, seeds, errors), IoU with known
answers, and the U-Net's shapes on canvases of any size."""

from __future__ import annotations

import numpy as np
import pytest

from utils import segmentation as seg
from utils.errors import CourseError


def squares(n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Digits that are a solid 10x10 square (ink 200) in a 28x28 box, labelled 0..9."""
    x = np.zeros((n, 28, 28), np.uint8)
    x[:, 9:19, 9:19] = 200
    return x, np.arange(n) % 10


def test_canvas_shapes_range_and_labels_follow_the_ink():
    x, y = squares()
    images, masks = seg.make_canvases(x, y, 50, size=64, seed=0)
    assert images.shape == masks.shape == (50, 64, 64)
    assert images.dtype == np.float32 and masks.dtype == np.uint8
    assert images.min() >= 0 and images.max() <= 1
    inked = images >= seg.INK_THRESHOLD / 255
    assert np.array_equal(masks > 0, inked)  # every inked pixel has a digit class, the rest is background
    assert masks.max() <= 10
    counts = [(m > 0).sum() // 100 for m in masks]  # each square is 100 pixels unless squares overlap
    assert 1 <= min(counts) and max(counts) <= 3


def test_canvas_label_is_digit_plus_one():
    x = np.zeros((1, 28, 28), np.uint8)
    x[0, 5:10, 5:10] = 255
    _, masks = seg.make_canvases(x, np.array([7]), 5, size=28, max_digits=1)
    assert set(np.unique(masks)) == {0, 8}
    assert np.all((masks == 8).sum(axis=(1, 2)) == 25)


def test_overlap_goes_to_the_digit_with_more_ink():
    faint, strong = np.zeros((28, 28), np.uint8), np.zeros((28, 28), np.uint8)
    faint[:, :] = 150
    strong[:, :] = 250
    x, y = np.stack([faint, strong]), np.array([1, 2])
    _, masks = seg.make_canvases(x, y, 40, size=28, min_digits=2, max_digits=2, seed=3)
    # on a 28-pixel canvas both digits cover everything: the strong one (label 2 -> class 3) must win
    assert np.all(masks[[i for i in range(40)]] != 0)
    two_kinds = [m for m in masks if len(np.unique(m)) == 1]
    assert two_kinds and all(np.unique(m)[0] in (2, 3) for m in masks)


def test_same_seed_same_canvases_other_seed_differs():
    x, y = squares()
    a = seg.make_canvases(x, y, 5, seed=1)
    b = seg.make_canvases(x, y, 5, seed=1)
    c = seg.make_canvases(x, y, 5, seed=2)
    assert np.array_equal(a[1], b[1]) and not np.array_equal(a[1], c[1])


def test_canvas_errors():
    x, y = squares()
    with pytest.raises(CourseError):
        seg.make_canvases(x, y, 2, size=20)
    with pytest.raises(CourseError):
        seg.make_canvases(x[0], y, 2)
    with pytest.raises(CourseError):
        seg.make_canvases(x, y, 2, min_digits=3, max_digits=2)


def test_iou_known_answers():
    true = np.array([[0, 0, 1, 1],
                     [0, 0, 1, 1]])
    pred = np.array([[0, 1, 1, 1],
                     [0, 0, 1, 2]])
    iou = seg.iou_per_class(true, pred, n_classes=4)
    # class 0: intersection 3, union 4; class 1: intersection 3, union 5; class 2: 0 / 1; class 3: absent
    assert iou[0] == pytest.approx(3 / 4) and iou[1] == pytest.approx(3 / 5) and iou[2] == 0
    assert np.isnan(iou[3])
    assert seg.mean_iou(true, pred, n_classes=4) == pytest.approx((0.75 + 0.6 + 0) / 3)
    assert seg.mean_iou(true, true, n_classes=4) == 1.0


def test_iou_is_not_pixel_accuracy():
    true = np.zeros((10, 10), int)
    true[0, 0] = 1
    pred = np.zeros((10, 10), int)  # 99% of pixels right, the one object missed
    assert seg.iou_per_class(true, pred, 2)[1] == 0.0


def test_iou_errors():
    with pytest.raises(CourseError):
        seg.iou_per_class(np.zeros((2, 2), int), np.zeros((3, 3), int))
    with pytest.raises(CourseError):
        seg.iou_per_class(np.full((2, 2), 11), np.zeros((2, 2), int))


def test_unet_is_fully_convolutional():
    model = seg.build_unet(filters=(4, 8, 8))
    for size in (32, 64, 96):
        out = model.predict(np.zeros((1, size, size, 1), np.float32), verbose=0)
        assert out.shape == (1, size, size, seg.N_CLASSES)
        assert np.allclose(out.sum(-1), 1, atol=1e-3)
    assert not any("dense" in layer.name for layer in model.layers)


def test_predict_and_colour_masks():
    model = seg.build_unet(filters=(4, 8))
    masks = seg.predict_masks(model, np.zeros((2, 16, 16), np.float32))
    assert masks.shape == (2, 16, 16) and masks.dtype == np.uint8
    rgb = seg.colour_masks(np.array([[0, 3]]))
    assert rgb.shape == (1, 2, 3) and np.all(rgb[0, 0] == 0) and rgb[0, 1].sum() > 0
