"""utils.autoencoders: the sampling layer, the VAE loss and its save/load, NMSE, KL and the latent grid."""

from __future__ import annotations

import numpy as np
import pytest

from utils import autoencoders as ae
from utils.errors import CourseError


def test_nmse_known_values():
    x = np.array([[3.0, 4.0]])
    assert ae.nmse(x, x) == 0.0
    assert ae.nmse(x, np.zeros_like(x)) == pytest.approx(1.0)
    assert ae.nmse(x, np.array([[3.0, 3.0]])) == pytest.approx(1 / 25)
    assert ae.nmse(np.array([10, 20], dtype=np.uint8), np.array([12, 20], dtype=np.uint8)) == pytest.approx(4 / 500)


def test_nmse_bad_input_says_what_it_expected():
    with pytest.raises(CourseError, match=r"same shape.*\(2,\).*\(3,\)"):
        ae.nmse([1, 2], [1, 2, 3])
    with pytest.raises(CourseError, match="all zero"):
        ae.nmse([0, 0], [1, 1])
    with pytest.raises(CourseError, match="array of numbers"):
        ae.nmse(["a", "b"], [1, 2])


def test_kl_of_a_standard_normal_is_zero_and_known_values():
    assert np.allclose(ae.kl_divergence(np.zeros((4, 2)), np.zeros((4, 2))), 0.0)
    # mean 1, variance 1: 0.5 * 1; variance e (log_var 1), mean 0: 0.5 * (e - 2)
    assert ae.kl_divergence([[1.0, 0.0]], [[0.0, 1.0]])[0] == pytest.approx(0.5 + 0.5 * (np.e - 2))
    assert (ae.kl_divergence(np.random.default_rng(0).normal(size=(50, 3)),
                             np.random.default_rng(1).normal(size=(50, 3))) > 0).all()
    with pytest.raises(CourseError, match="same shape"):
        ae.kl_divergence(np.zeros((2, 2)), np.zeros((2, 3)))


def test_to_unit_shapes_and_message():
    x = ae.to_unit(np.full((2, 28, 28), 255, dtype=np.uint8))
    assert x.shape == (2, 28, 28, 1) and x.dtype == np.float32 and x.max() == 1.0
    with pytest.raises(CourseError, match=r"\(N, height, width\)"):
        ae.to_unit(np.zeros(5))


def test_sampling_layer_shapes_mean_and_spread():
    sampling = ae.Sampling(seed=3)
    mean = np.full((2000, 2), 3.0, dtype="float32")
    log_var = np.full((2000, 2), np.log(4.0), dtype="float32")
    z = np.asarray(sampling([mean, log_var]))
    assert z.shape == (2000, 2)
    assert z.mean() == pytest.approx(3.0, abs=0.15) and z.std() == pytest.approx(2.0, rel=0.08)
    again = np.asarray(sampling([mean, log_var]))
    assert not np.allclose(z, again), "each call draws new noise"
    zero_var = np.asarray(sampling([mean, np.full_like(mean, -40.0)]))
    assert np.allclose(zero_var, 3.0, atol=1e-4)
    assert ae.Sampling(seed=1).get_config()["seed"] == 1


def test_vae_losses_train_step_and_save_load(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    vae = ae.build_vae(latent_dim=2, hidden=16, seed=0)
    assert [tuple(t.shape[1:]) for t in vae.encoder.outputs] == [(2,), (2,), (2,)]
    assert tuple(vae.decoder.output.shape[1:]) == (28, 28, 1)
    x = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
    total, recon, kl = (float(v) for v in vae.losses_for(x))
    assert total == pytest.approx(recon + kl, rel=1e-5) and recon > 0 and kl >= 0
    z_mean, z_log_var, _ = vae.encoder(x)
    assert kl == pytest.approx(float(ae.kl_divergence(np.asarray(z_mean), np.asarray(z_log_var)).mean()), rel=1e-4)
    vae.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = vae.fit(x, epochs=3, batch_size=32, verbose=0).history
    assert set(history) == {"loss", "reconstruction", "kl"} and history["loss"][-1] < history["loss"][0]
    assert vae.predict(x[:3], verbose=0).shape == (3, 28, 28, 1)
    path = tmp_path / "vae.keras"
    vae.save(path)
    loaded = keras.models.load_model(path)
    assert np.allclose(loaded.predict(x[:3], verbose=0), vae.predict(x[:3], verbose=0), atol=1e-6)
    assert isinstance(loaded, ae.VAE) and isinstance(loaded.encoder.get_layer("z"), ae.Sampling)


def test_train_vae_goes_through_fit_in_memory_with_validation(monkeypatch):
    from utils import training

    calls = []

    def spy(model, x, y=None, **kwargs):
        calls.append((y, kwargs))
        return training.fit_in_memory(model, x, y, **kwargs)

    monkeypatch.setattr(ae, "fit_in_memory", spy)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (48, 28, 28), dtype=np.uint8)
    recipe = dict(ae.VAE_RECIPE, hidden=16, epochs=2, fast_epochs=1, batch_size=16)
    model, info = ae.train_vae(images[:32], images[32:], recipe=recipe, fast=False)
    assert len(calls) == 1 and calls[0][0] is None and calls[0][1]["epochs"] == 2
    assert set(info["history"]) == {"loss", "reconstruction", "kl", "val_loss", "val_reconstruction", "val_kl"}
    assert len(info["history"]["val_kl"]) == 2 and model.predict(images[:2], verbose=0).shape == (2, 28, 28, 1)


def test_latent_grid_order_and_messages():
    def decode(z):  # an "image" whose pixels hold the two coordinates
        return np.stack([np.full((len(z), 2, 2), 0.0) + z[:, :1, None], np.zeros((len(z), 2, 2))], axis=1)[:, 0]

    images, values = ae.latent_grid(decode, n=3, span=1.0)
    assert images.shape == (3, 3, 2, 2) and np.allclose(values, [-1, 0, 1])
    assert np.allclose(images[0, :, 0, 0], [-1, 0, 1])  # first coordinate grows to the right
    with pytest.raises(CourseError, match="at least 2"):
        ae.latent_grid(decode, n=1)
    with pytest.raises(CourseError, match="two different latent coordinates"):
        ae.latent_grid(decode, dims=(0, 0))
    with pytest.raises(CourseError, match=r"returned an array of shape \(9, 5\)"):
        ae.latent_grid(lambda z: np.zeros((len(z), 5)), n=3)
    with pytest.raises(CourseError, match="decoder model or a function"):
        ae.latent_grid(42, n=3)


def test_plot_latent_grid_draws(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    images = ae.plot_latent_grid(lambda z: np.zeros((len(z), 4, 4, 1)), n=4)
    assert images.shape == (4, 4, 4, 4)
