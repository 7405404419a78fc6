"""Notebook 04's drawing pad in a real browser: nothing drawn -> the blank-pad message; a drawn "1" is read as 1;
Clear empties the pad and the prediction."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.notebook("04"), pytest.mark.timeout(180)]

PREDICTION = re.compile(r"Prediction:\s*(\d)\s*\((\d+(?:\.\d+)?)\s*%\)")
BLANK = re.compile(r"empty|blank", re.IGNORECASE)


def stroke(page, canvas, points, steps: int = 8) -> None:
    """One pen stroke through ``points``, given as fractions (x, y) of the canvas as drawn on screen."""
    box = canvas.bounding_box()
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


def ink(canvas) -> int:
    """How many dark pixels the canvas shows on screen (its 3-pixel border left out)."""
    from io import BytesIO

    import numpy as np
    from PIL import Image

    gray = np.asarray(Image.open(BytesIO(canvas.screenshot())).convert("L"))[3:-3, 3:-3]
    return int((gray < 128).sum())


def wait_label(lab, label, pattern: re.Pattern, what: str, timeout: float = 20) -> str:
    """Wait until the prediction line matches ``pattern``; return its text."""
    lab.wait_js("([el, src]) => new RegExp(src, 'i').test(el.textContent)",
                [label.element_handle(), pattern.pattern], what, timeout)
    return lab.settled_text(label)  # live updates: read the line once the kernel is done


def test_nothing_drawn_a_one_and_clear(lab, notebook):
    lab.open(notebook)
    lab.run_cells_for("drawing_pad(")  # run-all trains several models: run only what the widget needs
    pad = lab.widget("course-drawing-pad")
    canvas = pad.locator("canvas").last  # ipycanvas may stack canvases: the last one is on top
    canvas.wait_for(state="visible")
    canvas.scroll_into_view_if_needed()
    line = pad.locator(".course-prediction")
    lab.step("widget")

    # 1. nothing drawn yet: the blank-pad message, no prediction
    first = wait_label(lab, line, BLANK, "with nothing drawn, the pad should show its blank-pad message")
    assert not PREDICTION.search(first), first
    blank_ink = ink(canvas)
    assert blank_ink == 0, f"the empty pad shows {blank_ink} dark pixels"

    # 2. a vertical line from top to bottom, as a learner writes "1"
    stroke(lab.page, canvas, [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)])
    text = wait_label(lab, line, PREDICTION, "after a vertical stroke, a 'Prediction: D (NN.N%)' line should appear")
    digit, confidence = PREDICTION.search(text).groups()
    drawn_ink = ink(canvas)
    assert drawn_ink > 500, f"the stroke is not drawn on the canvas ({drawn_ink} dark pixels)"
    assert digit == "1", f"a vertical stroke was read as {digit} ({confidence}%): {text!r}"
    lab.step("draw+predict")

    # 3. Clear: the prediction goes, the blank-pad message is back, the canvas looks as before drawing
    pad.locator("button", has_text="Clear").click()
    cleared = wait_label(lab, line, BLANK, "after Clear, the blank-pad message should be back")
    assert not PREDICTION.search(cleared), cleared
    lab.page.wait_for_timeout(300)  # the canvas redraw travels with the same kernel message; let it paint
    left = ink(canvas)
    assert left == 0, f"the canvas still shows {left} dark pixels after Clear"
    lab.step("clear")
    print(f"nothing drawn: {first!r}; vertical stroke ({drawn_ink} dark pixels): {text!r}; after Clear: {cleared!r}")
