"""utils.upscaling: shrinking by block means, bicubic up-sampling, PSNR with known answers, the up-scaler's
shapes (any input size)."""

from __future__ import annotations

import numpy as np
import pytest

from utils import upscaling as up
from utils.errors import CourseError


def test_shrink_averages_blocks():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    assert np.array_equal(up.shrink(image, 2), [[2.5, 4.5], [10.5, 12.5]])
    assert up.shrink(np.zeros((3, 28, 28)), 4).shape == (3, 7, 7)
    with pytest.raises(CourseError):
        up.shrink(np.zeros((5, 5)), 2)


def test_bicubic_keeps_flat_images_flat():
    flat = np.full((2, 7, 7), 0.3, np.float32)
    out = up.bicubic(flat, 4)
    assert out.shape == (2, 28, 28) and np.allclose(out, 0.3, atol=1e-5)


def test_psnr_known_answers():
    a = np.zeros((4, 4))
    assert up.psnr(a, a) == float("inf")
    assert up.psnr(a, a + 0.1) == pytest.approx(20.0)  # MSE 0.01 -> 10 log10(1 / 0.01)
    assert up.psnr(a, a + 0.01) == pytest.approx(40.0)
    assert np.allclose(up.psnr_per_image(np.zeros((2, 4, 4)), np.stack([a + 0.1, a + 0.01])), [20, 40])
    with pytest.raises(CourseError):
        up.psnr(a, np.zeros((2, 2)))


def test_upscaler_weights_work_at_any_size():
    model = up.build_upscaler(filters=(4, 4))
    out = model.predict(np.full((1, 7, 7, 1), 0.5, np.float32), verbose=0)
    assert out.shape == (1, 28, 28, 1) and out.min() >= 0 and out.max() <= 1
    other = up.build_upscaler(filters=(4, 4), input_shape=(5, 9, 1))
    other.set_weights(model.get_weights())
    assert other.predict(np.zeros((2, 5, 9, 1), np.float32), verbose=0).shape == (2, 20, 36, 1)
