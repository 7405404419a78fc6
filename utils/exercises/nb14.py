"""Exercises for notebook 14, *Finding objects: localisation, landmarks and detection*."""

from __future__ import annotations

import numpy as np

from utils.exercises import Exercise, expect_choice, expect_function, expect_integer


def _box_iou(a, b) -> float:
    """IoU of two boxes ``[x0, y0, x1, y1]`` (x1, y1 one past the last pixel); 0 when either box is empty."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def _iou_cases() -> list[tuple]:
    """Partial overlap, no overlap, touching edges, containment, identical boxes, an empty (zero-area) box."""
    return [([0, 0, 4, 4], [2, 2, 6, 6]),        # partial overlap: 4 / 28
            ([0, 0, 2, 2], [5, 5, 8, 9]),        # no overlap at all
            ([0, 0, 2, 2], [2, 0, 4, 2]),        # touching edges: no shared area
            ([0, 0, 10, 10], [2, 3, 5, 7]),      # containment: the small box's area / the big one's
            ([1.5, 2, 7, 9.5], [1.5, 2, 7, 9.5]),  # identical boxes
            ([3, 3, 3, 8], [0, 0, 10, 10]),      # an empty box (zero width)
            ([3, 3, 3, 3], [3, 3, 3, 3]),        # two empty boxes: nothing to divide, IoU 0
            ([2, 0, 6, 3], [0, 1, 4, 8])]        # a thin overlap, fractional result


def _no_max(a, b) -> float:  # wrong: forgets that boxes apart give a negative width
    a, b = np.asarray(a, float), np.asarray(b, float)
    inter = (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union else 0.0


def _over_sum(a, b) -> float:  # wrong: divides by the sum of the areas (forgets to subtract the intersection)
    a, b = np.asarray(a, float), np.asarray(b, float)
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    total = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return float(width * height / total) if total else 0.0


def _over_smaller(a, b) -> float:  # wrong: intersection over the smaller area (containment would score 1)
    a, b = np.asarray(a, float), np.asarray(b, float)
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(width * height / smaller) if smaller else 0.0


def _plus_one(a, b) -> float:  # wrong: the old inclusive-pixel convention (+1 on every side)
    a, b = np.asarray(a, float), np.asarray(b, float)
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    area = lambda z: (z[2] - z[0] + 1) * (z[3] - z[1] + 1)  # noqa: E731
    return float(width * height / (area(a) + area(b) - width * height))


def _crashes_on_empty(a, b) -> float:  # wrong: divides by zero for two empty boxes
    a, b = np.asarray(a, float), np.asarray(b, float)
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - width * height
    return float(width * height / union) if union != 0 else float("nan")


q1 = Exercise(
    name="q1",
    question="Write box_iou(a, b) for two boxes given as [x0, y0, x1, y1] (x1, y1 one past the last pixel, so the "
             "width is x1 - x0): the area both boxes cover divided by the area either covers. Boxes that do not "
             "overlap (or only touch) score 0; an empty box (zero width or height) scores 0, even against itself.",
    checker=expect_function(_box_iou, _iou_cases),
    hints=["The overlap is itself a box: its left edge is the larger of the two x0, its right edge the smaller of "
           "the two x1. Same for y.",
           "Boxes apart give a negative overlap width: clip it at 0 with max(0, ...). Union = area_a + area_b - "
           "intersection; return 0 when the union is 0."],
    solution_text="def box_iou(a, b):\n"
                  "    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))\n"
                  "    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))\n"
                  "    inter = width * height\n"
                  "    area_a = max(0, a[2] - a[0]) * max(0, a[3] - a[1])\n"
                  "    area_b = max(0, b[2] - b[0]) * max(0, b[3] - b[1])\n"
                  "    union = area_a + area_b - inter\n"
                  "    return inter / union if union > 0 else 0.0",
    solution_value=_box_iou,
    wrong_examples=(_no_max, _over_sum, _over_smaller, _plus_one, _crashes_on_empty),
)

#: q3's options: why NMS raised the detector's precision.
NMS_CHOICES = {
    "A": "NMS removes extra boxes that neighbouring cells put on a digit that is already found; each of them "
         "counted as a false positive, and removing them loses almost no true positive.",
    "B": "NMS makes the network more confident, so the boxes it keeps score higher and fit better.",
    "C": "NMS removes the lowest-scoring box of every canvas, which is usually a false positive.",
    "D": "NMS removes boxes of the wrong class, so the class errors disappear.",
}

q3 = Exercise(
    name="q3",
    question="At the same score threshold, NMS raised the detector's precision while its recall hardly moved. "
             "Why? Answer with a letter (the options are printed).",
    checker=expect_choice("A", tuple(NMS_CHOICES)),
    hints=["NMS runs after the network: it cannot change any score or any box it keeps.",
           "Which detections does NMS delete? Ones that overlap a higher-scoring box by more than the threshold."],
    solution_text="A. NMS only deletes boxes that overlap a higher-scoring box. On a digit already found, such a "
                  "box can never be a true positive (the digit is matched once), so it was a false positive; "
                  "deleting it raises precision. Recall moves only where two real digits overlap that much.",
    solution_value="A",
    wrong_examples=("B", "C", "D"),
)


q2 = Exercise(
    name="q2",
    question="Notebook 04's CNN, run as a fully convolutional network, turns a 64x64 canvas into a 19x19 map of "
             "class probabilities (a 28x28 window every 2 pixels). How wide is the map for a 100x100 canvas?",
    checker=expect_integer((100 - 28) // 2 + 1),
    hints=["A window of 28 fits at positions 0, 2, 4, ... as long as it stays inside the canvas.",
           "Check the formula on the 64x64 canvas: (64 - 28) / 2 + 1 = 19."],
    solution_text="(100 - 28) / 2 + 1 = 37 positions per row: the first window starts at 0, the last at 72. "
                  "The stride 2 comes from the 2x2 max pooling, the 28 from the input the CNN was built for.",
    solution_value=37,
    wrong_examples=(36, 73, 50, 100 // 28),
)

#: q4's options: what the coarse grid's lost digits mean.
GRID_CHOICES = {
    "A": "The coarse grid's network is too small to recognise digits.",
    "B": "Each cell predicts one box, so where two digits' centres fall in the same cell only one of them can be "
         "found; bigger cells make that more common, and no amount of training fixes it.",
    "C": "The coarse grid needs more epochs; trained longer it would find every digit.",
    "D": "Digits smaller than a cell are invisible to a convolution.",
}

q4 = Exercise(
    name="q4",
    question="The notebook counted how many test digits share a cell with another digit's centre, for the 4x4 grid "
             "and the 8x8 grid. What does that count mean for the coarse detector? Answer with a letter.",
    checker=expect_choice("B", tuple(GRID_CHOICES)),
    hints=["Look at the targets, before any training: how many boxes can one cell hold?",
           "A digit dropped from the targets is one the detector is never asked to find."],
    solution_text="B. A cell has one objectness score, one box and one class: two digits whose centres fall in one "
                  "cell give one target, and the other digit is lost before training starts. That caps recall "
                  "whatever the training. Anchor boxes (several boxes per cell) or a finer grid lift the cap.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = (q1, q2, q3, q4)


def _show_choices(choices: dict[str, str]) -> None:
    for letter, text in choices.items():
        print(f"{letter}. {text}")


def show_nms_choices() -> None:
    """Print q3's options."""
    _show_choices(NMS_CHOICES)


def show_grid_choices() -> None:
    """Print q4's options."""
    _show_choices(GRID_CHOICES)
