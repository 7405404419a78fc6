"""The shared notebook template: header and setup cell, drift detection, and the setup logic in a simulated Colab."""

from __future__ import annotations

import json
import os
import shutil
import sys
import types
from pathlib import Path

import nbformat
import pytest

from utils import env, notebook_template as template

ROOT = Path(__file__).resolve().parent.parent


def test_every_notebook_matches_the_template():
    problems = [p for path in template.notebook_paths() for p in template.drift(path)]
    assert not problems, "\n".join(problems) + "\nrun: python -m utils.notebook_template --write"


def test_drift_is_detected(tmp_path):
    src = template.notebook_paths()[0]
    nb = nbformat.read(src, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("env.setup(", "env.setup(seed=1, ")
    nb.cells[0].source = nb.cells[0].source.replace("colab.research.google.com/github", "example.org")
    broken = tmp_path / src.name
    nbformat.write(nb, broken)
    problems = template.drift(broken)
    assert len(problems) == 2 and "cell 1 header" in problems[0] and "setup cell" in problems[1]
    template.write(broken)
    assert template.drift(broken) == []


def test_header_keeps_title_and_body_and_shows_measured_runtimes():
    runtimes = {"07_x": {"fast_s": 12.3, "full_cpu_s": 150.0}}
    out = template.header_source("07_x", "# 07 · X\n\nold badge\n\nGoals here.", runtimes)
    lines = out.splitlines()
    assert lines[0] == "# 07 · X" and lines[2] == template.badge_line("07_x")
    assert "fast mode ~12 s" in lines[4] and "2-core CPU ~2.5 min" in lines[4] and "GPU not measured yet" in lines[4]
    assert "old badge" in out and out.rstrip().endswith("Goals here.")
    assert template.header_source("07_x", out, runtimes) == out  # idempotent


def test_the_repo_url_is_one_constant():
    for path in template.notebook_paths():
        text = path.read_text()
        assert template.REPO in text
    assert template.REPO_URL in template.setup_source(True)


def _setup_cell(tensorflow: bool = False) -> str:
    return template.setup_source(tensorflow)


@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    """A Colab VM without network: google.colab exists, `git clone` copies this repo, pip is recorded."""
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    calls = []

    def fake_run(cmd, check=False, **kwargs):
        calls.append(list(cmd))
        if cmd[:2] == ["git", "clone"]:
            target = Path(cmd[-1])
            shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(".venv", ".git", ".cache", "*.ipynb"))
            (target / "notebooks").mkdir(exist_ok=True)
        return types.SimpleNamespace(returncode=0)

    import subprocess
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(env, "COLAB_EXTRAS", {"numpy": "numpy", "not_in_colab_xyz": "xyz>=1"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return calls


def test_setup_cell_in_colab_fetches_the_course_and_installs_only_what_lacks(fake_colab, tmp_path, capsys):
    namespace: dict = {}
    exec(compile(_setup_cell(), "setup-cell", "exec"), namespace)
    clone = [c for c in fake_colab if c[:2] == ["git", "clone"]]
    assert clone == [["git", "clone", "--depth", "1", template.REPO_URL, template.COLAB_DIR]]
    pips = [c for c in fake_colab if "pip" in c]
    assert pips == [[sys.executable, "-m", "pip", "install", "-q", "xyz>=1"]]
    assert Path.cwd() == tmp_path / template.COLAB_DIR / "notebooks"
    assert sys.path[0] == str(tmp_path / template.COLAB_DIR)
    assert namespace["ENV"].platform == "Colab"
    assert "Course ready:" in capsys.readouterr().out


def test_setup_cell_in_colab_reuses_an_existing_clone(fake_colab, tmp_path):
    (tmp_path / template.COLAB_DIR / "notebooks").mkdir(parents=True)
    (tmp_path / template.COLAB_DIR / "utils").mkdir()
    exec(compile(_setup_cell(), "setup-cell", "exec"), {})
    assert not [c for c in fake_colab if c[:2] == ["git", "clone"]]


def test_setup_cell_outside_the_course_folder_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setitem(sys.modules, "google", None)  # makes `import google.colab` fail as on a laptop
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="make lab"):
        exec(compile(_setup_cell(), "setup-cell", "exec"), {})


def test_setup_cell_locally_finds_utils_one_level_up(monkeypatch, capsys):
    monkeypatch.chdir(ROOT / "notebooks")
    monkeypatch.setattr(sys, "path", list(sys.path))
    namespace: dict = {}
    exec(compile(_setup_cell(), "setup-cell", "exec"), namespace)
    assert sys.path[0] == str(ROOT) and namespace["ENV"].platform in {"local", "Kaggle"}


def test_runtimes_file_is_valid_json_when_present():
    if template.RUNTIMES.exists():
        data = json.loads(template.RUNTIMES.read_text())
        for stem, entry in data.items():
            assert (ROOT / "notebooks" / f"{stem}.ipynb").exists(), f"runtimes.json names a missing notebook {stem}"
            assert all(isinstance(v, (int, float)) for v in entry.values())


def test_runner_strips_tensorflow_log_lines_but_keeps_real_stderr():
    import nbformat

    from utils.run_notebooks import strip_tensorflow_logs

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fit()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=(
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "I0000 00:00:1795326672.488627   30873 cudart_stub.cc:31] Could not find cuda drivers\n")),
        nbformat.v4.new_output("stream", name="stdout", text="Epoch 1/10\n"),
        nbformat.v4.new_output("stream", name="stderr", text=(
            "E0000 00:00:1795326678.361468   30873 node_def_util.cc:682] NodeDef mentions attribute\n"
            "UserWarning: a learner should see this\n")),
    ]
    nb.cells.append(cell)
    assert strip_tensorflow_logs(nb) == 3
    assert [o["text"] for o in cell.outputs] == ["Epoch 1/10\n", "UserWarning: a learner should see this\n"]
    assert strip_tensorflow_logs(nb) == 0


def test_the_repository_is_one_setting_in_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n\n[tool.course]\n# where the course lives\n'
                         'repository = "a-school/cnn-2027"\n\n[tool.other]\nrepository = "not/this"\n')
    assert template.configured_repository(pyproject) == "a-school/cnn-2027"
    assert template.configured_repository() == template.REPO
    pyproject.write_text('[tool.other]\nrepository = "not/this"\n')
    with pytest.raises(ValueError, match="tool.course"):
        template.configured_repository(pyproject)
    pyproject.write_text('[tool.course]\nrepository = "no slash here"\n')
    with pytest.raises(ValueError):
        template.configured_repository(pyproject)


def test_a_failed_clone_in_colab_says_what_to_do_in_one_line(fake_colab, monkeypatch):
    import subprocess

    def offline(cmd, check=False, **kwargs):
        raise subprocess.CalledProcessError(128, cmd)

    monkeypatch.setattr(subprocess, "run", offline)
    with pytest.raises(SystemExit) as info:
        exec(compile(_setup_cell(), "setup-cell", "exec"), {})
    message = str(info.value)
    assert "\n" not in message and template.REPO_URL in message and "internet" in message


def test_readme_generated_parts_follow_the_notebooks_and_the_setting():
    readme = template.README.read_text()
    assert template.clone_block() in readme and f"git clone {template.REPO_URL}" in readme
    existing = {p.name[:2] for p in template.notebook_paths()}
    paragraph = template.planned_paragraph()
    for number in existing:
        assert f" {number} " not in f" {paragraph} ", f"the README announces notebook {number}, which exists"
    fake = [Path(f"{n}_x.ipynb") for n in template.PLANNED]
    assert template.planned_paragraph(fake) == ""
    assert "08 transfer learning" in template.planned_paragraph([Path("01_x.ipynb")])


def test_runtime_line_says_both_cases_when_a_fresh_machine_trains_an_earlier_model():
    warm_only = template.runtime_line("05_x", {"05_x": {"fast_s": 20, "full_cpu_s": 50}})
    assert "fresh machine" not in warm_only and "~50 s" in warm_only
    both = template.runtime_line("05_x", {"05_x": {"fast_s": 20, "full_cpu_s": 50, "full_cpu_cold_s": 260}})
    assert "~50 s with earlier notebooks' models cached, ~4.3 min on a fresh machine such as Colab" in both
    same = template.runtime_line("05_x", {"05_x": {"fast_s": 20, "full_cpu_s": 50, "full_cpu_cold_s": 52}})
    assert "fresh machine" not in same


def test_cold_run_uses_an_empty_temporary_model_cache(monkeypatch, tmp_path):
    from utils import run_notebooks

    seen = []

    def fake_run(path, fast, timeout=1800, cold=False):
        if cold:
            return real_run(path, fast, timeout, cold)
        seen.append(os.environ.get("COURSE_CACHE_DIR"))
        return 1.0, 0.5, None

    real_run = run_notebooks.run
    monkeypatch.setattr(run_notebooks, "run", fake_run)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "warm"))
    run_notebooks.run(Path("x.ipynb"), fast=False, cold=True)
    assert seen and seen[0] != str(tmp_path / "warm") and "course-cold-cache-" in seen[0]
    assert os.environ["COURSE_CACHE_DIR"] == str(tmp_path / "warm")


@pytest.mark.parametrize("argv", [["--help"], ["--fsat"], ["--fast", "--cold"], ["notebooks/99_missing.ipynb"]])
def test_run_notebooks_stops_before_running_on_help_or_a_bad_command_line(argv, monkeypatch):
    from utils import run_notebooks

    ran = []
    monkeypatch.setattr(run_notebooks, "run", lambda *a, **k: ran.append(a))
    with pytest.raises(SystemExit):
        run_notebooks.main(argv)
    assert not ran
