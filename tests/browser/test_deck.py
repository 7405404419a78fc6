"""The classroom deck (jupyterlab-slideshow) in a real browser at 1280x720: live widgets on their slide, and the fit.

- ``test_widget_works_on_its_slide`` (02's kernel editor, 03's pooling explorer): Run All, back to the top,
  ``deck:start``, then ``deck:down`` / ``deck:forward`` (as a presenter steps: sub-slides hang below their section)
  until the widget's cell is on screen; the widget is visible inside the 1280x720 window,
  and using it (a new preset; dragging the pool-size slider with the mouse) changes its output.
- ``test_deck_steps_through_a_notebook_and_slides_fit`` (08, no widgets, stored outputs): every step of the deck
  (every cell that is not skipped or a note must come on screen at some step),
  with JupyterLab's presentation mode on (the projector case) and off; each markdown cell's rendered height is
  measured. The rule of :mod:`utils.slides` must be conservative: no markdown cell it passes is taller than the
  window. The measurements go to ``artifacts/browser/deck-fit.json`` (how LINE_CHARS and SCREEN_LINES were set).
- Screenshots of a few slides go to ``artifacts/browser/deck-*.png``.
- Starting a deck writes ``"active": true`` into JupyterLab's settings (the extension's own memory);
  ``utils.slides.deck_off`` (what ``make lab`` runs first) turns it off again.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from utils import slides

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"

WIDTH, HEIGHT = 1280, 720

#: Per cell: its index, type, slide type, deck classes, rectangle; and the window's height.
_CELLS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.map((c, i) => {
    const r = c.node.getBoundingClientRect();
    const md = c.node.querySelector('.jp-MarkdownOutput');
    const mr = md ? md.getBoundingClientRect() : null;
    return {i, type: c.model.type, visible: c.node.classList.contains('jp-deck-mod-visible'),
            onscreen: c.node.classList.contains('jp-deck-mod-onscreen'),
            top: r.top, bottom: r.bottom, height: r.height, md_height: mr ? mr.height : null};
  });
}"""


def deck(lab, command: str) -> None:
    lab.page.evaluate(f"() => window.jupyterapp.commands.execute('{command}')")
    time.sleep(0.4)


def start_deck_at_top(lab) -> None:
    lab.page.evaluate("() => { const p = window.jupyterapp.shell.currentWidget; p.content.activeCellIndex = 0; "
                      "p.content.mode = 'command'; }")
    deck(lab, "deck:start")
    lab.wait_js("() => document.querySelector('.jp-deck-mod-visible') !== null", None, "the deck to start", 20)
    time.sleep(1.0)


def cells(lab) -> list[dict]:
    return lab.page.evaluate(_CELLS_JS)


def settings_file(lab) -> Path:
    return lab.server.root.parent / "settings" / slides.DECK_SETTINGS


def shown(lab) -> tuple[int, ...]:
    return tuple(c["i"] for c in cells(lab) if c["visible"])


def active_cell(lab) -> int:
    return lab.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex")


def next_screen(lab, tries: int = 12) -> bool:
    """One step as a presenter walks the deck: down (the section's next sub-slide or fragment) while there is one,
    else forward (the next section), until what is shown changes. A continuation cell is a stop of its own that
    shows the same screen, so a key press may move the deck without changing the screen: press on while the active
    cell moves. False at the end of the deck (neither key moves it)."""
    before = shown(lab)
    for _ in range(tries):
        where = active_cell(lab)
        moved = False
        for command in ("deck:down", "deck:forward"):
            deck(lab, command)
            if shown(lab) != before:
                return True
            if active_cell(lab) != where:
                moved = True
                break
        if not moved:
            return False
    return False


def step_until_visible(lab, index: int, limit: int = 150) -> int:
    """Step through the deck (:func:`next_screen`) until cell ``index`` is shown; return how many steps it took."""
    for steps in range(limit):
        if cells(lab)[index]["visible"]:
            return steps
        if not next_screen(lab):
            break
    raise AssertionError(f"cell {index + 1} never came on screen in {steps + 1} deck steps")


def code_cell_with(lab, needle: str) -> int:
    import nbformat

    nb = nbformat.read(lab.server.root / lab.notebook, as_version=4)
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and needle in c.source)


def in_window(box: dict) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT


def shot(lab, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lab.page.screenshot(path=str(ARTIFACTS / f"deck-{name}.png"))


def _kernel_editor(lab, editor) -> str:
    mean = editor.locator(".jupyter-widgets.widget-label", has_text="output mean:")
    before = mean.inner_text()
    preset = editor.locator(".widget-dropdown", has_text="preset").locator("select")
    preset.select_option(label="box blur" if preset.input_value() != "box blur" else "edge (8-neighbour)")
    lab.wait_js("([el, old]) => el.textContent !== old", [mean.element_handle(), before],
                "the output mean to change after choosing another preset")
    return f"{before!r} -> {mean.inner_text()!r}"


def _pooling_explorer(lab, explorer) -> str:
    shape = explorer.locator(".jupyter-widgets.widget-label", has_text="output shape:")
    before = shape.inner_text()
    label = lab.page.locator("label.widget-label", has_text="pool size")
    slider = explorer.locator(".widget-slider", has=label).first
    handle = slider.locator(".noUi-handle").first
    track = slider.locator(".noUi-target, .slider").first.bounding_box()
    start = handle.bounding_box()
    lab.page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    lab.page.mouse.down()
    lab.page.mouse.move(track["x"] + track["width"] * 0.75, start["y"] + start["height"] / 2, steps=8)
    lab.page.mouse.up()
    lab.wait_js("([el, old]) => el.textContent.trim() !== old.trim()", [shape.element_handle(), before],
                "the output shape to change after dragging the pool-size slider")
    readout = slider.locator(".widget-readout").inner_text()
    return f"{before!r} -> {shape.inner_text()!r} (pool size {readout})"


WIDGETS = {"02": ("kernel_editor(", "course-kernel-editor", _kernel_editor),
           "03": ("pooling_explorer(", "course-pooling-explorer", _pooling_explorer)}


@pytest.mark.timeout(240)
@pytest.mark.parametrize("number", sorted(WIDGETS))
def test_widget_works_on_its_slide(lab, number, request):
    found = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    if not found:
        pytest.skip(f"notebooks/{number}_*.ipynb does not exist")
    notebook = found[0]
    needle, css, use = WIDGETS[number]
    lab.page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    lab.open(notebook)
    try:
        _use_widget_on_its_slide(lab, notebook, number, needle, css, use)
    finally:  # a deck left running (the extension remembers it) would turn the next test's notebook into a deck
        deck(lab, "deck:stop")
        slides.deck_off(settings_file(lab).parent.parent)


def _use_widget_on_its_slide(lab, notebook: Path, number: str, needle: str, css: str, use) -> None:
    lab.run_all()
    index = code_cell_with(lab, needle)
    start_deck_at_top(lab)
    shot(lab, f"{number}-first-slide")
    settings = settings_file(lab)
    for _ in range(40):  # the extension saves its settings a moment after the deck starts
        if settings.exists() and re.search(r'"active"\s*:\s*true', settings.read_text()):
            break
        time.sleep(0.25)
    else:
        raise AssertionError(f"the deck did not record itself as active in {settings} (what deck_off undoes)")
    presses = step_until_visible(lab, index)
    widget = lab.page.locator(f".jp-OutputArea-output .{css}").first
    widget.wait_for(state="visible", timeout=20_000)
    time.sleep(1.0)
    box = widget.bounding_box()
    assert box and in_window(box), f"the widget is not inside the {WIDTH}x{HEIGHT} window on its slide: {box}"
    shot(lab, f"{number}-widget-slide")
    change = use(lab, widget)
    shot(lab, f"{number}-widget-used")
    lab.step("deck + widget")
    deck(lab, "deck:stop")
    slides.deck_off(settings.parent.parent)  # what `make lab` runs first (stopping the deck may already turn it off)
    assert not re.search(r'"active"\s*:\s*true', settings.read_text()), "the deck would open again at next start"
    print(f"{notebook.name}: widget cell {index + 1} on screen after {presses} deck steps; {change}")


def _walk(lab, limit: int = 160) -> tuple[list[dict], dict[int, float], int]:
    """Every step of the deck from the top: (screens, {markdown cell: rendered height}, steps)."""
    screens, heights = [], {}
    for step in range(limit):
        now = [c for c in cells(lab) if c["visible"]]
        key = tuple(c["i"] for c in now)
        for c in now:
            if c["type"] == "markdown" and c["md_height"]:
                heights[c["i"]] = max(heights.get(c["i"], 0), c["height"])
        screens.append({"cells": list(key), "top": min(c["top"] for c in now),
                        "bottom": max(c["bottom"] for c in now)})
        if step < 3:
            shot(lab, f"08-step{step}-{'presentation' if lab.presentation else 'plain'}")
        if not next_screen(lab):
            break
    return screens, heights, len(screens)


@pytest.mark.timeout(300)
@pytest.mark.notebook("08")
def test_deck_steps_through_a_notebook_and_slides_fit(lab, notebook):
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    types = slides.slide_types(nb.cells)
    lab.page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    lab.open(notebook)
    results = {}
    for presentation in (False, True):
        lab.presentation = presentation
        if presentation:
            deck(lab, "application:toggle-presentation-mode")
        start_deck_at_top(lab)
        screens, heights, steps = _walk(lab)
        deck(lab, "deck:stop")
        if presentation:
            deck(lab, "application:toggle-presentation-mode")
        firsts = [s["cells"][0] for s in screens]
        starts = [i for i, t in enumerate(types) if t in ("slide", "subslide")]
        assert set(starts) <= set(firsts), f"screens never shown: {sorted(set(starts) - set(firsts))}"
        # Every cell the deck should present is on some screen (a cell typed "-" never was: see slides.CONTINUE).
        seen = {i for s in screens for i in s["cells"]}
        meant = {i for i, t in enumerate(types) if t not in ("skip", "notes")}
        assert meant <= seen, f"cells the deck never showed: {[i + 1 for i in sorted(meant - seen)]}"
        results["presentation" if presentation else "plain"] = {
            "steps": steps, "screens": screens,
            "markdown": [{"cell": i + 1, "height_px": round(h, 1), "chars": len(nb.cells[i].source),
                          "est_lines": slides.rendered_lines(nb.cells[i].source),
                          "too_long_by_rule": slides.too_long(nb.cells[i].source), "source": nb.cells[i].source}
                         for i, h in sorted(heights.items())]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "deck-fit.json").write_text(json.dumps(results, indent=1))
    lab.step("deck walk x2")
    for mode, data in results.items():
        passed_but_tall = [m for m in data["markdown"] if not m["too_long_by_rule"] and m["height_px"] > HEIGHT]
        assert not passed_but_tall, f"{mode}: cells the rule passes are taller than {HEIGHT} px: {passed_but_tall}"
        worst = max(data["markdown"], key=lambda m: m["height_px"] / max(m["est_lines"], 1))
        print(f"{mode}: {data['steps']} deck steps, {len(data['markdown'])} markdown cells measured; "
              f"most px per estimated line: cell {worst['cell']} {worst['height_px']} px / {worst['est_lines']} lines")
