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


def test_low_confidence_is_said_in_words():
    p = np.full(10, 0.02)
    p[1], p[7] = 0.533, 0.307
    assert dw.prediction_text(p) == "Prediction: 1 (53.3%), not sure: it could also be a 7 (30.7%)."
    p[1], p[7] = 0.75, 0.09                                      # sure enough: no words added
    assert dw.prediction_text(p) == "Prediction: 1 (75.0%)"


def test_pad_update_vertical_stroke_predicts_one():
    view = dw.pad_update(VERTICAL, fake_predict)
    assert view.ok and view.message == "Prediction: 1 (97.3%)"
    assert view.image.shape == (28, 28) and fake_predict.seen is view.image
    np.testing.assert_allclose(view.probabilities.sum(), 1.0)


def test_pad_update_blank_pad_gives_the_clear_message():
    for strokes in ([], [[]]):
        view = dw.pad_update(strokes, fake_predict)
        assert not view.ok and view.message == dw.BLANK_PAD_MESSAGE


def test_a_single_click_or_a_scribble_is_too_little_ink():
    for strokes in ([[(140, 140)]], [[(140, 140), (140, 140)]], [[(200, 30), (210, 38), (205, 45)]]):
        view = dw.pad_update(strokes, fake_predict)
        assert not view.ok and view.message == dw.TOO_LITTLE_MESSAGE
        assert "large and in the middle" in view.message and "Prediction" not in view.message


def test_a_tiny_digit_in_a_corner_gets_a_pen_scaled_to_it():
    seven = [(0.28, 0.2), (0.72, 0.2), (0.45, 0.82)]
    big = [[(280 * x, 280 * y) for x, y in seven]]
    tiny = [[(4 + 56 * x, 4 + 56 * y) for x, y in seven]]        # about 34 px tall, top-left corner
    assert dw.stroke_extent(tiny) == pytest.approx(0.62 * 56)
    assert dw.pen_for(big) == dw.PEN_WIDTH and dw.pen_for(tiny) == pytest.approx(dw.PEN_SHARE * 0.62 * 56)
    seen_big = dw.pad_update(big, fake_predict).image
    seen_tiny = dw.pad_update(tiny, fake_predict).image
    assert np.abs(seen_tiny - seen_big).mean() < 0.06            # the same 7, not a blob
    blob = digits.preprocess_digit(dw.rasterize(tiny, width=dw.PEN_WIDTH))
    assert np.abs(blob - seen_big).mean() > 0.1                  # what the fixed 18 px pen made of it
    one = dw.pad_update([[(250, 240), (250, 274)]], fake_predict)
    assert one.ok and one.message.startswith("Prediction: 1")     # a thin 1, not a fat blob


def test_two_separate_marks_get_the_several_digits_message():
    dash_and_one = [[(140, 50), (140, 230)], [(60, 140), (100, 140)]]
    view = dw.pad_update(dash_and_one, fake_predict)
    assert not view.ok and "several digits" in view.message
    crossed_seven = [[(80, 50), (200, 50), (120, 230)], [(100, 140), (170, 140)]]   # strokes that touch
    assert dw.pad_update(crossed_seven, fake_predict).ok


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


def test_first_upload_reads_ipywidgets7_and_8_values():
    assert dw.first_upload(()) is None
    assert dw.first_upload({}) is None
    value = ({"name": "digit.png", "content": memoryview(b"abc"), "type": "image/png", "size": 3},)
    assert dw.first_upload(value) == ("digit.png", b"abc")                        # ipywidgets 8: a tuple of dicts
    seven = {"digit7.png": {"metadata": {"name": "digit7.png", "type": "image/png", "size": 3, "lastModified": 1},
                            "content": b"xyz"}}
    assert dw.first_upload(seven) == ("digit7.png", b"xyz")                       # ipywidgets 7: keyed by name
    assert dw.first_upload({"key.png": {"content": b"k"}}) == ("key.png", b"k")   # no metadata: the key names it


def test_upload_widget_reads_an_ipywidgets7_value():
    upload = dw.DigitUpload(fake_predict)
    one = png(digits.draw_strokes([[(0.5, 0.2), (0.5, 0.8)]]))
    upload._changed({"new": {"one.png": {"metadata": {"name": "one.png", "type": "image/png", "size": len(one)},
                                         "content": one}}})
    assert dw.line_text(upload.prediction) == "Prediction: 1 (97.3%)"
    upload._changed({"new": {"notes.txt": {"metadata": {"name": "notes.txt"}, "content": b"hello"}}})
    assert "notes.txt" in dw.line_text(upload.prediction) and "not an image" in dw.line_text(upload.prediction)


def test_steps_strip_and_png_bytes():
    steps = digits.preprocess_steps(digits.draw_strokes([[(0.5, 0.2), (0.5, 0.8)]]))
    strip = dw.steps_strip(steps, cell=40)
    assert strip.shape == (40, 6 * 40 + 5 * 6) and strip.dtype == np.uint8
    assert dw.png_bytes(steps.final, scale=3).startswith(b"\x89PNG")


def test_drawing_pad_widget_draws_predicts_and_clears():
    pad = dw.DrawingPad(fake_predict)
    assert "course-drawing-pad" in pad.widget._dom_classes
    assert "course-prediction" in pad.prediction._dom_classes
    assert dw.line_text(pad.prediction) == dw.BLANK_PAD_MESSAGE
    pad.draw(VERTICAL)
    assert dw.line_text(pad.prediction) == "Prediction: 1 (97.3%)"
    assert pad.bars.bars[1].value == pytest.approx(0.973) and pad.bars.bars[1].bar_style == "success"
    assert pad.bars.values[1].value == "97.3%"
    pad.clear_button.click()
    assert pad.strokes == [] and dw.line_text(pad.prediction) == dw.BLANK_PAD_MESSAGE
    assert pad.bars.bars[1].value == 0


def test_drawing_pad_clears_the_bars_on_a_bad_drawing():
    pad = dw.DrawingPad(fake_predict)
    pad.draw(VERTICAL)
    assert pad.bars.bars[1].value == pytest.approx(0.973)
    pad.draw([[(20, 40), (20, 240)]])            # a second "1" far to the left: two digits
    assert "several digits" in dw.line_text(pad.prediction)
    assert all(bar.value == 0 for bar in pad.bars.bars)          # no stale "1" under the message
    assert pad.seen.value == dw._blank_seen()


def test_drawing_pad_live_update_of_half_a_stroke_keeps_the_display():
    pad = dw.DrawingPad(fake_predict, live_every=0.0)
    pad.draw(VERTICAL)
    half = VERTICAL + [[(20, 40), (20, 140)]]                    # a new stroke, far left, half drawn
    assert not pad.receive(half, drawing=True).ok                # what the canvas sends while the pen is down
    assert dw.line_text(pad.prediction) == "Prediction: 1 (97.3%)"   # nothing flashes while drawing
    pad.receive(half, drawing=False)                             # the pen lifts: now the message counts
    assert dw.line_text(pad.prediction).startswith("This looks like several digits")
    assert pad.bars.bars[1].value == 0


def test_the_canvas_sends_strokes_as_json_lists_and_the_pad_reads_them():
    """What the browser's ``save_changes`` delivers (ipywidgets' set_state, as from a comm message)."""
    pad = dw.DrawingPad(fake_predict)
    assert pad.canvas.size == dw.PAD_SIZE and pad.canvas.live_ms == 300 and pad.canvas.strokes == []
    assert "pointerdown" in pad.canvas._esm and 'model.set("strokes"' in pad.canvas._esm
    pad.canvas.set_state({"strokes": [[[140, 45], [140, 100.5]]], "drawing": True, "version": 1})
    assert pad.strokes == [[(140.0, 45.0), (140.0, 100.5)]]
    pad.canvas.set_state({"strokes": [[[140, 45], [140, 100.5], [140, 235]]], "drawing": False, "version": 2})
    assert dw.line_text(pad.prediction) == "Prediction: 1 (97.3%)"
    pad.canvas.set_state({"strokes": [[], [[5, 5]]], "drawing": False, "version": 3})   # an empty stroke is dropped
    assert pad.strokes == [[(5.0, 5.0)]] and dw.line_text(pad.prediction) == dw.TOO_LITTLE_MESSAGE
    pad.canvas.set_state({"strokes": [], "drawing": False, "version": 4})
    assert dw.line_text(pad.prediction) == dw.BLANK_PAD_MESSAGE and pad.bars.bars[1].value == 0


def test_upload_widget_shows_prediction_and_message():
    upload = dw.DigitUpload(fake_predict)
    assert "course-digit-upload" in upload.widget._dom_classes
    upload._changed({"new": ({"name": "one.png", "content": memoryview(png(digits.draw_strokes(
        [[(0.5, 0.2), (0.5, 0.8)]]))), "type": "image/png", "size": 1},)})
    assert dw.line_text(upload.prediction) == "Prediction: 1 (97.3%)"
    assert upload.bars.bars[1].value == pytest.approx(0.973)
    assert "6 scaled to [0, 1]" in upload.steps_label.value
    good_strip = upload.steps.value
    upload.show(b"GIF89a broken", "bad.gif")
    assert "damaged" in dw.line_text(upload.prediction) or "not an image" in dw.line_text(upload.prediction)
    assert all(bar.value == 0 for bar in upload.bars.bars)       # the last photo's bars are gone
    assert upload.steps.value != good_strip and upload.steps.value == dw._blank_strip()
    assert "not read" in upload.steps_label.value


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


def shadow_photo(shadow: bool = True, size: int = 320) -> bytes:
    """A JPEG "phone photo" of a 1 on grey paper, the top-right corner in a soft shadow when ``shadow``."""
    ink = digits.draw_strokes([[(0.45, 0.2), (0.5, 0.8)]], size=size, width=22) < 128
    yy, xx = np.mgrid[0:size, 0:size] / size
    paper = np.full((size, size), 215.0)
    if shadow:
        paper *= 1 - 0.5 / (1 + np.exp((np.hypot(xx - 1, yy) - 0.6) / 0.04))
    gray = np.where(ink, paper * 0.2, paper) + np.random.default_rng(0).normal(0, 4, paper.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8)).convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def test_upload_of_a_shadowed_photo_uses_a_local_threshold_and_shows_it():
    clean = dw.upload_update(shadow_photo(False), fake_predict, "clean.jpg")
    shaded = dw.upload_update(shadow_photo(True), fake_predict, "shadow.jpg")
    assert clean.ok and clean.steps.titles[1] == "2 inverted: ink bright"
    assert shaded.ok and shaded.message.startswith("Prediction: 1")
    assert shaded.steps.titles[1] == "2 ink: local threshold"
    assert np.abs(shaded.image - clean.image).mean() < 0.05      # the shadow did not become ink
    upload = dw.DigitUpload(fake_predict)
    upload.show(shadow_photo(True), "shadow.jpg")
    assert "2 ink: local threshold" in upload.steps_label.value


def test_prediction_line_is_large_and_right_under_the_canvas():
    pad = dw.DrawingPad(fake_predict)
    left = pad.widget.children[0].children[0]
    assert left.children[0] is pad.canvas and left.children[1] is pad.prediction
    assert "font-size: 20px" in pad.prediction.value                # in its HTML: ipywidgets 7 has no font_size
    pad.draw([[(140, 140)]])                                     # long messages wrap (HTML), never cut off
    assert dw.line_text(pad.prediction) == dw.TOO_LITTLE_MESSAGE and pad.prediction.layout.width == "280px"
    upload = dw.DigitUpload(fake_predict)
    assert upload.chooser.description == "Upload a photo" and upload.chooser.layout.width == "220px"
    assert upload.steps.layout.width == f"{dw.STRIP_WIDTH}px"                     # not stretched across the page
    steps = digits.preprocess_steps(digits.draw_strokes([[(0.5, 0.2), (0.5, 0.8)]]))
    assert dw.steps_strip(steps, dw.STRIP_CELL).shape == (dw.STRIP_CELL, dw.STRIP_WIDTH)


def test_finished_strokes_are_redrawn_smoothly_with_the_models_pen():
    pad = dw.DrawingPad(fake_predict)
    pad.draw([[(250, 240), (250, 274)]])                         # a small "1": pen scaled down
    assert pad.canvas.pen_shown == pytest.approx(dw.pen_for(pad.strokes)) and pad.canvas.pen_shown < 5
    assert pad.canvas.pen == dw.PEN_WIDTH                        # the pen while drawing stays the full one
    assert 'lineCap = "round"' in pad.canvas._esm and 'lineJoin = "round"' in pad.canvas._esm
    assert pad.canvas.strokes == [[[250.0, 240.0], [250.0, 274.0]]]  # the browser repaints what Python drew
    pad.clear()
    pad.draw(VERTICAL)
    assert pad.canvas.pen_shown == dw.PEN_WIDTH


def test_the_widgets_name_their_model():
    from utils.models import CacheInfo

    class Model:
        name = "seed_cnn"

        def __call__(self, batch, training=False):
            return np.eye(10)[[3]]

        def predict(self, *args, **kwargs):  # pragma: no cover - only its presence matters
            raise AssertionError

        def count_params(self):
            return 1_199_882

    model = Model()
    assert dw.describe_model(model) == "Model: the Keras model 'seed_cnn' from this notebook (1,199,882 parameters)."
    model.course_cache = CacheInfo(key="k", status="loaded", path="mnist_cnn-full.keras", epochs=10,
                                   data_source="offline", n_train=55000, n_test=10000, precision="float32",
                                   test_accuracy=0.9921)
    line = dw.describe_model(model)
    assert line == ("Model: the course's seed CNN, loaded from the course cache (models/mnist_cnn-full.keras: "
                    "10 epochs on 55,000 images, test accuracy 99.21%).")
    pad = dw.drawing_pad(model)
    assert dw.line_text(pad.model_line) == line and "course-model" in pad.model_line._dom_classes
    shown = repr(pad.widget)[:110]                  # what nbval compares (ipywidgets cuts it at 110): no model
    assert shown.startswith("VBox(children=(HBox(children=(VBox(children=(PadCanvas(size=280)")
    assert "epochs" not in shown
    assert "wait until the last cell has finished" in dw.line_text(pad.note)
    upload = dw.digit_upload(model)
    assert dw.line_text(upload.model_line) == line and upload.widget.children[-1] is upload.model_line
    assert repr(upload.widget).startswith("VBox(children=(FileUpload(")
    assert dw.line_text(dw.digit_upload(fake_predict).model_line) == "Model: the function fake_predict."


def test_with_no_model_the_widgets_use_the_cached_cnn(monkeypatch):
    from utils import models

    class Cached:
        name = "cached"

        def __call__(self, batch, training=False):
            return np.eye(10)[[1]]

        def predict(self, *args, **kwargs):  # pragma: no cover - only its presence matters
            raise AssertionError

        def count_params(self):
            return 1

    calls = []
    monkeypatch.setattr(models, "load_or_train_mnist_cnn", lambda: calls.append(1) or Cached())
    pad = dw.drawing_pad()
    assert calls == [1] and "'cached'" in dw.line_text(pad.model_line)
    assert pad.draw(VERTICAL).message == "Prediction: 1 (100.0%)"
    assert dw.digit_upload().predict(np.zeros((28, 28))).argmax() == 1 and calls == [1, 1]
