"""``make prepare``: every cached model found in the notebooks, trained once in dependency order, with a table.

The real run trains for an hour on 2 cores, so here it runs on stub notebooks (a kernel each, no TensorFlow) and
on the real notebooks only as ``--dry-run``.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from utils import prepare

ROOT = Path(__file__).resolve().parent.parent
STUB_CACHE = '''\
import os, pathlib
class cache:  # a stand-in for utils.cache: writes the file once, then only "loads" it
    @staticmethod
    def load_or_train(name, recipe, train, **kw):
        path = pathlib.Path(os.environ["COURSE_CACHE_DIR"], "models", f"{name}-fast.keras")
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(str(train()))
        return name'''


def stub_notebooks(folder: Path) -> list[Path]:
    """01 trains stub_a (and has a cell that must never run); 02 reuses stub_a and trains stub_b after it."""
    new = nbformat.v4
    one = new.new_notebook(cells=[
        new.new_markdown_cell("# 01 · Stub"),
        new.new_code_cell("# Setup: run this cell first.\nSTEPS = 3"),
        new.new_code_cell(STUB_CACHE),
        new.new_code_cell("raise RuntimeError('an unrelated cell ran')"),
        new.new_code_cell("def train_a():\n    return STEPS * 2"),
        new.new_code_cell('model_a = cache.load_or_train("stub_a", {"steps": STEPS}, train_a)'),
    ])
    two = new.new_notebook(cells=[
        new.new_markdown_cell("# 02 · Stub"),
        new.new_code_cell(STUB_CACHE),
        new.new_code_cell('a = cache.load_or_train("stub_a", {}, lambda: 0)'),
        new.new_code_cell('b = cache.load_or_train("stub_b", {"from": a}, lambda: a + "!")'),
    ])
    paths = [folder / "01_stub.ipynb", folder / "02_stub.ipynb"]
    for nb, path in zip((one, two), paths):
        nbformat.write(nb, path)
    return paths


def test_the_real_notebooks_models_in_dependency_order():
    models, reused = prepare.find_models()
    names = [m.name for m in models]
    assert names[0] == "mnist_cnn" and models[0].notebook.stem.startswith("04")
    assert {"05_what_a_cnn_sees", "10_gans", "11_adversarial_examples"} <= set(reused["mnist_cnn"])
    assert names.index("mnist_vae") < names.index("gan_generator") and "10_gans" in reused["mnist_vae"]
    assert len(names) == len(set(names))
    stems = [m.notebook.stem for m in models]
    assert stems == sorted(stems), "models must come in notebook order (the dependency order)"
    # every cache.load_or_train("...") call in the notebooks is found
    called = set()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                called |= set(re.findall(r'cache\.load_or_train\(\s*"(\w+)"', cell.source))
    assert called and called <= set(names), called - set(names)


def test_dry_run_lists_and_trains_nothing(capsys, monkeypatch):
    monkeypatch.setattr(prepare, "prepare", lambda *a, **k: pytest.fail("--dry-run must not train"))
    assert prepare.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^ 1\. mnist_cnn .*04_mnist_cnn .*reused by 05_what_a_cnn_sees", out, re.M)
    assert "mnist_cnn-full.keras" in out


def test_a_bad_notebook_name_stops_before_training(monkeypatch):
    monkeypatch.setattr(prepare, "prepare", lambda *a, **k: pytest.fail("must not train"))
    with pytest.raises(SystemExit):
        prepare.main(["notebooks/99_missing.ipynb"])


def test_prepare_on_stub_notebooks_runs_only_the_needed_cells_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    paths = stub_notebooks(tmp_path)
    models, reused = prepare.find_models(paths)
    assert [(m.name, m.notebook.name, m.cell) for m in models] == [("stub_a", "01_stub.ipynb", 5),
                                                                   ("stub_b", "02_stub.ipynb", 3)]
    assert reused == {"stub_a": ["02_stub"]}
    ran: list[tuple[str, list[int]]] = []
    runner = prepare.KernelRunner(fast=True, timeout=60)

    def recording(path, indexes):
        ran.append((path.name, indexes))
        runner(path, indexes)

    try:
        results = prepare.prepare(models, recording, fast=True)
    finally:
        runner.close()
    # 01: setup, the stub cache, train_a, the call (never the raising cell 3); 02: its cache stub, a, then b
    assert ran == [("01_stub.ipynb", [1, 2, 4, 5]), ("02_stub.ipynb", [1, 2, 3])]
    assert [r.status for r in results] == ["trained", "trained"]
    assert (tmp_path / "cache" / "models" / "stub_b-fast.keras").read_text() == "stub_a!"
    out = capsys.readouterr().out
    assert re.search(r"^\[1/2\] stub_a: trained in \d+ s -> .*stub_a-fast\.keras$", out, re.M)
    text = prepare.table(results)
    assert text.splitlines()[0].split() == ["model", "notebook", "seconds", "status", "cache", "file"]
    assert "stub_b" in text and text.splitlines()[-1].startswith("total")

    again = prepare.KernelRunner(fast=True, timeout=60)
    try:
        second = prepare.prepare(models, again, fast=True, say=lambda line: None)
    finally:
        again.close()
    assert [r.status for r in second] == ["loaded (already cached)"] * 2


def test_a_failing_model_is_reported_and_the_others_still_run(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    models, _ = prepare.find_models(stub_notebooks(tmp_path))

    def runner(path, indexes):
        if path.name == "01_stub.ipynb":
            raise RuntimeError("out of memory\nkernel died")

    results = prepare.prepare(models, runner, fast=True, say=lambda line: None)
    assert results[0].status == "failed: RuntimeError: kernel died"
    assert results[1].status == "no cache file written"


def test_run_notebooks_sums_cell_seconds_per_section():
    from utils.run_notebooks import INTRO, section_seconds

    new = nbformat.v4
    nb = new.new_notebook(cells=[new.new_markdown_cell("# T"), new.new_code_cell("setup"),
                                 new.new_markdown_cell("## 1 · First\n\ntext"), new.new_code_cell("a"),
                                 new.new_code_cell("b"), new.new_markdown_cell("### sub"), new.new_code_cell("c"),
                                 new.new_markdown_cell("## 2 · Second"), new.new_code_cell("d")])
    got = section_seconds(nb, [0, 1.5, 0, 2.0, 3.25, 0, 1.0, 0, 0.4])
    assert got == {INTRO: 1.5, "1 · First": 6.2, "2 · Second": 0.4}
    assert list(got) == [INTRO, "1 · First", "2 · Second"]
