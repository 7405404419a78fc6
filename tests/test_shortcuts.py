"""utils.shortcuts: the planted mark lands where the mode says, and the share-on-mark measure is right."""

from __future__ import annotations

import numpy as np
import pytest

from utils import shortcuts
from utils.errors import CourseError


def test_positions_are_in_the_border_and_distinct():
    assert len(set(shortcuts.POSITIONS)) == 10
    for top, left in shortcuts.POSITIONS:
        assert top in (0, 28 - shortcuts.SIZE) and 0 <= left and left + shortcuts.SIZE <= 28


def test_class_mode_marks_the_labels_place():
    images = np.zeros((10, 28, 28), dtype=np.uint8)
    labels = np.arange(10)
    marked, where = shortcuts.plant_mark(images, labels, "class")
    assert (where == labels).all() and marked.dtype == np.float32
    for k in range(10):
        rows, cols = shortcuts.mark_box(k)
        assert marked[k, rows, cols].min() == 1.0 and marked[k].sum() == shortcuts.SIZE ** 2


def test_random_mode_is_unrelated_to_the_label_and_none_is_unchanged():
    images = np.zeros((2000, 28, 28, 1), dtype="float32")
    labels = np.zeros(2000, dtype=int)
    _, where = shortcuts.plant_mark(images, labels, "random", seed=3)
    assert 0.05 < np.mean(where == 0) < 0.15 and len(set(where)) == 10
    plain, none = shortcuts.plant_mark(images, labels, "none")
    assert (none == -1).all() and plain.sum() == 0 and plain is not images


def test_share_on_mark():
    heat = np.zeros((28, 28))
    rows, cols = shortcuts.mark_box(7)
    heat[rows, cols] = 1.0
    assert shortcuts.share_on_mark(heat, 7) == 1.0
    assert shortcuts.share_on_mark(heat, 2) == 0.0
    assert shortcuts.share_on_mark(np.zeros((28, 28)), 2) == 0.0


def test_bad_input():
    with pytest.raises(CourseError, match="mode"):
        shortcuts.plant_mark(np.zeros((1, 28, 28)), [0], "corner")
    with pytest.raises(CourseError, match="28x28"):
        shortcuts.plant_mark(np.zeros((1, 32, 32)), [0])
    with pytest.raises(CourseError, match="label"):
        shortcuts.plant_mark(np.zeros((2, 28, 28)), [0, 12])
    with pytest.raises(CourseError, match="0 to 9"):
        shortcuts.mark_box(10)
    with pytest.raises(CourseError, match="28, 28"):
        shortcuts.share_on_mark(np.zeros((5, 5)), 0)
