"""Mixed precision on a CPU: every custom ``train_step`` and every hand-written optimisation loop of the course, run
for a few steps on tiny data under ``mixed_float16`` and ``mixed_bfloat16``, must give a finite loss and actually
move its weights (or pixels). A GPU's float16 would show the same underflow: gradients below float16's smallest
subnormal (6e-8) become 0 unless the loss is scaled up first. An unscaled float16 loop shows the check can fail."""

from __future__ import annotations

import numpy as np
import pytest

from utils import env

env.quiet_tensorflow()
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

MIXED = ("mixed_float16", "mixed_bfloat16")


@pytest.fixture(params=MIXED)
def policy(request):
    """Run the test under each mixed policy, and put the global policy back afterwards whatever happens."""
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(request.param)
    keras.utils.set_random_seed(0)
    try:
        yield request.param
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.fixture(autouse=True)
def temporary_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))


def snapshot(values) -> list[np.ndarray]:
    return [np.array(v, dtype="float32", copy=True) for v in values]


def assert_moved(before, after, what: str = "weights") -> None:
    """Every array is finite and at least one changed (a float16 loop whose gradients underflowed leaves all as they
    were: Adam divides by the gradient's size, so any nonzero gradient moves a weight)."""
    assert all(np.isfinite(a).all() for a in after), f"non-finite {what}"
    changed = [not np.array_equal(a, b) for a, b in zip(before, after)]
    assert any(changed), f"no {what} changed: the gradients were all zero"


def count_scale_loss(monkeypatch, *optimizers) -> list:
    """Record each call of the optimizers' ``scale_loss`` (made while ``fit`` traces the train_step)."""
    calls = []
    for optimizer in optimizers:
        original = type(optimizer).scale_loss

        def counting(self, loss, original=original):
            calls.append(self)
            return original(self, loss)

        monkeypatch.setattr(type(optimizer), "scale_loss", counting)
    return calls


def assert_finite(*losses) -> None:
    for loss in losses:
        assert np.isfinite(np.asarray(loss, dtype="float64")).all(), f"loss not finite: {loss}"


# ----------------------------------------------------------------------------------------------
# The check can fail: float16 without loss scaling


def tiny_regression():
    """A Dense layer whose loss is a mean over 4,096 small errors: each output's gradient is about 1e-8."""
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4096, kernel_initializer="zeros")])
    x = tf.constant(np.random.default_rng(0).uniform(0, 1, (4, 8)).astype("float32"))
    target = tf.fill((4, 4096), 1e-4)
    return model, x, target


def regression_steps(optimizer, model, x, target, scale: bool, steps: int = 3):
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.cast(model(x), "float32") - target))
            scaled = optimizer.scale_loss(loss) if scale else loss
        optimizer.apply_gradients(zip(tape.gradient(scaled, model.trainable_weights), model.trainable_weights))
    return loss


def test_an_unscaled_float16_loop_fails_the_check_and_the_scaled_one_passes():
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model, x, target = tiny_regression()
        before = snapshot(model.trainable_weights)
        loss = regression_steps(keras.optimizers.Adam(1e-3), model, x, target, scale=False)
        assert_finite(loss)
        with pytest.raises(AssertionError, match="no weights changed"):
            assert_moved(before, snapshot(model.trainable_weights))
        optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3))
        loss = regression_steps(optimizer, model, x, target, scale=True)
        assert_finite(loss)
        assert_moved(before, snapshot(model.trainable_weights))
    finally:
        keras.mixed_precision.set_global_policy(previous)


def test_in_float32_the_same_loop_moves_without_scaling():
    model, x, target = tiny_regression()
    before = snapshot(model.trainable_weights)
    regression_steps(keras.optimizers.Adam(1e-3), model, x, target, scale=False)
    assert_moved(before, snapshot(model.trainable_weights))


# ----------------------------------------------------------------------------------------------
# Custom train_steps: the GAN (notebook 10) and the VAE (notebook 09)


def tiny_digits(n: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 28, 28)).astype("uint8"), rng.integers(0, 10, n).astype("int32")


@pytest.mark.parametrize("conditional", [True, False])
def test_gan_train_step_scales_its_losses_and_both_players_learn(policy, conditional, monkeypatch):
    from utils import gan

    recipe = {**gan.RECIPES["fast"], "latent_dim": 8, "width": 8, "batch_size": 8, "conditional": conditional}
    model = gan.build_gan(recipe, precision=policy)
    scaled = isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (policy == "mixed_float16") == isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    players = model.generator.trainable_weights + model.discriminator.trainable_weights
    before = snapshot(players)
    calls = count_scale_loss(monkeypatch, model.d_optimizer, model.g_optimizer)
    x, y = tiny_digits()
    history = model.fit(gan.dataset(x, y if conditional else None, 8), steps_per_epoch=4, epochs=1, verbose=0)
    assert model.d_optimizer in calls and model.g_optimizer in calls
    assert_finite(history.history["d_loss"], history.history["g_loss"])
    assert_moved(before[:len(model.generator.trainable_weights)],
                 snapshot(model.generator.trainable_weights), "generator weights")
    assert_moved(before[len(model.generator.trainable_weights):],
                 snapshot(model.discriminator.trainable_weights), "discriminator weights")


def test_vae_train_step_scales_its_loss(policy, monkeypatch):
    from utils import autoencoders

    model = autoencoders.build_vae(latent_dim=2, hidden=16)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    before = snapshot(model.trainable_weights)
    calls = count_scale_loss(monkeypatch, model.optimizer)
    x = autoencoders.to_unit(tiny_digits()[0])
    history = model.fit(x, epochs=1, batch_size=8, verbose=0)
    assert model.optimizer in calls
    assert_finite(history.history["loss"], history.history["kl"])
    assert_moved(before, snapshot(model.trainable_weights))
