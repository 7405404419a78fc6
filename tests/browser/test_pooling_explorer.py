"""Notebook 03's pooling explorer in a real browser: new pool size and stride update the shown output shape."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.notebook("03"), pytest.mark.timeout(180)]

SHAPE = re.compile(r"output shape: \((\d+), (\d+)\)")


def pooled(n: int, size: int, stride: int) -> int:
    """Output length of 'valid' pooling: windows that do not fit are dropped."""
    return (n - size) // stride + 1


def shown_shape(lab, explorer, old: str | None = None, what: str = "") -> tuple[int, int]:
    """The output shape the explorer shows (waiting until it differs from ``old`` when given)."""
    label = explorer.locator(".jupyter-widgets.widget-label", has_text="output shape:")
    if old is not None:
        lab.wait_js("([el, old]) => el.textContent.trim() !== old && /\\(\\d+, \\d+\\)/.test(el.textContent)",
                    [label.element_handle(), old], f"after {what}, the shown output shape should change from {old!r}")
    text = label.inner_text().strip()
    match = SHAPE.search(text)
    assert match, f"no output shape shown: {text!r}"
    return int(match.group(1)), int(match.group(2))


def test_pool_size_and_stride_update_the_shape(lab, notebook):
    lab.open(notebook)
    lab.run_all()
    explorer = lab.widget("course-pooling-explorer")
    start = shown_shape(lab, explorer)  # pool size 2, stride 2
    start_src = explorer.locator("img").nth(1).get_attribute("src")

    lab.set_slider(explorer, "pool size", 4)  # window 4, stride still 2
    size4 = shown_shape(lab, explorer, f"output shape: {start}", "setting pool size 4")
    lab.set_slider(explorer, "stride", 1)  # window 4, stride 1: H - 3
    stride1 = shown_shape(lab, explorer, f"output shape: {size4}", "setting stride 1")
    lab.step("sliders")

    height, width = stride1[0] + 3, stride1[1] + 3  # the input size this implies
    assert start == (pooled(height, 2, 2), pooled(width, 2, 2)), (start, height, width)
    assert size4 == (pooled(height, 4, 2), pooled(width, 4, 2)), (size4, height, width)
    assert size4 != start and stride1 != size4
    assert explorer.locator("img").nth(1).get_attribute("src") != start_src, "the pooled picture did not change"
    message = explorer.locator(".widget-html").inner_text().strip()
    assert not message, f"an error message is shown for valid settings: {message!r}"
    print(f"input {height}x{width}: size 2 stride 2 -> {start}, size 4 stride 2 -> {size4}, "
          f"size 4 stride 1 -> {stride1}")
