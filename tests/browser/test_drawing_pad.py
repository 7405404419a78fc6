"""Notebook 04's drawing pad in a real browser: nothing drawn -> the blank-pad message; a single click -> the
"large and in the middle" message, no guess; a drawn "1" is read as 1; a second mark beside it -> the several-digits
message with the bars cleared (nothing stale); Clear empties the pad and the prediction. The prediction line sits
right under the canvas in large type, and a line names the model."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.notebook("04"), pytest.mark.timeout(180)]

PREDICTION = re.compile(r"Prediction:\s*(\d)\s*\((\d+(?:\.\d+)?)\s*%\)")
BLANK = re.compile(r"empty|blank", re.IGNORECASE)
TOO_LITTLE = re.compile(r"large and in the middle", re.IGNORECASE)
SEVERAL = re.compile(r"several digits", re.IGNORECASE)


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


def click(page, canvas, fx: float, fy: float) -> None:
    """One click (press and release without moving) at a fraction (fx, fy) of the canvas."""
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])


def bar_readouts(pad) -> list[str]:
    """The ten percentages next to the bars (empty strings when the bars are cleared)."""
    return [t.strip() for t in pad.locator(".course-probability-bars .widget-label").all_inner_texts()
            if not re.fullmatch(r"\s*\d\s*", t)]


def wait_label(lab, label, pattern: re.Pattern, what: str, timeout: float = 20) -> str:
    """Wait until the prediction line matches ``pattern``; return its text."""
    lab.wait_js("([el, src]) => new RegExp(src, 'i').test(el.textContent)",
                [label.element_handle(), pattern.pattern], what, timeout)
    return lab.settled_text(label)  # live updates: read the line once the kernel is done


def test_nothing_drawn_a_click_a_one_a_dash_and_clear(lab, notebook):
    lab.open(notebook)
    lab.run_cells_for("drawing_pad(")  # run-all trains several models: run only what the widget needs
    pad = lab.widget("course-drawing-pad")
    canvas = pad.locator("canvas").last  # the pad's one <canvas>
    canvas.wait_for(state="visible")
    canvas.scroll_into_view_if_needed()
    line = pad.locator(".course-prediction")
    lab.step("widget")

    # 1. nothing drawn yet: the blank-pad message, no prediction; the model is named; the line is under the canvas
    first = wait_label(lab, line, BLANK, "with nothing drawn, the pad should show its blank-pad message")
    assert not PREDICTION.search(first), first
    blank_ink = ink(canvas)
    assert blank_ink == 0, f"the empty pad shows {blank_ink} dark pixels"
    model = pad.locator(".course-model").inner_text().strip()
    assert model.startswith("Model:"), f"the pad should name its model: {model!r}"
    below = line.bounding_box()["y"] - (canvas.bounding_box()["y"] + canvas.bounding_box()["height"])
    size = float(line.evaluate("el => parseFloat(getComputedStyle(el.querySelector('.widget-html-content > div') "
                               "|| el.querySelector('.widget-html-content') || el).fontSize)"))
    assert 0 <= below <= 40 and size >= 18, f"prediction line {below:.0f} px under the canvas, {size:.0f} px type"

    # 2. a single click on the empty pad: a dot, and the "draw one digit, large and in the middle" message
    click(lab.page, canvas, 0.5, 0.5)
    dot = wait_label(lab, line, TOO_LITTLE, "after a single click, the 'large and in the middle' message should show")
    assert not PREDICTION.search(dot), f"a single click got a guess: {dot!r}"
    assert set(bar_readouts(pad)) == {""}, f"bars after a single click: {bar_readouts(pad)}"
    pad.locator("button", has_text="Clear").click()
    wait_label(lab, line, BLANK, "after Clear, the blank-pad message should be back")
    lab.step("click")

    # 3. a vertical line from top to bottom, as a learner writes "1"
    stroke(lab.page, canvas, [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)])
    text = wait_label(lab, line, PREDICTION, "after a vertical stroke, a 'Prediction: D (NN.N%)' line should appear")
    digit, confidence = PREDICTION.search(text).groups()
    drawn_ink = ink(canvas)
    assert drawn_ink > 500, f"the stroke is not drawn on the canvas ({drawn_ink} dark pixels)"
    assert digit == "1", f"a vertical stroke was read as {digit} ({confidence}%): {text!r}"
    assert any(bar_readouts(pad)), "no percentages next to the bars after a prediction"
    lab.step("draw+predict")

    # 4. a dash beside the 1: the several-digits message, and the 1's bars are gone (nothing stale)
    stroke(lab.page, canvas, [(0.12, 0.5), (0.3, 0.5)])
    several = wait_label(lab, line, SEVERAL, "after a dash beside the 1, the several-digits message should show")
    assert not PREDICTION.search(several), several
    assert set(bar_readouts(pad)) == {""}, f"stale bars under the message: {bar_readouts(pad)}"
    lab.step("dash")

    # 5. Clear: the prediction goes, the blank-pad message is back, the canvas looks as before drawing
    pad.locator("button", has_text="Clear").click()
    cleared = wait_label(lab, line, BLANK, "after Clear, the blank-pad message should be back")
    assert not PREDICTION.search(cleared), cleared
    lab.page.wait_for_timeout(300)  # the canvas redraw travels with the same kernel message; let it paint
    left = ink(canvas)
    assert left == 0, f"the canvas still shows {left} dark pixels after Clear"
    lab.step("clear")
    print(f"{model}; nothing drawn: {first!r}; click: {dot!r}; vertical stroke ({drawn_ink} dark pixels): {text!r}; "
          f"dash beside it: {several!r}; after Clear: {cleared!r}")
