"""Notebook hygiene: names, first two cells, no widget state, no errors, clean execution counts, size, no machine
paths, and the share of output-bearing code cells that nbval compares (printed for every notebook)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
MACHINE = re.compile(r"(/work/|/tmp/|/root/|/home/[a-z]|/Users/[A-Za-z]|[A-Z]:\\\\Users)")
MAX_BYTES = 2_000_000
#: The share of output-bearing code cells that nbval compares; training notebooks naturally compare less.
MIN_COMPARED = {"01_images_as_arrays": 0.60}
#: Notebooks 07 and later were commissioned with at least 60% compared.
MIN_COMPARED.update({stem: 0.60 for stem in ("07_training_practice", "08_transfer_learning",
                                             "09_autoencoders", "10_gans", "11_adversarial_examples",
                                             "12_convolution_beyond_images", "13_cnns_at_work",
                                             "14_finding_objects")})
DEFAULT_MIN_COMPARED = 0.40


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def ignored(cell: dict) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    src = "".join(cell.get("source", ""))
    return "nbval-ignore-output" in tags or "nbval-skip" in tags or "NBVAL_IGNORE_OUTPUT" in src or "NBVAL_SKIP" in src


def compared_share(nb: dict) -> tuple[int, int]:
    with_output = [c for c in nb["cells"] if c["cell_type"] == "code" and c.get("outputs")]
    return sum(not ignored(c) for c in with_output), len(with_output)


def figure_only(cell: dict) -> bool:
    """A cell whose only compared text is matplotlib's '<Figure ... with N Axes>' line."""
    texts = [("".join(o.get("text", "")) or "".join(o.get("data", {}).get("text/plain", "")))
             for o in cell.get("outputs", []) if o.get("name") != "stderr"]
    return all(t.startswith("<Figure size") for t in texts)


def text_compared(nb: dict) -> int:
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and c.get("outputs")]
    return sum(not ignored(c) and not figure_only(c) for c in code)


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_name_and_first_two_cells(path):
    assert NAME.match(path.name), f"{path.name}: notebooks are named NN_slug.ipynb"
    cells = load(path)["cells"]
    first = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and first.startswith(f"# {path.name[:2]} ")
    assert "Open In Colab" in first and "**Runtime**" in first
    assert cells[1]["cell_type"] == "code" and "".join(cells[1]["source"]).startswith("# Setup: run this cell first")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_clean_full_run_is_committed(path):
    nb = load(path)
    assert "widgets" not in nb.get("metadata", {}), "stored widget state: clear it"
    counts = [c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), "restart the kernel and run all before saving"
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"cell {i} stores an error ({out.get('ename')})"
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not MACHINE.search(text), f"cell {i} output shows a machine path"
    assert path.stat().st_size < MAX_BYTES, f"{path.stat().st_size / 1e6:.1f} MB; keep notebooks under 2 MB"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_nbval_compares_enough(path):
    compared, total = compared_share(load(path))
    share = compared / total if total else 1.0
    print(f"{path.stem}: nbval compares {compared} of {total} output-bearing code cells ({share:.0%})")
    assert share >= MIN_COMPARED.get(path.stem, DEFAULT_MIN_COMPARED)


def test_compared_share_table(capsys):
    rows = []
    for path in NOTEBOOKS:
        compared, total = compared_share(load(path))
        texts = text_compared(load(path))
        rows.append(f"{path.stem:32s} {compared:3d}/{total:3d} compared ({compared / max(total, 1):.0%}); "
                    f"{texts} of them with more than a figure ({texts / max(total, 1):.0%})")
    with capsys.disabled():
        print("\nnbval compared share per notebook:\n  " + "\n  ".join(rows))


def test_measured_fast_mode_cells_stay_under_a_minute():
    """runtimes.json holds what `make notebooks` measured; no fast-mode cell may take a minute or more."""
    from utils.notebook_template import load_runtimes

    slow = {stem: r["fast_slowest_cell_s"] for stem, r in load_runtimes().items()
            if r.get("fast_slowest_cell_s", 0) >= 60}
    assert not slow, f"fast-mode cells over 60 s: {slow}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_tensorflow_log_lines_or_empty_code_cells(path):
    """Committed outputs carry no TensorFlow C++ log lines (timestamps, process ids); no code cell is only comments."""
    from utils.run_notebooks import TF_LOG_LINE

    for i, cell in enumerate(load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        code = [line for line in lines if line.strip() and not line.strip().startswith("#")]
        assert code, f"cell {i} holds no code: delete it"
        for out in cell.get("outputs", []):
            for line in "".join(out.get("text", "")).splitlines():
                assert not TF_LOG_LINE.match(line), f"cell {i} stores a TensorFlow log line: {line[:80]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_ends_with_what_you_learned_and_a_working_next_link(path):
    """Every lesson closes alike: a "What you learned" section, then a **Next** link to a notebook that exists."""
    markdown = ["".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "markdown"]
    text = "\n".join(markdown)
    assert re.search(r"^#+ What you learned", text, re.M), "add a '## What you learned' section at the end"
    if path == NOTEBOOKS[-1]:
        return
    tail = "\n".join(markdown[-3:])
    match = re.search(r"\*\*Next[^*]*\*\*.*?\]\(([^)#]+\.ipynb)\)", tail, re.S)
    assert match, "end with a **Next** link to the following notebook, e.g. **Next:** [02 · ...](02_x.ipynb)"
    target = (path.parent / match.group(1)).resolve()
    assert target.is_file(), f"the Next link points at {match.group(1)}, which does not exist"
    assert target.name > path.name, "the Next link should point forward"
