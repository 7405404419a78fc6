"""Locked mode for graded work: ``COURSE_SOLUTIONS=0`` turns every ``.solution()`` off; check and hint still work."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pytest

import utils.exercises as framework
from utils.exercises import Exercise, expect_integer


def every_exercise() -> list[Exercise]:
    found = []
    for info in pkgutil.iter_modules(framework.__path__):
        found += getattr(importlib.import_module(f"utils.exercises.{info.name}"), "EXERCISES", [])
    return found


@pytest.mark.parametrize("value", ["0", "false", "No", " off "])
def test_locked_mode_hides_every_solution_but_checks_and_hints(monkeypatch, capsys, value):
    monkeypatch.setenv("COURSE_SOLUTIONS", value)
    assert not framework.solutions_allowed()
    exercises = every_exercise()
    assert len(exercises) > 20
    for q in exercises:
        q = dataclasses.replace(q)  # no hints shown yet
        q.solution()
        out = capsys.readouterr().out
        assert "turned off" in out and f"ex.{q.name}.check" in out, out
        assert q.solution_text.strip() not in out and "Solution to" not in out
        assert q.evaluate(q.solution_value).ok is True
        assert q.evaluate(q.wrong_examples[0]).ok is False
        q.hint(len(q.hints))
        hints = capsys.readouterr().out
        assert "Hint 1:" in hints and "solutions are turned off" in hints and ".solution()" not in hints


@pytest.mark.parametrize("value", [None, "", "1", "yes"])
def test_solutions_show_by_default_and_when_allowed(monkeypatch, capsys, value):
    if value is None:
        monkeypatch.delenv("COURSE_SOLUTIONS", raising=False)
    else:
        monkeypatch.setenv("COURSE_SOLUTIONS", value)
    q = Exercise("qx", "?", expect_integer(7), ["one"], "answer = 7", 7, (8,))
    q.solution()
    assert capsys.readouterr().out == "Solution to qx:\nanswer = 7\n"
    q.hint()
    assert "ex.qx.solution() shows a worked solution" in capsys.readouterr().out


def test_locked_mode_works_in_a_running_kernel(monkeypatch, capsys):
    """The variable is read at each call, so an instructor's `%env COURSE_SOLUTIONS=0` cell takes effect at once."""
    q = Exercise("qx", "?", expect_integer(7), [], "answer = 7", 7, (8,))
    monkeypatch.setenv("COURSE_SOLUTIONS", "0")
    q.solution()
    q.hint()
    out = capsys.readouterr().out
    assert "turned off" in out and "answer = 7" not in out and "solutions are turned off" in out
    monkeypatch.setenv("COURSE_SOLUTIONS", "1")
    q.solution()
    assert "answer = 7" in capsys.readouterr().out
