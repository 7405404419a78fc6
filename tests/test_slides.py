"""The generated slide deck: every notebook's ``slideshow.slide_type`` metadata is what ``utils.slides`` gives."""

from __future__ import annotations

import nbformat
import pytest

from utils import slides

new = nbformat.v4


def test_every_notebook_carries_the_generated_slide_metadata():
    paths = slides.notebook_paths()
    generated = [p for p in paths if any(slides.current_type(c) for c in nbformat.read(p, as_version=4).cells)]
    if not generated:
        pytest.skip("no notebook carries slide metadata yet: run python -m utils.slides --write (the coordinator "
                    "does it on main after merging the classroom branch)")
    problems = [msg for path in paths for msg in slides.drift(path)]
    assert not problems, "\n".join(problems[:20]) + "\nrun: python -m utils.slides --write"


def test_drift_is_detected_and_write_repairs_it(tmp_path):
    src = slides.notebook_paths()[0]
    nb = nbformat.read(src, as_version=4)
    slides.apply(nb)
    nb.cells[3].metadata["slideshow"]["slide_type"] = "notes"
    del nb.cells[5].metadata["slideshow"]
    broken = tmp_path / src.name
    nbformat.write(nb, broken)
    problems = slides.drift(broken)
    assert len(problems) == 2 and "cell 4" in problems[0] and "'notes'" in problems[0] and "None" in problems[1]
    assert slides.write(broken) == 2 and slides.drift(broken) == []
    assert slides.write(broken) == 0  # idempotent


def test_the_rules():
    cells = [new.new_markdown_cell("# 99 · Title\n\ngoals"),
             new.new_code_cell("# Setup: run this cell first. ...\nimport os"),
             new.new_code_cell("import numpy as np\nfrom utils import plots  # plotting"),
             new.new_markdown_cell("## 1 · A section\n\nText."),
             new.new_code_cell("x = np.zeros(3)"),
             new.new_code_cell("print(x)"),
             new.new_markdown_cell("What the output shows."),
             new.new_markdown_cell("And one more sentence."),
             new.new_markdown_cell("> **Instructor:** ask who has seen a convolution before."),
             new.new_markdown_cell("### A sub-section"),
             new.new_markdown_cell("The derivation:\n\n$$a = b$$\n\nthen\n\n$$b = c$$"),
             new.new_code_cell("import time\ntime.sleep(0)"),
             new.new_raw_cell("raw")]
    assert slides.slide_types(cells) == ["slide", "skip", "skip", "slide", "fragment", "", "subslide", "",
                                         "notes", "subslide", "subslide", "fragment", "skip"]


def test_a_screen_that_is_full_starts_a_subslide():
    para = "word " * (slides.LINE_CHARS // 5)  # one rendered line
    half = "\n\n".join([para] * (slides.SCREEN_LINES // 2))
    cells = [new.new_markdown_cell("# T"), new.new_markdown_cell("## S"), new.new_markdown_cell(half),
             new.new_markdown_cell(half)]
    assert slides.slide_types(cells) == ["slide", "slide", "", "subslide"]


def test_rendered_lines_counts_what_the_reader_sees():
    line = "x" * slides.LINE_CHARS
    assert slides.rendered_lines(line) == 1
    assert slides.rendered_lines(line + "y") == 2
    # one paragraph over several source lines reflows; a link's target is not shown
    assert slides.rendered_lines("x" * 50 + "\n" + "[" + "x" * 50 + "](https://example.org/" + "z" * 200 + ")") == 1
    two = slides.rendered_lines("first\n\nsecond")
    assert two == 2 + slides.PARAGRAPH_GAP
    assert slides.rendered_lines("## Heading") == slides.HEADING_LINES[2]
    assert slides.rendered_lines("- a\n- b\n- c") == 3  # a tight list: no gaps
    assert slides.rendered_lines("| a | b |\n|---|---|\n| 1 | 2 |") == 2
    assert slides.rendered_lines("## Heading\n\ntext") == slides.HEADING_LINES[2] + 1 + slides.PARAGRAPH_GAP


def test_too_long_flags_a_350_word_cell_and_passes_a_short_one(tmp_path):
    long_text = " ".join(["transfer"] * 350)
    assert slides.too_long(long_text) and not slides.too_long("A short paragraph.\n\n- one\n- two")
    nb = new.new_notebook(cells=[new.new_markdown_cell("# 99 · X"), new.new_markdown_cell(long_text)])
    path = tmp_path / "99_x.ipynb"
    nbformat.write(nb, path)
    found = slides.long_cells(path)
    assert [(c.cell, c.words) for c in found] == [(2, 350)]
    text = slides.report([path])
    assert "| 99_x | 2 |" in text and "1 cell(s) in 1 notebook(s)" in text


def test_every_notebook_gets_valid_types_and_a_slide_per_section():
    for path in slides.notebook_paths():
        nb = nbformat.read(path, as_version=4)
        types = slides.slide_types(nb.cells)
        assert len(types) == len(nb.cells) and set(types) <= set(slides.SLIDE_TYPES)
        assert types[0] == "slide"
        for cell, kind in zip(nb.cells, types):
            if cell.cell_type == "markdown" and cell.source.startswith("## "):
                assert kind == "slide", (path.name, cell.source[:40])
            if cell.cell_type == "code" and cell.source.startswith(slides.SETUP_MARK):
                assert kind == "skip"


def test_deck_off_turns_the_remembered_deck_off_and_keeps_other_settings(tmp_path):
    target = tmp_path / slides.DECK_SETTINGS
    assert slides.deck_off(tmp_path) is False  # no settings file: nothing to do
    target.parent.mkdir(parents=True)
    target.write_text('{\n    // my own comment\n    "active": true,\n    "showCodeCellPrompt": true\n}')
    assert slides.deck_off(tmp_path) is True
    text = target.read_text()
    assert '"active": false' in text and '"showCodeCellPrompt": true' in text and "// my own comment" in text
    assert slides.deck_off(tmp_path) is False


def test_command_line(tmp_path, capsys):
    nb = new.new_notebook(cells=[new.new_markdown_cell("# 99 · X"), new.new_code_cell("x = 1")])
    path = tmp_path / "99_x.ipynb"
    nbformat.write(nb, path)
    assert slides.main(["--check", str(path)]) == 1
    assert slides.main(["--write", str(path)]) == 0
    assert slides.main(["--check", str(path)]) == 0
    assert "up to date" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        slides.main(["--write", str(tmp_path / "missing.ipynb")])


def test_make_lab_turns_a_remembered_deck_off_before_starting():
    makefile = (slides.ROOT / "Makefile").read_text()
    recipe = makefile.split("\nlab: ", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()[1:]]
    assert any("utils.slides --deck-off" in line for line in lines)
    first_off = next(i for i, line in enumerate(lines) if "--deck-off" in line)
    first_lab = next(i for i, line in enumerate(lines) if "jupyter lab" in line)
    assert first_off < first_lab


def test_a_live_widget_gets_a_screen_of_its_own():
    assert slides.shows_widget("kernel_editor()   # needs a live kernel")
    assert slides.shows_widget("pooling_explorer({'a': 1},\n    size=3)")
    assert slides.shows_widget("pad = make_pad()\npad.widget")
    assert slides.shows_widget("widgets.VBox([a, b])")
    assert not slides.shows_widget("editor = kernel_editor()")
    assert not slides.shows_widget("print(pad.widget)")
    assert not slides.shows_widget("x = (")
    cells = [new.new_markdown_cell("# T"), new.new_markdown_cell("Text."),
             new.new_code_cell("from utils import widgets"), new.new_code_cell("x = 1"),
             new.new_code_cell("kernel_editor()")]
    assert slides.slide_types(cells) == ["slide", "", "skip", "fragment", "subslide"]
