"""utils.bench: one JSON line per run, written outside git, with a target that can be missed; latest/describe."""

from __future__ import annotations

import json

import pytest

from utils import bench, training
from utils.data import MnistData


@pytest.fixture(autouse=True)
def temporary_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(training, "PEAK_MATRIX_SIZE", 64)  # the peak measurement in milliseconds, not seconds


def tiny_mnist(n_train: int = 96, n_test: int = 40) -> MnistData:
    import numpy as np

    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (n_train + n_test, 28, 28), dtype=np.uint8)
    labels = (np.arange(n_train + n_test) % 10).astype(np.uint8)
    return MnistData(images[:n_train], labels[:n_train], images[n_train:], labels[n_train:], "tiny test data")


def test_a_run_appends_one_json_line_and_random_data_misses_the_target():
    assert bench.latest_result() is None and "make bench" in bench.describe(None)
    record = bench.run(epochs=1, batch_size=32, data=tiny_mnist(), verbose=0, cache=False, precision="float32")
    lines = bench.results_file().read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0]) == record == bench.latest_result()
    assert record["n_train"] == 96 and record["n_test"] == 40 and record["epochs"] == 1
    assert record["data_source"] == "tiny test data" and record["precision"] == "float32"
    assert 0.0 <= record["test_accuracy"] < bench.TARGET_ACCURACY and record["meets_target"] is False
    assert record["images_per_second"] > 0 and record["seconds_per_epoch"] > 0
    assert record["optimizer"].startswith("Adadelta(learning_rate=1")
    text = bench.describe(record)
    assert "NOT reached" in text and "96 images" in text and "tiny test data" in text

    assert record["recipe"] == "course" and record["weight_averaging"] is True
    assert record["input"].startswith("in-memory") and record["mflop_per_training_image"] == 71.57
    peak = record["float32_matmul_gflops"]
    assert peak["peak"] == max(peak["numpy"], peak["tensorflow"]) > 0 and record["cpu_seconds_per_epoch"] > 0
    share = 71.565312e6 * record["images_per_second"] / (peak["peak"] * 1e9)
    assert record["share_of_peak"] == pytest.approx(share, abs=0.002)
    assert record["achieved_gflops"] == pytest.approx(71.565312e-3 * record["images_per_second"], abs=0.1)
    assert record["bfloat16_matmul_gflops"] is None  # float32 run
    assert f"{record['share_of_peak']:.0%} of this machine's float32 matmul rate" in text

    plain = bench.run(epochs=1, batch_size=32, data=tiny_mnist(), verbose=0, train=48, plain=True)
    assert len(bench.results_file().read_text().splitlines()) == 2 and bench.latest_result() == plain
    assert plain["n_train"] == 48 and plain["weight_averaging"] is False and plain["recipe"] != "course"
    assert "epsilon=1e-07" in plain["optimizer"]


def test_only_a_full_course_run_lands_in_the_model_cache(monkeypatch):
    from utils import models

    saved = []
    monkeypatch.setattr(models, "save_to_cache", lambda *a, **k: saved.append(k))
    bench.run(epochs=1, batch_size=32, data=tiny_mnist(), verbose=0, plain=True)
    bench.run(epochs=1, batch_size=32, data=tiny_mnist(), verbose=0, train=48)
    assert bench.run(epochs=1, batch_size=32, data=tiny_mnist(), verbose=0, seed=7)["seed"] == 7
    assert saved == []
    bench.run(epochs=1, batch_size=32, data=tiny_mnist(), verbose=0)
    assert len(saved) == 1 and saved[0]["fast"] is False


def test_a_holdout_run_records_validation_per_epoch_and_is_never_cached(monkeypatch):
    from utils import models

    saved = []
    monkeypatch.setattr(models, "save_to_cache", lambda *a, **k: saved.append(k))
    record = bench.run(epochs=2, batch_size=32, data=tiny_mnist(), verbose=0, holdout=16, precision="float32")
    assert record["n_train"] == 80 and record["n_validation"] == 16 and saved == []
    assert len(record["val_accuracy_by_epoch"]) == 2 and all(0 <= v <= 1 for v in record["val_accuracy_by_epoch"])
    assert "16 held out for validation" in bench.describe(record) and "by epoch" in bench.describe(record)
    final = bench.run(epochs=1, batch_size=32, data=tiny_mnist(), verbose=0, precision="float32")
    assert final["n_validation"] == 0 and final["val_accuracy_by_epoch"] == [] and len(saved) == 1
    assert "held out" not in bench.describe(final)


def test_describe_says_when_the_target_is_reached():
    record = {"when": "2026-11-23T10:00:00", "epochs": 10, "n_train": 55000, "data_source": "offline copy",
              "test_accuracy": 0.9931, "target_accuracy": 0.992, "meets_target": True, "seconds_per_epoch": 22.0,
              "images_per_second": 2500.0, "device": "CPU (2 cores)", "precision": "float32", "batch_size": 128,
              "tensorflow": "2.21.0", "keras": "3.15.1", "optimizer": "Adadelta(learning_rate=1, epsilon=1e-06)"}
    assert "99.31%" in bench.describe(record) and ": reached" in bench.describe(record)


def test_the_peak_line_puts_seconds_next_to_the_share_of_peak_and_main_prints_it(monkeypatch, capsys):
    record = {"seconds_per_epoch": 9.0, "achieved_gflops": 437.3, "mflop_per_training_image": 71.57,
              "share_of_peak": 1.0934, "float32_matmul_gflops": {"numpy": 400.0, "tensorflow": 390.0, "peak": 400.0},
              "floor_seconds_per_epoch": 9.84}
    line = bench.peak_line(record)
    assert line.startswith("9.0 s per epoch = 437 GFLOP/s") and "109% of this machine" in line
    assert "(400 GFLOP/s; floor 9.8 s per epoch)" in line
    seen = {}

    def fake_run(*args, **kwargs):
        seen.update(kwargs)
        return record

    monkeypatch.setattr(bench, "run", fake_run)
    assert bench.main(["--keras-input", "--no-cache"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == line and json.loads(out[1]) == record
    assert seen["in_memory"] is False and seen["cache"] is False


def test_keras_input_trains_with_plain_fit():
    record = bench.run(epochs=1, batch_size=32, data=tiny_mnist(), verbose=0, cache=False, precision="float32",
                       in_memory=False)
    assert record["input"] == "model.fit on arrays" and record["images_per_second"] > 0


def test_a_broken_results_file_reads_as_no_result():
    bench.results_file().write_text("not json\n")
    assert bench.latest_result() is None
