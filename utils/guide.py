"""The instructor's guide, generated: one page per notebook in ``notebooks/guide/``, plus an index.

    python -m utils.guide --write    # (re)write notebooks/guide/README.md and notebooks/guide/NN.md
    python -m utils.guide --check    # exit 1 when a page differs from what --write would write

Everything on a page comes from the course itself, so it cannot drift (``tests/test_guide.py`` fails when a page
is out of date):

- the learning goals: the notebook's first cell, after its title, badge and runtime lines;
- the sections (``## `` headings) with their deck screens (:mod:`utils.slides`), their exercises and the models
  they train or load (:mod:`utils.prepare`), and their **measured** run times from
  ``notebooks/section_runtimes.json`` (written by ``python -m utils.run_notebooks``, warm and ``--cold``); a
  section no run has measured says "not yet measured", never a guess;
- a 50- and a 90-minute plan, by the rule in :func:`teaching_minutes` (a suggestion, stated as such);
- every exercise: its question, its worked solution, and the wrong answers its checker is tested with
  (``wrong_examples``, what ``tests/test_exercises.py`` runs) with the message the checker gives each;
- what can go wrong live (no internet, a slow laptop, a GPU), from what the notebook uses.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from utils import notebook_template as template
from utils import prepare, slides

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
GUIDE = NOTEBOOKS / "guide"
SECTION_RUNTIMES = NOTEBOOKS / "section_runtimes.json"
INTRO = "(title and setup)"  # the same key utils.run_notebooks uses for the cells before the first section

#: The planning rule (a suggestion for a first session, not a measurement): minutes per deck screen of a section,
#: per exercise (the room tries, then the check), and the minutes of the opening and of "What you learned".
MINUTES_PER_SCREEN = 1.5
MINUTES_PER_EXERCISE = 4
OPENING_MINUTES = 3
SESSIONS = (50, 90)
NOT_MEASURED = "not yet measured"

_EXERCISE_CALL = re.compile(r"\bex\.(q\d+)\.")


@dataclass
class Section:
    title: str
    first_cell: int  # 1-based
    screens: int = 0
    code_cells: int = 0
    exercises: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    warm_s: float | None = None
    cold_s: float | None = None

    @property
    def closing(self) -> bool:
        return self.title.lower().startswith("what you learned")


# ------------------------------------------------------------------------------------------ reading


def goals(nb) -> str:
    """The first cell without its title, Colab badge and runtime lines: the notebook's own statement of goals."""
    lines = nb.cells[0].source.split("\n")[1:]
    kept = [line for line in lines if not line.startswith(("[![Open In Colab]", "**Runtime**"))]
    return "\n".join(kept).strip()


def title(nb) -> str:
    return nb.cells[0].source.split("\n")[0].lstrip("# ").strip()


def load_section_runtimes(path: Path = SECTION_RUNTIMES) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def sections_of(path: Path, section_runtimes: dict | None = None) -> list[Section]:
    """The notebook's ``## `` sections (cells before the first one form the opening), with what each holds."""
    nb = nbformat.read(path, as_version=4)
    measured = (load_section_runtimes() if section_runtimes is None else section_runtimes).get(path.stem, {})
    warm = measured.get("full_gpu_s") or measured.get("full_cpu_s") or {}
    cold = measured.get("full_gpu_cold_s") or measured.get("full_cpu_cold_s") or {}
    types = slides.slide_types(nb.cells)
    models = {m.cell: m.name for m in prepare.models_in(path)}
    found = [Section(INTRO, 1)]
    for index, (cell, kind) in enumerate(zip(nb.cells, types)):
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            found.append(Section(cell.source.split("\n")[0][3:].strip(), index + 1))
        section = found[-1]
        section.screens += kind in ("slide", "subslide")
        if cell.cell_type == "code":
            section.code_cells += 1
            for name in _EXERCISE_CALL.findall(cell.source):
                if name not in section.exercises and not any(name in s.exercises for s in found):
                    section.exercises.append(name)
            if index in models:
                section.models.append(models[index])
    for section in found:
        section.warm_s, section.cold_s = warm.get(section.title), cold.get(section.title)
    return found


def exercises_of(stem: str) -> list:
    """The notebook's exercises (``utils.exercises.nbNN.EXERCISES``), empty when it has none."""
    try:
        module = importlib.import_module(f"utils.exercises.nb{stem[:2]}")
    except ImportError:
        return []
    return list(getattr(module, "EXERCISES", []))


# ------------------------------------------------------------------------------------------ planning


def teaching_minutes(section: Section) -> int:
    """Suggested minutes to teach ``section``: :data:`MINUTES_PER_SCREEN` a screen, :data:`MINUTES_PER_EXERCISE`
    an exercise, plus its measured warm run time (0 while not measured), rounded up."""
    if section.title == INTRO:
        return OPENING_MINUTES
    run = (section.warm_s or 0) / 60
    return max(1, math.ceil(MINUTES_PER_SCREEN * section.screens + MINUTES_PER_EXERCISE * len(section.exercises)
                            + run))


def session_plan(sections: list[Section], minutes: int) -> tuple[list[Section], list[Section]]:
    """(taught, left for reading) in ``minutes``: the opening and "What you learned" always; then the sections in
    notebook order, each taken when it still fits the time left, else left for reading."""
    must = [s for s in sections if s.title == INTRO or s.closing]
    left = minutes - sum(teaching_minutes(s) for s in must)
    taught = set(id(s) for s in must)
    for s in sections:
        if id(s) not in taught and teaching_minutes(s) <= left:
            taught.add(id(s))
            left -= teaching_minutes(s)
    return [s for s in sections if id(s) in taught], [s for s in sections if id(s) not in taught]


# ------------------------------------------------------------------------------------------ writing


def _seconds(value: float | None) -> str:
    if value is None:
        return NOT_MEASURED
    return f"{value:.0f} s" if value < 90 else f"{value / 60:.1f} min"


def _answer_shown(value) -> str:
    """A wrong answer as a student would have typed it: a function by its source, an array by its values."""
    if callable(value):
        try:
            source = textwrap.dedent(inspect.getsource(value)).strip()
        except (OSError, TypeError):
            return f"a function {getattr(value, '__name__', '')}".strip()
        if source.startswith("lambda") or "lambda" in source.split("\n")[0]:
            source = source[source.index("lambda"):]  # a lambda inside a tuple of wrong answers: just the lambda
            source = re.sub(r",?\s*(#.*)?$", lambda m: f"  {m.group(1)}" if m.group(1) else "", source)
        return source
    if isinstance(value, np.ndarray):
        return "np.array(" + np.array2string(value, separator=", ", precision=3, threshold=30) + ")"
    if isinstance(value, (set, frozenset)):  # a set's repr follows the hash seed: sort it so pages never drift
        text = "{" + ", ".join(sorted(map(repr, value))) + "}" if value else "set()"
    else:
        text = repr(value)
    return text if len(text) <= 300 else text[:297] + "..."


def _looks_like_code(text: str) -> bool:
    return bool(re.match(r"^(def |import |from |\w+(\[.*\])? = |np\.|lambda|\(|\[)", text.strip()))


def _fence(text: str) -> str:
    return ("```python\n" if _looks_like_code(text) else "```text\n") + text.rstrip() + "\n```"


def _quote(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def live_risks(path: Path, sections: list[Section]) -> list[str]:
    """What can go wrong in class with this notebook, and what to do: from what it uses."""
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    text = "\n".join(c.source for c in nb.cells)
    risks = []
    if re.search(r"load_mnist|load_fashion_mnist", code):
        risks.append("**No internet**: MNIST / Fashion-MNIST come from `data/` or `$COURSE_DATA_DIR` first. "
                     "Before class, on a good connection, run `python -m utils.data fetch` (it saves both to "
                     "`data/`); then the notebook never downloads.")
    if re.search(r"imagenet|keras\.applications|\(online\)", text, re.I):
        risks.append("**No internet, part 2**: the ImageNet part needs downloaded weights. Offline it says so "
                     "and goes on without them; show the stored outputs of the committed notebook instead.")
    models = [m for s in sections for m in s.models]
    if models:
        risks.append(f"**A slow laptop**: this notebook trains or loads {', '.join(f'`{m}`' for m in models)}. "
                     "Run `make prepare` before class (it trains every cached model once); in class they load "
                     "in seconds. Where a run still takes too long, switch to fast mode (`COURSE_FAST=1`) and "
                     "say that its numbers are from a small subset.")
    else:
        risks.append("**A slow laptop**: nothing here trains for long; fast mode (`COURSE_FAST=1`) is still there.")
    if re.search(r"kernel_editor\(|pooling_explorer\(|drawing_pad\(|digit_upload\(|ipywidgets", code):
        risks.append("**Widgets**: they need a running kernel: run the notebook (Run > Run All Cells) before "
                     "starting the deck. A widget that shows as text or as \"Loading widget...\" has lost its "
                     "kernel: run its cell again.")
    risks.append("**A GPU**: the stored outputs and the prose's numbers come from full runs on a 2-core CPU; a GPU "
                 "trains with other kernels (and other precision), so trained results can differ from them. Say "
                 "so when the room's numbers differ.")
    return risks


def page(path: Path, section_runtimes: dict | None = None, runtimes: dict | None = None) -> str:
    """The guide's page for one notebook (markdown)."""
    nb = nbformat.read(path, as_version=4)
    runtimes = template.load_runtimes() if runtimes is None else runtimes
    sections = sections_of(path, section_runtimes)
    exercises = {q.name: q for q in exercises_of(path.stem)}
    r = runtimes.get(path.stem, {})
    out = [f"# Instructor's guide · {title(nb)}", "",
           "_Generated by `python -m utils.guide --write` from the notebook, its exercises and the measured "
           "runtimes: edit those, not this page._", "",
           f"Notebook: [{path.name}](../{path.name}) · "
           f"Run All, fast mode: {_seconds(r.get('fast_s'))} · full mode, 2-core CPU, models cached: "
           f"{_seconds(r.get('full_cpu_s'))} · full mode, empty model cache (a fresh machine): "
           f"{_seconds(r.get('full_cpu_cold_s'))} · full mode on a GPU: {_seconds(r.get('full_gpu_s'))}", "",
           "## Learning goals", "", goals(nb), "",
           "## Sections", "",
           "Run times are measured per section by `python -m utils.run_notebooks` (full mode; warm: earlier "
           "notebooks' models cached; cold: `--cold`, an empty cache). The teaching time is a suggestion from a "
           f"rule ({MINUTES_PER_SCREEN:g} min per deck screen, {MINUTES_PER_EXERCISE} min per exercise, plus the "
           "measured run time): adjust it after your first session.", "",
           "| # | section | first cell | deck screens | exercises | models | run time (warm) | run time (cold) "
           "| suggested teaching time |",
           "|---|---|---|---|---|---|---|---|---|"]
    for k, s in enumerate(sections):
        out.append(f"| {k if k else ''} | {_quote(s.title)} | {s.first_cell} | {s.screens} | "
                   f"{', '.join(s.exercises) or '-'} | {', '.join(s.models) or '-'} | {_seconds(s.warm_s)} | "
                   f"{_seconds(s.cold_s)} | {teaching_minutes(s)} min |")
    total = sum(teaching_minutes(s) for s in sections)
    out += ["", f"All sections by the rule: {total} min.", ""]
    for minutes in SESSIONS:
        taught, left = session_plan(sections, minutes)
        used = sum(teaching_minutes(s) for s in taught)
        out += [f"## A {minutes}-minute session", ""]
        out += [f"{n}. {_quote(s.title)} ({teaching_minutes(s)} min)" for n, s in enumerate(taught, 1)]
        out += ["", f"Planned: {used} of {minutes} min."]
        if left:
            out.append("Skip in class, set as reading or homework: " +
                       "; ".join(_quote(s.title) for s in left) + ".")
        else:
            out.append("Everything fits; use the time left for the exercises and questions.")
        out.append("")
    out += ["## Discussion prompts", "",
            "Ask the room before anyone runs the check, then compare with the checker's verdict:", ""]
    prompts = [q for q in exercises.values() if not callable(q.solution_value)]
    out += [f"- ({q.name}) {_quote(q.question)}" for q in prompts] or ["- (this notebook has no choice exercises)"]
    out += ["", "## Exercises, answers and the wrong answers the checkers are tested with", ""]
    if not exercises:
        out.append("This notebook has no exercises.")
    where = {name: s.title for s in sections for name in s.exercises}
    for q in exercises.values():
        out += [f"### {q.name} ({where.get(q.name, 'not called in the notebook')})", "", _quote(q.question), "",
                "Answer (what `ex." + q.name + ".solution()` prints):", "", _fence(q.solution_text), ""]
        if q.wrong_examples:
            out += ["Plausible wrong answers (the checker's own tests) and what the checker tells the student:", ""]
            for wrong in q.wrong_examples:
                message = q.evaluate(wrong).message
                shown = _answer_shown(wrong)
                if "\n" in shown:
                    out += [_fence(shown), f"  -> {message}", ""]
                else:
                    out.append(f"- `{shown}` -> {message}")
            out.append("")
    out += ["## What can go wrong live, and what to do", ""]
    out += [f"- {risk}" for risk in live_risks(path, sections)]
    out += ["", "See also the [general notes](README.md) (deck, presentation mode, `make prepare`, locked mode).", ""]
    return "\n".join(out)


def index(paths: list[Path], runtimes: dict | None = None) -> str:
    """The guide's front page: how to teach with the course, and one line per notebook."""
    runtimes = template.load_runtimes() if runtimes is None else runtimes
    out = ["# Instructor's guide", "",
           "_Generated by `python -m utils.guide --write`; one page per notebook._", "",
           "## Before class", "",
           "1. `make prepare`: trains every model the notebooks cache, once, in full mode, in dependency order "
           "(notebook 04's CNN first), and ends with a table of seconds and cache files. `--dry-run` "
           "(`make prepare PREPARE_ARGS=--dry-run`) lists them without training.",
           "2. `python -m utils.data fetch` on a good connection: MNIST and Fashion-MNIST saved to `data/`, so "
           "flaky wifi in class does not matter.",
           "3. `make lab`, open the notebook, Run > Run All Cells (widgets need a running kernel).", "",
           "## In class: the deck", "",
           "Every notebook is also a slide deck (jupyterlab-slideshow): click the first cell, then the deck "
           "button in the notebook's toolbar (or the command palette: *Start Deck*). The arrows at the bottom right "
           "step: down through a section's sub-slides and reveals, right to the next section (a section is a "
           "slide, its steps hang below it). Widgets stay live on their slide. The slide of each cell is "
           "generated from its content "
           "(`python -m utils.slides --write`; the rules are in `utils/slides.py`). To leave the deck: the "
           "deck's stop button or the command *Stop Deck*; `make lab` always starts as plain notebooks. "
           "JupyterLab's own *View > Presentation Mode* only enlarges the text, for a projector without a deck.",
           "",
           "Instructor remarks: a markdown cell whose first line starts with `> **Instructor:**` becomes a "
           "presenter note in the deck, and students reading the notebook see it as a labelled quote.", "",
           "## Graded work: locked mode", "",
           "`COURSE_SOLUTIONS=0 make lab` (or `%env COURSE_SOLUTIONS=0` in a Colab cell) makes every "
           "`ex.qN.solution()` say that solutions are turned off; `check()` and `hint()` keep working. It is a "
           "courtesy lock: the answers are in `utils/exercises/` and on these pages.", "",
           "## The notebooks", "",
           "| notebook | guide | exercises | Run All, full mode (2-core CPU, models cached) |",
           "|---|---|---|---|"]
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        r = runtimes.get(path.stem, {})
        out.append(f"| [{_quote(title(nb))}](../{path.name}) | [{path.stem[:2]}.md]({path.stem[:2]}.md) | "
                   f"{len(exercises_of(path.stem))} | {_seconds(r.get('full_cpu_s'))} |")
    out.append("")
    return "\n".join(out)


def pages(paths: list[Path] | None = None, section_runtimes: dict | None = None,
          runtimes: dict | None = None) -> dict[Path, str]:
    """Every page of the guide: {file: text}."""
    paths = template.notebook_paths() if paths is None else paths
    found = {GUIDE / "README.md": index(paths, runtimes)}
    for path in paths:
        found[GUIDE / f"{path.stem[:2]}.md"] = page(path, section_runtimes, runtimes)
    return found


def stale(found: dict[Path, str]) -> list[str]:
    """The pages that differ from ``found`` (or are missing), and stray pages no notebook makes."""
    problems = [f"{p.relative_to(ROOT)} is out of date" for p, text in found.items()
                if not p.exists() or p.read_text() != text]
    problems += [f"{p.relative_to(ROOT)} belongs to no notebook" for p in sorted(GUIDE.glob("*.md"))
                 if p not in found]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.guide", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write notebooks/guide/")
    mode.add_argument("--check", action="store_true", help="exit 1 when a page is out of date")
    args = parser.parse_args(argv)
    found = pages()
    if args.write:
        GUIDE.mkdir(exist_ok=True)
        for path, text in found.items():
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
        for path in GUIDE.glob("*.md"):
            if path not in found:
                path.unlink()
        print(f"guide written: {len(found)} page(s) in {GUIDE.relative_to(ROOT)}/")
        return 0
    problems = stale(found)
    print("\n".join(problems) if problems else f"guide up to date ({len(found)} pages)")
    if problems:
        print("run: python -m utils.guide --write")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
