"""The repository's own promises: matching dependency lists, the two commands, CI, README syllabus."""

from __future__ import annotations

import re
from pathlib import Path

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
    for needed in ("tensorflow>=2.16", "keras>=3", "jupyterlab>=4", "ipywidgets>=8", "nbval>=0.11",
                   "matplotlib", "pillow", "scikit-image"):
        assert needed in reqs, needed
    assert "tf_keras" not in reqs and "tf-keras" not in reqs
    assert re.search(r"python>=3\.10,<3\.13", (ROOT / "environment.yml").read_text())


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
