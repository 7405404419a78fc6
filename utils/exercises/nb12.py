"""Exercises for notebook 12, *Convolution beyond images: 1-D CNNs that find DNA motifs*."""

from __future__ import annotations

from typing import Any

import numpy as np

from utils.exercises import Exercise, expect_choice, expect_function, expect_integer

_BASES = "ACGT"


def _one_hot(sequence: str) -> np.ndarray:
    """The reference: (length, 4), columns A, C, G, T."""
    out = np.zeros((len(sequence), 4), dtype="float32")
    for i, base in enumerate(sequence):
        out[i, _BASES.index(base)] = 1.0
    return out


def _one_hot_cases() -> list[tuple]:
    return [("GATTACA",), ("ACGT",), ("TTTTT",), ("CGACCGAACTCC",), ("G",)]


def _one_hot_wrong_order(sequence: str) -> np.ndarray:   # columns A, C, T, G
    return np.array([[float(b == c) for c in "ACTG"] for b in sequence])


def _one_hot_transposed(sequence: str) -> np.ndarray:
    return _one_hot(sequence).T


def _integer_codes(sequence: str) -> np.ndarray:
    return np.array([_BASES.index(b) for b in sequence])


#: q3: the primer's motif, and what a reverse complement is not.
MOTIF = "CGACCGAACTCC"
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def _expect_reverse_complement(sequence: str):
    right = sequence.translate(_COMPLEMENT)[::-1]
    reversed_only = sequence[::-1]
    complement_only = sequence.translate(_COMPLEMENT)

    def check(answer: Any) -> str | None:
        if not isinstance(answer, str):
            return f"write the answer as a text of letters in quotes, such as \"ACGT\", not {type(answer).__name__}."
        text = "".join(answer.split()).upper()
        odd = sorted(set(text) - set(_BASES))
        if odd:
            return f"your answer holds {', '.join(repr(c) for c in odd)}; DNA has only the letters A, C, G and T."
        if len(text) != len(sequence):
            return f"your answer has {len(text)} bases; the motif has {len(sequence)}, and so has its other strand."
        if text == right:
            return None
        if text == sequence:
            return "that is the motif itself, read on its own strand."
        if text == reversed_only:
            return "you reversed the motif but did not swap the bases (A<->T, C<->G)."
        if text == complement_only:
            return ("you swapped the bases but did not reverse them: the other strand runs in the opposite "
                    "direction, so it is read from the motif's end backwards.")
        wrong = sum(a != b for a, b in zip(text, right))
        return f"{wrong} of the {len(sequence)} bases {'is' if wrong == 1 else 'are'} not right."

    return check


def _filters() -> dict[str, np.ndarray]:
    """q4's four 8-wide filters: one matches MOTIF_Q4, the others are plausible decoys."""
    rng = np.random.default_rng(12)
    motif = MOTIF_Q4
    complement = motif.translate(_COMPLEMENT)

    def as_filter(text: str) -> np.ndarray:
        return 2.0 * _one_hot(text) - 0.5 + rng.normal(0, 0.15, (len(text), 4))

    return {
        "A": as_filter(complement[::-1]),        # the reverse complement (the other strand)
        "B": as_filter(motif[2:] + "GC"),         # the motif shifted by two bases
        "C": as_filter(motif),                    # the motif
        "D": as_filter(motif[::-1]),              # the motif read backwards (not a strand of it)
    }


#: q4: a motif and a sequence that carries it once; FILTERS holds four (8, 4) Conv1D filters (columns A, C, G, T).
MOTIF_Q4 = "TTGCATCA"
SEQUENCE_Q4 = "GCGTAACTTGCATCAGGATCCGAT"
FILTERS = _filters()


def _best_filter() -> str:
    x = _one_hot(SEQUENCE_Q4)
    best = {name: max(np.sum(x[i:i + 8] * w) for i in range(len(x) - 7)) for name, w in FILTERS.items()}
    return max(best, key=best.get)


assert _best_filter() == "C"

q1 = Exercise(
    name="q1",
    question="A Conv1D layer with kernel_size=15, strides=2 and padding='valid' reads a sequence of 200 positions. "
             "How many positions does its output have?",
    checker=expect_integer((200 - 15) // 2 + 1),
    hints=["With stride 1 and no padding, a kernel of width F fits at N - F + 1 places.",
           "Notebook 02's formula: floor((N - F + 2P) / S) + 1 with P = 0 for 'valid'."],
    solution_text="floor((200 - 15 + 0) / 2) + 1 = floor(92.5) + 1 = 93. (With padding='same' it would be "
                  "ceil(200 / 2) = 100.) Check: keras.layers.Conv1D(1, 15, strides=2)(np.zeros((1, 200, 4))).shape.",
    solution_value=93,
    wrong_examples=(186, 92, 100, 94),
)

q2 = Exercise(
    name="q2",
    question="Write one_hot(sequence): for a text of the letters A, C, G, T, return an array of shape "
             "(length, 4) with a single 1 per row, in the column of that base (column order A, C, G, T).",
    checker=expect_function(_one_hot, _one_hot_cases),
    hints=["Start from np.zeros((len(sequence), 4)) and set one entry per row.",
           "\"ACGT\".index(base) gives the column of a base."],
    solution_text="def one_hot(sequence):\n    out = np.zeros((len(sequence), 4))\n"
                  "    for i, base in enumerate(sequence):\n        out[i, \"ACGT\".index(base)] = 1\n    return out",
    solution_value=_one_hot,
    wrong_examples=(_one_hot_wrong_order, _one_hot_transposed, _integer_codes, "ACGT"),
)

q3 = Exercise(
    name="q3",
    question=f"A protein binds double-stranded DNA, so the motif {MOTIF} can also be read on the other strand. "
             "Write that other strand's sequence (its reverse complement) as a text.",
    checker=_expect_reverse_complement(MOTIF),
    hints=["Pair every base with its partner: A with T, C with G.",
           "The partner strand runs the other way: read the paired bases from the motif's last base to its first."],
    solution_text="Complement CGACCGAACTCC -> GCTGGCTTGAGG, then reverse -> GGAGTTCGGTCG "
                  "(genomics.reverse_complement(MOTIF) agrees).",
    solution_value="GGAGTTCGGTCG",
    wrong_examples=("CCTCAAGCCAGC", "GCTGGCTTGAGG", "CGACCGAACTCC", "GGAGTTCGGTCA", 42, "GGAGUUCGGUCG"),
)

q4 = Exercise(
    name="q4",
    question="ex.FILTERS holds four Conv1D filters (A, B, C, D), each an (8, 4) array with columns A, C, G, T. "
             "ex.SEQUENCE_Q4 carries the motif ex.MOTIF_Q4 once. Which filter answers most strongly anywhere along "
             "the sequence? Slide each one (genomics.scan, or your own loop) and answer with its letter.",
    checker=expect_choice("C", ["A", "B", "C", "D"]),
    hints=["genomics.scan(genomics.one_hot(ex.SEQUENCE_Q4), ex.FILTERS['A']).max() is filter A's best answer.",
           "Compare the four maxima; genomics.consensus(w) shows which bases each filter prefers."],
    solution_text="for name, w in ex.FILTERS.items(): print(name, genomics.consensus(w), "
                  "genomics.scan(genomics.one_hot(ex.SEQUENCE_Q4), w).max())\n"
                  "C is the motif itself. A is its reverse complement (it would find the motif on the other strand, "
                  "which this one-stranded sequence does not show), B is shifted by two bases and D reads the motif "
                  "backwards, which is not a DNA strand at all.",
    solution_value="C",
    wrong_examples=("A", "B", "D"),
)

q5 = Exercise(
    name="q5",
    question="The primer's test confusion matrix (rows: true label 0 then 1; columns: predicted 0 then 1) is "
             "[[251, 8], [2, 239]]. Which mistake did its model make more often? A: it called sequences without the "
             "motif 'bound' (false positives). B: it missed sequences that carry the motif (false negatives). "
             "C: both equally often.",
    checker=expect_choice("A", ["A", "B", "C"]),
    hints=["Off the diagonal are the mistakes. Row = what the sequence really is, column = what the model said.",
           "Row 0, column 1: truly unbound, predicted bound."],
    solution_text="A: 8 unbound sequences were predicted bound (row 0, column 1), against 2 bound ones missed "
                  "(row 1, column 0). Careful: the primer's plot labels its axes the other way round.",
    solution_value="A",
    wrong_examples=("B", "C"),
)

q6 = Exercise(
    name="q6",
    question="You drew the mutation map of a positive sequence. Now imagine the map of a NEGATIVE sequence (no "
             "motif). What do you expect? A: small changes everywhere, with a few larger gains where one "
             "substitution makes a stretch look more like the motif. B: large losses everywhere. C: the same "
             "picture as the positive's, with the same block at the same positions.",
    checker=expect_choice("A", ["A", "B", "C"]),
    hints=["A substitution can only destroy a motif that is there.",
           "In a random sequence, which substitution could raise the score?"],
    solution_text="A. Nothing to destroy, so no large losses; a single change cannot build a 12-base motif from "
                  "random bases, but it can make a near-copy nearer, and the model scores that a little higher. "
                  "The next cell draws it.",
    solution_value="A",
    wrong_examples=("B", "C"),
)

q7 = Exercise(
    name="q7",
    question="Why does the global-max-pooling model cope better with the harder variants than the primer's "
             "model? A: it has more parameters. B: it asks 'is the pattern anywhere?' with one set of weights "
             "after the convolution, so the training data need not teach every position separately. "
             "C: it reads the reverse strand too. D: it trains for more epochs.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["Compare the two models' parameter counts printed above, and their epochs.",
           "The primer's Flatten keeps every pooled position apart: its Dense layer sees 'the motif near position "
           "8' and 'the motif near position 32' as different features."],
    solution_text="B. Global max pooling keeps one number per filter, the best answer anywhere, so whatever the "
                  "Dense layers learn about a motif holds at every position (and it has fewer parameters, not "
                  "more; both train for the same epochs; neither reads the reverse strand by itself: a filter "
                  "can learn the reverse complement, as any other pattern).",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7]
