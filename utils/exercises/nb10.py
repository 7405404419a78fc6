"""Exercises for notebook 10, *Generative adversarial networks* (q1-q7 in the notebook's order)."""

from __future__ import annotations

import numpy as np

from utils.exercises import Exercise, expect_choice, expect_function, expect_shape


def _options(question: str, options: dict[str, str]) -> str:
    """A question followed by its options, one per line (what the notebook's cell prints)."""
    return question + "\n" + "\n".join(f"  {key}: {text}" for key, text in options.items())


# ----------------------------------------------------------------------------------------------
# q1: the non-saturating generator loss, written by the learner


def _softplus(t: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, t)


def _nonsaturating(fake_logits) -> float:
    return float(np.mean(_softplus(-np.asarray(fake_logits, dtype="float64"))))


def _logit_cases() -> list[tuple]:
    rng = np.random.default_rng(10)
    return [(np.array([[0.0]], dtype="float32"),),
            (np.array([[-3.0], [0.5], [2.0]], dtype="float32"),),
            (rng.normal(0, 2, (16, 1)).astype("float32"),),
            (np.array([[-12.0], [-8.0], [-6.0], [-9.0]], dtype="float32"),)]


def _as_number(result) -> float:
    return float(np.asarray(result, dtype="float64"))


q1 = Exercise(
    name="q1",
    question="Write my_generator_loss(fake_logits): the non-saturating generator loss, -log D(G(z)) averaged over "
             "the batch, where D(G(z)) = sigmoid(logit) and fake_logits is D's output on a batch of fakes, shape "
             "(batch, 1). Use keras.ops (ops.softplus, ops.sigmoid, ops.log, ops.mean); it must return one number.",
    checker=expect_function(_nonsaturating, _logit_cases, atol=1e-4),
    hints=["-log sigmoid(l) = log(1 + e^(-l)) = softplus(-l).",
           "Average over the batch with ops.mean, and mind the sign: the loss is large when D says 'fake' "
           "(l very negative).",
           "return ops.mean(ops.softplus(-fake_logits))"],
    solution_text="def my_generator_loss(fake_logits):\n    return ops.mean(ops.softplus(-fake_logits))\n"
                  "-log sigmoid(l) = softplus(-l), which never overflows. The loss is about |l| when D rejects a "
                  "fake with confidence (l very negative) and its slope stays near -1 there, so the generator keeps "
                  "learning. -ops.mean(ops.log(ops.sigmoid(fake_logits))) is the same number for moderate logits, "
                  "but sigmoid rounds to 0 for logits below about -100 in float32 and the log becomes infinite.",
    solution_value=lambda logits: np.mean(_softplus(-np.asarray(logits, dtype="float64"))),
    wrong_examples=(lambda t: -np.mean(_softplus(np.asarray(t, "float64"))),  # the saturating loss
                    lambda t: np.mean(_softplus(np.asarray(t, "float64"))),  # -log(1 - D): the logit sign flipped
                    lambda t: -np.mean(_softplus(-np.asarray(t, "float64"))),  # log D: the minus sign forgotten
                    lambda t: np.sum(_softplus(-np.asarray(t, "float64"))),  # summed, not averaged
                    lambda t: np.mean(1 - 1 / (1 + np.exp(-np.asarray(t, "float64"))))),  # 1 - D, no logarithm
)


# ----------------------------------------------------------------------------------------------
# q2: the optimal discriminator


def _optimal_discriminator(p_data, p_g):
    p_data, p_g = np.asarray(p_data, dtype=float), np.asarray(p_g, dtype=float)
    return p_data / (p_data + p_g)


def _density_cases() -> list[tuple]:
    grid = np.linspace(-3, 3, 7)
    data = np.exp(-grid ** 2 / 2) / np.sqrt(2 * np.pi)
    fake = np.exp(-(grid - 1) ** 2 / 2) / np.sqrt(2 * np.pi)
    return [(0.3, 0.1), (0.2, 0.2), (data, fake), (np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0]))]


q2 = Exercise(
    name="q2",
    question="For a fixed generator, the discriminator that wins the game outputs D*(x) from the two densities at x: "
             "p_data(x) (real data) and p_g(x) (the generator's). Write D_star(p_data, p_g); it should work on "
             "numbers and on NumPy arrays.",
    checker=expect_function(_optimal_discriminator, _density_cases),
    hints=["For one x, D chooses a number t in (0, 1) to maximise p_data log t + p_g log(1 - t).",
           "Set the derivative p_data / t - p_g / (1 - t) to zero and solve for t.",
           "Where only real data lives (p_g = 0) the answer is 1; where both densities are equal it is 1/2."],
    solution_text="def D_star(p_data, p_g):\n    return p_data / (p_data + p_g)\n"
                  "For fixed G, the value function is the integral of p_data log D + p_g log(1 - D); a log t + b "
                  "log(1 - t) is largest at t = a / (a + b) (Goodfellow et al. 2014, proposition 1). When the "
                  "generator is perfect (p_g = p_data), D* = 1/2 everywhere.",
    solution_value=_optimal_discriminator,
    wrong_examples=(lambda p, q: np.asarray(q, float) / (np.asarray(p, float) + np.asarray(q, float)),
                    lambda p, q: np.asarray(p, float) / np.maximum(np.asarray(q, float), 1e-12),
                    lambda p, q: np.clip(np.asarray(p, float) - np.asarray(q, float), 0, 1)),
)


# ----------------------------------------------------------------------------------------------
# q3: predict, then check (the saturating loss against a strong discriminator)

_SATURATING_OPTIONS = {
    "A": "about where it was after D's head start: G hardly moves",
    "B": "at the data (about 8), as fast as with the non-saturating loss",
    "C": "about halfway to the data: it moves, only more slowly",
    "D": "past the data (beyond 12): the steep loss overshoots",
}

q3 = Exercise(
    name="q3",
    question=_options("Predict before you run the next cell. D has had a 3-epoch head start and rejects G's "
                      "numbers with confidence; G then trains 8 epochs with plain SGD on the SATURATING loss "
                      "(minimise log(1 - D(G(z)))). Where is the mean of G's samples at the end?",
                      _SATURATING_OPTIONS),
    checker=expect_choice("A", list(_SATURATING_OPTIONS)),
    hints=["What is the slope of log(1 - sigmoid(l)) with respect to the logit l when D(G(z)) = sigmoid(l) is "
           "near 0?",
           "The slope is -sigmoid(l): nearly 0. Plain SGD takes steps of learning rate x slope."],
    solution_text="A. D(G(z)) is near 0, so the saturating loss's slope, -sigmoid(l), is near 0 too, and plain SGD "
                  "(no Adam to rescale a tiny gradient) moves G almost not at all: the printed mean stays near where "
                  "it started while the non-saturating run reaches the data. Nothing in this loss can overshoot (D); "
                  "it is not merely slower (C) while D keeps rejecting the fakes, because the gradient shrinks as D "
                  "gets surer.",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)


# ----------------------------------------------------------------------------------------------
# q4: the size of a transposed convolution

q4 = Exercise(
    name="q4",
    question="Our generator's Conv2DTranspose layers use padding='same', which makes the size exactly stride x input. "
             "What shape (height, width, channels) does Conv2DTranspose(32, kernel_size=4, strides=2, "
             "padding='valid') make from a 7x7x64 input?",
    checker=expect_shape((16, 16, 32)),
    hints=["A transposed convolution places one kernel-sized patch per input pixel, `strides` pixels apart.",
           "With 'valid' padding nothing is cut off: size = (input - 1) * stride + kernel."],
    solution_text="(7 - 1) * 2 + 4 = 16, and the channels are the layer's 32 filters: (16, 16, 32). "
                  "With padding='same' Keras crops the result to 7 * 2 = 14.",
    solution_value=(16, 16, 32),
    wrong_examples=((14, 14, 32), (13, 13, 32), (16, 16, 64), (15, 15, 32)),
)


# ----------------------------------------------------------------------------------------------
# q5: three schematic loss curves


def loss_patterns(steps: int = 200, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Three made-up (schematic) runs' loss curves, discriminator and generator, for question 5: not real runs."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    noise = lambda: rng.normal(0, 0.04, steps)  # noqa: E731
    healthy = {"d_loss": 1.25 + 0.05 * np.exp(-t / 40) + noise(), "g_loss": 0.95 - 0.1 * np.exp(-t / 40) + noise()}
    winning = {"d_loss": 1.3 * np.exp(-t / 30) + 0.02 + np.abs(noise()) / 4,
               "g_loss": 0.8 + 5 * (1 - np.exp(-t / 30)) + noise()}
    saw = (t % 40) / 40.0
    collapse = {"d_loss": 0.6 + 0.9 * saw + noise(), "g_loss": 2.4 - 2.0 * saw + noise()}
    return {"A": healthy, "B": winning, "C": collapse}


_SKETCH_OPTIONS = {
    "A": "sketch A: both losses settle and stay near steady values",
    "B": "sketch B: D's loss falls towards 0 while G's keeps rising",
    "C": "sketch C: a saw-tooth, G's loss falling and jumping back again and again",
}

q5 = Exercise(
    name="q5",
    question=_options("The three sketches from ex.loss_patterns() (made-up curves, plotted above). In which one does "
                      "the generator keep hopping onto a single kind of image that currently fools the "
                      "discriminator, until the discriminator learns to reject it (mode collapse, jumping from mode "
                      "to mode)?", _SKETCH_OPTIONS),
    checker=expect_choice("C", list(_SKETCH_OPTIONS)),
    hints=["Hopping is a cycle: what would G's loss do while it exploits one mode, and when D catches on?",
           "One sketch settles; in one the discriminator wins for good. Neither is a cycle."],
    solution_text="C: a saw-tooth, the generator's loss dropping while it exploits one mode and jumping back when the "
                  "discriminator learns to reject that mode, again and again. A settles near a balance (healthy). "
                  "B is the other failure: the discriminator's loss goes to 0 and the generator's keeps rising, the "
                  "discriminator has won. These are sketches: a real run's curves only hint at collapse, and the "
                  "class shares of an unconditional run (measured later in the notebook) show it.",
    solution_value="C",
    wrong_examples=("A", "B", "D"),
)


# ----------------------------------------------------------------------------------------------
# q6: the cheat

_MEASUREMENTS = {
    "confidence": "the confidence share",
    "classes": "the class shares",
    "frechet": "the Frechet distance in the judge's features",
}

q6 = Exercise(
    name="q6",
    question=_options("A cheating 'generator' returns copies of just ten real training digits, one per class, each "
                      "read by the judge with more than 99% confidence, 100 copies each. Which of these "
                      "measurements gives it away?", _MEASUREMENTS),
    checker=expect_choice("frechet", list(_MEASUREMENTS)),
    hints=["Each copy is a confidently read real digit, and ten classes x 100 copies is a perfect histogram.",
           "What do 100 identical images do to the spread (covariance) of the features?"],
    solution_text="'frechet': every copy is read with confidence (the ten were chosen so) and every class gets 10%, "
                  "but the features of 100 copies have no spread at all, so the fitted Gaussian's covariance is far "
                  "too small and the Frechet distance (which compares means AND covariances) is far above the "
                  "real-vs-real floor. That is why the judge reports its numbers together. (The memorisation check "
                  "introduced after this exercise catches the cheat as well: every copy is at distance 0 from a "
                  "training digit.)",
    solution_value="frechet",
    wrong_examples=("confidence", "classes", "memorisation", "nearest"),
)


# ----------------------------------------------------------------------------------------------
# q7: why a per-pixel loss gives grey digits

_GREY_OPTIONS = {
    "A": "the decoder has fewer parameters than the generator, so it cannot draw fine strokes",
    "B": "for each z the best output under a per-pixel loss is the average of the digits z stands for",
    "C": "the VAE was trained on blurred copies of the digits, so it learned to draw blurred ones",
    "D": "its sigmoid output never reaches exactly 0 or 1, so every pixel stays a little grey",
}

q7 = Exercise(
    name="q7",
    question=_options("The VAE's digits are softer and greyer than the GANs' (the sharpness column and the pixel "
                      "histogram). Which explanation fits a per-pixel loss?", _GREY_OPTIONS),
    checker=expect_choice("B", list(_GREY_OPTIONS)),
    hints=["One option is contradicted by the parameter counts printed above, another by notebook 09 (which images "
           "did the VAE learn to reconstruct?).",
           "The GAN's tanh output never reaches exactly -1 or 1 either, yet its digits are crisp.",
           "Two numbers of z cannot say exactly where every stroke goes. What is the best single guess, under a "
           "per-pixel loss, when several strokes are possible?"],
    solution_text="B. The VAE's reconstruction loss scores every pixel on its own, so for a given z the best output "
                  "is the per-pixel mean of the digits that z stands for: where their strokes disagree a little, the "
                  "mean is grey. With only 2 latent numbers, each z stands for many different handwritings, so "
                  "there is much to average. The GAN has no per-pixel target at all: its generator is scored by a "
                  "discriminator, and a grey, averaged digit is easy for it to reject. (A: the printed counts show "
                  "the decoder has more parameters than the generator; C: it trained on the same MNIST images as "
                  "everything else; D: true, but the GAN's tanh cannot reach -1 or 1 exactly either.) This is the "
                  "per-pixel loss's part only: the notebook's comparison also differs in latent size, architecture "
                  "and budget. Goodfellow, Bengio and Courville (Deep Learning, 2016, section 20.10.3) note that "
                  "VAE samples tend to be blurry and that its causes were not fully known.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
