"""utils.data: where MNIST comes from, validation of every source, fast mode, errors, sample photos."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from utils import data, env
from utils.errors import CourseError

SHARED = Path(os.environ.get("COURSE_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))


def fake_mnist(n_train: int = 50, n_test: int = 20, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
            "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}


@pytest.fixture
def places(monkeypatch, tmp_path):
    """An empty COURSE_DATA_DIR and an empty repo data/ folder; downloads fail unless a test says otherwise."""
    course_dir, repo = tmp_path / "course_data", tmp_path / "repo"
    course_dir.mkdir()
    (repo / "data").mkdir(parents=True)
    monkeypatch.setenv("COURSE_DATA_DIR", str(course_dir))
    monkeypatch.setattr(env, "repo_root", lambda: repo)
    return course_dir, repo / "data"


def offline():
    raise OSError("no internet")


def test_course_data_dir_comes_first(places, capsys):
    course_dir, repo_data = places
    np.savez(course_dir / "mnist.npz", **fake_mnist(seed=1))
    np.savez(repo_data / "mnist.npz", **fake_mnist(seed=2))
    got = data.load_mnist(fast=False, downloader=offline)
    assert np.array_equal(got.x_train, fake_mnist(seed=1)["x_train"])
    assert "COURSE_DATA_DIR" in got.source and "COURSE_DATA_DIR" in capsys.readouterr().out


def test_repo_data_folder_is_second(places, monkeypatch):
    _, repo_data = places
    monkeypatch.delenv("COURSE_DATA_DIR")
    np.savez(repo_data / "mnist.npz", **fake_mnist(seed=2))
    got = data.load_mnist(fast=False, downloader=offline, verbose=False)
    assert np.array_equal(got.y_test, fake_mnist(seed=2)["y_test"]) and "data/ folder" in got.source


def test_keras_download_is_last(places):
    got = data.load_mnist(fast=False, downloader=lambda: fake_mnist(seed=3), verbose=False)
    assert "keras.datasets.mnist" in got.source and got.x_train.shape == (50, 28, 28)


def test_unpacks_like_keras(places):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(fast=False, downloader=lambda: fake_mnist(), verbose=False)
    assert x_train.dtype == np.uint8 and y_test.shape == (20,) and x_test.shape == (20, 28, 28) and len(y_train) == 50


def test_nothing_anywhere_gives_one_clear_error_naming_three_fixes(places):
    with pytest.raises(CourseError) as info:
        data.load_mnist(downloader=offline)
    message = str(info.value)
    assert "COURSE_DATA_DIR" in message and "data/ folder" in message and "internet" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_fast_mode_keeps_a_documented_prefix(places, capsys):
    course_dir, _ = places
    arrays = fake_mnist(n_train=data.FAST_TRAIN + 5, n_test=data.FAST_TEST + 3)
    np.savez(course_dir / "mnist.npz", **arrays)
    got = data.load_mnist(fast=True)
    assert len(got.y_train) == data.FAST_TRAIN and len(got.y_test) == data.FAST_TEST
    assert np.array_equal(got.x_train, arrays["x_train"][: data.FAST_TRAIN])
    assert "Fast mode: using the first 6,000 training and 2,000 test images" in capsys.readouterr().out


def test_fast_mode_follows_the_environment(places, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    got = data.load_mnist(downloader=lambda: fake_mnist(n_train=data.FAST_TRAIN + 10), verbose=False)
    assert len(got.y_train) == data.FAST_TRAIN


def test_a_partial_copy_is_reported(places, capsys):
    data.load_mnist(fast=False, downloader=lambda: fake_mnist())
    assert "the full set has 60,000" in capsys.readouterr().out


@pytest.mark.parametrize("breakage, words", [
    (lambda a: a.pop("y_test"), "lacks the arrays ['y_test']"),
    (lambda a: a.update(x_train=a["x_train"].astype(np.float32)), "must be uint8"),
    (lambda a: a.update(x_test=a["x_test"][:, :27]), "shape (N, 28, 28)"),
    (lambda a: a.update(y_train=a["y_train"][:-1]), "to match x_train"),
    (lambda a: a.update(y_test=a["y_test"] + 10), "labels above 9"),
])
def test_invalid_arrays_are_refused_with_the_reason(places, breakage, words):
    course_dir, _ = places
    arrays = fake_mnist()
    breakage(arrays)
    np.savez(course_dir / "mnist.npz", **arrays)
    with pytest.raises(CourseError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        data.load_mnist(downloader=offline)


def test_an_invalid_download_is_refused(places):
    with pytest.raises(CourseError, match="keras.datasets.mnist"):
        data.load_mnist(downloader=lambda: {k: v for k, v in fake_mnist().items() if k != "x_test"})


@pytest.mark.parametrize("content", [b"", b"this is not a zip file", b"PK\x03\x04 truncated"])
def test_a_corrupt_npz_names_the_file_and_the_fix(places, content):
    course_dir, _ = places
    (course_dir / "mnist.npz").write_bytes(content)
    with pytest.raises(CourseError, match="not a readable .npz file.*fetch it again"):
        data.load_mnist(downloader=offline)


def test_pickled_object_arrays_are_not_loaded(places):
    course_dir, _ = places
    arrays = fake_mnist()
    arrays["x_train"] = np.array([object()] * 3, dtype=object)
    np.savez(course_dir / "mnist.npz", **arrays)
    with pytest.raises(CourseError, match="not a readable"):
        data.load_mnist(downloader=offline)


@pytest.mark.skipif(not (SHARED / "mnist.npz").is_file(), reason="the shared offline MNIST is not on this machine")
def test_the_shared_offline_copy_is_valid(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED))
    got = data.load_mnist(fast=False, verbose=False)
    assert got.x_train.shape == (55000, 28, 28) and got.x_test.shape == (10000, 28, 28)
    assert sorted(np.unique(got.y_test)) == list(range(10))


def test_fetch_saves_a_valid_file(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "_download_mnist", lambda: fake_mnist())
    target = data.fetch_mnist(tmp_path / "d")
    assert data.read_mnist_file(target)["x_train"].shape == (50, 28, 28)


def test_command_line_usage(monkeypatch, tmp_path, capsys):
    assert data.main([]) == 2 and "usage" in capsys.readouterr().out
    monkeypatch.setattr(data, "_download_mnist", lambda: fake_mnist())
    assert data.main(["fetch", str(tmp_path)]) == 0 and (tmp_path / "mnist.npz").is_file()


@pytest.mark.parametrize("name", data.photo_names())
def test_every_photo_loads_as_uint8_rgb_and_gray(name):
    rgb, gray = data.load_photo(name), data.load_photo(name, gray=True)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[-1] == 3
    assert gray.dtype == np.uint8 and gray.shape == rgb.shape[:2]


def test_photo_resize_keeps_aspect():
    small = data.load_photo("cat", size=100)
    assert max(small.shape[:2]) == 100 and small.shape == (67, 100, 3) and small.dtype == np.uint8


def test_unknown_photo_lists_the_choices():
    with pytest.raises(CourseError, match="choose one of"):
        data.load_photo("dog")
