"""Exercises for notebook 03, *ReLU and pooling*, in the order the notebook asks them."""

from __future__ import annotations

import numpy as np

from utils import kernels
from utils.exercises import Exercise, choice_question, expect_array, expect_choice, expect_function, expect_shape

#: The matrix q1 asks to pool.
Q1_MATRIX = np.array([[1, 5, 0, 2, 8, 1],
                      [4, 2, 3, 3, 0, 6],
                      [7, 0, 9, 1, 2, 2],
                      [3, 8, 4, 4, 5, 0]])


def _max_pool_reference(x, size, stride):
    return kernels.pool2d(x, int(size), int(stride), "max")


def _max_pool_cases() -> list[tuple]:
    rng = np.random.default_rng(3)
    return [(rng.normal(size=(4, 4)).round(2), 2, 2), (rng.normal(size=(7, 9)).round(2), 3, 2),
            (rng.normal(size=(6, 10)).round(2), 2, 1), (rng.normal(size=(9, 5)).round(2), 3, 3),
            (-rng.random(size=(5, 5)).round(2), 2, 2)]


q1 = Exercise(
    name="q1",
    question="Max-pool this 4x6 matrix (ex.Q1_MATRIX, printed below) with a 2x2 window and stride 2, by hand. "
             "Answer with the pooled matrix, as a nested list or an array.",
    checker=expect_array(kernels.pool2d(Q1_MATRIX, 2, 2, "max")),
    hints=["The output is 2x3: one number per 2x2 block.",
           "The top-left block is [[1, 5], [4, 2]]; keep its largest value."],
    solution_text="[[5, 3, 8],\n [8, 9, 5]]",
    solution_value=[[5, 3, 8], [8, 9, 5]],
    wrong_examples=([[5, 3, 8], [8, 9, 2]], kernels.pool2d(Q1_MATRIX, 2, 2, "avg"), [[5, 3], [8, 9]]),
)

q2 = Exercise(
    name="q2",
    question="Write my_max_pool(x, size, stride): max pooling of a 2-D map with a size x size window moved by "
             "stride, for any window size and stride (windows overlap when stride < size); windows that do not fit "
             "at the right or bottom are dropped. It is checked on random maps, non-square and overlapping cases "
             "included.",
    checker=expect_function(_max_pool_reference, _max_pool_cases),
    hints=["The output has (H - size)//stride + 1 rows and (W - size)//stride + 1 columns.",
           "Output (i, j) is x[i*stride : i*stride + size, j*stride : j*stride + size].max()."],
    solution_text="def my_max_pool(x, size, stride):\n"
                  "    out_h = (x.shape[0] - size) // stride + 1\n"
                  "    out_w = (x.shape[1] - size) // stride + 1\n"
                  "    out = np.zeros((out_h, out_w))\n"
                  "    for i in range(out_h):\n"
                  "        for j in range(out_w):\n"
                  "            out[i, j] = x[i*stride:i*stride + size, j*stride:j*stride + size].max()\n"
                  "    return out",
    solution_value=_max_pool_reference,
    wrong_examples=(
        lambda x, size, stride: kernels.pool2d(x, size, stride, "avg"),
        lambda x, size, stride: kernels.pool2d(x, size, size, "max"),  # ignores stride
        lambda x, size, stride: np.maximum(kernels.pool2d(x, size, stride, "max"), 0),  # clips negatives
        [[1]],
    ),
)

q3 = Exercise(
    name="q3",
    question=choice_question(
        "Interpret the curves of relative change against shift: which statement do they support?",
        {"A": "pooling makes the maps completely shift-invariant.",
         "B": "larger pooling windows change less under a shift, but only the global maximum stays (nearly) "
              "unchanged.",
         "C": "pooling makes the maps change more under a shift.",
         "D": "the raw feature map does not change under a shift."}),
    checker=expect_choice("B", "ABCD"),
    hints=["Compare the curves at a shift of 1 pixel, then at 4 pixels: which ones are above zero?",
           "Is any curve other than the global maximum flat at 0?"],
    solution_text="B. Each larger window lowers the curve, yet every pooled map still changes and the change grows "
                  "with the shift; only the global maximum (one number for the whole map) hardly moves. Pooling "
                  "buys some invariance to small shifts, not complete invariance.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

q4 = Exercise(
    name="q4",
    question=choice_question(
        "Predict before we measure: a ReLU map is max-pooled with 4x4 windows and stride 4, and the image is moved "
        "down by exactly 4 pixels. What happens to the pooled map, away from the border?",
        {"A": "nothing, it is unchanged.", "B": "it is scrambled.", "C": "it moves down by one pooled pixel.",
         "D": "it moves down by 4 pooled pixels."}),
    checker=expect_choice("C", "ABCD"),
    hints=["Convolution is equivariant: move the image by 4 pixels and the feature map moves by 4 pixels.",
           "After the move, every 4x4 window holds what the window above it held before."],
    solution_text="C. The feature map moves by 4 pixels, which is exactly one window, so each pooled pixel now holds "
                  "what its upper neighbour held: the pooled map moves by one pooled pixel (equivariance on a "
                  "coarser grid). Shifts smaller than the window give only approximate invariance.",
    solution_value="C",
    wrong_examples=("A", "B", "D"),
)

q5 = Exercise(
    name="q5",
    question="A 64x64x3 image goes through Conv2D(32, 3x3, 'valid') -> MaxPool 2x2/2 -> Conv2D(64, 3x3, 'valid') "
             "-> MaxPool 2x2/2 -> Conv2D(128, 3x3, 'same') -> MaxPool 3x3/2. What is the output shape "
             "(height, width, channels)?",
    checker=expect_shape((6, 6, 128)),
    hints=["Go layer by layer: valid 3x3 loses 2 pixels, a 2x2/2 pool halves (rounding down), 'same' keeps the size.",
           "The last pool: (14 - 3) // 2 + 1. Channels are the number of filters of the last conv."],
    solution_text="64 -> 62 -> 31 -> 29 -> 14 -> 14 (same) -> (14 - 3)//2 + 1 = 6; channels 128: (6, 6, 128).",
    solution_value=(6, 6, 128),
    wrong_examples=((7, 7, 128), (6, 6, 3), (6, 6), "6x6x128"),
)

EXERCISES = [q1, q2, q3, q4, q5]
