"""Exercises for notebook 07, *The art of training a CNN*, in the order the notebook asks them."""

from __future__ import annotations

import math
from typing import Any

from utils.exercises import Checker, Exercise, _read_number, _short, expect_choice, expect_function, expect_number

#: The lecture notes' table (Andrew Ng's example): error rates in % for four models, A to D, on a task where
#: humans make about 0% mistakes. "train-dev" is held out from the training distribution; "dev" comes from the
#: distribution the model will be used on.
SEED_TABLE = {
    "A": {"train": 1.0, "train-dev": 9.0, "dev": 10.0},
    "B": {"train": 1.0, "train-dev": 1.5, "dev": 10.0},
    "C": {"train": 10.0, "train-dev": 11.0, "dev": 12.0},
    "D": {"train": 10.0, "train-dev": 11.0, "dev": 20.0},
}
DIAGNOSES = ("bias", "variance", "mismatch", "bias+mismatch")
_SEED_ANSWER = {"A": "variance", "B": "mismatch", "C": "bias", "D": "bias+mismatch"}


def _diagnosis_key(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    words = text.casefold().replace("and", "+").replace("&", "+").replace(" ", "").replace("datamismatch", "mismatch")
    words = words.replace("highbias", "bias").replace("highvariance", "variance")
    return "+".join(sorted(words.split("+"))) if words else None


def expect_diagnoses(expected: dict[str, str]) -> Checker:
    """A dict column -> diagnosis; spelling and case are forgiven ("Bias + mismatch", "data mismatch")."""
    want = {k: _diagnosis_key(v) for k, v in expected.items()}
    allowed = {_diagnosis_key(d) for d in DIAGNOSES}

    def check(answer: Any) -> str | None:
        if not isinstance(answer, dict):
            return ("expected a dict with one diagnosis per column, e.g. "
                    "{'A': 'bias', 'B': 'variance', 'C': 'mismatch', 'D': 'bias+mismatch'}.")
        keys = {str(k).strip().upper(): v for k, v in answer.items()}
        missing = [k for k in want if k not in keys]
        if missing:
            return f"column(s) {', '.join(missing)} missing from your dict."
        extra = [k for k in keys if k not in want]
        if extra:
            return f"there is no column {extra[0]!r}: the columns are {sorted(want)}."
        for column in sorted(want):
            got = _diagnosis_key(keys[column])
            if got not in allowed:
                return f"column {column}: {_short(keys[column])} is not one of {list(DIAGNOSES)}."
        wrong = [c for c in sorted(want) if _diagnosis_key(keys[c]) != want[c]]
        if wrong:
            return f"{len(wrong)} of the {len(want)} diagnoses are not right (column {wrong[0]} is one of them)."
        return None

    return check


def expect_letters(expected: set[str], choices: str) -> Checker:
    """A set (or list, or string) of letters: exactly the right ones, in any order and case."""
    right = {c.upper() for c in expected}
    allowed = set(choices.upper())

    def check(answer: Any) -> str | None:
        if isinstance(answer, str):
            items = [ch for ch in answer.upper() if ch.isalpha()]
        elif isinstance(answer, (set, list, tuple, frozenset)):
            items = [str(a).strip().upper() for a in answer]
        else:
            return "expected a set of letters, e.g. {'A', 'C'}."
        bad = [i for i in items if i not in allowed]
        if bad:
            return f"{_short(bad[0])} is not one of the choices {sorted(allowed)}."
        got = set(items)
        if not got:
            return "your set is empty: at least one transformation keeps the label."
        missing, extra = right - got, got - right
        if extra:
            return f"{len(extra)} of your letters change the label or make the image no longer a valid example."
        if missing:
            return f"all your letters keep the label, but {len(missing)} more transformation(s) do too."
        return None

    return check


def expect_percent_or_fraction(percent: float) -> Checker:
    """A percentage (8.4) or the same as a fraction (0.084), within 0.1%."""

    def check(answer: Any) -> str | None:
        value, problem = _read_number(answer, "a number (a percentage such as 8.4, or a fraction such as 0.084)")
        if problem:
            return problem
        v = float(value)
        if math.isclose(v, percent, rel_tol=1e-3) or math.isclose(v, percent / 100, rel_tol=1e-3):
            return None
        return f"{v:g} is not right."

    return check


def _warmup_cosine(step: float, peak: float, warmup_steps: int, total_steps: int) -> float:
    """The reference: a straight line from 0 to ``peak`` over ``warmup_steps``, then half a cosine down to 0 at
    ``total_steps`` (and 0 after it). Keras' ``CosineDecay(0.0, total_steps - warmup_steps,
    warmup_target=peak, warmup_steps=warmup_steps)`` computes the same (tests/test_training_practice.py checks)."""
    if step < warmup_steps:
        return peak * step / warmup_steps
    done = min(step, total_steps) - warmup_steps
    return 0.5 * peak * (1.0 + math.cos(math.pi * done / (total_steps - warmup_steps)))


def _warmup_cosine_cases() -> list[tuple]:
    cases = [(step, 0.01, 10, 100) for step in (0, 5, 10, 32, 55, 99, 100, 150)]
    return cases + [(0, 0.003, 32, 192), (16, 0.003, 32, 192), (112, 0.003, 32, 192), (191, 0.003, 32, 192)]


def _no_warmup(step, peak, warmup_steps, total_steps):
    return 0.5 * peak * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))


def _cosine_over_all_steps(step, peak, warmup_steps, total_steps):
    if step < warmup_steps:
        return peak * step / warmup_steps
    return 0.5 * peak * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))


def _linear_decay(step, peak, warmup_steps, total_steps):
    if step < warmup_steps:
        return peak * step / warmup_steps
    return peak * (total_steps - min(step, total_steps)) / (total_steps - warmup_steps)


def _cosine_goes_up_again(step, peak, warmup_steps, total_steps):
    if step < warmup_steps:
        return peak * step / warmup_steps
    return 0.5 * peak * (1 + math.cos(math.pi * (step - warmup_steps) / (total_steps - warmup_steps)))


q1 = Exercise(
    name="q1",
    question="Diagnose the notes' four models (ex.SEED_TABLE above; humans make about 0% mistakes). For each "
             "column A-D, one of:\n  'bias'  'variance'  'mismatch'  'bias+mismatch'\n"
             "Answer with a dict such as {'A': ..., 'B': ..., 'C': ..., 'D': ...}.",
    checker=expect_diagnoses(_SEED_ANSWER),
    hints=["Three gaps: human -> train is avoidable bias; train -> train-dev is variance (same distribution, "
           "images not trained on); train-dev -> dev is data mismatch (another distribution).",
           "Find the large gap(s) in each column. A model can have two problems at once."],
    solution_text="A: variance (1% -> 9% on unseen images of the same kind). B: mismatch (1.5% -> 10% only when the "
                  "distribution changes). C: bias (10% already on the training set, small gaps after). D: bias and "
                  "mismatch (10% on training, then 11% -> 20% on the other distribution).",
    solution_value=dict(_SEED_ANSWER),
    wrong_examples=({"A": "variance", "B": "variance", "C": "bias", "D": "bias+mismatch"},
                    {"A": "bias", "B": "mismatch", "C": "variance", "D": "mismatch"},
                    {"A": "variance", "B": "mismatch", "C": "bias", "D": "bias"},
                    ["variance", "mismatch", "bias", "bias+mismatch"]),
)

q2 = Exercise(
    name="q2",
    question="The wider networks reach a training error near 0% on labels that were shuffled at random, while "
             "their train-dev error stays near 90% (chance for ten classes). What does this show?\n"
             "  A: the network found the digits' shapes.\n"
             "  B: a big enough network can memorise its training set like a lookup table, so a low training "
             "error alone says nothing about new images.\n"
             "  C: shuffled labels make training easier.\n"
             "  D: the learning rate was too high.\n"
             "Answer with a letter.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["With shuffled labels there is nothing to learn about digits: the label of an image is noise.",
           "What else can make the training error small, then?"],
    solution_text="B. With random labels there is no rule to find, yet the network fits most of them: it stores "
                  "image -> label pairs (the notes' 'lookup table'; Zhang et al., 2017, showed it for large CNNs "
                  "on CIFAR-10 and ImageNet). That same capacity lets it memorise the quirks of real training "
                  "images, which is overfitting; only held-out images can tell.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

q3 = Exercise(
    name="q3",
    question="He initialisation draws weights with standard deviation sqrt(2 / n_in). What is it for a "
             "Conv2D(64, (3, 3)) layer whose input has 32 channels? (A number, e.g. 0.05.)",
    checker=expect_number(math.sqrt(2 / (3 * 3 * 32)), rel_tol=2e-3),
    hints=["n_in is the number of inputs one output unit sums over: one 3x3 window through every input channel.",
           "n_in = 3 * 3 * 32 = 288 (the 64 filters do not matter)."],
    solution_text="n_in = 3*3*32 = 288; sqrt(2/288) = 1/12 = 0.0833. Keras' HeNormal uses exactly this fan_in.",
    solution_value=math.sqrt(2 / 288),
    wrong_examples=(math.sqrt(2 / 32), math.sqrt(2 / (9 * 64)), math.sqrt(1 / 288), 2 / 288),
)

q4 = Exercise(
    name="q4",
    question="Keras' BatchNormalization keeps a running mean for inference, starting at 0 and updated after every "
             "training batch as  running = 0.99 * running + 0.01 * batch_mean.  Five batches in a row have "
             "mean 3.0. What is the running mean after them? (A number.)",
    checker=expect_number(3.0 * (1 - 0.99 ** 5), rel_tol=1e-3),
    hints=["After one batch: 0.99 * 0 + 0.01 * 3 = 0.03. Repeat four more times.",
           "In closed form: 3 * (1 - 0.99**5)."],
    solution_text="3 * (1 - 0.99**5) = 0.147: after five batches the running mean has covered only about 5% of "
                  "the way to 3. It takes a few hundred batches to catch up, so early in training the statistics "
                  "used at inference lag behind those used in training.",
    solution_value=3.0 * (1 - 0.99 ** 5),
    wrong_examples=(3.0, 0.15, 0.03, 3.0 * 0.99 ** 5),
)

q5 = Exercise(
    name="q5",
    question="The notes' L2 cost adds lambda/(2m) * ||w||^2 to the loss. With lambda = 5 and m = 1,000 training "
             "images, how much does this term add to the gradient of a weight w = 0.4? (A number.)",
    checker=expect_number(5 / 1000 * 0.4),
    hints=["Differentiate lambda/(2m) * w^2 with respect to w.",
           "d/dw [lambda/(2m) w^2] = (lambda/m) * w: the 2 cancels."],
    solution_text="(lambda/m) * w = 5/1000 * 0.4 = 0.002. Every step moves the weight towards 0 by the learning "
                  "rate times this ('weight decay'). Keras' L2(l2) adds l2 * sum(w^2), so l2 = lambda/(2m).",
    solution_value=0.002,
    wrong_examples=(0.001, 0.0004, 0.0016, 2.0),
)

q6 = Exercise(
    name="q6",
    question="A unit's input is 2.5; Keras' Dropout(0.2) follows it. Averaged over many training steps, what is the "
             "expected value of the unit's output? (A number.)",
    checker=expect_number(2.5),
    hints=["With probability 0.2 the output is 0; otherwise Keras scales the kept value by 1/(1 - 0.2).",
           "0.2 * 0 + 0.8 * (2.5 / 0.8)."],
    solution_text="0.8 * 2.5/0.8 + 0.2 * 0 = 2.5: inverted dropout keeps every unit's expected value, so nothing "
                  "needs rescaling at inference. (A kept unit outputs 3.125; without the scaling the mean would "
                  "be 2.0.)",
    solution_value=2.5,
    wrong_examples=(2.0, 3.125, 0.5),
)

q7 = Exercise(
    name="q7",
    question="Which transformations keep the label (and give a valid training example)?\n"
             "  A: rotate a handwritten digit by 10 degrees.\n  B: rotate a 6 by 180 degrees.\n"
             "  C: flip a handwritten 3 left-right.\n  D: flip a cat photo left-right.\n"
             "  E: shift a digit by 2 pixels.\n  F: crop a 224x224 patch from a 256x256 cat photo.\n"
             "Answer with a set of letters, e.g. {'A', 'B'}.",
    checker=expect_letters({"A", "D", "E", "F"}, "ABCDEF"),
    hints=["Ask: would a person still give the new image the same label, and could it occur in real data?",
           "A 6 upside down is a 9; a mirrored 3 is not a digit anyone writes; a mirrored cat is still a cat."],
    solution_text="A, D, E, F. Small rotations and shifts are how people really write; a cat looks the same "
                  "mirrored, and a 224 crop of it still shows the cat (AlexNet's crops and reflections). B turns a "
                  "6 into a 9 (wrong label); C makes a shape no one writes as a 3.",
    solution_value={"A", "D", "E", "F"},
    wrong_examples=({"A", "B", "D", "E", "F"}, {"A", "C", "D", "E", "F"}, {"D", "F"}, "ABCDEF"),
)

q8 = Exercise(
    name="q8",
    question="A CNN trains well with plain SGD (momentum 0.9) at batch size 64 and learning rate 0.01. You move "
             "to batch size 256, so each epoch has a quarter of the updates, each averaging four times as many "
             "images. Which learning rate does the linear scaling rule (Goyal et al., 2017) start from?\n"
             "  A: 0.01 (keep it)\n  B: 0.04\n  C: 0.0025\n  D: 0.16\n"
             "Answer with a letter.",
    checker=expect_choice("B", ["A", "B", "C", "D"]),
    hints=["Four small steps, each with its own gradient, move the weights about as far as one step of four "
           "times the length with their average gradient.",
           "The batch grows by a factor of 4; so does the rate, under this rule."],
    solution_text="B: 0.04. Multiply the rate by the factor the batch grew (256/64 = 4), so that an epoch moves "
                  "the weights about as far as before; Goyal et al. (2017) add a few epochs of warm-up because the "
                  "rule fails in the first steps. For Adam, a square-root rule (x2 here) is the usual start "
                  "(Malladi et al., 2022). Either is a starting point for a sweep, not a guarantee.",
    solution_value="B",
    wrong_examples=("A", "C", "D"),
)

q9 = Exercise(
    name="q9",
    question="Write warmup_cosine(step, peak, warmup_steps, total_steps): the learning rate at a given step. It "
             "rises in a straight line from 0 at step 0 to `peak` at step `warmup_steps`, then falls along half "
             "a cosine, peak * (1 + cos(pi * t)) / 2, where t runs from 0 at `warmup_steps` to 1 at "
             "`total_steps`, and stays at 0 after `total_steps`.",
    checker=expect_function(_warmup_cosine, _warmup_cosine_cases),
    hints=["Two cases: `if step < warmup_steps: return peak * step / warmup_steps`.",
           "After the warm-up: t = (min(step, total_steps) - warmup_steps) / (total_steps - warmup_steps); "
           "math.cos and math.pi do the rest."],
    solution_text="def warmup_cosine(step, peak, warmup_steps, total_steps):\n"
                  "    if step < warmup_steps:\n"
                  "        return peak * step / warmup_steps\n"
                  "    t = (min(step, total_steps) - warmup_steps) / (total_steps - warmup_steps)\n"
                  "    return peak * (1 + math.cos(math.pi * t)) / 2\n"
                  "Keras' own: keras.optimizers.schedules.CosineDecay(0.0, total_steps - warmup_steps, "
                  "warmup_target=peak, warmup_steps=warmup_steps).",
    solution_value=_warmup_cosine,
    wrong_examples=(_no_warmup, _cosine_over_all_steps, _linear_decay, _cosine_goes_up_again, 0.01),
)

q10 = Exercise(
    name="q10",
    question="A model makes 12% dev error. You tag 100 of its dev mistakes; 30 carry the tag 'thin stroke'. If you "
             "fixed every thin-stroke mistake and nothing else, what dev error would be left (in %)?",
    checker=expect_percent_or_fraction(12 * (1 - 0.30)),
    hints=["The 100 tagged mistakes are a sample of all mistakes: 30% of all mistakes are thin strokes.",
           "Fixing them removes 30% of the 12% error."],
    solution_text="12% * (1 - 0.30) = 8.4%. That is the ceiling: the best this work can give. A tag behind 5% "
                  "of the mistakes could at most take 12% to 11.4%: not worth a month.",
    solution_value=8.4,
    wrong_examples=(3.6, 12, 9.0, 0.3),
)

EXERCISES = [q1, q2, q3, q4, q5, q6, q7, q8, q9, q10]
