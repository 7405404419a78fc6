"""``make prepare``: train every model the notebooks cache, once, before class, so nobody waits in the lesson.

    python -m utils.prepare             # full mode: every cached model, in dependency order, then a table
    python -m utils.prepare --dry-run   # only list what it would train, in that order, and where it goes
    python -m utils.prepare --fast      # the same in fast mode (the small models the fast notebooks load)

The models are found, not listed by hand: every call in a notebook's code cells to
``models.load_or_train_mnist_cnn``, ``autoencoders.load_or_train_vae``, ``transfer.load_or_train_source`` or
``cache.load_or_train("name", ...)`` (:func:`find_models`). Each model is trained where the course teaches it: in
a kernel on its own notebook, running only the cells that call needs (:func:`cells_for`: the setup cell, then
every earlier cell that defines or changes a name it reads), so notebook 07's small CNN is trained by notebook
07's own recipe without running the rest of the lesson. Notebooks go in their order, which is the dependency
order (04's CNN comes before 05, 10 and 11, which load it; 09's VAE before 10); a model an earlier notebook
already made is not run again (its later uses only load it). A model whose cached recipe matches is loaded, not
retrained, so running ``make prepare`` twice costs the second time only the loading.

One progress line per model, then a table: model, notebook, seconds, what happened, cache file.
"""

from __future__ import annotations

import argparse
import ast
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SETUP_MARK = "# Setup: run this cell first"

#: The course's load-or-train functions: function name -> the cache name it uses unless given ``name=``.
#: (``cache.load_or_train`` takes the name as its first argument.)
LOADERS = {"load_or_train_mnist_cnn": "mnist_cnn", "load_or_train_vae": "mnist_vae",
           "load_or_train_source": "fashion_source", "load_or_train": None}

#: Methods that change the object they are called on: a cell calling one (``cnn.fit(...)``) is needed by
#: later cells that use the object even though it assigns nothing to it.
MUTATORS = {"fit", "compile", "build", "load_weights", "set_weights", "train_on_batch", "append", "extend",
            "update", "add", "insert", "pop", "clear", "setdefault", "sort", "fill", "add_class"}


# ------------------------------------------------------------------------------- which cells a cell needs


def _names(source: str) -> tuple[set[str], set[str], set[str]]:
    """(names a cell defines, names it reads, names it mutates with a MUTATORS method call)."""
    tree = ast.parse(source)
    defined, used, mutated = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.attr in MUTATORS):
            mutated.add(node.func.value.id)
    return defined, used, mutated


def _code_cells(nb) -> list[tuple[int, str]]:
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def cells_for_indexes(nb, targets: list[int]) -> list[int]:
    """The code cells (0-based indexes) a learner must run to run the cells ``targets``: see :func:`cells_for`."""
    code = _code_cells(nb)
    chosen, needed = set(targets), set()
    for i, src in code:
        if i in chosen:
            needed |= _names(src)[1]
    for i, src in reversed([(i, src) for i, src in code if i < max(targets)]):
        if i in chosen:
            continue
        defined, used, mutated = _names(src)
        if src.startswith(SETUP_MARK) or (defined | mutated) & needed:
            chosen.add(i)
            needed = (needed - defined) | used
    return sorted(chosen)


def cells_for(path: Path, *needles: str) -> list[int]:
    """The code cells (0-based indexes) a learner must run to see the cells containing ``needles``.

    Walks back from those cells: keeps every cell that defines a name still needed, or changes it in place
    (``cnn.fit(...)``), adding what that cell reads; the setup cell always. Cells nothing depends on (other
    models, plots, exercises) are left out, so a notebook that trains several models shows one of them in
    a fraction of its run-all time.
    """
    nb = nbformat.read(path, as_version=4)
    targets = [i for i, src in _code_cells(nb) if any(n in src for n in needles)]
    if not targets:
        raise AssertionError(f"{path.name}: no code cell contains {needles}")
    return cells_for_indexes(nb, targets)


# ------------------------------------------------------------------------------------ the cached models


@dataclass(frozen=True)
class Model:
    """One cached model: its cache name, the notebook and code cell (0-based) that first trains it."""

    name: str
    notebook: Path
    cell: int
    call: str  # the function, e.g. "cache.load_or_train"

    def cache_file(self, fast: bool = False) -> Path:
        from utils import env

        return env.cache_dir("models") / f"{self.name}-{'fast' if fast else 'full'}.keras"


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name if name in LOADERS else None


def _cache_name(node: ast.Call, function: str) -> str | None:
    for kw in node.keywords:
        if kw.arg == "name" and isinstance(kw.value, ast.Constant):
            return str(kw.value.value)
    if function == "load_or_train":
        first = node.args[0] if node.args else None
        return str(first.value) if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
    return LOADERS[function]


def models_in(path: Path) -> list[Model]:
    """The load-or-train calls in the code cells of ``path``, in cell order."""
    nb = nbformat.read(path, as_version=4)
    found = []
    for index, source in _code_cells(nb):
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (function := _call_name(node)):
                name = _cache_name(node, function)
                if name:
                    owner = node.func.value.id if (isinstance(node.func, ast.Attribute)
                                                   and isinstance(node.func.value, ast.Name)) else ""
                    found.append(Model(name, path, index, f"{owner}.{function}" if owner else function))
    return sorted(found, key=lambda m: m.cell)


def find_models(paths: list[Path] | None = None) -> tuple[list[Model], dict[str, list[str]]]:
    """Every cached model once, in dependency order (notebook order, then cell order), and where each is reused.

    Returns (models to train, {model name: the later notebooks that only load it}).
    """
    paths = sorted(paths if paths is not None else NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    first: dict[str, Model] = {}
    reused: dict[str, list[str]] = {}
    for path in paths:
        for model in models_in(path):
            if model.name not in first:
                first[model.name] = model
            elif model.notebook != first[model.name].notebook and path.stem not in reused.setdefault(model.name, []):
                reused[model.name].append(path.stem)
    return list(first.values()), reused


# --------------------------------------------------------------------------------------------- running


@dataclass
class Result:
    model: Model
    seconds: float
    status: str  # "trained", "loaded (already cached)" or "failed: ..."
    cache_file: Path


#: Runs the code cells ``indexes`` of a notebook in its kernel; (notebook, indexes) -> None, raises on an error.
CellRunner = Callable[[Path, list[int]], None]


class KernelRunner:
    """One Jupyter kernel per notebook (started in the notebook's folder), cells run one by one as a learner does."""

    def __init__(self, fast: bool, timeout: int = 3600):
        self.fast, self.timeout = fast, timeout
        self.path: Path | None = None
        self.client = None
        self.nb = None

    def _start(self, path: Path) -> None:
        from nbclient import NotebookClient

        self.close()
        os.environ["COURSE_FAST"] = "1" if self.fast else "0"
        self.nb = nbformat.read(path, as_version=4)
        self.client = NotebookClient(self.nb, timeout=self.timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}}, store_widget_state=False)
        self.client.km = self.client.create_kernel_manager()
        self.client.start_new_kernel()
        self.client.start_new_kernel_client()
        self.path = path

    def __call__(self, path: Path, indexes: list[int]) -> None:
        if path != self.path:
            self._start(path)
        for index in indexes:
            self.client.execute_cell(self.nb.cells[index], index)

    def close(self) -> None:
        if self.client is not None and self.client.km is not None:
            try:
                self.client._cleanup_kernel()
            except Exception:  # noqa: BLE001 - stopping anyway
                pass
        self.client, self.path = None, None


def prepare(models: list[Model], run_cells: CellRunner, fast: bool = False,
            say: Callable[[str], None] = print) -> list[Result]:
    """Train (or load) each model in order, running only the cells it needs; one progress line per model."""
    results: list[Result] = []
    done: dict[Path, set[int]] = {}
    for number, model in enumerate(models, 1):
        nb = nbformat.read(model.notebook, as_version=4)
        ran = done.setdefault(model.notebook, set())
        indexes = [i for i in cells_for_indexes(nb, [model.cell]) if i not in ran]
        target = model.cache_file(fast)
        before = target.stat().st_mtime if target.exists() else None
        say(f"[{number}/{len(models)}] {model.name} ({model.notebook.stem}, {len(indexes)} cell(s)) ...")
        start = time.perf_counter()
        try:
            run_cells(model.notebook, indexes)
        except Exception as err:  # noqa: BLE001 - report it and go on with the other models
            status = f"failed: {type(err).__name__}: {str(err).strip().splitlines()[-1][:120] if str(err) else ''}"
        else:
            after = target.stat().st_mtime if target.exists() else None
            status = ("trained" if after is not None and after != before else
                      "loaded (already cached)" if after is not None else "no cache file written")
        ran.update(indexes)
        seconds = time.perf_counter() - start
        results.append(Result(model, seconds, status, target))
        say(f"[{number}/{len(models)}] {model.name}: {status} in {seconds:.0f} s -> {_shown(target)}")
    return results


def _shown(path: Path) -> str:
    """A cache file as the table shows it: relative to the course cache folder where it lies inside it."""
    from utils import env

    try:
        return str(Path(path).resolve().relative_to(env.cache_dir().resolve().parent))
    except ValueError:
        return str(path)


def table(results: list[Result]) -> str:
    """The closing table: model, notebook, seconds, what happened, cache file."""
    rows = [("model", "notebook", "seconds", "status", "cache file")]
    rows += [(r.model.name, r.model.notebook.stem, f"{r.seconds:.0f}", r.status, _shown(r.cache_file))
             for r in results]
    rows.append(("total", "", f"{sum(r.seconds for r in results):.0f}", "", ""))
    widths = [max(len(row[k]) for row in rows) for k in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plan(models: list[Model], reused: dict[str, list[str]], fast: bool = False) -> str:
    """What ``--dry-run`` prints: each model in order, where it is trained, who reuses it, its cache file."""
    lines = [f"{len(models)} cached model(s), in the order `make prepare` trains them "
             f"({'fast' if fast else 'full'} mode):"]
    for number, m in enumerate(models, 1):
        later = f"; reused by {', '.join(reused[m.name])}" if reused.get(m.name) else ""
        lines.append(f"{number:2d}. {m.name:18s} {m.notebook.stem} cell {m.cell + 1} ({m.call}){later} -> "
                     f"{_shown(m.cache_file(fast))}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.prepare", description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="list the models and their order; train nothing")
    parser.add_argument("--fast", action="store_true", help="fast mode (the small models fast mode loads)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="only the models these notebooks train first")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    models, reused = find_models()
    if args.notebooks:
        wanted = {p.resolve() for p in args.notebooks}
        models = [m for m in models if m.notebook.resolve() in wanted]
    print(plan(models, reused, args.fast))
    if args.dry_run:
        return 0
    runner = KernelRunner(fast=args.fast)
    try:
        results = prepare(models, runner, fast=args.fast)
    finally:
        runner.close()
    print()
    print(table(results))
    return 1 if any(r.status.startswith(("failed", "no cache")) for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
