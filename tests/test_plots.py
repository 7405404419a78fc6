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


# ----------------------------------------------------------------------------------------------
# Rendering: every public picture draws something a class can see.

def _pixels(fig) -> np.ndarray:
    """The figure rendered by Agg, as an (H, W, 3) float array in 0-1."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(float) / 255


def _not_blank(fig) -> None:
    rgb = _pixels(fig)
    background = np.all(rgb > 0.97, axis=-1)
    assert rgb.std() > 0.05, f"the figure is nearly uniform (pixel spread {rgb.std():.3f})"
    assert 1 - background.mean() > 0.05, f"only {1 - background.mean():.1%} of the figure is not background"


RNG = np.random.default_rng(0)
PHOTO = (RNG.random((32, 40, 3)) * 255).astype(np.uint8)
FLOAT_MAP = RNG.normal(size=(12, 12))
MASK = np.zeros((10, 10), dtype=bool)
MASK[:, 5:] = True

#: Typical calls of every public picture function; a new function must be added here.
TYPICAL_CALLS = {
    "show_image": [dict(image=PHOTO, title="photo"), dict(image=FLOAT_MAP, colorbar=True), dict(image=MASK)],
    "show_matrix": [dict(matrix=GRAY, title="m"), dict(matrix=FLOAT_MAP[:5, :5], colorbar=True),
                    dict(matrix=RNG.integers(0, 1000, (10, 10)), log=True, xlabel="predicted", ylabel="true",
                         row_labels=range(10), col_labels=range(10))],
    "show_grid": [dict(images=[GRAY, PHOTO, MASK], titles=["a", "b", "a much longer title than fits"]),
                  dict(images=[FLOAT_MAP, 2 * FLOAT_MAP], colorbar=True, suptitle="shared")],
    "show_before_after": [dict(before=GRAY, after=MASK[:4, :4]), dict(before=FLOAT_MAP, after=-FLOAT_MAP,
                                                                     colorbar=True)],
    "show_bars": [dict(labels=range(10), values=RNG.random(10), title="p", highlight=3),
                  dict(labels=["a rather long name", "another long name", "c"], values=[0.97, 0.99, 0.98],
                       ylim=(0.95, 1.0), value_fmt=".1%")],
}


def test_every_public_picture_function_has_a_render_test():
    public = {name for name in dir(plots) if name.startswith("show_") and callable(getattr(plots, name))}
    assert public == set(TYPICAL_CALLS), f"add typical calls for {sorted(public - set(TYPICAL_CALLS))}"


@pytest.mark.parametrize("name, kwargs", [(name, kw) for name, calls in TYPICAL_CALLS.items() for kw in calls],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_every_picture_renders_something_visible(name, kwargs, captured):
    getattr(plots, name)(**kwargs)
    assert len(captured) == 1
    _not_blank(captured[0])


def test_a_blank_figure_fails_the_render_check():
    fig = plt.figure()
    with pytest.raises(AssertionError, match="uniform"):
        _not_blank(fig)
    plt.close(fig)


def _pixel_at(fig, ax, x: float, y: float) -> np.ndarray:
    rgb = _pixels(fig)
    col, row = ax.transData.transform((x, y))
    return rgb[rgb.shape[0] - 1 - int(row), int(col)]


def test_a_bool_mask_is_drawn_black_and_white(captured):
    """A mask (01's threshold) on the 0-255 scale drew all black; True must be white, False black."""
    plots.show_image(MASK)
    plots.show_before_after(GRAY, MASK)  # 01's "coins > 110" picture
    plots.show_grid([MASK, MASK])
    for fig in captured:
        ax = fig.axes[-1] if len(fig.axes) == 2 else fig.axes[0]
        assert ax.images[0].get_clim() == (0, 1)
        assert _pixel_at(fig, ax, 7, 5).min() > 0.9, "True is not drawn white"
        assert _pixel_at(fig, ax, 2, 5).max() < 0.1, "False is not drawn black"


def test_the_style_is_sized_for_a_projector():
    rc = matplotlib.rcParams
    assert 100 <= rc["figure.dpi"] <= 110 and rc["figure.figsize"][0] >= 8
    assert rc["font.size"] >= 13 and rc["axes.titlesize"] >= 15 and rc["xtick.labelsize"] >= 13


def test_figures_use_constrained_layout_and_fit_a_notebook(captured):
    plots.show_grid([GRAY] * 10, ncols=10, size=1.5)
    fig = captured[0]
    assert fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine"
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH


def test_panel_titles_do_not_overlap(captured):
    plots.show_grid([GRAY] * 4, titles=["a long title for a small panel"] * 4, ncols=4, size=2)
    fig = captured[0]
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else None
    fig.canvas.draw()
    boxes = [ax.title.get_window_extent(renderer) for ax in fig.axes]
    for left, right in zip(boxes, boxes[1:]):
        assert left.x1 <= right.x0, "two panel titles overlap"


def test_matrix_numbers_grow_with_cells_and_contrast_with_them(captured):
    plots.show_matrix(np.array([[0, 255], [255, 0]], dtype=np.uint8), size=4)
    plots.show_matrix(np.arange(100).reshape(10, 10), size=4)
    big, small = (fig.axes[0].texts for fig in captured)
    assert big[0].get_fontsize() > small[0].get_fontsize() >= 7
    assert big[0].get_color() == "white" and big[1].get_color() == "black"  # on black, on white
    plots.show_matrix(np.array([[0, 1]]), cmap="viridis")  # viridis: dark purple to light yellow
    dark, light = captured[2].axes[0].texts
    assert dark.get_color() == "white" and light.get_color() == "black"


def test_matrix_log_scale_shows_small_counts(captured):
    counts = np.array([[1000, 3], [0, 990]])
    plots.show_matrix(counts, log=True)
    plots.show_matrix(counts)
    log_image, linear_image = (fig.axes[0].images[0] for fig in captured)
    assert log_image.norm(3) > 0.1 > linear_image.norm(3)


def test_shared_scale_and_colour_bar(captured):
    plots.show_grid([FLOAT_MAP, 2 * FLOAT_MAP], shared_scale=True)
    plots.show_grid([FLOAT_MAP, 2 * FLOAT_MAP], colorbar=True)
    plots.show_grid([FLOAT_MAP, 2 * FLOAT_MAP])
    shared, with_bar, separate = captured
    assert shared.axes[0].images[0].get_clim() == shared.axes[1].images[0].get_clim()
    assert len(with_bar.axes) == 3  # two panels and one colour bar
    assert separate.axes[0].images[0].get_clim() != separate.axes[1].images[0].get_clim()


def test_bars_zoom_and_label_values(captured):
    plots.show_bars(["0", "1"], [0.97, 0.99], ylim=(0.95, 1.0), value_fmt=".0%")
    ax = captured[0].axes[0]
    assert ax.get_ylim() == (0.95, 1.0)
    assert [t.get_text() for t in ax.texts] == ["97%", "99%"]


def test_bars_bad_inputs():
    with pytest.raises(CourseError, match="one label per bar"):
        plots.show_bars(["a"], [1, 2])
    with pytest.raises(CourseError, match="not a bar"):
        plots.show_bars(["a", "b"], [1, 2], highlight=5)


@pytest.mark.parametrize("bad, message", [(np.array([["a", "b"]]), "numbers"), (np.ones((2, 2)) * 1j, "complex")])
def test_non_numeric_images_get_a_clear_message(bad, message):
    with pytest.raises(CourseError, match=message):
        plots.show_image(bad)
    with pytest.raises(CourseError, match=message):
        plots.show_matrix(bad)


@pytest.mark.parametrize("matrix, size, at_least", [
    (np.arange(9).reshape(3, 3) - 4, 1.8, 14),              # 02's kernel, drawn small by its caller
    (np.full((10, 10), 1135), 6.5, 11),                      # 04's confusion matrix: 4-digit counts
    (np.arange(144).reshape(12, 12), 6, 11),                 # 01's 12x12 patch
])
def test_matrix_numbers_are_readable_in_the_course_uses(matrix, size, at_least, captured):
    plots.show_matrix(matrix, size=size)
    assert captured[0].axes[0].texts[0].get_fontsize() >= at_least
