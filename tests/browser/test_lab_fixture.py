"""The browser machinery itself, on scratch notebooks written into the temporary course copy (never the repo).

Fast (a few seconds each): they prove that JupyterLab serves the copy in fast mode, that Run All is waited for
through the kernel state, that a raising cell is reported with its error, and that core ipywidgets talk to the
kernel both ways in this browser.
"""

from __future__ import annotations

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
    label = ui.locator(".widget-label")
    label.filter(has_text="echo: CNN").wait_for(timeout=10_000)
    assert label.inner_text() == "echo: CNN"


def test_run_all_reports_a_raising_cell(lab):
    path = scratch(lab, "error", "x = 1", "1 / 0", "print('never')")
    lab.open(path)
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        lab.run_all(timeout=30)
