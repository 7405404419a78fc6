"""Exercises for notebook 05, *What a CNN sees*."""

from __future__ import annotations

import numpy as np

from utils.exercises import Exercise, choice_question, expect_choice, expect_function, expect_integer


def _receptive_field(layers) -> int:
    size, jump = 1, 1
    for kernel, stride in layers:
        size += (kernel - 1) * jump
        jump *= stride
    return size


def _receptive_field_cases() -> list[tuple]:
    return [([(3, 1)],), ([(3, 1)] * 3,), ([(3, 1), (3, 1), (2, 2)],), ([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)],),
            ([(11, 4), (3, 2), (5, 1), (3, 2)],), ([(7, 2), (3, 2), (1, 1), (3, 1)],)]


#: The four kernels of q1, in the order A, B, C, D (the notebook draws them).
CANDIDATE_KERNELS: dict[str, np.ndarray] = {
    "A": np.full((3, 3), 1 / 9),
    "B": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "C": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "D": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
}

q1 = Exercise(
    name="q1",
    question="Which of the four hand-made kernels A, B, C and D, drawn and printed by this cell, is an edge "
             "detector? Answer with its letter.",
    checker=expect_choice("C", list(CANDIDATE_KERNELS)),
    hints=["An edge detector answers 0 on a flat area: its weights add up to 0.",
           "Look for negative weights on one side and positive ones on the other."],
    solution_text="C (a Sobel kernel): -1 -2 -1 on the left, +1 +2 +1 on the right, summing to 0, so it answers "
                  "where brightness changes from left to right. A and D blur (weights sum to 1), B copies.",
    solution_value="C",
    wrong_examples=("A", "B", "D", "E"),
)

q2 = Exercise(
    name="q2",
    question="A stack: 3x3 conv, 3x3 conv, 2x2 max pooling (stride 2), 3x3 conv (all convs stride 1, no dilation). "
             "How many input pixels wide is the receptive field of one unit of the last conv?",
    checker=expect_integer(_receptive_field([(3, 1), (3, 1), (2, 2), (3, 1)])),
    hints=["Each layer adds (kernel - 1) x jump, where jump is the product of the strides before it.",
           "After the pooling the jump is 2, so the last 3x3 conv adds 2 x 2 = 4 pixels."],
    solution_text="1 -> 3 -> 5 (two 3x3 convs), pooling adds (2-1)*1 = 1 -> 6 and makes the jump 2; "
                  "the last 3x3 adds (3-1)*2 = 4 -> 10.",
    solution_value=10,
    wrong_examples=(7, 9, 8, 6),
)

q3 = Exercise(
    name="q3",
    question="AlexNet begins with an 11x11 conv at stride 4, then 3x3 max pooling at stride 2. How many input "
             "pixels wide is the receptive field of one pooled unit?",
    checker=expect_integer(_receptive_field([(11, 4), (3, 2)])),
    hints=["After conv1 one unit sees 11 pixels and neighbouring units are 4 pixels apart.",
           "The pooling window spans 3 conv1 units: the first and the last are 2 x 4 pixels apart."],
    solution_text="11 + (3 - 1) * 4 = 19 pixels.",
    solution_value=19,
    wrong_examples=(13, 14, 33),
)

q4 = Exercise(
    name="q4",
    question="Write receptive_field(layers) that takes a list of (kernel, stride) pairs and returns how many "
             "input pixels wide one unit of the last layer sees.",
    checker=expect_function(_receptive_field, _receptive_field_cases),
    hints=["Keep two numbers while walking the layers: size (starts at 1) and jump (starts at 1).",
           "Per layer: size += (kernel - 1) * jump, then jump *= stride."],
    solution_text="def receptive_field(layers):\n    size, jump = 1, 1\n    for kernel, stride in layers:\n"
                  "        size += (kernel - 1) * jump\n        jump *= stride\n    return size",
    solution_value=_receptive_field,
    wrong_examples=(lambda layers: sum(k for k, s in layers),
                    lambda layers: 1 + sum(k - 1 for k, s in layers), 7),
)

q5 = Exercise(
    name="q5",
    question=choice_question(
        "The occlusion maps above are drawn on one colour scale centred at zero; the colour bar gives the drop in "
        "the class logit when a 6x6 patch there is covered. What does a blue region tell you?",
        {"A": "the network never looks there.",
         "B": "the pixels there argue against the class: without them the network is surer of it.",
         "C": "the pixels there are dark.",
         "D": "the gradient is zero there."}),
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["Occlusion measures score(original) - score(covered) for each place: what is the sign where it is blue?",
           "Blue means negative: the score went *up* when that part was hidden."],
    solution_text="B. Covering the region made the class score rise, so what is there was evidence against the "
                  "class (for a mistake: often the stroke that would have made it the true digit). A region the "
                  "network ignores stays white (A); dark pixels covered with black change nothing (C); occlusion "
                  "uses no gradients (D).",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5]
