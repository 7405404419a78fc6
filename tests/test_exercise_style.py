"""One exercise style across the course (issue 29), checked on every notebook's source and stored outputs.

- Exercise N sits under a markdown heading ``### Exercise N`` (the house form is ``### Exercise N: <short title>``),
  N = 1, 2, ... K in notebook order, K the number of exercises in ``utils/exercises/nbNN.py``; no other exercise
  label ("**Exercise 3.**", "**q3.**", "### Exercise: ...").
- The cell right after the heading's cell is a code cell that calls ``ex.qN.check``, and every ``ex.qN.check``
  of the notebook is one of those cells, in order.
- That cell prints its question (``print(ex.qN.question)``: the stored output holds the question's text), and for
  a choice question (``expect_choice``) every option: a letter option as a line of its own ("  A: ..."), any other
  option (a digit, a word) somewhere in the output.
- Sections are ``## N. Title``, N = 1, 2, ... in order ("## What you learned" closes the notebook unnumbered).
- The notebook ends with one Next line: ``**Next:** [NN · Title](NN_name.ipynb): one line``, NN the following
  notebook, its title the start of that notebook's own title.

Notebooks 07-14 are brought to this style on their own branches; until they land, their parameters that fail are
expected failures (``xfail(strict=False)``), so this test turns green for each of them as it is mended.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))

HEADING = re.compile(r"^### Exercise (\d+)(?:: \S.*)?$")
OTHER_LABEL = re.compile(r"^#+ Exercise(?:s\b|:|\s*$)|\*\*Exercises? ?\d|\*\*q\d+\.\*\*|\bExercise \d+\.\*\*", re.M)
CHECK = re.compile(r"\bex\.q(\d+)\.check\(")
SECTION = re.compile(r"^## (\d+)\. \S")
NEXT = re.compile(r"^\*\*Next:\*\* \[(\d\d) · ([^\]]+)\]\((\d\d_[a-z0-9_]+\.ipynb)\): \S")

ELSEWHERE = "being brought to the house style on another branch"
UNASSIGNED = "not yet brought to the house style (no branch is working on it)"

#: Which check each notebook still fails on main, and why it may (strict=False: a mended notebook passes).
PENDING = {
    "exercises": {"07": ELSEWHERE, "08": ELSEWHERE, "09": ELSEWHERE, "10": ELSEWHERE, "11": ELSEWHERE,
                  "13": ELSEWHERE, "14": ELSEWHERE},
    "printed": {"07": ELSEWHERE, "08": ELSEWHERE, "09": ELSEWHERE, "10": ELSEWHERE, "11": ELSEWHERE,
                "12": UNASSIGNED, "13": ELSEWHERE, "14": ELSEWHERE},
    "sections": {"08": ELSEWHERE, "09": ELSEWHERE, "10": ELSEWHERE, "11": ELSEWHERE, "13": ELSEWHERE,
                 "14": ELSEWHERE},
    "next": {"08": ELSEWHERE, "11": ELSEWHERE},
}


def params(check: str):
    marks = PENDING[check]
    return [pytest.param(p, id=p.stem, marks=[pytest.mark.xfail(reason=marks[p.stem[:2]], strict=False)]
                         if p.stem[:2] in marks else []) for p in NOTEBOOKS]


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def printed(cell: dict) -> str:
    """What a code cell's stored outputs show as text (streams and plain-text results)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append("".join(out.get("text", "")))
        elif "text/plain" in out.get("data", {}):
            parts.append("".join(out["data"]["text/plain"]))
    return "\n".join(parts)


def exercises_of(path: Path) -> list:
    return list(importlib.import_module(f"utils.exercises.nb{path.stem[:2]}").EXERCISES)


def exercise_cells(path: Path) -> list[tuple[int, dict, dict]]:
    """(N, heading cell, the cell after it) for every ``### Exercise N`` heading, in notebook order."""
    found, all_cells = [], cells(path)
    for i, cell in enumerate(all_cells):
        if cell["cell_type"] != "markdown":
            continue
        for line in source(cell).splitlines():
            match = HEADING.match(line.strip())
            if match:
                after = all_cells[i + 1] if i + 1 < len(all_cells) else {"cell_type": "none", "source": []}
                found.append((int(match.group(1)), cell, after))
    return found


def normalised(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", params("exercises"))
def test_exercise_n_is_a_heading_whose_next_cell_calls_ex_qn_in_order(path):
    headings = exercise_cells(path)
    numbers = [n for n, _, _ in headings]
    expected = list(range(1, len(exercises_of(path)) + 1))
    assert numbers == expected, (f"'### Exercise N: <title>' headings numbered {numbers}; the module has "
                                 f"{len(expected)} exercises, so 1..{len(expected)} in order")
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            other = OTHER_LABEL.search(source(cell))
            assert not other, f"exercise label {other.group(0)!r}: write it as a '### Exercise N: <title>' heading"
    for n, _, after in headings:
        calls = [int(k) for k in CHECK.findall(source(after))] if after["cell_type"] == "code" else []
        assert calls == [n], f"the cell after 'Exercise {n}' should call ex.q{n}.check (it calls {calls})"
    all_calls = [int(k) for cell in cells(path) if cell["cell_type"] == "code" for k in CHECK.findall(source(cell))]
    assert all_calls == expected, f"ex.qN.check calls in notebook order: {all_calls}"


@pytest.mark.parametrize("path", params("printed"))
def test_each_exercise_cell_prints_its_question_and_every_option(path):
    questions = {q.name: q for q in exercises_of(path)}
    headings = exercise_cells(path)
    assert headings, "no '### Exercise N' headings to check"
    for n, _, after in headings:
        q = questions[f"q{n}"]
        shown = printed(after)
        first_line = normalised(q.question.splitlines()[0])
        assert first_line in normalised(shown), (f"Exercise {n}: the cell's stored output does not show the question "
                                                 f"(print(ex.q{n}.question) first, then run the notebook)")
        for option in q.choices or ():
            text = str(option)
            if re.fullmatch(r"[A-Z]", text):
                assert re.search(rf"^\s*{text}\b[:.)]?\s", shown, re.M), (
                    f"Exercise {n}: option {text} is not printed as a line of its own ('  {text}: ...')")
            else:
                assert re.search(rf"(?<![\w.]){re.escape(text)}(?![\w.])", shown), (
                    f"Exercise {n}: option {text!r} is not printed")


@pytest.mark.parametrize("path", params("sections"))
def test_sections_are_numbered_the_same_way(path):
    titles = [line for cell in cells(path) if cell["cell_type"] == "markdown"
              for line in source(cell).splitlines() if line.startswith("## ")]
    numbered = [t for t in titles if t != "## What you learned"]
    assert numbered, "no '## N. Title' sections"
    bad = [t for t in numbered if not SECTION.match(t)]
    assert not bad, f"sections are written '## N. Title': {bad}"
    numbers = [int(SECTION.match(t).group(1)) for t in numbered]
    assert numbers == list(range(1, len(numbers) + 1)), f"sections numbered {numbers}"


@pytest.mark.parametrize("path", params("next"))
def test_one_next_line_of_the_house_form(path):
    markdown = [source(c) for c in cells(path) if c["cell_type"] == "markdown"]
    lines = [line for text in markdown for line in text.split("\n\n") if line.startswith("**Next")]
    assert len(lines) == 1, f"one **Next:** paragraph at the end, found {len(lines)}"
    assert lines[0] in markdown[-1], "the **Next:** line belongs in the last markdown cell"
    if path == NOTEBOOKS[-1]:
        assert lines[0].startswith("**Next:** "), "write it '**Next:** ...'"
        return
    line = " ".join(lines[0].split())
    match = NEXT.match(line)
    assert match, f"write it '**Next:** [NN · Title](NN_name.ipynb): one line', got {line[:90]!r}"
    number, title, target = match.groups()
    following = NOTEBOOKS[NOTEBOOKS.index(path) + 1]
    assert target == following.name and number == following.stem[:2], f"the Next line should point at {following.name}"
    own_title = source(cells(following)[0]).splitlines()[0]
    assert own_title.startswith(f"# {number} · {title}"), f"'{number} · {title}' is not how {own_title!r} begins"
