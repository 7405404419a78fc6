"""Data for the course: MNIST (online or offline) and the sample photos that scikit-image ships.

MNIST is looked for in this order, and the first place that has it wins:

1. ``$COURSE_DATA_DIR/mnist.npz`` (CI and offline classrooms point this at a shared folder);
2. ``data/mnist.npz`` in the course folder (``python -m utils.data fetch`` puts it there);
3. ``keras.datasets.mnist.load_data()``, which downloads it once (needs internet) and caches it.

Every file must be in Keras' own layout: arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``, uint8,
images 28x28, labels 0-9. Fast mode (``COURSE_FAST=1``) keeps the first :data:`FAST_TRAIN` training and
the first :data:`FAST_TEST` test images, in their stored order.
"""

from __future__ import annotations

import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from utils import env
from utils.errors import CourseError

MNIST_FILE = "mnist.npz"
MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")
FAST_TRAIN = 6000
FAST_TEST = 2000
FULL_MNIST_TRAIN = 60000

#: Short name -> scikit-image loader name, for :func:`load_photo`.
PHOTOS: dict[str, str] = {
    "cat": "chelsea",
    "camera": "camera",
    "astronaut": "astronaut",
    "coffee": "coffee",
    "coins": "coins",
    "rocket": "rocket",
}


@dataclass
class MnistData:
    """MNIST arrays plus where they came from. Unpacks like Keras: ``(x, y), (xt, yt) = load_mnist()``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        yield self.x_train, self.y_train
        yield self.x_test, self.y_test


def data_dirs() -> list[tuple[str, Path]]:
    """The offline places searched for data, in order, each with how it is described to a learner."""
    places = []
    if os.environ.get("COURSE_DATA_DIR"):
        places.append(("COURSE_DATA_DIR", Path(os.environ["COURSE_DATA_DIR"]).expanduser()))
    places.append(("the course's data/ folder", env.repo_root() / "data"))
    return places


def validate_mnist(arrays: dict[str, np.ndarray], origin: str = "MNIST") -> None:
    """Raise :class:`CourseError` unless ``arrays`` holds MNIST in Keras' layout."""
    missing = [k for k in MNIST_KEYS if k not in arrays]
    if missing:
        raise CourseError(f"{origin} lacks the arrays {missing}; expected {list(MNIST_KEYS)} as in Keras' mnist.npz.")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise CourseError(f"{origin}: x_{split} and y_{split} must be uint8, got {x.dtype} and {y.dtype}.")
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise CourseError(f"{origin}: x_{split} must have shape (N, 28, 28), got {x.shape}.")
        if y.shape != (x.shape[0],):
            raise CourseError(f"{origin}: y_{split} must have shape ({x.shape[0]},) to match x_{split}, got {y.shape}.")
        if len(y) and int(y.max()) > 9:
            raise CourseError(f"{origin}: y_{split} holds labels above 9; MNIST labels are 0-9.")


def read_mnist_file(path: Path) -> dict[str, np.ndarray]:
    """Read and validate one ``mnist.npz`` (no pickles); a broken file gives a :class:`CourseError`."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise CourseError(f"{path.name} in {path.parent.name}/ is not a readable .npz file ({type(err).__name__}). "
                          "Delete it and copy or fetch it again (python -m utils.data fetch).") from None
    validate_mnist(arrays, origin=f"{path.parent.name}/{path.name}")
    return arrays


def _download_mnist() -> dict[str, np.ndarray]:
    env.quiet_tensorflow()
    import keras

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def no_mnist_error(reason: str) -> CourseError:
    """The one error a learner sees when MNIST is nowhere to be had, with the three ways to fix it."""
    return CourseError(
        "MNIST could not be loaded: " + reason + "\nFix it in one of three ways:\n"
        "  1. set COURSE_DATA_DIR to a folder that holds mnist.npz (Keras' layout);\n"
        "  2. put mnist.npz in the course's data/ folder (on a machine with internet: python -m utils.data fetch);\n"
        "  3. connect to the internet, so keras.datasets.mnist.load_data() can download it."
    )


def load_mnist(fast: bool | None = None, verbose: bool = True, downloader=_download_mnist) -> MnistData:
    """MNIST as uint8 arrays in Keras' layout, from the first place that has it (see the module docs).

    ``fast`` (default: from ``COURSE_FAST``) keeps the first :data:`FAST_TRAIN` / :data:`FAST_TEST` images.
    Prints which source was used unless ``verbose`` is False.
    """
    fast = env.is_fast() if fast is None else fast
    arrays = source = None
    for description, folder in data_dirs():
        path = folder / MNIST_FILE
        if path.is_file():
            arrays, source = read_mnist_file(path), f"the offline copy in {description}"
            break
    if arrays is None:
        try:
            arrays = downloader()
        except Exception as err:  # no internet, a proxy, a half-written cache: all mean the same to a learner
            raise no_mnist_error(f"no offline copy was found and the download failed ({type(err).__name__}).") from None
        validate_mnist(arrays, origin="keras.datasets.mnist")
        source = "keras.datasets.mnist (downloaded once, then cached by Keras)"
    n_train = len(arrays["y_train"])
    data = MnistData(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], source)
    note = "" if n_train == FULL_MNIST_TRAIN else f" (the full set has {FULL_MNIST_TRAIN:,}; this copy leaves some out)"
    message = f"MNIST from {source}: {n_train:,} training and {len(data.y_test):,} test images{note}."
    if fast:
        data.x_train, data.y_train = data.x_train[:FAST_TRAIN], data.y_train[:FAST_TRAIN]
        data.x_test, data.y_test = data.x_test[:FAST_TEST], data.y_test[:FAST_TEST]
        message += f"\nFast mode: using the first {len(data.y_train):,} training and {len(data.y_test):,} test images."
    if verbose:
        print(message)
    return data


def fetch_mnist(folder: Path | None = None) -> Path:
    """Download MNIST with Keras and save it as ``mnist.npz`` in ``folder`` (default: the course's data/)."""
    folder = Path(folder) if folder else env.repo_root() / "data"
    arrays = _download_mnist()
    validate_mnist(arrays)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / MNIST_FILE
    np.savez_compressed(target, **arrays)
    return target


def photo_names() -> list[str]:
    """The names :func:`load_photo` accepts."""
    return list(PHOTOS)


def load_photo(name: str = "cat", gray: bool = False, size: int | None = None) -> np.ndarray:
    """A real photo that ships with scikit-image, as uint8 (H, W, 3), or (H, W) when ``gray``.

    ``size`` resizes so the longer side has that many pixels (aspect kept).
    """
    from skimage import color, data as skdata, transform

    if name not in PHOTOS:
        raise CourseError(f"There is no photo called {name!r}; choose one of {photo_names()}.")
    image = getattr(skdata, PHOTOS[name])()
    if image.ndim == 2 and not gray:
        image = np.stack([image] * 3, axis=-1)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if gray and image.ndim == 3:
        image = (color.rgb2gray(image) * 255).round().astype(np.uint8)
    if size is not None:
        scale = size / max(image.shape[:2])
        shape = (round(image.shape[0] * scale), round(image.shape[1] * scale)) + image.shape[2:]
        image = (transform.resize(image, shape, anti_aliasing=True, preserve_range=True)).round().astype(np.uint8)
    return image


def main(argv: list[str] | None = None) -> int:
    """``python -m utils.data fetch [FOLDER]``: pre-fill a data folder for offline use."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "fetch":
        print("usage: python -m utils.data fetch [FOLDER]")
        return 2
    target = fetch_mnist(Path(argv[1]) if len(argv) > 1 else None)
    print(f"saved {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
