"""Notebook 07's hand-written pieces agree with the library: the warm-up + cosine schedule of exercise q9."""

from __future__ import annotations

import pytest

from utils.exercises import nb07


@pytest.mark.parametrize("peak, warmup, total", [(0.01, 10, 100), (0.003, 32, 192), (1.0, 1, 2)])
def test_the_q9_reference_is_keras_cosine_decay_with_warmup(peak, warmup, total):
    keras = pytest.importorskip("keras")
    schedule = keras.optimizers.schedules.CosineDecay(0.0, total - warmup, warmup_target=peak,
                                                      warmup_steps=warmup)
    for step in list(range(0, total + 5)):
        assert nb07._warmup_cosine(step, peak, warmup, total) == pytest.approx(float(schedule(step)),
                                                                                rel=1e-5, abs=1e-9)


def test_the_q9_wrong_schedules_differ_from_the_reference_somewhere_that_is_tested():
    cases = nb07._warmup_cosine_cases()
    for wrong in nb07.q9.wrong_examples:
        if callable(wrong):
            assert any(abs(wrong(*c) - nb07._warmup_cosine(*c)) > 1e-6 for c in cases), wrong.__name__


def test_notebook_07_asks_exercise_n_as_ex_qn_in_order_and_prints_each_question():
    import json
    import re
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "notebooks" / "07_training_practice.ipynb"
    cells = json.loads(path.read_text())["cells"]
    heads, calls = [], []
    for cell in cells:
        text = "".join(cell["source"])
        heads += [int(n) for n in re.findall(r"### Exercise (\d+)", text)]
        if cell["cell_type"] == "code":
            found = [int(n) for n in re.findall(r"ex\.q(\d+)\.check", text)]
            calls += found
            for n in found:
                assert f"print(ex.q{n}.question)" in text, f"exercise {n}'s cell does not print its question"
    assert heads == calls == list(range(1, len(nb07.EXERCISES) + 1))
