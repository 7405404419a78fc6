"""Your own digits, live: a drawing pad and a photo upload, each showing the model's guess.

The logic lives in plain functions that take values and return a :class:`DigitView` (message,
probabilities, the 28x28 image the model saw), so it is unit-tested without a browser:

- :func:`pad_update` rasterises the strokes drawn so far and predicts;
- :func:`upload_update` reads an uploaded file's bytes and predicts;
- :func:`first_upload` reads a ``FileUpload.value`` in either form (ipywidgets 7: a dict keyed by file name, the
  name under ``metadata``; ipywidgets 8: a tuple of dicts);
- :func:`prediction_text` writes "Prediction: 1 (97.3%)", and says so in words when the model is unsure.

The edges: nothing drawn, a click or a scribble under :data:`MIN_EXTENT` pixels gets a "draw one digit,
large and in the middle" message, never a guess; a small drawing is rasterised with a pen scaled to its
size (:func:`pen_for`), as MNIST's strokes are about a tenth of the digit; marks side by side get the
several-digits message; a shadowed photo gets a local threshold (see :mod:`utils.digits`).

Why the pad's canvas is an anywidget (:class:`PadCanvas`) and not ipycanvas: ipycanvas' own hand-drawing
example does not take clicks in Google Colab (ipycanvas#292, open since 2022), and Colab ships no ipycanvas.
anywidget is preinstalled on Colab, carries its JavaScript inline (the ``_esm`` string below: a ``<canvas>``
with pointer events, so mouse, pen and touch all draw), switches Colab's custom widget manager on itself, and
works with ipywidgets 7 (Colab's 7.7.1) and 8 alike; the browser tests draw on it in JupyterLab 4 with
ipywidgets 8 (tests/browser) and in classic Notebook 6.5 with ipywidgets 7 (tests/colab). The
browser only draws and sends the strokes (a synced ``strokes`` list of ``[x, y]`` canvas pixels); every
decision (rasterising, the MNIST steps, the messages, the pen the finished strokes are redrawn with) stays
in Python, in the functions above. Every other part of the widgets is core ipywidgets, using only what 7.7
and 8 share (no 8-only styles: the big prediction line gets its size from its own HTML).

The widgets only wire the canvas, buttons and the file chooser to those functions. Bad input (a blank pad,
several digits, a non-image file) shows its message and clears the bars and pictures, so nothing stale
looks like an answer. A line under each widget names the model it uses (:func:`describe_model`). The
pad's top container has the CSS class ``course-drawing-pad`` (its canvas ``course-drawing-canvas``), the
upload's ``course-digit-upload``; the prediction line has ``course-prediction``, the model line
``course-model`` (browser tests read them). :func:`line_text` reads a line's text back without its HTML.

``predict`` is any function from a (28, 28) float image in [0, 1] to 10 probabilities; use
:func:`model_predictor` to make one from a Keras model.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from utils import digits
from utils.errors import CourseError

Predictor = Callable[[np.ndarray], np.ndarray]
Stroke = list[tuple[float, float]]

PAD_SIZE = 280       # canvas pixels: ten times MNIST's 28
PEN_WIDTH = 18       # canvas pixels: about 2 px after scaling a full-size drawing to MNIST's 20 px box
PEN_SHARE = 0.12     # a smaller drawing gets a pen this share of its size (MNIST: ~2 px strokes in a 20 px box)
MIN_PEN = 1.5        # canvas pixels
MIN_EXTENT = 20      # canvas pixels (on the 280 px pad): a drawing smaller than this is too little to read
UNSURE_BELOW = 0.7   # a best probability under this is said to be a guess, in words
BLANK_PAD_MESSAGE = "The pad is empty: draw one digit (0-9) with the mouse, large and in the middle."
TOO_LITTLE_MESSAGE = ("Too little ink to read: draw one digit (0-9), large and in the middle of the pad "
                      "(Clear starts again).")
NO_FILE_MESSAGE = "Choose a photo of one handwritten digit (dark pen on light paper, PNG or JPEG)."
BUSY_NOTE = ("The pad answers when the notebook is idle: after Run All, wait until the last cell has finished "
             "(the kernel does one thing at a time).")


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
    """``"Prediction: 1 (97.3%)"`` for the most probable class; under :data:`UNSURE_BELOW` it says so.

    An unsure answer reads ``"Prediction: 1 (53.3%), not sure: it could also be a 7 (30.1%)."``
    """
    p = np.asarray(probabilities, dtype=float).ravel()
    if p.shape != (10,) or not np.isfinite(p).all():
        raise CourseError(f"Expected 10 probabilities, got shape {p.shape}.")
    best, second = (int(k) for k in np.argsort(-p, kind="stable")[:2])
    text = f"Prediction: {best} ({100 * p[best]:.1f}%)"
    if p[best] < UNSURE_BELOW:
        text += f", not sure: it could also be a {second} ({100 * p[second]:.1f}%)."
    return text


def model_predictor(model) -> Predictor:
    """A Keras model -> a function from one (28, 28) image in [0, 1] to its 10 probabilities."""

    def predict(image: np.ndarray) -> np.ndarray:
        batch = np.asarray(image, dtype=np.float32).reshape(1, 28, 28, 1)
        return np.asarray(model(batch, training=False))[0].astype(float)

    return predict


def describe_model(model_or_predict) -> str:
    """One line naming the model a widget uses: the course cache's details when it came from there."""
    info = getattr(model_or_predict, "course_cache", None)
    if info is not None:
        how = "loaded from the course cache" if info.status == "loaded" else "trained and saved in the course cache"
        acc = "" if info.test_accuracy is None else f", test accuracy {info.test_accuracy:.2%}"
        return (f"Model: the course's seed CNN, {how} (models/{info.path}: {info.epochs} epochs on "
                f"{info.n_train:,} images{acc}).")
    if hasattr(model_or_predict, "count_params"):
        return (f"Model: the Keras model '{model_or_predict.name}' from this notebook "
                f"({model_or_predict.count_params():,} parameters).")
    return f"Model: the function {getattr(model_or_predict, '__name__', 'given')}."


def _predict(image: np.ndarray, predict: Predictor, steps: digits.DigitSteps | None = None) -> DigitView:
    p = np.asarray(predict(image), dtype=float).ravel()
    return DigitView(prediction_text(p), p, image, steps)


def stroke_extent(strokes: Sequence[Stroke]) -> float:
    """The longest side of the box around every point drawn (0 for a single click; canvas pixels)."""
    points = np.asarray([point for stroke in strokes for point in stroke], dtype=float).reshape(-1, 2)
    if not len(points):
        return 0.0
    return float((points.max(axis=0) - points.min(axis=0)).max())


def pen_for(strokes: Sequence[Stroke], width: float = PEN_WIDTH, size: int = PAD_SIZE) -> float:
    """The pen the model's picture is drawn with: ``width``, or thinner for a small drawing.

    A small digit under the full pen is a blob; :data:`PEN_SHARE` of the drawing's size keeps its strokes
    as thin, relative to the digit, as MNIST's. ``size`` is the pad's size (the minimum scales with it).
    """
    return float(min(width, max(MIN_PEN * size / PAD_SIZE, PEN_SHARE * stroke_extent(strokes))))


def rasterize(strokes: Sequence[Stroke], size: int = PAD_SIZE, width: float = PEN_WIDTH) -> np.ndarray:
    """Strokes in canvas pixels -> the pad's picture: uint8 (size, size), black ink on white."""
    fractions = [[(x / size, y / size) for x, y in stroke] for stroke in strokes if stroke]
    return digits.draw_strokes(fractions, size=size, width=width)


def pad_update(strokes: Sequence[Stroke], predict: Predictor, size: int = PAD_SIZE,
               width: float = PEN_WIDTH) -> DigitView:
    """The pad's strokes -> message and probabilities (an empty pad or bad drawing gives only a message).

    A click or a drawing under :data:`MIN_EXTENT` pixels is too little to read; a small one is drawn
    with a thinner pen (:func:`pen_for`); the pad's white paper never needs a local threshold.
    """
    if not any(len(stroke) for stroke in strokes):
        return DigitView(BLANK_PAD_MESSAGE)
    if stroke_extent(strokes) < MIN_EXTENT * size / PAD_SIZE:
        return DigitView(TOO_LITTLE_MESSAGE)
    try:
        steps = digits.preprocess_steps(rasterize(strokes, size, pen_for(strokes, width, size)), local=False)
    except CourseError as err:
        text = TOO_LITTLE_MESSAGE if str(err) == digits.BLANK_MESSAGE else str(err)
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
    """(name, bytes) of the first file in a ``FileUpload.value`` (None when empty), in either ipywidgets form.

    ipywidgets 8: a tuple of dicts ``{"name", "type", "size", "content", "last_modified"}``.
    ipywidgets 7 (Colab): a dict keyed by file name, each ``{"metadata": {"name", "type", "size", ...},
    "content": bytes}``.
    """
    if not value:
        return None
    if isinstance(value, dict):
        key, item = next(iter(value.items()))
        name = item.get("name") or item.get("metadata", {}).get("name") or key
    else:
        item = value[0]
        name = item.get("name") or item.get("metadata", {}).get("name")
    return str(name or "the file"), bytes(item["content"])


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


def _line_html(text: str, size: str) -> str:
    return f'<div style="font-size: {size}; line-height: 1.35">{html.escape(text, quote=False)}</div>'


def _line(text: str, css_class: str, size: str = "14px", width: str | None = None):
    """An HTML line that wraps (a Label would cut a long message off), with a CSS class.

    The font size is in the line's own HTML: ipywidgets 7 (Colab) has no ``font_size`` style.
    """
    import ipywidgets as w

    line = w.HTML(_line_html(text, size), layout=w.Layout(width=width) if width else w.Layout())
    line.add_class(css_class)
    line.course_font_size = size
    return line


def _set_line(line, text: str) -> None:
    line.value = _line_html(text, getattr(line, "course_font_size", "14px"))


def line_text(line) -> str:
    """The text a message line shows (its HTML value without tags and escapes)."""
    return html.unescape(re.sub(r"<[^>]+>", "", line.value))


def _blank_seen() -> bytes:
    return png_bytes(np.zeros((28, 28)), scale=3)


STRIP_CELL = 84    # pixels per step picture in the upload's strip
STRIP_WIDTH = 6 * STRIP_CELL + 5 * 6


def _blank_strip() -> bytes:
    return png_bytes(np.full((STRIP_CELL, STRIP_WIDTH), 235, dtype=np.uint8))


#: The pad's browser side (anywidget ESM): draws what the pointer does and sends the strokes to the kernel.
#: ``strokes`` goes up while drawing (every ``live_ms``) and when the pen lifts, with ``drawing`` and a
#: ``version`` counter the kernel watches; a ``strokes`` or ``pen_shown`` change from the kernel (Clear, the
#: finished drawing's pen) repaints every stroke as one path.
PAD_ESM = """
function render({ model, el }) {
  const size = model.get("size");
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "course-drawing-canvas";
  canvas.style.cssText = `width: ${size}px; height: ${size}px; border: 1px solid #999; display: block;` +
                         " touch-action: none; cursor: crosshair; background: white";
  el.appendChild(canvas);
  const ctx = canvas.getContext("2d");
  let strokes = [];
  let drawing = false;
  let lastSent = 0;

  const copy = (list) => (list || []).map((stroke) => stroke.map((p) => [p[0], p[1]]));
  function pen(width) {
    ctx.strokeStyle = "black";
    ctx.fillStyle = "black";
    ctx.lineWidth = width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }
  function dot(p, width) {
    ctx.beginPath();
    ctx.arc(p[0], p[1], width / 2, 0, 2 * Math.PI);
    ctx.fill();
  }
  function redraw() {
    const width = model.get("pen_shown");
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, size, size);
    pen(width);
    for (const stroke of strokes) {
      if (stroke.length === 1) { dot(stroke[0], width); continue; }
      ctx.beginPath();
      ctx.moveTo(stroke[0][0], stroke[0][1]);
      for (const p of stroke.slice(1)) ctx.lineTo(p[0], p[1]);
      ctx.stroke();
    }
  }
  function point(event) {
    const box = canvas.getBoundingClientRect();
    const x = (event.clientX - box.left) * size / box.width;
    const y = (event.clientY - box.top) * size / box.height;
    return [Math.round(Math.min(Math.max(x, 0), size) * 10) / 10, Math.round(Math.min(Math.max(y, 0), size) * 10) / 10];
  }
  function send(stillDrawing) {
    model.set("strokes", copy(strokes));
    model.set("drawing", stillDrawing);
    model.set("version", model.get("version") + 1);
    model.save_changes();
    lastSent = Date.now();
  }
  function down(event) {
    if (event.button !== undefined && event.button > 0) return;
    event.preventDefault();
    if (canvas.setPointerCapture && event.pointerId !== undefined) canvas.setPointerCapture(event.pointerId);
    drawing = true;
    const p = point(event);
    strokes.push([p]);
    pen(model.get("pen"));
    dot(p, model.get("pen"));
  }
  function move(event) {
    if (!drawing) return;
    event.preventDefault();
    const p = point(event);
    const stroke = strokes[strokes.length - 1];
    const q = stroke[stroke.length - 1];
    stroke.push(p);
    pen(model.get("pen"));
    ctx.beginPath();
    ctx.moveTo(q[0], q[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    if (Date.now() - lastSent > model.get("live_ms")) send(true);
  }
  function up() {
    if (!drawing) return;
    drawing = false;
    send(false);
  }
  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", up);
  canvas.addEventListener("pointercancel", up);
  canvas.addEventListener("lostpointercapture", up);
  const fromKernel = () => { if (!drawing) { strokes = copy(model.get("strokes")); redraw(); } };
  model.on("change:strokes", fromKernel);
  model.on("change:pen_shown", fromKernel);
  fromKernel();
  return () => {
    model.off("change:strokes", fromKernel);
    model.off("change:pen_shown", fromKernel);
  };
}
export default { render };
"""


def _pad_canvas_class():
    """:class:`PadCanvas`, defined on first use (anywidget is imported only when a pad is built)."""
    global _PAD_CANVAS
    if _PAD_CANVAS is None:
        import anywidget
        import traitlets

        class PadCanvas(anywidget.AnyWidget):
            """The pad's ``<canvas>``: the browser draws; ``strokes`` ([[x, y], ...] per stroke) comes back."""

            _esm = PAD_ESM
            size = traitlets.Int(PAD_SIZE).tag(sync=True)
            pen = traitlets.Float(PEN_WIDTH).tag(sync=True)            # the pen while drawing
            pen_shown = traitlets.Float(PEN_WIDTH).tag(sync=True)      # the pen finished strokes are redrawn with
            live_ms = traitlets.Int(300).tag(sync=True)
            strokes = traitlets.List().tag(sync=True)
            drawing = traitlets.Bool(False).tag(sync=True)
            version = traitlets.Int(0).tag(sync=True)

            def __repr__(self) -> str:  # what a notebook's text output shows: the same in every run
                return f"PadCanvas(size={self.size})"

        _PAD_CANVAS = PadCanvas
    return _PAD_CANVAS


_PAD_CANVAS = None


def _as_strokes(raw) -> list[Stroke]:
    """The canvas' ``strokes`` trait ([[x, y], ...] lists from JSON) as lists of (x, y) float tuples."""
    strokes = []
    for stroke in raw or []:
        points = [(float(p[0]), float(p[1])) for p in stroke if len(p) >= 2]
        if points:
            strokes.append(points)
    return strokes


class DrawingPad:
    """A canvas to draw a digit on with the mouse (or a pen, or a finger); prediction and bars update as you draw.

    The prediction line sits right under the canvas, in large type. While the pen moves, a drawing that
    cannot be read yet (half a stroke) leaves the display as it was; when the pen lifts, a bad drawing's
    message replaces the bars and the model's picture. Each finished drawing is redrawn as smooth paths,
    with the pen the model's picture uses (thinner for a small drawing).
    """

    def __init__(self, predict: Predictor, size: int = PAD_SIZE, pen: float = PEN_WIDTH,
                 live_every: float = 0.3, about: str | None = None) -> None:
        import ipywidgets as w

        self.predict, self.size, self.pen, self.live_every = predict, size, pen, live_every
        self.strokes: list[Stroke] = []
        self.canvas = _pad_canvas_class()(size=size, pen=pen, pen_shown=pen, live_ms=int(1000 * live_every),
                                          layout=w.Layout(width=f"{size + 2}px", height=f"{size + 2}px"))
        self.canvas.add_class("course-drawing-pad-canvas")
        self.canvas.observe(self._synced, names="version")
        self.prediction = _line(BLANK_PAD_MESSAGE, "course-prediction", "20px", f"{size}px")
        self.model_line = _line(about or "Model: the function given.", "course-model")
        self.note = _line(BUSY_NOTE, "course-busy-note", "13px")
        self.bars = ProbabilityBars()
        self.seen = w.Image(format="png", value=_blank_seen(), layout=w.Layout(width="84px", height="84px"))
        self.clear_button = w.Button(description="Clear", icon="eraser")
        self.clear_button.add_class("course-clear")
        self.clear_button.on_click(lambda _: self.clear())
        side = w.VBox([w.Label("What the model sees (28x28):"), self.seen, self.bars.widget])
        left = w.VBox([self.canvas, self.prediction, self.clear_button])
        # the model line goes last: the cell's text output (compared by nbval) then starts with the same
        # canvas whichever model and mode is used
        self.widget = w.VBox([w.HBox([left, side]), self.model_line, self.note])
        self.widget.add_class("course-drawing-pad")

    # strokes in ---------------------------------------------------------------------------------
    def _synced(self, _change=None) -> None:
        self.receive(_as_strokes(self.canvas.strokes), drawing=self.canvas.drawing)

    def receive(self, strokes: Sequence[Stroke], drawing: bool = False) -> DigitView:
        """What the canvas sends: every stroke so far; ``drawing`` while the pen is still down (a live update)."""
        self.strokes = [list(stroke) for stroke in strokes if len(stroke)]
        if drawing:
            return self.refresh(live=True)
        self._fit_pen()
        return self.refresh()

    def _fit_pen(self) -> None:
        """Have the canvas redraw the finished strokes with the pen the model's picture uses."""
        self.canvas.pen_shown = pen_for(self.strokes, self.pen, self.size) if stroke_extent(self.strokes) else self.pen

    # state -------------------------------------------------------------------------------------
    def draw(self, strokes: Sequence[Stroke]) -> DigitView:
        """Add strokes (canvas pixels) as if drawn with the mouse, show them and predict (for demos and tests)."""
        self.strokes += [[(float(x), float(y)) for x, y in stroke] for stroke in strokes if len(stroke)]
        self._fit_pen()
        self.canvas.strokes = [[[x, y] for x, y in stroke] for stroke in self.strokes]
        return self.refresh()

    def refresh(self, live: bool = False) -> DigitView:
        """Predict from the strokes so far and show it; a bad drawing clears the bars (not while ``live``)."""
        view = pad_update(self.strokes, self.predict, self.size, self.pen)
        if view.ok:
            _set_line(self.prediction, view.message)
            self.bars.show(view.probabilities)
            self.seen.value = png_bytes(view.image, scale=3)
        elif not live:
            _set_line(self.prediction, view.message)
            self.bars.show(None)
            self.seen.value = _blank_seen()
        return view

    def clear(self) -> DigitView:
        self.strokes = []
        self.canvas.pen_shown = self.pen
        self.canvas.strokes = []
        return self.refresh()


class DigitUpload:
    """A file chooser for a photo of one handwritten digit; shows the preprocessing steps and the guess.

    A file that cannot be read shows its message and clears the bars and the steps, so the previous
    photo's answer does not look like this file's.
    """

    STEPS_LABEL = "The MNIST steps, left to right: "

    def __init__(self, predict: Predictor, about: str | None = None) -> None:
        import ipywidgets as w

        self.predict = predict
        self.chooser = w.FileUpload(accept="image/*", multiple=False, description="Upload a photo",
                                    layout=w.Layout(width="220px"))  # room for "Upload a photo (1)"
        self.model_line = _line(about or "Model: the function given.", "course-model")
        self.prediction = _line(NO_FILE_MESSAGE, "course-prediction", "20px", "640px")
        self.bars = ProbabilityBars()
        self.steps = w.Image(format="png", value=_blank_strip(),
                             layout=w.Layout(width=f"{STRIP_WIDTH}px", height=f"{STRIP_CELL}px"))
        self.steps_label = w.Label(self.STEPS_LABEL + "(none yet)")
        self.steps_label.add_class("course-steps-label")
        self.chooser.observe(self._changed, names="value")
        self.widget = w.VBox([self.chooser, self.prediction, w.HBox([self.bars.widget]), self.steps_label,
                              self.steps, self.model_line])
        self.widget.add_class("course-digit-upload")

    def _changed(self, change) -> None:
        found = first_upload(change["new"])
        self.show(None if found is None else found[1], "the file" if found is None else found[0])

    def show(self, content: bytes | None, name: str = "the file") -> DigitView:
        view = upload_update(content, self.predict, name)
        _set_line(self.prediction, view.message)
        if view.ok:
            self.bars.show(view.probabilities)
            self.steps.value = png_bytes(steps_strip(view.steps, STRIP_CELL))
            self.steps_label.value = self.STEPS_LABEL + ", ".join(view.steps.titles)
        else:
            self.bars.show(None)
            self.steps.value = _blank_strip()
            self.steps_label.value = self.STEPS_LABEL + "(none: the file was not read)"
        return view


def _predictor_and_about(model_or_predict) -> tuple[Predictor, str]:
    if model_or_predict is None:
        from utils import models

        model_or_predict = models.load_or_train_mnist_cnn()
    about = describe_model(model_or_predict)
    predict = model_or_predict if not hasattr(model_or_predict, "predict") else model_predictor(model_or_predict)
    return predict, about


def drawing_pad(model_or_predict=None) -> DrawingPad:
    """Show-ready drawing pad for a Keras model or a predict function; enables Colab's widget manager.

    With no model, it uses notebook 04's CNN from the course cache (trained first when none is cached),
    so the pad works without running the notebook's training cells. A line on the pad names the model.
    """
    from utils import env

    env.enable_custom_widgets()  # anywidget does it too; harmless twice
    predict, about = _predictor_and_about(model_or_predict)
    return DrawingPad(predict, about=about)


def digit_upload(model_or_predict=None) -> DigitUpload:
    """Show-ready upload button for a Keras model or a predict function (none: the course's cached CNN)."""
    predict, about = _predictor_and_about(model_or_predict)
    return DigitUpload(predict, about=about)
