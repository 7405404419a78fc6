"""utils.export: lesson code written in a notebook cell is the one copy; the module's generated block follows it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from utils import export

ROOT = Path(__file__).resolve().parent.parent


def test_utils_matches_the_notebooks():
    stale = export.export(ROOT, write=False)
    assert not stale, ("lesson code in utils differs from its notebook cells (edit the notebook, then `make export`): "
                       + ", ".join(str(p.relative_to(ROOT)) for p in stale))


def _course(tmp_path: Path, cells: list[str]) -> Path:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "lesson.py").write_text('"""A lesson module."""\n\nimport math\n')
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title")] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, tmp_path / "notebooks" / "01_lesson.ipynb")
    return tmp_path


def test_marked_cells_are_written_in_order_and_unmarked_ones_are_not(tmp_path):
    root = _course(tmp_path, ["#@save utils.lesson\ndef area(r):\n    return math.pi * r * r",
                              "print(area(2))",
                              "#@save utils.lesson\ndef double(x):\n    return 2 * x"])
    assert export.export(root, write=True)
    text = (root / "utils" / "lesson.py").read_text()
    assert text.index("def area") < text.index("def double")
    assert "print(area(2))" not in text and "#@save" not in text
    assert "# >>> generated from notebooks/01_lesson.ipynb" in text and text.startswith('"""A lesson module."""')
    namespace: dict = {}
    exec(compile(text, "lesson.py", "exec"), namespace)
    assert namespace["double"](3) == 6
    assert export.export(root, write=False) == {}  # a second run changes nothing


def test_a_hand_edit_of_the_block_is_caught_and_an_export_mends_it(tmp_path):
    root = _course(tmp_path, ["#@save utils.lesson\ndef double(x):\n    return 2 * x"])
    export.export(root, write=True)
    module = root / "utils" / "lesson.py"
    module.write_text(module.read_text().replace("2 * x", "x + x"))
    assert module in export.export(root, write=False)
    export.export(root, write=True)
    assert "return 2 * x" in module.read_text() and "x + x" not in module.read_text()


def test_an_edited_notebook_cell_makes_the_module_stale(tmp_path):
    root = _course(tmp_path, ["#@save utils.lesson\ndef double(x):\n    return 2 * x"])
    export.export(root, write=True)
    path = root / "notebooks" / "01_lesson.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("2 * x", "x * 2")
    nbformat.write(nb, path)
    assert export.export(root, write=False)


@pytest.mark.parametrize("cell, message", [("#@save\ndef f():\n    pass", "utils.<module>"),
                                           ("#@save utils.lesson\ndef f(:\n", "does not parse"),
                                           ("#@save utils.nowhere\ndef f():\n    pass", "does not exist")])
def test_bad_markers_say_what_to_do(tmp_path, cell, message):
    root = _course(tmp_path, [cell])
    with pytest.raises((ValueError, FileNotFoundError), match=message.replace(".", r"\.").replace("<", ".")):
        export.export(root, write=False)


def test_the_command_line_check_fails_on_drift(tmp_path, monkeypatch, capsys):
    root = _course(tmp_path, ["#@save utils.lesson\ndef double(x):\n    return 2 * x"])
    monkeypatch.setattr(export, "ROOT", root)
    assert export.main(["--check"]) == 1
    assert "make export" in capsys.readouterr().out
    assert export.main([]) == 0
    assert export.main(["--check"]) == 0
