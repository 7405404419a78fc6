"""Exercises for notebook 08, *Transfer learning: freeze, fine-tune, or train from scratch*."""

from __future__ import annotations

from typing import Any

from utils.exercises import Checker, Exercise, expect_choice, expect_integer

#: The regimes, by the names the notebook uses.
REGIMES = ["scratch", "frozen", "last_block", "all"]

#: Three situations for q1: labelled target images, and how alike the source task is.
SITUATIONS = {
    "a": "300 labelled images; the pre-trained network saw a similar task",
    "b": "8,000 labelled images; a similar task",
    "c": "500,000 labelled images; a somewhat different task",
}
_Q1_ANSWER = {"a": "frozen", "b": "last_block", "c": "all"}


def _expect_regimes(expected: dict[str, str]) -> Checker:
    def check(answer: Any) -> str | None:
        if not isinstance(answer, dict):
            return "expected a dict such as {'a': 'frozen', 'b': ..., 'c': ...}."
        missing = [k for k in expected if k not in answer]
        if missing:
            return f"give a regime for every situation; missing: {missing}."
        for key in expected:
            if answer[key] not in REGIMES:
                return f"situation {key!r}: {answer[key]!r} is not one of {REGIMES}."
        wrong = [k for k in expected if answer[k] != expected[k]]
        if wrong:
            return f"look again at situation(s) {wrong}."
        return None

    return check


q1 = Exercise(
    name="q1",
    question="For each situation in ex.SITUATIONS, which regime does the lecture notes' table advise? "
             "Answer a dict {'a': ..., 'b': ..., 'c': ...} with regimes from ex.REGIMES.",
    checker=_expect_regimes(_Q1_ANSWER),
    hints=["The table has three rows: small, medium and large training sets.",
           "Small: freeze everything, train only the new softmax. Medium: also train the last layers. "
           "Large: start from the pre-trained weights and train everything."],
    solution_text="{'a': 'frozen', 'b': 'last_block', 'c': 'all'}. With half a million images even a somewhat "
                  "different task has enough data to re-train every layer, and the pre-trained weights are still "
                  "a better start than random ones. 'scratch' is what you do when no related network exists.",
    solution_value=dict(_Q1_ANSWER),
    wrong_examples=({"a": "all", "b": "last_block", "c": "all"},
                    {"a": "frozen", "b": "frozen", "c": "scratch"},
                    {"a": "scratch", "b": "last_block", "c": "all"},
                    ["frozen", "last_block", "all"]),
)

q2 = Exercise(
    name="q2",
    question="The target model (base + Dropout + Dense(5) head) in the `last_block` regime, as the table above "
             "shows it: how many trainable parameters does it have? Use the per-layer counts printed in section 2.",
    checker=expect_integer(3 * 3 * 32 * 64 + 64 * 5 + 5),
    hints=["Read the `last_block` column: which layers say 'train'? block3_bn is not one of them.",
           "block3_conv has no bias (use_bias=False); the head has 64 x 5 weights and 5 biases."],
    solution_text="block3_conv: 3*3*32*64 = 18,432; head: 64*5 + 5 = 325. Total 18,757. block3_bn stays frozen "
                  "(in inference mode): unfreezing it would add its 128 gamma and beta values, never its moving "
                  "statistics. transfer.count_trainable(model) after transfer.set_trainable(base, 'last_block') "
                  "agrees.",
    solution_value=18_757,
    wrong_examples=(18_885, 19_013, 325, 18_432),
)

BN_CHOICES = {
    "A": "It runs in inference mode: it normalizes with its moving mean and variance and stops updating them; "
         "gamma and beta stop training too.",
    "B": "Only gamma and beta stop training; it still normalizes with each batch's statistics and keeps "
         "updating its moving averages.",
    "C": "It is skipped: its input passes through unchanged.",
    "D": "It keeps updating its moving averages but uses them to normalize.",
}

q3 = Exercise(
    name="q3",
    question="In Keras 3, what does `layer.trainable = False` do to a BatchNormalization layer during fit()? "
             "Answer 'A', 'B', 'C' or 'D' (see ex.BN_CHOICES).",
    checker=expect_choice("A", list(BN_CHOICES)),
    hints=["Look at what the demonstration above printed for the frozen base: did the moving statistics change?",
           "Keras documents a special case for this one layer: trainable=False also means training=False."],
    solution_text="A. Since Keras 2.1.3 (and in Keras 3) a frozen BatchNormalization layer runs in inference mode. "
                  "B is what it did before, and what PyTorch's requires_grad=False still does: the statistics "
                  "keep moving unless you also call .eval().",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)

PLOT_STATEMENTS = {
    "A": "Transfer helps most when target data is scarce; as the training set grows, training from scratch "
         "catches up.",
    "B": "A frozen base with a new head is the best regime at every training-set size.",
    "C": "The more target data there is, the larger the advantage of the pre-trained weights.",
    "D": "Fine-tuning every layer always loses to freezing them.",
}

q4 = Exercise(
    name="q4",
    question="Which statement does the regimes plot support? Answer 'A', 'B', 'C' or 'D' (see ex.PLOT_STATEMENTS).",
    checker=expect_choice("A", list(PLOT_STATEMENTS)),
    hints=["Compare the gap between the best transferred line and the scratch line at the left and at the right.",
           "Which line is on top at the largest size?"],
    solution_text="A. The gap between transfer and scratch is widest at the smallest sizes and closes as data grows; "
                  "the frozen base stops improving early, because its features cannot adapt.",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)

NEGATIVE_CHOICES = {
    "A": "Negative transfer: the source taught features that are worse than none for this target.",
    "B": "Overfitting: the new head memorised the few labelled target images.",
    "C": "Catastrophic forgetting: fine-tuning erased what the source network knew.",
    "D": "Data leakage: target test images were used in training.",
}

q5 = Exercise(
    name="q5",
    question="A source network's frozen features score below an untrained network's random features on the "
             "target. What is that called? Answer 'A', 'B', 'C' or 'D' (see ex.NEGATIVE_CHOICES).",
    checker=expect_choice("A", list(NEGATIVE_CHOICES)),
    hints=["Nothing was fine-tuned and the test images were never trained on: which choices does that rule out?",
           "Overfitting would hurt the random features' head just as much: both heads see the same images."],
    solution_text="A. Transfer can hurt: a digits network's features describe strokes, not garments. Frozen "
                  "features were not changed (so not C), the same head trained on the same images for every "
                  "extractor (so not B), and the test set was used once, at the end (so not D). Pick a related "
                  "source, and compare with a no-transfer baseline.",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5]
