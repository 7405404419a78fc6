"""Live widgets for the notebooks, each split into a pure update function and thin ipywidgets wiring.

The update functions take plain values (text from the boxes, numbers from the sliders) and return a
result object with the output array and the lines to show; they never touch a widget, so they are unit
tested without a browser. The widget functions only build controls and call them on every change.

- Kernel editor (notebook 02): :func:`kernel_editor_update`, :func:`kernel_editor`.
- Pooling explorer (notebook 03): :func:`pooling_explorer_update`, :func:`pooling_explorer`.

Rule for bad input (an empty box, ``"abc"``, a pool larger than the image): the result carries a message
saying what to fix and keeps the last good output, so the picture never goes blank. No widget state is
stored in notebooks.

For browser tests, each top container has a CSS class (``course-kernel-editor``,
``course-pooling-explorer``), controls have stable descriptions, and two labels change with the output:
``output shape: (H, W)`` and ``output mean: 12.34``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

from utils import kernels
from utils.errors import CourseError

DISPLAY_MODES = ("clip 0-255", "stretch min-max", "absolute value")


@dataclass
class UpdateResult:
    """What a widget shows after one change: the output array (or the last good one) and its text lines."""

    output: np.ndarray | None
    ok: bool
    message: str = ""
    kernel: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shape_text(self) -> str:
        return "output shape: -" if self.output is None else f"output shape: {tuple(self.output.shape)}"

    @property
    def stats_text(self) -> str:
        if self.output is None:
            return "output mean: -"
        return f"output mean: {float(np.mean(self.output)):.2f}"


# ----------------------------------------------------------------------------------------------
# Parsing what a learner types


def parse_weight(text: Any) -> float:
    """One kernel weight from a text box: ``"2"``, ``"-0.5"``, ``"1/9"``. Raises :class:`CourseError` otherwise."""
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        value = float(text)
    else:
        raw = str(text).strip() if text is not None else ""
        if not raw:
            raise CourseError("a weight box is empty; type a number such as 0, 1, -1 or 1/9.")
        try:
            value = float(Fraction(raw.replace(" ", "")))
        except (ValueError, ZeroDivisionError):
            raise CourseError(f"{raw!r} is not a number; type something like 2, -0.5 or 1/9.") from None
    if not np.isfinite(value):
        raise CourseError(f"{text!r} is not a finite number.")
    return value


def parse_weights(entries: Sequence[Any], size: int = 3) -> np.ndarray:
    """A (size, size) kernel from ``size*size`` entries (flat or nested), row by row."""
    flat = list(np.asarray(entries, dtype=object).ravel())
    if len(flat) != size * size:
        raise CourseError(f"expected {size * size} weights, got {len(flat)}.")
    values = []
    for k, entry in enumerate(flat):
        try:
            values.append(parse_weight(entry))
        except CourseError as err:
            raise CourseError(f"row {k // size + 1}, column {k % size + 1}: {err}") from None
    return np.array(values).reshape(size, size)


def format_weight(value: float) -> str:
    """A weight as short text for a box: ``1``, ``-0.5``, ``1/9``, ``1/16``."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    frac = Fraction(value).limit_denominator(64)
    if abs(float(frac) - value) < 1e-12:
        return f"{frac.numerator}/{frac.denominator}"
    return f"{value:.4g}"


def kernel_entries(name: str) -> list[str]:
    """The nine box texts for gallery kernel ``name``, row by row."""
    return [format_weight(v) for v in kernels.get_kernel(name).ravel()]


def parse_int(value: Any, name: str, low: int = 1) -> int:
    """A whole number >= ``low`` from a slider or text box, else :class:`CourseError`."""
    try:
        number = float(str(value).strip()) if not isinstance(value, (int, np.integer)) else value
    except ValueError:
        raise CourseError(f"{name} must be a whole number, got {value!r}.") from None
    if isinstance(value, bool) or not float(number).is_integer() or number < low:
        raise CourseError(f"{name} must be a whole number of at least {low}, got {value!r}.")
    return int(number)


def to_display(output: np.ndarray, mode: str = "clip 0-255") -> np.ndarray:
    """A float feature map as a uint8 picture: clipped to 0-255, stretched min->0/max->255, or |value| clipped."""
    arr = np.asarray(output, dtype=float)
    if mode == "stretch min-max":
        lo, hi = float(arr.min()), float(arr.max())
        arr = (arr - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(arr)
    elif mode == "absolute value":
        arr = np.abs(arr)
    elif mode != "clip 0-255":
        raise CourseError(f"display mode must be one of {DISPLAY_MODES}, got {mode!r}.")
    return np.clip(arr, 0, 255).round().astype(np.uint8)


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """A uint8 image as PNG bytes (``scale`` repeats pixels so small maps stay visible)."""
    from PIL import Image

    arr = np.asarray(image)
    if scale > 1:
        arr = np.repeat(np.repeat(arr, scale, axis=0), scale, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(arr).save(buffer, format="PNG")
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------
# Kernel editor


def kernel_editor_update(image: np.ndarray, entries: Sequence[Any], padding: str = "valid", stride: Any = 1,
                         last: UpdateResult | None = None) -> UpdateResult:
    """Convolve ``image`` with the kernel typed in ``entries`` (9 boxes), with ``padding`` and ``stride``.

    Returns the output (float array) and ``ok=True``; on a bad entry returns ``ok=False``, a message saying
    which box is wrong, and ``last``'s output and kernel (the last good picture stays up).
    """
    try:
        kernel = parse_weights(entries)
        stride = parse_int(stride, "stride")
        image = np.asarray(image, dtype=float)
        if image.ndim != 2:
            raise CourseError(f"the kernel editor works on grayscale images (H, W), got shape {image.shape}.")
        output = kernels.conv2d(image, kernel, padding=padding, stride=stride)
    except CourseError as err:
        return UpdateResult(output=None if last is None else last.output, ok=False, message=f"\u26a0 {err}",
                            kernel=None if last is None else last.kernel)
    return UpdateResult(output=output, ok=True, message="", kernel=kernel,
                        extra={"sum of weights": float(kernel.sum())})


def _gray_photos(size: int) -> dict[str, np.ndarray]:
    from utils.data import load_photo, photo_names

    return {name: load_photo(name, gray=True, size=size) for name in photo_names()}


def kernel_editor(images: Mapping[str, np.ndarray] | None = None, size: int = 160, preset: str = "sharpen"):
    """The live kernel editor: 3x3 weight boxes, preset and image menus, padding, stride and display controls.

    ``images`` maps names to grayscale arrays (default: the course photos at ``size`` pixels). Returns the
    top ipywidgets container (CSS class ``course-kernel-editor``); display it or leave it last in a cell.
    """
    import ipywidgets as w

    images = dict(images) if images is not None else _gray_photos(size)
    if not images:
        raise CourseError("kernel_editor needs at least one image.")
    box_layout = w.Layout(width="92px")
    boxes = []
    for r in range(3):
        for c in range(3):
            box = w.Text(value="0", description=f"w{r}{c}", layout=box_layout,
                         style={"description_width": "28px"}, continuous_update=True)
            box.add_class(f"course-weight-{r}{c}")
            boxes.append(box)
    grid = w.GridBox(boxes, layout=w.Layout(grid_template_columns="repeat(3, 96px)"))
    preset_menu = w.Dropdown(options=["(custom)"] + kernels.kernel_names(), value=preset, description="preset")
    image_menu = w.Dropdown(options=list(images), value=list(images)[0], description="image")
    padding_menu = w.Dropdown(options=list(kernels.PADDING_MODES), value="same", description="padding")
    stride_slider = w.IntSlider(value=1, min=1, max=4, description="stride")
    display_menu = w.Dropdown(options=list(DISPLAY_MODES), value=DISPLAY_MODES[0], description="show as")
    before = w.Image(format="png")
    after = w.Image(format="png")
    shape_label = w.Label("output shape: -")
    stats_label = w.Label("output mean: -")
    message = w.HTML("")
    state: dict[str, Any] = {"last": None, "loading": False}

    def refresh(*_):
        if state["loading"]:
            return
        image = images[image_menu.value]
        result = kernel_editor_update(image, [b.value for b in boxes], padding_menu.value, stride_slider.value,
                                      last=state["last"])
        message.value = result.message
        if result.ok:
            state["last"] = result
        before.value = png_bytes(np.clip(image, 0, 255).astype(np.uint8))
        if result.output is not None:
            after.value = png_bytes(to_display(result.output, display_menu.value))
        shape_label.value = result.shape_text
        stats_label.value = result.stats_text

    def load_preset(change):
        if change["new"] == "(custom)":
            return
        state["loading"] = True
        for box, text in zip(boxes, kernel_entries(change["new"])):
            box.value = text
        state["loading"] = False
        refresh()

    def edited(_):
        if not state["loading"] and preset_menu.value != "(custom)":
            expected = kernel_entries(preset_menu.value)
            if [b.value for b in boxes] != expected:
                state["loading"] = True
                preset_menu.value = "(custom)"
                state["loading"] = False
        refresh()

    for box in boxes:
        box.observe(edited, names="value")
    preset_menu.observe(load_preset, names="value")
    for control in (image_menu, padding_menu, stride_slider, display_menu):
        control.observe(refresh, names="value")
    load_preset({"new": preset})

    controls = w.VBox([preset_menu, grid, image_menu, padding_menu, stride_slider, display_menu])
    pictures = w.HBox([w.VBox([w.Label("input"), before]), w.VBox([w.Label("output"), after])])
    top = w.VBox([w.HBox([controls, pictures]), shape_label, stats_label, message])
    top.add_class("course-kernel-editor")
    return top


# ----------------------------------------------------------------------------------------------
# Pooling explorer


def pooling_explorer_update(image: np.ndarray, size: Any = 2, stride: Any = 2, mode: str = "max",
                            last: UpdateResult | None = None) -> UpdateResult:
    """Pool ``image`` with a ``size`` x ``size`` window moved by ``stride``, taking the max or the average.

    Bad values (non-numbers, 0, a window larger than the image, an unknown mode) give ``ok=False``, a message
    and ``last``'s output.
    """
    try:
        size = parse_int(size, "pool size")
        stride = parse_int(stride, "stride")
        image = np.asarray(image, dtype=float)
        if image.ndim != 2:
            raise CourseError(f"the pooling explorer works on grayscale images (H, W), got shape {image.shape}.")
        output = kernels.pool2d(image, size, stride, mode)
    except CourseError as err:
        return UpdateResult(output=None if last is None else last.output, ok=False, message=f"\u26a0 {err}")
    shrink = image.size / output.size
    return UpdateResult(output=output, ok=True, extra={"pixels kept": f"1 in {shrink:.1f}"})


def pooling_explorer(images: Mapping[str, np.ndarray] | None = None, size: int = 128):
    """The live pooling explorer: image menu, pool size, stride and max/avg; input and output side by side.

    ``images`` maps names to grayscale arrays, e.g. ``{"my feature map": fmap}`` (default: the course photos).
    Returns the top container (CSS class ``course-pooling-explorer``).
    """
    import ipywidgets as w

    images = dict(images) if images is not None else _gray_photos(size)
    if not images:
        raise CourseError("pooling_explorer needs at least one image.")
    image_menu = w.Dropdown(options=list(images), value=list(images)[0], description="image")
    size_slider = w.IntSlider(value=2, min=1, max=8, description="pool size")
    stride_slider = w.IntSlider(value=2, min=1, max=8, description="stride")
    mode_buttons = w.ToggleButtons(options=list(kernels.POOL_MODES), value="max", description="mode")
    before = w.Image(format="png")
    after = w.Image(format="png")
    shape_label = w.Label("output shape: -")
    stats_label = w.Label("output mean: -")
    kept_label = w.Label("")
    message = w.HTML("")
    state: dict[str, Any] = {"last": None}

    def refresh(*_):
        image = images[image_menu.value]
        result = pooling_explorer_update(image, size_slider.value, stride_slider.value, mode_buttons.value,
                                         last=state["last"])
        message.value = result.message
        if result.ok:
            state["last"] = result
            kept_label.value = f"pixels kept: {result.extra['pixels kept']}"
        image = np.asarray(image, dtype=float)
        how = "clip 0-255" if image.min() >= 0 and image.max() <= 255 else "stretch min-max"
        before.value = png_bytes(to_display(image, how))
        if result.output is not None:
            out = to_display(result.output, how)
            scale = max(1, image.shape[0] // max(1, out.shape[0]))  # draw the output at the input's size
            after.value = png_bytes(out, scale=scale)
        shape_label.value = result.shape_text
        stats_label.value = result.stats_text

    for control in (image_menu, size_slider, stride_slider, mode_buttons):
        control.observe(refresh, names="value")
    refresh()
    controls = w.VBox([image_menu, size_slider, stride_slider, mode_buttons])
    pictures = w.HBox([w.VBox([w.Label("input"), before]), w.VBox([w.Label("pooled (drawn at input size)"), after])])
    top = w.VBox([w.HBox([controls, pictures]), shape_label, stats_label, kept_label, message])
    top.add_class("course-pooling-explorer")
    return top
