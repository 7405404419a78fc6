"""utils.models: the seed CNN's layers, precision per device, and the model cache (tiny model, tiny data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from utils import models
from utils.data import MnistData


@pytest.fixture(autouse=True)
def temporary_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def tiny_data(n_train: int = 64, n_test: int = 32, source: str = "tiny test data") -> MnistData:
    rng = np.random.default_rng(0)
    y_train = (np.arange(n_train) % 10).astype(np.uint8)
    y_test = (np.arange(n_test) % 10).astype(np.uint8)
    x_train = rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8)
    return MnistData(x_train, y_train, x_test, y_test, source)


def tiny_cnn():
    import keras
    from keras import layers

    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(2, 3, activation="relu"),
                             layers.MaxPooling2D(4), layers.Flatten(),
                             layers.Dense(10, activation="softmax")])


def tiny_cnn_wider():
    import keras
    from keras import layers

    return keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Conv2D(3, 3, activation="relu"),
                             layers.MaxPooling2D(4), layers.Flatten(),
                             layers.Dense(10, activation="softmax")])


def run(data, builder=tiny_cnn, epochs=1, **kwargs):
    return models.load_or_train_mnist_cnn(fast=True, epochs=epochs, data=data, builder=builder,
                                          batch_size=32, precision="float32", **kwargs)


def test_seed_cnn_layers_match_the_notes():
    model = models.seed_cnn()
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense", "Dropout", "Dense"]
    assert [layer.count_params() for layer in model.layers] == [320, 18496, 0, 0, 0, 1179776, 0, 1290]
    assert model.count_params() == 1_199_882
    assert model.output_shape == (None, 10)
    assert model.layers[3].rate == 0.25 and model.layers[6].rate == 0.5


def test_compile_seed_uses_adadelta_one_epsilon_1e6_and_weight_averaging():
    model = models.compile_seed(models.seed_cnn(), fast=False)
    opt = model.optimizer
    assert opt.__class__.__name__ == "Adadelta"
    assert float(opt.learning_rate) == pytest.approx(1.0) and opt.epsilon == pytest.approx(1e-6)
    assert opt.use_ema and opt.ema_momentum == pytest.approx(0.999)
    assert models.optimizer_summary(model) == "Adadelta(learning_rate=1, rho=0.95, epsilon=1e-06)"
    assert [type(c).__name__ for c in models.training_callbacks(model)] == ["SwapEMAWeights"]


def test_fast_mode_averages_over_fewer_steps_and_averaging_can_be_off():
    fast = models.compile_seed(models.seed_cnn(), fast=True).optimizer
    assert fast.use_ema and fast.ema_momentum == pytest.approx(models.FAST_EMA_MOMENTUM)
    assert models.FAST_EMA_MOMENTUM < models.EMA_MOMENTUM
    plain = models.compile_seed(models.seed_cnn(), average=False)
    assert not plain.optimizer.use_ema and models.training_callbacks(plain) == []
    assert not models.same_recipe(plain, models.compile_seed(models.seed_cnn()))


def test_dense_baseline_parameters():
    assert models.dense_baseline().count_params() == 784 * 128 + 128 + 128 * 10 + 10


def test_to_model_input_scales_and_adds_a_channel():
    x = models.to_model_input(np.array([[[0, 255]]], dtype=np.uint8))
    assert x.shape == (1, 1, 2, 1) and x.dtype == np.float32 and x.max() == 1.0


def test_choose_precision_per_device(monkeypatch):
    from utils import env

    assert env.choose_precision("GPU: Tesla T4", compute_capability=(7, 5)) == "mixed_float16"
    assert env.choose_precision("GPU: NVIDIA A100", compute_capability=(8, 0)) == "mixed_bfloat16"
    monkeypatch.setattr(env, "_cpu_has_bf16", lambda: False)
    assert env.choose_precision("CPU (2 cores)") == "float32"
    monkeypatch.setattr(env, "_cpu_has_bf16", lambda: True)
    assert env.choose_precision("CPU (2 cores)") == "mixed_bfloat16"
    assert models.choose_precision is env.choose_precision   # older imports keep working
    reasons = {policy: env.precision_reason(policy, "CPU") for policy in ("float32", "mixed_bfloat16")}
    reasons["mixed_float16"] = env.precision_reason("mixed_float16", "GPU: Tesla T4", compute_capability=(7, 5))
    assert "GPU" in reasons["mixed_float16"] and "without bfloat16" in reasons["float32"]
    assert "with bfloat16" in reasons["mixed_bfloat16"] and len(set(reasons.values())) == 3


@pytest.mark.parametrize("flags, has", [("fpu avx2 avx512f", False), ("fpu avx512f avx512_bf16 avx512_vnni", True),
                                        ("fpu amx_bf16 amx_tile", True), ("fpu avx512_bf16x", False)])
def test_bfloat16_instructions_are_read_from_cpuinfo(tmp_path, flags, has):
    from utils import env

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert env._cpu_has_bf16(cpuinfo) is has
    assert env._cpu_has_bf16(tmp_path / "missing") is False   # not Linux: the safe choice


def test_cache_key_ignores_layer_names_but_not_what_matters():
    data = tiny_data()
    a, b = models.compile_seed(tiny_cnn()), models.compile_seed(tiny_cnn())   # Keras numbers their names
    assert models.cache_key(a, data, 1) == models.cache_key(b, data, 1)
    assert models.cache_key(a, data, 1) != models.cache_key(a, data, 2)
    assert models.cache_key(a, data, 1) != models.cache_key(models.compile_seed(tiny_cnn_wider()), data, 1)
    assert models.cache_key(a, data, 1) != models.cache_key(a, tiny_data(source="elsewhere"), 1)
    assert models.cache_key(a, data, 1) != models.cache_key(models.compile_seed(tiny_cnn(), 0.001), data, 1)


def test_trains_when_missing_then_loads_then_retrains_when_stale(capsys, temporary_cache):
    data = tiny_data()
    first = run(data)
    out = capsys.readouterr().out
    assert "Training the CNN" in out and "none is cached yet" in out and "Saved" in out
    assert first.course_cache.status == "trained"
    model_file, note = models.cache_paths(fast=True)
    assert model_file.is_file() and model_file.parent == temporary_cache / "models"
    assert json.loads(note.read_text())["key"] == first.course_cache.key

    second = run(data)
    assert "Loaded the trained CNN from the course cache" in capsys.readouterr().out
    assert second.course_cache.status == "loaded"
    x = models.to_model_input(data.x_test[:4])
    np.testing.assert_allclose(first.predict(x, verbose=0), second.predict(x, verbose=0), atol=1e-6)

    third = run(data, epochs=2)                                   # different epochs: stale
    assert "stale" in capsys.readouterr().out and third.course_cache.status == "trained"
    fourth = run(data, builder=tiny_cnn_wider, epochs=2)          # different architecture: stale
    assert "stale" in capsys.readouterr().out and fourth.course_cache.status == "trained"
    fifth = run(tiny_data(n_train=48), builder=tiny_cnn_wider, epochs=2)   # different data: stale
    assert "stale" in capsys.readouterr().out and fifth.course_cache.status == "trained"
    assert run(tiny_data(n_train=48), builder=tiny_cnn_wider, epochs=2).course_cache.status == "loaded"


def test_a_broken_cache_file_is_retrained(capsys):
    data = tiny_data()
    run(data, verbose=False)
    model_file, _ = models.cache_paths(fast=True)
    model_file.write_bytes(b"not a keras file")
    again = run(data)
    assert again.course_cache.status == "trained" and "could not be read" in capsys.readouterr().out


def test_fast_and_full_caches_live_side_by_side():
    assert models.cache_paths(fast=True)[0] != models.cache_paths(fast=False)[0]
    assert models.read_cache_info(fast=False) is None


def test_split_validation_holds_out_the_last_training_images_and_never_the_test_set():
    from utils.errors import CourseError

    data = tiny_data(n_train=64)
    (x_fit, y_fit), (x_val, y_val) = models.split_validation(data.x_train, data.y_train, 16)
    assert len(x_fit) == len(y_fit) == 48 and len(x_val) == len(y_val) == 16
    np.testing.assert_array_equal(x_val, data.x_train[-16:])
    np.testing.assert_array_equal(np.concatenate([x_fit, x_val]), data.x_train)   # nothing lost, nothing added
    assert not any(np.array_equal(img, t) for img in x_val for t in data.x_test)
    assert models.validation_size(fast=False) == models.VALIDATION_SIZE == 5000
    assert models.validation_size(fast=True) == models.FAST_VALIDATION_SIZE < models.VALIDATION_SIZE
    for bad in (0, 64, 100):
        with pytest.raises(CourseError, match="hold out"):
            models.split_validation(data.x_train, data.y_train, bad)
    with pytest.raises(CourseError, match="labels"):
        models.split_validation(data.x_train, data.y_train[:10], 4)


def test_training_watches_the_held_out_split_never_the_test_set(monkeypatch):
    import keras

    data = tiny_data(n_train=64)
    seen = {}
    real_fit = keras.Model.fit

    def spy(self, x, y, validation_data=None, **kwargs):
        seen["n_fit"], seen["validation"] = len(y), validation_data
        return real_fit(self, x, y, validation_data=validation_data, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    history, _ = models.train_mnist_cnn(models.compile_seed(tiny_cnn()), data, 1, 32, verbose=0, holdout=16,
                                        in_memory=False)
    assert seen["n_fit"] == 48 and set(history) >= {"val_accuracy", "val_loss"}
    np.testing.assert_array_equal(seen["validation"][1], data.y_train[-16:])
    history, _ = models.train_mnist_cnn(models.compile_seed(tiny_cnn()), data, 1, 32, verbose=0, in_memory=False)
    assert seen["n_fit"] == 64 and seen["validation"] is None and "val_accuracy" not in history


def test_save_to_cache_is_found_by_load_or_train(capsys):
    data = tiny_data()
    model = models.compile_seed(tiny_cnn(), fast=True)  # as run() compiles, whatever COURSE_FAST says
    history, seconds = models.train_mnist_cnn(model, data, epochs=1, batch_size=32, verbose=0)
    assert set(history) >= {"accuracy", "loss"} and seconds > 0
    models.save_to_cache(model, data, epochs=1, history=history, fast=True, batch_size=32)
    assert run(data).course_cache.status == "loaded"


def test_same_recipe_ignores_names_only():
    import keras

    plain = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D(pool_size=(2, 2)),
        keras.layers.Dropout(0.25),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])
    seed = models.compile_seed(models.seed_cnn())
    assert models.same_recipe(models.compile_seed(plain), seed)
    assert not models.same_recipe(models.compile_seed(tiny_cnn()), seed)
    assert not models.same_recipe(models.compile_seed(models.seed_cnn(), 0.001), seed)


def test_a_model_trained_in_bfloat16_comes_back_computing_in_float32(capsys):
    from utils import env

    data = tiny_data()
    model = models.load_or_train_mnist_cnn(fast=True, epochs=1, data=data, builder=tiny_cnn, batch_size=32,
                                           precision="mixed_bfloat16")
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert model.course_cache.precision == "mixed_bfloat16"          # what trained it is still on record
    again = models.load_or_train_mnist_cnn(fast=True, epochs=1, data=data, builder=tiny_cnn, batch_size=32,
                                           precision="mixed_bfloat16")
    assert again.course_cache.status == "loaded" and {layer.dtype_policy.name for layer in again.layers} == {"float32"}
    x = models.to_model_input(data.x_test[:4])
    np.testing.assert_allclose(model.predict(x, verbose=0), again.predict(x, verbose=0), atol=1e-6)
    assert models.as_float32(again) is again
    env.set_precision("mixed_bfloat16")
    try:
        mixed = models.compile_seed(tiny_cnn())
    finally:
        env.set_precision("float32")
    assert mixed.layers[0].dtype_policy.name == "mixed_bfloat16"
    plain = models.as_float32(mixed)
    assert plain is not mixed and plain.layers[0].dtype_policy.name == "float32"
    assert all(np.array_equal(a, b) for a, b in zip(plain.get_weights(), mixed.get_weights()))
