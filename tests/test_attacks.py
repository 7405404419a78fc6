"""utils.attacks on models with a known answer.

- A linear softmax model whose input gradient is known in closed form: FGSM must move every pixel by eps against
  the true class's weights (and leave pixels with zero weight alone), clipped to [0, 1].
- A model that reads one pixel: the exhaustive one-pixel search and differential evolution must both find that
  pixel (and only an image whose answer hangs on it can be fooled).
"""

from __future__ import annotations

import numpy as np
import pytest

from utils.errors import CourseError

keras = pytest.importorskip("keras")

from utils import attacks  # noqa: E402


def linear_model(weights: np.ndarray, bias: np.ndarray, shape=(2, 2, 1), dtype: str = "float32"):
    """Flatten -> Dense(softmax) with the given weights (pixels x classes)."""
    model = keras.Sequential([keras.Input(shape=shape), keras.layers.Flatten(),
                              keras.layers.Dense(weights.shape[1], activation="softmax", dtype=dtype)])
    model.layers[-1].set_weights([weights.astype("float32"), bias.astype("float32")])
    return model


W0 = np.array([0.5, -2.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def two_class():
    """Class 1's weights are minus class 0's: the loss gradient of label 0 is a negative multiple of W0."""
    return linear_model(np.stack([W0, -W0], axis=1), np.zeros(2))


@pytest.fixture(scope="module")
def one_pixel_reader():
    """A 4x4 image; class 1's logit is 10 * pixel (2, 1) - 5, class 0's is 0: dark there -> 0, bright -> 1."""
    weights = np.zeros((16, 2))
    weights[2 * 4 + 1, 1] = 10.0
    return linear_model(weights, np.array([0.0, -5.0]), shape=(4, 4, 1))


def test_fgsm_moves_against_the_true_class_weights(two_class):
    x = np.array([0.3, 0.95, 0.6, 0.05], dtype="float32").reshape(1, 2, 2, 1)
    adv = attacks.fgsm(two_class, x, [0], eps=0.1)
    expected = np.clip(x.ravel() - 0.1 * np.sign(W0), 0, 1)          # [0.2, 1.0 (clipped), 0.6 (w=0), 0.0]
    np.testing.assert_allclose(adv.ravel(), expected, atol=1e-6)
    # the other label: the gradient flips sign
    np.testing.assert_allclose(attacks.fgsm(two_class, x, [1], eps=0.1).ravel(),
                               np.clip(x.ravel() + 0.1 * np.sign(W0), 0, 1), atol=1e-6)


def test_fgsm_gradient_matches_the_closed_form():
    rng = np.random.default_rng(0)
    weights, bias = rng.normal(size=(4, 3)), rng.normal(size=3)
    model = linear_model(weights, bias)
    x = rng.random((5, 2, 2, 1)).astype("float32")
    y = np.array([0, 1, 2, 0, 1])
    z = x.reshape(5, 4) @ weights + bias
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    grad = (p - np.eye(3)[y]) @ weights.T                               # d CE / d x for a linear softmax
    np.testing.assert_allclose(attacks.loss_gradient(model, x, y).reshape(5, 4), grad, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(attacks.fgsm(model, x, y, 0.05).reshape(5, 4),
                               np.clip(x.reshape(5, 4) + 0.05 * np.sign(grad), 0, 1), atol=1e-6)


def test_targeted_fgsm_goes_towards_the_target(two_class):
    x = np.full((1, 2, 2, 1), 0.5, dtype="float32")
    towards_one = attacks.fgsm(two_class, x, [0], eps=0.1, target=[1])
    np.testing.assert_allclose(towards_one.ravel(), np.clip(0.5 - 0.1 * np.sign(W0), 0, 1), atol=1e-6)


def test_pgd_stays_in_the_box_and_reaches_the_target(two_class):
    x = np.array([0.9, 0.1, 0.5, 0.5], dtype="float32").reshape(1, 2, 2, 1)     # class 0: score 0.75 > 0
    assert attacks.logits(two_class, x).argmax() == 0
    adv, steps = attacks.pgd(two_class, x, [0], eps=0.3, steps=20, step_size=0.05, return_steps=True)
    assert np.abs(adv - x).max() <= 0.3 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    assert attacks.logits(two_class, adv).argmax() == 1 and 1 <= steps[0] <= 20
    weak = attacks.pgd(two_class, x, [0], eps=0.05, steps=10)
    assert attacks.logits(two_class, weak).argmax() == 0                          # too small a box: not fooled
    random_start = attacks.pgd(two_class, x, [0], eps=0.3, steps=5, random_start=True, seed=1)
    assert np.abs(random_start - x).max() <= 0.3 + 1e-6


def test_accuracy_under_attack_falls_with_eps(two_class):
    rng = np.random.default_rng(1)
    x = rng.random((40, 2, 2, 1)).astype("float32")
    y = attacks.logits(two_class, x).argmax(1)
    curve = attacks.accuracy_under_attack(two_class, x, y, [0.0, 0.2, 0.5])
    assert curve[0] == 1.0 and curve[0] >= curve[1] >= curve[2] and curve[2] < 0.5


def test_one_pixel_search_finds_the_pixel_the_model_reads(one_pixel_reader):
    x = np.zeros((2, 4, 4, 1), dtype="float32")
    x[1] = 0.3                                                                     # also class 0 (10*0.3 - 5 < 0)
    result = attacks.one_pixel_search(one_pixel_reader, x, [0, 0])
    assert result.fooled.all() and result.success_rate == 1.0
    assert (result.rows[:, 0] == 2).all() and (result.cols[:, 0] == 1).all() and (result.values[:, 0] == 1).all()
    assert (result.label == 1).all() and (result.evaluations == 16 * 5).all()      # five values by default
    changed = attacks.set_pixels(x[0], result.rows[0], result.cols[0], result.values[0])
    assert changed[2, 1, 0] == 1 and changed.sum() == 1


def test_one_pixel_search_counts_a_digit_fooled_if_any_candidate_flips_it():
    """Three classes on a black 2x2 image (logits 0, -10, -10: class 0). White at (0, 0) lifts classes 1 and 2 to
    -0.01 each: class 0 keeps only a third of the probability but still wins. White at (0, 1) lifts class 1 alone
    to +0.5: class 0 keeps more probability (38%) but loses. The old rule (judge only the candidate that leaves the
    true class least) calls this image safe; counting any candidate that flips it finds the attack."""
    weights = np.zeros((4, 3))
    weights[0] = [0.0, 9.99, 9.99]
    weights[1] = [0.0, 10.5, 0.0]
    model = linear_model(weights, np.array([0.0, -10.0, -10.0]))
    x = np.zeros((1, 2, 2, 1), dtype="float32")
    assert attacks.logits(model, x).argmax() == 0
    result = attacks.one_pixel_search(model, x, [0], values=(0.0, 1.0))
    assert result.fooled[0] and result.label[0] == 1
    assert (result.rows[0, 0], result.cols[0, 0], result.values[0, 0]) == (0, 1, 1.0)
    assert result.fooling[0] == 1                                     # exactly one of the 8 candidates flips it
    assert result.true_probability[0] == pytest.approx(1 / (1 + np.exp(0.5) + np.exp(-10)), rel=1e-4)
    # the candidate that leaves class 0 the least probability (white at (0, 0)) does not flip it
    p = attacks.probabilities(model, attacks.set_pixels(x[0], [0], [0], [1.0])[None])[0]
    assert p.argmax() == 0 and p[0] < result.true_probability[0]


def test_one_pixel_search_tries_intermediate_values():
    """Class 1 wins only for pixel (1, 0) in a middle band (a ReLU bump peaking at 0.5): black and white both
    fail; the default five values find 0.5."""
    inputs = keras.Input(shape=(2, 2, 1))
    flat = keras.layers.Flatten()(inputs)
    hidden = keras.layers.Dense(2, activation="relu")(flat)
    outputs = keras.layers.Dense(2, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    w1 = np.zeros((4, 2))
    w1[2] = [1.0, 1.0]                                               # both hidden units read pixel (1, 0)
    model.layers[2].set_weights([w1.astype("float32"), np.array([-0.25, -0.5], "float32")])
    # class 1 logit = 40 relu(v - 0.25) - 80 relu(v - 0.5) - 5: 0 at 0.25, peak 5 at 0.5, -15 at 1
    model.layers[3].set_weights([np.array([[0.0, 40.0], [0.0, -80.0]], "float32"), np.array([0.0, -5.0], "float32")])
    x = np.zeros((1, 2, 2, 1), dtype="float32")
    assert not attacks.one_pixel_search(model, x, [0], values=(0.0, 1.0)).fooled[0]
    result = attacks.one_pixel_search(model, x, [0])
    assert result.fooled[0] and (result.rows[0, 0], result.cols[0, 0]) == (1, 0) and result.values[0, 0] == 0.5
    assert result.fooling[0] == 1 and result.evaluations[0] == 4 * 5
    with pytest.raises(CourseError):
        attacks.one_pixel_search(model, x, [0], values=())
    with pytest.raises(CourseError):
        attacks.one_pixel_search(model, x, [0], values=("black",))


def test_pgd_restarts_keeps_the_first_fooling_run_and_stays_in_the_box(two_class):
    x = np.array([0.9, 0.1, 0.5, 0.5], dtype="float32").reshape(1, 2, 2, 1)
    adv = attacks.pgd_restarts(two_class, x, [0], eps=0.3, steps=20, restarts=3)
    assert np.abs(adv - x).max() <= 0.3 + 1e-6 and attacks.logits(two_class, adv).argmax() == 1
    weak = attacks.pgd_restarts(two_class, x, [0], eps=0.05, steps=10, restarts=3)
    assert attacks.logits(two_class, weak).argmax() == 0
    with pytest.raises(CourseError):
        attacks.pgd_restarts(two_class, x, [0], eps=0.1, restarts=0)


def test_accuracy_under_attack_takes_a_function(two_class):
    rng = np.random.default_rng(1)
    x = rng.random((20, 2, 2, 1)).astype("float32")
    y = attacks.logits(two_class, x).argmax(1)
    np.testing.assert_allclose(attacks.accuracy_under_attack(two_class, x, y, [0.0, 0.3], attacks.fgsm),
                               attacks.accuracy_under_attack(two_class, x, y, [0.0, 0.3], "fgsm"))
    untouched = attacks.accuracy_under_attack(two_class, x, y, [0.3], lambda m, xs, ys, eps: xs)
    assert untouched[0] == 1.0
    seen = []
    attacks.accuracy_under_attack(two_class, x, y, [0.3], lambda m, xs, ys, eps, steps: seen.append(steps) or xs,
                                  steps=7)
    assert seen == [7]
    with pytest.raises(CourseError):
        attacks.accuracy_under_attack(two_class, x, y, [0.1], "cw")


def test_one_pixel_search_cannot_fool_what_hangs_on_no_single_pixel():
    weights = np.zeros((16, 2))
    weights[:, 1] = 1.0                                   # class 1 needs the total brightness above 8
    model = linear_model(weights, np.array([0.0, -8.0]), shape=(4, 4, 1))
    result = attacks.one_pixel_search(model, np.zeros((1, 4, 4), dtype="float32"), [0])
    assert not result.fooled[0] and result.label[0] == 0


def test_differential_evolution_finds_the_pixel(one_pixel_reader):
    x = np.zeros((1, 4, 4, 1), dtype="float32")
    result = attacks.pixel_attack_de(one_pixel_reader, x, [0], pixels=1, population=30, maxiter=30, seed=0)
    assert result.fooled[0] and (result.rows[0, 0], result.cols[0, 0]) == (2, 1) and result.values[0, 0] > 0.5
    two = attacks.pixel_attack_de(one_pixel_reader, x, [0], pixels=2, population=30, maxiter=30, seed=0)
    assert two.rows.shape == (1, 2) and two.fooled[0]


def test_transforms_identity_and_eot_box(two_class):
    identity = attacks.random_transforms(3, max_degrees=0, max_shift=0, zoom=(1, 1), size=(2, 2))
    x = np.random.default_rng(2).random((3, 2, 2, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(attacks.apply_transforms(x, identity)), x, atol=1e-6)
    adv = attacks.eot_attack(two_class, x, [0, 0, 0], eps=0.1, steps=3, samples=2)
    assert np.abs(adv - x).max() <= 0.1 + 1e-6
    shares = attacks.fooled_under_transforms(two_class, x, [0, 0, 0], n_transforms=5)
    assert shares.shape == (3,) and ((0 <= shares) & (shares <= 1)).all()


def test_adversarial_training_runs_and_changes_the_weights():
    model = linear_model(np.zeros((4, 2)), np.zeros(2))
    x = np.random.default_rng(3).random((64, 2, 2, 1)).astype("float32")
    y = (x.reshape(64, 4)[:, 0] > 0.5).astype(int)
    history = attacks.adversarial_training(model, x, y, eps=0.1, epochs=2, batch_size=32, verbose=False)
    assert len(history["loss"]) == 2 and np.abs(model.layers[-1].get_weights()[0]).sum() > 0


def test_bad_input_gets_clear_messages(two_class):
    good = np.zeros((1, 2, 2, 1), dtype="float32")
    with pytest.raises(CourseError, match="pixel values in \\[0, 1\\].*255"):
        attacks.fgsm(two_class, good + 200, [0], 0.1)
    with pytest.raises(CourseError, match="shape"):
        attacks.fgsm(two_class, np.zeros((1, 3, 3, 1)), [0], 0.1)
    with pytest.raises(CourseError, match="class numbers 0 to 1"):
        attacks.fgsm(two_class, good, [5], 0.1)
    with pytest.raises(CourseError, match="one per image"):
        attacks.fgsm(two_class, np.zeros((2, 2, 2, 1)), [0, 1, 0], 0.1)
    with pytest.raises(CourseError, match="between 0 and 1"):
        attacks.fgsm(two_class, good, [0], 8)
    with pytest.raises(CourseError, match="NaN"):
        attacks.fgsm(two_class, good * np.nan, [0], 0.1)
    with pytest.raises(CourseError, match="values must be pixel values"):
        attacks.one_pixel_search(two_class, good, [0], values=(0, 255))
    # a single image without batch or channel axis is accepted
    assert attacks.fgsm(two_class, np.zeros((2, 2)), 0, 0.1).shape == (1, 2, 2, 1)


def test_models_that_cannot_be_attacked_are_refused():
    no_softmax = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(CourseError, match="softmax"):
        attacks.fgsm(no_softmax, np.zeros((1, 2, 2, 1)), [0], 0.1)
    mixed = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(dtype="mixed_bfloat16"),
                              keras.layers.Dense(2, activation="softmax", dtype="float32")])
    with pytest.raises(CourseError, match="as_float32"):
        attacks.fgsm(mixed, np.zeros((1, 2, 2, 1)), [0], 0.1)
