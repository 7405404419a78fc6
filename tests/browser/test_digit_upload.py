"""Notebook 04's upload button in a real browser: a PNG of a "1" gets a prediction, bars and the steps; a text file
then gets a clear message and the 1's bars and steps are cleared (nothing stale). The button's label is not cut off."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.notebook("04"), pytest.mark.timeout(240)]

PREDICTION = re.compile(r"Prediction:\s*(\d)\s*\((\d+(?:\.\d+)?)\s*%\)")
NOT_IMAGE = re.compile(r"not an image", re.IGNORECASE)


def one_png(path):
    """A phone-photo-like "1": a dark, slightly slanted stroke on light grey paper, 240x320 PNG."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (240, 320), 225)
    ImageDraw.Draw(image).line([(124, 60), (116, 260)], fill=25, width=22)
    image.save(path)
    return path


def upload(lab, root, file) -> None:
    """Click the upload button and pick ``file`` in the file chooser, as a learner does."""
    with lab.page.expect_file_chooser() as chooser:
        root.locator(".widget-upload").first.click()
    chooser.value.set_files(str(file))


def bar_readouts(root) -> list[str]:
    """The ten percentages next to the bars (empty strings when the bars are cleared)."""
    return [t.strip() for t in root.locator(".course-probability-bars .widget-label").all_inner_texts()
            if not re.fullmatch(r"\s*\d\s*", t)]


def wait_label(lab, label, pattern: re.Pattern, what: str, timeout: float = 20) -> str:
    lab.wait_js("([el, src]) => new RegExp(src, 'i').test(el.textContent)",
                [label.element_handle(), pattern.pattern], what, timeout)
    return lab.settled_text(label)  # live updates: read the line once the kernel is done


def test_upload_a_png_then_a_text_file(lab, notebook):
    files = lab.server.root.parent / "uploads"  # next to the course copy, removed with it
    files.mkdir(exist_ok=True)
    png = one_png(files / "my_one.png")
    txt = files / "notes.txt"
    txt.write_text("this is not a picture of a digit\n")
    lab.open(notebook)
    # Run-all trains several models: run only what the widget needs. On an empty cache that trains the fast-mode
    # CNN (37 s on a 2-core CPU at the session's start, over 50 s when the CPU was shared): allow for a slow machine.
    lab.run_cells_for("digit_upload(", timeout=150)
    box = lab.widget("course-digit-upload")
    line = box.locator(".course-prediction")
    before = line.inner_text().strip()
    assert not PREDICTION.search(before), f"a prediction before any upload: {before!r}"
    button = box.locator(".widget-upload").first
    cut = button.evaluate("el => [...el.querySelectorAll('*'), el].some(e => e.scrollWidth > e.clientWidth + 1)")
    assert not cut and "Upload a photo" in button.inner_text(), f"the button's label is cut: {button.inner_text()!r}"
    lab.step("widget")

    upload(lab, box, png)
    text = wait_label(lab, line, PREDICTION, "after uploading a PNG of a 1, a 'Prediction: D (NN.N%)' line should show")
    digit, confidence = PREDICTION.search(text).groups()
    assert digit == "1", f"the uploaded '1' was read as {digit} ({confidence}%): {text!r}"
    assert any(bar_readouts(box)), "no percentages next to the bars after a prediction"
    steps = box.locator(".course-steps-label").inner_text()
    assert "6 scaled to [0, 1]" in steps, steps
    lab.step("png")

    upload(lab, box, txt)
    message = wait_label(lab, line, NOT_IMAGE, "after uploading a text file, a 'not an image' message should show")
    assert "notes.txt" in message, f"the message should name the file: {message!r}"
    assert not PREDICTION.search(message) and "Traceback" not in box.inner_text(), message
    assert set(bar_readouts(box)) == {""}, f"the 1's bars stayed under the message: {bar_readouts(box)}"
    after = box.locator(".course-steps-label").inner_text()
    assert "not read" in after and "6 scaled" not in after, f"the 1's steps stayed: {after!r}"
    lab.step("txt")
    print(f"before: {before!r}; PNG: {text!r}; text file: {message!r}; steps after it: {after!r}")
