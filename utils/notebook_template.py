"""The part every notebook shares: its first cell's header (title, Colab badge, runtimes) and its setup cell.

One template, written into every notebook by ``python -m utils.notebook_template --write`` and checked by
``--check`` (and by ``tests/test_notebook_lint.py``), so no notebook drifts from it.

- Cell 1 (markdown) starts with ``# Title``, then the badge line, then the runtime line, then whatever the
  notebook says (learning goals...). Only the badge and runtime lines are the template's.
- Cell 2 (code) is the setup cell, the same in every notebook but for ``tensorflow=True/False``, which comes
  from the notebook's metadata ``course.tensorflow``.
- Runtimes come from ``notebooks/runtimes.json``, written by ``python -m utils.run_notebooks`` which
  measures them: the numbers in a notebook's header are measured, never typed in.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


def configured_repository(pyproject: Path = PYPROJECT) -> str:
    """``owner/name`` of the course's public GitHub repository: ``[tool.course] repository`` in pyproject.toml.

    The one setting a publisher changes (then ``make template``) so every Colab badge, the setup cell's clone and
    the README's ``git clone`` line point at their copy of the course.
    """
    text = pyproject.read_text()
    section = re.search(r"^\[tool\.course\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    match = re.search(r'^repository\s*=\s*"([\w.-]+/[\w.-]+)"\s*$', section.group(1) if section else "", re.M)
    if not match:
        raise ValueError(f'{pyproject.name} needs [tool.course] repository = "owner/name"')
    return match.group(1)


#: The course's public repository (from pyproject.toml: see :func:`configured_repository`).
REPO = configured_repository()
REPO_URL = f"https://github.com/{REPO}.git"
BRANCH = "main"
COLAB_DIR = REPO.split("/")[1]
NOTEBOOKS = ROOT / "notebooks"
RUNTIMES = NOTEBOOKS / "runtimes.json"

SETUP_CELL = '''\
# Setup: run this cell first. It makes the course's `utils` importable (in Colab it fetches the course).
import os, subprocess, sys
REPO_URL = "{repo_url}"
if not any(os.path.isdir(os.path.join(p, "utils")) for p in (".", "..")):
    try:
        import google.colab  # noqa: F401  (only Colab has this module)
    except ImportError:
        raise SystemExit("utils/ not found: open this notebook from the course folder (run `make lab` there).")
    if not os.path.isdir("{colab_dir}"):
        try:
            subprocess.run(["git", "clone", "--depth", "1", REPO_URL, "{colab_dir}"], check=True, timeout=300)
        except (subprocess.SubprocessError, OSError):
            raise SystemExit(f"Could not download the course from {{REPO_URL}}: check the internet connection "
                             "(or the address), then run this cell again.") from None
    os.chdir("{colab_dir}/notebooks")
sys.path.insert(0, os.path.abspath(".." if os.path.isdir("../utils") else "."))
from utils import env
if env.in_colab():
    env.install_missing()  # only what Colab lacks; Colab's own TensorFlow, Keras, NumPy and ipywidgets stay as they are
    # To keep trained models between Colab sessions on your Google Drive, opt in: see env.keep_cache_on_drive in README
ENV = env.setup(tensorflow={tensorflow})'''


def badge_line(stem: str) -> str:
    url = f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{stem}.ipynb"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "not measured yet"
    if seconds < 90:
        return f"~{max(1, round(seconds))} s"
    return f"~{seconds / 60:.1f} min"


def load_runtimes() -> dict:
    return json.loads(RUNTIMES.read_text()) if RUNTIMES.exists() else {}


def _with_cold(r: dict, key: str) -> str:
    """A full-mode time, plus the fresh-machine time when a run with an empty model cache took notably longer."""
    warm, cold = r.get(key), r.get(key.replace("_s", "_cold_s"))
    text = _fmt_seconds(warm)
    if warm is not None and cold is not None and cold > 1.2 * warm:
        text += f" with earlier notebooks' models cached, {_fmt_seconds(cold)} on a fresh machine such as Colab"
    return text


def runtime_line(stem: str, runtimes: dict | None = None) -> str:
    r = (load_runtimes() if runtimes is None else runtimes).get(stem, {})
    return (f"**Runtime** (measured, Restart & Run All): fast mode {_fmt_seconds(r.get('fast_s'))} · "
            f"full mode on a 2-core CPU {_with_cold(r, 'full_cpu_s')} · "
            f"full mode on a GPU {_with_cold(r, 'full_gpu_s')}")


def setup_source(tensorflow: bool) -> str:
    return SETUP_CELL.format(repo_url=REPO_URL, colab_dir=COLAB_DIR, tensorflow=bool(tensorflow))


def header_source(stem: str, current: str, runtimes: dict | None = None) -> str:
    """Cell 1 with the template's badge and runtime lines in place, keeping the title and the rest."""
    lines = current.split("\n")
    title = lines[0] if lines and lines[0].startswith("# ") else f"# {stem}"
    rest = lines[1:]
    ours = ("[![Open In Colab]", "**Runtime**")
    while rest and (not rest[0].strip() or rest[0].startswith(ours)):
        rest = rest[1:]
    return "\n".join([title, "", badge_line(stem), "", runtime_line(stem, runtimes), "", *rest]).rstrip() + "\n"


def uses_tensorflow(nb) -> bool:
    return bool(nb.metadata.get("course", {}).get("tensorflow", True))


def apply(nb, stem: str, runtimes: dict | None = None) -> None:
    """Put the template into ``nb`` (in place): header lines in cell 1, the setup cell as cell 2."""
    cells = nb.cells
    if not cells or cells[0].cell_type != "markdown":
        cells.insert(0, nbformat.v4.new_markdown_cell(f"# {stem}"))
    cells[0].source = header_source(stem, cells[0].source, runtimes)
    setup = setup_source(uses_tensorflow(nb))
    is_slot = len(cells) > 1 and cells[1].cell_type == "code" and (
        not cells[1].source.strip() or "# Setup: run this cell first" in cells[1].source)
    if not is_slot:
        cells.insert(1, nbformat.v4.new_code_cell(setup))
    cells[1].source = setup
    tags = cells[1].metadata.setdefault("tags", [])
    if "nbval-ignore-output" not in tags:  # it prints mode, device and versions
        tags.append("nbval-ignore-output")
    nb.metadata.pop("widgets", None)


README = ROOT / "README.md"
SYLLABUS_START, SYLLABUS_END = "<!-- syllabus:start -->", "<!-- syllabus:end -->"

#: Notebooks the lecture notes call for that are not written yet: number -> topic. The README lists those still
#: missing, so it never announces a notebook that already exists.
PLANNED: dict[str, str] = {
    "07": "the art of training a CNN (data splits, bias and variance, initialisation, batch norm, regularisation)",
    "08": "transfer learning",
    "09": "autoencoders and variational autoencoders",
    "10": "generative adversarial networks",
    "11": "adversarial examples",
    "12": "1-D convolutions beyond images (DNA motifs, time series)",
    "13": "CNNs at work: segmentation, one-shot verification, style transfer",
    "14": "finding objects: localisation, landmarks, sliding windows, a grid detector, NMS, mAP",
}


def planned_paragraph(paths: list[Path] | None = None) -> str:
    """The README's sentence on notebooks still to come (empty when every planned one exists)."""
    existing = {p.name[:2] for p in (notebook_paths() if paths is None else paths)}
    todo = [f"{number} {topic}" for number, topic in PLANNED.items() if number not in existing]
    if not todo:
        return ""
    return "Still to come, following the lecture notes: " + "; ".join(todo) + "."


def clone_block() -> str:
    """The README's first commands, from :data:`REPO_URL`."""
    return f"```bash\ngit clone {REPO_URL}\ncd {COLAB_DIR}\n```"


def _fill(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text:
        return text
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body + chr(10) if body else ''}{end}{tail}"


def syllabus_table(runtimes: dict | None = None) -> str:
    """The README's syllabus: one row a notebook, topics from metadata ``course.topic``, runtimes measured."""
    runtimes = load_runtimes() if runtimes is None else runtimes
    rows = ["| # | Notebook | Topic | Fast mode | Full, 2-core CPU | Full, GPU |",
            "|---|----------|-------|-----------|------------------|-----------|"]
    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        title = nb.cells[0].source.split("\n")[0].lstrip("# ").split("·", 1)[-1].strip()
        topic = nb.metadata.get("course", {}).get("topic", "")
        r = runtimes.get(path.stem, {})
        cells = [path.stem[:2], f"[{title}](notebooks/{path.name})", topic,
                 *(_fmt_seconds(r.get(k)).replace("not measured yet", "not yet")
                   for k in ("fast_s", "full_cpu_s", "full_gpu_s"))]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


#: The packages the README's Colab section names, in order (pip names in requirements-colab.txt).
COLAB_NAMED = ("tensorflow", "keras", "numpy", "ipywidgets", "widgetsnbextension", "anywidget", "ipython", "ipykernel",
               "notebook")


def colab_versions_line(pins: dict[str, str] | None = None) -> str:
    """The README's list of the Colab versions ``make test-colab`` uses (from requirements-colab.txt)."""
    from utils import env

    pins = env.colab_tested() if pins is None else pins
    return ", ".join(f"{name} {pins[name]}" for name in COLAB_NAMED if name in pins)


def colab_table(runtimes: dict | None = None) -> str:
    """The README's Colab cost table: per notebook, the measured fast run and the full run on a 2-core CPU with an
    empty model cache (``full_cpu_cold_s``, what a fresh Colab CPU machine pays), or the warm full run where no
    empty-cache run was measured (it may have loaded its own model from the cache)."""
    runtimes = load_runtimes() if runtimes is None else runtimes
    rows = ["| # | Fast mode | Full mode, empty model cache (2-core CPU) | Full mode, models cached (2-core CPU) |",
            "|---|-----------|-------------------------------------------|----------------------------------------|"]
    for path in notebook_paths():
        r = runtimes.get(path.stem, {})
        cold = r.get("full_cpu_cold_s")
        rows.append(f"| {path.stem[:2]} | {_fmt_seconds(r.get('fast_s'))} | "
                    f"{_fmt_seconds(cold) if cold is not None else 'not measured'} | "
                    f"{_fmt_seconds(r.get('full_cpu_s'))} |")
    return "\n".join(rows)


def readme_with_syllabus(text: str, runtimes: dict | None = None) -> str:
    """The README with its generated parts filled in: the syllabus, the planned notebooks, the clone commands,
    the Colab versions and cost table."""
    text = _fill(text, "colab-versions", colab_versions_line())
    text = _fill(text, "colab-runtimes", colab_table(runtimes))
    text = _fill(text, "syllabus", syllabus_table(runtimes))
    text = _fill(text, "planned", planned_paragraph())
    return _fill(text, "clone", clone_block())


def notebook_paths() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def drift(path: Path, runtimes: dict | None = None) -> list[str]:
    """What in ``path`` differs from the template (empty when it matches)."""
    nb = nbformat.read(path, as_version=4)
    want = nbformat.from_dict(json.loads(json.dumps(nb)))
    apply(want, path.stem, runtimes)
    problems = []
    if nb.cells[0].source != want.cells[0].source:
        problems.append(f"{path.name}: cell 1 header (title/badge/runtime lines) differs from the template")
    if len(nb.cells) < 2 or nb.cells[1].source != want.cells[1].source:
        problems.append(f"{path.name}: cell 2 is not the template's setup cell")
    elif "nbval-ignore-output" not in nb.cells[1].metadata.get("tags", []):
        problems.append(f"{path.name}: the setup cell lacks the nbval-ignore-output tag")
    return problems


def write(path: Path, runtimes: dict | None = None) -> None:
    nb = nbformat.read(path, as_version=4)
    apply(nb, path.stem, runtimes)
    nbformat.write(nb, path)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or notebook_paths()
    if "--write" in argv:
        for p in paths:
            write(p)
        README.write_text(readme_with_syllabus(README.read_text()))
        print(f"template written into {len(paths)} notebook(s)")
        return 0
    problems = [msg for p in paths for msg in drift(p)]
    if README.read_text() != readme_with_syllabus(README.read_text()):
        problems.append("README.md: the syllabus table is out of date")
    print("\n".join(problems) or f"{len(paths)} notebook(s) match the template")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
