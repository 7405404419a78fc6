"""utils.env: mode, platform, cache folder, seeding, the setup call, Colab installs, and errors."""

from __future__ import annotations

import random
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from utils import env
from utils.errors import CourseError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value, fast", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False),
                                         ("no", False)])
def test_fast_mode_follows_course_fast(monkeypatch, value, fast):
    monkeypatch.setenv("COURSE_FAST", value)
    assert env.is_fast() is fast


def test_fast_mode_is_off_when_unset(monkeypatch):
    monkeypatch.delenv("COURSE_FAST", raising=False)
    assert env.is_fast() is False


def test_platform_local_kaggle_and_colab(monkeypatch):
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert env.platform_name() == "local"
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    assert env.platform_name() == "Kaggle"
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert env.in_colab() and env.platform_name() == "Colab"


def test_cache_dir_honours_the_variable_and_creates_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "c"))
    path = env.cache_dir("models", "mnist")
    assert path == tmp_path / "c" / "models" / "mnist" and path.is_dir()


def test_cache_dir_defaults_inside_the_repo(monkeypatch):
    monkeypatch.delenv("COURSE_CACHE_DIR", raising=False)
    assert env.cache_dir() == ROOT / ".cache"


def test_seed_everything_makes_python_and_numpy_repeat():
    env.seed_everything(7)
    first = (random.random(), np.random.rand())
    env.seed_everything(7)
    assert (random.random(), np.random.rand()) == first


def test_setup_without_tensorflow_prints_one_line_and_never_imports_it(monkeypatch):
    code = ("import sys; from utils import env; e = env.setup(tensorflow=False); "
            "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'; print(e.fast, e.platform)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"COURSE_FAST": "1", "PATH": "/usr/bin:/bin"}, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.strip().splitlines() if not line.startswith("Note: ")]  # version advice
    assert lines[0].startswith("Course ready: fast mode | local | CPU") and "seed 42" in lines[0]
    assert lines[1] == "True local"


def test_setup_with_tensorflow_seeds_keras_and_reports_versions():
    code = ("from utils import env; env.setup(tensorflow=True, seed=3); import keras; a = keras.random.uniform((3,)); "
            "env.setup(tensorflow=True, seed=3, verbose=False); b = keras.random.uniform((3,)); "
            "import numpy as np; print('same' if np.allclose(np.array(a), np.array(b)) else 'different')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    first, last = out.stdout.strip().splitlines()[0], out.stdout.strip().splitlines()[-1]
    assert "TensorFlow 2." in first and "Keras 3." in first and "seed 3" in first
    assert last == "same"
    assert "oneDNN custom operations" not in out.stderr  # the C++ start-up chatter is hidden


def test_quiet_tensorflow_keeps_onednn_on(monkeypatch):
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    env.quiet_tensorflow()
    import os
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3" and "TF_ENABLE_ONEDNN_OPTS" not in os.environ


def test_missing_packages_and_install_missing_install_only_what_lacks():
    wanted = {"numpy": "numpy", "surely_not_a_module_xyz": "xyz-package>=1"}
    assert env.missing_packages(wanted) == ["xyz-package>=1"]
    calls = []
    installed = env.install_missing(wanted, runner=lambda cmd, check: calls.append(cmd))
    assert installed == ["xyz-package>=1"]
    assert calls == [[sys.executable, "-m", "pip", "install", "-q", "xyz-package>=1"]]
    calls.clear()
    assert env.install_missing({"numpy": "numpy"}, runner=lambda cmd, check: calls.append(cmd)) == [] and not calls


def test_course_error_renders_as_one_short_line():
    err = CourseError("Draw a digit first.")
    assert isinstance(err, ValueError)
    assert err._render_traceback_() == ["\u26a0\ufe0f  Draw a digit first."]


def test_env_summary_names_mode_device_and_versions():
    e = env.CourseEnv(fast=False, platform="Colab", device="GPU: T4", seed=1, tensorflow_version="2.x",
                      keras_version="3.y")
    assert e.summary() == "Course ready: full mode | Colab | GPU: T4 | TensorFlow 2.x, Keras 3.y | seed 1"


def test_the_test_session_caches_models_outside_the_learners_cache():
    """conftest.py points COURSE_CACHE_DIR at a temporary folder, so nbval never loads a stale model from .cache/."""
    import os

    if os.environ.get("COURSE_TEST_CACHE_DIR"):
        pytest.skip("COURSE_TEST_CACHE_DIR names the folder to use")
    cache = Path(os.environ["COURSE_CACHE_DIR"]).resolve()
    assert cache != (ROOT / ".cache").resolve() and ROOT not in cache.parents


def test_setup_names_packages_older_than_the_tested_floor_in_one_line_each():
    old = env.version_notes({"tensorflow": "2.15.1", "keras": "3.10.0", "ipywidgets": "7.7.1"})
    assert len(old) == 2
    assert old[0].startswith("Note: this machine has tensorflow 2.15.1") and '"tensorflow>=2.19"' in old[0]
    assert "ipywidgets 7.7.1" in old[1] and "\n" not in old[1]
    assert env.version_notes({"tensorflow": "2.21.0", "keras": "3.15.1", "ipywidgets": "8.1.5"}) == []
    assert env.version_notes({"tensorflow": "2.19.0rc1", "keras": None, "ipywidgets": "weird"}) == []
    assert env.version_notes({"keras": "3.9.2"}) and not env.version_notes({"keras": "3.10"})


def test_tested_floor_matches_the_requirements_floor():
    import re

    from utils.env import TESTED_FLOOR

    reqs = (env.repo_root() / "requirements.txt").read_text()
    for name, (major, minor) in TESTED_FLOOR.items():
        match = re.search(rf"^{name}>=(\d+)\.(\d+)", reqs, re.M)
        assert match and (int(match.group(1)), int(match.group(2))) == (major, minor), name


# ------------------------------------------------------------------------- version advice on Colab, Drive opt-in

COLAB_FOUND = {"tensorflow": "2.20.0", "keras": "3.13.2", "numpy": "2.1.3", "ipywidgets": "7.7.1"}


def test_local_advice_also_names_a_version_newer_than_tested_in_one_line():
    newer = env.version_notes({"keras": "3.99.0", "numpy": "9.0.1"})
    assert len(newer) == 2 and all("newer than the course was tested with" in n and "\n" not in n for n in newer)
    assert not any("pip install" in n for n in newer)


def test_colab_pins_are_read_from_requirements_colab():
    pins = env.colab_tested()
    assert {name: pins[name] for name in env.VERSION_CHECKED} == COLAB_FOUND
    assert pins["anywidget"] == "0.9.21" and pins["ipython"] == "7.34.0"
    assert env.colab_tested(ROOT / "no-such-file.txt") == {}


@pytest.mark.parametrize("found", [COLAB_FOUND, {**COLAB_FOUND, "ipywidgets": "7.6.5", "tensorflow": "2.19.0"},
                                   {**COLAB_FOUND, "keras": "3.14.0", "ipywidgets": "8.1.5"}])
def test_on_colab_the_setup_line_never_suggests_an_upgrade_and_names_the_versions(found):
    notes = env.colab_notes(found)
    text = " ".join(notes)
    assert "pip install" not in text and "-U" not in text and "upgrade" not in text.lower()
    for name in env.VERSION_CHECKED:
        assert found[name] in notes[0], (name, notes[0])
    if found == COLAB_FOUND:
        assert notes == ["Colab: TensorFlow 2.20.0, Keras 3.13.2, NumPy 2.1.3, ipywidgets 7.7.1: the versions the "
                         "course is tested with on Colab."]
    else:
        assert "The course was tested on Colab with" in notes[0] and "keep Colab's own versions" in notes[0]
    newer = [n for n in notes if "newer than the course was tested with on Colab" in n]
    assert len(newer) == (1 if found["keras"] == "3.14.0" else 0)
    if newer:
        assert "Keras 3.14.0" in newer[0] and "ipywidgets 8.1.5" in newer[0] and "TensorFlow" not in newer[0]


def test_setup_prints_the_colab_line_on_colab_and_the_local_advice_elsewhere(monkeypatch, capsys):
    monkeypatch.setattr(env, "_installed_version", lambda name: "7.7.1")
    monkeypatch.setattr(env, "platform_name", lambda: "Colab")
    env.setup(tensorflow=False)
    out = capsys.readouterr().out
    assert "| Colab |" in out and "ipywidgets 7.7.1" in out and "pip install" not in out
    monkeypatch.setattr(env, "platform_name", lambda: "local")
    env.setup(tensorflow=False)
    assert 'pip install -U "ipywidgets>=8.0"' in capsys.readouterr().out


def test_tested_newest_tensorflow_is_the_requirements_cap_and_the_local_venv_is_in_range():
    import re
    from importlib.metadata import version

    cap = re.search(r"^tensorflow>=[\d.]+,<(\d+)\.(\d+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert cap and env.TESTED_NEWEST["tensorflow"] == (int(cap.group(1)), int(cap.group(2)) - 1)
    if version("ipywidgets").startswith("8."):        # make test's venv (the Colab profile has 7.7.1 on purpose)
        found = {name: version(name) for name in env.VERSION_CHECKED}
        assert env.version_notes(found) == [], "make test's venv must be inside the tested range"


@pytest.fixture
def stand_in_colab(monkeypatch, tmp_path):
    """tests/colab/stand_in (a stand-in google.colab) first on sys.path, its Drive in tmp_path; removed afterwards."""
    def forget():
        for name in [m for m in sys.modules if m == "google.colab" or m.startswith("google.colab.")]:
            del sys.modules[name]

    forget()
    monkeypatch.syspath_prepend(str(ROOT / "tests" / "colab" / "stand_in"))
    monkeypatch.setenv("COLAB_STAND_IN_DRIVE", str(tmp_path / "students-drive"))
    import google.colab

    yield google.colab
    forget()


def test_keep_cache_on_drive_is_opt_in_and_points_the_cache_at_drive(monkeypatch, tmp_path, stand_in_colab):
    colab = stand_in_colab
    monkeypatch.setattr(env, "in_colab", lambda: False)
    with pytest.raises(CourseError, match="for Google Colab"):
        env.keep_cache_on_drive()
    monkeypatch.setattr(env, "in_colab", lambda: True)
    session = tmp_path / "content" / "cnn-course" / ".cache"
    (session / "models").mkdir(parents=True)
    (session / "models" / "cnn.keras").write_bytes(b"weights")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(session))
    mountpoint = tmp_path / "content" / "drive"
    folder = env.keep_cache_on_drive(mountpoint=str(mountpoint))
    assert colab.drive.mounted == [str(mountpoint)]
    assert folder == mountpoint / "MyDrive" / env.DRIVE_CACHE_FOLDER
    assert env.cache_dir("models") == folder / "models"
    assert (tmp_path / "students-drive" / "MyDrive" / env.DRIVE_CACHE_FOLDER / "models" / "cnn.keras").read_bytes() \
        == b"weights", "what this session cached is copied to Drive"
    # a "new session": a fresh cache folder, the Drive still there; the model is found without training
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "new-session"))
    assert not (env.cache_dir("models") / "cnn.keras").exists()
    env.keep_cache_on_drive(mountpoint=str(mountpoint))
    assert (env.cache_dir("models") / "cnn.keras").read_bytes() == b"weights"
