"""Exercises for notebook 09, *Autoencoders and variational autoencoders*."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from utils.exercises import Exercise, expect_choice, expect_function, expect_integer, expect_number

#: q4's 4x4 patch of an 8-bit image and a reconstruction of it (both 0-255).
ORIGINAL = np.array([[52, 55, 61, 66],
                     [63, 59, 55, 90],
                     [62, 59, 68, 113],
                     [63, 58, 71, 122]], dtype=np.uint8)
RECONSTRUCTION = np.array([[54, 54, 60, 70],
                           [60, 60, 58, 88],
                           [60, 61, 70, 110],
                           [64, 60, 70, 118]], dtype=np.uint8)


def _nmse_percent(original: np.ndarray, reconstruction: np.ndarray) -> float:
    x, y = original.astype(float), reconstruction.astype(float)
    return float(100 * np.sum((x - y) ** 2) / np.sum(x ** 2))


NMSE_PERCENT = _nmse_percent(ORIGINAL, RECONSTRUCTION)

#: q6: the share of a 2-D standard normal outside the square [-2.5, 2.5]^2 that notebook 09's latent grid shows.
Q6_SPAN = 2.5
_INSIDE_1D = math.erf(Q6_SPAN / math.sqrt(2))
OUTSIDE_SQUARE = 1 - _INSIDE_1D ** 2


def _kl_reference(z_mean: Any, z_log_var: Any) -> np.ndarray:
    mean, log_var = np.asarray(z_mean, dtype=float), np.asarray(z_log_var, dtype=float)
    return 0.5 * np.sum(mean ** 2 + np.exp(log_var) - 1 - log_var, axis=-1)


def _kl_cases() -> list[tuple]:
    rng = np.random.default_rng(5)
    return [(np.zeros((2, 2), "float32"), np.zeros((2, 2), "float32")),   # the prior itself: 0
            (np.array([[1.0, -0.5]], "float32"), np.log(np.array([[0.25, 1.0]], "float32"))),
            (rng.normal(size=(4, 3)).astype("float32"), rng.normal(scale=0.5, size=(4, 3)).astype("float32"))]


def _kl_without_half(z_mean, z_log_var):
    return np.sum(np.square(z_mean) + np.exp(z_log_var) - 1 - z_log_var, axis=-1)


def _kl_log_var_as_variance(z_mean, z_log_var):
    return 0.5 * np.sum(np.square(z_mean) + z_log_var - 1 - np.log(np.abs(z_log_var) + 1e-12), axis=-1)


def _kl_mean_over_coordinates(z_mean, z_log_var):
    return 0.5 * np.mean(np.square(z_mean) + np.exp(z_log_var) - 1 - z_log_var, axis=-1)


def _kl_one_number_for_the_batch(z_mean, z_log_var):
    return 0.5 * np.sum(np.square(z_mean) + np.exp(z_log_var) - 1 - z_log_var)


def _kl_wrong_sign(z_mean, z_log_var):
    return -0.5 * np.sum(np.square(z_mean) + np.exp(z_log_var) - 1 - z_log_var, axis=-1)


q1 = Exercise(
    name="q1",
    question="A 16-H-16 encoder network gets 16 one-hot patterns. For a binary code (every pattern a different "
             "corner of the hidden units' cube, each unit 0 or 1), how many hidden units H does it need at the least?",
    checker=expect_integer(4),
    hints=["H units that are each 0 or 1 can hold 2**H different codes.",
           "Find the smallest H with 2**H >= 16."],
    solution_text="2**4 = 16: four binary units give exactly 16 codes, one per pattern (three give only 8). A local "
                  "(one-hot) code would need 16 units; a binary distributed code needs log2(16) = 4. Without the "
                  "binary requirement fewer can do: Kruglyak (1990) solves the N-bit encoder with 2 hidden units.",
    solution_value=4,
    wrong_examples=(16, 8, 2, 5),
)

q2 = Exercise(
    name="q2",
    question="A 64-8-64 network codes each 8x8 patch of an 8-bit image with its 8 hidden units, each quantised "
             "to 6 bits. How many bits per pixel does the compressed image take?",
    checker=expect_number(0.75, rel_tol=1e-6),
    hints=["Bits per patch: hidden units x bits per unit.",
           "Spread them over the patch's 8x8 = 64 pixels."],
    solution_text="8 units x 6 bits = 48 bits per patch of 64 pixels: 48 / 64 = 0.75 bits per pixel "
                  "(Cottrell's 64-16-64 with 8 bits: 128 / 64 = 2 bits per pixel).",
    solution_value=0.75,
    wrong_examples=(6, 48, 2, 0.125),
)

q3 = Exercise(
    name="q3",
    question="Same network as q2 (64-8-64, 6-bit hidden units, 8-bit pixels). What is its compression ratio "
             "(original bits divided by compressed bits)? Answer with one number, e.g. 4 for 4:1.",
    checker=expect_number(512 / 48, rel_tol=1e-3),
    hints=["The original patch takes 64 pixels x 8 bits.",
           "Divide by the compressed patch's bits (q2)."],
    solution_text="64 x 8 = 512 bits become 8 x 6 = 48 bits: 512 / 48 = 10.67, so about 10.7:1 "
                  "(Cottrell's network: 512 / 128 = 4:1). Equivalently 8 bits per pixel / 0.75 bits per pixel.",
    solution_value=512 / 48,
    wrong_examples=(8, 4, 0.09375, 10),
)

q4 = Exercise(
    name="q4",
    question="ex.ORIGINAL is a 4x4 patch of an 8-bit image and ex.RECONSTRUCTION what a codec made of it "
             "(both uint8). Compute the NMSE, sum((original - reconstruction)**2) / sum(original**2), in per cent.",
    checker=expect_number(NMSE_PERCENT, rel_tol=1e-3),
    hints=["Convert to float first: uint8 arithmetic wraps around (3 - 5 is 254 and 66**2 is 4 in uint8).",
           "x = ex.ORIGINAL.astype(float); r = ex.RECONSTRUCTION.astype(float); then the formula, times 100."],
    solution_text="x = ex.ORIGINAL.astype(float); r = ex.RECONSTRUCTION.astype(float); "
                  "100 * ((x - r) ** 2).sum() / (x ** 2).sum() gives about "
                  f"{NMSE_PERCENT:.3f}%. Without .astype(float) the squares wrap around in uint8 (66**2 becomes 4) "
                  "and the answer is far too large.",
    solution_value=NMSE_PERCENT,
    wrong_examples=(NMSE_PERCENT / 100,
                    float(100 * np.sum((ORIGINAL.astype(float) - RECONSTRUCTION) ** 2) / np.sum(ORIGINAL ** 2)),
                    float(100 * np.mean(np.abs(ORIGINAL.astype(float) - RECONSTRUCTION))
                          / np.mean(ORIGINAL.astype(float)))),
)

q5 = Exercise(
    name="q5",
    question="Write kl_term(z_mean, z_log_var): the KL divergence of N(z_mean, exp(z_log_var)) to N(0, I), "
             "0.5 * sum over the latent coordinates of (mean**2 + variance - 1 - log variance), one number per image "
             "(arrays of shape (batch, latent) in, shape (batch,) out).",
    checker=expect_function(_kl_reference, _kl_cases),
    hints=["z_log_var is the log of the variance: the variance is ops.exp(z_log_var), and log variance is "
           "z_log_var itself.",
           "Sum over the last axis only (axis=-1 or axis=1), so that each image keeps its own number: "
           "return 0.5 * ops.sum(..., axis=-1)."],
    solution_text="def kl_term(z_mean, z_log_var):\n"
                  "    return 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1 - z_log_var, axis=-1)\n"
                  "A mean of 0 and a log-variance of 0 (variance 1) give 0: the KL term is the price of a code "
                  "that differs from the prior. Summing over all axes would give one number for the whole batch.",
    solution_value=_kl_reference,
    wrong_examples=(_kl_without_half, _kl_log_var_as_variance, _kl_mean_over_coordinates,
                    _kl_one_number_for_the_batch, _kl_wrong_sign),
)

q6 = Exercise(
    name="q6",
    question="The latent grid covers the square from -2.5 to 2.5 in both coordinates. What fraction of samples "
             "from the 2-D standard normal prior falls outside that square? Answer as a fraction (0.1 for 10%).",
    checker=expect_number(OUTSIDE_SQUARE, rel_tol=0.02),
    hints=["The two coordinates are independent: a sample is inside the square when each coordinate is between "
           "-2.5 and 2.5.",
           "P(|z1| < 2.5) = 2 * norm.cdf(2.5) - 1 (scipy.stats.norm), or math.erf(2.5 / math.sqrt(2)). "
           "Square it for both coordinates, then take 1 minus that."],
    solution_text=f"P(|z| < 2.5) = erf(2.5 / sqrt 2) = {_INSIDE_1D:.4f} per coordinate, so "
                  f"{_INSIDE_1D:.4f}**2 = {_INSIDE_1D ** 2:.4f} inside and {OUTSIDE_SQUARE:.4f} (about "
                  f"{OUTSIDE_SQUARE:.1%}) outside: the grid shows where almost every prior sample lands. "
                  "(A circle of radius 2.5 would leave exp(-2.5**2 / 2) = 4.4% outside.)",
    solution_value=OUTSIDE_SQUARE,
    wrong_examples=(1 - _INSIDE_1D, math.exp(-Q6_SPAN ** 2 / 2), _INSIDE_1D ** 2, 1 - math.exp(-2)),
)

q7 = Exercise(
    name="q7",
    question="You will train the same VAE with beta = 0, 1 and 4 (same images, epochs and seed). Going from "
             "beta = 1 to beta = 4, what happens on the validation digits?\n"
             "  A: the KL term falls and the reconstruction term rises (worse reconstructions).\n"
             "  B: both fall.\n"
             "  C: the KL term rises and the reconstruction term falls.\n"
             "  D: neither changes: beta only rescales the loss.\n"
             "Answer with a letter.",
    checker=expect_choice("A", ["A", "B", "C", "D"]),
    hints=["The loss is reconstruction + beta * KL. What does a larger beta make more expensive?",
           "Carrying information about the image in the code costs KL; with less information in the code, "
           "what happens to the reconstructions?"],
    solution_text="A. With beta = 4 each nat of KL costs four times as much, so the optimiser keeps the codes "
                  "closer to the prior (less KL); codes that say less about each image give blurrier "
                  "reconstructions (a larger reconstruction term). Not D: beta weighs one term against the other, "
                  "it does not scale the whole loss.",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
