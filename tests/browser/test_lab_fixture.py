"""The browser machinery itself, on scratch notebooks written into the temporary course copy (never the repo).

Fast (a few seconds each): they prove that JupyterLab serves the copy in fast mode, that Run All is waited for
through the kernel state, that a raising cell is reported with its error, and that core ipywidgets talk to the
kernel both ways in this browser.
"""

from __future__ import annotations

import re

import nbformat
import pytest

pytestmark = pytest.mark.timeout(120)


def scratch(lab, name: str, *sources: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    path = lab.server.root / "notebooks" / f"_scratch_{name}.ipynb"
    nbformat.write(nb, path)
    return f"notebooks/{path.name}"


def test_run_all_waits_for_every_cell_and_widgets_round_trip(lab):
    path = scratch(
        lab, "ok",
        "import os, sys\nprint('fast', os.environ.get('COURSE_FAST'), 'utils', os.path.isdir('../utils'))",
        "import time\ntime.sleep(2)\nprint('answer', 6 * 7)",
        "import ipywidgets as w\n"
        "box_in = w.Text(value='', placeholder='type')\nbox_out = w.Label(value='nothing yet')\n"
        "box_in.observe(lambda ch: setattr(box_out, 'value', 'echo: ' + ch['new'].upper()), names='value')\n"
        "ui = w.VBox([box_in, box_out])\nui.add_class('scratch-echo')\nui",
    )
    lab.open(path)
    lab.run_all()
    outputs = lab.page.locator(".jp-OutputArea-output")
    assert "fast 1 utils True" in outputs.nth(0).inner_text()
    assert "answer 42" in outputs.nth(1).inner_text()
    ui = lab.widget("scratch-echo")
    ui.locator(".widget-text input").fill("cnn")
    ui.locator(".widget-text input").press("Enter")
    label = ui.locator(".jupyter-widgets.widget-label")
    label.filter(has_text="echo: CNN").wait_for(timeout=10_000)
    assert label.inner_text() == "echo: CNN"


def test_run_all_reports_a_raising_cell(lab):
    path = scratch(lab, "error", "x = 1", "1 / 0", "print('never')")
    lab.open(path)
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        lab.run_all(timeout=30)


def test_an_anywidget_canvas_takes_mouse_strokes(lab):
    """The drawing pad's base: an anywidget <canvas> whose pointer strokes reach the kernel (was ipycanvas)."""
    path = scratch(
        lab, "canvas",
        "import sys\nsys.path.insert(0, '..')\nimport ipywidgets as w\n"
        "from utils.digit_widgets import _as_strokes, _pad_canvas_class\n"
        "canvas = _pad_canvas_class()(size=200)\nseen = w.Label('points: 0')\n"
        "def up(_):\n    if canvas.drawing:\n        return\n"
        "    points = [p for s in _as_strokes(canvas.strokes) for p in s]\n"
        "    seen.value = f'points: {len(points)} x range: {min(p[0] for p in points):.0f}-'"
        " f'{max(p[0] for p in points):.0f}'\n"
        "canvas.observe(up, names='version')\n"
        "ui = w.VBox([canvas, seen])\nui.add_class('scratch-canvas')\nui",
    )
    lab.open(path)
    lab.run_all()
    ui = lab.widget("scratch-canvas")
    canvas = ui.locator("canvas").last
    canvas.wait_for(state="visible")
    before = canvas.screenshot()
    box = canvas.bounding_box()
    x = box["x"] + box["width"] / 2  # the canvas may be drawn wider than its 200 pixels: use fractions
    lab.page.mouse.move(x, box["y"] + 0.15 * box["height"])
    lab.page.mouse.down()
    lab.page.mouse.move(x, box["y"] + 0.85 * box["height"], steps=10)
    lab.page.mouse.up()
    label = ui.locator(".jupyter-widgets.widget-label")
    lab.wait_js("el => el.textContent.includes('x range')", label.element_handle(), "the canvas reported no stroke")
    assert re.search(r"x range: (99|100)-(100|101)$", label.inner_text()), label.inner_text()
    lab.page.wait_for_timeout(300)
    assert canvas.screenshot() != before, "the stroke was not drawn"
