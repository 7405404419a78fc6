"""Exercises for notebook 10, *Generative adversarial networks*."""

from __future__ import annotations

import numpy as np

from utils.exercises import Exercise, expect_choice, expect_function, expect_shape


def _optimal_discriminator(p_data, p_g):
    p_data, p_g = np.asarray(p_data, dtype=float), np.asarray(p_g, dtype=float)
    return p_data / (p_data + p_g)


def _density_cases() -> list[tuple]:
    grid = np.linspace(-3, 3, 7)
    data = np.exp(-grid ** 2 / 2) / np.sqrt(2 * np.pi)
    fake = np.exp(-(grid - 1) ** 2 / 2) / np.sqrt(2 * np.pi)
    return [(0.3, 0.1), (0.2, 0.2), (data, fake), (np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0]))]


q1 = Exercise(
    name="q1",
    question="For a fixed generator, the discriminator that wins the game outputs D*(x) from the two densities at x: "
             "p_data(x) (real digits) and p_g(x) (the generator's). Write D_star(p_data, p_g); it should work on "
             "numbers and on NumPy arrays.",
    checker=expect_function(_optimal_discriminator, _density_cases),
    hints=["Where both densities are equal, a perfect judge can only guess: D* = 1/2 there.",
           "Where only real data lives (p_g = 0) it says 1; where only fakes live (p_data = 0) it says 0.",
           "D*(x) = p_data(x) / (p_data(x) + p_g(x))."],
    solution_text="def D_star(p_data, p_g):\n    return p_data / (p_data + p_g)\n"
                  "For fixed G, the value function is the integral of p_data log D + p_g log(1 - D); a log a + b "
                  "log(1 - t) is largest at t = a / (a + b) (Goodfellow et al. 2014, proposition 1). When the "
                  "generator is perfect (p_g = p_data), D* = 1/2 everywhere.",
    solution_value=_optimal_discriminator,
    wrong_examples=(lambda p, q: np.asarray(q, float) / (np.asarray(p, float) + np.asarray(q, float)),
                    lambda p, q: np.asarray(p, float) / np.maximum(np.asarray(q, float), 1e-12),
                    lambda p, q: np.clip(np.asarray(p, float) - np.asarray(q, float), 0, 1)),
)

q2 = Exercise(
    name="q2",
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


def loss_patterns(steps: int = 200, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Three made-up runs' loss curves (discriminator and generator), for question 3."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    noise = lambda: rng.normal(0, 0.04, steps)  # noqa: E731
    healthy = {"d_loss": 1.25 + 0.05 * np.exp(-t / 40) + noise(), "g_loss": 0.95 - 0.1 * np.exp(-t / 40) + noise()}
    winning = {"d_loss": 1.3 * np.exp(-t / 30) + 0.02 + np.abs(noise()) / 4,
               "g_loss": 0.8 + 5 * (1 - np.exp(-t / 30)) + noise()}
    saw = (t % 40) / 40.0
    collapse = {"d_loss": 0.6 + 0.9 * saw + noise(), "g_loss": 2.4 - 2.0 * saw + noise()}
    return {"A": healthy, "B": winning, "C": collapse}


q3 = Exercise(
    name="q3",
    question="ex.loss_patterns() holds three runs' loss curves (plotted above). In one of them the generator keeps "
             "hopping onto whatever single kind of image currently fools the discriminator, which then learns to "
             "reject it (mode collapse, jumping from mode to mode). Which run is it: 'A', 'B' or 'C'?",
    checker=expect_choice("C", ["A", "B", "C"]),
    hints=["One run settles; in one the discriminator wins for good. Neither is hopping.",
           "Hopping is a cycle: the generator's loss falls while it exploits one mode, then jumps when the "
           "discriminator catches on."],
    solution_text="C: a saw-tooth, the generator's loss dropping while it exploits one mode and jumping back when the "
                  "discriminator learns to reject that mode, again and again. A settles near a balance (healthy). "
                  "B is the other failure: the discriminator's loss goes to 0 and the generator's keeps rising, the "
                  "discriminator has won. Curves only hint at collapse: the class histogram (or looking at samples) "
                  "confirms it.",
    solution_value="C",
    wrong_examples=("A", "B"),
)

q4 = Exercise(
    name="q4",
    question="A cheating 'generator' returns copies of just ten real training digits, one per class, 100 copies "
             "each. Which of the judge's three measurements gives it away: 'confidence', 'classes' or 'frechet'?",
    checker=expect_choice("frechet", ["confidence", "classes", "frechet"]),
    hints=["Real digits are classified confidently, and ten classes x 100 copies is a perfect histogram.",
           "What do 100 identical images do to the spread (covariance) of the features?"],
    solution_text="'frechet': the confidence share is near 100% and every class gets 10%, but the features of 100 "
                  "copies have no spread at all, so the fitted Gaussian's covariance is far too small and the "
                  "Frechet distance (which compares means AND covariances) is far above the real-vs-real floor. "
                  "That is why the judge reports all three numbers together.",
    solution_value="frechet",
    wrong_examples=("confidence", "classes"),
)

q5 = Exercise(
    name="q5",
    question="The VAE's digits are softer and greyer than the GAN's (see the sharpness column and the pixel "
             "histogram). Which explanation fits? 'A': the VAE's decoder has fewer parameters than the GAN's "
             "generator. 'B': for each z the decoder outputs, pixel by pixel, the probability of ink, an average "
             "over all the training digits that z could stand for, and averages of strokes that differ a little are "
             "grey and soft; the GAN's generator is pushed by a judge that rejects anything unlike a real digit. "
             "'C': the VAE was trained on blurred copies of the digits. 'D': a sigmoid output can never reach "
             "exactly 0 or 1.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["One option is contradicted by the parameter counts printed above, another by notebook 09 (which images "
           "did the VAE learn to reconstruct?).",
           "The GAN's tanh output never reaches exactly -1 or 1 either, yet its digits are crisp.",
           "Two numbers of z cannot say exactly where every stroke goes. What is the best single guess, under a "
           "per-pixel loss, when several strokes are possible?"],
    solution_text="B. The VAE's reconstruction loss scores every pixel on its own, so for a given z the best output "
                  "is the per-pixel mean of the digits that z stands for: where their strokes disagree a little, the "
                  "mean is grey. With only 2 latent numbers, each z stands for many different handwritings, so "
                  "there is much to average. The GAN has no per-pixel target at all: its generator is scored by a "
                  "discriminator, and a grey, averaged digit is easy for it to reject. (A: the decoder has more "
                  "parameters than the generator; C: it trained on the same MNIST images as everything else; "
                  "D: true, but the GAN's tanh cannot reach -1 or 1 exactly either.) Goodfellow, Bengio and "
                  "Courville (Deep Learning, 2016, section 20.10.3) note that VAE samples tend to be blurry and that "
                  "its causes were not fully known; averaging is the part you can see here.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5]
