"""utils.plots: each picture draws, shows and closes its figure; bad shapes get a clear message."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils import plots  # noqa: E402
from utils.errors import CourseError  # noqa: E402

GRAY = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
RGB = np.zeros((5, 6, 3), dtype=np.uint8)


@pytest.fixture(autouse=True)
def no_open_figures():
    plt.close("all")
    yield
    assert plt.get_fignums() == [], "a plot function left its figure open"


@pytest.fixture
def captured(monkeypatch):
    """The figures each call shows, in order."""
    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    return shown


def test_show_image_gray_and_colour(captured):
    plots.show_image(GRAY, title="g", colorbar=True)
    plots.show_image(RGB)
    plots.show_image(np.random.default_rng(0).random((4, 4, 3)))
    assert len(captured) == 3 and captured[0].axes[0].get_title() == "g"


def test_show_matrix_writes_every_value(captured):
    plots.show_matrix(GRAY, title="m")
    texts = [t.get_text() for t in captured[0].axes[0].texts]
    assert len(texts) == 16 and texts[:3] == ["0", "16", "32"]


def test_show_matrix_formats_floats(captured):
    plots.show_matrix(np.array([[0.25, 1.0]]), fmt=".1f")
    assert [t.get_text() for t in captured[0].axes[0].texts] == ["0.2", "1.0"]


def test_show_matrix_refuses_colour_and_huge_arrays():
    with pytest.raises(CourseError, match="2-D array"):
        plots.show_matrix(RGB)
    with pytest.raises(CourseError, match="too big"):
        plots.show_matrix(np.zeros((40, 40)))


def test_show_grid_titles_and_empty_cells(captured):
    plots.show_grid([GRAY, RGB, GRAY], titles=["a", "b", "c"], ncols=2, suptitle="s")
    axes = captured[0].axes
    assert [a.get_title() for a in axes[:3]] == ["a", "b", "c"] and not axes[3].axison


def test_show_grid_bad_inputs():
    with pytest.raises(CourseError, match="no images"):
        plots.show_grid([])
    with pytest.raises(CourseError, match="one title per image"):
        plots.show_grid([GRAY, GRAY], titles=["only one"])


def test_show_before_after_same_scale(captured):
    plots.show_before_after(GRAY, GRAY.astype(float) * 2, titles=("x", "2x"), same_scale=True)
    left, right = (ax.images[0].get_clim() for ax in captured[0].axes)
    assert left == right == (0.0, 480.0)


def test_show_bars_highlights_one_bar(captured):
    plots.show_bars(range(3), [0.1, 0.7, 0.2], title="p", highlight=1)
    bars = captured[0].axes[0].patches
    assert bars[1].get_facecolor() != bars[0].get_facecolor()


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((2, 2, 2)), np.zeros((2, 2, 3, 1))])
def test_wrong_image_shapes_get_a_clear_message(bad):
    with pytest.raises(CourseError, match=r"\(H, W\) or \(H, W, 3\)"):
        plots.show_image(bad)


def test_single_channel_and_bool_images_are_accepted(captured):
    plots.show_image(np.zeros((3, 3, 1), dtype=np.uint8))
    plots.show_image(np.eye(3, dtype=bool))
    assert len(captured) == 2
