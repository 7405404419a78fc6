"""Every course widget builds and answers with the ipywidgets installed, 7.7 (Colab) or 8, without a warning.

ipywidgets 7 takes an 8-only trait or style key (``style={"font_size": ...}`` on an HTML, a ``tooltip`` on a
slider) with only a warning ("Passing unrecognized arguments to super(DescriptionStyle).__init__") and then
ignores it, so a widget that looks right under 8 silently loses it on Colab. Here every widget is built while
warnings are recorded; one about unrecognized arguments, or any raised from ``utils/``, fails the test. Warnings
the libraries raise about themselves (traitlets' own deprecations inside ipywidgets 7) are not the course's.
`make test` runs this under ipywidgets 8, `make test-colab` under Colab's 7.7.1.
"""

from __future__ import annotations

import warnings

import ipywidgets
import numpy as np
import pytest

from utils import digit_widgets as dw
from utils import digits, error_analysis, widgets
from utils.errors import CourseError

MAJOR = int(ipywidgets.__version__.split(".")[0])


def course_problems(records) -> list[str]:
    return [f"{r.filename}:{r.lineno}: {r.message}" for r in records
            if "unrecognized arguments" in str(r.message) or "/utils/" in r.filename.replace("\\", "/")]


@pytest.fixture(autouse=True)
def no_unknown_traits():
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield records
    problems = course_problems(records)
    assert not problems, "\n".join(problems)


def predict(image: np.ndarray) -> np.ndarray:
    p = np.full(10, 0.01)
    p[1] = 0.91
    return p


def test_the_installed_ipywidgets_is_one_the_course_supports():
    assert MAJOR in (7, 8), ipywidgets.__version__


def test_the_unknown_style_key_check_works():
    """The check can fail: an 8-only style key is a real trait under 8 and an "unrecognized" warning under 7."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        line = ipywidgets.HTML(style={"font_size": "20px"})
    if MAJOR >= 8:
        assert line.style.font_size == "20px" and not course_problems(records)
    else:
        assert course_problems(records), "ipywidgets 7 should warn about the unknown font_size"


def test_kernel_editor_and_pooling_explorer_build_and_update():
    image = np.tile(np.linspace(0, 255, 32), (32, 1))
    editor = widgets.kernel_editor({"ramp": image}, preset="sharpen")
    assert "course-kernel-editor" in editor._dom_classes
    explorer = widgets.pooling_explorer({"ramp": image})
    assert "course-pooling-explorer" in explorer._dom_classes


def test_drawing_pad_and_upload_build_and_answer():
    pad = dw.DrawingPad(predict)
    assert pad.canvas._esm.strip().endswith("export default { render };")
    pad.canvas.set_state({"strokes": [[[140, 45], [140, 235]]], "drawing": False, "version": 1})
    assert dw.line_text(pad.prediction) == "Prediction: 1 (91.0%)"
    pad.clear_button.click()
    assert dw.line_text(pad.prediction) == dw.BLANK_PAD_MESSAGE
    upload = dw.DigitUpload(predict)
    one = dw.png_bytes(digits.draw_strokes([[(0.5, 0.2), (0.5, 0.8)]]))
    if MAJOR >= 8:
        value = ({"name": "one.png", "type": "image/png", "size": len(one), "content": memoryview(one)},)
    else:
        value = {"one.png": {"metadata": {"name": "one.png", "type": "image/png", "size": len(one)}, "content": one}}
    upload._changed({"new": value})
    assert dw.line_text(upload.prediction) == "Prediction: 1 (91.0%)"
    assert isinstance(upload.chooser.value, dict if MAJOR < 8 else tuple)  # the form this ipywidgets uses


def test_tagging_tool_builds_and_toggles():
    tool = error_analysis.TaggingTool([np.eye(28)], ["true 1, said 7"])
    box = tool.widget
    assert isinstance(box, ipywidgets.VBox)
    tool.toggle("slanted")
    assert tool.tally().counts["slanted"] == 1


def test_the_gan_notebooks_draw_a_digit_controls_build():
    """Notebook 10's "draw a 7" cell uses IntSlider, BoundedIntText, Image, Label, HBox, VBox: all in 7 and 8."""
    slider = ipywidgets.IntSlider(value=7, min=0, max=9, description="digit")
    seed = ipywidgets.BoundedIntText(value=0, min=0, max=10**6, description="seed")
    picture = ipywidgets.Image(format="png", value=dw.png_bytes(np.zeros((28, 28))))
    ipywidgets.VBox([ipywidgets.HBox([slider, seed]), picture, ipywidgets.Label()])
    with pytest.raises(CourseError):
        dw.prediction_text([0.5])
