"""utils.error_analysis: measurements, suggested tags, the tally, and the tagging tool on good and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from utils import error_analysis as ea
from utils.errors import CourseError


def bar(width=2, lean=0.0):
    """A vertical bar of ink (a 1), ``width`` pixels wide, sheared by ``lean`` pixels per row (positive: right)."""
    img = np.zeros((28, 28))
    for r in range(4, 24):
        c = int(round(13 + lean * (14 - r)))
        img[r, c:c + width] = 1.0
    return img


def test_slant_sign_and_size():
    assert abs(ea.slant_degrees(bar())) < 1
    assert ea.slant_degrees(bar(lean=0.5)) > 20        # top to the right
    assert ea.slant_degrees(bar(lean=-0.5)) < -20
    assert ea.slant_degrees(np.zeros((28, 28))) == 0.0


def test_measure_and_suggest():
    p = np.array([0.05, 0.5, 0.45] + [0.0] * 7)
    m = ea.measure(bar(width=1, lean=0.6), p)
    assert m.pieces == 1 and m.gap == pytest.approx(0.05)
    tags = ea.suggest_tags(m)
    assert {"CNN unsure", "thin stroke", "slanted"} <= set(tags) and "thick stroke" not in tags
    assert "ambiguous" not in tags  # a person's judgement, never drafted from the model's probabilities
    two = bar(width=4)
    two[12:15] = 0                                       # cut the bar in two
    m2 = ea.measure(two, np.eye(10)[1])
    assert ea.suggest_tags(m2) == ["thick stroke", "broken stroke"]
    with pytest.raises(CourseError):
        ea.measure(np.zeros((2, 2, 2)), p)
    with pytest.raises(CourseError):
        ea.measure(bar(), [1.0])


def test_tally_counts_shares_and_ceiling():
    t = ea.tally([["thin stroke"], ["thin stroke", "slanted"], [], None, "ambiguous"])
    assert t.n_mistakes == 5 and t.untagged == 2
    assert t.counts["thin stroke"] == 2 and t.counts["slanted"] == 1 and t.counts["ambiguous"] == 1
    assert t.share("thin stroke") == pytest.approx(0.4)
    assert t.ceiling("thin stroke", 0.10) == pytest.approx(0.06)
    assert t.ranked()[0] == ("thin stroke", 2)
    text = t.table(error=0.1)
    assert "thin stroke" in text and "6.0%" in text and "untagged" in text
    assert ea.tally([]).n_mistakes == 0 and ea.tally([]).share("other") == 0.0


def test_tally_duplicates_count_once_and_bad_input():
    assert ea.tally([["slanted", "slanted"]]).counts["slanted"] == 1
    with pytest.raises(CourseError, match="unknown reason 'blurry'"):
        ea.tally([["blurry"]])
    with pytest.raises(CourseError):
        ea.tally("thin stroke")
    with pytest.raises(CourseError):
        ea.tally([["slanted"]]).share("blurry")
    assert ea.tally([["blurry"]], reasons=ea.REASONS + ("blurry",)).extra == ["blurry"]


def test_tool_methods_and_bad_input():
    tool = ea.TaggingTool([bar(), bar(lean=0.5)], ["true 1, said 7", "true 1, said 4"], tags=[[], ["slanted"]])
    assert "no reason ticked" in tool.go(1)
    assert tool.index == 1 and "last" in tool.go(1)
    assert "removed" in tool.toggle("slanted") and tool.tags[1] == []
    assert "not one of the reasons" in tool.toggle("blurry")
    assert "Type a reason" in tool.add_reason("   ")
    assert "New reason" in tool.add_reason("Looks like  a 7")
    assert "already" in tool.add_reason("looks like a 7")
    assert "added" in tool.toggle("looks like a 7")
    assert tool.tally().counts["looks like a 7"] == 1 and tool.tally().untagged == 1
    with pytest.raises(CourseError):
        ea.TaggingTool([], [])
    with pytest.raises(CourseError):
        ea.TaggingTool([bar()], ["a", "b"])
    with pytest.raises(CourseError):
        ea.TaggingTool([bar()], ["a"], tags=[["blurry"]])


def test_tool_widget_buttons_follow_the_tags():
    pytest.importorskip("ipywidgets")
    tool = ea.TaggingTool([bar(), bar()], ["a", "b"], tags=[["slanted"], []])
    box = tool.widget
    assert box is tool.widget
    buttons = {b.description: b for b in tool._buttons.children}
    assert buttons["slanted"].value is True
    buttons["thin stroke"].value = True                  # a click
    assert tool.tags[0] == ["slanted", "thin stroke"]
    tool.go(1)
    assert buttons["slanted"].value is False and "untagged" not in tool._line.value
    tool.add_reason("blurry")
    assert [b.description for b in tool._buttons.children][-1] == "blurry"
    assert "blurry" in tool._table.value or "untagged" in tool._table.value


def test_wilson_interval_known_values_and_bad_input():
    low, high = ea.wilson_interval(13, 10_000)
    assert low == pytest.approx(0.00076, abs=2e-5) and high == pytest.approx(0.00222, abs=2e-5)
    low, high = ea.wilson_interval(0, 100)
    assert low == 0.0 and high == pytest.approx(0.037, abs=1e-3)
    low, high = ea.wilson_interval(6, 19)        # the example: 6 of 19, about 15% to 54%
    assert low == pytest.approx(0.154, abs=2e-3) and high == pytest.approx(0.540, abs=2e-3)
    assert ea.wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(CourseError):
        ea.wilson_interval(5, 3)


def test_compare_shares_says_apart_only_when_the_intervals_do_not_overlap():
    mistakes = ea.tally([["thick stroke"]] * 42 + [[]] * 58)
    similar = ea.tally([["thick stroke"]] * 300 + [[]] * 400)
    rare = ea.tally([["thick stroke"]] * 50 + [[]] * 650)
    same = ea.compare_shares(mistakes, similar, reasons=["thick stroke"]).splitlines()[1]
    assert same.startswith("thick stroke") and same.endswith("overlap") and "42%" in same and "43%" in same
    assert ea.compare_shares(mistakes, rare, reasons=["thick stroke"]).splitlines()[1].endswith("apart")


def test_table_columns_line_up_for_long_reasons():
    t = ea.tally([["clear to a person"], ["thin stroke"]], reasons=list(ea.REASONS) + ["clear to a person"])
    lines = t.table(error=0.2).splitlines()
    assert len({line.index("%") for line in lines[1:3]}) == 1   # the share column starts at the same place
