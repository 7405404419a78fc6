"""utils.kernels: the gallery, the output-size formula, padding, both conv2d versions and pooling.

References: scipy.signal.correlate2d (valid/same/full), a direct formula for stride/dilation, TensorFlow's
tf.nn.conv2d / max_pool2d / avg_pool2d (with the same padding), and the lecture's hand-worked examples.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.signal import convolve2d, correlate2d

from utils import kernels as K
from utils.errors import CourseError

RNG = np.random.default_rng(0)
X_IMAGE = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
X_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
POOL_EXAMPLE = np.array([[3, 1, 2, 4], [1, 7, 3, 6], [2, 5, 1, 3], [9, 6, 2, 1]])


def test_gallery_has_the_lecture_table_and_sobel():
    names = K.kernel_names()
    assert {"identity", "sharpen", "box blur", "gaussian blur", "sobel x", "sobel y"} <= set(names)
    assert sum(n.startswith("edge") for n in names) == 2 and "corner (saddle)" in names
    np.testing.assert_allclose(K.get_kernel("box blur").sum(), 1)
    np.testing.assert_allclose(K.get_kernel("gaussian blur").sum(), 1)
    np.testing.assert_allclose(K.get_kernel("sharpen").sum(), 1)
    for name in ("corner (saddle)", "edge (4-neighbour)", "edge (8-neighbour)", "sobel x", "sobel y"):
        assert K.get_kernel(name).sum() == 0, name
    k = K.get_kernel("identity")
    k[1, 1] = 5
    assert K.get_kernel("identity")[1, 1] == 1, "get_kernel must return a copy"
    with pytest.raises(CourseError, match="no kernel"):
        K.get_kernel("emboss")


def test_identity_returns_the_image_and_blur_keeps_flat_regions():
    img = RNG.random((8, 9))
    np.testing.assert_allclose(K.conv2d(img, K.get_kernel("identity"), "same"), img)
    flat = np.full((6, 6), 7.0)
    np.testing.assert_allclose(K.conv2d(flat, K.get_kernel("box blur")), 7.0)
    np.testing.assert_allclose(K.conv2d(flat, K.get_kernel("sobel x")), 0.0, atol=1e-12)


def test_seed_worked_example():
    expected = np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    np.testing.assert_array_equal(K.conv2d(X_IMAGE, X_KERNEL), expected)
    np.testing.assert_array_equal(K.conv2d_loop(X_IMAGE, X_KERNEL), expected)


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
@pytest.mark.parametrize("shape, kshape", [((7, 7), (3, 3)), ((9, 13), (3, 5)), ((12, 5), (5, 3))])
def test_conv2d_matches_scipy(mode, shape, kshape):
    img, ker = RNG.normal(size=shape), RNG.normal(size=kshape)
    np.testing.assert_allclose(K.conv2d(img, ker, mode), correlate2d(img, ker, mode), atol=1e-12)
    np.testing.assert_allclose(K.conv2d_loop(img, ker, mode), correlate2d(img, ker, mode), atol=1e-12)


def _direct(img, ker, p, s, d):
    padded = np.pad(img, p)
    kh, kw = ker.shape
    h = K.output_size(img.shape[0], kh, p, s, d)
    w = K.output_size(img.shape[1], kw, p, s, d)
    out = np.zeros((h, w))
    for i, j in itertools.product(range(h), range(w)):
        for m, n in itertools.product(range(kh), range(kw)):
            out[i, j] += padded[i * s + m * d, j * s + n * d] * ker[m, n]
    return out


@pytest.mark.parametrize("p, s, d", [(0, 2, 1), (1, 2, 1), (2, 3, 1), (0, 1, 2), (1, 2, 2), (3, 1, 3)])
def test_stride_padding_dilation_both_versions_agree_with_direct_formula(p, s, d):
    img, ker = RNG.normal(size=(11, 14)), RNG.normal(size=(3, 2))
    want = _direct(img, ker, p, s, d)
    np.testing.assert_allclose(K.conv2d(img, ker, p, s, d), want, atol=1e-12)
    np.testing.assert_allclose(K.conv2d_loop(img, ker, p, s, d), want, atol=1e-12)


def test_true_convolution_flips_the_kernel():
    img, ker = RNG.normal(size=(6, 7)), RNG.normal(size=(3, 3))
    np.testing.assert_allclose(K.convolve2d_true(img, ker), convolve2d(img, ker, "valid"), atol=1e-12)
    assert not np.allclose(K.convolve2d_true(img, ker), K.conv2d(img, ker))


@pytest.mark.parametrize("n, f, p, s, want", [(227, 11, 0, 4, 55), (32, 5, 0, 1, 28), (32, 5, 2, 1, 32),
                                              (7, 3, 0, 2, 3), (8, 3, 1, 2, 4), (5, 3, 1, 1, 5)])
def test_output_size_formula(n, f, p, s, want):
    assert K.output_size(n, f, p, s) == want


def test_output_size_matches_the_implementation_on_many_cases():
    for n, f, p, s, d in itertools.product([5, 8, 13], [1, 2, 3, 5], [0, 1, 2], [1, 2, 3], [1, 2]):
        if n + 2 * p < d * (f - 1) + 1:
            continue
        out = K.conv2d(np.ones((n, n + 1)), np.ones((f, f)), p, s, d)
        assert out.shape == (K.output_size(n, f, p, s, d), K.output_size(n + 1, f, p, s, d))


def test_output_size_rejects_bad_values():
    with pytest.raises(CourseError):
        K.output_size(3, 5)
    with pytest.raises(CourseError):
        K.output_size(10, 3, 0, 0)
    with pytest.raises(CourseError):
        K.output_size(10, 3, -1, 1)


@pytest.mark.parametrize("n, s", [(7, 1), (7, 2), (8, 2), (9, 3), (10, 4)])
def test_same_padding_gives_ceil_n_over_s(n, s):
    out = K.conv2d(np.ones((n, n)), np.ones((3, 3)), "same", s)
    assert out.shape == (-(-n // s),) * 2


def test_multi_channel_and_filter_bank():
    img, ker = RNG.normal(size=(6, 8, 3)), RNG.normal(size=(3, 3, 3))
    one = K.conv2d(img, ker)
    want = sum(correlate2d(img[..., c], ker[..., c], "valid") for c in range(3))
    np.testing.assert_allclose(one, want, atol=1e-12)
    np.testing.assert_allclose(K.conv2d_loop(img, ker), want, atol=1e-12)
    bank = RNG.normal(size=(3, 3, 3, 4))
    maps = K.conv2d(img, bank, "same")
    assert maps.shape == (6, 8, 4)
    np.testing.assert_allclose(maps[..., 2], K.conv2d(img, bank[..., 2], "same"), atol=1e-12)


@pytest.mark.parametrize("image, kernel, kwargs, match", [
    (np.ones((4, 4, 3)), np.ones((3, 3)), {}, "channel axis"),
    (np.ones((4, 4, 3)), np.ones((3, 3, 2)), {}, "channels"),
    (np.ones(5), np.ones((3, 3)), {}, "image must be"),
    (np.ones((4, 4)), np.ones(3), {}, "kernel must be"),
    (np.ones((4, 4)), np.ones((3, 3)), {"stride": 0}, "stride"),
    (np.ones((4, 4)), np.ones((3, 3)), {"dilation": 1.5}, "dilation"),
    (np.ones((2, 2)), np.ones((3, 3)), {}, "does not fit"),
    (np.ones((4, 4)), np.ones((3, 3)), {"padding": "half"}, "padding"),
    (np.ones((4, 4)), np.ones((3, 3)), {"padding": -1}, "padding"),
])
def test_conv2d_bad_inputs_raise_course_errors(image, kernel, kwargs, match):
    with pytest.raises(CourseError, match=match):
        K.conv2d(image, kernel, **kwargs)
    with pytest.raises(CourseError):
        K.conv2d_loop(image, kernel, **kwargs)


def test_pooling_seed_example_and_modes():
    np.testing.assert_array_equal(K.pool2d(POOL_EXAMPLE, 2, 2), [[7, 6], [9, 3]])
    np.testing.assert_array_equal(K.pool2d_loop(POOL_EXAMPLE, 2, 2), [[7, 6], [9, 3]])
    np.testing.assert_allclose(K.pool2d(POOL_EXAMPLE, 2, 2, "avg"), [[3, 3.75], [5.5, 1.75]])
    assert K.pool2d(POOL_EXAMPLE, 3, 1).shape == (2, 2)
    np.testing.assert_array_equal(K.pool2d(POOL_EXAMPLE, 3, 1), [[7, 7], [9, 7]])


@pytest.mark.parametrize("shape, size, stride", [((8, 8), 2, None), ((13, 9), 3, 2), ((7, 10), 2, 1), ((9, 9), 4, 3)])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_loop_and_vectorised_agree(shape, size, stride, mode):
    x = RNG.normal(size=shape)
    got = K.pool2d(x, size, stride, mode)
    np.testing.assert_allclose(got, K.pool2d_loop(x, size, stride, mode), atol=1e-12)
    s = size if stride is None else stride
    assert got.shape == (K.output_size(shape[0], size, 0, s), K.output_size(shape[1], size, 0, s))


def test_pool_channels_and_global_average():
    x = RNG.normal(size=(6, 6, 3))
    pooled = K.pool2d(x, 2)
    assert pooled.shape == (3, 3, 3)
    np.testing.assert_allclose(pooled[..., 1], K.pool2d(x[..., 1], 2))
    np.testing.assert_allclose(K.global_average_pool(x), x.mean(axis=(0, 1)))


@pytest.mark.parametrize("x, size, stride, mode, match", [
    (np.ones((3, 3)), 4, None, "max", "does not fit"),
    (np.ones((4, 4)), 0, None, "max", "size"),
    (np.ones((4, 4)), 2, 0, "max", "stride"),
    (np.ones((4, 4)), 2, 2, "median", "mode"),
    (np.ones(4), 2, 2, "max", "Pooling needs"),
])
def test_pool_bad_inputs(x, size, stride, mode, match):
    with pytest.raises(CourseError, match=match):
        K.pool2d(x, size, stride, mode)


def test_relu_and_oriented_kernels():
    np.testing.assert_array_equal(K.relu([-2, 0, 3]), [0, 0, 3])
    vertical_edge = np.zeros((15, 15))
    vertical_edge[:, 8:] = 1
    k0, k90 = K.oriented_edge_kernel(0), K.oriented_edge_kernel(90)
    assert abs(k0.sum()) < 1e-12 and k0.shape == (7, 7)
    assert np.abs(K.conv2d(vertical_edge, k0)).max() > 5 * np.abs(K.conv2d(vertical_edge, k90)).max()
    with pytest.raises(CourseError):
        K.oriented_edge_kernel(0, size=4)


def test_gradient_magnitude_is_zero_on_flat_and_positive_on_edges():
    img = np.zeros((10, 10))
    img[:, 5:] = 10
    g = K.gradient_magnitude(img)
    assert g.shape == img.shape
    assert g[5, 1] == 0 and g[5, 5] > 0


def test_matches_tensorflow_conv_and_pooling():
    tf = pytest.importorskip("tensorflow")
    img, ker = RNG.normal(size=(9, 12, 3)), RNG.normal(size=(3, 3, 3, 4))
    for padding, stride in [("VALID", 1), ("SAME", 1), ("SAME", 2), ("VALID", 3)]:
        want = tf.nn.conv2d(img[None].astype("float32"), ker.astype("float32"), stride, padding)[0].numpy()
        np.testing.assert_allclose(K.conv2d(img, ker, padding.lower(), stride), want, atol=1e-4)
    want = tf.nn.conv2d(img[None].astype("float32"), ker.astype("float32"), 1, "VALID", dilations=2)[0].numpy()
    np.testing.assert_allclose(K.conv2d(img, ker, "valid", 1, 2), want, atol=1e-4)
    x = RNG.normal(size=(1, 9, 11, 2)).astype("float32")
    np.testing.assert_allclose(K.pool2d(x[0], 3, 2), tf.nn.max_pool2d(x, 3, 2, "VALID")[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(K.pool2d(x[0], 2, 2, "avg"), tf.nn.avg_pool2d(x, 2, 2, "VALID")[0].numpy(), atol=1e-6)


def test_corner_kernel_ignores_straight_edges_and_answers_at_corners():
    k = K.get_kernel("corner (saddle)")
    np.testing.assert_array_equal(K.get_kernel("edge (diagonal)"), k)  # the old name still works
    assert "edge (diagonal)" not in K.kernel_names()
    vertical = np.zeros((9, 9))
    vertical[:, 4:] = 1
    np.testing.assert_allclose(K.conv2d(vertical, k), 0)
    np.testing.assert_allclose(K.conv2d(vertical.T, k), 0)
    square = np.zeros((9, 9))
    square[4:, 4:] = 1  # one corner at (4, 4)
    response = np.abs(K.conv2d(square, k, "same"))
    peak = np.unravel_index(response.argmax(), response.shape)
    assert response.max() > 0 and peak in {(3, 3), (4, 4), (3, 4), (4, 3)}
    np.testing.assert_allclose(k, np.outer([1, 0, -1], [1, 0, -1]))


def test_gaussian_kernel_matches_scipy():
    from scipy.ndimage import gaussian_filter

    img = RNG.normal(size=(20, 23))
    for sigma in (0.8, 1.5, 3.0):
        radius = int(4 * sigma + 0.5)
        g = K.gaussian_kernel(2 * radius + 1, sigma)
        np.testing.assert_allclose(g.sum(), 1)
        np.testing.assert_allclose(K.conv2d(img, g, "same"), gaussian_filter(img, sigma, mode="constant", truncate=4.0),
                                   atol=1e-12)


def test_difference_of_gaussians_is_centre_surround():
    from skimage.filters import difference_of_gaussians as sk_dog

    dog = K.difference_of_gaussians(25, 1.0, 3.0)
    assert abs(dog.sum()) < 1e-12, "a uniformly lit field gives no answer"
    assert dog[12, 12] > 0 and dog[12, 12 + 4] < 0, "positive centre, negative surround"
    img = RNG.random((40, 40))
    ours = K.conv2d(img, dog, "same")
    theirs = sk_dog(img, 1.0, 3.0, mode="constant", truncate=12.0 / 3.0)
    # skimage truncates each Gaussian at its own radius; inside, away from the border, both agree closely
    np.testing.assert_allclose(ours[12:-12, 12:-12], theirs[12:-12, 12:-12], atol=1e-5)
    spots = []
    for radius in (1, 2, 4, 8):
        yy, xx = np.mgrid[-12:13, -12:13]
        spots.append(float(np.sum(dog * (xx ** 2 + yy ** 2 <= radius ** 2))))
    assert spots[1] > spots[0] and spots[1] > spots[3], "a medium spot answers most, a large one little"


@pytest.mark.parametrize("args, match", [((4, 1.0), "odd"), ((2, 1.0), "odd"), ((5, 0.0), "positive")])
def test_gaussian_kernel_bad_arguments(args, match):
    with pytest.raises(CourseError, match=match):
        K.gaussian_kernel(*args)


def test_difference_of_gaussians_needs_a_wider_surround():
    with pytest.raises(CourseError, match="sigma_centre < sigma_surround"):
        K.difference_of_gaussians(9, 2.0, 1.0)
