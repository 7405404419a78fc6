"""utils.arch: the counter on hand-checkable layers, and the classic architectures' numbers.

The expected totals are independent of this code: the lecture notes' per-layer formulas (VGG16, AlexNet
conv1, GoogLeNet's table) and the parameter counts torchvision publishes for the same architectures
(ResNet-18 11,689,512; ResNet-34 21,797,672; ResNet-50 25,557,032; ResNet-152 60,192,808; VGG16 138,357,544).
"""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from utils import arch  # noqa: E402


def rows_by_name(model):
    return {r.name: r for r in arch.count_layers(model)}


# ---------------------------------------------------------------------------------------------- the counter


def test_counter_on_a_small_hand_checked_model():
    model = keras.Sequential([keras.Input((10, 10, 3)), layers.Conv2D(4, 3, name="c"), layers.MaxPooling2D(2, name="p"),
                              layers.Flatten(name="f"), layers.Dense(5, name="d")])
    r = rows_by_name(model)
    assert (r["c"].params, r["c"].biases, r["c"].macs, r["c"].activations) == (3 * 3 * 3 * 4 + 4, 4, 8 * 8 * 4 * 27,
                                                                                 256)
    assert (r["p"].params, r["p"].macs, r["p"].activations, r["p"].output_shape) == (0, 0, 64, (4, 4, 4))
    assert (r["f"].activations, r["d"].params, r["d"].macs) == (0, 64 * 5 + 5, 64 * 5)
    assert r["input"].activations == 300
    total = arch.count_model(model)
    assert total.params == model.count_params() == 112 + 325
    assert total.memory_bytes == 4 * (300 + 256 + 64 + 5)
    assert total.weights == 112 + 325 - 9


def test_batch_norm_statistics_are_buffers_not_parameters():
    model = keras.Sequential([keras.Input((4, 4, 2)), layers.Conv2D(3, 1, use_bias=False), layers.BatchNormalization()])
    count = arch.count_model(model)
    assert (count.params, count.buffers) == (6 + 6, 6)


def test_grouped_convolution_halves_weights_and_macs():
    one = arch.count_model(keras.Sequential([keras.Input((5, 5, 8)), layers.Conv2D(8, 3, use_bias=False)]))
    two = arch.count_model(keras.Sequential([keras.Input((5, 5, 8)), layers.Conv2D(8, 3, groups=2, use_bias=False)]))
    assert (two.params * 2, two.macs * 2) == (one.params, one.macs)


def test_human_and_table():
    assert [arch.human(n) for n in (950, 61_706, 138_357_544, 15.47e9)] == ["950", "61.7K", "138.4M", "15.5G"]
    text = arch.format_table(arch.count_layers(arch.lenet5()))
    assert "C1" in text and "61,706" in text and "flatten" not in text


# ---------------------------------------------------------------------------------------------- the classics


def test_lenet5_about_60k():
    model = arch.lenet5()
    r = rows_by_name(model)
    assert [r[n].params for n in ("C1", "C3", "C5", "F6", "output")] == [156, 2_416, 48_120, 10_164, 850]
    assert arch.count_model(model).params == 61_706
    assert r["C5"].output_shape == (1, 1, 120)


@pytest.fixture(scope="module")
def alexnet_rows():
    return rows_by_name(arch.alexnet())


def test_alexnet_conv1_and_pool1(alexnet_rows):
    conv1, pool1 = alexnet_rows["conv1"], alexnet_rows["pool1"]
    assert conv1.output_shape == (55, 55, 96) and conv1.params == (11 * 11 * 3 + 1) * 96 == 34_944
    assert conv1.params - conv1.biases == 11 * 11 * 3 * 96 == 34_848     # the notes' "35K"
    assert pool1.output_shape == (27, 27, 96) and pool1.params == 0


def test_alexnet_totals(alexnet_rows):
    assert sum(r.params for r in alexnet_rows.values()) == 62_378_344
    assert sum(r.macs for r in alexnet_rows.values()) == 1_135_256_096
    neurons = sum(r.activations for r in alexnet_rows.values() if r.kind in ("Conv2D", "Dense"))
    assert neurons == 659_272   # the notes' "650,000 neurons"
    assert [alexnet_rows[n].activations for n in ("conv2", "conv3", "conv5")] == [186_624, 64_896, 43_264]


def test_alexnet_two_gpu_split():
    count = arch.count_model(arch.alexnet(groups=2))
    assert (count.params, count.macs) == (60_965_224, 724_406_816)


def test_vgg16_matches_the_notes_table():
    model = arch.vgg16()
    r = rows_by_name(model)
    expected_weights = {"conv1_1": 1_728, "conv1_2": 36_864, "conv2_1": 73_728, "conv2_2": 147_456,
                        "conv3_1": 294_912, "conv3_3": 589_824, "conv4_1": 1_179_648, "conv4_2": 2_359_296,
                        "conv5_3": 2_359_296, "fc6": 102_760_448, "fc7": 16_777_216, "fc8": 4_096_000}
    assert {n: r[n].params - r[n].biases for n in expected_weights} == expected_weights
    assert r["conv1_1"].activations == 224 * 224 * 64 and r["pool5"].activations == 7 * 7 * 512
    count = arch.count_model(model)
    assert count.params == model.count_params() == 138_357_544
    assert count.activations == 15_237_608            # the rows of the notes' table add up to this, not 24M
    assert count.memory_bytes == 60_950_432
    assert count.macs == 15_470_264_320


@pytest.fixture(scope="module")
def googlenet_rows():
    return arch.count_layers(arch.googlenet())


@pytest.mark.parametrize("prefix, weights, macs", [
    ("conv1", 9_408, 118_013_952),
    ("conv2", 114_688, 359_661_568),          # published 112K / 360M (K = 1,024)
    ("inception_3a", 163_328, 128_049_152),   # published 159K / 128M
    ("inception_3b", 388_096, 304_267_264),   # published 380K / 304M
    ("inception_4a", 375_552, 73_608_192),    # published 364K / 73M
    ("inception_4e", 867_328, 169_996_288),   # published 840K / 170M
    ("inception_5a", 1_042_432, 51_079_168),  # published 1072K / 54M
    ("inception_5b", 1_442_816, 70_697_984),  # published 1388K / 71M
    ("linear", 1_024_000, 1_024_000),         # published 1000K / 1M
])
def test_googlenet_rows(googlenet_rows, prefix, weights, macs):
    group = arch.total(googlenet_rows, prefix=prefix)
    assert (group.weights, group.macs) == (weights, macs)


def test_googlenet_totals(googlenet_rows):
    count = arch.total(googlenet_rows)
    assert (count.params, count.macs) == (6_998_552, 1_582_671_872)
    shapes = {r.name: r.output_shape for r in googlenet_rows}
    assert shapes["inception_3a_concat"] == (28, 28, 256) and shapes["inception_5b_concat"] == (7, 7, 1024)
    assert shapes["pool4"] == (7, 7, 832)


def test_inception_reductions_save_parameters_and_operations():
    def module(reduce):
        inputs = keras.Input((28, 28, 192))
        return arch.count_model(keras.Model(inputs, arch.inception_module(inputs, *arch.INCEPTION_TABLE["3a"],
                                                                          reduce=reduce)))
    naive, reduced = module(False), module(True)
    assert (naive.weights, naive.macs) == (192 * (64 + 9 * 128 + 25 * 32), 784 * 192 * (64 + 9 * 128 + 25 * 32))
    assert naive.weights == 387_072 and reduced.weights == 163_328


@pytest.mark.parametrize("depth, params, macs", [
    (18, 11_689_512, 1_814_073_344),
    (34, 21_797_672, 3_663_761_408),
    (50, 25_557_032, 4_089_184_256),
    (152, 60_192_808, 11_513_626_624),
])
def test_resnets_match_torchvision_counts(depth, params, macs):
    count = arch.count_model(arch.resnet(depth))
    assert (count.params, count.macs) == (params, macs)


def test_resnet_rejects_unknown_depth():
    with pytest.raises(ValueError, match="18"):
        arch.resnet(20)


@pytest.mark.parametrize("block, filters, strides, out", [
    (arch.basic_block, 64, 1, (56, 56, 64)),
    (arch.basic_block, 128, 2, (28, 28, 128)),
    (arch.bottleneck_block, 64, 1, (56, 56, 256)),
    (arch.bottleneck_block, 128, 2, (28, 28, 512)),
])
def test_residual_block_shapes(block, filters, strides, out):
    inputs = keras.Input((56, 56, 64))
    assert tuple(block(inputs, filters, strides).shape[1:]) == out


def test_identity_shortcut_adds_no_parameters():
    inputs = keras.Input((8, 8, 16))
    count = arch.count_model(keras.Model(inputs, arch.basic_block(inputs, 16)))
    assert count.params == 2 * (9 * 16 * 16) + 2 * 2 * 16   # two convs (no bias) and two batch norms (gamma, beta)


@pytest.mark.parametrize("layer, in_shape, out_shape, expected", [
    (layers.Conv1D(8, 5), (50, 4), (46, 8), 46 * 8 * 5 * 4),                  # outputs x kernel x in channels
    (layers.Conv2D(6, 3, groups=2), (10, 10, 4), (8, 8, 6), 8 * 8 * 6 * 9 * 2),  # in channels per group
    (layers.DepthwiseConv2D(3), (10, 10, 4), (8, 8, 4), 8 * 8 * 4 * 9),        # one filter per channel
    (layers.Conv2DTranspose(3, 2, strides=2), (8, 8, 4), (16, 16, 3), 8 * 8 * 4 * 4 * 3),  # per INPUT position
    (layers.Dense(10), (128,), (10,), 1280),
    (layers.MaxPooling2D(), (8, 8, 4), (4, 4, 4), 0),
])
def test_layer_macs_by_hand(layer, in_shape, out_shape, expected):
    assert arch.layer_macs(layer, in_shape, out_shape) == expected
