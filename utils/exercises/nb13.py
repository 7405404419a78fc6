"""Exercises for notebook 13, *CNNs at work: segmentation, one-shot verification, style transfer, up-scaling*."""

from __future__ import annotations

from typing import Any

import numpy as np

from utils.exercises import (Exercise, expect_array, expect_choice, expect_function, expect_integer,
                             expect_number)

#: q6's feature map: height 2, width 3, two channels. FEATURES[:, :, 0] is channel 0.
FEATURES = np.stack([np.array([[1, 0, 2],
                               [0, 1, 1]]),
                     np.array([[0, 3, 1],
                               [1, 0, 2]])], axis=-1).astype(float)

#: q1's masks (1 = digit, 0 = background): the truth and a prediction.
MASK_TRUE = np.array([[0, 0, 0, 0, 0, 0],
                      [0, 1, 1, 1, 0, 0],
                      [0, 1, 1, 1, 0, 0],
                      [0, 1, 1, 1, 0, 0],
                      [0, 0, 0, 0, 0, 0]])
MASK_PRED = np.array([[0, 0, 0, 0, 0, 0],
                      [0, 0, 1, 1, 1, 0],
                      [0, 0, 1, 1, 1, 0],
                      [0, 0, 1, 1, 1, 0],
                      [0, 0, 0, 0, 0, 0]])

#: q5's validation pairs: the distance a siamese network gives each pair, and whether it is one person.
VAL_DISTANCES = np.array([0.12, 0.25, 0.31, 0.38, 0.44, 0.52, 0.58, 0.63, 0.71, 0.77,
                          0.35, 0.56, 0.66, 0.82, 0.88, 0.93, 1.04, 1.10, 1.21, 1.35])
VAL_SAME = np.array([1] * 10 + [0] * 10)
#: q5's candidate thresholds ("same person if distance <= threshold").
THRESHOLDS = (0.3, 0.5, 0.6, 0.8, 1.0)


#: q2: the smallest side above 100 that a U-Net with three 2x2 poolings accepts (divisible by 2 ** 3).
UNET_SIDE = next(side for side in range(101, 200) if side % 8 == 0)


def _gram_reference(features: Any) -> np.ndarray:
    """The course's Gram matrix (utils.style.gram_matrix, written in notebook 13), as a NumPy array."""
    from keras import ops

    from utils import style

    return np.asarray(ops.convert_to_numpy(style.gram_matrix(features)), dtype=float)


def _gram_cases() -> list[tuple]:
    rng = np.random.default_rng(13)
    return [(FEATURES[None].astype("float32"),),   # q6's map: 6 positions, 2 channels
            (rng.random((2, 4, 5, 3)).astype("float32"),),   # two images: one Gram matrix each
            (rng.normal(size=(1, 3, 3, 4)).astype("float32"),)]


def _gram_unnormalised(features):
    f = np.asarray(features, float)
    return np.einsum("bijk,bijl->bkl", f, f)


def _gram_over_channels_too(features):
    f = np.asarray(features, float)
    return np.einsum("bijk,bijl->bkl", f, f) / (f.shape[1] * f.shape[2] * f.shape[3])


def _gram_one_for_the_batch(features):
    f = np.asarray(features, float)
    a = f.reshape(-1, f.shape[-1])
    return a.T @ a / (f.shape[1] * f.shape[2])


def _gram_positions(features):
    f = np.asarray(features, float)
    a = f.reshape(f.shape[0], -1, f.shape[-1])
    return a @ a.transpose(0, 2, 1) / (f.shape[1] * f.shape[2])


def _gram_diagonal_only(features):
    f = np.asarray(features, float)
    return np.sum(f * f, axis=(1, 2)) / (f.shape[1] * f.shape[2])


def _gram(f: np.ndarray) -> np.ndarray:
    flat = f.reshape(-1, f.shape[-1])
    return flat.T @ flat


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum((a == 1) & (b == 1)) / np.sum((a == 1) | (b == 1)))


def _accuracy(threshold: float) -> float:
    return float(np.mean((VAL_DISTANCES <= threshold) == VAL_SAME.astype(bool)))


def _best_with_few_strangers(max_fpr: float = 0.1) -> float:
    ok = [t for t in THRESHOLDS if np.mean(VAL_DISTANCES[VAL_SAME == 0] <= t) <= max_fpr]
    return max(ok)


q1 = Exercise(
    name="q1",
    question="Compute the IoU of the digit class (value 1) between ex.MASK_TRUE and ex.MASK_PRED: pixels both "
             "call 1, divided by pixels either calls 1.",
    checker=expect_number(_iou(MASK_TRUE, MASK_PRED), rel_tol=1e-3),
    hints=["Intersection: np.sum((MASK_TRUE == 1) & (MASK_PRED == 1)). Union: the same with |.",
           "The prediction is the truth shifted one pixel to the right: 6 of the 9 pixels agree."],
    solution_text="intersection = 6, union = 9 + 9 - 6 = 12, IoU = 6 / 12 = 0.5. (Pixel accuracy would be "
                  "24 / 30 = 0.8: most pixels are background, which is why segmentation is scored by IoU.)",
    solution_value=0.5,
    wrong_examples=(0.8, 2 * 6 / 18, 6 / 30, 1.0),
)

q2 = Exercise(
    name="q2",
    question="This U-Net pools twice, so a canvas's sides must divide by 4. A deeper one, "
             "seg.build_unet(filters=(16, 32, 64, 128)), pools three times (2x2 max pooling rounds an odd size "
             "down) and doubles back with three 2x2 transposed convolutions; each skip concatenation needs the "
             "doubled map to be exactly as large as the map it is joined to. What is the smallest canvas side "
             "larger than 100 pixels that this deeper U-Net can segment?",
    checker=expect_integer(UNET_SIDE),
    hints=["Follow a side down: 100 -> 50 -> 25 -> 12 (25 // 2). Back up: 12 -> 24, but the skip map at that "
           "level is 25 pixels: the concatenation fails.",
           "Every level must halve without rounding: the side must divide by 2 * 2 * 2 = 8."],
    solution_text="Three poolings need a side divisible by 2 ** 3 = 8; the first such side above 100 is 104 "
                  "(104 -> 52 -> 26 -> 13, and back 13 -> 26 -> 52 -> 104). 100 divides by 4 but not by 8: "
                  "100 -> 50 -> 25 -> 12, and 12 doubled is 24, not 25. Check: seg.build_unet(filters=(16, 32, "
                  "64, 128)) runs on a 104x104 canvas and fails on a 100x100 one.",
    solution_value=UNET_SIDE,
    wrong_examples=(100, 101, 102, 108, 112, 128),
)

q3 = Exercise(
    name="q3",
    question="The U-Net's pixel accuracy on the test canvases is far above its mean IoU. Why?\n"
             "  A: IoU is computed on the test canvases, accuracy on the training canvases.\n"
             "  B: most pixels are background, which is easy, so accuracy is high even when the digits are "
             "labelled poorly; IoU scores each class on its own pixels and averages the classes.\n"
             "  C: IoU counts every pixel twice.\n"
             "  D: the network is overfitting.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["What share of a canvas's pixels is background? (The cell after the six example canvases printed it.)",
           "A network that called every pixel 'background' would still get most pixels right."],
    solution_text="B. About 95% of the pixels are background: calling everything background would already score "
                  "about 95% accuracy but a digit IoU of 0. Mean IoU gives each digit class the same weight as "
                  "the background.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

q4 = Exercise(
    name="q4",
    question="Look at the ROC curve. A phone unlock must almost never open for a stranger. Which way do you move "
             "the threshold ('same person if distance <= threshold'), and what does it cost?\n"
             "  A: lower (stricter): fewer strangers accepted, more of the owner's attempts rejected.\n"
             "  B: higher: fewer strangers accepted, at no cost.\n"
             "  C: lower: more strangers accepted.\n"
             "  D: the threshold does not matter, only the AUC.",
    checker=expect_choice("A", ["A", "B", "C", "D"]),
    hints=["'Same person if distance <= threshold': a smaller threshold accepts fewer pairs of every kind.",
           "Moving along the ROC curve towards its bottom-left corner lowers both rates together."],
    solution_text="A. A stricter (lower) threshold moves towards the bottom-left of the ROC curve: the false "
                  "positive rate falls, and so does the true positive rate, so the owner is asked again more often. "
                  "The AUC describes the whole curve; an application still has to pick one point on it.",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)

q5 = Exercise(
    name="q5",
    question="A door lock may let in at most 1 in 10 strangers (false positive rate <= 10% on the validation "
             "pairs ex.VAL_DISTANCES, ex.VAL_SAME). Among ex.THRESHOLDS ('same person if distance <= "
             "threshold'), which is the largest that keeps that promise?",
    checker=expect_choice(_best_with_few_strangers(), list(THRESHOLDS)),
    hints=["For each threshold, count the *different* pairs (VAL_SAME == 0) with a distance at or below it.",
           "There are 10 different pairs, so at most one of them may fall at or below the threshold."],
    solution_text="strangers = ex.VAL_DISTANCES[ex.VAL_SAME == 0]\n"
                  "for t in ex.THRESHOLDS: print(t, np.mean(strangers <= t))\n"
                  "0.3 and 0.5 let in at most 1 stranger in 10 (0.35 is the only one below 0.5); 0.6 lets in "
                  "2 (0.35 and 0.56). So 0.5, which accepts 5 of the 10 genuine pairs. Accuracy alone would pick "
                  "a looser threshold: the cost of each kind of error decides.",
    solution_value=_best_with_few_strangers(),
    wrong_examples=(0.3, 0.6, 0.8),
)

q6 = Exercise(
    name="q6",
    question="ex.FEATURES is a feature map of height 2, width 3 and 2 channels. Compute its Gram (style) matrix "
             "G[k, k'] = sum over all positions (i, j) of F[i, j, k] * F[i, j, k'], without dividing by anything.",
    checker=expect_array(_gram(FEATURES)),
    hints=["The result is 2x2: one row and one column per channel, not per position.",
           "Reshape the map to (positions, channels) = (6, 2), call it A; then G = A.T @ A."],
    solution_text="A = ex.FEATURES.reshape(-1, 2)  # 6 positions x 2 channels\nG = A.T @ A\n"
                  "G[0, 0] = 1+0+4+0+1+1 = 7, G[1, 1] = 0+9+1+1+0+4 = 15, G[0, 1] = G[1, 0] = 0+0+2+0+0+2 = 4.",
    solution_value=_gram(FEATURES),
    wrong_examples=(_gram(FEATURES) / 6, FEATURES.reshape(-1, 2) @ FEATURES.reshape(-1, 2).T,
                    np.diag(np.diag(_gram(FEATURES))), FEATURES.sum(axis=(0, 1))),
)

q7 = Exercise(
    name="q7",
    question="Write gram_matrix(features) with keras.ops: feature maps (B, H, W, C) in, their Gram matrices "
             "(B, C, C) out, G[b, k, k'] = sum over positions (i, j) of F[b, i, j, k] * F[b, i, j, k'], divided "
             "by the number of positions H * W (the course's style.gram_matrix, which the checker compares with).",
    checker=expect_function(_gram_reference, _gram_cases),
    hints=["Reshape to (B, H * W, C) with ops.reshape(features, (b, h * w, c)), where b, h, w, c = "
           "ops.shape(features); call the result A.",
           "G = ops.matmul(ops.transpose(A, (0, 2, 1)), A) is (B, C, C); divide it by h * w. (One line does it "
           "all: ops.einsum('bijk,bijl->bkl', features, features) / (h * w).)"],
    solution_text="def gram_matrix(features):\n"
                  "    b, h, w, c = ops.shape(features)\n"
                  "    a = ops.reshape(ops.cast(features, 'float32'), (b, h * w, c))   # positions x channels\n"
                  "    return ops.matmul(ops.transpose(a, (0, 2, 1)), a) / (h * w)\n"
                  "Without the division, images of different sizes would not compare; reshaping to (-1, C) would "
                  "mix the images of a batch into one Gram matrix; a @ a.T (positions x positions) keeps where "
                  "things are, which is what the Gram matrix throws away.",
    solution_value=_gram_reference,
    wrong_examples=(_gram_unnormalised, _gram_over_channels_too, _gram_one_for_the_batch, _gram_positions,
                    _gram_diagonal_only),
)

q8 = Exercise(
    name="q8",
    question="The CNN's PSNR is higher than bicubic interpolation's by some dB. By how many times is its mean "
             "squared error smaller if the gain is exactly 3 dB? (PSNR = 10 log10(1 / MSE) for images in [0, 1].)",
    checker=expect_number(10 ** 0.3, rel_tol=5e-3),
    hints=["PSNR_cnn - PSNR_bicubic = 10 log10(MSE_bicubic / MSE_cnn).",
           "So MSE_bicubic / MSE_cnn = 10 ** (gain / 10)."],
    solution_text="10 ** (3 / 10) = 1.995: every 3 dB halves the mean squared error (10 dB divides it by 10).",
    solution_value=10 ** 0.3,
    wrong_examples=(3.0, 0.3, 10 ** 3, 1 / 10 ** 0.3),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7, q8]
