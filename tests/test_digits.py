"""utils.digits: MNIST-style preprocessing on synthetic strokes, safe uploads, other people's digits."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from utils import digits
from utils.errors import CourseError

VERTICAL = [[(0.5, 0.15), (0.5, 0.85)]]
SEVEN = [[(0.25, 0.2), (0.7, 0.2), (0.42, 0.85)]]


def png(array: np.ndarray, mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_thin_vertical_stroke_becomes_a_centred_one():
    out = digits.preprocess_digit(digits.draw_strokes(VERTICAL, size=280, width=4))
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 1.0
    rows = np.nonzero(out.max(axis=1) > 0.3)[0]
    cols = np.nonzero(out.max(axis=0) > 0.3)[0]
    assert rows.max() - rows.min() + 1 == 20            # longest side scaled to 20 px
    assert 1 <= len(cols) <= 4                          # still a thin stroke, thickened to MNIST's ~2 px
    cy, cx = digits.centre_of_mass(out)
    assert abs(cy - 13.5) <= 0.75 and abs(cx - 13.5) <= 0.75


def test_each_step_has_the_expected_shape():
    steps = digits.preprocess_steps(digits.draw_strokes(SEVEN, size=300))
    assert steps.gray.shape == steps.ink.shape == (300, 300)
    assert steps.ink[0, 0] == 0 and steps.ink.max() == 1          # inverted: paper black, ink bright
    assert max(steps.scaled.shape) == 20
    assert steps.centred.shape == steps.final.shape == (28, 28)
    assert len(steps.images()) == len(steps.titles) == 6


def test_position_does_not_change_the_output():
    a = digits.draw_strokes(SEVEN, size=280)
    shifted = [[(x - 0.12, y + 0.08) for x, y in SEVEN[0]]]
    b = digits.draw_strokes(shifted, size=280)
    out_a, out_b = digits.preprocess_digit(a), digits.preprocess_digit(b)
    assert np.abs(out_a - out_b).max() < 0.1             # sub-pixel rasterisation differences only
    rolled = np.roll(a, (30, -40), axis=(0, 1))          # a whole-pixel move: exactly the same output
    np.testing.assert_allclose(digits.preprocess_digit(rolled), out_a, atol=1e-6)


def test_size_does_not_change_the_output():
    small = [[(0.4 + 0.3 * (x - 0.5), 0.55 + 0.3 * (y - 0.5)) for x, y in SEVEN[0]]]
    big = digits.preprocess_digit(digits.draw_strokes(SEVEN, size=280, width=18))
    tiny = digits.preprocess_digit(digits.draw_strokes(small, size=280, width=18 * 0.3))
    other_canvas = digits.preprocess_digit(digits.draw_strokes(SEVEN, size=560, width=36))
    assert np.abs(big - other_canvas).mean() < 0.02
    assert np.abs(big - tiny).mean() < 0.06
    assert digits.centre_of_mass(big) == pytest.approx(digits.centre_of_mass(tiny), abs=0.5)


def test_light_on_dark_and_dark_on_light_agree():
    dark_ink = digits.preprocess_digit(digits.draw_strokes(SEVEN, dark_on_light=True))
    light_ink = digits.preprocess_digit(digits.draw_strokes(SEVEN, dark_on_light=False))
    np.testing.assert_allclose(dark_ink, light_ink, atol=1e-5)


def test_colour_photo_with_grey_paper_and_a_speck():
    gray = digits.draw_strokes(VERTICAL, size=200).astype(float) * 0.7 + 40  # grey paper, dark-grey ink
    gray[5:7, 5:7] = 40                                                       # a speck of dust
    rgb = np.stack([gray, gray * 0.95, gray * 0.9], axis=-1).astype(np.uint8)
    out = digits.preprocess_digit(rgb)
    cols = np.nonzero(out.max(axis=0) > 0.3)[0]
    assert cols.min() >= 11 and cols.max() <= 16                            # the speck did not widen the box


def test_blank_canvas_is_a_clear_message():
    with pytest.raises(CourseError, match="blank"):
        digits.preprocess_digit(np.full((280, 280), 255, dtype=np.uint8))
    with pytest.raises(CourseError, match="blank"):
        digits.preprocess_digit(np.zeros((50, 50)))


def test_faint_noise_is_no_ink():
    rng = np.random.default_rng(0)
    paper = (235 + rng.integers(0, 10, size=(100, 100))).astype(np.uint8)
    with pytest.raises(CourseError, match="blank"):
        digits.preprocess_digit(paper)


def test_several_digits_are_refused():
    two = digits.draw_strokes([[(0.2, 0.3), (0.2, 0.7)], [(0.6, 0.3), (0.8, 0.3), (0.65, 0.7)]])
    with pytest.raises(CourseError, match="several digits"):
        digits.preprocess_digit(two)


def test_a_mark_beside_the_digit_is_refused_but_touching_strokes_are_not():
    dash_and_one = digits.draw_strokes([[(0.5, 0.18), (0.5, 0.82)], [(0.21, 0.5), (0.36, 0.5)]])
    with pytest.raises(CourseError, match="several digits"):
        digits.preprocess_digit(dash_and_one)
    close = digits.draw_strokes([[(0.5, 0.18), (0.5, 0.82)], [(0.3, 0.5), (0.41, 0.5)]])   # 1 px apart: one mark
    assert digits.preprocess_digit(close).shape == (28, 28)
    dash_above = digits.draw_strokes([[(0.5, 0.3), (0.5, 0.82)], [(0.4, 0.12), (0.6, 0.12)]])  # stacked, not beside
    assert digits.preprocess_digit(dash_above).shape == (28, 28)


def shadowed(size: int = 320, shadow: float = 0.5) -> np.ndarray:
    """A "photo" of a 7: dark ink on grey paper, the top-right corner in a soft shadow, some noise."""
    ink = digits.draw_strokes(SEVEN, size=size, width=size // 14) < 128
    yy, xx = np.mgrid[0:size, 0:size] / size
    paper = 215.0 * (1 - shadow / (1 + np.exp((np.hypot(xx - 1, yy) - 0.6) / 0.04)))
    photo = np.where(ink, paper * 0.2, paper) + np.random.default_rng(0).normal(0, 4, paper.shape)
    return np.clip(photo, 0, 255).astype(np.uint8)


def test_a_shadow_in_a_corner_gets_a_local_threshold():
    clean, shaded = shadowed(shadow=0.0), shadowed()
    assert not digits.needs_local_threshold(digits.to_gray(clean))
    assert digits.needs_local_threshold(digits.to_gray(shaded))
    reference = digits.preprocess_digit(clean)
    steps = digits.preprocess_steps(shaded)
    assert steps.titles[1] == "2 ink: local threshold" and steps.ink[5, -5] < 0.05    # the shadow is paper
    assert np.abs(steps.final - reference).mean() < 0.01
    one_level = digits.preprocess_steps(shaded, local=False)                        # one global paper level
    assert one_level.titles[1] == "2 inverted: ink bright" and one_level.ink[5, -5] > 0.1
    assert np.abs(one_level.final - reference).mean() > 0.04
    level = digits.local_background(1 - digits.to_gray(shaded))
    assert level.shape == shaded.shape and level[5, -5] > level[-5, 5] + 0.2         # it follows the shadow


def test_no_local_threshold_for_clean_drawings_small_images_or_edge_strokes():
    assert not digits.needs_local_threshold(digits.to_gray(digits.draw_strokes(SEVEN)))
    edge_seven = digits.draw_strokes([[(0.0, 0.03), (1.0, 0.03), (0.45, 0.95)]], size=300)  # bar along the edge
    assert not digits.needs_local_threshold(digits.to_gray(edge_seven))
    small = shadowed(size=100)                                    # under LOCAL_MIN_SIZE: data sets, icons
    assert not digits.needs_local_threshold(digits.to_gray(small))


def test_multi_stroke_digits_are_one_digit():
    four = [[(0.35, 0.2), (0.3, 0.55), (0.7, 0.55)], [(0.6, 0.25), (0.6, 0.85)]]      # crossing strokes
    five = [[(0.65, 0.2), (0.38, 0.2)], [(0.35, 0.26), (0.33, 0.48), (0.6, 0.5), (0.62, 0.75), (0.35, 0.8)]]
    for strokes in (four, five):
        assert digits.preprocess_digit(digits.draw_strokes(strokes)).shape == (28, 28)


def test_wrong_shapes_are_clear_messages():
    with pytest.raises(CourseError, match="shape"):
        digits.preprocess_digit(np.zeros((4, 5, 6, 7)))
    with pytest.raises(CourseError, match="shape"):
        digits.preprocess_digit(np.zeros((10, 10, 5)))


def test_upload_png_round_trip():
    image = digits.draw_strokes(VERTICAL)
    steps = digits.digit_from_bytes(png(image))
    np.testing.assert_allclose(steps.final, digits.preprocess_digit(image), atol=1e-5)


def test_upload_jpeg_photo_is_read_and_shrunk():
    photo = np.stack([digits.draw_strokes(SEVEN, size=1600, width=40)] * 3, axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="JPEG", quality=85)
    arr = digits.load_image_bytes(buffer.getvalue())
    assert arr.shape[-1] == 3 and max(arr.shape[:2]) <= digits.WORK_SIZE
    assert digits.preprocess_digit(arr).shape == (28, 28)


def test_non_image_upload_is_a_clear_message():
    with pytest.raises(CourseError, match="not an image"):
        digits.load_image_bytes(b"%PDF-1.4 this is a PDF, not a picture", name="notes.pdf")
    with pytest.raises(CourseError, match="empty"):
        digits.load_image_bytes(b"")
    with pytest.raises(CourseError, match="bytes"):
        digits.load_image_bytes("a string")


def test_damaged_image_is_a_clear_message():
    data = png(digits.draw_strokes(VERTICAL))
    with pytest.raises(CourseError, match="damaged|not an image"):
        digits.load_image_bytes(data[: len(data) // 2])


def test_huge_image_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG")     # 81 megapixels, a few kB compressed
    with pytest.raises(CourseError, match="too big"):
        digits.load_image_bytes(buffer.getvalue())
    with pytest.raises(CourseError, match="MB, too big"):
        digits.load_image_bytes(b"\x89PNG" + bytes(100), max_bytes=50)


def test_rgba_with_dark_strokes_on_transparent_background():
    ink = 255 - digits.draw_strokes(VERTICAL)                   # 255 where drawn
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = ink                                          # black strokes, transparent elsewhere
    out = digits.preprocess_digit(digits.load_image_bytes(png(rgba, "RGBA")))
    np.testing.assert_allclose(out, digits.preprocess_digit(digits.draw_strokes(VERTICAL)), atol=0.05)


def test_rgba_with_white_strokes_on_transparent_background():
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = 255 - digits.draw_strokes(VERTICAL)          # white ink: laid on white it would vanish
    assert digits.preprocess_digit(rgba).shape == (28, 28)


def test_fully_transparent_png_is_a_clear_message():
    rgba = np.zeros((100, 100, 4), dtype=np.uint8)
    with pytest.raises(CourseError, match="transparent"):
        digits.preprocess_digit(digits.load_image_bytes(png(rgba, "RGBA")))


def test_other_peoples_digits_look_like_mnist():
    hand = digits.other_digits("handwritten", limit=30)
    fonts = digits.font_digits(per_font=1)
    for found in (hand, fonts):
        assert found.x.dtype == np.uint8 and found.x.shape[1:] == (28, 28)
        assert len(found.x) == len(found.y) and set(np.unique(found.y)) <= set(range(10))
        assert (found.x.reshape(len(found), -1).max(axis=1) == 255).all()
        assert found.x[:, 0, :].max() == 0                      # MNIST keeps a black border
    assert len(fonts) >= 0.9 * 10 * len(digits.FONT_FILES)
    assert "scikit-learn" in hand.source and "fonts" in fonts.source
    with pytest.raises(CourseError, match="handwritten"):
        digits.other_digits("letters")


def test_sklearn_digits_are_uci_test_writers_and_8x8_counts():
    hand = digits.other_digits("handwritten", limit=5)
    assert "13 writers" in hand.source and "43" not in hand.source


def test_to_8x8_counts_counts_ink_in_4x4_blocks_of_a_32x32_bitmap():
    full = np.full((28, 28), 255, dtype=np.uint8)                 # ink everywhere: every block full
    assert (digits.to_8x8_counts(full) == 16).all()
    blank = np.zeros((2, 28, 28), dtype=np.uint8)
    assert digits.to_8x8_counts(blank).shape == (2, 8, 8) and digits.to_8x8_counts(blank).max() == 0
    bar = np.zeros((28, 28), dtype=np.uint8)
    bar[4:24, 12:16] = 255                                        # a tall bar: scaled to 32 high, centred
    counts = digits.to_8x8_counts(bar)[0]
    assert counts.sum(axis=0)[0] == 0 and counts.sum(axis=0)[3:5].min() > 0   # ink in the middle columns only
    assert counts.sum(axis=1).min() > 0                          # and in every row
    assert 0 <= counts.min() and counts.max() <= 16
    grey = bar / 255.0 * 0.2                                      # too faint to count as ink (threshold 0.3)
    assert digits.to_8x8_counts(grey).max() == 0
    with pytest.raises(CourseError, match="shape"):
        digits.to_8x8_counts(np.zeros((2, 2, 28, 28)))


def test_mnist_at_8x8_keeps_the_labels_and_looks_like_mnist():
    rng = np.random.default_rng(0)
    x = np.zeros((3, 28, 28), dtype=np.uint8)
    for k in range(3):
        x[k, 6:22, 8 + 3 * k:12 + 3 * k] = 255                    # three bars
        x[k, 6 + rng.integers(0, 4), 8:20] = 255
    low = digits.mnist_at_8x8(x, [1, 7, 4])
    assert low.x.shape == (3, 28, 28) and low.x.dtype == np.uint8 and low.y.tolist() == [1, 7, 4]
    assert (low.x.reshape(3, -1).max(axis=1) == 255).all() and low.x[:, 0, :].max() == 0
    assert "MNIST" in low.source and "8x8" in low.source
    np.testing.assert_array_equal(digits.from_8x8_counts(digits.to_8x8_counts(x)), low.x)
