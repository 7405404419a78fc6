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


def test_summed_bce_is_keras_binary_crossentropy_times_the_pixels():
    import keras

    rng = np.random.default_rng(2)
    images = (rng.random((5, 28, 28, 1)) > 0.6).astype("float32") * rng.random((5, 28, 28, 1)).astype("float32")
    decoded = np.clip(rng.random((5, 28, 28, 1)), 0.01, 0.99).astype("float32")
    ours = np.asarray(ae.reconstruction_loss(images, decoded))
    library = np.asarray(keras.losses.binary_crossentropy(images.reshape(5, -1), decoded.reshape(5, -1)))
    assert ours.shape == (5,)
    assert np.allclose(ours, 784 * library, rtol=1e-4), "the VAE's BCE is Keras' mean BCE summed over 784 pixels"
    assert np.isfinite(np.asarray(ae.reconstruction_loss(images, np.zeros_like(images)))).all()  # clipped log(0)


def test_kl_loss_matches_the_numpy_formula_and_is_zero_at_the_prior():
    rng = np.random.default_rng(3)
    mean, log_var = rng.normal(size=(6, 2)).astype("float32"), rng.normal(size=(6, 2)).astype("float32")
    assert np.allclose(np.asarray(ae.kl_loss(mean, log_var)), ae.kl_divergence(mean, log_var), rtol=1e-5)
    assert np.allclose(np.asarray(ae.kl_loss(np.zeros((3, 4)), np.zeros((3, 4)))), 0.0)


def test_beta_weighs_the_kl_term_in_the_loss():
    import keras

    keras.utils.set_random_seed(0)
    vae = ae.build_vae(latent_dim=2, hidden=8, seed=0, beta=4.0)
    x = np.random.default_rng(1).random((8, 28, 28, 1)).astype("float32")
    total, recon, kl = (float(v) for v in vae.losses_for(x))
    assert total == pytest.approx(recon + 4.0 * kl, rel=1e-5)
    assert ae.VAE.from_config(vae.get_config()).beta == 4.0


def test_load_or_train_beta_vae_caches_each_beta_apart(monkeypatch, tmp_path):
    from utils import cache

    monkeypatch.setattr(ae, "BETA_RUNS", {"images": 40, "epochs": 1, "fast_images": 40, "fast_epochs": 1})
    monkeypatch.setattr(ae, "VAE_RECIPE", dict(ae.VAE_RECIPE, hidden=8, batch_size=20))
    rng = np.random.default_rng(0)
    monkeypatch.setattr(ae, "_mnist_split", lambda fast: (rng.integers(0, 256, (60, 28, 28), dtype=np.uint8),
                                                          rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)))
    names = []
    real = cache.load_or_train

    def spy(name, recipe, train, **kwargs):
        names.append((name, recipe["vae"]["beta"]))
        return real(name, recipe, train, **kwargs)

    monkeypatch.setattr(cache, "load_or_train", spy)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    model = ae.load_or_train_beta_vae(4, fast=True, verbose=False)
    assert names == [("mnist_vae_beta4", 4.0)] and model.beta == 4.0
    assert set(model.course_cache.info["history"]) >= {"reconstruction", "kl", "val_kl"}
    with pytest.raises(CourseError, match="0 or more"):
        ae.load_or_train_beta_vae(-1)
    with pytest.raises(CourseError, match="must be a number"):
        ae.load_or_train_beta_vae("big")


def test_the_registered_names_notebook_10_loads_are_kept():
    import keras

    assert keras.saving.get_registered_name(ae.VAE) == "course_autoencoders>VAE"
    assert keras.saving.get_registered_name(ae.Sampling) == "course_autoencoders>Sampling"
    assert ae.VAE_NAME == "mnist_vae"


def test_the_lesson_code_in_the_module_is_the_notebooks():
    from pathlib import Path

    import nbformat

    root = Path(__file__).resolve().parent.parent
    nb = nbformat.read(root / "notebooks" / "09_autoencoders.ipynb", as_version=4)
    exported = [c.source.partition("\n")[2].strip("\n") for c in nb.cells
                if c.cell_type == "code" and c.source.startswith("#@save utils.autoencoders")]
    module = (root / "utils" / "autoencoders.py").read_text()
    assert len(exported) == 3, "notebook 09 exports the sampling layer, the two loss terms and the VAE"
    for code in exported:
        assert code in module, f"utils/autoencoders.py lacks the notebook's cell starting {code[:60]!r}: make export"


def test_show_rows_draws_and_checks_its_labels():
    import matplotlib

    matplotlib.use("Agg")
    ae.show_rows([np.zeros((3, 4, 4)), np.ones((2, 4, 4, 1))], ["a", "b"], titles=[["x"] * 3, ["y"] * 2])
    with pytest.raises(CourseError, match="one label per row"):
        ae.show_rows([np.zeros((3, 4, 4))], ["a", "b"])
    with pytest.raises(CourseError, match="one title per image"):
        ae.show_rows([np.zeros((3, 4, 4))], ["a"], titles=[["x"]])


def test_exercise_q5_takes_an_ops_or_numpy_kl_and_rejects_a_batch_total():
    from keras import ops

    from utils.exercises import nb09 as ex

    assert ex.q5.evaluate(lambda m, lv: 0.5 * ops.sum(ops.square(m) + ops.exp(lv) - 1 - lv, axis=1)).ok is True
    assert ex.q5.evaluate(lambda m, lv: 0.5 * np.sum(m ** 2 + np.exp(lv) - 1 - lv, axis=-1)).ok is True
    verdict = ex.q5.evaluate(ex._kl_one_number_for_the_batch)
    assert verdict.ok is False and "test case" in verdict.message
