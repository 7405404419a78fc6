"""DNA for 1-D convolutional networks: one-hot encoding, a motif simulator, scans, saliency and mutation maps.

Notebook 12 reproduces the experiment of *A primer on deep learning in genomics* (Zou et al., Nature Genetics
2019): short random DNA sequences, half of them carrying a planted transcription-factor binding motif, and a
small 1-D CNN that learns to tell them apart. Everything here works offline:

- :func:`one_hot` / :func:`decode`: a sequence of A, C, G, T as a (length, 4) array, one channel per base
  (lower case accepted; any other letter is a :class:`~utils.errors.CourseError` that says which and where);
- :func:`reverse_complement`: the other strand, read in its own 5'->3' direction;
- :func:`simulate`: the primer's data recipe, with switches for the harder variants (a weaker motif with
  substitutions, two motifs that must co-occur, a motif on either strand). Its guarantee: a negative sequence
  never contains the motif (within the allowed number of mismatches, on the strands that count);
- :func:`find_motif` and :func:`scan`: where a motif occurs, and a filter slid along a one-hot sequence (the
  sliding dot product that ``keras.layers.Conv1D`` computes);
- :func:`saliency` (gradient x input per base) and :func:`mutation_map` (DeepBind's map: the change of the
  model's score for every single-base substitution, Alipanahi et al. 2015);
- :func:`consensus`, :func:`align` and :func:`filter_logo`: read a learned filter as a motif and draw it as a
  sequence logo (with ``logomaker`` when it is installed, plain matplotlib otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from utils.errors import CourseError

BASES = "ACGT"
#: The motif the primer planted in its positive sequences.
PRIMER_MOTIF = "CGACCGAACTCC"
#: The primer's published test confusion matrix (rows: true label 0, 1; columns: predicted 0, 1), from its Colab.
PRIMER_CONFUSION = np.array([[251, 8], [2, 239]])
#: The parameter count of the primer's model, as its Colab's ``model.summary()`` prints it.
PRIMER_PARAMETERS = 6_226
#: Colours of the classic sequence logo: A green, C blue, G orange, T red.
BASE_COLOURS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839"}
_COMPLEMENT = str.maketrans("ACGTacgt", "TGCAtgca")
_INDEX = {b: i for i, b in enumerate(BASES)}


# ----------------------------------------------------------------------------------------------
# Letters and arrays


def _clean(sequence: str, what: str = "sequence") -> str:
    """Upper-case ``sequence`` and check that it holds only A, C, G and T."""
    if isinstance(sequence, bytes):
        sequence = sequence.decode(errors="replace")
    if not isinstance(sequence, str):
        raise CourseError(f"A DNA {what} is a text of the letters A, C, G, T, got {type(sequence).__name__}.")
    upper = sequence.strip().upper()
    for position, letter in enumerate(upper):
        if letter not in _INDEX:
            extra = (" 'N' (an unknown base) is not supported here; replace it or cut it out." if letter == "N"
                     else " Spaces inside a sequence are not allowed." if letter.isspace() else "")
            raise CourseError(f"The {what} has the letter {letter!r} at position {position} (counting from 0); "
                              f"only A, C, G and T are DNA bases.{extra}")
    if not upper:
        raise CourseError(f"The {what} is empty.")
    return upper


def one_hot(sequences: str | Sequence[str]) -> np.ndarray:
    """One sequence as a (length, 4) float32 array, or equally long sequences as (n, length, 4).

    Column order A, C, G, T: ``one_hot("GA")`` is ``[[0, 0, 1, 0], [1, 0, 0, 0]]``.
    """
    if isinstance(sequences, (str, bytes)):
        text = _clean(sequences)
        out = np.zeros((len(text), 4), dtype="float32")
        out[np.arange(len(text)), [_INDEX[b] for b in text]] = 1.0
        return out
    texts = [_clean(s, f"sequence number {k}") for k, s in enumerate(sequences)]
    if not texts:
        raise CourseError("No sequences to encode.")
    lengths = {len(t) for t in texts}
    if len(lengths) > 1:
        raise CourseError(f"All sequences must have the same length to be stacked, got lengths {sorted(lengths)}.")
    codes = np.array([[_INDEX[b] for b in t] for t in texts])
    return np.eye(4, dtype="float32")[codes]


def decode(onehot: np.ndarray) -> str | list[str]:
    """The letters back from a (length, 4) array (the largest column wins), or a list for (n, length, 4)."""
    arr = np.asarray(onehot)
    if arr.ndim not in (2, 3) or arr.shape[-1] != 4:
        raise CourseError(f"Expected an array of shape (length, 4) or (n, length, 4), got {arr.shape}.")
    if arr.ndim == 3:
        return [decode(a) for a in arr]
    return "".join(BASES[i] for i in arr.argmax(axis=1))


def reverse_complement(sequence: str) -> str:
    """The opposite strand read 5'->3': complement every base (A<->T, C<->G), then reverse."""
    return _clean(sequence).translate(_COMPLEMENT)[::-1]


def random_sequence(length: int, rng: np.random.Generator) -> str:
    """``length`` bases drawn uniformly and independently."""
    return "".join(np.array(list(BASES))[rng.integers(0, 4, length)])


def mutate(sequence: str, n: int, rng: np.random.Generator) -> str:
    """``sequence`` with ``n`` different positions each changed to one of the three other bases."""
    letters = list(_clean(sequence))
    if not 0 <= n <= len(letters):
        raise CourseError(f"Cannot change {n} bases of a sequence of {len(letters)}.")
    for position in rng.choice(len(letters), size=n, replace=False):
        letters[position] = rng.choice([b for b in BASES if b != letters[position]])
    return "".join(letters)


# ----------------------------------------------------------------------------------------------
# Finding motifs


def mismatches(a: str, b: str) -> int:
    """How many positions of two equally long sequences differ (the Hamming distance)."""
    if len(a) != len(b):
        raise CourseError(f"Cannot compare sequences of lengths {len(a)} and {len(b)} base by base.")
    return sum(x != y for x, y in zip(a, b))


def find_motif(sequence: str, motif: str, max_mismatches: int = 0, both_strands: bool = False) -> list[int]:
    """Start positions where ``motif`` occurs in ``sequence`` with at most ``max_mismatches`` substitutions
    (with ``both_strands``, also where its reverse complement does)."""
    sequence, motif = _clean(sequence), _clean(motif, "motif")
    targets = {motif, reverse_complement(motif)} if both_strands else {motif}
    w = len(motif)
    return [i for i in range(len(sequence) - w + 1)
            if min(mismatches(sequence[i:i + w], t) for t in targets) <= max_mismatches]


def scan(onehot_sequence: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Slide a (width, 4) filter along a (length, 4) one-hot sequence: the dot product at every start position
    (length - width + 1 values), exactly what a Conv1D with one filter, no bias and 'valid' padding computes."""
    x, w = np.asarray(onehot_sequence, dtype=float), np.asarray(weights, dtype=float)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[1]:
        raise CourseError(f"scan needs a (length, channels) sequence and a (width, channels) filter with the same "
                          f"channels, got {x.shape} and {w.shape}.")
    if len(w) > len(x):
        raise CourseError(f"The filter ({len(w)} wide) is longer than the sequence ({len(x)}).")
    return np.array([np.sum(x[i:i + len(w)] * w) for i in range(len(x) - len(w) + 1)])


# ----------------------------------------------------------------------------------------------
# The simulator


@dataclass
class MotifData:
    """Simulated sequences: ``labels`` 1 for positives; ``positions[k]`` lists where motifs were planted."""

    sequences: list[str]
    labels: np.ndarray
    positions: list[list[int]]
    strands: list[list[str]]
    motifs: tuple[str, ...]
    settings: dict = field(default_factory=dict)

    @property
    def x(self) -> np.ndarray:
        """The one-hot sequences, (n, length, 4)."""
        return one_hot(self.sequences)

    def __len__(self) -> int:
        return len(self.sequences)


def _contains(sequence: str, motifs: Sequence[str], max_mismatches: int, both_strands: bool) -> list[bool]:
    return [bool(find_motif(sequence, m, max_mismatches, both_strands)) for m in motifs]


def simulate(n: int = 2000, length: int = 50, motif: str = PRIMER_MOTIF, positive_fraction: float = 0.5,
             substitutions: int = 0, second_motif: str | None = None, both_strands: bool = False,
             seed: int = 0) -> MotifData:
    """The primer's data: ``n`` sequences of ``length`` uniform random bases; a shuffled ``positive_fraction``
    of them carry ``motif`` at a uniformly random position.

    Harder variants:

    - ``substitutions=k``: every planted copy has k random bases changed (a weaker motif, as real binding sites
      are); negatives then contain no stretch within k mismatches of the motif;
    - ``second_motif``: positives carry both motifs (without overlap); the negatives are split evenly between
      sequences with only the first motif, only the second, and neither: only the combination counts;
    - ``both_strands``: each planted copy is the motif or its reverse complement (a protein binds double-stranded
      DNA, so a site can be read on either strand); negatives contain neither.

    The guarantee: a negative never contains a motif that would make it positive (checked, then resampled), and
    positives hold the planted copies at ``positions``.
    """
    motif = _clean(motif, "motif")
    motifs = (motif,) if second_motif is None else (motif, _clean(second_motif, "second motif"))
    if sum(len(m) for m in motifs) > length:
        raise CourseError(f"The motifs ({sum(len(m) for m in motifs)} bases) do not fit in {length} bases.")
    if not 0 <= positive_fraction <= 1:
        raise CourseError(f"positive_fraction must be between 0 and 1, got {positive_fraction}.")
    if not 0 <= substitutions < min(len(m) for m in motifs) // 2:
        raise CourseError(f"substitutions must be 0 to {min(len(m) for m in motifs) // 2 - 1} for this motif, "
                          f"got {substitutions}.")
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype="int64")
    labels[: int(round(n * positive_fraction))] = 1
    rng.shuffle(labels)
    sequences, positions, strands = [], [], []
    negative_count = 0
    for label in labels:
        if label == 1:
            plant = list(range(len(motifs)))
        elif len(motifs) == 2:
            plant = [[0], [1], []][negative_count % 3]  # only the first, only the second, neither
            negative_count += 1
        else:
            plant = []
        for _attempt in range(1000):
            letters = list(random_sequence(length, rng))
            starts, placed, used = [], [], []
            for which in plant:
                copy = mutate(motifs[which], substitutions, rng)
                strand = "+"
                if both_strands and rng.random() < 0.5:
                    copy, strand = reverse_complement(copy), "-"
                free = [s for s in range(length - len(copy) + 1)
                        if all(s + len(copy) <= a or b <= s for a, b in used)]
                if not free:  # the first copy left no room for the second: draw again
                    break
                start = int(rng.choice(free))
                letters[start:start + len(copy)] = copy
                used.append((start, start + len(copy)))
                starts.append(start)
                placed.append(strand)
            if len(starts) < len(plant):
                continue
            sequence = "".join(letters)
            present = _contains(sequence, motifs, substitutions, both_strands)
            if label == 1 or (not all(present) and all(p == (k in plant) for k, p in enumerate(present))):
                break
        else:  # pragma: no cover - only for absurd settings
            raise CourseError("Could not draw a sequence that meets the guarantee; use longer sequences.")
        sequences.append(sequence)
        positions.append(starts)
        strands.append(placed)
    settings = dict(n=n, length=length, positive_fraction=positive_fraction, substitutions=substitutions,
                    both_strands=both_strands, seed=seed)
    return MotifData(sequences, labels, positions, strands, motifs, settings)


def split(data: MotifData, test: float = 0.25, validation: float = 0.25, seed: int = 42
          ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray],
                     dict[str, np.ndarray]]:
    """Shuffle once, then the primer's proportions: ``test`` of all sequences held out, ``validation`` of the rest
    for curves and choices, the remainder to train on. Returns (train, validation, test) pairs of (x, y) and the
    indices of each part into ``data``."""
    order = np.random.default_rng(seed).permutation(len(data))
    n_test = int(round(len(data) * test))
    n_val = int(round((len(data) - n_test) * validation))
    parts = {"test": order[:n_test], "validation": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    x, y = data.x, data.labels
    return ((x[parts["train"]], y[parts["train"]]), (x[parts["validation"]], y[parts["validation"]]),
            (x[parts["test"]], y[parts["test"]]), parts)


# ----------------------------------------------------------------------------------------------
# Reading a model


def _last_activation(model) -> str:
    layers = getattr(model, "layers", None) or [model]
    activation = getattr(layers[-1], "activation", None)
    return getattr(activation, "__name__", str(activation or ""))


def _score_function(model_or_function) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a batch (n, length, 4) to one score per sequence.

    A Keras model ending in a 2-way softmax gives the log-odds log(p1 / p0) of the positive class, one ending in
    a sigmoid the logit, any other its first output; a plain function is used as it is.
    """
    if not hasattr(model_or_function, "predict"):
        return lambda x: np.asarray(model_or_function(x), dtype=float).reshape(len(x), -1)[:, 0]
    activation = _last_activation(model_or_function)

    def score(x: np.ndarray) -> np.ndarray:
        out = np.asarray(model_or_function(np.asarray(x, dtype="float32"), training=False), dtype=float)
        out = out.reshape(len(x), -1)
        eps = 1e-7
        if activation == "softmax" and out.shape[1] == 2:
            return np.log(out[:, 1] + eps) - np.log(out[:, 0] + eps)
        if activation == "sigmoid":
            return np.log(out[:, 0] + eps) - np.log(1 - out[:, 0] + eps)
        return out[:, 0]

    return score


def mutation_map(model_or_function, onehot_sequence: np.ndarray) -> np.ndarray:
    """DeepBind's mutation map: a (length, 4) array whose entry [i, b] is score(sequence with base b at position
    i) - score(sequence); zero where b is the base already there.

    ``model_or_function`` is a Keras model (its score: the log-odds of the positive class) or any function from
    a (n, length, 4) batch to n scores. All 3 x length mutants go through the model in one batch.
    """
    x = np.asarray(onehot_sequence, dtype="float32")
    if x.ndim != 2 or x.shape[1] != 4:
        raise CourseError(f"mutation_map takes one one-hot sequence of shape (length, 4), got {x.shape}.")
    length = len(x)
    mutants = np.repeat(x[None], length * 4, axis=0)
    for i in range(length):
        mutants[i * 4:(i + 1) * 4, i, :] = np.eye(4, dtype="float32")
    scores = _score_function(model_or_function)(np.concatenate([x[None], mutants]))
    changes = scores[1:].reshape(length, 4) - scores[0]
    changes[x.astype(bool)] = 0.0
    return changes


def saliency(model, onehot_sequence: np.ndarray) -> np.ndarray:
    """Gradient x input per position, as the primer computes it: d score / d input at each position's own base
    (the score: the positive class's log-odds for a 2-way softmax model). Returns ``length`` numbers."""
    import tensorflow as tf

    x = np.asarray(onehot_sequence, dtype="float32")
    if x.ndim != 2 or x.shape[1] != 4:
        raise CourseError(f"saliency takes one one-hot sequence of shape (length, 4), got {x.shape}.")
    batch = tf.convert_to_tensor(x[None])
    with tf.GradientTape() as tape:
        tape.watch(batch)
        out = tf.cast(tf.reshape(model(batch, training=False), (1, -1)), tf.float32)
        if _last_activation(model) == "softmax" and out.shape[1] == 2:
            score = tf.math.log(out[:, 1] + 1e-7) - tf.math.log(out[:, 0] + 1e-7)
        elif _last_activation(model) == "sigmoid":
            score = tf.math.log(out[:, 0] + 1e-7) - tf.math.log(1 - out[:, 0] + 1e-7)
        else:
            score = out[:, 0]
    grad = tape.gradient(score, batch).numpy()[0]
    return np.sum(grad * x, axis=1)


def consensus(weights: np.ndarray) -> str:
    """The base a (width, 4) filter likes best at each position."""
    w = np.asarray(weights)
    if w.ndim != 2 or w.shape[1] != 4:
        raise CourseError(f"A DNA filter has shape (width, 4), got {w.shape}.")
    return "".join(BASES[i] for i in w.argmax(axis=1))


def align(pattern: str, motif: str) -> tuple[int, int]:
    """Slide ``pattern`` along ``motif`` (overhangs allowed) and return (shift, matching bases) for the shift with
    the most equal bases; shift s puts pattern[0] under motif[s] (negative: the pattern starts before the motif)."""
    pattern, motif = _clean(pattern, "pattern"), _clean(motif, "motif")
    best = (0, -1)
    for shift in range(-len(pattern) + 1, len(motif)):
        same = sum(1 for i, b in enumerate(pattern) if 0 <= shift + i < len(motif) and motif[shift + i] == b)
        if same > best[1] or (same == best[1] and abs(shift) < abs(best[0])):
            best = (shift, same)
    return best


# ----------------------------------------------------------------------------------------------
# Logos


def logomaker_available() -> bool:
    """True when the ``logomaker`` package can be imported."""
    import importlib.util

    return importlib.util.find_spec("logomaker") is not None


def _logo_matplotlib(values: np.ndarray, ax) -> None:
    """A plain-matplotlib stand-in for a logo: at each position, one bar per base, coloured and lettered."""
    width = 0.2
    for j, base in enumerate(BASES):
        xs = np.arange(len(values)) + (j - 1.5) * width
        ax.bar(xs, values[:, j], width=width, color=BASE_COLOURS[base], label=base)
    ax.legend(ncol=4, loc="upper right", fontsize=11)


def filter_logo(weights: np.ndarray, ax=None, title: str | None = None, centre: bool = True,
                use_logomaker: bool | None = None):
    """Draw a (width, 4) filter as a sequence logo: letter heights are the weights (each position's mean taken
    off with ``centre``, so that a filter that likes C at a position shows a tall C above the line and the bases
    it dislikes below). Uses logomaker when available, else grouped bars. Returns the axes."""
    import matplotlib.pyplot as plt

    values = np.asarray(weights, dtype=float)
    if values.ndim != 2 or values.shape[1] != 4:
        raise CourseError(f"A DNA filter has shape (width, 4), got {values.shape}.")
    if centre:
        values = values - values.mean(axis=1, keepdims=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(8.0, 0.6 * len(values)), 3.0))
    if use_logomaker is None:
        use_logomaker = logomaker_available()
    if use_logomaker:
        import logomaker
        import pandas as pd

        logomaker.Logo(pd.DataFrame(values, columns=list(BASES)), ax=ax, color_scheme=BASE_COLOURS)
    else:
        _logo_matplotlib(values, ax)
    ax.axhline(0, color="gray", linewidth=1)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels([str(i) for i in range(len(values))])
    if title:
        ax.set_title(title)
    return ax
