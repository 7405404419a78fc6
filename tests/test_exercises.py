"""Every exercise of every notebook: its solution passes, each wrong example fails, ``...`` is 'not attempted'.

Also the framework itself: messages, hints, solutions, and checkers that never raise.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import utils.exercises as framework
from utils.exercises import (Exercise, compare_arrays, expect_array, expect_choice, expect_function,
                             expect_integer, expect_number, expect_shape)


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
    assert capsys.readouterr().out == "Hint 1: one\n"


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


def test_a_function_stub_that_returns_ellipsis_is_not_attempted():
    q = Exercise("qf", "?", expect_function(lambda x: x, lambda: [(np.ones(2),)]), ["h"], "s", lambda x: x, (None,))
    assert q.evaluate(lambda x: ...).ok is None
    assert q.evaluate(lambda x: None).ok is None
