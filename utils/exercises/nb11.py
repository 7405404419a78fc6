"""Exercises for notebook 11, *Fooling a CNN: adversarial examples, the one-pixel attack, and shortcuts*."""

from __future__ import annotations

import numpy as np

from utils.exercises import Exercise, expect_array, expect_choice, expect_function, expect_number

#: q1's tiny linear model: score = W . x + B; a score above 0 means "7". The image x (five pixels) is a 7.
W = np.array([0.8, -1.5, 0.0, 2.0, -0.4])
B = 1.5
X = np.array([0.3, 0.95, 0.6, 0.05, 0.0])
EPS = 0.1


def _digit() -> np.ndarray:
    """A made-up 28x28 'digit' (a thick bar and a ring) with values in [0, 1]."""
    yy, xx = np.mgrid[0:28, 0:28]
    ring = np.exp(-((np.hypot(yy - 10, xx - 14) - 5) ** 2) / 3)
    bar = np.exp(-((xx - 18) ** 2) / 3) * (yy > 10) * (yy < 24)
    return np.clip(ring + bar, 0, 1).round(3)


def _perturbed(clean: np.ndarray) -> np.ndarray:
    """``clean`` plus a seeded perturbation, mostly small, kept in [0, 1]."""
    rng = np.random.default_rng(11)
    delta = rng.choice([-0.06, 0.0, 0.06], size=clean.shape) + rng.normal(0, 0.01, clean.shape)
    delta[4, 20] = 0.137                      # one pixel moved further than the rest
    return np.clip(clean + delta, 0, 1).round(4)


#: q3: a clean image and an attacked copy (28x28, values in [0, 1]).
CLEAN = _digit()
PERTURBED = _perturbed(CLEAN)


def _maps() -> dict[str, np.ndarray]:
    """Four saliency maps (28x28, largest value 1) of a classifier for four different digits."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:28, 0:28]
    stroke = np.exp(-((np.hypot(yy - 14, xx - 13) - 6) ** 2) / 4)
    centre = np.exp(-((yy - 14) ** 2 + (xx - 14) ** 2) / 40)
    corner = np.zeros((28, 28))
    corner[24:28, 0:4] = 1.0
    maps = {
        "A": stroke + 0.1 * rng.random((28, 28)),
        "B": 0.15 * centre + corner + 0.05 * rng.random((28, 28)),
        "C": np.exp(-((xx - 14) ** 2) / 6) * (yy > 5) * (yy < 23) + 0.1 * rng.random((28, 28)),
        "D": centre + 0.1 * rng.random((28, 28)),
    }
    return {k: (v / v.max()).round(3) for k, v in maps.items()}


#: q7: saliency maps of one classifier, one per test digit.
MAPS = _maps()


q1 = Exercise(
    name="q1",
    question="FGSM by hand. A linear model scores an image x (five pixels) as ex.W . x + ex.B and says '7' when the "
             "score is above 0. ex.X is a 7. The loss of the label '7' falls as the score rises, so its gradient "
             "with respect to x points along -W. Apply FGSM with eps = ex.EPS: give the five pixels of the "
             "adversarial image (pixels stay in [0, 1]).",
    checker=expect_array(np.clip(X + EPS * np.sign(-W), 0, 1), atol=1e-6),
    hints=["FGSM: x_adv = x + eps * sign(gradient of the loss). Here sign(gradient) = sign(-W) = -sign(W).",
           "np.sign(0) is 0: a pixel with weight 0 does not move. Then clip to [0, 1] with np.clip."],
    solution_text="x_adv = np.clip(ex.X - ex.EPS * np.sign(ex.W), 0, 1) = [0.2, 1.0, 0.6, 0.0, 0.1]: every pixel "
                  "moves by eps against its weight, the one with weight 0 stays, and two land on the [0, 1] limits. "
                  "Its score is still +0.12, so the model still says 7: the clip cost the attack its success.",
    solution_value=[0.2, 1.0, 0.6, 0.0, 0.1],
    wrong_examples=([0.4, 0.85, 0.6, 0.15, 0.0],        # along +sign(W): the score goes up, not down
                    [0.2, 1.05, 0.6, -0.05, 0.1],       # not clipped
                    [0.2, 1.0, 0.5, 0.0, 0.1],          # sign(0) taken as +1
                    [0.22, 1.0, 0.6, 0.0, 0.04]),       # x - eps * W instead of its sign
)

q2 = Exercise(
    name="q2",
    question="Goodfellow et al.'s linearity argument. A linear model on 28x28 = 784 pixels has every weight equal "
             "to +0.05 or -0.05. FGSM changes every pixel by eps = 0.1 against its weight (no clipping). By how "
             "much does the score change (give the size, a positive number)?",
    checker=expect_number(784 * 0.05 * 0.1, rel_tol=1e-3),
    hints=["Each pixel changes the score by |weight| * eps, all in the same direction.",
           "Add up 784 such changes."],
    solution_text="784 * 0.05 * 0.1 = 3.92: no pixel moves by more than 0.1, yet the score moves by 3.92, because "
                  "all 784 small changes push the same way. The more pixels, the larger the effect of an "
                  "imperceptible eps.",
    solution_value=3.92,
    wrong_examples=(0.005, 0.1, 39.2, 0.392),
)

q3 = Exercise(
    name="q3",
    question="ex.CLEAN is an image and ex.PERTURBED an attacked copy (28x28, pixels in [0, 1]). What is the "
             "L-infinity size of the perturbation (the eps it fits in)?",
    checker=expect_number(float(np.abs(PERTURBED - CLEAN).max()), rel_tol=1e-4),
    hints=["The perturbation is PERTURBED - CLEAN.",
           "L-infinity: the largest absolute value of any one pixel's change, np.abs(...).max()."],
    solution_text="np.abs(ex.PERTURBED - ex.CLEAN).max(): one pixel moved further than the rest, and that pixel "
                  "sets the L-infinity size (the L2 size, np.linalg.norm, adds all pixels' changes and is much "
                  "larger).",
    solution_value=float(np.abs(PERTURBED - CLEAN).max()),
    wrong_examples=(float(np.linalg.norm(PERTURBED - CLEAN)), float(np.abs(PERTURBED - CLEAN).mean()), 0.06,
                    float((PERTURBED - CLEAN).max() * 255) if (PERTURBED - CLEAN).max() > 0 else 35.0),
)

q4 = Exercise(
    name="q4",
    question="At the same eps, PGD (many small steps) leaves the model far lower accuracy than FGSM (one step). "
             "Why? A: PGD's steps add up to a change larger than eps. B: the loss is not linear over the eps box, "
             "so the corner FGSM jumps to is often not where the loss is highest; re-reading the gradient after "
             "each step finds better points. C: PGD's random start is itself noise large enough to fool the "
             "model. D: PGD aims at the most likely wrong class, FGSM at none. Answer with a letter.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["Both attacks are clipped to the same eps box around the clean image.",
           "FGSM is exact for a linear model; a CNN is only roughly linear over a box of width eps."],
    solution_text="B. Both stay within eps (A is false: every step is clipped back into the box); the random start "
                  "only chooses where the steps begin (C: the noise control in the transfer section below shows "
                  "that noise of this size barely hurts); and both are untargeted here (D). One step trusts the "
                  "gradient at the clean image; many small steps re-read it. A defence judged only by FGSM can look "
                  "far stronger than it is.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

q5 = Exercise(
    name="q5",
    question="Su et al. fooled 67.97% of CIFAR-10 test images (32x32, colour) with one pixel, but only 16.04% of "
             "ImageNet images (224x224, colour); on 28x28 gray digits the exhaustive search above rarely succeeds. "
             "Which reading fits all three? A: colour makes an image fragile, since a colour pixel has three "
             "values to set. B: one pixel is a larger share of a small image, and this digit network reads strokes "
             "many pixels long, so fragility depends on resolution and data more than on colour. C: MNIST networks "
             "resist every attack because they are so accurate. D: the exhaustive search misses pixels that "
             "differential evolution would find. Answer with a letter.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["ImageNet images are colour too: does A predict 16.04%?",
           "FGSM fools the same digit network easily; and the exhaustive search tries every position."],
    solution_text="B. A cannot explain ImageNet (colour, yet four times less fragile than CIFAR-10): one pixel of "
                  "224x224 weighs less than one of 32x32. C is ruled out by FGSM, which fools this network easily, "
                  "and D by the search itself: it tries every position with five values, more than differential "
                  "evolution samples. The digit model's evidence is spread over strokes, so changing its answer "
                  "takes many pixels a little (FGSM) rather than one a lot.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

def _worst_case_accuracy(y, predictions):
    """The share of digits that every attack leaves correctly classified (predictions: attacks x digits)."""
    return float(np.mean(np.all(np.asarray(predictions) == np.asarray(y)[None, :], axis=0)))


def _worst_cases() -> list[tuple]:
    rng = np.random.default_rng(28)
    y = rng.integers(0, 10, 12)
    cases = []
    for n_attacks, p_wrong in ((1, 0.3), (2, 0.3), (3, 0.5), (5, 0.2)):
        wrong = rng.random((n_attacks, len(y))) < p_wrong
        cases.append((y.copy(), np.where(wrong, (y + 1) % 10, y)))
    # every attack fools a different digit: each attack's accuracy is 11/12, the worst case 12 - 3 = 9 of 12
    spread = np.tile(y, (3, 1))
    for k in range(3):
        spread[k, k] = (y[k] + 1) % 10
    cases.append((y.copy(), spread))
    cases.append((y[:1].copy(), y[:1][None, :].copy()))                  # one digit, one attack, not fooled
    return cases


def _mean_of_accuracies(y, predictions):
    return float(np.mean(np.asarray(predictions) == np.asarray(y)[None, :]))


def _strongest_single_attack(y, predictions):
    return float(np.min(np.mean(np.asarray(predictions) == np.asarray(y)[None, :], axis=1)))


def _any_attack_fails(y, predictions):
    return float(np.mean(np.any(np.asarray(predictions) == np.asarray(y)[None, :], axis=0)))


def _counts_not_share(y, predictions):
    return float(np.sum(np.all(np.asarray(predictions) == np.asarray(y)[None, :], axis=0)))


q6 = Exercise(
    name="q6",
    question="Write worst_case_accuracy(y, predictions): y holds the true labels of N digits, predictions is an "
             "array (attacks x N) with the network's answer on each digit under each attack. A digit counts as "
             "robust only if no attack fools it. Return the share of robust digits (a number from 0 to 1).",
    checker=expect_function(_worst_case_accuracy, _worst_cases),
    hints=["predictions == y[None, :] is True where an attack failed; you need digits where it is True for every "
           "attack (row).",
           "np.all(..., axis=0) asks 'every attack?' for each digit; then take the mean over digits."],
    solution_text="def worst_case_accuracy(y, predictions):\n"
                  "    return float(np.mean(np.all(predictions == y[None, :], axis=0)))\n"
                  "It is at most the accuracy under the strongest single attack, and lower when different attacks "
                  "fool different digits.",
    solution_value=_worst_case_accuracy,
    wrong_examples=(_mean_of_accuracies, _strongest_single_attack, _any_attack_fails, _counts_not_share),
)


q7 = Exercise(
    name="q7",
    question="ex.MAPS holds saliency maps (A-D) of one classifier for four test digits. Which one shows that the "
             "model is right for the wrong reason, reading something other than the digit? Answer with a letter.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["Draw them: show_grid(list(ex.MAPS.values()), titles=list(ex.MAPS)).",
           "A digit sits in the middle of the image; where does each map put its weight?"],
    solution_text="B: its weight sits on a small square in a corner, where no digit is drawn: the model has "
                  "learned a cue that came with the training labels (like the mark in this notebook), not the "
                  "digit. A follows a ring-shaped stroke, C a vertical stroke, D the centre of the image.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
