"""The instructor's guide (notebooks/guide/): up to date with the notebooks, exercises and measured runtimes."""

from __future__ import annotations

import nbformat

from utils import guide, notebook_template as template
from utils.exercises import nb02


def test_the_guide_is_up_to_date():
    problems = guide.stale(guide.pages())
    assert not problems, "\n".join(problems) + "\nrun: python -m utils.guide --write"


def test_every_exercise_has_its_answer_and_every_tested_wrong_answer_with_its_message():
    for path in template.notebook_paths():
        text = guide.page(path)
        for q in guide.exercises_of(path.stem):
            assert f"### {q.name} (" in text and q.solution_text.strip() in text, (path.name, q.name)
            for wrong in q.wrong_examples:
                assert q.evaluate(wrong).message in text, (path.name, q.name, wrong)


def test_a_changed_wrong_answer_makes_the_guide_stale(monkeypatch):
    path = template.notebook_paths()[1]
    before = guide.page(path)
    monkeypatch.setattr(nb02.q5, "wrong_examples", (*nb02.q5.wrong_examples, [1, 2, 3, 4]))
    after = guide.page(path)
    assert after != before and "`[1, 2, 3, 4]` -> " in after


def test_section_times_are_read_from_measurements_and_never_invented(tmp_path):
    new = nbformat.v4
    nb = new.new_notebook(cells=[new.new_markdown_cell("# 99 · X\n\n**You will** learn x."),
                                 new.new_code_cell("# Setup: run this cell first\nx = 1"),
                                 new.new_markdown_cell("## 1 · First"), new.new_code_cell("y = 2"),
                                 new.new_markdown_cell("## 2 · Second"), new.new_code_cell("z = 3"),
                                 new.new_markdown_cell("## What you learned\n\n- x")])
    path = tmp_path / "99_x.ipynb"
    nbformat.write(nb, path)
    measured = {"99_x": {"full_cpu_s": {"1 · First": 42.0}, "full_cpu_cold_s": {"1 · First": 300.0}}}
    sections = guide.sections_of(path, measured)
    first, second = sections[1], sections[2]
    assert (first.warm_s, first.cold_s) == (42.0, 300.0) and (second.warm_s, second.cold_s) == (None, None)
    text = guide.page(path, measured, runtimes={})
    assert "| 1 · First | 3 | 1 | - | - | 42 s | 5.0 min |" in text
    assert "| 2 · Second | 5 | 1 | - | - | not yet measured | not yet measured |" in text
    assert "**You will** learn x." in text and "Runtime" not in text.split("## Learning goals")[1].split("##")[0]


def test_plans_keep_the_opening_and_closing_and_fit_the_time():
    for path in template.notebook_paths():
        sections = guide.sections_of(path)
        for minutes in guide.SESSIONS:
            taught, left = guide.session_plan(sections, minutes)
            assert taught[0].title == guide.INTRO
            assert all(s in taught for s in sections if s.closing)
            assert sum(guide.teaching_minutes(s) for s in taught) <= minutes or len(taught) <= 2
            assert len(taught) + len(left) == len(sections)


def test_index_links_every_notebook_page():
    text = guide.index(template.notebook_paths())
    for path in template.notebook_paths():
        assert f"({path.stem[:2]}.md)" in text and f"(../{path.name})" in text
    assert "COURSE_SOLUTIONS=0" in text and "make prepare" in text
