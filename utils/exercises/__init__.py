"""Self-checking exercises: ``q.check(answer)``, ``q.hint()``, ``q.solution()``, offline, no account.

Each notebook has a module here (``nb01``, ``nb02``, ...) holding its exercises as data::

    from utils.exercises import nb01 as ex
    answer = ...            # the learner replaces the ...
    ex.q1.check(answer)

- Not attempted (``...`` or ``None``): one friendly line, no exception, so Run All still works.
- Wrong: what is wrong (type, shape, which value), never the answer itself.
- Right: a tick.

Messages are plain, deterministic text so that nbval can compare them. Checkers compare values and
shapes (through NumPy), never library object types, so a TensorFlow or Keras update cannot break them.
Every module lists its exercises in ``EXERCISES``; each carries its solution value and some wrong
answers, and ``tests/test_exercises.py`` checks every checker with both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

#: A checker gets the learner's answer and returns None when it is right, or what is wrong.
Checker = Callable[[Any], "str | None"]

RIGHT = "\u2705"      # check mark
WRONG = "\u274c"      # cross
WAITING = "\u270b"    # raised hand


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok`` is True (right), False (wrong) or None (not attempted)."""

    ok: bool | None
    message: str


#: What a checker returns when the answer is still a placeholder (say, a function that returns ``...``).
NOT_ATTEMPTED = "not attempted"


def unattempted(answer: Any) -> bool:
    """True for the placeholders a notebook starts with: ``...`` and ``None``."""
    return answer is ... or answer is None


@dataclass
class Exercise:
    """One exercise: its question, a checker, hints, and a worked solution."""

    name: str
    question: str
    checker: Checker
    hints: Sequence[str]
    solution_text: str
    solution_value: Any
    wrong_examples: Sequence[Any] = field(default_factory=tuple)

    def evaluate(self, answer: Any) -> Verdict:
        """Judge ``answer`` without printing (what the tests call)."""
        if unattempted(answer):
            return Verdict(None, f"{WAITING} {self.name}: not attempted yet. Replace the ... with your answer "
                                 f"and run the cell again (stuck? ex.{self.name}.hint()).")
        try:
            problem = self.checker(answer)
        except Exception as err:  # a checker must never crash a learner's notebook
            problem = f"your answer could not be checked ({type(err).__name__}: {err})."
        if problem is NOT_ATTEMPTED:
            return self.evaluate(...)
        if problem is None:
            return Verdict(True, f"{RIGHT} {self.name}: correct!")
        return Verdict(False, f"{WRONG} {self.name}: {problem}")

    def check(self, answer: Any) -> None:
        """Print whether ``answer`` is right; never raises."""
        print(self.evaluate(answer).message)

    def hint(self, number: int | None = None) -> None:
        """Print the hints up to ``number`` (all of them by default)."""
        shown = self.hints if number is None else self.hints[: max(1, number)]
        for k, text in enumerate(shown, 1):
            print(f"Hint {k}: {text}")

    def solution(self) -> None:
        """Print the worked solution."""
        print(f"Solution to {self.name}:\n{self.solution_text}")

    def __repr__(self) -> str:
        return f"{self.name}: {self.question}"


# ----------------------------------------------------------------------------------------------
# Checker builders. Each returns a Checker; messages say what is wrong, never the expected value.


def _number(answer: Any) -> float | None:
    if isinstance(answer, bool):
        return None
    try:
        value = np.asarray(answer)
    except Exception:
        return None
    if value.shape != () or not np.issubdtype(value.dtype, np.number):
        return None
    return float(value)


def expect_integer(expected: int, say_direction: bool = True) -> Checker:
    """A whole number equal to ``expected`` (NumPy integers and whole floats accepted)."""

    def check(answer: Any) -> str | None:
        value = _number(answer)
        if value is None:
            return f"expected a whole number, got {type(answer).__name__}."
        if not value.is_integer():
            return f"expected a whole number, got {value}."
        if int(value) == expected:
            return None
        direction = (" (too high)" if value > expected else " (too low)") if say_direction else ""
        return f"{int(value):,} is not right{direction}."

    return check


def expect_number(expected: float, rel_tol: float = 1e-3, abs_tol: float = 1e-9) -> Checker:
    """A number within a relative tolerance of ``expected``."""

    def check(answer: Any) -> str | None:
        value = _number(answer)
        if value is None:
            return f"expected a number, got {type(answer).__name__}."
        if math.isclose(value, expected, rel_tol=rel_tol, abs_tol=abs_tol):
            return None
        return f"{value:g} is not right ({'too high' if value > expected else 'too low'})."

    return check


def expect_shape(expected: Sequence[int]) -> Checker:
    """A shape: a tuple or list of whole numbers equal to ``expected``."""
    expected = tuple(int(v) for v in expected)

    def check(answer: Any) -> str | None:
        if not isinstance(answer, (tuple, list)) or not all(_number(v) is not None for v in answer):
            return f"expected a shape such as (height, width, channels), got {type(answer).__name__}."
        got = tuple(int(v) for v in answer)
        if len(got) != len(expected):
            return f"your shape has {len(got)} numbers; this one needs {len(expected)}."
        if got == expected:
            return None
        wrong = [k for k in range(len(got)) if got[k] != expected[k]]
        return f"{got} is not right: look again at position {wrong[0]}" + (
            f" (and {len(wrong) - 1} more)." if len(wrong) > 1 else ".")

    return check


def compare_arrays(got: Any, expected: np.ndarray, atol: float = 1e-6, what: str = "your array") -> str | None:
    """None if ``got`` matches ``expected``; else which shape or values differ (not the expected values)."""
    try:
        arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"{what} should be an array of numbers, got {type(got).__name__}."
    expected = np.asarray(expected, dtype=float)
    if arr.shape != expected.shape:
        return f"{what} has shape {arr.shape}, but the answer has shape {expected.shape}."
    if np.isnan(arr).any():
        return f"{what} contains NaN values."
    bad = ~np.isclose(arr, expected, atol=atol, rtol=1e-5)
    if not bad.any():
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{int(bad.sum())} of {arr.size} values differ; the first is at index {first}, where you have {arr[first]:g}."


def expect_array(expected: Any, atol: float = 1e-6) -> Checker:
    """An array (or nested list) equal to ``expected`` within ``atol``."""
    expected = np.asarray(expected, dtype=float)
    return lambda answer: compare_arrays(answer, expected, atol)


def expect_function(reference: Callable, cases: Callable[[], list[tuple]], atol: float = 1e-5) -> Checker:
    """A function that agrees with ``reference`` on every argument tuple that ``cases()`` makes."""

    def check(answer: Any) -> str | None:
        if not callable(answer):
            return f"expected a function, got {type(answer).__name__}."
        for k, args in enumerate(cases()):
            try:
                got = answer(*args)
            except Exception as err:
                return f"your function raised {type(err).__name__} on test case {k + 1}: {err}"
            if unattempted(got):  # the notebook's stub still returns ... (or nothing)
                return NOT_ATTEMPTED
            problem = compare_arrays(got, reference(*args), atol, what=f"your result on test case {k + 1}")
            if problem:
                return problem
        return None

    return check


def expect_choice(expected: Any, choices: Sequence[Any]) -> Checker:
    """One of a fixed set of choices (compared as text, so 3 and "3" match)."""
    names = [str(c) for c in choices]

    def check(answer: Any) -> str | None:
        if str(answer) not in names:
            return f"{answer!r} is not one of the choices {names}."
        return None if str(answer) == str(expected) else f"{answer!r} is not the right choice."

    return check
