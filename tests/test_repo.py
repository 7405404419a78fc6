"""The repository's own promises: matching dependency lists, the two commands, CI, README syllabus."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines(text: str) -> list[str]:
    return [line.split("#")[0].strip() for line in text.splitlines()
            if line.split("#")[0].strip() and not line.strip().startswith("-r")]


def conda_pip_lines(text: str) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if re.match(r"\s*- pip:\s*$", line):
            inside = True
            continue
        if inside:
            m = re.match(r"\s{4,}- (.+)$", line)
            if not m:
                break
            lines.append(m.group(1).strip())
    return lines


def test_environment_yml_and_requirements_list_the_same_packages():
    pip = requirement_lines((ROOT / "requirements.txt").read_text())
    conda = conda_pip_lines((ROOT / "environment.yml").read_text())
    assert pip, "requirements.txt lists nothing"
    assert sorted(pip) == sorted(conda), f"only in requirements.txt: {set(pip) - set(conda)}; " \
                                         f"only in environment.yml: {set(conda) - set(pip)}"


def test_core_versions_are_pinned_as_promised():
    reqs = " ".join(requirement_lines((ROOT / "requirements.txt").read_text()))
    for needed in ("tensorflow>=2.19", "keras>=3.10", "jupyterlab>=4", "ipywidgets>=8", "nbval>=0.11",
                   "matplotlib", "pillow", "scikit-image"):
        assert needed in reqs, needed
    assert "tf_keras" not in reqs and "tf-keras" not in reqs
    assert re.search(r"python>=3\.10,<3\.14", (ROOT / "environment.yml").read_text())
    assert 'requires-python = ">=3.10,<3.14"' in (ROOT / "pyproject.toml").read_text()


def test_makefile_has_the_two_commands():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab: \$\(STAMP\)", makefile, re.M)
    assert re.search(r"^test: \$\(STAMP\)", makefile, re.M)
    assert "COURSE_FAST=1" in makefile.split("\ntest:")[1].split("\n\n")[0]


def test_ci_runs_make_test_with_the_shared_data():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "../shared/data" in ci and "COURSE_DATA_DIR" in ci


def test_readme_syllabus_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"notebooks/{path.name}" in readme, f"README syllabus misses {path.name}"
    for command in ("make lab", "make test", "COURSE_FAST", "COURSE_DATA_DIR", "Colab"):
        assert command in readme


def test_readme_syllabus_is_generated_from_the_notebooks_and_measured_runtimes():
    from utils import notebook_template as template

    text = (ROOT / "README.md").read_text()
    assert text == template.readme_with_syllabus(text), "run: python -m utils.notebook_template --write"


def _fake_python(folder, version: str):
    """A stand-in interpreter that reports ``version`` and fails the Makefile's version test as that version would."""
    major, minor = (int(v) for v in version.split("."))
    ok = (3, 10) <= (major, minor) <= (3, 13)
    script = folder / f"python{version}"
    script.write_text(f"#!/bin/sh\ncase \"$*\" in *sys.exit*) exit {0 if ok else 1};; "
                      f"*) echo 'Python {version}';; esac\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("version", ["3.14", "3.9"])
def test_make_refuses_an_unsupported_python_in_one_line(tmp_path, version):
    fake = _fake_python(tmp_path, version)
    result = subprocess.run(["make", "-s", "venv", f"PYTHON={fake}", f"VENV={tmp_path / 'venv'}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    assert f"Python {version}" in lines[0] and "3.10, 3.11, 3.12 or 3.13" in lines[0]
    assert "PYTHON=python3.12" in lines[0]
    assert not (tmp_path / "venv").exists()


def test_make_picks_a_supported_python_by_itself():
    result = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    chosen = re.search(r"now: (\S+)\)", result.stdout).group(1)
    check = subprocess.run([chosen, "-c", "import sys; print(sys.version_info[:2] >= (3, 10) and "
                                           "sys.version_info[:2] <= (3, 13))"], capture_output=True, text=True)
    assert check.stdout.strip() == "True"
