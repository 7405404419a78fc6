"""Error analysis as in the lecture notes: take ~100 dev-set mistakes, tag each with a reason, count, decide.

- :func:`measure` and :func:`suggest_tags` pre-fill tags from simple measurements of each mistaken digit
  (the model torn between two digits, a thin or thick stroke, a slanted digit, a stroke broken in pieces), so a
  learner starts from a draft and corrects it instead of starting from nothing;
- :func:`tally` is the plain, tested count: how many mistakes carry each reason, their share, and the best dev
  error that fixing *all* mistakes of one reason could give (the notes' "ceiling": a reason behind 5% of the
  mistakes can cut the error by at most 5% of itself);
- :class:`TaggingTool` is the widget: one mistake at a time, a toggle per reason, Back / Next, a box to add a
  reason of your own, and the tally under it. It keeps working on bad input (no reason ticked, an empty or
  unknown reason) and says what happened in one line.

A digit may carry several reasons; a mistake with none is counted as *untagged*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from scipy import ndimage

from utils.errors import CourseError

#: The reasons the tool offers. The first five can be suggested from measurements; the last two only by a person.
REASONS = ("ambiguous", "thin stroke", "thick stroke", "slanted", "broken stroke", "wrong label", "other")
SUGGESTED = REASONS[:5]
#: Defaults for :func:`suggest_tags` (notebook 07 measures MNIST's own stroke widths and passes those instead).
THIN, THICK = 1.6, 3.2
SLANT_DEGREES = 20.0
AMBIGUOUS_GAP = 0.3
INK = 0.3


@dataclass(frozen=True)
class DigitMeasures:
    """What :func:`measure` found in one digit image (ink bright, 0..1 or 0..255) and its prediction."""

    stroke: float        # average stroke width in pixels
    slant: float         # degrees from upright (positive: leaning right)
    pieces: int          # connected pieces of ink (specks under 3 pixels ignored)
    gap: float           # top-1 minus top-2 probability


def _unit(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image, dtype=np.float64)
    if arr.ndim != 2:
        raise CourseError(f"Expected one digit image of shape (H, W), got shape {arr.shape}.")
    return arr / 255.0 if arr.max() > 1.0 else arr


def slant_degrees(image: np.ndarray) -> float:
    """The digit's slant: the shear of its ink (covariance of column and row over the row variance), in degrees."""
    arr = _unit(image)
    total = arr.sum()
    if total <= 0:
        return 0.0
    rows, cols = np.indices(arr.shape)
    r_mean, c_mean = (rows * arr).sum() / total, (cols * arr).sum() / total
    var_r = (((rows - r_mean) ** 2) * arr).sum() / total
    cov = (((rows - r_mean) * (cols - c_mean)) * arr).sum() / total
    # rows grow downwards: a digit leaning right has its top (small row) to the right (large column)
    return float(np.degrees(np.arctan(-cov / var_r))) if var_r > 0 else 0.0


def measure(image: np.ndarray, probabilities: Sequence[float]) -> DigitMeasures:
    """Stroke width, slant, pieces of ink and the top-2 probability gap of one mistaken digit."""
    from utils.digits import stroke_width

    arr = _unit(image)
    p = np.sort(np.asarray(probabilities, dtype=np.float64).ravel())[::-1]
    if p.size < 2:
        raise CourseError("Expected the model's probabilities for every class (at least two numbers).")
    labels, n = ndimage.label(arr > INK, structure=np.ones((3, 3)))  # diagonal neighbours touch
    sizes = np.bincount(labels.ravel())[1:] if n else np.array([])
    return DigitMeasures(stroke=stroke_width(arr), slant=slant_degrees(arr), pieces=int((sizes >= 3).sum()),
                         gap=float(p[0] - p[1]))


def suggest_tags(m: DigitMeasures, thin: float = THIN, thick: float = THICK, slant: float = SLANT_DEGREES,
                 ambiguous_gap: float = AMBIGUOUS_GAP) -> list[str]:
    """Draft reasons for one mistake from its measurements (``[]`` when none applies)."""
    tags = []
    if m.gap < ambiguous_gap:
        tags.append("ambiguous")
    if 0 < m.stroke < thin:
        tags.append("thin stroke")
    if m.stroke > thick:
        tags.append("thick stroke")
    if abs(m.slant) > slant:
        tags.append("slanted")
    if m.pieces > 1:
        tags.append("broken stroke")
    return tags


@dataclass
class Tally:
    """How many mistakes carry each reason (a mistake may carry several)."""

    counts: dict[str, int]
    n_mistakes: int
    untagged: int
    extra: list[str] = field(default_factory=list)

    def share(self, reason: str) -> float:
        """The share of all mistakes that carry ``reason``."""
        if reason not in self.counts:
            raise CourseError(f"No reason called {reason!r} was tallied; the reasons are {list(self.counts)}.")
        return self.counts[reason] / self.n_mistakes if self.n_mistakes else 0.0

    def ceiling(self, reason: str, error: float) -> float:
        """The dev error left if every mistake carrying ``reason`` were fixed (and nothing else changed)."""
        return error * (1.0 - self.share(reason))

    def ranked(self) -> list[tuple[str, int]]:
        """Reasons with at least one mistake, most frequent first."""
        return sorted(((r, c) for r, c in self.counts.items() if c), key=lambda rc: -rc[1])

    def table(self, error: float | None = None) -> str:
        """The tally as text; with the dev ``error`` (a fraction) it adds each reason's ceiling."""
        head = f"{'reason':15s} {'mistakes':>8s} {'share':>6s}"
        if error is not None:
            head += f"   {'dev error if all fixed':>22s}"
        lines = [head]
        for reason, count in self.ranked():
            line = f"{reason:15s} {count:8d} {self.share(reason):6.0%}"
            if error is not None:
                line += f"   {self.ceiling(reason, error):22.1%}"
            lines.append(line)
        lines.append(f"{'untagged':15s} {self.untagged:8d}")
        lines.append(f"{'(mistakes)':15s} {self.n_mistakes:8d}")
        return "\n".join(lines)


def wilson_interval(count: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95% for ``z = 1.96``) of a share ``count / n``; (0, 1) when ``n`` is 0."""
    if n < 0 or not 0 <= count <= n:
        raise CourseError(f"Expected 0 <= count <= n, got count={count}, n={n}.")
    if n == 0:
        return 0.0, 1.0
    p = count / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def tally(tags: Sequence[Iterable[str] | None], reasons: Sequence[str] = REASONS) -> Tally:
    """Count the reasons over a list of mistakes (one list of reasons per mistake). Unknown reasons are an error."""
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Sequence):
        raise CourseError("Expected one list of reasons per mistake, e.g. [['thin stroke'], [], ['slanted']].")
    known = list(dict.fromkeys(reasons))
    counts = {reason: 0 for reason in known}
    untagged = 0
    for k, item in enumerate(tags):
        if item is None:
            item = []
        if isinstance(item, str):
            item = [item]
        found = set(item)
        unknown = sorted(str(t) for t in found if t not in counts)
        if unknown:
            raise CourseError(f"Mistake {k}: unknown reason {unknown[0]!r}. The reasons are {known}; "
                              "add a new one to `reasons` first.")
        if not found:
            untagged += 1
        for reason in found:
            counts[reason] += 1
    return Tally(counts=counts, n_mistakes=len(tags), untagged=untagged,
                 extra=[r for r in known if r not in REASONS])


class TaggingTool:
    """A widget to tag mistakes one at a time; ``tool.widget`` shows it, ``tool.tally()`` counts.

    ``images``: the mistaken digits; ``titles``: one line each (say, "true 4, said 9 (62%)"); ``tags``: a draft
    (e.g. from :func:`suggest_tags`) that the tool starts from. The methods the buttons call (:meth:`go`,
    :meth:`toggle`, :meth:`add_reason`) also work from code and return the message they show.
    """

    def __init__(self, images: Sequence[np.ndarray], titles: Sequence[str],
                 tags: Sequence[Iterable[str]] | None = None, reasons: Sequence[str] = REASONS) -> None:
        if len(images) == 0:
            raise CourseError("There are no mistakes to tag: pass at least one image.")
        if len(titles) != len(images):
            raise CourseError(f"Expected one title per image: {len(images)} images, {len(titles)} titles.")
        self.images = list(images)
        self.titles = list(titles)
        self.reasons = list(dict.fromkeys(reasons))
        draft = [[] for _ in images] if tags is None else [list(t or []) for t in tags]
        if len(draft) != len(images):
            raise CourseError(f"Expected one list of tags per image: {len(images)} images, {len(draft)} lists.")
        tally(draft, self.reasons)  # unknown draft reasons fail here, with the message
        self.tags = draft
        self.index = 0
        self.message = ""
        self._widget = None

    # ---- what the buttons do (plain methods, tested without a browser)

    def go(self, step: int) -> str:
        """Move ``step`` mistakes on (or back); warns when the one left behind has no reason ticked."""
        left = self.index
        self.index = int(np.clip(self.index + step, 0, len(self.images) - 1))
        if not self.tags[left]:
            self.message = f"Mistake {left + 1} has no reason ticked: it counts as untagged."
        elif self.index == left:
            self.message = "That was the last mistake." if step > 0 else "This is the first mistake."
        else:
            self.message = ""
        self._refresh()
        return self.message

    def toggle(self, reason: str) -> str:
        """Tick or untick ``reason`` for the current mistake."""
        if reason not in self.reasons:
            self.message = f"{reason!r} is not one of the reasons {self.reasons}; add it first."
        elif reason in self.tags[self.index]:
            self.tags[self.index].remove(reason)
            self.message = f"Mistake {self.index + 1}: {reason!r} removed."
        else:
            self.tags[self.index].append(reason)
            self.message = f"Mistake {self.index + 1}: {reason!r} added."
        self._refresh()
        return self.message

    def add_reason(self, text: str) -> str:
        """Offer a new reason (it starts with no mistakes)."""
        name = " ".join(str(text or "").split()).lower()
        if not name:
            self.message = "Type a reason in the box first (a few words, e.g. 'looks like a 7')."
        elif name in self.reasons:
            self.message = f"{name!r} is already a reason."
        elif len(name) > 30:
            self.message = "Keep a reason short: 30 characters at most."
        else:
            self.reasons.append(name)
            self.message = f"New reason {name!r}: tick it for the mistakes it explains."
            self._rebuild_buttons()
        self._refresh()
        return self.message

    def tally(self) -> Tally:
        """The count over every mistake, as tagged now."""
        return tally(self.tags, self.reasons)

    # ---- the widget

    @property
    def widget(self):
        """The ipywidgets box (built on first use)."""
        if self._widget is None:
            self._build()
        return self._widget

    def _build(self) -> None:
        import ipywidgets as w

        self._image = w.Image(format="png", width=168, height=168)
        self._title = w.HTML()
        self._buttons = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        back, forward = w.Button(description="Back"), w.Button(description="Next")
        back.on_click(lambda _: self.go(-1))
        forward.on_click(lambda _: self.go(1))
        self._new = w.Text(placeholder="a reason of your own", layout=w.Layout(width="220px"))
        add = w.Button(description="Add reason")
        add.on_click(lambda _: self.add_reason(self._new.value))
        self._line = w.HTML()
        self._table = w.HTML()
        self._rebuild_buttons()
        self._widget = w.VBox([w.HBox([self._image, w.VBox([self._title, self._buttons, w.HBox([back, forward]),
                                                           w.HBox([self._new, add]), self._line])]),
                               self._table])
        self._refresh()

    def _rebuild_buttons(self) -> None:
        if self._widget is None and not hasattr(self, "_buttons"):
            return
        import ipywidgets as w

        buttons = []
        for reason in self.reasons:
            button = w.ToggleButton(description=reason, layout=w.Layout(width="130px"))
            button.observe(lambda change, r=reason: self._clicked(r, change), names="value")
            buttons.append(button)
        self._buttons.children = buttons

    def _clicked(self, reason: str, change) -> None:
        if getattr(self, "_syncing", False):
            return
        if bool(change["new"]) != (reason in self.tags[self.index]):
            self.toggle(reason)

    def _refresh(self) -> None:
        if not hasattr(self, "_image"):
            return
        from html import escape

        from utils.digit_widgets import png_bytes

        self._image.value = png_bytes(self.images[self.index], scale=6)
        self._title.value = (f"<b>Mistake {self.index + 1} of {len(self.images)}</b>: "
                             f"{escape(self.titles[self.index])}")
        self._syncing = True
        for button in self._buttons.children:
            button.value = button.description in self.tags[self.index]
        self._syncing = False
        self._line.value = escape(self.message)
        self._table.value = f"<pre>{escape(self.tally().table())}</pre>"
