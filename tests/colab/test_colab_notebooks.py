"""Every notebook, fast mode, as a Colab machine runs it: through the setup cell's Colab branch, in Colab's versions.

Run by ``make test-colab`` in ``.venv-colab`` (requirements-colab.txt); skipped anywhere else (``COURSE_COLAB_PROFILE``
unset). What it stands in for, and how:

- Colab's ``/content``: a temporary folder with no ``utils/`` in it or above it, the kernel's working directory, so
  the setup cell takes its Colab branch;
- ``google.colab``: ``tests/colab/stand_in`` first on the kernel's ``PYTHONPATH`` (``import google.colab`` works,
  the custom widget manager call is recorded, ``drive.mount`` makes a folder);
- GitHub: the setup cell's ``git clone`` of the course's URL is pointed (git's ``url.<base>.insteadOf``, set in the
  environment) at a local git copy of this working tree, committed or not;
- the internet: ``COURSE_DATA_DIR`` passes through (the offline MNIST); ``env.install_missing()`` installs what
  the pinned environment lacks from the package index, as on Colab (logomaker).

The clone persists from one notebook to the next, as on one Colab machine, with its own ``.cache`` (no
``COURSE_CACHE_DIR``): notebook 05 loads what 04 trained. Each notebook must run top to bottom with no error; its
setup cell must print the Colab line and no pip advice. Stored outputs are not compared: widget reprs and some
numbers differ under ipywidgets 7 and TensorFlow 2.20 (nbval compares them in ``make test``).
``COURSE_COLAB_NOTEBOOKS="01 04"`` runs only those notebooks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAND_IN = Path(__file__).resolve().parent / "stand_in"
PROFILE = os.environ.get("COURSE_COLAB_PROFILE", "").strip().lower() in {"1", "true", "yes", "on"}
CHOSEN = os.environ.get("COURSE_COLAB_NOTEBOOKS", "").split()
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")
                   if not CHOSEN or p.name[:2] in CHOSEN)
CELL_TIMEOUT = 300          # a cold cache trains in some cells even in fast mode
TIMINGS: dict[str, float] = {}
SETUP_LINES: dict[str, str] = {}

pytestmark = pytest.mark.skipif(not PROFILE, reason="the Colab profile: run `make test-colab`")


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def local_copy_of_the_course(dest: Path) -> Path:
    """A git repository holding this working tree's tracked and untracked (not ignored) files, one commit."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    _git("init", "-q", "-b", "main", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("-c", "user.name=course tests", "-c", "user.email=tests@localhost", "commit", "-q", "-m", "snapshot",
         cwd=dest)
    return dest


@pytest.fixture(scope="module")
def colab_machine():
    """(content folder, environment) of one stand-in Colab machine, shared by every notebook of the run."""
    from utils import notebook_template as template

    base = Path(tempfile.mkdtemp(prefix="course-colab-"))
    origin = local_copy_of_the_course(base / "origin")
    content = base / "content"
    content.mkdir()
    kernels = base / "jupyter" / "kernels" / "python3"   # this venv's Python, whatever else the machine has
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab profile)", "language": "python"}))
    environ = {k: v for k, v in os.environ.items() if k not in {"COURSE_CACHE_DIR", "PYTHONPATH"}}
    environ.update(
        COURSE_FAST="1", PYTHONPATH=str(STAND_IN), JUPYTER_PATH=str(base / "jupyter"),
        COLAB_STAND_IN_DRIVE=str(base / "drive"),
        GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0=f"url.file://{origin}.insteadOf", GIT_CONFIG_VALUE_0=template.REPO_URL)
    yield content, environ
    clone = content / template.COLAB_DIR / ".cache"
    if clone.is_dir():
        size = sum(f.stat().st_size for f in clone.rglob("*") if f.is_file())
        print(f"\nthe clone's course cache after these notebooks (fast mode): {size / 1e6:.1f} MB")
    for number, text in SETUP_LINES.items():
        print(f"notebook {number}'s setup cell printed:\n{text}")
    if TIMINGS:
        print("Colab profile, fast mode, seconds per notebook (kernel start included): "
              + ", ".join(f"{k} {v:.0f}" for k, v in TIMINGS.items()) + f"; total {sum(TIMINGS.values()):.0f}")
    shutil.rmtree(base, ignore_errors=True)


def run_notebook(path: Path, content: Path, environ: dict[str, str]):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)                     # the kernel inherits this process's environment
    try:
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {
            "path": str(content)}}, allow_errors=False)
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def cell_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_through_the_colab_branch(path, colab_machine):
    content, environ = colab_machine
    start = time.monotonic()
    nb = run_notebook(path, content, environ)
    TIMINGS[path.name[:2]] = time.monotonic() - start
    setup = cell_text(nb.cells[1])
    if not SETUP_LINES or path.name[:2] == "04":
        SETUP_LINES[path.name[:2]] = "\n".join(line for line in setup.splitlines() if not line.startswith("WARNING"))
    assert "| Colab |" in setup, f"the setup cell did not see Colab:\n{setup}"
    assert "Colab: " in setup and "ipywidgets 7.7.1" in setup, setup
    assert "pip install" not in setup and "%pip" not in setup, f"Colab must get no pip advice:\n{setup}"
    from utils import notebook_template as template

    assert (content / template.COLAB_DIR / "utils").is_dir(), "the setup cell did not clone the course"
