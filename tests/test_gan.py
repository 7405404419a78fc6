"""utils.gan: the lesson's losses against Keras' cross-entropy, the judge's statistics on known cases (drawn as asked,
memorisation), the Frechet distance against a closed form, a training smoke test on tiny data, the step timer, the
widget's function, image completion and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg

from utils import gan
from utils.errors import CourseError


@pytest.fixture(autouse=True)
def temporary_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


# ----------------------------------------------------------------------------------------------
# Confidence and class shares


def test_confidence_share_counts_only_confident_rows():
    probs = np.array([[0.95, 0.05], [0.5, 0.5], [0.02, 0.98], [0.9, 0.1]])
    assert gan.confidence_share(probs) == pytest.approx(0.5)  # 0.9 itself is not "over 0.9"
    assert gan.confidence_share(probs, threshold=0.4) == 1.0


def test_confident_one_hot_scores_one_and_uniform_scores_zero():
    assert gan.confidence_share(np.eye(10)[np.arange(100) % 10]) == 1.0
    assert gan.confidence_share(np.full((100, 10), 0.1)) == 0.0


def test_class_shares_sum_to_one_and_show_a_missing_class():
    probs = np.eye(10)[[0, 0, 1, 2, 3, 4, 5, 6, 7, 8]]  # no 9 at all: collapse shows as a 0 share
    shares = gan.class_shares(probs)
    assert shares.sum() == pytest.approx(1.0)
    assert shares[0] == pytest.approx(0.2) and shares[9] == 0.0


@pytest.mark.parametrize("bad", [np.zeros(10), np.zeros((0, 10)), [[[0.5]]]])
def test_probability_input_is_checked(bad):
    with pytest.raises(CourseError):
        gan.confidence_share(bad)


# ----------------------------------------------------------------------------------------------
# Frechet distance


def reference_frechet(a, b):
    """The textbook formula with scipy's general matrix square root (what FID code uses)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s_a @ s_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * root))


def test_identical_sets_are_at_distance_zero():
    x = np.random.default_rng(0).normal(size=(500, 8))
    assert gan.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_frechet_matches_scipy_on_random_features():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(loc=0.5, size=(300, 6)) @ rng.normal(size=(6, 6))
    assert gan.frechet_distance(a, b) == pytest.approx(reference_frechet(a, b), rel=1e-6)


def test_frechet_closed_form_for_shifted_and_scaled_gaussians():
    # N(0, I) vs N(m, s^2 I) in d dimensions: |m|^2 + d (1 - s)^2. Exact covariances via whitened samples.
    rng = np.random.default_rng(2)
    d, n, shift, scale = 4, 2000, 3.0, 2.0
    z = rng.normal(size=(n, d))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # mean 0, cov I exactly
    a, b = z, z[::-1] * scale + shift
    expected = d * shift ** 2 + d * (1 - scale) ** 2
    assert gan.frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert gan.frechet_distance(b, a) == pytest.approx(expected, rel=1e-9)


def test_frechet_bad_input():
    with pytest.raises(CourseError, match="same D"):
        gan.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(CourseError, match="at least 2"):
        gan.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))


# ----------------------------------------------------------------------------------------------
# The judge on real digits and on noise (a small judge trained here in a few seconds)


@pytest.fixture(scope="module")
def small_judge_and_data():
    import keras
    from keras import layers

    from utils.data import load_mnist

    keras.utils.set_random_seed(0)
    data = load_mnist(fast=True, verbose=False)
    judge = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(),
                              layers.Dense(64, activation="relu", name="dense"),
                              layers.Dense(10, activation="softmax", name="probabilities")])
    judge.compile("adam", "sparse_categorical_crossentropy")
    judge.fit(data.x_train[..., None] / 255.0, data.y_train, epochs=8, batch_size=64, verbose=0)
    return judge, data


def test_real_digits_score_high_and_noise_far_away(small_judge_and_data):
    judge, data = small_judge_and_data
    ref = gan.real_reference(judge, data.x_test, n_sample=500)
    assert ref.n_sample == 500 and ref.n_reference == len(data.x_test) - 500
    real = gan.judge_report(judge, ref.real_images01, ref.features, ref.floor)
    assert real.frechet == pytest.approx(ref.floor)
    assert real.confident_share > 0.5 and real.mean_confidence > 0.8 and real.smallest_class_share > 0.05
    noise = np.random.default_rng(0).uniform(0, 1, size=(500, 28, 28, 1)).astype("float32")
    fake = gan.judge_report(judge, noise, ref.features, ref.floor)
    assert fake.frechet_ratio > 20  # whatever its confidence, noise is far from real digits
    assert not fake.meets_target
    assert "Frechet distance" in fake.summary()
    assert json.loads(json.dumps(fake.as_dict()))["meets_target"] is False


def test_meets_target_needs_all_three_parts():
    good = gan.JudgeReport(n=1000, confident_share=0.9, class_shares=[0.1] * 10, smallest_class_share=0.1,
                           frechet=5.0, frechet_floor=1.0)
    assert good.meets_target
    for change in ({"confident_share": 0.8}, {"smallest_class_share": 0.04}, {"frechet": 11.0},
                   {"frechet_floor": None}):
        assert not gan.JudgeReport(**{**good.__dict__, **change}).meets_target


def test_judge_without_feature_layer_is_a_course_error():
    import keras

    model = keras.Sequential([keras.Input(shape=(28, 28, 1)), keras.layers.Flatten(name="flat"),
                              keras.layers.Dense(10, name="probabilities")])
    with pytest.raises(CourseError, match="no layer named"):
        gan.judge_outputs(model, np.zeros((2, 28, 28, 1)))


def test_range_conversions():
    x = np.array([[[0, 255] * 14] * 28], dtype=np.uint8)
    g = gan.to_gan_range(x)
    assert g.shape == (1, 28, 28, 1) and g.min() == -1.0 and g.max() == 1.0
    assert np.array_equal(gan.to_judge_range(g), x[..., None] / 255.0)
    with pytest.raises(CourseError):
        gan.to_gan_range(np.zeros((2, 28, 27), dtype=np.uint8))
    with pytest.raises(CourseError):
        gan.to_judge_range(np.zeros((2, 32, 32, 3)))


# ----------------------------------------------------------------------------------------------
# Models, train_step, widget function, completion


@pytest.fixture(scope="module")
def tiny_generator():
    import keras

    keras.utils.set_random_seed(0)
    return gan.build_generator(latent_dim=8, width=8, conditional=True)


@pytest.mark.parametrize("upsample", ["nearest", "transpose"])
def test_players_shapes(upsample):
    g = gan.build_generator(latent_dim=8, width=8, upsample=upsample)
    d = gan.build_discriminator(width=8)
    images = np.asarray(g([np.zeros((3, 8), "float32"), np.array([1, 2, 3])]))
    assert images.shape == (3, 28, 28, 1)
    assert d([images, np.array([1, 2, 3])]).shape == (3, 1)
    with pytest.raises(CourseError, match="upsample"):
        gan.build_generator(upsample="pixelshuffle")


@pytest.mark.parametrize("conditional,loss", [(True, "nonsaturating"), (False, "nonsaturating"), (False, "saturating")])
def test_train_step_moves_both_players(conditional, loss):
    import keras

    keras.utils.set_random_seed(0)
    g = gan.build_generator(latent_dim=8, width=8, conditional=conditional)
    d = gan.build_discriminator(width=8, conditional=conditional)
    model = gan.GAN(g, d, latent_dim=8, conditional=conditional, loss=loss)
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    g_before, d_before = [w.copy() for w in g.get_weights()], [w.copy() for w in d.get_weights()]
    x = np.random.default_rng(0).uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    y = (np.arange(32) % 10).astype("int32")
    history = model.fit(x, y if conditional else None, batch_size=16, epochs=2, verbose=0).history
    assert set(history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v).all() for v in history.values())
    assert all(0 <= v <= 1 for v in history["d_real"] + history["d_fake"])
    assert any(not np.allclose(a, b) for a, b in zip(g_before, g.get_weights()))
    assert any(not np.allclose(a, b) for a, b in zip(d_before, d.get_weights()))


def test_toy_gan_learns_a_shift():
    """The 1-D game on a single Gaussian far from the noise: the generator's samples must move there."""
    import keras

    keras.utils.set_random_seed(1)
    g, d = gan.build_toy_generator(latent_dim=2, hidden=16), gan.build_toy_discriminator(hidden=16)
    model = gan.GAN(g, d, latent_dim=2, conditional=False)
    model.compile(keras.optimizers.Adam(5e-3, beta_1=0.5), keras.optimizers.Adam(5e-3, beta_1=0.5))
    real = np.random.default_rng(0).normal(3.0, 0.3, size=(4096, 1)).astype("float32")
    model.fit(real, batch_size=128, epochs=6, verbose=0)
    samples = gan.generate(g, 1000, seed=0)
    assert abs(samples.mean() - 3.0) < 0.5


def test_unknown_loss_is_a_course_error():
    with pytest.raises(CourseError, match="loss must be"):
        gan.GAN(gan.build_toy_generator(), gan.build_toy_discriminator(), latent_dim=4, loss="wasserstein")
    with pytest.raises(CourseError, match="loss must be"):
        gan.GAN(gan.build_toy_generator(), gan.build_toy_discriminator(), latent_dim=4, loss="hinge")


def test_draw_digits_is_repeatable_and_checks_input(tiny_generator):
    a = gan.draw_digits(tiny_generator, 7, seed=3, n=4)
    assert a.shape == (4, 28, 28) and a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, gan.draw_digits(tiny_generator, 7, seed=3, n=4))
    assert not np.array_equal(a, gan.draw_digits(tiny_generator, 7, seed=4, n=4))
    assert not np.array_equal(a, gan.draw_digits(tiny_generator, 1, seed=3, n=4))
    for bad in (10, -1, 3.5, "7", True):
        with pytest.raises(CourseError, match="digit"):
            gan.draw_digits(tiny_generator, bad)
    with pytest.raises(CourseError, match="seed"):
        gan.draw_digits(tiny_generator, 7, seed=-2)
    with pytest.raises(CourseError, match="n must"):
        gan.draw_digits(tiny_generator, 7, n=0)
    with pytest.raises(CourseError, match="no label"):
        gan.draw_digits(gan.build_generator(latent_dim=8, width=8, conditional=False), 7)


def test_interpolate_ends_and_midpoint():
    a, b = np.zeros(4), np.ones(4) * 2
    path = gan.interpolate(a, b, 5)
    assert path.shape == (5, 4)
    assert np.allclose(path[0], a) and np.allclose(path[-1], b) and np.allclose(path[2], 1.0)
    with pytest.raises(CourseError):
        gan.interpolate(np.zeros(3), np.zeros(4), 5)


def test_complete_image_keeps_known_pixels_and_lowers_the_loss(tiny_generator):
    image = np.random.default_rng(0).uniform(0, 1, (28, 28)).astype("float32")
    mask = np.zeros((28, 28))
    mask[:14] = 1
    _, first_losses, _ = gan.complete_image(tiny_generator, image, mask, label=3, n_starts=4, steps=0)
    filled, losses, labels = gan.complete_image(tiny_generator, image, mask, label=3, n_starts=4, steps=60)
    assert filled.shape == (4, 28, 28) and list(labels) == [3] * 4
    assert np.allclose(filled[:, :14], image[:14])
    assert np.all(np.diff(losses) >= 0)  # best first
    assert losses[0] < first_losses[0]
    _, _, every = gan.complete_image(tiny_generator, image, mask, n_starts=2, steps=2)
    assert sorted(every) == sorted(list(range(10)) * 2)
    with pytest.raises(CourseError, match="mask"):
        gan.complete_image(tiny_generator, image, np.ones((28, 28)), label=3)
    with pytest.raises(CourseError, match="label"):
        gan.complete_image(tiny_generator, image, mask, label=11)


def test_fooling_noise_fools_confidence_but_not_frechet(small_judge_and_data):
    judge, data = small_judge_and_data
    ref = gan.real_reference(judge, data.x_test, n_sample=500)
    plain = gan.judge_report(judge, gan.fooling_noise(judge, 500, steps=0), ref.features, ref.floor)
    pushed_images = gan.fooling_noise(judge, 500, steps=20)
    pushed = gan.judge_report(judge, pushed_images, ref.features, ref.floor)
    assert pushed_images.min() >= 0 and pushed_images.max() <= 1
    assert pushed.confident_share > 0.8
    assert plain.smallest_class_share < 0.05 <= pushed.smallest_class_share  # image k was pushed to class k % 10
    assert pushed.frechet_ratio > 10 and not pushed.meets_target
    with pytest.raises(CourseError):
        gan.fooling_noise(judge, 0)


def test_digits_png_is_a_png_strip():
    import io

    from PIL import Image

    png = gan.digits_png(np.zeros((3, 28, 28)), scale=2)
    picture = Image.open(io.BytesIO(png))
    assert png[:4] == b"\x89PNG" and picture.size == (3 * 28 * 2, 28 * 2)
    with pytest.raises(CourseError):
        gan.digits_png(np.zeros((28, 28)))


# ----------------------------------------------------------------------------------------------
# The lesson's losses (written in notebook 10) against Keras' binary cross-entropy on logits


@pytest.fixture(scope="module")
def logits():
    rng = np.random.default_rng(3)
    return rng.normal(0, 3, (64, 1)).astype("float32"), rng.normal(-1, 3, (64, 1)).astype("float32")


def test_losses_match_keras_binary_crossentropy(logits):
    import keras

    real, fake = logits
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    ones, zeros = np.ones_like(real), np.zeros_like(real)
    assert float(gan.discriminator_loss(real, fake)) == pytest.approx(float(bce(ones, real) + bce(zeros, fake)),
                                                                      rel=1e-5)
    assert float(gan.nonsaturating_generator_loss(fake)) == pytest.approx(float(bce(ones, fake)), rel=1e-5)
    assert float(gan.saturating_generator_loss(fake)) == pytest.approx(-float(bce(zeros, fake)), rel=1e-5)
    assert set(gan.GENERATOR_LOSSES) == {"nonsaturating", "saturating"}


def test_the_saturating_loss_has_no_slope_where_the_fakes_are_rejected():
    import tensorflow as tf

    rejected = tf.Variable([[-10.0]])
    slopes = {}
    for name, loss in gan.GENERATOR_LOSSES.items():
        with tf.GradientTape() as tape:
            value = loss(rejected)
        slopes[name] = float(tape.gradient(value, rejected)[0, 0])
    assert abs(slopes["saturating"]) < 1e-4  # -sigmoid(-10)
    assert slopes["nonsaturating"] == pytest.approx(-1.0, abs=1e-4)  # -(1 - sigmoid(-10))


def test_losses_are_finite_for_extreme_logits():
    extreme = np.array([[-200.0], [200.0]], dtype="float32")
    for value in (gan.discriminator_loss(extreme, extreme), gan.nonsaturating_generator_loss(extreme),
                  gan.saturating_generator_loss(extreme)):
        assert np.isfinite(float(value))


# ----------------------------------------------------------------------------------------------
# Drawn as asked, memorisation


def test_asked_for_share_counts_per_digit():
    probs = np.eye(10)[[3, 3, 1, 2]]
    shares = gan.asked_for_share(probs, [3, 5, 1, 1])
    assert shares[3] == 1.0 and shares[5] == 0.0 and shares[1] == 0.5 and np.isnan(shares[0])
    with pytest.raises(CourseError, match="one asked-for label"):
        gan.asked_for_share(probs, [1, 2])


def test_nearest_training_distances_find_copies_and_match_brute_force():
    rng = np.random.default_rng(4)
    train = rng.uniform(0, 1, (300, 28, 28)).astype("float32")
    images = np.concatenate([train[:5], rng.uniform(0, 1, (7, 28, 28)).astype("float32")])
    got = gan.nearest_training_distances(images, train, batch_size=4)
    brute = np.sqrt(((images.reshape(12, 1, -1) - train.reshape(1, 300, -1)) ** 2).sum(-1)).min(1)
    assert np.allclose(got[:5], 0, atol=1e-2) and np.allclose(got, brute, rtol=1e-4, atol=1e-2)
    with pytest.raises(CourseError, match="same size"):
        gan.nearest_training_distances(images, train[:, :14])


def test_the_judge_catches_replayed_training_digits(small_judge_and_data):
    judge, data = small_judge_and_data
    ref = gan.real_reference(judge, data.x_test, n_sample=500, x_train=data.x_train)
    assert 0 < ref.copy_threshold < ref.nearest_floor
    replay = gan.to_judge_range(gan.to_gan_range(data.x_train[:500]))
    caught = ref.report(replay, labels=data.y_train[:500])
    assert caught.near_copies == 1.0 and caught.nearest_median < 1e-3
    assert caught.asked_for_mean > 0.8  # real digits are drawn "as asked" by their own labels
    honest = ref.report(ref.real_images01)
    assert honest.near_copies == pytest.approx(0.01, abs=0.005)  # the threshold is the real digits' 1% quantile
    assert "nearest training image" in caught.summary() and "drawn as the digit asked for" in caught.summary()
    assert json.loads(json.dumps(caught.as_dict()))["near_copies"] == 1.0


def test_time_steps_measures_a_tiny_recipe():
    recipe = {"latent_dim": 8, "width": 8, "upsample": "transpose", "batch_size": 8, "steps": 4, "snapshot_every": 2,
              "g_lr": 2e-4, "d_lr": 2e-4, "beta_1": 0.5, "loss": "nonsaturating", "conditional": True}
    x = np.random.default_rng(0).integers(0, 256, (32, 28, 28), dtype=np.uint8)
    y = np.arange(32) % 10
    assert gan.time_steps(recipe, x, y, steps=2, warmup=1) > 0
    with pytest.raises(CourseError, match="steps and warmup"):
        gan.time_steps(recipe, x, y, steps=0)


def test_complete_images_searches_several_digits_at_once(tiny_generator):
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 1, (3, 28, 28)).astype("float32")
    mask = np.ones((28, 28))
    mask[14:] = 0
    filled, losses = gan.complete_images(tiny_generator, images, mask, labels=[1, 2, 3], n_starts=4, steps=20)
    assert filled.shape == (3, 4, 28, 28) and losses.shape == (3, 4)
    assert np.allclose(filled[:, :, :14], images[:, None, :14])
    assert np.all(np.diff(losses, axis=1) >= 0)
    with pytest.raises(CourseError, match="one label per image"):
        gan.complete_images(tiny_generator, images, mask, labels=[1], n_starts=2, steps=1)


def test_snapshot_callback_keeps_the_weights_at_the_step_asked():
    import keras

    keras.utils.set_random_seed(0)
    g = gan.build_generator(latent_dim=8, width=8, conditional=False)
    d = gan.build_discriminator(width=8, conditional=False)
    model = gan.GAN(g, d, latent_dim=8, conditional=False)
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3))
    snaps = gan.snapshot_callback(g, every=1, log=False, keep_weights_at=1)
    x = np.random.default_rng(0).integers(0, 256, (16, 28, 28), dtype=np.uint8)
    model.fit(gan.dataset(x, None, 8), steps_per_epoch=1, epochs=2, verbose=0, callbacks=[snaps])
    assert snaps.steps == [1, 2] and len(snaps.frames) == 2
    assert snaps.kept_weights is not None and len(snaps.kept_weights) == len(g.get_weights())
    assert any(not np.allclose(a, b) for a, b in zip(snaps.kept_weights, g.get_weights()))  # step 2 moved on


def test_recipe_name_picks_the_notebook_and_benchmark_recipes():
    assert gan.recipe_name("CPU (2 cores)", fast=True) == "fast"
    assert gan.recipe_name("CPU (2 cores)", fast=False) == "cpu"
    assert gan.recipe_name("CPU (2 cores)", fast=False, notebook=False) == "full"
    assert gan.recipe_name("GPU (NVIDIA T4)", fast=False) == "gpu"
    assert gan.RECIPES["cpu"] == {**gan.RECIPES["full"], "steps": 2000}
    for recipe in gan.RECIPES.values():
        assert recipe["steps"] % recipe["snapshot_every"] == 0
