"""Self-checking exercises: ``q.check(answer)``, ``q.hint()``, ``q.solution()``, offline, no account.

Each notebook has a module here (``nb01``, ``nb02``, ...) holding its exercises as data::

    from utils.exercises import nb01 as ex
    answer = ...            # the learner replaces the ...
    ex.q1.check(answer)

In a notebook (the house style, checked by ``tests/test_exercise_style.py``), exercise N sits under a markdown
heading ``### Exercise N: <short title>``, N counting 1, 2, ... in notebook order, and the code cell right after
it calls ``ex.qN``, printing the question first (``print(ex.qN.question)``): a choice question's options are part
of its text (:func:`choice_question`), so the learner sees every option without opening this package.

- Not attempted (``...`` or ``None``, or a function whose body is still only ``...``): one friendly line,
  no exception, so Run All still works.
- Wrong: what is wrong (type, shape, which value, which test case), never the answer itself.
- Right: a tick.
- ``q.hint()`` shows one hint per call (hint 1, then hint 2, ...) and says how many are left;
  ``q.hint(k)`` shows hints 1 to k.

Messages are plain, deterministic text so that nbval can compare them. Checkers compare values and
shapes (through NumPy), never library object types, so a TensorFlow or Keras update cannot break them.
They accept what real learners type: ``6.0`` for 6, a NumPy array or a ``TensorShape`` for a shape,
``"c"`` or ``" C "`` for the choice ``"C"``, ``9.0`` for the choice 9; and they answer with a clear sentence,
never a traceback, for text, ``True``, NaN, infinity, complex numbers, numbers too large for a float
(``10**400``), ragged lists, a shape with a non-whole entry (6.5) or Keras' batch dimension ``None``.

Function answers are run on copies of each test case's arguments, after the expected results are computed
(so a function that changes its input in place cannot change what it is compared with, and is told that
it changed its input), under a time limit (a function that never returns gets a message, not a hung
notebook), and a function that returns None is asked whether it forgot ``return``.

Locked mode, for graded work: with ``COURSE_SOLUTIONS=0`` in the environment (set before the kernel starts, e.g.
``COURSE_SOLUTIONS=0 make lab``, or in a Colab cell ``%env COURSE_SOLUTIONS=0``) every ``q.solution()`` says that
the instructor has turned solutions off; ``q.check()`` and ``q.hint()`` keep working. It is a courtesy lock, not a
secure one: the solutions are in ``utils/exercises/`` for anyone who looks.

Every module lists its exercises in ``EXERCISES``; each carries its solution value and some wrong
answers, and ``tests/test_exercises.py`` checks every checker with both.
"""

from __future__ import annotations

import copy
import ctypes
import dis
import math
import numbers
import os
import signal
import threading
import time
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


#: The environment variable that turns solutions off (locked mode): "0", "false", "no" or "off".
SOLUTIONS_VARIABLE = "COURSE_SOLUTIONS"
LOCKED_MESSAGE = ("Solutions are turned off for this course: your instructor set COURSE_SOLUTIONS=0 (graded work). "
                  "ex.{name}.check(answer) still checks your answer and ex.{name}.hint() still gives hints.")


def solutions_allowed() -> bool:
    """False in locked mode (``COURSE_SOLUTIONS`` is 0/false/no/off), True otherwise (the default)."""
    return os.environ.get(SOLUTIONS_VARIABLE, "").strip().lower() not in {"0", "false", "no", "off"}


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
    hints_shown: int = field(default=0, init=False, repr=False, compare=False)

    def evaluate(self, answer: Any) -> Verdict:
        """Judge ``answer`` without printing (what the tests call)."""
        if unattempted(answer):
            return Verdict(None, f"{WAITING} {self.name}: not attempted yet. Replace the ... with your answer "
                                 f"and run the cell again (stuck? ex.{self.name}.hint()).")
        try:
            problem = self.checker(answer)
        except Exception as err:  # a checker must never crash a learner's notebook
            problem = f"your answer could not be checked ({type(err).__name__}: {_short(err)})."
        if problem is NOT_ATTEMPTED:
            return self.evaluate(...)
        if problem is None:
            return Verdict(True, f"{RIGHT} {self.name}: correct!")
        return Verdict(False, f"{WRONG} {self.name}: {problem}")

    def check(self, answer: Any) -> None:
        """Print whether ``answer`` is right; never raises."""
        print(self.evaluate(answer).message)

    def hint(self, number: int | None = None) -> None:
        """Print the next hint (one more per call); ``hint(k)`` prints hints 1 to k."""
        total = len(self.hints)
        after = (f"ex.{self.name}.solution() shows a worked solution" if solutions_allowed()
                 else "solutions are turned off for this course")
        if not total:
            print(f"There are no hints for {self.name}; {after}.")
            return
        if number is None:
            last = min(self.hints_shown + 1, total)
            first = last
        else:
            try:
                last = min(max(1, int(number)), total)
            except (TypeError, ValueError):
                last = min(self.hints_shown + 1, total)
            first = 1
        self.hints_shown = max(self.hints_shown, last)
        for k in range(first, last + 1):
            print(f"Hint {k}: {self.hints[k - 1]}")
        left = total - self.hints_shown
        if left:
            print(f"({left} more hint{'s' if left > 1 else ''}: run ex.{self.name}.hint() again.)")
        else:
            print(f"(That was the last hint; {after}.)")

    def solution(self) -> None:
        """Print the worked solution (in locked mode, ``COURSE_SOLUTIONS=0``, say that solutions are off)."""
        if not solutions_allowed():
            print(LOCKED_MESSAGE.format(name=self.name))
            return
        print(f"Solution to {self.name}:\n{self.solution_text}")

    @property
    def choices(self) -> tuple | None:
        """The options of a choice question (from ``expect_choice``), None for other questions."""
        return getattr(self.checker, "choices", None)

    def __repr__(self) -> str:
        return f"{self.name}: {self.question}"


# ----------------------------------------------------------------------------------------------
# Reading answers: one number, a shape, an array. Each returns (value, None) or (None, what is wrong).


def _short(value: Any, limit: int = 40) -> str:
    """``repr`` cut to ``limit`` characters, for messages."""
    try:
        text = repr(value) if not isinstance(value, BaseException) else str(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value: int | float) -> str:
    """A number for a message: 1,234 for ints, a digit count for huge ones, %g for floats."""
    if isinstance(value, int):
        digits = len(str(abs(value)))
        return f"{value:,}" if digits <= 15 else f"a {digits}-digit {'negative ' if value < 0 else ''}number"
    return f"{value:g}"


def _describe(value: Any) -> str:
    """What kind of thing ``value`` is, in a few words (for messages)."""
    if isinstance(value, str):
        return f"the text {_short(value, 30)}"
    if isinstance(value, (bool, np.bool_)):
        return f"{bool(value)} (a yes/no value)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} item{'' if len(value) == 1 else 's'}"
    if callable(value):
        return "a function"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _parse_text_number(text: str) -> float | int | None:
    cleaned = text.strip().replace(",", "").replace("_", "")
    for kind in (int, float):
        try:
            return kind(cleaned)
        except ValueError:
            pass
    return None


def _read_number(answer: Any, what: str = "a number") -> tuple[int | float | None, str | None]:
    """One real number: Python ints stay exact (10**400 works); NumPy scalars, 0-d arrays and tensors accepted."""
    if isinstance(answer, (bool, np.bool_)):
        return None, f"expected {what}, got {bool(answer)} (a yes/no value)."
    if isinstance(answer, (str, bytes)):
        text = answer.decode(errors="replace") if isinstance(answer, bytes) else answer
        if _parse_text_number(text) is not None:
            return None, f"you wrote the number as text ({_short(answer, 30)}); write it without quotes."
        return None, f"expected {what}, got {_describe(text)}."
    if isinstance(answer, numbers.Integral):
        return int(answer), None
    if isinstance(answer, numbers.Real):
        value = float(answer)
    elif isinstance(answer, numbers.Complex):
        value = complex(answer)
        if value.imag != 0:
            return None, f"expected a real number, got the complex number {_short(answer)}."
        value = value.real
    elif hasattr(answer, "__array__") or isinstance(answer, (list, tuple)):
        try:
            arr = np.asarray(answer)
        except Exception:  # a ragged list, say
            return None, f"expected a single number, got {_describe(answer)}."
        if arr.shape != ():
            one = " with one number in it; take the number out (x[0] or x.item())" if arr.size == 1 else ""
            return None, f"expected a single number, got {_describe(answer)}{one}."
        item = arr.item()
        if item is answer or isinstance(item, (list, tuple, np.ndarray)):
            return None, f"expected {what}, got {_describe(answer)}."
        return _read_number(item, what)
    elif hasattr(answer, "__float__"):  # Decimal and other number types
        try:
            value = float(answer)
        except (TypeError, ValueError, OverflowError):
            return None, f"expected {what}, got {_describe(answer)}."
    else:
        return None, f"expected {what}, got {_describe(answer)}."
    if math.isnan(value):
        return None, "your answer is NaN (not a number): somewhere a calculation went wrong, e.g. 0/0."
    if math.isinf(value):
        return None, "your answer is infinite: somewhere a calculation overflowed or divided by 0."
    return value, None


def _as_float(value: int | float) -> float:
    """A float, with ints too large for one (10**400) turned into +-infinity instead of an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


# ----------------------------------------------------------------------------------------------
# Checker builders. Each returns a Checker; messages say what is wrong, never the expected value.


def expect_integer(expected: int, say_direction: bool = True) -> Checker:
    """A whole number equal to ``expected`` (NumPy integers and whole floats such as 6.0 accepted)."""
    expected = int(expected)

    def check(answer: Any) -> str | None:
        value, problem = _read_number(answer, "a whole number")
        if problem:
            return problem
        if isinstance(value, float):
            if not value.is_integer():
                return f"expected a whole number, got {value:g}."
            value = int(value)
        if value == expected:
            return None
        direction = (" (too high)" if value > expected else " (too low)") if say_direction else ""
        return f"{_show(value)} is not right{direction}."

    return check


def expect_number(expected: float, rel_tol: float = 1e-3, abs_tol: float = 1e-9) -> Checker:
    """A number within a relative tolerance of ``expected``."""

    def check(answer: Any) -> str | None:
        value, problem = _read_number(answer)
        if problem:
            return problem
        close = _as_float(value)
        if math.isclose(close, expected, rel_tol=rel_tol, abs_tol=abs_tol):
            return None
        return f"{_show(value)} is not right ({'too high' if close > expected else 'too low'})."

    return check


_BATCH_NONE = ("leave out the batch dimension None: Keras writes shapes as (None, ...), where None stands "
               "for the number of examples in a batch; this question asks for the shape of one example.")


def _read_shape(answer: Any) -> tuple[tuple | None, str | None]:
    """The entries of a shape answer: ints, or None where Keras writes the batch dimension."""
    generic = "expected a shape: a tuple of whole numbers such as (height, width, channels)"
    if isinstance(answer, (str, bytes)):
        return None, (f"you wrote the shape as text ({_short(answer, 30)}); write it as a tuple of whole "
                      f"numbers such as (height, width, channels).")
    if isinstance(answer, (numbers.Number, np.bool_)):
        return None, f"{generic}, got one number."
    if isinstance(answer, (dict, set, frozenset)):
        return None, f"{generic}, got {_describe(answer)}."
    shape = getattr(answer, "shape", None)
    if shape is not None and not isinstance(answer, (tuple, list)) and len(tuple(shape)) >= 2:
        entries = list(tuple(shape))  # an array or tensor of the asked-for shape: its shape is the answer
    else:
        if shape is not None and len(tuple(shape)) == 0:
            return None, f"{generic}, got one number."
        try:
            entries = list(answer)  # tuple, list, 1-D array, tf.TensorShape, torch.Size, ...
        except TypeError:
            return None, f"{generic}, got {_describe(answer)}."
    got = []
    for k, entry in enumerate(entries):
        if entry is not None and not isinstance(entry, numbers.Number) and hasattr(entry, "value"):
            entry = entry.value  # TF1's Dimension
        if entry is None:
            got.append(None)
            continue
        if isinstance(entry, (bool, np.bool_)):
            return None, f"position {k} of your shape is {entry}, not a number."
        if isinstance(entry, (str, bytes, list, tuple, dict)) or (hasattr(entry, "__len__") and
                                                                  not hasattr(entry, "__array__")):
            return None, f"position {k} of your shape is {_short(entry, 30)}, not a number."
        value, problem = _read_number(entry)
        if problem:
            return None, f"position {k} of your shape: {problem}"
        if isinstance(value, float):
            if not value.is_integer():
                return None, (f"position {k} of your shape is {value:g}, but a size must be a whole number "
                              f"(a count of rows, columns or channels).")
            value = int(value)
        if value < 0:
            return None, f"position {k} of your shape is {value}: a size cannot be negative."
        got.append(value)
    return tuple(got), None


def expect_shape(expected: Sequence[int | None], allow_batch: bool = False) -> Checker:
    """A shape equal to ``expected``: a tuple or list of whole numbers, a 1-D array, a ``TensorShape``,
    or an array or tensor that has that shape.

    Non-whole entries (6.5) are wrong, whole floats (6.0) count as whole numbers. A shape written as Keras
    prints it, with a leading ``None`` for the batch, gets an explanation (``allow_batch=False``, the default)
    or is accepted without its ``None`` (``allow_batch=True``). ``expected`` may itself start with None when
    the question asks for the shape as Keras prints it.
    """
    expected = tuple(None if v is None else int(v) for v in expected)

    def check(answer: Any) -> str | None:
        got, problem = _read_shape(answer)
        if problem:
            return problem
        if len(got) == len(expected) + 1 and got[0] is None and expected[:1] != (None,):
            if not allow_batch:
                return _BATCH_NONE
            got = got[1:]
        if len(got) == len(expected) - 1 and expected[0] is None and None not in got:
            return "this question asks for the shape as Keras prints it: None (the batch size) first."
        nones = [k for k, v in enumerate(got) if v is None and (k >= len(expected) or expected[k] is not None)]
        if nones:
            return f"position {nones[0]} of your shape is None; give a number there."
        if len(got) != len(expected):
            extra = " (if the first is the batch size, leave it out)" if len(got) == len(expected) + 1 else ""
            return f"your shape has {len(got)} numbers; this one needs {len(expected)}{extra}."
        if got == expected:
            return None
        wrong = [k for k in range(len(got)) if got[k] != expected[k]]
        return f"{got} is not right: look again at position {wrong[0]}" + (
            f" (and {len(wrong) - 1} more)." if len(wrong) > 1 else ".")

    return check


def _read_array(got: Any, what: str) -> tuple[np.ndarray | None, str | None]:
    """A float array from an answer, or a sentence saying why it is not one."""
    if isinstance(got, (str, bytes)):
        return None, f"{what} should be an array of numbers, got {_describe(got)}."
    if callable(got) and not hasattr(got, "__array__"):
        return None, f"{what} should be an array of numbers, got a function (did you mean to call it?)."
    try:
        raw = np.asarray(got)
    except ValueError:  # NumPy 2 refuses ragged lists
        return None, f"{what} is a ragged list: its rows have different lengths, so it is not an array."
    except Exception:
        return None, f"{what} should be an array of numbers, got {_describe(got)}."
    if raw.dtype == object and raw.ndim == 0:
        return None, f"{what} should be an array of numbers, got {_describe(got)}."
    if raw.dtype == object:
        flat = list(raw.ravel())
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in flat):
            return None, f"{what} is a ragged list: its rows have different lengths, so it is not an array."
        if any(v is None for v in flat):
            return None, f"{what} contains None where numbers should be."
        try:
            raw = raw.astype(complex if any(isinstance(v, complex) for v in flat) else float)
        except OverflowError:
            return None, f"{what} contains a number too large for a float (such as 10**400)."
        except (TypeError, ValueError):
            return None, f"{what} should contain only numbers, got {_short(flat[0], 30)} and the like."
    if raw.dtype.kind in "USV":
        return None, f"{what} should be an array of numbers, got an array of text."
    if raw.dtype.kind == "c":
        if np.any(raw.imag != 0):
            return None, f"{what} contains complex numbers (with an imaginary part); expected real numbers."
        raw = raw.real
    if raw.dtype.kind not in "biuf":
        return None, f"{what} should be an array of numbers, got an array of {raw.dtype}."
    return raw.astype(float), None


def compare_arrays(got: Any, expected: np.ndarray, atol: float = 1e-6, what: str = "your array") -> str | None:
    """None if ``got`` matches ``expected``; else which shape or values differ (not the expected values).

    Never raises: text, ragged lists, None entries, huge integers, complex numbers, NaN and infinity each get a
    sentence saying what is wrong.
    """
    arr, problem = _read_array(got, what)
    if problem:
        return problem
    expected = np.asarray(expected, dtype=float)
    if arr.shape != expected.shape:
        return f"{what} has shape {arr.shape}, but the answer has shape {expected.shape}."
    if np.isnan(arr).any() and not np.isnan(expected).any():
        return f"{what} contains NaN (not a number) values: somewhere a calculation went wrong, e.g. 0/0."
    if np.isinf(arr).any() and not np.isinf(expected).any():
        return f"{what} contains infinite values: somewhere a calculation overflowed or divided by 0."
    bad = ~np.isclose(arr, expected, atol=atol, rtol=1e-5, equal_nan=True)
    if not bad.any():
        return None
    where = "" if what == "your array" else f"{what}: "
    if arr.ndim == 0:
        return f"{where}you have {float(arr):g}, which is not right."
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return (f"{where}{int(bad.sum())} of {arr.size} values differ; the first is at index {first}, "
            f"where you have {arr[first]:g}.")


def expect_array(expected: Any, atol: float = 1e-6) -> Checker:
    """An array (or nested list) equal to ``expected`` within ``atol``."""
    expected = np.asarray(expected, dtype=float)
    return lambda answer: compare_arrays(answer, expected, atol)


# ----------------------------------------------------------------------------------------------
# Function answers: a time limit, copies of the arguments, and what a stub looks like.


class TimeLimitExceeded(Exception):
    """A learner's function ran past its time limit (and was stopped)."""

    def __init__(self, seconds: float):
        super().__init__(f"did not finish within {seconds:g} s")
        self.seconds = seconds


class _OutOfTime(BaseException):
    """Raised inside the learner's function when time is up (a BaseException, so ``except Exception``
    in the learner's code cannot swallow it)."""


def call_with_time_limit(function: Callable, args: Sequence = (), seconds: float = 10.0) -> Any:
    """``function(*args)``, stopped with ``TimeLimitExceeded`` if it runs longer than ``seconds``.

    In the main thread on Linux and macOS (a Jupyter kernel, Colab) a SIGALRM timer interrupts the function,
    even inside ``time.sleep``; the previous SIGALRM handler is restored afterwards. Elsewhere (Windows,
    another thread) the function runs in a helper thread that is sent an exception when time is up: that stops
    any Python loop, though not a single C call that never returns (the helper thread is then left behind as a
    daemon; the notebook goes on).
    """
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        try:
            return _call_with_alarm(function, args, seconds)
        except _SignalUnavailable:
            pass
    return _call_in_thread(function, args, seconds)


class _SignalUnavailable(Exception):
    pass


def _call_with_alarm(function: Callable, args: Sequence, seconds: float) -> Any:
    running = [True]

    def on_alarm(signum, frame):
        if running[0]:
            raise _OutOfTime()

    try:
        previous = signal.signal(signal.SIGALRM, on_alarm)
    except (ValueError, OSError) as err:  # not the main interpreter thread after all
        raise _SignalUnavailable() from err
    started = time.monotonic()
    outer_timer = (0.0, 0.0)
    try:
        outer_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return function(*args)
        finally:
            running[0] = False
    except _OutOfTime:
        raise TimeLimitExceeded(seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if outer_timer[0] > 0:  # someone else's alarm (say pytest-timeout) was running: re-arm what is left of it
            left = max(outer_timer[0] - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, outer_timer[1])


def _call_in_thread(function: Callable, args: Sequence, seconds: float) -> Any:
    outcome: dict[str, Any] = {}

    def run():
        try:
            outcome["value"] = function(*args)
        except _OutOfTime:
            outcome["stopped"] = True
        except BaseException as err:  # handed back to the caller's thread
            outcome["error"] = err

    worker = threading.Thread(target=run, name="course-exercise-check", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident), ctypes.py_object(_OutOfTime))
        worker.join(1.0)
        raise TimeLimitExceeded(seconds)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _does_nothing(function: Callable) -> bool:
    """True for a function whose body is only ``...``, ``pass`` or a docstring (a notebook's stub)."""
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    try:
        ops = [(i.opname, i.argval) for i in dis.get_instructions(code)
               if i.opname not in ("RESUME", "NOP", "CACHE", "COPY_FREE_VARS", "MAKE_CELL")]
    except Exception:
        return False
    return ops in ([("LOAD_CONST", None), ("RETURN_VALUE", None)], [("RETURN_CONST", None)])


def _copy(value: Any) -> Any:
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _same(a: Any, b: Any) -> bool:
    """Deep equality for arguments (arrays, lists, tuples, dicts, scalars); True when it cannot tell."""
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
                return False
            return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        if isinstance(a, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return bool(a == b)
    except Exception:
        return True


def describe_arguments(args: Sequence) -> str:
    """A short description of a test case's arguments: arrays by their shape, small values as written."""
    parts = []
    for value in args:
        if isinstance(value, np.ndarray) and value.ndim == 1:
            parts.append(f"an array of {value.shape[0]} number{'' if value.shape[0] == 1 else 's'}")
        elif isinstance(value, np.ndarray):
            parts.append(f"a {'x'.join(str(n) for n in value.shape)} array" if value.ndim else _short(value.item()))
        else:
            text = _short(value, 50)
            parts.append(text if len(text) < 50 else _describe(value))
    return ", ".join(parts)


_ORDINALS = ["first", "second", "third", "fourth", "fifth"]


def expect_function(reference: Callable, cases: Callable[[], list[tuple]], atol: float = 1e-5,
                    time_limit: float = 10.0, describe: Callable[[tuple], str] | None = None) -> Checker:
    """A function that agrees with ``reference`` on every argument tuple that ``cases()`` makes.

    The expected results are computed first, each on its own copy of the arguments; the learner's function
    then gets fresh copies, one call at a time, each stopped after ``time_limit`` seconds. A wrong answer is
    told which test case failed (``describe(args)``, by default the arguments' shapes and values), and whether
    the function changed its input in place or returned None. A function whose body is still only ``...``
    (the notebook's stub), or that returns ``...``, is "not attempted".
    """
    describe = describe or describe_arguments

    def check(answer: Any) -> str | None:
        if not callable(answer):
            return f"expected a function, got {_describe(answer)}."
        all_cases = [tuple(args) for args in cases()]
        expected = [reference(*_copy(args)) for args in all_cases]
        for k, (args, want) in enumerate(zip(all_cases, expected)):
            case = f"test case {k + 1} ({describe(args)})"
            given, pristine = _copy(args), _copy(args)
            try:
                got = call_with_time_limit(answer, given, time_limit)
            except TimeLimitExceeded:
                return (f"your function did not finish within {time_limit:g} s on {case} \u2014 look for an "
                        f"endless loop (a while loop whose condition never becomes False).")
            except Exception as err:
                return f"your function raised {type(err).__name__} on {case}: {_short(err, 120)}"
            if got is ...:
                return NOT_ATTEMPTED
            changed = [i for i, (a, b) in enumerate(zip(given, pristine)) if not _same(a, b)]
            note = ""
            if changed:
                which = _ORDINALS[changed[0]] if changed[0] < len(_ORDINALS) else f"number {changed[0] + 1}"
                note = (f"your function changed its {which} argument in place on {case}; work on a copy "
                        f"(x = x.copy()) or build a new array instead.")
            if got is None:
                if not changed and _does_nothing(answer):
                    return NOT_ATTEMPTED
                forgot = f"your function returned None on {case}: did you forget `return`?"
                return forgot + (f" Also, {note}" if note else "")
            problem = compare_arrays(got, want, atol, what=f"your result on {case}")
            if note:
                return note + (f" Also, {problem}" if problem else "")
            if problem:
                return problem
        return None

    return check


# ----------------------------------------------------------------------------------------------
# Choices.


def _choice_key(value: Any) -> tuple:
    """What two choices must share to be the same: a number's value, a text's letters (any case, any spaces)."""
    if isinstance(value, (bool, np.bool_)):
        return ("yes/no", bool(value))
    if isinstance(value, (str, bytes)):
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        text = " ".join(text.split()).casefold()
        number = _parse_text_number(text)
        return ("number", number) if number is not None and not (isinstance(number, float) and math.isnan(number)) \
            else ("text", text)
    number, problem = _read_number(value)
    if problem is None:
        return ("number", number)
    try:
        hash(value)
        return ("other", value)
    except TypeError:
        return ("other", repr(value))


def expect_choice(expected: Any, choices: Sequence[Any]) -> Checker:
    """One of a fixed set of choices: texts match whatever their case and spacing ("c" for "C"), numbers by value
    (9.0 or "9" for 9)."""
    names = [str(c) for c in choices]
    keys = [_choice_key(c) for c in choices]
    right = _choice_key(expected)

    def check(answer: Any) -> str | None:
        key = _choice_key(answer)
        if key not in keys:
            return f"{_short(answer)} is not one of the choices {names}."
        return None if key == right else f"{_short(answer)} is not the right choice."

    check.choices = tuple(choices)  # what the notebook's cell must show (tests/test_exercise_style.py checks)
    return check


def choice_question(text: str, options: dict[str, str], answer: str = "Answer with a letter.") -> str:
    """A choice question the way an exercise cell prints it (``print(ex.qN.question)``): the question, then one
    option a line (``  A: ...``), then how to answer. The options live here, next to the checker, so the cell
    shows exactly the choices the checker accepts."""
    return "\n".join([text] + [f"  {key}: {option}" for key, option in options.items()] + [answer])
