"""Training benchmark: ``python -m utils.bench`` (``make bench``) trains the seed CNN in full mode.

It trains the lecture notes' CNN with the course's recipe (:func:`utils.models.compile_seed`,
:data:`utils.models.BATCH_SIZE`) on all MNIST training images (55,000 in the offline copy, 60,000
online) for :data:`utils.models.FULL_EPOCHS` epochs, with the precision :func:`utils.env.choose_precision`
picks for this device. The test set is measured once, after training; nothing is chosen with it. Then it
appends one JSON line to ``env.cache_dir("bench")/results.jsonl`` and prints it: data source, epochs, test
accuracy (and whether it reached :data:`TARGET_ACCURACY`), seconds per epoch, images per second, device,
TensorFlow/Keras versions and precision policy. The trained model also lands in the model cache, so later
notebooks load it instead of training again.

Next to seconds per epoch it prints the *share of this machine's practical peak*: the seed CNN costs
:func:`utils.training.training_flops` per training image (71.6 MFLOP), and a large float32 matrix multiply
(:func:`utils.training.practical_peak`, NumPy's and TensorFlow's, the faster) measures what this very machine
reaches, so ``share_of_peak`` (achieved GFLOP/s over that) is honest on any CPU; with mixed_bfloat16 it can pass
100%, and ``bfloat16_matmul_gflops`` gives that precision's own ceiling. ``cpu_seconds_per_epoch`` is the
process's CPU time (all threads), less sensitive than wall time to what else runs.

Training goes through :func:`utils.training.fit_in_memory` (one tf.data iterator for all epochs): with plain
``model.fit`` on arrays, about one epoch in three ran 1.5x slower on a 2-core CPU (one core idle half the time,
a new tf.data iterator each epoch). ``--keras-input`` measures plain ``model.fit`` for comparison.

``--holdout N`` is how the recipe is *chosen* honestly: it trains on all but the last N training images and
records the held-out images' accuracy after every epoch (``val_accuracy_by_epoch``), the numbers to compare
recipes by (e.g. with and without ``--plain``); such runs are never cached.

Options (for measuring, not for everyday use): ``--epochs N``, ``--precision POLICY``,
``--train N`` (first N training images), ``--batch-size N``, ``--no-cache`` (do not save the model),
``--seed N`` (another random start, to see the spread between runs; not cached), ``--plain`` (the notes'
recipe alone, ``Adadelta(learning_rate=1.0)`` with Keras 3's other defaults and no weight averaging: what
the course's two extra settings are measured against; never cached), ``--holdout N`` (see above),
``--keras-input`` (plain ``model.fit`` on arrays, as before issue 19).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from typing import TYPE_CHECKING

from utils import env, training

if TYPE_CHECKING:  # pragma: no cover
    from utils.data import MnistData

#: What the course promises for the full recipe: the notes' 99.24%, rounded down to the benchmark's precision.
TARGET_ACCURACY = 0.992


def results_file():
    """Where the benchmark lines go (outside git)."""
    return env.cache_dir("bench") / "results.jsonl"


def run(epochs: int | None = None, precision: str | None = None, train: int | None = None,
        cache: bool = True, verbose: int = 2, batch_size: int | None = None,
        data: "MnistData | None" = None, plain: bool = False, seed: int = env.DEFAULT_SEED,
        holdout: int = 0, in_memory: bool = True, peak_size: int | None = None) -> dict:
    """Train and evaluate once; return the result record (also appended to :func:`results_file`).

    ``data`` replaces full-mode MNIST (the tests pass a tiny set). ``holdout=n`` trains on all but the last
    ``n`` training images and records their accuracy after each epoch (for choosing a recipe).
    ``in_memory=False`` trains with plain ``model.fit`` on arrays; ``peak_size`` is the matrix size of the
    peak measurement (default :data:`utils.training.PEAK_MATRIX_SIZE`; the tests use a small one).
    """
    course = env.setup(seed=seed, verbose=False)
    import keras
    import tensorflow as tf

    from utils import models
    from utils.data import load_mnist

    data = load_mnist(fast=False, verbose=verbose > 0) if data is None else data
    if train is not None:
        data.x_train, data.y_train = data.x_train[:train], data.y_train[:train]
    epochs = models.FULL_EPOCHS if epochs is None else epochs
    batch_size = models.BATCH_SIZE if batch_size is None else batch_size
    policy = precision or env.choose_precision(course.device)
    previous = keras.mixed_precision.global_policy().name
    env.set_precision(policy)
    try:
        if plain:
            model = models.compile_seed(models.seed_cnn(), epsilon=models.KERAS3_ADADELTA_EPSILON, average=False)
        else:
            model = models.compile_seed(models.seed_cnn(), fast=False)
        peak_size = training.PEAK_MATRIX_SIZE if peak_size is None else peak_size
        peak = training.practical_peak(peak_size)
        bf16_peak = (round(training.matmul_gflops(peak_size, "tensorflow", dtype="bfloat16"), 1)
                     if policy == "mixed_bfloat16" else None)
        timer = models.epoch_timer()
        start, cpu_start = time.perf_counter(), time.process_time()
        history, per_epoch = models.train_mnist_cnn(model, data, epochs, batch_size, verbose=verbose, timer=timer,
                                                    holdout=holdout, in_memory=in_memory)
        total, cpu_total = time.perf_counter() - start, time.process_time() - cpu_start
        _, accuracy = model.evaluate(models.to_model_input(data.x_test), data.y_test, verbose=0)
    finally:
        env.set_precision(previous)
    n_fit = len(data.y_train) - holdout
    flops = training.training_flops(model)
    images_per_second = n_fit / per_epoch
    record = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "data_source": data.source,
        "n_train": int(len(data.y_train)) - holdout,
        "n_validation": holdout,
        "n_test": int(len(data.y_test)),
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "test_accuracy": round(float(accuracy), 4),
        "target_accuracy": TARGET_ACCURACY,
        "meets_target": bool(round(float(accuracy), 4) >= TARGET_ACCURACY),
        "val_accuracy_by_epoch": [round(float(v), 4) for v in history.get("val_accuracy", [])],
        "seconds_per_epoch": round(per_epoch, 2),
        "first_epoch_seconds": round(timer.train_seconds[0], 2),
        "images_per_second": round(images_per_second, 1),
        "total_seconds": round(total, 1),
        "cpu_seconds_per_epoch": round(cpu_total / epochs, 1),
        "mflop_per_training_image": round(flops / 1e6, 2),
        "achieved_gflops": round(flops * images_per_second / 1e9, 1),
        "float32_matmul_gflops": peak,
        "share_of_peak": round(training.share_of_peak(flops, images_per_second, peak["peak"]), 3),
        "floor_seconds_per_epoch": round(training.floor_seconds_per_epoch(flops, n_fit, peak["peak"]), 2),
        "bfloat16_matmul_gflops": bf16_peak,
        "input": "in-memory tf.data, one iterator" if in_memory else "model.fit on arrays",
        "device": course.device,
        "cpu": platform.processor() or platform.machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "precision": policy,
        "recipe": "notes' Adadelta(learning_rate=1.0) alone" if plain else "course",
        "optimizer": models.optimizer_summary(model),
        "weight_averaging": bool(getattr(model.optimizer, "use_ema", False)),
    }
    with open(results_file(), "a") as out:
        out.write(json.dumps(record) + "\n")
    if cache and train is None and not plain and seed == env.DEFAULT_SEED and not holdout:
        models.save_to_cache(model, data, epochs, history, per_epoch, fast=False, batch_size=batch_size,
                             verbose=False)
    return record


def latest_result() -> dict | None:
    """The newest line of :func:`results_file`, or None when ``make bench`` has not run here yet."""
    try:
        lines = [line for line in results_file().read_text().splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def describe(record: dict | None) -> str:
    """A few readable lines about one benchmark record (what notebook 04 prints)."""
    if record is None:
        return "No benchmark on this machine yet: run `make bench` in a terminal (a few minutes on a 2-core CPU)."
    target = "reached" if record.get("meets_target") else "NOT reached"
    held = record.get("n_validation") or 0
    return "\n".join([
        f"{record['when']}: {record['epochs']} epochs on {record['n_train']:,} images ({record['data_source']})"
        + (f", {held:,} held out for validation" if held else ""),
        *(["validation accuracy by epoch: " + ", ".join(f"{v:.2%}" for v in record["val_accuracy_by_epoch"])]
          if held and record.get("val_accuracy_by_epoch") else []),
        f"test accuracy {record['test_accuracy']:.2%} (target {record['target_accuracy']:.1%}: {target})",
        f"{record['seconds_per_epoch']:.1f} s per epoch, {record['images_per_second']:,.0f} images/s, "
        f"{record['device']}, {record['precision']}, batch {record['batch_size']}",
        *([peak_line(record)] if "share_of_peak" in record else []),
        f"TensorFlow {record['tensorflow']}, Keras {record['keras']}, {record['optimizer']}"
        + (", weight averaging" if record.get("weight_averaging") else ""),
    ])


def peak_line(record: dict) -> str:
    """Seconds per epoch next to the share of this machine's float32 matrix-multiply rate, in one line."""
    peak = record["float32_matmul_gflops"]
    return (f"{record['seconds_per_epoch']:.1f} s per epoch = {record['achieved_gflops']:.0f} GFLOP/s "
            f"({record['mflop_per_training_image']:.1f} MFLOP per training image) = {record['share_of_peak']:.0%} "
            f"of this machine's float32 matmul rate ({peak['peak']:.0f} GFLOP/s; floor "
            f"{record['floor_seconds_per_epoch']:.1f} s per epoch)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--precision", default=None, help="float32, mixed_bfloat16 or mixed_float16")
    parser.add_argument("--train", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--no-cache", action="store_true", help="do not save the trained model in the cache")
    parser.add_argument("--seed", type=int, default=env.DEFAULT_SEED, help="random seed (default %(default)s)")
    parser.add_argument("--plain", action="store_true", help="the notes' recipe alone (Keras 3 epsilon, no averaging)")
    parser.add_argument("--holdout", type=int, default=0,
                        help="hold out the last N training images and record their accuracy per epoch (not cached)")
    parser.add_argument("--keras-input", action="store_true",
                        help="train with plain model.fit on arrays (a new tf.data iterator each epoch)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    record = run(args.epochs, args.precision, args.train, cache=not args.no_cache, batch_size=args.batch_size,
                 plain=args.plain, seed=args.seed, holdout=args.holdout, in_memory=not args.keras_input)
    print(peak_line(record))
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
