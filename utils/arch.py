"""The classic CNN architectures in Keras, and a counter of their parameters, multiply-adds and activations.

Notebook 06 builds each network with these functions and prints their source, and ``tests/test_arch.py``
asserts the numbers the same code produces, so the figures a learner reads are the tested ones. Nothing is
downloaded: every model is built with random weights (``weights=None`` in ``keras.applications`` terms).

Builders (all return an uncompiled ``keras.Model``):

- :func:`lenet5` (LeCun et al. 1998, 32x32x1, tanh, average pooling, full C3 connectivity);
- :func:`alexnet` (Krizhevsky et al. 2012, 227x227x3, single tower; ``groups=2`` reproduces the two-GPU
  split of conv2, conv4 and conv5);
- :func:`vgg16` (Simonyan and Zisserman 2014, 224x224x3);
- :func:`inception_module` and :func:`googlenet` (Szegedy et al. 2014, without the auxiliary classifiers);
- :func:`basic_block`, :func:`bottleneck_block` and :func:`resnet` (He et al. 2015; depths 18, 34, 50, 101,
  152; convolutions without bias, each followed by batch normalisation, projection shortcuts when the shape
  changes).

Counter: :func:`count_layers` gives one :class:`LayerCount` per layer, :func:`count_model` the totals
(:class:`ModelCount`), :func:`format_table` a plain-text table. Conventions, stated once:

- *parameters*: trainable weights and biases (what papers and torchvision count); batch normalisation's
  moving mean and variance are not learned and are reported apart as ``buffers``;
- *multiply-adds* (MACs): one multiplication plus one addition of a convolution or dense layer per image;
  pooling, activations, batch normalisation and the residual additions are not counted (they are a few
  percent at most);
- *activations*: the numbers each layer writes to memory for one image: the input and the outputs of
  convolution, dense and pooling layers. ReLU, batch normalisation (at inference), dropout and flatten work
  in place or are views, and a concatenation can be written straight into its branches' outputs, so they
  are not counted again. Memory assumes float32 (4 bytes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import keras
from keras import layers

# ----------------------------------------------------------------------------------------------
# Counting


@dataclass(frozen=True)
class LayerCount:
    """What one layer costs for one image."""

    name: str
    kind: str                 # the Keras class name, e.g. "Conv2D"
    output_shape: tuple       # without the batch dimension
    params: int               # trainable (weights and biases)
    biases: int               # how many of those are biases
    buffers: int              # non-trainable (batch-norm statistics)
    macs: int                 # multiply-adds per image
    activations: int          # numbers written per image (0 for in-place layers)


@dataclass(frozen=True)
class ModelCount:
    """Totals over a model."""

    name: str
    params: int
    buffers: int
    macs: int
    activations: int
    biases: int = 0

    @property
    def weights(self) -> int:
        """Parameters without the biases (what some published tables count)."""
        return self.params - self.biases

    @property
    def memory_bytes(self) -> int:
        """Activation memory per image in float32."""
        return 4 * self.activations


#: Layers whose outputs are counted as activations (plus the input).
COUNTED_KINDS = ("Conv", "Dense", "Pooling")


def _shape(tensor) -> tuple:
    return tuple(int(d) for d in tensor.shape[1:])


_CONVOLUTIONS = (layers.Conv1D, layers.Conv2D, layers.Conv3D)
_TRANSPOSED = (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)
_DEPTHWISE = (layers.DepthwiseConv1D, layers.DepthwiseConv2D)


def layer_macs(layer, in_shape: tuple, out_shape: tuple) -> int:
    """Multiply-adds per example of one layer, given its input and output shapes without the batch axis.

    Convolutions: output values x kernel size x input channels per group; depthwise ones: output values x kernel
    size; transposed ones: each *input* position spreads a kernel over every output channel (input positions x
    kernel size x input channels x filters); dense layers: output values x inputs. Any other layer: 0. The one
    place the course counts multiply-adds (notebook 06's tables, notebook 13's costs, the benchmark's FLOPs).
    """
    kernel = math.prod(getattr(layer, "kernel_size", ()) or (1,))
    if isinstance(layer, _DEPTHWISE):
        return math.prod(out_shape) * kernel
    if isinstance(layer, _TRANSPOSED):
        return math.prod(in_shape[:-1]) * kernel * in_shape[-1] * layer.filters
    if isinstance(layer, _CONVOLUTIONS):
        groups = getattr(layer, "groups", 1) or 1
        return math.prod(out_shape) * kernel * in_shape[-1] // groups
    if isinstance(layer, layers.Dense):
        return math.prod(out_shape) * in_shape[-1]
    return 0


def _counted(layer) -> bool:
    kind = type(layer).__name__
    return any(word in kind for word in COUNTED_KINDS)


def count_layers(model: keras.Model) -> list[LayerCount]:
    """One :class:`LayerCount` per layer of ``model``, the input first (a built, single-input model)."""
    rows = []
    for tensor in model.inputs:
        shape = _shape(tensor)
        rows.append(LayerCount("input", "Input", shape, 0, 0, 0, 0, math.prod(shape)))
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        out_shape = _shape(layer.output)
        in_shape = _shape(layer.input) if not isinstance(layer.input, (list, tuple)) else ()
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
        frozen = sum(math.prod(w.shape) for w in layer.non_trainable_weights)
        biases = sum(math.prod(w.shape) for w in layer.trainable_weights if w.name == "bias")
        rows.append(LayerCount(
            name=layer.name, kind=type(layer).__name__, output_shape=out_shape, params=int(trainable),
            biases=int(biases),
            buffers=int(frozen), macs=int(layer_macs(layer, in_shape, out_shape)),
            activations=int(math.prod(out_shape)) if _counted(layer) else 0))
    return rows


def total(rows: Sequence[LayerCount], name: str = "total", prefix: str | None = None) -> ModelCount:
    """Sum of ``rows`` (only the layers whose name starts with ``prefix``, if given)."""
    rows = [r for r in rows if prefix is None or r.name.startswith(prefix)]
    return ModelCount(name, sum(r.params for r in rows), sum(r.buffers for r in rows),
                      sum(r.macs for r in rows), sum(r.activations for r in rows),
                      sum(r.biases for r in rows))


def count_model(model: keras.Model) -> ModelCount:
    """Totals of :func:`count_layers` over the whole model."""
    return total(count_layers(model), model.name)


def human(n: float, unit: str = "") -> str:
    """A number the way the lecture notes write it: 61.7K, 138.4M, 15.5G."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= size:
            return f"{n / size:.1f}{suffix}{unit}"
    return f"{n:.0f}{unit}"


def format_table(rows: Sequence[LayerCount], skip_empty: bool = True) -> str:
    """Plain-text per-layer table: output shape, parameters, multiply-adds, activations.

    ``skip_empty`` leaves out layers that add nothing to any column (ReLU, dropout, flatten...).
    """
    head = f"{'layer':<22}{'output':>16}{'params':>14}{'MACs':>16}{'activations':>13}"
    lines = [head, "-" * len(head)]
    for r in rows:
        if skip_empty and r.params == 0 and r.macs == 0 and r.activations == 0:
            continue
        shape = "x".join(str(d) for d in r.output_shape)
        lines.append(f"{r.name:<22}{shape:>16}{r.params:>14,}{r.macs:>16,}{r.activations:>13,}")
    lines.append("-" * len(head))
    lines.append(f"{'total':<22}{'':>16}{sum(r.params for r in rows):>14,}{sum(r.macs for r in rows):>16,}"
                 f"{sum(r.activations for r in rows):>13,}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# LeNet-5, AlexNet, VGG16


def lenet5(num_classes: int = 10) -> keras.Model:
    """LeNet-5 on 32x32 grey digits: conv 6@5x5, pool, conv 16@5x5, pool, conv 120@5x5, dense 84, output."""
    return keras.Sequential([
        keras.Input((32, 32, 1)),
        layers.Conv2D(6, 5, activation="tanh", name="C1"),        # 28x28x6
        layers.AveragePooling2D(2, name="S2"),                     # 14x14x6
        layers.Conv2D(16, 5, activation="tanh", name="C3"),       # 10x10x16
        layers.AveragePooling2D(2, name="S4"),                     # 5x5x16
        layers.Conv2D(120, 5, activation="tanh", name="C5"),      # 1x1x120
        layers.Flatten(name="flatten"),
        layers.Dense(84, activation="tanh", name="F6"),
        layers.Dense(num_classes, activation="softmax", name="output"),
    ], name="LeNet-5")


def alexnet(num_classes: int = 1000, groups: int = 1) -> keras.Model:
    """AlexNet on 227x227x3. ``groups=2`` splits conv2, conv4 and conv5 in two halves, as on the two GPUs.

    The local response normalisation layers are left out: they have no parameters and are no longer used.
    """
    return keras.Sequential([
        keras.Input((227, 227, 3)),
        layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1"),                       # 55x55x96
        layers.MaxPooling2D(3, strides=2, name="pool1"),                                         # 27x27x96
        layers.Conv2D(256, 5, padding="same", groups=groups, activation="relu", name="conv2"),   # 27x27x256
        layers.MaxPooling2D(3, strides=2, name="pool2"),                                         # 13x13x256
        layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3"),                  # 13x13x384
        layers.Conv2D(384, 3, padding="same", groups=groups, activation="relu", name="conv4"),   # 13x13x384
        layers.Conv2D(256, 3, padding="same", groups=groups, activation="relu", name="conv5"),   # 13x13x256
        layers.MaxPooling2D(3, strides=2, name="pool3"),                                         # 6x6x256
        layers.Flatten(name="flatten"),
        layers.Dropout(0.5),
        layers.Dense(4096, activation="relu", name="fc6"),
        layers.Dropout(0.5),
        layers.Dense(4096, activation="relu", name="fc7"),
        layers.Dense(num_classes, activation="softmax", name="fc8"),
    ], name="AlexNet" if groups == 1 else "AlexNet-2GPU")


def vgg16(num_classes: int = 1000) -> keras.Model:
    """VGG16 on 224x224x3: five blocks of 3x3 convolutions (64, 128, 256, 512, 512 filters), each closed by
    2x2 max pooling, then dense 4096, 4096 and the classes."""
    model = keras.Sequential([keras.Input((224, 224, 3))], name="VGG16")
    for block, (filters, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for k in range(1, convs + 1):
            model.add(layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block}_{k}"))
        model.add(layers.MaxPooling2D(2, name=f"pool{block}"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dense(4096, activation="relu", name="fc6"))
    model.add(layers.Dense(4096, activation="relu", name="fc7"))
    model.add(layers.Dense(num_classes, activation="softmax", name="fc8"))
    return model


# ----------------------------------------------------------------------------------------------
# GoogLeNet

#: The GoogLeNet table (Szegedy et al. 2014, table 1): module -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce,
#: #5x5, pool proj).
INCEPTION_TABLE: dict[str, tuple[int, int, int, int, int, int]] = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def inception_module(x, n1x1: int, n3x3red: int, n3x3: int, n5x5red: int, n5x5: int, pool_proj: int,
                     name: str = "inception", reduce: bool = True):
    """Four branches side by side, concatenated along the channels.

    With ``reduce=True`` (the real module) 1x1 convolutions shrink the channels before the 3x3 and 5x5
    convolutions and after the pooling; with ``reduce=False`` (the naive module) they do not.
    """
    def conv(t, filters, size, label):
        return layers.Conv2D(filters, size, padding="same", activation="relu", name=f"{name}_{label}")(t)

    branch1 = conv(x, n1x1, 1, "1x1")
    branch3 = conv(conv(x, n3x3red, 1, "3x3_reduce"), n3x3, 3, "3x3") if reduce else conv(x, n3x3, 3, "3x3")
    branch5 = conv(conv(x, n5x5red, 1, "5x5_reduce"), n5x5, 5, "5x5") if reduce else conv(x, n5x5, 5, "5x5")
    pooled = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch_pool = conv(pooled, pool_proj, 1, "pool_proj") if reduce else pooled
    return layers.Concatenate(name=f"{name}_concat")([branch1, branch3, branch5, branch_pool])


def googlenet(num_classes: int = 1000) -> keras.Model:
    """GoogLeNet on 224x224x3, as in the paper's table (without the two auxiliary classifiers)."""
    inputs = keras.Input((224, 224, 3))
    x = layers.Conv2D(64, 7, strides=2, padding="same", activation="relu", name="conv1_7x7")(inputs)   # 112
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)                           # 56
    x = layers.Conv2D(64, 1, activation="relu", name="conv2_3x3_reduce")(x)
    x = layers.Conv2D(192, 3, padding="same", activation="relu", name="conv2_3x3")(x)                # 56
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)                           # 28
    for module in ["3a", "3b", "pool3", "4a", "4b", "4c", "4d", "4e", "pool4", "5a", "5b"]:
        if module.startswith("pool"):
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=module)(x)                    # 14, 7
        else:
            x = inception_module(x, *INCEPTION_TABLE[module], name=f"inception_{module}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)                                            # 1x1x1024
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="linear")(x)
    return keras.Model(inputs, outputs, name="GoogLeNet")


# ----------------------------------------------------------------------------------------------
# ResNet

RESNET_STAGES: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}


def _conv_bn(x, filters: int, size: int, strides: int, name: str, relu: bool = True):
    x = layers.Conv2D(filters, size, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _shortcut(x, filters: int, strides: int, name: str):
    """Identity when the shape is kept; otherwise a 1x1 projection (with stride) and batch norm."""
    if strides == 1 and x.shape[-1] == filters:
        return x
    return _conv_bn(x, filters, 1, strides, f"{name}_proj", relu=False)


def basic_block(x, filters: int, strides: int = 1, name: str = "block"):
    """Two 3x3 convolutions; the input is added back before the last ReLU: H(x) = F(x) + x."""
    shortcut = _shortcut(x, filters, strides, name)
    y = _conv_bn(x, filters, 3, strides, f"{name}_1")
    y = _conv_bn(y, filters, 3, 1, f"{name}_2", relu=False)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def bottleneck_block(x, filters: int, strides: int = 1, name: str = "block"):
    """1x1 (shrink to ``filters``), 3x3, 1x1 (expand to 4 x ``filters``), plus the shortcut."""
    shortcut = _shortcut(x, 4 * filters, strides, name)
    y = _conv_bn(x, filters, 1, 1, f"{name}_1")
    y = _conv_bn(y, filters, 3, strides, f"{name}_2")
    y = _conv_bn(y, 4 * filters, 1, 1, f"{name}_3", relu=False)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def resnet(depth: int = 50, num_classes: int = 1000, input_shape: tuple = (224, 224, 3)) -> keras.Model:
    """ResNet-18/34 (basic blocks) or ResNet-50/101/152 (bottleneck blocks) on 224x224x3."""
    if depth not in RESNET_STAGES:
        raise ValueError(f"ResNet depth must be one of {sorted(RESNET_STAGES)}, got {depth}.")
    kind, blocks = RESNET_STAGES[depth]
    block = basic_block if kind == "basic" else bottleneck_block
    inputs = keras.Input(input_shape)
    x = _conv_bn(inputs, 64, 7, 2, "stem")                                       # 112x112x64
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)    # 56x56x64
    for stage, (n_blocks, filters) in enumerate(zip(blocks, (64, 128, 256, 512)), start=2):
        for b in range(n_blocks):
            strides = 2 if (b == 0 and stage > 2) else 1                          # halve the size per stage
            x = block(x, filters, strides, name=f"stage{stage}_block{b + 1}")
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="fc")(x)
    return keras.Model(inputs, outputs, name=f"ResNet-{depth}")
