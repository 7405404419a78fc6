"""utils.data: where MNIST and Fashion-MNIST come from, validation of every source, fast mode, errors, photos."""

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
    monkeypatch.setattr(data, "_download_fashion_mnist", lambda: fake_mnist(seed=5))
    assert data.main(["fetch", str(tmp_path)], is_online=lambda: True) == 0
    assert (tmp_path / "mnist.npz").is_file() and (tmp_path / "fashion_mnist.npz").is_file()
    assert np.array_equal(data.read_mnist_file(tmp_path / "fashion_mnist.npz")["y_test"], fake_mnist(seed=5)["y_test"])


def test_fetch_offline_fails_fast_with_one_line(monkeypatch, tmp_path, capsys):
    def never(*_):
        raise AssertionError("no download may be tried offline")

    monkeypatch.setattr(data, "_download_mnist", never)
    monkeypatch.setattr(data, "_download_fashion_mnist", never)
    assert data.main(["fetch", str(tmp_path)], is_online=lambda: False) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "needs the internet" in out and "Traceback" not in out
    assert not list(tmp_path.iterdir())


def test_a_download_that_breaks_midway_is_one_line(monkeypatch, tmp_path, capsys):
    def broken():
        raise ConnectionResetError("peer went away")

    monkeypatch.setattr(data, "_download_mnist", lambda: fake_mnist())
    monkeypatch.setattr(data, "_download_fashion_mnist", broken)
    assert data.main(["fetch", str(tmp_path)], is_online=lambda: True) == 1
    out = capsys.readouterr().out
    assert "saved" in out and "could not download Fashion-MNIST (ConnectionResetError" in out


def test_online_is_quick_and_false_for_a_closed_port():
    import time

    start = time.perf_counter()
    assert data.online("127.0.0.1", port=9, timeout=1.0) is False
    assert time.perf_counter() - start < 2.0


# ---------------------------------------------------------------------------------------------- Fashion-MNIST


def test_fashion_sources_in_order_and_apart_from_mnist(places, capsys):
    course_dir, repo_data = places
    np.savez(course_dir / "mnist.npz", **fake_mnist(seed=1))
    np.savez(repo_data / "fashion_mnist.npz", **fake_mnist(seed=2))
    got = data.load_fashion_mnist(fast=False, downloader=offline)
    assert np.array_equal(got.x_train, fake_mnist(seed=2)["x_train"]) and "data/ folder" in got.source
    assert capsys.readouterr().out.startswith("Fashion-MNIST from the offline copy")
    np.savez(course_dir / "fashion_mnist.npz", **fake_mnist(seed=3))
    assert np.array_equal(data.load_fashion_mnist(fast=False, verbose=False).y_train, fake_mnist(seed=3)["y_train"])


def test_fashion_download_is_last_and_unpacks_like_keras(places):
    (x, y), (xt, yt) = data.load_fashion_mnist(fast=False, downloader=lambda: fake_mnist(seed=4), verbose=False)
    assert x.shape == (50, 28, 28) and yt.shape == (20,) and x.dtype == np.uint8
    got = data.load_fashion_mnist(fast=False, downloader=lambda: fake_mnist(), verbose=False)
    assert "keras.datasets.fashion_mnist" in got.source


def test_fashion_nothing_anywhere_names_the_three_fixes(places):
    np.savez(places[0] / "mnist.npz", **fake_mnist())  # MNIST alone is not enough
    with pytest.raises(CourseError) as info:
        data.load_fashion_mnist(downloader=offline)
    message = str(info.value)
    assert message.startswith("Fashion-MNIST could not be loaded") and "fashion_mnist.npz" in message
    assert "COURSE_DATA_DIR" in message and "data/ folder" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message and "internet" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_fashion_fast_mode_keeps_the_same_prefix(places, monkeypatch):
    arrays = fake_mnist(n_train=data.FAST_TRAIN + 7, n_test=data.FAST_TEST + 1)
    np.savez(places[0] / "fashion_mnist.npz", **arrays)
    monkeypatch.setenv("COURSE_FAST", "1")
    got = data.load_fashion_mnist(verbose=False)
    assert len(got.y_train) == data.FAST_TRAIN and len(got.y_test) == data.FAST_TEST
    assert np.array_equal(got.x_test, arrays["x_test"][: data.FAST_TEST])


@pytest.mark.parametrize("breakage, words", [
    (lambda a: a.pop("x_train"), "fashion_mnist.npz lacks the arrays"),
    (lambda a: a.update(y_train=a["y_train"].astype(np.int64)), "must be uint8"),
    (lambda a: a.update(x_train=a["x_train"][:, :, :20]), "must have shape"),
    (lambda a: a.update(y_test=a["y_test"] + 20), "labels above 9"),
])
def test_fashion_bad_arrays_are_refused(places, breakage, words):
    arrays = fake_mnist()
    breakage(arrays)
    np.savez(places[0] / "fashion_mnist.npz", **arrays)
    with pytest.raises(CourseError, match=words):
        data.load_fashion_mnist(downloader=offline)


def test_fashion_corrupt_file_and_bad_download(places):
    (places[0] / "fashion_mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(CourseError, match="fashion_mnist.npz .*not a readable .npz file"):
        data.load_fashion_mnist(downloader=offline)
    (places[0] / "fashion_mnist.npz").unlink()
    with pytest.raises(CourseError, match="keras.datasets.fashion_mnist"):
        data.load_fashion_mnist(downloader=lambda: {k: v for k, v in fake_mnist().items() if k != "y_test"})


def test_fashion_class_names():
    assert len(data.FASHION_CLASSES) == 10
    assert data.FASHION_CLASSES[5] == "Sandal" and data.FASHION_CLASSES[9] == "Ankle boot"


def test_fetch_fashion_saves_a_valid_file(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "_download_fashion_mnist", lambda: fake_mnist(seed=9))
    target = data.fetch_fashion_mnist(tmp_path)
    assert target.name == "fashion_mnist.npz" and data.read_mnist_file(target)["x_test"].shape == (20, 28, 28)


@pytest.mark.skipif(not (SHARED / "fashion_mnist.npz").is_file(), reason="no shared offline Fashion-MNIST here")
def test_the_shared_fashion_copy_is_valid(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED))
    got = data.load_fashion_mnist(fast=False, verbose=False)
    assert got.x_train.shape == (60000, 28, 28) and got.x_test.shape == (10000, 28, 28)
    assert np.bincount(got.y_test).tolist() == [1000] * 10
    fast = data.load_fashion_mnist(fast=True, verbose=False)
    assert set(np.unique(fast.y_train)) == set(range(10))


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
