"""Neural style transfer (notebook 13): the Gram ("style") matrix, content and style losses, feature
extractors (a random-weight VGG-style network offline, VGG19 with ImageNet weights online), and the
pixel-by-pixel optimisation with ``tf.GradientTape``.

Gatys, Ecker and Bethge (2016), as the lecture notes give it:

- *content*: a middle layer's activations of the generated image should match those of the content photo;
- *style*: at several layers, the Gram matrix ``G[k, k'] = sum over positions of a[., ., k] * a[., ., k']``
  (how strongly channels k and k' fire together, wherever it happens) should match the style photo's;
- start from an image and change its *pixels* by gradient descent on ``content_weight * content loss +
  style_weight * style loss`` (the network's weights never change).

Both losses here are *relative* (the squared error divided by the target's squared size), so layers with large
activations do not drown the others and the weights mean the same thing for a random network and for VGG19.

The lesson code is written in notebook 13 and copied here by ``make export`` (the generated block at the end of
this file: edit the notebook, not the block): :func:`gram_matrix`, :func:`relative_error`, :func:`content_loss`,
:func:`style_loss`, :func:`total_variation` and :func:`style_step` (one Adam step on the pixels). Written by hand
around it: the networks, the feature extractor and :func:`synthesize`, the loop that calls ``style_step``.

Offline, :func:`random_vgg` (random weights) stands in for VGG19. Gatys, Ecker and Bethge (2015) reported that a
network with random weights failed to give good textures; Ustyuzhaninov et al. (2016) got good ones from a single
wide layer of random filters of several sizes, and He, Wang and Hopcroft (2016) from a random VGG only after
rescaling each layer's share of the loss. This deep random network is neither of those: notebook 13 measures what
it does.

Importing this module imports Keras.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np

from utils import env
from utils.errors import CourseError

env.quiet_tensorflow()
import keras  # noqa: E402  (after quiet_tensorflow: no start-up chatter)
import tensorflow as tf  # noqa: E402  (the generated style_step records its gradient with tf.GradientTape)
from keras import ops  # noqa: E402

#: The random network's blocks: (filters, convolutions) per block; layer names follow VGG19's.
RANDOM_BLOCKS: tuple[tuple[int, int], ...] = ((32, 2), (64, 2), (128, 2), (128, 1))
#: Style layers (VGG19's names; the random network has the same): the first convolution of each block.
STYLE_LAYERS: tuple[str, ...] = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
#: The content layer: one in the middle (Gatys et al. use block4_conv2 of VGG19).
CONTENT_LAYER = "block3_conv2"
#: VGG19's training photos were centred by these per-channel means (BGR order, 0-255 scale).
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


class _Preprocess:
    """Turns images in [0, 1] into what a network expects: centred for the random network, VGG's
    'caffe' convention (0-255, BGR, ImageNet means subtracted) for VGG19."""

    def __init__(self, mode: str):
        self.mode = mode

    def __call__(self, images):
        if self.mode == "centre":
            return images - 0.5
        bgr = keras.ops.flip(images * 255.0, axis=-1)
        return bgr - keras.ops.convert_to_tensor(np.array(IMAGENET_BGR_MEAN, np.float32))


def random_vgg(blocks: Sequence[tuple[int, int]] = RANDOM_BLOCKS, seed: int = 0,
               input_shape: tuple[int | None, int | None, int] = (None, None, 3),
               name: str = "random_vgg") -> "keras.Model":
    """A VGG-style network with random weights: per block, 3x3 convolutions (He-normal initialisation, ReLU)
    then 2x2 average pooling (Gatys et al. found average pooling gives smoother images than max pooling).
    Layers are named as in VGG19 (``block2_conv1``...). float32 whatever the global precision policy (built
    under a float32 policy). The same ``seed`` gives the same weights; any image size works unless
    ``input_shape`` fixes one."""
    env.quiet_tensorflow()
    with env.dtype_policy("float32"):
        return _random_vgg(blocks, seed, input_shape, name)


def _random_vgg(blocks, seed, input_shape, name):
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="image", dtype="float32")
    h = inputs
    for b, (filters, convs) in enumerate(blocks, 1):
        for c in range(1, convs + 1):
            init = keras.initializers.HeNormal(seed=seed * 1000 + b * 10 + c)
            h = layers.Conv2D(filters, 3, padding="same", activation="relu", kernel_initializer=init,
                              dtype="float32", name=f"block{b}_conv{c}")(h)
        if b < len(blocks):
            h = layers.AveragePooling2D(2, dtype="float32", name=f"block{b}_pool")(h)
    return keras.Model(inputs, h, name=name)


def imagenet_vgg19(timeout: float = 3.0, is_online: Callable[[], bool] | None = None) -> "keras.Model | None":
    """VGG19 (convolutional part) with ImageNet weights, or None after one printed line when they cannot be
    downloaded. Checks the host with a ``timeout``-second connection first (as :mod:`utils.transfer` does).
    Built under a float32 policy whatever the global one: in float16, most of its pixel gradients would be 0."""
    from utils import data
    from utils.transfer import WEIGHTS_HOST

    is_online = is_online or (lambda: data.online(WEIGHTS_HOST, timeout=timeout))
    if not is_online():
        print(f"Skipped: VGG19's ImageNet weights need the internet (Colab or a laptop online); {WEIGHTS_HOST} "
              "could not be reached. The random-weight network stands in.")
        return None
    try:
        with env.dtype_policy("float32"):
            return keras.applications.VGG19(include_top=False, weights="imagenet")
    except Exception as err:  # a download that breaks midway: one line, not a traceback
        print(f"Skipped: VGG19's ImageNet weights could not be downloaded ({type(err).__name__}).")
        return None


def feature_extractor(base: "keras.Model", layer_names: Sequence[str],
                      preprocess: str = "centre") -> Callable[[Any], list]:
    """A function from images (B, H, W, 3) in [0, 1] to the list of ``base``'s activations at ``layer_names``.
    ``preprocess``: ``"centre"`` (subtract 0.5, for :func:`random_vgg`) or ``"vgg"`` (for VGG19).
    A ``base`` computing in 16 bits is copied to float32 first (:func:`utils.models.as_float32`): the pixel
    gradients :func:`synthesize` follows would mostly underflow to 0 in float16."""
    from utils.models import as_float32

    if preprocess not in ("centre", "vgg"):
        raise CourseError(f"preprocess must be 'centre' or 'vgg', got {preprocess!r}.")
    missing = [n for n in layer_names if n not in [layer.name for layer in base.layers]]
    if missing:
        raise CourseError(f"{base.name} has no layer(s) {missing}.")
    base = as_float32(base)
    with env.dtype_policy("float32"):
        model = keras.Model(base.input, [base.get_layer(n).output for n in layer_names])
    model.trainable = False
    prepare = _Preprocess(preprocess)

    def extract(images):
        outputs = model(prepare(keras.ops.cast(images, "float32")), training=False)
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    extract.layer_names = tuple(layer_names)
    return extract


def to_unit(image: np.ndarray, size: int | None = None) -> np.ndarray:
    """A photo as float32 (H, W, 3) in [0, 1]; gray photos get three equal channels; ``size`` resizes to
    ``size`` x ``size`` (centre crop to a square first)."""
    from skimage import transform

    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[..., :3].astype(np.float32) / (255.0 if image.dtype == np.uint8 else 1.0)
    if size is not None:
        h, w = image.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        image = transform.resize(image[top:top + side, left:left + side], (size, size), anti_aliasing=True)
    return np.clip(image, 0, 1).astype(np.float32)


def synthesize(extract: Callable[[Any], list], style: np.ndarray, content: np.ndarray | None = None,
               init: np.ndarray | None = None, steps: int = 200, style_weights: Sequence[float] | None = None,
               content_weight: float = 0.0, learning_rate: float = 0.02, tv_weight: float = 0.0,
               seed: int = 0) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Optimise an image's pixels so its Gram matrices match ``style``'s (and, with ``content_weight`` > 0, its
    activations at the *last* layer of ``extract`` match ``content``'s).

    ``extract``: from :func:`feature_extractor`, with the style layers first and the content layer last when
    there is content. ``init``: the starting image (default: ``content``, or noise when there is none).
    ``style_weights``: one per style layer (default: equal). ``tv_weight`` adds a total-variation penalty
    (:func:`total_variation`: neighbouring pixels alike). Each step is :func:`style_step` (Adam on the pixels,
    clipped to [0, 1]). Returns the image and the costs before each step (``style``, ``content``, ``tv``) with
    the seconds elapsed after it.
    """
    n_style = len(extract.layer_names) - (1 if content is not None else 0)
    if content is not None and content_weight <= 0:
        raise CourseError("with a content photo, give content_weight > 0.")
    style_weights = [1.0 / n_style] * n_style if style_weights is None else list(style_weights)
    if len(style_weights) != n_style:
        raise CourseError(f"{n_style} style layers but {len(style_weights)} style weights.")
    style_grams = [gram_matrix(f) for f in extract(style[None])[:n_style]]
    content_target = extract(content[None])[-1] if content is not None else None
    if init is None:
        rng = np.random.default_rng(seed)
        init = content if content is not None else rng.uniform(0.4, 0.6, style.shape).astype(np.float32)
    image = tf.Variable(np.asarray(init, np.float32)[None])
    optimizer = keras.optimizers.Adam(learning_rate)
    step = tf.function(lambda: style_step(image, extract, optimizer, style_grams, style_weights, content_target,
                                          content_weight, tv_weight))

    history: dict[str, list[float]] = {"style": [], "content": [], "tv": [], "seconds": []}
    start = time.perf_counter()
    for _ in range(steps):
        s, c, tv = step()
        history["style"].append(float(s))
        history["content"].append(float(c))
        history["tv"].append(float(tv))
        history["seconds"].append(time.perf_counter() - start)
    return image.numpy()[0], history


# >>> generated from notebooks/13_cnns_at_work.ipynb by `make export`: edit the notebook, not this block
def gram_matrix(features):
    """(..., H, W, C) -> (..., C, C): G[k, k'] = sum over positions of F[i, j, k] * F[i, j, k'], divided by H * W."""
    f = ops.cast(features, "float32")
    h, w = ops.shape(f)[-3], ops.shape(f)[-2]
    return ops.einsum("...ijk,...ijl->...kl", f, f) / ops.cast(h * w, "float32")


def relative_error(got, target):
    """sum((got - target)**2) / sum(target**2): 0 when they are equal, 1 when got is all zeros."""
    got, target = ops.cast(got, "float32"), ops.cast(target, "float32")
    return ops.sum((got - target) ** 2) / (ops.sum(target ** 2) + 1e-12)


def content_loss(features, content_features):
    """How far the generated image's activations at the content layer are from the content photo's."""
    return relative_error(features, content_features)


def style_loss(feature_maps, style_grams, weights):
    """Weighted sum over the style layers of how far each layer's Gram matrix is from the style image's."""
    return sum(w * relative_error(gram_matrix(f), g) for f, g, w in zip(feature_maps, style_grams, weights) if w)


def total_variation(images):
    """How much neighbouring pixels differ: the mean absolute difference across plus down (0 for a flat image)."""
    across = ops.abs(images[:, :, 1:, :] - images[:, :, :-1, :])
    down = ops.abs(images[:, 1:, :, :] - images[:, :-1, :, :])
    return ops.mean(across) + ops.mean(down)


def style_step(image, extract, optimizer, style_grams, style_weights, content_target=None, content_weight=0.0,
               tv_weight=0.0):
    """One Adam step on the pixels of image, a tf.Variable (1, H, W, 3) in [0, 1]; returns the three costs."""
    with tf.GradientTape() as tape:
        features = extract(image)                         # the style layers first, the content layer last
        style_cost = style_loss(features[:len(style_grams)], style_grams, style_weights)
        content_cost = content_loss(features[-1], content_target) if content_target is not None else ops.zeros(())
        tv_cost = total_variation(image)
        cost = style_cost + content_weight * content_cost + tv_weight * tv_cost
    gradient = tape.gradient(cost, image)                 # d cost / d pixel: the network's weights never change
    optimizer.apply_gradients([(gradient, image)])
    image.assign(ops.clip(image, 0.0, 1.0))               # stay a valid image
    return style_cost, content_cost, tv_cost
# <<< generated from notebooks/13_cnns_at_work.ipynb
