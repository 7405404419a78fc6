"""Exercises for notebook 04, *A Keras CNN on MNIST, tested on your own handwriting*."""

from __future__ import annotations

import numpy as np

from utils.exercises import Exercise, choice_question, expect_choice, expect_integer, expect_shape


def _curves() -> dict[str, dict[str, np.ndarray]]:
    """Three made-up training runs, 15 epochs each: training and validation loss per epoch."""
    epochs = np.arange(1, 16)
    return {
        "A": {"training": 0.08 + 1.2 * np.exp(-epochs / 2.0), "validation": 0.11 + 1.2 * np.exp(-epochs / 2.0)},
        "B": {"training": 0.02 + 1.2 * np.exp(-epochs / 2.5),
              "validation": 0.18 + 1.1 * np.exp(-epochs / 2.0) + 0.0025 * np.maximum(epochs - 5, 0) ** 2},
        "C": {"training": 2.25 - 0.02 * np.log(epochs), "validation": 2.26 - 0.02 * np.log(epochs)},
    }


#: q5's three runs: CURVES["B"]["validation"] is run B's validation loss after epochs 1..15.
CURVES = _curves()

#: A confusion matrix from a (made-up) weaker model: rows = true digit, columns = predicted digit.
CONFUSION = np.array([
    [97, 0, 0, 0, 0, 1, 1, 0, 1, 0],
    [0, 112, 1, 0, 0, 0, 0, 1, 0, 0],
    [1, 1, 98, 2, 0, 0, 0, 3, 2, 0],
    [0, 0, 1, 96, 0, 3, 0, 1, 2, 1],
    [0, 0, 0, 0, 95, 0, 1, 0, 0, 6],
    [1, 0, 0, 4, 0, 84, 1, 0, 2, 0],
    [1, 0, 0, 0, 1, 1, 95, 0, 0, 0],
    [0, 2, 3, 0, 1, 0, 0, 97, 0, 4],
    [1, 0, 1, 2, 1, 2, 0, 1, 89, 2],
    [0, 0, 0, 1, 9, 0, 0, 4, 1, 94],
])

q1 = Exercise(
    name="q1",
    question="The seed CNN's second layer is Conv2D(64, (3, 3)) on the 32 channels the first one makes. "
             "How many parameters (weights and biases) does it have?",
    checker=expect_integer(3 * 3 * 32 * 64 + 64),
    hints=["Each of the 64 filters looks at a 3x3 patch of all 32 input channels.",
           "Weights per filter: 3*3*32. Then one bias per filter."],
    solution_text="64 filters x (3*3*32 weights) + 64 biases = 18,432 + 64 = 18,496 "
                  "(model.summary() agrees).",
    solution_value=18_496,
    wrong_examples=(18_432, 576, 640, 320),
)

q2 = Exercise(
    name="q2",
    question="A 28x28x1 image goes through Conv2D(32, 3x3), Conv2D(64, 3x3) (no padding) and MaxPooling2D(2x2). "
             "What shape comes out of the pooling layer (height, width, channels)?",
    checker=expect_shape((12, 12, 64)),
    hints=["A 3x3 convolution without padding takes 1 pixel off each border: 28 -> 26.",
           "Twice: 28 -> 26 -> 24. Pooling 2x2 halves height and width. Channels = filters of the last conv."],
    solution_text="28 -> 26 (conv1) -> 24 (conv2) -> 12 (pool): (12, 12, 64). Flatten then makes 12*12*64 = 9,216.",
    solution_value=(12, 12, 64),
    wrong_examples=((13, 13, 64), (12, 12, 32), (24, 24, 64), (64, 12, 12)),
)

q3 = Exercise(
    name="q3",
    question="The Dense(128) layer after Flatten gets 12*12*64 = 9,216 numbers. How many parameters does it have?",
    checker=expect_integer(9216 * 128 + 128),
    hints=["Every one of the 128 neurons has a weight for each of the 9,216 inputs.",
           "9,216 x 128 weights, plus 128 biases."],
    solution_text="9,216 * 128 + 128 = 1,179,776: 98% of the model's 1,199,882 parameters sit in this one layer, "
                  "while the two convolutions together have fewer than 19,000.",
    solution_value=1_179_776,
    wrong_examples=(1_179_648, 9_344, 1_199_882),
)

q4 = Exercise(
    name="q4",
    question=choice_question(
        "In the learning curves, for most epochs the training accuracy lies below the validation accuracy, "
        "although the network never trains on the validation images. Why?",
        {"A": "it overfits the validation images.",
         "B": "the validation images are easier.",
         "C": "training accuracy is measured with dropout on, with the current (noisy) weights, averaged over the "
              "whole epoch; validation runs without dropout, on the averaged weights, at the end of the epoch.",
         "D": "the learning rate is too high."}),
    checker=expect_choice("C", ["A", "B", "C", "D"]),
    hints=["The network never sees the validation images while training, so it cannot overfit them; and they are "
           "the last images of the same training set, written by the same kind of writers.",
           "Ask what differs in *how* the two numbers are measured, not in the images."],
    solution_text="C. Dropout switches off a quarter and a half of the units in training only; SwapEMAWeights "
                  "measures validation on the averaged weights; and Keras' training accuracy is a running mean over "
                  "the epoch, including its first, worse batches. None of these is about the images.",
    solution_value="C",
    wrong_examples=("A", "B", "D"),
)

q5 = Exercise(
    name="q5",
    question=choice_question(
        "The three made-up training runs drawn above (ex.CURVES: training and validation loss per epoch). "
        "Which run overfits?",
        {"A": "run A (left)", "B": "run B (middle)", "C": "run C (right)"}, "Answer with the run's letter."),
    checker=expect_choice("B", ["A", "B", "C"]),
    hints=["Overfitting: the network keeps getting better on the images it trains on, and worse on the others.",
           "Look for a validation curve that turns back up while its training curve keeps falling."],
    solution_text="B: its training loss keeps falling while its validation loss bottoms out after a few epochs and "
                  "then rises (stop there, or regularise). A fits well (both curves level off close together); "
                  "C does not learn at all (both stay near ln 10 = 2.3, guessing: a learning rate far too small).",
    solution_value="B",
    wrong_examples=("A", "C"),
)

q6 = Exercise(
    name="q6",
    question="ex.CONFUSION, printed below, is the confusion matrix of a weaker model (rows: true digit, columns: "
             "predicted digit). Which true digit is most often predicted as one particular wrong digit? Answer with "
             "the true digit: 0, 1, 2, 3, 4, 5, 6, 7, 8 or 9.",
    checker=expect_choice(9, list(range(10))),
    hints=["Ignore the diagonal (the right answers): set it to 0 with np.fill_diagonal on a copy.",
           "Then find the largest remaining cell; its row is the true digit: np.unravel_index(m.argmax(), m.shape)."],
    solution_text="m = ex.CONFUSION.copy(); np.fill_diagonal(m, 0); np.unravel_index(m.argmax(), m.shape) "
                  "gives (9, 4): nine 9s were read as 4 (the 4/9 pair is a classic MNIST confusion).",
    solution_value=9,
    wrong_examples=(4, 5, 1),
)

EXERCISES = [q1, q2, q3, q4, q5, q6]
