"""Exercises for notebook 09, *Autoencoders and variational autoencoders*."""

from __future__ import annotations

import numpy as np

from utils.exercises import Exercise, expect_choice, expect_integer, expect_number

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

#: q5's posterior: one image's encoder output, a 2-D mean and variance (not log-variance).
Q5_MEAN = np.array([1.0, -0.5])
Q5_VARIANCE = np.array([0.25, 1.0])
KL_Q5 = float(0.5 * np.sum(Q5_MEAN ** 2 + Q5_VARIANCE - 1 - np.log(Q5_VARIANCE)))

q1 = Exercise(
    name="q1",
    question="The 8-3-8 encoder squeezes 8 patterns through 3 hidden units. If every hidden unit ends up (close "
             "to) 0 or 1, how many different codes can the hidden layer hold?",
    checker=expect_integer(8),
    hints=["Each unit is a bit. How many different 3-bit strings are there?",
           "Count them: 000, 001, 010, ... or use 2 to the power of the number of units."],
    solution_text="2**3 = 8: exactly enough for the 8 patterns, so a perfect code uses every corner of the cube "
                  "once. A local (one-hot) code would need 8 units; a distributed (binary) code needs log2(8) = 3.",
    solution_value=8,
    wrong_examples=(3, 6, 9, 27),
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
    question="An encoder maps one image to a 2-D Gaussian with mean ex.Q5_MEAN = [1.0, -0.5] and variance "
             "ex.Q5_VARIANCE = [0.25, 1.0] (variance, not log-variance). What is its KL divergence to the standard "
             "normal prior, 0.5 * sum(mean**2 + variance - 1 - log(variance))?",
    checker=expect_number(KL_Q5, rel_tol=1e-3),
    hints=["Natural logarithm (np.log). Do each coordinate, then add.",
           "The second coordinate has variance 1, so only its mean counts: 0.5 * 0.25. The first: "
           "0.5 * (1 + 0.25 - 1 - log 0.25)."],
    solution_text="0.5 * (1 + 0.25 - 1 - ln 0.25) + 0.5 * (0.25 + 1 - 1 - 0) = 0.5 * 1.636 + 0.125 = "
                  f"{KL_Q5:.3f}. A mean of 0 and a variance of 1 in every coordinate would give 0: the KL term pulls "
                  "every code towards the prior.",
    solution_value=KL_Q5,
    wrong_examples=(float(0.5 * np.sum(Q5_MEAN ** 2 + Q5_VARIANCE - 1 - np.log10(Q5_VARIANCE))),
                    float(np.sum(Q5_MEAN ** 2 + Q5_VARIANCE - 1 - np.log(Q5_VARIANCE))),
                    float(0.5 * np.sum(Q5_MEAN ** 2 + np.exp(Q5_VARIANCE) - 1 - Q5_VARIANCE)), 0.0),
)

q6 = Exercise(
    name="q6",
    question="Compare the two scatter plots of validation digits: the plain autoencoder's codes and the VAE's "
             "means. Points drawn from a standard normal decode to digits of every kind with the VAE's decoder; "
             "points drawn from the box the plain autoencoder's codes fill give mostly a few kinds of digit "
             "(count the 1s), and some odd or smudged shapes. Why? "
             "A: the VAE's decoder has more parameters. "
             "B: the KL term packs the VAE's codes around the origin, overlapping the prior with no big holes, "
             "while the plain codes spread over a region of their own with gaps the decoder never trained on. "
             "C: the plain autoencoder was trained for fewer epochs. D: the VAE sees the labels. "
             "Answer with a letter.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["Both decoders have the same layers, and neither model ever sees a label (the colours are added "
           "only for the picture).",
           "Where does each model put its codes, and where does N(0, I) put its samples?"],
    solution_text="B. Sampling only works where the decoder was trained: the KL term makes the VAE's codes fill "
                  "the prior's region (noise in z also trains the decoder on the gaps between codes), while the "
                  "plain autoencoder's codes sit in arms and clusters of any size, with empty space in between, so "
                  "points drawn evenly from its box land mostly in the widest arms or in gaps the decoder never "
                  "trained on.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5, q6]
