"""The slide deck of every notebook, generated: ``slideshow.slide_type`` on every cell, from the cell's content.

    python -m utils.slides --write     # put the slide metadata into every notebook (or the ones named)
    python -m utils.slides --check     # exit 1 when a notebook's metadata differs from what --write puts there
    python -m utils.slides --report    # the markdown cells too long for one 1280x720 slide, per notebook
    python -m utils.slides --deck-off  # what `make lab` runs first: JupyterLab opens as a notebook, not a deck

`jupyterlab-slideshow <https://github.com/deathbeds/jupyterlab-deck>`_ turns the notebook itself into a deck from
this metadata (its ``deck:start`` command; the widgets stay live). No cell's type is typed by hand, so a notebook
that changes gets its deck again from ``--write``, and ``tests/test_slides.py`` fails when the two differ.

The rules (:func:`slide_types`), in order, for each cell:

1. the first cell (title and learning goals): ``slide``;
2. the setup cell and code cells made only of imports: ``skip`` (plumbing; run them before presenting);
3. a markdown cell marked for the instructor (its first line starts with ``> **Instructor``): ``notes``.
   Students reading the notebook see it as an ordinary, clearly labelled quote; the deck shows it only in the
   presenter's notes;
4. a markdown cell starting with ``## `` (a section): ``slide``; with ``### `` or deeper (a sub-section):
   ``subslide``;
5. any other markdown cell: ``subslide`` when it follows a code cell (the next step of the lesson gets its own
   screen), when it holds a long derivation (two or more ``$$`` display equations) or when the screen it would
   join is already full (:data:`SCREEN_LINES`); else a continuation (it joins the text above it: ``-`` in
   JupyterLab's property inspector, stored as :data:`CONTINUE`, the empty string);
6. a code cell that ends by showing a live widget (:func:`shows_widget`): ``subslide`` (the widget gets a screen of
   its own, so all of it is inside the window);
7. any other code cell right after markdown: ``fragment`` (the instructor explains, then reveals the code and its output
   with one more key press); a code cell after another code cell: a continuation (it joins that step).

The fit (:func:`rendered_lines`, :func:`too_long`): a markdown cell fits one slide when its estimated rendered lines
are at most :data:`SCREEN_LINES`, counting :data:`LINE_CHARS` characters of visible text (link targets, ``**`` and
backticks removed) per line. Both numbers were measured in JupyterLab 4.6 with jupyterlab-slideshow 0.3.4 at
1280x720 in Chromium (``tests/browser/test_deck.py`` measures the notebooks' own cells and checks the rule against
the browser). Cells over the budget are reported (``--report``), not split: splitting prose is an author's edit.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

#: The slide types jupyterlab-slideshow (and RISE, nbconvert) read from ``metadata.slideshow.slide_type``.
SLIDE_TYPES = ("slide", "subslide", "fragment", "", "skip", "notes")
#: "Continue the current screen" (shown as ``-`` in JupyterLab's property inspector, which stores it as ``""``).
#: jupyterlab-slideshow 0.3.4 reads ``""`` (or no type) as the continuation and never shows a cell typed ``"-"``
#: (RISE's and classic Notebook's spelling, which nbconvert reads as a continuation too): ``""`` works in all of them.
CONTINUE = ""

#: Characters of visible markdown text per rendered line on a 1280x720 deck slide (measured: see the module doc).
LINE_CHARS = 110
#: Rendered lines (of that width) one 1280x720 deck slide shows without scrolling (measured: see the module doc).
SCREEN_LINES = 22
#: How many text lines a heading takes (larger type and the space around it).
HEADING_LINES = {1: 2.5, 2: 2.0, 3: 1.6}
#: A blank line between paragraphs, as rendered (a paragraph's margin).
PARAGRAPH_GAP = 0.6
#: Where an instructor's remark starts: its first line, e.g. ``> **Instructor:** ask who has seen ...``.
INSTRUCTOR_MARK = re.compile(r"^>\s*\*\*(Instructor|For the instructor)\b", re.I)
SETUP_MARK = "# Setup: run this cell first"


# ------------------------------------------------------------------------------------------------ the rules


def is_plumbing(source: str) -> bool:
    """True for the setup cell and for a code cell made only of imports (and comments)."""
    if source.startswith(SETUP_MARK):
        return True
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return bool(tree.body) and all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body)


#: Calls whose value, as a cell's last expression, is a live widget (utils.widgets' builders, ipywidgets' boxes).
WIDGET_CALLS = ("kernel_editor", "pooling_explorer", "VBox", "HBox")


def shows_widget(source: str) -> bool:
    """True for a code cell that ends by showing a live widget: ``kernel_editor()``, ``pad.widget``, ``VBox([...])``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return False
    value = tree.body[-1].value
    if isinstance(value, ast.Attribute):
        return value.attr == "widget"
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in WIDGET_CALLS
    return False


def heading_level(source: str) -> int:
    """1 for ``# Title``, 2 for ``## Section``... (of the cell's first line); 0 when it starts with no heading."""
    match = re.match(r"^(#{1,6})\s", source)
    return len(match.group(1)) if match else 0


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HTML = re.compile(r"<[^>]+>")


def visible_text(line: str) -> str:
    """What a markdown line shows: link text without its target, no ``**``/``*``/backticks, no HTML tags."""
    line = _LINK.sub(r"\1", line)
    line = _HTML.sub("", line)
    return re.sub(r"\*\*|`|(?<!\w)\*|\*(?!\w)", "", line).strip()


def rendered_lines(source: str, line_chars: int = LINE_CHARS) -> float:
    """Estimated rendered height of a markdown cell on a deck slide, in text lines of ``line_chars`` characters.

    Source lines of one paragraph are joined (markdown reflows them); each paragraph, list item, table row and
    display-math line starts a new line; headings count :data:`HEADING_LINES`; each blank line between blocks
    (a paragraph's margin) :data:`PARAGRAPH_GAP`. Items of a list and rows of a table follow each other tightly.
    """
    total, gaps, paragraph, pending_gap = 0.0, 0, "", False

    def flush() -> int:
        return math.ceil(len(paragraph) / line_chars) if paragraph else 0

    for raw in source.split("\n"):
        line = raw.strip()
        if not line:
            total += flush()
            paragraph, pending_gap = "", total > 0
            continue
        if pending_gap:
            gaps, pending_gap = gaps + 1, False
        level = heading_level(line)
        if level or re.match(r"^([-*+]|\d+[.)])\s", line) or line.startswith(("|", "$$", ">")):
            total += flush()
            paragraph = ""
        if level:
            total += HEADING_LINES.get(level, 1.4)
        elif line.startswith("|"):
            if not re.match(r"^\|[\s:|-]+\|?$", line):  # the |---| row draws no line of text
                total += max(1, math.ceil(len(visible_text(line)) / line_chars))
        elif line.startswith("$$"):
            total += 1.5
        else:
            text = visible_text(line)
            paragraph = f"{paragraph} {text}".strip() if paragraph else text
    total += flush()
    return round(total + PARAGRAPH_GAP * gaps, 1)


def too_long(source: str) -> bool:
    """True when a markdown cell does not fit one 1280x720 slide (:func:`rendered_lines` > :data:`SCREEN_LINES`)."""
    return rendered_lines(source) > SCREEN_LINES


def slide_types(cells) -> list[str]:
    """The slide type of every cell (the rules in the module doc), from the cells' types and sources alone."""
    types: list[str] = []
    previous = None  # the cell type of the last cell shown in the deck
    screen = 0.0  # rendered markdown lines on the current screen
    for index, cell in enumerate(cells):
        source = cell.source if hasattr(cell, "source") else "".join(cell["source"])
        kind = cell.cell_type if hasattr(cell, "cell_type") else cell["cell_type"]
        if index == 0:
            kind_of = "slide"
        elif kind == "code":
            if is_plumbing(source):
                types.append("skip")
                continue
            kind_of = "subslide" if shows_widget(source) else "fragment" if previous == "markdown" else CONTINUE
        elif kind == "markdown" and INSTRUCTOR_MARK.match(source):
            types.append("notes")
            continue
        elif kind == "markdown":
            level = heading_level(source)
            lines = rendered_lines(source)
            if level == 2 or level == 1:
                kind_of = "slide"
            elif level >= 3 or previous == "code" or source.count("$$") >= 4 or screen + lines > SCREEN_LINES:
                kind_of = "subslide"
            else:
                kind_of = CONTINUE
        else:  # raw cells
            types.append("skip")
            continue
        if kind == "markdown":
            lines = rendered_lines(source)
            screen = lines if kind_of in ("slide", "subslide") else screen + lines
        previous = kind
        types.append(kind_of)
    return types


# ------------------------------------------------------------------------------------------ notebooks


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def current_type(cell) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def apply(nb) -> int:
    """Write the slide types into ``nb`` (in place); return how many cells changed."""
    changed = 0
    for cell, kind in zip(nb.cells, slide_types(nb.cells)):
        if current_type(cell) != kind:
            cell.metadata.setdefault("slideshow", {})["slide_type"] = kind
            changed += 1
    return changed


def drift(path: Path) -> list[str]:
    """Where the slide metadata of ``path`` differs from :func:`slide_types` (empty when it matches)."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    for index, (cell, kind) in enumerate(zip(nb.cells, slide_types(nb.cells))):
        have = current_type(cell)
        if have != kind:
            first = cell.source.strip().split("\n")[0][:50]
            problems.append(f"{path.name}: cell {index + 1} ({cell.cell_type}, {first!r}) has slide type "
                            f"{have!r}, the rules give {kind!r}")
    return problems


def write(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    changed = apply(nb)
    if changed:
        nbformat.write(nb, path)
    return changed


@dataclass(frozen=True)
class LongCell:
    """A markdown cell over the slide budget: where it is and by how much."""

    notebook: str
    cell: int  # 1-based, as JupyterLab counts
    lines: float
    words: int
    starts: str


def long_cells(path: Path) -> list[LongCell]:
    """The markdown cells of ``path`` that do not fit one 1280x720 slide."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and too_long(cell.source):
            text = " ".join(visible_text(line) for line in cell.source.split("\n")).strip()
            found.append(LongCell(path.stem, index + 1, rendered_lines(cell.source), len(cell.source.split()),
                                  text[:60]))
    return found


def report(paths: list[Path]) -> str:
    """The too-long markdown cells of each notebook, as a markdown table (what an author splits next)."""
    rows = [f"Markdown cells over one 1280x720 slide ({SCREEN_LINES} lines of {LINE_CHARS} characters):", "",
            "| notebook | cell | est. lines | words | starts with |", "|---|---|---|---|---|"]
    count = 0
    for path in paths:
        for c in long_cells(path):
            rows.append(f"| {c.notebook} | {c.cell} | {c.lines:g} | {c.words} | {c.starts} |")
            count += 1
    rows.append("")
    rows.append(f"{count} cell(s) in {len(paths)} notebook(s).")
    return "\n".join(rows)


def summary(path: Path) -> dict[str, int]:
    """How many cells of each slide type ``path`` gets."""
    nb = nbformat.read(path, as_version=4)
    counts = {k: 0 for k in SLIDE_TYPES}
    for kind in slide_types(nb.cells):
        counts[kind] += 1
    return counts


#: Where jupyterlab-slideshow keeps its settings, inside JupyterLab's user settings folder.
DECK_SETTINGS = Path("jupyterlab-slideshow") / "plugin.jupyterlab-settings"


def deck_off(settings_dir: Path | None = None) -> bool:
    """Set jupyterlab-slideshow's ``active`` setting to false; True when it was on.

    The extension saves ``"active": true`` in the user's settings when a deck starts, so the next JupyterLab would
    open straight into the deck. ``make lab`` calls this first. Every other setting in the file (and its comments)
    is kept. ``settings_dir`` defaults to JupyterLab's (``JUPYTERLAB_SETTINGS_DIR`` or
    ``~/.jupyter/lab/user-settings``).
    """
    if settings_dir is None:
        from jupyterlab.commands import get_user_settings_dir

        settings_dir = Path(get_user_settings_dir())
    path = Path(settings_dir) / DECK_SETTINGS
    try:
        text = path.read_text()
    except OSError:
        return False
    new, count = re.subn(r'("active"\s*:\s*)true\b', r"\1false", text)
    if count:
        path.write_text(new)
    return bool(count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.slides", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the slide metadata into the notebooks")
    mode.add_argument("--check", action="store_true", help="exit 1 when a notebook's slide metadata is out of date")
    mode.add_argument("--report", action="store_true", help="list the markdown cells too long for one slide")
    mode.add_argument("--deck-off", action="store_true", help="turn jupyterlab-slideshow's 'active' setting off")
    parser.add_argument("--json", action="store_true", help="with --report: the cells as JSON")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or notebook_paths()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    if args.deck_off:
        if deck_off():
            print("The slide deck was left on in JupyterLab's settings: turned off, so the course opens as notebooks.")
        return 0
    if args.write:
        for path in paths:
            changed = write(path)
            counts = summary(path)
            print(f"{path.name}: {changed} cell(s) changed; " +
                  ", ".join(f"{counts[k]} {k or 'continuing'}" for k in SLIDE_TYPES if counts[k]))
        return 0
    if args.report:
        if args.json:
            print(json.dumps([c.__dict__ for p in paths for c in long_cells(p)], indent=1))
        else:
            print(report(paths))
        return 0
    problems = [msg for path in paths for msg in drift(path)]
    print("\n".join(problems[:40]) + (f"\n... {len(problems) - 40} more" if len(problems) > 40 else "")
          if problems else f"{len(paths)} notebook(s): slide metadata up to date")
    if problems:
        print("run: python -m utils.slides --write")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
