"""Training benchmark: ``python -m utils.bench`` (``make bench``) trains the seed CNN in full mode.

It trains the lecture notes' CNN on all MNIST training images (55,000 in the offline copy, 60,000
online) for :data:`utils.models.FULL_EPOCHS` epochs with the precision :func:`utils.models.choose_precision`
picks for this device, then appends one JSON line to ``env.cache_dir("bench")/results.jsonl`` and prints it:
data source, epochs, test accuracy, seconds per epoch, images per second, device, TensorFlow/Keras
versions and precision policy. The trained model also lands in the model cache, so later notebooks
load it instead of training again.

Options (for measuring, not for everyday use): ``--epochs N``, ``--precision POLICY``,
``--train N`` (first N training images), ``--batch-size N``, ``--no-cache`` (do not save the model).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time

from utils import env


def results_file():
    """Where the benchmark lines go (outside git)."""
    return env.cache_dir("bench") / "results.jsonl"


def run(epochs: int | None = None, precision: str | None = None, train: int | None = None,
        cache: bool = True, verbose: int = 2, batch_size: int | None = None) -> dict:
    """Train and evaluate once; return the result record (also appended to :func:`results_file`)."""
    course = env.setup(verbose=False)
    import keras
    import tensorflow as tf

    from utils import models
    from utils.data import load_mnist

    data = load_mnist(fast=False, verbose=True)
    if train is not None:
        data.x_train, data.y_train = data.x_train[:train], data.y_train[:train]
    epochs = models.FULL_EPOCHS if epochs is None else epochs
    batch_size = models.BATCH_SIZE if batch_size is None else batch_size
    policy = precision or models.choose_precision(course.device)
    models.set_precision(policy)
    model = models.compile_seed(models.seed_cnn())
    start = time.perf_counter()
    x_train, x_test = models.to_model_input(data.x_train), models.to_model_input(data.x_test)
    timer = models.epoch_timer()
    history = model.fit(x_train, data.y_train, batch_size=batch_size, epochs=epochs,
                        validation_data=(x_test, data.y_test), verbose=verbose, callbacks=[timer])
    total = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, data.y_test, verbose=0)
    per_epoch = timer.typical_train_seconds()
    record = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "data_source": data.source,
        "n_train": int(len(data.y_train)),
        "n_test": int(len(data.y_test)),
        "epochs": epochs,
        "batch_size": batch_size,
        "test_accuracy": round(float(accuracy), 4),
        "best_epoch_val_accuracy": round(float(max(history.history["val_accuracy"])), 4),
        "seconds_per_epoch": round(per_epoch, 2),
        "first_epoch_seconds": round(timer.train_seconds[0], 2),
        "images_per_second": round(len(data.y_train) / per_epoch, 1),
        "total_seconds": round(total, 1),
        "device": course.device,
        "cpu": platform.processor() or platform.machine(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "precision": policy,
        "optimizer": "Adadelta(learning_rate=1.0)",
    }
    with open(results_file(), "a") as out:
        out.write(json.dumps(record) + "\n")
    if cache and train is None:
        models.save_to_cache(model, data, epochs, history.history, per_epoch, fast=False, batch_size=batch_size,
                             verbose=False)
    models.set_precision("float32")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--precision", default=None, help="float32, mixed_bfloat16 or mixed_float16")
    parser.add_argument("--train", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--no-cache", action="store_true", help="do not save the trained model in the cache")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    record = run(args.epochs, args.precision, args.train, cache=not args.no_cache, batch_size=args.batch_size)
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
