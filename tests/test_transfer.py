"""utils.transfer: the source/target split, sampling, the regimes' trainable flags, BatchNormalization kept in
inference mode, the cached source network (trained once, loaded after, stale or broken files trained again), the
regimes experiment on tiny data, the tables, and the offline path of the ImageNet section."""

from __future__ import annotations

import time

import numpy as np
import pytest

from utils import transfer
from utils.errors import CourseError
from utils.exercises import nb08


@pytest.fixture(autouse=True)
def temporary_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def tiny_images(n: int = 120, classes: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images whose class is a bright square at a class-specific place: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(y):
        x[i, 4 * c: 4 * c + 6, 4 * c: 4 * c + 6] = 250
    order = rng.permutation(n)
    return x[order], y[order].astype(np.uint8)


def test_source_and_target_split_fashion_in_two():
    assert sorted(transfer.SOURCE_CLASSES + transfer.TARGET_CLASSES) == list(range(10))


def test_class_subset_keeps_and_renumbers():
    x = np.arange(6)[:, None, None] * np.ones((6, 28, 28), np.uint8)
    y = np.array([5, 1, 7, 5, 9, 1], np.uint8)
    xs, ys = transfer.class_subset(x, y, (7, 5))
    assert ys.tolist() == [1, 0, 1] and xs[:, 0, 0].tolist() == [0, 2, 3]
    with pytest.raises(CourseError, match="must not repeat"):
        transfer.class_subset(x, y, (5, 5))


def test_labelled_sample_is_stratified_disjoint_and_seeded():
    x, y = tiny_images(500)
    x = x.copy()
    x[:, 0, 0] = np.arange(500) % 256  # not unique, so index with a second pixel too
    x[:, 0, 1] = np.arange(500) // 256
    xs, ys, xv, yv = transfer.labelled_sample(x, y, 100, seed=3)
    assert len(ys) + len(yv) == 100 and len(yv) == 20
    assert np.bincount(np.concatenate([ys, yv]), minlength=5).tolist() == [20] * 5
    ids = lambda a: set(zip(a[:, 0, 0].tolist(), a[:, 0, 1].tolist()))  # noqa: E731
    assert not ids(xs) & ids(xv)
    again = transfer.labelled_sample(x, y, 100, seed=3)
    other = transfer.labelled_sample(x, y, 100, seed=4)
    assert np.array_equal(again[0], xs) and not np.array_equal(other[0], xs)
    _, _, xv_capped, _ = transfer.labelled_sample(x, y, 500, seed=0, max_val=50)
    assert len(xv_capped) == 50
    with pytest.raises(CourseError, match="n must be between"):
        transfer.labelled_sample(x, y, 5, seed=0)


def test_make_scarce_cuts_one_class_only():
    x, y = tiny_images(200)
    train = transfer.labelled_sample(x, y, 200, seed=0)
    xs, ys, xv, yv = transfer.make_scarce(train, label=2, keep=3, seed=0)
    assert np.sum(ys == 2) == 3 and np.sum(yv == 2) == 1
    assert np.sum(ys == 1) == np.sum(train[1] == 1) and len(xs) == len(ys)


def test_base_shapes_and_parameters():
    base = transfer.build_base()
    assert base.output.shape[-1] == transfer.FILTERS[-1]
    assert base.get_layer("block3_conv").count_params() == 3 * 3 * 32 * 64
    assert base.get_layer("block3_bn").count_params() == 4 * 64


@pytest.mark.parametrize("regime, expected", [
    ("frozen", 64 * 5 + 5),
    ("last_block", nb08.q2.solution_value),
    ("all", 144 + 4608 + 18432 + 64 * 5 + 5),
    ("scratch", 144 + 4608 + 18432 + 2 * (16 + 32 + 64) + 64 * 5 + 5),
])
def test_trainable_counts_per_regime(regime, expected):
    base = transfer.build_base()
    model = transfer.with_head(base, 5, training=False)
    for before in ("all", "frozen", "last_block"):  # the flags depend on the regime only, not on history
        transfer.set_trainable(base, before)
        transfer.set_trainable(base, regime)
        assert transfer.count_trainable(model) == expected


def test_exercise_two_answer_matches_the_code():
    base = transfer.build_base()
    transfer.set_trainable(base, "last_block")
    assert nb08.q2.evaluate(transfer.count_trainable(transfer.with_head(base, 5))).ok


def test_unknown_regime_is_refused():
    with pytest.raises(CourseError, match="choose one of"):
        transfer.set_trainable(transfer.build_base(), "half")


def test_frozen_batchnorm_keeps_its_statistics_during_fine_tuning():
    x, y = tiny_images(64)
    moved = {}
    for freeze in (True, False):
        base = transfer.build_base()
        model = transfer.compile_for(transfer.with_head(base, 5, training=False), 1e-3)
        transfer.set_trainable(base, "all", freeze_batchnorm=freeze)
        transfer.compile_for(model, 1e-3)
        before = base.get_layer("block1_bn").moving_mean.numpy().copy()
        model.fit(transfer.to_input(x), y, epochs=1, batch_size=16, verbose=0)
        moved[freeze] = not np.allclose(before, base.get_layer("block1_bn").moving_mean.numpy())
    assert moved[True] is False  # frozen: inference mode, whatever fit() says
    # (unfrozen, the statistics moved in Keras 3.15 even with training=False: notebook 08 measures that)


def test_head_only_weights_fit_the_full_model():
    base = transfer.build_base()
    model = transfer.with_head(base, 5)
    head = transfer.head_only(64, 5)
    model.get_layer("head").set_weights(head.get_layer("head").get_weights())


def test_budgets_are_whole_rounds_of_at_least_the_minimum():
    assert transfer.round_steps(80) == transfer.MIN_ROUND_STEPS  # 2 steps an epoch: one look per 20 steps
    assert transfer.round_steps(64 * 100) == 100  # one look per epoch
    rounds, per_round = transfer.budget("scratch", 64 * 100)
    assert per_round == 100 and rounds * per_round <= transfer.STEP_BUDGETS["scratch"] < (rounds + 1) * per_round
    assert transfer.budget("fine_tune", 10 ** 6)[0] == 1  # never zero rounds


def test_source_is_trained_once_then_loaded(capsys):
    x, y = tiny_images(100)
    args = (x[:80], y[:80], x[80:], y[80:])
    first = transfer.load_or_train_source(*args, epochs=1, fast=True)
    assert "Training the source network because none is cached yet" in capsys.readouterr().out
    second = transfer.load_or_train_source(*args, epochs=1, fast=True)
    assert "Loaded the source network" in capsys.readouterr().out
    assert first.course_cache.status == "trained" and second.course_cache.status == "loaded"
    np.testing.assert_allclose(first.predict(transfer.to_input(x[:4]), verbose=0),
                               second.predict(transfer.to_input(x[:4]), verbose=0), rtol=1e-5, atol=1e-6)
    assert transfer.source_base(second).output.shape[-1] == 64
    transfer.load_or_train_source(*args, epochs=2, fast=True)
    assert "different recipe" in capsys.readouterr().out


def test_a_broken_cached_source_is_trained_again(capsys):
    from utils import cache

    x, y = tiny_images(60)
    args = (x[:50], y[:50], x[50:], y[50:])
    transfer.load_or_train_source(*args, epochs=1, fast=True, verbose=False)
    path, _ = cache.paths(transfer.SOURCE_CACHE_NAME, fast=True)
    path.write_bytes(b"not a keras file")
    model = transfer.load_or_train_source(*args, epochs=1, fast=True)
    assert "could not be read" in capsys.readouterr().out and model.course_cache.status == "trained"


@pytest.fixture
def small_budgets(monkeypatch):
    monkeypatch.setattr(transfer, "STEP_BUDGETS", {"scratch": 60, "head": 60, "fine_tune": 20})
    monkeypatch.setattr(transfer, "MIN_ROUND_STEPS", 10)


def test_regimes_run_on_tiny_data_and_leave_the_source_alone(monkeypatch, small_budgets):
    from utils import training

    calls = []

    def spy(model, x, y=None, **kwargs):  # the source trains through fit_in_memory, with its validation split
        calls.append(kwargs)
        return training.fit_in_memory(model, x, y, **kwargs)

    monkeypatch.setattr(transfer, "fit_in_memory", spy)
    x, y = tiny_images(300)
    source, info = transfer.train_source(x[:150], y[:150], x[150:200], y[150:200], epochs=1)
    assert len(calls) == 1 and "val_loss" in info["history"] and "val_accuracy" in info["history"]
    base = transfer.source_base(source)
    before = [w.copy() for w in base.get_weights()]
    x_pool, y_pool, x_val, y_val = x[:200], y[:200], x[200:250], y[200:250]
    results = transfer.run_regimes(base, x_pool, y_pool, x_val, y_val, x[250:], y[250:], n=60, seed=0)
    assert [r.regime for r in results] == list(transfer.REGIMES)
    for r in results:
        assert 0.0 <= r.accuracy <= 1.0 and len(r.per_class) == 5 and r.n == 60 and r.seconds > 0
        assert 0.0 <= r.val_accuracy <= 1.0 and len(r.val_per_class) == 5 and 0.0 <= r.train_accuracy <= 1.0
        assert 0 < r.steps <= r.budget and "val_loss" in r.history  # EarlyStopping saw val_loss
    tuned = {r.regime: r for r in results}
    assert tuned["all"].fine_tune_from > 0 and tuned["scratch"].fine_tune_from == 0
    assert len(tuned["all"].history["loss"]) == tuned["all"].epochs > tuned["all"].fine_tune_from
    assert tuned["all"].budget == 60 + 20 and tuned["scratch"].budget == 60 and tuned["random"].budget == 60
    assert tuned["all"].history["step"] == sorted(tuned["all"].history["step"])
    assert all(np.array_equal(a, b) for a, b in zip(before, base.get_weights()))
    assert len(calls) == 1  # the regimes use their own rounds, not fit_in_memory's epochs
    with pytest.raises(CourseError, match="Unknown regimes"):
        transfer.run_regimes(base, x_pool, y_pool, x_val, y_val, x[250:], y[250:], n=60, seed=0,
                             regimes=("scratch", "half"))


def test_scratch_baseline_is_alive_on_learnable_data(monkeypatch):
    """A from-scratch network must learn what is easy to learn (the broken baseline sat at chance)."""
    monkeypatch.setattr(transfer, "STEP_BUDGETS", {"scratch": 150, "head": 60, "fine_tune": 20})
    x, y = tiny_images(300)
    base = transfer.build_base()
    (run,) = transfer.run_regimes(base, x[:200], y[:200], x[200:250], y[200:250], x[250:], y[250:], n=100,
                                  seed=0, regimes=("scratch",))
    assert run.train_accuracy > 0.9 and run.val_accuracy > 2 * transfer.CHANCE, run


def _result(regime, n, seed, val, test=None):
    return transfer.RegimeResult(regime, n, seed, test if test is not None else val, [val] * 5, 1, 0.1,
                                 {"step": [10.0]}, val_accuracy=val, steps=10, budget=20)


def test_summary_table_marks_and_differences():
    results = [_result("scratch", 100, s, a, test=0.9) for s, a in ((0, 0.5), (1, 0.7))] + [
        _result("frozen", 100, s, a, test=0.1) for s, a in ((0, 0.8), (1, 0.82))]
    summary = transfer.summarize(results)
    assert summary["scratch", 100] == pytest.approx((0.6, np.std([0.5, 0.7], ddof=1), 2))
    table = transfer.format_table(summary)
    assert "60.0 ± 14.1" in table and "81.0 ± 1.4*" in table and "fine-tune" not in table
    test = transfer.summarize(results, "accuracy")
    marked = transfer.format_table(test, marks=summary)  # the test table keeps the validation's choice
    assert "10.0 ± 0.0*" in marked and "90.0 ± 0.0 " in marked
    assert transfer.best_regimes(summary, 100) == ("frozen", ["frozen"])  # 0.21 apart > 0.141 + 0.014 of spread
    close = {("scratch", 5): (0.70, 0.05, 3), ("frozen", 5): (0.72, 0.05, 3)}
    assert transfer.best_regimes(close, 5) == ("frozen", ["scratch", "frozen"])
    one_seed = {("a", 1): (0.9, 0.0, 1), ("b", 1): (0.1, 0.0, 1)}
    assert not transfer.differs(one_seed["a", 1], one_seed["b", 1])
    assert transfer.differs((0.8, 0.01, 3), (0.6, 0.05, 3)) and not transfer.differs((0.8, 0.1, 3), (0.7, 0.1, 3))
    assert transfer.summarize(results, "steps")["scratch", 100][0] == 10
    assert transfer.compare((0.8, 0.01, 3), (0.6, 0.05, 3)) == "outside the spread"
    assert transfer.compare((0.8, 0.1, 3), (0.7, 0.1, 3)) == "within the spread"
    assert transfer.compare((0.8, 0.0, 1), (0.1, 0.0, 1)) == "one seed: no spread"
    gaps = transfer.format_table({("scratch", 100): (0.5, 0.0, 1), ("frozen", 300): (0.6, 0.0, 1)})
    assert "nan" not in gaps and " - " in gaps  # a size a row was not measured at shows a dash


def test_imagenet_offline_prints_one_line_and_returns_at_once(capsys):
    start = time.perf_counter()
    assert transfer.imagenet_mobilenet(is_online=lambda: False) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("Skipped: the ImageNet weights need the internet")
    assert time.perf_counter() - start < 1


def test_imagenet_check_never_hangs(monkeypatch, capsys):
    from utils import data

    monkeypatch.setattr(transfer, "WEIGHTS_HOST", "127.0.0.1")  # nothing listens on its port 443
    assert not data.online("127.0.0.1", timeout=1.0)
    start = time.perf_counter()
    assert transfer.imagenet_mobilenet(timeout=1.0) is None
    assert time.perf_counter() - start < 3 and "Skipped" in capsys.readouterr().out


def test_imagenet_download_failure_is_one_line(monkeypatch, capsys):
    import keras

    def broken(**_):
        raise OSError("connection reset")

    monkeypatch.setattr(keras.applications, "MobileNetV2", broken)
    assert transfer.imagenet_mobilenet(is_online=lambda: True) is None
    assert capsys.readouterr().out == "Skipped: the ImageNet weights could not be downloaded (OSError).\n"


def test_exercise_four_follows_the_measured_table():
    shrinking = {("scratch", 100): (0.5, 0.01, 3), ("frozen", 100): (0.7, 0.01, 3), ("random", 100): (0.5, 0.0, 3),
                 ("scratch", 3000): (0.85, 0.01, 3), ("all", 3000): (0.86, 0.01, 3), ("frozen", 3000): (0.7, 0, 3),
                 ("random", 3000): (0.6, 0.0, 3)}
    assert nb08.statement_truths(shrinking, (100, 3000)) == {"A": True, "B": False, "C": False, "D": False}
    growing = {k: ((v[0] - 0.3) if k == ("scratch", 3000) else v[0], v[1], v[2]) for k, v in shrinking.items()}
    assert nb08.statement_truths(growing, (100, 3000))["C"]
    try:
        nb08.record_measurement(growing, (100, 3000))
        assert nb08.q4.evaluate("C").ok and nb08.q4.evaluate("A").ok is False
    finally:
        nb08._MEASURED.clear()
    assert nb08.q4.evaluate("A").ok and nb08.q4.evaluate("E").ok is False
