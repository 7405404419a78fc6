"""Lint: ruff (settings in pyproject.toml) on utils/, tests/ and the notebooks' code cells, as `make test` promises.

The second test shows the check can fail: a file with a real mistake, in a temporary copy, makes ruff say so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["utils", "tests", "notebooks", "conftest.py"]


def ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    if shutil.which("ruff", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("ruff is not installed: run `make test` (it installs requirements-dev.txt)")
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_the_course_is_lint_clean():
    result = ruff(*TARGETS)
    assert result.returncode == 0, "ruff found problems (fix them, or `make lint` for the list):\n" + result.stdout


def test_lint_fails_on_a_mistake_in_a_module_or_a_notebook(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "clean.py").write_text('"""Fine."""\n\n\ndef double(x: int) -> int:\n    return 2 * x\n')
    assert ruff(".", cwd=tmp_path).returncode == 0
    (tmp_path / "broken.py").write_text("import os\n\n\ndef f():\n    return undefined_name\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(mistyped_variable)")]
    nbformat.write(nb, tmp_path / "99_broken.ipynb")
    result = ruff(".", cwd=tmp_path)
    assert result.returncode != 0
    assert "broken.py" in result.stdout and "F401" in result.stdout and "F821" in result.stdout
    assert "99_broken.ipynb" in result.stdout
