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


# ----------------------------------------------------------------------------------------------
# Loops outside fit: style transfer, image completion, the judge-fooling noise, adversarial training


def test_style_networks_are_float32_under_any_policy_and_synthesis_moves_the_pixels(policy):
    from utils import style

    net = style.random_vgg(blocks=((4, 1), (8, 1)))
    assert net.dtype_policy.name == "float32"
    assert {layer.dtype_policy.name for layer in net.layers} == {"float32"}
    extract = style.feature_extractor(net, ["block1_conv1", "block2_conv1"])
    assert all(m.dtype == "float32" for m in extract(np.zeros((1, 8, 8, 3), np.float32)))
    texture = np.random.default_rng(0).random((8, 8, 3)).astype(np.float32)
    start, _ = style.synthesize(extract, texture, steps=0)   # the noise it starts from
    image, history = style.synthesize(extract, texture, steps=5, learning_rate=0.05)
    assert_finite(history["style"])
    assert_moved([start], [image], "pixels")
    content = np.linspace(0, 1, 8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)
    with_content = style.feature_extractor(net, ["block1_conv1", "block2_conv1", "block2_conv1"])
    painted, history = style.synthesize(with_content, texture, content=content, steps=5, content_weight=1.0,
                                        learning_rate=0.05, tv_weight=1.0)   # the notebook's path, TV cost included
    assert_finite(history["style"], history["content"], history["tv"])
    assert_moved([content], [painted], "pixels")


def test_a_16_bit_base_is_differentiated_through_a_float32_copy(policy):
    from utils import style

    with env.dtype_policy(policy):   # as keras.applications.VGG19 would be built under a mixed global policy
        inputs = keras.Input((None, None, 3))
        base = keras.Model(inputs, keras.layers.Conv2D(4, 3, name="block1_conv1")(inputs))
    assert base.layers[-1].dtype_policy.name == policy
    extract = style.feature_extractor(base, ["block1_conv1"])
    image = tf.Variable(np.random.default_rng(0).random((1, 8, 8, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(extract(image)[0])
    assert extract(image)[0].dtype == "float32" and np.abs(tape.gradient(loss, image).numpy()).sum() > 0


def test_vgg19_is_built_under_a_float32_policy(policy, monkeypatch):
    from utils import style

    seen = []
    monkeypatch.setattr(keras.applications, "VGG19",
                        lambda **kwargs: seen.append(keras.mixed_precision.global_policy().name) or "vgg19")
    assert style.imagenet_vgg19(is_online=lambda: True) == "vgg19"
    assert seen == ["float32"] and keras.mixed_precision.global_policy().name == policy


def test_image_completion_moves_z_under_a_16_bit_generator(policy):
    from utils import gan

    with env.dtype_policy(policy):
        generator = gan.build_generator(latent_dim=8, width=8, conditional=True, upsample="transpose")
    image = np.random.default_rng(0).uniform(0, 1, (28, 28)).astype("float32")
    mask = np.zeros((28, 28))
    mask[:14] = 1
    first, first_losses, _ = gan.complete_image(generator, image, mask, label=3, n_starts=2, steps=0)
    filled, losses, _ = gan.complete_image(generator, image, mask, label=3, n_starts=2, steps=10)
    assert_finite(losses)
    assert losses[0] < first_losses[0]
    assert_moved([first[:, 14:]], [filled[:, 14:]], "filled-in pixels")


def test_fooling_noise_moves_its_pixels_under_a_16_bit_judge(policy):
    from utils import gan

    with env.dtype_policy(policy):
        judge = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(10, activation="softmax")])
    still = gan.fooling_noise(judge, n=4, steps=0)
    pushed = gan.fooling_noise(judge, n=4, steps=3)
    assert_moved([still], [pushed], "pixels")


def test_adversarial_training_scales_the_loss_of_a_loss_scaling_optimizer(policy, monkeypatch):
    from utils import attacks

    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(dtype="float32"),
                              keras.layers.Dense(2, activation="softmax", dtype="float32")])
    model.compile(optimizer=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-2)),
                  loss="sparse_categorical_crossentropy")
    calls = count_scale_loss(monkeypatch, model.optimizer)
    before = snapshot(model.trainable_weights)
    x = np.random.default_rng(3).random((32, 2, 2, 1)).astype("float32")
    y = (x.reshape(32, 4)[:, 0] > 0.5).astype(int)
    history = attacks.adversarial_training(model, x, y, eps=0.1, epochs=1, batch_size=16, verbose=False)
    assert calls and history["loss"] and np.isfinite(history["loss"]).all()
    assert_moved(before, snapshot(model.trainable_weights))


def test_attacks_refuse_a_16_bit_model(policy):
    from utils import attacks
    from utils.errors import CourseError

    model = keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    with pytest.raises(CourseError, match="as_float32"):
        attacks.fgsm(model, np.zeros((1, 2, 2, 1), np.float32), [0], 0.1)


# ----------------------------------------------------------------------------------------------
# Models notebook 13 trains with fit: Keras scales the loss; what must hold is that their own layers stay finite


def test_siamese_network_trains_under_mixed_precision_even_on_identical_pairs(policy):
    from utils import similarity as sim

    pair_net = sim.build_siamese(sim.build_embedding(dim=4))
    assert {pair_net.get_layer(n).dtype_policy.name for n in ("squared_distance", "distance")} == {"float32"}
    pair_net.compile(optimizer=keras.optimizers.Adam(1e-3), loss=sim.contrastive_loss)
    x = tiny_digits(16)[0][..., None].astype("float32") / 255
    same = np.tile([1.0, 0.0], 8).astype("float32")
    second = np.where(same[:, None, None, None] == 1, x, x[::-1])   # same pairs: the very same image, distance 0
    before = snapshot(pair_net.trainable_weights)
    history = pair_net.fit([x, second], same, epochs=1, batch_size=8, verbose=0)
    assert_finite(history.history["loss"])
    assert_moved(before, snapshot(pair_net.trainable_weights))


def test_unet_and_upscaler_train_under_mixed_precision(policy):
    from utils import segmentation, upscaling

    rng = np.random.default_rng(0)
    unet = segmentation.build_unet(filters=(4, 8))
    unet.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    upscaler = upscaling.build_upscaler(filters=(4, 4))
    upscaler.compile(optimizer="adam", loss="mse")
    for model, x, y in ((unet, rng.random((8, 16, 16, 1)), rng.integers(0, segmentation.N_CLASSES, (8, 16, 16))),
                        (upscaler, rng.random((8, 7, 7, 1)), rng.random((8, 28, 28, 1)))):
        before = snapshot(model.trainable_weights)
        history = model.fit(x.astype("float32"), y, epochs=1, batch_size=4, verbose=0)
        assert_finite(history.history["loss"])
        assert_moved(before, snapshot(model.trainable_weights))


# ----------------------------------------------------------------------------------------------
# Which precision, per device (fake GPUs: TensorFlow's device calls are replaced)


class FakeGPU:
    device_type = "GPU"

    def __init__(self, index: int):
        self.name = f"/physical_device:GPU:{index}"


def fake_gpus(monkeypatch, details: list[dict], grown: list | None = None, initialised: bool = False):
    """Make TensorFlow report GPUs with these device details; record memory-growth calls in ``grown``."""
    gpus = [FakeGPU(i) for i in range(len(details))]
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: list(gpus) if kind in ("GPU", None) else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda gpu: details[gpus.index(gpu)])

    def set_memory_growth(gpu, enable):
        if initialised:
            raise RuntimeError("Physical devices cannot be modified after being initialized")
        if grown is not None:
            grown.append((gpu.name, enable))

    monkeypatch.setattr(tf.config.experimental, "set_memory_growth", set_memory_growth)
    return gpus


@pytest.mark.parametrize("name, capability, expected", [
    ("NVIDIA H100 80GB HBM3", (9, 0), "mixed_bfloat16"),
    ("NVIDIA A100-SXM4-40GB", (8, 0), "mixed_bfloat16"),
    ("NVIDIA L4", (8, 9), "mixed_bfloat16"),
    ("Tesla T4", (7, 5), "mixed_float16"),
    ("Tesla V100-SXM2-16GB", (7, 0), "mixed_float16"),
    ("Tesla P100-PCIE-16GB", (6, 0), "float32"),
    ("Tesla K80", (3, 7), "float32"),
])
def test_choose_precision_follows_the_gpus_compute_capability(monkeypatch, name, capability, expected):
    fake_gpus(monkeypatch, [{"device_name": name, "compute_capability": capability}])
    monkeypatch.setattr(env, "_cpu_has_bf16", lambda: True)   # the GPU decides, not the CPU
    assert env.gpu_compute_capability() == capability
    assert env.choose_precision() == expected
    assert env.choose_precision(f"GPU: {name}") == expected
    reason = env.precision_reason(expected)
    assert f"compute capability {capability[0]}.{capability[1]}" in reason
    assert ("loss scaling" in reason) == (expected == "mixed_float16")
    summary = env.precision_summary(f"GPU: {name}")
    assert summary.startswith(expected + " (GPU compute capability") and len(summary) < 60


def test_the_slowest_gpu_decides_and_a_gpu_without_a_capability_gets_float32(monkeypatch):
    fake_gpus(monkeypatch, [{"device_name": "NVIDIA A100", "compute_capability": (8, 0)},
                            {"device_name": "Tesla T4", "compute_capability": (7, 5)}])
    assert env.choose_precision() == "mixed_float16"
    fake_gpus(monkeypatch, [{"device_name": "AMD Instinct MI210"}])   # ROCm reports no compute capability
    assert env.gpu_compute_capability() is None and env.choose_precision() == "float32"
    assert "no compute capability" in env.precision_reason("float32")
    assert env.precision_reason("mixed_float16") == "it was chosen by hand"


def test_a_cpu_keeps_its_choice(monkeypatch):
    fake_gpus(monkeypatch, [])
    monkeypatch.setattr(env, "_cpu_has_bf16", lambda: False)
    assert env.choose_precision() == "float32" == env.choose_precision("CPU (2 cores)")
    assert env.precision_summary("CPU (2 cores)") == "float32 (CPU without bfloat16)"
    assert env.precision_reason("float32") == ("a CPU without bfloat16 instructions, where bfloat16 would be "
                                               "emulated and slower")
    monkeypatch.setattr(env, "_cpu_has_bf16", lambda: True)
    assert env.choose_precision() == "mixed_bfloat16"
    assert env.precision_summary("CPU (2 cores)") == "mixed_bfloat16 (CPU with bfloat16)"
    assert env.choose_precision("GPU: Tesla T4", compute_capability=(7, 5)) == "mixed_float16"


def test_this_machine_trains_in_float32():
    """The course's CI machine (AMD EPYC, AVX2 only) has neither a GPU nor bfloat16 instructions."""
    if tf.config.list_physical_devices("GPU") or env._cpu_has_bf16():
        pytest.skip("this machine has a GPU or a CPU with bfloat16")
    assert env.choose_precision() == "float32"


# ----------------------------------------------------------------------------------------------
# GPU memory: grow as needed, on every GPU


def test_memory_growth_is_turned_on_for_every_gpu(monkeypatch):
    grown = []
    fake_gpus(monkeypatch, [{"device_name": "Tesla T4", "compute_capability": (7, 5)}] * 2, grown)
    assert env.enable_memory_growth() == []
    assert grown == [("/physical_device:GPU:0", True), ("/physical_device:GPU:1", True)]


def test_setup_turns_memory_growth_on_and_names_device_and_precision(monkeypatch, capsys):
    grown = []
    fake_gpus(monkeypatch, [{"device_name": "Tesla T4", "compute_capability": (7, 5)}], grown)
    course = env.setup(seed=1)
    line = capsys.readouterr().out.splitlines()[0]
    assert grown == [("/physical_device:GPU:0", True)]
    assert course.device == "GPU: Tesla T4" and course.precision == "mixed_float16 (GPU compute capability 7.5, " \
                                                                    "loss scaling)"
    assert "| GPU: Tesla T4 | mixed_float16 (GPU compute capability 7.5, loss scaling) | TensorFlow" in line


def test_too_late_for_memory_growth_says_what_to_do(monkeypatch, capsys):
    fake_gpus(monkeypatch, [{"device_name": "Tesla T4", "compute_capability": (7, 5)}], initialised=True)
    notes = env.enable_memory_growth()
    assert len(notes) == 1 and "Restart the kernel" in notes[0] and "GPU:0" in notes[0]
    env.setup(seed=1)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Course ready:") and any("Restart the kernel" in line for line in out[1:])
