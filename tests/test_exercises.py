"""Every exercise of every notebook: its solution passes, each wrong example fails, ``...`` is 'not attempted'.

Also the framework itself: messages, hints, solutions, and checkers that never raise, each class of defect
that real answers found tested with a right answer and plausible wrong ones: rounded shapes, arrays and
TensorShapes as shapes, Keras' batch None, in-place changes, a missing return, endless loops, huge and
complex numbers, NaN, ragged lists, choices written 9.0 or "c", hints one at a time.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import signal
import threading
import time

import numpy as np
import pytest

import utils.exercises as framework
from utils.exercises import (Exercise, call_with_time_limit, compare_arrays, expect_array, expect_choice,
                             expect_function, expect_integer, expect_number, expect_shape)


def all_exercises():
    found = []
    for info in pkgutil.iter_modules(framework.__path__):
        module = importlib.import_module(f"utils.exercises.{info.name}")
        for q in getattr(module, "EXERCISES", []):
            found.append(pytest.param(q, id=f"{info.name}.{q.name}"))
    return found


EXERCISES = all_exercises()


def test_every_notebook_module_lists_exercises():
    assert EXERCISES, "no exercise modules found"


@pytest.mark.parametrize("q", EXERCISES)
def test_solution_passes(q: Exercise):
    verdict = q.evaluate(q.solution_value)
    assert verdict.ok is True, verdict.message


@pytest.mark.parametrize("q", EXERCISES)
def test_wrong_answers_fail_without_giving_the_answer(q: Exercise):
    assert q.wrong_examples, f"{q.name} has no wrong example to test its checker with"
    for wrong in q.wrong_examples:
        verdict = q.evaluate(wrong)
        assert verdict.ok is False, f"{q.name} accepted the wrong answer {wrong!r}"
        assert verdict.message.startswith(framework.WRONG)
        answer_is_int = isinstance(q.solution_value, (int, np.integer)) and not isinstance(q.solution_value, bool)
        if answer_is_int and str(q.solution_value) not in repr(wrong):
            assert f"{q.solution_value:,}" not in verdict.message and str(q.solution_value) not in verdict.message


@pytest.mark.parametrize("q", EXERCISES)
def test_unattempted_is_friendly(q: Exercise, capsys):
    assert q.evaluate(...).ok is None
    assert q.evaluate(None).ok is None
    q.check(...)
    assert "not attempted" in capsys.readouterr().out


@pytest.mark.parametrize("q", EXERCISES)
def test_hint_and_solution_print(q: Exercise, capsys):
    q = dataclasses.replace(q)  # a fresh copy: no hints shown yet
    q.hint()
    q.solution()
    out = capsys.readouterr().out
    assert "Hint 1:" in out and f"Solution to {q.name}" in out


def test_messages_are_deterministic():
    q = Exercise("qx", "?", expect_integer(7), ["h"], "s", 7, (8,))
    assert q.evaluate(8).message == q.evaluate(8).message == "\u274c qx: 8 is not right (too high)."
    assert q.evaluate(7).message == "\u2705 qx: correct!"


def test_hint_number_limits_hints(capsys):
    q = Exercise("qx", "?", expect_integer(7), ["one", "two"], "s", 7, (8,))
    q.hint(1)
    assert capsys.readouterr().out == "Hint 1: one\n(1 more hint: run ex.qx.hint() again.)\n"


def test_hints_come_one_at_a_time(capsys):
    q = Exercise("qx", "?", expect_integer(7), ["one", "two", "three"], "s", 7, (8,))
    q.hint()
    first = capsys.readouterr().out
    assert "Hint 1: one" in first and "two" not in first and "2 more hints" in first
    q.hint()
    second = capsys.readouterr().out
    assert "Hint 2: two" in second and "one" not in second and "1 more hint:" in second
    q.hint()
    third = capsys.readouterr().out
    assert "Hint 3: three" in third and "last hint" in third and "solution()" in third
    q.hint()  # past the end: the last hint again, never an error
    assert "Hint 3: three" in capsys.readouterr().out


def test_hint_k_shows_up_to_k_and_the_next_call_goes_on(capsys):
    q = Exercise("qx", "?", expect_integer(7), ["one", "two", "three"], "s", 7, (8,))
    q.hint(2)
    out = capsys.readouterr().out
    assert "Hint 1: one" in out and "Hint 2: two" in out and "three" not in out
    q.hint()
    assert capsys.readouterr().out.startswith("Hint 3: three")
    q.hint(1)  # asking again for the first one shows it, and does not rewind
    assert capsys.readouterr().out.startswith("Hint 1: one") and q.hints_shown == 3


def test_a_crashing_checker_becomes_a_message():
    def broken(answer):
        raise KeyError("boom")

    verdict = Exercise("qx", "?", broken, ["h"], "s", 1, (2,)).evaluate(1)
    assert verdict.ok is False and "could not be checked" in verdict.message


@pytest.mark.parametrize("checker, right, wrongs", [
    (expect_integer(25), np.int64(25), [24, 25.5, "25", True, [25]]),
    (expect_number(0.5), 0.5004, [0.6, "0.5", None.__class__]),
    (expect_shape((26, 26, 32)), [26, 26, 32], [(26, 26), (32, 26, 26), "26x26x32", (26, 26, "a")]),
    (expect_array([[7, 6], [9, 3]]), np.array([[7, 6], [9, 3]], dtype=np.uint8), [[[7, 6], [9, 4]], [7, 6, 9, 3], "x"]),
    (expect_choice(3, [1, 2, 3]), "3", [2, 4]),
])
def test_checker_builders(checker, right, wrongs):
    assert checker(right) is None
    for wrong in wrongs:
        assert isinstance(checker(wrong), str)


def test_compare_arrays_reports_position_not_answer():
    msg = compare_arrays([[1, 2], [3, 5]], np.array([[1, 2], [3, 4]]))
    assert "(1, 1)" in msg and "you have 5" in msg and "4" not in msg.replace("of 4", "")


def test_compare_arrays_rejects_nan_and_text():
    assert "NaN" in compare_arrays([np.nan], np.array([1.0]))
    assert "array of numbers" in compare_arrays(["a"], np.array([1.0]))


def test_expect_function_reports_crashes_and_non_functions():
    check = expect_function(lambda x: x * 2, lambda: [(np.ones(3),)])
    assert check(lambda x: x * 2) is None
    assert "raised ZeroDivisionError" in check(lambda x: 1 / 0)
    assert "expected a function" in check(3)
    assert "differ" in check(lambda x: x * 3)


def test_a_function_stub_is_not_attempted():
    q = Exercise("qf", "?", expect_function(lambda x: x, lambda: [(np.ones(2),)]), ["h"], "s", lambda x: x, (None,))

    def stub_with_ellipsis_body(x):
        ...  # your code

    def stub_with_docstring(x):
        """Return x."""

    assert q.evaluate(lambda x: ...).ok is None
    assert q.evaluate(stub_with_ellipsis_body).ok is None
    assert q.evaluate(stub_with_docstring).ok is None


# ----------------------------------------------------------------------------------------------
# Shapes: no rounding, arrays and TensorShapes accepted, Keras' batch None explained.

class FakeTensorShape:
    """What tf.TensorShape is to a checker: iterable, ints or None, no len-1 tuple type."""

    def __init__(self, dims):
        self.dims = list(dims)

    def __iter__(self):
        return iter(self.dims)


@pytest.mark.parametrize("right", [
    (26, 26, 32), [26, 26, 32], np.array([26, 26, 32]), (np.int64(26), np.int32(26), 32), (26.0, 26, 32.0),
    np.zeros((26, 26, 32)).shape, np.zeros((26, 26, 32)), FakeTensorShape([26, 26, 32]),
])
def test_shape_right_answers_in_every_form(right):
    assert expect_shape((26, 26, 32))(right) is None


@pytest.mark.parametrize("wrong, says", [
    ((26.5, 26, 32), "whole number"),          # 53/2 not rounded to 26
    ((6.5, 6.5, 128), "6.5"),
    ((26, 26.2, 32), "position 1"),
    ("26x26x32", "as text"),
    (26, "one number"),
    ((26, 26), "needs 3"),
    ((26, 26, -32), "negative"),
    ((26, 26, True), "not a number"),
    ((26, (26, 32)), "not a number"),
    ((26, 26, "32"), "position 2"),
    ((26, None, 32), "None"),
    ((26, 26, float("nan")), "NaN"),
    ((26, 26, 10 ** 400), "not right"),
    ((26, 26, 2 + 3j), "complex"),
    ((1, 26, 26, 32), "batch size"),
    (np.zeros((25, 26, 32)), "position 0"),
    (FakeTensorShape([26, 26, 31]), "position 2"),
    ({26: 26}, "expected a shape"),
    (object(), "expected a shape"),
])
def test_shape_wrong_answers_get_a_clear_message(wrong, says):
    message = expect_shape((26, 26, 32))(wrong)
    assert isinstance(message, str) and says in message, message


def test_a_non_whole_entry_is_never_rounded():
    """The bug: int(6.5) == 6 made (6.5, 6.5, 128) pass for (6, 6, 128)."""
    q = Exercise("qs", "?", expect_shape((6, 6, 128)), ["h"], "s", (6, 6, 128), ((6.5, 6.5, 128),))
    assert q.evaluate((6.5, 6.5, 128)).ok is False
    assert q.evaluate((6.0, 6.0, 128.0)).ok is True


def test_keras_batch_none_is_explained_or_allowed():
    keras_way = (None, 26, 26, 32)
    message = expect_shape((26, 26, 32))(keras_way)
    assert "leave out the batch dimension None" in message
    assert expect_shape((26, 26, 32))(FakeTensorShape(keras_way)) == message
    assert expect_shape((26, 26, 32), allow_batch=True)(keras_way) is None
    assert expect_shape((26, 26, 32), allow_batch=True)((26, 26, 32)) is None
    assert "position 0" in expect_shape((26, 26, 32), allow_batch=True)((None, 25, 26, 32))
    # a question that asks for the Keras form
    assert expect_shape((None, 26, 26, 32))(keras_way) is None
    assert "None (the batch size) first" in expect_shape((None, 26, 26, 32))((26, 26, 32))


def test_a_real_tensor_shape_is_accepted():
    tf = pytest.importorskip("tensorflow")
    check = expect_shape((26, 26, 32))
    assert check(tf.TensorShape([26, 26, 32])) is None
    assert check(tf.zeros((26, 26, 32))) is None
    assert check(tf.shape(tf.zeros((26, 26, 32)))) is None
    assert "batch dimension" in check(tf.TensorShape([None, 26, 26, 32]))


# ----------------------------------------------------------------------------------------------
# Numbers: no crash, a clear sentence.

@pytest.mark.parametrize("wrong, says", [
    (10 ** 400, "401-digit number is not right (too high)"),
    (-10 ** 400, "too low"),
    (float("nan"), "NaN"),
    (float("inf"), "infinite"),
    (np.float32("-inf"), "infinite"),
    (25 + 1j, "complex"),
    ("25", "without quotes"),
    ("twenty-five", "the text"),
    (True, "yes/no"),
    ([25], "take the number out"),
    (np.array([25, 26]), "single number"),
    ([[25, 1], [2]], "single number"),
    (25.5, "whole number"),
    (lambda: 25, "function"),
])
def test_integer_checker_never_crashes(wrong, says):
    message = expect_integer(25)(wrong)
    assert isinstance(message, str) and says in message, message
    assert "25 is" not in message


@pytest.mark.parametrize("right", [25, 25.0, np.int64(25), np.float32(25), np.array(25), 25 + 0j])
def test_integer_checker_accepts_every_form_of_25(right):
    assert expect_integer(25)(right) is None


@pytest.mark.parametrize("wrong, says", [
    (10 ** 400, "too high"), (float("nan"), "NaN"), (float("-inf"), "infinite"), (0.5 + 2j, "complex"),
    ("0.5", "without quotes"), (None.__class__, "expected a number"),
])
def test_number_checker_never_crashes(wrong, says):
    message = expect_number(0.5)(wrong)
    assert isinstance(message, str) and says in message, message


def test_number_checker_accepts_close_values_in_any_form():
    check = expect_number(0.5)
    assert check(0.5004) is None and check(np.float16(0.5)) is None and check(np.array(0.5)) is None
    assert "too high" in check(0.6)


# ----------------------------------------------------------------------------------------------
# Arrays: ragged, huge, complex, NaN/inf, text.

@pytest.mark.parametrize("wrong, says", [
    ([[1, 2], [3]], "ragged"),
    ([[1, 2], [3, 10 ** 400]], "too large"),
    ([[1, 2], [3, 4 + 1j]], "complex"),
    (np.array([[1, 2], [3, 4 + 1j]]), "complex"),
    ([[1, 2], [3, None]], "None"),
    ([[1, 2], [3, "4"]], "text"),
    ("[[1, 2], [3, 4]]", "the text"),
    ([[1, 2], [3, np.nan]], "NaN"),
    ([[1, 2], [3, np.inf]], "infinite"),
    ([1, 2, 3, 4], "shape (4,)"),
    (np.array, "function"),
    ({"a": 1}, "array of numbers"),
])
def test_compare_arrays_never_crashes(wrong, says):
    message = compare_arrays(wrong, np.array([[1, 2], [3, 4]]))
    assert isinstance(message, str) and says in message, message


def test_compare_arrays_accepts_right_answers_in_every_form():
    expected = np.array([[1, 2], [3, 4]])
    for right in ([[1, 2], [3, 4]], ((1.0, 2.0), (3.0, 4.0)), np.array([[1, 2], [3, 4]], np.uint8),
                  np.array([[1, 2], [3, 4]], complex)):
        assert compare_arrays(right, expected) is None


# ----------------------------------------------------------------------------------------------
# Functions: copies, expected first, in-place changes, missing return, which case failed, time limit.

def _flip(image):
    return image[:, ::-1] * 2


def _flip_cases():
    return [(np.arange(6.0).reshape(2, 3),), (np.arange(12.0).reshape(3, 4),)]


def test_an_in_place_function_is_told_and_cannot_fool_the_checker():
    check = expect_function(_flip, _flip_cases)

    def right_but_in_place(image):
        image *= 2  # changes the caller's array ...
        return image[:, ::-1]  # ... but returns the right values

    def wrong_and_in_place(image):
        image *= 2
        return image  # forgot the flip

    def right_via_copy(image):
        image = image.copy()
        image *= 2
        return image[:, ::-1]

    message = check(right_but_in_place)
    assert "changed its first argument in place on test case 1" in message and "copy" in message
    assert "values differ" not in message  # the expected result was not spoiled by the learner's change
    message = check(wrong_and_in_place)
    assert "in place" in message and "values differ" in message
    assert check(right_via_copy) is None


def test_a_right_function_is_not_blamed_for_a_mutating_reference():
    """The expected result is computed first, on its own copy: even a reference that changes its input
    cannot spoil the learner's arguments."""
    def mutating_reference(x):
        x += 1
        return x

    check = expect_function(mutating_reference, lambda: [(np.zeros(3),)])
    assert check(lambda x: x + 1) is None


def test_a_function_without_return_is_asked_about_return():
    check = expect_function(_flip, _flip_cases)

    def forgot_return(image):
        result = image[:, ::-1] * 2  # noqa: F841

    q = Exercise("qf", "?", check, ["h"], "s", _flip, ())
    verdict = q.evaluate(forgot_return)
    assert verdict.ok is False and "did you forget `return`?" in verdict.message
    assert "not attempted" not in verdict.message


def test_a_failing_case_is_named_by_its_arguments():
    check = expect_function(lambda x, k: x * k, lambda: [(np.ones((2, 2)), 3), (np.ones((7, 11)), 2)])
    message = check(lambda x, k: x * 3)
    assert "test case 2 (a 7x11 array, 2)" in message and "values differ" in message
    assert "test case 1 (a 2x2 array, 3)" in check(lambda x, k: 1 / 0)
    assert "test case 1 (an array of 3 numbers)" in expect_function(lambda x: x, lambda: [(np.ones(3),)])(np.sum)
    custom = expect_function(lambda x: x, lambda: [(np.ones(2),)], describe=lambda args: "a flat image")
    assert "test case 1 (a flat image)" in custom(lambda x: x + 1)


def test_a_function_that_never_returns_is_stopped_with_a_clear_message():
    def endless(image):
        while True:
            pass

    check = expect_function(_flip, _flip_cases, time_limit=0.3)
    started = time.monotonic()
    message = check(endless)
    assert time.monotonic() - started < 3
    assert "did not finish within 0.3 s" in message and "endless loop" in message


def test_the_time_limit_survives_a_learner_catching_exceptions_and_sleeping():
    def stubborn(x):
        while True:
            try:
                time.sleep(0.05)
            except Exception:
                pass

    message = expect_function(lambda x: x, lambda: [(1,)], time_limit=0.3)(stubborn)
    assert "did not finish within 0.3 s" in message


def test_the_time_limit_restores_the_alarm_it_borrowed():
    def mine(signum, frame):
        raise AssertionError("the outer alarm")

    previous = signal.signal(signal.SIGALRM, mine)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        assert call_with_time_limit(lambda: 7, (), 1.0) == 7
        assert signal.getsignal(signal.SIGALRM) is mine
        assert 25 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30  # the outer timer is armed again
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_time_limit_works_outside_the_main_thread():
    """Windows and helper threads have no SIGALRM: a helper thread is stopped instead."""
    results = {}

    def endless(x):
        while True:
            x = x + 1

    def in_a_thread():
        results["message"] = expect_function(lambda x: x, lambda: [(1,)], time_limit=0.3)(endless)
        results["right"] = expect_function(lambda x: x, lambda: [(1,)], time_limit=5)(lambda x: x)

    runner = threading.Thread(target=in_a_thread)
    runner.start()
    runner.join(10)
    assert "did not finish within 0.3 s" in results["message"] and results["right"] is None
    time.sleep(0.2)
    assert not [t for t in threading.enumerate() if t.name == "course-exercise-check"], "the loop still runs"


def test_call_with_time_limit_passes_results_and_errors_through():
    assert call_with_time_limit(lambda a, b: a + b, (2, 3), 1.0) == 5
    with pytest.raises(ZeroDivisionError):
        call_with_time_limit(lambda: 1 / 0, (), 1.0)
    with pytest.raises(framework.TimeLimitExceeded):
        call_with_time_limit(time.sleep, (5,), 0.2)


# ----------------------------------------------------------------------------------------------
# Choices: 9.0 is 9, "c" is "C".

def test_choices_match_numbers_by_value_and_text_by_letters():
    digits = expect_choice(9, list(range(10)))
    for right in (9, 9.0, np.int64(9), np.float32(9), "9", " 9 "):
        assert digits(right) is None, right
    for wrong, says in ((4, "not the right choice"), (4.0, "not the right choice"), (9.5, "not one of"),
                        (10, "not one of"), ("nine", "not one of"), (True, "not one of"), ([9], "not one of"),
                        (10 ** 400, "not one of"), (float("nan"), "not one of")):
        message = digits(wrong)
        assert isinstance(message, str) and says in message, (wrong, message)
    letters = expect_choice("C", ["A", "B", "C", "D"])
    for right in ("C", "c", " c ", "C\n"):
        assert letters(right) is None, right
    assert "not the right choice" in letters("a") and "not one of" in letters("E") and "not one of" in letters(3)


def test_a_scalar_result_is_named_not_indexed():
    message = expect_function(lambda n: n + 1, lambda: [(1,), (8,)])(lambda n: 2)
    assert message == "your result on test case 2 (8): you have 2, which is not right."
    assert "an int" in expect_function(lambda n: n, lambda: [(1,)])(7)
