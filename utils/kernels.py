"""Hand-made kernels, 2-D convolution in NumPy (a readable loop and a fast vectorised version), and pooling.

Notebooks 02 and 03 (and the kernel editor / pooling explorer in :mod:`utils.widgets`) share these.
Like every deep-learning library, "convolution" here means **cross-correlation**: the kernel is slid over
the image as it is, not flipped (``scipy.signal.correlate2d``, ``tf.nn.conv2d`` and Keras ``Conv2D`` agree).

- :data:`KERNELS`: the kernel gallery (lecture table plus Sobel), :func:`get_kernel`, :func:`kernel_names`.
  The lecture's "diagonal edge" kernel is listed as ``"corner (saddle)"``: it is the mixed second derivative
  d2/dx dy, which gives 0 on straight horizontal and vertical edges and answers at corners and saddle
  (checkerboard) points. The old name still works in :func:`get_kernel`.
- :func:`output_size`: ``floor((N - D*(F-1) - 1 + 2P) / S) + 1``, i.e. ``(N - F + 2P)/S + 1`` for dilation 1.
- :func:`resolve_padding`: ``"valid"`` / ``"same"`` (TensorFlow's rule, also for stride > 1) / ``"full"`` / a number.
- :func:`conv2d_loop` (plain Python loops, for reading) and :func:`conv2d` (vectorised, for using); both take
  ``padding``, ``stride`` and ``dilation``, a 2-D image or an (H, W, C) one, and one kernel (kh, kw[, C]).
  :func:`conv2d` also takes a bank of filters (kh, kw, C, K) and returns K maps.
- :func:`pool2d` (max or average, any size and stride), :func:`pool2d_loop`, :func:`global_average_pool`.
- :func:`oriented_edge_kernel`: an edge detector turned to any angle (for the Hubel and Wiesel demo).
- :func:`gaussian_kernel` and :func:`difference_of_gaussians`: a retinal centre-surround receptive field
  (an "on-centre" cell: narrow positive Gaussian minus a wide one).

Bad arguments (wrong shapes, a kernel bigger than the padded image, stride 0) raise
:class:`utils.errors.CourseError` with one sentence saying what to change.
"""

from __future__ import annotations

import math
from typing import Union

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from utils.errors import CourseError

Padding = Union[str, int, tuple]

#: The kernel gallery: the lecture's table (identity, a corner detector, two Laplacian edge detectors, sharpen,
#: two blurs) plus Sobel. All are 3x3 (the kernel editor's grid).
KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    # outer([1, 0, -1], [1, 0, -1]): d/dy times d/dx, i.e. the mixed derivative d2/dxdy (the lecture's "diagonal edge")
    "corner (saddle)": np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], dtype=float),
    "edge (4-neighbour)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "edge (8-neighbour)": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "box blur": np.ones((3, 3)) / 9,
    "gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "sobel x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "sobel y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
}

#: Older names that :func:`get_kernel` still accepts (not listed by :func:`kernel_names`).
ALIASES: dict[str, str] = {"edge (diagonal)": "corner (saddle)"}

PADDING_MODES = ("valid", "same", "full")
POOL_MODES = ("max", "avg")


def kernel_names() -> list[str]:
    """The names :func:`get_kernel` accepts, in gallery order."""
    return list(KERNELS)


def get_kernel(name: str) -> np.ndarray:
    """A copy of the gallery kernel called ``name`` (float, 3x3)."""
    name = ALIASES.get(name, name)
    if name not in KERNELS:
        raise CourseError(f"There is no kernel called {name!r}; choose one of {kernel_names()}.")
    return KERNELS[name].copy()


def oriented_edge_kernel(angle_deg: float, size: int = 7, sigma: float | None = None) -> np.ndarray:
    """An edge detector tuned to ``angle_deg`` (0 = responds to vertical edges, dark left / bright right).

    It is the derivative of a Gaussian along the direction ``angle_deg``: positive on one side, negative on
    the other, summing to zero, like the oriented simple cells Hubel and Wiesel found.
    """
    if size < 3 or size % 2 == 0:
        raise CourseError(f"size must be an odd number of at least 3, got {size}.")
    sigma = sigma or size / 4
    r = np.arange(size) - size // 2
    yy, xx = np.meshgrid(r, r, indexing="ij")
    theta = math.radians(angle_deg)
    along = xx * math.cos(theta) - yy * math.sin(theta)  # image rows grow downwards, so angles turn anticlockwise
    kernel = along * np.exp(-(xx ** 2 + yy ** 2) / (2 * sigma ** 2))
    kernel -= kernel.mean()
    return kernel / np.abs(kernel).sum()


def _odd_size(size: int) -> int:
    if isinstance(size, bool) or int(size) != size or size < 3 or size % 2 == 0:
        raise CourseError(f"size must be an odd whole number of at least 3, got {size}.")
    return int(size)


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    """A ``size`` x ``size`` Gaussian blur summing to 1 (the outer product of a normalised 1-D Gaussian).

    With ``size = 2 * round(4 * sigma) + 1`` it equals what ``scipy.ndimage.gaussian_filter`` uses.
    """
    size = _odd_size(size)
    if not sigma > 0:
        raise CourseError(f"sigma must be positive, got {sigma}.")
    r = np.arange(size) - size // 2
    g = np.exp(-0.5 * (r / sigma) ** 2)
    g /= g.sum()
    return np.outer(g, g)


def difference_of_gaussians(size: int = 15, sigma_centre: float = 1.0, sigma_surround: float = 3.0) -> np.ndarray:
    """An on-centre, off-surround receptive field: a narrow Gaussian minus a wide one (both summing to 1).

    The weights sum to 0, so a uniformly lit field gives no answer; a small bright spot on the centre gives the
    strongest one, and light on the surround inhibits. Negate it for an off-centre cell.
    """
    if not 0 < sigma_centre < sigma_surround:
        raise CourseError(f"need 0 < sigma_centre < sigma_surround, got {sigma_centre} and {sigma_surround}.")
    return gaussian_kernel(size, sigma_centre) - gaussian_kernel(size, sigma_surround)


# ----------------------------------------------------------------------------------------------
# Shapes and padding


def output_size(n: int, f: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    """Output length of a convolution or pooling along one axis: ``floor((n + 2p - d(f-1) - 1) / s) + 1``.

    With dilation ``d = 1`` this is the lecture's ``(N - F + 2P) / S + 1`` rounded down.
    """
    for name, value, low in (("n", n, 1), ("f", f, 1), ("p", p, 0), ("s", s, 1), ("d", d, 1)):
        if int(value) != value or value < low:
            raise CourseError(f"{name} must be a whole number of at least {low}, got {value}.")
    span = d * (f - 1) + 1
    if n + 2 * p < span:
        raise CourseError(f"A kernel spanning {span} pixels does not fit in {n} pixels padded by {p} on each side.")
    return (n + 2 * p - span) // s + 1


def resolve_padding(padding: Padding, kernel_shape: tuple[int, int], image_shape: tuple[int, int] = None,
                    stride: int = 1, dilation: int = 1) -> tuple[tuple[int, int], tuple[int, int]]:
    """Turn ``padding`` into ((top, bottom), (left, right)) zeros.

    ``"valid"``: none. ``"full"``: span - 1 on every side (every overlap counts). ``"same"``: TensorFlow's rule,
    output = ceil(input / stride), extra zero (if any) at the bottom/right. A number ``p``: p on every side.
    A pair ``(ph, pw)``: ph above and below, pw left and right.
    """
    spans = [dilation * (k - 1) + 1 for k in kernel_shape]
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return (0, 0), (0, 0)
        if mode == "full":
            return (spans[0] - 1,) * 2, (spans[1] - 1,) * 2
        if mode == "same":
            if image_shape is None:
                raise CourseError("'same' padding needs the image shape.")
            pads = []
            for n, span in zip(image_shape, spans):
                out = -(-n // stride)
                total = max((out - 1) * stride + span - n, 0)
                pads.append((total // 2, total - total // 2))
            return pads[0], pads[1]
        raise CourseError(f"padding must be one of {PADDING_MODES} or a whole number, got {padding!r}.")
    if isinstance(padding, (tuple, list)) and len(padding) == 2:
        ph, pw = (int(v) for v in padding)
        if ph < 0 or pw < 0:
            raise CourseError(f"padding cannot be negative, got {padding}.")
        return (ph, ph), (pw, pw)
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and padding >= 0:
        return (int(padding),) * 2, (int(padding),) * 2
    raise CourseError(f"padding must be one of {PADDING_MODES} or a whole number >= 0, got {padding!r}.")


def pad(image: np.ndarray, padding: tuple[tuple[int, int], tuple[int, int]]) -> np.ndarray:
    """``image`` (H, W) or (H, W, C) with zeros added around rows and columns (never around channels)."""
    image = np.asarray(image)
    widths = [padding[0], padding[1]] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, widths)


def _check_inputs(image, kernel, stride: int, dilation: int) -> tuple[np.ndarray, np.ndarray]:
    image = np.asarray(image, dtype=float)
    kernel = np.asarray(kernel, dtype=float)
    if image.ndim not in (2, 3):
        raise CourseError(f"The image must be (H, W) or (H, W, C), got shape {image.shape}.")
    if kernel.ndim not in (2, 3, 4):
        raise CourseError(f"The kernel must be (kh, kw), (kh, kw, C) or (kh, kw, C, K), got shape {kernel.shape}.")
    channels = image.shape[2] if image.ndim == 3 else None
    if kernel.ndim >= 3 and kernel.shape[2] != (channels or 1):
        raise CourseError(f"The kernel has {kernel.shape[2]} channels but the image has {channels or 1}; "
                          "they must match.")
    if image.ndim == 3 and kernel.ndim == 2:
        raise CourseError(f"The image has {channels} channels: give the kernel a channel axis, "
                          f"shape (kh, kw, {channels}).")
    for name, value in (("stride", stride), ("dilation", dilation)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise CourseError(f"{name} must be a whole number of at least 1, got {value}.")
    return image, kernel


def conv_output_shape(image_shape: tuple[int, ...], kernel_shape: tuple[int, ...], padding: Padding = "valid",
                      stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """(H_out, W_out) of :func:`conv2d` for these shapes, by the output-size formula."""
    (pt, pb), (pl, pr) = resolve_padding(padding, tuple(kernel_shape[:2]), tuple(image_shape[:2]), stride, dilation)
    h = output_size(image_shape[0] + pt + pb, kernel_shape[0], 0, stride, dilation)
    w = output_size(image_shape[1] + pl + pr, kernel_shape[1], 0, stride, dilation)
    return h, w


# ----------------------------------------------------------------------------------------------
# Convolution (cross-correlation, as in deep learning)


def conv2d_loop(image, kernel, padding: Padding = "valid", stride: int = 1, dilation: int = 1) -> np.ndarray:
    """Cross-correlate ``image`` with one ``kernel`` using plain loops: slide, multiply element-wise, add.

    Slow on purpose: every output pixel is computed the way you would by hand.
    """
    image, kernel = _check_inputs(image, kernel, stride, dilation)
    if kernel.ndim == 4:
        raise CourseError("conv2d_loop takes one kernel; use conv2d for a bank of filters (kh, kw, C, K).")
    out_h, out_w = conv_output_shape(image.shape, kernel.shape, padding, stride, dilation)
    padded = pad(image, resolve_padding(padding, kernel.shape[:2], image.shape[:2], stride, dilation))
    if kernel.ndim == 3 and image.ndim == 2:
        padded = padded[..., None]
    kh, kw = kernel.shape[:2]
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            total = 0.0
            for m in range(kh):
                for n in range(kw):
                    pixel = padded[i * stride + m * dilation, j * stride + n * dilation]
                    total += np.sum(pixel * kernel[m, n])
            out[i, j] = total
    return out


def conv2d(image, kernel, padding: Padding = "valid", stride: int = 1, dilation: int = 1) -> np.ndarray:
    """Cross-correlate ``image`` with ``kernel``, vectorised (every window at once, then one ``einsum``).

    image (H, W) with kernel (kh, kw) -> (H_out, W_out); image (H, W, C) with kernel (kh, kw, C) -> one map
    (H_out, W_out); kernel (kh, kw, C, K) -> K maps (H_out, W_out, K), the layout of a Keras ``Conv2D`` kernel.
    """
    image, kernel = _check_inputs(image, kernel, stride, dilation)
    out_h, out_w = conv_output_shape(image.shape, kernel.shape, padding, stride, dilation)
    padded = pad(image, resolve_padding(padding, kernel.shape[:2], image.shape[:2], stride, dilation))
    if padded.ndim == 2:
        padded = padded[..., None]
    kh, kw = kernel.shape[:2]
    span_h, span_w = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    windows = sliding_window_view(padded, (span_h, span_w), axis=(0, 1))  # (H', W', C, span_h, span_w)
    windows = windows[::stride, ::stride, :, ::dilation, ::dilation][:out_h, :out_w]
    if kernel.ndim == 2:
        return np.einsum("ijcmn,mn->ij", windows, kernel)
    if kernel.ndim == 3:
        return np.einsum("ijcmn,mnc->ij", windows, kernel)
    return np.einsum("ijcmn,mnck->ijk", windows, kernel)


def convolve2d_true(image, kernel, padding: Padding = "valid", stride: int = 1) -> np.ndarray:
    """Convolution as mathematicians define it: the kernel is flipped (both axes) before sliding."""
    kernel = np.asarray(kernel, dtype=float)
    return conv2d(image, kernel[::-1, ::-1], padding, stride)


def gradient_magnitude(image) -> np.ndarray:
    """sqrt(Sobel x ** 2 + Sobel y ** 2) with 'same' padding: how strongly brightness changes at each pixel."""
    gx = conv2d(image, KERNELS["sobel x"], "same")
    gy = conv2d(image, KERNELS["sobel y"], "same")
    return np.hypot(gx, gy)


# ----------------------------------------------------------------------------------------------
# Pooling


def _check_pool(x, size: int, stride: int | None, mode: str) -> tuple[np.ndarray, int, int]:
    x = np.asarray(x, dtype=float)
    if x.ndim not in (2, 3):
        raise CourseError(f"Pooling needs a map (H, W) or maps (H, W, C), got shape {x.shape}.")
    stride = size if stride is None else stride
    for name, value in (("size", size), ("stride", stride)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise CourseError(f"pool {name} must be a whole number of at least 1, got {value}.")
    if size > min(x.shape[:2]):
        raise CourseError(f"A {size}x{size} pool does not fit in a {x.shape[0]}x{x.shape[1]} map; make it smaller.")
    if mode not in POOL_MODES:
        raise CourseError(f"pool mode must be one of {POOL_MODES}, got {mode!r}.")
    return x, int(size), int(stride)


def pool2d(x, size: int = 2, stride: int | None = None, mode: str = "max") -> np.ndarray:
    """Max or average pooling ('valid': windows that do not fit at the right/bottom are dropped).

    ``stride`` defaults to ``size`` (windows side by side). Works on (H, W) or, channel by channel, (H, W, C).
    """
    x, size, stride = _check_pool(x, size, stride, mode)
    windows = sliding_window_view(x, (size, size), axis=(0, 1))[::stride, ::stride]
    reduce = np.max if mode == "max" else np.mean
    return reduce(windows, axis=(-2, -1))


def pool2d_loop(x, size: int = 2, stride: int | None = None, mode: str = "max") -> np.ndarray:
    """:func:`pool2d` written as loops over output pixels (2-D maps only), for reading."""
    x, size, stride = _check_pool(x, size, stride, mode)
    if x.ndim != 2:
        raise CourseError("pool2d_loop takes one 2-D map; use pool2d for (H, W, C).")
    out = np.zeros((output_size(x.shape[0], size, 0, stride), output_size(x.shape[1], size, 0, stride)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            window = x[i * stride:i * stride + size, j * stride:j * stride + size]
            out[i, j] = window.max() if mode == "max" else window.mean()
    return out


def global_average_pool(x) -> np.ndarray:
    """One number per channel: the mean over height and width. (H, W) -> scalar array, (H, W, C) -> (C,)."""
    x = np.asarray(x, dtype=float)
    if x.ndim not in (2, 3):
        raise CourseError(f"Global pooling needs (H, W) or (H, W, C), got shape {x.shape}.")
    return x.mean(axis=(0, 1))


def relu(x) -> np.ndarray:
    """max(0, x), element by element."""
    return np.maximum(np.asarray(x, dtype=float), 0.0)
