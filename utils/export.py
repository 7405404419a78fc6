"""Lesson code has one source: the notebook cell where it is taught. This module copies it into ``utils``.

A code cell whose first line is ``#@save utils.<module>`` is lesson code that later notebooks reuse. The learner
reads and edits it in the notebook (later cells of that notebook use the edited version); ``python -m utils.export``
(or ``make export``) copies every such cell, without its marker line and in notebook order, into one generated
block of ``utils/<module>.py``::

    # >>> generated from notebooks/10_gans.ipynb by `make export`: edit the notebook, not this block
    ...the cells' code...
    # <<< generated from notebooks/10_gans.ipynb

The rest of the module (its imports, input checks, caching, plotting) is written by hand around the block and
calls the generated code. A module without a block for a notebook gets one appended at its end. Later notebooks
import the exported copy. ``python -m utils.export --check`` (and ``tests/test_export.py``) fails when a module and
its notebooks disagree, so editing lesson code in ``utils`` by hand is caught: change the notebook, then export.

Like d2l's ``#@save`` (d2l.ai), but per cell and checked.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

#: The marker: the first line of an exported cell names the module it goes to.
MARKER = re.compile(r"^#@save\s+(utils(?:\.\w+)+)\s*$")


@dataclass(frozen=True)
class Block:
    """The exported code of one notebook for one module."""

    notebook: str  # path relative to the repository, e.g. "notebooks/10_gans.ipynb"
    module: str  # e.g. "utils.gan"
    code: str

    @property
    def begin(self) -> str:
        return f"# >>> generated from {self.notebook} by `make export`: edit the notebook, not this block"

    @property
    def end(self) -> str:
        return f"# <<< generated from {self.notebook}"

    def text(self) -> str:
        return f"{self.begin}\n{self.code.rstrip()}\n{self.end}\n"


def module_path(module: str, root: Path = ROOT) -> Path:
    """``utils.gan`` -> ``<root>/utils/gan.py``."""
    return root.joinpath(*module.split(".")).with_suffix(".py")


def blocks_of(notebook: Path, root: Path = ROOT) -> list[Block]:
    """The exported blocks of one notebook, one per target module, cells joined in notebook order."""
    nb = nbformat.read(notebook, as_version=4)
    parts: dict[str, list[str]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        first, _, rest = cell.source.partition("\n")
        match = MARKER.match(first.strip())
        if not match:
            if first.strip().startswith("#@save"):
                raise ValueError(f"{notebook.name}, cell {index}: write the marker as `#@save utils.<module>`")
            continue
        try:
            ast.parse(rest)
        except SyntaxError as err:
            raise ValueError(f"{notebook.name}, cell {index}: exported code does not parse ({err.msg}, "
                             f"line {err.lineno})") from None
        parts.setdefault(match.group(1), []).append(rest.strip("\n"))
    rel = notebook.resolve().relative_to(root.resolve()).as_posix()
    return [Block(rel, module, "\n\n\n".join(cells)) for module, cells in parts.items()]


def render(source: str, block: Block) -> str:
    """``source`` (a module's text) with ``block`` written in: replaced where it stands, appended otherwise."""
    pattern = re.compile(re.escape(block.begin) + r"\n.*?" + re.escape(block.end) + r"\n?", re.S)
    if pattern.search(source):
        return pattern.sub(lambda _: block.text(), source, count=1)
    return source.rstrip("\n") + "\n\n\n" + block.text()


def export(root: Path = ROOT, write: bool = False) -> dict[Path, str]:
    """Every module the notebooks export to, with the text it should have. Writes them when ``write``.

    Returns only the modules whose text on disk differs from what the notebooks say.
    """
    wanted: dict[Path, str] = {}
    for notebook in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for block in blocks_of(notebook, root):
            path = module_path(block.module, root)
            if not path.exists():
                raise FileNotFoundError(f"{block.notebook} exports to {block.module}, but {path.name} does not exist: "
                                        "create the module (its docstring and imports) first")
            current = wanted.get(path, path.read_text())
            wanted[path] = render(current, block)
    stale = {path: text for path, text in wanted.items() if path.read_text() != text}
    if write:
        for path, text in stale.items():
            path.write_text(text)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report modules that differ from the notebooks")
    args = parser.parse_args(argv)
    stale = export(ROOT, write=not args.check)
    for path in stale:
        verb = "differs from its notebooks" if args.check else "written"
        print(f"{path.relative_to(ROOT)}: {verb}")
    if args.check and stale:
        print("Lesson code in utils must come from the notebooks: edit the notebook cell, then run `make export`.")
        return 1
    if not stale:
        print("utils matches the notebooks' exported cells.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
