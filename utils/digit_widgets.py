"""Your own digits, live: a drawing pad (ipycanvas) and a photo upload, each showing the model's guess.

The logic lives in plain functions that take values and return a :class:`DigitView` (message,
probabilities, the 28x28 image the model saw), so it is unit-tested without a browser:

- :func:`pad_update` rasterises the strokes drawn so far and predicts;
- :func:`upload_update` reads an uploaded file's bytes and predicts;
- :func:`prediction_text` writes "Prediction: 1 (97.3%)".

The widgets only wire mouse, buttons and the file chooser to those functions. Bad input (a blank pad,
several digits, a non-image file) shows a message and keeps the last good bars. The pad's top container
has the CSS class ``course-drawing-pad``, the upload's ``course-digit-upload``; the prediction line has
``course-prediction`` (browser tests read it).

``predict`` is any function from a (28, 28) float image in [0, 1] to 10 probabilities; use
:func:`model_predictor` to make one from a Keras model.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from utils import digits
from utils.errors import CourseError

Predictor = Callable[[np.ndarray], np.ndarray]
Stroke = list[tuple[float, float]]

PAD_SIZE = 280       # canvas pixels: ten times MNIST's 28
PEN_WIDTH = 18       # canvas pixels: about 2 px after scaling to MNIST's 20 px box
BLANK_PAD_MESSAGE = "The pad is empty: draw one digit (0-9) with the mouse, large and in the middle."
NO_FILE_MESSAGE = "Choose a photo of one handwritten digit (dark pen on light paper, PNG or JPEG)."


@dataclass
class DigitView:
    """What the widgets show: a message line, 10 probabilities (or None) and the 28x28 model input."""

    message: str
    probabilities: np.ndarray | None = None
    image: np.ndarray | None = None
    steps: digits.DigitSteps | None = None

    @property
    def ok(self) -> bool:
        return self.probabilities is not None


def prediction_text(probabilities: Sequence[float]) -> str:
    """``"Prediction: 1 (97.3%)"`` for the most probable class."""
    p = np.asarray(probabilities, dtype=float).ravel()
    if p.shape != (10,) or not np.isfinite(p).all():
        raise CourseError(f"Expected 10 probabilities, got shape {p.shape}.")
    best = int(np.argmax(p))
    return f"Prediction: {best} ({100 * p[best]:.1f}%)"


def model_predictor(model) -> Predictor:
    """A Keras model -> a function from one (28, 28) image in [0, 1] to its 10 probabilities."""

    def predict(image: np.ndarray) -> np.ndarray:
        batch = np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1)
        return np.asarray(model(batch, training=False))[0].astype(float)

    return predict


def _predict(image: np.ndarray, predict: Predictor, steps: digits.DigitSteps | None = None) -> DigitView:
    p = np.asarray(predict(image), dtype=float).ravel()
    return DigitView(prediction_text(p), p, image, steps)


def rasterize(strokes: Sequence[Stroke], size: int = PAD_SIZE, width: float = PEN_WIDTH) -> np.ndarray:
    """Strokes in canvas pixels -> the pad's picture: uint8 (size, size), black ink on white."""
    fractions = [[(x / size, y / size) for x, y in stroke] for stroke in strokes if stroke]
    return digits.draw_strokes(fractions, size=size, width=width)


def pad_update(strokes: Sequence[Stroke], predict: Predictor, size: int = PAD_SIZE,
               width: float = PEN_WIDTH) -> DigitView:
    """The pad's strokes -> message and probabilities (an empty pad or bad drawing gives only a message)."""
    if not any(len(stroke) for stroke in strokes):
        return DigitView(BLANK_PAD_MESSAGE)
    try:
        steps = digits.preprocess_steps(rasterize(strokes, size, width))
    except CourseError as err:
        text = BLANK_PAD_MESSAGE if str(err) == digits.BLANK_MESSAGE else str(err)
        return DigitView(text)
    return _predict(steps.final, predict, steps)


def upload_update(content: bytes | None, predict: Predictor, name: str = "the file") -> DigitView:
    """An uploaded file's bytes -> message and probabilities (a bad file gives only a message)."""
    if content is None:
        return DigitView(NO_FILE_MESSAGE)
    try:
        steps = digits.digit_from_bytes(content, name=name)
    except CourseError as err:
        return DigitView(str(err))
    return _predict(steps.final, predict, steps)


def first_upload(value) -> tuple[str, bytes] | None:
    """(name, bytes) of the first file in an ipywidgets 8 ``FileUpload.value`` (None when empty)."""
    if not value:
        return None
    item = value[0] if isinstance(value, (list, tuple)) else next(iter(value.values()))
    return str(item.get("name", "the file")), bytes(item["content"])


def steps_strip(steps: digits.DigitSteps, cell: int = 84) -> np.ndarray:
    """The six preprocessing pictures side by side (uint8, white gaps), for a small preview."""
    from PIL import Image

    tiles = []
    for picture in steps.images():
        arr = np.clip(np.asarray(picture, dtype=float), 0, 1)
        h, w = arr.shape
        scale = cell / max(h, w)
        img = Image.fromarray(np.round(arr * 255).astype(np.uint8)).resize(
            (max(1, round(w * scale)), max(1, round(h * scale))), Image.NEAREST)
        tile = np.full((cell, cell), 128, dtype=np.uint8)
        small = np.asarray(img)
        top, left = (cell - small.shape[0]) // 2, (cell - small.shape[1]) // 2
        tile[top:top + small.shape[0], left:left + small.shape[1]] = small
        tiles += [tile, np.full((cell, 6), 255, dtype=np.uint8)]
    return np.concatenate(tiles[:-1], axis=1)


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """A uint8 or [0, 1] float image as PNG bytes (for ``ipywidgets.Image``)."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)
    img = Image.fromarray(arr)
    if scale != 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


# ----------------------------------------------------------------------------------------------
# Widgets


class ProbabilityBars:
    """Ten labelled bars (ipywidgets), one per digit, the best one highlighted."""

    def __init__(self) -> None:
        import ipywidgets as w

        self.bars = [w.FloatProgress(value=0, min=0, max=1, layout=w.Layout(width="160px")) for _ in range(10)]
        self.values = [w.Label("", layout=w.Layout(width="52px")) for _ in range(10)]
        rows = [w.HBox([w.Label(str(d), layout=w.Layout(width="14px")), self.bars[d], self.values[d]])
                for d in range(10)]
        self.widget = w.VBox(rows)
        self.widget.add_class("course-probability-bars")

    def show(self, probabilities: np.ndarray | None) -> None:
        p = np.zeros(10) if probabilities is None else np.asarray(probabilities, dtype=float)
        best = int(np.argmax(p)) if probabilities is not None else -1
        for d in range(10):
            self.bars[d].value = float(p[d])
            self.bars[d].bar_style = "success" if d == best else ""
            self.values[d].value = f"{100 * p[d]:.1f}%" if probabilities is not None else ""


class DrawingPad:
    """A canvas to draw a digit on with the mouse; prediction and bars update as you draw."""

    def __init__(self, predict: Predictor, size: int = PAD_SIZE, pen: float = PEN_WIDTH,
                 live_every: float = 0.3) -> None:
        import ipywidgets as w
        from ipycanvas import Canvas

        self.predict, self.size, self.pen, self.live_every = predict, size, pen, live_every
        self.strokes: list[Stroke] = []
        self._drawing = False
        self._last_live = 0.0
        self.canvas = Canvas(width=size, height=size, layout=w.Layout(width=f"{size}px", height=f"{size}px",
                                                                     border="1px solid #999"))
        self.canvas.add_class("course-drawing-canvas")
        self.prediction = w.Label(BLANK_PAD_MESSAGE)
        self.prediction.add_class("course-prediction")
        self.bars = ProbabilityBars()
        self.seen = w.Image(format="png", value=png_bytes(np.zeros((28, 28)), scale=3),
                            layout=w.Layout(width="84px", height="84px"))
        self.clear_button = w.Button(description="Clear", icon="eraser")
        self.clear_button.add_class("course-clear")
        self.clear_button.on_click(lambda _: self.clear())
        self.canvas.on_mouse_down(self._down)
        self.canvas.on_mouse_move(self._move)
        self.canvas.on_mouse_up(self._up)
        self.canvas.on_mouse_out(self._up)
        side = w.VBox([w.Label("What the model sees (28x28):"), self.seen, self.bars.widget])
        self.widget = w.VBox([w.HBox([w.VBox([self.canvas, self.clear_button]), side]), self.prediction])
        self.widget.add_class("course-drawing-pad")
        self._paper()

    # drawing -----------------------------------------------------------------------------------
    def _paper(self) -> None:
        self.canvas.fill_style = "white"
        self.canvas.fill_rect(0, 0, self.size, self.size)
        self.canvas.stroke_style = "black"
        self.canvas.fill_style = "black"
        self.canvas.line_width = self.pen
        self.canvas.line_cap = "round"
        self.canvas.line_join = "round"

    def _down(self, x: float, y: float) -> None:
        self._drawing = True
        self.strokes.append([(x, y)])
        self.canvas.fill_circle(x, y, self.pen / 2)

    def _move(self, x: float, y: float) -> None:
        if not self._drawing:
            return
        x0, y0 = self.strokes[-1][-1]
        self.strokes[-1].append((x, y))
        self.canvas.stroke_line(x0, y0, x, y)
        if time.monotonic() - self._last_live > self.live_every:
            self.refresh()

    def _up(self, x: float, y: float) -> None:
        if self._drawing:
            self._drawing = False
            self.refresh()

    # state -------------------------------------------------------------------------------------
    def draw(self, strokes: Sequence[Stroke]) -> DigitView:
        """Draw strokes (canvas pixels) as if with the mouse, then predict (for demos and tests)."""
        for stroke in strokes:
            self._down(*stroke[0])
            for point in stroke[1:]:
                self._move(*point)
            self._up(*stroke[-1])
        return self.refresh()

    def refresh(self) -> DigitView:
        self._last_live = time.monotonic()
        view = pad_update(self.strokes, self.predict, self.size, self.pen)
        self.prediction.value = view.message
        if view.ok:
            self.bars.show(view.probabilities)
            self.seen.value = png_bytes(view.image, scale=3)
        elif not any(self.strokes):
            self.bars.show(None)
            self.seen.value = png_bytes(np.zeros((28, 28)), scale=3)
        return view

    def clear(self) -> DigitView:
        self.strokes = []
        self._drawing = False
        self.canvas.clear()
        self._paper()
        return self.refresh()


class DigitUpload:
    """A file chooser for a photo of one handwritten digit; shows the preprocessing steps and the guess."""

    def __init__(self, predict: Predictor) -> None:
        import ipywidgets as w

        self.predict = predict
        self.chooser = w.FileUpload(accept="image/*", multiple=False, description="Upload a photo")
        self.prediction = w.Label(NO_FILE_MESSAGE)
        self.prediction.add_class("course-prediction")
        self.bars = ProbabilityBars()
        self.steps = w.Image(format="png", value=png_bytes(np.full((84, 84), 128, dtype=np.uint8)))
        self.chooser.observe(self._changed, names="value")
        self.widget = w.VBox([self.chooser, self.prediction, w.HBox([self.bars.widget]),
                              w.Label("The MNIST steps, left to right:"), self.steps])
        self.widget.add_class("course-digit-upload")

    def _changed(self, change) -> None:
        found = first_upload(change["new"])
        self.show(None if found is None else found[1], "the file" if found is None else found[0])

    def show(self, content: bytes | None, name: str = "the file") -> DigitView:
        view = upload_update(content, self.predict, name)
        self.prediction.value = view.message
        if view.ok:
            self.bars.show(view.probabilities)
            self.steps.value = png_bytes(steps_strip(view.steps))
        return view


def drawing_pad(model_or_predict) -> DrawingPad:
    """Show-ready drawing pad for a Keras model (or a predict function); enables Colab's widget manager."""
    from utils import env

    env.enable_custom_widgets()
    predict = model_or_predict if not hasattr(model_or_predict, "predict") else model_predictor(model_or_predict)
    return DrawingPad(predict)


def digit_upload(model_or_predict) -> DigitUpload:
    """Show-ready upload button for a Keras model (or a predict function)."""
    predict = model_or_predict if not hasattr(model_or_predict, "predict") else model_predictor(model_or_predict)
    return DigitUpload(predict)
