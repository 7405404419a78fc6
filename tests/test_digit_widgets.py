"""utils.digit_widgets: the pure update functions, and the widgets wired to them (no browser, no model)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from utils import digit_widgets as dw
from utils import digits
from utils.errors import CourseError

VERTICAL = [[(140, 45), (140, 100), (140, 235)]]   # canvas pixels on the 280x280 pad


def fake_predict(image: np.ndarray) -> np.ndarray:
    """Says "1" with 97.3% when the ink is a narrow column, else "8"; records what it saw."""
    fake_predict.seen = image
    cols = np.nonzero(image.max(axis=0) > 0.3)[0]
    p = np.full(10, 0.003)
    p[1 if len(cols) <= 5 else 8] = 0.973
    return p


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_prediction_text():
    p = np.full(10, 0.003)
    p[1] = 0.973
    assert dw.prediction_text(p) == "Prediction: 1 (97.3%)"
    with pytest.raises(CourseError):
        dw.prediction_text([0.5, 0.5])


def test_pad_update_vertical_stroke_predicts_one():
    view = dw.pad_update(VERTICAL, fake_predict)
    assert view.ok and view.message == "Prediction: 1 (97.3%)"
    assert view.image.shape == (28, 28) and fake_predict.seen is view.image
    np.testing.assert_allclose(view.probabilities.sum(), 1.0)


def test_pad_update_blank_pad_gives_the_clear_message():
    for strokes in ([], [[]]):
        view = dw.pad_update(strokes, fake_predict)
        assert not view.ok and view.message == dw.BLANK_PAD_MESSAGE


def test_pad_update_several_digits_gives_a_message():
    two = [[(60, 60), (60, 220)], [(170, 60), (230, 60), (190, 220)]]
    view = dw.pad_update(two, fake_predict)
    assert not view.ok and "several digits" in view.message


def test_rasterize_matches_the_canvas():
    image = dw.rasterize(VERTICAL)
    assert image.shape == (280, 280) and image[140, 140] == 0 and image[5, 5] == 255


def test_upload_update_good_and_bad_files():
    good = dw.upload_update(png(digits.draw_strokes([[(0.5, 0.2), (0.5, 0.8)]])), fake_predict, "one.png")
    assert good.ok and good.message.startswith("Prediction: 1") and good.steps is not None
    assert "not an image" in dw.upload_update(b"hello", fake_predict, "notes.txt").message
    assert "blank" in dw.upload_update(png(np.full((50, 50), 255, np.uint8)), fake_predict).message
    assert dw.upload_update(None, fake_predict).message == dw.NO_FILE_MESSAGE


def test_first_upload_reads_ipywidgets8_values():
    assert dw.first_upload(()) is None
    value = ({"name": "digit.png", "content": memoryview(b"abc"), "type": "image/png", "size": 3},)
    assert dw.first_upload(value) == ("digit.png", b"abc")


def test_steps_strip_and_png_bytes():
    steps = digits.preprocess_steps(digits.draw_strokes([[(0.5, 0.2), (0.5, 0.8)]]))
    strip = dw.steps_strip(steps, cell=40)
    assert strip.shape == (40, 6 * 40 + 5 * 6) and strip.dtype == np.uint8
    assert dw.png_bytes(steps.final, scale=3).startswith(b"\x89PNG")


def test_drawing_pad_widget_draws_predicts_and_clears():
    pad = dw.DrawingPad(fake_predict)
    assert "course-drawing-pad" in pad.widget._dom_classes
    assert "course-prediction" in pad.prediction._dom_classes
    assert pad.prediction.value == dw.BLANK_PAD_MESSAGE
    pad.draw(VERTICAL)
    assert pad.prediction.value == "Prediction: 1 (97.3%)"
    assert pad.bars.bars[1].value == pytest.approx(0.973) and pad.bars.bars[1].bar_style == "success"
    assert pad.bars.values[1].value == "97.3%"
    pad.clear_button.click()
    assert pad.strokes == [] and pad.prediction.value == dw.BLANK_PAD_MESSAGE
    assert pad.bars.bars[1].value == 0


def test_drawing_pad_keeps_last_good_bars_on_a_bad_drawing():
    pad = dw.DrawingPad(fake_predict)
    pad.draw(VERTICAL)
    pad.draw([[(20, 40), (20, 240)]])            # a second "1" far to the left: two digits
    assert "several digits" in pad.prediction.value
    assert pad.bars.bars[1].value == pytest.approx(0.973)


def test_mouse_moves_without_a_press_draw_nothing():
    pad = dw.DrawingPad(fake_predict)
    pad._move(10, 10)
    pad._up(10, 10)
    assert pad.strokes == [] and pad.prediction.value == dw.BLANK_PAD_MESSAGE


def test_upload_widget_shows_prediction_and_message():
    upload = dw.DigitUpload(fake_predict)
    assert "course-digit-upload" in upload.widget._dom_classes
    upload._changed({"new": ({"name": "one.png", "content": memoryview(png(digits.draw_strokes(
        [[(0.5, 0.2), (0.5, 0.8)]]))), "type": "image/png", "size": 1},)})
    assert upload.prediction.value == "Prediction: 1 (97.3%)"
    upload.show(b"GIF89a broken", "bad.gif")
    assert "damaged" in upload.prediction.value or "not an image" in upload.prediction.value
    assert upload.bars.bars[1].value == pytest.approx(0.973)     # the last good bars stay


def test_model_predictor_wraps_a_keras_like_model():
    class Model:
        def __call__(self, batch, training=False):
            assert batch.shape == (1, 28, 28, 1) and training is False
            return np.eye(10)[[3]]

        def predict(self, *args, **kwargs):  # pragma: no cover - only its presence matters
            raise AssertionError

    predict = dw.model_predictor(Model())
    assert dw.prediction_text(predict(np.zeros((28, 28)))) == "Prediction: 3 (100.0%)"
    assert isinstance(dw.drawing_pad(Model()), dw.DrawingPad)
    assert isinstance(dw.digit_upload(fake_predict), dw.DigitUpload)
