"""utils.cache: a keyed model cache (train once, load after; stale, broken and foreign files are trained again)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from utils import cache


@pytest.fixture(autouse=True)
def temporary_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def tiny_model(units: int = 3):
    import keras

    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(units)])


def test_fingerprint_tells_arrays_apart():
    a = np.arange(12, dtype=np.uint8)
    assert cache.fingerprint(a) == cache.fingerprint(a.copy())
    assert cache.fingerprint(a) != cache.fingerprint(a[::-1])
    assert cache.fingerprint(a) != cache.fingerprint(a.reshape(3, 4))  # same bytes, other shape
    assert cache.fingerprint(a) != cache.fingerprint(a.astype(np.int64))


def test_model_recipe_ignores_layer_names_but_not_sizes():
    assert cache.recipe_key(cache.model_recipe(tiny_model())) == cache.recipe_key(cache.model_recipe(tiny_model()))
    assert cache.recipe_key(cache.model_recipe(tiny_model(3))) != cache.recipe_key(cache.model_recipe(tiny_model(4)))


def test_trains_once_then_loads(capsys):
    calls = []

    def train():
        calls.append(1)
        model = tiny_model()
        return model, {"score": 0.5}

    first = cache.load_or_train("tiny", {"units": 3}, train, fast=True)
    assert "because none is cached yet" in capsys.readouterr().out
    second = cache.load_or_train("tiny", {"units": 3}, train, fast=True)
    assert "Loaded" in capsys.readouterr().out
    assert len(calls) == 1
    assert first.course_cache.status == "trained" and second.course_cache.status == "loaded"
    assert second.course_cache.info == {"score": 0.5}
    x = np.ones((2, 4), "float32")
    np.testing.assert_allclose(first.predict(x, verbose=0), second.predict(x, verbose=0), rtol=1e-6)


def test_other_recipe_mode_or_retrain_trains_again(capsys):
    calls = []

    def train():
        calls.append(1)
        return tiny_model()

    cache.load_or_train("tiny", {"epochs": 1}, train, fast=True)
    cache.load_or_train("tiny", {"epochs": 2}, train, fast=True)
    assert "different recipe" in capsys.readouterr().out
    cache.load_or_train("tiny", {"epochs": 2}, train, fast=False)  # full mode has its own file
    cache.load_or_train("tiny", {"epochs": 2}, train, fast=False, retrain=True)
    assert len(calls) == 4


def test_broken_file_is_trained_again(capsys):
    cache.load_or_train("tiny", {}, tiny_model, fast=True)
    path, note = cache.paths("tiny", fast=True)
    path.write_bytes(b"not a keras file")
    model = cache.load_or_train("tiny", {}, tiny_model, fast=True)
    assert "could not be read" in capsys.readouterr().out
    assert model.course_cache.status == "trained"
    note.write_text("{broken json")
    assert cache.read_note("tiny", fast=True) is None
    assert json.loads(json.dumps(cache.load_or_train("tiny", {}, tiny_model, fast=True).course_cache.info)) == {}


def test_names_that_would_escape_the_folder_are_refused():
    with pytest.raises(ValueError):
        cache.paths("../evil", fast=True)
