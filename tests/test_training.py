"""utils.training: FLOP counting, the share-of-peak arithmetic, the in-memory pipeline and validation callback
(tiny models, tiny data), and the seed CNN's cache keys pinned (changing the training path must not retrain)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils import models, training
from utils.data import MnistData
from utils.errors import CourseError


@pytest.fixture(autouse=True)
def temporary_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))


def small_model(input_shape=(8, 8, 1)):
    import keras
    from keras import layers

    return keras.Sequential([keras.Input(shape=input_shape), layers.Conv2D(2, 3, activation="relu"),
                             layers.Flatten(), layers.Dense(3, activation="softmax")])


def tiny_arrays(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 28, 28, 1), dtype=np.float32), (np.arange(n) % 10).astype(np.uint8)


# --- arithmetic ------------------------------------------------------------------------------------------


def test_seed_cnn_costs_12m_multiply_adds_forward_and_71_6_mflop_per_training_image():
    model = models.seed_cnn()
    costs = training.layer_macs(model)
    assert [c.name for c in costs] == ["conv1", "conv2", "dense", "probabilities"]
    # conv1 26*26 positions * 32 filters * 3*3*1; conv2 24*24 * 64 * 3*3*32; dense 9216*128; output 128*10
    assert [c.macs for c in costs] == [26 * 26 * 32 * 9, 24 * 24 * 64 * 9 * 32, 12 * 12 * 64 * 128, 1280]
    assert [c.input_gradient for c in costs] == [False, True, True, True]
    assert training.forward_flops(model) == 2 * 11_992_448
    # forward + weight gradients (2 x) + input gradients for all but conv1: not simply 3 x forward
    assert training.training_flops(model) == 71_565_312 != 3 * training.forward_flops(model)


def test_a_small_model_by_hand():
    model = small_model()
    # Conv2D(2, 3) on 8x8x1: 6*6 positions * 2 filters * 9 weights = 648; Dense(3) on 72 inputs = 216
    assert [c.macs for c in training.layer_macs(model)] == [648, 216]
    assert training.training_flops(model) == 2 * (2 * 648 + 3 * 216)


def test_share_of_peak_and_floor():
    # the seed CNN at 6,000 images/s is 429 GFLOP/s: 107% of a 400 GFLOP/s matmul rate
    assert training.share_of_peak(71.6e6, 6000, 400) == pytest.approx(1.074)
    assert training.share_of_peak(71.6e6, 3000, 400) == pytest.approx(0.537)
    assert training.floor_seconds_per_epoch(71.6e6, 55_000, 400) == pytest.approx(9.845)
    with pytest.raises(ValueError):
        training.share_of_peak(1e6, 10, 0)
    with pytest.raises(ValueError):
        training.floor_seconds_per_epoch(1e6, 10, -1)


def test_matmul_rate_is_positive_and_bad_settings_say_so():
    assert training.matmul_gflops(64, "numpy", repeats=1) > 0
    assert training.matmul_gflops(64, "tensorflow", repeats=1) > 0
    peak = training.practical_peak(64, repeats=1)
    assert peak["peak"] == max(peak["numpy"], peak["tensorflow"]) > 0
    with pytest.raises(CourseError, match="backend"):
        training.matmul_gflops(64, "torch")
    with pytest.raises(CourseError, match="tensorflow"):
        training.matmul_gflops(64, "numpy", dtype="bfloat16")
    with pytest.raises(CourseError):
        training.matmul_gflops(0)


# --- feeding ---------------------------------------------------------------------------------------------


def test_in_memory_dataset_gives_every_image_once_per_pass_in_a_new_order():
    x = np.arange(70, dtype=np.float32).reshape(70, 1)
    y = np.arange(70)
    one_pass = list(training.in_memory_dataset(x, y, 32, shuffle=False, repeat=False))
    assert [len(b[1]) for b in one_pass] == [32, 32, 6]
    assert np.concatenate([b[1].numpy() for b in one_pass]).tolist() == list(range(70))
    batches = iter(training.in_memory_dataset(x, y, 32, seed=1))
    passes = [np.concatenate([next(batches)[1].numpy() for _ in range(3)]) for _ in range(2)]
    for labels in passes:
        assert sorted(labels.tolist()) == list(range(70)) and labels.tolist() != list(range(70))
    assert passes[0].tolist() != passes[1].tolist()  # reshuffled each pass
    xb, yb = next(iter(training.in_memory_dataset(x, y, 8, seed=1)))
    np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())  # images stay with their labels
    with pytest.raises(CourseError):
        training.in_memory_dataset(x, y[:5], 8)
    with pytest.raises(CourseError):
        training.in_memory_dataset(x, y, 0)


def test_validation_callback_matches_keras_evaluate():
    x, y = tiny_arrays(40)
    model = models.compile_seed(models.seed_cnn(), average=False)
    callback = training.validation_callback(x, y, batch_size=16)
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert logs["val_loss"] == pytest.approx(loss, rel=1e-4) and logs["val_accuracy"] == pytest.approx(accuracy)


def test_fit_in_memory_runs_the_same_steps_and_validates_on_the_averaged_weights():
    import keras

    x, y = tiny_arrays(50)
    model = models.compile_seed(models.seed_cnn(), fast=True)
    batches = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    swap = keras.callbacks.SwapEMAWeights(swap_on_epoch=True)
    history = training.fit_in_memory(model, x[:40], y[:40], epochs=2, batch_size=16, validation_data=(x[40:], y[40:]),
                                     callbacks=[swap, counter], verbose=0)
    assert batches == [0, 1, 2, 0, 1, 2]  # ceil(40 / 16) = 3 steps per epoch, as model.fit would take
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["val_accuracy"]) == 2
    # after the last epoch the model holds the averaged weights; the last validation saw those same weights
    _, accuracy = model.evaluate(x[40:], y[40:], verbose=0)
    assert history.history["val_accuracy"][-1] == pytest.approx(accuracy)
    with pytest.raises(CourseError):
        training.fit_in_memory(model, x, y, epochs=0, batch_size=16)


def test_in_memory_dataset_feeds_several_inputs_no_targets_and_autoencoder_targets():
    x = np.arange(20, dtype=np.float32).reshape(20, 1)
    (a, b), y = next(iter(training.in_memory_dataset([x, -x], np.arange(20), 5, seed=0)))
    np.testing.assert_array_equal(a.numpy(), -b.numpy())  # the two inputs stay paired
    np.testing.assert_array_equal(a.numpy()[:, 0], y.numpy())
    alone = next(iter(training.in_memory_dataset(x, None, 5, seed=0)))
    assert alone.shape == (5, 1)  # inputs only, for a train_step that needs no targets
    inputs, targets = next(iter(training.in_memory_dataset(x, x, 5, seed=0)))
    np.testing.assert_array_equal(inputs.numpy(), targets.numpy())
    with pytest.raises(CourseError):
        training.in_memory_dataset([x, x[:4]], None, 5)


def test_validation_callback_matches_keras_evaluate_for_any_loss_and_several_inputs():
    import keras
    from keras import layers

    rng = np.random.default_rng(1)
    a, b = rng.random((30, 4), dtype=np.float32), rng.random((30, 4), dtype=np.float32)
    target = rng.random((30, 1), dtype=np.float32)
    left, right = keras.Input((4,)), keras.Input((4,))
    model = keras.Model([left, right], layers.Dense(1)(layers.Concatenate()([left, right])))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    callback = training.validation_callback([a, b], target, batch_size=7)  # 7 + 7 + 7 + 7 + 2
    callback.set_model(model)
    logs = {"loss": 1.0}
    callback.on_epoch_end(0, logs)
    loss, mae = model.evaluate([a, b], target, verbose=0)
    assert logs["val_loss"] == pytest.approx(loss, rel=1e-5) and logs["val_mae"] == pytest.approx(mae, rel=1e-5)
    assert logs["loss"] == 1.0  # the training numbers are left alone


def test_fit_in_memory_trains_an_autoencoder_and_stops_early_on_its_validation_loss():
    import keras
    from keras import layers

    rng = np.random.default_rng(2)
    x = rng.random((64, 6), dtype=np.float32)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3), layers.Dense(6)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")  # learns nothing: val_loss never improves
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1)
    history = training.fit_in_memory(model, x[:48], x[:48], epochs=10, batch_size=16, validation_data=(x[48:], x[48:]),
                                     callbacks=[stop], verbose=0)
    assert len(history.history["val_loss"]) == 2  # EarlyStopping saw val_loss at every epoch's end
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x[48:], x[48:], verbose=0), rel=1e-5)
    with pytest.raises(CourseError):
        training.fit_in_memory(model, x, x, epochs=1, batch_size=16, validation_data=[x, x])


def test_train_mnist_cnn_in_memory_watches_the_held_out_split_never_the_test_set(monkeypatch):
    rng = np.random.default_rng(0)
    data = MnistData(rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), (np.arange(64) % 10).astype(np.uint8),
                     rng.integers(0, 256, (32, 28, 28), dtype=np.uint8), (np.arange(32) % 10).astype(np.uint8), "tiny")
    seen = {}
    real_dataset, real_callback = training.in_memory_dataset, training.validation_callback

    def dataset_spy(x, y, *args, **kwargs):
        seen["fit"] = np.asarray(y).copy()
        return real_dataset(x, y, *args, **kwargs)

    def callback_spy(x, y, *args, **kwargs):
        seen["validation"] = np.asarray(y).copy()
        return real_callback(x, y, *args, **kwargs)

    monkeypatch.setattr(training, "in_memory_dataset", dataset_spy)
    monkeypatch.setattr(training, "validation_callback", callback_spy)
    history, seconds = models.train_mnist_cnn(models.compile_seed(models.seed_cnn()), data, 1, 32, verbose=0,
                                              holdout=16, in_memory=True)
    np.testing.assert_array_equal(seen["fit"], data.y_train[:48])
    np.testing.assert_array_equal(seen["validation"], data.y_train[-16:])
    assert set(history) >= {"val_accuracy", "val_loss"} and seconds > 0
    seen.clear()
    history, _ = models.train_mnist_cnn(models.compile_seed(models.seed_cnn()), data, 1, 32, verbose=0,
                                        in_memory=True)
    assert len(seen["fit"]) == 64 and "validation" not in seen and "val_accuracy" not in history


# --- the cache keys must not move ------------------------------------------------------------------------


def test_the_seed_cnn_cache_keys_are_pinned():
    """The keys of the cached MNIST CNN that notebooks load: a changed key makes every notebook retrain."""
    import keras

    if keras.__version__ != "3.15.1":
        pytest.skip("keys pinned with Keras 3.15.1 (its config format is part of the key)")
    rng = np.random.default_rng(0)
    data = MnistData(rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), (np.arange(64) % 10).astype(np.uint8),
                     rng.integers(0, 256, (32, 28, 28), dtype=np.uint8), (np.arange(32) % 10).astype(np.uint8),
                     "tiny test data")
    model = models.compile_seed(models.seed_cnn(), fast=False)
    assert models.cache_key(model, data, 10, 128) == "ef807defa7df43ec"
    assert models.cache_key(model, data, 10, 64) != "ef807defa7df43ec"


def test_the_real_cache_keys_when_the_offline_mnist_is_here():
    """With the course's offline MNIST (COURSE_DATA_DIR): the keys the shared model cache was saved under."""
    import keras

    from utils.data import load_mnist

    if keras.__version__ != "3.15.1":
        pytest.skip("keys pinned with Keras 3.15.1")
    try:
        full, fast = load_mnist(fast=False, verbose=False), load_mnist(fast=True, verbose=False)
    except Exception:  # no offline copy and no internet: nothing to compare
        pytest.skip("MNIST not available here")
    if not full.source.startswith("the offline copy") or len(full.y_train) != 55_000:
        pytest.skip("keys pinned for the 55,000-image offline copy")
    assert models.cache_key(models.compile_seed(models.seed_cnn(), fast=False), full, models.FULL_EPOCHS,
                            models.BATCH_SIZE) == "5e0130c35767132e"
    assert models.cache_key(models.compile_seed(models.seed_cnn(), fast=True), fast, models.FAST_EPOCHS,
                            models.BATCH_SIZE) == "277074c8e336af03"
    assert math.isclose(training.training_flops(models.seed_cnn()) / 1e6, 71.565312)


def test_tabulated_schedule_reads_the_table_and_clamps_after_the_end():
    keras = pytest.importorskip("keras")
    from utils.exercises.nb07 import _warmup_cosine

    rates = [_warmup_cosine(k, 0.01, 4, 20) for k in range(21)]
    schedule = training.tabulated_schedule(rates)
    reference = keras.optimizers.schedules.CosineDecay(0.0, 16, warmup_target=0.01, warmup_steps=4)
    for step in (0, 2, 4, 10, 19, 20, 25):
        assert float(schedule(step)) == pytest.approx(float(reference(min(step, 20))), abs=1e-7)
    optimizer = keras.optimizers.Adam(schedule)
    assert float(optimizer.learning_rate) == pytest.approx(0.0)   # step 0 of the warm-up
    assert schedule.get_config()["values"][4] == pytest.approx(0.01)


@pytest.mark.parametrize("bad", [[], [0.1, float("nan")], [0.1, -0.01], "fast", [[0.1], [0.2, 0.3]]])
def test_tabulated_schedule_refuses_bad_tables_with_a_message(bad):
    with pytest.raises(CourseError):
        training.tabulated_schedule(bad)
