"""Data for the course: MNIST and Fashion-MNIST (online or offline) and the sample photos that scikit-image ships.

MNIST (:func:`load_mnist`) and Fashion-MNIST (:func:`load_fashion_mnist`) are looked for in this order, and
the first place that has them wins:

1. ``$COURSE_DATA_DIR/mnist.npz`` / ``fashion_mnist.npz`` (CI and offline classrooms point this at a shared folder);
2. the same file in the course's ``data/`` folder (``python -m utils.data fetch`` puts both there);
3. ``keras.datasets.mnist.load_data()`` / ``keras.datasets.fashion_mnist.load_data()``, which download once
   (needs internet) and cache.

Every file must be in Keras' own layout: arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``, uint8,
images 28x28, labels 0-9. Fast mode (``COURSE_FAST=1``) keeps the first :data:`FAST_TRAIN` training and
the first :data:`FAST_TEST` test images, in their stored order.
"""

from __future__ import annotations

import os
import socket
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from utils import env
from utils.errors import CourseError

MNIST_FILE = "mnist.npz"
MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")
FAST_TRAIN = 6000
FAST_TEST = 2000
FULL_MNIST_TRAIN = 60000
FASHION_FILE = "fashion_mnist.npz"

#: Fashion-MNIST's class names, by label (as in Zalando's documentation).
FASHION_CLASSES: tuple[str, ...] = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

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


@dataclass(frozen=True)
class _Dataset:
    """What differs between the MNIST-layout data sets: names, file, Keras module, full training size."""

    title: str
    filename: str
    keras_name: str
    full_train: int


_MNIST = _Dataset("MNIST", MNIST_FILE, "mnist", FULL_MNIST_TRAIN)
_FASHION = _Dataset("Fashion-MNIST", FASHION_FILE, "fashion_mnist", 60000)


def _keras_download(keras_name: str) -> dict[str, np.ndarray]:
    env.quiet_tensorflow()
    import keras

    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, keras_name).load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _download_mnist() -> dict[str, np.ndarray]:
    return _keras_download("mnist")


def _download_fashion_mnist() -> dict[str, np.ndarray]:
    return _keras_download("fashion_mnist")


def _no_data_error(dataset: _Dataset, reason: str) -> CourseError:
    return CourseError(
        f"{dataset.title} could not be loaded: " + reason + "\nFix it in one of three ways:\n"
        f"  1. set COURSE_DATA_DIR to a folder that holds {dataset.filename} (Keras' layout);\n"
        f"  2. put {dataset.filename} in the course's data/ folder (on a machine with internet: "
        "python -m utils.data fetch);\n"
        f"  3. connect to the internet, so keras.datasets.{dataset.keras_name}.load_data() can download it."
    )


def no_mnist_error(reason: str) -> CourseError:
    """The one error a learner sees when MNIST is nowhere to be had, with the three ways to fix it."""
    return _no_data_error(_MNIST, reason)


def no_fashion_mnist_error(reason: str) -> CourseError:
    """The one error a learner sees when Fashion-MNIST is nowhere to be had, with the three ways to fix it."""
    return _no_data_error(_FASHION, reason)


def _load(dataset: _Dataset, fast: bool | None, verbose: bool,
          downloader: Callable[[], dict[str, np.ndarray]]) -> MnistData:
    """The search, checks, fast-mode subset and message that :func:`load_mnist` and friends share."""
    fast = env.is_fast() if fast is None else fast
    arrays = source = None
    for description, folder in data_dirs():
        path = folder / dataset.filename
        if path.is_file():
            arrays, source = read_mnist_file(path), f"the offline copy in {description}"
            break
    if arrays is None:
        try:
            arrays = downloader()
        except Exception as err:  # no internet, a proxy, a half-written cache: all mean the same to a learner
            raise _no_data_error(dataset, "no offline copy was found and the download failed "
                                          f"({type(err).__name__}).") from None
        validate_mnist(arrays, origin=f"keras.datasets.{dataset.keras_name}")
        source = f"keras.datasets.{dataset.keras_name} (downloaded once, then cached by Keras)"
    n_train = len(arrays["y_train"])
    data = MnistData(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], source)
    note = "" if n_train == dataset.full_train else (
        f" (the full set has {dataset.full_train:,}; this copy leaves some out)")
    message = f"{dataset.title} from {source}: {n_train:,} training and {len(data.y_test):,} test images{note}."
    if fast:
        data.x_train, data.y_train = data.x_train[:FAST_TRAIN], data.y_train[:FAST_TRAIN]
        data.x_test, data.y_test = data.x_test[:FAST_TEST], data.y_test[:FAST_TEST]
        message += f"\nFast mode: using the first {len(data.y_train):,} training and {len(data.y_test):,} test images."
    if verbose:
        print(message)
    return data


def load_mnist(fast: bool | None = None, verbose: bool = True, downloader=_download_mnist) -> MnistData:
    """MNIST as uint8 arrays in Keras' layout, from the first place that has it (see the module docs).

    ``fast`` (default: from ``COURSE_FAST``) keeps the first :data:`FAST_TRAIN` / :data:`FAST_TEST` images.
    Prints which source was used unless ``verbose`` is False.
    """
    return _load(_MNIST, fast, verbose, downloader)


def load_fashion_mnist(fast: bool | None = None, verbose: bool = True,
                       downloader=_download_fashion_mnist) -> MnistData:
    """Fashion-MNIST as uint8 arrays in Keras' layout, found exactly as :func:`load_mnist` finds MNIST.

    Labels 0-9 name :data:`FASHION_CLASSES`. ``fast`` keeps the first :data:`FAST_TRAIN` / :data:`FAST_TEST`
    images (the stored order is already shuffled, so every class is in them).
    """
    return _load(_FASHION, fast, verbose, downloader)


#: Where Keras downloads both data sets from; :func:`online` checks it before a download is tried.
DOWNLOAD_HOST = "storage.googleapis.com"


def online(host: str = DOWNLOAD_HOST, port: int = 443, timeout: float = 3.0) -> bool:
    """True when a TCP connection to ``host`` opens within ``timeout`` seconds (a quick check, never a hang)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _fetch(dataset: _Dataset, downloader: Callable[[], dict[str, np.ndarray]], folder: Path | None) -> Path:
    folder = Path(folder) if folder else env.repo_root() / "data"
    arrays = downloader()
    validate_mnist(arrays, origin=f"keras.datasets.{dataset.keras_name}")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / dataset.filename
    np.savez_compressed(target, **arrays)
    return target


def fetch_mnist(folder: Path | None = None) -> Path:
    """Download MNIST with Keras and save it as ``mnist.npz`` in ``folder`` (default: the course's data/)."""
    return _fetch(_MNIST, _download_mnist, folder)


def fetch_fashion_mnist(folder: Path | None = None) -> Path:
    """Download Fashion-MNIST with Keras and save it as ``fashion_mnist.npz`` in ``folder`` (default: data/)."""
    return _fetch(_FASHION, _download_fashion_mnist, folder)


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


def main(argv: list[str] | None = None, is_online: Callable[[], bool] = online) -> int:
    """``python -m utils.data fetch [FOLDER]``: pre-fill a data folder (MNIST and Fashion-MNIST) for offline use."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "fetch":
        print("usage: python -m utils.data fetch [FOLDER]")
        return 2
    folder = Path(argv[1]) if len(argv) > 1 else None
    if not is_online():
        print(f"fetch needs the internet: {DOWNLOAD_HOST} could not be reached. Run it on a machine with "
              "internet and copy the .npz files into the course's data/ folder (or point COURSE_DATA_DIR at them).")
        return 1
    for title, fetch in (("MNIST", fetch_mnist), ("Fashion-MNIST", fetch_fashion_mnist)):
        try:
            target = fetch(folder)
        except CourseError:
            raise
        except Exception as err:  # a download that fails midway: one line, not Keras' traceback
            print(f"fetch could not download {title} ({type(err).__name__}: {err}). Check the internet connection "
                  "and run it again.")
            return 1
        print(f"saved {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
