"""The kernel editor and pooling explorer (utils.widgets): pure update logic, bad inputs, and the wiring.

The update functions are tested as plain functions. The wiring is tested by building the real ipywidgets
objects and changing control values in Python (no browser needed): the labels and message must follow.
"""

from __future__ import annotations

import numpy as np
import pytest

from utils import kernels as K
from utils import widgets as W
from utils.errors import CourseError

IMAGE = np.arange(64, dtype=float).reshape(8, 8) ** 1.5 % 255
SHARPEN = W.kernel_entries("sharpen")


# ---------------------------------------------------------------- parsing

@pytest.mark.parametrize("text, value", [("2", 2.0), (" -0.5 ", -0.5), ("1/9", 1 / 9), ("-1 / 16", -1 / 16),
                                         (3, 3.0), (np.float32(0.25), 0.25), ("1e-2", 0.01)])
def test_parse_weight_accepts_numbers_and_fractions(text, value):
    assert W.parse_weight(text) == pytest.approx(value)


@pytest.mark.parametrize("text, match", [("", "empty"), ("   ", "empty"), (None, "empty"), ("abc", "not a number"),
                                         ("1/0", "not a number"), ("nan", "not a number"), ("inf", "not a number"),
                                         (float("nan"), "finite"),
                                         ("2,5", "not a number")])
def test_parse_weight_rejects_bad_text(text, match):
    with pytest.raises(CourseError, match=match):
        W.parse_weight(text)


def test_format_and_parse_round_trip_for_every_gallery_kernel():
    for name in K.kernel_names():
        entries = W.kernel_entries(name)
        assert len(entries) == 9
        np.testing.assert_allclose(W.parse_weights(entries), K.get_kernel(name))
    assert W.kernel_entries("box blur")[0] == "1/9"
    assert W.format_weight(0.123456) == "0.1235"


def test_parse_weights_says_which_box_and_checks_count():
    entries = list(SHARPEN)
    entries[5] = "x"
    with pytest.raises(CourseError, match="row 2, column 3"):
        W.parse_weights(entries)
    with pytest.raises(CourseError, match="expected 9"):
        W.parse_weights(["1"] * 8)


@pytest.mark.parametrize("value, ok", [(1, True), ("3", True), (2.0, True), (0, False), ("", False), ("a", False),
                                       (1.5, False), (True, False), (-2, False)])
def test_parse_int(value, ok):
    if ok:
        assert W.parse_int(value, "stride") == int(float(value))
    else:
        with pytest.raises(CourseError, match="stride"):
            W.parse_int(value, "stride")


def test_to_display_modes():
    arr = np.array([[-50.0, 0.0], [100.0, 300.0]])
    np.testing.assert_array_equal(W.to_display(arr), [[0, 0], [100, 255]])
    stretched = W.to_display(arr, "stretch min-max")
    assert stretched.min() == 0 and stretched.max() == 255 and stretched.dtype == np.uint8
    np.testing.assert_array_equal(W.to_display(arr, "absolute value"), [[50, 0], [100, 255]])
    np.testing.assert_array_equal(W.to_display(np.full((2, 2), 5.0), "stretch min-max"), 0)
    with pytest.raises(CourseError):
        W.to_display(arr, "sepia")
    assert W.png_bytes(W.to_display(arr), scale=3).startswith(b"\x89PNG")


# ---------------------------------------------------------------- kernel editor logic

def test_kernel_editor_update_computes_the_convolution():
    result = W.kernel_editor_update(IMAGE, SHARPEN, "valid", 1)
    assert result.ok and result.message == ""
    np.testing.assert_allclose(result.output, K.conv2d(IMAGE, K.get_kernel("sharpen")))
    assert result.shape_text == "output shape: (6, 6)"
    assert result.stats_text == f"output mean: {result.output.mean():.2f}"
    np.testing.assert_allclose(result.kernel, K.get_kernel("sharpen"))


def test_changing_one_weight_changes_the_output():
    before = W.kernel_editor_update(IMAGE, SHARPEN)
    entries = list(SHARPEN)
    entries[0] = "1"
    after = W.kernel_editor_update(IMAGE, entries, last=before)
    assert after.ok and not np.allclose(before.output, after.output)
    assert after.stats_text != before.stats_text


@pytest.mark.parametrize("padding, stride, shape", [("valid", 1, (6, 6)), ("same", 1, (8, 8)), ("full", 1, (10, 10)),
                                                    ("same", 2, (4, 4)), ("valid", "3", (2, 2))])
def test_padding_and_stride_set_the_output_shape(padding, stride, shape):
    result = W.kernel_editor_update(IMAGE, SHARPEN, padding, stride)
    assert result.ok and result.output.shape == shape
    assert result.shape_text == f"output shape: {shape}"


@pytest.mark.parametrize("bad_entry", ["", "abc", "1/0", "  ", None])
def test_bad_weight_keeps_last_good_output_and_explains(bad_entry):
    good = W.kernel_editor_update(IMAGE, SHARPEN)
    entries = list(SHARPEN)
    entries[4] = bad_entry
    result = W.kernel_editor_update(IMAGE, entries, last=good)
    assert not result.ok
    assert "row 2, column 2" in result.message
    assert result.output is good.output and result.kernel is good.kernel
    assert result.shape_text == good.shape_text and result.stats_text == good.stats_text


@pytest.mark.parametrize("padding, stride, match", [("valid", 0, "stride"), ("valid", "two", "stride"),
                                                    ("half", 1, "padding")])
def test_bad_padding_or_stride_keeps_last_good_output(padding, stride, match):
    good = W.kernel_editor_update(IMAGE, SHARPEN)
    result = W.kernel_editor_update(IMAGE, SHARPEN, padding, stride, last=good)
    assert not result.ok and match in result.message and result.output is good.output


def test_bad_input_without_a_previous_output_shows_nothing():
    result = W.kernel_editor_update(IMAGE, [""] * 9)
    assert not result.ok and result.output is None
    assert result.shape_text == "output shape: -" and result.stats_text == "output mean: -"


def test_kernel_editor_rejects_colour_images_and_tiny_images():
    assert "grayscale" in W.kernel_editor_update(np.ones((8, 8, 3)), SHARPEN).message
    assert "does not fit" in W.kernel_editor_update(np.ones((2, 2)), SHARPEN).message


# ---------------------------------------------------------------- pooling explorer logic

def test_pooling_update_matches_pool2d_and_seed_example():
    seed = np.array([[3, 1, 2, 4], [1, 7, 3, 6], [2, 5, 1, 3], [9, 6, 2, 1]])
    result = W.pooling_explorer_update(seed, 2, 2, "max")
    assert result.ok
    np.testing.assert_array_equal(result.output, [[7, 6], [9, 3]])
    assert result.shape_text == "output shape: (2, 2)" and result.stats_text == "output mean: 6.25"
    avg = W.pooling_explorer_update(IMAGE, 3, 2, "avg")
    np.testing.assert_allclose(avg.output, K.pool2d(IMAGE, 3, 2, "avg"))
    assert avg.extra["pixels kept"] == "1 in 7.1"


def test_changing_size_stride_or_mode_changes_the_output():
    base = W.pooling_explorer_update(IMAGE, 2, 2, "max")
    for args in [(3, 2, "max"), (2, 1, "max"), (2, 2, "avg")]:
        other = W.pooling_explorer_update(IMAGE, *args)
        assert other.output.shape != base.output.shape or not np.allclose(other.output, base.output)


@pytest.mark.parametrize("size, stride, mode, match", [("", 2, "max", "pool size"), ("abc", 2, "max", "pool size"),
                                                       (2, 0, "max", "stride"), (9, 1, "max", "does not fit"),
                                                       (2, 2, "median", "mode"), (2, None, "max", "stride")])
def test_pooling_bad_values_keep_last_good_output(size, stride, mode, match):
    good = W.pooling_explorer_update(IMAGE, 2, 2, "max")
    result = W.pooling_explorer_update(IMAGE, size, stride, mode, last=good)
    assert not result.ok and match in result.message and result.output is good.output
    assert result.shape_text == good.shape_text


# ---------------------------------------------------------------- the widgets themselves (no browser)

def _find(widget, cls):
    found = [widget] if isinstance(widget, cls) else []
    for child in getattr(widget, "children", ()):
        found += _find(child, cls)
    return found


def _labels(top):
    import ipywidgets as w

    return [label.value for label in _find(top, w.Label)]


def test_kernel_editor_widget_wiring():
    import ipywidgets as w

    top = W.kernel_editor({"test": IMAGE, "other": IMAGE.T[:, :6]}, preset="box blur")
    assert "course-kernel-editor" in top._dom_classes
    dropdowns = {d.description: d for d in _find(top, w.Dropdown)}
    assert {"preset", "image", "padding", "show as"} <= set(dropdowns)
    boxes = [t for t in _find(top, w.Text) if t.description.startswith("w")]
    assert [b.description for b in boxes] == [f"w{r}{c}" for r in range(3) for c in range(3)]
    assert [b.value for b in boxes] == ["1/9"] * 9
    assert "output shape: (8, 8)" in _labels(top)  # 'same' padding by default
    mean_before = [t for t in _labels(top) if t.startswith("output mean")][0]
    boxes[4].value = "5"
    assert dropdowns["preset"].value == "(custom)"
    assert [t for t in _labels(top) if t.startswith("output mean")][0] != mean_before
    message = _find(top, w.HTML)[-1]
    boxes[0].value = "oops"
    assert "not a number" in message.value and "output shape: (8, 8)" in _labels(top)
    boxes[0].value = "0"
    assert message.value == ""
    dropdowns["padding"].value = "valid"
    assert "output shape: (6, 6)" in _labels(top)
    stride = [s for s in _find(top, w.IntSlider) if s.description == "stride"][0]
    stride.value = 2
    assert "output shape: (3, 3)" in _labels(top)
    dropdowns["image"].value = "other"
    assert "output shape: (3, 2)" in _labels(top)
    dropdowns["preset"].value = "identity"
    assert [b.value for b in boxes] == W.kernel_entries("identity")


def test_pooling_explorer_widget_wiring():
    import ipywidgets as w

    top = W.pooling_explorer({"test": IMAGE, "signed map": IMAGE - 100})
    assert "course-pooling-explorer" in top._dom_classes
    sliders = {s.description: s for s in _find(top, w.IntSlider)}
    assert {"pool size", "stride"} <= set(sliders)
    assert "output shape: (4, 4)" in _labels(top)
    sliders["pool size"].value = 3
    sliders["stride"].value = 1
    assert "output shape: (6, 6)" in _labels(top)
    sliders["pool size"].value = 8
    sliders["stride"].value = 2
    assert "output shape: (1, 1)" in _labels(top)
    image_menu = _find(top, w.Dropdown)[0]
    image_menu.value = "signed map"
    assert "output mean: " + f"{(IMAGE - 100).max():.2f}" in _labels(top)
    mode = _find(top, w.ToggleButtons)[0]
    mode.value = "avg"
    assert "output mean: " + f"{(IMAGE - 100).mean():.2f}" in _labels(top)


def test_pooling_explorer_shows_message_when_window_too_big():
    import ipywidgets as w

    top = W.pooling_explorer({"small": np.ones((5, 5))})
    sliders = {s.description: s for s in _find(top, w.IntSlider)}
    sliders["pool size"].value = 6
    assert "does not fit" in _find(top, w.HTML)[-1].value
    assert "output shape: (2, 2)" in _labels(top)  # last good output stays


def test_widgets_need_an_image():
    with pytest.raises(CourseError):
        W.kernel_editor({})
    with pytest.raises(CourseError):
        W.pooling_explorer({})
