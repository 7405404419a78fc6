"""A learner's own digit, made to look like MNIST; uploads read safely; "other people's digits" offline.

MNIST digits are white ink on black, the ink scaled to fit a 20x20 box (aspect kept) and placed in a
28x28 frame so that the centre of mass sits in the middle. A CNN trained on MNIST only knows that
world, so a drawing or a phone photo goes through the same steps before the model sees it:

1. **grayscale** (a transparent PNG is first laid on white paper);
2. **invert** dark-on-light so ink is bright and paper is black, and drop the paper's grey (one level for
   the whole image, or a local threshold when a shadow or uneven light darkens part of the paper);
3. **crop** to the ink (specks of dust are ignored);
4. **scale** the longest side to 20 px, keeping the aspect ratio (thin pen lines are thickened to about
   MNIST's 2 px stroke);
5. **centre** by centre of mass in a 28x28 frame;
6. **scale to [0, 1]**, float32.

:func:`preprocess_digit` runs them all; :func:`preprocess_steps` keeps every intermediate picture.
Bad input (a blank canvas, no ink, several digits, a non-image or huge file, a fully transparent PNG)
raises :class:`~utils.errors.CourseError` with a message that says what to do.

:func:`other_digits` makes an offline test set of digits not written by MNIST's writers: scikit-learn's
8x8 handwritten digits upscaled, and digits rendered from the fonts matplotlib ships, with random rotation,
shift, size and stroke width. Both go through the same preprocessing. scikit-learn's ``load_digits`` is the
*test* part of the UCI "optical recognition of handwritten digits" set: 1,797 digits by 13 writers (30 other
writers made the UCI training part). Each of its 64 pixels counts the ink pixels (0 to 16) in one 4x4 block of
a 32x32 black-and-white bitmap, so the images are coarse as well as by other hands. To tell the two effects
apart, :func:`to_8x8_counts` degrades MNIST digits the same way and :func:`from_8x8_counts` brings both back to
MNIST's 28x28 along the same path (:func:`mnist_at_8x8`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from utils.errors import CourseError

BOX = 20          # MNIST's ink box
FRAME = 28        # MNIST's image size
STROKE = 2.0      # typical MNIST stroke width in pixels, after scaling to the 20 px box
INK_LEVEL = 0.2   # a pixel is ink when it is at least this bright (after inversion, 0..1)
MAX_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 40_000_000
WORK_SIZE = 800   # big photos are shrunk to this longest side first (speed; plenty for a 20 px digit)
EDGE_INK_SHARE = 0.06  # more of the image's edge than this looks like ink: shadowed paper, use a local threshold
LOCAL_MIN_SIZE = 120   # smaller images (data sets, icons) are never phone photos: one global paper level

BLANK_MESSAGE = "The image is blank: there is no ink to read. Draw (or photograph) one digit, dark on light."
SEVERAL_MESSAGE = ("This looks like several digits side by side. The model reads one digit at a time: "
                   "crop the photo (or clear the pad) so only one digit is left.")


# ----------------------------------------------------------------------------------------------
# The six steps


def to_gray(image) -> np.ndarray:
    """Step 1: any image -> float (H, W) in [0, 1]. RGBA/LA is laid on white paper first.

    A fully transparent image (nothing drawn) is blank. When the colour channels carry no picture and
    only the transparency does (light strokes on a transparent background), the opacity is the ink.
    """
    arr = np.asarray(image)
    if arr.dtype == bool:
        arr = arr.astype(np.float32)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (2, 3, 4)) or min(arr.shape[:2]) < 2:
        raise CourseError(f"Expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}.")
    if not np.issubdtype(arr.dtype, np.number):
        raise CourseError(f"Expected an image of numbers, got an array of {arr.dtype}.")
    arr = arr.astype(np.float32)
    if np.issubdtype(np.asarray(image).dtype, np.integer) or arr.max() > 1.0:
        arr = arr / 255.0
    arr = np.clip(arr, 0.0, 1.0)
    if arr.ndim == 2:
        return arr
    if arr.shape[-1] in (2, 4):  # gray+alpha or RGBA
        colour, alpha = arr[..., :-1], arr[..., -1]
        if alpha.max() < 0.02:
            raise CourseError("The image is fully transparent: there is nothing drawn on it. "
                              "Draw a dark digit, or save the picture without transparency.")
        gray = colour.mean(axis=-1) if colour.shape[-1] == 3 else colour[..., 0]
        flat_colour = np.ptp(gray[alpha > 0.5]) < 0.05 if (alpha > 0.5).any() else True
        if flat_colour and np.ptp(alpha) > 0.2:
            return 1.0 - alpha  # the drawing lives in the opacity: opaque = ink, shown dark on white
        return alpha * gray + (1.0 - alpha) * 1.0  # lay it on white paper
    rgb = arr[..., :3]
    return (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.float32)


def _border(image: np.ndarray) -> np.ndarray:
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def _ink_bright(gray: np.ndarray) -> tuple[np.ndarray, bool]:
    """``gray`` as float32 with the ink bright (inverted when the paper, the typical border value, is light)."""
    gray = np.asarray(gray, dtype=np.float32)
    inverted = bool(np.median(_border(gray)) > 0.5)
    return (1.0 - gray if inverted else gray), inverted


def needs_local_threshold(gray: np.ndarray) -> bool:
    """True when one paper level for the whole image would turn part of the paper into ink.

    A shadow in a corner or strongly uneven light makes a long stretch of the image's edge look like ink
    compared with the cleanest paper; a digit that only touches the edge covers a few per cent of it.
    Images under :data:`LOCAL_MIN_SIZE` pixels are drawings, scans or data sets, never shadowed photos.
    """
    if max(np.shape(gray)[:2]) < LOCAL_MIN_SIZE:
        return False
    bright, _ = _ink_bright(gray)
    ring = np.concatenate([bright[0, :-1], bright[:-1, -1], bright[-1, :0:-1], bright[:0:-1, 0]])  # clockwise
    paper = float(np.percentile(ring, 25))
    top = float(np.percentile(bright, 99.9))
    if top - paper < 0.15:
        return False
    # a median along the edge keeps a shadow's long stretch and drops strokes that only cross the edge
    ring = ndimage.median_filter(ring, size=max(3, len(ring) // 12), mode="wrap")
    return float(np.mean(ring - paper >= INK_LEVEL * (top - paper))) > EDGE_INK_SHARE


def local_background(bright: np.ndarray) -> np.ndarray:
    """The paper's level around each pixel of an ink-bright image: a local threshold map.

    scikit-image's ``threshold_local`` (a median over a window a quarter of the image wide, where thin
    strokes are the minority) on a copy shrunk to about 100 px, smoothed and scaled back to full size.
    """
    from skimage.filters import threshold_local

    small = _shrink(np.asarray(bright, dtype=np.float32), 100)
    small = ndimage.gaussian_filter(small, 1.0)  # phone noise off the paper
    block = 2 * (max(small.shape) // 8) + 1
    level = threshold_local(small, block_size=block, method="median", mode="nearest")
    level = ndimage.gaussian_filter(level, block / 6, mode="nearest")
    return _resize(level, bright.shape)


def to_ink(gray: np.ndarray, local: bool | None = None) -> np.ndarray:
    """Step 2: bright ink on black. Dark-on-light images are inverted; the paper's grey is dropped.

    The paper level is one number, the typical border value, unless ``local`` (by default: when
    :func:`needs_local_threshold` says a shadow or uneven light needs it); then it is a local threshold
    map (:func:`local_background`) that follows the shadow; dark ink is then divided by the local paper
    brightness, since a shadow dims paper and ink alike. Ink is scaled so the strongest ink is 1.
    """
    bright, inverted = _ink_bright(gray)
    if local is None:
        local = needs_local_threshold(gray)
    if local:
        level = local_background(bright)
        if inverted:  # dark ink on paper: a shadow dims paper and ink alike, so divide it out
            paper = np.maximum(1.0 - level, 0.05)
            bright = 1.0 - np.minimum((1.0 - bright) / paper, 1.0)
        else:
            bright = bright - level
    border = _border(bright)
    background = float(np.percentile(border, 75))
    top = float(bright.max())
    if top - background < 0.15:
        raise CourseError(BLANK_MESSAGE)
    return np.clip((bright - background) / (top - background), 0.0, 1.0).astype(np.float32)


def _components(mask: np.ndarray) -> tuple[np.ndarray, list[tuple[slice, slice]], np.ndarray]:
    labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
    if n == 0:
        return labels, [], np.zeros(0)
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    return labels, ndimage.find_objects(labels), np.asarray(sizes)


def ink_box(ink: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns holding the digit's ink, ignoring specks; raises for no ink or several digits."""
    mask = ink >= INK_LEVEL
    if mask.sum() < 3:
        raise CourseError(BLANK_MESSAGE)
    # join strokes that almost touch (a pen lifted for a moment) before counting the pieces
    reach = max(1, round(0.02 * max(ink.shape)))
    joined = ndimage.binary_dilation(mask, iterations=reach)
    labels, boxes, _ = _components(joined)
    ink_per_piece = ndimage.sum(mask, labels, index=np.arange(1, len(boxes) + 1))
    big = [k for k in range(len(boxes)) if ink_per_piece[k] >= 0.08 * mask.sum()]
    # pieces side by side with a clear gap between them (a dash next to a 1, or two digits): not one digit
    right_edge = None
    for start, stop in sorted((boxes[k][1].start, boxes[k][1].stop) for k in big):
        if right_edge is not None and start >= right_edge + reach:
            raise CourseError(SEVERAL_MESSAGE)
        right_edge = stop if right_edge is None else max(right_edge, stop)
    keep = np.isin(labels, [k + 1 for k in big]) & mask
    r_idx, c_idx = np.nonzero(keep)
    return slice(int(r_idx.min()), int(r_idx.max()) + 1), slice(int(c_idx.min()), int(c_idx.max()) + 1)


def ink_box_plain(ink: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of every pixel with any ink (no speck or several-digit checks)."""
    r_idx, c_idx = np.nonzero(ink > 0.02 * float(ink.max()))
    return slice(int(r_idx.min()), int(r_idx.max()) + 1), slice(int(c_idx.min()), int(c_idx.max()) + 1)


def crop_to_ink(ink: np.ndarray) -> np.ndarray:
    """Step 3: the smallest rectangle around the digit (specks elsewhere are dropped)."""
    rows, cols = ink_box(ink)
    crop = ink[rows, cols].copy()
    return crop


def stroke_width(ink: np.ndarray) -> float:
    """Average stroke width in pixels: ink area divided by the length of its skeleton."""
    from skimage.morphology import skeletonize

    mask = ink >= 0.5
    length = skeletonize(mask).sum()
    return float(mask.sum() / length) if length else 0.0


def _resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    from skimage.transform import resize

    return resize(image, shape, order=1, anti_aliasing=True, preserve_range=True).astype(np.float32)


def scale_to_box(crop: np.ndarray, box: int = BOX, thicken: bool = True) -> np.ndarray:
    """Step 4: scale so the longest side is ``box`` pixels, keeping the aspect ratio.

    Pen lines much thinner than MNIST's (about 2 px at this size) are thickened first.
    """
    h, w = crop.shape
    work = 8 * box  # thicken at 8x the final size, where a 2 px stroke is 16 px
    scale = work / max(h, w)
    mid = _resize(crop, (max(1, round(h * scale)), max(1, round(w * scale))))
    mid = mid / max(float(mid.max()), 1e-6)
    if thicken:
        width = stroke_width(mid)
        wanted = STROKE * work / box
        if 0 < width < 0.7 * wanted:
            radius = int(round((wanted - width) / 2))
            mid = np.pad(mid, radius)
            disk = np.hypot(*np.mgrid[-radius:radius + 1, -radius:radius + 1]) <= radius
            mid = ndimage.grey_dilation(mid, footprint=disk)
            rows, cols = ink_box_plain(mid)
            mid = mid[rows, cols]  # the thickened digit, without the padding
    h, w = mid.shape
    factor = box / max(h, w)
    return _resize(mid, (max(1, round(h * factor)), max(1, round(w * factor))))


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass."""
    total = float(image.sum())
    if total <= 0:
        raise CourseError(BLANK_MESSAGE)
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def centre_in_frame(small: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """Step 5: put the scaled digit in a ``frame`` x ``frame`` black image, centre of mass in the middle."""
    h, w = small.shape
    cy, cx = centre_of_mass(small)
    middle = (frame - 1) / 2
    top = int(np.clip(round(middle - cy), 0, frame - h))
    left = int(np.clip(round(middle - cx), 0, frame - w))
    out = np.zeros((frame, frame), dtype=np.float32)
    out[top:top + h, left:left + w] = small
    return out


def to_unit_range(image: np.ndarray) -> np.ndarray:
    """Step 6: float32 in [0, 1], the strongest ink exactly 1 (as the training images after /255)."""
    image = np.clip(np.asarray(image, dtype=np.float32), 0.0, None)
    top = float(image.max())
    if top <= 0:
        raise CourseError(BLANK_MESSAGE)
    return image / top


@dataclass
class DigitSteps:
    """Every intermediate picture of :func:`preprocess_steps`, in order, plus the result."""

    gray: np.ndarray
    ink: np.ndarray
    crop: np.ndarray
    scaled: np.ndarray
    centred: np.ndarray
    final: np.ndarray
    titles: list[str] = field(default_factory=lambda: [
        "1 grayscale", "2 inverted: ink bright", "3 cropped to the ink", "4 longest side 20 px",
        "5 centred in 28x28", "6 scaled to [0, 1]"])

    def images(self) -> list[np.ndarray]:
        return [self.gray, self.ink, self.crop, self.scaled, self.centred, self.final]


def _shrink(gray: np.ndarray, size: int = WORK_SIZE) -> np.ndarray:
    if max(gray.shape) <= size:
        return gray
    factor = size / max(gray.shape)
    return _resize(gray, (max(2, round(gray.shape[0] * factor)), max(2, round(gray.shape[1] * factor))))


def preprocess_steps(image, local: bool | None = None) -> DigitSteps:
    """Run the six MNIST steps on a drawing or photo and keep every intermediate picture.

    ``local`` picks step 2's paper level: a local threshold map (True), one level (False), or decided
    by :func:`needs_local_threshold` (None, the default). Step 2's title says when it was local.
    """
    gray = _shrink(to_gray(image))
    local = needs_local_threshold(gray) if local is None else local
    ink = to_ink(gray, local=local)
    crop = crop_to_ink(ink)
    scaled = scale_to_box(crop)
    centred = centre_in_frame(scaled)
    final = to_unit_range(centred)
    steps = DigitSteps(gray, ink, crop, scaled, centred, final)
    if local:
        steps.titles[1] = "2 ink: local threshold"  # the shadow is paper, not ink
    return steps


def preprocess_digit(image) -> np.ndarray:
    """A drawing or photo of one digit -> float32 (28, 28) in [0, 1], the way MNIST was made."""
    return preprocess_steps(image).final


# ----------------------------------------------------------------------------------------------
# Uploads


def load_image_bytes(data: bytes, name: str = "the file", max_bytes: int = MAX_BYTES,
                     max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Decode an uploaded file to a uint8 array (H, W), (H, W, 3) or (H, W, 4), safely.

    Refuses empty, non-image, damaged and huge files with a :class:`CourseError`; turns phone photos
    upright (EXIF orientation) and shrinks big photos to :data:`WORK_SIZE` pixels on the longest side.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CourseError(f"Expected the file's bytes, got {type(data).__name__}.")
    data = bytes(data)
    if not data:
        raise CourseError(f"{name} is empty (0 bytes). Choose a photo or drawing (PNG or JPEG).")
    if len(data) > max_bytes:
        raise CourseError(f"{name} is {len(data) / 2**20:.0f} MB, too big to be a digit photo "
                          f"(limit {max_bytes / 2**20:.0f} MB). Crop it or save it smaller.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise CourseError(f"{name} is {width}x{height} pixels, too big to read here "
                                  f"(limit {max_pixels / 1e6:.0f} megapixels). Crop or shrink it first.")
            img.draft("RGB", (WORK_SIZE, WORK_SIZE))  # JPEG: decode at a smaller size, much faster
            img = ImageOps.exif_transpose(img)
            has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
            img = img.convert("RGBA" if has_alpha else "RGB")
            img.thumbnail((WORK_SIZE, WORK_SIZE))
            arr = np.asarray(img, dtype=np.uint8).copy()
    except CourseError:
        raise
    except UnidentifiedImageError:
        raise CourseError(f"{name} is not an image this course can read. Upload a PNG or JPEG photo "
                          "of one handwritten digit.") from None
    except Image.DecompressionBombError:
        raise CourseError(f"{name} is far too many pixels to read safely. Crop or shrink it first.") from None
    except (OSError, ValueError, SyntaxError) as err:
        raise CourseError(f"{name} looks damaged and could not be decoded ({type(err).__name__}). "
                          "Save it again as PNG or JPEG.") from None
    return arr


def digit_from_bytes(data: bytes, name: str = "the file") -> DigitSteps:
    """An uploaded file's bytes -> the preprocessing steps of the one digit on it."""
    return preprocess_steps(load_image_bytes(data, name=name))


# ----------------------------------------------------------------------------------------------
# Synthetic strokes (for tests and demonstrations)


def draw_strokes(strokes: list[list[tuple[float, float]]], size: int = 280, width: float = 18,
                 dark_on_light: bool = True) -> np.ndarray:
    """Draw polylines (points as (x, y) fractions of the canvas) like a mouse on a pad: uint8 (size, size)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 255 if dark_on_light else 0)
    pen = ImageDraw.Draw(img)
    ink = 0 if dark_on_light else 255
    radius = width / 2
    for stroke in strokes:
        points = [(x * size, y * size) for x, y in stroke]
        if len(points) > 1:
            pen.line(points, fill=ink, width=max(1, round(width)))
        for x, y in points:  # round caps and joints
            pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=ink)
    return np.asarray(img, dtype=np.uint8).copy()


# ----------------------------------------------------------------------------------------------
# Other people's digits


@dataclass
class OtherDigits:
    """An offline set of digits MNIST's writers did not write, already preprocessed like MNIST."""

    x: np.ndarray  # uint8 (N, 28, 28), ink bright, like MNIST
    y: np.ndarray  # uint8 (N,)
    source: str

    def __len__(self) -> int:
        return len(self.y)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def to_8x8_counts(images: np.ndarray, threshold: float = 0.3) -> np.ndarray:
    """MNIST-like digits (N, 28, 28), ink bright, degraded like the UCI digits: (N, 8, 8) counts 0..16.

    Each digit is made black and white (ink where brighter than ``threshold`` of full scale; 0.3 makes MNIST's
    average count match scikit-learn's digits), its ink box is scaled into a 32x32 bitmap (aspect kept, centred),
    and every 4x4 block's ink pixels are counted.
    """
    from skimage.transform import resize

    arr = np.asarray(images, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise CourseError(f"Expected digit images of shape (N, H, W), got {np.shape(images)}.")
    scale = 255.0 if arr.max() > 1.0 else 1.0
    out = np.zeros((len(arr), 8, 8), dtype=np.int64)
    for k, image in enumerate(arr / scale):
        ink = image > threshold
        if not ink.any():
            continue
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        crop = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        factor = 32 / max(crop.shape)
        shape = (max(1, round(crop.shape[0] * factor)), max(1, round(crop.shape[1] * factor)))
        bitmap = np.zeros((32, 32), dtype=bool)
        top, left = (32 - shape[0]) // 2, (32 - shape[1]) // 2
        bitmap[top:top + shape[0], left:left + shape[1]] = resize(crop, shape, order=1) > threshold
        out[k] = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    return out


def from_8x8_counts(counts: np.ndarray) -> np.ndarray:
    """8x8 ink counts (0..16) -> MNIST-like uint8 28x28 digits: bicubic upscaling, then :func:`preprocess_digit`."""
    from skimage.transform import resize

    small = np.asarray(counts, dtype=np.float64)
    if small.ndim == 2:
        small = small[None]
    out = []
    for block in small:
        big = np.clip(resize(np.pad(block / 16.0, 1), (40, 40), order=3), 0, 1)  # 8x8 -> smooth 40x40 (bicubic)
        out.append(_to_uint8(preprocess_digit(big)))
    return np.stack(out)


def sklearn_digits(limit: int | None = None) -> OtherDigits:
    """scikit-learn's 1,797 handwritten 8x8 digits (UCI's test part: 13 writers), upscaled and made MNIST-like."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images, labels = bunch.images, bunch.target
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return OtherDigits(from_8x8_counts(images), labels.astype(np.uint8),
                       f"scikit-learn's 8x8 handwritten digits (13 writers, UCI), upscaled: {len(labels):,} images")


def mnist_at_8x8(x: np.ndarray, y: np.ndarray) -> OtherDigits:
    """MNIST digits put through the UCI degradation (:func:`to_8x8_counts`) and back (:func:`from_8x8_counts`).

    Same writers as MNIST, same coarse 8x8 resolution as scikit-learn's digits: the accuracy lost here is
    resolution lost, not writers changed.
    """
    return OtherDigits(from_8x8_counts(to_8x8_counts(x)), np.asarray(y, dtype=np.uint8),
                       f"MNIST digits degraded to 8x8 counts and upscaled the same way: {len(y):,} images")


FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSans-BoldOblique.ttf",
              "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf",
              "DejaVuSerif-Italic.ttf", "DejaVuSerif-BoldItalic.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf",
              "STIXGeneralItalic.ttf", "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf", "cmti10.ttf")


def font_folder() -> Path:
    """The folder of TrueType fonts that matplotlib ships."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def render_digit(digit: int, font_file: str, rng: np.random.Generator, size: int = 96) -> np.ndarray:
    """One digit in one font, with random size, position, rotation and stroke width: uint8, dark on light."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(str(font_folder() / font_file), size=int(size * rng.uniform(0.55, 0.8)))
    img = Image.new("L", (size, size), 255)
    pen = ImageDraw.Draw(img)
    x, y = size * rng.uniform(0.3, 0.7), size * rng.uniform(0.3, 0.7)
    pen.text((x, y), str(digit), fill=0, font=font, anchor="mm")
    img = img.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR, fillcolor=255)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    change = int(rng.integers(-1, 3))  # thinner (-1), as drawn (0) or bolder (1, 2)
    if change > 0:
        arr = ndimage.grey_erosion(arr, size=(2 * change + 1, 2 * change + 1))  # dark ink grows
    elif change < 0:
        arr = ndimage.grey_dilation(arr, size=(3, 3))
    return np.round(arr * 255).astype(np.uint8)


def font_digits(per_font: int = 3, seed: int = 0) -> OtherDigits:
    """Digits 0-9 rendered from matplotlib's fonts, ``per_font`` jittered copies each, made MNIST-like."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for font_file in FONT_FILES:
        if not (font_folder() / font_file).is_file():  # older matplotlib releases ship fewer fonts (3.9: no cmti10)
            continue
        for digit in range(10):
            for _ in range(per_font):
                try:
                    xs.append(_to_uint8(preprocess_digit(render_digit(digit, font_file, rng))))
                except CourseError:  # a rendering too thin to survive: skip it
                    continue
                ys.append(digit)
    return OtherDigits(np.stack(xs), np.asarray(ys, dtype=np.uint8),
                       f"digits rendered from {len(FONT_FILES)} fonts matplotlib ships, with jitter: "
                       f"{len(ys):,} images")


def other_digits(kind: str = "handwritten", limit: int | None = None, seed: int = 0) -> OtherDigits:
    """``"handwritten"`` (scikit-learn's writers) or ``"fonts"`` (rendered): digits not from MNIST."""
    if kind == "handwritten":
        return sklearn_digits(limit)
    if kind == "fonts":
        return font_digits(per_font=3 if limit is None else max(1, limit // (10 * len(FONT_FILES))), seed=seed)
    raise CourseError(f"There is no digit set called {kind!r}; choose 'handwritten' or 'fonts'.")
